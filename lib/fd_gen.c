/*
 * fd_gen.c — see fd_gen.h.
 *
 * How it works.  The population is built once from its own random stream.  Then the days are
 * produced one at a time: the day's rows are collected in a batch (future fraud events that
 * fall on this day, new fraud patterns started today, and the day's legitimate rows), sorted by
 * (timestamp, creation sequence) and handed out.  A fraud pattern is generated whole when it
 * starts; those of its events that fall after today wait in a min-heap until their day comes.
 * So memory is one day of rows plus the pending fraud events, whatever the total row count.
 *
 * Exact counts: legitimate and fraud rows have separate budgets (L and F, L + F = rows), each
 * spread over the days by cumulative targets, so the totals are exact however the patterns
 * happen to fall.  A pattern never takes more rows than the fraud budget has left, and a
 * pattern that would run past the last day is squeezed (its offsets scaled) to end inside it.
 *
 * Speed: rows are formatted by hand (no printf in the hot path) straight into the caller's
 * buffer; the date part of the timestamp is formatted once per day.
 */
#include "fd_gen.h"
#include "fd_rng.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

/* ---- random numbers: xoshiro256** seeded through splitmix64 ------------------------------- */

/* Uniform integer in [0, n), n <= 2^32 (multiply-shift; the bias is below 2^-32). */
static inline uint32_t rng_below(struct fd_rng *r, uint64_t n)
{
	return (uint32_t)(((fd_rng_next(r) >> 32) * n) >> 32);
}

/* Uniform integer in [lo, hi]. */
static inline int64_t rng_range(struct fd_rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)rng_below(r, (uint64_t)(hi - lo + 1));
}

static inline double rng_uniform(struct fd_rng *r, double lo, double hi)
{
	return lo + (hi - lo) * fd_rng_unif(r);
}

/* Standard normal (Box-Muller, one value per call: simpler state, plenty fast). */
static double rng_normal(struct fd_rng *r)
{
	double u1 = 1.0 - fd_rng_unif(r), u2 = fd_rng_unif(r);

	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Lognormal with the given median and sigma. */
static double rng_lognormal(struct fd_rng *r, double median, double sigma)
{
	return median * exp(sigma * rng_normal(r));
}

/* ---- the world: cities, categories, channels ---------------------------------------------- */

enum { R_NA, R_EU, R_AP, R_LA, R_AF, NREGION };

#define CITY_US 1
#define CITY_SANCTIONED 2

/* Names contain no comma, quote, backslash or control byte, so they need no CSV quoting and
 * no JSON escaping (UTF-8 is written as it is). */
static const struct city_def {
	const char *name;
	const char cc[3];
	double lat, lon;
	int utc_min;    /* standard time offset, minutes east of UTC */
	int weight;     /* relative population */
	int flags;
	int region;     /* where its IP addresses come from */
} cities[] = {
	{"New York", "US", 40.7128, -74.0060, -300, 83, CITY_US, R_NA},
	{"Los Angeles", "US", 34.0522, -118.2437, -480, 39, CITY_US, R_NA},
	{"Chicago", "US", 41.8781, -87.6298, -360, 27, CITY_US, R_NA},
	{"Houston", "US", 29.7604, -95.3698, -360, 23, CITY_US, R_NA},
	{"Phoenix", "US", 33.4484, -112.0740, -420, 16, CITY_US, R_NA},
	{"Philadelphia", "US", 39.9526, -75.1652, -300, 16, CITY_US, R_NA},
	{"San Antonio", "US", 29.4241, -98.4936, -360, 14, CITY_US, R_NA},
	{"San Diego", "US", 32.7157, -117.1611, -480, 14, CITY_US, R_NA},
	{"Dallas", "US", 32.7767, -96.7970, -360, 13, CITY_US, R_NA},
	{"San Jose", "US", 37.3382, -121.8863, -480, 10, CITY_US, R_NA},
	{"Austin", "US", 30.2672, -97.7431, -360, 10, CITY_US, R_NA},
	{"Jacksonville", "US", 30.3322, -81.6557, -300, 9, CITY_US, R_NA},
	{"Columbus", "US", 39.9612, -82.9988, -300, 9, CITY_US, R_NA},
	{"Charlotte", "US", 35.2271, -80.8431, -300, 9, CITY_US, R_NA},
	{"San Francisco", "US", 37.7749, -122.4194, -480, 9, CITY_US, R_NA},
	{"Indianapolis", "US", 39.7684, -86.1581, -300, 9, CITY_US, R_NA},
	{"Seattle", "US", 47.6062, -122.3321, -480, 8, CITY_US, R_NA},
	{"Denver", "US", 39.7392, -104.9903, -420, 7, CITY_US, R_NA},
	{"Washington", "US", 38.9072, -77.0369, -300, 7, CITY_US, R_NA},
	{"Boston", "US", 42.3601, -71.0589, -300, 7, CITY_US, R_NA},
	{"Nashville", "US", 36.1627, -86.7816, -360, 7, CITY_US, R_NA},
	{"Detroit", "US", 42.3314, -83.0458, -300, 6, CITY_US, R_NA},
	{"Las Vegas", "US", 36.1699, -115.1398, -480, 6, CITY_US, R_NA},
	{"Atlanta", "US", 33.7490, -84.3880, -300, 5, CITY_US, R_NA},
	{"Miami", "US", 25.7617, -80.1918, -300, 5, CITY_US, R_NA},
	{"Minneapolis", "US", 44.9778, -93.2650, -360, 4, CITY_US, R_NA},
	{"Honolulu", "US", 21.3069, -157.8583, -600, 3, CITY_US, R_NA},
	{"Anchorage", "US", 61.2181, -149.9003, -540, 3, CITY_US, R_NA},
	{"Toronto", "CA", 43.6532, -79.3832, -300, 28, 0, R_NA},
	{"Vancouver", "CA", 49.2827, -123.1207, -480, 7, 0, R_NA},
	{"Mexico City", "MX", 19.4326, -99.1332, -360, 22, 0, R_LA},
	{"São Paulo", "BR", -23.5505, -46.6333, -180, 22, 0, R_LA},
	{"Buenos Aires", "AR", -34.6037, -58.3816, -180, 15, 0, R_LA},
	{"Bogotá", "CO", 4.7110, -74.0721, -300, 11, 0, R_LA},
	{"Lima", "PE", -12.0464, -77.0428, -300, 10, 0, R_LA},
	{"Santiago", "CL", -33.4489, -70.6693, -240, 7, 0, R_LA},
	{"London", "GB", 51.5074, -0.1278, 0, 36, 0, R_EU},
	{"Manchester", "GB", 53.4808, -2.2426, 0, 6, 0, R_EU},
	{"Dublin", "IE", 53.3498, -6.2603, 0, 6, 0, R_EU},
	{"Paris", "FR", 48.8566, 2.3522, 60, 22, 0, R_EU},
	{"Berlin", "DE", 52.5200, 13.4050, 60, 14, 0, R_EU},
	{"Munich", "DE", 48.1351, 11.5820, 60, 6, 0, R_EU},
	{"Madrid", "ES", 40.4168, -3.7038, 60, 10, 0, R_EU},
	{"Barcelona", "ES", 41.3874, 2.1686, 60, 8, 0, R_EU},
	{"Rome", "IT", 41.9028, 12.4964, 60, 9, 0, R_EU},
	{"Milan", "IT", 45.4642, 9.1900, 60, 7, 0, R_EU},
	{"Amsterdam", "NL", 52.3676, 4.9041, 60, 6, 0, R_EU},
	{"Zürich", "CH", 47.3769, 8.5417, 60, 4, 0, R_EU},
	{"Stockholm", "SE", 59.3293, 18.0686, 60, 5, 0, R_EU},
	{"Warsaw", "PL", 52.2297, 21.0122, 60, 6, 0, R_EU},
	{"Bucharest", "RO", 44.4268, 26.1025, 120, 6, 0, R_EU},
	{"Kyiv", "UA", 50.4501, 30.5234, 120, 8, 0, R_EU},
	{"Istanbul", "TR", 41.0082, 28.9784, 180, 20, 0, R_EU},
	{"Dubai", "AE", 25.2048, 55.2708, 240, 9, 0, R_EU},
	{"Lagos", "NG", 6.5244, 3.3792, 60, 15, 0, R_AF},
	{"Nairobi", "KE", -1.2921, 36.8219, 180, 6, 0, R_AF},
	{"Johannesburg", "ZA", -26.2041, 28.0473, 120, 8, 0, R_AF},
	{"Cairo", "EG", 30.0444, 31.2357, 120, 12, 0, R_AF},
	{"Mumbai", "IN", 19.0760, 72.8777, 330, 25, 0, R_AP},
	{"Delhi", "IN", 28.7041, 77.1025, 330, 25, 0, R_AP},
	{"Singapore", "SG", 1.3521, 103.8198, 480, 10, 0, R_AP},
	{"Hong Kong", "HK", 22.3193, 114.1694, 480, 10, 0, R_AP},
	{"Shanghai", "CN", 31.2304, 121.4737, 480, 20, 0, R_AP},
	{"Tokyo", "JP", 35.6762, 139.6503, 540, 30, 0, R_AP},
	{"Seoul", "KR", 37.5665, 126.9780, 540, 15, 0, R_AP},
	{"Manila", "PH", 14.5995, 120.9842, 480, 12, 0, R_AP},
	{"Jakarta", "ID", -6.2088, 106.8456, 420, 14, 0, R_AP},
	{"Bangkok", "TH", 13.7563, 100.5018, 420, 10, 0, R_AP},
	{"Kuala Lumpur", "MY", 3.1390, 101.6869, 480, 7, 0, R_AP},
	{"Ho Chi Minh City", "VN", 10.8231, 106.6297, 420, 9, 0, R_AP},
	{"Sydney", "AU", -33.8688, 151.2093, 600, 10, 0, R_AP},
	{"Melbourne", "AU", -37.8136, 144.9631, 600, 9, 0, R_AP},
	{"Auckland", "NZ", -36.8485, 174.7633, 720, 4, 0, R_AP},
	/* only ever the far end of a sanctioned_country transfer */
	{"Pyongyang", "KP", 39.0392, 125.7625, 540, 0, CITY_SANCTIONED, R_AP},
	{"Tehran", "IR", 35.6892, 51.3890, 210, 0, CITY_SANCTIONED, R_EU},
	{"Damascus", "SY", 33.5138, 36.2765, 180, 0, CITY_SANCTIONED, R_EU},
	{"Havana", "CU", 23.1136, -82.3666, -300, 0, CITY_SANCTIONED, R_LA},
};
#define NCITY ((int)(sizeof(cities) / sizeof(cities[0])))

enum cat {
	CAT_GROCERY, CAT_FUEL, CAT_RESTAURANT, CAT_PHARMACY, CAT_CLOTHING, CAT_ELECTRONICS,
	CAT_TRAVEL, CAT_JEWELRY, CAT_GAMBLING, CAT_CRYPTO, CAT_DIGITAL, CAT_MARKETPLACE,
	CAT_UTILITIES, CAT_ENTERTAINMENT, CAT_HOME, NCAT
};
#define CATBIT(c) (1u << (c))
/* where a large purchase is plausible */
#define BIG_TICKET (CATBIT(CAT_ELECTRONICS) | CATBIT(CAT_TRAVEL) | CATBIT(CAT_JEWELRY) | \
		    CATBIT(CAT_HOME) | CATBIT(CAT_CLOTHING))

