/*
 * fd_rules.c — rules files: lexer, recursive-descent compiler to typed node arrays, evaluator,
 * reason templates.  See fd_rules.h for the contract and fd-rules.5 for the language.
 *
 * Why the shape:
 *  - The file is tokenized once, whole, with each token's line, column and (for the first
 *    token of a line) the line's indentation.  A statement is its keyword plus every following
 *    token up to the next line indented no deeper than the keyword, which is what makes
 *    continuation lines work without any continuation character.
 *  - Expressions are typed at compile time (number, text, condition), so evaluation is a plain
 *    walk over an array of nodes with no type tests, no allocation and no error path.  All
 *    rules share one node array; the set is read-only after loading (thread-safe evaluation).
 *  - Strings (ids, constants, descriptions, templates) live in one arena (an fd_buf) and are
 *    referred to by offset while loading, because the arena moves as it grows.
 *  - Reason templates are compiled by the same expression compiler, placeholder by placeholder,
 *    with a column map so that an error inside "{...}" points at its place in the file.
 */
#include "fd_rules.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd_features.h"
#include "fd_intern.h"
#include "fd_io.h"
#include "banned.h"

#define MAX_DEPTH 64      /* nesting of parentheses, not, unary minus: bounds the parser's stack */
#define MAX_HEIGHT 256    /* height of an expression tree: bounds the evaluator's stack (a long
			     chain "a or b or c ..." is as tall as it is long) */
#define MAX_NAME 128      /* bytes of an identifier */

/* ---- the compiled form ------------------------------------------------------------------- */

/* TY_ANY: a metadata value before its use decides whether it is read as a number or as text
 * (coerce() turns it into one or the other; nothing of type TY_ANY is left after compiling). */
enum ty { TY_NUM = 1, TY_STR, TY_BOOL, TY_ANY };

enum op {
	/* numbers */
	N_CONST, N_FEAT, N_AMOUNT, N_LAT, N_LON, N_NEG, N_ADD, N_SUB, N_MUL, N_DIV, N_ABS, N_MIN,
	N_MAX, N_META, N_LENGTH,
	/* text */
	S_CONST, S_FIELD, S_META, S_LOWER, S_UPPER,
	/* conditions */
	B_CONST, B_LT, B_LE, B_GT, B_GE, B_EQ, B_NE, B_SEQ, B_SNE, B_IN_NUM, B_NIN_NUM, B_IN_STR,
	B_NIN_STR, B_BETWEEN, B_AND, B_OR, B_NOT, B_DEF_NUM, B_DEF_STR, B_CONTAINS, B_STARTS,
	B_ENDS, B_REGEX,
	/* a metadata value not yet typed (TY_ANY) */
	M_META,
};

struct node {
	uint8_t op, type;
	uint16_t height;          /* 1 + the tallest operand's */
	int32_t a, b, c;          /* operands (node indices), -1 when unused */
	union {
		double num;           /* N_CONST, B_CONST (0/1) */
		int32_t feat;         /* N_FEAT: catalog index */
		int32_t field;        /* S_FIELD: enum fd_field */
		int32_t list;         /* B_*IN_*: index into lists */
		int32_t re;           /* B_REGEX: index into regexes */
		struct { uint32_t off, len; } str;  /* S_CONST; N_META, S_META, M_META: the keys
						       of the path, each ended by a NUL (len:
						       their bytes with the NULs); in the arena */
	} u;
};

struct list {
	char *path;               /* resolved path of a list file; NULL for an inline list */
	char *name;               /* name of a named list (`in list NAME`), else NULL */
	int type;                 /* TY_NUM or TY_STR */
	struct fd_intern *set;    /* TY_STR */
	double *nums;             /* TY_NUM */
	size_t n, cap;
};

/* One piece of a reason template: literal text, or an expression with its format. */
struct seg {
	int32_t root;             /* -1 for literal text */
	uint32_t off, len;        /* literal text in the arena */
	int decimals;             /* -1 = default formatting */
	int amount;               /* the placeholder is `amount` without format */
};

struct rule {
	uint32_t id, desc, expr, tmpl;  /* arena offsets of NUL-terminated strings */
	int points, action;
	int32_t root;
	uint32_t seg0, nseg;
	long line, col;
	int have;                 /* attributes seen (bits) */
};

struct fd_rules {
	struct rule *rules;
	size_t nrules, caprules;
	struct node *nodes;
	size_t nnodes, capnodes;
	struct seg *segs;
	size_t nsegs, capsegs;
	struct list *lists;
	size_t nlists, caplists;
	struct fd_buf arena;
	struct fd_intern *ids;    /* rule ids: intern id == rule index */
	int *feat;
	size_t nfeat;
	regex_t *res;             /* compiled patterns of regex(), each distinct one once */
	uint32_t *re_src;         /* arena offset of each pattern's text */
	size_t nres, capres, capre_src;
	int meta;                 /* some node reads the metadata */
};

/* Named lists handed to the compiler (fd_rules.h). */
struct fd_named_lists {
	struct fd_intern *names;  /* intern id == index into sets */
	struct fd_intern **sets;  /* sets[0 .. nsets-1]; NULL after an allocation failed */
	size_t nsets, cap;
};

/* ---- small helpers ----------------------------------------------------------------------- */

static int grow(void *pp, size_t *cap, size_t need, size_t size)
{
	void **p = pp;
	size_t c = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need) {
		if (c > SIZE_MAX / 2 / size)
			return -1;
		c *= 2;
	}
	q = realloc(*p, c * size);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

static const char *arena_str(const struct fd_rules *r, uint32_t off)
{
	return r->arena.s + off;
}

static const double pow10_tab[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
	1e16, 1e17, 1e18,
};

/* Amount in major units.  A division (not a multiplication by 0.01) so that 999999 cents is
 * exactly the double nearest to 9999.99, the same as the literal 9999.99. */
static double amount_major(const struct fd_txn *t)
{
	if (t->exponent >= 0 && t->exponent <= 18)
		return (double)t->amount / pow10_tab[t->exponent];
	return (double)t->amount / pow(10.0, t->exponent);
}

/* ---- names ------------------------------------------------------------------------------- */

static const struct txn_name {
	const char *name;
	int op;          /* S_FIELD, N_AMOUNT, N_LAT, N_LON */
	int field;
} txn_names[] = {
	{ "txn_id", S_FIELD, FD_F_TXN_ID },
	{ "amount", N_AMOUNT, FD_F_AMOUNT },
	{ "currency", S_FIELD, FD_F_CURRENCY },
	{ "sender_id", S_FIELD, FD_F_SENDER_ID },
	{ "recipient_id", S_FIELD, FD_F_RECIPIENT_ID },
	{ "merchant_id", S_FIELD, FD_F_MERCHANT_ID },
	{ "merchant_category", S_FIELD, FD_F_MERCHANT_CATEGORY },
	{ "channel", S_FIELD, FD_F_CHANNEL },
	{ "device_id", S_FIELD, FD_F_DEVICE_ID },
	{ "ip", S_FIELD, FD_F_IP },
	{ "lat", N_LAT, FD_F_LAT },
	{ "lon", N_LON, FD_F_LON },
	{ "country", S_FIELD, FD_F_COUNTRY },
	{ "city", S_FIELD, FD_F_CITY },
};

static const char *const attr_words[] = { "rule", "description", "when", "points", "action",
					  "reason" };
/*
 * Functions: the one table of them.  The compiler (parse_call) finds a call's name here, checks
 * the number and the type of its arguments, and compiles it to the node op, which the
 * evaluator knows; the messages for an unknown name or a wrong number of arguments are made
 * from it.  defined() takes a number or text (its op is B_DEF_NUM, B_DEF_STR for text);
 * regex() compiles its pattern, a text constant, once (add_regex).
 */
enum { FA_ANY, FA_NUM, FA_STR };  /* what a function's arguments must be */
static const struct func {
	const char *name;
	int arity;
	int op;         /* enum op */
	int args;       /* FA_* */
	int type;       /* enum ty of the result */
} funcs[] = {
	{ "defined", 1, B_DEF_NUM, FA_ANY, TY_BOOL },
	{ "abs", 1, N_ABS, FA_NUM, TY_NUM },
	{ "min", 2, N_MIN, FA_NUM, TY_NUM },
	{ "max", 2, N_MAX, FA_NUM, TY_NUM },
	{ "contains", 2, B_CONTAINS, FA_STR, TY_BOOL },
	{ "starts_with", 2, B_STARTS, FA_STR, TY_BOOL },
	{ "ends_with", 2, B_ENDS, FA_STR, TY_BOOL },
	{ "lower", 1, S_LOWER, FA_STR, TY_STR },
	{ "upper", 1, S_UPPER, FA_STR, TY_STR },
	{ "regex", 2, B_REGEX, FA_STR, TY_BOOL },
	{ "length", 1, N_LENGTH, FA_STR, TY_NUM },
};
#define NFUNCS (sizeof(funcs) / sizeof(funcs[0]))

