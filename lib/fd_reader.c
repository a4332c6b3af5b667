/* fd_reader.c — see fd_reader.h.
 *
 * Input is cut into pieces, each ending at a line feed (or, for CSV, at a carriage return
 * that is not part of a CRLF, so that one piece never holds more than one record end).  A
 * piece stays contiguous in the reader's buffer, which grows only for a longer line.
 *
 * CSV.  A record that starts at the beginning of a piece and ends within it — nearly every
 * record — is split here directly: by memchr on the delimiter, or, when the line has quotes,
 * field by field as long as each quoted field is simple ("..." closed on the same line, no
 * doubled quote).  The fields then point into the input buffer: no copy, no allocation.
 * Anything else (a doubled quote, a quoted newline, a stray quote) is given to libcsv, one
 * piece at a time, in strict mode; its fields are copied into fbuf, and its raw text into
 * rawbuf.  Both paths give the same fields for the same line: libcsv's space function is
 * replaced so that it keeps spaces (RFC 4180: spaces are part of a field), which leaves
 * nothing for the quick path to imitate but quotes and delimiters.  fd_reader_csv_quick = 0
 * turns the quick path off, so that tests and the fuzzer can compare the two.
 *
 * NDJSON.  Each member's key and value are found as written in the line, so that numbers come
 * out as their original token ("12.50" stays "12.50", never a binary double printed back) and
 * unbound members are copied out verbatim.  jansson is the judge of what is valid JSON, but it
 * builds a tree for every line, which costs ~6 us for a 17-member object.  So a validating
 * scanner (quick_object) goes first; it accepts only what it is sure jansson accepts — no \u
 * escape, no exponent, no escaped key, no duplicate key, bounded nesting — and records the
 * members as it goes.  Anything else, valid or not, goes to jansson (and then to scan_object,
 * which finds the members in text jansson has validated), so errors are always jansson's.
 * A string value with an escape is decoded by jansson, lazily.  fd_reader_ndjson_quick = 0
 * sends every line to jansson.
 */
#include "fd_reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <strings.h>

#include <csv.h>
#include <jansson.h>
#include "banned.h"

#define READ_CHUNK (256 * 1024)

/* Tests and fuzz targets may clear these to send every line through libcsv / jansson. */
int fd_reader_csv_quick = 1;
int fd_reader_ndjson_quick = 1;

#define QUICK_MAX_DEPTH 32
#define QUICK_MAX_KEYS 256   /* per object */

struct slice {
	const char *s;
	size_t n;
};

struct span {
	size_t off, len;
};

/* One member of an NDJSON object, as offsets into the record's raw text. */
struct member {
	struct span key;    /* with its quotes */
	struct span val;
	int key_esc;        /* the key has a backslash escape */
	int val_esc;        /* the value is a string with a backslash escape */
	int slot;           /* bound slot, or -1 */
};

struct fd_reader {
	struct fd_in *in;
	int format;
	unsigned char delim;

	/* Input: bytes [pos, end) of buf are not consumed yet. */
	char *buf;
	size_t cap, pos, end;
	size_t scanned;       /* bytes from pos known to hold no piece end */
	int eof;
	int started;          /* fd_reader_next() was called */
	int finished;
	struct fd_err fail;   /* sticky FD_EIO */
	int64_t line;         /* line number of buf[pos] */

	/* The current record. */
	int64_t rec_line, count;
	const char *raw;
	size_t raw_n;
	struct fd_buf rawbuf;

	/* CSV */
	struct csv_parser csv;
	int csv_ready;
	int discard;          /* callbacks ignore what libcsv hands them */
	int row_done;
	int oom;
	struct slice *f;      /* fields of the current record */
	size_t nf, fcap;
	struct span *fo;      /* libcsv fields as offsets into fbuf */
	size_t nfo, focap;
	struct fd_buf fbuf;
	char **cols;          /* header */
	size_t ncols;
	unsigned char *col_bound;

	/* Slots */
	char **slot_name;
	size_t *slot_len;
	int *slot_col;        /* CSV column, or -1 */
	size_t nslots;

	/* NDJSON */
	json_t *obj;
	struct member *mem;
	size_t nmem, memcap;
	struct span *keys;    /* quick_object: keys of the objects being scanned */
	size_t nkeys, keycap;
	struct slice *val;    /* per slot */
	unsigned char *present;
	struct fd_buf keybuf;
	unsigned char *dotted;  /* per slot: the name has a '.', a path into nested objects */
	int any_dotted;
	json_t **path_js;       /* per slot: a nested string value decoded by jansson, or NULL */

	/* Encoding (see fill): raw bytes [ipos, iend) of ibuf are not decoded yet. */
	int enc;              /* ENC_NONE, ENC_ICONV, ENC_AUTO (not decided), ENC_CHECK (UTF-8, checked) */
	iconv_t cd;
	char enc_name[40];    /* the encoding in use, as recorded: "utf-8", "windows-1252", ... */
	char *ibuf;
	size_t ipos, iend;
	int ieof;
	int unit;             /* bytes skipped for an invalid sequence: 2 for UTF-16, else 1 */
	uint64_t ioff;        /* raw bytes decoded so far (auto: checked) */
	int64_t iline;        /* auto: lines checked so far */
	int64_t invalid;      /* invalid sequences replaced by the marker */
};

enum { ENC_NONE = 0, ENC_ICONV, ENC_AUTO, ENC_CHECK };

int fd_format_parse(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "csv"))
		return FD_FMT_CSV;
	if (!strcmp(s, "ndjson"))
		return FD_FMT_NDJSON;
	return -1;
}

const char *fd_format_name(int fmt)
{
	switch (fmt) {
	case FD_FMT_AUTO: return "auto";
	case FD_FMT_CSV: return "csv";
	case FD_FMT_NDJSON: return "ndjson";
	default: return "unknown";
	}
}

/* ---- input buffer -------------------------------------------------------------------- */

/* ---- encodings ------------------------------------------------------------------------
 *
 * Without --encoding the bytes go to the parsers as they are (UTF-8 is checked field by field
 * later).  With one, raw bytes are read into ibuf and converted by iconv into buf; a sequence
 * that is not valid in the encoding becomes the byte 0xFF (never valid in UTF-8), so that the
 * record holding it is rejected with the field and offset (fd_reader_invalid_at) instead of
 * stopping the input.  "auto" looks at the first bytes: a UTF-16 byte-order mark selects
 * UTF-16LE/BE; anything else must be UTF-8 (with or without its mark), checked as it streams:
 * the first invalid byte ends the input with its line and offset and a suggestion.
 */

#define ENC_MARK '\xff'

