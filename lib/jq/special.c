/*
 * special.c -- the builtins that take filters (see exprint.h for the
 * layers): select, map, sort_by and the other _by, first, last, limit,
 * isempty, map_values, any/all, sub and gsub.  Each runs its argument
 * filters through the evaluator; the evaluator finds them through
 * ex_specials[], the table at the end.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jq/exprint.h"

static int
k_select(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;

	if (ev_truthy(v))
		return f->k(x, f->in, f->ka);
	return 0;
}

/* The elements of an array with keys [f] (f's outputs collected). */
static struct sent *
keyed(struct ds_expr *x, const struct node *fnode, struct val *in,
    struct env *env, int *err)
{
	struct sent *s;
	uint32_t i;

	*err = 0;
	s = ea_alloc(&x->a, (in->n + 1) * sizeof(*s));
	for (i = 0; i < in->n; i++) {
		struct vlist l = { 0 };

		if (ex_eval(x, fnode, in->u.a[i], env, ex_collect, &l) != 0) {
			*err = 1;
			return NULL;
		}
		s[i].key = ex_vlarray(x, &l);
		s[i].v = in->u.a[i];
		s[i].i = i;
	}
	if (ex_sort(x, s, in->n) == -1) {
		*err = 1;
		return NULL;
	}
	return s;
}

static int
k_mapvals(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;

	f->v[0] = v;
	x->stopping = f->flag;
	return ST_STOP;
}

/* sub/gsub: build the result over the matches, the replacement's
 * outputs multiplying the results */
struct subfr {
	struct ds_expr	*x;
	const struct node *n;
	struct env	*env;
	struct val	*in;
	struct val	**m;
	int		 nm;
	kfn		 k;
	void		*ka;
	struct ds_buf	*acc;
	int		 i;
};

static int subrec(struct ds_expr *, struct subfr *, int i, size_t pre);

static int
k_sub(struct ds_expr *x, struct val *v, void *arg)
{
	struct subfr *s = arg;
	size_t pre = s->acc->len;
	int i = s->i, r;

	if (v->t != T_STR) {
		ex_err(x, "%s cannot be added to a string", ex_desc(x, v));
		return ST_ERR;
	}
	ds_buf_add(s->acc, v->u.s, v->n);
	r = subrec(x, s, i + 1, s->acc->len);
	s->acc->len = pre;
	s->i = i;
	return r;
}

static size_t
mbyte(struct val *in, struct val *m, const char *key)
{
	struct val *o = ev_get(m, key, strlen(key));

	return ex_cpoff(in->u.s, in->n, (int64_t)o->u.d);
}

static int
subrec(struct ds_expr *x, struct subfr *s, int i, size_t pre)
{
	size_t from, start;
	struct val *cap;

	(void)pre;
	/* the text between the previous match and this one */
	from = i == 0 ? 0 : mbyte(s->in, s->m[i - 1], "offset") +
	    (ex_cpoff(s->in->u.s + mbyte(s->in, s->m[i - 1], "offset"),
	    s->in->n - mbyte(s->in, s->m[i - 1], "offset"),
	    (int64_t)ev_get(s->m[i - 1], "length", 6)->u.d));
	if (i == s->nm) {
		struct val *r;

		ds_buf_add(s->acc, s->in->u.s + from, s->in->n - from);
		r = ev_str(&x->a, s->acc->p ? s->acc->p : "", s->acc->len);
		s->acc->len = pre;
		return s->k(x, r, s->ka);
	}
	start = mbyte(s->in, s->m[i], "offset");
	ds_buf_add(s->acc, s->in->u.s + from, start - from);
	cap = ex_capobj(x, s->m[i]);
	s->i = i;
	{
		int r = ex_eval(x, s->n->args[1], cap, s->env, k_sub, s);

		s->acc->len = pre;
		return r;
	}
}


/* first(f), limit(n; f) with the count v (NULL: first) */
static int
limit(struct ds_expr *x, struct fr *f, struct val *v)
{
	struct stopfr s = { 0 };
	int rc;

	s.id = ++x->stopid;
	s.k = f->k;
	s.ka = f->ka;
	s.limit = 1;
	if (v != NULL) {
		/* jq 1.7.1: 0 gives nothing; a count below 0, NaN or
		 * not a number (no count of outputs reaches a string)
		 * gives all of f */
		if (v->t == T_NUM && v->u.d == 0)
			return 0;
		if (v->t != T_NUM || !(v->u.d > 0))
			return ex_eval(x, f->n->args[f->n->nargs - 1], f->in,
			    f->env, f->k, f->ka);
		s.limit = v->u.d > 1e9 ? 1000000000 : (int)ceil(v->u.d);
	}
	rc = ex_eval(x, f->n->args[f->n->nargs - 1], f->in, f->env, ex_first, &s);
	if (rc == ST_STOP && x->stopping == s.id)
		return 0;
	return rc;
}

