/*
 * eval.c -- the evaluator of the jq language (see exprint.h for the
 * layers), in continuation-passing style: ex_eval() calls its
 * continuation once per output, which gives jq's generator semantics
 * (0..n outputs, the cartesian order of jq's operators) without a VM.
 * Nodes marked single at compile time run through ex_eval1(), a direct
 * function call chain with no continuation: that is the hot path
 * (`select(.app=="live") | {user,bytes}`).
 *
 * Values live in an arena reset after each record (exprval.c).  The
 * program `.` alone prints a line that is already in jq -c's form as it
 * is, without building a tree.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "jq/exprint.h"

static int evalg(struct ds_expr *, const struct node *, struct val *,
    struct env *, kfn, void *);

static struct val *
lookup(struct env *env, int up)
{
	while (up-- > 0)
		env = env->up;
	return env->v;
}

struct env *
ex_upframes(struct env *env, int up)
{
	while (up-- > 0)
		env = env->up;
	return env;
}

int
ex_keeplast(struct ds_expr *x, struct val *v, void *arg)
{
	*(struct val **)arg = v;
	return 0;
}

int
ex_collect(struct ds_expr *x, struct val *v, void *arg)
{
	ex_vladd(x, arg, v);
	return 0;
}

int
ex_first(struct ds_expr *x, struct val *v, void *arg)
{
	struct stopfr *s = arg;
	int r;

	if (s->limit >= 0 && s->count >= s->limit)
		goto stop;
	s->count++;
	if ((r = s->k(x, v, s->ka)) != 0)
		return r;
	if (s->limit >= 0 && s->count < s->limit)
		return 0;
stop:
	x->stopping = s->id;
	return ST_STOP;
}

/* Evaluate a single node's children and apply a value builtin. */
static struct val *
callval(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env)
{
	struct val *argv[8];
	int i;

	for (i = 0; i < n->nargs; i++)
		if ((argv[i] = ex_eval1(x, n->args[i], in, env)) == NULL)
			return NULL;
	return ex_deepchk(x, n->fn->val(x, in, argv));
}

static struct val *
buildobj(struct ds_expr *x, const struct node *n, struct val **kv)
{
	struct val *o = ev_obj(&x->a, n->nargs / 2);
	int i;

	for (i = 0; i < n->nargs; i += 2) {
		if (kv[i]->t != T_STR)
			return ex_err(x, "Object keys must be strings");
		ev_set(o, kv[i], kv[i + 1]);
	}
	return ex_depthchk(x, o);
}

static struct val *
buildstr(struct ds_expr *x, const struct node *n, struct val **parts)
{
	struct ds_buf b = { 0 };
	struct val *r;
	int i;

	for (i = 0; i < n->nargs; i++) {
		struct val *v = parts[i];

		if (n->fmt != 0 && !n->args[i]->segment &&
		    (v = ex_format(x, n->fmt, v)) == NULL) {
			ds_buf_free(&b);
			return NULL;
		}
		if (v->t == T_STR)
			ds_buf_add(&b, v->u.s, v->n);
		else if (ev_print(&b, v) == -1) {
			ds_buf_free(&b);
			return ex_err(x, TOODEEP);
		}
	}
	r = ev_str(&x->a, b.p ? b.p : "", b.len);
	ds_buf_free(&b);
	return r;
}

/* An object or string of single parts (its own frame: the parts array
 * would weigh on every level of a recursion through eval1) */
static __attribute__((noinline)) struct val *
eval1parts(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env)
{
	struct val *parts[256];
	int i;

	for (i = 0; i < n->nargs; i++)
		if ((parts[i] = ex_eval1(x, n->args[i], in, env)) == NULL)
			return NULL;
	if (n->op == N_OBJ)
		return buildobj(x, n, parts);
	return buildstr(x, n, parts);
}

/*
 * The fast path: a node marked single gives exactly one value, or NULL
 * with x->errv set.
 */
