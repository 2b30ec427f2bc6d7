/*
 * durable/cut.c -- how ds-batch cuts a stream into batches: the
 * batches themselves, the per-partition rate bound and the event-time
 * clock.  Here beside the batch log because they hold records by their
 * source position (struct ds_env).
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "durable/durable.h"

/* Empty event-time batches we are willing to emit between two records. */
#define MAXGAP	1000000

void
ds_cutb_count(struct ds_cutb *b, size_t len, const struct ds_env *e)
{
	b->count++;
	b->bytes += (int64_t)len + 1;
	if (e != NULL)
		ds_offsets_see(&b->off, e->topic, e->tlen, e->part, e->off);
}

void
ds_cutb_hold(struct ds_cutb *b, const char *p, size_t len)
{
	ds_buf_add(&b->held, p, len);
	ds_buf_addc(&b->held, '\n');
}

void
ds_cutb_closed(struct ds_cutb *b)
{
	b->count = b->bytes = 0;
	ds_offsets_clear(&b->off);
}

void
ds_cutb_free(struct ds_cutb *b)
{
	ds_buf_free(&b->held);
	ds_offsets_free(&b->off);
	memset(b, 0, sizeof(*b));
}

/* Write out the records b holds. */
static void
unhold(struct ds_cutb *b)
{
	ds_out(b->held.p, b->held.len);
	ds_buf_clear(&b->held);
}

/* ---- the rate bound ---- */

/* A partition's records in the open batch, and those that wait. */
struct pcount {
	int64_t		 n;		/* in the open batch */
	int64_t		 held;		/* waiting */
	uint64_t	 full;		/* the release pass found it full */
};

void
ds_rate_init(struct ds_rate *r, int64_t quota)
{
	memset(r, 0, sizeof(*r));
	r->quota = quota;
}

/* The counts of a record's partition (records without offsets: one). */
static struct pcount *
pcount(struct ds_rate *r, const struct ds_env *e)
{
	struct ds_hent *h;
	int isnew;

	ds_buf_clear(&r->keybuf);
	if (e != NULL) {
		ds_buf_add(&r->keybuf, e->topic, e->tlen);
		ds_buf_addc(&r->keybuf, '\0');
		ds_buf_add(&r->keybuf, &e->part, sizeof(e->part));
	}
	h = ds_hash_put(&r->parts, r->keybuf.p != NULL ? r->keybuf.p : "",
	    r->keybuf.len, &isnew);
	if (isnew && (h->val = calloc(1, sizeof(struct pcount))) == NULL)
		err(1, NULL);
	return h->val;
}

int
ds_rate_admit(struct ds_rate *r, const char *p, size_t len,
    const struct ds_env *e)
{
	struct pcount *pc;

	if (r->quota == 0)
		return 1;
	pc = pcount(r, e);
	if (pc->held > 0 || pc->n >= r->quota) {
		pc->held++;
		r->nheld++;
		ds_buf_add(&r->held, p, len);
		ds_buf_addc(&r->held, '\n');
		return 0;
	}
	pc->n++;
	return 1;
}

int
ds_rate_full(const struct ds_rate *r)
{
	return r->quota > 0 && r->nheld > 0 &&
	    r->nheld >= r->quota * (int64_t)ds_hash_count(&r->parts);
}

/*
 * The waiting records go in, oldest first, as far as each partition's
 * bound allows; a partition that is full keeps its later records
 * waiting too, so its offsets stay in order.
 */
void
ds_rate_release(struct ds_rate *r, void (*put)(void *, const char *,
    size_t, const struct ds_env *), void *arg)
{
	struct ds_hent *h;
	struct pcount *pc;
	struct ds_env env;
	struct ds_buf rest = { 0 };
	const char *p, *e, *nl;
	size_t i = 0;
	int ise;

	while ((h = ds_hash_next(&r->parts, &i)) != NULL)
		((struct pcount *)h->val)->n = 0;
	if (r->nheld == 0)
		return;
	r->npass++;
	for (p = r->held.p, e = r->held.p + r->held.len; p < e; p = nl + 1) {
		nl = memchr(p, '\n', e - p);
		ise = ds_envelope(p, nl - p, &r->topicbuf, &env);
		pc = pcount(r, ise ? &env : NULL);
		if (pc->full == r->npass || pc->n >= r->quota) {
			pc->full = r->npass;
			ds_buf_add(&rest, p, nl - p + 1);
			continue;
		}
		pc->held--;
		r->nheld--;
		pc->n++;
		put(arg, p, nl - p, ise ? &env : NULL);
	}
	ds_buf_free(&r->held);
	r->held = rest;
}

void
ds_rate_free(struct ds_rate *r)
{
	struct ds_hent *h;
	size_t i = 0;

	while ((h = ds_hash_next(&r->parts, &i)) != NULL)
		free(h->val);
	ds_hash_free(&r->parts);
	ds_buf_free(&r->held);
	ds_buf_free(&r->keybuf);
	ds_buf_free(&r->topicbuf);
}

