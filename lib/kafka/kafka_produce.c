/*
 * kafka_produce.c -- ds-kafka-cat -P: NDJSON records in, Kafka messages
 * out.  Each record's key, value, partition and headers come from fields
 * (--key-field, ...) or, for an envelope written by a consume, from the
 * envelope itself.  Delivery failures are reported naming the record and
 * end the run with status 1; markers are forwarded to stdout once every
 * record before them is delivered, so a downstream stage sees a batch
 * only when it is safely in Kafka.
 *
 * With --transactional-id each batch is one Kafka transaction, which
 * also commits the batch's source offsets for the -G group: the batch's
 * messages and its offsets become visible together or not at all
 * (Spark's "transactional together with the source offsets").
 */
#include <err.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/kafka.h"

struct prod {
	const struct dk	*dk;
	rd_kafka_t	*rk;
	char		**files;
	int		 failed;
	int		 intxn;		/* a transaction is open */
	int		 aborting;	/* purged messages are no failure */
	int		 marked;	/* a batch marker was seen */
	int		 sent;		/* messages since the last marker */
	rd_kafka_consumer_group_metadata_t *cgmd;	/* -G, or NULL */
	char		*gen;		/* the assign record's "group" */
	struct ds_buf	 kb, vb, nb, hb;	/* key, value, header name, value */
	struct ds_buf	 tmp;
	struct ds_path	 envkey, envval, envpart, envhdr, envoff;
	struct ds_path	 envktext, envkenc, envvtext, envvenc, envhlist;
};

static int	txnbegin(struct prod *);

/* The source of a record, packed into the message's opaque. */
#define OPQ(file, line)	((void *)(((uintptr_t)(file) << 40) | (line)))
#define OPQFILE(o)	((int)((uintptr_t)(o) >> 40))
#define OPQLINE(o)	((unsigned long)((uintptr_t)(o) & ((1ULL << 40) - 1)))

static void
delivered(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct prod *pr = opaque;

	(void)rk;
	if (m->err == 0 || (pr->aborting &&
	    (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
	    m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)))
		return;
	warnx("%s:%lu: delivery to %s failed: %s",
	    pr->files[OPQFILE(m->_private)], OPQLINE(m->_private),
	    rd_kafka_topic_name(m->rkt), rd_kafka_err2str(m->err));
	pr->failed = 1;
}

/*
 * Message bytes of a JSON value: a string's unescaped text, null as no
 * bytes at all (*p NULL), anything else its JSON text.
 */
static void
bytes(struct ds_span v, struct ds_buf *b, const char **p, size_t *n)
{
	switch (ds_json_type(v.p, v.len)) {
	case DS_JNULL:
		*p = NULL;
		*n = 0;
		return;
	case DS_JSTR:
		b->len = 0;
		ds_json_str(v, b);
		ds_buf_addc(b, '\0');
		*p = b->p;
		*n = b->len - 1;
		return;
	default:
		*p = v.p;
		*n = v.len;
	}
}

static void
skipws(const char **s, const char *e)
{
	while (*s < e && (**s == ' ' || **s == '\t' || **s == '\n' ||
	    **s == '\r'))
		(*s)++;
}

/*
 * Headers from a JSON object (valid JSON): each member a header, string
 * values unescaped, null a null header, others their JSON text.  Returns
 * NULL when v is not an object or is empty.
 */
static rd_kafka_headers_t *
headers(struct prod *pr, struct ds_span v)
{
	rd_kafka_headers_t *h = NULL;
	const char *s = v.p, *e = v.p + v.len, *kend, *vp;
	struct ds_span ks, vs;
	size_t vn;

	if (ds_json_type(v.p, v.len) != DS_JOBJ)
		return NULL;
	skipws(&s, e);
	s++;
	for (;;) {
		skipws(&s, e);
		if (s >= e || *s == '}')
			break;
		kend = ds_json_skip(s, e);
		ks.p = s;
		ks.len = (size_t)(kend - s);
		s = kend;
		skipws(&s, e);
		s++;			/* ':' */
		skipws(&s, e);
		vs.p = s;
		s = ds_json_skip(s, e);
		vs.len = (size_t)(s - vs.p);
		pr->nb.len = 0;
		ds_json_str(ks, &pr->nb);
		ds_buf_addc(&pr->nb, '\0');
		bytes(vs, &pr->hb, &vp, &vn);
		if (h == NULL)
			h = rd_kafka_headers_new(8);
		rd_kafka_header_add(h, pr->nb.p, -1, vp, vp ? (ssize_t)vn : 0);
		skipws(&s, e);
		if (s < e && *s == ',')
			s++;
	}
	return h;
}

