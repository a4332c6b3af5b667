/*
 * test_rules.c — unit tests of lib/fd_rules.c.
 *
 * Every expected value is worked out by hand from fd-rules(5): error positions by counting
 * the columns of the quoted rule text (the comment above each case shows the count), truth
 * values from the precedence and NaN rules of the man page, reasons from its formatting rules.
 * Nothing is compared with the code's own earlier output.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "fd_features.h"
#include "fd_rules.h"
#include "fd_txn.h"

/* ---- helpers ------------------------------------------------------------------------- */

static char tmpdir[64];   /* list files for the tests, made once */

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static int setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_rules.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	write_file("list.txt",
		   "# merchants\n"
		   "\n"
		   "M1\n"
		   "  M2   # with a comment\n"
		   "M#3\n"            /* '#' not after a blank: part of the value */
		   "M4\r\n"           /* CRLF */
		   "   \t\n"
		   "M5");             /* no final newline */
	write_file("nums.txt", "# hours\n3\n 17 # five pm\n-1\n");
	write_file("bad.txt", "1\nabc\n");
	return 0;
}

static int teardown_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct fd_rules *load_ok(const char *text)
{
	struct fd_rules *r = NULL;
	struct fd_err err = { 0, "" };
	int rc = fd_rules_parse(&r, text, strlen(text), "t.rules", tmpdir, &err);

	if (rc) {
		print_error("unexpected error %d: %s\n", rc, err.msg);
		fail();
	}
	assert_non_null(r);
	return r;
}

static void check_err(const char *text, int code, const char *msg, int line)
{
	struct fd_rules *r = (struct fd_rules *)1;
	struct fd_err err = { 0, "" };
	int rc = fd_rules_parse(&r, text, strlen(text), "t.rules", tmpdir, &err);

	if (rc != code || err.code != code || strcmp(err.msg, msg) != 0 || r != NULL) {
		print_error("line %d: got %d '%s'\n             want %d '%s'\n", line, rc, err.msg,
			    code, msg);
		fd_rules_free(r == (struct fd_rules *)1 ? NULL : r);
		fail();
	}
}
#define ERR(text, msg) check_err((text), FD_EINPUT, (msg), __LINE__)

/* A transaction: USD 123.45 from S1, nothing optional. */
static void txn_init(struct fd_txn *t)
{
	fd_txn_clear(t);
	t->txn_id = "T1";
	t->ts = 1795611900000LL;
	t->amount = 12345;
	memcpy(t->currency, "USD", 4);
	t->exponent = 2;
	t->sender_id = "S1";
}

static int feat_n(void)
{
	const struct fd_feat_def *defs;

	return (int)fd_feat_catalog(&defs);
}

static int fidx(const char *name)
{
	int i = fd_feat_lookup(name);

	if (i < 0) {
		print_error("feature '%s' is not in the catalog\n", name);
		fail();
	}
	return i;
}

static double *feat_nan(void)
{
	int n = feat_n(), i;
	double *f = malloc((size_t)n * sizeof(*f));

	assert_non_null(f);
	for (i = 0; i < n; i++)
		f[i] = NAN;
	return f;
}

/* Value of the condition cond (a `when` expression) for t and f. */
static int cond(const char *expr, const struct fd_txn *t, const double *f)
{
	char text[1024];
	struct fd_rules *r;
	int v;

	snprintf(text, sizeof(text), "rule c\n  when %s\n  points 1\n  action review\n", expr);
	r = load_ok(text);
	v = fd_rules_eval_one(r, 0, t, f);
	fd_rules_free(r);
	return v;
}

static void check_cond(const char *expr, const struct fd_txn *t, const double *f, int want, int line)
{
	int got = cond(expr, t, f);

	if (got != want) {
		print_error("line %d: '%s' is %d, want %d\n", line, expr, got, want);
		fail();
	}
}
#define TRUE(e) check_cond((e), &t, f, 1, __LINE__)
#define FALSE(e) check_cond((e), &t, f, 0, __LINE__)

/* Reason of a one-rule set whose reason template is tmpl. */
static void check_reason(const char *tmpl, const struct fd_txn *t, const double *f,
			 const char *want, int line)
{
	char text[1024];
	struct fd_rules *r;
	struct fd_buf b = FD_BUF_INIT;
	struct fd_err err = { 0, "" };

	snprintf(text, sizeof(text), "rule c\n  when true\n  points 1\n  action review\n  reason \"%s\"\n", tmpl);
	r = load_ok(text);
	assert_int_equal(fd_rules_reason(r, 0, t, f, &b, &err), FD_OK);
	if (strcmp(b.s ? b.s : "", want) != 0) {
		print_error("line %d: '%s' gave '%s', want '%s'\n", line, tmpl, b.s ? b.s : "", want);
		fd_buf_release(&b);
		fd_rules_free(r);
		fail();
	}
	fd_buf_release(&b);
	fd_rules_free(r);
}
#define REASON(tmpl, want) check_reason((tmpl), &t, f, (want), __LINE__)

#define RULE_HEAD "rule a\n"
#define TAIL "  points 1\n  action review\n"

/* ---- errors -------------------------------------------------------------------------- */

static void test_errors_names(void **state)
{
	(void)state;
	/* "  when sender_txn_cnt_10m > 5": the name starts at column 8 */
	ERR(RULE_HEAD "  when sender_txn_cnt_10m > 5\n" TAIL,
	    "t.rules:2:8: unknown feature 'sender_txn_cnt_10m' (did you mean 'sender_txn_count_10m'?)");
	ERR(RULE_HEAD "  when zzqqxxww > 5\n" TAIL, "t.rules:2:8: unknown feature 'zzqqxxww'");
	/* a transaction field is suggested too */
	ERR(RULE_HEAD "  when amout > 5\n" TAIL,
	    "t.rules:2:8: unknown feature 'amout' (did you mean 'amount'?)");
	/* the label is not visible to rules */
	ERR(RULE_HEAD "  when label == 1\n" TAIL, "t.rules:2:8: unknown feature 'label'");
	/* "  when abss(amount) > 1": column 8 */
	ERR(RULE_HEAD "  when abss(amount) > 1\n" TAIL,
	    "t.rules:2:8: unknown function 'abss' (did you mean 'abs'?)");
	ERR(RULE_HEAD "  when min(amount) > 1\n" TAIL, "t.rules:2:8: 'min' takes 2 arguments, not 1");
}