struct val *
ex_eval1(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env)
{
	struct val *a, *b, *c;

	switch (n->op) {
	case N_DOT:
		return in;
	case N_LIT:
		return n->v;
	case N_FIELD:
		if ((a = n->a->op == N_DOT ? in : ex_eval1(x, n->a, in, env)) ==
		    NULL)
			return NULL;
		if (a->t == T_OBJ) {
			b = ev_get(a, n->v->u.s, n->v->n);
			return b ? b : &ev_null;
		}
		return ex_index(x, a, n->v);
	case N_INDEX:
		if ((a = ex_eval1(x, n->a, in, env)) == NULL ||
		    (b = ex_eval1(x, n->b, in, env)) == NULL)
			return NULL;
		return ex_index(x, a, b);
	case N_SLICE:
		if ((a = ex_eval1(x, n->a, in, env)) == NULL)
			return NULL;
		b = c = &ev_null;
		if (n->b && (b = ex_eval1(x, n->b, in, env)) == NULL)
			return NULL;
		if (n->c && (c = ex_eval1(x, n->c, in, env)) == NULL)
			return NULL;
		return ex_slice(x, a, b, c);
	case N_PIPE:
		if ((a = ex_eval1(x, n->a, in, env)) == NULL)
			return NULL;
		return ex_eval1(x, n->b, a, env);
	case N_AS: {
		struct env e = { NULL, env, NULL, NULL };

		if ((e.v = ex_eval1(x, n->a, in, env)) == NULL)
			return NULL;
		return ex_eval1(x, n->b, in, &e);
	}
	case N_UP:
		return ex_eval1(x, n->a, in, ex_upframes(env, n->var));
	case N_NEG:
		if ((a = ex_eval1(x, n->a, in, env)) == NULL)
			return NULL;
		if (a->t != T_NUM)
			return ex_err(x, "%s cannot be negated", ex_desc(x, a));
		return ev_num(&x->a, -a->u.d);
	case N_BIN:
		if ((b = ex_eval1(x, n->b, in, env)) == NULL ||
		    (a = ex_eval1(x, n->a, in, env)) == NULL)
			return NULL;
		return ex_arith(x, n->bop, a, b);
	case N_AND:
	case N_OR:
		if ((a = ex_eval1(x, n->a, in, env)) == NULL)
			return NULL;
		if (n->op == N_AND ? !ev_truthy(a) : ev_truthy(a))
			return ev_bool(n->op == N_OR);
		if ((b = ex_eval1(x, n->b, in, env)) == NULL)
			return NULL;
		return ev_bool(ev_truthy(b));
	case N_ALT:
		/* jq 1.6: an error on the left is not suppressed */
		if ((a = ex_eval1(x, n->a, in, env)) == NULL)
			return NULL;
		if (ev_truthy(a))
			return a;
		return ex_eval1(x, n->b, in, env);
	case N_IF:
		if ((a = ex_eval1(x, n->a, in, env)) == NULL)
			return NULL;
		if (ev_truthy(a))
			return ex_eval1(x, n->b, in, env);
		return n->c ? ex_eval1(x, n->c, in, env) : in;
	case N_OBJ:
	case N_STRI:
		return eval1parts(x, n, in, env);
	case N_ARR: {
		struct vlist l = { 0 };

		if (n->a != NULL &&
		    ex_eval(x, n->a, in, env, ex_collect, &l) != 0)
			return NULL;
		return ex_depthchk(x, ex_vlarray(x, &l));
	}
	case N_VAR:
		return lookup(env, n->var);
	case N_GVAR:
		return x->globals[n->var];
	case N_CALL:
		if (n->fn->kind == BK_VAL)
			return callval(x, n, in, env);
		/* FALLTHROUGH */
	default:
		a = NULL;
		if (evalg(x, n, in, env, ex_keeplast, &a) != 0)
			return NULL;
		return a;
	}
}

int
ex_eval(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct val *v;

	if (n->single) {
		if ((v = ex_eval1(x, n, in, env)) == NULL)
			return ST_ERR;
		return k(x, v, ka);
	}
	return evalg(x, n, in, env, k, ka);
}

static int
k_pipe(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;

	return ex_eval(x, f->n->b, v, f->env, f->k, f->ka);
}

static int
k_field(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;
	struct val *r;

	if ((r = ex_index(x, v, f->n->v)) == NULL)
		return ST_ERR;
	return f->k(x, r, f->ka);
}

static int
k_iter(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;
	uint32_t i;
	int r;

	if (v->t == T_ARR) {
		for (i = 0; i < v->n; i++)
			if ((r = f->k(x, v->u.a[i], f->ka)) != 0)
				return r;
		return 0;
	}
	if (v->t == T_OBJ) {
		for (i = 0; i < v->n; i++)
			if ((r = f->k(x, v->u.o[i].v, f->ka)) != 0)
				return r;
		return 0;
	}
	ex_err(x, "Cannot iterate over %s", ex_desc(x, v));
	return ST_ERR;
}

