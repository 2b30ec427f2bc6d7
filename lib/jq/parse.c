/*
 * parse.c -- the compiler of the jq language (see exprint.h for the
 * layers): a recursive-descent parser to a node tree.  Nodes that always
 * give exactly one output are marked single, for the evaluator's fast
 * path.  Names resolve at compile time: a variable to the number of
 * frames up, a def to its node, a builtin to its entry in ex_builtins[].
 * Also the API's compile, bind, limits and free.
 */
#include <ctype.h>
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jq/exprint.h"

static struct node *
mk(struct parser *p, enum nop op, size_t pos)
{
	struct node *n = ea_alloc(&p->x->perm, sizeof(*n));

	memset(n, 0, sizeof(*n));
	n->op = op;
	n->pos = (int)pos;
	n->single = op == N_DOT;
	return n;
}

static struct node *mk2(struct parser *p, enum nop op, size_t pos,
    struct node *a, struct node *b)
{
	struct node *n = mk(p, op, pos);

	n->a = a;
	n->b = b;
	return n;
}

static struct node *parse_pipe(struct parser *);
static struct node *parse_alt(struct parser *);
static struct node *parse_postfix(struct parser *, int allowas);

/* A string literal at p->pos (after its quote): LIT or STRI. */
static struct node *
parse_string(struct parser *p)
{
	struct ds_buf b = { 0 };
	struct node *parts[64], *n, *e;
	int nparts = 0, cp, lo, i;
	size_t start = p->tstart;
	const char *s = p->src;
	char u[4];

	p->pos = p->tstart + 1;
	for (;;) {
		unsigned char c = s[p->pos];

		if (c == '\0') {
			lx_err(p, start, "syntax error: unterminated string");
			goto fail;
		}
		if (c == '"') {
			p->pos++;
			break;
		}
		if (c != '\\') {
			ds_buf_addc(&b, (char)c);
			p->pos++;
			continue;
		}
		c = s[p->pos + 1];
		p->pos += 2;
		switch (c) {
		case 'n': ds_buf_addc(&b, '\n'); break;
		case 't': ds_buf_addc(&b, '\t'); break;
		case 'r': ds_buf_addc(&b, '\r'); break;
		case 'b': ds_buf_addc(&b, '\b'); break;
		case 'f': ds_buf_addc(&b, '\f'); break;
		case '"': case '\\': case '/': ds_buf_addc(&b, (char)c); break;
		case 'u':
			if ((cp = ds_hex4(s + p->pos)) < 0) {
				lx_err(p, p->pos, "syntax error: bad \\u escape");
				goto fail;
			}
			p->pos += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && s[p->pos] == '\\' &&
			    s[p->pos + 1] == 'u') {
				/* ds_hex4 stops at the NUL of a program cut short */
				lo = ds_hex4(s + p->pos + 2);
				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) +
					    (lo - 0xdc00);
					p->pos += 6;
				}
			}
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;
			ds_buf_add(&b, u, ev_putcp(u, (unsigned)cp));
			break;
		case '(':
			if (nparts + 2 > 64) {
				lx_err(p, p->pos, "too many interpolations");
				goto fail;
			}
			n = mk(p, N_LIT, p->pos);
			n->v = ev_str(&p->x->perm, b.p ? b.p : "", b.len);
			n->single = 1;
			n->segment = 1;
			parts[nparts++] = n;
			ds_buf_clear(&b);
			lx_next(p);
			if ((e = parse_pipe(p)) == NULL)
				goto fail;
			if (p->tok != TK_RPAREN) {
				lx_err(p, p->tstart, "syntax error: expected ')' "
				    "in string interpolation");
				goto fail;
			}
			/* p->pos is just after the ')' */
			parts[nparts++] = e;
			break;
		default:
			lx_err(p, p->pos - 2, "syntax error: bad escape in string");
			goto fail;
		}
	}
	n = mk(p, N_LIT, start);
	n->v = ev_str(&p->x->perm, b.p ? b.p : "", b.len);
	n->single = 1;
	ds_buf_free(&b);
	if (nparts == 0) {
		lx_next(p);
		return n;
	}
	n->segment = 1;
	parts[nparts++] = n;
	e = mk(p, N_STRI, start);
	e->nargs = nparts;
	e->args = ea_alloc(&p->x->perm, nparts * sizeof(*e->args));
	memcpy(e->args, parts, nparts * sizeof(*parts));
	e->single = 1;
	for (i = 0; i < nparts; i++)
		e->single &= parts[i]->single;
	lx_next(p);
	return e;
fail:
	ds_buf_free(&b);
	return NULL;
}

static struct node *
lit(struct parser *p, size_t pos, struct val *v)
{
	struct node *n = mk(p, N_LIT, pos);

	n->v = v;
	n->single = 1;
	return n;
}

static struct node *
field(struct parser *p, size_t pos, struct node *base, const char *k,
    size_t n)
{
	struct node *f = mk(p, N_FIELD, pos);

	f->a = base;
	f->v = ev_str(&p->x->perm, k, n);
	f->single = base->single;
	return f;
}

static struct node *
parse_var(struct parser *p)
{
	const char *name = p->src + p->tstart + 1;
	size_t len = p->tend - p->tstart - 1;
	size_t pos = p->tstart;
	struct node *n;
	int i;

	if (len == 7 && memcmp(name, "__loc__", 7) == 0) {
		/* {"file":"<top-level>","line":N}: where it is, as jq */
		static struct val kf = EV_STRLIT("file");
		static struct val kl = EV_STRLIT("line");
		struct val *o = ev_obj(&p->x->perm, 2);
		int line = 1;

		for (i = 0; (size_t)i < pos; i++)
			line += p->src[i] == '\n';
		ev_set(o, &kf, ev_str(&p->x->perm, "<top-level>", 11));
		ev_set(o, &kl, ev_num(&p->x->perm, line));
		lx_next(p);
		return lit(p, pos, o);
	}
	for (i = p->nsyms - 1; i >= 0; i--)
		if (p->syms[i].kind == SY_VAR &&
		    strlen(p->syms[i].name) == len &&
		    memcmp(p->syms[i].name, name, len) == 0) {
			n = mk(p, N_VAR, pos);
			n->var = p->nframes - 1 - p->syms[i].frame;
			n->single = 1;
			lx_next(p);
			return n;
		}
	for (i = 0; i < p->ngvars; i++)
		if (strlen(p->gvars[i]) == len &&
		    memcmp(p->gvars[i], name, len) == 0) {
			n = mk(p, N_GVAR, pos);
			n->var = i;
			n->single = 1;
			lx_next(p);
			return n;
		}
	lx_err(p, pos, "$%.*s is not defined", (int)len, name);
	return NULL;
}

