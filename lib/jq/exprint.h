/*
 * exprint.h -- private to lib/expr*.c: the value representation of the
 * jq-subset language shared by the parser/evaluator (expr.c), the values
 * and JSON code (exprval.c) and the builtins (exprfn.c).  Not part of
 * libds's public API (that is the expr.c section of ds.h).
 */
#ifndef EXPRINT_H
#define EXPRINT_H

#include <stdint.h>

/* Type tags in jq's sort order. */
enum { T_NULL, T_FALSE, T_TRUE, T_NUM, T_STR, T_ARR, T_OBJ };

/*
 * A value.  Values live in an arena and are immutable once built.
 * STR: u.s[0..n) (not NUL-terminated when it points into a line), safe
 * when printing needs no escaping.  NUM: safe when it is a struct numlit.  ARR: u.a[0..n).  OBJ: u.o[0..n) in
 * insertion order, keys are STR values.
 */
struct val {
	uint8_t		 t;
	uint8_t		 safe;
	uint32_t	 n;
	union {
		double		 d;
		const char	*s;
		struct val	**a;
		struct kv	*o;
	} u;
};

/* A number read as a long integer: safe set, printed as its text */
struct numlit {
	struct val	 v;
	const char	*s;
	size_t		 n;
};

struct kv {
	struct val	*k;
	struct val	*v;
};

struct achunk;
struct arena {
	struct achunk	*head, *cur;
	char		*p, *e;
};

extern struct val ev_null, ev_false, ev_true;

void	*ea_alloc(struct arena *, size_t);
void	 ea_reset(struct arena *);
void	 ea_free(struct arena *);
char	*ea_strdup(struct arena *, const char *, size_t);

struct val *ev_num(struct arena *, double);
struct val *ev_strref(struct arena *, const char *, size_t, int safe);
struct val *ev_str(struct arena *, const char *, size_t);
struct val *ev_arr(struct arena *, uint32_t n);
struct val *ev_obj(struct arena *, uint32_t cap);
struct val *ev_bool(int);
struct val *ev_get(const struct val *o, const char *k, size_t n);
void	 ev_set(struct val *o, struct val *k, struct val *v);
struct val *ev_objcopy(struct arena *, const struct val *, uint32_t extra);
struct kv *ev_sorted(struct arena *, const struct val *o);

size_t	 ev_utf8len(const unsigned char *, size_t);
size_t	 ev_putcp(char *, unsigned cp);

/* Parse one JSON value (validating); NULL with a message in msg. */
struct val *ev_parse(struct arena *, const char *p, size_t len,
	    int maxdepth, char *msg, size_t msglen);
int	 ev_canonical(const char *p, size_t len, int maxdepth);
/* Print compactly as jq -c; -1 (output cut) when nested too deep. */
int	 ev_print(struct ds_buf *, const struct val *);
void	 ev_addq(struct ds_buf *, const char *, size_t);
void	 ev_addnum(struct ds_buf *, double);
int	 ev_cmp(const struct val *, const struct val *);

/*
 * Recursion on values built at run time and in the evaluator is bounded
 * by the stack: below ev_stacklow (set per run by ds_expr_run, 0: no
 * bound) it is too deep.  Code that cannot report an error (ev_cmp) sets
 * ev_toodeep instead; ex_deepchk() turns that into the run's error.
 */
extern uintptr_t ev_stacklow;
extern int ev_toodeep;

static inline int
ev_deep(void)
{
	return (uintptr_t)__builtin_frame_address(0) < ev_stacklow;
}

#define ev_truthy(v)	((v)->t > T_FALSE)

/* A double as an int64, clamped (NaN is 0): casts out of range are UB. */
static inline int64_t
ex_dtoi(double d)
{
	if (d != d)
		return 0;
	if (d >= 9.2e18)
		return INT64_MAX;
	if (d <= -9.2e18)
		return INT64_MIN;
	return (int64_t)d;
}

/* ------------------------------------------------ compiler and runtime */

#include "jq/jq.h"

enum nop {
	N_DOT, N_LIT, N_FIELD, N_INDEX, N_SLICE, N_ITER, N_PIPE, N_COMMA,
	N_NEG, N_BIN, N_AND, N_OR, N_ALT, N_IF, N_OBJ, N_ARR, N_STRI, N_VAR,
	N_GVAR, N_AS, N_REDUCE, N_FOREACH, N_TRY, N_CALL, N_ASSIGN,
	N_DEF, N_UCALL, N_UP, N_DESTALT, N_LABEL, N_BREAK
};

/* binary operators (N_BIN) */
enum { B_ADD, B_SUB, B_MUL, B_DIV, B_MOD, B_EQ, B_NE, B_LT, B_LE, B_GT,
	B_GE,
	B_SET, B_UPDATE, B_ALTSET };