static void test_errors_syntax(void **state)
{
	(void)state;
	/* "  when amount >": '>' at 15, the end of the expression is column 16 */
	ERR(RULE_HEAD "  when amount >\n" TAIL, "t.rules:2:16: missing operand at end of expression");
	/* "  when amount > and hour > 1": 'and' at 17 */
	ERR(RULE_HEAD "  when amount > and hour > 1\n" TAIL,
	    "t.rules:2:17: missing operand before 'and'");
	/* "  when * 2 > 1": '*' at 8 */
	ERR(RULE_HEAD "  when * 2 > 1\n" TAIL, "t.rules:2:8: missing operand before '*'");
	/* "  when" alone: the end is just after "when", column 7 */
	ERR(RULE_HEAD "  when\n" TAIL, "t.rules:2:7: missing operand at end of expression");
	/* a continuation line: "    and hour >" has '>' at 14, the end at 15, on line 3 */
	ERR(RULE_HEAD "  when amount > 1\n    and hour >\n" TAIL,
	    "t.rules:3:15: missing operand at end of expression");
	/* "  description \"abc": the quote at 15 */
	ERR(RULE_HEAD "  description \"abc\n  when amount > 1\n" TAIL, "t.rules:2:15: unterminated string");
	/* "  reason \"a\\qb\"": quote at 10, 'a' 11, backslash 12 */
	ERR(RULE_HEAD "  when amount > 1\n" TAIL "  reason \"a\\qb\"\n",
	    "t.rules:5:12: unknown escape '\\q' (use \\\", \\\\, \\n or \\t)");
	/* "  wehn amount > 1": keyword at 3 */
	ERR(RULE_HEAD "  wehn amount > 1\n" TAIL, "t.rules:2:3: unknown keyword 'wehn' (did you mean 'when'?)");
	ERR(RULE_HEAD "  priority 5\n" TAIL,
	    "t.rules:2:3: unknown keyword 'priority' (rule, description, when, points, action, reason)");
	/* "  when amount = 5": '=' at 15 */
	ERR(RULE_HEAD "  when amount = 5\n" TAIL,
	    "t.rules:2:15: '=' is not an operator (write '==' to compare)");
	/* "  when amount > 1)": ')' at 18 */
	ERR(RULE_HEAD "  when amount > 1)\n" TAIL, "t.rules:2:18: unmatched ')'");
	/* "  when (amount > 1": '(' at 8 */
	ERR(RULE_HEAD "  when (amount > 1\n" TAIL, "t.rules:2:8: unclosed '('");
	/* "  when amount > 1 2": '2' at 19 */
	ERR(RULE_HEAD "  when amount > 1 2\n" TAIL,
	    "t.rules:2:19: unexpected '2' (an operator is missing before it?)");
	/* "  when 1 < 2 < 3": the second '<' at 14 */
	ERR(RULE_HEAD "  when 1 < 2 < 3\n" TAIL,
	    "t.rules:2:14: comparisons cannot be chained (join them with 'and')");
	/* "  when amount > 10m": the number at 17 */
	ERR(RULE_HEAD "  when amount > 10m\n" TAIL, "t.rules:2:17: bad number '10m'");
	ERR(RULE_HEAD "  when amount > 1e\n" TAIL, "t.rules:2:17: bad number '1e'");
	/* "  when amount $ 1": '$' at 15 */
	ERR(RULE_HEAD "  when amount $ 1\n" TAIL, "t.rules:2:15: unexpected character '$'");
	/* a NUL byte is shown visibly */
	{
		static const char nul[] = "rule a\n  when \0\n" TAIL;
		struct fd_rules *r;
		struct fd_err err = { 0, "" };

		assert_int_equal(fd_rules_parse(&r, nul, sizeof(nul) - 1, "t.rules", NULL, &err), FD_EINPUT);
		assert_string_equal(err.msg, "t.rules:2:8: unexpected character '\\x00'");
	}
	/* a chain of 300 additions is 300 levels deep: refused at the 256th '+' node, built when
	   the parser stands on the 257th '+', at column 10 + 4 * 256 = 1034 */
	{
		char text[2048];
		size_t o = (size_t)snprintf(text, sizeof(text), RULE_HEAD "  when 1");
		int k;

		for (k = 1; k < 300; k++)
			o += (size_t)snprintf(text + o, sizeof(text) - o, " + 1");
		snprintf(text + o, sizeof(text) - o, " > 0\n" TAIL);
		ERR(text, "t.rules:2:1034: expression too long (more than 256 operations deep; use a "
			  "list for long 'or' chains)");
	}
	/* attributes before any rule */
	ERR("  when amount > 1\n", "t.rules:1:3: 'when' outside a rule (start one with 'rule ID')");
	ERR("rule\n", "t.rules:1:5: missing rule id after 'rule'");
	ERR("rule 9a\n", "t.rules:1:6: bad number '9a'");
	ERR("rule \"a\"\n", "t.rules:1:6: bad rule id '\"a\"' (letters, digits and _, not starting with a digit)");
	ERR("rule a b\n", "t.rules:1:8: unexpected 'b' after the rule id");
}

static void test_errors_types(void **state)
{
	(void)state;
	/* "  when merchant_category == 5993": '==' at 26 */
	ERR(RULE_HEAD "  when merchant_category == 5993\n" TAIL,
	    "t.rules:2:26: '==' cannot compare text with a number");
	/* "  when country < \"KP\"": '<' at 16 */
	ERR(RULE_HEAD "  when country < \"KP\"\n" TAIL,
	    "t.rules:2:16: '<' compares numbers, not text (text has == and !=)");
	/* "  when amount": a number is not a condition */
	ERR(RULE_HEAD "  when amount\n" TAIL,
	    "t.rules:2:8: 'when' needs a condition, not a number (compare it with something)");
	/* "  when amount > 1 and 2": 'and' at 19 */
	ERR(RULE_HEAD "  when amount > 1 and 2\n" TAIL,
	    "t.rules:2:19: 'and' needs a condition on each side, not a number");
	/* "  when country + 1 > 2": '+' at 16 */
	ERR(RULE_HEAD "  when country + 1 > 2\n" TAIL,
	    "t.rules:2:16: '+' needs numbers on both sides, not text");
	/* "  when hour in (1, \"2\")": '(' at 16, the string at 20 */
	ERR(RULE_HEAD "  when hour in (1, \"2\")\n" TAIL,
	    "t.rules:2:20: expected a number in the list, not '\"2\"'");
	/* "  when country in (\"KP\" \"IR\")": '(' at 19, "KP" 20-23, the second string at 25 */
	ERR(RULE_HEAD "  when country in (\"KP\" \"IR\")\n" TAIL,
	    "t.rules:2:25: expected ',' or ')' in the list, not '\"IR\"'");
	ERR(RULE_HEAD "  when not amount\n" TAIL, "t.rules:2:8: 'not' needs a condition, not a number");
}

static void test_errors_attributes(void **state)
{
	char want[512];

	(void)state;
	/* "  action alert": the value at 10 */
	ERR(RULE_HEAD "  when amount > 1\n  points 1\n  action alert\n",
	    "t.rules:4:10: unknown action 'alert' (review or block)");
	/* "  points 101" / "-1" / "2.5": the value at 10 */
	ERR(RULE_HEAD "  when amount > 1\n  points 101\n  action review\n",
	    "t.rules:3:10: points must be an integer from 0 to 100");
	ERR(RULE_HEAD "  when amount > 1\n  points -1\n  action review\n",
	    "t.rules:3:10: points must be an integer from 0 to 100");
	ERR(RULE_HEAD "  when amount > 1\n  points 2.5\n  action review\n",
	    "t.rules:3:10: points must be an integer from 0 to 100");
	ERR(RULE_HEAD "  when amount > 1\n  points\n  action review\n",
	    "t.rules:3:9: missing points after 'points'");
	/* the second "rule a" on line 5, its id at column 6 */
	ERR(RULE_HEAD "  when amount > 1\n" TAIL "rule a\n  when amount > 2\n" TAIL,
	    "t.rules:5:6: duplicate rule id 'a' (first on line 1)");
	ERR(RULE_HEAD "  when amount > 1\n  when amount > 2\n" TAIL,
	    "t.rules:3:3: 'when' given twice in rule 'a'");
	/* required attributes: reported at the rule keyword */
	ERR(RULE_HEAD TAIL, "t.rules:1:1: rule 'a' has no 'when'");
	ERR(RULE_HEAD "  when amount > 1\n  action review\nrule b\n",
	    "t.rules:1:1: rule 'a' has no 'points'");
	ERR(RULE_HEAD "  when amount > 1\n  points 3\n", "t.rules:1:1: rule 'a' has no 'action'");
	/* "  description unquoted": the value at 15 */
	ERR(RULE_HEAD "  description unquoted\n", "t.rules:2:15: expected a string in double quotes after 'description'");
	/* a missing list file, "  when country in @nope.txt": '@' at 19 — FD_EIO */
	snprintf(want, sizeof(want), "t.rules:2:19: cannot read list '%s/nope.txt': No such file or directory", tmpdir);
	check_err(RULE_HEAD "  when country in @nope.txt\n" TAIL, FD_EIO, want, __LINE__);
	/* a list of numbers with a bad value: the list file and its line */
	snprintf(want, sizeof(want), "%s/bad.txt:2: not a number 'abc'", tmpdir);
	ERR(RULE_HEAD "  when hour in @bad.txt\n" TAIL, want);
	/* no directory: list files refused */
	{
		static const char text[] = RULE_HEAD "  when country in @list.txt\n" TAIL;
		struct fd_rules *r;
		struct fd_err err = { 0, "" };

		assert_int_equal(fd_rules_parse(&r, text, strlen(text), "t.rules", NULL, &err), FD_EINPUT);
		assert_string_equal(err.msg, "t.rules:2:19: list files are not allowed here");
		assert_null(r);
	}
	/* a rules file that does not exist */
	{
		struct fd_rules *r;
		struct fd_err err = { 0, "" };

		assert_int_equal(fd_rules_load(&r, "/nonexistent/x.rules", &err), FD_EIO);
		assert_string_equal(err.msg, "cannot open '/nonexistent/x.rules': No such file or directory");
		assert_null(r);
	}
}

static void test_errors_reason(void **state)
{
	(void)state;
	/* "  reason \"{hour} x {amont}\"": quote at 10, {hour} 11-16, x 18, '{' 20, the name 21 */
	ERR(RULE_HEAD "  when true\n" TAIL "  reason \"{hour} x {amont}\"\n",
	    "t.rules:5:21: unknown feature 'amont' (did you mean 'amount'?)");
	/* escapes before the placeholder shift its column: "  reason \"\\\"q\\\" {amont}\"" —
	   quote 10, \" 11-12, q 13, \" 14-15, space 16, '{' 17, name 18 */
	ERR(RULE_HEAD "  when true\n" TAIL "  reason \"\\\"q\\\" {amont}\"\n",
	    "t.rules:5:18: unknown feature 'amont' (did you mean 'amount'?)");
	/* "  reason \"a {hour\"": '{' at 13 */
	ERR(RULE_HEAD "  when true\n" TAIL "  reason \"a {hour\"\n",
	    "t.rules:5:13: unclosed '{' in reason (write '{{' for a brace)");
	ERR(RULE_HEAD "  when true\n" TAIL "  reason \"a } b\"\n",
	    "t.rules:5:13: unmatched '}' in reason (write '}}' for a brace)");
	/* "  reason \"{hour:x}\"": ':' at 16 */
	ERR(RULE_HEAD "  when true\n" TAIL "  reason \"{hour:x}\"\n",
	    "t.rules:5:16: bad format ':x' (use :.Nf, N from 0 to 9)");
	ERR(RULE_HEAD "  when true\n" TAIL "  reason \"{country:.1f}\"\n",
	    "t.rules:5:19: format ':.1f' needs a number, not text");
	ERR(RULE_HEAD "  when true\n" TAIL "  reason \"{}\"\n", "t.rules:5:11: empty placeholder '{}'");
	/* "  reason \"{hour >}\"": '>' at 17, the end (the '}') at 18 */
	ERR(RULE_HEAD "  when true\n" TAIL "  reason \"{hour >}\"\n",
	    "t.rules:5:18: missing operand at end of expression");
}

