/*
 * fd_tz.c — see fd_tz.h.
 *
 * A zone is a sorted list of transition instants, each starting a period with one UTC offset,
 * plus the offset before the first transition and an optional POSIX TZ rule for the instants
 * after the last one.  A fixed offset is the same with no transitions and no rule.
 *
 * Local to UTC: a UTC instant u matches local time L when u + offset_at(u) == L.  Offsets are
 * within ±26 h, so u lies within 26 h of L; zones change offset at most once in any such
 * 52-hour window, so the offsets in effect 26 h either side of L are the only candidates.
 * Two matches: ambiguous; none: nonexistent.
 */
#include "fd_tz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fd_txn.h"
#include "banned.h"

#define WINDOW (26 * 3600)

/* One rule date of a POSIX TZ string: Jn (1-365, Feb 29 never counted), n (0-365), or
 * Mm.w.d (day d of week w (5 = last) of month m). */
struct rule_date {
	char kind;      /* 'J', 'N' or 'M' */
	int a, b, c;    /* J/N: day; M: month, week, weekday */
	int32_t time;   /* seconds after local midnight (may be negative or beyond 24 h) */
};

struct posix_rule {
	int32_t std_off, dst_off;  /* seconds east of UTC */
	int has_dst;
	struct rule_date start, end;
};

struct fd_tz {
	char *name;
	int64_t *at;          /* transition instants, UTC seconds, ascending */
	int32_t *off;         /* offset from at[i] on */
	size_t n;
	int32_t off0;         /* offset before the first transition */
	int has_rule;
	struct posix_rule rule;
};

static const char R_GAP[] = "nonexistent local time (skipped by a daylight-saving change)";
static const char R_AMBIG[] = "ambiguous local time (repeated by a daylight-saving change)";

int fd_tz_dst_parse(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "earlier"))
		return FD_DST_EARLIER;
	if (!strcmp(s, "later"))
		return FD_DST_LATER;
	if (!strcmp(s, "reject"))
		return FD_DST_REJECT;
	return -1;
}

const char *fd_tz_dst_name(int policy)
{
	return policy == FD_DST_LATER ? "later" : policy == FD_DST_REJECT ? "reject" : "earlier";
}

void fd_tz_free(struct fd_tz *tz)
{
	if (!tz)
		return;
	free(tz->name);
	free(tz->at);
	free(tz->off);
	free(tz);
}

const char *fd_tz_name(const struct fd_tz *tz)
{
	return tz->name;
}

int fd_tz_fixed(const struct fd_tz *tz, int *offset_min)
{
	if (tz->n || tz->has_rule)
		return 0;
	*offset_min = tz->off0 / 60;
	return 1;
}

/* ---- POSIX TZ rules ------------------------------------------------------------------ */