/* Edit distance (Levenshtein) of a (n bytes) and the string b, capped at 99. */
static int edit_distance(const char *a, size_t n, const char *b)
{
	int row[MAX_NAME + 1], i, j;
	size_t m = strlen(b);

	if (n > MAX_NAME || m > MAX_NAME)
		return 99;
	for (j = 0; j <= (int)n; j++)
		row[j] = j;
	for (i = 1; i <= (int)m; i++) {
		int diag = row[0];

		row[0] = i;
		for (j = 1; j <= (int)n; j++) {
			int up = row[j], best = diag + (a[j - 1] != b[i - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[n] > 99 ? 99 : row[n];
}

struct suggest {
	const char *best;
	int dist;
};

static void suggest_try(struct suggest *sg, const char *s, size_t n, const char *cand)
{
	int d = edit_distance(s, n, cand);

	if (d < sg->dist) {
		sg->dist = d;
		sg->best = cand;
	}
}

/* The suggestion, or NULL when nothing is close enough to be a likely typo. */
static const char *suggest_pick(const struct suggest *sg, size_t n)
{
	if (!sg->best || sg->dist == 0)
		return NULL;
	return sg->dist <= 2 || (size_t)sg->dist * 3 <= n ? sg->best : NULL;
}

/* ---- tokens ------------------------------------------------------------------------------ */

enum tt {
	T_IDENT = 1, T_NUM, T_STR, T_LIST, T_LP, T_RP, T_COMMA, T_PLUS, T_MINUS, T_STAR, T_SLASH,
	T_LT, T_LE, T_GT, T_GE, T_EQ, T_NE, T_BANG, T_ANDAND, T_OROR, T_LB, T_RB,
};

struct tok {
	uint8_t type, bol;        /* bol: first token of its line */
	int indent;               /* of its line, when bol (tabs to multiples of 8) */
	long line, col;
	uint32_t off, len;        /* source text */
	uint32_t val, vlen;       /* T_STR, T_LIST: unescaped value in the arena */
	double num;               /* T_NUM */
};

struct lexer {
	const char *s;
	size_t n, i;
	long line;
	size_t line_off;          /* offset of the current line's first byte */
	const long *colmap;       /* template mode: column of each byte of s */
};

struct parser {
	struct fd_rules *r;
	struct fd_err *err;
	const char *name;         /* file name for messages */
	const char *dir;          /* for list files; NULL = refused */
	const char *list_dir;     /* second place for relative list files, or NULL */
	const struct fd_named_lists *named;  /* for `in list NAME`, or NULL */
	const struct fd_rules_opts *o;       /* o->get_lists, called once, when named is NULL */
	int asked;
	const char *src;          /* text the current tokens point into */
	struct tok *toks;
	size_t ntok, captok;
	size_t pos, end;          /* tokens of the current statement / placeholder */
	long end_line, end_col;   /* where "end of expression" errors point */
	int depth;
};

static long lx_col(const struct lexer *lx, size_t off)
{
	return lx->colmap ? lx->colmap[off] : (long)(off - lx->line_off) + 1;
}

static int __attribute__((format(printf, 5, 0)))
perrv(struct parser *p, int code, long line, long col, const char *fmt, va_list ap)
{
	char msg[768];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return fd_err_set(p->err, code, "%s:%ld:%ld: %s", p->name, line, col, msg);
}

static int __attribute__((format(printf, 4, 5)))
perr(struct parser *p, long line, long col, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = perrv(p, FD_EINPUT, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

static int oom(struct parser *p)
{
	return fd_err_set(p->err, FD_EIO, "%s: out of memory", p->name);
}

/* Source text of a token, made visible for a message. */
static const char *tok_text(const struct parser *p, const struct tok *t, char *buf, size_t sz)
{
	return fd_visible(buf, sz, p->src + t->off, t->len);
}

static int is_ident_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_ident_char(int c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_path_char(int c)
{
	return is_ident_char(c) || c == '.' || c == '/' || c == '-' || c == '+';
}

static int add_tok(struct parser *p, struct tok **t)
{
	if (grow(&p->toks, &p->captok, p->ntok + 1, sizeof(*p->toks)))
		return oom(p);
	*t = &p->toks[p->ntok++];
	memset(*t, 0, sizeof(**t));
	return FD_OK;
}

/* Lex a double-quoted string starting at lx->i (the quote) into the arena. */
static int lex_string(struct parser *p, struct lexer *lx, struct tok *t)
{
	size_t start = lx->i, i = lx->i + 1;
	struct fd_buf *a = &p->r->arena;
	size_t val = a->len;

	for (;;) {
		char c;

		if (i >= lx->n || lx->s[i] == '\n')
			return perr(p, lx->line, lx_col(lx, start), "unterminated string");
		c = lx->s[i];
		if (c == '"')
			break;
		if (c == '\\') {
			char e = i + 1 < lx->n ? lx->s[i + 1] : '\0';

			switch (e) {
			case '"': c = '"'; break;
			case '\\': c = '\\'; break;
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			default: {
				char vis[16];

				return perr(p, lx->line, lx_col(lx, i), "unknown escape '\\%s' (use \\\", \\\\, \\n or \\t)",
					    fd_visible(vis, sizeof(vis), &e, i + 1 < lx->n && e != '\n' ? 1 : 0));
			}
			}
			i++;
		}
		if (fd_buf_addc(a, c))
			return oom(p);
		i++;
	}
	if (fd_buf_addc(a, '\0'))
		return oom(p);
	if (a->len > UINT32_MAX)
		return oom(p);
	t->val = (uint32_t)val;
	t->vlen = (uint32_t)(a->len - 1 - val);
	lx->i = i + 1;
	(void)start;
	return FD_OK;
}

/* Lex one token at lx->i (not a blank). */
static int lex_one(struct parser *p, struct lexer *lx, int bol, int indent)
{
	const char *s = lx->s;
	size_t i = lx->i, n = lx->n;
	unsigned char c = (unsigned char)s[i];
	struct tok *t = NULL;
	int rc;

	if ((rc = add_tok(p, &t)))
		return rc;
	t->bol = (uint8_t)bol;
	t->indent = indent;
	t->line = lx->line;
	t->col = lx_col(lx, i);
	t->off = (uint32_t)i;

	if (is_ident_start(c)) {
		while (i < n && is_ident_char((unsigned char)s[i]))
			i++;
		/* a dotted name, for metadata.a.b */
		while (i + 1 < n && s[i] == '.' && is_ident_char((unsigned char)s[i + 1])) {
			i++;
			while (i < n && is_ident_char((unsigned char)s[i]))
				i++;
		}
		t->type = T_IDENT;
	} else if (is_digit(c) || (c == '.' && i + 1 < n && is_digit((unsigned char)s[i + 1]))) {
		char buf[64], *endp;
		size_t j;
		int bad = 0;

		while (i < n && is_digit((unsigned char)s[i]))
			i++;
		if (i + 1 < n && s[i] == '.' && is_digit((unsigned char)s[i + 1])) {
			i++;
			while (i < n && is_digit((unsigned char)s[i]))
				i++;
		}
		if (i < n && (s[i] == 'e' || s[i] == 'E')) {
			j = i + 1;
			if (j < n && (s[j] == '+' || s[j] == '-'))
				j++;
			if (j < n && is_digit((unsigned char)s[j])) {
				i = j;
				while (i < n && is_digit((unsigned char)s[i]))
					i++;
			} else {
				bad = 1;
				i = j;
			}
		}
		if (bad || (i < n && (is_ident_char((unsigned char)s[i]) || s[i] == '.'))) {
			char vis[64];

			while (i < n && (is_ident_char((unsigned char)s[i]) || s[i] == '.'))
				i++;
			return perr(p, t->line, t->col, "bad number '%s'",
				    fd_visible(vis, sizeof(vis), s + t->off, i - t->off));
		}
		if (i - t->off >= sizeof(buf))
			return perr(p, t->line, t->col, "number too long");
		memcpy(buf, s + t->off, i - t->off);
		buf[i - t->off] = '\0';
		t->num = strtod(buf, &endp);
		if (*endp || !isfinite(t->num))
			return perr(p, t->line, t->col, "number out of range '%s'", buf);
		t->type = T_NUM;
	} else if (c == '"') {
		if ((rc = lex_string(p, lx, t)))
			return rc;
		t->type = T_STR;
		i = lx->i;
	} else if (c == '@') {
		if (i + 1 < n && s[i + 1] == '"') {
			lx->i = i + 1;
			if ((rc = lex_string(p, lx, t)))
				return rc;
			i = lx->i;
		} else {
			size_t j = i + 1;
			struct fd_buf *a = &p->r->arena;

			while (j < n && is_path_char((unsigned char)s[j]))
				j++;
			if (j == i + 1)
				return perr(p, t->line, t->col, "expected a file name after '@'");
			t->val = (uint32_t)a->len;
			t->vlen = (uint32_t)(j - i - 1);
			if (fd_buf_add(a, s + i + 1, j - i - 1) || fd_buf_addc(a, '\0'))
				return oom(p);
			i = j;
		}
		if (t->vlen == 0)
			return perr(p, t->line, t->col, "expected a file name after '@'");
		t->type = T_LIST;
	} else {
		char d = i + 1 < n ? s[i + 1] : '\0';

		i++;
		switch (c) {
		case '(': t->type = T_LP; break;
		case ')': t->type = T_RP; break;
		case ',': t->type = T_COMMA; break;
		case '[': t->type = T_LB; break;
		case ']': t->type = T_RB; break;
		case '+': t->type = T_PLUS; break;
		case '-': t->type = T_MINUS; break;
		case '*': t->type = T_STAR; break;
		case '/': t->type = T_SLASH; break;
		case '<': t->type = d == '=' ? (i++, T_LE) : T_LT; break;
		case '>': t->type = d == '=' ? (i++, T_GE) : T_GT; break;
		case '!': t->type = d == '=' ? (i++, T_NE) : T_BANG; break;
		case '=':
			if (d != '=')
				return perr(p, t->line, t->col, "'=' is not an operator (write '==' to compare)");
			i++;
			t->type = T_EQ;
			break;
		case '&':
			if (d != '&')
				return perr(p, t->line, t->col, "unexpected character '&' (write 'and' or '&&')");
			i++;
			t->type = T_ANDAND;
			break;
		case '|':
			if (d != '|')
				return perr(p, t->line, t->col, "unexpected character '|' (write 'or' or '||')");
			i++;
			t->type = T_OROR;
			break;
		default: {
			char vis[16], ch = (char)c;

			return perr(p, t->line, t->col, "unexpected character '%s'",
				    fd_visible(vis, sizeof(vis), &ch, 1));
		}
		}
	}
	t->len = (uint32_t)(i - t->off);
	lx->i = i;
	return FD_OK;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Tokenize a whole rules file. */
static int lex_file(struct parser *p, const char *s, size_t n)
{
	struct lexer lx = { s, n, 0, 1, 0, NULL };
	int rc;

	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		lx.i = 3;
	if (n > UINT32_MAX)
		return perr(p, 1, 1, "file too large");
	while (lx.i < n) {
		int indent = 0, bol = 1;

		lx.line_off = lx.i;
		if (lx.line == 1 && lx.i == 3 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
			lx.line_off = 3;
		while (lx.i < n && (s[lx.i] == ' ' || s[lx.i] == '\t')) {
			indent = s[lx.i] == '\t' ? (indent / 8 + 1) * 8 : indent + 1;
			lx.i++;
		}
		for (;;) {
			while (lx.i < n && is_blank(s[lx.i]))
				lx.i++;
			if (lx.i >= n || s[lx.i] == '\n')
				break;
			if (s[lx.i] == '#') {
				while (lx.i < n && s[lx.i] != '\n')
					lx.i++;
				break;
			}
			if ((rc = lex_one(p, &lx, bol, indent)))
				return rc;
			bol = 0;
		}
		if (lx.i < n) {
			lx.i++;
			lx.line++;
		}
	}
	return FD_OK;
}

/* ---- expression compiler ----------------------------------------------------------------- */

static const struct tok *peek(const struct parser *p)
{
	return p->pos < p->end ? &p->toks[p->pos] : NULL;
}

static const struct tok *peek2(const struct parser *p)
{
	return p->pos + 1 < p->end ? &p->toks[p->pos + 1] : NULL;
}

static int tok_is_word(const struct parser *p, const struct tok *t, const char *w)
{
	size_t n = strlen(w);

	return t && t->type == T_IDENT && t->len == n && memcmp(p->src + t->off, w, n) == 0;
}

static int at_word(const struct parser *p, const char *w)
{
	return tok_is_word(p, peek(p), w);
}

static int at(const struct parser *p, int type)
{
	const struct tok *t = peek(p);

	return t && t->type == type;
}

static const char *const reserved_words[] = { "and", "or", "not", "in", "between" };

static int is_reserved(const struct parser *p, const struct tok *t)
{
	size_t k;

	for (k = 0; k < sizeof(reserved_words) / sizeof(*reserved_words); k++)
		if (tok_is_word(p, t, reserved_words[k]))
			return 1;
	return 0;
}

/* Error at the current token, or at the end of the expression. */
static int __attribute__((format(printf, 2, 3))) perr_here(struct parser *p, const char *fmt, ...)
{
	const struct tok *t = peek(p);
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = perrv(p, FD_EINPUT, t ? t->line : p->end_line, t ? t->col : p->end_col, fmt, ap);
	va_end(ap);
	return rc;
}

static int32_t add_node(struct parser *p, int op, int type, int32_t a, int32_t b, int32_t c)
{
	struct fd_rules *r = p->r;
	struct node *n;

	if (r->nnodes >= INT32_MAX || grow(&r->nodes, &r->capnodes, r->nnodes + 1, sizeof(*r->nodes))) {
		oom(p);
		return -1;
	}
	n = &r->nodes[r->nnodes];
	memset(n, 0, sizeof(*n));
	n->height = 1;
	if (a >= 0 && r->nodes[a].height >= n->height)
		n->height = r->nodes[a].height + 1;
	if (b >= 0 && r->nodes[b].height >= n->height)
		n->height = r->nodes[b].height + 1;
	if (c >= 0 && r->nodes[c].height >= n->height)
		n->height = r->nodes[c].height + 1;
	if (n->height > MAX_HEIGHT) {
		perr_here(p, "expression too long (more than %d operations deep; use a list for long "
			  "'or' chains)", MAX_HEIGHT);
		return -1;
	}
	n->op = (uint8_t)op;
	n->type = (uint8_t)type;
	n->a = a;
	n->b = b;
	n->c = c;
	return (int32_t)r->nnodes++;
}

static const char *type_name(int type)
{
	return type == TY_NUM ? "a number" : type == TY_STR ? "text" :
	       type == TY_ANY ? "a metadata value" : "a condition";
}

/* Read node i, when it is a metadata value not yet typed, as a number or as text (want);
 * any other node is returned as it is. */
static int32_t coerce(struct parser *p, int32_t i, int want)
{
	struct node *n;

	if (i < 0)
		return i;
	n = &p->r->nodes[i];
	if (n->type != TY_ANY || (want != TY_NUM && want != TY_STR))
		return i;
	n->op = want == TY_NUM ? N_META : S_META;
	n->type = (uint8_t)want;
	return i;
}

static int type_of(const struct parser *p, int32_t i)
{
	return p->r->nodes[i].type;
}

static int32_t parse_or(struct parser *p);

/* What the current token is, for "missing operand before X". */
static int32_t missing_operand(struct parser *p)
{
	const struct tok *t = peek(p);
	char vis[64];

	if (!t) {
		perr_here(p, "missing operand at end of expression");
		return -1;
	}
	perr_here(p, "missing operand before '%s'", tok_text(p, t, vis, sizeof(vis)));
	return -1;
}

/*
 * metadata.a.b, metadata["any key"], or both (metadata.card["issuer country"]): a path of
 * keys, stored in the arena each followed by a NUL.  name is t's text.
 */
static int32_t parse_metadata(struct parser *p, const struct tok *t, const char *name)
{
	struct fd_buf path = FD_BUF_INIT, *a = &p->r->arena;
	size_t k, off, n = strlen(name);
	int32_t i = -1;

	for (k = 9; k <= n && n > 8; k++)      /* the dotted keys: '.' becomes the NUL */
		if (fd_buf_addc(&path, k == n || name[k] == '.' ? '\0' : name[k]))
			goto nomem;
	while (at(p, T_LB)) {
		const struct tok *key = peek2(p), *close;

		p->pos++;
		if (!key || key->type != T_STR) {
			perr_here(p, "expected a key in double quotes after '['");
			goto out;
		}
		if (memchr(arena_str(p->r, key->val), '\0', key->vlen)) {
			perr(p, key->line, key->col, "a metadata key cannot hold a NUL byte");
			goto out;
		}
		p->pos++;
		close = peek(p);
		if (!close || close->type != T_RB) {
			perr_here(p, "expected ']' after the key");
			goto out;
		}
		p->pos++;
		if (fd_buf_add(&path, arena_str(p->r, key->val), key->vlen) || fd_buf_addc(&path, '\0'))
			goto nomem;
	}
	if (path.len == 0) {
		perr(p, t->line, t->col, "'metadata' needs a field name: metadata.NAME, metadata.a.b or metadata[\"any name\"]");
		goto out;
	}
	off = a->len;
	if (fd_buf_add(a, path.s, path.len) || fd_buf_addc(a, '\0') || a->len > UINT32_MAX)
		goto nomem;
	if ((i = add_node(p, M_META, TY_ANY, -1, -1, -1)) >= 0) {
		p->r->nodes[i].u.str.off = (uint32_t)off;
		p->r->nodes[i].u.str.len = (uint32_t)path.len;
		p->r->meta = 1;
	}
	goto out;
nomem:
	oom(p);
	i = -1;
out:
	fd_buf_release(&path);
	return i;
}

static int32_t parse_name(struct parser *p, const struct tok *t)
{
	char name[MAX_NAME + 1], vis[MAX_NAME * 4];
	const struct fd_feat_def *defs;
	size_t k, ndefs;
	struct suggest sg = { NULL, 99 };
	const char *hint;
	int idx;
	int32_t i;

	if (t->len > MAX_NAME) {
		perr(p, t->line, t->col, "name too long '%s'", tok_text(p, t, vis, 64));
		return -1;
	}
	memcpy(name, p->src + t->off, t->len);
	name[t->len] = '\0';
	if (strncmp(name, "metadata", 8) == 0 && (name[8] == '.' || name[8] == '\0'))
		return parse_metadata(p, t, name);
	for (k = 0; k < sizeof(txn_names) / sizeof(*txn_names); k++) {
		if (strcmp(name, txn_names[k].name) != 0)
			continue;
		if (txn_names[k].op == S_FIELD) {
			if ((i = add_node(p, S_FIELD, TY_STR, -1, -1, -1)) >= 0)
				p->r->nodes[i].u.field = txn_names[k].field;
			return i;
		}
		return add_node(p, txn_names[k].op, TY_NUM, -1, -1, -1);
	}
	idx = fd_feat_lookup(name);
	if (idx >= 0) {
		if ((i = add_node(p, N_FEAT, TY_NUM, -1, -1, -1)) >= 0)
			p->r->nodes[i].u.feat = idx;
		return i;
	}
	ndefs = fd_feat_catalog(&defs);
	for (k = 0; k < ndefs; k++)
		suggest_try(&sg, name, t->len, defs[k].name);
	for (k = 0; k < sizeof(txn_names) / sizeof(*txn_names); k++)
		suggest_try(&sg, name, t->len, txn_names[k].name);
	hint = suggest_pick(&sg, t->len);
	if (hint)
		perr(p, t->line, t->col, "unknown feature '%s' (did you mean '%s'?)",
		     tok_text(p, t, vis, sizeof(vis)), hint);
	else
		perr(p, t->line, t->col, "unknown feature '%s'", tok_text(p, t, vis, sizeof(vis)));
	return -1;
}

/* The compiled pattern of regex(): one regex_t per distinct pattern of the file. */
static int32_t add_regex(struct parser *p, int32_t pat, long line, long col)
{
	struct fd_rules *r = p->r;
	const struct node *n = &r->nodes[pat];
	const char *src = arena_str(r, n->u.str.off);
	size_t k;
	int e;

	if (n->op != S_CONST) {
		perr(p, line, col, "'regex' takes its pattern as a string in double quotes");
		return -1;
	}
	if (memchr(src, '\0', n->u.str.len)) {
		perr(p, line, col, "bad regular expression: it contains a NUL byte");
		return -1;
	}
	for (k = 0; k < r->nres; k++)
		if (strcmp(arena_str(r, r->re_src[k]), src) == 0)
			return (int32_t)k;
	if (r->nres >= INT32_MAX || grow(&r->res, &r->capres, r->nres + 1, sizeof(*r->res)) ||
	    grow(&r->re_src, &r->capre_src, r->nres + 1, sizeof(*r->re_src))) {
		oom(p);
		return -1;
	}
	if ((e = regcomp(&r->res[r->nres], src, REG_EXTENDED | REG_NOSUB)) != 0) {
		char why[256], vis[128];

		regerror(e, &r->res[r->nres], why, sizeof(why));
		perr(p, line, col, "bad regular expression '%s': %s",
		     fd_visible(vis, sizeof(vis), src, n->u.str.len), why);
		return -1;
	}
	r->re_src[r->nres] = n->u.str.off;
	return (int32_t)r->nres++;
}

/* "unknown function 'x' (did you mean 'y'?)", or with the table's names when nothing is close. */
static int unknown_func(struct parser *p, const struct tok *t)
{
	struct suggest sg = { NULL, 99 };
	struct fd_buf names = FD_BUF_INIT;
	char vis[MAX_NAME * 4];
	const char *hint;
	size_t k;

	for (k = 0; k < NFUNCS; k++)
		suggest_try(&sg, p->src + t->off, t->len, funcs[k].name);
	hint = suggest_pick(&sg, t->len);
	if (hint)
		return perr(p, t->line, t->col, "unknown function '%s' (did you mean '%s'?)",
			    tok_text(p, t, vis, sizeof(vis)), hint);
	for (k = 0; k < NFUNCS; k++)
		fd_buf_addf(&names, "%s%s", k ? ", " : "", funcs[k].name);
	if (fd_buf_failed(&names)) {
		fd_buf_release(&names);
		return oom(p);
	}
	perr(p, t->line, t->col, "unknown function '%s' (%s)", tok_text(p, t, vis, sizeof(vis)), names.s);
	fd_buf_release(&names);
	return FD_EINPUT;
}

static int32_t parse_call(struct parser *p, const struct tok *t)
{
	int32_t args[2] = { -1, -1 }, i;
	long aline[2] = { 0, 0 }, acol[2] = { 0, 0 };
	int nargs = 0, want, k, ty;
	const struct func *fn = NULL;
	size_t f;

	for (f = 0; f < NFUNCS && !fn; f++)
		if (tok_is_word(p, t, funcs[f].name))
			fn = &funcs[f];
	if (!fn)
		return unknown_func(p, t), -1;
	want = fn->arity;
	p->pos++; /* ( */
	if (!at(p, T_RP)) {
		for (;;) {
			const struct tok *at0 = peek(p);
			long l0 = at0 ? at0->line : p->end_line, c0 = at0 ? at0->col : p->end_col;
			int32_t a = parse_or(p);

			if (a < 0)
				return -1;
			if (nargs < 2) {
				args[nargs] = a;
				aline[nargs] = l0;
				acol[nargs] = c0;
			}
			nargs++;
			if (!at(p, T_COMMA))
				break;
			p->pos++;
		}
	}
	if (!at(p, T_RP)) {
		if (!peek(p))
			return perr_here(p, "missing ')' after the arguments of '%s'", fn->name), -1;
		return perr_here(p, "expected ',' or ')' in the arguments of '%s'", fn->name), -1;
	}
	p->pos++;
	if (nargs != want) {
		perr(p, t->line, t->col, "'%s' takes %d argument%s, not %d", fn->name, want,
		     want > 1 ? "s" : "", nargs);
		return -1;
	}
	if (fn->args == FA_ANY) {  /* defined(): a number or text */
		ty = type_of(p, args[0]);
		if (ty == TY_BOOL) {
			perr(p, t->line, t->col, "'%s' takes a number or text, not a condition", fn->name);
			return -1;
		}
		if (ty == TY_ANY)   /* present and not null */
			ty = type_of(p, coerce(p, args[0], TY_STR));
		return add_node(p, ty == TY_NUM ? B_DEF_NUM : B_DEF_STR, fn->type, args[0], -1, -1);
	}
	ty = fn->args == FA_NUM ? TY_NUM : TY_STR;
	for (k = 0; k < nargs; k++)
		if (type_of(p, coerce(p, args[k], ty)) != ty) {
			perr(p, aline[k], acol[k], "'%s' takes %s, not %s", fn->name,
			     ty == TY_NUM ? "numbers" : "text", type_name(type_of(p, args[k])));
			return -1;
		}
	if (fn->op == B_REGEX) {
		int32_t re = add_regex(p, args[1], aline[1], acol[1]);

		if (re < 0)
			return -1;
		if ((i = add_node(p, B_REGEX, fn->type, args[0], -1, -1)) >= 0)
			p->r->nodes[i].u.re = re;
		return i;
	}
	return add_node(p, fn->op, fn->type, args[0], args[1], -1);
}

static int32_t parse_primary(struct parser *p)
{
	const struct tok *t = peek(p);
	int32_t i;

	if (!t)
		return missing_operand(p);
	switch (t->type) {
	case T_NUM:
		p->pos++;
		if ((i = add_node(p, N_CONST, TY_NUM, -1, -1, -1)) >= 0)
			p->r->nodes[i].u.num = t->num;
		return i;
	case T_STR:
		p->pos++;
		if ((i = add_node(p, S_CONST, TY_STR, -1, -1, -1)) >= 0) {
			p->r->nodes[i].u.str.off = t->val;
			p->r->nodes[i].u.str.len = t->vlen;
		}
		return i;
	case T_LP: {
		const struct tok *open = t;

		p->pos++;
		i = parse_or(p);
		if (i < 0)
			return -1;
		if (!at(p, T_RP)) {
			char vis[64];

			if (!peek(p))
				perr(p, open->line, open->col, "unclosed '('");
			else
				perr_here(p, "expected ')' before '%s'", tok_text(p, peek(p), vis, sizeof(vis)));
			return -1;
		}
		p->pos++;
		return i;
	}
	case T_IDENT:
		if (is_reserved(p, t))
			return missing_operand(p);
		p->pos++;
		if (tok_is_word(p, t, "true") || tok_is_word(p, t, "false")) {
			if ((i = add_node(p, B_CONST, TY_BOOL, -1, -1, -1)) >= 0)
				p->r->nodes[i].u.num = tok_is_word(p, t, "true");
			return i;
		}
		if (at(p, T_LP))
			return parse_call(p, t);
		return parse_name(p, t);
	default:
		return missing_operand(p);
	}
}

static int32_t parse_unary(struct parser *p)
{
	const struct tok *t = peek(p);
	int32_t a;

	if (!t || (t->type != T_MINUS && t->type != T_PLUS))
		return parse_primary(p);
	if (++p->depth > MAX_DEPTH)
		return perr_here(p, "expression nested too deeply"), -1;
	p->pos++;
	a = coerce(p, parse_unary(p), TY_NUM);
	p->depth--;
	if (a < 0)
		return -1;
	if (type_of(p, a) != TY_NUM) {
		perr(p, t->line, t->col, "'%c' needs a number, not %s", t->type == T_MINUS ? '-' : '+',
		     type_name(type_of(p, a)));
		return -1;
	}
	if (t->type == T_PLUS)
		return a;
	if (p->r->nodes[a].op == N_CONST) { /* fold, so that -5 in a list is a constant */
		p->r->nodes[a].u.num = -p->r->nodes[a].u.num;
		return a;
	}
	return add_node(p, N_NEG, TY_NUM, a, -1, -1);
}

static int32_t arith(struct parser *p, const struct tok *op, int32_t a, int32_t b)
{
	static const int ops[] = { [T_PLUS] = N_ADD, [T_MINUS] = N_SUB, [T_STAR] = N_MUL,
				   [T_SLASH] = N_DIV };
	char vis[8];

	a = coerce(p, a, TY_NUM);
	b = coerce(p, b, TY_NUM);
	if (type_of(p, a) != TY_NUM || type_of(p, b) != TY_NUM) {
		perr(p, op->line, op->col, "'%s' needs numbers on both sides, not %s",
		     tok_text(p, op, vis, sizeof(vis)),
		     type_name(type_of(p, a) != TY_NUM ? type_of(p, a) : type_of(p, b)));
		return -1;
	}
	return add_node(p, ops[op->type], TY_NUM, a, b, -1);
}

static int32_t parse_term(struct parser *p)
{
	int32_t a = parse_unary(p), b;

	while (a >= 0 && (at(p, T_STAR) || at(p, T_SLASH))) {
		const struct tok *op = &p->toks[p->pos++];

		if ((b = parse_unary(p)) < 0)
			return -1;
		a = arith(p, op, a, b);
	}
	return a;
}

static int32_t parse_sum(struct parser *p)
{
	int32_t a = parse_term(p), b;

	while (a >= 0 && (at(p, T_PLUS) || at(p, T_MINUS))) {
		const struct tok *op = &p->toks[p->pos++];

		if ((b = parse_term(p)) < 0)
			return -1;
		a = arith(p, op, a, b);
	}
	return a;
}

static int is_cmp(const struct tok *t)
{
	return t && t->type >= T_LT && t->type <= T_NE;
}

/* ---- lists ---- */

static int list_add_num(struct parser *p, struct list *l, double v)
{
	if (grow(&l->nums, &l->cap, l->n + 1, sizeof(*l->nums)))
		return oom(p);
	l->nums[l->n++] = v;
	return FD_OK;
}

static int list_add_str(struct parser *p, struct list *l, const char *s, size_t n)
{
	if (fd_intern_put(l->set, s, n, NULL) < 0)
		return oom(p);
	return FD_OK;
}

static int32_t new_list(struct parser *p, int type, const char *path)
{
	struct fd_rules *r = p->r;
	struct list *l;

	if (r->nlists >= INT32_MAX || grow(&r->lists, &r->caplists, r->nlists + 1, sizeof(*r->lists)))
		return oom(p), -1;
	l = &r->lists[r->nlists];
	memset(l, 0, sizeof(*l));
	l->type = type;
	if (type == TY_STR && !(l->set = fd_intern_create()))
		return oom(p), -1;
	r->nlists++;
	if (path && !(l->path = strdup(path)))
		return oom(p), -1;
	return (int32_t)(r->nlists - 1);
}

/* Read a list file into list li: one value a line, surrounding blanks trimmed, '#' at the
 * start of a line or after a blank begins a comment, blank lines ignored. */
static int load_list_file(struct parser *p, int32_t li, const char *path, const struct tok *at_tok)
{
	FILE *fp = fopen(path, "rb");
	struct fd_buf b = FD_BUF_INIT;
	char chunk[65536];
	size_t got, i = 0;
	long line = 0;
	int rc = FD_OK;

	if (!fp)
		return fd_err_set(p->err, FD_EIO, "%s:%ld:%ld: cannot read list '%s': %s", p->name,
				  at_tok->line, at_tok->col, path, strerror(errno));
	while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (fd_buf_add(&b, chunk, got)) {
			rc = oom(p);
			goto out;
		}
	if (ferror(fp)) {
		rc = fd_err_set(p->err, FD_EIO, "%s:%ld:%ld: cannot read list '%s': %s", p->name,
				at_tok->line, at_tok->col, path, strerror(errno));
		goto out;
	}
	while (i < b.len) {
		size_t s = i, e, k;
		struct list *l = &p->r->lists[li];

		line++;
		while (i < b.len && b.s[i] != '\n')
			i++;
		e = i;
		if (i < b.len)
			i++;
		for (k = s; k < e; k++)
			if (b.s[k] == '#' && (k == s || is_blank(b.s[k - 1]))) {
				e = k;
				break;
			}
		while (s < e && is_blank(b.s[s]))
			s++;
		while (e > s && is_blank(b.s[e - 1]))
			e--;
		if (s == e)
			continue;
		if (l->type == TY_STR) {
			if ((rc = list_add_str(p, l, b.s + s, e - s)))
				goto out;
		} else {
			char num[64], *endp, vis[64];
			double v = NAN;

			if (e - s < sizeof(num)) {
				memcpy(num, b.s + s, e - s);
				num[e - s] = '\0';
				v = strtod(num, &endp);
				if (*endp || endp == num)
					v = NAN;
			}
			if (!isfinite(v)) {
				rc = fd_err_set(p->err, FD_EINPUT, "%s:%ld: not a number '%s'", path, line,
						fd_visible(vis, sizeof(vis), b.s + s, e - s));
				goto out;
			}
			if ((rc = list_add_num(p, l, v)))
				goto out;
		}
	}
out:
	fclose(fp);
	fd_buf_release(&b);
	return rc;
}

/* dir/name into path (name alone when it is absolute or dir is "" or "."). */
static int join_path(struct fd_buf *path, const char *dir, const char *name)
{
	fd_buf_reset(path);
	if (name[0] != '/' && dir[0] && strcmp(dir, ".") != 0) {
		if (fd_buf_adds(path, dir) || (path->s[path->len - 1] != '/' && fd_buf_addc(path, '/')))
			return -1;
	}
	return fd_buf_adds(path, name);
}

/* The list of a `@name` token for values of the given type, loading it on first use.  A
 * relative name is looked for beside the rules file, then in p->list_dir (the bundled
 * lists), so that a copy of the default rules edited elsewhere still finds them. */
static int32_t file_list(struct parser *p, const struct tok *t, int type)
{
	const char *name = arena_str(p->r, t->val);
	struct fd_buf path = FD_BUF_INIT;
	struct fd_rules *r = p->r;
	int32_t li = -1;
	size_t k;

	if (!p->dir) {
		perr(p, t->line, t->col, "list files are not allowed here");
		return -1;
	}
	if (memchr(name, '\0', t->vlen)) {
		perr(p, t->line, t->col, "bad list file name");
		return -1;
	}
	if (join_path(&path, p->dir, name))
		goto nomem;
	if (name[0] != '/' && p->list_dir && access(path.s, F_OK) != 0 && errno == ENOENT) {
		struct fd_buf alt = FD_BUF_INIT;

		if (join_path(&alt, p->list_dir, name)) {
			fd_buf_release(&alt);
			goto nomem;
		}
		if (access(alt.s, F_OK) == 0) {
			fd_buf_release(&path);
			path = alt;
		} else {
			fd_err_set(p->err, FD_EIO, "%s:%ld:%ld: cannot read list '%s': No such file or directory "
				   "(nor '%s')", p->name, t->line, t->col, path.s, alt.s);
			fd_buf_release(&alt);
			fd_buf_release(&path);
			return -1;
		}
	}
	for (k = 0; k < r->nlists; k++)
		if (r->lists[k].path && r->lists[k].type == type && strcmp(r->lists[k].path, path.s) == 0) {
			fd_buf_release(&path);
			return (int32_t)k;
		}
	if ((li = new_list(p, type, path.s)) < 0 || load_list_file(p, li, path.s, t))
		li = -1;
	fd_buf_release(&path);
	return li;
nomem:
	fd_buf_release(&path);
	oom(p);
	return -1;
}

/* The list of a `list NAME` token (a named list, from the store), copied on first use. */
static int32_t named_list(struct parser *p, const struct tok *t, int type)
{
	struct fd_rules *r = p->r;
	char name[MAX_NAME + 1], vis[MAX_NAME * 4];
	const struct fd_intern *set;
	int64_t id = -1;
	uint32_t k, nv;
	int32_t li;
	size_t j;

	if (t->len > MAX_NAME) {
		perr(p, t->line, t->col, "list name too long");
		return -1;
	}
	memcpy(name, p->src + t->off, t->len);
	name[t->len] = '\0';
	if (!p->named && !p->asked && p->o && p->o->get_lists) {
		p->asked = 1;
		if (p->o->get_lists(p->o->arg, &p->named, p->err)) {
			fd_err_prefix(p->err, "%s:%ld:%ld", p->name, t->line, t->col);
			return -1;
		}
	}
	if (p->named) {
		id = fd_intern_find(p->named->names, name, t->len);
		if (id >= 0 && ((size_t)id >= p->named->nsets || !p->named->sets[id]))
			return oom(p), -1;
	}
	if (id < 0) {
		if (!p->named)
			perr(p, t->line, t->col, "unknown list '%s': named lists are kept in a store, and "
			     "none was given", tok_text(p, t, vis, sizeof(vis)));
		else
			perr(p, t->line, t->col, "unknown list '%s' (fd-rules list show names the store's lists)",
			     tok_text(p, t, vis, sizeof(vis)));
		return -1;
	}
	for (j = 0; j < r->nlists; j++)
		if (r->lists[j].name && r->lists[j].type == type && strcmp(r->lists[j].name, name) == 0)
			return (int32_t)j;
	if ((li = new_list(p, type, NULL)) < 0)
		return -1;
	if (!(r->lists[li].name = strdup(name)))
		return oom(p), -1;
	set = p->named->sets[id];
	nv = fd_intern_count(set);
	for (k = 0; k < nv; k++) {
		size_t len;
		const char *v = fd_intern_str(set, k, &len);

		if (type == TY_STR) {
			if (list_add_str(p, &r->lists[li], v, len))
				return -1;
		} else {
			char *endp;
			double x = strtod(v, &endp);

			if (endp == v || *endp || !isfinite(x)) {
				char vv[64];

				perr(p, t->line, t->col, "list '%s' holds '%s', not a number, and is compared with a number",
				     name, fd_visible(vv, sizeof(vv), v, len));
				return -1;
			}
			if (list_add_num(p, &r->lists[li], x))
				return -1;
		}
	}
	return li;
}

/* `in` followed by ( literal, ... ) or @file, for a left operand of type `type`. */
static int32_t parse_list(struct parser *p, const struct tok *in_tok, int type)
{
	const struct tok *t = peek(p);
	int32_t li;
	char vis[64];

	if (type == TY_BOOL) {
		perr(p, in_tok->line, in_tok->col, "'in' needs a number or text on its left, not a condition");
		return -1;
	}
	if (t && t->type == T_LIST) {
		p->pos++;
		return file_list(p, t, type);
	}
	if (tok_is_word(p, t, "list")) {
		const struct tok *nt = peek2(p);

		p->pos++;
		if (!nt || nt->type != T_IDENT || is_reserved(p, nt)) {
			perr_here(p, "expected the name of a list after 'list'");
			return -1;
		}
		p->pos++;
		return named_list(p, nt, type);
	}
	if (!t || t->type != T_LP) {
		if (!t)
			perr_here(p, "expected '(', '@file' or 'list NAME' after 'in'");
		else
			perr_here(p, "expected '(', '@file' or 'list NAME' after 'in', not '%s'",
				  tok_text(p, t, vis, sizeof(vis)));
		return -1;
	}
	p->pos++;
	if ((li = new_list(p, type, NULL)) < 0)
		return -1;
	for (;;) {
		const struct tok *v = peek(p);
		int neg = 0;

		if (v && v->type == T_MINUS && type == TY_NUM) {
			neg = 1;
			p->pos++;
			v = peek(p);
		}
		if (!v) {
			perr_here(p, "unclosed list");
			return -1;
		}
		if (type == TY_NUM && v->type == T_NUM) {
			if (list_add_num(p, &p->r->lists[li], neg ? -v->num : v->num))
				return -1;
		} else if (type == TY_STR && v->type == T_STR) {
			if (list_add_str(p, &p->r->lists[li], arena_str(p->r, v->val), v->vlen))
				return -1;
		} else {
			perr(p, v->line, v->col, "expected %s in the list, not '%s'",
			     type == TY_NUM ? "a number" : "a string in double quotes",
			     tok_text(p, v, vis, sizeof(vis)));
			return -1;
		}
		p->pos++;
		if (at(p, T_COMMA)) {
			p->pos++;
			continue;
		}
		if (at(p, T_RP)) {
			p->pos++;
			return li;
		}
		if (!peek(p))
			perr_here(p, "unclosed list");
		else
			perr_here(p, "expected ',' or ')' in the list, not '%s'",
				  tok_text(p, peek(p), vis, sizeof(vis)));
		return -1;
	}
}

static int32_t parse_cmp(struct parser *p)
{
	int32_t a = parse_sum(p), b, c, li;
	const struct tok *op = peek(p);
	char vis[16];

	if (a < 0)
		return -1;
	if (is_cmp(op)) {
		int ta, tb;

		p->pos++;
		if ((b = parse_sum(p)) < 0)
			return -1;
		ta = type_of(p, a);
		tb = type_of(p, b);
		/* a metadata value takes the other side's type; two of them compare as text with
		 * == and !=, as numbers with the others */
		if (ta == TY_ANY && tb == TY_ANY)
			ta = tb = op->type == T_EQ || op->type == T_NE ? TY_STR : TY_NUM;
		else if (ta == TY_ANY)
			ta = tb;
		else if (tb == TY_ANY)
			tb = ta;
		a = coerce(p, a, ta);
		b = coerce(p, b, tb);
		ta = type_of(p, a);
		tb = type_of(p, b);
		if (ta == TY_NUM && tb == TY_NUM) {
			static const int ops[] = { [T_LT] = B_LT, [T_LE] = B_LE, [T_GT] = B_GT,
						   [T_GE] = B_GE, [T_EQ] = B_EQ, [T_NE] = B_NE };

			a = add_node(p, ops[op->type], TY_BOOL, a, b, -1);
		} else if (ta == TY_STR && tb == TY_STR) {
			if (op->type != T_EQ && op->type != T_NE) {
				perr(p, op->line, op->col, "'%s' compares numbers, not text (text has == and !=)",
				     tok_text(p, op, vis, sizeof(vis)));
				return -1;
			}
			a = add_node(p, op->type == T_EQ ? B_SEQ : B_SNE, TY_BOOL, a, b, -1);
		} else {
			perr(p, op->line, op->col, "'%s' cannot compare %s with %s",
			     tok_text(p, op, vis, sizeof(vis)), type_name(ta), type_name(tb));
			return -1;
		}
	} else if (at_word(p, "in") || (at_word(p, "not") && tok_is_word(p, peek2(p), "in"))) {
		int neg = at_word(p, "not"), ty;

		p->pos += neg ? 2 : 1;
		if (type_of(p, a) == TY_ANY) {  /* a metadata value: numbers for a list of numbers */
			const struct tok *l1 = peek(p), *l2 = peek2(p);

			ty = l1 && l1->type == T_LP && l2 && (l2->type == T_NUM || l2->type == T_MINUS) ?
			     TY_NUM : TY_STR;
			a = coerce(p, a, ty);
		}
		ty = type_of(p, a);
		if ((li = parse_list(p, &p->toks[p->pos - 1], ty)) < 0)
			return -1;
		a = add_node(p, ty == TY_NUM ? (neg ? B_NIN_NUM : B_IN_NUM) : (neg ? B_NIN_STR : B_IN_STR),
			     TY_BOOL, a, -1, -1);
		if (a >= 0)
			p->r->nodes[a].u.list = li;
	} else if (at_word(p, "between")) {
		p->pos++;
		if ((b = parse_sum(p)) < 0)
			return -1;
		if (!at_word(p, "and")) {
			if (!peek(p))
				perr_here(p, "expected 'and' after 'between' and its low bound");
			else
				perr_here(p, "expected 'and' after 'between' and its low bound, not '%s'",
					  tok_text(p, peek(p), vis, sizeof(vis)));
			return -1;
		}
		p->pos++;
		if ((c = parse_sum(p)) < 0)
			return -1;
		a = coerce(p, a, TY_NUM);
		b = coerce(p, b, TY_NUM);
		c = coerce(p, c, TY_NUM);
		if (type_of(p, a) != TY_NUM || type_of(p, b) != TY_NUM || type_of(p, c) != TY_NUM) {
			perr(p, op->line, op->col, "'between' needs numbers");
			return -1;
		}
		a = add_node(p, B_BETWEEN, TY_BOOL, a, b, c);
	} else
		return a;
	if (a >= 0 && is_cmp(peek(p))) {
		perr_here(p, "comparisons cannot be chained (join them with 'and')");
		return -1;
	}
	return a;
}

static int32_t parse_not(struct parser *p)
{
	const struct tok *t = peek(p);
	int32_t a;

	if (!(tok_is_word(p, t, "not") || (t && t->type == T_BANG)))
		return parse_cmp(p);
	if (++p->depth > MAX_DEPTH)
		return perr_here(p, "expression nested too deeply"), -1;
	p->pos++;
	a = parse_not(p);
	p->depth--;
	if (a < 0)
		return -1;
	if (type_of(p, a) != TY_BOOL) {
		perr(p, t->line, t->col, "'not' needs a condition, not %s", type_name(type_of(p, a)));
		return -1;
	}
	return add_node(p, B_NOT, TY_BOOL, a, -1, -1);
}

static int32_t logic(struct parser *p, const struct tok *op, int nop, int32_t a, int32_t b)
{
	char vis[8];

	if (type_of(p, a) != TY_BOOL || type_of(p, b) != TY_BOOL) {
		perr(p, op->line, op->col, "'%s' needs a condition on each side, not %s",
		     tok_text(p, op, vis, sizeof(vis)),
		     type_name(type_of(p, a) != TY_BOOL ? type_of(p, a) : type_of(p, b)));
		return -1;
	}
	return add_node(p, nop, TY_BOOL, a, b, -1);
}

static int32_t parse_and(struct parser *p)
{
	int32_t a = parse_not(p), b;

	while (a >= 0 && (at_word(p, "and") || at(p, T_ANDAND))) {
		const struct tok *op = &p->toks[p->pos++];

		if ((b = parse_not(p)) < 0)
			return -1;
		a = logic(p, op, B_AND, a, b);
	}
	return a;
}

static int32_t parse_or(struct parser *p)
{
	int32_t a, b;

	if (++p->depth > MAX_DEPTH)
		return perr_here(p, "expression nested too deeply"), -1;
	a = parse_and(p);
	while (a >= 0 && (at_word(p, "or") || at(p, T_OROR))) {
		const struct tok *op = &p->toks[p->pos++];

		if ((b = parse_and(p)) < 0)
			return -1;
		a = logic(p, op, B_OR, a, b);
	}
	p->depth--;
	return a;
}

/* A whole expression over tokens [pos, end): nothing may be left over. */
static int32_t parse_full(struct parser *p)
{
	int32_t a;
	char vis[64];

	p->depth = 0;
	if (!peek(p))
		return missing_operand(p);
	a = parse_or(p);
	if (a >= 0 && peek(p)) {
		const struct tok *t = peek(p);

		if (t->type == T_RP)
			perr_here(p, "unmatched ')'");
		else
			perr_here(p, "unexpected '%s' (an operator is missing before it?)",
				  tok_text(p, t, vis, sizeof(vis)));
		return -1;
	}
	return a;
}

/* ---- reason templates -------------------------------------------------------------------- */

static int add_seg(struct parser *p, const struct seg *s)
{
	struct fd_rules *r = p->r;

	if (grow(&r->segs, &r->capsegs, r->nsegs + 1, sizeof(*r->segs)))
		return oom(p);
	r->segs[r->nsegs++] = *s;
	return FD_OK;
}

static int add_literal(struct parser *p, const char *s, size_t n)
{
	struct fd_buf *a = &p->r->arena;
	struct seg sg = { -1, 0, 0, -1, 0 };

	if (n == 0)
		return FD_OK;
	sg.off = (uint32_t)a->len;
	sg.len = (uint32_t)n;
	if (fd_buf_add(a, s, n) || fd_buf_addc(a, '\0'))
		return oom(p);
	return add_seg(p, &sg);
}

/*
 * Compile placeholder text v[a..b) (unescaped) whose bytes sit at columns colmap[] of line.
 */
static int compile_placeholder(struct parser *p, const char *v, size_t a, size_t b,
			       const long *colmap, long line)
{
	struct lexer lx = { v, b, a, line, 0, colmap };
	struct seg sg = { -1, 0, 0, -1, 0 };
	size_t k, colon = b, tok0;
	int inq = 0, rc;

	for (k = a; k < b; k++) {
		if (v[k] == '"' && (k == a || v[k - 1] != '\\'))
			inq = !inq;
		else if (v[k] == ':' && !inq) {
			colon = k;
			break;
		}
	}
	if (colon < b) {
		const char *f = v + colon + 1;
		size_t fn = b - colon - 1;

		if (fn == 3 && f[0] == '.' && is_digit((unsigned char)f[1]) && f[2] == 'f')
			sg.decimals = f[1] - '0';
		else {
			char vis[64];

			return perr(p, line, colmap[colon], "bad format ':%s' (use :.Nf, N from 0 to 9)",
				    fd_visible(vis, sizeof(vis), f, fn));
		}
	}
	lx.n = colon;
	tok0 = p->ntok;
	while (lx.i < lx.n) {
		if (is_blank(v[lx.i]) || v[lx.i] == '\n') {
			lx.i++;
			continue;
		}
		if ((rc = lex_one(p, &lx, 0, 0)))
			return rc;
	}
	if (p->ntok == tok0)
		return perr(p, line, colmap[a - 1], "empty placeholder '{}'");
	p->pos = tok0;
	p->end = p->ntok;
	p->end_line = line;
	p->end_col = colmap[colon];
	if ((sg.root = parse_full(p)) < 0)
		return p->err->code;
	p->ntok = tok0;
	sg.root = coerce(p, sg.root, sg.decimals >= 0 ? TY_NUM : TY_STR);
	if (sg.decimals >= 0 && type_of(p, sg.root) != TY_NUM)
		return perr(p, line, colmap[colon], "format ':.%df' needs a number, not %s",
			    sg.decimals, type_name(type_of(p, sg.root)));
	sg.amount = sg.decimals < 0 && p->r->nodes[sg.root].op == N_AMOUNT;
	return add_seg(p, &sg);
}

/* Compile the reason template of string token t (raw text in p->src) into segments. */
static int compile_template(struct parser *p, struct rule *ru, const struct tok *tp)
{
	const struct tok tcopy = *tp, *t = &tcopy;  /* lexing placeholders may move p->toks */
	const char *raw = p->src + t->off;
	const char *saved_src = p->src;
	size_t m = t->vlen, k, ri, lit, nseg0 = p->r->nsegs;
	long *colmap = NULL;
	char *v = NULL;
	int rc = FD_OK;

	/* a private copy: compiling placeholders adds strings to the arena, which may move */
	if (!(v = malloc(m + 1)) || !(colmap = malloc((m + 1) * sizeof(*colmap)))) {
		rc = oom(p);
		goto out;
	}
	memcpy(v, arena_str(p->r, t->val), m + 1);
	for (k = 0, ri = 1; k < m; k++) {      /* ri: raw offset after the opening quote */
		colmap[k] = t->col + (long)ri;
		ri += raw[ri] == '\\' ? 2 : 1;
	}
	colmap[m] = t->col + (long)ri;
	p->src = v;
	lit = 0;
	for (k = 0; k < m;) {
		if ((v[k] == '{' || v[k] == '}') && k + 1 < m && v[k + 1] == v[k]) {
			if ((rc = add_literal(p, v + lit, k + 1 - lit)))
				goto out;
			k += 2;
			lit = k;
		} else if (v[k] == '}') {
			rc = perr(p, t->line, colmap[k], "unmatched '}' in reason (write '}}' for a brace)");
			goto out;
		} else if (v[k] == '{') {
			size_t e = k + 1;
			int inq = 0;

			while (e < m && (inq || v[e] != '}')) {
				if (v[e] == '"' && v[e - 1] != '\\')
					inq = !inq;
				e++;
			}
			if (e >= m) {
				rc = perr(p, t->line, colmap[k], "unclosed '{' in reason (write '{{' for a brace)");
				goto out;
			}
			if ((rc = add_literal(p, v + lit, k - lit)) ||
			    (rc = compile_placeholder(p, v, k + 1, e, colmap, t->line)))
				goto out;
			k = e + 1;
			lit = k;
		} else
			k++;
	}
	rc = add_literal(p, v + lit, m - lit);
out:
	p->src = saved_src;
	free(v);
	free(colmap);
	if (rc == FD_OK) {
		ru->seg0 = (uint32_t)nseg0;
		ru->nseg = (uint32_t)(p->r->nsegs - nseg0);
	}
	return rc;
}

/* ---- statements -------------------------------------------------------------------------- */

enum { HAVE_DESC = 1, HAVE_WHEN = 2, HAVE_POINTS = 4, HAVE_ACTION = 8, HAVE_REASON = 16 };

/* Copy the source of tokens [i, j) into the arena: each line's tokens as written, lines
 * joined by one space. */
static int source_text(struct parser *p, size_t i, size_t j, uint32_t *off)
{
	struct fd_buf *a = &p->r->arena;
	size_t k;

	*off = (uint32_t)a->len;
	for (k = i; k < j;) {
		size_t e = k;

		while (e + 1 < j && p->toks[e + 1].line == p->toks[k].line)
			e++;
		if (k > i && fd_buf_addc(a, ' '))
			return oom(p);
		if (fd_buf_add(a, p->src + p->toks[k].off, p->toks[e].off + p->toks[e].len - p->toks[k].off))
			return oom(p);
		k = e + 1;
	}
	if (fd_buf_addc(a, '\0'))
		return oom(p);
	return FD_OK;
}

static int finish_rule(struct parser *p)
{
	struct fd_rules *r = p->r;
	struct rule *ru;
	const char *miss = NULL;

	if (!r->nrules)
		return FD_OK;
	ru = &r->rules[r->nrules - 1];
	if (!(ru->have & HAVE_WHEN))
		miss = "when";
	else if (!(ru->have & HAVE_POINTS))
		miss = "points";
	else if (!(ru->have & HAVE_ACTION))
		miss = "action";
	if (miss)
		return perr(p, ru->line, ru->col, "rule '%s' has no '%s'", arena_str(r, ru->id), miss);
	return FD_OK;
}

static int start_rule(struct parser *p, size_t i, size_t j)
{
	const struct tok *k = &p->toks[i], *id;
	struct fd_rules *r = p->r;
	struct rule *ru;
	char vis[MAX_NAME * 4];
	int is_new;
	int64_t n;
	int rc;

	if ((rc = finish_rule(p)))
		return rc;
	if (j == i + 1)
		return perr(p, k->line, k->col + k->len, "missing rule id after 'rule'");
	id = &p->toks[i + 1];
	if (id->type != T_IDENT || memchr(p->src + id->off, '.', id->len))
		return perr(p, id->line, id->col, "bad rule id '%s' (letters, digits and _, not starting with a digit)",
			    tok_text(p, id, vis, sizeof(vis)));
	if (j > i + 2)
		return perr(p, p->toks[i + 2].line, p->toks[i + 2].col, "unexpected '%s' after the rule id",
			    tok_text(p, &p->toks[i + 2], vis, sizeof(vis)));
	if (id->len > MAX_NAME)
		return perr(p, id->line, id->col, "rule id too long");
	n = fd_intern_put(r->ids, p->src + id->off, id->len, &is_new);
	if (n < 0)
		return oom(p);
	if (!is_new)
		return perr(p, id->line, id->col, "duplicate rule id '%s' (first on line %ld)",
			    tok_text(p, id, vis, sizeof(vis)), r->rules[n].line);
	if (grow(&r->rules, &r->caprules, r->nrules + 1, sizeof(*r->rules)))
		return oom(p);
	ru = &r->rules[r->nrules++];
	memset(ru, 0, sizeof(*ru));
	ru->line = k->line;
	ru->col = k->col;
	ru->action = FD_RULE_REVIEW;
	ru->root = -1;
	ru->id = (uint32_t)r->arena.len;
	if (fd_buf_add(&r->arena, p->src + id->off, id->len) || fd_buf_addc(&r->arena, '\0'))
		return oom(p);
	ru->desc = ru->tmpl = ru->expr = 0;
	return FD_OK;
}

/* The single value token of an attribute statement [i, j), or NULL after an error. */
static const struct tok *single(struct parser *p, size_t i, size_t j, int type, const char *what)
{
	const struct tok *k = &p->toks[i];
	char vis[64];

	if (j == i + 1) {
		perr(p, k->line, k->col + k->len, "missing %s after '%s'", what, tok_text(p, k, vis, sizeof(vis)));
		return NULL;
	}
	if (p->toks[i + 1].type != type) {
		perr(p, p->toks[i + 1].line, p->toks[i + 1].col, "expected %s after '%s'", what,
		     tok_text(p, k, vis, sizeof(vis)));
		return NULL;
	}
	if (j > i + 2) {
		perr(p, p->toks[i + 2].line, p->toks[i + 2].col, "unexpected '%s' after %s",
		     tok_text(p, &p->toks[i + 2], vis, sizeof(vis)), what);
		return NULL;
	}
	return &p->toks[i + 1];
}

static int attribute(struct parser *p, size_t i, size_t j)
{
	const struct tok *k = &p->toks[i], *v;
	struct fd_rules *r = p->r;
	struct rule *ru;
	char vis[MAX_NAME * 4];
	size_t w, nw = sizeof(attr_words) / sizeof(*attr_words);
	int bit;

	for (w = 1; w < nw; w++)
		if (tok_is_word(p, k, attr_words[w]))
			break;
	if (w == nw) {
		struct suggest sg = { NULL, 99 };
		const char *hint;

		if (k->type != T_IDENT)
			return perr(p, k->line, k->col, "expected a keyword (rule, description, when, points, action, reason), not '%s'",
				    tok_text(p, k, vis, sizeof(vis)));
		for (w = 0; w < nw; w++)
			suggest_try(&sg, p->src + k->off, k->len, attr_words[w]);
		hint = suggest_pick(&sg, k->len);
		if (hint)
			return perr(p, k->line, k->col, "unknown keyword '%s' (did you mean '%s'?)",
				    tok_text(p, k, vis, sizeof(vis)), hint);
		return perr(p, k->line, k->col, "unknown keyword '%s' (rule, description, when, points, action, reason)",
			    tok_text(p, k, vis, sizeof(vis)));
	}
	if (!r->nrules)
		return perr(p, k->line, k->col, "'%s' outside a rule (start one with 'rule ID')", attr_words[w]);
	ru = &r->rules[r->nrules - 1];
	bit = 1 << (w - 1);
	if (ru->have & bit)
		return perr(p, k->line, k->col, "'%s' given twice in rule '%s'", attr_words[w],
			    arena_str(r, ru->id));
	ru->have |= bit;
	switch (bit) {
	case HAVE_DESC:
		if (!(v = single(p, i, j, T_STR, "a string in double quotes")))
			return p->err->code;
		ru->desc = v->val;
		return FD_OK;
	case HAVE_WHEN: {
		const struct tok *last = &p->toks[j - 1];
		int32_t root;
		uint32_t off;

		p->pos = i + 1;
		p->end = j;
		p->end_line = last->line;
		p->end_col = last->col + last->len;
		if ((root = parse_full(p)) < 0)
			return p->err->code;
		if (type_of(p, root) != TY_BOOL)
			return perr(p, p->toks[i + 1].line, p->toks[i + 1].col,
				    "'when' needs a condition, not %s (compare it with something)",
				    type_name(type_of(p, root)));
		if (source_text(p, i + 1, j, &off))
			return p->err->code;
		ru = &r->rules[r->nrules - 1];
		ru->root = root;
		ru->expr = off;
		return FD_OK;
	}
	case HAVE_POINTS:
		if (j == i + 1)
			return perr(p, k->line, k->col + k->len, "missing points after 'points'");
		v = &p->toks[i + 1];
		if (j > i + 2 || v->type != T_NUM || v->num != floor(v->num) || v->num < 0 || v->num > 100)
			return perr(p, v->line, v->col, "points must be an integer from 0 to 100");
		ru->points = (int)v->num;
		return FD_OK;
	case HAVE_ACTION:
		if (!(v = single(p, i, j, T_IDENT, "review or block")))
			return p->err->code;
		if (tok_is_word(p, v, "review"))
			ru->action = FD_RULE_REVIEW;
		else if (tok_is_word(p, v, "block"))
			ru->action = FD_RULE_BLOCK;
		else
			return perr(p, v->line, v->col, "unknown action '%s' (review or block)",
				    tok_text(p, v, vis, sizeof(vis)));
		return FD_OK;
	default: /* HAVE_REASON */
		if (!(v = single(p, i, j, T_STR, "a string in double quotes")))
			return p->err->code;
		ru->tmpl = v->val;
		return compile_template(p, ru, v);
	}
}

static int parse_statements(struct parser *p)
{
	size_t i = 0, ntok = p->ntok;
	int rc;

	while (i < ntok) {
		const struct tok *k = &p->toks[i];
		size_t j = i + 1;

		if (!k->bol)
			return perr(p, k->line, k->col, "internal: statement does not start a line");
		if (tok_is_word(p, k, "rule")) {
			while (j < ntok && !p->toks[j].bol)
				j++;
			rc = start_rule(p, i, j);
		} else {
			while (j < ntok && !(p->toks[j].bol &&
					     (p->toks[j].indent <= k->indent || tok_is_word(p, &p->toks[j], "rule"))))
				j++;
			rc = attribute(p, i, j);
		}
		if (rc)
			return rc;
		/* compiling a template appends tokens past ntok; they are dead now */
		p->ntok = ntok;
		i = j;
	}
	return finish_rule(p);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The catalog indices read by any node, sorted, without repeats. */
static int collect_features(struct parser *p)
{
	struct fd_rules *r = p->r;
	size_t k, n = 0;

	for (k = 0; k < r->nnodes; k++)
		n += r->nodes[k].op == N_FEAT;
	if (!n)
		return FD_OK;
	if (!(r->feat = malloc(n * sizeof(*r->feat))))
		return oom(p);
	for (k = 0, n = 0; k < r->nnodes; k++)
		if (r->nodes[k].op == N_FEAT)
			r->feat[n++] = r->nodes[k].u.feat;
	qsort(r->feat, n, sizeof(*r->feat), cmp_int);
	for (k = 0, r->nfeat = 0; k < n; k++)
		if (!r->nfeat || r->feat[r->nfeat - 1] != r->feat[k])
			r->feat[r->nfeat++] = r->feat[k];
	return FD_OK;
}

/* ---- loading ----------------------------------------------------------------------------- */

int fd_rules_parse(struct fd_rules **rp, const char *text, size_t n, const char *name,
		   const char *dir, struct fd_err *err)
{
	return fd_rules_parse_opts(rp, text, n, name, dir, NULL, err);
}

int fd_rules_parse_opts(struct fd_rules **rp, const char *text, size_t n, const char *name,
			const char *dir, const struct fd_rules_opts *o, struct fd_err *err)
{
	struct parser p;
	struct fd_rules *r;
	int rc;

	*rp = NULL;
	memset(&p, 0, sizeof(p));
	p.err = err;
	p.name = name ? name : "<rules>";
	p.dir = dir;
	p.list_dir = o ? o->list_dir : NULL;
	p.named = o ? o->lists : NULL;
	p.o = o;
	p.src = text;
	if (!(r = calloc(1, sizeof(*r))) || !(r->ids = fd_intern_create())) {
		free(r);
		return fd_err_set(err, FD_EIO, "%s: out of memory", p.name);
	}
	p.r = r;
	/* offset 0 of the arena is the empty string, for absent descriptions and templates */
	if (fd_buf_addc(&r->arena, '\0')) {
		rc = oom(&p);
		goto out;
	}
	if ((rc = lex_file(&p, text, n)) || (rc = parse_statements(&p)) || (rc = collect_features(&p)))
		goto out;
out:
	free(p.toks);
	if (rc) {
		fd_rules_free(r);
		return rc;
	}
	*rp = r;
	return FD_OK;
}

int fd_rules_load(struct fd_rules **r, const char *path, struct fd_err *err)
{
	return fd_rules_load_opts(r, path, NULL, err);
}

/* Read, (when sha) hash and compile the file at path; what names it in the messages of a file
 * that cannot be read ("" or "rules "). */
static int load_file(struct fd_rules **r, const char *path, const struct fd_rules_opts *o, char *sha,
		     const char *what, struct fd_err *err)
{
	struct fd_buf text = FD_BUF_INIT, dir = FD_BUF_INIT;
	const char *slash;
	char chunk[65536];
	size_t got;
	FILE *fp;
	int rc;

	*r = NULL;
	if (!(fp = fopen(path, "rb")))
		return fd_err_set(err, FD_EIO, "cannot open %s'%s': %s", what, path, strerror(errno));
	while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (fd_buf_add(&text, chunk, got)) {
			rc = fd_err_set(err, FD_EIO, "%s: out of memory", path);
			goto out;
		}
	if (ferror(fp)) {
		rc = fd_err_set(err, FD_EIO, "cannot read %s'%s': %s", what, path, strerror(errno));
		goto out;
	}
	/* hashed and compiled from the same bytes, so that the hash names what was compiled */
	if (sha)
		fd_sha256_hex(text.s ? text.s : "", text.len, sha);
	slash = strrchr(path, '/');
	if (slash && fd_buf_add(&dir, path, slash == path ? 1 : (size_t)(slash - path))) {
		rc = fd_err_set(err, FD_EIO, "%s: out of memory", path);
		goto out;
	}
	rc = fd_rules_parse_opts(r, text.s ? text.s : "", text.len, path, dir.s ? dir.s : "", o, err);
out:
	fclose(fp);
	fd_buf_release(&text);
	fd_buf_release(&dir);
	return rc;
}

int fd_rules_load_opts(struct fd_rules **r, const char *path, const struct fd_rules_opts *o,
		       struct fd_err *err)
{
	return load_file(r, path, o, NULL, "", err);
}

int fd_rules_load_sha(struct fd_rules **r, const char *path, const struct fd_rules_opts *o, char sha[65],
		      struct fd_err *err)
{
	return load_file(r, path, o, sha, "rules ", err);
}

void fd_rules_free(struct fd_rules *r)
{
	size_t k;

	if (!r)
		return;
	for (k = 0; k < r->nlists; k++) {
		fd_intern_free(r->lists[k].set);
		free(r->lists[k].nums);
		free(r->lists[k].path);
		free(r->lists[k].name);
	}
	for (k = 0; k < r->nres; k++)
		regfree(&r->res[k]);
	free(r->res);
	free(r->re_src);
	free(r->lists);
	free(r->rules);
	free(r->nodes);
	free(r->segs);
	free(r->feat);
	fd_intern_free(r->ids);
	fd_buf_release(&r->arena);
	free(r);
}

/* ---- named lists ------------------------------------------------------------------------- */

struct fd_named_lists *fd_named_lists_create(void)
{
	struct fd_named_lists *l = calloc(1, sizeof(*l));

	if (l && !(l->names = fd_intern_create())) {
		free(l);
		return NULL;
	}
	return l;
}

void fd_named_lists_free(struct fd_named_lists *l)
{
	uint32_t k, n;

	if (!l)
		return;
	n = (uint32_t)l->nsets;
	for (k = 0; k < n; k++)
		fd_intern_free(l->sets[k]);
	free(l->sets);
	fd_intern_free(l->names);
	free(l);
}

int fd_named_lists_add(struct fd_named_lists *l, const char *name, const char *value, size_t n)
{
	int is_new = 0;
	int64_t id = fd_intern_put(l->names, name, strlen(name), &is_new);

	if (id < 0)
		return FD_EIO;
	if (is_new && (size_t)id == l->nsets) {
		if (grow(&l->sets, &l->cap, (size_t)id + 1, sizeof(*l->sets)))
			return FD_EIO;
		l->sets[l->nsets++] = fd_intern_create();
	}
	if ((size_t)id >= l->nsets || !l->sets[id])
		return FD_EIO;  /* an earlier allocation failed */
	if (value && fd_intern_put(l->sets[id], value, n, NULL) < 0)
		return FD_EIO;
	return FD_OK;
}

/* ---- accessors --------------------------------------------------------------------------- */

const char *fd_rule_action_name(int action)
{
	return action == FD_RULE_REVIEW ? "review" : action == FD_RULE_BLOCK ? "block" : NULL;
}

size_t fd_rules_count(const struct fd_rules *r)
{
	return r->nrules;
}

long fd_rules_find(const struct fd_rules *r, const char *id)
{
	return (long)fd_intern_find(r->ids, id, strlen(id));
}

const char *fd_rules_id(const struct fd_rules *r, size_t i)
{
	return arena_str(r, r->rules[i].id);
}

const char *fd_rules_description(const struct fd_rules *r, size_t i)
{
	return arena_str(r, r->rules[i].desc);
}

int fd_rules_points(const struct fd_rules *r, size_t i)
{
	return r->rules[i].points;
}

int fd_rules_action(const struct fd_rules *r, size_t i)
{
	return r->rules[i].action;
}

const char *fd_rules_expr(const struct fd_rules *r, size_t i)
{
	return arena_str(r, r->rules[i].expr);
}

const char *fd_rules_reason_template(const struct fd_rules *r, size_t i)
{
	return arena_str(r, r->rules[i].tmpl);
}

long fd_rules_line(const struct fd_rules *r, size_t i)
{
	return r->rules[i].line;
}

int fd_rules_uses_metadata(const struct fd_rules *r)
{
	return r->meta;
}

size_t fd_rules_features(const struct fd_rules *r, const int **idx)
{
	*idx = r->feat;
	return r->nfeat;
}

/* ---- evaluation -------------------------------------------------------------------------- */

struct ctx {
	const struct fd_rules *r;
	const struct fd_txn *t;
	const double *feat;
	/* only when the rules read the metadata or make text (lower, upper): */
	json_t *meta;             /* the transaction's metadata, parsed on first read */
	int meta_state;           /* 0 not read yet, 1 parsed, -1 none (absent, not an object) */
	void **blk;               /* text made during this evaluation, freed by ctx_release */
	size_t nblk, capblk;
};

static void ctx_release(struct ctx *c)
{
	size_t k;

	for (k = 0; k < c->nblk; k++)
		free(c->blk[k]);
	free(c->blk);
	json_decref(c->meta);
}

/* n bytes that live until ctx_release; NULL when out of memory (the value is then absent). */
static char *scratch(struct ctx *c, size_t n)
{
	char *q;

	if (grow(&c->blk, &c->capblk, c->nblk + 1, sizeof(*c->blk)) || !(q = malloc(n)))
		return NULL;
	c->blk[c->nblk++] = q;
	return q;
}

/* The metadata value of an N_META / S_META node, NULL when absent or null. */
static json_t *meta_get(struct ctx *c, const struct node *n)
{
	const char *path = arena_str(c->r, n->u.str.off), *end = path + n->u.str.len;
	json_t *v;

	if (c->meta_state == 0) {
		c->meta_state = -1;
		if (c->t->metadata && c->t->metadata_len) {
			c->meta = json_loadb(c->t->metadata, c->t->metadata_len, 0, NULL);
			if (json_is_object(c->meta))
				c->meta_state = 1;
		}
	}
	if (c->meta_state != 1)
		return NULL;
	for (v = c->meta; path < end; path += strlen(path) + 1)
		if (!json_is_object(v) || !(v = json_object_get(v, path)))
			return NULL;
	return json_is_null(v) ? NULL : v;
}

/* A decimal number as text: [+-] digits [. digits] [e [+-] digits], blanks around it
 * allowed; NAN for anything else (hex, inf, nan, thousands separators, ""). */
static double text_number(const char *s, size_t n)
{
	char buf[64], *endp;
	size_t a = 0, b = n, k;
	int digits = 0;
	double v;

	while (a < b && is_blank(s[a]))
		a++;
	while (b > a && is_blank(s[b - 1]))
		b--;
	if (b - a == 0 || b - a >= sizeof(buf))
		return NAN;
	for (k = a; k < b; k++) {
		char ch = s[k];

		if (is_digit((unsigned char)ch))
			digits = 1;
		else if (!(ch == '.' || ch == 'e' || ch == 'E' || ch == '+' || ch == '-'))
			return NAN;
	}
	if (!digits)
		return NAN;
	memcpy(buf, s + a, b - a);
	buf[b - a] = '\0';
	v = strtod(buf, &endp);
	return *endp || endp == buf || !isfinite(v) ? NAN : v;
}

/* A metadata value as a number: a JSON number, or text that is a decimal number. */
static double meta_num(struct ctx *c, const struct node *n)
{
	json_t *v = meta_get(c, n);

	if (json_is_integer(v))
		return (double)json_integer_value(v);
	if (json_is_real(v))
		return json_real_value(v);
	if (json_is_string(v))
		return text_number(json_string_value(v), json_string_length(v));
	return NAN;
}

/* A metadata value as text: text as it is, a number in the C locale (the shortest form
 * that reads back the same), true/false, an object or array as compact JSON. */
static const char *meta_str(struct ctx *c, const struct node *n, size_t *len)
{
	json_t *v = meta_get(c, n);
	char *q;
	int k;

	*len = 0;
	if (!v)
		return NULL;
	if (json_is_string(v)) {   /* "" is absent, as an empty cell of a canonical field is */
		*len = json_string_length(v);
		return *len ? json_string_value(v) : NULL;
	}
	if (json_is_true(v) || json_is_false(v)) {
		*len = json_is_true(v) ? 4 : 5;
		return json_is_true(v) ? "true" : "false";
	}
	if (json_is_integer(v)) {
		if (!(q = scratch(c, 32)))
			return NULL;
		k = snprintf(q, 32, "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		double x = json_real_value(v);

		if (!(q = scratch(c, 40)))
			return NULL;
		k = snprintf(q, 40, "%.15g", x);
		if (strtod(q, NULL) != x)
			k = snprintf(q, 40, "%.17g", x);
	} else {
		char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

		if (!d || grow(&c->blk, &c->capblk, c->nblk + 1, sizeof(*c->blk))) {
			free(d);
			return NULL;
		}
		c->blk[c->nblk++] = d;
		*len = strlen(d);
		return d;
	}
	*len = k > 0 ? (size_t)k : 0;
	return q;
}

static const char *txn_str(const struct fd_txn *t, int field)
{
	switch (field) {
	case FD_F_TXN_ID: return t->txn_id;
	case FD_F_CURRENCY: return t->currency[0] ? t->currency : NULL;
	case FD_F_SENDER_ID: return t->sender_id;
	case FD_F_RECIPIENT_ID: return t->recipient_id;
	case FD_F_MERCHANT_ID: return t->merchant_id;
	case FD_F_MERCHANT_CATEGORY: return t->merchant_category;
	case FD_F_CHANNEL: return t->channel;
	case FD_F_DEVICE_ID: return t->device_id;
	case FD_F_IP: return t->ip;
	case FD_F_COUNTRY: return t->country[0] ? t->country : NULL;
	case FD_F_CITY: return t->city;
	default: return NULL;
	}
}

static const char *ev_str(struct ctx *c, int32_t i, size_t *len);

static double ev_num(struct ctx *c, int32_t i)
{
	const struct node *n = &c->r->nodes[i];
	double x, y;

	switch (n->op) {
	case N_CONST: return n->u.num;
	case N_FEAT: return c->feat ? c->feat[n->u.feat] : NAN;
	case N_AMOUNT: return amount_major(c->t);
	case N_LAT: return c->t->has_geo ? c->t->lat : NAN;
	case N_LON: return c->t->has_geo ? c->t->lon : NAN;
	case N_NEG: return -ev_num(c, n->a);
	case N_ADD: return ev_num(c, n->a) + ev_num(c, n->b);
	case N_SUB: return ev_num(c, n->a) - ev_num(c, n->b);
	case N_MUL: return ev_num(c, n->a) * ev_num(c, n->b);
	case N_DIV:
		x = ev_num(c, n->a);
		y = ev_num(c, n->b);
		return y == 0 ? NAN : x / y;
	case N_ABS: return fabs(ev_num(c, n->a));
	case N_META: return meta_num(c, n);
	case N_LENGTH: {  /* characters of UTF-8 text: the bytes that do not continue one */
		size_t len, k, chars = 0;
		const char *s = ev_str(c, n->a, &len);

		if (!s)
			return NAN;
		for (k = 0; k < len; k++)
			chars += ((unsigned char)s[k] & 0xC0) != 0x80;
		return (double)chars;
	}
	case N_MIN:
	case N_MAX:
		x = ev_num(c, n->a);
		y = ev_num(c, n->b);
		if (isnan(x) || isnan(y))
			return NAN;
		return (n->op == N_MIN) == (x < y) ? x : y;
	default: return NAN;
	}
}

/* Text value, NULL when absent. */
static const char *ev_str(struct ctx *c, int32_t i, size_t *len)
{
	const struct node *n = &c->r->nodes[i];
	const char *s;

	switch (n->op) {
	case S_CONST:
		*len = n->u.str.len;
		return arena_str(c->r, n->u.str.off);
	case S_META:
		return meta_str(c, n, len);
	case S_LOWER:
	case S_UPPER: {  /* ASCII letters; other bytes (UTF-8 included) as they are */
		size_t k;
		char *q;

		if (!(s = ev_str(c, n->a, len)) || !(q = scratch(c, *len + 1))) {
			*len = 0;
			return NULL;
		}
		for (k = 0; k < *len; k++) {
			char ch = s[k];

			if (n->op == S_LOWER && ch >= 'A' && ch <= 'Z')
				ch = (char)(ch - 'A' + 'a');
			else if (n->op == S_UPPER && ch >= 'a' && ch <= 'z')
				ch = (char)(ch - 'a' + 'A');
			q[k] = ch;
		}
		q[*len] = '\0';
		return q;
	}
	default:
		s = txn_str(c->t, n->u.field);
		*len = s ? strlen(s) : 0;
		return s;
	}
}

static int str_eq(struct ctx *c, const struct node *n)
{
	size_t la, lb;
	const char *a = ev_str(c, n->a, &la), *b = ev_str(c, n->b, &lb);

	return a && b && la == lb && memcmp(a, b, la) == 0;
}

static int in_num(const struct list *l, double x)
{
	size_t k;

	for (k = 0; k < l->n; k++)
		if (l->nums[k] == x)
			return 1;
	return 0;
}

static int in_str(struct ctx *c, const struct node *n)
{
	size_t len;
	const char *s = ev_str(c, n->a, &len);

	return s && fd_intern_find(c->r->lists[n->u.list].set, s, len) >= 0;
}

static int ev_bool(struct ctx *c, int32_t i)
{
	const struct node *n = &c->r->nodes[i];
	double x;

	switch (n->op) {
	case B_CONST: return n->u.num != 0;
	case B_LT: return ev_num(c, n->a) < ev_num(c, n->b);
	case B_LE: return ev_num(c, n->a) <= ev_num(c, n->b);
	case B_GT: return ev_num(c, n->a) > ev_num(c, n->b);
	case B_GE: return ev_num(c, n->a) >= ev_num(c, n->b);
	case B_EQ: return ev_num(c, n->a) == ev_num(c, n->b);
	case B_NE: return !(ev_num(c, n->a) == ev_num(c, n->b));
	case B_SEQ: return str_eq(c, n);
	case B_SNE: return !str_eq(c, n);
	case B_IN_NUM: return in_num(&c->r->lists[n->u.list], ev_num(c, n->a));
	case B_NIN_NUM: return !in_num(&c->r->lists[n->u.list], ev_num(c, n->a));
	case B_IN_STR: return in_str(c, n);
	case B_NIN_STR: return !in_str(c, n);
	case B_BETWEEN:
		x = ev_num(c, n->a);
		return x >= ev_num(c, n->b) && x <= ev_num(c, n->c);
	case B_AND: return ev_bool(c, n->a) && ev_bool(c, n->b);
	case B_OR: return ev_bool(c, n->a) || ev_bool(c, n->b);
	case B_NOT: return !ev_bool(c, n->a);
	case B_DEF_NUM: return !isnan(ev_num(c, n->a));
	case B_DEF_STR: {
		size_t len;

		return ev_str(c, n->a, &len) != NULL;
	}
	case B_CONTAINS:
	case B_STARTS:
	case B_ENDS: {
		size_t la, lb;
		const char *a = ev_str(c, n->a, &la), *b = ev_str(c, n->b, &lb);

		if (!a || !b || lb > la)
			return 0;
		if (n->op == B_CONTAINS)
			return lb == 0 || memmem(a, la, b, lb) != NULL;
		return memcmp(n->op == B_STARTS ? a : a + la - lb, b, lb) == 0;
	}
	case B_REGEX: {  /* every text value is NUL-terminated at its length */
		size_t len;
		const char *a = ev_str(c, n->a, &len);

		return a && regexec(&c->r->res[n->u.re], a, 0, NULL, 0) == 0;
	}
	default: return 0;
	}
}

size_t fd_rules_eval(const struct fd_rules *r, const struct fd_txn *t, const double *feat,
		     struct fd_rule_hit *hits)
{
	struct ctx c = { .r = r, .t = t, .feat = feat };
	size_t i, nh = 0;

	for (i = 0; i < r->nrules; i++) {
		const struct rule *ru = &r->rules[i];

		if (ev_bool(&c, ru->root)) {
			hits[nh].rule = i;
			hits[nh].points = ru->points;
			hits[nh].action = ru->action;
			nh++;
		}
	}
	ctx_release(&c);
	return nh;
}

int fd_rules_eval_one(const struct fd_rules *r, size_t i, const struct fd_txn *t,
		      const double *feat)
{
	struct ctx c = { .r = r, .t = t, .feat = feat };
	int hit = ev_bool(&c, r->rules[i].root);

	ctx_release(&c);
	return hit;
}

/* The number text p[0 .. n-1] ("-1234567.5") with thousands separators ("-1,234,567.5"):
 * numbers in reasons read alike whether a rule or a model feature says them (fd_score.h). */
static int add_grouped(struct fd_buf *b, const char *p, size_t n)
{
	size_t i = 0, digits;

	if (n && p[0] == '-') {
		if (fd_buf_addc(b, '-'))
			return -1;
		i = 1;
	}
	for (digits = 0; i + digits < n && p[i + digits] >= '0' && p[i + digits] <= '9'; digits++)
		;
	for (; digits; digits--, i++)
		if (fd_buf_addc(b, p[i]) || (digits > 1 && (digits - 1) % 3 == 0 && fd_buf_addc(b, ',')))
			return -1;
	return fd_buf_add(b, p + i, n - i);
}

/* A number for a reason: "7", "3.5", "41.23", "1,250", or with decimals >= 0 exactly that many. */
static int add_number(struct fd_buf *b, double v, int decimals)
{
	char tmp[64];
	int n;

	if (isnan(v))
		return fd_buf_adds(b, "n/a");
	if (isinf(v))
		return fd_buf_adds(b, v > 0 ? "inf" : "-inf");
	if (decimals >= 0)
		n = snprintf(tmp, sizeof(tmp), "%.*f", decimals, v);
	else if (v == floor(v) && fabs(v) < 1e15)
		n = snprintf(tmp, sizeof(tmp), "%.0f", v);
	else {
		n = snprintf(tmp, sizeof(tmp), "%.2f", v);
		if (n > 0 && n < (int)sizeof(tmp) && memchr(tmp, '.', (size_t)n)) {
			while (tmp[n - 1] == '0')
				n--;
			if (tmp[n - 1] == '.')
				n--;
		}
	}
	if (n < 0 || n >= (int)sizeof(tmp))
		return fd_buf_adds(b, "n/a");
	/* "-0" from a tiny negative value rounded away */
	if ((n == 2 && memcmp(tmp, "-0", 2) == 0))
		return fd_buf_adds(b, "0");
	if (decimals > 0 && tmp[0] == '-' && strspn(tmp + 1, "0.") == (size_t)n - 1)
		return add_grouped(b, tmp + 1, (size_t)n - 1);
	if (fabs(v) >= 1e15)
		return fd_buf_add(b, tmp, (size_t)n);
	return add_grouped(b, tmp, (size_t)n);
}

int fd_rules_reason(const struct fd_rules *r, size_t i, const struct fd_txn *t,
		    const double *feat, struct fd_buf *out, struct fd_err *err)
{
	const struct rule *ru = &r->rules[i];
	struct ctx c = { .r = r, .t = t, .feat = feat };
	uint32_t k;
	int bad = 0;

	if (r->arena.s[ru->tmpl] == '\0') { /* no reason: the description, else the id */
		const char *d = arena_str(r, ru->desc);

		bad = fd_buf_adds(out, d[0] ? d : arena_str(r, ru->id));
	}
	for (k = 0; k < ru->nseg && !bad; k++) {
		const struct seg *s = &r->segs[ru->seg0 + k];
		const struct node *n;

		if (s->root < 0) {
			bad = fd_buf_add(out, arena_str(r, s->off), s->len);
			continue;
		}
		n = &r->nodes[s->root];
		if (s->amount) {
			char buf[FD_AMOUNT_BUFSZ];

			const char *a = fd_format_amount(t->amount, t->exponent, buf);

			bad = add_grouped(out, a, strlen(a));
		} else if (n->type == TY_NUM)
			bad = add_number(out, ev_num(&c, s->root), s->decimals);
		else if (n->type == TY_STR) {
			size_t len;
			const char *v = ev_str(&c, s->root, &len);

			bad = v ? fd_buf_add(out, v, len) : fd_buf_adds(out, "n/a");
		} else
			bad = fd_buf_adds(out, ev_bool(&c, s->root) ? "true" : "false");
	}
	ctx_release(&c);
	if (bad)
		return fd_err_set(err, FD_EIO, "out of memory");
	return FD_OK;
}