static int
pushsym(struct parser *p, int kind, const char *name, size_t len, int nargs,
    struct node *def)
{
	struct sym *y;

	if (p->nsyms == 512) {
		lx_err(p, p->tstart, "too many nested names");
		return -1;
	}
	y = &p->syms[p->nsyms++];
	y->name = ea_strdup(&p->x->perm, name, len);
	y->kind = kind;
	y->nargs = nargs;
	y->def = def;
	y->frame = kind == SY_FUNC ? p->nframes : p->nframes++;
	return 0;
}

static void
popsyms(struct parser *p, int to)
{
	while (p->nsyms > to)
		if (p->syms[--p->nsyms].kind != SY_FUNC)
			p->nframes--;
}

/* N_UP: n evaluated in the environment `up` frames out */
static struct node *
upenv(struct parser *p, int up, struct node *n)
{
	struct node *u;

	if (up == 0)
		return n;
	u = mk(p, N_UP, n->pos);
	u->var = up;
	u->a = n;
	u->single = n->single;
	return u;
}

/*
 * Destructuring: each alternative of `as P1 ?// P2 ...` is a list of
 * variables and the expressions that extract them from the value, which
 * is bound to a hidden variable (frame 0 when they run).
 */
#define MAXBIND	64
struct palt {
	const char	*name[MAXBIND];
	struct node	*ex[MAXBIND];
	int		 n;
};

static int
addbind(struct parser *p, struct palt *a, const char *name, size_t len,
    struct node *ex)
{
	if (a->n == MAXBIND) {
		lx_err(p, p->tstart, "destructuring pattern too large");
		return -1;
	}
	a->name[a->n] = ea_strdup(&p->x->perm, name, len);
	a->ex[a->n++] = ex;
	return 0;
}

static struct node *
idx(struct parser *p, struct node *base, struct node *key)
{
	struct node *n = mk2(p, N_INDEX, key->pos, base, key);

	n->single = base->single && key->single;
	return n;
}

static int
parse_pattern(struct parser *p, struct palt *a, struct node *base)
{
	struct node *k;
	size_t pos = p->tstart;
	int i;

	if (p->tok == TK_VAR) {
		if (addbind(p, a, p->src + p->tstart + 1,
		    p->tend - p->tstart - 1, base) == -1)
			return -1;
		lx_next(p);
		return 0;
	}
	if (p->tok == TK_LBRACK) {
		lx_next(p);
		for (i = 0; ; i++) {
			k = lit(p, p->tstart, ev_num(&p->x->perm, i));
			if (parse_pattern(p, a, idx(p, base, k)) == -1)
				return -1;
			if (p->tok != TK_COMMA)
				break;
			lx_next(p);
		}
		return lx_expect(p, TK_RBRACK, "']'");
	}
	if (p->tok != TK_LBRACE) {
		lx_err(p, pos, "syntax error: expected $name, [...] or {...}");
		return -1;
	}
	lx_next(p);
	for (;;) {
		pos = p->tstart;
		if (p->tok == TK_VAR) {
			const char *name = p->src + p->tstart + 1;
			size_t len = p->tend - p->tstart - 1;

			k = field(p, pos, base, name, len);
			if (addbind(p, a, name, len, k) == -1)
				return -1;
			lx_next(p);
			if (p->tok == TK_COLON) {
				lx_next(p);
				if (parse_pattern(p, a, k) == -1)
					return -1;
			}
		} else {
			if (p->tok == TK_IDENT) {
				k = lit(p, pos, ev_str(&p->x->perm,
				    p->src + p->tstart, p->tend - p->tstart));
				lx_next(p);
			} else if (p->tok == TK_QUOTE) {
				if ((k = parse_string(p)) == NULL)
					return -1;
			} else if (p->tok == TK_LPAREN) {
				lx_next(p);
				if ((k = parse_pipe(p)) == NULL ||
				    lx_expect(p, TK_RPAREN, "')'") == -1)
					return -1;
			} else {
				lx_err(p, pos, "syntax error: bad object "
				    "pattern key");
				return -1;
			}
			/* as in jq, a key's expression runs on the value
			 * it indexes, not on the input of `as` */
			if (k->op != N_LIT) {
				k = mk2(p, N_PIPE, pos, base, k);
				k->single = base->single && k->b->single;
			}
			if (lx_expect(p, TK_COLON, "':'") == -1 ||
			    parse_pattern(p, a, idx(p, base, k)) == -1)
				return -1;
		}
		if (p->tok != TK_COMMA)
			break;
		lx_next(p);
	}
	return lx_expect(p, TK_RBRACE, "'}'");
}

/*
 * After `as`: one $name (pushed as it is), or patterns (a hidden frame
 * and every variable of every alternative pushed).  *alts gets the
 * alternatives (NULL for a plain $name); returns the number of frames
 * pushed, -1 on error.
 */
struct pats {
	struct palt	*alt;
	int		 nalt;
	const char	*u[MAXBIND];	/* the variables, in frame order */
	int		 nu;
};

static int
parse_patterns(struct parser *p, struct pats *ps)
{
	struct palt *a;
	int i, j, mark = p->nsyms;

	memset(ps, 0, sizeof(*ps));
	if (p->tok == TK_VAR) {
		size_t vstart = p->tstart;

		if (pushsym(p, SY_VAR, p->src + p->tstart + 1,
		    p->tend - p->tstart - 1, 0, NULL) == -1)
			return -1;
		lx_next(p);
		if (p->tok != TK_ALTDESTR)
			return 1;
		popsyms(p, mark);
		p->pos = vstart;
		lx_next(p);	/* back at the $name: it is a pattern */
	}
	/* the patterns' key expressions see the hidden value as frame 0 */
	if (pushsym(p, SY_VAR, "", 0, 0, NULL) == -1)
		return -1;
	for (;;) {
		struct node *v0 = mk(p, N_VAR, p->tstart);

		v0->single = 1;
		a = ea_alloc(&p->x->perm, sizeof(*a) * (ps->nalt + 1));
		if (ps->nalt)
			memcpy(a, ps->alt, sizeof(*a) * ps->nalt);
		ps->alt = a;
		a = &ps->alt[ps->nalt++];
		a->n = 0;
		if (parse_pattern(p, a, v0) == -1)
			return -1;
		for (i = 0; i < a->n; i++) {
			for (j = 0; j < ps->nu; j++)
				if (strcmp(ps->u[j], a->name[i]) == 0)
					break;
			if (j == ps->nu) {
				if (ps->nu == MAXBIND) {
					lx_err(p, p->tstart, "destructuring "
					    "pattern too large");
					return -1;
				}
				ps->u[ps->nu++] = a->name[i];
			}
		}
		if (p->tok != TK_ALTDESTR)
			break;
		lx_next(p);
	}
	for (j = 0; j < ps->nu; j++)
		if (pushsym(p, SY_VAR, ps->u[j], strlen(ps->u[j]), 0,
		    NULL) == -1)
			return -1;
	return 1 + ps->nu;
}

