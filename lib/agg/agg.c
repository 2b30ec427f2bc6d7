/*
 * agg.c -- the aggregates of ds-reduce, ds-window and ds-state: count,
 * sum, min, max, avg, first, last, collect, distinct and top N, behind
 * one interface (add a record, merge two partials, subtract one where
 * the aggregate has an inverse, emit, save and load).
 *
 * Rules every aggregate keeps (documented in ds-reduce(1)):
 * - An absent field is ignored (like SQL NULL), and so is null for the
 *   numeric aggregates (sum, min, max, avg, top).  Any other value that
 *   is not a number is an error: the record is bad and no aggregate of
 *   the group is changed by it.
 * - Integers stay exact as int64.  When a sum would overflow int64 it
 *   switches to double for that group (and says so by printing a
 *   double); it never wraps.  A sum of nothing, and min/max/avg of
 *   nothing, is null.
 * - merge(dst, src) takes src as the later partial: first keeps dst's,
 *   last takes src's, collect appends src after dst, top keeps the
 *   earlier record on equal scores.
 *
 * A group's state is one allocation (header and slots); adding a record
 * allocates nothing except for collect, distinct, first/last (only when
 * the value grows) and top (a record entering the top N).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "agg/agg.h"

struct num {			/* sum, avg */
	int64_t	 n;		/* values added */
	int64_t	 i;
	double	 d;
	int	 dbl;		/* 1: d holds the value, i is unused */
};

struct mm {			/* min, max */
	int	 has;
	int	 dbl;
	int64_t	 i;
	double	 d;
};

struct raw {			/* first, last */
	int		 has;
	struct ds_buf	 b;
};

struct coll {			/* collect */
	int64_t		 n;
	struct ds_buf	 b;	/* "v1,v2,..." */
};

struct topent {
	long double	 score;
	char		*rec;
	size_t		 len;
	size_t		 cap;
};

struct top {
	int		 n;
	int		 cap;	/* grows up to topn: N may be large */
	struct topent	*e;	/* best first */
};

union slot {
	struct num	 s;
	struct mm	 m;
	struct raw	 r;
	struct coll	 c;
	struct ds_hash	 h;	/* distinct: canonical values */
	struct top	 t;
};

struct ds_aggst {
	int64_t		 count;
	union slot	 s[];
};

/* One record's values, found before any slot changes (atomic add). */
struct val {
	int		 has;	/* present (and, for numbers, not null) */
	int		 isint;
	int64_t		 i;
	double		 d;
	long double	 ld;	/* for comparisons */
	struct ds_span	 v;
};

static struct val *scratch;
static int nscratch;
static char errbuf[256];

static const struct {
	const char	*name;
	enum ds_aggop	 op;
	int		 field;		/* needs :F */
	int		 numeric;
	int		 inv;
} ops[] = {
	{ "count",	DS_AGG_COUNT,	0, 0, 1 },
	{ "sum",	DS_AGG_SUM,	1, 1, 1 },
	{ "min",	DS_AGG_MIN,	1, 1, 0 },
	{ "max",	DS_AGG_MAX,	1, 1, 0 },
	{ "avg",	DS_AGG_AVG,	1, 1, 1 },
	{ "first",	DS_AGG_FIRST,	1, 0, 0 },
	{ "last",	DS_AGG_LAST,	1, 0, 0 },
	{ "collect",	DS_AGG_COLLECT,	1, 0, 0 },
	{ "distinct",	DS_AGG_DISTINCT, 1, 0, 0 },
	{ "top",	DS_AGG_TOP,	1, 1, 0 },
};
#define NOPS	(sizeof(ops) / sizeof(ops[0]))

static int
opidx(enum ds_aggop op)
{
	size_t k;

	for (k = 0; k < NOPS; k++)
		if (ops[k].op == op)
			break;
	return (int)k;
}

