/* test_reader.c — fd_reader: CSV (both the quick splitter and libcsv alone) and NDJSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>

#include "fd_reader.h"

static char tmpfile_path[64];

struct t {
	struct fd_in *in;
	struct fd_reader *r;
	struct fd_err err;
	int ncols;
};

/* Write bytes to a temporary file and open a reader on it. */
static int topen(struct t *t, const char *bytes, size_t n, int format, char delim)
{
	struct fd_reader_opts o = { format, delim };
	FILE *f;
	int rc;

	memcpy(tmpfile_path, "/tmp/fd_test_reader.XXXXXX", 27);
	{
		int fd = mkstemp(tmpfile_path);

		assert_true(fd >= 0);
		f = fdopen(fd, "wb");
	}
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	memset(t, 0, sizeof(*t));
	assert_int_equal(fd_in_open(&t->in, tmpfile_path, 0, &t->err), FD_OK);
	rc = fd_reader_open(&t->r, t->in, &o, &t->err);
	if (rc)
		assert_null(t->r);
	return rc;
}

static void tclose(struct t *t)
{
	fd_reader_free(t->r);
	fd_in_free(t->in);
	unlink(tmpfile_path);
}

/* Open CSV text and bind every header column, slot i = column i. */
static void copen(struct t *t, const char *s, char delim)
{
	const char *const *names;
	size_t i, n;

	assert_int_equal(topen(t, s, strlen(s), FD_FMT_AUTO, delim), FD_OK);
	assert_int_equal(fd_reader_format(t->r), FD_FMT_CSV);
	n = fd_reader_columns(t->r, &names);
	for (i = 0; i < n; i++)
		assert_int_equal(fd_reader_bind(t->r, names[i]), (int)i);
	t->ncols = (int)n;
}

static void expect_raw(struct t *t, const char *raw)
{
	const char *s;
	size_t n;

	fd_reader_raw(t->r, &s, &n);
	assert_int_equal(n, strlen(raw));
	assert_memory_equal(s, raw, n);
}

static void expect_val(struct t *t, int slot, const char *want)
{
	const char *s;
	size_t n;

	if (!want) {
		assert_int_equal(fd_reader_get(t->r, slot, &s, &n), 0);
		return;
	}
	assert_int_equal(fd_reader_get(t->r, slot, &s, &n), 1);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(s, want, n);
}

/* Next record is good, starts on line, and has the given values (ncols of them). */
static void expect_rec(struct t *t, int64_t line, ...)
{
	va_list ap;
	int i;

	assert_int_equal(fd_reader_next(t->r, &t->err), 1);
	assert_int_equal(fd_reader_line(t->r), line);
	va_start(ap, line);
	for (i = 0; i < t->ncols; i++)
		expect_val(t, i, va_arg(ap, const char *));
	va_end(ap);
}

static void expect_bad(struct t *t, int64_t line, const char *msg, const char *raw)
{
	assert_int_equal(fd_reader_next(t->r, &t->err), -FD_EINPUT);
	assert_int_equal(t->err.code, FD_EINPUT);
	assert_int_equal(fd_reader_line(t->r), line);
	if (strncmp(t->err.msg, msg, strlen(msg)))
		fail_msg("message '%s' does not start with '%s'", t->err.msg, msg);
	expect_raw(t, raw);
}

static void expect_end(struct t *t)
{
	assert_int_equal(fd_reader_next(t->r, &t->err), 0);
	assert_int_equal(fd_reader_next(t->r, &t->err), 0);
}

static int quick_on(void **state)
{
	(void)state;
	fd_reader_csv_quick = fd_reader_ndjson_quick = 1;
	return 0;
}

static int quick_off(void **state)
{
	(void)state;
	fd_reader_csv_quick = fd_reader_ndjson_quick = 0;
	return 0;
}

/* ---- CSV ---- */

