/*
 * path.c -- path expressions (see exprint.h for the layers): jq's
 * path(f), which gives the paths f's outputs are at instead of the
 * outputs, and what is built on it: paths, .., del, getpath as a path,
 * and the assignments = |= += ... //=.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jq/exprint.h"

/* Continuation of a path expression: the path (an array) and its value. */
typedef int (*pkfn)(struct ds_expr *, struct val *path, struct val *v,
    void *);

static struct val *
pathadd(struct ds_expr *x, struct val *path, struct val *key)
{
	struct val *r = ev_arr(&x->a, path->n + 1);

	if (path->n)
		memcpy(r->u.a, path->u.a, path->n * sizeof(*r->u.a));
	r->u.a[path->n] = key;
	return r;
}

/*
 * The path of a value that is not at a path of the input (a literal, a
 * value some builtin computed): jq lets it through a path expression
 * and fails where something indexes it, or at the end.
 */
static struct val nopath = { .t = T_ARR };

/* v's JSON cut as jq cuts it in messages: at most size - 1 bytes, the
 * last 3 of them "..." when it is longer */
static const char *
cut(struct ds_expr *x, const struct val *v, size_t size)
{
	struct ds_buf b = { 0 };
	char *s;

	ev_print(&b, v);
	if (b.len > size - 1) {
		b.len = size - 4;
		ds_buf_adds(&b, "...");
	}
	s = ea_strdup(&x->a, b.p ? b.p : "", b.len);
	ds_buf_free(&b);
	return s;
}

/* jq's error when a path expression indexes a value not at a path */
static int
notpath(struct ds_expr *x, struct val *v, struct val *key)
{
	if (key == NULL)
		ex_err(x, "Invalid path expression near attempt to iterate "
		    "through %s", cut(x, v, 30));
	else
		ex_err(x, "Invalid path expression near attempt to access "
		    "element %s of %s", cut(x, key, 15), cut(x, v, 30));
	return ST_ERR;
}

/* ... and when such a value is where the path expression ends */
static int
notpathend(struct ds_expr *x, struct val *v)
{
	ex_err(x, "Invalid path expression with result %s", cut(x, v, 30));
	return ST_ERR;
}

struct pfr {
	const struct node *n;
	struct val	*in;
	struct env	*env;
	pkfn		 k;
	void		*ka;
	struct val	*path, *v;
};

static int evalpath(struct ds_expr *, const struct node *, struct val *,
    struct val *, struct env *, pkfn, void *);

static int
pk_field(struct ds_expr *x, struct val *path, struct val *v, void *arg)
{
	struct pfr *f = arg;
	struct val *c;

	if (path == &nopath)
		return notpath(x, v, f->n->v);
	if ((c = ex_index(x, v, f->n->v)) == NULL)
		return ST_ERR;
	return f->k(x, pathadd(x, path, f->n->v), c, f->ka);
}

static int
k_pindex(struct ds_expr *x, struct val *key, void *arg)
{
	struct pfr *f = arg;
	struct val *c;

	if (f->path == &nopath)
		return notpath(x, f->v, key);
	if ((c = ex_index(x, f->v, key)) == NULL)
		return ST_ERR;
	return f->k(x, pathadd(x, f->path, key), c, f->ka);
}

static int
pk_index(struct ds_expr *x, struct val *path, struct val *v, void *arg)
{
	struct pfr *f = arg;
	struct pfr g = *f;

	g.path = path;
	g.v = v;
	/* the index is computed from the term's input, as in jq */
	return ex_eval(x, f->n->b, f->in, f->env, k_pindex, &g);
}

/* .[m:n] as a path: the key {"start": m, "end": n}, as jq */
static int
pk_slice(struct ds_expr *x, struct val *path, struct val *v, void *arg)
{
	static struct val ks = EV_STRLIT("start");
	static struct val ke = EV_STRLIT("end");
	struct pfr *f = arg;
	struct val *from = &ev_null, *to = &ev_null, *key, *c;

	if ((f->n->b && (from = ex_eval1(x, f->n->b, f->in, f->env)) == NULL) ||
	    (f->n->c && (to = ex_eval1(x, f->n->c, f->in, f->env)) == NULL))
		return ST_ERR;
	key = ev_obj(&x->a, 2);
	ev_set(key, &ks, from);
	ev_set(key, &ke, to);
	if (path == &nopath)
		return notpath(x, v, key);
	if ((c = ex_slice(x, v, from, to)) == NULL)
		return ST_ERR;
	return f->k(x, pathadd(x, path, key), c, f->ka);
}

