/*
 * fuzz_csv.c — libFuzzer target for the CSV reader.
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Ilib \
 *     tests/fuzz/fuzz_csv.c lib/fd_reader.c lib/fd_io.c lib/fd_err.c lib/fd_buf.c \
 *     -lcsv -ljansson -lzstd -lsodium -o build/fuzz_csv
 *   mkdir -p build/corpus_csv && build/fuzz_csv -max_total_time=60 build/corpus_csv
 *
 * The first byte picks the delimiter; the rest is the input.  Each input is read twice, with
 * the quick splitter and with libcsv alone, and the two transcripts (status, line, raw text,
 * every field, unbound JSON) must be identical: the quick path is an optimisation, never a
 * different parser.  Besides crashes and sanitizer reports, that catches any disagreement.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fd_reader.h"

static void add_rec(struct fd_buf *t, const void *p, size_t n)
{
	fd_buf_add_i64(t, (int64_t)n);
	fd_buf_addc(t, ':');
	fd_buf_add(t, p, n);
	fd_buf_addc(t, '\n');
}

/* Everything the reader says about the input, as one string. */
static void transcript(const uint8_t *data, size_t size, char delim, int quick, struct fd_buf *t)
{
	struct fd_reader_opts o = { FD_FMT_CSV, delim };
	struct fd_reader *r;
	struct fd_in *in;
	struct fd_err err;
	struct fd_buf ub = FD_BUF_INIT;
	const char *const *names;
	size_t ncols, i;
	int rc, records = 0;

	fd_reader_csv_quick = quick;
	if (fd_in_open_mem(&in, data, size, "fuzz", 0, &err))
		abort();
	rc = fd_reader_open(&r, in, &o, &err);
	fd_buf_add_i64(t, rc);
	add_rec(t, err.msg, rc ? strlen(err.msg) : 0);
	if (rc)
		goto out;
	ncols = fd_reader_columns(r, &names);
	for (i = 0; i < ncols; i++) {
		add_rec(t, names[i], strlen(names[i]));
		/* bind every other column, so that unbound_json has work too */
		if (i % 2 == 0 && fd_reader_bind(r, names[i]) < 0)
			abort();
	}
	while ((rc = fd_reader_next(r, &err)) != 0) {
		const char *s;
		size_t n;
		int slot;

		if (++records > 100000)
			abort();  /* a loop */
		fd_buf_add_i64(t, rc);
		fd_buf_add_i64(t, fd_reader_line(r));
		fd_reader_raw(r, &s, &n);
		if (n > size)
			abort();
		add_rec(t, s, n);
		if (rc < 0)
			add_rec(t, err.msg, strlen(err.msg));
		if (rc == -FD_EIO)
			break;
		if (rc < 0)
			continue;
		for (slot = 0; slot < (int)(ncols + 1) / 2; slot++) {
			if (!fd_reader_get(r, slot, &s, &n))
				abort();  /* every bound column is in the header */
			add_rec(t, s, n);
		}
		fd_buf_reset(&ub);
		if (fd_reader_unbound_json(r, &ub, NULL))
			abort();
		add_rec(t, ub.s, ub.len);
	}
	fd_buf_add_i64(t, fd_reader_count(r));
	if (fd_reader_count(r) != records - (rc == -FD_EIO))
		abort();
	fd_reader_free(r);
out:
	fd_buf_release(&ub);
	fd_in_free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char delims[] = { ',', ';', '\t', '|', ' ', 'a', '\0', '"' };
	struct fd_buf a = FD_BUF_INIT, b = FD_BUF_INIT;
	char delim;

	if (size < 1)
		return 0;
	delim = delims[data[0] % sizeof(delims)];
	transcript(data + 1, size - 1, delim, 1, &a);
	transcript(data + 1, size - 1, delim, 0, &b);
	if (a.len != b.len || memcmp(a.s, b.s, a.len))
		abort();  /* the quick splitter and libcsv disagree */
	fd_buf_release(&a);
	fd_buf_release(&b);
	return 0;
}