static void test_csv_basic(void **state)
{
	const char *const *names;
	struct t t;

	(void)state;
	copen(&t, "id,amount,note\n1,2.50,x\n2,3,\n", 0);
	assert_int_equal(fd_reader_columns(t.r, &names), 3);
	assert_string_equal(names[0], "id");
	assert_string_equal(names[1], "amount");
	assert_string_equal(names[2], "note");
	expect_rec(&t, 2, "1", "2.50", "x");
	expect_raw(&t, "1,2.50,x");
	expect_rec(&t, 3, "2", "3", "");  /* an empty field is present, n = 0 */
	expect_raw(&t, "2,3,");
	assert_int_equal(fd_reader_count(t.r), 2);
	expect_end(&t);
	assert_int_equal(fd_reader_count(t.r), 2);
	tclose(&t);
}

static void test_csv_quoted_newline(void **state)
{
	struct t t;

	(void)state;
	copen(&t, "id,note,amt\n1,\"line one\nline two\",5\n2,\"a\r\nb\",6\n3,x,7\n", 0);
	expect_rec(&t, 2, "1", "line one\nline two", "5");
	expect_raw(&t, "1,\"line one\nline two\",5");
	expect_rec(&t, 4, "2", "a\r\nb", "6");
	expect_rec(&t, 6, "3", "x", "7");
	expect_end(&t);
	tclose(&t);

	/* a field of several lines, and an empty line inside it */
	copen(&t, "a,b\n\"1\n\n3\",x\ny,z\n", 0);
	expect_rec(&t, 2, "1\n\n3", "x");
	expect_rec(&t, 5, "y", "z");
	expect_end(&t);
	tclose(&t);
}

static void test_csv_quotes(void **state)
{
	struct t t;

	(void)state;
	copen(&t, "a,b,c\n\"say \"\"hi\"\"\",\"\",\"\"\"\"\n\"x,y\",\"1;2\",\"\"\"q\"\n"
		  "\"plain\",\"with \"\"q\"\" in\",z\n", 0);
	expect_rec(&t, 2, "say \"hi\"", "", "\"");
	expect_raw(&t, "\"say \"\"hi\"\"\",\"\",\"\"\"\"");
	expect_rec(&t, 3, "x,y", "1;2", "\"q");
	expect_rec(&t, 4, "plain", "with \"q\" in", "z");
	expect_end(&t);
	tclose(&t);

	/* quoted header names */
	copen(&t, "\"id\",\"a,b\"\n1,2\n", 0);
	assert_int_equal(fd_reader_has_column(t.r, "a,b"), 1);
	expect_rec(&t, 2, "1", "2");
	tclose(&t);
}

static void test_csv_bom(void **state)
{
	const char *const *names;
	struct t t;

	(void)state;
	copen(&t, "\xef\xbb\xbfid,v\n1,\xef\xbb\xbf\n", 0);
	fd_reader_columns(t.r, &names);
	assert_string_equal(names[0], "id");
	assert_int_equal(fd_reader_has_column(t.r, "id"), 1);
	expect_rec(&t, 2, "1", "\xef\xbb\xbf");  /* only the first bytes are a mark */
	expect_end(&t);
	tclose(&t);
}

static void test_csv_crlf(void **state)
{
	struct t t;

	(void)state;
	copen(&t, "a,b\r\n1,2\r\n3,\"4\"\r\n\r\n5,6", 0);
	expect_rec(&t, 2, "1", "2");
	expect_raw(&t, "1,2");
	expect_rec(&t, 3, "3", "4");
	expect_raw(&t, "3,\"4\"");
	expect_rec(&t, 5, "5", "6");
	expect_end(&t);
	tclose(&t);

	/* old Mac line ends: records split, all on "line 1" (lines count line feeds) */
	copen(&t, "a,b\r1,2\r3,\"x\"\r", 0);
	expect_rec(&t, 1, "1", "2");
	expect_raw(&t, "1,2");
	expect_rec(&t, 1, "3", "x");
	expect_end(&t);
	tclose(&t);
}

static void test_csv_ragged(void **state)
{
	struct t t;

	(void)state;
	copen(&t, "a,b,c\n1,2\n3,4,5\n6,7,8,9\n\"1\n0\",11,12\n13\n", 0);
	expect_bad(&t, 2, "expected 3 fields, found 2", "1,2");
	expect_rec(&t, 3, "3", "4", "5");
	expect_bad(&t, 4, "expected 3 fields, found 4", "6,7,8,9");
	expect_rec(&t, 5, "1\n0", "11", "12");
	expect_bad(&t, 7, "expected 3 fields, found 1", "13");
	assert_int_equal(fd_reader_count(t.r), 5);
	expect_end(&t);
	tclose(&t);

	/* the singular */
	copen(&t, "only\n1,2\n", 0);
	expect_bad(&t, 2, "expected 1 field, found 2", "1,2");
	expect_end(&t);
	tclose(&t);
}