/* Does line l mention the field name at all?  (Most envelopes do not.) */
static int
mentions(const struct ds_line *l, const char *name)
{
	return memmem(l->p, l->len, name, strlen(name)) != NULL;
}

/*
 * The bytes of an envelope's key or value v (see kafka_env.c): its
 * _text when that still compacts to v's text (v was not changed on the
 * way), else what its _encoding says, else bytes().  Returns 0, or -1
 * after reporting a bad record.
 */
static int
envbytes(struct prod *pr, const struct ds_line *l, const struct ds_path *tf,
    const struct ds_path *ef, struct ds_span v, struct ds_buf *b,
    const char **p, size_t *n)
{
	struct ds_span t;
	const char *why;
	size_t tlen;

	if (mentions(l, "_text\"") && ds_json_get(l->p, l->len, tf, &t) &&
	    ds_json_type(t.p, t.len) == DS_JSTR) {
		b->len = 0;
		ds_json_str(t, b);
		tlen = b->len;
		if (ds_json_check(b->p, tlen, ds_opts.maxdepth, &why) == 0) {
			ds_json_compact(b->p, tlen, b);
			if (b->len - tlen == v.len &&
			    memcmp(b->p + tlen, v.p, v.len) == 0) {
				*p = b->p;
				*n = tlen;
				return 0;
			}
		}
	}
	if (mentions(l, "_encoding\"") && ds_json_get(l->p, l->len, ef, &t)) {
		if (t.len == 6 && memcmp(t.p, "\"json\"", 6) == 0) {
			*p = v.p;
			*n = v.len;
			return 0;
		}
		if (t.len == 8 && memcmp(t.p, "\"base64\"", 8) == 0) {
			pr->tmp.len = 0;
			b->len = 0;
			if (ds_json_str(v, &pr->tmp) == -1 ||
			    ds_b64dec(b, pr->tmp.p, pr->tmp.len) == -1) {
				if (dk_bad(pr->dk, l, "%s is not base64",
				    ef->text) == -1)
					pr->failed = 1;
				return -1;
			}
			ds_buf_addc(b, '\0');
			*p = b->p;
			*n = b->len - 1;
			return 0;
		}
	}
	bytes(v, b, p, n);
	return 0;
}

/*
 * Headers from an envelope's header_list (kafka_env.c): [name, value]
 * or [name, base64, "base64"] in order, duplicates kept.  Used only when
 * the headers object rendered from it is the envelope's (obj); NULL
 * otherwise.
 */
static rd_kafka_headers_t *
hdrlist(struct prod *pr, const struct ds_line *l, struct ds_span obj)
{
	rd_kafka_headers_t *h;
	struct ds_span ls;
	json_t *a, *e, *nm, *v;
	size_t i;
	int ok = 1;

	if (!mentions(l, "\"header_list\"") ||
	    !ds_json_get(l->p, l->len, &pr->envhlist, &ls) ||
	    (a = json_loadb(ls.p, ls.len, JSON_ALLOW_NUL, NULL)) == NULL)
		return NULL;
	h = rd_kafka_headers_new(8);
	json_array_foreach(a, i, e) {
		nm = json_array_get(e, 0);
		v = json_array_get(e, 1);
		if (!json_is_string(nm) || (v == NULL ||
		    !(json_is_string(v) || json_is_null(v)))) {
			ok = 0;
			break;
		}
		pr->hb.len = 0;
		if (json_is_null(v))
			rd_kafka_header_add(h, json_string_value(nm), -1,
			    NULL, 0);
		else if (json_is_string(json_array_get(e, 2))) {
			if (ds_b64dec(&pr->hb, json_string_value(v),
			    json_string_length(v)) == -1) {
				ok = 0;
				break;
			}
			ds_buf_addc(&pr->hb, '\0');
			rd_kafka_header_add(h, json_string_value(nm), -1,
			    pr->hb.p, (ssize_t)pr->hb.len - 1);
		} else
			rd_kafka_header_add(h, json_string_value(nm), -1,
			    json_string_value(v), (ssize_t)json_string_length(v));
	}
	json_decref(a);
	pr->tmp.len = 0;
	if (ok)
		dk_headers(&pr->tmp, NULL, h);
	if (!ok || pr->tmp.len != obj.len ||
	    memcmp(pr->tmp.p, obj.p, obj.len) != 0) {
		rd_kafka_headers_destroy(h);
		return NULL;
	}
	return h;
}