int
ds_aggs_add(struct ds_aggs *a, const char *spec, char *ebuf, size_t errlen)
{
	struct ds_aggdef d;
	struct ds_buf nm = { 0 };
	const char *eq, *s, *colon, *f = NULL;
	const char *errstr;
	char opname[16], nbuf[16];
	size_t k, oplen;
	int i;

	memset(&d, 0, sizeof(d));
	s = spec;
	eq = strchr(spec, '=');
	if (eq != NULL && (colon = strchr(spec, ':')) != NULL && colon < eq)
		eq = NULL;	/* "sum:a=b" is a field named a=b */
	if (eq != NULL)
		s = eq + 1;
	colon = strchr(s, ':');
	oplen = colon ? (size_t)(colon - s) : strlen(s);
	if (oplen == 0 || oplen >= sizeof(opname))
		goto badop;
	memcpy(opname, s, oplen);
	opname[oplen] = '\0';
	for (k = 0; k < NOPS; k++)
		if (strcmp(ops[k].name, opname) == 0)
			break;
	if (k == NOPS)
		goto badop;
	d.op = ops[k].op;
	if (d.op == DS_AGG_TOP) {
		const char *c2 = colon ? strchr(colon + 1, ':') : NULL;

		if (c2 == NULL || (size_t)(c2 - colon - 1) >= sizeof(nbuf)) {
			snprintf(ebuf, errlen, "%s: expected top:N:FIELD", spec);
			return -1;
		}
		memcpy(nbuf, colon + 1, c2 - colon - 1);
		nbuf[c2 - colon - 1] = '\0';
		d.topn = (int)strtonum(nbuf, 1, 100000, &errstr);
		if (errstr != NULL) {
			snprintf(ebuf, errlen, "%s: N is %s", spec, errstr);
			return -1;
		}
		f = c2 + 1;
	} else if (colon != NULL)
		f = colon + 1;
	if (ops[k].field && (f == NULL || *f == '\0')) {
		snprintf(ebuf, errlen, "%s: %s needs a field (%s:FIELD)", spec,
		    opname, opname);
		return -1;
	}
	if (!ops[k].field && f != NULL) {
		snprintf(ebuf, errlen, "%s: %s takes no field", spec, opname);
		return -1;
	}
	if (f != NULL && ds_path_parse(f, &d.field) == -1) {
		snprintf(ebuf, errlen, "%s: bad field path '%s'", spec, f);
		return -1;
	}
	if (eq != NULL) {
		ds_buf_add(&nm, spec, eq - spec);
		if (nm.len == 0 || memchr(nm.p, '.', nm.len) != NULL ||
		    nm.p[0] == '$') {
			snprintf(ebuf, errlen, "%s: output name must be non-empty,"
			    " without '.' and not start with '$'", spec);
			goto fail;
		}
	} else {
		ds_buf_adds(&nm, opname);
		for (i = 0; i < d.field.n; i++) {
			ds_buf_addc(&nm, '_');
			ds_buf_add(&nm, d.field.key[i], d.field.klen[i]);
		}
		for (k = 0; k < nm.len; k++)
			if (nm.p[k] == '.')
				nm.p[k] = '_';
	}
	ds_buf_addc(&nm, '\0');
	for (i = 0; i < a->n; i++)
		if (strcmp(a->d[i].name, nm.p) == 0) {
			snprintf(ebuf, errlen, "%s: duplicate output name '%s'"
			    " (use NAME=AGG)", spec, nm.p);
			goto fail;
		}
	d.name = nm.p;
	a->d = ds_reallocarray(a->d, a->n + 1, sizeof(*a->d));
	a->d[a->n++] = d;
	a->invertible = (a->n == 1 || a->invertible) && ops[opidx(d.op)].inv;
	return 0;
badop:
	snprintf(ebuf, errlen, "%s: unknown aggregate (count, sum:F, min:F, "
	    "max:F, avg:F, first:F, last:F, collect:F, distinct:F, "
	    "top:N:F)", spec);
	return -1;
fail:
	ds_buf_free(&nm);
	ds_path_free(&d.field);
	return -1;
}

void
ds_aggs_free(struct ds_aggs *a)
{
	int i;

	for (i = 0; i < a->n; i++) {
		free(a->d[i].name);
		ds_path_free(&a->d[i].field);
	}
	free(a->d);
	a->d = NULL;
	a->n = 0;
	a->invertible = 0;
	free(scratch);
	scratch = NULL;
	nscratch = 0;
}

struct ds_aggst *
ds_agg_new(const struct ds_aggs *a)
{
	struct ds_aggst *st;

	size_t n = sizeof(*st) + (size_t)a->n * sizeof(union slot);

	st = ds_reallocarray(NULL, 1, n);
	memset(st, 0, n);
	return st;
}

void
ds_agg_free(const struct ds_aggs *a, struct ds_aggst *st)
{
	int i, k;

	if (st == NULL)
		return;
	for (i = 0; i < a->n; i++) {
		union slot *s = &st->s[i];

		switch (a->d[i].op) {
		case DS_AGG_FIRST:
		case DS_AGG_LAST:
			ds_buf_free(&s->r.b);
			break;
		case DS_AGG_COLLECT:
			ds_buf_free(&s->c.b);
			break;
		case DS_AGG_DISTINCT:
			ds_hash_free(&s->h);
			break;
		case DS_AGG_TOP:
			for (k = 0; k < s->t.cap; k++)
				free(s->t.e[k].rec);
			free(s->t.e);
			break;
		default:
			break;
		}
	}
	free(st);
}