static void test_csv_blank_lines(void **state)
{
	struct t t;

	(void)state;
	copen(&t, "\n\na,b\n\n1,2\n\r\n   \n\t\n3,4\n\n\n", 0);
	expect_rec(&t, 5, "1", "2");
	expect_rec(&t, 9, "3", "4");
	expect_end(&t);
	tclose(&t);
}

static void test_csv_no_final_newline(void **state)
{
	struct t t;

	(void)state;
	copen(&t, "a,b\n1,2", 0);
	expect_rec(&t, 2, "1", "2");
	expect_raw(&t, "1,2");
	expect_end(&t);
	tclose(&t);

	copen(&t, "a,b\n\"1\",\"x\"\"y\"", 0);
	expect_rec(&t, 2, "1", "x\"y");
	expect_raw(&t, "\"1\",\"x\"\"y\"");
	expect_end(&t);
	tclose(&t);

	copen(&t, "a,b\n1,", 0);
	expect_rec(&t, 2, "1", "");
	expect_end(&t);
	tclose(&t);
}

static void test_csv_delimiters(void **state)
{
	struct t t;

	(void)state;
	copen(&t, "a;b;c\n1,5;\"x;y\";2\n", ';');
	expect_rec(&t, 2, "1,5", "x;y", "2");
	expect_end(&t);
	tclose(&t);

	copen(&t, "a\tb\tc\n x\t\"y\tz\"\t\n\t\t\n", '\t');
	expect_rec(&t, 2, " x", "y\tz", "");
	expect_rec(&t, 3, "", "", "");  /* tabs are fields when tab is the delimiter */
	expect_end(&t);
	tclose(&t);

	assert_int_equal(topen(&t, "a\n", 2, FD_FMT_CSV, '"'), FD_EUSAGE);
	tclose(&t);
}

static void test_csv_spaces_kept(void **state)
{
	struct t t;

	(void)state;
	copen(&t, "a , b\n x , y \n\" q \",z\n", 0);
	assert_int_equal(fd_reader_has_column(t.r, "a "), 1);
	assert_int_equal(fd_reader_has_column(t.r, " b"), 1);
	assert_int_equal(fd_reader_has_column(t.r, "a"), 0);
	expect_rec(&t, 2, " x ", " y ");
	expect_rec(&t, 3, " q ", "z");
	expect_end(&t);
	tclose(&t);
}

static void test_csv_empty(void **state)
{
	const char *const *names = (const char *const *)1;
	struct t t;
	const char *s;
	size_t n;

	(void)state;
	assert_int_equal(topen(&t, "", 0, FD_FMT_AUTO, 0), FD_OK);
	assert_int_equal(fd_reader_format(t.r), FD_FMT_CSV);
	assert_int_equal(fd_reader_columns(t.r, &names), 0);
	assert_int_equal(fd_reader_bind(t.r, "x"), 0);
	assert_int_equal(fd_reader_has_column(t.r, "x"), 0);
	expect_end(&t);
	fd_reader_raw(t.r, &s, &n);
	assert_int_equal(n, 0);
	tclose(&t);

	assert_int_equal(topen(&t, "\n\r\n\n", 4, FD_FMT_AUTO, 0), FD_OK);
	assert_int_equal(fd_reader_columns(t.r, NULL), 0);
	expect_end(&t);
	tclose(&t);
}

static void test_csv_header_only(void **state)
{
	struct t t;

	(void)state;
	copen(&t, "a,b\n", 0);
	assert_int_equal(t.ncols, 2);
	expect_end(&t);
	assert_int_equal(fd_reader_count(t.r), 0);
	tclose(&t);

	copen(&t, "a,b", 0);
	assert_int_equal(t.ncols, 2);
	expect_end(&t);
	tclose(&t);
}

