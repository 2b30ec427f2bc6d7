/*
 * regex.c -- jq's regexes (see exprint.h for the layers): Oniguruma
 * with jq's flags, compiled once per distinct pattern and flags and
 * kept for the life of the program; matches as jq's match objects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <oniguruma.h>

#include "jq/exprint.h"

#ifndef ONIG_SYNTAX_PERL_NT
#define ONIG_SYNTAX_PERL_NT	ONIG_SYNTAX_PERL_NG
#endif

#define A	(&x->a)

struct rx {
	regex_t		*re;
	int		 global;
};

static int
rxflags(struct ds_expr *x, struct val *flags, OnigOptionType *opt,
    int *global)
{
	uint32_t i;

	*opt = ONIG_OPTION_CAPTURE_GROUP;
	*global = 0;
	if (flags == NULL || flags->t == T_NULL)
		return 0;
	if (flags->t != T_STR) {
		ex_err(x, "%s is not a string", ex_desc(x, flags));
		return -1;
	}
	for (i = 0; i < flags->n; i++)
		switch (flags->u.s[i]) {
		case 'g': *global = 1; break;
		case 'i': *opt |= ONIG_OPTION_IGNORECASE; break;
		case 'x': *opt |= ONIG_OPTION_EXTEND; break;
		case 'n': *opt |= ONIG_OPTION_FIND_NOT_EMPTY; break;
		case 's': *opt |= ONIG_OPTION_SINGLELINE; break;
		case 'p': *opt |= ONIG_OPTION_MULTILINE |
		    ONIG_OPTION_SINGLELINE; break;
		case 'l': *opt |= ONIG_OPTION_FIND_LONGEST; break;
		default:
			ex_err(x, "%.*s is not a valid modifier string",
			    (int)flags->n, flags->u.s);
			return -1;
		}
	return 0;
}

static regex_t *
rxget(struct ds_expr *x, struct val *re, OnigOptionType opt)
{
	static int inited;
	struct ds_buf key = { 0 };
	struct ds_hent *h;
	OnigErrorInfo einfo;
	OnigUChar ebuf[ONIG_MAX_ERROR_MESSAGE_LEN];
	regex_t *r;
	int isnew, rc;

	if (!inited) {
		OnigEncoding enc = ONIG_ENCODING_UTF8;

		onig_initialize(&enc, 1);
		inited = 1;
	}
	ds_buf_add(&key, &opt, sizeof(opt));
	ds_buf_add(&key, re->u.s, re->n);
	h = ds_hash_put(&x->rx, key.p, key.len, &isnew);
	ds_buf_free(&key);
	if (!isnew)
		return h->val;
	rc = onig_new(&r, (const OnigUChar *)re->u.s,
	    (const OnigUChar *)re->u.s + re->n, opt, ONIG_ENCODING_UTF8,
	    ONIG_SYNTAX_PERL_NT, &einfo);
	if (rc != ONIG_NORMAL) {
		onig_error_code_to_str(ebuf, rc, &einfo);
		ds_hash_del(&x->rx, h);
		ex_err(x, "%.*s (at offset 0) is not a valid regex: %s",
		    (int)re->n, re->u.s, ebuf);
		return NULL;
	}
	h->val = r;
	return r;
}

void
ex_rxfree(struct ds_expr *x)
{
	struct ds_hent *h;
	size_t i = 0;

	while ((h = ds_hash_next(&x->rx, &i)) != NULL)
		onig_free(h->val);
	ds_hash_free(&x->rx);
}

struct names {
	struct val	**byg;	/* group number -> name */
	int		 n;
	struct ds_expr	*x;
};

static int
onename(const OnigUChar *name, const OnigUChar *end, int ngroups,
    int *groups, regex_t *re, void *arg)
{
	struct names *nm = arg;
	int i;

	for (i = 0; i < ngroups; i++)
		if (groups[i] < nm->n)
			nm->byg[groups[i]] = ev_str(&nm->x->a,
			    (const char *)name, end - name);
	return 0;
}

