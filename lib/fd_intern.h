/*
 * fd_intern.h — a string table that gives each distinct string a dense id (0, 1, 2, ...).
 *
 * Per-entity state everywhere in fd (features, ingest's entity counts, the graph) is kept in
 * arrays indexed by these ids, so memory grows with the number of distinct entities and never
 * with the number of transactions.  Strings are copied into the table's own arena; the pointers
 * returned by fd_intern_str() stay valid until fd_intern_free().
 */
#ifndef FD_INTERN_H
#define FD_INTERN_H

#include <stddef.h>
#include <stdint.h>

struct fd_intern;

/* NULL when out of memory. */
struct fd_intern *fd_intern_create(void);
/* Accepts NULL. */
void fd_intern_free(struct fd_intern *t);

/* The id of s (n bytes), or -1 when s is not in the table. */
int64_t fd_intern_find(const struct fd_intern *t, const char *s, size_t n);

/* The id of s, adding it if new (then *is_new = 1, else 0; is_new may be NULL).
 * Returns the id, or -1 when out of memory. */
int64_t fd_intern_put(struct fd_intern *t, const char *s, size_t n, int *is_new);

/* The string of an id (NUL-terminated), and its length when len is not NULL. */
const char *fd_intern_str(const struct fd_intern *t, uint32_t id, size_t *len);

/* How many distinct strings the table holds (the next id). */
uint32_t fd_intern_count(const struct fd_intern *t);

/* Bytes held by the table (for memory reports). */
size_t fd_intern_bytes(const struct fd_intern *t);

/* The hash used by the table: 64-bit FNV-1a.  Exposed for callers that shard by key. */
uint64_t fd_hash64(const void *p, size_t n);

#endif