/* Read a number; returns 0, or -1 when v is not one. */
static int
getnum(struct ds_span v, struct val *x)
{
	if (ds_json_int(v, &x->i) == 0) {
		x->isint = 1;
		x->ld = (long double)x->i;
		return 0;
	}
	if (ds_json_type(v.p, v.len) != DS_JNUM || ds_json_num(v, &x->d) == -1)
		return -1;
	x->isint = 0;
	x->ld = x->d;
	return 0;
}

static void
sumadd(struct num *s, int isint, int64_t i, double d, int64_t n)
{
	int64_t r;

	if (!s->dbl && isint) {
		if (!__builtin_add_overflow(s->i, i, &r)) {
			s->i = r;
			s->n += n;
			return;
		}
		s->dbl = 1;
		s->d = (double)s->i + (double)i;
	} else if (!s->dbl) {
		s->dbl = 1;
		s->d = (double)s->i + d;
	} else
		s->d += isint ? (double)i : d;
	s->n += n;
}

static void
sumsub(struct num *s, const struct num *o)
{
	int64_t r;

	s->n -= o->n;
	if (s->n <= 0) {
		/* nothing left: back to exact zero */
		memset(s, 0, sizeof(*s));
		return;
	}
	if (!s->dbl && !o->dbl) {
		if (!__builtin_sub_overflow(s->i, o->i, &r)) {
			s->i = r;
			return;
		}
		s->dbl = 1;
		s->d = (double)s->i - (double)o->i;	/* s->i unchanged */
		return;
	}
	if (!s->dbl) {
		s->dbl = 1;
		s->d = (double)s->i;
	}
	s->d -= o->dbl ? o->d : (double)o->i;
}

static void
mmset(struct mm *m, int isint, int64_t i, double d, long double ld, int max)
{
	long double cur;

	if (m->has) {
		cur = m->dbl ? (long double)m->d : (long double)m->i;
		if (max ? !(ld > cur) : !(ld < cur))
			return;
	}
	m->has = 1;
	m->dbl = !isint;
	m->i = i;
	m->d = d;
}

static void
rawset(struct raw *r, const char *p, size_t len)
{
	ds_buf_clear(&r->b);
	ds_buf_add(&r->b, p, len);
	r->has = 1;
}

static void
collectadd(struct coll *c, const char *p, size_t len)
{
	if (c->n++ > 0)
		ds_buf_addc(&c->b, ',');
	ds_buf_add(&c->b, p, len);
}

static void
distinctadd(struct ds_hash *h, struct ds_span v)
{
	static struct ds_buf tmp;
	int isnew;

	ds_buf_clear(&tmp);
	if (ds_json_canon(v, &tmp) == -1)
		ds_buf_add(&tmp, v.p, v.len);
	ds_hash_put(h, tmp.p, tmp.len, &isnew);
}

/*
 * Offer a record to a top-N list: it goes after every entry with a
 * score at least as large (so the earlier record wins a tie).
 */
static void
topadd(struct top *t, int topn, long double score, const char *rec,
    size_t len)
{
	struct topent spare;
	int k;

	if (t->n == topn && !(score > t->e[topn - 1].score))
		return;
	if (t->n == t->cap && t->cap < topn) {
		k = t->cap ? t->cap * 2 : 4;
		if (k > topn)
			k = topn;
		t->e = ds_reallocarray(t->e, k, sizeof(*t->e));
		memset(t->e + t->cap, 0, (k - t->cap) * sizeof(*t->e));
		t->cap = k;
	}
	for (k = 0; k < t->n && t->e[k].score >= score; k++)
		;
	if (t->n == topn)
		spare = t->e[topn - 1];		/* reuse the evicted buffer */
	else
		spare = t->e[t->n++];
	memmove(&t->e[k + 1], &t->e[k], (t->n - 1 - k) * sizeof(t->e[0]));
	if (spare.cap < len + 1) {
		free(spare.rec);
		spare.cap = len + 1 > 256 ? len + 1 : 256;
		spare.rec = ds_reallocarray(NULL, spare.cap, 1);
	}
	memcpy(spare.rec, rec, len);
	spare.rec[len] = '\0';
	spare.len = len;
	spare.score = score;
	t->e[k] = spare;
}