static int
k_limit(struct ds_expr *x, struct val *v, void *arg)
{
	return limit(x, arg, v);
}

/* sub/gsub with the regex f->v[0] and the flags fl (NULL: none) */
static int
k_subflags(struct ds_expr *x, struct val *fl, void *arg)
{
	struct fr *f = arg;
	struct subfr s;
	struct ds_buf acc = { 0 };
	struct val **m;
	int nm, rc;

	if (ex_match(x, f->in, f->v[0], fl, f->n->fn->special == SP_GSUB, &m,
	    &nm) != 0)
		return ST_ERR;
	memset(&s, 0, sizeof(s));
	s.n = f->n;
	s.env = f->env;
	s.in = f->in;
	s.m = m;
	s.nm = nm;
	s.k = f->k;
	s.ka = f->ka;
	s.acc = &acc;
	rc = subrec(x, &s, 0, 0);
	ds_buf_free(&acc);
	return rc;
}

static int
k_subre(struct ds_expr *x, struct val *re, void *arg)
{
	struct fr *f = arg;
	struct val *save = f->v[0];
	int rc;

	f->v[0] = re;
	if (f->n->nargs == 3)
		rc = ex_eval(x, f->n->args[2], f->in, f->env, k_subflags, f);
	else
		rc = k_subflags(x, NULL, f);
	f->v[0] = save;
	return rc;
}

static int
sp_empty(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	return 0;
}

/* error/0: the input is the error */
static int
sp_error(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	x->errv = in;
	return ST_ERR;
}

static int
sp_select(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct fr f = { .n = n, .in = in, .env = env, .k = k, .ka = ka };

	return ex_eval(x, n->args[0], in, env, k_select, &f);
}

/* map(f): f on each element */
static int
sp_map(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct vlist l = { 0 };
	struct val *v;
	uint32_t i;

	if (in->t != T_ARR && in->t != T_OBJ) {
		ex_err(x, "Cannot iterate over %s", ex_desc(x, in));
		return ST_ERR;
	}
	for (i = 0; i < in->n; i++) {
		v = in->t == T_ARR ? in->u.a[i] : in->u.o[i].v;
		if (ex_eval(x, n->args[0], v, env, ex_collect, &l) != 0)
			return ST_ERR;
	}
	if ((v = ex_depthchk(x, ex_vlarray(x, &l))) == NULL)
		return ST_ERR;
	return k(x, v, ka);
}

/* stops at the first output whose truth is f->i */
static int
k_anyall(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;

	if (ev_truthy(v) != f->i)
		return 0;
	x->stopping = f->flag;
	return ST_STOP;
}

/* any(f), all(f): jq's any(.[]; f), all(.[]; f), which stop at the
 * first output of f that decides */
static int
sp_anyall(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct fr f = { .i = n->fn->special == SP_ANYF };
	struct val *v;
	uint32_t i;
	int rc;

	if (in->t != T_ARR && in->t != T_OBJ) {
		ex_err(x, "Cannot iterate over %s", ex_desc(x, in));
		return ST_ERR;
	}
	f.flag = ++x->stopid;
	for (i = 0; i < in->n; i++) {
		v = in->t == T_ARR ? in->u.a[i] : in->u.o[i].v;
		rc = ex_eval(x, n->args[0], v, env, k_anyall, &f);
		if (rc == ST_STOP && x->stopping == f.flag)
			return k(x, ev_bool(f.i), ka);
		if (rc != 0)
			return rc;
	}
	return k(x, ev_bool(!f.i), ka);
}

/* map_values(f): the first output of f on each value, none deletes it */
static int
sp_mapvalues(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct fr f = { .n = n, .in = in, .env = env, .k = k, .ka = ka };
	struct val *r, *v;
	uint32_t i;
	int rc;

	if (in->t != T_ARR && in->t != T_OBJ) {
		ex_err(x, "Cannot iterate over %s", ex_desc(x, in));
		return ST_ERR;
	}
	r = in->t == T_ARR ? ev_arr(&x->a, in->n) : ev_obj(&x->a, in->n);
	r->n = 0;
	for (i = 0; i < in->n; i++) {
		v = in->t == T_ARR ? in->u.a[i] : in->u.o[i].v;
		f.flag = ++x->stopid;
		f.v[0] = NULL;
		rc = ex_eval(x, n->args[0], v, env, k_mapvals, &f);
		if (rc == ST_ERR || (rc != 0 && x->stopping != f.flag))
			return rc;
		if (f.v[0] == NULL)
			continue;
		if (in->t == T_ARR)
			r->u.a[r->n++] = f.v[0];
		else
			ev_set(r, in->u.o[i].k, f.v[0]);
	}
	return k(x, r, ka);
}