/* The bindings of the alternatives around body (run with the value in
 * the hidden frame): one chain, or N_DESTALT over the chains. */
static struct node *
bindpats(struct parser *p, struct pats *ps, struct node *body)
{
	struct node *n, *as, *alt = NULL, *ex;
	int i, j, k;

	if (ps->alt == NULL)
		return body;
	if (ps->nalt > 1) {
		alt = mk(p, N_DESTALT, body->pos);
		alt->nargs = ps->nalt;
		alt->args = ea_alloc(&p->x->perm, ps->nalt *
		    sizeof(*alt->args));
	}
	for (i = 0; i < ps->nalt; i++) {
		n = body;
		for (j = ps->nu - 1; j >= 0; j--) {
			ex = NULL;
			for (k = 0; k < ps->alt[i].n; k++)
				if (strcmp(ps->alt[i].name[k], ps->u[j]) == 0)
					ex = ps->alt[i].ex[k];
			if (ex == NULL)
				ex = lit(p, body->pos, &ev_null);
			as = mk2(p, N_AS, body->pos, upenv(p, j, ex), n);
			n = as;
		}
		if (alt == NULL)
			return n;
		alt->args[i] = n;
	}
	return alt;
}

static struct node *
parse_object(struct parser *p)
{
	struct node *items[256], *k, *v, *n;
	int ni = 0, i;
	size_t pos = p->tstart;

	lx_next(p);
	while (p->tok != TK_RBRACE) {
		size_t kpos = p->tstart;

		if (ni + 2 > 256) {
			lx_err(p, kpos, "object construction too large");
			return NULL;
		}
		k = v = NULL;
		if (p->tok == TK_VAR) {
			const char *name = p->src + p->tstart + 1;
			size_t len = p->tend - p->tstart - 1;

			k = lit(p, kpos, ev_str(&p->x->perm, name, len));
			if ((v = parse_var(p)) == NULL)
				return NULL;
			if (p->tok == TK_COLON) {
				k = v;	/* {$k: v}: the key is $k's value */
				v = NULL;
			}
		} else if (p->tok == TK_IDENT) {
			k = lit(p, kpos, ev_str(&p->x->perm,
			    p->src + p->tstart, p->tend - p->tstart));
			lx_next(p);
			if (p->tok != TK_COLON)
				v = field(p, kpos, mk(p, N_DOT, kpos),
				    k->v->u.s, k->v->n);
		} else if (p->tok == TK_QUOTE) {
			if ((k = parse_string(p)) == NULL)
				return NULL;
			if (p->tok != TK_COLON) {
				if (k->op == N_LIT)
					v = field(p, kpos, mk(p, N_DOT, kpos),
					    k->v->u.s, k->v->n);
				else {
					v = mk2(p, N_INDEX, kpos,
					    mk(p, N_DOT, kpos), k);
					v->a->single = 1;
				}
			}
		} else if (p->tok == TK_NUM) {
			k = lit(p, kpos, ev_num(&p->x->perm, p->num));
			lx_next(p);
		} else if (p->tok == TK_LPAREN) {
			lx_next(p);
			if ((k = parse_pipe(p)) == NULL ||
			    lx_expect(p, TK_RPAREN, "')'") == -1)
				return NULL;
		} else if (p->tok == TK_FORMAT) {
			lx_unsupported(p, kpos, "@format");
			return NULL;
		} else {
			lx_err(p, kpos, "syntax error: bad object key");
			return NULL;
		}
		if (v == NULL) {
			struct node *r;

			if (lx_expect(p, TK_COLON, "':'") == -1)
				return NULL;
			/* jq's ObjVal: no ',' (it separates members) */
			if ((v = parse_alt(p)) == NULL)
				return NULL;
			while (p->tok == TK_PIPE) {
				size_t ppos = p->tstart;

				lx_next(p);
				if ((r = parse_alt(p)) == NULL)
					return NULL;
				v = mk2(p, N_PIPE, ppos, v, r);
				v->single = v->a->single && v->b->single;
			}
		}
		if (k->op == N_LIT && k->v->t != T_STR) {
			lx_err(p, kpos, "Cannot use %s as object key",
			    ex_desc(p->x, k->v));
			return NULL;
		}
		items[ni++] = k;
		items[ni++] = v;
		if (p->tok == TK_COMMA)
			lx_next(p);
		else if (p->tok != TK_RBRACE) {
			lx_err(p, p->tstart, "syntax error: expected ',' or '}'");
			return NULL;
		}
	}
	lx_next(p);
	n = mk(p, N_OBJ, pos);
	n->nargs = ni;
	n->args = ea_alloc(&p->x->perm, (ni + 1) * sizeof(*n->args));
	if (ni > 0)
		memcpy(n->args, items, ni * sizeof(*items));
	n->single = 1;
	for (i = 0; i < ni; i++)
		n->single &= items[i]->single;
	return n;
}

