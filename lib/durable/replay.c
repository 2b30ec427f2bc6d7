/*
 * replay.c -- re-cutting a replayed stream at the boundaries of a batch
 * log (ds-batch --log, exactly-once.md point 2), and the ds-kafka-cat
 * envelope fields that the boundaries are made of.
 *
 * A replayed envelope whose offset lies in a logged batch goes to that
 * batch; plain records fill the logged batches by their counts.  Logged
 * batches leave in seq order, each with its logged seq, time, interval
 * and offsets, once complete; records of later batches wait for them.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "durable/durable.h"

struct rbatch {
	int64_t		 count;
	struct ds_buf	 held;	/* its records, each with '\n' */
};

struct ds_replay {
	const struct ds_blog *log;	/* borrowed */
	struct rbatch	*b;		/* b[i] for log entry i */
	struct ds_offsets *eoff;	/* each entry's ranges */
	struct ds_offsets logmax;	/* every logged range, merged */
	struct ds_offsets *seen;	/* the caller's: offsets seen in the run */
	size_t		 next;		/* first entry not yet emitted */
	int		 errors;
	int		 announced;	/* the source says where it starts */
	void		(*emit)(void *, json_t *);
	void		*arg;
};

int
ds_envelope(const char *p, size_t len, struct ds_buf *topic,
    struct ds_env *e)
{
	const char *end = p + len, *k, *v;
	size_t kl;
	int64_t i;
	int got = 0;

	if (len < 9 || memcmp(p, "{\"topic\":", 9) != 0)
		return 0;
	/* every key: a repeated one counts at its last, as in jq */
	for (p++; p < end; ) {
		while (p < end && *p != '"')
			p++;
		if (p >= end)
			break;
		k = p + 1;
		p = ds_json_skip(p, end);
		kl = p - k - 1;
		while (p < end && *p != ':')
			p++;
		v = ++p;
		p = ds_json_skip(p, end);
		while (v < p && (*v == ' ' || *v == '\t' || *v == '\n' ||
		    *v == '\r'))
			v++;
		if (kl == 5 && memcmp(k, "topic", 5) == 0) {
			ds_buf_clear(topic);
			got &= ~1;
			if (ds_json_str((struct ds_span){ v, p - v },
			    topic) == 0)
				got |= 1;
		} else if (kl == 9 && memcmp(k, "partition", 9) == 0) {
			got &= ~2;
			if (ds_json_int((struct ds_span){ v, p - v }, &i) ==
			    0 && i >= 0 && i <= INT32_MAX) {
				e->part = (int32_t)i;
				got |= 2;
			}
		} else if (kl == 6 && memcmp(k, "offset", 6) == 0) {
			got &= ~4;
			if (ds_json_int((struct ds_span){ v, p - v }, &i) ==
			    0) {
				e->off = i;
				got |= 4;
			}
		}
		while (p < end && *p != ',' && *p != '}')
			p++;
		if (p < end && *p == '}')
			break;
		p++;
	}
	if (got != 7)
		return 0;
	e->topic = topic->p != NULL ? topic->p : "";	/* "topic":"" */
	e->tlen = topic->len;
	return 1;
}

/* The range of topic/partition in o: its until, INT64_MIN when none. */
static int64_t
until_of(const struct ds_offsets *o, const char *t, size_t tlen, int32_t p)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (o->r[i].partition == p && strlen(o->r[i].topic) == tlen &&
		    memcmp(o->r[i].topic, t, tlen) == 0)
			return o->r[i].until;
	return INT64_MIN;
}

/* Does entry i's range for e's partition hold e's offset? */
static int
inentry(const struct ds_replay *r, size_t i, const struct ds_env *e)
{
	const struct ds_offsets *o = &r->eoff[i];
	size_t j;

	for (j = 0; j < o->n; j++)
		if (o->r[j].partition == e->part &&
		    strlen(o->r[j].topic) == e->tlen &&
		    memcmp(o->r[j].topic, e->topic, e->tlen) == 0)
			return e->off >= o->r[j].from && e->off < o->r[j].until;
	return 0;
}

/*
 * Has entry i got all its records?  Plain entries: its logged count;
 * envelope entries: every partition replayed up to the range's end.
 */
static int
entrydone(const struct ds_replay *r, size_t i)
{
	const struct ds_offsets *o = &r->eoff[i];
	size_t j;

	if (o->n == 0)
		return r->b[i].count >= r->log->e[i].count;
	for (j = 0; j < o->n; j++)
		if (until_of(r->seen, o->r[j].topic, strlen(o->r[j].topic),
		    o->r[j].partition) < o->r[j].until)
			return 0;
	return 1;
}

/*
 * Has the source gone past entry i on one of its partitions without
 * replaying any of its records?  A logged batch is replayed whole or
 * not at all (the source resumes at a batch boundary committed by the
 * sink), so such a batch was committed before the restart.
 */
static int
entrypassed(const struct ds_replay *r, size_t i)
{
	const struct ds_offsets *o = &r->eoff[i];
	size_t j;

	if (r->b[i].count > 0)
		return 0;
	for (j = 0; j < o->n; j++)
		if (until_of(r->seen, o->r[j].topic, strlen(o->r[j].topic),
		    o->r[j].partition) > o->r[j].until)
			return 1;
	return 0;
}

