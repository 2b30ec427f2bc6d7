/*
 * keytab.c -- the keys of a stateful stage: a hash table of the
 * stage's own per-key structs, in the order keys were first seen; with
 * an age list (least recently updated first) for timeouts; and with the
 * keys changed and removed since the last checkpoint, which is what a
 * delta checkpoint writes; and with the keys a batch touched.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "durable/durable.h"

void
ds_keytab_init(struct ds_keytab *t, size_t size, int byage, int track)
{
	memset(t, 0, sizeof(*t));
	t->size = size;
	t->byage = byage;
	t->track = track;
}

/* Append k to the array *v of *n (capacity *cap); returns its index. */
static size_t
push(struct ds_key ***v, size_t *n, size_t *cap, struct ds_key *k)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 1024;
		if ((*v = reallocarray(*v, *cap, sizeof(**v))) == NULL)
			err(1, NULL);
	}
	(*v)[*n] = k;
	return (*n)++;
}

/*
 * The age list is kept only when asked for: its pointer chasing costs
 * 10% of a run over 1M keys.
 */
static void
unlink_age(struct ds_keytab *t, struct ds_key *k)
{
	if (!t->byage)
		return;
	if (k->prev != NULL)
		k->prev->next = k->next;
	else if (t->oldest == k)
		t->oldest = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;
	else if (t->newest == k)
		t->newest = k->prev;
	k->prev = k->next = NULL;
}

static void
append_age(struct ds_keytab *t, struct ds_key *k)
{
	if (!t->byage)
		return;
	k->prev = t->newest;
	k->next = NULL;
	if (t->newest != NULL)
		t->newest->next = k;
	else
		t->oldest = k;
	t->newest = k;
}

void *
ds_keytab_get(struct ds_keytab *t, const char *key, size_t n)
{
	struct ds_hent *e;
	struct ds_key *k;
	int isnew;

	e = ds_hash_put(&t->h, key, n, &isnew);
	if (!isnew)
		return e->val;
	if ((k = calloc(1, t->size)) == NULL)
		err(1, NULL);
	k->key = e->key;
	k->klen = e->klen;
	k->last = DS_KEY_NOTIME;
	e->val = k;
	k->idx = push(&t->ord, &t->n, &t->cap, k);
	return k;
}

void *
ds_keytab_find(struct ds_keytab *t, const char *key, size_t n)
{
	struct ds_hent *e;

	return (e = ds_hash_get(&t->h, key, n)) != NULL ? e->val : NULL;
}

void
ds_keytab_del(struct ds_keytab *t, struct ds_key *k)
{
	struct ds_hent *e;

	if (k->live)
		unlink_age(t, k);
	if (k->dirty)
		t->chg[k->didx] = NULL;
	if (k->live && t->track) {
		ds_buf_add(&t->gone, &k->klen, sizeof(k->klen));
		ds_buf_add(&t->gone, k->key, k->klen);
	}
	t->ord[k->idx] = NULL;
	t->holes++;
	if ((e = ds_hash_get(&t->h, k->key, k->klen)) != NULL)
		ds_hash_del(&t->h, e);
	free(k);
}

void
ds_keytab_changed(struct ds_keytab *t, struct ds_key *k)
{
	if (!t->track || k->dirty)
		return;
	k->dirty = 1;
	k->didx = push(&t->chg, &t->nchg, &t->chgcap, k);
}

void
ds_keytab_live(struct ds_keytab *t, struct ds_key *k, int64_t time)
{
	if (k->live)
		unlink_age(t, k);
	k->live = 1;
	k->last = time;
	append_age(t, k);
	ds_keytab_changed(t, k);
}

void
ds_keytab_settled(struct ds_keytab *t)
{
	size_t i;

	for (i = 0; i < t->nchg; i++)
		if (t->chg[i] != NULL)
			t->chg[i]->dirty = 0;
	t->nchg = 0;
	ds_buf_clear(&t->gone);
}

int
ds_keytab_gone(const struct ds_keytab *t, size_t *off, const char **key,
    size_t *klen)
{
	if (*off >= t->gone.len)
		return 0;
	memcpy(klen, t->gone.p + *off, sizeof(*klen));
	*key = t->gone.p + *off + sizeof(*klen);
	*off += sizeof(*klen) + *klen;
	return 1;
}

void
ds_keytab_compact(struct ds_keytab *t)
{
	size_t i, j;

	if (t->holes < 64 || t->holes * 2 < t->n)
		return;
	for (i = j = 0; i < t->n; i++)
		if (t->ord[i] != NULL) {
			t->ord[i]->idx = j;
			t->ord[j++] = t->ord[i];
		}
	t->n = j;
	t->holes = 0;
}

void
ds_keytab_touch(struct ds_keytab *t, struct ds_key *k)
{
	if (k->touched)
		return;
	k->touched = 1;
	push(&t->touch, &t->ntouch, &t->touchcap, k);
}

void *
ds_keytab_nexttouched(struct ds_keytab *t, size_t *i)
{
	struct ds_key *k;

	if (*i >= t->ntouch) {
		t->ntouch = 0;
		return NULL;
	}
	k = t->touch[(*i)++];
	k->touched = 0;
	return k;
}

void
ds_keytab_stamp(struct ds_keytab *t, int64_t time)
{
	struct ds_key *k;

	if (time == DS_KEY_NOTIME)
		return;
	for (k = t->oldest; k != NULL; k = k->next)
		if (k->last == DS_KEY_NOTIME)
			k->last = time;
}

void *
ds_keytab_expired(struct ds_keytab *t, int64_t now, int64_t ttl)
{
	struct ds_key *k = t->oldest;

	if (ttl <= 0 || now == DS_KEY_NOTIME || k == NULL ||
	    k->last == DS_KEY_NOTIME || now - k->last <= ttl)
		return NULL;
	return k;
}

static int
cmpage(const void *a, const void *b)
{
	const struct ds_key *x = *(struct ds_key *const *)a;
	const struct ds_key *y = *(struct ds_key *const *)b;

	if (x->last != y->last)
		return x->last < y->last ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

void
ds_keytab_sortage(struct ds_keytab *t)
{
	struct ds_key **v;
	size_t i, n = 0;

	if (!t->byage)
		return;
	if ((v = reallocarray(NULL, t->n + 1, sizeof(*v))) == NULL)
		err(1, NULL);
	for (i = 0; i < t->n; i++)
		if (t->ord[i] != NULL && t->ord[i]->live)
			v[n++] = t->ord[i];
	qsort(v, n, sizeof(*v), cmpage);
	t->oldest = t->newest = NULL;
	for (i = 0; i < n; i++)
		append_age(t, v[i]);
	free(v);
}

void
ds_keytab_free(struct ds_keytab *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->ord[i]);
	free(t->ord);
	free(t->chg);
	free(t->touch);
	ds_buf_free(&t->gone);
	ds_hash_free(&t->h);
	memset(t, 0, sizeof(*t));
}