static int
isenvelope(struct prod *pr, const struct ds_line *l)
{
	struct ds_span v;

	return l->len > 9 && memcmp(l->p, "{\"topic\":", 9) == 0 &&
	    ds_json_get(l->p, l->len, &pr->envval, &v) &&
	    ds_json_get(l->p, l->len, &pr->envoff, &v) &&
	    ds_json_get(l->p, l->len, &pr->envpart, &v);
}

/*
 * rd_kafka_producev of one message, with headers h when not NULL (taken
 * over on success), copied.
 */
static rd_kafka_resp_err_t
producev(struct prod *pr, const char *topic, int32_t part, const char *key,
    size_t klen, const char *val, size_t vlen, rd_kafka_headers_t *h,
    void *opaque)
{
	rd_kafka_vu_t vu[7];
	rd_kafka_error_t *error;
	rd_kafka_resp_err_t e;
	size_t n = 0;

	vu[n].vtype = RD_KAFKA_VTYPE_TOPIC;
	vu[n++].u.cstr = topic;
	vu[n].vtype = RD_KAFKA_VTYPE_PARTITION;
	vu[n++].u.i32 = part;
	vu[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
	vu[n++].u.i = RD_KAFKA_MSG_F_COPY;
	vu[n].vtype = RD_KAFKA_VTYPE_KEY;
	vu[n].u.mem.ptr = (void *)key;
	vu[n++].u.mem.size = klen;
	vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
	vu[n].u.mem.ptr = (void *)val;
	vu[n++].u.mem.size = vlen;
	vu[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
	vu[n++].u.ptr = opaque;
	if (h != NULL) {
		vu[n].vtype = RD_KAFKA_VTYPE_HEADERS;
		vu[n++].u.headers = h;
	}
	if ((error = rd_kafka_produceva(pr->rk, vu, n)) == NULL)
		return RD_KAFKA_RESP_ERR_NO_ERROR;
	e = rd_kafka_error_code(error);
	rd_kafka_error_destroy(error);
	return e;
}

/*
 * Send one message to topic (headers h, NULL for none, are taken over)
 * for line l of file fileidx; returns 0, or -1 after reporting a
 * failure.
 */
static int
send1(struct prod *pr, const char *topic, int32_t part, const char *key,
    size_t klen, const char *val, size_t vlen, rd_kafka_headers_t *h,
    int fileidx, const struct ds_line *l)
{
	const struct dk *dk = pr->dk;
	rd_kafka_resp_err_t e;

	if (dk->txnid != NULL && txnbegin(pr) == -1) {
		if (h != NULL)
			rd_kafka_headers_destroy(h);
		return -1;
	}
	for (;;) {
		e = producev(pr, topic, part, key, klen, val, vlen, h,
		    OPQ(fileidx, l->lineno));
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		if (ds_stop) {		/* interrupted: the line is not sent */
			if (h != NULL)
				rd_kafka_headers_destroy(h);
			pr->failed = 1;
			return -1;
		}
		rd_kafka_poll(pr->rk, 50);	/* let deliveries drain */
	}
	if (e != 0) {
		if (h != NULL)
			rd_kafka_headers_destroy(h);
		warnx("%s:%lu: produce to %s: %s", l->src, l->lineno,
		    topic, rd_kafka_err2str(e));
		pr->failed = 1;
		return -1;
	}
	rd_kafka_poll(pr->rk, 0);
	pr->sent++;
	return 0;
}

/* Produce one record; returns 0, or -1 after reporting a failure. */
static int
produce1(struct prod *pr, const struct ds_line *l, int fileidx)
{
	const struct dk *dk = pr->dk;
	const struct ds_path *kf, *vf, *pf, *hf;
	struct ds_span v;
	const char *key = NULL, *val;
	size_t klen = 0, vlen;
	int32_t part = dk->partition >= 0 ? dk->partition :
	    RD_KAFKA_PARTITION_UA;
	int64_t i;
	rd_kafka_headers_t *h = NULL;
	int env = 0;

	kf = &dk->keyf;
	vf = &dk->valf;
	pf = &dk->partf;
	hf = &dk->hdrf;
	if (vf->n == 0 && isenvelope(pr, l)) {
		env = 1;
		if (kf->n == 0)
			kf = &pr->envkey;
		vf = &pr->envval;
		if (pf->n == 0)
			pf = &pr->envpart;
		if (hf->n == 0)
			hf = &pr->envhdr;
	}
	if (kf->n > 0 && ds_json_get(l->p, l->len, kf, &v)) {
		if (kf != &pr->envkey)
			bytes(v, &pr->kb, &key, &klen);
		else if (envbytes(pr, l, &pr->envktext, &pr->envkenc, v,
		    &pr->kb, &key, &klen) == -1)
			return 0;
	}
	if (vf->n == 0) {
		val = l->p;
		vlen = l->len;
	} else if (ds_json_get(l->p, l->len, vf, &v)) {
		if (!env)
			bytes(v, &pr->vb, &val, &vlen);
		else if (envbytes(pr, l, &pr->envvtext, &pr->envvenc, v,
		    &pr->vb, &val, &vlen) == -1)
			return 0;
	} else {
		if (dk_bad(dk, l, "no value field \"%s\"", vf->text) == -1)
			pr->failed = 1;
		return 0;
	}
	if (pf->n > 0 && dk->partition < 0 &&
	    ds_json_get(l->p, l->len, pf, &v)) {
		if (ds_json_int(v, &i) == -1 || i < 0 || i > INT32_MAX) {
			if (dk_bad(dk, l, "partition field \"%s\" is not a "
			    "partition", pf->text) == -1)
				pr->failed = 1;
			return 0;
		}
		part = (int32_t)i;
	}
	if (hf->n > 0 && ds_json_get(l->p, l->len, hf, &v) &&
	    (hf != &pr->envhdr || (h = hdrlist(pr, l, v)) == NULL))
		h = headers(pr, v);
	return send1(pr, dk->topics[0], part, key, klen, val, vlen, h,
	    fileidx, l);
}

/* -H name=value (or name alone: a null value) headers, or NULL. */
static rd_kafka_headers_t *
cliheaders(const struct dk *dk)
{
	rd_kafka_headers_t *h;
	const char *eq;
	int i;

	if (dk->nhdrs == 0)
		return NULL;
	h = rd_kafka_headers_new((size_t)dk->nhdrs);
	for (i = 0; i < dk->nhdrs; i++) {
		if ((eq = strchr(dk->hdrs[i], '=')) == NULL)
			rd_kafka_header_add(h, dk->hdrs[i], -1, NULL, 0);
		else
			rd_kafka_header_add(h, dk->hdrs[i],
			    eq - dk->hdrs[i], eq + 1, -1);
	}
	return h;
}

/*
 * Plain text (kcat's -P): the bytes of l are one message, the key
 * before the first -K delimiter (none: no key), -Z sending an empty key
 * or value as null.
 */
static int
text1(struct prod *pr, const struct ds_line *l, int fileidx)
{
	const struct dk *dk = pr->dk;
	const char *key = NULL, *val = l->p, *d;
	size_t klen = 0, vlen = l->len, n;
	rd_kafka_headers_t *h;

	if (dk->keydelim != NULL && (n = strlen(dk->keydelim)) > 0 &&
	    (d = memmem(l->p, l->len, dk->keydelim, n)) != NULL) {
		key = l->p;
		klen = (size_t)(d - l->p);
		val = d + n;
		vlen = l->len - klen - n;
		if (dk->nulls && klen == 0)
			key = NULL;
	}
	if (vlen == 0)
		val = dk->nulls ? NULL : "";
	h = cliheaders(dk);
	if (dk->txnid != NULL && txnbegin(pr) == -1) {
		if (h != NULL)
			rd_kafka_headers_destroy(h);
		return -1;
	}
	return send1(pr, dk->topics[0], dk->partition >= 0 ? dk->partition :
	    RD_KAFKA_PARTITION_UA, key, klen, val, vlen, h, fileidx, l);
}

/* The whole of f in *line (getdelim without a delimiter). */
static ssize_t
slurp(FILE *f, char **line, size_t *cap)
{
	size_t n = 0, r;

	for (;;) {
		if (n + 65536 > *cap) {
			*cap = n + 65536;
			if ((*line = realloc(*line, *cap)) == NULL)
				err(1, NULL);
		}
		if ((r = fread(*line + n, 1, *cap - n, f)) == 0)
			break;
		n += r;
		if (n > ds_opts.maxline)
			break;		/* too long: reported by the caller */
	}
	return ferror(f) ? -1 : (ssize_t)n;
}

/*
 * Produce file i as plain text, as kcat does: standard input (and with
 * -l a file) in -D delimited records (one byte, newline by default;
 * empty ones skipped), a file named without -l as one message.  Records
 * are at most --max-line bytes.
 */
static void
textfile(struct prod *pr, const char *path, int i)
{
	FILE *f;
	struct ds_line l;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int delim = pr->dk->msgdelim != NULL ? pr->dk->msgdelim[0] : '\n';

	if (strcmp(path, "-") != 0 && !pr->dk->lines)
		delim = EOF;
	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "r")) == NULL) {
		warn("%s", path);
		pr->failed = 1;
		return;
	}
	l.src = pr->files[i];
	l.lineno = 0;
	l.toolong = 0;
	while (!pr->failed && !ds_stop && (n = delim == EOF ?
	    slurp(f, &line, &cap) : getdelim(&line, &cap, delim, f)) != -1) {
		l.lineno++;
		if (delim != EOF && n > 0 && line[n - 1] == delim)
			n--;
		l.p = line;
		l.len = (size_t)n;
		if (delim != EOF && l.len == 0)
			continue;	/* as kcat: no message for "" */
		if (l.len > ds_opts.maxline) {
			l.toolong = 1;
			if (dk_bad(pr->dk, &l, "longer than %zu bytes",
			    ds_opts.maxline) == -1) {
				pr->failed = 1;
				break;
			}
		} else if (text1(pr, &l, i) == -1)
			break;
		if (delim == EOF)
			break;
	}
	if (ferror(f) && !ds_stop) {
		warn("%s", path);
		pr->failed = 1;
	}
	free(line);
	if (f != stdin)
		fclose(f);
}

