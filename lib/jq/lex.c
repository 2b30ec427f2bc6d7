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