int
ds_agg_add(const struct ds_aggs *a, struct ds_aggst *st, const char *rec,
    size_t len, const char **errmsg)
{
	static const struct ds_path **pp;
	static struct ds_span *v;
	static int *found, cap;
	int i;

	if (a->n > cap) {
		free(pp);
		free(v);
		free(found);
		pp = ds_reallocarray(NULL, a->n, sizeof(*pp));
		v = ds_reallocarray(NULL, a->n, sizeof(*v));
		found = ds_reallocarray(NULL, a->n, sizeof(*found));
		cap = a->n;
	}
	for (i = 0; i < a->n; i++)
		pp[i] = &a->d[i].field;
	if (ds_json_getv(rec, len, pp, a->n, v, found) == -1)
		memset(found, 0, a->n * sizeof(*found));  /* not an object */
	return ds_agg_add_v(a, st, rec, len, v, found, errmsg);
}

int
ds_agg_add_v(const struct ds_aggs *a, struct ds_aggst *st, const char *rec,
    size_t len, const struct ds_span *vals, const int *found,
    const char **errmsg)
{
	const struct ds_aggdef *d;
	struct val *x;
	int i;

	if (a->n > nscratch) {
		free(scratch);
		scratch = ds_reallocarray(NULL, a->n, sizeof(*scratch));
		nscratch = a->n;
	}
	/* first find and check every value, so a bad record changes nothing */
	for (i = 0; i < a->n; i++) {
		d = &a->d[i];
		x = &scratch[i];
		x->has = 0;
		if (d->op == DS_AGG_COUNT || !found[i])
			continue;
		x->v = vals[i];
		if (!ops[opidx(d->op)].numeric) {
			x->has = 1;
			continue;
		}
		if (x->v.len == 4 && memcmp(x->v.p, "null", 4) == 0)
			continue;
		if (getnum(x->v, x) == -1) {
			snprintf(errbuf, sizeof(errbuf), "%s: field '%s' is "
			    "not a number: %.*s", d->name, d->field.text,
			    x->v.len > 40 ? 40 : (int)x->v.len, x->v.p);
			*errmsg = errbuf;
			return -1;
		}
		x->has = 1;
	}
	st->count++;
	for (i = 0; i < a->n; i++) {
		d = &a->d[i];
		x = &scratch[i];
		if (!x->has)
			continue;
		switch (d->op) {
		case DS_AGG_SUM:
		case DS_AGG_AVG:
			sumadd(&st->s[i].s, x->isint, x->i, x->d, 1);
			break;
		case DS_AGG_MIN:
		case DS_AGG_MAX:
			mmset(&st->s[i].m, x->isint, x->i, x->d, x->ld,
			    d->op == DS_AGG_MAX);
			break;
		case DS_AGG_FIRST:
			if (!st->s[i].r.has)
				rawset(&st->s[i].r, x->v.p, x->v.len);
			break;
		case DS_AGG_LAST:
			rawset(&st->s[i].r, x->v.p, x->v.len);
			break;
		case DS_AGG_COLLECT:
			collectadd(&st->s[i].c, x->v.p, x->v.len);
			break;
		case DS_AGG_DISTINCT:
			distinctadd(&st->s[i].h, x->v);
			break;
		case DS_AGG_TOP:
			topadd(&st->s[i].t, d->topn, x->ld, rec, len);
			break;
		default:
			break;
		}
	}
	return 0;
}

void
ds_agg_merge(const struct ds_aggs *a, struct ds_aggst *dst,
    const struct ds_aggst *src)
{
	const union slot *s;
	union slot *t;
	struct ds_hent *e;
	size_t it;
	int i, k, isnew;

	dst->count += src->count;
	for (i = 0; i < a->n; i++) {
		s = &src->s[i];
		t = &dst->s[i];
		switch (a->d[i].op) {
		case DS_AGG_SUM:
		case DS_AGG_AVG:
			if (s->s.n > 0)
				sumadd(&t->s, !s->s.dbl, s->s.i, s->s.d, s->s.n);
			break;
		case DS_AGG_MIN:
		case DS_AGG_MAX:
			if (s->m.has)
				mmset(&t->m, !s->m.dbl, s->m.i, s->m.d,
				    s->m.dbl ? (long double)s->m.d :
				    (long double)s->m.i,
				    a->d[i].op == DS_AGG_MAX);
			break;
		case DS_AGG_FIRST:
			if (!t->r.has && s->r.has)
				rawset(&t->r, s->r.b.p, s->r.b.len);
			break;
		case DS_AGG_LAST:
			if (s->r.has)
				rawset(&t->r, s->r.b.p, s->r.b.len);
			break;
		case DS_AGG_COLLECT:
			if (s->c.n > 0) {
				if (t->c.n > 0)
					ds_buf_addc(&t->c.b, ',');
				ds_buf_add(&t->c.b, s->c.b.p, s->c.b.len);
				t->c.n += s->c.n;
			}
			break;
		case DS_AGG_DISTINCT:
			it = 0;
			while ((e = ds_hash_next((struct ds_hash *)&s->h,
			    &it)) != NULL)
				ds_hash_put(&t->h, e->key, e->klen, &isnew);
			break;
		case DS_AGG_TOP:
			for (k = 0; k < s->t.n; k++)
				topadd(&t->t, a->d[i].topn, s->t.e[k].score,
				    s->t.e[k].rec, s->t.e[k].len);
			break;
		default:
			break;
		}
	}
}

