/*
 * kstate.c -- the keyed state of a stage (ds-state): each key's running
 * aggregates or its state as JSON text, kept in a key table across
 * batches; a key's output record; the checkpoint, a header with the
 * options it was written with, then one state record a key (the
 * snapshot every key, a delta the keys changed or removed since the
 * checkpoint before); and the initial state of a file.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "durable/durable.h"

int
ds_kstate_addagg(struct ds_kstate *ks, const char *spec, char *msg,
    size_t msglen)
{
	if (ds_aggs_add(&ks->aggs, spec, msg, msglen) == -1)
		return -1;
	ks->specs = ds_reallocarray(ks->specs, (size_t)ks->aggs.n,
	    sizeof(*ks->specs));
	ks->specs[ks->aggs.n - 1] = spec;
	return 0;
}

void
ds_kstate_init(struct ds_kstate *ks, const char *dir, const char *name,
    int byage, int track)
{
	ds_keytab_init(&ks->kt, sizeof(struct ds_kval), byage, track);
	ds_stst_init(&ks->ss, dir, name, 1);
}

struct ds_kval *
ds_kstate_get(struct ds_kstate *ks, const char *k, size_t n)
{
	return ds_keytab_get(&ks->kt, k, n);
}

struct ds_kval *
ds_kstate_find(struct ds_kstate *ks, const char *k, size_t n)
{
	return ds_keytab_find(&ks->kt, k, n);
}

/* Free what v holds (not v: the key table does). */
static void
freeval(struct ds_kstate *ks, struct ds_kval *v)
{
	ds_agg_free(&ks->aggs, v->st);
	free(v->js);
	ds_buf_free(&v->vals);
}

void
ds_kstate_del(struct ds_kstate *ks, struct ds_kval *v)
{
	freeval(ks, v);
	ds_keytab_del(&ks->kt, &v->k);
}

void
ds_kstate_drop(void *arg, struct ds_key *k)
{
	ds_kstate_del(arg, (struct ds_kval *)k);
}

void
ds_kstate_setjs(struct ds_kstate *ks, struct ds_kval *v, const char *p,
    size_t n)
{
	free(v->js);
	v->js = NULL;
	if (p != NULL && (v->js = strndup(p, n)) == NULL)
		err(1, NULL);
	if (v->k.live)
		ds_keytab_changed(&ks->kt, &v->k);
}

void
ds_kstate_take(struct ds_kstate *ks, struct ds_grp *g)
{
	struct ds_kval *v = ds_kstate_get(ks, g->key, g->klen);

	if (v->st == NULL) {
		v->st = g->st;
		g->st = NULL;
	} else
		ds_agg_merge(&ks->aggs, v->st, g->st);
	ds_keytab_touch(&ks->kt, &v->k);
}

void
ds_kstate_emit(struct ds_kstate *ks, struct ds_kval *v, int gone,
    int timedout)
{
	struct ds_buf *b = &ks->ob;
	size_t mark;

	ds_buf_clear(b);
	ds_buf_addc(b, '{');
	ds_key_emit(v->k.key, v->k.klen, ks->keys, ks->nkeys, b);
	mark = b->len;
	if (!ks->expr)
		ds_agg_emit(&ks->aggs, v->st, b);
	else {
		ds_buf_adds(b, ",\"state\":");
		ds_buf_adds(b, gone || v->js == NULL ? "null" : v->js);
	}
	if (timedout)
		ds_buf_adds(b, ",\"timedOut\":true");
	if (mark == 1 && b->len > 1 && b->p[1] == ',') {
		memmove(b->p + 1, b->p + 2, b->len - 2);
		b->len--;
	}
	ds_buf_addc(b, '}');
	ds_out_buf(b);
}

void
ds_kstate_emitall(struct ds_kstate *ks)
{
	struct ds_kval *v;
	size_t i;

	for (i = 0; i < ks->kt.n; i++)
		if ((v = (struct ds_kval *)ks->kt.ord[i]) != NULL && v->k.live)
			ds_kstate_emit(ks, v, 0, 0);
}