/* [+-]hh[:mm[:ss]] with hh up to max_h; seconds into *v.  Returns the end, or NULL. */
static const char *posix_hms(const char *p, int max_h, int32_t *v)
{
	int sign = 1, h = 0, m = 0, s = 0, nd = 0;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	while (*p >= '0' && *p <= '9' && nd < 3) {
		h = h * 10 + (*p++ - '0');
		nd++;
	}
	if (!nd || h > max_h)
		return NULL;
	if (*p == ':') {
		p++;
		if (!(p[0] >= '0' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9'))
			return NULL;
		m = (p[0] - '0') * 10 + (p[1] - '0');
		p += 2;
		if (*p == ':') {
			p++;
			if (!(p[0] >= '0' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9'))
				return NULL;
			s = (p[0] - '0') * 10 + (p[1] - '0');
			p += 2;
		}
	}
	*v = sign * (h * 3600 + m * 60 + s);
	return p;
}

/* A zone abbreviation: 3+ letters, or <...> of letters, digits, '+' and '-'. */
static const char *posix_name(const char *p)
{
	const char *q = p;

	if (*p == '<') {
		for (q = p + 1; *q && *q != '>'; q++)
			if (!((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') ||
			      (*q >= '0' && *q <= '9') || *q == '+' || *q == '-'))
				return NULL;
		return *q == '>' && q - p >= 4 ? q + 1 : NULL;
	}
	while ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z'))
		q++;
	return q - p >= 3 ? q : NULL;
}

static const char *posix_num(const char *p, int lo, int hi, int *v)
{
	int x = 0, nd = 0;

	while (*p >= '0' && *p <= '9' && nd < 4) {
		x = x * 10 + (*p++ - '0');
		nd++;
	}
	if (!nd || x < lo || x > hi)
		return NULL;
	*v = x;
	return p;
}

static const char *posix_date(const char *p, struct rule_date *d)
{
	if (*p == 'J') {
		d->kind = 'J';
		p = posix_num(p + 1, 1, 365, &d->a);
	} else if (*p == 'M') {
		d->kind = 'M';
		if (!(p = posix_num(p + 1, 1, 12, &d->a)) || *p != '.' ||
		    !(p = posix_num(p + 1, 1, 5, &d->b)) || *p != '.' ||
		    !(p = posix_num(p + 1, 0, 6, &d->c)))
			return NULL;
	} else {
		d->kind = 'N';
		p = posix_num(p, 0, 365, &d->a);
	}
	if (!p)
		return NULL;
	d->time = 2 * 3600;
	if (*p == '/')
		p = posix_hms(p + 1, 167, &d->time);   /* RFC 8536 3.3.1: -167..167 hours */
	return p;
}

/* Parse a POSIX TZ string (RFC 8536 section 3.3; offsets are west-positive in the text). */
static int posix_parse(const char *s, struct posix_rule *r)
{
	const char *p = posix_name(s);
	int32_t v;

	memset(r, 0, sizeof(*r));
	if (!p || !(p = posix_hms(p, 24, &v)))
		return -1;
	r->std_off = -v;
	if (!*p)
		return 0;
	if (!(p = posix_name(p)))
		return -1;
	r->has_dst = 1;
	r->dst_off = r->std_off + 3600;
	if (*p && *p != ',') {
		if (!(p = posix_hms(p, 24, &v)))
			return -1;
		r->dst_off = -v;
	}
	if (!*p) {
		/* no rule: the US rules, as POSIX implementations default to */
		r->start = (struct rule_date){'M', 3, 2, 0, 7200};
		r->end = (struct rule_date){'M', 11, 1, 0, 7200};
		return 0;
	}
	if (*p != ',' || !(p = posix_date(p + 1, &r->start)) || *p != ',' ||
	    !(p = posix_date(p + 1, &r->end)) || *p)
		return -1;
	return 0;
}

static int leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Local seconds of the rule date's transition in year y (local time of the offset in effect
 * before it), as an epoch count. */
static int64_t rule_local(const struct rule_date *d, int64_t y)
{
	int64_t day;

	if (d->kind == 'J') {
		day = fd_days_from_civil(y, 1, 1) + d->a - 1;
		if (leap(y) && d->a >= 60)
			day++;
	} else if (d->kind == 'N') {
		day = fd_days_from_civil(y, 1, 1) + d->a;
	} else {
		static const int mlen[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
		int64_t first = fd_days_from_civil(y, (unsigned)d->a, 1);
		int wd1 = (int)(((first % 7) + 7 + 4) % 7);   /* 1970-01-01 was a Thursday (4) */
		int len = mlen[d->a - 1] + (d->a == 2 && leap(y));
		int dom = 1 + (d->c - wd1 + 7) % 7 + (d->b - 1) * 7;

		while (dom > len)
			dom -= 7;
		day = first + dom - 1;
	}
	return day * 86400 + d->time;
}

static int32_t rule_offset(const struct posix_rule *r, int64_t u)
{
	int64_t y, start, end;
	unsigned m, d;

	if (!r->has_dst)
		return r->std_off;
	fd_civil_from_days((u + r->std_off) / 86400 - ((u + r->std_off) % 86400 < 0), &y, &m, &d);
	start = rule_local(&r->start, y) - r->std_off;
	end = rule_local(&r->end, y) - r->dst_off;
	if (start < end)
		return u >= start && u < end ? r->dst_off : r->std_off;
	return u >= end && u < start ? r->std_off : r->dst_off;
}

/* ---- lookup -------------------------------------------------------------------------- */

int32_t fd_tz_offset_at(const struct fd_tz *tz, int64_t u)
{
	size_t lo = 0, hi = tz->n;

	if (tz->n == 0 || u < tz->at[0])
		return tz->n == 0 && tz->has_rule ? rule_offset(&tz->rule, u) : tz->off0;
	if (u >= tz->at[tz->n - 1] && tz->has_rule)
		return rule_offset(&tz->rule, u);
	/* the last i with at[i] <= u */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (tz->at[mid] <= u)
			lo = mid;
		else
			hi = mid;
	}
	return tz->off[lo];
}

const char *fd_tz_to_utc(const struct fd_tz *tz, int64_t local, int policy, int64_t *utc)
{
	int32_t before = fd_tz_offset_at(tz, local - WINDOW), after = fd_tz_offset_at(tz, local + WINDOW);
	int64_t ub = local - before, ua = local - after;
	int okb = fd_tz_offset_at(tz, ub) == before, oka = fd_tz_offset_at(tz, ua) == after;

	if (before == after || (okb && !oka)) {
		*utc = ub;
		return NULL;
	}
	if (oka && !okb) {
		*utc = ua;
		return NULL;
	}
	/* both match (ambiguous) or neither does (nonexistent) */
	if (policy == FD_DST_REJECT)
		return okb ? R_AMBIG : R_GAP;
	if (okb)    /* ambiguous: the earlier instant is the smaller one */
		*utc = policy == FD_DST_LATER ? (ub > ua ? ub : ua) : (ub < ua ? ub : ua);
	else        /* a gap: read with the offset before the change, or after it */
		*utc = policy == FD_DST_LATER ? ua : ub;
	return NULL;
}

/* ---- TZif ---------------------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static int bad_tzif(struct fd_err *err, const char *name, const char *why)
{
	return fd_err_set(err, FD_EINPUT, "time zone file '%s' is not valid TZif: %s", name, why);
}

int fd_tz_load_tzif(struct fd_tz **out, const void *data, size_t n, const char *name,
		    struct fd_err *err)
{
	const unsigned char *p = data, *end = p + n;
	uint32_t isut, isstd, leapcnt, timecnt, typecnt, charcnt;
	size_t w = 4, body;
	struct fd_tz *tz;
	int version, i;

	*out = NULL;
	if (n < 44 || memcmp(p, "TZif", 4) != 0)
		return bad_tzif(err, name, "no TZif header");
	version = p[4];
	if (version != 0 && (version < '2' || version > '9'))
		return bad_tzif(err, name, "unknown version");
	for (i = 0; i < (version ? 2 : 1); i++) {
		isut = be32(p + 20);
		isstd = be32(p + 24);
		leapcnt = be32(p + 28);
		timecnt = be32(p + 32);
		typecnt = be32(p + 36);
		charcnt = be32(p + 40);
		if (typecnt == 0 || typecnt > 256 || timecnt > 100000 || leapcnt > 100000 ||
		    charcnt > 100000 || (isut && isut != typecnt) || (isstd && isstd != typecnt))
			return bad_tzif(err, name, "bad counts");
		body = timecnt * w + timecnt + typecnt * 6 + charcnt + leapcnt * (w + 4) + isstd + isut;
		if ((size_t)(end - p) < 44 + body)
			return bad_tzif(err, name, "truncated");
		if (i == 0 && version) {
			/* skip the version 1 body to the 64-bit one */
			p += 44 + body;
			if (end - p < 44 || memcmp(p, "TZif", 4) != 0)
				return bad_tzif(err, name, "no second header");
			w = 8;
		}
	}
	if (!(tz = calloc(1, sizeof(*tz))) || !(tz->name = strdup(name)) ||
	    (timecnt && (!(tz->at = malloc(timecnt * sizeof(*tz->at))) ||
			 !(tz->off = malloc(timecnt * sizeof(*tz->off)))))) {
		fd_tz_free(tz);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	{
		const unsigned char *t = p + 44, *idx = t + timecnt * w, *types = idx + timecnt;

		for (uint32_t k = 0; k < timecnt; k++) {
			int64_t at = w == 8 ? be64(t + k * 8) : (int32_t)be32(t + k * 4);
			unsigned ti = idx[k];

			if (ti >= typecnt || (k && at <= tz->at[k - 1])) {
				fd_tz_free(tz);
				return bad_tzif(err, name, ti >= typecnt ? "bad type index" : "transitions out of order");
			}
			tz->at[k] = at;
			tz->off[k] = (int32_t)be32(types + ti * 6);
		}
		tz->n = timecnt;
		for (uint32_t k = 0; k < typecnt; k++) {
			int32_t o = (int32_t)be32(types + k * 6);

			if (o < -25 * 3600 || o > 26 * 3600) {
				fd_tz_free(tz);
				return bad_tzif(err, name, "offset out of range");
			}
		}
		/* RFC 8536 3.2: local time before the first transition is type 0 */
		tz->off0 = (int32_t)be32(types);
		p += 44 + body;
	}
	if (version && p < end) {
		/* the footer: "\n" POSIX-TZ-string "\n" */
		const unsigned char *nl;
		char s[128];

		if (*p != '\n' || !(nl = memchr(p + 1, '\n', (size_t)(end - p - 1))) ||
		    (size_t)(nl - p - 1) >= sizeof(s)) {
			fd_tz_free(tz);
			return bad_tzif(err, name, "bad footer");
		}
		memcpy(s, p + 1, (size_t)(nl - p - 1));
		s[nl - p - 1] = '\0';
		if (s[0]) {
			if (posix_parse(s, &tz->rule)) {
				fd_tz_free(tz);
				return bad_tzif(err, name, "bad TZ string in the footer");
			}
			tz->has_rule = 1;
		}
	}
	*out = tz;
	return FD_OK;
}

static int valid_zone_name(const char *s)
{
	const char *p;

	if (!*s || *s == '/' || *s == '.' || strstr(s, "..") || strlen(s) > 200)
		return 0;
	for (p = s; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '/' || *p == '_' || *p == '+' || *p == '-'))
			return 0;
	return 1;
}

int fd_tz_load(struct fd_tz **out, const char *spec, struct fd_err *err)
{
	const char *dir = getenv("TZDIR");
	char path[512];
	unsigned char *data = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int off, rc;

	*out = NULL;
	if (!spec || !*spec)
		return fd_err_set(err, FD_EUSAGE, "empty time zone");
	if ((spec[0] == '+' || spec[0] == '-') || !strcasecmp(spec, "UTC") || !strcasecmp(spec, "Z")) {
		const char *why = fd_parse_tz(spec, &off);
		struct fd_tz *tz;

		if (why)
			return fd_err_set(err, FD_EUSAGE, "time zone '%s': %s", spec, why);
		if (!(tz = calloc(1, sizeof(*tz))) || !(tz->name = strdup(spec))) {
			fd_tz_free(tz);
			return fd_err_set(err, FD_EIO, "out of memory");
		}
		tz->off0 = off * 60;
		*out = tz;
		return FD_OK;
	}
	if (!valid_zone_name(spec))
		return fd_err_set(err, FD_EUSAGE, "'%s' is not a time zone (UTC, an offset such as +01:00, or an IANA name such as Europe/Berlin)", spec);
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, spec) >= sizeof(path))
		return fd_err_set(err, FD_EUSAGE, "time zone name too long");
	if (!(f = fopen(path, "rb"))) {
		if (errno == ENOENT || errno == ENOTDIR)
			return fd_err_set(err, FD_EUSAGE, "no time zone '%s' in %s (is tzdata installed?)", spec, dir);
		return fd_err_set(err, FD_EIO, "cannot open '%s': %s", path, strerror(errno));
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			unsigned char *d;

			cap = cap ? cap * 2 : 4096;
			if (cap > (1u << 22) || !(d = realloc(data, cap))) {
				rc = fd_err_set(err, FD_EINPUT, "'%s' is too large for a time zone file", path);
				goto out;
			}
			data = d;
		}
		got = fread(data + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		if (errno == EISDIR)
			rc = fd_err_set(err, FD_EUSAGE, "no time zone '%s' in %s ('%s' is a directory of zones)", spec, dir, spec);
		else
			rc = fd_err_set(err, FD_EIO, "reading '%s': %s", path, strerror(errno));
		goto out;
	}
	rc = fd_tz_load_tzif(out, data, len, spec, err);
out:
	fclose(f);
	free(data);
	return rc;
}