void
ds_agg_sub(const struct ds_aggs *a, struct ds_aggst *dst,
    const struct ds_aggst *src)
{
	int i;

	dst->count -= src->count;
	for (i = 0; i < a->n; i++)
		if (a->d[i].op == DS_AGG_SUM || a->d[i].op == DS_AGG_AVG)
			sumsub(&dst->s[i].s, &src->s[i].s);
}

int
ds_agg_exact(const struct ds_aggs *a, const struct ds_aggst *st)
{
	int i;

	for (i = 0; i < a->n; i++)
		if ((a->d[i].op == DS_AGG_SUM || a->d[i].op == DS_AGG_AVG) &&
		    st->s[i].s.dbl)
			return 0;
	return 1;
}

int64_t
ds_agg_count(const struct ds_aggst *st)
{
	return st->count;
}

static void
addnum(struct ds_buf *b, int dbl, int64_t i, double d)
{
	if (dbl)
		ds_buf_addd(b, d);
	else
		ds_buf_addi(b, i);
}

/* Append [text] to b. */
static void
addwrap(struct ds_buf *b, const char *p, size_t len)
{
	ds_buf_addc(b, '[');
	ds_buf_add(b, p, len);
	ds_buf_addc(b, ']');
}

/* Append the records of a top-N list as a JSON array. */
static void
addtop(struct ds_buf *b, const struct top *t)
{
	int k;

	ds_buf_addc(b, '[');
	for (k = 0; k < t->n; k++) {
		if (k > 0)
			ds_buf_addc(b, ',');
		ds_buf_add(b, t->e[k].rec, t->e[k].len);
	}
	ds_buf_addc(b, ']');
}

void
ds_agg_emit(const struct ds_aggs *a, const struct ds_aggst *st,
    struct ds_buf *b)
{
	const union slot *s;
	int i;

	for (i = 0; i < a->n; i++) {
		s = &st->s[i];
		ds_buf_addc(b, ',');
		ds_buf_addq(b, a->d[i].name, strlen(a->d[i].name));
		ds_buf_addc(b, ':');
		switch (a->d[i].op) {
		case DS_AGG_COUNT:
			ds_buf_addi(b, st->count);
			break;
		case DS_AGG_SUM:
			if (s->s.n == 0)
				ds_buf_adds(b, "null");
			else
				addnum(b, s->s.dbl, s->s.i, s->s.d);
			break;
		case DS_AGG_AVG:
			if (s->s.n == 0)
				ds_buf_adds(b, "null");
			else
				ds_buf_addd(b, (double)((s->s.dbl ?
				    (long double)s->s.d : (long double)s->s.i) /
				    s->s.n));
			break;
		case DS_AGG_MIN:
		case DS_AGG_MAX:
			if (!s->m.has)
				ds_buf_adds(b, "null");
			else
				addnum(b, s->m.dbl, s->m.i, s->m.d);
			break;
		case DS_AGG_FIRST:
		case DS_AGG_LAST:
			if (!s->r.has)
				ds_buf_adds(b, "null");
			else
				ds_buf_add(b, s->r.b.p, s->r.b.len);
			break;
		case DS_AGG_COLLECT:
			addwrap(b, s->c.b.p, s->c.b.len);
			break;
		case DS_AGG_DISTINCT:
			ds_buf_addi(b, (int64_t)ds_hash_count(&s->h));
			break;
		case DS_AGG_TOP:
			addtop(b, &s->t);
			break;
		}
	}
}

/*
 * Checkpoint form: [count, slot, ...] where a slot is
 *   count: 0             sum, avg: [n, i] or [n, d, "d"]
 *   min, max: null, [i] or [d, "d"]    first, last: null or [value]
 *   collect: [values]    distinct: [canonical values]    top: [records]
 */
