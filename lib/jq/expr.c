/*
 * expr.c -- the jq-subset language of ds-map(1) (and ds-state -e):
 * a recursive-descent compiler to a node tree, and an evaluator in
 * continuation-passing style: eval() calls its continuation once per
 * output, which gives jq's generator semantics (0..n outputs, the
 * cartesian order of jq's operators) without a VM.  Nodes that always
 * give exactly one output are marked single at compile time and run
 * through eval1(), a direct function call chain with no continuation:
 * that is the hot path (`select(.app=="live") | {user,bytes}`).
 *
 * Values live in an arena reset after each record (exprval.c).  The
 * program `.` alone prints a line that is already in jq -c's form as it
 * is, without building a tree.
 */
#include <ctype.h>
#include <err.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "jq/jq.h"
#include "jq/exprint.h"

/* ============================================================ lexer */

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

static void
perr(struct parser *p, size_t at, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	size_t i;
	int line = 1, col = 1;

	if (p->failed++)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	for (i = 0; i < at && p->src[i] != '\0'; i++) {
		if (p->src[i] == '\n') {
			line++;
			col = 1;
		} else
			col++;
	}
	snprintf(p->err, p->errlen, "%s at %d:%d", what, line, col);
}

static void
unsupported(struct parser *p, size_t at, const char *what)
{
	perr(p, at, "unsupported: '%s'", what);
}

static int
isident(int c)
{
	return isalnum(c) || c == '_';
}

static void
next(struct parser *p)
{
	const char *s = p->src;
	size_t i;
	char *end;

	for (;;) {
		while (s[p->pos] == ' ' || s[p->pos] == '\t' ||
		    s[p->pos] == '\n' || s[p->pos] == '\r')
			p->pos++;
		if (s[p->pos] != '#')
			break;
		while (s[p->pos] != '\0' && s[p->pos] != '\n')
			p->pos++;
	}
	i = p->tstart = p->pos;
	switch (s[i]) {
	case '\0':
		p->tok = TK_EOF;
		break;
	case '"':
		p->tok = TK_QUOTE;	/* the parser reads the string itself */
		p->tend = i + 1;
		return;
	case '.':
		if (s[i + 1] == '.') {
			p->tok = TK_DOTDOT;
			p->pos = i + 2;
		} else if (isalpha((unsigned char)s[i + 1]) || s[i + 1] == '_') {
			p->pos = i + 1;
			while (isident((unsigned char)s[p->pos]))
				p->pos++;
			p->tok = TK_FIELD;
		} else if (s[i + 1] == '"') {
			p->tok = TK_DOTSTR;
			p->pos = i + 1;	/* at the quote */
		} else if (isdigit((unsigned char)s[i + 1]))
			goto number;
		else {
			p->tok = TK_DOT;
			p->pos = i + 1;
		}
		break;
	case '$':
		p->pos = i + 1;
		while (isident((unsigned char)s[p->pos]))
			p->pos++;
		p->tok = p->pos > i + 1 ? TK_VAR : TK_BAD;
		break;
	case '@':
		p->pos = i + 1;
		while (isident((unsigned char)s[p->pos]))
			p->pos++;
		p->tok = TK_FORMAT;
		break;
	case '[': p->tok = TK_LBRACK; p->pos++; break;
	case ']': p->tok = TK_RBRACK; p->pos++; break;
	case '{': p->tok = TK_LBRACE; p->pos++; break;
	case '}': p->tok = TK_RBRACE; p->pos++; break;
	case '(': p->tok = TK_LPAREN; p->pos++; break;
	case ')': p->tok = TK_RPAREN; p->pos++; break;
	case ',': p->tok = TK_COMMA; p->pos++; break;
	case ':': p->tok = TK_COLON; p->pos++; break;
	case ';': p->tok = TK_SEMI; p->pos++; break;
	case '|':
		p->tok = s[i + 1] == '=' ? TK_OPASSIGN : TK_PIPE;
		p->pos += s[i + 1] == '=' ? 2 : 1;
		break;
	case '+': case '-': case '*': case '%':
		if (s[i + 1] == '=') {
			p->tok = TK_OPASSIGN;
			p->pos += 2;
			break;
		}
		p->tok = s[i] == '+' ? TK_PLUS : s[i] == '-' ? TK_MINUS :
		    s[i] == '*' ? TK_STAR : TK_PERCENT;
		p->pos++;
		break;
	case '/':
		if (s[i + 1] == '/') {
			if (s[i + 2] == '=') {
				p->tok = TK_OPASSIGN;
				p->pos += 3;
			} else {
				p->tok = TK_ALT;
				p->pos += 2;
			}
		} else if (s[i + 1] == '=') {
			p->tok = TK_OPASSIGN;
			p->pos += 2;
		} else {
			p->tok = TK_SLASH;
			p->pos++;
		}
		break;
	case '=':
		p->tok = s[i + 1] == '=' ? TK_EQ : TK_ASSIGN;
		p->pos += s[i + 1] == '=' ? 2 : 1;
		break;
	case '!':
		p->tok = s[i + 1] == '=' ? TK_NE : TK_BAD;
		p->pos += s[i + 1] == '=' ? 2 : 1;
		break;
	case '<':
		p->tok = s[i + 1] == '=' ? TK_LE : TK_LT;
		p->pos += s[i + 1] == '=' ? 2 : 1;
		break;
	case '>':
		p->tok = s[i + 1] == '=' ? TK_GE : TK_GT;
		p->pos += s[i + 1] == '=' ? 2 : 1;
		break;
	case '?':
		if (s[i + 1] == '/' && s[i + 2] == '/') {
			p->tok = TK_ALTDESTR;
			p->pos += 3;
		} else {
			p->tok = TK_QMARK;
			p->pos++;
		}
		break;
	default:
		if (isdigit((unsigned char)s[i]))
			goto number;
		if (isalpha((unsigned char)s[i]) || s[i] == '_') {
			while (isident((unsigned char)s[p->pos]) ||
			    (s[p->pos] == ':' && s[p->pos + 1] == ':'))
				p->pos += s[p->pos] == ':' ? 2 : 1;
			p->tok = TK_IDENT;
			break;
		}
		p->tok = TK_BAD;
		p->pos++;
	}
	p->tend = p->pos;
	return;
number:
	p->num = strtod(s + i, &end);
	p->pos = end - s;
	p->tok = TK_NUM;
	p->tend = p->pos;
}

static int
istok(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	return p->tok == TK_IDENT && p->tend - p->tstart == n &&
	    memcmp(p->src + p->tstart, word, n) == 0;
}

static int
expect(struct parser *p, enum tok t, const char *what)
{
	if (p->tok != t) {
		if (p->tok == TK_EOF)
			perr(p, p->tstart, "syntax error: expected %s, got end "
			    "of program", what);
		else
			perr(p, p->tstart, "syntax error: expected %s", what);
		return -1;
	}
	next(p);
	return 0;
}

/* ============================================================ parser */

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

/* The value of the four hex digits at s, or -1 (also at a NUL). */
static int
hex4(const char *s)
{
	int i, c, v = 0;

	for (i = 0; i < 4; i++) {
		c = (unsigned char)s[i];
		if (isdigit(c))
			v = v * 16 + c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v = v * 16 + (c | 0x20) - 'a' + 10;
		else
			return -1;
	}
	return v;
}

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
			perr(p, start, "syntax error: unterminated string");
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
			if ((cp = hex4(s + p->pos)) < 0) {
				perr(p, p->pos, "syntax error: bad \\u escape");
				goto fail;
			}
			p->pos += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && s[p->pos] == '\\' &&
			    s[p->pos + 1] == 'u') {
				/* hex4 stops at the NUL of a program cut short */
				lo = hex4(s + p->pos + 2);
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
				perr(p, p->pos, "too many interpolations");
				goto fail;
			}
			n = mk(p, N_LIT, p->pos);
			n->v = ev_str(&p->x->perm, b.p ? b.p : "", b.len);
			n->single = 1;
			n->segment = 1;
			parts[nparts++] = n;
			ds_buf_clear(&b);
			next(p);
			if ((e = parse_pipe(p)) == NULL)
				goto fail;
			if (p->tok != TK_RPAREN) {
				perr(p, p->tstart, "syntax error: expected ')' "
				    "in string interpolation");
				goto fail;
			}
			/* p->pos is just after the ')' */
			parts[nparts++] = e;
			break;
		default:
			perr(p, p->pos - 2, "syntax error: bad escape in string");
			goto fail;
		}
	}
	n = mk(p, N_LIT, start);
	n->v = ev_str(&p->x->perm, b.p ? b.p : "", b.len);
	n->single = 1;
	ds_buf_free(&b);
	if (nparts == 0) {
		next(p);
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
	next(p);
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
		static struct val kf = { T_STR, 1, 4, { .s = "file" } };
		static struct val kl = { T_STR, 1, 4, { .s = "line" } };
		struct val *o = ev_obj(&p->x->perm, 2);
		int line = 1;

		for (i = 0; (size_t)i < pos; i++)
			line += p->src[i] == '\n';
		ev_set(o, &kf, ev_str(&p->x->perm, "<top-level>", 11));
		ev_set(o, &kl, ev_num(&p->x->perm, line));
		next(p);
		return lit(p, pos, o);
	}
	for (i = p->nsyms - 1; i >= 0; i--)
		if (p->syms[i].kind == SY_VAR &&
		    strlen(p->syms[i].name) == len &&
		    memcmp(p->syms[i].name, name, len) == 0) {
			n = mk(p, N_VAR, pos);
			n->var = p->nframes - 1 - p->syms[i].frame;
			n->single = 1;
			next(p);
			return n;
		}
	for (i = 0; i < p->ngvars; i++)
		if (strlen(p->gvars[i]) == len &&
		    memcmp(p->gvars[i], name, len) == 0) {
			n = mk(p, N_GVAR, pos);
			n->var = i;
			n->single = 1;
			next(p);
			return n;
		}
	perr(p, pos, "$%.*s is not defined", (int)len, name);
	return NULL;
}

static int
pushsym(struct parser *p, int kind, const char *name, size_t len, int nargs,
    struct node *def)
{
	struct sym *y;

