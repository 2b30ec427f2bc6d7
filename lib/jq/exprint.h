/*
 * exprint.h -- private to lib/jq: the jq language of ds-map(1) and
 * ds-state -e, in layers.  Each file calls only the files below it:
 *
 *   parse.c    the compiler: program text to a node tree; the API's
 *              compile, bind, limits and free
 *   lex.c      its lexer
 *   special.c  builtins that take filters (closures): select, map,
 *              sort_by, limit, sub ...; and the table ex_specials[]
 *   path.c     path expressions: path(f), paths, del, getpath as a
 *              path, assignment
 *   eval.c     the evaluator and the API's run.  It reaches special.c
 *              and path.c only through ex_specials[], and the builtins
 *              of exprfn.c only through struct builtin's pointers
 *   exprfn.c   builtins on values and generators, the table
 *              ex_builtins[] the compiler looks names up in
 *   regex.c    Oniguruma with jq's flags;  format.c  the @formats
 *   ops.c      operators on values: arithmetic, comparison, indexing,
 *              slices, setpath, delpaths; runtime error messages
 *   exprval.c  values in an arena, JSON text in and out, jq's order
 *
 * The one callback back up is ex_specials[], set by special.c; path.c
 * and special.c call the evaluator (ex_eval), as jq's closures must.
 * The public API is jq/jq.h.
 */
#ifndef EXPRINT_H
#define EXPRINT_H

#include <stdint.h>

#include "jq/jq.h"

/* ============================================ values (exprval.c) */

/* Type tags in jq's sort order. */
enum { T_NULL, T_FALSE, T_TRUE, T_NUM, T_STR, T_ARR, T_OBJ };

/*
 * A value.  Values live in an arena and are immutable once built.
 * STR: u.s[0..n) (not NUL-terminated when it points into a line), safe
 * when printing needs no escaping.  NUM: safe when it is a struct
 * numlit.  ARR: u.a[0..n).  OBJ: u.o[0..n) in insertion order, keys are
 * STR values.  ARR, OBJ: depth caches ev_depth(), 0 until it is known.
 */
struct val {
	uint8_t		 t;
	uint8_t		 safe;
	uint16_t	 depth;
	uint32_t	 n;
	union {
		double		 d;
		const char	*s;
		struct val	**a;
		struct kv	*o;
	} u;
};

/* A constant string that prints without escapes (a key, say). */
#define EV_STRLIT(lit)	{ .t = T_STR, .safe = 1, .n = sizeof(lit) - 1, \
			    .u = { .s = lit } }

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

size_t	 ev_putcp(char *, unsigned cp);

/* Parse one JSON value (validating); NULL with a message in msg. */
struct val *ev_parse(struct arena *, const char *p, size_t len,
	    int maxdepth, char *msg, size_t msglen);
int	 ev_canonical(const char *p, size_t len, int maxdepth);
/* Print compactly as jq -c; -1 (output cut) when nested too deep. */
int	 ev_print(struct ds_buf *, const struct val *);
int	 ev_cmp(const struct val *, const struct val *);
/*
 * The nesting of v: 0 for a scalar, 1 + the deepest element's for an
 * array or object (the input's measure); -1 at the end of the stack.
 */
int	 ev_depth(struct val *);

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

/* ================================ the program and a run's state */

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
	int		 bop;		/* N_BIN, N_ASSIGN operator */
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