/*
 * Wait until every message is delivered or has failed, or a signal says
 * stop (what is still queued is then reported as not delivered).
 */
static void
drain(struct prod *pr)
{
	while (rd_kafka_outq_len(pr->rk) > 0 && !ds_stop)
		if (rd_kafka_flush(pr->rk, 200) == RD_KAFKA_RESP_ERR_NO_ERROR)
			break;
}

/* Abort the open transaction; its purged messages are no failure. */
static void
txnabort(struct prod *pr)
{
	rd_kafka_error_t *e;

	if (!pr->intxn)
		return;
	pr->aborting = 1;
	if ((e = rd_kafka_abort_transaction(pr->rk, -1)) != NULL) {
		warnx("transaction %s: abort: %s", pr->dk->txnid,
		    rd_kafka_error_string(e));
		rd_kafka_error_destroy(e);
	}
	pr->intxn = 0;
}

/*
 * Report a transaction error; an abortable one aborts the open
 * transaction.  The run then fails: the batch's records are gone from
 * the pipe, and the source re-reads them from the last committed offsets
 * when the pipeline is run again.  Always returns -1.
 */
static int
txnerr(struct prod *pr, rd_kafka_error_t *e, const char *what)
{
	warnx("transaction %s: %s: %s", pr->dk->txnid, what,
	    rd_kafka_error_string(e));
	switch (rd_kafka_error_code(e)) {
	case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
	case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
	case RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
		warnx("transaction %s: fenced: the batch was read by a member "
		    "the group has left behind (a rebalance, or the source "
		    "left the group: with -e give it --acks); its partitions "
		    "are read again, run the pipeline again to rejoin",
		    pr->dk->txnid);
		break;
	default:
		break;
	}
	if (rd_kafka_error_txn_requires_abort(e))
		txnabort(pr);
	rd_kafka_error_destroy(e);
	pr->failed = 1;
	return -1;
}

