/*
 * kafka_changelog.c -- a stateful stage's changelog: the compacted
 * topic that holds each source partition's state in the partition of
 * the same number, written by the transactional producer in the batch's
 * transaction (ds-kafka-cat -P), read back here when a partition is
 * assigned.  Only committed records are read, to the last stable
 * offset: the state as of the partition's committed source offset.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/kafka.h"

#define QUIET_MS	60000	/* no answer for this long: give up */

int
dk_changelog_read(const struct dk *dk, const char *topic,
    const int32_t *parts, int n, dk_changelog_fn fn, void *arg)
{
	static const char *const force[] = {
		"enable.partition.eof", "true",
		"isolation.level", "read_committed",
		"fetch.wait.max.ms", "10",	/* to the end, no waiting */
		NULL
	};
	rd_kafka_conf_t *conf;
	rd_kafka_message_t *m;
	rd_kafka_queue_t *q;
	rd_kafka_topic_t *rkt;
	rd_kafka_t *rk;
	rd_kafka_resp_err_t e;
	char errstr[512], why[DK_ERRLEN], *done;
	int64_t quiet = ds_now_ms(), lo, hi;
	int i, left = n, rv = 0;

	if (n == 0)
		return 0;
	if ((conf = dk_conf(dk, NULL, force)) == NULL)
		return -1;
	dk_callbacks(conf);
	if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr,
	    sizeof(errstr))) == NULL) {
		rd_kafka_conf_destroy(conf);
		return dk_fail(dk, -1, "changelog %s: %s", topic, errstr);
	}
	/* the simple consumer: no group.id, no coordinator */
	if ((done = calloc((size_t)n, 1)) == NULL ||
	    (rkt = rd_kafka_topic_new(rk, topic, NULL)) == NULL ||
	    (q = rd_kafka_queue_new(rk)) == NULL)
		err(1, NULL);
	for (i = 0; i < n && rv == 0; i++) {
		/* an empty partition has nothing to read */
		if ((e = rd_kafka_query_watermark_offsets(rk, topic, parts[i],
		    &lo, &hi, QUIET_MS)) != 0)
			rv = dk_fail(dk, -1, "changelog %s [%d]: %s", topic,
			    (int)parts[i], rd_kafka_err2str(e));
		else if (hi <= lo) {
			done[i] = 1;
			left--;
		} else if (rd_kafka_consume_start_queue(rkt, parts[i],
		    RD_KAFKA_OFFSET_BEGINNING, q) == -1)
			rv = dk_fail(dk, -1, "changelog %s [%d]: %s", topic,
			    (int)parts[i], rd_kafka_err2str(rd_kafka_last_error()));
	}
	while (left > 0 && rv == 0) {
		if (ds_stop) {
			rv = dk_fail(dk, -1, "changelog %s: interrupted",
			    topic);
			break;
		}
		if ((m = rd_kafka_consume_queue(q, 200)) == NULL) {
			rd_kafka_poll(rk, 0);
			if (ds_now_ms() - quiet > QUIET_MS)
				rv = dk_fail(dk, -1, "changelog %s: no answer "
				    "in %d s", topic, QUIET_MS / 1000);
			continue;
		}
		quiet = ds_now_ms();
		for (i = 0; i < n && parts[i] != m->partition; i++)
			;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			if (i < n && !done[i]) {
				done[i] = 1;
				left--;
			}
		} else if (m->err != 0)
			rv = dk_fail(dk, -1, "changelog %s [%d]: %s", topic,
			    (int)m->partition, rd_kafka_message_errstr(m));
		else if (fn(arg, m->partition, m->key, m->key_len,
		    m->payload, m->len) == -1) {
			snprintf(why, sizeof(why), "%s", dk->err);
			rv = dk_fail(dk, -1, "changelog %s [%d] at offset "
			    "%lld: %s", topic, (int)m->partition,
			    (long long)m->offset, why);
		}
		rd_kafka_message_destroy(m);
	}
	for (i = 0; i < n; i++)
		rd_kafka_consume_stop(rkt, parts[i]);	/* unstarted: a no-op */
	free(done);
	rd_kafka_queue_destroy(q);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	return rv;
}