/* index/slice: base outer, then b, then c */
static int
k_idx3(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;
	struct val *r;

	f->v[2] = v;
	r = f->n->op == N_SLICE ? ex_slice(x, f->v[0], f->v[1], f->v[2]) :
	    ex_index(x, f->v[0], f->v[1]);
	if (r == NULL)
		return ST_ERR;
	return f->k(x, r, f->ka);
}

static int
k_idx2(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;

	f->v[1] = v;
	if (f->n->op == N_SLICE && f->n->c != NULL)
		return ex_eval(x, f->n->c, f->in, f->env, k_idx3, f);
	return k_idx3(x, &ev_null, f);
}

static int
k_idx1(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;

	f->v[0] = v;
	if (f->n->b != NULL)
		return ex_eval(x, f->n->b, f->in, f->env, k_idx2, f);
	return k_idx2(x, &ev_null, f);
}

static int
k_bin2(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;
	struct val *r;

	if ((r = ex_arith(x, f->n->bop, v, f->v[0])) == NULL)
		return ST_ERR;
	return f->k(x, r, f->ka);
}

static int
k_bin1(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;
	struct val *save = f->v[0];
	int r;

	f->v[0] = v;
	r = ex_eval(x, f->n->a, f->in, f->env, k_bin2, f);
	f->v[0] = save;
	return r;
}

static int
k_neg(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;

	if (v->t != T_NUM) {
		ex_err(x, "%s cannot be negated", ex_desc(x, v));
		return ST_ERR;
	}
	return f->k(x, ev_num(&x->a, -v->u.d), f->ka);
}

static int
k_andor2(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;

	return f->k(x, ev_bool(ev_truthy(v)), f->ka);
}

static int
k_andor1(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;

	if (f->n->op == N_AND ? !ev_truthy(v) : ev_truthy(v))
		return f->k(x, ev_bool(f->n->op == N_OR), f->ka);
	return ex_eval(x, f->n->b, f->in, f->env, k_andor2, f);
}

static int
k_alt(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;

	if (!ev_truthy(v))
		return 0;
	f->i++;
	return f->k(x, v, f->ka);
}

static int
k_if(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;

	if (ev_truthy(v))
		return ex_eval(x, f->n->b, f->in, f->env, f->k, f->ka);
	if (f->n->c != NULL)
		return ex_eval(x, f->n->c, f->in, f->env, f->k, f->ka);
	return f->k(x, f->in, f->ka);
}

static int
k_as(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;
	struct env e = { v, f->env, NULL, NULL };

	return ex_eval(x, f->n->b, f->in, &e, f->k, f->ka);
}

/* cartesian products over parts (args of a call, pieces of a string,
 * object members): f->i counts down from the last part (outermost) */
static int cart(struct ds_expr *, struct fr *, int i);

static int
k_cart(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;
	int i = f->i, r;

	f->parts[i] = v;
	r = cart(x, f, i - 1);
	f->i = i;
	return r;
}

static int k_objcart(struct ds_expr *, struct val *, void *);

static int
cart(struct ds_expr *x, struct fr *f, int i)
{
	struct val *r;
	const struct node *n = f->n;

	if (i < 0) {
		if (n->op == N_STRI)
			r = buildstr(x, n, f->parts);
		else
			r = ex_deepchk(x, n->fn->val(x, f->in, f->parts));
		if (r == NULL)
			return ST_ERR;
		return f->k(x, r, f->ka);
	}
	f->i = i;
	return ex_eval(x, n->args[i], f->in, f->env, k_cart, f);
}

/* object members: first member outermost, key before value */
static int
objcart(struct ds_expr *x, struct fr *f, int i)
{
	struct val *r;

	if (i == f->n->nargs) {
		if ((r = buildobj(x, f->n, f->parts)) == NULL)
			return ST_ERR;
		return f->k(x, r, f->ka);
	}
	f->i = i;
	return ex_eval(x, f->n->args[i], f->in, f->env, k_objcart, f);
}

static int
k_objcart(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;
	int i = f->i, r;

	f->parts[i] = v;
	r = objcart(x, f, i + 1);
	f->i = i;
	return r;
}

/* generator builtins with value arguments: args cartesian, then gen() */
static int gencart(struct ds_expr *, struct fr *, int);

/* argument i of a generator: the last is outermost, as for jq's C
 * functions, unless the builtin is defined in jq with $params (range) */