/* Open a transaction unless one is open; 0, or -1 after reporting. */
static int
txnbegin(struct prod *pr)
{
	rd_kafka_error_t *e;

	if (pr->intxn)
		return 0;
	if ((e = rd_kafka_begin_transaction(pr->rk)) != NULL)
		return txnerr(pr, e, "begin");
	pr->intxn = 1;
	return 0;
}

/*
 * Commit the open transaction, with the offsets that marker m (NULL:
 * none) says are safe for the -G group.  Retriable errors are retried.
 * Returns 0, or -1 after reporting.
 */
static int
txncommit(struct prod *pr, json_t *m)
{
	rd_kafka_topic_partition_list_t *safe = NULL;
	rd_kafka_error_t *e;

	if (m != NULL && pr->cgmd != NULL &&
	    (safe = dk_marker_commits(m)) != NULL && safe->cnt > 0) {
		if (txnbegin(pr) == -1) {
			rd_kafka_topic_partition_list_destroy(safe);
			return -1;
		}
		while ((e = rd_kafka_send_offsets_to_transaction(pr->rk, safe,
		    pr->cgmd, -1)) != NULL && rd_kafka_error_is_retriable(e))
			rd_kafka_error_destroy(e);
		rd_kafka_topic_partition_list_destroy(safe);
		if (e != NULL)
			return txnerr(pr, e, "offsets");
	} else if (safe != NULL)
		rd_kafka_topic_partition_list_destroy(safe);
	if (!pr->intxn)
		return 0;
	while ((e = rd_kafka_commit_transaction(pr->rk, -1)) != NULL &&
	    rd_kafka_error_is_retriable(e))
		rd_kafka_error_destroy(e);
	if (e != NULL)
		return txnerr(pr, e, "commit");
	pr->intxn = 0;
	return 0;
}