static void test_csv_duplicate_header(void **state)
{
	struct t t;
	const char *csv = "\nid,amount,x,amount\n1,2,3,4\n";

	(void)state;
	assert_int_equal(topen(&t, csv, strlen(csv), FD_FMT_AUTO, 0), FD_EINPUT);
	assert_non_null(strstr(t.err.msg, ":2: duplicate column 'amount' in the header "
					  "(columns 2 and 4)"));
	assert_non_null(strstr(t.err.msg, tmpfile_path));
	tclose(&t);
}

static void test_csv_bad_header(void **state)
{
	struct t t;
	const char *csv = "id,a\"b\n1,2\n";

	(void)state;
	assert_int_equal(topen(&t, csv, strlen(csv), FD_FMT_AUTO, 0), FD_EINPUT);
	assert_non_null(strstr(t.err.msg, ":1: bad header: malformed quoting"));
	tclose(&t);
}

static void test_csv_malformed_quoting(void **state)
{
	struct t t;

	(void)state;
	copen(&t, "a,b\n1,x\"y\n2,3\n\"4\"z,5\n6,7\n1,\"x\ny\"z\n8,9\n\"q\" ,1\n10,11\n", 0);
	expect_bad(&t, 2, "malformed quoting", "1,x\"y");
	expect_rec(&t, 3, "2", "3");
	expect_bad(&t, 4, "malformed quoting", "\"4\"z,5");
	expect_rec(&t, 5, "6", "7");
	expect_bad(&t, 6, "malformed quoting", "1,\"x\ny\"z");
	expect_rec(&t, 8, "8", "9");
	expect_bad(&t, 9, "malformed quoting", "\"q\" ,1");
	expect_rec(&t, 10, "10", "11");
	expect_end(&t);
	tclose(&t);

	/* a quote that never closes swallows the rest, which is one bad record */
	copen(&t, "a,b\n1,2\n3,\"open\n4,5\n", 0);
	expect_rec(&t, 2, "1", "2");
	expect_bad(&t, 3, "a quoted field is not closed", "3,\"open\n4,5");
	expect_end(&t);
	tclose(&t);
}

static void test_csv_unbound_json(void **state)
{
	struct fd_buf b = FD_BUF_INIT;
	struct t t;
	size_t k = 99;
	const char *csv = "id,amount,no\"te,extra\n1,2,\"x \"\"q\"\"\\\",\n";

	(void)state;
	assert_int_equal(topen(&t, csv, strlen(csv), FD_FMT_AUTO, 0), FD_EINPUT);
	tclose(&t);  /* no"te is a malformed header */

	csv = "id,amount,\"no\"\"te\",extra,ts\n1,2,\"x \"\"q\"\"\\\",,5\n";
	assert_int_equal(topen(&t, csv, strlen(csv), FD_FMT_AUTO, 0), FD_OK);
	assert_int_equal(fd_reader_bind(t.r, "id"), 0);
	assert_int_equal(fd_reader_bind(t.r, "ts"), 1);
	assert_int_equal(fd_reader_bind(t.r, "currency"), 2);  /* not in the header */
	assert_int_equal(fd_reader_bind(t.r, "id"), 0);        /* again: same slot */
	assert_int_equal(fd_reader_has_column(t.r, "currency"), 0);
	assert_int_equal(fd_reader_next(t.r, &t.err), 1);
	expect_val(&t, 0, "1");
	expect_val(&t, 1, "5");
	expect_val(&t, 2, NULL);
	expect_val(&t, 3, NULL);   /* no such slot */
	expect_val(&t, -1, NULL);
	assert_int_equal(fd_reader_bind(t.r, "late"), -1);
	assert_int_equal(fd_reader_unbound_json(t.r, &b, &k), 0);
	assert_string_equal(b.s, "{\"amount\":\"2\",\"no\\\"te\":\"x \\\"q\\\"\\\\\",\"extra\":\"\"}");
	assert_int_equal(k, 3);
	fd_buf_release(&b);
	tclose(&t);

	/* all bound: {} */
	copen(&t, "a\n1\n", 0);
	assert_int_equal(fd_reader_next(t.r, &t.err), 1);
	assert_int_equal(fd_reader_unbound_json(t.r, &b, &k), 0);
	assert_string_equal(b.s, "{}");
	assert_int_equal(k, 0);
	fd_buf_release(&b);
	tclose(&t);
}