static struct node *
parse_call(struct parser *p)
{
	struct node *args[16], *n;
	const char *name = p->src + p->tstart;
	size_t len = p->tend - p->tstart, pos = p->tstart;
	char fname[64];
	int nargs = 0, known, i;
	const struct builtin *b;

	snprintf(fname, sizeof(fname), "%.*s", (int)(len < 60 ? len : 60),
	    name);
	lx_next(p);
	if (p->tok == TK_LPAREN) {
		lx_next(p);
		for (;;) {
			if (nargs == 16) {
				lx_err(p, p->tstart, "too many arguments");
				return NULL;
			}
			if ((args[nargs++] = parse_pipe(p)) == NULL)
				return NULL;
			if (p->tok == TK_SEMI) {
				lx_next(p);
				continue;
			}
			if (lx_expect(p, TK_RPAREN, "')' or ';'") == -1)
				return NULL;
			break;
		}
	}
	for (i = p->nsyms - 1; i >= 0; i--) {
		struct sym *y = &p->syms[i];

		if (strcmp(y->name, fname) != 0 || (y->kind == SY_VAR ||
		    (y->kind == SY_PARAM ? 0 : y->nargs) != nargs))
			continue;
		n = mk(p, N_UCALL, pos);
		if (y->kind == SY_FUNC) {
			n->d = y->def;
			n->var = p->nframes - y->frame;
		} else
			n->var = p->nframes - 1 - y->frame;
		n->nargs = nargs;
		n->args = ea_alloc(&p->x->perm, (nargs + 1) *
		    sizeof(*n->args));
		memcpy(n->args, args, nargs * sizeof(*args));
		return n;
	}
	if ((b = ex_lookup(fname, nargs, &known)) == NULL) {
		char what[80];

		snprintf(what, sizeof(what), "%s/%d", fname, nargs);
		if (known)
			lx_unsupported(p, pos, what);
		else
			lx_err(p, pos, "%s is not defined", what);
		return NULL;
	}
	n = mk(p, N_CALL, pos);
	n->fn = b;
	n->nargs = nargs;
	n->args = ea_alloc(&p->x->perm, (nargs + 1) * sizeof(*n->args));
	memcpy(n->args, args, nargs * sizeof(*args));
	n->single = b->kind == BK_VAL;
	for (i = 0; i < nargs; i++)
		n->single &= args[i]->single;
	return n;
}

static void fixsingle(struct node *);

/*
 * def NAME: body;  def NAME(f; $v): body;  The function stays in scope
 * (the caller pops it); a $v parameter is the filter v bound as in
 * `v as $v | body`.
 */
static struct node *
parse_def(struct parser *p)
{
	struct node *def, *body, *calls[16];
	const char *pname[16];
	size_t plen[16];
	int np = 0, dollar[16], i, mark;
	size_t pos = p->tstart;

	lx_next(p);
	if (p->tok != TK_IDENT) {
		lx_err(p, p->tstart, "syntax error: expected a function name");
		return NULL;
	}
	def = mk(p, N_DEF, pos);
	def->v = ev_str(&p->x->perm, p->src + p->tstart, p->tend - p->tstart);
	lx_next(p);
	if (p->tok == TK_LPAREN) {
		do {
			lx_next(p);
			if (np == 16) {
				lx_err(p, p->tstart, "too many parameters");
				return NULL;
			}
			if (p->tok != TK_IDENT && p->tok != TK_VAR) {
				lx_err(p, p->tstart, "syntax error: expected a "
				    "parameter");
				return NULL;
			}
			dollar[np] = p->tok == TK_VAR;
			pname[np] = p->src + p->tstart + dollar[np];
			plen[np] = p->tend - p->tstart - dollar[np];
			np++;
			lx_next(p);
		} while (p->tok == TK_SEMI);
		if (lx_expect(p, TK_RPAREN, "')'") == -1)
			return NULL;
	}
	if (lx_expect(p, TK_COLON, "':'") == -1)
		return NULL;
	def->nargs = np;
	def->var = p->nframes;
	if (pushsym(p, SY_FUNC, def->v->u.s, def->v->n, np, def) == -1)
		return NULL;
	mark = p->nsyms;
	for (i = 0; i < np; i++)
		if (pushsym(p, SY_PARAM, pname[i], plen[i], 0, NULL) == -1)
			return NULL;
	for (i = 0; i < np; i++) {
		calls[i] = NULL;
		if (!dollar[i])
			continue;
		calls[i] = mk(p, N_UCALL, pos);
		calls[i]->var = p->nframes - 1 - p->syms[mark + i].frame;
		if (pushsym(p, SY_VAR, pname[i], plen[i], 0, NULL) == -1)
			return NULL;
	}
	body = parse_pipe(p);
	popsyms(p, mark);
	if (body == NULL || lx_expect(p, TK_SEMI, "';'") == -1)
		return NULL;
	for (i = np - 1; i >= 0; i--)
		if (calls[i] != NULL)
			body = mk2(p, N_AS, pos, calls[i], body);
	fixsingle(body);
	def->a = body;
	return def;
}

/* @fmt, @fmt "...\(f)...": the format applies to each f */
static struct node *
parse_format(struct parser *p)
{
	struct node *n;
	size_t pos = p->tstart;
	char w[32];
	int fmt;

	fmt = ex_fmtid(p->src + p->tstart + 1, p->tend - p->tstart - 1);
	if (fmt == 0) {
		snprintf(w, sizeof(w), "%.*s", (int)(p->tend - p->tstart),
		    p->src + p->tstart);
		lx_unsupported(p, pos, w);
		return NULL;
	}
	lx_next(p);
	if (p->tok == TK_QUOTE) {
		if ((n = parse_string(p)) == NULL)
			return NULL;
		if (n->op == N_STRI)
			n->fmt = fmt;
		return n;
	}
	/* @fmt alone formats . */
	n = mk(p, N_STRI, pos);
	n->fmt = fmt;
	n->nargs = 1;
	n->args = ea_alloc(&p->x->perm, sizeof(*n->args));
	n->args[0] = mk(p, N_DOT, pos);
	n->single = 1;
	return n;
}

static struct node *
parse_if(struct parser *p)
{
	struct node *top = NULL, **slot = &top, *n;

	do {
		lx_next(p);
		n = mk(p, N_IF, p->tstart);
		if ((n->a = parse_pipe(p)) == NULL)
			return NULL;
		if (!lx_istok(p, "then")) {
			lx_err(p, p->tstart, "syntax error: expected then");
			return NULL;
		}
		lx_next(p);
		if ((n->b = parse_pipe(p)) == NULL)
			return NULL;
		*slot = n;
		slot = &n->c;
	} while (lx_istok(p, "elif"));
	if (lx_istok(p, "else")) {
		lx_next(p);
		if ((*slot = parse_pipe(p)) == NULL)
			return NULL;
	}
	if (!lx_istok(p, "end")) {
		lx_err(p, p->tstart, "syntax error: expected end");
		return NULL;
	}
	lx_next(p);
	return top;
}

