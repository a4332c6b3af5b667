/*
 * fuzz_ndjson.c — libFuzzer target for the NDJSON reader.
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Ilib \
 *     tests/fuzz/fuzz_ndjson.c lib/fd_reader.c lib/fd_io.c lib/fd_err.c lib/fd_buf.c \
 *     -lcsv -ljansson -lzstd -lsodium -o build/fuzz_ndjson
 *   mkdir -p build/corpus_ndjson && build/fuzz_ndjson -max_total_time=60 build/corpus_ndjson
 *
 * Every good record is checked against jansson's own reading of its raw line: each bound
 * value (a string decoded, a number's token text, true/false, nested JSON text) must mean
 * what jansson says it means, and the unbound members must parse back to exactly the object
 * less the bound members; every bad record must be one that jansson refuses too.  That checks
 * the reader's quick validating scanner and its member spans.  Each input is read twice, with
 * the quick scanner and with jansson alone, and the transcripts must be identical.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fd_reader.h"

static const char *const bound[] = { "id", "a", "b", "", "amount", "\xc3\xa9" };
#define NBOUND (sizeof(bound) / sizeof(bound[0]))

static void check_value(const json_t *v, const char *s, size_t n)
{
	json_t *mine;

	switch (json_typeof(v)) {
	case JSON_STRING:
		if (json_string_length(v) != n || memcmp(json_string_value(v), s, n))
			abort();
		break;
	case JSON_TRUE:
		if (n != 4 || memcmp(s, "true", 4))
			abort();
		break;
	case JSON_FALSE:
		if (n != 5 || memcmp(s, "false", 5))
			abort();
		break;
	case JSON_NULL:
		abort();  /* null is absent */
	default:
		/* numbers, objects, arrays: the text must be JSON equal to the value */
		mine = json_loadb(s, n, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL,
				  NULL);
		if (!mine || !json_equal(mine, v))
			abort();
		json_decref(mine);
	}
}

static void add_rec(struct fd_buf *t, const void *p, size_t n)
{
	fd_buf_add_i64(t, (int64_t)n);
	fd_buf_addc(t, ':');
	fd_buf_add(t, p, n);
	fd_buf_addc(t, '\n');
}

static void run(const uint8_t *data, size_t size, struct fd_buf *t)
{
	struct fd_reader_opts o = { FD_FMT_NDJSON, 0 };
	struct fd_buf ub = FD_BUF_INIT;
	struct fd_reader *r;
	struct fd_in *in;
	struct fd_err err;
	size_t i;
	int rc, records = 0;

	if (fd_in_open_mem(&in, data, size, "fuzz", 0, &err))
		abort();
	if (fd_reader_open(&r, in, &o, &err)) {
		fd_in_free(in);
		return;
	}
	for (i = 0; i < NBOUND; i++)
		if (fd_reader_bind(r, bound[i]) != (int)i)
			abort();
	while ((rc = fd_reader_next(r, &err)) != 0) {
		const char *raw, *s;
		size_t rawn, n, k;
		json_t *obj, *rest;

		if (++records > 100000)
			abort();
		fd_buf_add_i64(t, rc);
		fd_buf_add_i64(t, fd_reader_line(r));
		if (rc == -FD_EIO)
			break;
		fd_reader_raw(r, &raw, &rawn);
		add_rec(t, raw, rawn);
		if (rc < 0)
			add_rec(t, err.msg, strlen(err.msg));
		if (rawn > size || memchr(raw, '\n', rawn))
			abort();
		obj = json_loadb(raw, rawn, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL |
				 JSON_ALLOW_NUL, NULL);
		if (rc < 0) {
			/* bad: jansson must agree it is not a good object */
			if (obj && json_is_object(obj))
				abort();
			json_decref(obj);
			for (i = 0; i < NBOUND; i++)
				if (fd_reader_get(r, (int)i, &s, &n))
					abort();
			continue;
		}
		if (!obj || !json_is_object(obj))
			abort();
		for (i = 0; i < NBOUND; i++) {
			json_t *v = json_object_get(obj, bound[i]);
			int has = fd_reader_get(r, (int)i, &s, &n);

			if (has != (v && !json_is_null(v)))
				abort();
			if (has) {
				check_value(v, s, n);
				add_rec(t, s, n);
			}
			json_object_del(obj, bound[i]);
		}
		fd_buf_reset(&ub);
		if (fd_reader_unbound_json(r, &ub, &k))
			abort();
		rest = json_loadb(ub.s, ub.len, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, NULL);
		if (!rest || !json_equal(rest, obj) || k != json_object_size(obj))
			abort();
		add_rec(t, ub.s, ub.len);
		json_decref(rest);
		json_decref(obj);
	}
	fd_buf_release(&ub);
	fd_reader_free(r);
	fd_in_free(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fd_buf a = FD_BUF_INIT, b = FD_BUF_INIT;

	fd_reader_ndjson_quick = 1;
	run(data, size, &a);
	fd_reader_ndjson_quick = 0;
	run(data, size, &b);
	if (a.len != b.len || (a.len && memcmp(a.s, b.s, a.len)))
		abort();  /* the quick scanner and jansson disagree */
	fd_buf_release(&a);
	fd_buf_release(&b);
	return 0;
}