static const struct cat_def {
	const char *name;
	double median, sigma;  /* lognormal amount in currency units */
	int share;             /* relative number of merchants */
	int online_pct;        /* share of those merchants that sell only online */
	int habit_pct;         /* chance that such a merchant becomes a regular's haunt */
} cats[NCAT] = {
	{"grocery", 42, 0.55, 20, 5, 100},
	{"fuel", 48, 0.35, 10, 0, 70},
	{"restaurant", 32, 0.60, 18, 10, 80},
	{"pharmacy", 24, 0.60, 6, 10, 50},
	{"clothing", 68, 0.70, 8, 40, 20},
	{"electronics", 160, 0.90, 5, 50, 5},
	{"travel", 380, 0.75, 4, 80, 3},
	{"jewelry", 320, 0.90, 2, 20, 2},
	{"gambling", 60, 1.00, 2, 85, 5},
	{"crypto", 250, 1.10, 1, 100, 5},
	{"digital_goods", 12, 0.80, 5, 100, 50},
	{"marketplace", 55, 0.90, 6, 100, 80},
	{"utilities", 105, 0.40, 3, 90, 60},
	{"entertainment", 28, 0.60, 5, 40, 40},
	{"home_improvement", 85, 0.80, 4, 15, 10},
};

enum { CH_CARD, CH_ONLINE, CH_MOBILE, CH_TRANSFER, CH_ATM, NCHAN };
static const char *const chan_name[NCHAN] = {"card", "online", "mobile", "transfer", "atm"};
static const int chan_base[NCHAN] = {42, 20, 17, 12, 9};

/* Activity by local hour: quiet at night, peaks at lunch and in the evening. */
static const int hour_weight[24] = {
	6, 3, 2, 2, 2, 3, 8, 18, 30, 38, 44, 50, 62, 56, 48, 47, 52, 62, 70, 68, 58, 45, 28, 14,
};

/* Relative volume by weekday, Sunday first. */
static const int weekday_weight[7] = {92, 97, 98, 100, 102, 112, 108};

const char *const fd_gen_typology_name[FD_GEN_NTYPES] = {
	"", "card_testing", "account_takeover", "velocity_burst", "amount_spike", "structuring",
	"sanctioned_country", "mule_fan_in_out", "transfer_cycle",
};

const char *const fd_gen_column[FD_GEN_NCOLS] = {
	"txn_id", "ts", "amount", "currency", "sender_id", "recipient_id", "merchant_id",
	"merchant_category", "channel", "device_id", "ip", "lat", "lon", "country", "city",
	"label", "fraud_type",
};

/* Rows per pattern of each typology: [min, max]. */
static const int typ_min[FD_GEN_NTYPES] = {0, 5, 2, 6, 1, 3, 1, 5, 3};
static const int typ_max[FD_GEN_NTYPES] = {0, 20, 6, 16, 1, 6, 3, 15, 6};

/* ---- the population ----------------------------------------------------------------------- */

#define MAX_HABIT 10
#define MAX_CONTACT 4
#define NIDENT 24        /* fraudster identities (device, IP, location), shared across victims */
#define NMULE_POOL 64    /* external accounts that collect stolen money */

struct cust {
	int32_t lat, lon;          /* home, 1e-4 degrees */
	int16_t home;              /* city */
	int16_t shop;              /* city of its physical habits: home, or the nearest with shops */
	int16_t trip_city;         /* current or next trip's city (valid when trip_end > 0) */
	int8_t shift;              /* rhythm shift, hours */
	uint8_t ndev, nip, nhp, nho, ncontact;
	int32_t trip_start, trip_end;  /* day indexes [start, end) of the current or next trip */
	uint16_t ntrips;
	float spend;               /* spending level, median 1 */
	uint16_t chan_cdf[NCHAN];  /* cumulative, out of 65536 */
	int32_t habit[MAX_HABIT];  /* nhp physical merchants, then nho online ones */
	int32_t contact[MAX_CONTACT];
	int64_t busy_until;        /* ms: taking part in a pattern that needs it alone */
};

struct merch {
	int32_t lat, lon;
	int16_t city;
	uint8_t cat, online;
	float scale;               /* price level */
};

struct ident {
	int32_t dev, ip;
	int16_t city;
};

struct ipstr {
	char s[40];
	uint8_t len;
};

/* One row, before formatting.  Accounts: >= 0 a customer, -1 none, <= -2 external -(code+2). */
struct ev {
	int64_t ts;
	uint64_t seq;
	int64_t amount;
	int32_t sender, recip;
	int32_t merchant, device, ip;
	int32_t lat, lon;
	int16_t city;              /* -1: no geography */
	uint8_t channel, type;
};

#define NONE (-1)
#define EXT(k) (-(int32_t)(k) - 2)

struct fd_gen {
	struct fd_gen_opts o;
	int64_t nfraud, nlegit;
	int64_t fraud_sched, legit_done, rows_done;
	int64_t counts[FD_GEN_NTYPES];
	struct fd_rng ev_rng, fr_rng;
	uint64_t trip_key;

	int32_t city_lat[NCITY], city_lon[NCITY];
	uint8_t city_len[NCITY];
	int32_t hour_cum[24], hour_total;

	struct cust *cust;
	int32_t ncust;
	float *alias_p;
	int32_t *alias_a;
	struct merch *merch;
	int32_t nmerch;
	int32_t phys_off[NCITY + 1], *phys;   /* physical merchants by city */
	int32_t *online, nonline;
	struct ident ident[NIDENT];
	struct ipstr *ip;
	int32_t nip;
	int64_t ext_next;
	int cw, mw, dw, ew;                   /* id widths */
	int64_t pow10;

	/* days */
	int day;
	int64_t cumw, totw;
	int64_t day_start;
	char day_prefix[16];
	struct ev *batch;
	size_t nbatch, cap, pos;
	struct ev *heap;
	size_t nheap, heapcap;
	uint64_t seq;
	int order[FD_GEN_NTYPES - 1], order_pos;
	struct ev pat[32];
	int npat;

	/* output */
	int header_done;
	char tid[24];
	int tid_len, tid_plen;   /* whole id, prefix */
	char idbuf[4][24];
	char meta[64];
};

/* ---- number formatting, by hand: no printf per field in the hot path ----------------------- */

/* v in exactly width digits, zero-padded (v must fit). */
static char *put_pad(char *p, uint64_t v, int width)
{
	char *e = p + width, *q = e;

	while (q > p) {
		*--q = (char)('0' + v % 10);
		v /= 10;
	}
	return e;
}