/* reduce SRC as P (INIT; UPDATE), foreach SRC as P (INIT; UPDATE; EXTRACT) */
static struct node *
parse_reduce(struct parser *p)
{
	int isreduce = lx_istok(p, "reduce"), mark, nb;
	struct sym save[MAXBIND + 1];
	struct pats ps;
	struct node *n;

	n = mk(p, isreduce ? N_REDUCE : N_FOREACH, p->tstart);
	lx_next(p);
	if ((n->a = parse_postfix(p, 0)) == NULL)
		return NULL;
	if (!lx_istok(p, "as")) {
		lx_err(p, p->tstart, "syntax error: expected as");
		return NULL;
	}
	lx_next(p);
	mark = p->nsyms;
	if ((nb = parse_patterns(p, &ps)) == -1 ||
	    lx_expect(p, TK_LPAREN, "'('") == -1)
		return NULL;
	/* init does not see the variables; an `as` in it must not
	 * clobber them */
	memcpy(save, p->syms + mark, nb * sizeof(*save));
	popsyms(p, mark);
	n->b = parse_pipe(p);
	memcpy(p->syms + mark, save, nb * sizeof(*save));
	p->nsyms = mark + nb;
	p->nframes += nb;
	if (n->b == NULL || lx_expect(p, TK_SEMI, "';'") == -1 ||
	    (n->c = parse_pipe(p)) == NULL)
		return NULL;
	if (!isreduce && p->tok == TK_SEMI) {
		lx_next(p);
		if ((n->d = parse_pipe(p)) == NULL)
			return NULL;
	}
	popsyms(p, mark);
	if (lx_expect(p, TK_RPAREN, "')'") == -1)
		return NULL;
	n->c = bindpats(p, &ps, n->c);
	if (n->d != NULL)
		n->d = bindpats(p, &ps, n->d);
	return n;
}

/* the hidden variable of label $name, in *lname */
static int
labelname(struct parser *p, char *lname, size_t len)
{
	lx_next(p);
	if (p->tok != TK_VAR) {
		lx_err(p, p->tstart, "syntax error: expected $name");
		return -1;
	}
	snprintf(lname, len, "*label-%.*s", (int)(p->tend - p->tstart - 1),
	    p->src + p->tstart + 1);
	return 0;
}

/* label $name | body: a frame holds this run's id */
static struct node *
parse_label(struct parser *p)
{
	int mark = p->nsyms;
	struct node *n;
	char lname[80];

	n = mk(p, N_LABEL, p->tstart);
	if (labelname(p, lname, sizeof(lname)) == -1)
		return NULL;
	lx_next(p);
	if (lx_expect(p, TK_PIPE, "'|'") == -1 ||
	    pushsym(p, SY_VAR, lname, strlen(lname), 0, NULL) == -1)
		return NULL;
	n->a = parse_pipe(p);
	popsyms(p, mark);
	return n->a == NULL ? NULL : n;
}

static struct node *
parse_break(struct parser *p)
{
	struct node *n;
	char lname[80];
	int i;

	n = mk(p, N_BREAK, p->tstart);
	if (labelname(p, lname, sizeof(lname)) == -1)
		return NULL;
	for (i = p->nsyms - 1; i >= 0; i--)
		if (p->syms[i].kind == SY_VAR &&
		    strcmp(p->syms[i].name, lname) == 0)
			break;
	if (i < 0) {
		lx_err(p, p->tstart, "$%s is not defined", lname + 1);
		return NULL;
	}
	n->var = p->nframes - 1 - p->syms[i].frame;
	lx_next(p);
	return n;
}

/* An identifier: a literal, a keyword's construct, or a call. */
static struct node *
parse_word(struct parser *p)
{
	struct node *n;
	size_t pos = p->tstart;
	int mark;

	if (lx_istok(p, "null") || lx_istok(p, "true") ||
	    lx_istok(p, "false")) {
		n = lit(p, pos, lx_istok(p, "null") ? &ev_null :
		    ev_bool(lx_istok(p, "true")));
		lx_next(p);
		return n;
	}
	if (lx_istok(p, "if"))
		return parse_if(p);
	if (lx_istok(p, "reduce") || lx_istok(p, "foreach"))
		return parse_reduce(p);
	if (lx_istok(p, "try")) {
		n = mk(p, N_TRY, pos);
		lx_next(p);
		if ((n->a = parse_postfix(p, 0)) == NULL)
			return NULL;
		if (lx_istok(p, "catch")) {
			lx_next(p);
			if ((n->b = parse_postfix(p, 0)) == NULL)
				return NULL;
		}
		return n;
	}
	if (lx_istok(p, "def")) {
		if (parse_def(p) == NULL)
			return NULL;
		mark = p->nsyms - 1;
		n = parse_pipe(p);
		popsyms(p, mark);
		return n;
	}
	if (lx_istok(p, "label"))
		return parse_label(p);
	if (lx_istok(p, "break"))
		return parse_break(p);
	if (lx_istok(p, "import") || lx_istok(p, "include")) {
		char w[16];

		snprintf(w, sizeof(w), "%.*s", (int)(p->tend - p->tstart),
		    p->src + p->tstart);
		lx_unsupported(p, pos, w);
		return NULL;
	}
	if (lx_istok(p, "then") || lx_istok(p, "else") ||
	    lx_istok(p, "elif") || lx_istok(p, "end") || lx_istok(p, "as") ||
	    lx_istok(p, "and") || lx_istok(p, "or") || lx_istok(p, "catch")) {
		lx_err(p, pos, "syntax error: unexpected '%.*s'",
		    (int)(p->tend - p->tstart), p->src + p->tstart);
		return NULL;
	}
	return parse_call(p);
}