/* The length of the valid UTF-8 sequence at p (n > 0 bytes available): > 0; 0 when invalid;
 * -1 when p holds the start of a sequence cut by the end of the buffer. */
static int utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	int k;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		k = 2;
	else if (c >= 0xe0 && c <= 0xef)
		k = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 4;
	else
		return 0;
	for (int j = 1; j < k; j++) {
		if ((size_t)j >= n)
			return -1;
		if ((p[j] & 0xc0) != 0x80)
			return 0;
		if (j == 1 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) ||
			       (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f)))
			return 0;
	}
	return k;
}

static int enc_setup(struct fd_reader *r, const char *from, const char *name, int unit, struct fd_err *err)
{
	r->cd = iconv_open("UTF-8", from);
	if (r->cd == (iconv_t)-1)
		return fd_err_set(err, FD_EUSAGE, "unknown encoding '%s' (iconv -l lists them; e.g. windows-1252, iso-8859-15, utf-16)", name);
	snprintf(r->enc_name, sizeof(r->enc_name), "%s", name);
	r->unit = unit;
	r->enc = ENC_ICONV;
	return FD_OK;
}

/* Read raw bytes into ibuf behind what is there.  0, or -1 (r->fail set). */
static int raw_fill(struct fd_reader *r)
{
	ssize_t got;

	if (r->ipos > 0) {
		memmove(r->ibuf, r->ibuf + r->ipos, r->iend - r->ipos);
		r->iend -= r->ipos;
		r->ipos = 0;
	}
	got = fd_in_read(r->in, r->ibuf + r->iend, READ_CHUNK - r->iend, &r->fail);
	if (got < 0) {
		if (r->fail.code == FD_OK)
			r->fail.code = FD_EIO;
		return -1;
	}
	if (got == 0)
		r->ieof = 1;
	r->iend += (size_t)got;
	return 0;
}

/* auto: decide from the first bytes. */
static int enc_decide(struct fd_reader *r)
{
	const unsigned char *b = (const unsigned char *)r->ibuf;

	while (r->iend < 4 && !r->ieof)
		if (raw_fill(r))
			return -1;
	if (r->iend >= 2 && b[0] == 0xff && b[1] == 0xfe) {
		r->ipos = 2;
		r->ioff = 2;
		return enc_setup(r, "UTF-16LE", "utf-16le", 2, &r->fail) ? -1 : 0;
	}
	if (r->iend >= 2 && b[0] == 0xfe && b[1] == 0xff) {
		r->ipos = 2;
		r->ioff = 2;
		return enc_setup(r, "UTF-16BE", "utf-16be", 2, &r->fail) ? -1 : 0;
	}
	snprintf(r->enc_name, sizeof(r->enc_name), "utf-8");
	r->enc = ENC_CHECK;
	return 0;
}

/* Move up to room decoded bytes into buf at end.  Returns the count (0 at the end of input),
 * or -1 (r->fail set). */
static ssize_t decode(struct fd_reader *r, char *out, size_t room)
{
	for (;;) {
		size_t avail = r->iend - r->ipos;

		if (r->enc == ENC_AUTO && enc_decide(r))
			return -1;
		if (avail == 0 || (!r->ieof && avail < 8)) {
			if (r->ieof && avail == 0)
				return 0;
			if (!r->ieof) {
				if (raw_fill(r))
					return -1;
				continue;
			}
		}
		avail = r->iend - r->ipos;
		if (r->enc == ENC_CHECK) {
			const unsigned char *p = (const unsigned char *)r->ibuf + r->ipos;
			size_t i = 0, lim = avail < room ? avail : room;

			while (i < lim) {
				int k;

				if (p[i] < 0x80) {
					if (p[i] == '\n')
						r->iline++;
					i++;
					continue;
				}
				k = utf8_len(p + i, avail - i);
				if (k > 0 && i + (size_t)k <= lim) {
					i += (size_t)k;
					continue;
				}
				if (k < 0 && !r->ieof && i > 0)
					break;       /* a sequence cut by the buffer: finish it next time */
				if (k < 0 && !r->ieof) {
					if (raw_fill(r))
						return -1;
					p = (const unsigned char *)r->ibuf + r->ipos;
					avail = r->iend - r->ipos;
					lim = avail < room ? avail : room;
					continue;
				}
				if (k > 0)
					break;       /* no room for it: next time */
				fd_err_set(&r->fail, FD_EINPUT, "%s:%lld: not UTF-8: byte 0x%02x at byte offset %llu is not valid UTF-8; give the file's encoding with --encoding (windows-1252 is the usual one for Windows exports; iso-8859-15 and iso-8859-1 are others)",
					   fd_in_name(r->in), (long long)r->iline + 1, p[i],
					   (unsigned long long)(r->ioff + i));
				return -1;
			}
			memcpy(out, p, i);
			r->ipos += i;
			r->ioff += i;
			return (ssize_t)i;
		}
		{
			char *ip = r->ibuf + r->ipos, *op = out;
			size_t il = avail, ol = room;

			if (iconv(r->cd, &ip, &il, &op, &ol) == (size_t)-1) {
				if (errno == EILSEQ || (errno == EINVAL && r->ieof)) {
					/* not valid in the encoding (or cut short at the very end) */
					size_t skip = il < (size_t)r->unit ? il : (size_t)r->unit;

					if (op == out + room) {
						/* no room left for the marker: next time */
					} else {
						*op++ = ENC_MARK;
						r->invalid++;
						ip += skip;
					}
				} else if (errno != EINVAL && errno != E2BIG) {
					fd_err_set(&r->fail, FD_EIO, "%s: converting from %s: %s", fd_in_name(r->in),
						   r->enc_name, strerror(errno));
					return -1;
				}
			}
			r->ioff += (size_t)(ip - (r->ibuf + r->ipos));
			r->ipos = (size_t)(ip - r->ibuf);
			if (op > out)
				return op - out;
			if (r->ieof && r->ipos == r->iend)
				return 0;
			/* EINVAL: an incomplete sequence at the end of ibuf: read more */
			if (!r->ieof && raw_fill(r))
				return -1;
		}
	}
}

/* Read more input behind what is buffered.  0, or -1 after a read error (r->fail set). */
static int fill(struct fd_reader *r)
{
	ssize_t got;

	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->end -= r->pos;
		r->pos = 0;
	}
	if (r->end == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : READ_CHUNK;
		char *b = cap > r->cap ? realloc(r->buf, cap) : NULL;

		if (!b) {
			fd_err_set(&r->fail, FD_EIO, "%s: out of memory", fd_in_name(r->in));
			return -1;
		}
		r->buf = b;
		r->cap = cap;
	}
	if (r->enc != ENC_NONE)
		got = decode(r, r->buf + r->end, r->cap - r->end);
	else
		got = fd_in_read(r->in, r->buf + r->end, r->cap - r->end, &r->fail);
	if (got < 0) {
		/* A corrupt zstd stream is bad input, but the reader cannot go on either way. */
		if (r->fail.code == FD_OK)
			r->fail.code = FD_EIO;
		return -1;
	}
	if (got == 0)
		r->eof = 1;
	r->end += (size_t)got;
	return 0;
}

