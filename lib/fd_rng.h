/*
 * fd_rng.h — the project's random numbers: xoshiro256** (Blackman & Vigna) seeded through
 * splitmix64.  Deterministic across machines for a given seed, which is what makes generated
 * data and trained models reproducible; never for anything secret (libsodium does that).
 *
 * A seed and a stream number give an independent sequence, so one --seed can drive several
 * uses (initial weights, shuffles, dropout, trees) without their draws interfering.
 */
#ifndef FD_RNG_H
#define FD_RNG_H

#include <stdint.h>

struct fd_rng {
	uint64_t s[4];
};

static inline uint64_t fd_rng_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void fd_rng_seed(struct fd_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = fd_rng_splitmix64(&x);
}

static inline uint64_t fd_rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t fd_rng_next(struct fd_rng *r)
{
	uint64_t *s = r->s, res = fd_rng_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = fd_rng_rotl(s[3], 45);
	return res;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double fd_rng_unif(struct fd_rng *r)
{
	return (double)(fd_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in [0, n), n > 0, without modulo bias (rejection). */
static inline uint64_t fd_rng_below(struct fd_rng *r, uint64_t n)
{
	uint64_t lim = -n % n, x;  /* 2^64 mod n: values below it are rejected */

	do
		x = fd_rng_next(r);
	while (x < lim);
	return x % n;
}

#endif