static struct node *
parse_primary(struct parser *p)
{
	struct node *n, *a;
	size_t pos = p->tstart;
	int known;

	switch (p->tok) {
	case TK_NUM:
		n = lit(p, pos, ev_num(&p->x->perm, p->num));
		lx_next(p);
		return n;
	case TK_QUOTE:
		return parse_string(p);
	case TK_FORMAT:
		return parse_format(p);
	case TK_DOT:
		n = mk(p, N_DOT, pos);
		n->single = 1;
		lx_next(p);
		if (p->tok == TK_QUOTE) {
			/* . "x" is not jq; ."x" is lexed as TK_DOTSTR */
			lx_err(p, p->tstart, "syntax error: unexpected string");
			return NULL;
		}
		return n;
	case TK_FIELD:
		n = mk(p, N_DOT, pos);
		n->single = 1;
		n = field(p, pos, n, p->src + pos + 1, p->tend - pos - 1);
		lx_next(p);
		return n;
	case TK_DOTSTR:
		p->tstart = p->pos;
		if ((a = parse_string(p)) == NULL)
			return NULL;
		n = mk(p, N_DOT, pos);
		n->single = 1;
		if (a->op == N_LIT)
			return field(p, pos, n, a->v->u.s, a->v->n);
		n = mk2(p, N_INDEX, pos, n, a);
		n->single = a->single;
		return n;
	case TK_DOTDOT:
		n = mk(p, N_CALL, pos);
		n->fn = ex_lookup("recurse", 0, &known);
		lx_next(p);
		return n;
	case TK_VAR:
		return parse_var(p);
	case TK_LPAREN:
		lx_next(p);
		if ((n = parse_pipe(p)) == NULL ||
		    lx_expect(p, TK_RPAREN, "')'") == -1)
			return NULL;
		return n;
	case TK_LBRACK:
		lx_next(p);
		n = mk(p, N_ARR, pos);
		n->single = 1;
		if (p->tok == TK_RBRACK) {
			lx_next(p);
			return n;
		}
		if ((n->a = parse_pipe(p)) == NULL ||
		    lx_expect(p, TK_RBRACK, "']'") == -1)
			return NULL;
		return n;
	case TK_LBRACE:
		return parse_object(p);
	case TK_MINUS:
		lx_next(p);
		if ((a = parse_postfix(p, 1)) == NULL)
			return NULL;
		n = mk(p, N_NEG, pos);
		n->a = a;
		n->single = a->single;
		return n;
	case TK_IDENT:
		return parse_word(p);
	case TK_EOF:
		lx_err(p, pos, "syntax error: unexpected end of program");
		return NULL;
	default:
		lx_err(p, pos, "syntax error: unexpected '%.*s'",
		    (int)(p->tend - p->tstart), p->src + p->tstart);
		return NULL;
	}
}

static struct node *
parse_postfix(struct parser *p, int allowas)
{
	struct node *t, *n, *e;
	size_t pos;

	if ((t = parse_primary(p)) == NULL)
		return NULL;
	for (;;) {
		pos = p->tstart;
		if (p->tok == TK_FIELD) {
			t = field(p, pos, t, p->src + pos + 1, p->tend - pos - 1);
			lx_next(p);
		} else if (p->tok == TK_DOTSTR) {
			p->tstart = p->pos;
			if ((e = parse_string(p)) == NULL)
				return NULL;
			if (e->op == N_LIT)
				t = field(p, pos, t, e->v->u.s, e->v->n);
			else {
				t = mk2(p, N_INDEX, pos, t, e);
				t->single = t->a->single && e->single;
			}
		} else if (p->tok == TK_DOT && p->src[p->pos] == '[') {
			lx_next(p);	/* .a.[0], jq 1.7 syntax */
		} else if (p->tok == TK_LBRACK) {
			lx_next(p);
			if (p->tok == TK_RBRACK) {
				lx_next(p);
				n = mk(p, N_ITER, pos);
				n->a = t;
				t = n;
				continue;
			}
			n = mk(p, N_SLICE, pos);
			n->a = t;
			if (p->tok != TK_COLON &&
			    (n->b = parse_pipe(p)) == NULL)
				return NULL;
			if (p->tok == TK_COLON) {
				lx_next(p);
				if (p->tok != TK_RBRACK &&
				    (n->c = parse_pipe(p)) == NULL)
					return NULL;
				if (n->b == NULL && n->c == NULL) {
					lx_err(p, pos, "syntax error: empty slice");
					return NULL;
				}
			} else
				n->op = N_INDEX;
			if (lx_expect(p, TK_RBRACK, "']'") == -1)
				return NULL;
			n->single = t->single && (n->b == NULL ||
			    n->b->single) && (n->c == NULL || n->c->single);
			if (n->op == N_INDEX && n->b->op == N_LIT &&
			    n->b->v->t == T_STR) {
				n->op = N_FIELD;
				n->v = n->b->v;
				n->b = NULL;
			}
			t = n;
		} else if (p->tok == TK_QMARK) {
			lx_next(p);
			n = mk(p, N_TRY, pos);
			n->a = t;
			t = n;
		} else if (allowas && lx_istok(p, "as")) {
			struct pats ps;
			int mark = p->nsyms;

			lx_next(p);
			n = mk(p, N_AS, pos);
			n->a = t;
			if (parse_patterns(p, &ps) == -1 ||
			    lx_expect(p, TK_PIPE, "'|'") == -1)
				return NULL;
			n->b = parse_pipe(p);
			popsyms(p, mark);
			if (n->b == NULL)
				return NULL;
			n->b = bindpats(p, &ps, n->b);
			n->single = t->single && n->b->single;
			return n;
		} else
			return t;
	}
}

static struct node *
binop(struct parser *p, size_t pos, int bop, struct node *a, struct node *b)
{
	struct node *n = mk2(p, N_BIN, pos, a, b);

	n->bop = bop;
	n->single = a->single && b->single;
	return n;
}

static struct node *
parse_mul(struct parser *p)
{
	struct node *l, *r;
	size_t pos;
	int op;

	if ((l = parse_postfix(p, 1)) == NULL)
		return NULL;
	while (p->tok == TK_STAR || p->tok == TK_SLASH ||
	    p->tok == TK_PERCENT) {
		op = p->tok == TK_STAR ? B_MUL : p->tok == TK_SLASH ? B_DIV :
		    B_MOD;
		pos = p->tstart;
		lx_next(p);
		if ((r = parse_postfix(p, 1)) == NULL)
			return NULL;
		l = binop(p, pos, op, l, r);
	}
	return l;
}

static struct node *
parse_add(struct parser *p)
{
	struct node *l, *r;
	size_t pos;
	int op;

	if ((l = parse_mul(p)) == NULL)
		return NULL;
	while (p->tok == TK_PLUS || p->tok == TK_MINUS) {
		op = p->tok == TK_PLUS ? B_ADD : B_SUB;
		pos = p->tstart;
		lx_next(p);
		if ((r = parse_mul(p)) == NULL)
			return NULL;
		l = binop(p, pos, op, l, r);
	}
	return l;
}

static struct node *
parse_cmp(struct parser *p)
{
	struct node *l, *r;
	size_t pos;
	int op;

	if ((l = parse_add(p)) == NULL)
		return NULL;
	switch (p->tok) {
	case TK_EQ: op = B_EQ; break;
	case TK_NE: op = B_NE; break;
	case TK_LT: op = B_LT; break;
	case TK_LE: op = B_LE; break;
	case TK_GT: op = B_GT; break;
	case TK_GE: op = B_GE; break;
	default:
		return l;
	}
	pos = p->tstart;
	lx_next(p);
	if ((r = parse_add(p)) == NULL)
		return NULL;
	if (p->tok >= TK_EQ && p->tok <= TK_GE) {
		lx_err(p, p->tstart, "syntax error: comparisons do not chain");
		return NULL;
	}
	return binop(p, pos, op, l, r);
}