void
ds_kstate_stamp(struct ds_kstate *ks, int64_t t)
{
	if (ks->needtime && t != DS_KEY_NOTIME) {
		ds_keytab_stamp(&ks->kt, t);
		ks->needtime = 0;
	}
}

void
ds_kstate_expire(struct ds_kstate *ks, int64_t t, int64_t ttl)
{
	struct ds_kval *v;

	while ((v = ds_keytab_expired(&ks->kt, t, ttl)) != NULL) {
		ds_kstate_emit(ks, v, 0, 1);
		ds_kstate_del(ks, v);
	}
}

void
ds_kstate_replay(struct ds_kstate *ks, struct ds_groups *gs, int emit)
{
	struct ds_grp *g;
	struct ds_kval *v;
	size_t i = 0;

	while ((g = ds_groups_next(gs, &i)) != NULL)
		if ((v = ds_kstate_find(ks, g->key, g->klen)) != NULL &&
		    emit && v->k.live)
			ds_kstate_emit(ks, v, 0, 0);
	ds_groups_clear(gs, &ks->aggs);
	i = 0;
	while ((v = ds_keytab_nexttouched(&ks->kt, &i)) != NULL) {
		ds_buf_clear(&v->vals);
		if (emit)
			ds_kstate_emit(ks, v, !v->k.live, 0);
		if (!v->k.live)
			ds_kstate_del(ks, v);
	}
}

/* --- checkpoints ---------------------------------------------------- */

/* A key's value in its state record: the aggregates, or the state. */
static void
saveval(void *arg, struct ds_key *k, struct ds_buf *b)
{
	struct ds_kstate *ks = arg;
	struct ds_kval *v = (struct ds_kval *)k;

	if (!ks->expr)
		ds_agg_save(&ks->aggs, v->st, b);
	else
		ds_buf_adds(b, v->js);
}

/* A key's state record: sp NULL, it was removed. */
static int
loadval(void *arg, const char *key, size_t klen, int64_t last,
    const struct ds_span *sp, const char **why)
{
	struct ds_kstate *ks = arg;
	struct ds_kval *v = ds_kstate_get(ks, key, klen);

	if (sp == NULL) {
		ds_kstate_del(ks, v);
		return 0;
	}
	if (last == DS_KEY_NOTIME)
		ks->needtime = 1;
	if (!ks->expr) {
		ds_agg_free(&ks->aggs, v->st);
		if ((v->st = ds_agg_load(&ks->aggs, sp->p, sp->len)) == NULL) {
			*why = "bad aggregate state";
			ds_kstate_del(ks, v);
			return -1;
		}
	} else
		ds_kstate_setjs(ks, v, sp->p, sp->len);
	ds_keytab_live(&ks->kt, &v->k, last);
	return 0;
}

struct ds_staterec
ds_kstate_rec(struct ds_kstate *ks)
{
	struct ds_staterec r = { ks->keys, ks->nkeys, ks->expr ? "s" : "a",
	    saveval, loadval, ks };

	return r;
}

/*
 * The options a checkpoint was written with: a snapshot's header; NULL
 * with a message when they cannot be encoded.
 */
static json_t *
options(struct ds_kstate *ks, char *msg, size_t msglen)
{
	json_t *a, *hd;
	int i;

	a = json_array();
	for (i = 0; i < ks->aggs.n; i++)
		json_array_append_new(a, json_string(ks->specs[i]));
	hd = json_pack("{s:i,s:s,s:s,s:o}", "ds-state", 1,
	    "mode", ks->expr ? "expression" : "aggregate",
	    "key", ks->keytext, "aggs", a);
	if (hd == NULL)
		snprintf(msg, msglen, "checkpoint: cannot encode its header");
	return hd;
}

int
ds_kstate_save(struct ds_kstate *ks, char *msg, size_t msglen)
{
	struct ds_staterec r = ds_kstate_rec(ks);
	struct ds_buf b = { 0 };
	json_t *hd;
	int full;

	if ((full = ds_stst_wantfull(&ks->ss)))
		hd = options(ks, msg, msglen);
	else if ((hd = json_object()) == NULL)
		err(1, NULL);
	if (hd == NULL)
		return -1;
	ds_staterec_body(&ks->kt, full, &r, &b);
	if (ds_stst_save(&ks->ss, hd, &b, msg, msglen) == -1)
		full = -1;
	else
		ds_keytab_settled(&ks->kt);
	ds_buf_free(&b);
	return full;
}

