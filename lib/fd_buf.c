/* fd_buf.c — see fd_buf.h. */
#include "fd_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

/* A unit test may define FD_BUF_REALLOC before it includes this file, to make growth fail. */
#ifndef FD_BUF_REALLOC
#define FD_BUF_REALLOC realloc
#endif

void fd_buf_init(struct fd_buf *b)
{
	b->s = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

void fd_buf_release(struct fd_buf *b)
{
	free(b->s);
	fd_buf_init(b);
}

int fd_buf_grow(struct fd_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1, cap;
	char *p;

	if (b->failed)
		return -1;
	if (need < b->len)
		goto fail;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			goto fail;
		cap *= 2;
	}
	p = FD_BUF_REALLOC(b->s, cap);
	if (!p)
		goto fail;
	b->s = p;
	b->cap = cap;
	return 0;
fail:
	b->failed = 1;
	return -1;
}

int fd_buf_add(struct fd_buf *b, const void *p, size_t n)
{
	if (fd_buf_grow(b, n))
		return -1;
	if (n)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int fd_buf_adds(struct fd_buf *b, const char *s)
{
	return fd_buf_add(b, s, strlen(s));
}

int fd_buf_addc(struct fd_buf *b, char c)
{
	if (b->len + 1 < b->cap && !b->failed) {
		b->s[b->len++] = c;
		b->s[b->len] = '\0';
		return 0;
	}
	return fd_buf_add(b, &c, 1);
}

int fd_buf_addf(struct fd_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		if (b->s)
			b->s[b->len] = '\0';
		b->failed = 1;
		return -1;
	}
	if (b->s && (size_t)n < b->cap - b->len) {
		b->len += (size_t)n;
		return 0;
	}
	if (fd_buf_grow(b, (size_t)n))
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int fd_buf_add_json_str(struct fd_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;

	if (fd_buf_grow(b, n + 2))
		return -1;
	b->s[b->len++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6];
		size_t k = 0;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (fd_buf_add(b, s + run, i - run))
			return -1;
		run = i + 1;
		esc[k++] = '\\';
		switch (c) {
		case '"': esc[k++] = '"'; break;
		case '\\': esc[k++] = '\\'; break;
		case '\n': esc[k++] = 'n'; break;
		case '\r': esc[k++] = 'r'; break;
		case '\t': esc[k++] = 't'; break;
		case '\b': esc[k++] = 'b'; break;
		case '\f': esc[k++] = 'f'; break;
		default:
			esc[k++] = 'u'; esc[k++] = '0'; esc[k++] = '0';
			esc[k++] = hex[c >> 4]; esc[k++] = hex[c & 15];
		}
		if (fd_buf_add(b, esc, k))
			return -1;
	}
	if (fd_buf_add(b, s + run, n - run))
		return -1;
	return fd_buf_addc(b, '"');
}

int fd_buf_add_i64(struct fd_buf *b, int64_t v)
{
	char tmp[24];
	int i = (int)sizeof(tmp);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[--i] = '-';
	return fd_buf_add(b, tmp + i, sizeof(tmp) - (size_t)i);
}

int fd_buf_add_hex(struct fd_buf *b, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	if (fd_buf_grow(b, 2 * n))
		return -1;
	for (i = 0; i < n; i++) {
		b->s[b->len++] = hex[p[i] >> 4];
		b->s[b->len++] = hex[p[i] & 15];
	}
	b->s[b->len] = '\0';
	return 0;
}

void fd_hex(const void *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

char *fd_buf_detach(struct fd_buf *b, size_t *len)
{
	char *s;

	if (b->failed || (!b->s && fd_buf_grow(b, 0))) {
		fd_buf_release(b);
		return NULL;
	}
	s = b->s;
	if (len)
		*len = b->len;
	fd_buf_init(b);
	return s;
}
