/*
 * kafka_consume.c -- the consumer of ds-kafka-cat: envelopes out, offsets
 * stored only after their envelopes were written, per-partition rate
 * limits (Spark's maxRatePerPartition) and ack-driven commits.
 *
 * Hot path: one poll of the consumer's queue per message, the envelope
 * built in one reused buffer (a per-partition prefix holds the escaped
 * topic and partition), payload JSON validated by ds_json_check and
 * copied as it is (kafka_env.c); no allocation per message.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka/kafka.h"

/* Per-partition state, created on assignment or on first sight. */
struct part {
	char		*topic;
	int32_t		 partition;
	rd_kafka_topic_t *rkt;		/* borrowed: the message's handle */
	char		*prefix;	/* {"topic":"t","partition":0,"offset": */
	size_t		 plen;
	int		 owned;		/* in our current assignment */
	int		 eof;		/* reached the end (-e) */
	int		 ended;		/* reached -o e@ts: read no more */
	int64_t		 next;		/* offset after the last one written */
	int64_t		 stored;	/* next as last stored/committed */
	int64_t		 acked;		/* last ack-mode commit */
	double		 tokens;	/* rate limit bucket */
	int64_t		 tokms;		/* when tokens was computed */
	rd_kafka_message_t **q;		/* ring of records waiting for a token */
	size_t		 qh, qn, qcap;
	int		 paused;
	char		*where;		/* "topic/partition" for messages */
};

struct cons {
	const struct dk	*dk;
	rd_kafka_t	*rk;
	rd_kafka_queue_t *q;		/* no group: the simple consumer's */
	rd_kafka_topic_t **rkts;	/* no group: one per -t, started */
	struct part	*p;
	size_t		 np;
	size_t		 last;		/* last-hit cache for find() */
	int		 cooperative;
	int		 dirty;		/* written since the last store */
	int64_t		 seen;		/* records written (-c) */
	int		 status;
	int		 stop;		/* a bad record ends the run */
	/* ack reader */
	struct ds_ackin	 ack;		/* ack.fd -1: no ack mode */
	rd_kafka_topic_partition_list_t *commits;	/* of ackpoll */
	int		 recommit;	/* an ack commit failed: again */
	int64_t		 recommitms;	/* not before this time */
	struct ds_buf	 env;		/* the envelope being built */
	struct ds_buf	 tmp;		/* its lossless extra fields */
};

static struct part *
find(struct cons *c, const char *topic, int32_t partition)
{
	struct part *p;
	struct ds_buf b = { 0 };
	size_t i;

	for (i = 0; i < c->np; i++)
		if (c->p[i].partition == partition &&
		    strcmp(c->p[i].topic, topic) == 0)
			return &c->p[i];
	c->p = reallocarray(c->p, c->np + 1, sizeof(*c->p));
	if (c->p == NULL)
		err(1, NULL);
	p = &c->p[c->np++];
	memset(p, 0, sizeof(*p));
	if ((p->topic = strdup(topic)) == NULL)
		err(1, NULL);
	p->partition = partition;
	p->next = p->stored = p->acked = -1;
	p->tokens = c->dk->maxrate > 0 ? 1 : 0;
	p->tokms = ds_now_ms();
	ds_buf_adds(&b, "{\"topic\":");
	ds_buf_addq(&b, topic, strlen(topic));
	ds_buf_addf(&b, ",\"partition\":%d,\"offset\":", (int)partition);
	p->plen = b.len;
	p->prefix = b.p;
	if (asprintf(&p->where, "%s/%d", topic, (int)partition) == -1)
		err(1, NULL);
	return p;
}

/* The partition of a message, fast when runs come from one partition. */
static struct part *
msgpart(struct cons *c, const rd_kafka_message_t *m)
{
	struct part *p;

	if (c->last < c->np) {
		p = &c->p[c->last];
		if (p->rkt == m->rkt && p->partition == m->partition)
			return p;
	}
	p = find(c, rd_kafka_topic_name(m->rkt), m->partition);
	p->rkt = m->rkt;
	c->last = (size_t)(p - c->p);
	return p;
}

/* Write one message as -f (or -K, -D) says, in kcat's manner. */
static void
emitfmt(struct cons *c, struct part *p, rd_kafka_message_t *m)
{
	c->env.len = 0;
	dk_format(&c->env, c->dk->fmt, m, c->dk->nulls);
	if (c->env.len > 0)
		ds_out(c->env.p, c->env.len);
	c->seen++;
	p->next = m->offset + 1;
	c->dirty = 1;
}