static int
pk_iter(struct ds_expr *x, struct val *path, struct val *v, void *arg)
{
	struct pfr *f = arg;
	uint32_t i;
	int r;

	if (path == &nopath)
		return notpath(x, v, NULL);
	if (v->t == T_ARR) {
		for (i = 0; i < v->n; i++)
			if ((r = f->k(x, pathadd(x, path, ev_num(&x->a, i)),
			    v->u.a[i], f->ka)) != 0)
				return r;
		return 0;
	}
	if (v->t == T_OBJ) {
		for (i = 0; i < v->n; i++)
			if ((r = f->k(x, pathadd(x, path, v->u.o[i].k),
			    v->u.o[i].v, f->ka)) != 0)
				return r;
		return 0;
	}
	ex_err(x, "Cannot iterate over %s", ex_desc(x, v));
	return ST_ERR;
}

static int
pk_pipe(struct ds_expr *x, struct val *path, struct val *v, void *arg)
{
	struct pfr *f = arg;

	return evalpath(x, f->n->b, v, path, f->env, f->k, f->ka);
}

struct ptry {
	pkfn	 k;
	void	*ka;
	int	 downstream;
};

static int
pk_try(struct ds_expr *x, struct val *path, struct val *v, void *arg)
{
	struct ptry *t = arg;
	int r;

	if ((r = t->k(x, path, v, t->ka)) != 0)
		t->downstream = 1;
	return r;
}

static int
k_pcond(struct ds_expr *x, struct val *c, void *arg)
{
	struct pfr *f = arg;
	const struct node *n = f->n;

	if (n->op == N_CALL)	/* select */
		return ev_truthy(c) ? f->k(x, f->path, f->in, f->ka) : 0;
	if (ev_truthy(c))
		return evalpath(x, n->b, f->in, f->path, f->env, f->k, f->ka);
	if (n->c != NULL)
		return evalpath(x, n->c, f->in, f->path, f->env, f->k, f->ka);
	return f->k(x, f->path, f->in, f->ka);
}

/* getpath(p) as a path: path + p */
static int
k_pgetpath(struct ds_expr *x, struct val *p, void *arg)
{
	struct pfr *f = arg;
	struct val *v, *r;
	uint32_t i;

	if (p->t != T_ARR) {
		ex_err(x, "Path must be specified as an array");
		return ST_ERR;
	}
	if ((v = ex_getpath(x, f->in, p)) == NULL)
		return ST_ERR;
	if (f->path == &nopath)
		return notpathend(x, v);
	r = f->path;
	for (i = 0; i < p->n; i++)
		r = pathadd(x, r, p->u.a[i]);
	return f->k(x, r, v, f->ka);
}

static int
k_pas(struct ds_expr *x, struct val *v, void *arg)
{
	struct pfr *f = arg;
	struct env e = { v, f->env, NULL, NULL };

	return evalpath(x, f->n->b, f->in, f->path, &e, f->k, f->ka);
}

/* the paths of .. : in itself, then everything under it, depth first */
static int
precurse(struct ds_expr *x, struct val *in, struct val *path, pkfn k,
    void *ka)
{
	uint32_t i;
	int r;

	/* paths are bounded by --max-depth: [paths] of a value n deep
	 * holds n*n/2 keys */
	if (ev_deep() || (path != NULL && (int)path->n > (x->maxdepth))) {
		ex_err(x, TOODEEP);
		return ST_ERR;
	}
	/* under a value at no path, jq's .[]? finds no paths */
	if ((r = k(x, path, in, ka)) != 0 || path == &nopath)
		return r;
	/* a NULL path (plain ..) builds none: paths cost depth squared */
	for (i = 0; in->t == T_ARR && i < in->n; i++)
		if ((r = precurse(x, in->u.a[i], path ? pathadd(x, path,
		    ev_num(&x->a, i)) : NULL, k, ka)) != 0)
			return r;
	for (i = 0; in->t == T_OBJ && i < in->n; i++)
		if ((r = precurse(x, in->u.o[i].v, path ? pathadd(x, path,
		    in->u.o[i].k) : NULL, k, ka)) != 0)
			return r;
	return 0;
}