void
ds_agg_save(const struct ds_aggs *a, const struct ds_aggst *st,
    struct ds_buf *b)
{
	const union slot *s;
	struct ds_hent *e;
	size_t it;
	int i, k;

	ds_buf_addc(b, '[');
	ds_buf_addi(b, st->count);
	for (i = 0; i < a->n; i++) {
		s = &st->s[i];
		ds_buf_addc(b, ',');
		switch (a->d[i].op) {
		case DS_AGG_COUNT:
			ds_buf_addc(b, '0');
			break;
		case DS_AGG_SUM:
		case DS_AGG_AVG:
			ds_buf_addc(b, '[');
			ds_buf_addi(b, s->s.n);
			ds_buf_addc(b, ',');
			addnum(b, s->s.dbl, s->s.i, s->s.d);
			ds_buf_adds(b, s->s.dbl ? ",\"d\"]" : "]");
			break;
		case DS_AGG_MIN:
		case DS_AGG_MAX:
			if (!s->m.has) {
				ds_buf_adds(b, "null");
				break;
			}
			ds_buf_addc(b, '[');
			addnum(b, s->m.dbl, s->m.i, s->m.d);
			ds_buf_adds(b, s->m.dbl ? ",\"d\"]" : "]");
			break;
		case DS_AGG_FIRST:
		case DS_AGG_LAST:
			if (!s->r.has)
				ds_buf_adds(b, "null");
			else
				addwrap(b, s->r.b.p, s->r.b.len);
			break;
		case DS_AGG_COLLECT:
			addwrap(b, s->c.b.p, s->c.b.len);
			break;
		case DS_AGG_DISTINCT:
			ds_buf_addc(b, '[');
			it = 0;
			k = 0;
			while ((e = ds_hash_next((struct ds_hash *)&s->h,
			    &it)) != NULL) {
				if (k++ > 0)
					ds_buf_addc(b, ',');
				ds_buf_add(b, e->key, e->klen);
			}
			ds_buf_addc(b, ']');
			break;
		case DS_AGG_TOP:
			addtop(b, &s->t);
			break;
		}
	}
	ds_buf_addc(b, ']');
}

/* The array elements of valid JSON: start with *p at '['. */
struct walk {
	const char	*p, *e;
	int		 first;
};

static void
wstart(struct walk *w, struct ds_span v)
{
	w->p = v.p;
	w->e = v.p + v.len;
	while (w->p < w->e && *w->p != '[')
		w->p++;
	w->p++;
	w->first = 1;
}

#define ISWS(c)	((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r')

/* Next element: 1 and *v set, 0 at ']' (or on malformed input). */
static int
wnext(struct walk *w, struct ds_span *v)
{
	const char *q;

	while (w->p < w->e && ISWS(*w->p))
		w->p++;
	if (w->p >= w->e || *w->p == ']')
		return 0;
	if (!w->first) {
		if (*w->p != ',')
			return 0;
		w->p++;
		while (w->p < w->e && ISWS(*w->p))
			w->p++;
	}
	w->first = 0;
	q = ds_json_skip(w->p, w->e);
	v->p = w->p;
	v->len = q - w->p;
	w->p = q;
	return v->len > 0;
}

/* A [number] or [number, "d"] pair into dbl, i, d. */
static int
loadnum(struct walk *w, int *dbl, int64_t *i, double *d)
{
	struct ds_span v, flag;
	struct val x;

	if (!wnext(w, &v) || getnum(v, &x) == -1)
		return -1;
	*dbl = wnext(w, &flag);
	if (*dbl) {
		*d = x.isint ? (double)x.i : x.d;
		*i = 0;
	} else if (x.isint) {
		*i = x.i;
		*d = 0;
	} else
		return -1;
	return 0;
}