/* ---- evaluation ---------------------------------------------------------------------- */

static void test_precedence(void **state)
{
	struct fd_txn t;
	const double *f = NULL;

	(void)state;
	txn_init(&t);
	TRUE("1 + 2 * 3 == 7");
	FALSE("1 + 2 * 3 == 9");
	TRUE("(1 + 2) * 3 == 9");
	TRUE("2 - 3 - 4 == -5");       /* left associative: (2 - 3) - 4 */
	TRUE("8 / 4 / 2 == 1");        /* (8 / 4) / 2 */
	TRUE("-2 * 3 == -6");
	TRUE("2 * -3 == -6");
	TRUE("- -2 == 2");
	TRUE("10 - 2 * 3 > 3");        /* 4 > 3 */
	TRUE("1e3 == 1000");
	TRUE("2.5e-1 == 0.25");
	TRUE(".5 == 0.5");
	TRUE("0.5 * 4 == 2");
	/* and binds tighter than or: T or (F and F) = T; (T or F) and F would be F */
	TRUE("1 < 2 or 3 < 2 and 1 == 2");
	TRUE("1 < 2 and 3 < 2 or 1 == 1");
	/* not binds looser than comparisons, tighter than and: (not F) and F = F */
	FALSE("not 1 > 2 and 1 > 2");
	TRUE("not 1 + 1 == 3");
	TRUE("not not 1 == 1");
	TRUE("! (1 > 2) && 2 > 1 || 1 > 2");
	TRUE("true");
	FALSE("false");
	TRUE("true and not false");
	/* between is inclusive and its 'and' is not the logical one */
	TRUE("5 between 1 and 5");
	TRUE("1 between 1 and 5");
	FALSE("5.5 between 1 and 5");
	TRUE("5 between 1 + 1 and 2 * 3 and 1 == 1");
	/* functions */
	TRUE("max(3, 7) - min(3, 7) == 4");
	TRUE("abs(-2.5) == 2.5");
	TRUE("abs(2 - 5) == 3");
	/* division by zero is undefined */
	FALSE("1 / 0 > 0");
	FALSE("1 / 0 == 1 / 0");
	TRUE("1 / 0 != 1");
	FALSE("defined(0 / 0)");
	TRUE("defined(1 / 2)");
	/* amount in major units: 12345 cents = 123.45 exactly as the literal */
	TRUE("amount == 123.45");
	TRUE("amount > 123.44 and amount < 123.46");
	t.amount = 999999;
	TRUE("amount == 9999.99");
	t.amount = 500;
	memcpy(t.currency, "JPY", 4);
	t.exponent = 0;
	TRUE("amount == 500");
	t.amount = -1234;
	t.exponent = 3;
	TRUE("amount == -1.234");
}

/* and / or / not over the three kinds of operands: true, false and undefined (NaN). */
static void test_truth_tables(void **state)
{
	static const double vals[3] = { 1, -1, NAN };   /* "x > 0" is T, F, F(undefined) */
	struct fd_txn t;
	double *f = feat_nan();
	int ia = fidx("hour"), ib = fidx("secs_since_last"), a, b;

	(void)state;
	txn_init(&t);
	for (a = 0; a < 3; a++) {
		for (b = 0; b < 3; b++) {
			int ta = a == 0, tb = b == 0;

			f[ia] = vals[a];
			f[ib] = vals[b];
			assert_int_equal(cond("hour > 0 and secs_since_last > 0", &t, f), ta && tb);
			assert_int_equal(cond("hour > 0 or secs_since_last > 0", &t, f), ta || tb);
			assert_int_equal(cond("hour > 0 && secs_since_last > 0", &t, f), ta && tb);
			assert_int_equal(cond("hour > 0 || secs_since_last > 0", &t, f), ta || tb);
		}
		assert_int_equal(cond("not hour > 0", &t, f), a != 0);
		assert_int_equal(cond("!(hour > 0)", &t, f), a != 0);
	}
	/* an undefined value equals nothing: every comparison but != is false */
	f[ia] = NAN;
	FALSE("hour > 0");
	FALSE("hour >= 0");
	FALSE("hour < 0");
	FALSE("hour <= 0");
	FALSE("hour == 0");
	TRUE("hour != 0");
	FALSE("hour == hour");
	TRUE("hour != hour");
	FALSE("hour between 0 and 24");
	FALSE("hour + 1 > 0");          /* arithmetic keeps it undefined */
	FALSE("hour * 0 == 0");
	FALSE("min(hour, 1) < 5");
	FALSE("max(hour, 1) > 0");
	FALSE("abs(hour) >= 0");
	FALSE("defined(hour)");
	TRUE("not defined(hour)");
	f[ia] = 0;
	TRUE("defined(hour)");
	TRUE("hour == 0");
	FALSE("hour != 0");
	/* NULL vector: every feature undefined */
	assert_int_equal(cond("hour == 0", &t, NULL), 0);
	assert_int_equal(cond("not defined(hour)", &t, NULL), 1);
	free(f);
}

static void test_in_lists(void **state)
{
	struct fd_txn t;
	double *f = feat_nan();
	int ih = fidx("hour");

	(void)state;
	txn_init(&t);
	f[ih] = 3;
	TRUE("hour in (1, 2, 3)");
	FALSE("hour not in (1, 2, 3)");
	FALSE("hour in (1, 2)");
	TRUE("hour not in (1, 2)");
	TRUE("hour - 4 in (-1)");
	TRUE("hour in @nums.txt");       /* 3, 17, -1 */
	f[ih] = 17;
	TRUE("hour in @nums.txt");
	f[ih] = 5;
	FALSE("hour in @nums.txt");
	TRUE("hour not in @nums.txt");
	f[ih] = NAN;                     /* undefined: in nothing */
	FALSE("hour in (1, 2, 3)");
	TRUE("hour not in (1, 2, 3)");
	FALSE("hour in @nums.txt");

	/* text */
	memcpy(t.country, "IR", 3);
	TRUE("country in (\"KP\", \"IR\")");
	FALSE("country not in (\"KP\", \"IR\")");
	FALSE("country in (\"KP\", \"ir\")");   /* exact, case matters */
	TRUE("country == \"IR\"");
	FALSE("country != \"IR\"");
	TRUE("currency == \"USD\"");
	TRUE("sender_id == \"S1\" and txn_id == \"T1\"");
	FALSE("sender_id == \"S\"");
	FALSE("sender_id == \"S11\"");
	/* absent text: unequal to everything, in no list */
	t.country[0] = '\0';
	FALSE("country in (\"KP\", \"IR\")");
	TRUE("country not in (\"KP\", \"IR\")");
	FALSE("country == \"\"");
	TRUE("country != \"KP\"");
	FALSE("defined(country)");
	FALSE("merchant_id == recipient_id");   /* both absent: still not equal */
	TRUE("merchant_id != recipient_id");
	FALSE("merchant_id in @list.txt");
	TRUE("merchant_id not in @list.txt");
	/* the list file: comments, blanks, CRLF, no final newline */
	t.merchant_id = "M1";
	TRUE("merchant_id in @list.txt");
	t.merchant_id = "M2";
	TRUE("merchant_id in @list.txt");
	t.merchant_id = "M#3";
	TRUE("merchant_id in @list.txt");
	t.merchant_id = "M4";
	TRUE("merchant_id in @list.txt");
	t.merchant_id = "M5";
	TRUE("merchant_id in @list.txt and merchant_id in @\"list.txt\"");
	t.merchant_id = "merchants";
	FALSE("merchant_id in @list.txt");
	t.merchant_id = "M6";
	FALSE("merchant_id in @list.txt");
	TRUE("defined(merchant_id)");
	/* two text fields */
	t.recipient_id = "S1";
	TRUE("sender_id == recipient_id");
	/* lat/lon from the transaction, undefined without geo */
	FALSE("defined(lat) or defined(lon)");
	t.has_geo = 1;
	t.lat = 48.85;
	t.lon = 2.35;
	TRUE("lat == 48.85 and lon == 2.35");
	free(f);
}

