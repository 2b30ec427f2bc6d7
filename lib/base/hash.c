/*
 * hash.c -- a hash table keyed by byte strings: open addressing, linear
 * probing, tombstones on delete so that deleting while iterating is safe
 * (inserting while iterating is not: it may rehash).
 */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

static char tomb;	/* the key of a deleted slot */
#define TOMB	(&tomb)

/*
 * The last n < 8 bytes as memcpy into a zeroed word puts them, read with
 * whole loads on a little-endian machine (a copy byte by byte stalled
 * the multiply that reads the word back).
 */
static inline uint64_t
tail(const unsigned char *p, size_t n)
{
	uint64_t w = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint32_t a, b;

	if (n >= 4) {
		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		return a | (uint64_t)b << (8 * (n - 4));
	}
	if (n > 0)
		w = p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) |
		    (uint64_t)p[n - 1] << (8 * (n - 1));
#else
	memcpy(&w, p, n);
#endif
	return w;
}

/* A fast 64-bit hash of short keys, eight bytes at a time. */
uint64_t
ds_hash_bytes(const void *k, size_t n)
{
	const unsigned char *p = k;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL), w;

	while (n >= 8) {
		memcpy(&w, p, 8);
		h = (h ^ (w * 0xc4ceb9fe1a85ec53ULL)) * 0x100000001b3ULL;
		h ^= h >> 29;
		p += 8;
		n -= 8;
	}
	w = tail(p, n);
	h = (h ^ (w * 0xc4ceb9fe1a85ec53ULL)) * 0xff51afd7ed558ccdULL;
	h ^= h >> 32;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return h;
}

static struct ds_hent *
find(struct ds_hash *h, const void *k, size_t n, uint64_t hv,
    struct ds_hent **freeslot)
{
	size_t i, mask = h->cap - 1;
	struct ds_hent *e;

	*freeslot = NULL;
	for (i = hv & mask;; i = (i + 1) & mask) {
		e = &h->e[i];
		if (e->key == NULL) {
			if (*freeslot == NULL)
				*freeslot = e;
			return NULL;
		}
		if (e->key == TOMB) {
			if (*freeslot == NULL)
				*freeslot = e;
			continue;
		}
		if (e->hash == hv && e->klen == n && ds_sameb(e->key, k, n))
			return e;
	}
}

static void
rehash(struct ds_hash *h, size_t cap)
{
	struct ds_hent *old = h->e, *e, *slot;
	size_t i, oldcap = h->cap;

	h->e = ds_reallocarray(NULL, cap, sizeof(*h->e));
	memset(h->e, 0, cap * sizeof(*h->e));
	h->cap = cap;
	for (i = 0; i < oldcap; i++) {
		e = &old[i];
		if (e->key == NULL || e->key == TOMB)
			continue;
		find(h, e->key, e->klen, e->hash, &slot);
		*slot = *e;
	}
	free(old);
}

struct ds_hent *
ds_hash_get(struct ds_hash *h, const void *k, size_t n)
{
	struct ds_hent *slot;

	if (h->cap == 0)
		return NULL;
	return find(h, k, n, ds_hash_bytes(k, n), &slot);
}

struct ds_hent *
ds_hash_put(struct ds_hash *h, const void *k, size_t n, int *isnew)
{
	struct ds_hent *e, *slot;
	uint64_t hv = ds_hash_bytes(k, n);

	if (h->cap == 0)
		rehash(h, 64);
	if ((e = find(h, k, n, hv, &slot)) != NULL) {
		*isnew = 0;
		return e;
	}
	if (slot->key == NULL) {
		/* a fresh slot: keep live below 3/4, dead below 1/4 */
		if ((h->n + 1) * 4 > h->cap * 3 || h->dead * 4 > h->cap) {
			rehash(h, (h->n + 1) * 4 > h->cap * 3 ? h->cap * 2 :
			    h->cap);
			find(h, k, n, hv, &slot);
		}
	} else
		h->dead--;
	slot->key = ds_reallocarray(NULL, n + 1, 1);
	memcpy(slot->key, k, n);
	slot->key[n] = '\0';
	slot->klen = n;
	slot->hash = hv;
	slot->val = NULL;
	h->n++;
	*isnew = 1;
	return slot;
}

void
ds_hash_del(struct ds_hash *h, struct ds_hent *e)
{
	free(e->key);
	e->key = TOMB;
	e->val = NULL;
	h->n--;
	h->dead++;
}

struct ds_hent *
ds_hash_next(struct ds_hash *h, size_t *i)
{
	while (*i < h->cap) {
		struct ds_hent *e = &h->e[(*i)++];

		if (e->key != NULL && e->key != TOMB)
			return e;
	}
	return NULL;
}

size_t
ds_hash_count(const struct ds_hash *h)
{
	return h->n;
}

void
ds_hash_clear(struct ds_hash *h)
{
	size_t i;

	if (h->n + h->dead == 0)
		return;
	for (i = 0; i < h->cap; i++)
		if (h->e[i].key != TOMB)
			free(h->e[i].key);
	memset(h->e, 0, h->cap * sizeof(*h->e));
	h->n = h->dead = 0;
}

void
ds_hash_free(struct ds_hash *h)
{
	ds_hash_clear(h);
	free(h->e);
	h->e = NULL;
	h->cap = 0;
}