/* Write one message as an envelope (or report it as a bad record). */
static void
emit(struct cons *c, struct part *p, rd_kafka_message_t *m)
{
	struct ds_buf *b = &c->env, *x = &c->tmp;
	rd_kafka_headers_t *hdrs;
	const char *why = NULL;
	int64_t ts;

	if (c->dk->fmt != NULL) {
		emitfmt(c, p, m);
		return;
	}
	b->len = 0;
	x->len = 0;
	ds_buf_add(b, p->prefix, p->plen);
	ds_buf_addi(b, m->offset);
	ds_buf_add(b, ",\"ts\":", 6);
	if ((ts = rd_kafka_message_timestamp(m, NULL)) >= 0)
		ds_buf_addi(b, ts);
	else
		ds_buf_add(b, "null", 4);
	ds_buf_add(b, ",\"key\":", 7);
	dk_encode(b, x, "key", m->key, m->key_len, c->dk->kmode, &why);
	ds_buf_add(b, ",\"headers\":", 11);
	if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
		hdrs = NULL;
	dk_headers(b, x, hdrs);
	ds_buf_add(b, ",\"value\":", 9);
	if (dk_encode(b, x, "value", m->payload, m->len, c->dk->vmode,
	    &why) == -1) {
		struct ds_line l;

		l.p = m->payload;
		l.len = m->len;
		l.lineno = (unsigned long)m->offset;
		l.src = p->where;
		l.toolong = 0;
		if (dk_bad(c->dk, &l, "%s", why) == -1) {
			c->status = 1;
			c->stop = 1;	/* the tool says: no further */
		}
	} else {
		if (x->len > 0)
			ds_buf_add(b, x->p, x->len);
		ds_buf_addc(b, '}');
		ds_out_line(b->p, b->len);
		c->seen++;
	}
	p->next = m->offset + 1;
	c->dirty = 1;
}

/*
 * Output is flushed: the offsets of what was written may now be stored
 * (auto mode; librdkafka commits stored offsets).  Acks mode and plain
 * consumers do not store.
 */