struct ds_aggst *
ds_agg_load(const struct ds_aggs *a, const char *json, size_t len)
{
	struct ds_aggst *st;
	struct walk top, w;
	struct ds_span v, e, fv;
	union slot *s;
	const char *why;
	int i, isnew;
	struct val x;

	if (ds_json_check(json, len, DS_MAXDEPTH_DEFAULT, &why) == -1 ||
	    ds_json_type(json, len) != DS_JARR)
		return NULL;
	st = ds_agg_new(a);
	v.p = json;
	v.len = len;
	wstart(&top, v);
	if (!wnext(&top, &v) || ds_json_int(v, &st->count) == -1)
		goto bad;
	for (i = 0; i < a->n; i++) {
		s = &st->s[i];
		if (!wnext(&top, &v))
			goto bad;
		if (a->d[i].op != DS_AGG_COUNT && ds_json_type(v.p, v.len) ==
		    DS_JNULL)
			continue;
		if (a->d[i].op != DS_AGG_COUNT &&
		    ds_json_type(v.p, v.len) != DS_JARR)
			goto bad;
		wstart(&w, v);
		switch (a->d[i].op) {
		case DS_AGG_COUNT:
			break;
		case DS_AGG_SUM:
		case DS_AGG_AVG:
			if (!wnext(&w, &e) || ds_json_int(e, &s->s.n) == -1 ||
			    loadnum(&w, &s->s.dbl, &s->s.i, &s->s.d) == -1)
				goto bad;
			break;
		case DS_AGG_MIN:
		case DS_AGG_MAX:
			if (loadnum(&w, &s->m.dbl, &s->m.i, &s->m.d) == -1)
				goto bad;
			s->m.has = 1;
			break;
		case DS_AGG_FIRST:
		case DS_AGG_LAST:
			if (!wnext(&w, &e))
				goto bad;
			rawset(&s->r, e.p, e.len);
			break;
		case DS_AGG_COLLECT:
			while (wnext(&w, &e))
				collectadd(&s->c, e.p, e.len);
			break;
		case DS_AGG_DISTINCT:
			while (wnext(&w, &e))
				ds_hash_put(&s->h, e.p, e.len, &isnew);
			break;
		case DS_AGG_TOP:
			while (wnext(&w, &e)) {
				if (!ds_json_get(e.p, e.len, &a->d[i].field,
				    &fv) || getnum(fv, &x) == -1)
					goto bad;
				topadd(&s->t, a->d[i].topn, x.ld, e.p, e.len);
			}
			break;
		}
	}
	return st;
bad:
	ds_agg_free(a, st);
	return NULL;
}

struct ds_aggst *
ds_groups_get(struct ds_groups *gs, const struct ds_aggs *a, const char *k,
    size_t n, int *isnew)
{
	struct ds_hent *e;
	struct ds_grp *g;

	e = ds_hash_put(&gs->h, k, n, isnew);
	if (!*isnew)
		return gs->g[(uintptr_t)e->val - 1].st;
	if (gs->n == gs->cap) {
		gs->cap = gs->cap ? gs->cap * 2 : 64;
		gs->g = ds_reallocarray(gs->g, gs->cap, sizeof(*gs->g));
	}
	g = &gs->g[gs->n++];
	g->key = e->key;
	g->klen = e->klen;
	g->st = ds_agg_new(a);
	e->val = (void *)(uintptr_t)gs->n;
	return g->st;
}

struct ds_grp *
ds_groups_next(struct ds_groups *gs, size_t *i)
{
	return *i < gs->n ? &gs->g[(*i)++] : NULL;
}

size_t
ds_groups_count(const struct ds_groups *gs)
{
	return gs->n;
}

void
ds_groups_drop_last(struct ds_groups *gs, const struct ds_aggs *a)
{
	struct ds_grp *g = &gs->g[gs->n - 1];
	struct ds_hent *e;

	ds_agg_free(a, g->st);
	if ((e = ds_hash_get(&gs->h, g->key, g->klen)) != NULL)
		ds_hash_del(&gs->h, e);
	gs->n--;
}

void
ds_groups_clear(struct ds_groups *gs, const struct ds_aggs *a)
{
	size_t i;

	for (i = 0; i < gs->n; i++)
		ds_agg_free(a, gs->g[i].st);
	gs->n = 0;
	ds_hash_clear(&gs->h);
}

void
ds_groups_free(struct ds_groups *gs, const struct ds_aggs *a)
{
	ds_groups_clear(gs, a);
	ds_hash_free(&gs->h);
	free(gs->g);
	gs->g = NULL;
	gs->cap = 0;
}

void
ds_group_emit(const struct ds_aggs *a, const struct ds_path *keys, int nkeys,
    const char *k, size_t klen, const struct ds_aggst *st, struct ds_buf *b)
{
	size_t at;

	ds_buf_addc(b, '{');
	if (nkeys > 0)
		ds_key_emit(k, klen, keys, nkeys, b);
	at = b->len;
	ds_agg_emit(a, st, b);
	if (nkeys == 0 && b->len > at) {
		/* no key members: drop the aggregates' leading comma */
		memmove(b->p + at, b->p + at + 1, b->len - at - 1);
		b->len--;
	}
	ds_buf_addc(b, '}');
}