static void test_reasons(void **state)
{
	struct fd_txn t;
	double *f = feat_nan();
	int i10 = fidx("sender_txn_count_10m"), ir = fidx("amount_to_mean_30d");

	(void)state;
	txn_init(&t);
	f[i10] = 7;
	REASON("{sender_txn_count_10m} transactions in 10 minutes (limit 5)",
	       "7 transactions in 10 minutes (limit 5)");
	/* amount as the transaction writes it */
	t.amount = 1234500;
	REASON("amount {amount} {currency}", "amount 12,345.00 USD");
	t.amount = -123456789;
	REASON("{amount}", "-1,234,567.89");
	t.amount = 1234500;
	t.amount = -5;
	REASON("{amount}", "-0.05");
	t.amount = 500;
	memcpy(t.currency, "JPY", 4);
	t.exponent = 0;
	REASON("{amount} {currency}", "500 JPY");
	/* ... but not in an expression or with a format */
	t.amount = 1234500;
	memcpy(t.currency, "USD", 4);
	t.exponent = 2;
	REASON("{amount * 2}", "24,690");
	REASON("{amount:.1f}", "12,345.0");
	REASON("{999} {1000} {-999.5:.1f} {123456.789:.2f}", "999 1,000 -999.5 123,456.79");
	/* numbers: integers bare, others at most 2 decimals, trailing zeros dropped */
	f[ir] = 41.2345;
	REASON("{amount_to_mean_30d}x", "41.23x");
	f[ir] = 3.5;
	REASON("{amount_to_mean_30d}", "3.5");
	f[ir] = 3.999;
	REASON("{amount_to_mean_30d}", "4");
	f[ir] = 3.14159;
	REASON("{amount_to_mean_30d:.1f} {amount_to_mean_30d:.0f} {amount_to_mean_30d:.3f}", "3.1 3 3.142");
	f[ir] = -0.001;
	REASON("{amount_to_mean_30d} {amount_to_mean_30d:.1f}", "0 0.0");
	f[ir] = NAN;
	REASON("{amount_to_mean_30d} {amount_to_mean_30d:.1f}", "n/a n/a");
	REASON("{1 + 2 * 3}", "7");
	REASON("{10 / 4}", "2.5");
	REASON("{-1000000}", "-1,000,000");
	/* text, absent text, conditions, braces, escapes */
	REASON("from {sender_id} in {country}", "from S1 in n/a");
	memcpy(t.country, "KP", 3);
	REASON("{country == \\\"KP\\\"} {hour > 1}", "true false");
	REASON("{{literal}} {{{sender_id}}}", "{literal} {S1}");
	REASON("tab\\there \\\"q\\\" back\\\\slash", "tab\there \"q\" back\\slash");
	REASON("", "c");   /* an empty reason: the description, else the id */
	free(f);
}

static void test_reason_defaults_and_append(void **state)
{
	static const char text[] =
		"rule with_desc\n"
		"  description \"The description\"\n"
		"  when true\n"
		"  points 1\n"
		"  action review\n"
		"rule bare\n"
		"  when true\n"
		"  points 1\n"
		"  action review\n";
	struct fd_rules *r = load_ok(text);
	struct fd_buf b = FD_BUF_INIT;
	struct fd_err err = { 0, "" };
	struct fd_txn t;

	(void)state;
	txn_init(&t);
	assert_int_equal(fd_buf_adds(&b, "x: "), 0);
	assert_int_equal(fd_rules_reason(r, 0, &t, NULL, &b, &err), FD_OK);
	assert_string_equal(b.s, "x: The description");
	fd_buf_reset(&b);
	assert_int_equal(fd_rules_reason(r, 1, &t, NULL, &b, &err), FD_OK);
	assert_string_equal(b.s, "bare");
	fd_buf_release(&b);
	fd_rules_free(r);
}

static void test_accessors_and_hits(void **state)
{
	static const char text[] =
		"\xef\xbb\xbf# a comment line\n"
		"\n"
		"rule big   # a trailing comment\n"
		"  description \"Big amount\"\n"
		"  when amount > 100 and\n"
		"      hour < 5   # comment inside the expression\n"
		"\n"
		"      and sender_txn_count_10m > 1\n"
		"  points 40\n"
		"  action block\n"
		"  reason \"{amount} at {hour}h, {sender_txn_count_1h} in the hour\"\n"
		"\trule small\n"                     /* indentation of rule lines is free */
		"when amount <= 100\n"               /* ... and of attributes */
		"points 0\n"
		"action review\n"
		"rule never\n"
		"  when false\n"
		"  points 100\n"
		"  action review\n";
	struct fd_rules *r = load_ok(text);
	struct fd_rule_hit hits[3];
	const int *idx;
	int want[3], k;
	double *f = feat_nan();
	struct fd_txn t;

	(void)state;
	assert_int_equal(fd_rules_count(r), 3);
	assert_string_equal(fd_rules_id(r, 0), "big");
	assert_string_equal(fd_rules_id(r, 1), "small");
	assert_string_equal(fd_rules_description(r, 0), "Big amount");
	assert_string_equal(fd_rules_description(r, 1), "");
	assert_int_equal(fd_rules_points(r, 0), 40);
	assert_int_equal(fd_rules_points(r, 1), 0);
	assert_int_equal(fd_rules_action(r, 0), FD_RULE_BLOCK);
	assert_int_equal(fd_rules_action(r, 1), FD_RULE_REVIEW);
	assert_string_equal(fd_rule_action_name(FD_RULE_BLOCK), "block");
	assert_string_equal(fd_rule_action_name(FD_RULE_REVIEW), "review");
	assert_null(fd_rule_action_name(0));
	assert_string_equal(fd_rules_expr(r, 0), "amount > 100 and hour < 5 and sender_txn_count_10m > 1");
	assert_string_equal(fd_rules_reason_template(r, 0), "{amount} at {hour}h, {sender_txn_count_1h} in the hour");
	assert_string_equal(fd_rules_reason_template(r, 1), "");
	assert_int_equal(fd_rules_line(r, 0), 3);
	assert_int_equal(fd_rules_line(r, 1), 12);
	assert_int_equal(fd_rules_find(r, "small"), 1);
	assert_int_equal(fd_rules_find(r, "never"), 2);
	assert_int_equal(fd_rules_find(r, "nope"), -1);

	/* features of expressions and templates, sorted, once each; amount is the transaction's */
	want[0] = fidx("hour");
	want[1] = fidx("sender_txn_count_10m");
	want[2] = fidx("sender_txn_count_1h");
	for (k = 1; k < 3; k++) { /* ascending */
		int x = want[k], j = k;

		while (j > 0 && want[j - 1] > x) {
			want[j] = want[j - 1];
			j--;
		}
		want[j] = x;
	}
	assert_int_equal(fd_rules_features(r, &idx), 3);
	assert_memory_equal(idx, want, sizeof(want));

	txn_init(&t);        /* 123.45 */
	f[fidx("hour")] = 3;
	f[fidx("sender_txn_count_10m")] = 2;
	assert_int_equal(fd_rules_eval(r, &t, f, hits), 1);
	assert_int_equal(hits[0].rule, 0);
	assert_int_equal(hits[0].points, 40);
	assert_int_equal(hits[0].action, FD_RULE_BLOCK);
	t.amount = 10000;    /* 100.00 */
	assert_int_equal(fd_rules_eval(r, &t, f, hits), 1);
	assert_int_equal(hits[0].rule, 1);
	assert_int_equal(hits[0].points, 0);
	assert_int_equal(hits[0].action, FD_RULE_REVIEW);
	fd_rules_free(r);
	fd_rules_free(NULL);
	free(f);
}

static void test_empty_file(void **state)
{
	struct fd_rules *r = load_ok("# nothing but a comment\n\n");
	const int *idx;

	(void)state;
	assert_int_equal(fd_rules_count(r), 0);
	assert_int_equal(fd_rules_features(r, &idx), 0);
	assert_int_equal(fd_rules_eval(r, NULL, NULL, NULL), 0);
	fd_rules_free(r);
}

/* ---- the default rules --------------------------------------------------------------- */

static char *default_path(void)
{
	static char path[512];
	const char *root = getenv("FD_ROOT");

	snprintf(path, sizeof(path), "%s/rules/default.rules", root ? root : ".");
	return path;
}