static int
genarg(const struct node *n, int i)
{
	return n->fn->special ? n->nargs - 1 - i : i;
}

static int
k_gencart(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;
	int i = f->i, r;

	f->parts[genarg(f->n, i)] = v;
	r = gencart(x, f, i - 1);
	f->i = i;
	return r;
}

static int
gencart(struct ds_expr *x, struct fr *f, int i)
{
	if (i < 0)
		return f->n->fn->gen(x, f->in, f->parts, f->k, f->ka);
	f->i = i;
	return ex_eval(x, f->n->args[genarg(f->n, i)], f->in, f->env, k_gencart,
	    f);
}

/* try: errors raised downstream (by our continuation) pass through */
struct tryfr {
	kfn	 k;
	void	*ka;
	int	 downstream;
};

static int
k_try(struct ds_expr *x, struct val *v, void *arg)
{
	struct tryfr *t = arg;
	int r;

	if ((r = t->k(x, v, t->ka)) != 0)
		t->downstream = 1;
	return r;
}

/* reduce / foreach */
struct redfr {
	const struct node *n;
	struct val	*acc;
	struct val	*in;
	struct env	*env;
	kfn		 k;
	void		*ka;
	int		 got;
};

static int
k_last(struct ds_expr *x, struct val *v, void *arg)
{
	struct redfr *r = arg;

	if ((r->acc = ex_depthchk(x, v)) == NULL)
		return ST_ERR;
	r->got = 1;
	return 0;
}

static int
k_reduce(struct ds_expr *x, struct val *v, void *arg)
{
	struct redfr *r = arg;
	struct env e = { v, r->env, NULL, NULL };

	r->got = 0;
	if (ex_eval(x, r->n->c, r->acc, &e, k_last, r) != 0)
		return ST_ERR;
	if (!r->got)
		r->acc = &ev_null;
	return 0;
}

struct fefr {
	struct redfr	*r;
	struct env	*e;
};

static int
k_foreach2(struct ds_expr *x, struct val *v, void *arg)
{
	struct fefr *f = arg;
	struct redfr *r = f->r;

	if ((r->acc = ex_depthchk(x, v)) == NULL)
		return ST_ERR;
	if (r->n->d != NULL)
		return ex_eval(x, r->n->d, v, f->e, r->k, r->ka);
	return r->k(x, v, r->ka);
}

static int
k_foreach(struct ds_expr *x, struct val *v, void *arg)
{
	struct redfr *r = arg;
	struct env e = { v, r->env, NULL, NULL };
	struct fefr f = { r, &e };

	return ex_eval(x, r->n->c, r->acc, &e, k_foreach2, &f);
}

static int
k_init(struct ds_expr *x, struct val *v, void *arg)
{
	struct redfr *r = arg;
	int rc;

	r->acc = v;
	if (r->n->op == N_REDUCE) {
		if ((rc = ex_eval(x, r->n->a, r->in, r->env, k_reduce, r)) != 0)
			return rc;
		return r->k(x, r->acc, r->ka);
	}
	return ex_eval(x, r->n->a, r->in, r->env, k_foreach, r);
}


/*
 * A call of a def (n->d) or of a filter parameter: the body runs in the
 * definition's environment with the arguments as closures over the
 * caller's.  Returns the body with its environment in *ep, or NULL
 * (too deep).  path.c runs it as a path expression.
 */
const struct node *
ex_callee(struct ds_expr *x, const struct node *n, struct env *env,
    struct env **ep)
{
	struct env *fr, *e = ex_upframes(env, n->var);
	int i;

	if (ev_deep()) {
		ex_err(x, TOODEEP);
		return NULL;
	}
	if (n->d == NULL) {
		*ep = e->fenv;
		return e->fn;
	}
	/* the frames in the arena: a recursion must not carry them */
	fr = ea_alloc(&x->a, (n->nargs + 1) * sizeof(*fr));
	for (i = 0; i < n->nargs; i++) {
		fr[i].v = NULL;
		fr[i].up = i ? &fr[i - 1] : e;
		fr[i].fn = n->args[i];
		fr[i].fenv = env;
	}
	*ep = n->nargs ? &fr[n->nargs - 1] : e;
	return n->d->a;
}

/* a // b: the left side's truthy outputs as they come, or the right
 * side's; an error on the left is not suppressed (jq 1.6), the outputs
 * before it stand */