struct ds_replay *
ds_replay_new(const struct ds_blog *log, struct ds_offsets *seen,
    void (*emit)(void *, json_t *), void *arg)
{
	struct ds_replay *r;
	size_t i;

	if (log->n == 0)
		return NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->b = calloc(log->n, sizeof(*r->b))) == NULL ||
	    (r->eoff = calloc(log->n, sizeof(*r->eoff))) == NULL)
		err(1, NULL);
	r->log = log;
	r->seen = seen;
	r->emit = emit;
	r->arg = arg;
	for (i = 0; i < log->n; i++) {
		ds_offsets_merge_json(&r->eoff[i], log->e[i].offsets);
		ds_offsets_merge_json(&r->logmax, log->e[i].offsets);
	}
	return r;
}

void
ds_replay_start(struct ds_replay *r, const char *topic, size_t tlen,
    int32_t partition, int64_t from)
{
	r->announced = 1;
	if (from > 0)	/* as if the offsets before it were replayed */
		ds_offsets_see(r->seen, topic, tlen, partition, from - 1);
}

int
ds_replay_route(struct ds_replay *r, const char *p, size_t len,
    const struct ds_env *e, char *why, size_t whylen)
{
	size_t i;

	if (r->next >= r->log->n)
		return DS_RP_NEW;
	if (e == NULL) {
		if (r->eoff[r->next].n > 0)
			return DS_RP_NEW;
		i = r->next;
	} else {
		if (e->off >= until_of(&r->logmax, e->topic, e->tlen,
		    e->part))
			return DS_RP_NEW;
		for (i = r->next; i < r->log->n && !inentry(r, i, e); i++)
			;
		if (i == r->log->n) {
			snprintf(why, whylen, "offset %lld of %.*s/%d is in a "
			    "logged batch already replayed", (long long)e->off,
			    (int)e->tlen, e->topic, (int)e->part);
			return DS_RP_BAD;
		}
	}
	r->b[i].count++;
	ds_buf_add(&r->b[i].held, p, len);
	ds_buf_addc(&r->b[i].held, '\n');
	return DS_RP_HELD;
}

/*
 * Report a logged batch that the input ended in: which of its
 * partitions did not come to the end of its range.
 */
static void
incomplete(struct ds_replay *r, size_t i)
{
	const struct ds_offsets *o = &r->eoff[i];
	char got[48];
	int64_t u;
	size_t j;

	for (j = 0; j < o->n; j++) {
		u = until_of(r->seen, o->r[j].topic, strlen(o->r[j].topic),
		    o->r[j].partition);
		if (u >= o->r[j].until)
			continue;
		if (u == INT64_MIN)
			snprintf(got, sizeof(got), "none of them");
		else
			snprintf(got, sizeof(got), "up to offset %lld",
			    (long long)u - 1);
		warnx("%s: batch %lld: the input ended before its records of "
		    "%s/%d [%lld, %lld) came (%s): it and what follows stay "
		    "unwritten and uncommitted for the next run (does another "
		    "member of the group hold the partition?)", r->log->path,
		    (long long)r->log->e[i].seq, o->r[j].topic,
		    (int)o->r[j].partition, (long long)o->r[j].from,
		    (long long)o->r[j].until, got);
	}
}

int
ds_replay_pump(struct ds_replay *r, int final)
{
	const struct ds_blogent *le;
	struct rbatch *b;

	while (r->next < r->log->n) {
		le = &r->log->e[r->next];
		b = &r->b[r->next];
		if (!entrydone(r, r->next) && !entrypassed(r, r->next)) {
			if (!final)
				break;
			/*
			 * The input ended inside a batch of offsets: written
			 * short, it would count as applied downstream and
			 * its missing records would be skipped when they
			 * come; so it waits for a run that replays it whole.
			 * A batch none of whose records came was committed
			 * before the restart, unless the source said where
			 * it starts: then the batch is beyond that start,
			 * or on a partition the source does not own.
			 */
			if (r->eoff[r->next].n > 0 && (b->count > 0 ||
			    r->announced)) {
				incomplete(r, r->next);
				r->errors++;
				return 0;
			}
		}
		if (r->eoff[r->next].n > 0 && b->count == 0) {
			r->next++;	/* committed before the restart */
			continue;
		}
		if (b->count != le->count) {
			warnx("%s: batch %lld: %lld records replayed, the log "
			    "says %lld", r->log->path, (long long)le->seq,
			    (long long)b->count, (long long)le->count);
			r->errors++;
		}
		ds_out(b->held.p, b->held.len);
		ds_buf_free(&b->held);
		r->emit(r->arg, ds_marker_new(le->seq, le->time, le->interval,
		    b->count, json_incref(le->offsets)));
		r->next++;
	}
	return r->next == r->log->n;
}

int
ds_replay_errors(const struct ds_replay *r)
{
	return r->errors;
}

void
ds_replay_free(struct ds_replay *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->log->n; i++) {
		ds_offsets_free(&r->eoff[i]);
		ds_buf_free(&r->b[i].held);
	}
	free(r->eoff);
	free(r->b);
	ds_offsets_free(&r->logmax);
	free(r);
}