static struct val *
mkmatch(struct ds_expr *x, struct val *in, OnigRegion *rg, int g,
    struct val *name)
{
	static struct val ko = EV_STRLIT("offset");
	static struct val kl = EV_STRLIT("length");
	static struct val ks = EV_STRLIT("string");
	static struct val kn = EV_STRLIT("name");
	struct val *m = ev_obj(A, 4);
	int beg = rg->beg[g], end = rg->end[g];

	m->n = 0;
	if (beg < 0) {
		/* jq 1.6's member order for a group that did not take part */
		ev_set(m, &ko, ev_num(A, -1));
		ev_set(m, &ks, &ev_null);
		ev_set(m, &kl, ev_num(A, 0));
	} else {
		ev_set(m, &ko, ev_num(A, ex_cplen(in->u.s, beg)));
		ev_set(m, &kl, ev_num(A, ex_cplen(in->u.s + beg, end - beg)));
		ev_set(m, &ks, ev_strref(A, in->u.s + beg, end - beg,
		    in->safe));
	}
	if (name != NULL)
		ev_set(m, &kn, name);
	return m;
}

int
ex_match(struct ds_expr *x, struct val *in, struct val *re,
    struct val *flags, int forceglobal, struct val ***out, int *nout)
{
	static struct val kc = EV_STRLIT("captures");
	OnigOptionType opt;
	OnigRegion *rg;
	regex_t *r;
	struct names nm;
	const OnigUChar *s, *e, *start;
	struct val **list = NULL, *m, *caps;
	int global, n = 0, cap = 0, rc, g, ng;

	if (in->t != T_STR) {
		ex_err(x, "%s cannot be matched, as it is not a string",
		    ex_desc(x, in));
		return -1;
	}
	if (re->t != T_STR) {
		ex_err(x, "%s is not a string", ex_desc(x, re));
		return -1;
	}
	if (rxflags(x, flags, &opt, &global) == -1)
		return -1;
	global |= forceglobal;
	if ((r = rxget(x, re, opt)) == NULL)
		return -1;
	ng = onig_number_of_captures(r);
	nm.x = x;
	nm.n = ng + 1;
	nm.byg = ea_alloc(A, (ng + 1) * sizeof(*nm.byg));
	memset(nm.byg, 0, (ng + 1) * sizeof(*nm.byg));
	onig_foreach_name(r, onename, &nm);
	rg = onig_region_new();
	s = (const OnigUChar *)in->u.s;
	e = s + in->n;
	start = s;
	do {
		rc = onig_search(r, s, e, start, e, rg, ONIG_OPTION_NONE);
		if (rc == ONIG_MISMATCH)
			break;
		if (rc < 0) {
			onig_region_free(rg, 1);
			ex_err(x, "regex matching failed");
			return -1;
		}
		m = mkmatch(x, in, rg, 0, NULL);
		caps = ev_arr(A, ng);
		for (g = 1; g <= ng; g++)
			caps->u.a[g - 1] = mkmatch(x, in, rg, g,
			    nm.byg[g] ? nm.byg[g] : &ev_null);
		ev_set(m, &kc, caps);
		if (n == cap) {
			struct val **nl;

			cap = cap ? cap * 2 : 8;
			nl = ea_alloc(A, cap * sizeof(*nl));
			if (n)
				memcpy(nl, list, n * sizeof(*nl));
			list = nl;
		}
		list[n++] = m;
		start = rg->end[0] == rg->beg[0] ? s + rg->end[0] + 1 :
		    s + rg->end[0];
	} while (global && start <= e && start != e);
	onig_region_free(rg, 1);
	*out = list;
	*nout = n;
	return 0;
}

struct val *
ex_capobj(struct ds_expr *x, struct val *m)
{
	struct val *caps = ev_get(m, "captures", 8), *o, *c, *name;
	uint32_t i;

	o = ev_obj(A, caps->n);
	for (i = 0; i < caps->n; i++) {
		c = caps->u.a[i];
		name = ev_get(c, "name", 4);
		if (name != NULL && name->t == T_STR)
			ev_set(o, name, ev_get(c, "string", 6));
	}
	return o;
}