static char *put_u64(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* minor units as an exact decimal with exponent digits after the point; pow10 = 10^exponent. */
static char *put_amount(char *p, int64_t minor, int exponent, int64_t pow10)
{
	uint64_t v;

	if (minor < 0) {
		*p++ = '-';
		v = (uint64_t)0 - (uint64_t)minor;
	} else
		v = (uint64_t)minor;
	p = put_u64(p, v / (uint64_t)pow10);
	if (exponent) {
		*p++ = '.';
		p = put_pad(p, v % (uint64_t)pow10, exponent);
	}
	return p;
}

/* 1e-4 degrees as degrees with four decimals. */
static char *put_coord(char *p, int32_t v)
{
	uint32_t a;

	if (v < 0) {
		*p++ = '-';
		a = (uint32_t)(-(int64_t)v);
	} else
		a = (uint32_t)v;
	p = put_u64(p, a / 10000);
	*p++ = '.';
	return put_pad(p, a % 10000, 4);
}

static char *put_str(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* ---- small helpers ------------------------------------------------------------------------- */

static int digits(uint64_t v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

static int32_t deg4(double d)
{
	return (int32_t)lrint(d * 10000.0);
}

/* A point within about 5 km of a city's centre. */
static void near_city(const struct fd_gen *g, struct fd_rng *r, int city, int32_t *lat, int32_t *lon)
{
	*lat = g->city_lat[city] + (int32_t)rng_range(r, -450, 450);
	*lon = g->city_lon[city] + (int32_t)rng_range(r, -550, 550);
	if (*lat > 900000)
		*lat = 900000;
	if (*lat < -900000)
		*lat = -900000;
	if (*lon > 1800000)
		*lon -= 3600000;
	if (*lon < -1800000)
		*lon += 3600000;
}

/* A city by population weight, among US cities (us = 1), other ordinary cities (us = 0). */
static int pick_city(struct fd_rng *r, int us)
{
	int i, tot = 0, x;

	for (i = 0; i < NCITY; i++)
		if (!(cities[i].flags & CITY_SANCTIONED) && !!(cities[i].flags & CITY_US) == us)
			tot += cities[i].weight;
	x = (int)rng_below(r, (uint64_t)tot);
	for (i = 0; i < NCITY; i++) {
		if ((cities[i].flags & CITY_SANCTIONED) || !!(cities[i].flags & CITY_US) != us)
			continue;
		if (x < cities[i].weight)
			return i;
		x -= cities[i].weight;
	}
	return 0;
}

static int pick_sanctioned(struct fd_rng *r)
{
	int i, n = 0, k;

	for (i = 0; i < NCITY; i++)
		n += !!(cities[i].flags & CITY_SANCTIONED);
	k = (int)rng_below(r, (uint64_t)n);
	for (i = 0; i < NCITY; i++)
		if ((cities[i].flags & CITY_SANCTIONED) && k-- == 0)
			return i;
	return 0;
}

/*
 * A plausible public address of a region: IPv4 from /8 blocks its ISPs really use (or, for
 * hosting = 1, blocks of hosting and VPN providers), or IPv6 from a prefix its ISPs hold.
 */
static void make_ip(struct fd_rng *r, struct ipstr *ip, int region, int v6, int hosting)
{
	static const unsigned char isp[NREGION][16] = {
		{24, 50, 65, 66, 67, 68, 69, 70, 71, 72, 73, 75, 76, 97, 98, 174},
		{78, 79, 81, 82, 83, 84, 86, 88, 90, 92, 151, 176, 178, 188, 212, 217},
		{1, 14, 27, 36, 39, 42, 49, 58, 60, 101, 110, 112, 114, 118, 121, 125},
		{177, 179, 181, 186, 187, 189, 190, 191, 200, 201, 177, 179, 186, 189, 190, 200},
		{41, 102, 105, 154, 196, 197, 41, 102, 105, 154, 196, 197, 41, 102, 105, 197},
	};
	static const char *const v6pre[NREGION][2] = {
		{"2600:1700", "2601:8c"}, {"2a02:c7c", "2a01:e0a"}, {"2406:3003", "2400:4050"},
		{"2804:14c", "2800:810"}, {"2c0f:f8f0", "2c0f:fb50"},
	};
	static const unsigned char host[] = {5, 23, 31, 37, 45, 46, 62, 77, 80, 85, 89, 91, 94, 95,
		103, 104, 139, 141, 146, 149, 159, 162, 167, 185, 193, 194, 195, 198, 209};
	static const char hx[] = "0123456789abcdef";
	char *p = ip->s;
	int i, j;

	if (v6) {
		const char *pre = v6pre[region][rng_below(r, 2)];

		p = put_str(p, pre, strlen(pre));
		for (i = 0; i < 6; i++) {
			unsigned v = rng_below(r, 65536);
			int started = 0;

			*p++ = ':';
			for (j = 12; j >= 0; j -= 4) {
				unsigned d = (v >> j) & 15;

				if (d || started || j == 0) {
					*p++ = hx[d];
					started = 1;
				}
			}
		}
	} else {
		unsigned o[4];

		o[0] = hosting ? host[rng_below(r, sizeof(host))] : isp[region][rng_below(r, 16)];
		o[1] = rng_below(r, 256);
		o[2] = rng_below(r, 256);
		o[3] = 1 + rng_below(r, 254);
		for (i = 0; i < 4; i++) {
			if (i)
				*p++ = '.';
			p = put_u64(p, o[i]);
		}
	}
	*p = '\0';
	ip->len = (uint8_t)(p - ip->s);
}

/* Walker/Vose alias table for picking customers by activity in O(1). */
static int build_alias(struct fd_gen *g, const double *w, int32_t n)
{
	double tot = 0, *q;
	int32_t *small, *large, ns = 0, nl = 0, i;

	q = malloc((size_t)n * sizeof(*q));
	small = malloc((size_t)n * sizeof(*small));
	large = malloc((size_t)n * sizeof(*large));
	if (!q || !small || !large) {
		free(q);
		free(small);
		free(large);
		return -1;
	}
	for (i = 0; i < n; i++)
		tot += w[i];
	for (i = 0; i < n; i++) {
		q[i] = w[i] * n / tot;
		if (q[i] < 1.0)
			small[ns++] = i;
		else
			large[nl++] = i;
	}
	while (ns && nl) {
		int32_t s = small[--ns], l = large[nl - 1];

		g->alias_p[s] = (float)q[s];
		g->alias_a[s] = l;
		q[l] -= 1.0 - q[s];
		if (q[l] < 1.0) {
			nl--;
			small[ns++] = l;
		}
	}
	while (nl) {
		i = large[--nl];
		g->alias_p[i] = 1.0f;
		g->alias_a[i] = i;
	}
	while (ns) {
		i = small[--ns];
		g->alias_p[i] = 1.0f;
		g->alias_a[i] = i;
	}
	free(q);
	free(small);
	free(large);
	return 0;
}

static int32_t pick_customer(struct fd_gen *g, struct fd_rng *r)
{
	int32_t i = (int32_t)rng_below(r, (uint64_t)g->ncust);

	return fd_rng_unif(r) < g->alias_p[i] ? i : g->alias_a[i];
}

static int32_t random_phys_in(const struct fd_gen *g, struct fd_rng *r, int city)
{
	int32_t n = g->phys_off[city + 1] - g->phys_off[city];

	return n ? g->phys[g->phys_off[city] + (int32_t)rng_below(r, (uint64_t)n)] : NONE;
}

static int32_t random_phys(const struct fd_gen *g, struct fd_rng *r)
{
	int32_t n = g->phys_off[NCITY];

	return n ? g->phys[rng_below(r, (uint64_t)n)] : NONE;
}

static int32_t random_online(const struct fd_gen *g, struct fd_rng *r)
{
	return g->nonline ? g->online[rng_below(r, (uint64_t)g->nonline)] : NONE;
}

static int32_t random_merchant(const struct fd_gen *g, struct fd_rng *r)
{
	return (int32_t)rng_below(r, (uint64_t)g->nmerch);
}

/* An online merchant of one of the categories in mask, else any online one, else any. */
static int32_t online_of(const struct fd_gen *g, struct fd_rng *r, unsigned mask)
{
	int32_t m = NONE;
	int i;

	for (i = 0; i < 24 && g->nonline; i++) {
		m = random_online(g, r);
		if (mask & CATBIT(g->merch[m].cat))
			return m;
	}
	return m != NONE ? m : random_merchant(g, r);
}

static int build_merchants(struct fd_gen *g, struct fd_rng *r)
{
	int32_t i, k, n = g->nmerch, np = 0;
	int c, tot = 0;
	int32_t fill[NCITY];

	for (c = 0; c < NCAT; c++)
		tot += cats[c].share;
	memset(g->phys_off, 0, sizeof(g->phys_off));
	for (i = 0; i < n; i++) {
		struct merch *m = &g->merch[i];
		int x = (int)rng_below(r, (uint64_t)tot), city;

		for (c = 0; c < NCAT - 1 && x >= cats[c].share; c++)
			x -= cats[c].share;
		m->cat = (uint8_t)c;
		m->online = rng_below(r, 100) < (uint32_t)cats[c].online_pct;
		/* shops are where the customers live, plus some in places people travel to */
		if (fd_rng_unif(r) < 0.85)
			city = g->cust[rng_below(r, (uint64_t)g->ncust)].home;
		else
			city = pick_city(r, fd_rng_unif(r) < 0.6);
		m->city = (int16_t)city;
		near_city(g, r, city, &m->lat, &m->lon);
		m->scale = (float)rng_lognormal(r, 1.0, 0.25);
		if (m->online)
			g->nonline++;
		else {
			g->phys_off[city + 1]++;
			np++;
		}
	}
	for (c = 0; c < NCITY; c++)
		g->phys_off[c + 1] += g->phys_off[c];
	g->phys = malloc((size_t)(np ? np : 1) * sizeof(*g->phys));
	g->online = malloc((size_t)(g->nonline ? g->nonline : 1) * sizeof(*g->online));
	if (!g->phys || !g->online)
		return -1;
	memcpy(fill, g->phys_off, sizeof(fill));
	for (i = 0, k = 0; i < n; i++) {
		if (g->merch[i].online)
			g->online[k++] = i;
		else
			g->phys[fill[g->merch[i].city]++] = i;
	}
	return 0;
}

/*
 * A merchant to become a regular haunt: a shop in city (or, city < 0, an online merchant),
 * everyday categories far more often than jewellers and travel agents.
 */
static int32_t pick_habit(const struct fd_gen *g, struct fd_rng *r, int city)
{
	int32_t m = NONE;
	int k;

	for (k = 0; k < 32; k++) {
		m = city >= 0 ? random_phys_in(g, r, city) : random_online(g, r);
		if (m == NONE)
			return random_merchant(g, r);
		if (rng_below(r, 100) < (uint32_t)cats[g->merch[m].cat].habit_pct)
			break;
	}
	return m;
}

/* The city with shops nearest to home (home itself when it has any). */
static int nearest_shops(const struct fd_gen *g, int home)
{
	int c, best = home;
	double d, bd = 1e18;

	if (g->phys_off[home + 1] > g->phys_off[home] || g->phys_off[NCITY] == 0)
		return home;
	for (c = 0; c < NCITY; c++) {
		if (g->phys_off[c + 1] == g->phys_off[c])
			continue;
		d = fd_haversine_km(cities[home].lat, cities[home].lon, cities[c].lat, cities[c].lon);
		if (d < bd) {
			bd = d;
			best = c;
		}
	}
	return best;
}

static int build_population(struct fd_gen *g)
{
	struct fd_rng r;
	int32_t i, n = g->ncust;
	double *act;
	int k, c;

	fd_rng_seed(&r, g->o.seed, 1);
	g->cust = calloc((size_t)n, sizeof(*g->cust));
	g->alias_p = malloc((size_t)n * sizeof(*g->alias_p));
	g->alias_a = malloc((size_t)n * sizeof(*g->alias_a));
	g->merch = calloc((size_t)g->nmerch, sizeof(*g->merch));
	g->nip = 2 * n + NIDENT;
	g->ip = calloc((size_t)g->nip, sizeof(*g->ip));
	act = malloc((size_t)n * sizeof(*act));
	if (!g->cust || !g->alias_p || !g->alias_a || !g->merch || !g->ip || !act)
		goto oom;

	/* homes first: the merchants settle where the customers live */
	for (i = 0; i < n; i++) {
		struct cust *cu = &g->cust[i];

		cu->home = (int16_t)pick_city(&r, fd_rng_unif(&r) < 0.8);
		cu->lat = g->city_lat[cu->home] + (int32_t)rng_range(&r, -600, 600);
		cu->lon = g->city_lon[cu->home] + (int32_t)rng_range(&r, -700, 700);
	}
	if (build_merchants(g, &r))
		goto oom;

	for (i = 0; i < n; i++) {
		struct cust *cu = &g->cust[i];
		double w[NCHAN], tot = 0, acc = 0;
		int nh;

		cu->shop = (int16_t)nearest_shops(g, cu->home);
		k = (int)rng_below(&r, 10);
		cu->shift = (int8_t)(k < 1 ? -2 : k < 3 ? -1 : k < 7 ? 0 : k < 9 ? 1 : 2);
		cu->spend = (float)fmin(5.0, fmax(0.25, rng_lognormal(&r, 1.0, 0.45)));
		act[i] = fmin(8.0, rng_lognormal(&r, 1.0, 0.6));
		for (c = 0; c < NCHAN; c++) {
			w[c] = chan_base[c] * rng_lognormal(&r, 1.0, 0.5);
			tot += w[c];
		}
		for (c = 0; c < NCHAN; c++) {
			acc += w[c];
			cu->chan_cdf[c] = (uint16_t)fmin(65535.0, acc / tot * 65536.0);
		}
		cu->chan_cdf[NCHAN - 1] = 65535;

		nh = 3 + (int)rng_below(&r, 8);
		cu->nhp = (uint8_t)(nh * 7 / 10);
		cu->nho = (uint8_t)(nh - cu->nhp);
		for (k = 0; k < nh; k++)
			cu->habit[k] = pick_habit(g, &r, k < cu->nhp ? cu->shop : -1);
		if (n > 1) {
			cu->ncontact = (uint8_t)(1 + rng_below(&r, MAX_CONTACT));
			for (k = 0; k < cu->ncontact; k++) {
				int32_t o = i;
				int tries;

				/* friends and family mostly live in the same city */
				for (tries = 0; tries < 8; tries++) {
					o = (int32_t)rng_below(&r, (uint64_t)n - 1);
					o = o >= i ? o + 1 : o;
					if (g->cust[o].home == cu->home)
						break;
				}
				cu->contact[k] = o;
			}
		}
		cu->ndev = (uint8_t)(1 + (fd_rng_unif(&r) < 0.55));
		cu->nip = (uint8_t)(1 + (fd_rng_unif(&r) < 0.5));
		make_ip(&r, &g->ip[2 * i], cities[cu->home].region, fd_rng_unif(&r) < 0.05, 0);
		make_ip(&r, &g->ip[2 * i + 1], cities[cu->home].region, fd_rng_unif(&r) < 0.10, 0);
		cu->trip_start = cu->trip_end = 0;
		cu->busy_until = INT64_MIN;
	}
	if (build_alias(g, act, n))
		goto oom;

	for (k = 0; k < NIDENT; k++) {
		struct ident *id = &g->ident[k];

		id->dev = 2 * n + k;
		id->ip = 2 * n + k;
		id->city = (int16_t)pick_city(&r, fd_rng_unif(&r) < 0.3);
		if (k && fd_rng_unif(&r) < 0.3)  /* the same VPN exit or proxy */
			id->ip = g->ident[k - 1].ip;
		make_ip(&r, &g->ip[2 * n + k], cities[id->city].region, fd_rng_unif(&r) < 0.08, 1);
	}
	free(act);
	return 0;
oom:
	free(act);
	return -1;
}

/* ---- travel ------------------------------------------------------------------------------- */

/*
 * Trips are derived from (seed, customer, trip number) alone, lazily, when the customer is
 * next seen: every few months on average, two to seven days in a city that has shops.
 */
static int current_city(struct fd_gen *g, int32_t ci, int day)
{
	struct cust *cu = &g->cust[ci];

	while (day >= cu->trip_end) {
		struct fd_rng r;
		int k, city = cu->shop;

		fd_rng_seed(&r, g->trip_key ^ ((uint64_t)ci << 16), cu->ntrips++);
		cu->trip_start = cu->trip_end + (int32_t)fmin(1e6, -log(1.0 - fd_rng_unif(&r)) * 150.0);
		cu->trip_end = cu->trip_start + (int32_t)rng_range(&r, 2, 7);
		for (k = 0; k < 8 && g->phys_off[NCITY]; k++) {
			int32_t m = random_phys(g, &r);

			city = g->merch[m].city;
			if (city != cu->shop && city != cu->home)
				break;
		}
		cu->trip_city = (int16_t)city;
	}
	return day >= cu->trip_start ? cu->trip_city : cu->home;
}

/* ---- events ------------------------------------------------------------------------------- */

static int64_t to_minor(const struct fd_gen *g, double a)
{
	int64_t v = llround(a * (double)g->pow10);

	return v < 1 ? 1 : v;
}

static void ev_init(struct fd_gen *g, struct ev *e, int64_t ts, int type)
{
	e->ts = ts;
	e->seq = g->seq++;
	e->amount = 0;
	e->sender = e->recip = NONE;
	e->merchant = e->device = e->ip = NONE;
	e->lat = e->lon = 0;
	e->city = -1;
	e->channel = CH_CARD;
	e->type = (uint8_t)type;
}

static void geo_city(struct fd_gen *g, struct fd_rng *r, struct ev *e, int city)
{
	e->city = (int16_t)city;
	near_city(g, r, city, &e->lat, &e->lon);
}

static void geo_merchant(struct fd_gen *g, struct ev *e, int32_t m)
{
	e->city = g->merch[m].city;
	e->lat = g->merch[m].lat;
	e->lon = g->merch[m].lon;
}

/* Where a customer's online activity appears to come from: home, or the trip's city. */
static void geo_customer(struct fd_gen *g, struct fd_rng *r, struct ev *e, int32_t ci, int city)
{
	const struct cust *cu = &g->cust[ci];

	if (city == cu->home) {
		e->city = cu->home;
		e->lat = cu->lat;
		e->lon = cu->lon;
	} else
		geo_city(g, r, e, city);
}

static int64_t merchant_amount(struct fd_gen *g, struct fd_rng *r, int32_t m, double mult)
{
	const struct cat_def *c = &cats[g->merch[m].cat];

	return to_minor(g, rng_lognormal(r, c->median, c->sigma) * g->merch[m].scale * mult);
}

static int32_t habit(struct fd_rng *r, const struct cust *cu, int online)
{
	int n = online ? cu->nho : cu->nhp;
	double u = fd_rng_unif(r);

	if (!n)
		return NONE;
	/* a few favourites get most of the visits */
	return cu->habit[(online ? cu->nhp : 0) + (int)(u * u * n)];
}

static int32_t own_device(const struct cust *cu, int32_t ci, int mobile)
{
	return 2 * ci + (mobile ? 0 : cu->ndev - 1);
}

static int32_t own_ip(struct fd_rng *r, const struct cust *cu, int32_t ci, int mobile)
{
	return 2 * ci + (mobile && cu->nip > 1 && fd_rng_unif(r) < 0.6);
}

static void gen_legit(struct fd_gen *g, struct ev *e, int day, int64_t day_start)
{
	struct fd_rng *r = &g->ev_rng;
	int32_t ci = pick_customer(g, r), m;
	struct cust *cu = &g->cust[ci];
	int city = current_city(g, ci, day), away = city != cu->home;
	int64_t sec;
	uint32_t x;
	int h, ch;
	double mult = 0.6 + 0.4 * cu->spend;

	/* local hour from the daily rhythm, shifted for early birds and night owls */
	x = rng_below(r, (uint64_t)g->hour_total);
	for (h = 0; h < 23 && (int32_t)x >= g->hour_cum[h]; h++)
		;
	sec = ((int64_t)h + cu->shift) * 3600 + rng_below(r, 3600) - (int64_t)cities[city].utc_min * 60;
	sec %= 86400;
	if (sec < 0)
		sec += 86400;
	ev_init(g, e, day_start + sec * 1000 + rng_below(r, 1000), FD_GEN_LEGIT);
	e->sender = ci;

	x = rng_below(r, 65536);
	for (ch = 0; ch < NCHAN - 1 && x >= cu->chan_cdf[ch]; ch++)
		;
	/* away from home people pay by card and cash more, and rarely send transfers */
	if (away && ch == CH_TRANSFER && fd_rng_unif(r) < 0.7)
		ch = CH_CARD;
	e->channel = (uint8_t)ch;

	switch (ch) {
	case CH_CARD:
	case CH_MOBILE:
		if (ch == CH_MOBILE) {
			e->device = own_device(cu, ci, 1);
			e->ip = own_ip(r, cu, ci, 1);
			if (fd_rng_unif(r) < 0.5)
				goto online;  /* in-app purchase */
		}
		/* card present, or a phone wallet at the till */
		if (away)
			m = random_phys_in(g, r, city);
		else if (fd_rng_unif(r) < 0.85)
			m = habit(r, cu, 0);
		else
			m = random_phys_in(g, r, cu->shop);
		if (m == NONE || g->merch[m].online) {
			m = random_phys(g, r);
			if (m == NONE)
				goto online;
		}
		e->merchant = m;
		geo_merchant(g, e, m);
		e->amount = merchant_amount(g, r, m, mult);
		break;
	case CH_ONLINE:
		e->device = own_device(cu, ci, 0);
		e->ip = own_ip(r, cu, ci, 0);
	online:
		m = fd_rng_unif(r) < 0.8 ? habit(r, cu, 1) : NONE;
		if (m == NONE)
			m = random_online(g, r);
		if (m == NONE)
			m = random_merchant(g, r);
		e->merchant = m;
		geo_customer(g, r, e, ci, city);
		e->amount = merchant_amount(g, r, m, mult);
		break;
	case CH_TRANSFER:
		e->device = own_device(cu, ci, fd_rng_unif(r) < 0.5);
		e->ip = own_ip(r, cu, ci, 0);
		/* friends and family, or a payee outside the bank (rent, a builder) */
		if (cu->ncontact && fd_rng_unif(r) < 0.85)
			e->recip = cu->contact[rng_below(r, cu->ncontact)];
		else
			e->recip = EXT(NMULE_POOL + ci);
		geo_customer(g, r, e, ci, city);
		{
			double a = rng_lognormal(r, 60.0, 0.9) * mult;

			if (fd_rng_unif(r) < 0.7)  /* people send round sums */
				a = a < 10 ? ceil(a) : floor(a / 5.0 + 0.5) * 5.0;
			e->amount = to_minor(g, a);
		}
		break;
	default: /* CH_ATM */
		geo_city(g, r, e, away ? city : cu->shop);
		e->amount = to_minor(g, 20.0 * fmax(1.0, floor(rng_lognormal(r, 5.0, 0.6) * mult + 0.5)));
		break;
	}
	/* now and then a legitimate big purchase: a television, a holiday, a ring */
	if (e->merchant != NONE && (BIG_TICKET & CATBIT(g->merch[e->merchant].cat)) &&
	    fd_rng_unif(r) < 0.02)
		e->amount = to_minor(g, (double)e->amount / (double)g->pow10 * rng_uniform(r, 4, 15));
}

/* ---- the heap of future events ------------------------------------------------------------ */

static int ev_less(const struct ev *a, const struct ev *b)
{
	return a->ts < b->ts || (a->ts == b->ts && a->seq < b->seq);
}

static int heap_push(struct fd_gen *g, const struct ev *e)
{
	size_t i, p;

	if (g->nheap == g->heapcap) {
		size_t nc = g->heapcap ? g->heapcap * 2 : 256;
		struct ev *h = realloc(g->heap, nc * sizeof(*h));

		if (!h)
			return -1;
		g->heap = h;
		g->heapcap = nc;
	}
	i = g->nheap++;
	while (i > 0) {
		p = (i - 1) / 2;
		if (!ev_less(e, &g->heap[p]))
			break;
		g->heap[i] = g->heap[p];
		i = p;
	}
	g->heap[i] = *e;
	return 0;
}

static void heap_pop(struct fd_gen *g, struct ev *out)
{
	struct ev last;
	size_t i = 0, c, n;

	*out = g->heap[0];
	last = g->heap[--g->nheap];
	n = g->nheap;
	while ((c = 2 * i + 1) < n) {
		if (c + 1 < n && ev_less(&g->heap[c + 1], &g->heap[c]))
			c++;
		if (!ev_less(&g->heap[c], &last))
			break;
		g->heap[i] = g->heap[c];
		i = c;
	}
	if (n)
		g->heap[i] = last;
}

static struct ev *batch_new(struct fd_gen *g)
{
	if (g->nbatch == g->cap) {
		size_t nc = g->cap ? g->cap * 2 : 4096;
		struct ev *b = realloc(g->batch, nc * sizeof(*b));

		if (!b)
			return NULL;
		g->batch = b;
		g->cap = nc;
	}
	return &g->batch[g->nbatch++];
}

/* ---- fraud -------------------------------------------------------------------------------- */

static struct ev *pat_add(struct fd_gen *g, int64_t ts, int type)
{
	struct ev *e = &g->pat[g->npat++];

	ev_init(g, e, ts, type);
	return e;
}

/*
 * Hand the pattern's events to today's batch or to the heap.  A pattern that would run past
 * the last day is squeezed to end within it, keeping its order.  Returns the time of its last
 * event, or -1 when out of memory.
 */
static int64_t pat_commit(struct fd_gen *g, int64_t t0, int64_t day_end)
{
	int64_t limit = (g->o.start_day + g->o.days) * FD_DAY_MS - 1, last = t0;
	int i;

	for (i = 0; i < g->npat; i++)
		if (g->pat[i].ts > last)
			last = g->pat[i].ts;
	if (last > limit) {
		/* end at some moment of the last hours, not always on the very last millisecond */
		int64_t room = limit - t0 < 2 * FD_HOUR_MS ? limit - t0 : 2 * FD_HOUR_MS;

		limit -= rng_below(&g->fr_rng, (uint64_t)room + 1);
		for (i = 0; i < g->npat; i++)
			g->pat[i].ts = t0 + (g->pat[i].ts - t0) * (limit - t0) / (last - t0);
		last = limit;
	}
	for (i = 0; i < g->npat; i++) {
		if (g->pat[i].ts < day_end) {
			struct ev *e = batch_new(g);

			if (!e)
				return -1;
			*e = g->pat[i];
		} else if (heap_push(g, &g->pat[i]))
			return -1;
	}
	g->fraud_sched += g->npat;
	g->npat = 0;
	return last;
}

/*
 * A customer other than those in avoid[] and, when busy is set, not already taking part at
 * time t in a pattern that needs its accounts alone (a mule, a cycle); NONE when a few tries
 * found none.
 */
static int32_t free_customer(struct fd_gen *g, struct fd_rng *r, int busy, int64_t t,
			     const int32_t *avoid, int navoid)
{
	int k, j;

	for (k = 0; k < 12; k++) {
		int32_t c = (int32_t)rng_below(r, (uint64_t)g->ncust);

		if (busy && g->cust[c].busy_until >= t)
			continue;
		for (j = 0; j < navoid && avoid[j] != c; j++)
			;
		if (j == navoid)
			return c;
	}
	return NONE;
}

static int32_t new_external(struct fd_gen *g)
{
	return EXT(g->ext_next++);
}

/* A fraudster identity whose location is far from the victim's home. */
static const struct ident *far_ident(struct fd_gen *g, struct fd_rng *r, int32_t v)
{
	const struct cust *cu = &g->cust[v];
	const struct ident *best = &g->ident[0];
	double bd = -1;
	int k;

	for (k = 0; k < 8; k++) {
		const struct ident *id = &g->ident[rng_below(r, NIDENT)];
		double d = fd_haversine_km(cu->lat / 1e4, cu->lon / 1e4, cities[id->city].lat, cities[id->city].lon);

		if (d > 1500)
			return id;
		if (d > bd) {
			bd = d;
			best = id;
		}
	}
	return best;
}

static void from_ident(struct fd_gen *g, struct fd_rng *r, struct ev *e, const struct ident *id)
{
	e->device = id->dev;
	e->ip = id->ip;
	geo_city(g, r, e, id->city);
}

static void from_customer(struct fd_gen *g, struct fd_rng *r, struct ev *e, int32_t ci, int day)
{
	const struct cust *cu;

	e->sender = ci;
	if (ci < 0)
		return;
	cu = &g->cust[ci];
	e->device = own_device(cu, ci, fd_rng_unif(r) < 0.5);
	e->ip = own_ip(r, cu, ci, 0);
	geo_customer(g, r, e, ci, current_city(g, ci, day));
}

static double usual_amount(const struct fd_gen *g, int32_t v)
{
	return 45.0 * (0.6 + 0.4 * g->cust[v].spend);
}

/* Sort a few offsets in place (insertion sort: n <= 32). */
static void sort_i64(int64_t *a, int n)
{
	int i, j;

	for (i = 1; i < n; i++) {
		int64_t x = a[i];

		for (j = i; j > 0 && a[j - 1] > x; j--)
			a[j] = a[j - 1];
		a[j] = x;
	}
}

static int64_t fr_card_testing(struct fd_gen *g, struct fd_rng *r, int64_t t, int n, int day, int64_t day_end)
{
	int32_t v = (int32_t)rng_below(r, (uint64_t)g->ncust), ms[3];
	const struct ident *id = &g->ident[rng_below(r, NIDENT)];
	int i, nm = 1 + (int)rng_below(r, 3);
	int64_t t0 = t;

	(void)day;
	for (i = 0; i < nm; i++)
		ms[i] = online_of(g, r, CATBIT(CAT_DIGITAL) | CATBIT(CAT_MARKETPLACE) |
				  CATBIT(CAT_GAMBLING) | CATBIT(CAT_ENTERTAINMENT));
	for (i = 0; i < n; i++) {
		struct ev *e = pat_add(g, t, FD_GEN_CARD_TESTING);

		e->sender = v;
		e->channel = CH_ONLINE;
		e->merchant = ms[rng_below(r, (uint64_t)nm)];
		from_ident(g, r, e, id);
		e->amount = to_minor(g, (double)rng_range(r, 50, 200) / 100.0);
		t += rng_range(r, 3000, 90000);
	}
	return pat_commit(g, t0, day_end);
}

static int64_t fr_takeover(struct fd_gen *g, struct fd_rng *r, int64_t t, int n, int day, int64_t day_end)
{
	int32_t v = (int32_t)rng_below(r, (uint64_t)g->ncust);
	const struct ident *id = far_ident(g, r, v);
	double lvl = fmax(1.0, sqrt(g->cust[v].spend));
	int i = 0;
	int64_t t0 = t;

	(void)day;
	if (n >= 3) {  /* first a small look around with the stolen credentials */
		struct ev *e = pat_add(g, t, FD_GEN_ACCOUNT_TAKEOVER);

		e->sender = v;
		e->channel = CH_ONLINE;
		e->merchant = online_of(g, r, CATBIT(CAT_DIGITAL) | CATBIT(CAT_MARKETPLACE));
		from_ident(g, r, e, id);
		e->amount = to_minor(g, rng_uniform(r, 1, 30));
		t += rng_range(r, 5 * 60000, 60 * 60000);
		i++;
	}
	for (; i < n; i++) {
		struct ev *e = pat_add(g, t, FD_GEN_ACCOUNT_TAKEOVER);

		e->sender = v;
		from_ident(g, r, e, id);
		if (fd_rng_unif(r) < 0.7) {
			e->channel = CH_TRANSFER;
			e->recip = fd_rng_unif(r) < 0.7 ? EXT(rng_below(r, NMULE_POOL)) : new_external(g);
			e->amount = to_minor(g, rng_uniform(r, 1500, 9500) * lvl);
		} else {
			e->channel = CH_ONLINE;
			e->merchant = online_of(g, r, CATBIT(CAT_ELECTRONICS) | CATBIT(CAT_JEWELRY) |
					       CATBIT(CAT_CRYPTO));
			e->amount = to_minor(g, rng_uniform(r, 800, 4000) * lvl);
		}
		t += rng_range(r, 2 * 60000, 40 * 60000);
	}
	return pat_commit(g, t0, day_end);
}

static int64_t fr_velocity(struct fd_gen *g, struct fd_rng *r, int64_t t, int n, int day, int64_t day_end)
{
	int32_t v = (int32_t)rng_below(r, (uint64_t)g->ncust);
	int city, i;
	int64_t off[32], span = rng_range(r, 10 * 60000, 40 * 60000);

	(void)day;
	/* a cloned card, used near the victim's home or somewhere else entirely */
	if (fd_rng_unif(r) < 0.5)
		city = g->cust[v].shop;
	else {
		int32_t m = random_phys(g, r);

		city = m != NONE ? g->merch[m].city : g->cust[v].shop;
	}
	for (i = 0; i < n; i++)
		off[i] = i ? (int64_t)rng_below(r, (uint64_t)span + 1) : 0;
	sort_i64(off, n);
	for (i = 0; i < n; i++) {
		struct ev *e = pat_add(g, t + off[i], FD_GEN_VELOCITY_BURST);
		int32_t m = random_phys_in(g, r, city);

		if (m == NONE)
			m = random_merchant(g, r);
		e->sender = v;
		e->channel = CH_CARD;
		e->merchant = m;
		geo_merchant(g, e, m);
		e->amount = merchant_amount(g, r, m, rng_uniform(r, 1.0, 2.0));
	}
	return pat_commit(g, t, day_end);
}

static int64_t fr_spike(struct fd_gen *g, struct fd_rng *r, int64_t t, int n, int day, int64_t day_end)
{
	int32_t v = (int32_t)rng_below(r, (uint64_t)g->ncust);
	struct ev *e = pat_add(g, t, FD_GEN_AMOUNT_SPIKE);

	(void)n;
	e->sender = v;
	e->channel = CH_ONLINE;
	e->merchant = online_of(g, r, CATBIT(CAT_ELECTRONICS) | CATBIT(CAT_JEWELRY) |
			       CATBIT(CAT_TRAVEL));
	e->device = own_device(&g->cust[v], v, 0);
	e->ip = own_ip(r, &g->cust[v], v, 0);
	geo_customer(g, r, e, v, current_city(g, v, day));
	e->amount = to_minor(g, usual_amount(g, v) * rng_uniform(r, 15, 60));
	return pat_commit(g, t, day_end);
}

static int64_t fr_structuring(struct fd_gen *g, struct fd_rng *r, int64_t t, int n, int day, int64_t day_end)
{
	int32_t v = (int32_t)rng_below(r, (uint64_t)g->ncust), to[2];
	int64_t off[8];
	int i, nt = 1 + (int)rng_below(r, 2);
	const struct cust *cu = &g->cust[v];

	for (i = 0; i < nt; i++)
		to[i] = cu->ncontact && fd_rng_unif(r) < 0.4 ? cu->contact[rng_below(r, cu->ncontact)]
							  : new_external(g);
	for (i = 0; i < n; i++)
		off[i] = i ? (int64_t)rng_below(r, 20 * 3600000ULL) : 0;
	sort_i64(off, n);
	for (i = 0; i < n; i++) {
		struct ev *e = pat_add(g, t + off[i], FD_GEN_STRUCTURING);

		from_customer(g, r, e, v, day);
		e->channel = CH_TRANSFER;
		e->recip = to[rng_below(r, (uint64_t)nt)];
		e->amount = to_minor(g, (double)rng_range(r, 900000, 999000) / 100.0);
	}
	return pat_commit(g, t, day_end);
}

static int64_t fr_sanctioned(struct fd_gen *g, struct fd_rng *r, int64_t t, int n, int day, int64_t day_end)
{
	int32_t v = (int32_t)rng_below(r, (uint64_t)g->ncust), to = new_external(g);
	int city = pick_sanctioned(r), i;
	int64_t t0 = t;
	double lvl = sqrt(g->cust[v].spend);

	(void)day;
	for (i = 0; i < n; i++) {
		struct ev *e = pat_add(g, t, FD_GEN_SANCTIONED);

		e->sender = v;
		e->recip = to;
		e->channel = CH_TRANSFER;
		e->device = own_device(&g->cust[v], v, 0);
		e->ip = own_ip(r, &g->cust[v], v, 0);
		/* a cross-border transfer: the geography is the beneficiary's */
		geo_city(g, r, e, city);
		e->amount = to_minor(g, rng_lognormal(r, 2500, 0.8) * lvl);
		t += rng_range(r, FD_DAY_MS, 5 * FD_DAY_MS);
	}
	return pat_commit(g, t0, day_end);
}

static int64_t fr_mule(struct fd_gen *g, struct fd_rng *r, int64_t t, int n, int day, int64_t day_end)
{
	int32_t mule = free_customer(g, r, 1, t, NULL, 0), used[32];
	int fout = 2 + (int)rng_below(r, 4), fin, i, nused = 0;
	int64_t off[32], total = 0, last;
	double w[8], wsum = 0, keep = rng_uniform(r, 0.85, 0.95);

	if (mule == NONE)
		mule = (int32_t)rng_below(r, (uint64_t)g->ncust);
	used[nused++] = mule;
	if (fout > n - 3)
		fout = n - 3;
	fin = n - fout;
	/* the money comes in over hours or days from people who were talked into sending it */
	{
		int64_t span = rng_range(r, 6 * 3600000LL, 72 * 3600000LL);

		for (i = 0; i < fin; i++)
			off[i] = i ? (int64_t)rng_below(r, (uint64_t)span) : 0;
		sort_i64(off, fin);
	}
	for (i = 0; i < fin; i++) {
		struct ev *e = pat_add(g, t + off[i], FD_GEN_MULE);
		int32_t s = free_customer(g, r, 0, 0, used, nused);

		if (s == NONE)
			s = new_external(g);
		else
			used[nused++] = s;
		from_customer(g, r, e, s, day);
		e->channel = CH_TRANSFER;
		e->recip = mule;
		e->amount = to_minor(g, rng_lognormal(r, 900, 0.5));
		total += e->amount;
	}
	/* and leaves again within hours, split among the next accounts, less a cut */
	last = t + off[fin - 1] + rng_range(r, FD_HOUR_MS, 12 * FD_HOUR_MS);
	for (i = 0; i < fout; i++) {
		w[i] = rng_uniform(r, 0.5, 1.5);
		wsum += w[i];
	}
	for (i = 0; i < fout; i++) {
		struct ev *e = pat_add(g, last, FD_GEN_MULE);
		int32_t to = NONE;

		if (fd_rng_unif(r) < 0.4)
			to = free_customer(g, r, 0, 0, used, nused);
		if (to == NONE)
			to = EXT(rng_below(r, NMULE_POOL));
		else
			used[nused++] = to;
		from_customer(g, r, e, mule, day);
		e->channel = CH_TRANSFER;
		e->recip = to;
		e->amount = (int64_t)((double)total * keep * w[i] / wsum);
		if (e->amount < 1)
			e->amount = 1;
		last += rng_range(r, 5 * 60000, 90 * 60000);
	}
	last = pat_commit(g, t, day_end);
	if (last >= 0)
		g->cust[mule].busy_until = last;
	return last;
}

static int64_t fr_cycle(struct fd_gen *g, struct fd_rng *r, int64_t t, int n, int day, int64_t day_end)
{
	int32_t acct[8];
	int i, k = 0;
	int64_t amt = to_minor(g, rng_uniform(r, 5000, 40000)), t0 = t, last;

	/* accounts that are in no other cycle right now, so that each cycle stays one loop */
	for (i = 0; i < n; i++) {
		int32_t c = free_customer(g, r, 1, t, acct, k);

		acct[k++] = c != NONE ? c : new_external(g);
	}
	for (i = 0; i < n; i++) {
		struct ev *e = pat_add(g, t, FD_GEN_CYCLE);

		from_customer(g, r, e, acct[i], day);
		e->channel = CH_TRANSFER;
		e->recip = acct[(i + 1) % n];
		e->amount = amt;
		/* each hop keeps a small fee */
		amt -= (int64_t)fmax(1.0, floor((double)amt * rng_uniform(r, 0.005, 0.03)));
		t += rng_range(r, FD_HOUR_MS, 30 * FD_HOUR_MS);
	}
	last = pat_commit(g, t0, day_end);
	if (last >= 0)
		for (i = 0; i < n; i++)
			if (acct[i] >= 0)
				g->cust[acct[i]].busy_until = last;
	return last;
}

typedef int64_t (*fr_fn)(struct fd_gen *, struct fd_rng *, int64_t, int, int, int64_t);
static const fr_fn fr_gen[FD_GEN_NTYPES] = {
	NULL, fr_card_testing, fr_takeover, fr_velocity, fr_spike, fr_structuring,
	fr_sanctioned, fr_mule, fr_cycle,
};

/*
 * Start the next pattern.  The typologies take turns in a shuffled order, so every one of them
 * appears as soon as the fraud budget allows a full round; when the budget left is too small
 * for the next in turn, a one-row typology fills it.
 */
static int start_pattern(struct fd_gen *g, int day, int64_t day_start, int64_t day_end)
{
	struct fd_rng *r = &g->fr_rng;
	int64_t left = g->nfraud - g->fraud_sched;
	int typ, n, i;

	if (g->order_pos == FD_GEN_NTYPES - 1) {
		for (i = FD_GEN_NTYPES - 2; i > 0; i--) {
			int j = (int)rng_below(r, (uint64_t)i + 1), x = g->order[i];

			g->order[i] = g->order[j];
			g->order[j] = x;
		}
		g->order_pos = 0;
	}
	typ = g->order[g->order_pos];
	if (typ_min[typ] > left)
		typ = fd_rng_unif(r) < 0.5 ? FD_GEN_AMOUNT_SPIKE : FD_GEN_SANCTIONED;
	else
		g->order_pos++;
	n = typ_min[typ] + (int)rng_below(r, (uint64_t)(typ_max[typ] - typ_min[typ] + 1));
	if (n > left)
		n = (int)left;
	return fr_gen[typ](g, r, day_start + rng_below(r, FD_DAY_MS), n, day, day_end) < 0 ? -1 : 0;
}

/* ---- days --------------------------------------------------------------------------------- */

static int weekday(int64_t days)  /* 0 = Sunday; 1970-01-01 was a Thursday */
{
	int64_t w = (days + 4) % 7;

	return (int)(w < 0 ? w + 7 : w);
}

static int cmp_ev(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Build the next day's batch.  0, or -1 when out of memory. */
static int next_day(struct fd_gen *g)
{
	int64_t d = g->day, days = g->o.start_day + d;
	int64_t day_start = days * FD_DAY_MS, day_end = day_start + FD_DAY_MS;
	int64_t fraud_target, legit_target, y;
	unsigned mo, da;

	g->nbatch = g->pos = 0;
	g->day_start = day_start;
	fd_civil_from_days(days, &y, &mo, &da);
	g->day_prefix[0] = (char)('0' + y / 1000 % 10);
	g->day_prefix[1] = (char)('0' + y / 100 % 10);
	g->day_prefix[2] = (char)('0' + y / 10 % 10);
	g->day_prefix[3] = (char)('0' + y % 10);
	g->day_prefix[4] = '-';
	g->day_prefix[5] = (char)('0' + mo / 10);
	g->day_prefix[6] = (char)('0' + mo % 10);
	g->day_prefix[7] = '-';
	g->day_prefix[8] = (char)('0' + da / 10);
	g->day_prefix[9] = (char)('0' + da % 10);
	g->day_prefix[10] = 'T';

	while (g->nheap && g->heap[0].ts < day_end) {
		struct ev *e = batch_new(g);

		if (!e)
			return -1;
		heap_pop(g, e);
	}
	fraud_target = g->nfraud * (d + 1) / g->o.days;
	while (g->fraud_sched < fraud_target)
		if (start_pattern(g, (int)d, day_start, day_end))
			return -1;
	g->cumw += weekday_weight[weekday(days)];
	legit_target = d + 1 == g->o.days ? g->nlegit : g->nlegit * g->cumw / g->totw;
	while (g->legit_done < legit_target) {
		struct ev *e = batch_new(g);

		if (!e)
			return -1;
		gen_legit(g, e, (int)d, day_start);
		g->legit_done++;
	}
	if (g->nbatch > 1)
		qsort(g->batch, g->nbatch, sizeof(*g->batch), cmp_ev);
	g->day++;
	return 0;
}

/* The next row in order, NULL at the end; *oom set when memory ran out. */
static const struct ev *next_ev(struct fd_gen *g, int *oom)
{
	*oom = 0;
	while (g->pos == g->nbatch) {
		if (g->day >= g->o.days)
			return NULL;
		if (next_day(g)) {
			*oom = 1;
			return NULL;
		}
	}
	g->rows_done++;
	g->counts[g->batch[g->pos].type]++;
	/* the transaction id: a decimal counter incremented in place */
	{
		int i = g->tid_len - 1;

		while (i > g->tid_plen && g->tid[i] == '9')
			g->tid[i--] = '0';
		g->tid[i]++;
	}
	return &g->batch[g->pos++];
}

/* ---- formatting --------------------------------------------------------------------------- */

static char *put_account(const struct fd_gen *g, char *p, int32_t a)
{
	if (a >= 0) {
		*p++ = 'C';
		return put_pad(p, (uint64_t)a + 1, g->cw);
	}
	*p++ = 'E';
	return put_pad(p, (uint64_t)(-(int64_t)a - 2) + 1, g->ew);
}

/*
 * The same text as fd_format_ts() (test_gen checks it), but the date part is formatted once
 * per day by next_day(): every row in the batch falls on that day.
 */
static char *put_ts(const struct fd_gen *g, char *p, int64_t ts)
{
	uint32_t ms = (uint32_t)(ts - g->day_start), s = ms / 1000;

	p = put_str(p, g->day_prefix, 11);
	p[0] = (char)('0' + s / 36000);
	p[1] = (char)('0' + s / 3600 % 10);
	p[2] = ':';
	p[3] = (char)('0' + s / 600 % 6);
	p[4] = (char)('0' + s / 60 % 10);
	p[5] = ':';
	p[6] = (char)('0' + s % 60 / 10);
	p[7] = (char)('0' + s % 10);
	p[8] = '.';
	p[9] = (char)('0' + ms % 1000 / 100);
	p[10] = (char)('0' + ms % 100 / 10);
	p[11] = (char)('0' + ms % 10);
	p[12] = 'Z';
	return p + 13;
}

#define KEY(k) put_str(p, "\"" k "\":", sizeof(k) + 2)

/* One row; buf has room for ROW_MAX bytes. */
#define ROW_MAX 768
static char *put_row(const struct fd_gen *g, char *p, const struct ev *e)
{
	int js = g->o.format == FD_GEN_NDJSON;
	const char *s;

#define SEP(k) do { if (js) p = KEY(k); } while (0)
#define NEXT(k) do { *p++ = ','; SEP(k); } while (0)
#define QUOTE() do { if (js) *p++ = '"'; } while (0)
#define ABSENT() do { if (js) p = put_str(p, "null", 4); } while (0)

	if (js)
		*p++ = '{';
	SEP("txn_id");
	QUOTE();
	p = put_str(p, g->tid, (size_t)g->tid_len);
	QUOTE();
	NEXT("ts");
	QUOTE();
	p = put_ts(g, p, e->ts);
	QUOTE();
	NEXT("amount");
	p = put_amount(p, e->amount, g->o.exponent, g->pow10);
	NEXT("currency");
	QUOTE();
	p = put_str(p, g->o.currency, 3);
	QUOTE();
	NEXT("sender_id");
	QUOTE();
	p = put_account(g, p, e->sender);
	QUOTE();
	NEXT("recipient_id");
	if (e->recip != NONE) {
		QUOTE();
		p = put_account(g, p, e->recip);
		QUOTE();
	} else
		ABSENT();
	NEXT("merchant_id");
	if (e->merchant != NONE) {
		QUOTE();
		*p++ = 'M';
		p = put_pad(p, (uint64_t)e->merchant + 1, g->mw);
		QUOTE();
		NEXT("merchant_category");
		QUOTE();
		s = cats[g->merch[e->merchant].cat].name;
		p = put_str(p, s, strlen(s));
		QUOTE();
	} else {
		ABSENT();
		NEXT("merchant_category");
		ABSENT();
	}
	NEXT("channel");
	QUOTE();
	s = chan_name[e->channel];
	p = put_str(p, s, strlen(s));
	QUOTE();
	NEXT("device_id");
	if (e->device != NONE) {
		QUOTE();
		*p++ = 'D';
		p = put_pad(p, (uint64_t)e->device + 1, g->dw);
		QUOTE();
	} else
		ABSENT();
	NEXT("ip");
	if (e->ip != NONE) {
		QUOTE();
		p = put_str(p, g->ip[e->ip].s, g->ip[e->ip].len);
		QUOTE();
	} else
		ABSENT();
	if (e->city >= 0) {
		NEXT("lat");
		p = put_coord(p, e->lat);
		NEXT("lon");
		p = put_coord(p, e->lon);
		NEXT("country");
		QUOTE();
		p = put_str(p, cities[e->city].cc, 2);
		QUOTE();
		NEXT("city");
		QUOTE();
		p = put_str(p, cities[e->city].name, g->city_len[e->city]);
		QUOTE();
	} else {
		NEXT("lat");
		ABSENT();
		NEXT("lon");
		ABSENT();
		NEXT("country");
		ABSENT();
		NEXT("city");
		ABSENT();
	}
	NEXT("label");
	*p++ = e->type ? '1' : '0';
	NEXT("fraud_type");
	if (e->type) {
		QUOTE();
		s = fd_gen_typology_name[e->type];
		p = put_str(p, s, strlen(s));
		QUOTE();
	} else
		ABSENT();
	if (js)
		*p++ = '}';
	*p++ = '\n';
	return p;
#undef SEP
#undef NEXT
#undef QUOTE
#undef ABSENT
}

int fd_gen_write(struct fd_gen *g, struct fd_buf *out, size_t want, struct fd_err *err)
{
	const struct ev *e;
	size_t start = out->len;
	int oom, i;

	if (!g->header_done) {
		g->header_done = 1;
		if (g->o.format != FD_GEN_NDJSON) {
			for (i = 0; i < FD_GEN_NCOLS; i++)
				if ((i && fd_buf_addc(out, ',')) || fd_buf_adds(out, fd_gen_column[i]))
					goto oom;
			if (fd_buf_addc(out, '\n'))
				goto oom;
		}
	}
	while (out->len - start < want || want == 0) {
		e = next_ev(g, &oom);
		if (!e) {
			if (oom)
				goto oom;
			return 0;
		}
		if (out->cap - out->len < ROW_MAX + 1 && fd_buf_grow(out, ROW_MAX + (want > 0 ? want : 0)))
			goto oom;
		out->len = (size_t)(put_row(g, out->s + out->len, e) - out->s);
		out->s[out->len] = '\0';
		if (want == 0)
			break;
	}
	return 1;
oom:
	return -fd_err_set(err, FD_EIO, "out of memory");
}

static const char *id_str(struct fd_gen *g, int slot, char prefix, uint64_t v, int width)
{
	char *p = g->idbuf[slot];

	*p++ = prefix;
	p = put_pad(p, v, width);
	*p = '\0';
	return g->idbuf[slot];
}

static const char *account_str(struct fd_gen *g, int slot, int32_t a)
{
	char *p = put_account(g, g->idbuf[slot], a);

	*p = '\0';
	return g->idbuf[slot];
}

int fd_gen_next(struct fd_gen *g, struct fd_txn *t, int *typology, struct fd_err *err)
{
	const struct ev *e;
	int oom;

	e = next_ev(g, &oom);
	if (!e)
		return oom ? -fd_err_set(err, FD_EIO, "out of memory") : 0;
	memset(t, 0, sizeof(*t));
	g->tid[g->tid_len] = '\0';
	t->txn_id = g->tid;
	t->ts = e->ts;
	t->amount = e->amount;
	memcpy(t->currency, g->o.currency, 4);
	t->exponent = g->o.exponent;
	t->sender_id = account_str(g, 0, e->sender);
	t->recipient_id = e->recip != NONE ? account_str(g, 1, e->recip) : NULL;
	if (e->merchant != NONE) {
		t->merchant_id = id_str(g, 2, 'M', (uint64_t)e->merchant + 1, g->mw);
		t->merchant_category = cats[g->merch[e->merchant].cat].name;
	}
	t->channel = chan_name[e->channel];
	t->device_id = e->device != NONE ? id_str(g, 3, 'D', (uint64_t)e->device + 1, g->dw) : NULL;
	t->ip = e->ip != NONE ? g->ip[e->ip].s : NULL;
	if (e->city >= 0) {
		t->has_geo = 1;
		t->lat = e->lat / 10000.0;
		t->lon = e->lon / 10000.0;
		memcpy(t->country, cities[e->city].cc, 3);
		t->city = cities[e->city].name;
	}
	t->label = e->type != 0;
	if (e->type) {
		char *p = put_str(g->meta, "{\"fraud_type\":\"", 15);
		const char *s = fd_gen_typology_name[e->type];

		p = put_str(p, s, strlen(s));
		p = put_str(p, "\"}", 2);
		*p = '\0';
		t->metadata = g->meta;
		t->metadata_len = (size_t)(p - g->meta);
	}
	if (typology)
		*typology = e->type;
	return 1;
}

/* ---- life cycle --------------------------------------------------------------------------- */

void fd_gen_opts_init(struct fd_gen_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->rows = 10000;
	o->start_day = 20454;  /* 2026-01-01 */
	o->days = 90;
	o->fraud_rate = 0.01;
	memcpy(o->currency, "USD", 4);
	o->exponent = 2;
	o->format = FD_GEN_CSV;
	memcpy(o->id_prefix, "T", 2);
	o->start_id = 1;
}

const struct fd_gen_opts *fd_gen_opts(const struct fd_gen *g)
{
	return &g->o;
}

int64_t fd_gen_rows_done(const struct fd_gen *g)
{
	return g->rows_done;
}

void fd_gen_counts(const struct fd_gen *g, int64_t counts[FD_GEN_NTYPES])
{
	memcpy(counts, g->counts, sizeof(g->counts));
}

void fd_gen_free(struct fd_gen *g)
{
	if (!g)
		return;
	free(g->cust);
	free(g->alias_p);
	free(g->alias_a);
	free(g->merch);
	free(g->phys);
	free(g->online);
	free(g->ip);
	free(g->batch);
	free(g->heap);
	free(g);
}

int fd_gen_create(struct fd_gen **gp, const struct fd_gen_opts *o, struct fd_err *err)
{
	struct fd_gen *g;
	int i;
	int64_t d;

	*gp = NULL;
	if (o->rows < 0 || o->rows > FD_GEN_MAX_ROWS)
		return fd_err_set(err, FD_EUSAGE, "rows must be from 0 to %lld", FD_GEN_MAX_ROWS);
	if (o->customers < 0 || o->customers > FD_GEN_MAX_CUSTOMERS)
		return fd_err_set(err, FD_EUSAGE, "customers must be from 1 to %lld", FD_GEN_MAX_CUSTOMERS);
	if (o->merchants < 0 || o->merchants > FD_GEN_MAX_MERCHANTS)
		return fd_err_set(err, FD_EUSAGE, "merchants must be from 1 to %lld", FD_GEN_MAX_MERCHANTS);
	if (o->days < 1 || o->days > FD_GEN_MAX_DAYS)
		return fd_err_set(err, FD_EUSAGE, "days must be from 1 to %d", FD_GEN_MAX_DAYS);
	/* 0000-01-01 .. 9999-12-31 must hold every day */
	if (o->start_day < -719528 || o->start_day + o->days > 2932897)
		return fd_err_set(err, FD_EUSAGE, "the dates must fall within the years 0 to 9999");
	if (!(o->fraud_rate >= 0 && o->fraud_rate <= 1))
		return fd_err_set(err, FD_EUSAGE, "fraud rate must be from 0 to 1");
	if (o->exponent < 0 || o->exponent > 4)
		return fd_err_set(err, FD_EUSAGE, "currency exponent must be from 0 to 4");
	for (i = 0; i < 3; i++)
		if (o->currency[i] < 'A' || o->currency[i] > 'Z')
			return fd_err_set(err, FD_EUSAGE, "currency must be 3 upper-case letters");
	if (o->format != FD_GEN_CSV && o->format != FD_GEN_NDJSON)
		return fd_err_set(err, FD_EUSAGE, "format must be csv or ndjson");
	if (o->start_id < 1 || o->start_id > FD_GEN_MAX_ID)
		return fd_err_set(err, FD_EUSAGE, "the first id must be from 1 to %lld", FD_GEN_MAX_ID);
	for (i = 0; o->id_prefix[i]; i++)
		if (!isalnum((unsigned char)o->id_prefix[i]) && !strchr("_.-", o->id_prefix[i]))
			break;
	if (i == 0 || o->id_prefix[i] || i > 8)
		return fd_err_set(err, FD_EUSAGE, "the id prefix must be 1 to 8 letters, digits, '_', '.' or '-'");

	g = calloc(1, sizeof(*g));
	if (!g)
		return fd_err_set(err, FD_EIO, "out of memory");
	g->o = *o;
	g->o.currency[3] = '\0';
	if (!g->o.customers)
		g->o.customers = o->rows / 100 < 20 ? 20 : o->rows / 100 > 1000000 ? 1000000 : o->rows / 100;
	if (!g->o.merchants)
		g->o.merchants = g->o.customers / 5 < 50 ? 50 : g->o.customers / 5 > 20000 ? 20000
											: g->o.customers / 5;
	g->ncust = (int32_t)g->o.customers;
	g->nmerch = (int32_t)g->o.merchants;
	g->nfraud = llround((double)o->rows * o->fraud_rate);
	if (g->nfraud > o->rows)
		g->nfraud = o->rows;
	g->nlegit = o->rows - g->nfraud;
	for (g->pow10 = 1, i = 0; i < o->exponent; i++)
		g->pow10 *= 10;

	for (i = 0; i < NCITY; i++) {
		g->city_lat[i] = deg4(cities[i].lat);
		g->city_lon[i] = deg4(cities[i].lon);
		g->city_len[i] = (uint8_t)strlen(cities[i].name);
	}
	for (i = 0; i < 24; i++) {
		g->hour_total += hour_weight[i];
		g->hour_cum[i] = g->hour_total;
	}
	for (d = 0; d < g->o.days; d++)
		g->totw += weekday_weight[weekday(g->o.start_day + d)];
	g->cw = max_int(6, digits((uint64_t)g->ncust));
	g->mw = max_int(6, digits((uint64_t)g->nmerch));
	g->dw = max_int(7, digits((uint64_t)g->ncust * 2 + NIDENT));
	/* externals: the mule pool, one payee per customer, at most one new per fraud row */
	g->ext_next = NMULE_POOL + g->ncust;
	g->ew = max_int(7, digits((uint64_t)(g->ext_next + g->nfraud + 1)));
	{
		/* the counter holds start_id - 1: each row increments it before use */
		uint64_t v = (uint64_t)(o->start_id - 1);
		int k;

		g->tid_plen = (int)strlen(o->id_prefix);
		g->tid_len = g->tid_plen + max_int(10, digits((uint64_t)(o->start_id - 1 + o->rows)));
		memcpy(g->tid, o->id_prefix, (size_t)g->tid_plen);
		for (k = g->tid_len - 1; k >= g->tid_plen; k--, v /= 10)
			g->tid[k] = (char)('0' + v % 10);
	}
	for (i = 0; i < FD_GEN_NTYPES - 1; i++)
		g->order[i] = i + 1;
	g->order_pos = FD_GEN_NTYPES - 1;  /* shuffle before the first pattern */

	fd_rng_seed(&g->ev_rng, o->seed, 2);
	fd_rng_seed(&g->fr_rng, o->seed, 3);
	{
		struct fd_rng r;

		fd_rng_seed(&r, o->seed, 4);
		g->trip_key = fd_rng_next(&r);
	}
	if (build_population(g)) {
		fd_gen_free(g);
		return fd_err_set(err, FD_EIO, "out of memory");
	}
	*gp = g;
	return FD_OK;
}