static void test_default_rules(void **state)
{
	static const char *const ids[] = {
		"velocity_10m", "velocity_1h", "amount_spike", "impossible_travel", "unusual_hour",
		"new_device_large", "sanctioned_country", "blocklisted_entity", "large_amount",
		"structuring", "dormant_reactivation",
	};
	struct fd_rules *r;
	struct fd_err err = { 0, "" };
	struct fd_rule_hit hits[16];
	struct fd_buf b = FD_BUF_INIT;
	struct fd_txn t;
	double *f = feat_nan();
	size_t k, n;

	(void)state;
	if (fd_rules_load(&r, default_path(), &err)) {
		print_error("%s\n", err.msg);
		fail();
	}
	assert_int_equal(fd_rules_count(r), sizeof(ids) / sizeof(*ids));
	for (k = 0; k < sizeof(ids) / sizeof(*ids); k++) {
		assert_string_equal(fd_rules_id(r, k), ids[k]);
		assert_int_equal(fd_rules_action(r, k),
				 k == 6 || k == 7 ? FD_RULE_BLOCK : FD_RULE_REVIEW);
		assert_true(fd_rules_description(r, k)[0] != '\0');
	}

	/* a quiet transaction hits nothing: 123.45 USD at 13h, 1 in 10 min, no geo */
	txn_init(&t);
	f[fidx("hour")] = 13;
	f[fidx("sender_txn_count_10m")] = 1;
	f[fidx("sender_txn_count_1h")] = 1;
	assert_int_equal(fd_rules_eval(r, &t, f, hits), 0);

	/* velocity_10m at 6, not at 5; its reason */
	f[fidx("sender_txn_count_10m")] = 5;
	assert_int_equal(fd_rules_eval(r, &t, f, hits), 0);
	f[fidx("sender_txn_count_10m")] = 7;
	n = fd_rules_eval(r, &t, f, hits);
	assert_int_equal(n, 1);
	assert_string_equal(fd_rules_id(r, hits[0].rule), "velocity_10m");
	assert_int_equal(fd_rules_reason(r, hits[0].rule, &t, f, &b, &err), FD_OK);
	assert_string_equal(b.s, "7 transactions in 10 minutes (limit 5)");
	f[fidx("sender_txn_count_10m")] = 1;

	/* sanctioned country and blocklist: block */
	memcpy(t.country, "KP", 3);
	n = fd_rules_eval(r, &t, f, hits);
	assert_int_equal(n, 1);
	assert_string_equal(fd_rules_id(r, hits[0].rule), "sanctioned_country");
	assert_int_equal(hits[0].points, 100);
	memcpy(t.country, "FR", 3);
	assert_int_equal(fd_rules_eval(r, &t, f, hits), 0);
	t.merchant_id = "MERCH-EXAMPLE-BLOCKED-1";
	n = fd_rules_eval(r, &t, f, hits);
	assert_int_equal(n, 1);
	assert_string_equal(fd_rules_id(r, hits[0].rule), "blocklisted_entity");
	t.merchant_id = NULL;

	/* 10,000.00 exactly: large_amount (and nothing else with these features) */
	t.amount = 1000000;
	n = fd_rules_eval(r, &t, f, hits);
	assert_int_equal(n, 1);
	assert_string_equal(fd_rules_id(r, hits[0].rule), "large_amount");
	fd_buf_reset(&b);
	assert_int_equal(fd_rules_reason(r, hits[0].rule, &t, f, &b, &err), FD_OK);
	assert_string_equal(b.s, "amount 10,000.00 USD at or above 10000 (mandatory review)");

	/* structuring: the third near-threshold amount in 24 h, 9,500.00 */
	t.amount = 950000;
	f[fidx("sender_near_threshold_count_24h")] = 3;
	n = fd_rules_eval(r, &t, f, hits);
	assert_int_equal(n, 1);
	assert_string_equal(fd_rules_id(r, hits[0].rule), "structuring");
	f[fidx("sender_near_threshold_count_24h")] = 2;
	assert_int_equal(fd_rules_eval(r, &t, f, hits), 0);

	/* impossible travel: 3,912 km in 42 minutes; and 1,000 km in 1 h 30 (667 km/h) does not */
	t.amount = 12345;
	f[fidx("geo_distance_km")] = 3912;
	f[fidx("mins_since_prev_geo")] = 42;
	f[fidx("geo_speed_kmh")] = 3912 / 0.7;
	n = fd_rules_eval(r, &t, f, hits);
	assert_int_equal(n, 1);
	assert_string_equal(fd_rules_id(r, hits[0].rule), "impossible_travel");
	fd_buf_reset(&b);
	assert_int_equal(fd_rules_reason(r, hits[0].rule, &t, f, &b, &err), FD_OK);
	/* 3912 / 0.7 = 5588.57 -> 5589 */
	assert_string_equal(b.s, "3,912 km from the previous transaction 42 minutes earlier (5,589 km/h; limits 500 km in an hour, 900 km/h)");
	f[fidx("geo_distance_km")] = 1000;
	f[fidx("mins_since_prev_geo")] = 90;
	f[fidx("geo_speed_kmh")] = 1000 / 1.5;
	assert_int_equal(fd_rules_eval(r, &t, f, hits), 0);

	/* night (local time), new device with 600.00, 4 times the average, dormant for 200 days */
	f[fidx("local_hour")] = 2;
	n = fd_rules_eval(r, &t, f, hits);
	assert_int_equal(n, 1);
	assert_string_equal(fd_rules_id(r, hits[0].rule), "unusual_hour");
	f[fidx("local_hour")] = 5;   /* 05:00 is no longer unusual */
	assert_int_equal(fd_rules_eval(r, &t, f, hits), 0);
	t.amount = 60000;
	f[fidx("new_device")] = 1;
	t.device_id = "D9";
	n = fd_rules_eval(r, &t, f, hits);
	assert_int_equal(n, 1);
	assert_string_equal(fd_rules_id(r, hits[0].rule), "new_device_large");
	f[fidx("new_device")] = 0;
	f[fidx("amount_to_mean_30d")] = 4;
	n = fd_rules_eval(r, &t, f, hits);
	assert_int_equal(n, 1);
	assert_string_equal(fd_rules_id(r, hits[0].rule), "amount_spike");
	fd_buf_reset(&b);
	assert_int_equal(fd_rules_reason(r, hits[0].rule, &t, f, &b, &err), FD_OK);
	assert_string_equal(b.s, "amount 600.00 USD is 4.0 times the sender's 30-day average (limit 3)");
	f[fidx("amount_to_mean_30d")] = NAN;
	t.amount = 150000;
	f[fidx("days_since_last")] = 200;
	n = fd_rules_eval(r, &t, f, hits);
	assert_int_equal(n, 1);
	assert_string_equal(fd_rules_id(r, hits[0].rule), "dormant_reactivation");
	f[fidx("days_since_last")] = 179.9;
	assert_int_equal(fd_rules_eval(r, &t, f, hits), 0);

	fd_buf_release(&b);
	fd_rules_free(r);
	free(f);
}

/* The rules on the real feature engine: 7 transactions one minute apart; velocity_10m
 * hits the 6th and 7th (counts 6 and 7, this one included). */
static void test_default_rules_with_features(void **state)
{
	struct fd_rules *r;
	struct fd_features *fe;
	struct fd_err err = { 0, "" };
	struct fd_rule_hit hits[16];
	const int *idx;
	size_t nidx, k;
	double *all = feat_nan(), out[64];
	struct fd_txn t;
	char id[16];
	int i;

	(void)state;
	assert_int_equal(fd_rules_load(&r, default_path(), &err), FD_OK);
	assert_int_equal(fd_features_create(&fe, NULL, &err), FD_OK);
	nidx = fd_rules_features(r, &idx);
	assert_true(nidx <= sizeof(out) / sizeof(*out));
	assert_int_equal(fd_features_select_idx(fe, idx, nidx, 0, &err), FD_OK);
	txn_init(&t);
	t.ts = 1795611600000LL;   /* 2026-11-24T10:20:00Z: 10h, not unusual */
	for (i = 1; i <= 7; i++) {
		size_t n;

		snprintf(id, sizeof(id), "T%d", i);
		t.txn_id = id;
		assert_int_equal(fd_features_push(fe, &t, out, all, &err), FD_OK);
		n = fd_rules_eval(r, &t, all, hits);
		if (i < 6)
			assert_int_equal(n, 0);
		else {
			assert_int_equal(n, 1);
			assert_string_equal(fd_rules_id(r, hits[0].rule), "velocity_10m");
		}
		t.ts += 60000;
	}
	for (k = 0; k < nidx; k++)
		assert_true(idx[k] >= 0 && idx[k] < feat_n());
	fd_features_free(fe);
	fd_rules_free(r);
	free(all);
}

/* The rules examples of man/fd-rules.5 (the .EX blocks after a 'rules example' comment),
 * with the roff escapes they use undone, load without error. */