/*
 * The next piece of input: *n bytes at *p, ending with its '\n' (or, when split_cr, with a
 * '\r' not followed by '\n'), or the last bytes of the input without one.  1, 0 at the end,
 * -1 on a read error.  The piece stays in the buffer until consume().
 */
static int next_piece(struct fd_reader *r, int split_cr, const char **p, size_t *n)
{
	for (;;) {
		char *s = r->buf + r->pos, *lf, *cr;
		size_t avail = r->end - r->pos, from = r->scanned;

		lf = from < avail ? memchr(s + from, '\n', avail - from) : NULL;
		if (lf) {
			*p = s;
			*n = (size_t)(lf - s) + 1;
			if (split_cr && (cr = memchr(s + from, '\r', (size_t)(lf - s) - from)) &&
			    cr + 1 != lf)
				*n = (size_t)(cr - s) + 1;
			return 1;
		}
		if (split_cr && from < avail && (cr = memchr(s + from, '\r', avail - from)) &&
		    (cr + 1 < s + avail || r->eof)) {
			*p = s;
			*n = (size_t)(cr - s) + 1;
			return 1;
		}
		if (r->eof) {
			if (avail == 0)
				return 0;
			*p = s;
			*n = avail;
			return 1;
		}
		/* Nothing ends here yet; a '\r' in the last byte may still start a CRLF. */
		r->scanned = avail && s[avail - 1] == '\r' ? avail - 1 : avail;
		if (fill(r))
			return -1;
	}
}

static void consume(struct fd_reader *r, const char *p, size_t n)
{
	r->pos += n;
	r->scanned = 0;
	if (n && p[n - 1] == '\n')
		r->line++;
}

/* Length of a piece without its line end (LF, CRLF or CR). */
static size_t content_len(const char *p, size_t n)
{
	if (n && p[n - 1] == '\n')
		n--;
	if (n && p[n - 1] == '\r')
		n--;
	return n;
}

static int eio(struct fd_reader *r, struct fd_err *err)
{
	if (err)
		*err = r->fail;
	return -FD_EIO;
}

static int oom(struct fd_reader *r, struct fd_err *err)
{
	fd_err_set(&r->fail, FD_EIO, "%s: out of memory", fd_in_name(r->in));
	return eio(r, err);
}

/* ---- CSV ----------------------------------------------------------------------------- */

static int grow_fields(struct fd_reader *r)
{
	size_t cap = r->fcap ? 2 * r->fcap : 32;
	struct slice *f = realloc(r->f, cap * sizeof(*f));

	if (!f)
		return -1;
	r->f = f;
	r->fcap = cap;
	return 0;
}

/* inline: called once a field, and the array grows only in the first records */
static inline int push_field(struct fd_reader *r, const char *s, size_t n)
{
	if (r->nf == r->fcap && grow_fields(r))
		return -1;
	r->f[r->nf].s = s;
	r->f[r->nf].n = n;
	r->nf++;
	return 0;
}

/*
 * Split a line that holds one whole record (content without its line end) into fields, as
 * libcsv would.  1 when done, 0 when the line needs libcsv, -1 when out of memory.
 */
static int quick_split(struct fd_reader *r, const char *p, size_t n)
{
	const char *e = p + n, *s = p, *d;
	unsigned char delim = r->delim;

	r->nf = 0;
	if (!memchr(p, '"', n)) {
		for (;;) {
			d = memchr(s, delim, (size_t)(e - s));
			if (!d)
				return push_field(r, s, (size_t)(e - s)) ? -1 : 1;
			if (push_field(r, s, (size_t)(d - s)))
				return -1;
			s = d + 1;
		}
	}
	for (;;) {
		if (s < e && *s == '"') {
			const char *q = memchr(s + 1, '"', (size_t)(e - s - 1));

			if (!q || (q + 1 < e && (unsigned char)q[1] != delim))
				return 0;  /* continues on the next line, doubled quote, or junk */
			if (push_field(r, s + 1, (size_t)(q - s - 1)))
				return -1;
			if (q + 1 == e)
				return 1;
			s = q + 2;
			continue;
		}
		d = memchr(s, delim, (size_t)(e - s));
		if (!d)
			d = e;
		if (memchr(s, '"', (size_t)(d - s)))
			return 0;  /* a quote inside an unquoted field: libcsv reports it */
		if (push_field(r, s, (size_t)(d - s)))
			return -1;
		if (d == e)
			return 1;
		s = d + 1;
	}
}

static void cb_field(void *s, size_t n, void *data)
{
	struct fd_reader *r = data;

	if (r->discard || r->oom)
		return;
	if (r->nfo == r->focap) {
		size_t cap = r->focap ? 2 * r->focap : 32;
		struct span *fo = realloc(r->fo, cap * sizeof(*fo));

		if (!fo) {
			r->oom = 1;
			return;
		}
		r->fo = fo;
		r->focap = cap;
	}
	r->fo[r->nfo].off = r->fbuf.len;
	r->fo[r->nfo].len = n;
	if (fd_buf_add(&r->fbuf, s, n)) {
		r->oom = 1;
		return;
	}
	r->nfo++;
}

static void cb_row(int c, void *data)
{
	struct fd_reader *r = data;

	(void)c;
	if (!r->discard)
		r->row_done = 1;
}

/* RFC 4180: spaces are part of a field.  (libcsv's default trims them.) */
static int no_space(unsigned char c)
{
	(void)c;
	return 0;
}

/* Put libcsv back at the start of a row, dropping whatever it holds. */
static void csv_restart(struct fd_reader *r)
{
	r->discard = 1;
	csv_set_opts(&r->csv, CSV_STRICT);
	csv_fini(&r->csv, cb_field, cb_row, r);
	csv_set_opts(&r->csv, CSV_STRICT | CSV_STRICT_FINI);
	r->discard = 0;
}

/* The slow path's result: raw text and fields from the buffers. */
static int csv_slow_done(struct fd_reader *r)
{
	size_t i;

	r->raw = r->rawbuf.s;
	r->raw_n = content_len(r->rawbuf.s, r->rawbuf.len);
	r->nf = 0;
	for (i = 0; i < r->nfo; i++)
		if (push_field(r, r->fbuf.s + r->fo[i].off, r->fo[i].len))
			return -1;
	return 0;
}