/* group_by(f), unique_by(f) over the sorted entries s */
static int
groups(struct ds_expr *x, const struct node *n, struct val *in,
    struct sent *s, kfn k, void *ka)
{
	struct vlist groups = { 0 }, cur;
	struct val *r;
	uint32_t i, j;

	for (i = 0; i < in->n; i = j) {
		memset(&cur, 0, sizeof(cur));
		for (j = i; j < in->n && ev_cmp(s[i].key, s[j].key) == 0;
		    j++) {
			if (ex_deepchk(x, &ev_null) == NULL)
				return ST_ERR;
			ex_vladd(x, &cur, s[j].v);
		}
		if (n->fn->special == SP_GROUPBY)
			ex_vladd(x, &groups, ex_vlarray(x, &cur));
		else
			ex_vladd(x, &groups, cur.v[0]);
	}
	if ((r = ex_depthchk(x, ex_vlarray(x, &groups))) == NULL)
		return ST_ERR;
	return k(x, r, ka);
}

/* sort_by, group_by, unique_by, min_by, max_by */
static int
sp_by(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct sent *s;
	struct val *r;
	uint32_t i;
	int err;

	if (in->t != T_ARR) {
		ex_err(x, "Cannot index %s with number", ex_typename(in));
		return ST_ERR;
	}
	if ((s = keyed(x, n->args[0], in, env, &err)) == NULL && err)
		return ST_ERR;
	switch (n->fn->special) {
	case SP_SORTBY:
		r = ev_arr(&x->a, in->n);
		for (i = 0; i < in->n; i++)
			r->u.a[i] = s[i].v;
		return k(x, r, ka);
	case SP_MINBY:
	case SP_MAXBY:
		if (in->n == 0)
			return k(x, &ev_null, ka);
		if (n->fn->special == SP_MINBY)
			return k(x, s[0].v, ka);
		/* the last of the equal maxima, as jq */
		return k(x, s[in->n - 1].v, ka);
	}
	return groups(x, n, in, s, k, ka);
}

static int
sp_first(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct fr f = { .n = n, .in = in, .env = env, .k = k, .ka = ka };

	return limit(x, &f, NULL);
}

/* limit(n; f): each count, outermost, limits its own run of f */
static int
sp_limit(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct fr f = { .n = n, .in = in, .env = env, .k = k, .ka = ka };

	return ex_eval(x, n->args[0], in, env, k_limit, &f);
}

static int
sp_last(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct val *v = &ev_null;

	if (ex_eval(x, n->args[0], in, env, ex_keeplast, &v) != 0)
		return ST_ERR;
	return k(x, v, ka);
}

static int
sp_isempty(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct stopfr s = { 0 };
	struct val *v = NULL;
	int rc;

	s.id = ++x->stopid;
	s.k = ex_keeplast;
	s.ka = &v;
	s.limit = 1;
	rc = ex_eval(x, n->args[0], in, env, ex_first, &s);
	if (rc != 0 && !(rc == ST_STOP && x->stopping == s.id))
		return rc;
	return k(x, ev_bool(v == NULL), ka);
}

/* sub, gsub: each regex, outermost, then each flags string */
static int
sp_sub(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct fr f = { .n = n, .in = in, .env = env, .k = k, .ka = ka };

	return ex_eval(x, n->args[0], in, env, k_subre, &f);
}

/* The builtins that take filters, by their SP_ id (exprfn.c's table). */
const spfn ex_specials[SP_MAX] = {
	[SP_EMPTY] = sp_empty,
	[SP_ERROR0] = sp_error,
	[SP_SELECT] = sp_select,
	[SP_MAP] = sp_map,
	[SP_ANYF] = sp_anyall,
	[SP_ALLF] = sp_anyall,
	[SP_MAPVALUES] = sp_mapvalues,
	[SP_SORTBY] = sp_by,
	[SP_GROUPBY] = sp_by,
	[SP_UNIQUEBY] = sp_by,
	[SP_MINBY] = sp_by,
	[SP_MAXBY] = sp_by,
	[SP_FIRSTF] = sp_first,
	[SP_LIMIT] = sp_limit,
	[SP_LASTF] = sp_last,
	[SP_ISEMPTY] = sp_isempty,
	[SP_SUB] = sp_sub,
	[SP_GSUB] = sp_sub,
	[SP_RECURSE] = ex_sp_recurse,
	[SP_PATH] = ex_sp_path,
	[SP_PATHS] = ex_sp_path,
	[SP_DEL] = ex_sp_del,
	[SP_GETPATH] = ex_sp_getpath,
	[SP_DELPATHS] = ex_sp_delpaths,
	[SP_ASSIGN] = ex_sp_assign,
};