static void test_man_examples(void **state)
{
	static const char mark[] = ".\\\" rules example";
	char path[512], line[1024];
	const char *root = getenv("FD_ROOT");
	struct fd_buf text = FD_BUF_INIT;
	int state_ = 0, blocks = 0;   /* 0 outside, 1 after the marker, 2 inside .EX */
	FILE *fp;

	(void)state;
	snprintf(path, sizeof(path), "%s/man/fd-rules.5", root ? root : ".");
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		if (strncmp(line, mark, sizeof(mark) - 1) == 0) {
			state_ = 1;
		} else if (state_ == 1 && strncmp(line, ".EX", 3) == 0) {
			state_ = 2;
			fd_buf_reset(&text);
		} else if (state_ == 2 && strncmp(line, ".EE", 3) == 0) {
			struct fd_rules *r = load_ok(text.s ? text.s : "");

			assert_true(fd_rules_count(r) > 0);
			fd_rules_free(r);
			blocks++;
			state_ = 0;
		} else if (state_ == 2) {
			const char *c;

			for (c = line; *c; c++) {
				if (c[0] == '\\' && c[1] == '-') {
					fd_buf_addc(&text, '-');
					c++;
				} else if (c[0] == '\\' && c[1] == 'e') {
					fd_buf_addc(&text, '\\');
					c++;
				} else if (strncmp(c, "\\(dq", 4) == 0) {
					fd_buf_addc(&text, '"');
					c += 3;
				} else
					fd_buf_addc(&text, *c);
			}
		}
	}
	fclose(fp);
	fd_buf_release(&text);
	assert_int_equal(blocks, 3);
}


/* ---- metadata, text functions, named lists, the bundled list directory ----------------- */

/* The metadata of a transaction, as fd-ingest keeps the other columns of a CSV export (text)
 * and of an NDJSON one (any JSON). */
static const char META[] =
	"{\"mcc_desc\":\"Online Gambling\",\"bin\":\"412345\",\"score\":\"87.5\",\"attempts\":3,"
	"\"ratio\":0.25,\"vip\":true,\"note\":null,\"ref\":\"1,234\",\"hex\":\"0x10\","
	"\"card\":{\"bin\":\"400000\",\"issuer\":{\"country\":\"NG\"}},\"tags\":[\"a\",\"b\"],"
	"\"email\":\"Jo.Doe@Example.COM\",\"name\":\"Zoë\",\"empty\":\"\",\"big\":12345678901,"
	"\"Card Type\":\"Visa Debit\",\"risk-score\":\"91\",\"a.b\":\"dotted key\","
	"\"card \\\"x\\\"\":{\"issuer country\":\"GH\"}}";

static void test_metadata(void **state)
{
	struct fd_txn t;
	double *f = feat_nan();

	(void)state;
	txn_init(&t);
	t.metadata = META;
	t.metadata_len = sizeof(META) - 1;
	/* text compares as text */
	TRUE("metadata.mcc_desc == \"Online Gambling\"");
	FALSE("metadata.mcc_desc == \"online gambling\"");
	TRUE("metadata.mcc_desc != \"x\"");
	/* a number kept as text compares as a number with a number: "87.5" > 80, "412345" */
	TRUE("metadata.score > 80");
	TRUE("metadata.score == 87.5");
	FALSE("metadata.score < 87.5");
	TRUE("metadata.bin between 400000 and 499999");
	TRUE("metadata.bin in (412345, 5)");
	TRUE("metadata.bin in (\"412345\")");
	/* a JSON number: 3 and 0.25; arithmetic: 3 * 0.25 = 0.75 */
	TRUE("metadata.attempts >= 3 and metadata.attempts < 4");
	TRUE("metadata.attempts * metadata.ratio == 0.75");
	TRUE("-metadata.attempts == -3");
	TRUE("metadata.big == 12345678901");
	/* ... and as text: "3", "0.25" */
	TRUE("metadata.attempts == \"3\"");
	TRUE("metadata.ratio == \"0.25\"");
	TRUE("metadata.vip == \"true\"");
	/* not numbers: "1,234" (a separator), "0x10" (hex), "Online Gambling", true */
	FALSE("metadata.ref > 0");
	FALSE("metadata.ref <= 0");
	FALSE("metadata.hex == 16");
	FALSE("metadata.mcc_desc > 0");
	FALSE("metadata.vip == 1");
	TRUE("not defined(metadata.ref + 0)");
	/* nested values with dotted paths */
	TRUE("metadata.card.bin == \"400000\"");
	TRUE("metadata.card.issuer.country == \"NG\"");
	TRUE("metadata.card.issuer.country in @\"list.txt\" or metadata.card.issuer.country == \"NG\"");
	FALSE("defined(metadata.card.issuer.city)");
	FALSE("defined(metadata.bin.x)");       /* "412345" is not an object */
	TRUE("metadata.tags == \"[\\\"a\\\",\\\"b\\\"]\"");   /* an array as compact JSON */
	/* any key in brackets: spaces, dashes, a dot in the key, a quote; after dotted keys */
	TRUE("metadata[\"Card Type\"] == \"Visa Debit\"");
	TRUE("metadata[\"risk-score\"] > 90");
	TRUE("metadata[\"a.b\"] == \"dotted key\"");
	FALSE("defined(metadata.a.b)");          /* a nested b in a, which there is not */
	TRUE("metadata[\"card \\\"x\\\"\"][\"issuer country\"] == \"GH\"");
	TRUE("metadata.card[\"issuer\"][\"country\"] == \"NG\"");
	/* absent and null: comparisons false, their negations true, defined() false */
	FALSE("metadata.nothing == \"x\"");
	TRUE("metadata.nothing != \"x\"");
	FALSE("metadata.nothing > 0");
	FALSE("metadata.nothing <= 0");
	FALSE("metadata.nothing in (\"a\")");
	TRUE("metadata.nothing not in (\"a\")");
	FALSE("defined(metadata.nothing)");
	FALSE("defined(metadata.note)");
	/* empty text (an empty cell) is absent, as for the canonical fields */
	FALSE("defined(metadata.empty)");
	FALSE("metadata.empty == \"\"");
	TRUE("defined(metadata.mcc_desc)");
	/* two metadata values: text with ==, numbers with < ("412345" < "87.5" as text, not as
	 * numbers) */
	TRUE("metadata.score < metadata.bin");
	FALSE("metadata.score == metadata.bin");
	TRUE("metadata.card.bin == metadata.card.bin");
	/* no metadata, or metadata that is not an object: every field undefined */
	t.metadata = NULL;
	t.metadata_len = 0;
	FALSE("defined(metadata.mcc_desc)");
	TRUE("metadata.mcc_desc != \"Online Gambling\"");
	t.metadata = "[1,2]";
	t.metadata_len = 5;
	FALSE("defined(metadata.mcc_desc)");
	t.metadata = "{bad";
	t.metadata_len = 4;
	FALSE("defined(metadata.mcc_desc)");
	free(f);
}

static void test_text_functions(void **state)
{
	struct fd_txn t;
	double *f = feat_nan();

	(void)state;
	txn_init(&t);
	t.metadata = META;
	t.metadata_len = sizeof(META) - 1;
	t.merchant_id = "ACME Online Store";
	t.channel = "online";
	/* contains, starts_with, ends_with: exact bytes, case matters */
	TRUE("contains(merchant_id, \"Online\")");
	FALSE("contains(merchant_id, \"online\")");
	TRUE("contains(lower(merchant_id), \"online\")");
	TRUE("contains(merchant_id, \"\")");
	FALSE("contains(merchant_id, \"Store!\")");
	TRUE("starts_with(merchant_id, \"ACME\")");
	FALSE("starts_with(merchant_id, \"Store\")");
	TRUE("ends_with(merchant_id, \"Store\")");
	FALSE("ends_with(merchant_id, \"ACME\")");
	FALSE("ends_with(\"ab\", \"xab\")");      /* longer than the text */
	TRUE("starts_with(metadata.bin, \"4\")");
	TRUE("ends_with(lower(metadata.email), \"@example.com\")");
	/* lower and upper: ASCII letters only, the rest as is */
	TRUE("lower(metadata.email) == \"jo.doe@example.com\"");
	TRUE("upper(channel) == \"ONLINE\"");
	TRUE("upper(metadata.name) == \"ZOë\"");
	TRUE("lower(\"A1-b\") == \"a1-b\"");
	TRUE("lower(metadata.mcc_desc) in (\"online gambling\", \"casino\")");
	/* length: characters of UTF-8 text ("Zoë" is 3 characters, 4 bytes) */
	TRUE("length(merchant_id) == 17");
	TRUE("length(metadata.name) == 3");
	FALSE("defined(length(metadata.empty))");
	TRUE("length(\"\") == 0");
	TRUE("length(metadata.attempts) == 1");   /* "3" */
	FALSE("defined(length(recipient_id))");
	/* regex: POSIX extended, unanchored unless anchored */
	TRUE("regex(merchant_id, \"Online\")");
	TRUE("regex(merchant_id, \"^ACME [A-Z][a-z]+ Store$\")");
	FALSE("regex(merchant_id, \"^Online\")");
	TRUE("regex(metadata.bin, \"^4[0-9]{5}$\")");
	FALSE("regex(metadata.bin, \"^5[1-5]\")");
	TRUE("regex(lower(metadata.email), \"@example\\\\.com$\")");
	FALSE("regex(metadata.email, \"@example\\\\.com$\")");
	TRUE("regex(metadata.card.issuer.country, \"^(NG|GH)$\")");
	/* undefined text: every function false or undefined, their negations true */
	FALSE("contains(recipient_id, \"\")");
	FALSE("starts_with(recipient_id, \"\")");
	FALSE("regex(recipient_id, \".*\")");
	TRUE("not regex(recipient_id, \".*\")");
	FALSE("defined(lower(recipient_id))");
	FALSE("lower(metadata.nothing) == \"\"");
	FALSE("contains(metadata.note, \"x\")");
	free(f);
}