/* a and b, a or b: `and` binds tighter */
static struct node *
parse_logic(struct parser *p, int isor)
{
	struct node *l, *r, *n;
	size_t pos;

	if ((l = isor ? parse_logic(p, 0) : parse_cmp(p)) == NULL)
		return NULL;
	while (lx_istok(p, isor ? "or" : "and")) {
		pos = p->tstart;
		lx_next(p);
		if ((r = isor ? parse_logic(p, 0) : parse_cmp(p)) == NULL)
			return NULL;
		n = mk2(p, isor ? N_OR : N_AND, pos, l, r);
		n->single = l->single && r->single;
		l = n;
	}
	return l;
}

static struct node *
parse_alt(struct parser *p)
{
	struct node *l, *r, *n;
	size_t pos;

	if ((l = parse_logic(p, 1)) == NULL)
		return NULL;
	if (p->tok == TK_ASSIGN || p->tok == TK_OPASSIGN) {
		const char *o = p->src + p->tstart;

		n = mk(p, N_ASSIGN, p->tstart);
		switch (*o) {
		case '=': n->bop = B_SET; break;
		case '|': n->bop = B_UPDATE; break;
		case '+': n->bop = B_ADD; break;
		case '-': n->bop = B_SUB; break;
		case '*': n->bop = B_MUL; break;
		case '/': n->bop = o[1] == '/' ? B_ALTSET : B_DIV; break;
		default: n->bop = B_MOD; break;
		}
		lx_next(p);
		n->a = l;
		if ((n->b = parse_logic(p, 1)) == NULL)
			return NULL;
		if (p->tok == TK_ASSIGN || p->tok == TK_OPASSIGN) {
			lx_err(p, p->tstart, "syntax error: assignments do not "
			    "chain");
			return NULL;
		}
		l = n;
	}
	if (p->tok == TK_ALT) {
		pos = p->tstart;
		lx_next(p);
		if ((r = parse_alt(p)) == NULL)
			return NULL;
		n = mk2(p, N_ALT, pos, l, r);
		n->single = l->single && r->single;
		return n;
	}
	return l;
}

static struct node *
parse_comma(struct parser *p)
{
	struct node *l, *r;
	size_t pos;

	if ((l = parse_alt(p)) == NULL)
		return NULL;
	while (p->tok == TK_COMMA) {
		pos = p->tstart;
		lx_next(p);
		if ((r = parse_alt(p)) == NULL)
			return NULL;
		l = mk2(p, N_COMMA, pos, l, r);
	}
	return l;
}

static struct node *
parse_pipe(struct parser *p)
{
	struct node *l, *r, *n;
	size_t pos;

	if ((l = parse_comma(p)) == NULL)
		return NULL;
	if (p->tok == TK_PIPE) {
		pos = p->tstart;
		lx_next(p);
		if ((r = parse_pipe(p)) == NULL)
			return NULL;
		n = mk2(p, N_PIPE, pos, l, r);
		n->single = l->single && r->single;
		return n;
	}
	return l;
}

/* Mark the if/elif chains single when all their parts are. */
static void
fixsingle(struct node *n)
{
	int i;

	if (n == NULL)
		return;
	if (n->op == N_DEF)
		return;		/* done when it was parsed */
	fixsingle(n->a);
	fixsingle(n->b);
	fixsingle(n->c);
	if (n->op != N_UCALL)
		fixsingle(n->d);
	for (i = 0; i < n->nargs; i++)
		fixsingle(n->args[i]);
	if (n->op == N_IF)
		n->single = n->a->single && n->b->single &&
		    (n->c == NULL || n->c->single);
	else if (n->op == N_PIPE || n->op == N_AS)
		n->single = n->a->single && n->b->single;
	else if (n->op == N_ALT || n->op == N_AND || n->op == N_OR ||
	    n->op == N_BIN)
		n->single = n->a->single && n->b->single;
	else if (n->op == N_FIELD && n->a != NULL)
		n->single = n->a->single;
	else if (n->op == N_NEG || n->op == N_UP)
		n->single = n->a->single;
	else if (n->op == N_OBJ || n->op == N_STRI || (n->op == N_CALL &&
	    n->fn->kind == BK_VAL)) {
		n->single = n->op != N_CALL || n->fn->kind == BK_VAL;
		for (i = 0; i < n->nargs; i++)
			n->single &= n->args[i]->single;
	} else if (n->op == N_INDEX)
		n->single = n->a->single && n->b->single;
	else if (n->op == N_SLICE)
		n->single = n->a->single && (n->b == NULL || n->b->single) &&
		    (n->c == NULL || n->c->single);
}

/* ============================================================== API */

/*
 * Builtins defined in the language itself, as jq defines them (written
 * for ds; parsed before each program, they cost nothing unless called).
 */