void
dk_changelog_put(const char *topic, int32_t part, const char *k, size_t klen,
    const char *v, size_t vlen)
{
	struct ds_buf b = { 0 };

	ds_buf_adds(&b, "{\"@ds\":\"changelog\",\"topic\":");
	ds_buf_addq(&b, topic, strlen(topic));
	ds_buf_addf(&b, ",\"partition\":%d,\"key\":", (int)part);
	ds_buf_addq(&b, k, klen);
	ds_buf_adds(&b, ",\"value\":");
	if (v == NULL)
		ds_buf_adds(&b, "null");
	else
		ds_buf_add(&b, v, vlen);
	ds_buf_addc(&b, '}');
	ds_out_buf(&b);
	ds_buf_free(&b);
}

/* --- the partition scope of a keyed stage ---------------------------- */

void
dk_scope_init(struct dk_scope *sc, const char *topic)
{
	sc->topic = topic;
	sc->dk.err = sc->err;
	sc->dk.partition = -1;
}

int64_t
dk_keypart(const char *k, size_t n)
{
	int64_t v = 0;
	size_t i;

	for (i = 0; i < n && k[i] >= '0' && k[i] <= '9' && v <= INT32_MAX;
	    i++)
		v = v * 10 + (k[i] - '0');
	if (i == 0 || v > INT32_MAX || (i < n && k[i] != ','))
		return -1;
	return v;
}

int
dk_scope_ownsp(const struct dk_scope *sc, int64_t p)
{
	int i;

	if (sc->topic == NULL)
		return 1;
	for (i = 0; p >= 0 && i < sc->nown; i++)
		if (sc->own[i] == p)
			return 1;
	return 0;
}

int
dk_scope_owns(const struct dk_scope *sc, const char *k, size_t n)
{
	return sc->topic == NULL || dk_scope_ownsp(sc, dk_keypart(k, n));
}

struct restore {
	const struct ds_staterec *r;
	struct dk_scope	*sc;
	struct ds_buf	 b;
};

/* One changelog message: a key's state record, or its tombstone. */
static int
restore1(void *arg, int32_t part, const char *k, size_t klen, const char *v,
    size_t vlen)
{
	struct restore *rs = arg;
	char msg[512];

	(void)part;
	ds_buf_clear(&rs->b);
	if (v == NULL) {
		ds_buf_adds(&rs->b, "{\"k\":");
		ds_buf_add(&rs->b, k, klen);
		ds_buf_adds(&rs->b, ",\"d\":1}");
	} else
		ds_buf_add(&rs->b, v, vlen);
	if (ds_staterec_load(rs->r, "record", rs->b.p, rs->b.p + rs->b.len,
	    msg, sizeof(msg)) == -1)
		return dk_fail(&rs->sc->dk, -1, "%s", msg);
	return 0;
}

int
dk_scope_parts(struct dk_scope *sc, const struct ds_line *l, int assign,
    int32_t **parts, int *n)
{
	json_t *m, *a, *e, *pa;
	size_t i;
	int j;

	*n = 0;
	if ((m = json_loadb(l->p, l->len, 0, NULL)) == NULL ||
	    !json_is_array(a = json_object_get(m, "offsets"))) {
		json_decref(m);
		return dk_fail(&sc->dk, -1, "malformed %s record",
		    assign ? "assign" : "revoke");
	}
	*parts = ds_reallocarray(NULL, json_array_size(a) + 1,
	    sizeof(**parts));
	sc->own = ds_reallocarray(sc->own, (size_t)sc->nown +
	    json_array_size(a) + 1, sizeof(*sc->own));
	json_array_foreach(a, i, e) {
		if (!json_is_integer(pa = json_object_get(e, "partition"))) {
			json_decref(m);
			return dk_fail(&sc->dk, -1, "malformed %s record",
			    assign ? "assign" : "revoke");
		}
		(*parts)[(*n)++] = (int32_t)json_integer_value(pa);
		for (j = 0; j < sc->nown && sc->own[j] != (*parts)[*n - 1];
		    j++)
			;
		if (j < sc->nown && !assign)
			sc->own[j] = sc->own[--sc->nown];
		else if (j == sc->nown && assign)
			sc->own[sc->nown++] = (*parts)[*n - 1];
	}
	json_decref(m);
	return 0;
}

/* Is key k of one of parts[0..n)? */
static int
inparts(const int32_t *parts, int n, const char *k, size_t klen)
{
	int64_t p = dk_keypart(k, klen);
	int i;

	for (i = 0; i < n; i++)
		if (parts[i] == p)
			return 1;
	return 0;
}