/* Many records, long ones, records across buffer boundaries, values checked one by one. */
static void test_csv_large(void **state)
{
	struct fd_buf in = FD_BUF_INIT;
	char want[64];
	size_t big = 700000, i;
	int64_t line = 2;
	struct t t;
	char *huge = malloc(big + 1);

	(void)state;
	assert_non_null(huge);
	memset(huge, 'h', big);
	huge[big] = '\0';
	fd_buf_adds(&in, "n,sq,text\n");
	for (i = 0; i < 60000; i++) {
		if (i == 1234)
			fd_buf_addf(&in, "%zu,%zu,%s\n", i, i * i, huge);
		else if (i % 7 == 0)
			fd_buf_addf(&in, "%zu,\"%zu\",\"t\"\"%zu\nx\"\r\n", i, i * i, i);
		else
			fd_buf_addf(&in, "%zu,%zu,t%zu\n", i, i * i, i);
	}
	copen(&t, in.s, 0);
	for (i = 0; i < 60000; i++) {
		char n1[32], n2[32];

		snprintf(n1, sizeof(n1), "%zu", i);
		snprintf(n2, sizeof(n2), "%zu", i * i);
		if (i == 1234) {
			expect_rec(&t, line, n1, n2, huge);
			line++;
		} else if (i % 7 == 0) {
			snprintf(want, sizeof(want), "t\"%zu\nx", i);
			expect_rec(&t, line, n1, n2, want);
			line += 2;
		} else {
			snprintf(want, sizeof(want), "t%zu", i);
			expect_rec(&t, line, n1, n2, want);
			line++;
		}
	}
	expect_end(&t);
	tclose(&t);
	fd_buf_release(&in);
	free(huge);
}

static void test_csv_zstd(void **state)
{
	const char *csv = "a,b\n1,\"x\ny\"\n2,3\n";
	char z[256];
	size_t zn = ZSTD_compress(z, sizeof(z), csv, strlen(csv), 1);
	struct t t;
	int rc;

	(void)state;
	assert_false(ZSTD_isError(zn));
	assert_int_equal(topen(&t, z, zn, FD_FMT_AUTO, 0), FD_OK);
	t.ncols = 2;
	assert_int_equal(fd_reader_bind(t.r, "a"), 0);
	assert_int_equal(fd_reader_bind(t.r, "b"), 1);
	expect_rec(&t, 2, "1", "x\ny");
	expect_rec(&t, 4, "2", "3");
	expect_end(&t);
	tclose(&t);

	/* truncated: the reader stops with the input's message */
	assert_int_equal(topen(&t, z, zn - 4, FD_FMT_AUTO, 0), FD_OK);
	while ((rc = fd_reader_next(t.r, &t.err)) == 1)
		;
	assert_int_equal(rc, -FD_EIO);
	assert_int_equal(t.err.code, FD_EINPUT);
	assert_non_null(strstr(t.err.msg, "truncated zstd stream"));
	tclose(&t);
}

static void test_csv_zstd_truncated_later(void **state)
{
	struct fd_buf in = FD_BUF_INIT;
	size_t i, zcap, zn;
	struct t t;
	char *z;
	int rc, good = 0;

	(void)state;
	fd_buf_adds(&in, "a,b\n");
	for (i = 0; i < 200000; i++)
		fd_buf_addf(&in, "%zu,%zu\n", i, i * 31 % 1000);
	zcap = ZSTD_compressBound(in.len);
	z = malloc(zcap);
	zn = ZSTD_compress(z, zcap, in.s, in.len, 1);
	assert_false(ZSTD_isError(zn));
	assert_int_equal(topen(&t, z, zn - 10, FD_FMT_AUTO, 0), FD_OK);
	while ((rc = fd_reader_next(t.r, &t.err)) == 1)
		good++;
	assert_int_equal(rc, -FD_EIO);
	assert_int_equal(t.err.code, FD_EINPUT);
	assert_non_null(strstr(t.err.msg, "truncated zstd stream"));
	assert_true(good > 1000 && good < 200000);
	assert_int_equal(fd_reader_next(t.r, &t.err), -FD_EIO);  /* sticky */
	tclose(&t);
	free(z);
	fd_buf_release(&in);
}