static int bad(struct fd_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct fd_err *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->code = FD_EINPUT;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -FD_EINPUT;
}

/* Whitespace-only (spaces and tabs other than the delimiter), the line end removed. */
static int csv_blank(const struct fd_reader *r, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((p[i] != ' ' && p[i] != '\t') || (unsigned char)p[i] == r->delim)
			return 0;
	return 1;
}

/* Read one CSV record (header or data): 1, 0 at the end, -FD_EINPUT, -FD_EIO. */
static int csv_record(struct fd_reader *r, struct fd_err *err)
{
	int in_rec = 0;

	r->nf = r->nfo = 0;
	r->raw = NULL;
	r->raw_n = 0;
	fd_buf_reset(&r->fbuf);
	fd_buf_reset(&r->rawbuf);
	r->row_done = 0;
	for (;;) {
		const char *p;
		size_t n, c, done;
		int rc = next_piece(r, 1, &p, &n);

		if (rc < 0)
			return eio(r, err);
		if (rc == 0) {
			if (!in_rec)
				return 0;
			/* The last record has no line end. */
			if (csv_fini(&r->csv, cb_field, cb_row, r) != 0) {
				csv_restart(r);
				r->raw = r->rawbuf.s;
				r->raw_n = content_len(r->rawbuf.s, r->rawbuf.len);
				r->nf = 0;
				return bad(err, "a quoted field is not closed before the end of the input");
			}
			if (r->oom || csv_slow_done(r))
				return oom(r, err);
			return 1;
		}
		if (!in_rec) {
			c = content_len(p, n);
			if (c == 0 || ((*p == ' ' || *p == '\t') && csv_blank(r, p, c))) {
				consume(r, p, n);
				continue;
			}
			r->rec_line = r->line;
			if (fd_reader_csv_quick) {
				rc = quick_split(r, p, c);
				if (rc < 0)
					return oom(r, err);
				if (rc > 0) {
					r->raw = p;
					r->raw_n = c;
					consume(r, p, n);
					return 1;
				}
			}
			in_rec = 1;
		}
		if (fd_buf_add(&r->rawbuf, p, n))
			return oom(r, err);
		done = csv_parse(&r->csv, p, n, cb_field, cb_row, r);
		consume(r, p, n);
		if (done < n) {
			if (csv_error(&r->csv) != CSV_EPARSE)
				return oom(r, err);
			csv_restart(r);
			r->raw = r->rawbuf.s;
			r->raw_n = content_len(r->rawbuf.s, r->rawbuf.len);
			r->nf = 0;
			return bad(err, "malformed quoting: a quote inside an unquoted field, "
				   "or text after a closing quote");
		}
		if (r->oom)
			return oom(r, err);
		if (r->row_done)
			return csv_slow_done(r) ? oom(r, err) : 1;
	}
}

static int csv_open(struct fd_reader *r, struct fd_err *err)
{
	const char *name = fd_in_name(r->in);
	size_t i, j;
	int rc;

	if (csv_init(&r->csv, CSV_STRICT | CSV_STRICT_FINI) != 0)
		return fd_err_set(err, FD_EIO, "out of memory");
	r->csv_ready = 1;
	csv_set_delim(&r->csv, r->delim);
	csv_set_space_func(&r->csv, no_space);

	rc = csv_record(r, err);
	if (rc == 0) {
		r->finished = 1;  /* empty input: no header, no record */
		return FD_OK;
	}
	if (rc == -FD_EIO)
		return r->fail.code;
	if (rc < 0) {
		fd_err_prefix(err, "%s:%lld: bad header", name, (long long)r->rec_line);
		return FD_EINPUT;
	}
	r->cols = calloc(r->nf, sizeof(*r->cols));
	r->col_bound = calloc(r->nf, 1);
	if (!r->cols || !r->col_bound)
		return fd_err_set(err, FD_EIO, "out of memory");
	r->ncols = r->nf;
	for (i = 0; i < r->nf; i++) {
		r->cols[i] = malloc(r->f[i].n + 1);
		if (!r->cols[i])
			return fd_err_set(err, FD_EIO, "out of memory");
		memcpy(r->cols[i], r->f[i].s, r->f[i].n);
		r->cols[i][r->f[i].n] = '\0';
	}
	/* Names are C strings from here on: compared as such ("a\0b" is "a"). */
	for (i = 0; i < r->nf; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(r->cols[i], r->cols[j])) {
				char vis[256];

				fd_visible(vis, sizeof(vis), r->cols[i], strlen(r->cols[i]));
				return fd_err_set(err, FD_EINPUT,
						  "%s:%lld: duplicate column '%s' in the header "
						  "(columns %zu and %zu)", name,
						  (long long)r->rec_line, vis, j + 1, i + 1);
			}
	r->nf = 0;
	r->raw = NULL;
	r->raw_n = 0;
	return FD_OK;
}

static int csv_next(struct fd_reader *r, struct fd_err *err)
{
	int rc = csv_record(r, err);

	if (rc == 0) {
		r->finished = 1;
		return 0;
	}
	if (rc == -FD_EIO)
		return rc;
	r->count++;
	if (rc == 1 && r->nf != r->ncols)
		return bad(err, "expected %zu field%s, found %zu", r->ncols,
			   r->ncols == 1 ? "" : "s", r->nf);
	return rc;
}

/* ---- NDJSON -------------------------------------------------------------------------- */

static size_t skip_ws(const char *s, size_t i, size_t n)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	return i;
}

/* s[i] is '"': the index after the closing quote, or 0.  *esc = 1 when it has a '\'. */
static size_t scan_string(const char *s, size_t i, size_t n, int *esc)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\') {
			*esc = 1;
			i++;
		} else if (s[i] == '"') {
			return i + 1;
		}
	}
	return 0;
}

/* The index after the JSON value that starts at s[i], or 0. */
static size_t scan_value(const char *s, size_t i, size_t n, int *esc)
{
	size_t depth = 0;
	int dummy = 0;

	if (i >= n)
		return 0;
	if (s[i] == '"')
		return scan_string(s, i, n, esc);
	if (s[i] != '{' && s[i] != '[') {
		size_t j = i;

		while (j < n && !memchr(",}] \t\r\n", s[j], 7))
			j++;
		return j > i ? j : 0;
	}
	while (i < n) {
		char c = s[i];

		if (c == '"') {
			i = scan_string(s, i, n, &dummy);
			if (!i)
				return 0;
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (--depth == 0)
				return i + 1;
		}
		i++;
	}
	return 0;
}

