/*
 * winq.c -- the batches inside a sliding window: each batch's partial
 * aggregates by key (or its raw records), oldest first, and for
 * invertible aggregates one running total per key that the entering
 * batch is merged into and the leaving one subtracted from.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "agg/agg.h"

/* The key of group i of part p ("" when there are no key fields). */
#define PKEY(p, i)	((p)->keys.p != NULL ? (p)->keys.p + (p)->g[i].off : "")

void
ds_winq_init(struct ds_winq *q, const struct ds_aggs *aggs, int64_t length,
    int raw, int inverse)
{
	memset(q, 0, sizeof(*q));
	q->aggs = aggs;
	q->length = length;
	q->raw = raw;
	q->inverse = inverse;
}

static struct ds_winpart *
newpart(struct ds_winq *q, int64_t time, int64_t seq)
{
	struct ds_winpart *p;

	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 16;
		q->q = ds_reallocarray(q->q, q->cap, sizeof(*q->q));
	}
	p = &q->q[q->n++];
	memset(p, 0, sizeof(*p));
	p->time = time;
	p->seq = seq;
	return p;
}

static void
partadd(struct ds_winpart *p, const char *k, size_t klen, struct ds_aggst *st)
{
	if ((p->n & (p->n - 1)) == 0)
		p->g = ds_reallocarray(p->g, p->n ? p->n * 2 : 1,
		    sizeof(*p->g));
	p->g[p->n].off = p->keys.len;
	p->g[p->n].len = klen;
	p->g[p->n].st = st;
	p->n++;
	ds_buf_add(&p->keys, k, klen);
}

static void
partfree(struct ds_winq *q, struct ds_winpart *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		ds_agg_free(q->aggs, p->g[i].st);
	free(p->g);
	ds_buf_free(&p->keys);
	ds_buf_free(&p->recs);
}

/* A batch enters the running totals. */
static void
enter(struct ds_winq *q, struct ds_winpart *p)
{
	struct ds_hent *e;
	size_t i;
	int isnew;

	if (!q->inverse)
		return;
	for (i = 0; i < p->n; i++) {
		e = ds_hash_put(&q->run, PKEY(p, i), p->g[i].len, &isnew);
		if (isnew)
			e->val = ds_agg_new(q->aggs);
		ds_agg_merge(q->aggs, e->val, p->g[i].st);
	}
}

void
ds_winq_push(struct ds_winq *q, int64_t time, int64_t seq,
    struct ds_groups *gs, struct ds_buf *recs, size_t nrecs)
{
	struct ds_winpart *p;
	struct ds_grp *g;
	size_t i = 0;

	p = newpart(q, time, seq);
	if (q->raw) {
		p->recs = *recs;
		p->nrecs = nrecs;
		memset(recs, 0, sizeof(*recs));
	} else {
		while ((g = ds_groups_next(gs, &i)) != NULL) {
			partadd(p, g->key, g->klen, g->st);
			g->st = NULL;
		}
		ds_groups_clear(gs, q->aggs);
	}
	enter(q, p);
}

/* A batch leaves the running totals; keys that fall to 0 are dropped. */
static int
leave(struct ds_winq *q, struct ds_winpart *p)
{
	struct ds_hent *e;
	size_t i;

	for (i = 0; q->inverse && i < p->n; i++) {
		if ((e = ds_hash_get(&q->run, PKEY(p, i), p->g[i].len)) ==
		    NULL)
			return -1;
		ds_agg_sub(q->aggs, e->val, p->g[i].st);
		if (ds_agg_count(e->val) <= 0) {
			ds_agg_free(q->aggs, e->val);
			ds_hash_del(&q->run, e);
		}
	}
	return 0;
}

int
ds_winq_evict(struct ds_winq *q, int64_t t)
{
	size_t k = 0;
	int rc = 0;

	while (k < q->n && q->q[k].time <= t - q->length) {
		if (leave(q, &q->q[k]) == -1)
			rc = -1;
		partfree(q, &q->q[k++]);
	}
	if (k > 0) {
		memmove(q->q, q->q + k, (q->n - k) * sizeof(*q->q));
		q->n -= k;
	}
	return rc;
}

void
ds_winq_records(const struct ds_winq *q)
{
	size_t k;

	for (k = 0; k < q->n; k++)
		ds_out(q->q[k].recs.p, q->q[k].recs.len);
}

size_t
ds_winq_groups(struct ds_winq *q, struct ds_groups *tmp, struct ds_grp **v)
{
	struct ds_winpart *p;
	struct ds_hent *e;
	struct ds_grp *g;
	size_t i, k, n = 0;
	int isnew;

	if (q->inverse) {
		*v = ds_reallocarray(NULL, ds_hash_count(&q->run) + 1,
		    sizeof(**v));
		i = 0;
		while ((e = ds_hash_next(&q->run, &i)) != NULL) {
			(*v)[n].key = e->key;
			(*v)[n].klen = e->klen;
			(*v)[n++].st = e->val;
		}
		return n;
	}
	for (k = 0; k < q->n; k++) {
		p = &q->q[k];
		for (i = 0; i < p->n; i++)
			ds_agg_merge(q->aggs, ds_groups_get(tmp, q->aggs,
			    PKEY(p, i), p->g[i].len, &isnew), p->g[i].st);
	}
	*v = ds_reallocarray(NULL, ds_groups_count(tmp) + 1, sizeof(**v));
	i = 0;
	while ((g = ds_groups_next(tmp, &i)) != NULL)
		(*v)[n++] = *g;
	return n;
}