static int
ev_alt(struct ds_expr *x, struct fr *f)
{
	const struct node *n = f->n;
	int rc;

	f->i = 0;
	if ((rc = ex_eval(x, n->a, f->in, f->env, k_alt, f)) != 0)
		return rc;
	if (f->i == 0)
		return ex_eval(x, n->b, f->in, f->env, f->k, f->ka);
	return 0;
}

/* try a catch b, and a? */
static int
ev_try(struct ds_expr *x, struct fr *f)
{
	const struct node *n = f->n;
	struct tryfr t = { f->k, f->ka, 0 };
	struct val *e;
	int rc;

	rc = ex_eval(x, n->a, f->in, f->env, k_try, &t);
	if (rc != ST_ERR || t.downstream)
		return rc;
	if (x->errv != NULL && x->errv->t == T_OBJ &&
	    ev_get(x->errv, "__jq", 4) != NULL)
		return rc;	/* break: not catchable */
	if (n->b == NULL) {
		x->errv = NULL;
		return 0;
	}
	e = x->errv ? x->errv : &ev_null;
	x->errv = NULL;
	return ex_eval(x, n->b, e, f->env, f->k, f->ka);
}

/* P1 ?// P2 ...: an error in an alternative (not in k) tries the next */
static int
ev_destalt(struct ds_expr *x, struct fr *f)
{
	const struct node *n = f->n;
	struct tryfr t = { f->k, f->ka, 0 };
	int i, rc, last = n->nargs - 1;

	for (i = 0; i < last; i++) {
		t.downstream = 0;
		rc = ex_eval(x, n->args[i], f->in, f->env, k_try, &t);
		if (rc != ST_ERR || t.downstream)
			return rc;
		x->errv = NULL;
	}
	return ex_eval(x, n->args[last], f->in, f->env, f->k, f->ka);
}

/* label $name | a: a frame holds this run's id; break $name is an
 * error no try catches, ended by its label */
static int
ev_label(struct ds_expr *x, struct fr *f)
{
	static struct val kjq = EV_STRLIT("__jq");
	struct env e = { NULL, f->env, NULL, NULL };
	struct val *id, *o;
	int rc;

	if (f->n->op == N_BREAK) {
		o = ev_obj(&x->a, 1);
		ev_set(o, &kjq, ex_upframes(f->env, f->n->var)->v);
		x->errv = o;
		return ST_ERR;
	}
	e.v = ev_num(&x->a, ++x->stopid);
	rc = ex_eval(x, f->n->a, f->in, &e, f->k, f->ka);
	if (rc == ST_ERR && x->errv != NULL && x->errv->t == T_OBJ &&
	    (id = ev_get(x->errv, "__jq", 4)) != NULL &&
	    ev_cmp(id, e.v) == 0) {
		x->errv = NULL;
		return 0;
	}
	return rc;
}

/* a call of a builtin (specials through their table) or of a def */
static int
ev_call(struct ds_expr *x, struct fr *f)
{
	const struct node *n = f->n, *body;
	struct env *e;

	if (n->op == N_UCALL) {
		if ((body = ex_callee(x, n, f->env, &e)) == NULL)
			return ST_ERR;
		return ex_eval(x, body, f->in, e, f->k, f->ka);
	}
	switch (n->fn->kind) {
	case BK_VAL:
		return cart(x, f, n->nargs - 1);
	case BK_GEN:
		return gencart(x, f, n->nargs - 1);
	case BK_SPECIAL:
		break;
	}
	return ex_specials[n->fn->special](x, n, f->in, f->env, f->k, f->ka);
}