static void
flushstore(struct cons *c)
{
	rd_kafka_topic_partition_list_t *l;
	size_t i;

	ds_out_flush();
	if (!c->dirty)
		return;
	c->dirty = 0;
	if (c->dk->group == NULL || c->dk->commit != DK_COMMIT_AUTO)
		return;
	l = rd_kafka_topic_partition_list_new((int)c->np);
	for (i = 0; i < c->np; i++)
		if (c->p[i].owned && c->p[i].next > c->p[i].stored) {
			rd_kafka_topic_partition_list_add(l, c->p[i].topic,
			    c->p[i].partition)->offset = c->p[i].next;
			c->p[i].stored = c->p[i].next;
		}
	if (l->cnt > 0)
		rd_kafka_offsets_store(c->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
}

static void
pause1(struct cons *c, struct part *p, int pause)
{
	rd_kafka_topic_partition_list_t *l;

	l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(l, p->topic, p->partition);
	if (pause)
		rd_kafka_pause_partitions(c->rk, l);
	else
		rd_kafka_resume_partitions(c->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
}

/*
 * Token bucket per partition: maxrate tokens a second, at most a tenth
 * of a second's worth saved up, so a backlog comes out at the rate and
 * not in bursts.  Returns 1 when a record may go now.
 */
static int
take(struct cons *c, struct part *p, int64_t now)
{
	double cap = c->dk->maxrate / 10.0;

	if (cap < 1)
		cap = 1;
	p->tokens += (double)(now - p->tokms) * c->dk->maxrate / 1000.0;
	p->tokms = now;
	if (p->tokens > cap)
		p->tokens = cap;
	if (p->tokens < 1)
		return 0;
	p->tokens -= 1;
	return 1;
}

/*
 * Records of a rate-limited partition wait in its ring until a token
 * comes.  The ring holds at most holdmax() records; when it is full the
 * partition is paused (librdkafka drops what it prefetched and fetches
 * again from our position on resume), so memory stays bounded and no
 * fetch round trip sits between two records.
 */
static size_t
holdmax(const struct cons *c)
{
	return c->dk->maxrate / 2 > 500 ? (size_t)(c->dk->maxrate / 2) : 500;
}

static void
hold(struct cons *c, struct part *p, rd_kafka_message_t *m)
{
	if (p->qcap == 0) {
		p->qcap = holdmax(c);
		if ((p->q = calloc(p->qcap, sizeof(*p->q))) == NULL)
			err(1, NULL);
	}
	if (p->qn == p->qcap) {		/* cannot happen: paused when full */
		rd_kafka_message_destroy(m);
		return;
	}
	p->q[(p->qh + p->qn) % p->qcap] = m;
	p->qn++;
	if (p->qn == p->qcap && !p->paused) {
		pause1(c, p, 1);
		p->paused = 1;
	}
}

/* Emit what the partition's tokens allow; returns ms to its next one. */
static int64_t
release1(struct cons *c, struct part *p, int64_t now)
{
	rd_kafka_message_t *m;

	while (p->qn > 0 && (c->dk->count < 0 || c->seen < c->dk->count) &&
	    take(c, p, now)) {
		m = p->q[p->qh];
		p->qh = (p->qh + 1) % p->qcap;
		p->qn--;
		emit(c, p, m);
		rd_kafka_message_destroy(m);
	}
	if (p->paused && p->qn <= p->qcap / 2 && p->owned) {
		pause1(c, p, 0);
		p->paused = 0;
	}
	if (p->qn == 0)
		return 100;
	return (int64_t)((1 - p->tokens) * 1000 / c->dk->maxrate) + 1;
}

static int
release(struct cons *c)
{
	int64_t now = ds_now_ms(), wait = 100, w;
	size_t i;

	for (i = 0; i < c->np; i++)
		if (c->p[i].qn > 0 || c->p[i].paused) {
			w = release1(c, &c->p[i], now);
			if (w < wait)
				wait = w;
		}
	return (int)wait;
}

static void
drop(struct part *p)
{
	while (p->qn > 0) {
		rd_kafka_message_destroy(p->q[p->qh]);
		p->qh = (p->qh + 1) % p->qcap;
		p->qn--;
	}
	p->paused = 0;
}

/* ------------------------------------------------------------------ */
/* ack mode */

/* Note the safe offsets of one ack (a control record m) for commit. */
static void
ackline(void *ctx, json_t *m)
{
	struct cons *c = ctx;
	rd_kafka_topic_partition_list_t *safe, *l = c->commits;
	rd_kafka_topic_partition_t *tp, *e;
	struct part *p;
	int i;

	if ((safe = dk_marker_commits(m)) == NULL)
		return;
	for (i = 0; i < safe->cnt; i++) {
		e = &safe->elems[i];
		p = find(c, e->topic, e->partition);
		if (!p->owned || e->offset <= p->acked)
			continue;	/* not ours (rebalance) or old */
		p->acked = e->offset;
		tp = rd_kafka_topic_partition_list_find(l, p->topic,
		    p->partition);
		if (tp == NULL)
			tp = rd_kafka_topic_partition_list_add(l, p->topic,
			    p->partition);
		tp->offset = p->acked;
	}
	rd_kafka_topic_partition_list_destroy(safe);
}

#define RECOMMIT_MS	1000

/*
 * An ack commit's result (served by the consumer's poll).  A commit
 * that failed (no coordinator, a request timed out) is made again, with
 * what the acks say then: the batches it covered were written, and no
 * later ack need come to commit them (the last batch of a topic).
 */
static void
commitcb(rd_kafka_t *rk, rd_kafka_resp_err_t e,
    rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
	struct cons *c = opaque;

	if (e == 0 || e == RD_KAFKA_RESP_ERR__NO_OFFSET)
		return;
	if (!c->recommit)	/* once a failure, not once a batch */
		warnx("%s: commit: %s (trying again)", c->dk->acks,
		    rd_kafka_err2str(e));
	c->recommit = 1;
	c->recommitms = ds_now_ms() + RECOMMIT_MS;
}

/* Commit the acked offsets of the partitions we own again. */
static void
recommit(struct cons *c)
{
	rd_kafka_topic_partition_list_t *l;
	size_t i;

	if (!c->recommit || ds_now_ms() < c->recommitms)
		return;
	c->recommit = 0;
	l = rd_kafka_topic_partition_list_new(4);
	for (i = 0; i < c->np; i++)
		if (c->p[i].owned && c->p[i].acked >= 0)
			rd_kafka_topic_partition_list_add(l, c->p[i].topic,
			    c->p[i].partition)->offset = c->p[i].acked;
	if (l->cnt > 0)
		rd_kafka_commit(c->rk, l, 1);
	rd_kafka_topic_partition_list_destroy(l);
}

/*
 * Read what the ack path holds now and commit it: asynchronously while
 * consuming (async), for the commit must not stop the records: a
 * synchronous one waits as long as the group has no coordinator, up to
 * session.timeout.ms, and the member whose coordinator is down then
 * loses its partitions without having written a record more.  Returns
 * 1 when the path is at its end (a FIFO with no writer left), else 0.
 */
static int
ackpoll(struct cons *c, int async)
{
	rd_kafka_resp_err_t e;
	int end;

	if (c->ack.fd == -1)
		return 1;
	c->commits = rd_kafka_topic_partition_list_new(4);
	if ((end = ds_ackin_read(&c->ack, ackline, c)) == -1) {
		c->status = dk_fail(c->dk, 1, "%s: %s", c->dk->acks,
		    strerror(errno));
		c->stop = 1;
		end = 1;
	}
	/* --commit none: the acks only say when a batch is committed */
	if (c->commits->cnt > 0 && c->dk->commit == DK_COMMIT_ACKS &&
	    (e = rd_kafka_commit(c->rk, c->commits, async)) != 0)
		warnx("%s: commit: %s", c->dk->acks, rd_kafka_err2str(e));
	rd_kafka_topic_partition_list_destroy(c->commits);
	c->commits = NULL;
	return end;
}

#define ACKWAIT_MS	60000

/*
 * -e with an ack path: once standard output is closed the pipeline
 * drains what was written; wait for its acks so that a finished run
 * leaves its offsets committed (in ack mode by us; with --commit none by
 * a transactional producer, which needs this member in the group until
 * then: it commits with its generation).  Ends when every partition
 * written to is acked (ack mode), when the ack FIFO has no writer left
 * (the last stage exited), or after ACKWAIT_MS without a new ack.
 */
static void
ackwait(struct cons *c)
{
	struct pollfd pfd;
	int64_t last, acked, was = -1;
	size_t i;
	int pending, end;

	if (ds_ackin_drain(&c->ack) == -1) {
		c->status = dk_fail(c->dk, 1, "/dev/null: %s",
		    strerror(errno));
		return;
	}
	last = ds_now_ms();
	for (;;) {
		pfd.fd = c->ack.fd;
		pfd.events = POLLIN;
		poll(&pfd, 1, 200);
		end = ackpoll(c, 0);
		pending = 0;
		acked = 0;
		for (i = 0; i < c->np; i++) {
			if (!c->p[i].owned || c->p[i].next < 0)
				continue;
			acked += c->p[i].acked;
			if (c->p[i].acked < c->p[i].next)
				pending = 1;
		}
		/*
		 * With --commit none the ack path is the producer's output:
		 * stay until it ends, for it writes on after the last batch
		 * (the final marker) and would die of SIGPIPE.
		 */
		if ((!pending && c->dk->commit == DK_COMMIT_ACKS) || end ||
		    ds_stop || c->stop)
			return;
		if (acked != was) {
			was = acked;
			last = ds_now_ms();
		} else if (ds_now_ms() - last > ACKWAIT_MS) {
			warnx("%s: no ack for %d s, exiting with the last "
			    "batch uncommitted", c->dk->acks, ACKWAIT_MS / 1000);
			return;
		}
	}
}

/*
 * Ack mode and --commit none: tell the pipeline which partitions it
 * owns.  An assignment is
 * {"@ds":"assign","offsets":[{"topic":"t","partition":0,"from":N}],
 * "group":"..."}, N the group's committed offset (no "from" when there
 * is none), so that ds-batch --log knows which logged batches were
 * committed even on a partition that stays idle; "group" is the
 * consumer's group metadata (member, generation) in base64, with which
 * a transactional producer commits the batches read under this
 * assignment, so that a rebalance fences them (KIP-447).  The committed
 * offsets are asked for as stable ones: a transaction of the
 * partitions' last owner is decided before the record is written.  A
 * revocation is {"@ds":"revoke","offsets":[{"topic":"t","partition":0}]}.
 */
static void
announce(struct cons *c, const rd_kafka_topic_partition_list_t *parts,
    int assign)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_consumer_group_metadata_t *md;
	rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__STATE;
	struct ds_buf b = { 0 };
	rd_kafka_error_t *we;
	json_t *m, *a, *o;
	void *mdp;
	size_t mdn;
	char *s;
	int i;

	l = rd_kafka_topic_partition_list_copy(parts);
	if (assign && (e = rd_kafka_committed(c->rk, l, 10000)) != 0)
		warnx("committed offsets: %s", rd_kafka_err2str(e));
	a = json_array();
	for (i = 0; i < l->cnt; i++) {
		o = json_pack("{s:s,s:i}", "topic", l->elems[i].topic,
		    "partition", (int)l->elems[i].partition);
		if (e == 0 && l->elems[i].err == 0 && l->elems[i].offset >= 0)
			json_object_set_new(o, "from",
			    json_integer(l->elems[i].offset));
		json_array_append_new(a, o);
	}
	rd_kafka_topic_partition_list_destroy(l);
	m = json_pack("{s:s,s:o}", "@ds", assign ? "assign" : "revoke",
	    "offsets", a);
	if (assign && m != NULL &&
	    (md = rd_kafka_consumer_group_metadata(c->rk)) != NULL) {
		if ((we = rd_kafka_consumer_group_metadata_write(md, &mdp,
		    &mdn)) == NULL) {
			ds_buf_addb64(&b, mdp, mdn);
			ds_buf_addc(&b, '\0');
			json_object_set_new(m, "group", json_string(b.p));
			free(mdp);
		} else
			rd_kafka_error_destroy(we);
		rd_kafka_consumer_group_metadata_destroy(md);
		ds_buf_free(&b);
	}
	if (m == NULL || (s = json_dumps(m, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL) {
		c->status = dk_fail(c->dk, 1, "cannot encode an %s record",
		    assign ? "assign" : "revoke");
		c->stop = 1;
	} else {
		ds_out_line(s, strlen(s));
		ds_out_flush();
		free(s);
	}
	json_decref(m);
}

/* ------------------------------------------------------------------ */

static void
rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t e,
    rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct cons *c = opaque;
	struct part *p;
	int i;

	if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		for (i = 0; i < parts->cnt; i++) {
			p = find(c, parts->elems[i].topic,
			    parts->elems[i].partition);
			p->owned = 1;
			p->eof = 0;
			p->next = p->stored = p->acked = -1;
		}
		if (c->dk->commit == DK_COMMIT_ACKS ||
		    c->dk->commit == DK_COMMIT_NONE)
			announce(c, parts, 1);
		if (c->cooperative)
			rd_kafka_incremental_assign(rk, parts);
		else
			rd_kafka_assign(rk, parts);
		return;
	}
	/* revoked: hand over what was written, drop what was held */
	flushstore(c);
	if (c->dk->commit == DK_COMMIT_ACKS || c->dk->commit == DK_COMMIT_NONE)
		announce(c, parts, 0);
	if (c->dk->commit == DK_COMMIT_AUTO)
		rd_kafka_commit(rk, NULL, 0);
	for (i = 0; i < parts->cnt; i++) {
		p = find(c, parts->elems[i].topic, parts->elems[i].partition);
		p->owned = 0;
		drop(p);
	}
	if (c->cooperative)
		rd_kafka_incremental_unassign(rk, parts);
	else
		rd_kafka_assign(rk, NULL);
}

/*
 * -o for an assignment without a group into *off, *ts set when it is a
 * time (s@TS).  Returns 0, or 2 (dk->err says why).
 */
static int
startoffset(const struct dk *dk, int64_t *off, int *ts)
{
	const char *o = dk->offset, *e, *n;
	long long v;

	*ts = 0;
	if (o == NULL || strcmp(o, "beginning") == 0)
		*off = RD_KAFKA_OFFSET_BEGINNING;
	else if (strcmp(o, "end") == 0)
		*off = RD_KAFKA_OFFSET_END;
	else if (strcmp(o, "stored") == 0)
		*off = RD_KAFKA_OFFSET_STORED;
	else {
		n = o;
		if (strncmp(n, "s@", 2) == 0) {
			*ts = 1;
			n += 2;
		}
		v = strtonum(n[0] == '-' && !*ts ? n + 1 : n, 0, INT64_MAX,
		    &e);
		if (e != NULL)
			return dk_fail(dk, 2, "-o %s: %s %s", o, *ts ?
			    "timestamp" : "offset", e);
		*off = *ts || n[0] != '-' ? v : RD_KAFKA_OFFSET_TAIL(v);
	}
	return 0;
}

/* Start the simple consumer on the partitions of l, into one queue. */
static int
startall(struct cons *c, rd_kafka_topic_partition_list_t *l)
{
	const struct dk *dk = c->dk;
	int i, j;

	c->q = rd_kafka_queue_new(c->rk);
	if ((c->rkts = calloc((size_t)dk->ntopics, sizeof(*c->rkts))) == NULL)
		err(1, NULL);
	for (i = 0; i < dk->ntopics; i++)
		c->rkts[i] = rd_kafka_topic_new(c->rk, dk->topics[i], NULL);
	for (j = 0; j < l->cnt; j++) {
		for (i = 0; strcmp(dk->topics[i], l->elems[j].topic) != 0; i++)
			;
		if (rd_kafka_consume_start_queue(c->rkts[i],
		    l->elems[j].partition, l->elems[j].offset, c->q) == -1)
			return dk_fail(dk, 1, "%s/%d: %s", l->elems[j].topic,
			    (int)l->elems[j].partition,
			    rd_kafka_err2str(rd_kafka_last_error()));
	}
	return 0;
}

/*
 * Without a group: start the simple consumer on every partition of the
 * topics (or -p), all into one queue.  No group.id, so nothing looks up
 * a group coordinator: topic read permission is all a read needs.
 * Returns 0 or an exit status (dk->err says why).
 */
static int
assignall(struct cons *c)
{
	const struct dk *dk = c->dk;
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t e;
	int64_t off = 0;
	int i, ts, r;

	if ((r = startoffset(dk, &off, &ts)) != 0)
		return r;
	l = rd_kafka_topic_partition_list_new(8);
	if (dk_partitions(dk, c->rk, l, 1) == -1)
		r = 1;
	for (i = 0; r == 0 && i < l->cnt; i++) {
		l->elems[i].offset = off;
		find(c, l->elems[i].topic, l->elems[i].partition)->owned = 1;
	}
	if (r == 0 && ts && (e = rd_kafka_offsets_for_times(c->rk, l,
	    10000)) != 0)
		r = dk_fail(dk, 1, "-o %s: %s", dk->offset,
		    rd_kafka_err2str(e));
	for (i = 0; r == 0 && ts && i < l->cnt; i++)
		if (l->elems[i].offset < 0)
			l->elems[i].offset = RD_KAFKA_OFFSET_END;
	if (r == 0)
		r = startall(c, l);
	rd_kafka_topic_partition_list_destroy(l);
	return r;
}

/* Stop the simple consumer of assignall(). */
static void
unassignall(struct cons *c)
{
	size_t i;
	int t;

	for (i = 0; c->rkts != NULL && i < c->np; i++)
		for (t = 0; t < c->dk->ntopics; t++)
			if (c->p[i].owned && strcmp(c->p[i].topic,
			    c->dk->topics[t]) == 0) {
				rd_kafka_consume_stop(c->rkts[t],
				    c->p[i].partition);
				break;
			}
	for (t = 0; c->rkts != NULL && t < c->dk->ntopics; t++)
		rd_kafka_topic_destroy(c->rkts[t]);
	free(c->rkts);
	if (c->q != NULL)
		rd_kafka_queue_destroy(c->q);
}

/* The next message or event, from the group consumer or the simple one. */
static rd_kafka_message_t *
next(struct cons *c, int timeout)
{
	if (c->q == NULL)
		return rd_kafka_consumer_poll(c->rk, timeout);
	if (timeout > 0)		/* idle: errors (off the hot path) */
		rd_kafka_poll(c->rk, 0);
	return rd_kafka_consume_queue(c->q, timeout);
}

/*
 * -o e@ts: is message m of partition p at or past the end time?  Then
 * the partition is paused and ended; returns 1 when every partition
 * has ended.
 */
static int
pastend(struct cons *c, struct part *p, const rd_kafka_message_t *m)
{
	size_t i;

	if (c->dk->endts < 0 && !p->ended)
		return 0;
	if (!p->ended && rd_kafka_message_timestamp(m, NULL) < c->dk->endts)
		return 0;
	if (!p->ended)
		pause1(c, p, 1);
	p->ended = 1;
	for (i = 0; i < c->np; i++)
		if (c->p[i].owned && !c->p[i].ended)
			return 0;
	return 1;
}

static int
alleof(struct cons *c)
{
	size_t i;
	int n = 0;

	for (i = 0; i < c->np; i++) {
		if (!c->p[i].owned)
			continue;
		if ((!c->p[i].eof && !c->p[i].ended) || c->p[i].qn > 0)
			return 0;
		n++;
	}
	return n > 0;
}

/* A consumer error: fatal when nothing can be read, else a warning. */
static int
consumeerr(struct cons *c, rd_kafka_message_t *m)
{
	const char *t = m->rkt ? rd_kafka_topic_name(m->rkt) : NULL;

	switch (m->err) {
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
	case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
		if (t != NULL)
			warnx("%s/%d: %s", t, (int)m->partition,
			    rd_kafka_message_errstr(m));
		else
			warnx("consume: %s", rd_kafka_message_errstr(m));
		/* a group may see a topic before it exists; keep going */
		if (c->dk->group != NULL &&
		    m->err != RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED &&
		    m->err != RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED)
			return 0;
		return -1;
	default:
		warnx("consume: %s", rd_kafka_message_errstr(m));
		return 0;
	}
}

/* ------------------------------------------------------------------ */
/* lag for the run summary (--stats), and the progress line of -e */

static int64_t lagstart = -1, lagend = -1;

static void
lagstats(struct ds_buf *b)
{
	if (lagstart < 0)
		ds_buf_adds(b, ",\"lag_start\":null,\"lag_end\":null");
	else
		ds_buf_addf(b, ",\"lag_start\":%lld,\"lag_end\":%lld",
		    (long long)lagstart, (long long)lagend);
}

/*
 * The records between the owned partitions' positions and their ends,
 * as the last fetches said (no request is made); -1 while some
 * partition's end or position is not known yet.
 */
static int64_t
lag(struct cons *c)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_topic_partition_t *e;
	struct part *p;
	int64_t lo, hi, pos, sum = 0;
	size_t k;
	int i;

	l = rd_kafka_topic_partition_list_new((int)c->np + 1);
	for (k = 0; k < c->np; k++)
		if (c->p[k].owned)
			rd_kafka_topic_partition_list_add(l, c->p[k].topic,
			    c->p[k].partition);
	rd_kafka_position(c->rk, l);
	for (i = 0; i < l->cnt && sum >= 0; i++) {
		e = &l->elems[i];
		p = find(c, e->topic, e->partition);
		pos = p->next >= 0 ? p->next : e->offset;
		if (p->eof)
			continue;
		if (rd_kafka_get_watermark_offsets(c->rk, e->topic,
		    e->partition, &lo, &hi) != 0 || hi < 0 || pos < 0)
			sum = -1;
		else if (hi > pos)
			sum += hi - pos;
	}
	if (l->cnt == 0)
		sum = -1;
	rd_kafka_topic_partition_list_destroy(l);
	return sum;
}