	if (p->nsyms == 512) {
		perr(p, p->tstart, "too many nested names");
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
		perr(p, p->tstart, "destructuring pattern too large");
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
		next(p);
		return 0;
	}
	if (p->tok == TK_LBRACK) {
		next(p);
		for (i = 0; ; i++) {
			k = lit(p, p->tstart, ev_num(&p->x->perm, i));
			if (parse_pattern(p, a, idx(p, base, k)) == -1)
				return -1;
			if (p->tok != TK_COMMA)
				break;
			next(p);
		}
		return expect(p, TK_RBRACK, "']'");
	}
	if (p->tok != TK_LBRACE) {
		perr(p, pos, "syntax error: expected $name, [...] or {...}");
		return -1;
	}
	next(p);
	for (;;) {
		pos = p->tstart;
		if (p->tok == TK_VAR) {
			const char *name = p->src + p->tstart + 1;
			size_t len = p->tend - p->tstart - 1;

			k = field(p, pos, base, name, len);
			if (addbind(p, a, name, len, k) == -1)
				return -1;
			next(p);
			if (p->tok == TK_COLON) {
				next(p);
				if (parse_pattern(p, a, k) == -1)
					return -1;
			}
		} else {
			if (p->tok == TK_IDENT) {
				k = lit(p, pos, ev_str(&p->x->perm,
				    p->src + p->tstart, p->tend - p->tstart));
				next(p);
			} else if (p->tok == TK_QUOTE) {
				if ((k = parse_string(p)) == NULL)
					return -1;
			} else if (p->tok == TK_LPAREN) {
				next(p);
				if ((k = parse_pipe(p)) == NULL ||
				    expect(p, TK_RPAREN, "')'") == -1)
					return -1;
			} else {
				perr(p, pos, "syntax error: bad object "
				    "pattern key");
				return -1;
			}
			if (expect(p, TK_COLON, "':'") == -1 ||
			    parse_pattern(p, a, idx(p, base, k)) == -1)
				return -1;
		}
		if (p->tok != TK_COMMA)
			break;
		next(p);
	}
	return expect(p, TK_RBRACE, "'}'");
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
		next(p);
		if (p->tok != TK_ALTDESTR)
			return 1;
		popsyms(p, mark);
		p->pos = vstart;
		next(p);	/* back at the $name: it is a pattern */
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
					perr(p, p->tstart, "destructuring "
					    "pattern too large");
					return -1;
				}
				ps->u[ps->nu++] = a->name[i];
			}
		}
		if (p->tok != TK_ALTDESTR)
			break;
		next(p);
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

	next(p);
	while (p->tok != TK_RBRACE) {
		size_t kpos = p->tstart;

		if (ni + 2 > 256) {
			perr(p, kpos, "object construction too large");
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
			next(p);
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
			next(p);
		} else if (p->tok == TK_LPAREN) {
			next(p);
			if ((k = parse_pipe(p)) == NULL ||
			    expect(p, TK_RPAREN, "')'") == -1)
				return NULL;
		} else if (p->tok == TK_FORMAT) {
			unsupported(p, kpos, "@format");
			return NULL;
		} else {
			perr(p, kpos, "syntax error: bad object key");
			return NULL;
		}
		if (v == NULL) {
			struct node *r;

			if (expect(p, TK_COLON, "':'") == -1)
				return NULL;
			/* jq's ObjVal: no ',' (it separates members) */
			if ((v = parse_alt(p)) == NULL)
				return NULL;
			while (p->tok == TK_PIPE) {
				size_t ppos = p->tstart;

				next(p);
				if ((r = parse_alt(p)) == NULL)
					return NULL;
				v = mk2(p, N_PIPE, ppos, v, r);
				v->single = v->a->single && v->b->single;
			}
		}
		if (k->op == N_LIT && k->v->t != T_STR) {
			perr(p, kpos, "Cannot use %s as object key",
			    ex_desc(p->x, k->v));
			return NULL;
		}
		items[ni++] = k;
		items[ni++] = v;
		if (p->tok == TK_COMMA)
			next(p);
		else if (p->tok != TK_RBRACE) {
			perr(p, p->tstart, "syntax error: expected ',' or '}'");
			return NULL;
		}
	}
	next(p);
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
	next(p);
	if (p->tok == TK_LPAREN) {
		next(p);
		for (;;) {
			if (nargs == 16) {
				perr(p, p->tstart, "too many arguments");
				return NULL;
			}
			if ((args[nargs++] = parse_pipe(p)) == NULL)
				return NULL;
			if (p->tok == TK_SEMI) {
				next(p);
				continue;
			}
			if (expect(p, TK_RPAREN, "')' or ';'") == -1)
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
			unsupported(p, pos, what);
		else
			perr(p, pos, "%s is not defined", what);
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

	next(p);
	if (p->tok != TK_IDENT) {
		perr(p, p->tstart, "syntax error: expected a function name");
		return NULL;
	}
	def = mk(p, N_DEF, pos);
	def->v = ev_str(&p->x->perm, p->src + p->tstart, p->tend - p->tstart);
	next(p);
	if (p->tok == TK_LPAREN) {
		do {
			next(p);
			if (np == 16) {
				perr(p, p->tstart, "too many parameters");
				return NULL;
			}
			if (p->tok != TK_IDENT && p->tok != TK_VAR) {
				perr(p, p->tstart, "syntax error: expected a "
				    "parameter");
				return NULL;
			}
			dollar[np] = p->tok == TK_VAR;
			pname[np] = p->src + p->tstart + dollar[np];
			plen[np] = p->tend - p->tstart - dollar[np];
			np++;
			next(p);
		} while (p->tok == TK_SEMI);
		if (expect(p, TK_RPAREN, "')'") == -1)
			return NULL;
	}
	if (expect(p, TK_COLON, "':'") == -1)
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
	if (body == NULL || expect(p, TK_SEMI, "';'") == -1)
		return NULL;
	for (i = np - 1; i >= 0; i--)
		if (calls[i] != NULL)
			body = mk2(p, N_AS, pos, calls[i], body);
	fixsingle(body);
	def->a = body;
	return def;
}

static struct node *
parse_primary(struct parser *p)
{
	struct node *n, *a;
	size_t pos = p->tstart;

	switch (p->tok) {
	case TK_NUM:
		n = lit(p, pos, ev_num(&p->x->perm, p->num));
		next(p);
		return n;
	case TK_QUOTE:
		return parse_string(p);
	case TK_FORMAT: {
		char w[32];
		int fmt;

		fmt = ex_fmtid(p->src + p->tstart + 1, p->tend - p->tstart - 1);
		if (fmt == 0) {
			snprintf(w, sizeof(w), "%.*s",
			    (int)(p->tend - p->tstart), p->src + p->tstart);
			unsupported(p, pos, w);
			return NULL;
		}
		next(p);
		if (p->tok == TK_QUOTE) {
			/* @fmt "...\(f)...": the format applies to each f */
			if ((a = parse_string(p)) == NULL)
				return NULL;
			if (a->op == N_STRI)
				a->fmt = fmt;
			return a;
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
	case TK_DOT:
		n = mk(p, N_DOT, pos);
		n->single = 1;
		next(p);
		if (p->tok == TK_QUOTE) {
			/* . "x" is not jq; ."x" is lexed as TK_DOTSTR */
			perr(p, p->tstart, "syntax error: unexpected string");
			return NULL;
		}
		return n;
	case TK_FIELD:
		n = mk(p, N_DOT, pos);
		n->single = 1;
		n = field(p, pos, n, p->src + pos + 1, p->tend - pos - 1);
		next(p);
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
	case TK_DOTDOT: {
		int known;

		n = mk(p, N_CALL, pos);
		n->fn = ex_lookup("recurse", 0, &known);
		next(p);
		return n;
	}
	case TK_VAR:
		return parse_var(p);
	case TK_LPAREN:
		next(p);
		if ((n = parse_pipe(p)) == NULL ||
		    expect(p, TK_RPAREN, "')'") == -1)
			return NULL;
		return n;
	case TK_LBRACK:
		next(p);
		n = mk(p, N_ARR, pos);
		n->single = 1;
		if (p->tok == TK_RBRACK) {
			next(p);
			return n;
		}
		if ((n->a = parse_pipe(p)) == NULL ||
		    expect(p, TK_RBRACK, "']'") == -1)
			return NULL;
		return n;
	case TK_LBRACE:
		return parse_object(p);
	case TK_MINUS:
		next(p);
		if ((a = parse_postfix(p, 1)) == NULL)
			return NULL;
		n = mk(p, N_NEG, pos);
		n->a = a;
		n->single = a->single;
		return n;
	case TK_IDENT:
		break;
	default:
		if (p->tok == TK_EOF)
			perr(p, pos, "syntax error: unexpected end of program");
		else
			perr(p, pos, "syntax error: unexpected '%.*s'",
			    (int)(p->tend - p->tstart), p->src + p->tstart);
		return NULL;
	}
	/* identifiers: literals, keywords, function calls */
	if (istok(p, "null") || istok(p, "true") || istok(p, "false")) {
		n = lit(p, pos, istok(p, "null") ? &ev_null :
		    ev_bool(istok(p, "true")));
		next(p);
		return n;
	}
	if (istok(p, "if")) {
		struct node *top = NULL, **slot = &top;

		do {
			next(p);
			n = mk(p, N_IF, p->tstart);
			if ((n->a = parse_pipe(p)) == NULL)
				return NULL;
			if (!istok(p, "then")) {
				perr(p, p->tstart, "syntax error: expected then");
				return NULL;
			}
			next(p);
			if ((n->b = parse_pipe(p)) == NULL)
				return NULL;
			*slot = n;
			slot = &n->c;
		} while (istok(p, "elif"));
		if (istok(p, "else")) {
			next(p);
			if ((*slot = parse_pipe(p)) == NULL)
				return NULL;
		}
		if (!istok(p, "end")) {
			perr(p, p->tstart, "syntax error: expected end");
			return NULL;
		}
		next(p);
		return top;
	}
	if (istok(p, "reduce") || istok(p, "foreach")) {
		int isreduce = istok(p, "reduce"), mark, nb;
		struct sym save[MAXBIND + 1];
		struct pats ps;

		n = mk(p, isreduce ? N_REDUCE : N_FOREACH, pos);
		next(p);
		if ((n->a = parse_postfix(p, 0)) == NULL)
			return NULL;
		if (!istok(p, "as")) {
			perr(p, p->tstart, "syntax error: expected as");
			return NULL;
		}
		next(p);
		mark = p->nsyms;
		if ((nb = parse_patterns(p, &ps)) == -1 ||
		    expect(p, TK_LPAREN, "'('") == -1)
			return NULL;
		/* init does not see the variables; an `as` in it must not
		 * clobber them */
		memcpy(save, p->syms + mark, nb * sizeof(*save));
		popsyms(p, mark);
		n->b = parse_pipe(p);
		memcpy(p->syms + mark, save, nb * sizeof(*save));
		p->nsyms = mark + nb;
		p->nframes += nb;
		if (n->b == NULL || expect(p, TK_SEMI, "';'") == -1 ||
		    (n->c = parse_pipe(p)) == NULL)
			return NULL;
		if (!isreduce && p->tok == TK_SEMI) {
			next(p);
			if ((n->d = parse_pipe(p)) == NULL)
				return NULL;
		}
		popsyms(p, mark);
		if (expect(p, TK_RPAREN, "')'") == -1)
			return NULL;
		n->c = bindpats(p, &ps, n->c);
		if (n->d != NULL)
			n->d = bindpats(p, &ps, n->d);
		return n;
	}
	if (istok(p, "try")) {
		n = mk(p, N_TRY, pos);
		next(p);
		if ((n->a = parse_postfix(p, 0)) == NULL)
			return NULL;
		if (istok(p, "catch")) {
			next(p);
			if ((n->b = parse_postfix(p, 0)) == NULL)
				return NULL;
		}
		return n;
	}
	if (istok(p, "def")) {
		int mark;

		if (parse_def(p) == NULL)
			return NULL;
		mark = p->nsyms - 1;
		n = parse_pipe(p);
		popsyms(p, mark);
		return n;
	}
	if (istok(p, "label")) {
		/* label $name | body: a frame holds this run's id */
		int mark = p->nsyms;
		char lname[80];

		next(p);
		if (p->tok != TK_VAR) {
			perr(p, p->tstart, "syntax error: expected $name");
			return NULL;
		}
		snprintf(lname, sizeof(lname), "*label-%.*s",
		    (int)(p->tend - p->tstart - 1), p->src + p->tstart + 1);
		next(p);
		if (expect(p, TK_PIPE, "'|'") == -1 ||
		    pushsym(p, SY_VAR, lname, strlen(lname), 0, NULL) == -1)
			return NULL;
		n = mk(p, N_LABEL, pos);
		n->a = parse_pipe(p);
		popsyms(p, mark);
		return n->a == NULL ? NULL : n;
	}
	if (istok(p, "break")) {
		char lname[80];
		int i;

		next(p);
		if (p->tok != TK_VAR) {
			perr(p, p->tstart, "syntax error: expected $name");
			return NULL;
		}
		snprintf(lname, sizeof(lname), "*label-%.*s",
		    (int)(p->tend - p->tstart - 1), p->src + p->tstart + 1);
		for (i = p->nsyms - 1; i >= 0; i--)
			if (p->syms[i].kind == SY_VAR &&
			    strcmp(p->syms[i].name, lname) == 0)
				break;
		if (i < 0) {
			perr(p, p->tstart, "$%s is not defined", lname + 1);
			return NULL;
		}
		n = mk(p, N_BREAK, pos);
		n->var = p->nframes - 1 - p->syms[i].frame;
		next(p);
		return n;
	}
	if (istok(p, "import") || istok(p, "include")) {
		char w[16];

		snprintf(w, sizeof(w), "%.*s", (int)(p->tend - p->tstart),
		    p->src + p->tstart);
		unsupported(p, pos, w);
		return NULL;
	}
	if (istok(p, "then") || istok(p, "else") || istok(p, "elif") ||
	    istok(p, "end") || istok(p, "as") || istok(p, "and") ||
	    istok(p, "or") || istok(p, "catch")) {
		perr(p, pos, "syntax error: unexpected '%.*s'",
		    (int)(p->tend - p->tstart), p->src + p->tstart);
		return NULL;
	}
	return parse_call(p);
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
			next(p);
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
			next(p);	/* .a.[0], jq 1.7 syntax */
		} else if (p->tok == TK_LBRACK) {
			next(p);
			if (p->tok == TK_RBRACK) {
				next(p);
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
				next(p);
				if (p->tok != TK_RBRACK &&
				    (n->c = parse_pipe(p)) == NULL)
					return NULL;
				if (n->b == NULL && n->c == NULL) {
					perr(p, pos, "syntax error: empty slice");
					return NULL;
				}
			} else
				n->op = N_INDEX;
			if (expect(p, TK_RBRACK, "']'") == -1)
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
			next(p);
			n = mk(p, N_TRY, pos);
			n->a = t;
			t = n;
		} else if (allowas && istok(p, "as")) {
			struct pats ps;
			int mark = p->nsyms;

			next(p);
			n = mk(p, N_AS, pos);
			n->a = t;
			if (parse_patterns(p, &ps) == -1 ||
			    expect(p, TK_PIPE, "'|'") == -1)
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
		next(p);
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
		next(p);
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
	next(p);
	if ((r = parse_add(p)) == NULL)
		return NULL;
	if (p->tok >= TK_EQ && p->tok <= TK_GE) {
		perr(p, p->tstart, "syntax error: comparisons do not chain");
		return NULL;
	}
	return binop(p, pos, op, l, r);
}

static struct node *
parse_and(struct parser *p)
{
	struct node *l, *r, *n;
	size_t pos;

	if ((l = parse_cmp(p)) == NULL)
		return NULL;
	while (istok(p, "and")) {
		pos = p->tstart;
		next(p);
		if ((r = parse_cmp(p)) == NULL)
			return NULL;
		n = mk2(p, N_AND, pos, l, r);
		n->single = l->single && r->single;
		l = n;
	}
	return l;
}

static struct node *
parse_or(struct parser *p)
{
	struct node *l, *r, *n;
	size_t pos;

	if ((l = parse_and(p)) == NULL)
		return NULL;
	while (istok(p, "or")) {
		pos = p->tstart;
		next(p);
		if ((r = parse_and(p)) == NULL)
			return NULL;
		n = mk2(p, N_OR, pos, l, r);
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

	if ((l = parse_or(p)) == NULL)
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
		next(p);
		n->a = l;
		if ((n->b = parse_or(p)) == NULL)
			return NULL;
		if (p->tok == TK_ASSIGN || p->tok == TK_OPASSIGN) {
			perr(p, p->tstart, "syntax error: assignments do not "
			    "chain");
			return NULL;
		}
		l = n;
	}
	if (p->tok == TK_ALT) {
		pos = p->tstart;
		next(p);
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
		next(p);
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
		next(p);
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

/* ============================================================ errors */

struct val *
ex_err(struct ds_expr *x, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	x->errv = ev_str(&x->a, msg, (size_t)n);
	return NULL;
}

const char *
ex_typename(const struct val *v)
{
	static const char *names[] = { "null", "boolean", "boolean",
	    "number", "string", "array", "object" };

	return names[v->t];
}

const char *
ex_desc(struct ds_expr *x, const struct val *v)
{
	struct ds_buf b = { 0 };
	char *s;
	size_t n;

	ev_print(&b, v);
	/* jq shows at most 11 bytes of the value, then "..." */
	n = b.len > 11 ? 11 : b.len;
	while (n > 0 && n < b.len && (b.p[n] & 0xc0) == 0x80)
		n--;
	s = ea_alloc(&x->a, n + 32);
	snprintf(s, n + 32, "%s (%.*s%s)", ex_typename(v), (int)n, b.p,
	    b.len > n ? "..." : "");
	ds_buf_free(&b);
	return s;
}

struct val *
ex_tojson(struct ds_expr *x, const struct val *v)
{
	struct ds_buf b = { 0 };
	struct val *r;

	if (ev_print(&b, v) == -1) {
		ds_buf_free(&b);
		return ex_err(x, "value nested too deeply to print");
	}
	r = ev_str(&x->a, b.p, b.len);
	ds_buf_free(&b);
	return r;
}

/* Number of code points in a valid UTF-8 string. */
int
ex_cplen(const char *s, size_t n)
{
	size_t i;
	int c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

/* ======================================================= operations */

#define TOODEEP	"value or recursion nested too deeply"

/* r, or the run's error if a comparison under it gave up (too deep) */
struct val *
ex_deepchk(struct ds_expr *x, struct val *r)
{
	if (!ev_toodeep)
		return r;
	ev_toodeep = 0;
	return ex_err(x, TOODEEP);
}

/* a bound of a slice path component {"start": s, "end": e} */
static struct val *
slicekey(struct val *k, const char *name)
{
	struct val *v = ev_get(k, name, strlen(name));

	return v ? v : &ev_null;
}

static struct val *slice_val(struct ds_expr *, struct val *, struct val *,
    struct val *);

struct val *
ex_index(struct ds_expr *x, struct val *t, struct val *k)
{
	struct val *v;
	double d;
	int64_t i;

	if (t->t == T_OBJ && k->t == T_STR) {
		v = ev_get(t, k->u.s, k->n);
		return v ? v : &ev_null;
	}
	if (t->t == T_ARR && k->t == T_NUM) {
		d = floor(k->u.d);
		if (isnan(d))
			return &ev_null;
		if (d < 0)
			d += t->n;
		if (d < 0 || d >= t->n)
			return &ev_null;
		i = (int64_t)d;
		return t->u.a[i];
	}
	if (t->t == T_NULL && (k->t == T_STR || k->t == T_NUM ||
	    k->t == T_OBJ))
		return &ev_null;
	if (t->t == T_ARR && k->t == T_ARR)
		return ex_indices(x, t, k);
	if ((t->t == T_ARR || t->t == T_STR) && k->t == T_OBJ)
		return slice_val(x, t, slicekey(k, "start"), slicekey(k, "end"));
	if (k->t == T_STR)
		return ex_err(x, "Cannot index %s with %s\"%.*s\"",
		    ex_typename(t), t->t == T_ARR ? "string " : "",
		    (int)k->n, k->u.s);
	return ex_err(x, "Cannot index %s with %s", ex_typename(t),
	    ex_typename(k));
}

/* byte offset of code point cp in s[0..n) (clamped) */
static size_t
cpoff(const char *s, size_t n, int64_t cp)
{
	size_t i = 0;

	while (i < n && cp > 0) {
		i++;
		while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		cp--;
	}
	return i;
}

/* [*fi, *ei): the elements of from:to in len of them; -1 on an error */
static int
slicebounds(struct ds_expr *x, double len, struct val *from, struct val *to,
    int64_t *fi, int64_t *ei)
{
	double f, e;

	if ((from->t != T_NUM && from->t != T_NULL) ||
	    (to->t != T_NUM && to->t != T_NULL)) {
		ex_err(x, "Start and end indices of an array slice must be "
		    "numbers");
		return -1;
	}
	f = from->t == T_NULL ? 0 : from->u.d;
	e = to->t == T_NULL ? len : to->u.d;
	if (f < 0)
		f += len;
	if (e < 0)
		e += len;
	f = !(f >= 0) ? 0 : f > len ? len : f;	/* NaN: 0 */
	e = isnan(e) ? len : !(e >= 0) ? 0 : e > len ? len : e;	/* NaN: end */
	*fi = (int64_t)floor(f);
	*ei = (int64_t)ceil(e);
	if (*ei > (int64_t)len)
		*ei = (int64_t)len;
	if (*ei < *fi)
		*ei = *fi;
	return 0;
}

static struct val *
slice_val(struct ds_expr *x, struct val *t, struct val *from, struct val *to)
{
	int64_t fi, ei;
	struct val *r;

	if (t->t == T_NULL)
		return &ev_null;
	if (t->t != T_ARR && t->t != T_STR)
		return ex_err(x, "Cannot index %s with object",
		    ex_typename(t));
	if (slicebounds(x, t->t == T_ARR ? (double)t->n :
	    ex_cplen(t->u.s, t->n),
	    from, to, &fi, &ei) == -1)
		return NULL;
	if (t->t == T_ARR) {
		r = ev_arr(&x->a, (uint32_t)(ei - fi));
		if (ei > fi)
			memcpy(r->u.a, t->u.a + fi, (ei - fi) * sizeof(*r->u.a));
		return r;
	}
	{
		size_t bf = cpoff(t->u.s, t->n, fi);
		size_t be = bf + cpoff(t->u.s + bf, t->n - bf, ei - fi);

		return ev_strref(&x->a, t->u.s + bf, be - bf, t->safe);
	}
}

static struct val *
concat(struct ds_expr *x, struct val *a, struct val *b)
{
	char *s;
	struct val *r;

	s = ea_alloc(&x->a, a->n + b->n + 1);
	memcpy(s, a->u.s, a->n);
	memcpy(s + a->n, b->u.s, b->n);
	s[a->n + b->n] = '\0';
	r = ev_strref(&x->a, s, a->n + b->n, a->safe && b->safe);
	return r;
}

static struct val *
deepmerge(struct ds_expr *x, struct val *a, struct val *b)
{
	struct val *r, *o;
	uint32_t i;

	if (ev_deep())
		return ex_err(x, TOODEEP);
	r = ev_objcopy(&x->a, a, b->n);
	for (i = 0; i < b->n; i++) {
		o = ev_get(r, b->u.o[i].k->u.s, b->u.o[i].k->n);
		if (o != NULL && o->t == T_OBJ && b->u.o[i].v->t == T_OBJ) {
			if ((o = deepmerge(x, o, b->u.o[i].v)) == NULL)
				return NULL;
			ev_set(r, b->u.o[i].k, o);
		} else
			ev_set(r, b->u.o[i].k, b->u.o[i].v);
	}
	return r;
}

static struct val *
strsplit(struct ds_expr *x, struct val *s, struct val *sep)
{
	struct val **tmp, *r;
	size_t n = 0, cap = 8, i, start;

	if (s->n == 0)
		return ev_arr(&x->a, 0);
	tmp = ea_alloc(&x->a, cap * sizeof(*tmp));
	if (sep->n == 0) {
		for (i = 0; i < s->n;) {
			size_t k = ev_utf8len((const unsigned char *)s->u.s + i,
			    s->n - i);

			if (k == 0)
				k = 1;
			if (n == cap) {
				struct val **nt = ea_alloc(&x->a, cap * 2 *
				    sizeof(*nt));

				memcpy(nt, tmp, n * sizeof(*nt));
				tmp = nt;
				cap *= 2;
			}
			tmp[n++] = ev_strref(&x->a, s->u.s + i, k, s->safe);
			i += k;
		}
	} else {
		for (start = i = 0; ; ) {
			const char *q = NULL;

			if (s->n - start >= sep->n)
				q = memmem(s->u.s + start, s->n - start,
				    sep->u.s, sep->n);
			i = q ? (size_t)(q - s->u.s) : s->n;
			if (n == cap) {
				struct val **nt = ea_alloc(&x->a, cap * 2 *
				    sizeof(*nt));

				memcpy(nt, tmp, n * sizeof(*nt));
				tmp = nt;
				cap *= 2;
			}
			tmp[n++] = ev_strref(&x->a, s->u.s + start, i - start,
			    s->safe);
			if (q == NULL)
				break;
			start = i + sep->n;
		}
	}
	r = ev_arr(&x->a, (uint32_t)n);
	memcpy(r->u.a, tmp, n * sizeof(*tmp));
	return r;
}

static size_t
maxline(void)
{
	return ds_opts.maxline ? ds_opts.maxline : DS_MAXLINE_DEFAULT;
}

struct val *
ex_arith(struct ds_expr *x, int op, struct val *a, struct val *b)
{
	struct val *r;
	uint32_t i, j, n;
	int c;

	switch (op) {
	case B_EQ: return ex_deepchk(x, ev_bool(ev_cmp(a, b) == 0));
	case B_NE: return ex_deepchk(x, ev_bool(ev_cmp(a, b) != 0));
	case B_LT: return ex_deepchk(x, ev_bool(ev_cmp(a, b) < 0));
	case B_LE: return ex_deepchk(x, ev_bool(ev_cmp(a, b) <= 0));
	case B_GT: return ex_deepchk(x, ev_bool(ev_cmp(a, b) > 0));
	case B_GE: return ex_deepchk(x, ev_bool(ev_cmp(a, b) >= 0));
	}
	if (a->t == T_NUM && b->t == T_NUM) {
		switch (op) {
		case B_ADD: return ev_num(&x->a, a->u.d + b->u.d);
		case B_SUB: return ev_num(&x->a, a->u.d - b->u.d);
		case B_MUL: return ev_num(&x->a, a->u.d * b->u.d);
		case B_DIV:
			if (b->u.d == 0)
				goto divzero;
			return ev_num(&x->a, a->u.d / b->u.d);
		case B_MOD: {
			int64_t ia, ib;

			/* jq: both truncated to integers; NaN gives NaN */
			if (isnan(a->u.d) || isnan(b->u.d))
				return ev_num(&x->a, NAN);
			ia = ex_dtoi(a->u.d);
			ib = ex_dtoi(b->u.d);
			if (ib == 0)
				goto divzero;
			if (ib == -1)
				return ev_num(&x->a, 0);
			return ev_num(&x->a, (double)(ia % ib));
		}
		}
	}
	switch (op) {
	case B_ADD:
		if (a->t == T_NULL)
			return b;
		if (b->t == T_NULL)
			return a;
		if (a->t == T_STR && b->t == T_STR)
			return concat(x, a, b);
		if (a->t == T_ARR && b->t == T_ARR) {
			r = ev_arr(&x->a, a->n + b->n);
			if (a->n)
				memcpy(r->u.a, a->u.a, a->n * sizeof(*r->u.a));
			if (b->n)
				memcpy(r->u.a + a->n, b->u.a,
				    b->n * sizeof(*r->u.a));
			return r;
		}
		if (a->t == T_OBJ && b->t == T_OBJ) {
			r = ev_objcopy(&x->a, a, b->n);
			for (i = 0; i < b->n; i++)
				ev_set(r, b->u.o[i].k, b->u.o[i].v);
			return r;
		}
		return ex_err(x, "%s and %s cannot be added", ex_desc(x, a),
		    ex_desc(x, b));
	case B_SUB:
		if (a->t == T_ARR && b->t == T_ARR) {
			r = ev_arr(&x->a, a->n);
			for (n = i = 0; i < a->n; i++) {
				for (j = 0; j < b->n; j++)
					if (ev_cmp(a->u.a[i], b->u.a[j]) == 0)
						break;
				if (j == b->n)
					r->u.a[n++] = a->u.a[i];
			}
			r->n = n;
			return ex_deepchk(x, r);
		}
		return ex_err(x, "%s and %s cannot be subtracted",
		    ex_desc(x, a), ex_desc(x, b));
	case B_MUL:
		if ((a->t == T_STR && b->t == T_NUM) ||
		    (a->t == T_NUM && b->t == T_STR)) {
			struct val *s = a->t == T_STR ? a : b;
			double num = a->t == T_NUM ? a->u.d : b->u.d;
			char *buf;

			/* jq 1.6: n = (int)(num - 1) more copies; a result
			 * longer than a line may be is an error */
			if (isnan(num) || num - 1 < -1)
				return &ev_null;
			if ((num - 1) * s->n >= (double)maxline())
				return ex_err(x, "Repeat string result too long");
			c = (int)(num - 1);
			if (c < 0)
				return &ev_null;
			if (s->n == 0)
				c = 0;		/* "" stays "", at once */
			buf = ea_alloc(&x->a, (size_t)s->n * (c + 1) + 1);
			for (i = 0; i <= (uint32_t)c; i++)
				memcpy(buf + (size_t)i * s->n, s->u.s, s->n);
			return ev_strref(&x->a, buf, (size_t)s->n * (c + 1),
			    s->safe);
		}
		if (a->t == T_OBJ && b->t == T_OBJ)
			return deepmerge(x, a, b);
		return ex_err(x, "%s and %s cannot be multiplied",
		    ex_desc(x, a), ex_desc(x, b));
	case B_DIV:
		if (a->t == T_STR && b->t == T_STR)
			return strsplit(x, a, b);
		return ex_err(x, "%s and %s cannot be divided", ex_desc(x, a),
		    ex_desc(x, b));
	case B_MOD:
		return ex_err(x, "%s and %s cannot be divided", ex_desc(x, a),
		    ex_desc(x, b));
	}
	return ex_err(x, "bad operator");
divzero:
	return ex_err(x, "%s and %s cannot be divided%s because the divisor "
	    "is zero", ex_desc(x, a), ex_desc(x, b),
	    op == B_MOD ? " (remainder)" : "");
}

/* ======================================================== evaluator */

static int eval(struct ds_expr *, const struct node *, struct val *,
    struct env *, kfn, void *);
static int evalg(struct ds_expr *, const struct node *, struct val *,
    struct env *, kfn, void *);

static struct val *
lookup(struct env *env, int up)
{
	while (up-- > 0)
		env = env->up;
	return env->v;
}

static struct env *
upframes(struct env *env, int up)
{
	while (up-- > 0)
		env = env->up;
	return env;
}

static int
k_one(struct ds_expr *x, struct val *v, void *arg)
{
	*(struct val **)arg = v;
	return 0;
}

/* A growable list of values in the arena. */
struct vlist {
	struct val	**v;
	uint32_t	 n, cap;
};

static void
vl_add(struct ds_expr *x, struct vlist *l, struct val *v)
{
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 8;
		struct val **nv = ea_alloc(&x->a, cap * sizeof(*nv));

		if (l->n)
			memcpy(nv, l->v, l->n * sizeof(*nv));
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = v;
}

static int
k_collect(struct ds_expr *x, struct val *v, void *arg)
{
	vl_add(x, arg, v);
	return 0;
}

static struct val *
vl_array(struct ds_expr *x, struct vlist *l)
{
	struct val *r = ev_arr(&x->a, l->n);

	if (l->n)
		memcpy(r->u.a, l->v, l->n * sizeof(*l->v));
	return r;
}

static struct val *eval1(struct ds_expr *, const struct node *, struct val *,
    struct env *);

/* Evaluate a single node's children and apply a value builtin. */
static struct val *
callval(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env)
{
	struct val *argv[8];
	int i;

	for (i = 0; i < n->nargs; i++)
		if ((argv[i] = eval1(x, n->args[i], in, env)) == NULL)
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
	return o;
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
		if ((parts[i] = eval1(x, n->args[i], in, env)) == NULL)
			return NULL;
	if (n->op == N_OBJ)
		return buildobj(x, n, parts);
	return buildstr(x, n, parts);
}

/*
 * The fast path: a node marked single gives exactly one value, or NULL
 * with x->errv set.
 */
static struct val *
eval1(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env)
{
	struct val *a, *b, *c;

	switch (n->op) {
	case N_DOT:
		return in;
	case N_LIT:
		return n->v;
	case N_FIELD:
		if ((a = n->a->op == N_DOT ? in : eval1(x, n->a, in, env)) ==
		    NULL)
			return NULL;
		if (a->t == T_OBJ) {
			b = ev_get(a, n->v->u.s, n->v->n);
			return b ? b : &ev_null;
		}
		return ex_index(x, a, n->v);
	case N_INDEX:
		if ((a = eval1(x, n->a, in, env)) == NULL ||
		    (b = eval1(x, n->b, in, env)) == NULL)
			return NULL;
		return ex_index(x, a, b);
	case N_SLICE:
		if ((a = eval1(x, n->a, in, env)) == NULL)
			return NULL;
		b = c = &ev_null;
		if (n->b && (b = eval1(x, n->b, in, env)) == NULL)
			return NULL;
		if (n->c && (c = eval1(x, n->c, in, env)) == NULL)
			return NULL;
		return slice_val(x, a, b, c);
	case N_PIPE:
		if ((a = eval1(x, n->a, in, env)) == NULL)
			return NULL;
		return eval1(x, n->b, a, env);
	case N_AS: {
		struct env e = { NULL, env, NULL, NULL };

		if ((e.v = eval1(x, n->a, in, env)) == NULL)
			return NULL;
		return eval1(x, n->b, in, &e);
	}
	case N_UP:
		return eval1(x, n->a, in, upframes(env, n->var));
	case N_NEG:
		if ((a = eval1(x, n->a, in, env)) == NULL)
			return NULL;
		if (a->t != T_NUM)
			return ex_err(x, "%s cannot be negated", ex_desc(x, a));
		return ev_num(&x->a, -a->u.d);
	case N_BIN:
		if ((b = eval1(x, n->b, in, env)) == NULL ||
		    (a = eval1(x, n->a, in, env)) == NULL)
			return NULL;
		return ex_arith(x, n->bop, a, b);
	case N_AND:
	case N_OR:
		if ((a = eval1(x, n->a, in, env)) == NULL)
			return NULL;
		if (n->op == N_AND ? !ev_truthy(a) : ev_truthy(a))
			return ev_bool(n->op == N_OR);
		if ((b = eval1(x, n->b, in, env)) == NULL)
			return NULL;
		return ev_bool(ev_truthy(b));
	case N_ALT:
		/* jq 1.6: an error on the left is not suppressed */
		if ((a = eval1(x, n->a, in, env)) == NULL)
			return NULL;
		if (ev_truthy(a))
			return a;
		return eval1(x, n->b, in, env);
	case N_IF:
		if ((a = eval1(x, n->a, in, env)) == NULL)
			return NULL;
		if (ev_truthy(a))
			return eval1(x, n->b, in, env);
		return n->c ? eval1(x, n->c, in, env) : in;
	case N_OBJ:
	case N_STRI:
		return eval1parts(x, n, in, env);
	case N_ARR: {
		struct vlist l = { 0 };

		if (n->a != NULL && eval(x, n->a, in, env, k_collect, &l) != 0)
			return NULL;
		return vl_array(x, &l);
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
		if (evalg(x, n, in, env, k_one, &a) != 0)
			return NULL;
		return a;
	}
}

static int
eval(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct val *v;

	if (n->single) {
		if ((v = eval1(x, n, in, env)) == NULL)
			return ST_ERR;
		return k(x, v, ka);
	}
	return evalg(x, n, in, env, k, ka);
}

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
	struct vlist	 list;
};

static int
k_pipe(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;

	return eval(x, f->n->b, v, f->env, f->k, f->ka);
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
	r = f->n->op == N_SLICE ? slice_val(x, f->v[0], f->v[1], f->v[2]) :
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
		return eval(x, f->n->c, f->in, f->env, k_idx3, f);
	return k_idx3(x, &ev_null, f);
}

static int
k_idx1(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;

	f->v[0] = v;
	if (f->n->b != NULL)
		return eval(x, f->n->b, f->in, f->env, k_idx2, f);
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
	r = eval(x, f->n->a, f->in, f->env, k_bin2, f);
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
	return eval(x, f->n->b, f->in, f->env, k_andor2, f);
}

static int
k_alt(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;

	if (ev_truthy(v))
		vl_add(x, &f->list, v);
	return 0;
}

static int
k_if(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;

	if (ev_truthy(v))
		return eval(x, f->n->b, f->in, f->env, f->k, f->ka);
	if (f->n->c != NULL)
		return eval(x, f->n->c, f->in, f->env, f->k, f->ka);
	return f->k(x, f->in, f->ka);
}

static int
k_as(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;
	struct env e = { v, f->env, NULL, NULL };

	return eval(x, f->n->b, f->in, &e, f->k, f->ka);
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
	return eval(x, n->args[i], f->in, f->env, k_cart, f);
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
	return eval(x, f->n->args[i], f->in, f->env, k_objcart, f);
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
	return eval(x, f->n->args[genarg(f->n, i)], f->in, f->env, k_gencart,
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

	r->acc = v;
	r->got = 1;
	return 0;
}

static int
k_reduce(struct ds_expr *x, struct val *v, void *arg)
{
	struct redfr *r = arg;
	struct env e = { v, r->env, NULL, NULL };

	r->got = 0;
	if (eval(x, r->n->c, r->acc, &e, k_last, r) != 0)
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

	r->acc = v;
	if (r->n->d != NULL)
		return eval(x, r->n->d, v, f->e, r->k, r->ka);
	return r->k(x, v, r->ka);
}

static int
k_foreach(struct ds_expr *x, struct val *v, void *arg)
{
	struct redfr *r = arg;
	struct env e = { v, r->env, NULL, NULL };
	struct fefr f = { r, &e };

	return eval(x, r->n->c, r->acc, &e, k_foreach2, &f);
}

static int
k_init(struct ds_expr *x, struct val *v, void *arg)
{
	struct redfr *r = arg;
	int rc;

	r->acc = v;
	if (r->n->op == N_REDUCE) {
		if ((rc = eval(x, r->n->a, r->in, r->env, k_reduce, r)) != 0)
			return rc;
		return r->k(x, r->acc, r->ka);
	}
	return eval(x, r->n->a, r->in, r->env, k_foreach, r);
}

/* ------------------------------------------------ closure builtins */

static int
k_select(struct ds_expr *x, struct val *v, void *arg)
{
	struct fr *f = arg;

	if (ev_truthy(v))
		return f->k(x, f->in, f->ka);
	return 0;
}

struct stopfr {
	int	 id;
	int	 count, limit;
	struct val *last;
	kfn	 k;
	void	*ka;
};

static int
k_first(struct ds_expr *x, struct val *v, void *arg)
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

static int
k_lastf(struct ds_expr *x, struct val *v, void *arg)
{
	*(struct val **)arg = v;
	return 0;
}

/* sort helpers: entries of (key, value, index) */
struct sent {
	struct val	*key;
	struct val	*v;
	uint32_t	 i;
};

static int
sentcmp(const void *a, const void *b)
{
	const struct sent *x = a, *y = b;
	int r = ev_cmp(x->key, y->key);

	if (r != 0)
		return r;
	return x->i < y->i ? -1 : x->i > y->i;
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

		if (eval(x, fnode, in->u.a[i], env, k_collect, &l) != 0) {
			*err = 1;
			return NULL;
		}
		s[i].key = vl_array(x, &l);
		s[i].v = in->u.a[i];
		s[i].i = i;
	}
	qsort(s, in->n, sizeof(*s), sentcmp);
	if (ex_deepchk(x, &ev_null) == NULL) {
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

	return cpoff(in->u.s, in->n, (int64_t)o->u.d);
}

static int
subrec(struct ds_expr *x, struct subfr *s, int i, size_t pre)
{
	size_t from, start;
	struct val *cap;

	(void)pre;
	/* the text between the previous match and this one */
	from = i == 0 ? 0 : mbyte(s->in, s->m[i - 1], "offset") +
	    (cpoff(s->in->u.s + mbyte(s->in, s->m[i - 1], "offset"),
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
		int r = eval(x, s->n->args[1], cap, s->env, k_sub, s);

		s->acc->len = pre;
		return r;
	}
}

/* ------------------------------------------------- paths, assignment */

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
static int ucall(struct ds_expr *, const struct node *, struct val *,
    struct env *, kfn, void *, struct val *, pkfn, void *);

static int
pk_field(struct ds_expr *x, struct val *path, struct val *v, void *arg)
{
	struct pfr *f = arg;
	struct val *c;

	if ((c = ex_index(x, v, f->n->v)) == NULL)
		return ST_ERR;
	return f->k(x, pathadd(x, path, f->n->v), c, f->ka);
}

static int
k_pindex(struct ds_expr *x, struct val *key, void *arg)
{
	struct pfr *f = arg;
	struct val *c;

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
	return eval(x, f->n->b, f->in, f->env, k_pindex, &g);
}

/* .[m:n] as a path: the key {"start": m, "end": n}, as jq */
static int
pk_slice(struct ds_expr *x, struct val *path, struct val *v, void *arg)
{
	static struct val ks = { T_STR, 1, 5, { .s = "start" } };
	static struct val ke = { T_STR, 1, 3, { .s = "end" } };
	struct pfr *f = arg;
	struct val *from = &ev_null, *to = &ev_null, *key, *c;

	if ((f->n->b && (from = eval1(x, f->n->b, f->in, f->env)) == NULL) ||
	    (f->n->c && (to = eval1(x, f->n->c, f->in, f->env)) == NULL))
		return ST_ERR;
	if ((c = slice_val(x, v, from, to)) == NULL)
		return ST_ERR;
	key = ev_obj(&x->a, 2);
	ev_set(key, &ks, from);
	ev_set(key, &ke, to);
	return f->k(x, pathadd(x, path, key), c, f->ka);
}

static int
pk_iter(struct ds_expr *x, struct val *path, struct val *v, void *arg)
{
	struct pfr *f = arg;
	uint32_t i;
	int r;

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

static struct val *getpath(struct ds_expr *, struct val *, struct val *);

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
	if ((v = getpath(x, f->in, p)) == NULL)
		return ST_ERR;
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
	if (ev_deep() || (path != NULL && (int)path->n > (ds_opts.maxdepth ?
	    ds_opts.maxdepth : DS_MAXDEPTH_DEFAULT))) {
		ex_err(x, TOODEEP);
		return ST_ERR;
	}
	if ((r = k(x, path, in, ka)) != 0)
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
		return eval(x, n->a, in, env, k_pcond, &f);
	case N_UCALL:
		return ucall(x, n, in, env, NULL, NULL, path, k, ka);
	case N_UP:
		return evalpath(x, n->a, in, path, upframes(env, n->var), k,
		    ka);
	case N_AS:
		return eval(x, n->a, in, env, k_pas, &f);
	case N_CALL:
		if (n->fn->kind == BK_SPECIAL && n->fn->special == SP_RECURSE)
			return precurse(x, in, path, k, ka);
		if (n->fn->kind == BK_SPECIAL && n->fn->special == SP_SELECT)
			return eval(x, n->args[0], in, env, k_pcond, &f);
		if (n->fn->kind == BK_SPECIAL && n->fn->special == SP_EMPTY)
			return 0;
		if (n->fn->kind == BK_SPECIAL && n->fn->special == SP_GETPATH)
			return eval(x, n->args[0], in, env, k_pgetpath, &f);
		break;
	default:
		break;
	}
	{
		struct val *v = eval1(x, n, in, env);

		struct ds_buf b = { 0 };

		if (v != NULL) {
			/* jq shows the value's JSON, cut at 30 bytes */
			ev_print(&b, v);
			ex_err(x, "Invalid path expression with result %.*s%s",
			    b.len > 29 ? 26 : (int)b.len, b.p,
			    b.len > 29 ? "..." : "");
			ds_buf_free(&b);
		}
		return ST_ERR;
	}
}

static int
k_pathlist(struct ds_expr *x, struct val *path, struct val *v, void *arg)
{
	vl_add(x, arg, path);
	return 0;
}

/* v with the value at path[i..] replaced by nv (copies along the path). */
static struct val *
setpath(struct ds_expr *x, struct val *v, struct val *path, uint32_t i,
    struct val *nv)
{
	struct val *key, *child, *r;
	double d;
	int64_t idx;

	if (i == path->n)
		return nv;
	if (ev_deep())
		return ex_err(x, TOODEEP);
	key = path->u.a[i];
	if (key->t == T_STR) {
		if (v->t != T_OBJ && v->t != T_NULL)
			return ex_err(x, "Cannot index %s with \"%.*s\"",
			    ex_typename(v), (int)key->n, key->u.s);
		child = v->t == T_OBJ ? ev_get(v, key->u.s, key->n) : NULL;
		if ((child = setpath(x, child ? child : &ev_null, path, i + 1,
		    nv)) == NULL)
			return NULL;
		r = v->t == T_OBJ ? ev_objcopy(&x->a, v, 1) : ev_obj(&x->a, 1);
		ev_set(r, key, child);
		return r;
	}
	if (key->t == T_NUM) {
		if (v->t != T_ARR && v->t != T_NULL)
			return ex_err(x, "Cannot index %s with number",
			    ex_typename(v));
		d = floor(key->u.d);
		if (isnan(d))
			return ex_err(x, "Cannot set array element at NaN index");
		if (d < 0)
			d += v->t == T_ARR ? v->n : 0;
		if (d < 0)
			return ex_err(x, "Out of bounds negative array index");
		if (d > 1e8)
			return ex_err(x, "Array index too large");
		idx = (int64_t)d;
		child = v->t == T_ARR && idx < v->n ? v->u.a[idx] : &ev_null;
		if ((child = setpath(x, child, path, i + 1, nv)) == NULL)
			return NULL;
		r = ev_arr(&x->a, v->t == T_ARR && (uint32_t)idx < v->n ?
		    v->n : (uint32_t)idx + 1);
		if (v->t == T_ARR && v->n)
			memcpy(r->u.a, v->u.a, v->n * sizeof(*r->u.a));
		for (uint32_t j = v->t == T_ARR ? v->n : 0; j < r->n; j++)
			r->u.a[j] = &ev_null;
		r->u.a[idx] = child;
		return r;
	}
	if (key->t == T_OBJ) {
		int64_t fi, ei;
		uint32_t len = v->t == T_ARR ? v->n : 0;

		if (v->t == T_STR)
			return ex_err(x, "Cannot update string slices");
		if (v->t != T_ARR && v->t != T_NULL)
			return ex_err(x, "Cannot update field at object index "
			    "of %s", ex_typename(v));
		if (slicebounds(x, len, slicekey(key, "start"),
		    slicekey(key, "end"), &fi, &ei) == -1)
			return NULL;
		r = ev_arr(&x->a, (uint32_t)(ei - fi));
		if (ei > fi)
			memcpy(r->u.a, v->u.a + fi, (ei - fi) * sizeof(*r->u.a));
		if ((child = setpath(x, r, path, i + 1, nv)) == NULL)
			return NULL;
		if (child->t != T_ARR)
			return ex_err(x, "A slice of an array can only be "
			    "assigned another array");
		r = ev_arr(&x->a, len - (uint32_t)(ei - fi) + child->n);
		if (fi > 0)
			memcpy(r->u.a, v->u.a, fi * sizeof(*r->u.a));
		if (child->n)
			memcpy(r->u.a + fi, child->u.a,
			    child->n * sizeof(*r->u.a));
		if (len > ei)
			memcpy(r->u.a + fi + child->n, v->u.a + ei,
			    (len - ei) * sizeof(*r->u.a));
		return r;
	}
	return ex_err(x, "Invalid path component");
}

struct val *
ex_setpath(struct ds_expr *x, struct val *v, struct val *path,
    struct val *nv)
{
	return setpath(x, v, path, 0, nv);
}

static struct val *
getpath(struct ds_expr *x, struct val *v, struct val *path)
{
	uint32_t i;

	for (i = 0; i < path->n && v != NULL; i++)
		v = v->t == T_NULL ? &ev_null : ex_index(x, v, path->u.a[i]);
	return v;
}

struct afr {
	const struct node *n;
	struct val	*in;
	struct env	*env;
	struct vlist	 paths;
	kfn		 k;
	void		*ka;
};

static struct val *delpaths(struct ds_expr *, struct val *, struct val *);

/* one assignment with the right-hand value rv (NULL for |=) */
static int
k_assign(struct ds_expr *x, struct val *rv, void *arg)
{
	struct afr *a = arg;
	struct val *acc = a->in, *old, *nv;
	struct vlist dels = { 0 };
	uint32_t i;

	for (i = 0; i < a->paths.n; i++) {
		struct val *p = a->paths.v[i];

		if ((old = getpath(x, acc, p)) == NULL)
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
				s.k = k_lastf;
				s.ka = &nv;
				s.limit = 1;
				rc = eval(x, a->n->b, old, a->env, k_first, &s);
				if (rc != 0 && !(rc == ST_STOP &&
				    x->stopping == s.id))
					return rc;
			}
			if (nv == NULL) {
				/* jq 1.7: no output deletes the path (all
				 * of them at the end) */
				vl_add(x, &dels, p);
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
		if ((acc = setpath(x, acc, p, 0, nv)) == NULL)
			return ST_ERR;
	}
	if (dels.n > 0 && (acc = delpaths(x, acc, vl_array(x, &dels))) == NULL)
		return ST_ERR;
	return a->k(x, acc, a->ka);
}

static int
assign(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct afr a;

	memset(&a, 0, sizeof(a));
	a.n = n;
	a.in = in;
	a.env = env;
	a.k = k;
	a.ka = ka;
	if (evalpath(x, n->a, in, ev_arr(&x->a, 0), env, k_pathlist,
	    &a.paths) != 0)
		return ST_ERR;
	if (n->bop == B_UPDATE)
		return k_assign(x, NULL, &a);
	/* the right side sees the original input; each output is a result */
	return eval(x, n->b, in, env, k_assign, &a);
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

	if (p->nonempty && path->n == 0)
		return 0;
	return p->k(x, path, p->ka);
}

static int
pathcmp_desc(const void *a, const void *b)
{
	return -ev_cmp(*(struct val *const *)a, *(struct val *const *)b);
}

/* v without the value at path[i..] (copies along the path) */
static struct val *
delpath(struct ds_expr *x, struct val *v, struct val *path, uint32_t i)
{
	struct val *key = path->u.a[i], *c, *r;
	uint32_t j, n;
	int64_t idx;

	if (v->t == T_NULL)
		return v;
	if (ev_deep())
		return ex_err(x, TOODEEP);
	if (key->t == T_STR && v->t == T_OBJ) {
		if ((c = ev_get(v, key->u.s, key->n)) == NULL)
			return v;
		r = ev_obj(&x->a, v->n);
		for (j = 0; j < v->n; j++) {
			if (v->u.o[j].k->n == key->n && memcmp(v->u.o[j].k->u.s,
			    key->u.s, key->n) == 0) {
				if (i + 1 == path->n)
					continue;
				if ((c = delpath(x, c, path, i + 1)) == NULL)
					return NULL;
				r->u.o[r->n].k = key;
				r->u.o[r->n++].v = c;
			} else
				r->u.o[r->n++] = v->u.o[j];
		}
		return r;
	}
	if (key->t == T_NUM && v->t == T_ARR) {
		if (isnan(key->u.d))
			return v;	/* no element is at NaN */
		idx = ex_dtoi(floor(key->u.d));
		if (idx < 0)
			idx += v->n;
		if (idx < 0 || idx >= v->n)
			return v;
		r = ev_arr(&x->a, v->n);
		for (n = j = 0; j < v->n; j++) {
			if ((int64_t)j != idx) {
				r->u.a[n++] = v->u.a[j];
				continue;
			}
			if (i + 1 == path->n)
				continue;
			if ((c = delpath(x, v->u.a[j], path, i + 1)) == NULL)
				return NULL;
			r->u.a[n++] = c;
		}
		r->n = n;
		return r;
	}
	return ex_err(x, "Cannot delete field at %s index of %s",
	    ex_typename(key), ex_typename(v));
}

/* add p to l with its array indices made absolute in v (a slice at
 * the end: one path per element) */
static int
abspath(struct ds_expr *x, struct val *v, struct val *p, struct vlist *l)
{
	struct val *q, *k;
	uint32_t i;
	int64_t fi, ei;

	q = ev_arr(&x->a, p->n);
	for (i = 0; i < p->n; i++) {
		k = p->u.a[i];
		if (v->t == T_ARR && k->t == T_NUM && k->u.d < 0)
			k = ev_num(&x->a, k->u.d + v->n);
		else if (v->t == T_ARR && k->t == T_OBJ && i + 1 == p->n) {
			if (slicebounds(x, v->n, slicekey(k, "start"),
			    slicekey(k, "end"), &fi, &ei) == -1)
				return -1;
			for (; fi < ei; fi++) {
				struct val *c = ev_arr(&x->a, p->n);

				memcpy(c->u.a, q->u.a, i * sizeof(*c->u.a));
				c->u.a[i] = ev_num(&x->a, fi);
				vl_add(x, l, c);
			}
			return 0;
		}
		q->u.a[i] = k;
		v = v->t == T_ARR || v->t == T_OBJ ? ex_index(x, v, k) : NULL;
		if (v == NULL) {
			x->errv = NULL;
			v = &ev_null;
		}
	}
	vl_add(x, l, q);
	return 0;
}

/* v without the values at the paths (deepest and last first, as jq) */
static struct val *
delpaths(struct ds_expr *x, struct val *v, struct val *paths)
{
	struct vlist l = { 0 };
	struct val **ps;
	uint32_t i;

	if (paths->t != T_ARR)
		return ex_err(x, "Paths must be specified as an array");
	/* jq deletes them all at once: negative indices count from the
	 * end of the original, a slice is its elements */
	for (i = 0; i < paths->n; i++) {
		if (paths->u.a[i]->t != T_ARR)
			return ex_err(x, "Path must be specified as an array");
		if (abspath(x, v, paths->u.a[i], &l) == -1)
			return NULL;
	}
	ps = l.v;
	if (l.n > 1)
		qsort(ps, l.n, sizeof(*ps), pathcmp_desc);
	if (ex_deepchk(x, &ev_null) == NULL)
		return NULL;
	for (i = 0; i < l.n && v != NULL; i++)
		v = ps[i]->n == 0 ? &ev_null : delpath(x, v, ps[i], 0);
	return v;
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
	if ((v = getpath(x, f->in, p)) == NULL) {
		/* jq: a path that does not exist gives null */
		x->errv = NULL;
		v = &ev_null;
	}
	return f->k(x, v, f->ka);
}

static int
k_delpaths(struct ds_expr *x, struct val *p, void *arg)
{
	struct fr *f = arg;
	struct val *v;

	if ((v = delpaths(x, f->in, p)) == NULL)
		return ST_ERR;
	return f->k(x, v, f->ka);
}

static int
k_recurse(struct ds_expr *x, struct val *path, struct val *v, void *arg)
{
	struct fr *f = arg;

	return f->k(x, v, f->ka);
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
		if (v->t != T_NUM) {
			ex_err(x, "Invalid limit: not a number");
			return ST_ERR;
		}
		if (!(v->u.d > 0))
			return 0;
		s.limit = v->u.d > 1e9 ? 1000000000 : (int)ceil(v->u.d);
	}
	rc = eval(x, f->n->args[f->n->nargs - 1], f->in, f->env, k_first, &s);
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
		rc = eval(x, f->n->args[2], f->in, f->env, k_subflags, f);
	else
		rc = k_subflags(x, NULL, f);
	f->v[0] = save;
	return rc;
}

static __attribute__((noinline)) int
special(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct fr f;
	struct val *v, *r;
	uint32_t i, j;
	int rc, err;

	memset(&f, 0, sizeof(f));
	f.n = n;
	f.in = in;
	f.env = env;
	f.k = k;
	f.ka = ka;
	switch (n->fn->special) {
	case SP_EMPTY:
		return 0;
	case SP_ERROR0:
		x->errv = in;
		return ST_ERR;
	case SP_RECURSE:
		return precurse(x, in, NULL, k_recurse, &f);
	case SP_PATH:
	case SP_PATHS: {
		struct pathsfr p = { k, ka, n->fn->special == SP_PATHS };

		if (n->fn->special == SP_PATHS)
			return precurse(x, in, ev_arr(&x->a, 0), pk_emitpath,
			    &p);
		return evalpath(x, n->args[0], in, ev_arr(&x->a, 0), env,
		    pk_emitpath, &p);
	}
	case SP_DEL: {
		struct vlist l = { 0 };

		if (evalpath(x, n->args[0], in, ev_arr(&x->a, 0), env,
		    k_pathlist, &l) != 0)
			return ST_ERR;
		if ((v = delpaths(x, in, vl_array(x, &l))) == NULL)
			return ST_ERR;
		return k(x, v, ka);
	}
	case SP_GETPATH:
		return eval(x, n->args[0], in, env, k_getpath, &f);
	case SP_DELPATHS:
		return eval(x, n->args[0], in, env, k_delpaths, &f);
	case SP_SELECT:
		return eval(x, n->args[0], in, env, k_select, &f);
	case SP_MAP:
	case SP_ANYF:
	case SP_ALLF: {
		struct vlist l = { 0 };

		if (in->t != T_ARR && in->t != T_OBJ) {
			ex_err(x, "Cannot iterate over %s", ex_desc(x, in));
			return ST_ERR;
		}
		for (i = 0; i < in->n; i++) {
			v = in->t == T_ARR ? in->u.a[i] : in->u.o[i].v;
			if (eval(x, n->args[0], v, env, k_collect, &l) != 0)
				return ST_ERR;
		}
		if (n->fn->special == SP_MAP)
			return k(x, vl_array(x, &l), ka);
		for (i = 0; i < l.n; i++)
			if (ev_truthy(l.v[i]) == (n->fn->special == SP_ANYF))
				return k(x, ev_bool(n->fn->special == SP_ANYF),
				    ka);
		return k(x, ev_bool(n->fn->special == SP_ALLF), ka);
	}
	case SP_MAPVALUES:
		if (in->t == T_ARR) {
			r = ev_arr(&x->a, in->n);
			r->n = 0;
			for (i = 0; i < in->n; i++) {
				f.flag = ++x->stopid;
				f.v[0] = NULL;
				rc = eval(x, n->args[0], in->u.a[i], env,
				    k_mapvals, &f);
				if (rc == ST_ERR || (rc != 0 &&
				    x->stopping != f.flag))
					return rc;
				if (f.v[0] != NULL)
					r->u.a[r->n++] = f.v[0];
			}
			return k(x, r, ka);
		}
		if (in->t == T_OBJ) {
			r = ev_obj(&x->a, in->n);
			for (i = 0; i < in->n; i++) {
				f.flag = ++x->stopid;
				f.v[0] = NULL;
				rc = eval(x, n->args[0], in->u.o[i].v, env,
				    k_mapvals, &f);
				if (rc == ST_ERR || (rc != 0 &&
				    x->stopping != f.flag))
					return rc;
				if (f.v[0] != NULL)
					ev_set(r, in->u.o[i].k, f.v[0]);
			}
			return k(x, r, ka);
		}
		ex_err(x, "Cannot iterate over %s", ex_desc(x, in));
		return ST_ERR;
	case SP_SORTBY:
	case SP_GROUPBY:
	case SP_UNIQUEBY:
	case SP_MINBY:
	case SP_MAXBY: {
		struct sent *s;

		if (in->t != T_ARR) {
			ex_err(x, "Cannot index %s with number",
			    ex_typename(in));
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
		default: {
			struct vlist groups = { 0 }, cur = { 0 };

			for (i = 0; i < in->n; i = j) {
				cur.n = 0;
				cur.v = NULL;
				cur.cap = 0;
				for (j = i; j < in->n &&
				    ev_cmp(s[i].key, s[j].key) == 0; j++) {
					if (ex_deepchk(x, &ev_null) == NULL)
						return ST_ERR;
					vl_add(x, &cur, s[j].v);
				}
				if (n->fn->special == SP_GROUPBY)
					vl_add(x, &groups, vl_array(x, &cur));
				else
					vl_add(x, &groups, cur.v[0]);
			}
			return k(x, vl_array(x, &groups), ka);
		}
		}
	}
	case SP_WITHENTRIES: {
		const struct builtin *te, *fe;
		struct vlist l = { 0 };
		int known;

		te = ex_lookup("to_entries", 0, &known);
		fe = ex_lookup("from_entries", 0, &known);
		if ((v = te->val(x, in, NULL)) == NULL)
			return ST_ERR;
		for (i = 0; i < v->n; i++)
			if (eval(x, n->args[0], v->u.a[i], env, k_collect,
			    &l) != 0)
				return ST_ERR;
		if ((r = fe->val(x, vl_array(x, &l), NULL)) == NULL)
			return ST_ERR;
		return k(x, r, ka);
	}
	case SP_FIRSTF:
		return limit(x, &f, NULL);
	case SP_LIMIT:
		/* each count, outermost, limits its own run of the generator */
		return eval(x, n->args[0], in, env, k_limit, &f);
	case SP_LASTF:
		v = &ev_null;
		if (eval(x, n->args[0], in, env, k_lastf, &v) != 0)
			return ST_ERR;
		return k(x, v, ka);
	case SP_ISEMPTY: {
		struct stopfr s = { 0 };

		s.id = ++x->stopid;
		s.k = k_lastf;
		v = NULL;
		s.ka = &v;
		s.limit = 1;
		rc = eval(x, n->args[0], in, env, k_first, &s);
		if (rc != 0 && !(rc == ST_STOP && x->stopping == s.id))
			return rc;
		return k(x, ev_bool(v == NULL), ka);
	}
	case SP_SUB:
	case SP_GSUB:
		/* each regex, outermost, then each flags string */
		return eval(x, n->args[0], in, env, k_subre, &f);
	}
	ex_err(x, "internal error: unknown builtin");
	return ST_ERR;
}

/*
 * A call of a def (n->d) or of a filter parameter: the body runs in the
 * definition's environment with the arguments as closures over the
 * caller's.  With pk, the call is a path expression (evalpath).
 */
static int
ucall(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka, struct val *path, pkfn pk, void *pka)
{
	struct env *fr, *e = upframes(env, n->var);
	int i;

	if (ev_deep()) {
		ex_err(x, TOODEEP);
		return ST_ERR;
	}
	if (n->d == NULL) {
		if (pk != NULL)
			return evalpath(x, e->fn, in, path, e->fenv, pk, pka);
		return eval(x, e->fn, in, e->fenv, k, ka);
	}
	/* the frames in the arena: a recursion must not carry them */
	fr = ea_alloc(&x->a, (n->nargs + 1) * sizeof(*fr));
	for (i = 0; i < n->nargs; i++) {
		fr[i].v = NULL;
		fr[i].up = i ? &fr[i - 1] : e;
		fr[i].fn = n->args[i];
		fr[i].fenv = env;
	}
	e = n->nargs ? &fr[n->nargs - 1] : e;
	if (pk != NULL)
		return evalpath(x, n->d->a, in, path, e, pk, pka);
	return eval(x, n->d->a, in, e, k, ka);
}

static int
evalg(struct ds_expr *x, const struct node *n, struct val *in,
    struct env *env, kfn k, void *ka)
{
	struct fr f;
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
		return eval(x, n->a, in, env, k_field, &f);
	case N_INDEX:
	case N_SLICE:
		return eval(x, n->a, in, env, k_idx1, &f);
	case N_ITER:
		return eval(x, n->a, in, env, k_iter, &f);
	case N_PIPE:
		return eval(x, n->a, in, env, k_pipe, &f);
	case N_COMMA:
		if ((rc = eval(x, n->a, in, env, k, ka)) != 0)
			return rc;
		return eval(x, n->b, in, env, k, ka);
	case N_NEG:
		return eval(x, n->a, in, env, k_neg, &f);
	case N_BIN:
		f.v[0] = NULL;
		return eval(x, n->b, in, env, k_bin1, &f);
	case N_AND:
	case N_OR:
		return eval(x, n->a, in, env, k_andor1, &f);
	case N_ALT: {
		uint32_t i;

		memset(&f.list, 0, sizeof(f.list));
		/* the left side's truthy outputs, or the right side's; an
		 * error on the left is not suppressed (jq 1.6) */
		if ((rc = eval(x, n->a, in, env, k_alt, &f)) != 0)
			return rc;
		if (f.list.n == 0)
			return eval(x, n->b, in, env, k, ka);
		for (i = 0; i < f.list.n; i++)
			if ((rc = k(x, f.list.v[i], ka)) != 0)
				return rc;
		return 0;
	}
	case N_IF:
		return eval(x, n->a, in, env, k_if, &f);
	case N_AS:
		return eval(x, n->a, in, env, k_as, &f);
	case N_OBJ:
		return objcart(x, &f, 0);
	case N_STRI:
		return cart(x, &f, n->nargs - 1);
	case N_ARR: {
		struct val *v = eval1(x, n, in, env);

		return v == NULL ? ST_ERR : k(x, v, ka);
	}
	case N_TRY: {
		struct tryfr t = { k, ka, 0 };

		rc = eval(x, n->a, in, env, k_try, &t);
		if (rc != ST_ERR || t.downstream)
			return rc;
		if (x->errv != NULL && x->errv->t == T_OBJ &&
		    ev_get(x->errv, "__jq", 4) != NULL)
			return rc;	/* break: not catchable */
		if (n->b == NULL) {
			x->errv = NULL;
			return 0;
		}
		{
			struct val *e = x->errv ? x->errv : &ev_null;

			x->errv = NULL;
			return eval(x, n->b, e, env, k, ka);
		}
	}
	case N_REDUCE:
	case N_FOREACH: {
		struct redfr r = { n, NULL, in, env, k, ka, 0 };

		return eval(x, n->b, in, env, k_init, &r);
	}
	case N_ASSIGN:
		return assign(x, n, in, env, k, ka);
	case N_UP:
		return eval(x, n->a, in, upframes(env, n->var), k, ka);
	case N_UCALL:
		return ucall(x, n, in, env, k, ka, NULL, NULL, NULL);
	case N_DESTALT: {
		struct tryfr t = { k, ka, 0 };
		int i, last = n->nargs - 1;

		/* an error in an alternative (not in k) tries the next */
		for (i = 0; i < last; i++) {
			t.downstream = 0;
			rc = eval(x, n->args[i], in, env, k_try, &t);
			if (rc != ST_ERR || t.downstream)
				return rc;
			x->errv = NULL;
		}
		return eval(x, n->args[last], in, env, k, ka);
	}
	case N_LABEL: {
		struct env e = { NULL, env, NULL, NULL };
		struct val *id;

		e.v = ev_num(&x->a, ++x->stopid);
		rc = eval(x, n->a, in, &e, k, ka);
		if (rc == ST_ERR && x->errv != NULL && x->errv->t == T_OBJ &&
		    (id = ev_get(x->errv, "__jq", 4)) != NULL &&
		    ev_cmp(id, e.v) == 0) {
			x->errv = NULL;
			return 0;
		}
		return rc;
	}
	case N_BREAK: {
		/* an error no try catches, ended by its label */
		static struct val kjq = { T_STR, 1, 4, { .s = "__jq" } };
		struct val *o = ev_obj(&x->a, 1);

		ev_set(o, &kjq, upframes(env, n->var)->v);
		x->errv = o;
		return ST_ERR;
	}
	case N_DEF:
		break;
	case N_CALL:
		switch (n->fn->kind) {
		case BK_VAL:
			return cart(x, &f, n->nargs - 1);
		case BK_GEN:
			return gencart(x, &f, n->nargs - 1);
		case BK_SPECIAL:
			return special(x, n, in, env, k, ka);
		}
	}
	ex_err(x, "internal error: bad node");
	return ST_ERR;
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
    "def isnormal: type == \"number\" and (isnan or isinfinite or . == 0 "
    "| not);"
    "def normals: select(isnormal);"
    "def bsearch($t): if length == 0 then -1 else . as $a | "
    "{lo: 0, hi: (length - 1), r: null} | until(.r != null or .lo > .hi; "
    "((.lo + .hi) / 2 | floor) as $m | if $a[$m] == $t then .r = $m "
    "elif $a[$m] < $t then .lo = $m + 1 else .hi = $m - 1 end) | "
    "if .r != null then .r else -1 - .lo end end;"
    "def add(f): reduce f as $x (null; . + $x);"
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
	memset(&p, 0, sizeof(p));
	p.x = x;
	p.src = src;
	p.gvars = vars;
	p.ngvars = nvars;
	p.err = errbuf;
	p.errlen = errlen;
	/* the prelude's functions are in scope for the program */
	p.src = prelude;
	next(&p);
	while (istok(&p, "def") && parse_def(&p) != NULL)
		;
	if (p.failed || p.tok != TK_EOF)
		errx(1, "internal error: prelude: %s", errbuf);
	p.src = src;
	p.pos = 0;
	next(&p);
	if (p.tok == TK_EOF) {
		/* jq's empty program is `.` */
		root = mk(&p, N_DOT, 0);
		root->single = 1;
	} else if ((root = parse_pipe(&p)) != NULL && p.tok != TK_EOF) {
		if (p.tok == TK_ASSIGN || p.tok == TK_OPASSIGN)
			unsupported(&p, p.tstart, "assignment");
		else
			perr(&p, p.tstart, "syntax error: unexpected '%.*s'",
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
	if ((v = ev_parse(&x->a, json, len, DS_MAXDEPTH_DEFAULT, msg,
	    sizeof(msg))) == NULL)
		return -1;
	ea_reset(&x->garena[i]);
	copy = ea_strdup(&x->garena[i], json, len);
	v = ev_parse(&x->garena[i], copy, len, DS_MAXDEPTH_DEFAULT, msg,
	    sizeof(msg));
	x->globals[i] = v;
	return 0;
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
	if (x->identity && ev_canonical(in, len, ds_opts.maxdepth)) {
		emit(arg, in, len);
		return 0;
	}
	if ((v = ev_parse(&x->a, in, len, ds_opts.maxdepth, x->errmsg,
	    sizeof(x->errmsg))) == NULL) {
		*errmsg = x->errmsg;
		return -1;
	}
	x->emit = emit;
	x->emitarg = arg;
	rc = eval(x, x->root, v, NULL, k_emit, NULL);
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