int
ds_grouper_init(struct ds_grouper *gr, const struct ds_aggs *a,
    const struct ds_path *keys, int nkeys, char *ebuf, size_t errlen)
{
	size_t j;
	int i;

	memset(gr, 0, sizeof(*gr));
	gr->aggs = a;
	gr->nkeys = nkeys;
	/* an output field may not be both a key and an aggregate */
	for (i = 0; i < nkeys; i++)
		for (j = 0; j < (size_t)a->n; j++)
			if (strlen(a->d[j].name) == keys[i].klen[0] &&
			    memcmp(a->d[j].name, keys[i].key[0],
			    keys[i].klen[0]) == 0) {
				snprintf(ebuf, errlen, "aggregate name '%s' is "
				    "also a key field (use NAME=AGG)",
				    a->d[j].name);
				return -1;
			}
	gr->npaths = nkeys + (int)a->n;
	gr->paths = ds_reallocarray(NULL, gr->npaths + 1, sizeof(*gr->paths));
	gr->vals = ds_reallocarray(NULL, gr->npaths + 1, sizeof(*gr->vals));
	gr->found = ds_reallocarray(NULL, gr->npaths + 1, sizeof(*gr->found));
	for (i = 0; i < nkeys; i++)
		gr->paths[i] = &keys[i];
	for (j = 0; j < (size_t)a->n; j++)
		gr->paths[nkeys + j] = &a->d[j].field;
	/* the short cut: one key field, a top-level one needing no escape */
	gr->quick = nkeys == 1 && keys[0].n == 1 &&
	    strcmp(keys[0].key[0], "@ds") != 0;
	for (j = 0; gr->quick && j < keys[0].klen[0]; j++)
		gr->quick = keys[0].key[0][j] >= ' ' &&
		    keys[0].key[0][j] <= '~' && keys[0].key[0][j] != '"' &&
		    keys[0].key[0][j] != '\\';
	gr->js.paths = gr->paths;
	gr->js.npaths = gr->npaths;
	gr->js.v = gr->vals;
	gr->js.found = gr->found;
	return 0;
}

struct ds_jscan *
ds_grouper_scan(struct ds_grouper *gr)
{
	return &gr->js;
}

int
ds_grouper_quick(struct ds_grouper *gr, const char *rec, size_t len)
{
	const struct ds_path *k = gr->paths[0], *pa;
	int i;

	if (!gr->quick || !ds_json_pair(rec, len, k->key[0], k->klen[0],
	    &gr->vals[0]))
		return 0;
	gr->found[0] = 1;
	/* an aggregate's field finds the string where it is the key */
	for (i = 1; i < gr->npaths; i++) {
		pa = gr->paths[i];
		gr->found[i] = pa->n == 1 && pa->klen[0] == k->klen[0] &&
		    ds_sameb(pa->key[0], k->key[0], k->klen[0]);
		if (gr->found[i])
			gr->vals[i] = gr->vals[0];
	}
	gr->js.isobj = 1;
	gr->js.dskey = gr->js.hadws = 0;
	gr->js.err = NULL;
	gr->rawkey = 1;
	return 1;
}

int
ds_grouper_add(struct ds_grouper *gr, struct ds_groups *gs, const char *rec,
    size_t len, const char **why)
{
	struct ds_aggst *st;
	const char *k;
	size_t klen;
	int isnew, raw = gr->rawkey;

	gr->rawkey = 0;
	if (!gr->js.isobj && gr->nkeys > 0) {
		*why = "record is not an object (cannot take a key)";
		return -1;
	}
	if (raw) {
		/* a string without escapes is its own canonical key */
		k = gr->vals[0].p;
		klen = gr->vals[0].len;
	} else {
		ds_buf_clear(&gr->kbuf);
		if (ds_key_make_v(gr->vals, gr->found, gr->nkeys, &gr->kbuf,
		    why) == -1)
			return -1;
		k = gr->kbuf.p ? gr->kbuf.p : "";
		klen = gr->kbuf.len;
	}
	st = ds_groups_get(gs, gr->aggs, k, klen, &isnew);
	if (ds_agg_add_v(gr->aggs, st, rec, len, gr->vals + gr->nkeys,
	    gr->found + gr->nkeys, why) == -1) {
		if (isnew)
			ds_groups_drop_last(gs, gr->aggs);
		return -1;
	}
	return 0;
}

void
ds_grouper_free(struct ds_grouper *gr)
{
	free(gr->paths);
	free(gr->vals);
	free(gr->found);
	ds_buf_free(&gr->kbuf);
}