/*
 * Note the lag (the first known is the lag at start) and, with -e,
 * draw the progress line: records written of those there are to the
 * end.  At most five times a second, and once more when final.
 */
static void
lagtick(struct cons *c, int final)
{
	static int64_t last;
	int64_t now = ds_now_ms(), n;

	ds_stats_extra = lagstats;
	ds_stats.in = (uint64_t)c->seen;
	if (!final && now - last < 200)
		return;
	if ((n = lag(c)) < 0)
		return;		/* not known yet: ask again next time */
	last = now;
	if (lagstart < 0)
		lagstart = n;
	lagend = n;
	if (!c->dk->exit_eof)
		return;
	/* A run that ends before its first redraw still shows one line. */
	ds_progress(c->seen, c->seen + n, "records");
	if (final)
		ds_progress_end(c->seen, c->seen + n, "records");
}

/*
 * The consumer's configuration: what the command line implies before
 * the user's properties, and what must hold whatever they say after.
 */
static rd_kafka_conf_t *
consconf(struct cons *c)
{
	const struct dk *dk = c->dk;
	const char *extra[16], *force[8];
	rd_kafka_conf_t *conf;
	int ne = 0, nf = 0, i;

	extra[ne++] = "enable.partition.eof";
	extra[ne++] = dk->exit_eof ? "true" : "false";
	/* a fuller prefetch: fewer wake-ups on the hot path */
	extra[ne++] = "queued.min.messages";
	extra[ne++] = "1000000";
	if (dk->group != NULL) {
		extra[ne++] = "group.id";
		extra[ne++] = dk->group;
		extra[ne++] = "auto.offset.reset";
		extra[ne++] = dk->offset != NULL &&
		    strcmp(dk->offset, "end") == 0 ? "latest" : "earliest";
		extra[ne++] = "enable.auto.commit";
		extra[ne++] = dk->commit == DK_COMMIT_AUTO ? "true" : "false";
		/* a regex subscription sees new topics only at a refresh */
		for (i = 0; i < dk->ntopics; i++)
			if (dk->topics[i][0] == '^') {
				extra[ne++] = "topic.metadata.refresh.interval.ms";
				extra[ne++] = "2000";
				break;
			}
	} else if (dk->offset != NULL && dk->offset[0] >= '0' &&
	    dk->offset[0] <= '9') {
		/* an offset that is not there is an error, not the end */
		extra[ne++] = "auto.offset.reset";
		extra[ne++] = "error";
	}
	extra[ne] = NULL;
	force[nf++] = "enable.auto.offset.store";
	force[nf++] = "false";
	if (dk->commit == DK_COMMIT_ACKS || dk->commit == DK_COMMIT_NONE) {
		force[nf++] = "enable.auto.commit";
		force[nf++] = "false";
	}
	force[nf] = NULL;
	if ((conf = dk_conf(dk, extra, force)) == NULL)
		return NULL;
	if (dk->group != NULL) {
		rd_kafka_conf_set_rebalance_cb(conf, rebalance);
		if (dk->acks != NULL)
			rd_kafka_conf_set_offset_commit_cb(conf, commitcb);
		rd_kafka_conf_set_opaque(conf, c);
	}
	return conf;
}