/* Does the checkpoint's header match this run's -k/-a/-e? */
static int
header(void *arg, json_t *hd, char *msg, size_t msglen)
{
	struct ds_kstate *ks = arg;
	json_t *want;
	int rv;

	if ((want = options(ks, msg, msglen)) == NULL)
		return -1;
	rv = ds_stst_sameopts(&ks->ss, hd, want, msg, msglen);
	json_decref(want);
	return rv;
}

/* Apply the state records p[0..end) (after a header line). */
static int
records(void *arg, char *p, char *end, char *msg, size_t msglen)
{
	struct ds_kstate *ks = arg;
	struct ds_staterec r = ds_kstate_rec(ks);

	return ds_staterec_load(&r, ks->ss.path, p, end, msg, msglen);
}

int
ds_kstate_load(struct ds_kstate *ks, char *msg, size_t msglen)
{
	struct ds_stst_load ld = { header, records, ks };
	int rc;

	if (ks->ss.dir == NULL)
		return 0;
	ks->kt.track = 0;	/* what is loaded is in the checkpoint */
	rc = ds_stst_load(&ks->ss, &ld, msg, msglen);
	ks->kt.track = 1;
	ds_keytab_sortage(&ks->kt);
	return rc;
}

/* --- the initial state ---------------------------------------------- */

struct init {
	struct ds_kstate *ks;
	void		(*bad)(void *, const struct ds_line *, const char *);
	void		*arg;
};

static void
initbad(void *arg, const struct ds_line *l, const char *why)
{
	struct init *in = arg;

	in->bad(in->arg, l, why);
}

static void
initrec(void *arg, const struct ds_line *l, const char *key, size_t klen,
    const struct ds_span *sp)
{
	struct init *in = arg;
	struct ds_kstate *ks = in->ks;
	struct ds_kval *v = ds_kstate_get(ks, key, klen);
	const char *why;

	if (!ks->expr) {
		if (v->st == NULL)
			v->st = ds_agg_new(&ks->aggs);
		if (ds_agg_add(&ks->aggs, v->st, l->p, l->len, &why) == -1) {
			in->bad(in->arg, l, why);
			if (ds_agg_count(v->st) == 0) {
				ds_agg_free(&ks->aggs, v->st);
				v->st = NULL;
			}
		}
	} else if (sp->len == 4 && memcmp(sp->p, "null", 4) == 0)
		ds_kstate_setjs(ks, v, NULL, 0);
	else
		ds_kstate_setjs(ks, v, sp->p, sp->len);
	if (v->st == NULL && v->js == NULL) {
		ds_kstate_del(ks, v);
		return;
	}
	if (!v->k.live)
		ds_keytab_live(&ks->kt, &v->k, DS_KEY_NOTIME);
	ks->needtime = 1;
}

int
ds_kstate_initfile(struct ds_kstate *ks, const char *file,
    void (*bad)(void *, const struct ds_line *, const char *), void *arg)
{
	struct init in = { ks, bad, arg };
	struct ds_stateinit si = { ks->keys, ks->nkeys,
	    ks->expr ? "state" : NULL, initrec, initbad, &in };

	return ds_staterec_init(&si, file);
}

void
ds_kstate_free(struct ds_kstate *ks)
{
	size_t i;

	for (i = 0; i < ks->kt.n; i++)
		if (ks->kt.ord[i] != NULL)
			freeval(ks, (struct ds_kval *)ks->kt.ord[i]);
	ds_keytab_free(&ks->kt);
	ds_stst_free(&ks->ss);
	free(ks->specs);
	ds_aggs_free(&ks->aggs);
	ds_paths_free(ks->keys, ks->nkeys);
	ds_buf_free(&ks->ob);
	memset(ks, 0, sizeof(*ks));
}
