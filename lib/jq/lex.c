/*
 * lex.c -- the lexer of the jq language (see exprint.h for the layers):
 * the program text to tokens, skipping white space and comments.  A
 * string is left to the parser, which reads its escapes and its
 * interpolations itself.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jq/exprint.h"

void
lx_err(struct parser *p, size_t at, const char *fmt, ...)
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

void
lx_unsupported(struct parser *p, size_t at, const char *what)
{
	lx_err(p, at, "unsupported: '%s'", what);
}

static int
isident(int c)
{
	return isalnum(c) || c == '_';
}

/* An operator or punctuation at s[i]: its token, p->pos after it. */
static enum tok
punct(struct parser *p, const char *s, size_t i)
{
	static const char one[] = "[]{}(),:;";
	static const enum tok onetok[] = { TK_LBRACK, TK_RBRACK, TK_LBRACE,
	    TK_RBRACE, TK_LPAREN, TK_RPAREN, TK_COMMA, TK_COLON, TK_SEMI };
	const char *c;
	int eq = s[i + 1] == '=';

	p->pos = i + 1;
	if (s[i] != '\0' && (c = strchr(one, s[i])) != NULL)
		return onetok[c - one];
	switch (s[i]) {
	case '|':
		p->pos += eq;
		return eq ? TK_OPASSIGN : TK_PIPE;
	case '+': case '-': case '*': case '%':
		p->pos += eq;
		if (eq)
			return TK_OPASSIGN;
		return s[i] == '+' ? TK_PLUS : s[i] == '-' ? TK_MINUS :
		    s[i] == '*' ? TK_STAR : TK_PERCENT;
	case '/':
		if (s[i + 1] == '/') {
			p->pos += 1 + (s[i + 2] == '=');
			return s[i + 2] == '=' ? TK_OPASSIGN : TK_ALT;
		}
		p->pos += eq;
		return eq ? TK_OPASSIGN : TK_SLASH;
	case '=':
		p->pos += eq;
		return eq ? TK_EQ : TK_ASSIGN;
	case '!':
		p->pos += eq;
		return eq ? TK_NE : TK_BAD;
	case '<':
		p->pos += eq;
		return eq ? TK_LE : TK_LT;
	case '>':
		p->pos += eq;
		return eq ? TK_GE : TK_GT;
	case '?':
		if (s[i + 1] == '/' && s[i + 2] == '/') {
			p->pos += 2;
			return TK_ALTDESTR;
		}
		return TK_QMARK;
	}
	return TK_BAD;
}

/* After a '.' at s[i]: .., .name, ."name", .5 (a number) or . alone. */
static enum tok
dot(struct parser *p, const char *s, size_t i)
{
	if (s[i + 1] == '.') {
		p->pos = i + 2;
		return TK_DOTDOT;
	}
	if (isalpha((unsigned char)s[i + 1]) || s[i + 1] == '_') {
		p->pos = i + 1;
		while (isident((unsigned char)s[p->pos]))
			p->pos++;
		return TK_FIELD;
	}
	p->pos = i + 1;		/* ."name": at the quote */
	return s[i + 1] == '"' ? TK_DOTSTR : TK_DOT;
}

/* A name of identifier characters after s[i] ($name, @name). */
static void
name(struct parser *p, const char *s, size_t i)
{
	p->pos = i + 1;
	while (isident((unsigned char)s[p->pos]))
		p->pos++;
}

void
lx_next(struct parser *p)
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
	if (s[i] == '\0')
		p->tok = TK_EOF;
	else if (s[i] == '"') {
		p->tok = TK_QUOTE;	/* the parser reads the string itself */
		p->tend = i + 1;
		return;
	} else if (isdigit((unsigned char)s[i]) || (s[i] == '.' &&
	    isdigit((unsigned char)s[i + 1]))) {
		p->num = strtod(s + i, &end);
		p->pos = end - s;
		p->tok = TK_NUM;
	} else if (s[i] == '.')
		p->tok = dot(p, s, i);
	else if (s[i] == '$') {
		name(p, s, i);
		p->tok = p->pos > i + 1 ? TK_VAR : TK_BAD;
	} else if (s[i] == '@') {
		name(p, s, i);
		p->tok = TK_FORMAT;
	} else if (isalpha((unsigned char)s[i]) || s[i] == '_') {
		while (isident((unsigned char)s[p->pos]) ||
		    (s[p->pos] == ':' && s[p->pos + 1] == ':'))
			p->pos += s[p->pos] == ':' ? 2 : 1;
		p->tok = TK_IDENT;
	} else
		p->tok = punct(p, s, i);
	p->tend = p->pos;
}

int
lx_istok(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	return p->tok == TK_IDENT && p->tend - p->tstart == n &&
	    memcmp(p->src + p->tstart, word, n) == 0;
}

int
lx_expect(struct parser *p, enum tok t, const char *what)
{
	if (p->tok != t) {
		if (p->tok == TK_EOF)
			lx_err(p, p->tstart, "syntax error: expected %s, got end "
			    "of program", what);
		else
			lx_err(p, p->tstart, "syntax error: expected %s", what);
		return -1;
	}
	lx_next(p);
	return 0;
}