static int add_member(struct fd_reader *r, const struct member *m)
{
	if (r->nmem == r->memcap) {
		size_t cap = r->memcap ? 2 * r->memcap : 32;
		struct member *a = realloc(r->mem, cap * sizeof(*a));

		if (!a)
			return -1;
		r->mem = a;
		r->memcap = cap;
	}
	r->mem[r->nmem++] = *m;
	return 0;
}

/* Find the members of the object in s (already validated by jansson).  0, -1 (memory),
 * -2 (the scanner does not follow: should not happen). */
static int scan_object(struct fd_reader *r, const char *s, size_t n)
{
	size_t i = skip_ws(s, 0, n), j;

	r->nmem = 0;
	if (i >= n || s[i] != '{')
		return -2;
	i = skip_ws(s, i + 1, n);
	if (i < n && s[i] == '}')
		return 0;
	for (;;) {
		struct member m;

		memset(&m, 0, sizeof(m));
		m.slot = -1;
		if (i >= n || s[i] != '"')
			return -2;
		j = scan_string(s, i, n, &m.key_esc);
		if (!j)
			return -2;
		m.key.off = i;
		m.key.len = j - i;
		i = skip_ws(s, j, n);
		if (i >= n || s[i] != ':')
			return -2;
		i = skip_ws(s, i + 1, n);
		j = scan_value(s, i, n, &m.val_esc);
		if (!j)
			return -2;
		m.val.off = i;
		m.val.len = j - i;
		if (add_member(r, &m))
			return -1;
		i = skip_ws(s, j, n);
		if (i < n && s[i] == ',') {
			i = skip_ws(s, i + 1, n);
			continue;
		}
		return i < n && s[i] == '}' ? 0 : -2;
	}
}