static void test_text_functions_reasons(void **state)
{
	struct fd_txn t;
	double *f = feat_nan();

	(void)state;
	txn_init(&t);
	t.metadata = META;
	t.metadata_len = sizeof(META) - 1;
	REASON("{metadata.mcc_desc} at {upper(metadata.card.issuer.country)}", "Online Gambling at NG");
	REASON("{metadata.score:.0f} over {metadata.attempts} tries, {metadata.ratio}", "88 over 3 tries, 0.25");
	REASON("{length(metadata.name)} {lower(metadata.email)} {metadata.nothing} {metadata.vip}",
	       "3 jo.doe@example.com n/a true");
	REASON("{metadata.card.issuer}", "{\"country\":\"NG\"}");
	REASON("{contains(metadata.mcc_desc, \\\"Gambling\\\")}", "true");
	free(f);
}

/* The function table, written out by hand from fd-rules(5): each name with a wrong number of
 * arguments, and an unknown name with nothing close, whose message lists them all. */
static void test_errors_function_table(void **state)
{
	static const struct { const char *call, *msg; } c[] = {
		{ "defined(channel, channel)", "'defined' takes 1 argument, not 2" },
		{ "abs(amount, amount)", "'abs' takes 1 argument, not 2" },
		{ "min(amount, amount, amount)", "'min' takes 2 arguments, not 3" },
		{ "max(amount)", "'max' takes 2 arguments, not 1" },
		{ "contains(channel, channel, channel)", "'contains' takes 2 arguments, not 3" },
		{ "starts_with()", "'starts_with' takes 2 arguments, not 0" },
		{ "ends_with(channel)", "'ends_with' takes 2 arguments, not 1" },
		{ "lower()", "'lower' takes 1 argument, not 0" },
		{ "upper(channel, channel)", "'upper' takes 1 argument, not 2" },
		{ "regex(channel)", "'regex' takes 2 arguments, not 1" },
		{ "length(channel, channel)", "'length' takes 1 argument, not 2" },
		{ "frobnicate(amount)", "unknown function 'frobnicate' (defined, abs, min, max, contains, "
					"starts_with, ends_with, lower, upper, regex, length)" },
		{ "mx(amount, 1)", "unknown function 'mx' (did you mean 'max'?)" },
	};
	char text[256], msg[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		/* "  when 1 == 1 or CALL": the call at column 18 */
		snprintf(text, sizeof(text), RULE_HEAD "  when 1 == 1 or %s\n" TAIL, c[i].call);
		snprintf(msg, sizeof(msg), "t.rules:2:18: %s", c[i].msg);
		ERR(text, msg);
	}
}

static void test_errors_functions(void **state)
{
	(void)state;
	/* "  when contains(merchant_id) > 1": 'contains' at 8 */
	ERR(RULE_HEAD "  when contains(merchant_id)\n" TAIL, "t.rules:2:8: 'contains' takes 2 arguments, not 1");
	ERR(RULE_HEAD "  when lower(channel, \"a\") == \"x\"\n" TAIL, "t.rules:2:8: 'lower' takes 1 argument, not 2");
	ERR(RULE_HEAD "  when length() > 1\n" TAIL, "t.rules:2:8: 'length' takes 1 argument, not 0");
	/* "  when contains(channel, amount)": amount at 26 */
	ERR(RULE_HEAD "  when contains(channel, amount)\n" TAIL, "t.rules:2:26: 'contains' takes text, not a number");
	/* "  when starts_with(amount > 1, \"a\")": the condition starts at 20 */
	ERR(RULE_HEAD "  when starts_with(amount > 1, \"a\")\n" TAIL,
	    "t.rules:2:20: 'starts_with' takes text, not a condition");
	/* "  when lower(channel) > 2": text compared with a number, at the '>' (23) */
	ERR(RULE_HEAD "  when lower(channel) > 2\n" TAIL, "t.rules:2:23: '>' cannot compare text with a number");
	/* "  when length(channel) == \"x\"" at the '==' (24) */
	ERR(RULE_HEAD "  when length(channel) == \"x\"\n" TAIL, "t.rules:2:24: '==' cannot compare a number with text");
	ERR(RULE_HEAD "  when upper(channel)\n" TAIL,
	    "t.rules:2:8: 'when' needs a condition, not text (compare it with something)");
	ERR(RULE_HEAD "  when lenght(channel) > 1\n" TAIL,
	    "t.rules:2:8: unknown function 'lenght' (did you mean 'length'?)");
	/* regex: the pattern a string constant, checked at load at its place: the quote at 23 */
	ERR(RULE_HEAD "  when regex(channel, \"(ab\")\n" TAIL,
	    "t.rules:2:23: bad regular expression '(ab': Unmatched ( or \\(");
	ERR(RULE_HEAD "  when regex(channel, \"[a-\")\n" TAIL,
	    "t.rules:2:23: bad regular expression '[a-': Unmatched [, [^, [:, [., or [=");
	/* "  when regex(channel, channel)": the second channel at 23 */
	ERR(RULE_HEAD "  when regex(channel, channel)\n" TAIL,
	    "t.rules:2:23: 'regex' takes its pattern as a string in double quotes");
	ERR(RULE_HEAD "  when regex(amount, \"1\")\n" TAIL, "t.rules:2:14: 'regex' takes text, not a number");
	/* metadata: a name is needed; a metadata value is not a condition */
	ERR(RULE_HEAD "  when metadata == \"x\"\n" TAIL,
	    "t.rules:2:8: 'metadata' needs a field name: metadata.NAME, metadata.a.b or metadata[\"any name\"]");
	/* "  when metadata[x] == 1": x at 17; "  when metadata[\"x\" == 1": '==' at 21 */
	ERR(RULE_HEAD "  when metadata[x] == 1\n" TAIL, "t.rules:2:17: expected a key in double quotes after '['");
	ERR(RULE_HEAD "  when metadata[\"x\" == 1\n" TAIL, "t.rules:2:21: expected ']' after the key");
	ERR(RULE_HEAD "  when metadata[\"x\"\n" TAIL, "t.rules:2:20: expected ']' after the key");
	/* a dot in a rule id */
	ERR("rule a.b\n", "t.rules:1:6: bad rule id 'a.b' (letters, digits and _, not starting with a digit)");
	ERR(RULE_HEAD "  when metadata.vip\n" TAIL,
	    "t.rules:2:8: 'when' needs a condition, not a metadata value (compare it with something)");
	/* "  when metadata.a and true": 'and' at 19 */
	ERR(RULE_HEAD "  when metadata.a and true\n" TAIL,
	    "t.rules:2:19: 'and' needs a condition on each side, not a metadata value");
	ERR(RULE_HEAD "  when metadata.a == true\n" TAIL,
	    "t.rules:2:19: '==' cannot compare a metadata value with a condition");
	/* a dotted name that is not metadata's */
	ERR(RULE_HEAD "  when card.bin == \"x\"\n" TAIL, "t.rules:2:8: unknown feature 'card.bin'");
	/* "  when metadata.a in (1, \"x\")": "x" at 26 */
	ERR(RULE_HEAD "  when metadata.a in (1, \"x\")\n" TAIL, "t.rules:2:26: expected a number in the list, not '\"x\"'");
}