static int
k_nopath(struct ds_expr *x, struct val *v, void *arg)
{
	struct pfr *f = arg;

	return f->k(x, &nopath, v, f->ka);
}

/*
 * The paths of a path expression (jq's path(f)) on in, which sits at
 * path: calls k with each path and the value there.
 */
static int
evalpath(struct ds_expr *x, const struct node *n, struct val *in,
    struct val *path, struct env *env, pkfn k, void *ka)
{
	struct pfr f = { n, in, env, k, ka, path, NULL };
	int rc;

	switch (n->op) {
	case N_DOT:
		return k(x, path, in, ka);
	case N_FIELD:
		return evalpath(x, n->a, in, path, env, pk_field, &f);
	case N_INDEX:
		return evalpath(x, n->a, in, path, env, pk_index, &f);
	case N_ITER:
		return evalpath(x, n->a, in, path, env, pk_iter, &f);
	case N_SLICE:
		return evalpath(x, n->a, in, path, env, pk_slice, &f);
	case N_PIPE:
		return evalpath(x, n->a, in, path, env, pk_pipe, &f);
	case N_COMMA:
		if ((rc = evalpath(x, n->a, in, path, env, k, ka)) != 0)
			return rc;
		return evalpath(x, n->b, in, path, env, k, ka);
	case N_TRY: {
		struct ptry t = { k, ka, 0 };

		rc = evalpath(x, n->a, in, path, env, pk_try, &t);
		if (rc != ST_ERR || t.downstream || n->b != NULL)
			return rc;
		x->errv = NULL;
		return 0;
	}
	case N_IF:
		return ex_eval(x, n->a, in, env, k_pcond, &f);
	case N_UCALL: {
		const struct node *body;
		struct env *e;

		if ((body = ex_callee(x, n, env, &e)) == NULL)
			return ST_ERR;
		return evalpath(x, body, in, path, e, k, ka);
	}
	case N_UP:
		return evalpath(x, n->a, in, path, ex_upframes(env, n->var), k,
		    ka);
	case N_AS:
		return ex_eval(x, n->a, in, env, k_pas, &f);
	case N_CALL:
		if (n->fn->kind == BK_SPECIAL && n->fn->special == SP_RECURSE)
			return precurse(x, in, path, k, ka);
		if (n->fn->kind == BK_SPECIAL && n->fn->special == SP_SELECT)
			return ex_eval(x, n->args[0], in, env, k_pcond, &f);
		if (n->fn->kind == BK_SPECIAL && n->fn->special == SP_EMPTY)
			return 0;
		if (n->fn->kind == BK_SPECIAL && n->fn->special == SP_GETPATH)
			return ex_eval(x, n->args[0], in, env, k_pgetpath, &f);
		break;
	default:
		break;
	}
	/* any other filter: its outputs are at no path */
	return ex_eval(x, n, in, env, k_nopath, &f);
}

static int
k_pathlist(struct ds_expr *x, struct val *path, struct val *v, void *arg)
{
	if (path == &nopath)
		return notpathend(x, v);
	ex_vladd(x, arg, path);
	return 0;
}



struct afr {
	const struct node *n;
	struct val	*in;
	struct env	*env;
	struct vlist	 paths;
	int		 havepaths;
	kfn		 k;
	void		*ka;
};