/* ---- the event-time clock ---- */

void
ds_evclk_init(struct ds_evclk *c, int64_t ival, int64_t lateness,
    void (*emit)(void *, int64_t, struct ds_cutb *), void *arg)
{
	memset(c, 0, sizeof(*c));
	c->ival = ival;
	c->lateness = lateness;
	c->emit = emit;
	c->arg = arg;
}

/* The open batch of index k, made when new. */
static struct ds_cutb *
batch(struct ds_evclk *c, int64_t k)
{
	struct ds_cutb *nob;
	size_t i = c->nob;

	while (i > 0 && c->ob[i - 1].k > k)
		i--;
	if (i > 0 && c->ob[i - 1].k == k)
		return &c->ob[i - 1];
	if (c->nob == c->obcap) {
		if ((nob = reallocarray(c->ob, c->obcap ? c->obcap * 2 : 16,
		    sizeof(*c->ob))) == NULL)
			err(1, NULL);
		c->ob = nob;
		c->obcap = c->obcap ? c->obcap * 2 : 16;
	}
	memmove(&c->ob[i + 1], &c->ob[i], (c->nob - i) * sizeof(*c->ob));
	memset(&c->ob[i], 0, sizeof(*c->ob));
	c->ob[i].k = k;
	c->nob++;
	return &c->ob[i];
}

/*
 * Close every batch below nl in order, empty ones included once the
 * stream has started, then write out the held records of the new lo.
 */
static void
advance(struct ds_evclk *c, int64_t nl)
{
	struct ds_cutb empty = { 0 };

	while (c->lo < nl) {
		if (c->nob > 0 && c->ob[0].k == c->lo) {
			unhold(&c->ob[0]);
			c->emit(c->arg, (c->lo + 1) * c->ival, &c->ob[0]);
			c->started = 1;
			ds_cutb_free(&c->ob[0]);
			memmove(&c->ob[0], &c->ob[1],
			    (--c->nob) * sizeof(*c->ob));
		} else if (c->started)
			c->emit(c->arg, (c->lo + 1) * c->ival, &empty);
		else if (c->nob > 0 && c->ob[0].k < nl) {
			/* nothing before the first record */
			c->lo = c->ob[0].k;
			continue;
		} else {
			c->lo = nl;
			break;
		}
		c->lo++;
	}
	if (c->nob > 0 && c->ob[0].k == c->lo)
		unhold(&c->ob[0]);
	ds_cutb_free(&empty);
}

int
ds_evclk_add(struct ds_evclk *c, int64_t t, const char *p, size_t len,
    const struct ds_env *e, char *why, size_t whylen)
{
	struct ds_cutb *b;
	int64_t k, nl;

	k = ds_floordiv(t, c->ival);
	if (c->have && k < c->lo) {
		snprintf(why, whylen, "late record: time %lld is in batch "
		    "%lld..%lld, already closed (lateness %lld ms)",
		    (long long)t, (long long)(k * c->ival),
		    (long long)((k + 1) * c->ival), (long long)c->lateness);
		return -1;
	}
	/* the empty batches between would be markers: bound them */
	if (c->have && (c->started || c->nob > 0) &&
	    k - (c->started ? c->lo : c->ob[0].k) > MAXGAP +
	    c->lateness / c->ival) {
		snprintf(why, whylen, "time %lld is more than %d intervals "
		    "after the open batches", (long long)t, MAXGAP);
		return -1;
	}
	if (!c->have) {
		c->have = 1;
		c->maxt = t;
		c->lo = ds_floordiv(t - c->lateness, c->ival);
	} else if (t > c->maxt) {
		c->maxt = t;
		nl = ds_floordiv(t - c->lateness, c->ival);
		if (nl > c->lo)
			advance(c, nl);
	}
	b = batch(c, k);
	ds_cutb_count(b, len, e);
	if (k == c->lo)
		ds_out_line(p, len);
	else
		ds_cutb_hold(b, p, len);
	return 0;
}

void
ds_evclk_resume(struct ds_evclk *c, int64_t lasttime)
{
	c->have = 1;
	c->lo = ds_floordiv(lasttime, c->ival);
	c->maxt = INT64_MIN / 2;
	c->started = 0;
}

void
ds_evclk_finish(struct ds_evclk *c)
{
	if (c->have)
		advance(c, ds_floordiv(c->maxt, c->ival) + 1);
}

void
ds_evclk_free(struct ds_evclk *c)
{
	size_t i;

	for (i = 0; i < c->nob; i++)
		ds_cutb_free(&c->ob[i]);
	free(c->ob);
	c->ob = NULL;
	c->nob = c->obcap = 0;
}