/* ---- NDJSON ---- */

static void jopen(struct t *t, const char *s, const char *const *bind)
{
	int i;

	assert_int_equal(topen(t, s, strlen(s), FD_FMT_AUTO, 0), FD_OK);
	assert_int_equal(fd_reader_format(t->r), FD_FMT_NDJSON);
	assert_int_equal(fd_reader_columns(t->r, NULL), 0);
	for (i = 0; bind[i]; i++)
		assert_int_equal(fd_reader_bind(t->r, bind[i]), i);
	t->ncols = i;
}

static void test_ndjson_types(void **state)
{
	static const char *const bind[] = { "id", "amount", "n", "big", "ok", "no", "nul",
					    "obj", "esc", "missing", "exp", NULL };
	struct t t;

	(void)state;
	jopen(&t, "{\"id\":\"t1\",\"amount\":12.50,\"n\":-42,\"big\":123456789012345678901234,"
		  "\"ok\":true,\"no\":false,\"nul\":null,\"obj\":{\"a\":[1, {\"b\":\"]\"}]},"
		  "\"esc\":\"a\\\"b\\u00e9\\n\\\\\",\"exp\":1.5E-7}\n", bind);
	expect_rec(&t, 1, "t1", "12.50", "-42", "123456789012345678901234", "true", "false",
		   NULL, "{\"a\":[1, {\"b\":\"]\"}]}", "a\"b\xc3\xa9\n\\", NULL, "1.5E-7");
	assert_true(fd_reader_has_column(t.r, "anything"));
	expect_end(&t);
	tclose(&t);
}

static void test_ndjson_unbound(void **state)
{
	static const char *const bind[] = { "id", NULL };
	struct fd_buf b = FD_BUF_INIT;
	struct t t;
	size_t k;

	(void)state;
	jopen(&t, "{ \"id\" : \"x\", \"v\": [1, 2.50] , \"s\":\"q\\u0022\", \"n\":null }\n"
		  "{\"id\":\"y\"}\n{\"amount\":-12.50,\"id\":\"z\",\"m\":{\"k\":\"a\\\"b\"},\"t\":true}\n", bind);
	expect_rec(&t, 1, "x");
	assert_int_equal(fd_reader_unbound_json(t.r, &b, &k), 0);
	assert_string_equal(b.s, "{\"v\":[1, 2.50],\"s\":\"q\\u0022\",\"n\":null}");
	assert_int_equal(k, 3);
	fd_buf_reset(&b);
	expect_rec(&t, 2, "y");
	assert_int_equal(fd_reader_unbound_json(t.r, &b, &k), 0);
	assert_string_equal(b.s, "{}");
	assert_int_equal(k, 0);
	fd_buf_reset(&b);
	/* a plain line (the quick scanner's) keeps its unbound members too */
	expect_rec(&t, 3, "z");
	assert_int_equal(fd_reader_unbound_json(t.r, &b, &k), 0);
	assert_string_equal(b.s, "{\"amount\":-12.50,\"m\":{\"k\":\"a\\\"b\"},\"t\":true}");
	assert_int_equal(k, 3);
	fd_buf_release(&b);
	expect_end(&t);
	tclose(&t);
}

static void test_ndjson_escaped_keys(void **state)
{
	static const char *const bind[] = { "id", "a\"b", NULL };
	struct t t;

	(void)state;
	jopen(&t, "{\"\\u0069d\":\"caf\\u00e9\",\"a\\\"b\":7}\n", bind);
	expect_rec(&t, 1, "caf\xc3\xa9", "7");
	expect_end(&t);
	tclose(&t);
}