/*
 * An assign record: from now on the batches' offsets are committed with
 * the group metadata it carries (the member and generation that read
 * them), so that a rebalance fences a batch read before it.  A batch
 * cannot span two assignments (ds-batch closes one at each): if one
 * does, it is aborted and the run fails rather than commit offsets the
 * member may no longer own.  Returns 0, or -1 after reporting.
 */
static int
assigned(struct prod *pr, const struct ds_line *l, json_t *m)
{
	rd_kafka_consumer_group_metadata_t *md;
	rd_kafka_error_t *e;
	const char *g = json_string_value(json_object_get(m, "group"));
	struct ds_buf b = { 0 };

	if (pr->dk->txnid == NULL || pr->dk->group == NULL || g == NULL ||
	    (pr->gen != NULL && strcmp(g, pr->gen) == 0))
		return 0;
	if (pr->sent > 0) {
		warnx("%s:%lu: a rebalance inside a batch: its transaction "
		    "is aborted (batch records by one assignment: ds-batch "
		    "processing time)", l->src, l->lineno);
		txnabort(pr);
		pr->failed = 1;
		return -1;
	}
	if (ds_b64dec(&b, g, strlen(g)) == -1 ||
	    (e = rd_kafka_consumer_group_metadata_read(&md, b.p, b.len)) !=
	    NULL) {
		ds_buf_free(&b);
		warnx("%s:%lu: malformed group metadata in an assign record",
		    l->src, l->lineno);
		pr->failed = 1;
		return -1;
	}
	ds_buf_free(&b);
	rd_kafka_consumer_group_metadata_destroy(pr->cgmd);
	pr->cgmd = md;
	free(pr->gen);
	if ((pr->gen = strdup(g)) == NULL)
		err(1, NULL);
	return 0;
}

/*
 * A stateful stage's changelog record,
 * {"@ds":"changelog","topic":T,"partition":P,"key":K,"value":V}: V (a
 * tombstone when null) keyed K into partition P of the compacted topic
 * T, in the batch's transaction.  Returns 0, or -1 after reporting.
 */