static const char prelude[] =
    "def recurse(f): def r: ., (f | r); r;"
    "def recurse(f; cond): def r: ., (f | select(cond) | r); r;"
    "def recurse_down: recurse;"
    "def index($i): indices($i) | .[0];"
    "def rindex($i): indices($i) | .[-1:][0];"
    "def in(xs): . as $x | xs | has($x);"
    "def any(g; cond): isempty(first(g | cond | select(.))) | not;"
    "def all(g; cond): isempty(first(g | cond | select(. | not)));"
    "def IN(s): any(s == .; .);"
    "def IN(src; s): any(src == s; .);"
    "def nth($n; f): if $n < 0 then error(\"nth doesn't support negative "
    "indices\") else [limit($n + 1; f)] | if length > $n then .[$n] else "
    "empty end end;"
    "def first: .[0];"
    "def last: .[-1];"
    "def while(cond; update): def w: if cond then ., (update | w) else "
    "empty end; w;"
    "def until(cond; update): def u: if cond then . else (update | u) end;"
    " u;"
    "def repeat(f): def r: ., (f | r); r;"
    "def combinations: if length == 0 then [] else .[0][] as $x | "
    "(.[1:] | combinations) as $w | [$x] + $w end;"
    "def combinations(n): . as $d | [range(n)] | map($d) | combinations;"
    "def walk(f): def w: if type == \"object\" then map_values(w) "
    "elif type == \"array\" then map(w) else . end | f; w;"
    "def transpose: if . == [] then [] else . as $in | (map(length) | max)"
    " as $max | [range(0; $max) as $j | [range(0; $in | length) as $i | "
    "$in[$i][$j]]] end;"
    "def ascii: [.] | implode;"
    "def abs: if type == \"number\" and . < 0 then - . else . end;"
    "def toarray: if type == \"array\" then . else [.] end;"
    "def ltrim: if type != \"string\" then error(\"trim input must be a "
    "string\") else sub(\"^\\\\s+\"; \"\") end;"
    "def rtrim: if type != \"string\" then error(\"trim input must be a "
    "string\") else sub(\"\\\\s+$\"; \"\") end;"
    "def trim: ltrim | rtrim;"
    "def pick(pathexps): . as $top | reduce path(pathexps) as $p (null; "
    "setpath($p; $top | getpath($p)));"
    "def paths(node_filter): . as $dot | paths | select(. as $p | $dot | "
    "getpath($p) | node_filter);"
    "def leaf_paths: paths(scalars);"
    "def tostream: path(def r: (.[]? | r), .; r) as $p | getpath($p) | "
    "reduce path(.[]?) as $q ([$p, .]; [$p + $q]);"
    "def fromstream(f): {x: null, e: false} as $init | foreach f as $i "
    "($init; if .e then $init else . end | if $i | length == 2 then "
    "setpath([\"e\"]; $i[0] | length == 0) | setpath([\"x\"] + $i[0]; "
    "$i[1]) else setpath([\"e\"]; $i[0] | length == 1) end; if .e then .x"
    " else empty end);"
    "def truncate_stream(stream): . as $n | null | stream | . as $input | "
    "if (.[0] | length) > $n then setpath([0]; .[0][$n:]) else empty end;"
    "def INDEX(stream; idx_expr): reduce stream as $row ({}; "
    ".[$row | idx_expr | tostring] |= $row);"
    "def INDEX(idx_expr): INDEX(.[]; idx_expr);"
    "def JOIN($idx; idx_expr): [.[] | [., $idx[idx_expr]]];"
    "def JOIN($idx; stream; idx_expr): stream | [., $idx[idx_expr]];"
    "def JOIN($idx; stream; idx_expr; join_expr): stream | "
    "[., $idx[idx_expr]] | join_expr;"
    "def isvalid(f): try (f | true) catch false;"
    "def finites: select(isinfinite or isnan | not);"
    "def isnormal: type == \"number\" and (isnan or isinfinite or "
    "(. < 2.2250738585072014e-308 and . > -2.2250738585072014e-308) "
    "| not);"
    "def normals: select(isnormal);"
    "def bsearch($t): if length == 0 then -1 else . as $a | "
    "{lo: 0, hi: (length - 1), r: null} | until(.r != null or .lo > .hi; "
    "((.lo + .hi) / 2 | floor) as $m | if $a[$m] == $t then .r = $m "
    "elif $a[$m] < $t then .lo = $m + 1 else .hi = $m - 1 end) | "
    "if .r != null then .r else -1 - .lo end end;"
    "def add(f): reduce f as $x (null; . + $x);"
    "def with_entries(f): to_entries | map(f) | from_entries;"
    "def have_decnum: false;"
    "def have_literal_numbers: true;"
    ;


struct ds_expr *
ds_expr_compile(const char *src, const char *const *vars, int nvars,
    char *errbuf, size_t errlen)
{
	struct ds_expr *x;
	struct parser p;
	struct node *root;
	int i;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		err(1, NULL);
	ds_expr_limits(x, DS_MAXDEPTH_DEFAULT, DS_MAXLINE_DEFAULT);
	memset(&p, 0, sizeof(p));
	p.x = x;
	p.src = src;
	p.gvars = vars;
	p.ngvars = nvars;
	p.err = errbuf;
	p.errlen = errlen;
	/* the prelude's functions are in scope for the program */
	p.src = prelude;
	lx_next(&p);
	while (lx_istok(&p, "def") && parse_def(&p) != NULL)
		;
	if (p.failed || p.tok != TK_EOF)
		errx(1, "internal error: prelude: %s", errbuf);
	p.src = src;
	p.pos = 0;
	lx_next(&p);
	if (p.tok == TK_EOF) {
		/* jq's empty program is `.` */
		root = mk(&p, N_DOT, 0);
		root->single = 1;
	} else if ((root = parse_pipe(&p)) != NULL && p.tok != TK_EOF) {
		if (p.tok == TK_ASSIGN || p.tok == TK_OPASSIGN)
			lx_unsupported(&p, p.tstart, "assignment");
		else
			lx_err(&p, p.tstart, "syntax error: unexpected '%.*s'",
			    (int)(p.tend - p.tstart), src + p.tstart);
		root = NULL;
	}
	if (root == NULL || p.failed) {
		ds_expr_free(x);
		return NULL;
	}
	fixsingle(root);
	x->root = root;
	x->identity = root->op == N_DOT;
	x->nglobals = nvars;
	x->globals = ea_alloc(&x->perm, (nvars + 1) * sizeof(*x->globals));
	if ((x->garena = calloc(nvars + 1, sizeof(*x->garena))) == NULL)
		err(1, NULL);
	for (i = 0; i < nvars; i++)
		x->globals[i] = &ev_null;
	return x;
}

void
ds_expr_limits(struct ds_expr *x, int maxdepth, size_t maxline)
{
	x->maxdepth = maxdepth;
	x->maxline = maxline;
}

int
ds_expr_bind(struct ds_expr *x, int i, const char *json, size_t len)
{
	char msg[128];
	struct val *v;
	char *copy;

	if (i < 0 || i >= x->nglobals)
		return -1;
	/* each variable has its own arena, emptied when it is bound
	 * again: ds-state binds per key and batch, memory must not grow */
	if ((v = ev_parse(&x->a, json, len, x->maxdepth, msg,
	    sizeof(msg))) == NULL)
		return -1;
	ea_reset(&x->garena[i]);
	copy = ea_strdup(&x->garena[i], json, len);
	v = ev_parse(&x->garena[i], copy, len, x->maxdepth, msg,
	    sizeof(msg));
	x->globals[i] = v;
	return 0;
}

void
ds_expr_free(struct ds_expr *x)
{
	int i;

	if (x == NULL)
		return;
	ex_rxfree(x);
	for (i = 0; x->garena != NULL && i < x->nglobals; i++)
		ea_free(&x->garena[i]);
	free(x->garena);
	ea_free(&x->perm);
	ea_free(&x->a);
	ds_buf_free(&x->out);
	free(x);
}
