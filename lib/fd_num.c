/* fd_num: numbers as a person reads them; see fd_num.h. */
#include "fd_num.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fd_txn.h"

/* Inserts ',' every three digits into the integer part of the plain decimal number in buf
 * ("-1234567.50" becomes "-1,234,567.50"), in place; buf holds FD_NUM_BUFSZ bytes. */
static char *group(char *buf)
{
	char tmp[FD_NUM_BUFSZ];
	const char *p = buf;
	size_t digits, i, o = 0;

	if (*p == '-')
		tmp[o++] = *p++;
	digits = strspn(p, "0123456789");
	for (i = 0; i < digits; i++) {
		if (i > 0 && (digits - i) % 3 == 0)
			tmp[o++] = ',';
		tmp[o++] = p[i];
	}
	/* the fraction, if any, unchanged */
	for (p += digits; *p && o < sizeof(tmp) - 1; p++)
		tmp[o++] = *p;
	tmp[o] = '\0';
	memcpy(buf, tmp, o + 1);
	return buf;
}

static char *fd_num_copy(char *buf, const char *s)
{
	snprintf(buf, FD_NUM_BUFSZ, "%s", s);
	return buf;
}

char *fd_num_amount(int64_t minor, int exponent, char *buf)
{
	/* At most a sign, 19 digits and 6 more bytes (six separators with no point, or a point
	 * and at most five): 26 bytes and the NUL; a small value padded to "0.000..." is shorter. */
	return group(fd_format_amount(minor, exponent, buf));
}

char *fd_num_count(int64_t n, char *buf)
{
	return fd_num_amount(n, 0, buf);
}

char *fd_num_double(double v, int decimals, char *buf)
{
	double scale, s, r;

	if (isnan(v))
		return fd_num_copy(buf, "n/a");
	if (isinf(v))
		return fd_num_copy(buf, v > 0 ? "infinity" : "-infinity");
	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	scale = pow(10, decimals);  /* exact for 0..9 */
	s = v * scale;
	if (fabs(s) >= 9e18) {
		snprintf(buf, FD_NUM_BUFSZ, "%.6g", v);
		return buf;
	}
	/* round() takes halves away from zero; printf would take them to even ("2" for 2.5).
	 * v * scale may round onto a half that the exact product is not on (999.995 * 100 gives
	 * 99999.5 though 999.995 is stored as 999.99499...): fma gives the exact residual of the
	 * product, and its sign decides such a tie.  Away from a tie the rounded product is on
	 * the same side of every half as the exact one, since halves below 2^52 are doubles. */
	r = round(s);
	if (fabs(s - trunc(s)) == 0.5) {
		double e = fma(v, scale, -s);

		if (e > 0)
			r = ceil(s);
		else if (e < 0)
			r = floor(s);
	}
	return fd_num_amount((int64_t)r, decimals, buf);
}

int fd_num_add(struct fd_buf *b, double v, int decimals)
{
	char buf[FD_NUM_BUFSZ];

	return fd_buf_adds(b, fd_num_double(v, decimals, buf));
}