static int
changelog(struct prod *pr, const struct ds_line *l, json_t *m, int fileidx)
{
	json_t *t = json_object_get(m, "topic"), *k = json_object_get(m, "key");
	json_t *pa = json_object_get(m, "partition");
	json_t *v = json_object_get(m, "value");
	char *vs = NULL;
	int rc;

	if (pr->dk->txnid == NULL || pr->cgmd == NULL) {
		warnx("%s:%lu: a changelog record needs --transactional-id "
		    "and -G: state is exactly-once only in the batch's "
		    "transaction", l->src, l->lineno);
		pr->failed = 1;
		return -1;
	}
	if (!json_is_string(t) || !json_is_string(k) ||
	    !json_is_integer(pa) || json_integer_value(pa) < 0 ||
	    json_integer_value(pa) > INT32_MAX) {
		warnx("%s:%lu: malformed changelog record", l->src,
		    l->lineno);
		pr->failed = 1;
		return -1;
	}
	if (v != NULL && !json_is_null(v) && (vs = json_dumps(v,
	    JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER)) == NULL)
		err(1, NULL);
	rc = send1(pr, json_string_value(t), (int32_t)json_integer_value(pa),
	    json_string_value(k), json_string_length(k), vs,
	    vs != NULL ? strlen(vs) : 0, NULL, fileidx, l);
	free(vs);
	return rc;
}

/*
 * A control line: a batch marker is forwarded once its batch is in
 * Kafka (committed); a changelog record is produced, not forwarded.
 */
static int
control(struct prod *pr, const struct ds_line *l, int fileidx)
{
	json_t *m;
	int rc = 0, fwd = 1;

	if ((m = json_loadb(l->p, l->len, 0, NULL)) == NULL)
		;
	else if (ds_marker_is_batch(m)) {
		if (pr->dk->txnid == NULL)
			drain(pr);
		else {
			pr->marked = 1;
			rc = txncommit(pr, m);
		}
		pr->sent = 0;
	} else if (ds_is_assign(l->p, l->len))
		rc = assigned(pr, l, m);
	else if (json_is_string(json_object_get(m, "@ds")) &&
	    strcmp(json_string_value(json_object_get(m, "@ds")),
	    "changelog") == 0) {
		rc = changelog(pr, l, m, fileidx);
		fwd = 0;
	}
	json_decref(m);
	if (rc == -1 || pr->failed)
		return -1;
	if (fwd) {
		ds_out_line(l->p, l->len);
		ds_out_flush();
	}
	return 0;
}

/*
 * The end of the input.  Records after the last marker are a batch cut
 * short: its transaction is aborted (the source re-reads them), unless
 * no marker came at all and the input really ended, when the whole input
 * was one transaction and is committed.
 */
static void
txnend(struct prod *pr)
{
	if (!pr->intxn)
		return;
	if (!pr->failed && !pr->marked && !ds_stop && pr->cgmd == NULL) {
		txncommit(pr, NULL);
		return;
	}
	/*
	 * Deliver first: librdkafka 2.0 sends EndTxn even when no partition
	 * was added to the transaction yet, which the broker refuses.
	 */
	if (!pr->failed)
		drain(pr);
	txnabort(pr);
}

/*
 * Produce the NDJSON records of file i; stop at a record that fails or
 * that the tool's policy says to stop at (pr->failed).
 */
static void
ndjsonfile(struct prod *pr, const char *path, int i)
{
	struct ds_in *in;
	struct ds_line l;
	const char *why;

	if ((in = ds_in_open(path, ds_opts.maxline)) == NULL) {
		warn("%s", path);
		pr->failed = 1;
		return;
	}
	while (!pr->failed && ds_in_next(in, &l)) {
		if (ds_is_control(l.p, l.len)) {
			/* a batch is out only once it is in Kafka */
			if (control(pr, &l, i) == -1)
				break;
		} else if ((why = ds_line_why(&l, 0)) != NULL) {
			if (dk_bad(pr->dk, &l, "%s", why) == -1)
				pr->failed = 1;
		} else if (produce1(pr, &l, i) == -1)
			break;
	}
	ds_in_close(in);
}

/*
 * The producer, transactional with --transactional-id.  Returns 0, or
 * the exit status (dk->err says why).
 */