struct ds_expr {
	struct node	*root;
	struct arena	 perm;		/* nodes, literals, bound variables */
	struct arena	 a;		/* one run's values, reset per run */
	struct val	**globals;
	struct arena	*garena;	/* one per global: rebinding reuses it */
	int		 nglobals;
	int		 identity;	/* the program is `.` */
	int		 maxdepth;	/* nesting of the input and of the
					   values built; paths' length */
	size_t		 maxline;	/* the longest string a run builds */
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

/* ============================================ operators (ops.c) */

#define TOODEEP	"value or recursion nested too deeply"

/* Set a runtime error (a string message); returns NULL. */
struct val *ex_err(struct ds_expr *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* "number (5)", "string (\"abc...)" for messages (arena string). */
const char *ex_desc(struct ds_expr *, const struct val *);
const char *ex_typename(const struct val *);
/*
 * r, or the run's error when a comparison under it gave up (too deep),
 * or when r is nested deeper than maxdepth (ex_depthchk: that only).
 * Passes NULL on.
 */
struct val *ex_deepchk(struct ds_expr *, struct val *r);
struct val *ex_depthchk(struct ds_expr *, struct val *r);
struct val *ex_tojson(struct ds_expr *, const struct val *);
int	 ex_cplen(const char *, size_t);
size_t	 ex_cpoff(const char *, size_t, int64_t cp);
/* a binary operator (B_*) on two values; NULL with the error set */
struct val *ex_arith(struct ds_expr *, int op, struct val *, struct val *);
struct val *ex_index(struct ds_expr *, struct val *, struct val *);
struct val *ex_slice(struct ds_expr *, struct val *, struct val *from,
	    struct val *to);
struct val *ex_indices(struct ds_expr *, struct val *, struct val *);
struct val *ex_getpath(struct ds_expr *, struct val *v, struct val *path);
struct val *ex_setpath(struct ds_expr *, struct val *v, struct val *path,
	    struct val *nv);
struct val *ex_delpaths(struct ds_expr *, struct val *v,
	    struct val *paths);

/* An element of a sort: its key, the value, its place before. */
struct sent {
	struct val	*key;
	struct val	*v;
	uint32_t	 i;
};
/* Sort s[0..n) by key in jq's order, stably; -1 with the run's error
 * set when a comparison went too deep. */
int	 ex_sort(struct ds_expr *, struct sent *, uint32_t n);

/* A growable list of values in the run's arena. */
struct vlist {
	struct val	**v;
	uint32_t	 n, cap;
};
void	 ex_vladd(struct ds_expr *, struct vlist *, struct val *);
struct val *ex_vlarray(struct ds_expr *, struct vlist *);

/* ============================== regexes (regex.c), @formats (format.c) */

int	 ex_match(struct ds_expr *, struct val *in, struct val *re,
	    struct val *flags, int forceglobal, struct val ***out, int *n);
struct val *ex_capobj(struct ds_expr *, struct val *m);
void	 ex_rxfree(struct ds_expr *);

/* @formats: their ids (0: none), and one applied to a value */
enum { F_TEXT = 1, F_JSON, F_HTML, F_URI, F_CSV, F_TSV, F_SH, F_BASE64,
	F_BASE64D, F_BASE32, F_BASE32D };
int	 ex_fmtid(const char *name, size_t n);
struct val *ex_format(struct ds_expr *, int fmt, struct val *);

/* ============================================= builtins (exprfn.c) */

enum bkind { BK_VAL, BK_GEN, BK_SPECIAL };

/*
 * BK_VAL: val() gives one value for each combination of the arguments'
 * values; BK_GEN: gen() calls its continuation per output; BK_SPECIAL:
 * ex_specials[special] runs with the argument filters as closures.  A
 * BK_GEN with special set takes its first argument outermost (range).
 */
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

extern const struct builtin ex_builtins[];
const struct builtin *ex_lookup(const char *name, int nargs, int *known);

/* ============================================ evaluator (eval.c) */

int	 ex_eval(struct ds_expr *, const struct node *, struct val *in,
	    struct env *, kfn, void *);
/* a node marked single: its value, or NULL with the error set */
struct val *ex_eval1(struct ds_expr *, const struct node *, struct val *in,
	    struct env *);
struct env *ex_upframes(struct env *, int up);
/* the body a call (N_UCALL) runs and, in *ep, its environment */
const struct node *ex_callee(struct ds_expr *, const struct node *,
	    struct env *, struct env **ep);
/* continuations: collect into a struct vlist, keep the last in a val * */
int	 ex_collect(struct ds_expr *, struct val *, void *vlist);
int	 ex_keeplast(struct ds_expr *, struct val *, void *valp);

/* first(f), limit(n; f): k_first passes on s->limit outputs, then stops */
struct stopfr {
	int	 id;
	int	 count, limit;
	struct val *last;
	kfn	 k;
	void	*ka;
};
int	 ex_first(struct ds_expr *, struct val *, void *stopfr);

/* The frame a generator combinator hands to its continuations. */
struct fr {
	const struct node *n;
	struct val	*in;
	struct env	*env;
	kfn		 k;
	void		*ka;
	struct val	*v[8];		/* values gathered so far */
	struct val	**parts;
	int		 i;
	int		 flag;
};

/* =============================== closure builtins (special.c, path.c) */

enum { SP_EMPTY = 1, SP_SELECT, SP_MAP, SP_SORTBY, SP_GROUPBY,
	SP_UNIQUEBY, SP_MINBY, SP_MAXBY, SP_FIRSTF, SP_LASTF,
	SP_LIMIT, SP_SUB, SP_GSUB, SP_ANYF, SP_ALLF, SP_MAPVALUES, SP_ERROR0,
	SP_RECURSE, SP_PATH, SP_ISEMPTY, SP_PATHS, SP_DEL, SP_GETPATH,
	SP_DELPATHS, SP_ASSIGN, SP_MAX };

/* n is the call (N_CALL; N_ASSIGN for SP_ASSIGN) */
typedef int (*spfn)(struct ds_expr *, const struct node *n, struct val *in,
    struct env *, kfn, void *);
extern const spfn ex_specials[SP_MAX];

int	 ex_sp_recurse(struct ds_expr *, const struct node *, struct val *,
	    struct env *, kfn, void *);
int	 ex_sp_path(struct ds_expr *, const struct node *, struct val *,
	    struct env *, kfn, void *);
int	 ex_sp_del(struct ds_expr *, const struct node *, struct val *,
	    struct env *, kfn, void *);
int	 ex_sp_getpath(struct ds_expr *, const struct node *, struct val *,
	    struct env *, kfn, void *);
int	 ex_sp_delpaths(struct ds_expr *, const struct node *, struct val *,
	    struct env *, kfn, void *);
int	 ex_sp_assign(struct ds_expr *, const struct node *, struct val *,
	    struct env *, kfn, void *);

/* ================================ lexer (lex.c) and parser (parse.c) */

enum tok {
	TK_EOF, TK_NUM, TK_QUOTE, TK_IDENT, TK_FIELD, TK_DOTSTR, TK_VAR,
	TK_FORMAT, TK_DOT, TK_DOTDOT, TK_LBRACK, TK_RBRACK, TK_LBRACE,
	TK_RBRACE, TK_LPAREN, TK_RPAREN, TK_PIPE, TK_COMMA, TK_COLON,
	TK_SEMI, TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH, TK_PERCENT, TK_EQ,
	TK_NE, TK_LT, TK_LE, TK_GT, TK_GE, TK_ALT, TK_QMARK, TK_ASSIGN,
	TK_OPASSIGN, TK_ALTDESTR, TK_BAD
};

/*
 * A name in scope.  Variables and filter parameters have a run-time
 * frame (struct env); a function has none: a call finds the environment
 * of its definition by going up the frames pushed since (frame is the
 * number of frames at the definition).
 */
enum { SY_VAR, SY_PARAM, SY_FUNC };
struct sym {
	const char	*name;
	int		 kind;
	int		 nargs;
	int		 frame;
	struct node	*def;
};

struct parser {
	struct ds_expr	*x;
	const char	*src;
	size_t		 pos;		/* next unread byte */
	enum tok	 tok;
	size_t		 tstart, tend;	/* current token's text */
	double		 num;
	struct sym	 syms[512];	/* names in scope, innermost last */
	int		 nsyms;
	int		 nframes;	/* run-time frames (vars, params) */
	const char *const *gvars;
	int		 ngvars;
	char		*err;
	size_t		 errlen;
	int		 failed;
};

/* the next token; a string's text is left for the parser (TK_QUOTE) */
void	 lx_next(struct parser *);
/* is the current token the identifier word? */
int	 lx_istok(struct parser *, const char *word);
/* skip a token of kind t, or fail with "expected what" */
int	 lx_expect(struct parser *, enum tok t, const char *what);
/* the first error of a compile, with its line and column */
void	 lx_err(struct parser *, size_t at, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 lx_unsupported(struct parser *, size_t at, const char *what);

#endif /* EXPRINT_H */
