/* fd_intern.c — open-addressing hash table over an append-only arena.  See fd_intern.h. */
#include "fd_intern.h"

#include <stdlib.h>
#include <string.h>
#include "banned.h"

#define ARENA_CHUNK (1u << 20)

struct chunk {
	struct chunk *next;
	size_t used, cap;
	char data[];
};

struct entry {
	const char *s;
	uint32_t len;
	uint32_t hash32;
};

/* The upper half of the hash beside the id: a probe passes other keys' slots without
 * fetching their entries (a cache miss each in a big table). */
struct slot {
	uint32_t v;           /* 0 = empty, else id + 1 */
	uint32_t hash32;
};

struct fd_intern {
	struct slot *slots;
	size_t nslots;        /* power of two */
	struct entry *ents;   /* by id */
	uint32_t n, cap;
	struct chunk *arena;
	size_t bytes;
};

uint64_t fd_hash64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	/* final avalanche so that the low bits used for slots depend on every byte */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

struct fd_intern *fd_intern_create(void)
{
	struct fd_intern *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->nslots = 1024;
	t->slots = calloc(t->nslots, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

void fd_intern_free(struct fd_intern *t)
{
	struct chunk *c, *next;

	if (!t)
		return;
	for (c = t->arena; c; c = next) {
		next = c->next;
		free(c);
	}
	free(t->slots);
	free(t->ents);
	free(t);
}

static const char *arena_copy(struct fd_intern *t, const char *s, size_t n)
{
	struct chunk *c = t->arena;
	char *p;

	if (!c || c->cap - c->used < n + 1) {
		size_t cap = n + 1 > ARENA_CHUNK ? n + 1 : ARENA_CHUNK;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = t->arena;
		t->arena = c;
		t->bytes += sizeof(*c) + cap;
	}
	p = c->data + c->used;
	memcpy(p, s, n);
	p[n] = '\0';
	c->used += n + 1;
	return p;
}

static size_t probe(const struct fd_intern *t, const char *s, size_t n, uint64_t h)
{
	size_t mask = t->nslots - 1, i = (size_t)h & mask;
	uint32_t h32 = (uint32_t)(h >> 32);

	for (;;) {
		uint32_t v = t->slots[i].v;
		const struct entry *e;

		if (!v)
			return i;
		if (t->slots[i].hash32 == h32) {
			e = &t->ents[v - 1];
			if (e->len == n && memcmp(e->s, s, n) == 0)
				return i;
		}
		i = (i + 1) & mask;
	}
}

int64_t fd_intern_find(const struct fd_intern *t, const char *s, size_t n)
{
	uint32_t v = t->slots[probe(t, s, n, fd_hash64(s, n))].v;

	return v ? (int64_t)v - 1 : -1;
}

static int rehash(struct fd_intern *t)
{
	size_t nslots = t->nslots * 2, mask = nslots - 1, i;
	struct slot *slots = calloc(nslots, sizeof(*slots));

	if (!slots)
		return -1;
	for (i = 0; i < t->n; i++) {
		size_t j = (size_t)fd_hash64(t->ents[i].s, t->ents[i].len) & mask;

		while (slots[j].v)
			j = (j + 1) & mask;
		slots[j].v = (uint32_t)i + 1;
		slots[j].hash32 = t->ents[i].hash32;
	}
	t->bytes += (nslots - t->nslots) * sizeof(*slots);
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return 0;
}

int64_t fd_intern_put(struct fd_intern *t, const char *s, size_t n, int *is_new)
{
	uint64_t h = fd_hash64(s, n);
	size_t i = probe(t, s, n, h);
	struct entry *e;

	if (is_new)
		*is_new = 0;
	if (t->slots[i].v)
		return (int64_t)t->slots[i].v - 1;
	if (n > UINT32_MAX || t->n == UINT32_MAX - 1)
		return -1;
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 1024;
		struct entry *ents = realloc(t->ents, (size_t)cap * sizeof(*ents));

		if (!ents)
			return -1;
		t->bytes += (size_t)(cap - t->cap) * sizeof(*ents);
		t->ents = ents;
		t->cap = cap;
	}
	e = &t->ents[t->n];
	e->s = arena_copy(t, s, n);
	if (!e->s)
		return -1;
	e->len = (uint32_t)n;
	e->hash32 = (uint32_t)(h >> 32);
	t->slots[i].v = t->n + 1;
	t->slots[i].hash32 = e->hash32;
	t->n++;
	if (is_new)
		*is_new = 1;
	if ((size_t)t->n * 10 > t->nslots * 7 && rehash(t))
		return -1;
	return (int64_t)t->n - 1;
}

const char *fd_intern_str(const struct fd_intern *t, uint32_t id, size_t *len)
{
	if (id >= t->n)
		return NULL;
	if (len)
		*len = t->ents[id].len;
	return t->ents[id].s;
}

uint32_t fd_intern_count(const struct fd_intern *t)
{
	return t->n;
}

size_t fd_intern_bytes(const struct fd_intern *t)
{
	return t->bytes + sizeof(*t) + t->nslots * sizeof(*t->slots);
}