/*
 * Saved form: each batch as a line [time,seq,n] followed by its n
 * groups [[key],partial] (or its n records).
 */
void
ds_winq_save(const struct ds_winq *q, struct ds_buf *b)
{
	const struct ds_winpart *p;
	size_t i, k;

	for (k = 0; k < q->n; k++) {
		p = &q->q[k];
		ds_buf_addf(b, "[%" PRId64 ",%" PRId64 ",%zu]\n", p->time,
		    p->seq, q->raw ? p->nrecs : p->n);
		if (q->raw) {
			ds_buf_add(b, p->recs.p, p->recs.len);
			continue;
		}
		for (i = 0; i < p->n; i++) {
			ds_buf_adds(b, "[[");
			ds_buf_add(b, PKEY(p, i), p->g[i].len);
			ds_buf_adds(b, "],");
			ds_agg_save(q->aggs, p->g[i].st, b);
			ds_buf_adds(b, "]\n");
		}
	}
}

/* A line [time,seq,n] that opens a batch of n lines: 0 or -1. */
static int
loadbatch(struct ds_winq *q, const char *line, const char *nl, size_t *n)
{
	json_int_t t, s, k;
	json_t *a;
	int rc;

	if ((a = json_loadb(line, (size_t)(nl - line), 0, NULL)) == NULL)
		return -1;
	rc = json_unpack(a, "[III!]", &t, &s, &k);
	json_decref(a);
	if (rc == -1 || k < 0)
		return -1;
	newpart(q, t, s);
	*n = (size_t)k;
	return 0;
}

/* One group line [[key],state] of part pt: 0 or -1. */
static int
loadgroup(struct ds_winq *q, struct ds_winpart *pt, const char *line,
    const char *nl)
{
	const char *k;
	struct ds_aggst *st;

	if (nl - line < 5 || line[0] != '[' || line[1] != '[')
		return -1;
	k = ds_json_skip(line + 1, nl);
	if (k >= nl || *k != ',' || nl[-1] != ']' || k[-1] != ']')
		return -1;
	if ((st = ds_agg_load(q->aggs, k + 1, nl - 1 - (k + 1))) == NULL)
		return -1;
	partadd(pt, line + 2, k - 1 - (line + 2), st);
	return 0;
}

int
ds_winq_load(struct ds_winq *q, const char *p, const char *e)
{
	struct ds_winpart *pt = NULL;
	const char *line, *nl;
	size_t n = 0;	/* lines left in the current batch */

	for (line = p; line < e; line = nl + 1) {
		if ((nl = memchr(line, '\n', e - line)) == NULL)
			nl = e;
		if (n == 0) {
			if (loadbatch(q, line, nl, &n) == -1)
				return -1;
			pt = &q->q[q->n - 1];
			continue;
		}
		n--;
		if (q->raw) {
			ds_buf_add(&pt->recs, line, nl - line);
			ds_buf_addc(&pt->recs, '\n');
			pt->nrecs++;
		} else if (loadgroup(q, pt, line, nl) == -1)
			return -1;
	}
	if (n != 0)
		return -1;
	for (n = 0; n < q->n; n++)
		enter(q, &q->q[n]);
	return 0;
}

void
ds_winq_free(struct ds_winq *q)
{
	struct ds_hent *e;
	size_t k;

	for (k = 0; k < q->n; k++)
		partfree(q, &q->q[k]);
	free(q->q);
	k = 0;
	while ((e = ds_hash_next(&q->run, &k)) != NULL)
		ds_agg_free(q->aggs, e->val);
	ds_hash_free(&q->run);
	memset(q, 0, sizeof(*q));
}

/* --- a window kept per source partition (ds-window --changelog) --- */

const char *
ds_winpart_key(const struct ds_winpart *p, size_t i, size_t *len)
{
	*len = p->g[i].len;
	return PKEY(p, i);
}

struct ds_winpart *
ds_winq_at(struct ds_winq *q, int64_t time, int64_t seq)
{
	struct ds_winpart p;
	size_t k;

	for (k = 0; k < q->n; k++)
		if (q->q[k].time == time)
			return &q->q[k];
	newpart(q, time, seq);
	p = q->q[q->n - 1];	/* oldest first */
	for (k = q->n - 1; k > 0 && q->q[k - 1].time > time; k--)
		q->q[k] = q->q[k - 1];
	q->q[k] = p;
	return &q->q[k];
}

int
ds_winq_loadgroup(struct ds_winq *q, struct ds_winpart *pt, const char *p,
    size_t len)
{
	return loadgroup(q, pt, p, p + len);
}

void
ds_winq_drop(struct ds_winq *q, int (*gone)(void *, const char *, size_t),
    void *arg)
{
	struct ds_winpart *np, old, *p = &old;	/* PKEY wants p */
	size_t i, k;

	for (k = 0; k < q->n; k++) {
		np = &q->q[k];
		old = *np;
		np->g = NULL;
		np->n = 0;
		memset(&np->keys, 0, sizeof(np->keys));
		for (i = 0; i < p->n; i++)
			if (gone(arg, PKEY(p, i), p->g[i].len))
				ds_agg_free(q->aggs, p->g[i].st);
			else
				partadd(np, PKEY(p, i), p->g[i].len,
				    p->g[i].st);
		free(old.g);
		ds_buf_free(&old.keys);
	}
}