int
dk_scope_control(struct dk_scope *sc, const struct ds_line *l, int assign,
    struct ds_keytab *kt, void (*drop)(void *, struct ds_key *),
    const struct ds_staterec *r)
{
	struct restore rs = { r, sc, { 0 } };
	struct ds_key *k;
	int32_t *parts = NULL;
	size_t i;
	int n, track = kt->track, rv;

	if ((rv = dk_scope_parts(sc, l, assign, &parts, &n)) == 0) {
		kt->track = 0;	/* no tombstones: the state is elsewhere */
		for (i = 0; i < kt->n; i++)
			if ((k = kt->ord[i]) != NULL &&
			    inparts(parts, n, k->key, k->klen))
				drop(r->arg, k);
		ds_keytab_compact(kt);
		/* an assigned partition's state is read back: what was here
		 * may be stale, another member may have had it since */
		if (assign)
			rv = dk_changelog_read(&sc->dk, sc->topic, parts, n,
			    restore1, &rs);
		kt->track = track;
		ds_keytab_sortage(kt);
	}
	ds_buf_free(&rs.b);
	free(parts);
	return rv;
}

/* One changed key's record as a changelog record, or its tombstone. */
static int
put1(void *arg, const char *key, size_t klen, const char *rec, size_t len,
    size_t kend, int gone)
{
	struct dk_scope *sc = arg;
	int64_t p;

	if ((p = dk_keypart(key, klen)) < 0)
		return dk_fail(&sc->dk, -1, "changelog %s: a state record "
		    "without its partition", sc->topic);
	dk_changelog_put(sc->topic, (int32_t)p, rec + 5, kend - 5,
	    gone ? NULL : rec, len);
	return 0;
}

int
dk_scope_write(struct dk_scope *sc, struct ds_keytab *kt,
    const struct ds_staterec *r)
{
	int rv;

	rv = ds_staterec_each(kt, 0, r, put1, sc);
	ds_keytab_settled(kt);
	return rv;
}

json_t *
dk_scope_commit(json_t *m)
{
	return ds_offsets_lower(json_object_get(m, "offsets"),
	    json_object_get(m, "commit"));
}

const char *
dk_scope_why(const char *field)
{
	static char why[256];

	snprintf(why, sizeof(why), "a record of a source partition not "
	    "assigned to this member, or without \"%s\" (%s(1), "
	    "--changelog)", field, getprogname());
	return why;
}

void
dk_scope_free(struct dk_scope *sc)
{
	free(sc->own);
	dk_conf_free(&sc->dk);
}

/* --- a window kept per partition (ds-window --changelog) ------------ */

/*
 * The distinct source partitions of the groups of the batches of time
 * t, in *v (a new array): their count.
 */
static int
winparts(const struct ds_winq *q, int64_t t, int32_t **v)
{
	const struct ds_winpart *p;
	const char *k;
	size_t i, k2, klen;
	int64_t pa;
	int j, n = 0, cap = 0;

	*v = NULL;
	for (k2 = 0; k2 < q->n; k2++) {
		p = &q->q[k2];
		for (i = 0; p->time == t && i < p->n; i++) {
			k = ds_winpart_key(p, i, &klen);
			if ((pa = dk_keypart(k, klen)) < 0)
				continue;
			for (j = 0; j < n && (*v)[j] != pa; j++)
				;
			if (j < n)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 8;
				*v = ds_reallocarray(*v, (size_t)cap,
				    sizeof(**v));
			}
			(*v)[n++] = (int32_t)pa;
		}
	}
	return n;
}

/* The changelog key of partition part's groups in the batch of time t. */
static int
winkey(char *buf, size_t len, int32_t part, int64_t t)
{
	return snprintf(buf, len, "{\"partition\":%d,\"time\":%lld}",
	    (int)part, (long long)t);
}