/* The length of the valid UTF-8 sequence at p (jansson's rules: no overlong form, no
 * surrogate, nothing above U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000))
		return 0;
	return len;
}

/* s[*i] is '"'.  1 and *i past the closing quote when the string is surely valid. */
static int quick_string(const char *s, size_t n, size_t *i, int *esc)
{
	size_t j = *i + 1, k;

	while (j < n) {
		unsigned char c = (unsigned char)s[j];

		if (c == '"') {
			*i = j + 1;
			return 1;
		}
		if (c < 0x20)
			return 0;
		if (c == '\\') {
			if (j + 1 >= n || !memchr("\"\\/bfnrt", s[j + 1], 8))
				return 0;  /* \u (or an invalid escape): jansson's call */
			*esc = 1;
			j += 2;
		} else if (c < 0x80) {
			j++;
		} else {
			k = utf8_seq((const unsigned char *)s + j, n - j);
			if (!k)
				return 0;
			j += k;
		}
	}
	return 0;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* JSON number grammar, without an exponent (which might overflow: jansson's call). */
static int quick_number(const char *s, size_t n, size_t *i)
{
	size_t j = *i;

	if (j < n && s[j] == '-')
		j++;
	if (j < n && s[j] == '0') {
		j++;
	} else if (j < n && s[j] >= '1' && s[j] <= '9') {
		while (j < n && is_digit(s[j]))
			j++;
	} else {
		return 0;
	}
	if (j < n && s[j] == '.') {
		j++;
		if (j >= n || !is_digit(s[j]))
			return 0;
		while (j < n && is_digit(s[j]))
			j++;
	}
	if (j < n && (s[j] == 'e' || s[j] == 'E' || is_digit(s[j])))
		return 0;
	if (j - *i > 300)
		return 0;
	*i = j;
	return 1;
}

static int quick_object(struct fd_reader *r, const char *s, size_t n, size_t *i, int depth,
			int top);

static int quick_value(struct fd_reader *r, const char *s, size_t n, size_t *i, int depth,
		       int *esc)
{
	if (*i >= n)
		return 0;
	switch (s[*i]) {
	case '"':
		return quick_string(s, n, i, esc);
	case '{':
		return quick_object(r, s, n, i, depth + 1, 0);
	case '[': {
		size_t j = skip_ws(s, *i + 1, n);
		int dummy = 0;

		if (depth + 1 > QUICK_MAX_DEPTH)
			return 0;
		if (j < n && s[j] == ']') {
			*i = j + 1;
			return 1;
		}
		for (;;) {
			if (!quick_value(r, s, n, &j, depth + 1, &dummy))
				return 0;
			j = skip_ws(s, j, n);
			if (j < n && s[j] == ',') {
				j = skip_ws(s, j + 1, n);
				continue;
			}
			if (j < n && s[j] == ']') {
				*i = j + 1;
				return 1;
			}
			return 0;
		}
	}
	case 't':
		if (n - *i >= 4 && !memcmp(s + *i, "true", 4)) {
			*i += 4;
			return 1;
		}
		return 0;
	case 'f':
		if (n - *i >= 5 && !memcmp(s + *i, "false", 5)) {
			*i += 5;
			return 1;
		}
		return 0;
	case 'n':
		if (n - *i >= 4 && !memcmp(s + *i, "null", 4)) {
			*i += 4;
			return 1;
		}
		return 0;
	default:
		return quick_number(s, n, i);
	}
}

/*
 * s[*i] is '{'.  1 and *i past the object when it is surely valid JSON for jansson (with
 * JSON_REJECT_DUPLICATES); the members of the top object go to r->mem.  0 means "ask jansson",
 * not "invalid".  A word that runs on after a literal or number ("truex", "1x") fails on the
 * separator expected after it.
 */
static int quick_object(struct fd_reader *r, const char *s, size_t n, size_t *i, int depth,
			int top)
{
	size_t base = r->nkeys, j, k;

	if (depth > QUICK_MAX_DEPTH)
		return 0;
	j = skip_ws(s, *i + 1, n);
	if (j < n && s[j] == '}') {
		*i = j + 1;
		return 1;
	}
	for (;;) {
		struct member m;
		int kesc = 0;

		if (j >= n || s[j] != '"')
			return 0;
		m.key.off = j;
		if (!quick_string(s, n, &j, &kesc) || kesc)
			return 0;  /* an escaped key may equal another spelled differently */
		m.key.len = j - m.key.off;
		for (k = base; k < r->nkeys; k++)
			if (r->keys[k].len == m.key.len &&
			    !memcmp(s + r->keys[k].off, s + m.key.off, m.key.len))
				return 0;  /* duplicate: jansson's message */
		if (r->nkeys - base >= QUICK_MAX_KEYS)
			return 0;
		if (r->nkeys == r->keycap) {
			size_t cap = r->keycap ? 2 * r->keycap : 64;
			struct span *a = realloc(r->keys, cap * sizeof(*a));

			if (!a)
				return 0;
			r->keys = a;
			r->keycap = cap;
		}
		r->keys[r->nkeys++] = m.key;
		j = skip_ws(s, j, n);
		if (j >= n || s[j] != ':')
			return 0;
		j = skip_ws(s, j + 1, n);
		m.val.off = j;
		m.val_esc = 0;
		if (!quick_value(r, s, n, &j, depth, &m.val_esc))
			return 0;
		m.val.len = j - m.val.off;
		if (top) {
			m.key_esc = 0;
			m.slot = -1;
			if (add_member(r, &m))
				return 0;
		}
		j = skip_ws(s, j, n);
		if (j < n && s[j] == ',') {
			j = skip_ws(s, j + 1, n);
			continue;
		}
		if (j < n && s[j] == '}') {
			r->nkeys = base;
			*i = j + 1;
			return 1;
		}
		return 0;
	}
}

/* 1 when the line is surely a valid object, with r->mem filled; 0 to ask jansson. */
static int quick_line(struct fd_reader *r, const char *s, size_t n)
{
	size_t i = skip_ws(s, 0, n);

	r->nmem = 0;
	r->nkeys = 0;
	if (i < n && s[i] == '{' && quick_object(r, s, n, &i, 1, 1) && skip_ws(s, i, n) == n)
		return 1;
	r->nmem = 0;
	r->nkeys = 0;
	return 0;
}

static int find_slot(const struct fd_reader *r, const char *k, size_t n)
{
	size_t i;

	for (i = 0; i < r->nslots; i++)
		if (r->slot_len[i] == n && !memcmp(r->slot_name[i], k, n))
			return (int)i;
	return -1;
}

/*
 * A dotted path ("booking.date") into the validated object text s[0..n): the value of member
 * "booking" (an object), then its member "date", and so on.  1 with the value's span in *v and
 * *esc set for a string with an escape; 0 when a step is missing or not an object.  Member
 * names with an escape never match (a path names plain keys).
 */
static int find_path(const char *s, size_t n, const char *path, size_t pn, struct span *v, int *esc)
{
	const char *dot = memchr(path, '.', pn);
	size_t klen = dot ? (size_t)(dot - path) : pn, i = skip_ws(s, 0, n), j;

	if (i >= n || s[i] != '{')
		return 0;
	i = skip_ws(s, i + 1, n);
	while (i < n && s[i] == '"') {
		int kesc = 0, vesc = 0;
		size_t k0 = i;

		j = scan_string(s, i, n, &kesc);
		if (!j)
			return 0;
		i = skip_ws(s, j, n);
		if (i >= n || s[i] != ':')
			return 0;
		i = skip_ws(s, i + 1, n);
		{
			size_t e = scan_value(s, i, n, &vesc);

			if (!e)
				return 0;
			if (!kesc && j - k0 - 2 == klen && !memcmp(s + k0 + 1, path, klen)) {
				if (!dot) {
					v->off = i;
					v->len = e - i;
					*esc = vesc;
					return 1;
				}
				if (s[i] != '{')
					return 0;
				if (!find_path(s + i, e - i, dot + 1, pn - klen - 1, v, esc))
					return 0;
				v->off += i;
				return 1;
			}
			i = skip_ws(s, e, n);
		}
		if (i < n && s[i] == ',')
			i = skip_ws(s, i + 1, n);
	}
	return 0;
}

/* Values of the slots named by dotted paths that no top-level member matched. */
static int ndjson_paths(struct fd_reader *r)
{
	size_t k;

	for (k = 0; k < r->nslots; k++) {
		struct span v;
		int esc = 0;

		if (!r->dotted[k] || r->present[k])
			continue;
		if (!find_path(r->raw, r->raw_n, r->slot_name[k], r->slot_len[k], &v, &esc))
			continue;
		switch (r->raw[v.off]) {
		case 'n':
			break;
		case '"':
			if (esc) {
				json_t *js = json_loadb(r->raw + v.off, v.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

				if (!json_is_string(js)) {
					json_decref(js);
					return -2;
				}
				r->path_js[k] = js;
				r->val[k].s = json_string_value(js);
				r->val[k].n = json_string_length(js);
			} else {
				r->val[k].s = r->raw + v.off + 1;
				r->val[k].n = v.len - 2;
			}
			r->present[k] = 1;
			break;
		default:
			r->val[k].s = r->raw + v.off;
			r->val[k].n = v.len;
			r->present[k] = 1;
		}
	}
	return 0;
}

/* Give each member its slot and each slot its value. */
static int ndjson_values(struct fd_reader *r)
{
	size_t i;

	if (r->any_dotted)
		for (i = 0; i < r->nslots; i++) {
			json_decref(r->path_js[i]);
			r->path_js[i] = NULL;
		}

	if (r->nslots)
		memset(r->present, 0, r->nslots);
	for (i = 0; i < r->nmem; i++) {
		struct member *m = &r->mem[i];
		const char *k = r->raw + m->key.off + 1, *v = r->raw + m->val.off;
		size_t kn = m->key.len - 2;
		int slot;

		if (m->key_esc) {
			/* Rare: let jansson decode the key. */
			json_t *js = json_loadb(k - 1, kn + 2, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

			if (!json_is_string(js)) {
				json_decref(js);
				return -1;
			}
			fd_buf_reset(&r->keybuf);
			if (fd_buf_add(&r->keybuf, json_string_value(js), json_string_length(js))) {
				json_decref(js);
				return -1;
			}
			json_decref(js);
			k = r->keybuf.s;
			kn = r->keybuf.len;
		}
		slot = find_slot(r, k, kn);
		m->slot = slot;
		if (slot < 0)
			continue;
		switch (*v) {
		case 'n':  /* null: absent */
			break;
		case '"':
			if (m->val_esc) {
				json_t *js;

				if (!r->obj)  /* validated by quick_line: decode now */
					r->obj = json_loadb(r->raw, r->raw_n, JSON_DECODE_INT_AS_REAL |
							    JSON_ALLOW_NUL, NULL);
				js = json_object_getn(r->obj, k, kn);
				if (!json_is_string(js))
					return -2;

				r->val[slot].s = json_string_value(js);
				r->val[slot].n = json_string_length(js);
			} else {
				r->val[slot].s = v + 1;
				r->val[slot].n = m->val.len - 2;
			}
			r->present[slot] = 1;
			break;
		default:   /* number, true, false, object, array: the text as written */
			r->val[slot].s = v;
			r->val[slot].n = m->val.len;
			r->present[slot] = 1;
		}
	}
	return r->any_dotted ? ndjson_paths(r) : 0;
}

static int ndjson_next(struct fd_reader *r, struct fd_err *err)
{
	json_error_t je;
	const char *p;
	size_t n, c, i;
	int rc;

	json_decref(r->obj);
	r->obj = NULL;
	r->nmem = 0;
	if (r->nslots)
		memset(r->present, 0, r->nslots);
	for (;;) {
		rc = next_piece(r, 0, &p, &n);
		if (rc < 0)
			return eio(r, err);
		if (rc == 0) {
			r->finished = 1;
			r->raw = NULL;
			r->raw_n = 0;
			return 0;
		}
		c = content_len(p, n);
		for (i = 0; i < c && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'); i++)
			;
		if (i < c)
			break;
		consume(r, p, n);
	}
	r->rec_line = r->line;
	r->raw = p;
	r->raw_n = c;
	r->count++;
	consume(r, p, n);  /* the bytes stay in the buffer until the next call */

	if (fd_reader_ndjson_quick && quick_line(r, p, c)) {
		rc = ndjson_values(r);
		if (rc == 0)
			return 1;
		if (rc == -1)
			return oom(r, err);
		/* -2: jansson disagrees with quick_line; let it have the last word below */
		json_decref(r->obj);
		r->obj = NULL;
		r->nmem = 0;
	}
	r->obj = json_loadb(p, c, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL,
			    &je);
	if (!r->obj)
		return bad(err, "invalid JSON at column %d: %s", je.column, je.text);
	if (!json_is_object(r->obj))
		return bad(err, "expected a JSON object, found an array");
	rc = scan_object(r, p, c);
	if (rc == 0)
		rc = ndjson_values(r);
	if (rc == -1)
		return oom(r, err);
	if (rc < 0) {
		r->nmem = 0;
		return bad(err, "cannot follow the JSON object (a bug in fd_reader)");
	}
	return 1;
}

/* ---- the interface ------------------------------------------------------------------- */

int fd_reader_open(struct fd_reader **rp, struct fd_in *in, const struct fd_reader_opts *o,
		   struct fd_err *err)
{
	struct fd_reader *r;
	int format = o ? o->format : FD_FMT_AUTO;
	char delim = o && o->delimiter ? o->delimiter : ',';
	size_t i;
	int rc;

	*rp = NULL;
	if (format != FD_FMT_AUTO && format != FD_FMT_CSV && format != FD_FMT_NDJSON)
		return fd_err_set(err, FD_EUSAGE, "unknown input format %d", format);
	if (delim == '"' || delim == '\n' || delim == '\r')
		return fd_err_set(err, FD_EUSAGE, "the CSV delimiter cannot be a quote or a line end");
	r = calloc(1, sizeof(*r));
	if (!r)
		return fd_err_set(err, FD_EIO, "out of memory");
	r->in = in;
	r->delim = (unsigned char)delim;
	r->line = 1;
	fd_buf_init(&r->rawbuf);
	fd_buf_init(&r->fbuf);
	fd_buf_init(&r->keybuf);
	r->cd = (iconv_t)-1;
	snprintf(r->enc_name, sizeof(r->enc_name), "utf-8");
	if (o && o->encoding && strcasecmp(o->encoding, "utf-8") && strcasecmp(o->encoding, "utf8")) {
		if (!(r->ibuf = malloc(READ_CHUNK))) {
			fd_reader_free(r);
			return fd_err_set(err, FD_EIO, "out of memory");
		}
		if (!strcasecmp(o->encoding, "auto"))
			r->enc = ENC_AUTO;
		else {
			int u16 = !strncasecmp(o->encoding, "utf-16", 6) || !strncasecmp(o->encoding, "utf16", 5) ||
				  !strncasecmp(o->encoding, "ucs-2", 5);

			if ((rc = enc_setup(r, o->encoding, o->encoding, u16 ? 2 : 1, err))) {
				fd_reader_free(r);
				return rc;
			}
			for (char *c = r->enc_name; *c; c++)
				*c = (char)tolower((unsigned char)*c);
		}
	}

	/* A byte-order mark at the very start is not data. */
	while (r->end < 3 && !r->eof)
		if (fill(r))
			goto io;
	if (r->end >= 3 && !memcmp(r->buf, "\xef\xbb\xbf", 3))
		r->pos = 3;
	/* A file of another kind would only give a confusing header error, or worse, its bytes
	 * (terminal escapes included) back in one.  The NUL test covers what the first reads
	 * brought. */
	/* enough for every magic, no more (a slow pipe); a read error here is reported by the
	 * first fd_reader_next(), as it would be without this look */
	while (r->end < 16 && !r->eof)
		if (fill(r))
			break;
	{
		const char *kind = fd_binary_kind(r->buf, r->end < 4096 ? r->end : 4096);

		if (kind) {
			rc = fd_err_set(err, FD_EINPUT, "%s: this is %s data, not %s", fd_in_name(in),
					kind, format == FD_FMT_CSV ? "CSV" :
					format == FD_FMT_NDJSON ? "NDJSON" : "CSV or NDJSON");
			fd_reader_free(r);
			return rc;
		}
	}
	if (format == FD_FMT_AUTO) {
		i = r->pos;
		for (;;) {
			size_t off;

			while (i < r->end && (r->buf[i] == ' ' || r->buf[i] == '\t' ||
					      r->buf[i] == '\r' || r->buf[i] == '\n'))
				i++;
			if (i < r->end || r->eof)
				break;
			off = i - r->pos;
			if (fill(r))
				goto io;
			i = r->pos + off;
		}
		format = i < r->end && r->buf[i] == '{' ? FD_FMT_NDJSON : FD_FMT_CSV;
	}
	r->format = format;
	if (format == FD_FMT_CSV) {
		rc = csv_open(r, err);
		if (rc) {
			fd_reader_free(r);
			return rc;
		}
	}
	*rp = r;
	return FD_OK;
io:
	if (err)
		*err = r->fail;
	rc = r->fail.code;
	fd_reader_free(r);
	return rc;
}

void fd_reader_free(struct fd_reader *r)
{
	size_t i;

	if (!r)
		return;
	if (r->csv_ready)
		csv_free(&r->csv);
	json_decref(r->obj);
	for (i = 0; i < r->ncols; i++)
		free(r->cols[i]);
	free(r->cols);
	free(r->col_bound);
	for (i = 0; i < r->nslots; i++)
		free(r->slot_name[i]);
	free(r->slot_name);
	free(r->slot_len);
	free(r->slot_col);
	free(r->val);
	free(r->present);
	for (i = 0; r->path_js && i < r->nslots; i++)
		json_decref(r->path_js[i]);
	free(r->path_js);
	free(r->dotted);
	free(r->mem);
	free(r->keys);
	free(r->f);
	free(r->fo);
	fd_buf_release(&r->fbuf);
	fd_buf_release(&r->rawbuf);
	fd_buf_release(&r->keybuf);
	if (r->cd != (iconv_t)-1)
		iconv_close(r->cd);
	free(r->ibuf);
	free(r->buf);
	free(r);
}

int fd_reader_format(const struct fd_reader *r)
{
	return r->format;
}

size_t fd_reader_columns(const struct fd_reader *r, const char *const **names)
{
	if (r->format != FD_FMT_CSV) {
		if (names)
			*names = NULL;
		return 0;
	}
	if (names)
		*names = (const char *const *)r->cols;
	return r->ncols;
}

static int column_index(const struct fd_reader *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->ncols; i++)
		if (!strcmp(r->cols[i], name))
			return (int)i;
	return -1;
}

int fd_reader_bind(struct fd_reader *r, const char *name)
{
	size_t n = strlen(name), k = r->nslots + 1;
	char **names;
	size_t *lens;
	int *cols, slot;
	struct slice *val;
	unsigned char *present;

	if (r->started)
		return -1;
	slot = find_slot(r, name, n);
	if (slot >= 0)
		return slot;
	names = realloc(r->slot_name, k * sizeof(*names));
	if (names)
		r->slot_name = names;
	lens = realloc(r->slot_len, k * sizeof(*lens));
	if (lens)
		r->slot_len = lens;
	cols = realloc(r->slot_col, k * sizeof(*cols));
	if (cols)
		r->slot_col = cols;
	val = realloc(r->val, k * sizeof(*val));
	if (val)
		r->val = val;
	present = realloc(r->present, k);
	if (present)
		r->present = present;
	{
		unsigned char *dotted = realloc(r->dotted, k);
		json_t **pj = realloc(r->path_js, k * sizeof(*pj));

		if (dotted)
			r->dotted = dotted;
		if (pj)
			r->path_js = pj;
		if (!dotted || !pj)
			return -1;
		dotted[r->nslots] = memchr(name, '.', n) && name[0] != '.' && name[n - 1] != '.';
		pj[r->nslots] = NULL;
		r->any_dotted |= dotted[r->nslots];
	}
	if (!names || !lens || !cols || !val || !present)
		return -1;
	names[r->nslots] = malloc(n + 1);
	if (!names[r->nslots])
		return -1;
	memcpy(names[r->nslots], name, n + 1);
	lens[r->nslots] = n;
	cols[r->nslots] = column_index(r, name);
	if (cols[r->nslots] >= 0)
		r->col_bound[cols[r->nslots]] = 1;
	present[r->nslots] = 0;
	return (int)r->nslots++;
}

int fd_reader_has_column(const struct fd_reader *r, const char *name)
{
	if (r->format != FD_FMT_CSV)
		return 1;
	return column_index(r, name) >= 0;
}

int fd_reader_next(struct fd_reader *r, struct fd_err *err)
{
	if (r->fail.code != FD_OK)
		return eio(r, err);
	r->started = 1;
	if (r->finished) {
		r->nf = 0;
		r->raw = NULL;
		r->raw_n = 0;
		return 0;
	}
	return r->format == FD_FMT_CSV ? csv_next(r, err) : ndjson_next(r, err);
}

int64_t fd_reader_line(const struct fd_reader *r)
{
	return r->rec_line;
}

void fd_reader_raw(const struct fd_reader *r, const char **s, size_t *n)
{
	*s = r->raw ? r->raw : "";
	*n = r->raw_n;
}

int fd_reader_get(const struct fd_reader *r, int slot, const char **s, size_t *n)
{
	int col;

	if (slot < 0 || (size_t)slot >= r->nslots)
		return 0;
	if (r->format == FD_FMT_CSV) {
		col = r->slot_col[slot];
		if (col < 0 || (size_t)col >= r->nf)
			return 0;
		*s = r->f[col].s;
		*n = r->f[col].n;
		return 1;
	}
	if (!r->present[slot])
		return 0;
	*s = r->val[slot].s;
	*n = r->val[slot].n;
	return 1;
}

int fd_reader_unbound_json(const struct fd_reader *r, struct fd_buf *out, size_t *count)
{
	size_t i, k = 0;

	if (fd_buf_addc(out, '{'))
		return -1;
	if (r->format == FD_FMT_CSV) {
		for (i = 0; i < r->ncols && i < r->nf; i++) {
			if (r->col_bound[i])
				continue;
			if ((k++ && fd_buf_addc(out, ',')) ||
			    fd_buf_add_json_str(out, r->cols[i], strlen(r->cols[i])) ||
			    fd_buf_addc(out, ':') ||
			    fd_buf_add_json_str(out, r->f[i].s, r->f[i].n))
				return -1;
		}
	} else {  /* members are parsed on both the quick and the jansson path */
		for (i = 0; i < r->nmem; i++) {
			const struct member *m = &r->mem[i];

			if (m->slot >= 0)
				continue;
			if ((k++ && fd_buf_addc(out, ',')) ||
			    fd_buf_add(out, r->raw + m->key.off, m->key.len) ||
			    fd_buf_addc(out, ':') ||
			    fd_buf_add(out, r->raw + m->val.off, m->val.len))
				return -1;
		}
	}
	if (fd_buf_addc(out, '}'))
		return -1;
	if (count)
		*count = k;
	return 0;
}

const char *fd_reader_encoding(const struct fd_reader *r)
{
	return r->enc_name;
}

int fd_reader_invalid_at(const struct fd_reader *r, const char **name, size_t *name_len,
			 size_t *offset)
{
	size_t i;

	if (r->invalid == 0 || !r->raw || !memchr(r->raw, ENC_MARK, r->raw_n))
		return 0;
	if (r->format == FD_FMT_CSV) {
		for (i = 0; i < r->nf; i++) {
			const char *m = memchr(r->f[i].s, ENC_MARK, r->f[i].n);

			if (m) {
				*name = i < r->ncols ? r->cols[i] : "?";
				*name_len = strlen(*name);
				*offset = (size_t)(m - r->f[i].s);
				return 1;
			}
		}
	} else {
		for (i = 0; i < r->nmem; i++) {
			const struct member *mb = &r->mem[i];
			const char *m = memchr(r->raw + mb->val.off, ENC_MARK, mb->val.len);

			if (m || memchr(r->raw + mb->key.off, ENC_MARK, mb->key.len)) {
				*name = r->raw + mb->key.off + 1;
				*name_len = mb->key.len - 2;
				*offset = m ? (size_t)(m - (r->raw + mb->val.off)) : 0;
				return 1;
			}
		}
	}
	*name = "record";
	*name_len = 6;
	*offset = (size_t)((const char *)memchr(r->raw, ENC_MARK, r->raw_n) - r->raw);
	return 1;
}

int64_t fd_reader_count(const struct fd_reader *r)
{
	return r->count;
}