/* Join the group on the topics (the rebalance callback assigns). */
static int
subscribe(struct cons *c)
{
	const struct dk *dk = c->dk;
	rd_kafka_topic_partition_list_t *subs;
	rd_kafka_resp_err_t e;
	int i;

	rd_kafka_poll_set_consumer(c->rk);
	c->cooperative = strcmp(rd_kafka_rebalance_protocol(c->rk),
	    "COOPERATIVE") == 0;
	subs = rd_kafka_topic_partition_list_new(dk->ntopics);
	for (i = 0; i < dk->ntopics; i++)
		rd_kafka_topic_partition_list_add(subs, dk->topics[i],
		    RD_KAFKA_PARTITION_UA);
	e = rd_kafka_subscribe(c->rk, subs);
	rd_kafka_topic_partition_list_destroy(subs);
	if (e != 0)
		return dk_fail(dk, 1, "subscribe: %s: %s", dk->topics[0],
		    rd_kafka_err2str(e));
	/* the rebalance callback needs a fresh protocol answer */
	c->cooperative = strcmp(rd_kafka_rebalance_protocol(c->rk),
	    "COOPERATIVE") == 0;
	return 0;
}

/* Idle: hand downstream what we have.  Returns 1 when done. */
static int
idle(struct cons *c, int *timeout)
{
	const struct dk *dk = c->dk;

	flushstore(c);
	ackpoll(c, 1);
	recommit(c);
	*timeout = dk->maxrate > 0 ? release(c) : 100;
	return (dk->exit_eof && alleof(c)) ||
	    (dk->count >= 0 && c->seen >= dk->count);
}