static void test_ndjson_malformed(void **state)
{
	static const char *const bind[] = { "id", NULL };
	struct t t;

	(void)state;
	jopen(&t, "{\"id\":\"a\"}\n{\"id\": }\n{\"id\":\"b\"}\n", bind);
	expect_rec(&t, 1, "a");
	expect_bad(&t, 2, "invalid JSON at column 8: ", "{\"id\": }");
	expect_val(&t, 0, NULL);
	expect_rec(&t, 3, "b");
	expect_end(&t);
	tclose(&t);

	jopen(&t, "{}\n[1,2]\n42\n{\"id\":1,\"id\":2}\n{\"id\":\"c\"} x\n{\"id\":\"d\"}\n",
	      bind);
	expect_rec(&t, 1, NULL);
	expect_bad(&t, 2, "expected a JSON object, found an array", "[1,2]");
	expect_bad(&t, 3, "invalid JSON at column 2: '[' or '{' expected near '42'", "42");
	expect_bad(&t, 4, "invalid JSON at column ", "{\"id\":1,\"id\":2}");
	assert_non_null(strstr(t.err.msg, "duplicate object key"));
	expect_bad(&t, 5, "invalid JSON at column ", "{\"id\":\"c\"} x");
	expect_rec(&t, 6, "d");
	assert_int_equal(fd_reader_count(t.r), 6);
	expect_end(&t);
	tclose(&t);
}

/* Lines at the edges of what the quick scanner takes on itself. */
static void test_ndjson_edges(void **state)
{
	static const char *const bind[] = { "id", "v", NULL };
	struct fd_buf deep = FD_BUF_INIT;
	struct t t;
	int i;

	(void)state;
	fd_buf_adds(&deep, "{\"id\":\"simple \\\"esc\\\" \\/ \\t\",\"v\":\"Z\xc3\xbcrich \xe2\x82\xac \xf0\x9f\x98\x80\"}\n"
		    "{\"id\":\"e\",\"v\":-0.5e+2}\n"
		    "{\"id\":\"bad utf8\",\"v\":\"\xc3\x28\"}\n"
		    "{\"id\":\"overlong\",\"v\":\"\xc0\xaf\"}\n"
		    "{\"id\":\"surrogate\",\"v\":\"\xed\xa0\x80\"}\n"
		    "{\"id\":truex}\n"
		    "{\"id\":01}\n"
		    "{\"id\":1.}\n"
		    "{\"id\":\"tab\tin string\"}\n"
		    "{\"id\":\"x\",}\n"
		    "{\"id\":\"a\",\"i\\u0064\":\"b\"}\n"
		    "{\"id\":\"deep\",\"v\":");
	for (i = 0; i < 40; i++)
		fd_buf_adds(&deep, "[");
	for (i = 0; i < 40; i++)
		fd_buf_adds(&deep, "]");
	fd_buf_adds(&deep, "}\n{\"id\":-0,\"v\":[true,false,null,{}]}\n");
	jopen(&t, deep.s, bind);
	expect_rec(&t, 1, "simple \"esc\" / \t", "Z\xc3\xbcrich \xe2\x82\xac \xf0\x9f\x98\x80");
	expect_rec(&t, 2, "e", "-0.5e+2");
	expect_bad(&t, 3, "invalid JSON at column ", "{\"id\":\"bad utf8\",\"v\":\"\xc3\x28\"}");
	expect_bad(&t, 4, "invalid JSON at column ", "{\"id\":\"overlong\",\"v\":\"\xc0\xaf\"}");
	expect_bad(&t, 5, "invalid JSON at column ", "{\"id\":\"surrogate\",\"v\":\"\xed\xa0\x80\"}");
	expect_bad(&t, 6, "invalid JSON at column ", "{\"id\":truex}");
	expect_bad(&t, 7, "invalid JSON at column ", "{\"id\":01}");
	expect_bad(&t, 8, "invalid JSON at column ", "{\"id\":1.}");
	expect_bad(&t, 9, "invalid JSON at column ", "{\"id\":\"tab\tin string\"}");
	expect_bad(&t, 10, "invalid JSON at column ", "{\"id\":\"x\",}");
	expect_bad(&t, 11, "invalid JSON at column ", "{\"id\":\"a\",\"i\\u0064\":\"b\"}");
	assert_non_null(strstr(t.err.msg, "duplicate object key"));
	assert_int_equal(fd_reader_next(t.r, &t.err), 1);
	assert_int_equal(fd_reader_line(t.r), 12);
	expect_rec(&t, 13, "-0", "[true,false,null,{}]");
	expect_end(&t);
	tclose(&t);
	fd_buf_release(&deep);
}

