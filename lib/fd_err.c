/* fd_err.c — see fd_err.h. */
#include "fd_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "banned.h"

int fd_err_set(struct fd_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void fd_err_prefix(struct fd_err *err, const char *fmt, ...)
{
	char pre[512], old[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	{
		size_t np = strnlen(pre, sizeof(pre)), no = strnlen(old, sizeof(old) - 1), cap = sizeof(err->msg) - 1;
		size_t o = 0;

		memcpy(err->msg, pre, np < cap ? np : cap);
		o = np < cap ? np : cap;
		if (o + 2 <= cap) {
			memcpy(err->msg + o, ": ", 2);
			o += 2;
		}
		if (no > cap - o)
			no = cap - o;
		memcpy(err->msg + o, old, no);
		err->msg[o + no] = '\0';
	}
}

void fd_err_clear(struct fd_err *err)
{
	if (!err)
		return;
	err->code = FD_OK;
	err->msg[0] = '\0';
}

char *fd_visible(char *dst, size_t dstsz, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (dstsz == 0)
		return dst;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[4];
		size_t k = 0;

		if (c == '\n') { tmp[k++] = '\\'; tmp[k++] = 'n'; }
		else if (c == '\t') { tmp[k++] = '\\'; tmp[k++] = 't'; }
		else if (c == '\r') { tmp[k++] = '\\'; tmp[k++] = 'r'; }
		else if (c == '\\') { tmp[k++] = '\\'; tmp[k++] = '\\'; }
		else if (c < 0x20 || c == 0x7f) {
			tmp[k++] = '\\'; tmp[k++] = 'x'; tmp[k++] = hex[c >> 4]; tmp[k++] = hex[c & 15];
		} else
			tmp[k++] = (char)c;
		if (o + k + 4 > dstsz) { /* keep room for "..." and NUL */
			if (dstsz >= 4) {
				memcpy(dst + (o < dstsz - 4 ? o : dstsz - 4), "...", 3);
				o = (o < dstsz - 4 ? o : dstsz - 4) + 3;
			}
			break;
		}
		memcpy(dst + o, tmp, k);
		o += k;
	}
	dst[o < dstsz ? o : dstsz - 1] = '\0';
	return dst;
}

int fd_plain_ident(const char *s, size_t max)
{
	size_t i;

	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= max || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}