/*
 * A record of partition p: written, or held for a token of the rate
 * limit.  Returns 1 when done (-c).
 */
static int
deliver(struct cons *c, struct part *p, rd_kafka_message_t *m)
{
	p->eof = 0;
	if (c->dk->maxrate > 0) {
		hold(c, p, m);		/* the ring owns it now */
		release1(c, p, ds_now_ms());
	} else {
		emit(c, p, m);
		rd_kafka_message_destroy(m);
	}
	if ((c->seen & 0xffff) == 0 && c->ack.fd != -1)
		ackpoll(c, 1);
	return c->dk->count >= 0 && c->seen >= c->dk->count;
}

/* One message or event from the consumer.  Returns 1 when done. */
static int
consume1(struct cons *c, rd_kafka_message_t *m)
{
	struct part *p;
	int done = 0;

	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		msgpart(c, m)->eof = 1;
		done = c->dk->exit_eof && alleof(c);
	} else if (m->err != 0 && consumeerr(c, m) == -1) {
		c->status = 1;
		done = 1;
	} else if (m->err == 0) {
		p = msgpart(c, m);
		if (pastend(c, p, m))
			done = 1;
		else if (!p->ended)
			return deliver(c, p, m);
	}
	rd_kafka_message_destroy(m);
	return done;
}