/* Any node: calls k with each output. */
static int
evalg(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct fr f;
	struct val *v;
	int rc;

	if (ev_deep()) {
		ex_err(x, TOODEEP);
		return ST_ERR;
	}
	f.n = n;
	f.in = in;
	f.env = env;
	f.k = k;
	f.ka = ka;
	/* the parts of a cartesian product (the arena: a recursion through
	 * evalg must not carry them on the stack) */
	f.parts = n->nargs ? ea_alloc(&x->a, n->nargs * sizeof(*f.parts)) :
	    NULL;
	switch (n->op) {
	case N_DOT:
		return k(x, in, ka);
	case N_LIT:
		return k(x, n->v, ka);
	case N_VAR:
		return k(x, lookup(env, n->var), ka);
	case N_GVAR:
		return k(x, x->globals[n->var], ka);
	case N_FIELD:
		return ex_eval(x, n->a, in, env, k_field, &f);
	case N_INDEX:
	case N_SLICE:
		return ex_eval(x, n->a, in, env, k_idx1, &f);
	case N_ITER:
		return ex_eval(x, n->a, in, env, k_iter, &f);
	case N_PIPE:
		return ex_eval(x, n->a, in, env, k_pipe, &f);
	case N_COMMA:
		if ((rc = ex_eval(x, n->a, in, env, k, ka)) != 0)
			return rc;
		return ex_eval(x, n->b, in, env, k, ka);
	case N_NEG:
		return ex_eval(x, n->a, in, env, k_neg, &f);
	case N_BIN:
		f.v[0] = NULL;
		return ex_eval(x, n->b, in, env, k_bin1, &f);
	case N_AND:
	case N_OR:
		return ex_eval(x, n->a, in, env, k_andor1, &f);
	case N_ALT:
		return ev_alt(x, &f);
	case N_IF:
		return ex_eval(x, n->a, in, env, k_if, &f);
	case N_AS:
		return ex_eval(x, n->a, in, env, k_as, &f);
	case N_OBJ:
		return objcart(x, &f, 0);
	case N_STRI:
		return cart(x, &f, n->nargs - 1);
	case N_ARR:
		v = ex_eval1(x, n, in, env);
		return v == NULL ? ST_ERR : k(x, v, ka);
	case N_TRY:
		return ev_try(x, &f);
	case N_REDUCE:
	case N_FOREACH: {
		struct redfr r = { n, NULL, in, env, k, ka, 0 };

		return ex_eval(x, n->b, in, env, k_init, &r);
	}
	case N_ASSIGN:
		return ex_specials[SP_ASSIGN](x, n, in, env, k, ka);
	case N_UP:
		return ex_eval(x, n->a, in, ex_upframes(env, n->var), k, ka);
	case N_DESTALT:
		return ev_destalt(x, &f);
	case N_LABEL:
	case N_BREAK:
		return ev_label(x, &f);
	case N_CALL:
	case N_UCALL:
		return ev_call(x, &f);
	case N_DEF:
		break;
	}
	ex_err(x, "internal error: bad node");
	return ST_ERR;
}

/* The stack a run may use: the limit less room for what does not check */
static size_t
stackbudget(void)
{
	static size_t budget;
	struct rlimit rl;
	size_t lim = 8 << 20;

	if (budget == 0) {
		if (getrlimit(RLIMIT_STACK, &rl) == 0 &&
		    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < lim)
			lim = rl.rlim_cur;
		budget = lim > (4 << 20) ? lim - (2 << 20) : lim / 2;
	}
	return budget;
}

static int
k_emit(struct ds_expr *x, struct val *v, void *arg)
{
	ds_buf_clear(&x->out);
	if (ev_print(&x->out, v) == -1) {
		ex_err(x, "value nested too deeply to print");
		return ST_ERR;
	}
	x->emit(x->emitarg, x->out.p, x->out.len);
	return 0;
}

int
ds_expr_run(struct ds_expr *x, const char *in, size_t len,
    void (*emit)(void *arg, const char *out, size_t outlen), void *arg,
    const char **errmsg)
{
	struct val *v;
	int rc;

	ea_reset(&x->a);
	x->errv = NULL;
	ev_toodeep = 0;
	ev_stacklow = (uintptr_t)__builtin_frame_address(0) - stackbudget();
	if (x->identity && ev_canonical(in, len, x->maxdepth)) {
		emit(arg, in, len);
		return 0;
	}
	if ((v = ev_parse(&x->a, in, len, x->maxdepth, x->errmsg,
	    sizeof(x->errmsg))) == NULL) {
		*errmsg = x->errmsg;
		return -1;
	}
	x->emit = emit;
	x->emitarg = arg;
	rc = ex_eval(x, x->root, v, NULL, k_emit, NULL);
	if (rc == 0 || rc == ST_STOP)
		return 0;
	if (x->errv == NULL)
		snprintf(x->errmsg, sizeof(x->errmsg), "error");
	else if (x->errv->t == T_STR)
		snprintf(x->errmsg, sizeof(x->errmsg), "%.*s",
		    (int)x->errv->n, x->errv->u.s);
	else {
		struct ds_buf b = { 0 };

		ev_print(&b, x->errv);
		snprintf(x->errmsg, sizeof(x->errmsg), "%.*s (not a string)",
		    (int)b.len, b.p);
		ds_buf_free(&b);
	}
	*errmsg = x->errmsg;
	return -1;
}