/* one assignment with the right-hand value rv (NULL for |=) */
static int
k_assign(struct ds_expr *x, struct val *rv, void *arg)
{
	struct afr *a = arg;
	struct val *acc = a->in, *old, *nv;
	struct vlist dels = { 0 };
	uint32_t i;

	/* the paths are taken at the first value of the right side (jq
	 * binds it first): no value, no path, no error */
	if (!a->havepaths) {
		if (evalpath(x, a->n->a, a->in, ev_arr(&x->a, 0), a->env,
		    k_pathlist, &a->paths) != 0)
			return ST_ERR;
		a->havepaths = 1;
	}
	for (i = 0; i < a->paths.n; i++) {
		struct val *p = a->paths.v[i];

		if ((old = ex_getpath(x, acc, p)) == NULL)
			return ST_ERR;
		switch (a->n->bop) {
		case B_SET:
			nv = rv;
			break;
		case B_UPDATE:
			/* the first output of the update; none: unchanged */
			nv = NULL;
			{
				struct stopfr s = { 0 };
				int rc;

				s.id = ++x->stopid;
				s.k = ex_keeplast;
				s.ka = &nv;
				s.limit = 1;
				rc = ex_eval(x, a->n->b, old, a->env, ex_first, &s);
				if (rc != 0 && !(rc == ST_STOP &&
				    x->stopping == s.id))
					return rc;
			}
			if (nv == NULL) {
				/* jq 1.7: no output deletes the path (all
				 * of them at the end) */
				ex_vladd(x, &dels, p);
				continue;
			}
			break;
		case B_ALTSET:
			nv = ev_truthy(old) ? old : rv;
			break;
		default:
			if ((nv = ex_arith(x, a->n->bop, old, rv)) == NULL)
				return ST_ERR;
		}
		if ((acc = ex_setpath(x, acc, p, nv)) == NULL)
			return ST_ERR;
	}
	if (dels.n > 0 && (acc = ex_delpaths(x, acc, ex_vlarray(x, &dels))) == NULL)
		return ST_ERR;
	return a->k(x, acc, a->ka);
}

int
ex_sp_assign(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct afr a = { .n = n, .in = in, .env = env, .k = k, .ka = ka };

	if (n->bop == B_UPDATE)
		return k_assign(x, NULL, &a);
	/* the right side sees the original input; each output is a result */
	return ex_eval(x, n->b, in, env, k_assign, &a);
}

struct pathsfr {
	kfn	 k;
	void	*ka;
	int	 nonempty;
};

static int
pk_emitpath(struct ds_expr *x, struct val *path, struct val *v, void *arg)
{
	struct pathsfr *p = arg;

	if (path == &nopath)
		return notpathend(x, v);
	if (p->nonempty && path->n == 0)
		return 0;
	return p->k(x, path, p->ka);
}


static int
k_getpath(struct ds_expr *x, struct val *p, void *arg)
{
	struct fr *f = arg;
	struct val *v;

	if (p->t != T_ARR) {
		ex_err(x, "Path must be specified as an array");
		return ST_ERR;
	}
	/* a path through nulls gives null; indexing anything else wrong
	 * is jq's error */
	if ((v = ex_getpath(x, f->in, p)) == NULL)
		return ST_ERR;
	return f->k(x, v, f->ka);
}

static int
k_delpaths(struct ds_expr *x, struct val *p, void *arg)
{
	struct fr *f = arg;
	struct val *v;

	if ((v = ex_delpaths(x, f->in, p)) == NULL)
		return ST_ERR;
	return f->k(x, v, f->ka);
}

static int
k_recurse(struct ds_expr *x, struct val *path, struct val *v, void *arg)
{
	struct fr *f = arg;

	return f->k(x, v, f->ka);
}


int
ex_sp_recurse(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct fr f = { .n = n, .in = in, .env = env, .k = k, .ka = ka };

	return precurse(x, in, NULL, k_recurse, &f);
}

/* path(f), and paths: every path in the input but [] */
int
ex_sp_path(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct pathsfr p = { k, ka, n->fn->special == SP_PATHS };

	if (n->fn->special == SP_PATHS)
		return precurse(x, in, ev_arr(&x->a, 0), pk_emitpath, &p);
	return evalpath(x, n->args[0], in, ev_arr(&x->a, 0), env,
	    pk_emitpath, &p);
}

int
ex_sp_del(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct vlist l = { 0 };
	struct val *v;

	if (evalpath(x, n->args[0], in, ev_arr(&x->a, 0), env, k_pathlist,
	    &l) != 0)
		return ST_ERR;
	if ((v = ex_delpaths(x, in, ex_vlarray(x, &l))) == NULL)
		return ST_ERR;
	return k(x, v, ka);
}

int
ex_sp_getpath(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct fr f = { .n = n, .in = in, .env = env, .k = k, .ka = ka };

	return ex_eval(x, n->args[0], in, env, k_getpath, &f);
}

int
ex_sp_delpaths(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct fr f = { .n = n, .in = in, .env = env, .k = k, .ka = ka };

	return ex_eval(x, n->args[0], in, env, k_delpaths, &f);
}