static void test_named_lists(void **state)
{
	struct fd_named_lists *nl = fd_named_lists_create();
	struct fd_rules_opts o = { .list_dir = NULL };
	struct fd_rules *r = NULL;
	struct fd_err err = { 0, "" };
	struct fd_txn t;
	const char *text = "rule a\n  when merchant_id in list vip or metadata.mcc in list mccs\n" TAIL
			   "rule b\n  when metadata.attempts in list counts\n" TAIL
			   "rule c\n  when merchant_id not in list empty\n" TAIL;
	static const char *bad = "rule a\n  when merchant_id in list nope\n" TAIL;
	static const char *numbad = "rule a\n  when amount in list vip\n" TAIL;
	static const char *noname = "rule a\n  when merchant_id in list\n" TAIL;

	(void)state;
	assert_non_null(nl);
	assert_int_equal(fd_named_lists_add(nl, "vip", "M1", 2), FD_OK);
	assert_int_equal(fd_named_lists_add(nl, "vip", "M2", 2), FD_OK);
	assert_int_equal(fd_named_lists_add(nl, "mccs", "7995", 4), FD_OK);
	assert_int_equal(fd_named_lists_add(nl, "counts", "3", 1), FD_OK);
	assert_int_equal(fd_named_lists_add(nl, "counts", "4.0", 3), FD_OK);
	assert_int_equal(fd_named_lists_add(nl, "empty", NULL, 0), FD_OK);
	o.lists = nl;
	assert_int_equal(fd_rules_parse_opts(&r, text, strlen(text), "t.rules", tmpdir, &o, &err), FD_OK);
	txn_init(&t);
	t.merchant_id = "M2";
	assert_int_equal(fd_rules_eval_one(r, 0, &t, NULL), 1);
	assert_int_equal(fd_rules_eval_one(r, 2, &t, NULL), 1);   /* not in the empty list */
	t.merchant_id = "M3";
	assert_int_equal(fd_rules_eval_one(r, 0, &t, NULL), 0);
	t.metadata = "{\"mcc\":\"7995\",\"attempts\":4}";
	t.metadata_len = strlen(t.metadata);
	assert_int_equal(fd_rules_eval_one(r, 0, &t, NULL), 1);
	/* a metadata value is compared with a named list as text: 4 is "4", not "4.0" */
	assert_int_equal(fd_rules_eval_one(r, 1, &t, NULL), 0);
	t.metadata = "{\"attempts\":\"3\"}";
	t.metadata_len = strlen(t.metadata);
	assert_int_equal(fd_rules_eval_one(r, 1, &t, NULL), 1);
	fd_rules_free(r);
	/* the lists were copied: freeing them does not matter to a loaded set */
	/* errors: an unknown name, a list of text compared with a number, no name; columns:
	 * "  when merchant_id in list nope" nope at 28; "  when amount in list vip" vip at 23 */
	assert_int_equal(fd_rules_parse_opts(&r, bad, strlen(bad), "t.rules", tmpdir, &o, &err), FD_EINPUT);
	assert_string_equal(err.msg, "t.rules:2:28: unknown list 'nope' (fd-rules list show names the store's lists)");
	assert_int_equal(fd_rules_parse_opts(&r, numbad, strlen(numbad), "t.rules", tmpdir, &o, &err), FD_EINPUT);
	assert_string_equal(err.msg, "t.rules:2:23: list 'vip' holds 'M1', not a number, and is compared with a number");
	assert_int_equal(fd_rules_parse_opts(&r, noname, strlen(noname), "t.rules", tmpdir, &o, &err), FD_EINPUT);
	assert_string_equal(err.msg, "t.rules:2:27: expected the name of a list after 'list'");
	/* no named lists at all */
	assert_int_equal(fd_rules_parse(&r, bad, strlen(bad), "t.rules", tmpdir, &err), FD_EINPUT);
	assert_string_equal(err.msg, "t.rules:2:28: unknown list 'nope': named lists are kept in a store, and none was given");
	assert_null(r);
	fd_named_lists_free(nl);
	fd_named_lists_free(NULL);
}

/* A copy of a rules file elsewhere: its relative list files beside it first, then in the
 * bundled directory (o.list_dir). */
static void test_list_dir(void **state)
{
	char sub[128], rules[192], own[192];
	struct fd_rules_opts o = { .list_dir = NULL };
	struct fd_rules *r = NULL;
	struct fd_err err = { 0, "" };
	struct fd_txn t;
	FILE *fp;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/copy", tmpdir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(rules, sizeof(rules), "%s/my.rules", sub);
	fp = fopen(rules, "w");
	assert_non_null(fp);
	fputs("rule a\n  when merchant_id in @list.txt\n" TAIL "rule b\n  when merchant_id in @own.txt\n" TAIL, fp);
	assert_int_equal(fclose(fp), 0);
	snprintf(own, sizeof(own), "%s/own.txt", sub);
	fp = fopen(own, "w");
	assert_non_null(fp);
	fputs("M9\n", fp);
	assert_int_equal(fclose(fp), 0);
	/* without the bundled directory: list.txt is not beside the copy */
	assert_int_equal(fd_rules_load(&r, rules, &err), FD_EIO);
	{
		char want[512];

		snprintf(want, sizeof(want), "%s:2:23: cannot read list '%s/list.txt': No such file or directory",
			 rules, sub);
		assert_string_equal(err.msg, want);
	}
	/* with it, list.txt comes from there, own.txt from beside the copy */
	o.list_dir = tmpdir;
	assert_int_equal(fd_rules_load_opts(&r, rules, &o, &err), FD_OK);
	txn_init(&t);
	t.merchant_id = "M5";
	assert_int_equal(fd_rules_eval_one(r, 0, &t, NULL), 1);
	t.merchant_id = "M9";
	assert_int_equal(fd_rules_eval_one(r, 1, &t, NULL), 1);
	assert_int_equal(fd_rules_eval_one(r, 0, &t, NULL), 0);
	fd_rules_free(r);
	/* a list beside the copy wins over the bundled one */
	fp = fopen(own, "w");
	assert_non_null(fp);
	fputs("M9\n", fp);
	assert_int_equal(fclose(fp), 0);
	snprintf(own, sizeof(own), "%s/list.txt", sub);
	fp = fopen(own, "w");
	assert_non_null(fp);
	fputs("M9\n", fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(fd_rules_load_opts(&r, rules, &o, &err), FD_OK);
	assert_int_equal(fd_rules_eval_one(r, 0, &t, NULL), 1);   /* M9 */
	t.merchant_id = "M5";
	assert_int_equal(fd_rules_eval_one(r, 0, &t, NULL), 0);
	fd_rules_free(r);
	/* in neither place: both named */
	assert_int_equal(unlink(own), 0);
	o.list_dir = sub;
	assert_int_equal(fd_rules_load_opts(&r, rules, &o, &err), FD_EIO);
	{
		char want[1024];

		snprintf(want, sizeof(want),
			 "%s:2:23: cannot read list '%s/list.txt': No such file or directory (nor '%s/list.txt')",
			 rules, sub, sub);
		assert_string_equal(err.msg, want);
	}
}

/* fd_rules_load_sha: the SHA-256 of the file's bytes, from python3's hashlib.sha256; the
 * messages of a file that cannot be opened name it "rules". */
static void test_load_sha(void **state)
{
	char path[256], sha[65];
	struct fd_rules *r = NULL;
	struct fd_err err = { 0, "" };

	(void)state;
	write_file("sha.rules", "rule a\n  when amount > 1\n  points 1\n  action review\n");
	snprintf(path, sizeof(path), "%s/sha.rules", tmpdir);
	assert_int_equal(fd_rules_load_sha(&r, path, NULL, sha, &err), FD_OK);
	assert_string_equal(sha, "ba4d42847715a4e1c911714a7d0fd26b12d66de386350cfc068dc27fc71e7e2e");
	assert_int_equal(fd_rules_count(r), 1);
	fd_rules_free(r);
	snprintf(path, sizeof(path), "%s/none.rules", tmpdir);
	assert_int_equal(fd_rules_load_sha(&r, path, NULL, sha, &err), FD_EIO);
	assert_null(r);
	{
		char want[400];

		snprintf(want, sizeof(want), "cannot open rules '%s': No such file or directory", path);
		assert_string_equal(err.msg, want);
		assert_int_equal(fd_rules_load_opts(&r, path, NULL, &err), FD_EIO);
		snprintf(want, sizeof(want), "cannot open '%s': No such file or directory", path);
		assert_string_equal(err.msg, want);
	}
	/* a directory opens but cannot be read */
	assert_int_equal(fd_rules_load_sha(&r, tmpdir, NULL, sha, &err), FD_EIO);
	{
		char want[400];

		snprintf(want, sizeof(want), "cannot read rules '%s': Is a directory", tmpdir);
		assert_string_equal(err.msg, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors_names),
		cmocka_unit_test(test_errors_syntax),
		cmocka_unit_test(test_errors_types),
		cmocka_unit_test(test_errors_attributes),
		cmocka_unit_test(test_errors_reason),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_truth_tables),
		cmocka_unit_test(test_in_lists),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_reason_defaults_and_append),
		cmocka_unit_test(test_accessors_and_hits),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_default_rules),
		cmocka_unit_test(test_default_rules_with_features),
		cmocka_unit_test(test_man_examples),
		cmocka_unit_test(test_metadata),
		cmocka_unit_test(test_text_functions),
		cmocka_unit_test(test_text_functions_reasons),
		cmocka_unit_test(test_errors_functions),
		cmocka_unit_test(test_errors_function_table),
		cmocka_unit_test(test_load_sha),
		cmocka_unit_test(test_named_lists),
		cmocka_unit_test(test_list_dir),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