static void test_ndjson_blank_lines(void **state)
{
	static const char *const bind[] = { "id", NULL };
	struct t t;

	(void)state;
	jopen(&t, "\xef\xbb\xbf\n  \n{\"id\":\"a\"}\r\n\r\n \t \n{\"id\":\"b\"}", bind);
	expect_rec(&t, 3, "a");
	expect_raw(&t, "{\"id\":\"a\"}");
	expect_rec(&t, 6, "b");
	expect_raw(&t, "{\"id\":\"b\"}");
	expect_end(&t);
	tclose(&t);
}

static void test_ndjson_forced(void **state)
{
	struct t t;
	const char *s = "id,v\n1,2\n";

	(void)state;
	/* NDJSON asked for: a CSV line is a bad record, not a different format */
	assert_int_equal(topen(&t, s, strlen(s), FD_FMT_NDJSON, 0), FD_OK);
	assert_int_equal(fd_reader_format(t.r), FD_FMT_NDJSON);
	expect_bad(&t, 1, "invalid JSON", "id,v");
	tclose(&t);

	assert_int_equal(topen(&t, "", 0, FD_FMT_NDJSON, 0), FD_OK);
	assert_int_equal(fd_reader_format(t.r), FD_FMT_NDJSON);
	expect_end(&t);
	tclose(&t);

	/* CSV asked for: a JSON line is a (malformed) CSV header */
	s = "{\"a\":1}\n{\"a\":2}\n";
	assert_int_equal(topen(&t, s, strlen(s), FD_FMT_CSV, 0), FD_EINPUT);
	tclose(&t);
}

static void test_format_names(void **state)
{
	(void)state;
	assert_int_equal(fd_format_parse("csv"), FD_FMT_CSV);
	assert_int_equal(fd_format_parse("ndjson"), FD_FMT_NDJSON);
	assert_int_equal(fd_format_parse("json"), -1);
	assert_int_equal(fd_format_parse("CSV"), -1);
	assert_int_equal(fd_format_parse(NULL), -1);
	assert_string_equal(fd_format_name(FD_FMT_CSV), "csv");
	assert_string_equal(fd_format_name(FD_FMT_NDJSON), "ndjson");
}

int main(void)
{
	const struct CMUnitTest csv[] = {
		cmocka_unit_test(test_csv_basic),
		cmocka_unit_test(test_csv_quoted_newline),
		cmocka_unit_test(test_csv_quotes),
		cmocka_unit_test(test_csv_bom),
		cmocka_unit_test(test_csv_crlf),
		cmocka_unit_test(test_csv_ragged),
		cmocka_unit_test(test_csv_blank_lines),
		cmocka_unit_test(test_csv_no_final_newline),
		cmocka_unit_test(test_csv_delimiters),
		cmocka_unit_test(test_csv_spaces_kept),
		cmocka_unit_test(test_csv_empty),
		cmocka_unit_test(test_csv_header_only),
		cmocka_unit_test(test_csv_duplicate_header),
		cmocka_unit_test(test_csv_bad_header),
		cmocka_unit_test(test_csv_malformed_quoting),
		cmocka_unit_test(test_csv_unbound_json),
		cmocka_unit_test(test_csv_large),
		cmocka_unit_test(test_csv_zstd),
		cmocka_unit_test(test_csv_zstd_truncated_later),
	};
	const struct CMUnitTest ndjson[] = {
		cmocka_unit_test(test_ndjson_types),
		cmocka_unit_test(test_ndjson_unbound),
		cmocka_unit_test(test_ndjson_escaped_keys),
		cmocka_unit_test(test_ndjson_malformed),
		cmocka_unit_test(test_ndjson_edges),
		cmocka_unit_test(test_ndjson_blank_lines),
		cmocka_unit_test(test_ndjson_forced),
		cmocka_unit_test(test_format_names),
	};
	int fails = 0;

	fails += cmocka_run_group_tests_name("csv, quick splitter", csv, quick_on, NULL);
	fails += cmocka_run_group_tests_name("csv, libcsv only", csv, quick_off, quick_on);
	fails += cmocka_run_group_tests_name("ndjson, quick scanner", ndjson, quick_on, NULL);
	fails += cmocka_run_group_tests_name("ndjson, jansson only", ndjson, quick_off, quick_on);
	return fails ? 1 : 0;
}
