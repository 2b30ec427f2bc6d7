/*
 * rectab.c -- a table of records by key (ds-join's sides): the records'
 * bytes and keys in two buffers, and, when indexed, the records of each
 * key chained in order of arrival.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

int
ds_rec_key(const char *p, size_t len, const struct ds_path *keys, int nkeys,
    struct ds_buf *b)
{
	struct ds_span v;
	const char *why;
	int i;

	if (ds_json_type(p, len) != DS_JOBJ)
		return 0;
	for (i = 0; i < nkeys; i++)
		if (!ds_json_get(p, len, &keys[i], &v))
			return 0;
	return ds_key_make(p, len, keys, nkeys, b, &why) == 0;
}

/* The hash holds (first << 32 | last) + 1: the key's chain of records. */
static void
chain(struct ds_rectab *t, struct ds_rec *r)
{
	struct ds_hent *h;
	uint64_t v;
	int isnew, first, last;

	h = ds_hash_put(&t->h, t->keys.p + r->koff, r->klen, &isnew);
	if (isnew) {
		h->val = (void *)(uintptr_t)(((uint64_t)t->n << 32 |
		    (uint64_t)t->n) + 1);
		return;
	}
	v = (uint64_t)(uintptr_t)h->val - 1;
	first = (int)(v >> 32);
	last = (int)(v & 0xffffffff);
	t->r[last].next = t->n;
	h->val = (void *)(uintptr_t)(((uint64_t)first << 32 |
	    (uint64_t)t->n) + 1);
}

void
ds_rectab_add(struct ds_rectab *t, const struct ds_path *keys, int nkeys,
    const char *p, size_t len, int index)
{
	struct ds_rec *r;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->r = ds_reallocarray(t->r, t->cap, sizeof(*t->r));
	}
	r = &t->r[t->n];
	r->off = t->text.len;
	r->len = len;
	r->koff = t->keys.len;
	r->matched = 0;
	r->next = -1;
	ds_buf_add(&t->text, p, len);
	r->haskey = ds_rec_key(p, len, keys, nkeys, &t->keys);
	r->klen = t->keys.len - r->koff;
	if (r->haskey && index)
		chain(t, r);
	t->n++;
}

int
ds_rectab_find(struct ds_rectab *t, const char *k, size_t klen)
{
	struct ds_hent *h = ds_hash_get(&t->h, k, klen);

	if (h == NULL)
		return -1;
	return (int)((((uint64_t)(uintptr_t)h->val) - 1) >> 32);
}

void
ds_rectab_clear(struct ds_rectab *t)
{
	ds_buf_clear(&t->text);
	ds_buf_clear(&t->keys);
	t->n = 0;
	ds_hash_clear(&t->h);
}

void
ds_rectab_free(struct ds_rectab *t)
{
	ds_hash_free(&t->h);
	ds_buf_free(&t->text);
	ds_buf_free(&t->keys);
	free(t->r);
	memset(t, 0, sizeof(*t));
}