void
dk_window_write(const char *topic, const struct ds_winq *q, int64_t t)
{
	const struct ds_winpart *p;
	struct ds_buf b = { 0 };
	const char *k;
	char key[64];
	int32_t *parts;
	size_t i, k2, klen;
	int j, n, first;

	n = winparts(q, t, &parts);
	for (j = 0; j < n; j++) {
		ds_buf_clear(&b);
		ds_buf_adds(&b, "{\"groups\":[");
		first = 1;
		for (k2 = 0; k2 < q->n; k2++) {
			p = &q->q[k2];
			for (i = 0; p->time == t && i < p->n; i++) {
				k = ds_winpart_key(p, i, &klen);
				if (dk_keypart(k, klen) != parts[j])
					continue;
				ds_buf_adds(&b, first ? "[[" : ",[[");
				ds_buf_add(&b, k, klen);
				ds_buf_adds(&b, "],");
				ds_agg_save(q->aggs, p->g[i].st, &b);
				ds_buf_addc(&b, ']');
				first = 0;
			}
		}
		ds_buf_adds(&b, "]}");
		dk_changelog_put(topic, parts[j], key,
		    (size_t)winkey(key, sizeof(key), parts[j], t), b.p, b.len);
	}
	free(parts);
	ds_buf_free(&b);
}

void
dk_window_evicting(const char *topic, const struct ds_winq *q, int64_t t)
{
	char key[64];
	int32_t *parts;
	size_t k;
	int j, n;

	for (k = 0; k < q->n && q->q[k].time <= t - q->length; k++) {
		if (k > 0 && q->q[k].time == q->q[k - 1].time)
			continue;
		n = winparts(q, q->q[k].time, &parts);
		for (j = 0; j < n; j++)
			dk_changelog_put(topic, parts[j], key, (size_t)winkey(key,
			    sizeof(key), parts[j], q->q[k].time), NULL, 0);
		free(parts);
	}
}

struct partset {
	const int32_t	*v;
	int		 n;
};

/* Is key k of a partition of the set? */
static int
inset(void *arg, const char *k, size_t klen)
{
	const struct partset *ps = arg;

	return inparts(ps->v, ps->n, k, klen);
}

struct wrestore {
	struct dk_scope	*sc;
	struct ds_hash	 last;		/* key: its last value, or NULL */
};

/* One changelog message: the last of each key counts. */
static int
wrestore1(void *arg, int32_t part, const char *k, size_t klen, const char *v,
    size_t vlen)
{
	struct wrestore *rs = arg;
	struct ds_hent *e;
	int isnew;

	(void)part;
	e = ds_hash_put(&rs->last, k, klen, &isnew);
	if (!isnew)
		free(e->val);
	e->val = NULL;
	if (v != NULL && (e->val = strndup(v, vlen)) == NULL)
		err(1, NULL);
	return 0;
}

/* Put batch entry (key k, value v) back into q: 0, or -1. */
static int
winload(struct ds_winq *q, const char *k, const char *v)
{
	json_t *kj, *vj, *g;
	struct ds_winpart *p;
	char *s;
	size_t i;
	int rv = 0;

	kj = json_loads(k, 0, NULL);
	vj = json_loads(v, 0, NULL);
	if (!json_is_integer(json_object_get(kj, "time")) ||
	    !json_is_array(json_object_get(vj, "groups")))
		rv = -1;
	else {
		p = ds_winq_at(q, json_integer_value(json_object_get(kj,
		    "time")), 0);
		json_array_foreach(json_object_get(vj, "groups"), i, g) {
			if ((s = json_dumps(g, JSON_COMPACT |
			    JSON_ENCODE_ANY)) == NULL)
				err(1, NULL);
			if (ds_winq_loadgroup(q, p, s, strlen(s)) == -1)
				rv = -1;
			free(s);
		}
	}
	json_decref(kj);
	json_decref(vj);
	return rv;
}

int
dk_window_control(struct dk_scope *sc, const struct ds_line *l, int assign,
    struct ds_winq *q)
{
	struct wrestore rs = { sc, { 0 } };
	struct partset ps;
	struct ds_hent *e;
	int32_t *parts = NULL;
	size_t i = 0;
	int n, rv;

	if ((rv = dk_scope_parts(sc, l, assign, &parts, &n)) == -1)
		return -1;
	ps.v = parts;
	ps.n = n;
	ds_winq_drop(q, inset, &ps);
	if (assign)
		rv = dk_changelog_read(&sc->dk, sc->topic, parts, n,
		    wrestore1, &rs);
	while ((e = ds_hash_next(&rs.last, &i)) != NULL) {
		if (rv == 0 && e->val != NULL && winload(q, e->key,
		    e->val) == -1)
			rv = dk_fail(&sc->dk, -1, "changelog %s: a malformed "
			    "window batch %s", sc->topic, e->key);
		free(e->val);
	}
	ds_hash_free(&rs.last);
	free(parts);
	return rv;
}