static int
prodopen(struct prod *pr)
{
	static const char *const extra[] = { "linger.ms", "5", NULL };
	const struct dk *dk = pr->dk;
	const char *txn[] = { "transactional.id", dk->txnid, NULL };
	rd_kafka_error_t *te;
	rd_kafka_conf_t *conf;
	char errstr[512];
	int status;

	if ((conf = dk_conf(dk, extra, dk->txnid != NULL ? txn : NULL)) ==
	    NULL)
		return 2;
	rd_kafka_conf_set_dr_msg_cb(conf, delivered);
	rd_kafka_conf_set_opaque(conf, pr);
	if ((pr->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
	    sizeof(errstr))) == NULL)
		return dk_fail(dk, 1, "kafka: %s", errstr);
	if (dk->txnid == NULL)
		return 0;
	/* fences an earlier run with this id, aborting its batch */
	if ((te = rd_kafka_init_transactions(pr->rk, 60000)) != NULL) {
		status = dk_fail(dk, 1, "transaction %s: init: %s", dk->txnid,
		    rd_kafka_error_string(te));
		rd_kafka_error_destroy(te);
		return status;
	}
	if (dk->group != NULL)
		pr->cgmd = rd_kafka_consumer_group_metadata_new(dk->group);
	return 0;
}

/* The envelope's fields, for NDJSON input without --*-field. */
static void
envpaths(struct prod *pr)
{
	ds_path_parse("key", &pr->envkey);
	ds_path_parse("value", &pr->envval);
	ds_path_parse("partition", &pr->envpart);
	ds_path_parse("headers", &pr->envhdr);
	ds_path_parse("offset", &pr->envoff);
	ds_path_parse("key_text", &pr->envktext);
	ds_path_parse("key_encoding", &pr->envkenc);
	ds_path_parse("value_text", &pr->envvtext);
	ds_path_parse("value_encoding", &pr->envvenc);
	ds_path_parse("header_list", &pr->envhlist);
}

static void
prodfree(struct prod *pr)
{
	if (pr->cgmd != NULL)
		rd_kafka_consumer_group_metadata_destroy(pr->cgmd);
	free(pr->gen);
	if (pr->rk != NULL)
		rd_kafka_destroy(pr->rk);
	ds_path_free(&pr->envkey);
	ds_path_free(&pr->envval);
	ds_path_free(&pr->envpart);
	ds_path_free(&pr->envhdr);
	ds_path_free(&pr->envoff);
	ds_path_free(&pr->envktext);
	ds_path_free(&pr->envkenc);
	ds_path_free(&pr->envvtext);
	ds_path_free(&pr->envvenc);
	ds_path_free(&pr->envhlist);
	ds_buf_free(&pr->kb);
	ds_buf_free(&pr->vb);
	ds_buf_free(&pr->nb);
	ds_buf_free(&pr->hb);
	ds_buf_free(&pr->tmp);
	free(pr->files);
}

int
dk_produce(const struct dk *dk, char **files, int nfiles)
{
	static char *stdinname[] = { "-" };
	struct prod pr;
	int i, status;

	memset(&pr, 0, sizeof(pr));
	pr.dk = dk;
	if (nfiles == 0) {
		files = stdinname;
		nfiles = 1;
	}
	if ((pr.files = calloc((size_t)nfiles, sizeof(char *))) == NULL)
		err(1, NULL);
	for (i = 0; i < nfiles; i++)
		pr.files[i] = strcmp(files[i], "-") == 0 ? "<stdin>" :
		    files[i];
	envpaths(&pr);
	if ((status = prodopen(&pr)) != 0) {
		prodfree(&pr);
		return status;
	}
	for (i = 0; i < nfiles && !pr.failed && !ds_stop; i++)
		if (dk->text)
			textfile(&pr, files[i], i);
		else
			ndjsonfile(&pr, files[i], i);
	if (dk->txnid != NULL)
		txnend(&pr);
	drain(&pr);
	ds_out_flush();
	if (rd_kafka_outq_len(pr.rk) > 0) {
		warnx("%d message(s) not delivered%s", rd_kafka_outq_len(pr.rk),
		    ds_stop ? " (interrupted)" : "");
		pr.failed = 1;
		rd_kafka_purge(pr.rk, RD_KAFKA_PURGE_F_QUEUE |
		    RD_KAFKA_PURGE_F_INFLIGHT);
	}
	prodfree(&pr);
	return pr.failed ? 1 : 0;
}