/* The end: hand over, wait for the last acks with -e, let go. */
static void
consend(struct cons *c)
{
	size_t k;

	flushstore(c);
	for (k = 0; k < c->np; k++)
		drop(&c->p[k]);
	if (c->ack.fd != -1 && c->dk->exit_eof && !ds_stop && c->status == 0)
		ackwait(c);
	else if (c->ack.fd != -1)
		ackpoll(c, 0);
	if (c->dk->group != NULL)
		rd_kafka_consumer_close(c->rk);
	else
		unassignall(c);
	rd_kafka_destroy(c->rk);
	for (k = 0; k < c->np; k++) {
		free(c->p[k].topic);
		free(c->p[k].prefix);
		free(c->p[k].where);
		free(c->p[k].q);
	}
	free(c->p);
	ds_buf_free(&c->env);
	ds_buf_free(&c->tmp);
	if (c->ack.fd != -1)
		ds_ackin_close(&c->ack);
}

int
dk_consume(const struct dk *dk)
{
	struct cons c;
	rd_kafka_conf_t *conf;
	rd_kafka_message_t *m;
	char errstr[512];
	int timeout = 0, done = 0;

	memset(&c, 0, sizeof(c));
	c.dk = dk;
	c.ack.fd = c.ack.wfd = -1;
	if ((conf = consconf(&c)) == NULL)
		return 2;
	if ((c.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr,
	    sizeof(errstr))) == NULL)
		return dk_fail(dk, 1, "kafka: %s", errstr);
	if (dk->acks != NULL && ds_ackin_open(&c.ack, dk->acks) == -1)
		c.status = dk_fail(dk, 1, "%s: %s", dk->acks,
		    strerror(errno));
	else if (dk->group != NULL)
		c.status = subscribe(&c);
	else
		c.status = assignall(&c);
	done = c.status != 0;
	for (;;) {
		done = done || c.stop;
		lagtick(&c, ds_stop || done);
		if (ds_stop || done)
			break;
		if ((m = next(&c, timeout)) == NULL)
			done = idle(&c, &timeout);
		else {
			timeout = 0;
			done = consume1(&c, m);
		}
	}
	consend(&c);
	return c.status;
}