struct ds_expr;
/*
 * A run-time frame: a variable's value, or a filter parameter (fn, the
 * argument, run in fenv, the caller's environment).
 */
struct env {
	struct val	*v;
	struct env	*up;
	const struct node *fn;
	struct env	*fenv;
};

/* A continuation: called once per output; nonzero return stops. */
typedef int (*kfn)(struct ds_expr *, struct val *, void *);

struct builtin;
struct node {
	enum nop	 op;
	int		 single;	/* exactly one output (or an error) */
	int		 bop;		/* N_BIN operator */
	int		 var;		/* N_VAR, N_UP, N_UCALL frames up;
					   N_GVAR index; N_DEF frames */
	int		 pos;		/* offset in the source */
	struct node	*a, *b, *c, *d;	/* N_UCALL: d is the N_DEF */
	struct node	**args;
	int		 nargs;
	struct val	*v;		/* N_LIT value, N_FIELD key */
	int		 fmt;		/* N_STRI: @format of the parts */
	int		 segment;	/* N_LIT: literal text of a string */
	const struct builtin *fn;
};

enum bkind { BK_VAL, BK_GEN, BK_SPECIAL };

struct builtin {
	const char	*name;
	int		 nargs;
	enum bkind	 kind;
	struct val	*(*val)(struct ds_expr *, struct val *in,
			    struct val **argv);
	int		(*gen)(struct ds_expr *, struct val *in,
			    struct val **argv, kfn, void *);
	int		 special;
};

struct ds_expr {
	struct node	*root;
	struct arena	 perm;		/* nodes, literals, bound variables */
	struct arena	 a;		/* one run's values, reset per run */
	struct val	**globals;
	struct arena	*garena;	/* one per global: rebinding reuses it */
	int		 nglobals;
	int		 identity;	/* the program is `.` */
	struct val	*errv;		/* the pending runtime error */
	char		 errmsg[1024];
	struct ds_buf	 out;
	void		(*emit)(void *, const char *, size_t);
	void		*emitarg;
	struct ds_hash	 rx;		/* compiled regexes by flags+pattern */
	int		 stopid;	/* first()/limit() early exits */
	int		 stopping;
};

/* error return of eval (0 ok, ST_ERR error, >= ST_STOP early stop) */
#define ST_ERR	(-1)
#define ST_STOP	1

/* Set a runtime error (a string message); returns NULL. */
struct val *ex_err(struct ds_expr *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* "number (5)", "string (\"abc...)" for messages (arena string). */
const char *ex_desc(struct ds_expr *, const struct val *);
const char *ex_typename(const struct val *);
struct val *ex_arith(struct ds_expr *, int op, struct val *, struct val *);
struct val *ex_index(struct ds_expr *, struct val *, struct val *);
struct val *ex_tojson(struct ds_expr *, const struct val *);
struct val *ex_indices(struct ds_expr *, struct val *, struct val *);
struct val *ex_setpath(struct ds_expr *, struct val *v, struct val *path,
	    struct val *nv);
int	 ex_cplen(const char *, size_t);
struct val *ex_deepchk(struct ds_expr *, struct val *);

extern const struct builtin ex_builtins[];
const struct builtin *ex_lookup(const char *name, int nargs, int *known);
void	 ex_rxfree(struct ds_expr *);

/* specials evaluated by expr.c with their argument closures */
enum { SP_EMPTY = 1, SP_SELECT, SP_MAP, SP_SORTBY, SP_GROUPBY,
	SP_UNIQUEBY, SP_MINBY, SP_MAXBY, SP_WITHENTRIES, SP_FIRSTF, SP_LASTF,
	SP_LIMIT, SP_SUB, SP_GSUB, SP_ANYF, SP_ALLF, SP_MAPVALUES, SP_ERROR0,
	SP_RECURSE, SP_PATH, SP_ISEMPTY, SP_PATHS, SP_DEL, SP_GETPATH,
	SP_DELPATHS };

/* @formats: their ids (0: none), and one applied to a value */
enum { F_TEXT = 1, F_JSON, F_HTML, F_URI, F_CSV, F_TSV, F_SH, F_BASE64,
	F_BASE64D };
int	 ex_fmtid(const char *name, size_t n);
struct val *ex_format(struct ds_expr *, int fmt, struct val *);

/* regex matches for exprfn.c and the sub/gsub special */
struct rxmatch;
int	 ex_match(struct ds_expr *, struct val *in, struct val *re,
	    struct val *flags, int forceglobal, struct val ***out, int *n);
struct val *ex_capobj(struct ds_expr *, struct val *m);

#endif /* EXPRINT_H */
