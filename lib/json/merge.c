/*
 * merge.c -- one object from two (ds-join's output): the members of the
 * first, then those of the second that the first lacks; or the first
 * with the whole second as one member.  Works on the raw bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

/* Next member of an object being walked: 1 and k (with quotes), v. */
static int
member(const char **pp, const char *e, struct ds_span *k, struct ds_span *v)
{
	const char *p = *pp;

	while (p < e && DS_JSON_WS(*p))
		p++;
	if (p < e && (*p == '{' || *p == ','))
		p++;
	while (p < e && DS_JSON_WS(*p))
		p++;
	if (p >= e || *p != '"')
		return 0;
	k->p = p;
	p = ds_json_skip(p, e);
	k->len = p - k->p;
	while (p < e && DS_JSON_WS(*p))
		p++;
	p++;		/* ':' */
	while (p < e && DS_JSON_WS(*p))
		p++;
	v->p = p;
	p = ds_json_skip(p, e);
	v->len = p - v->p;
	*pp = p;
	return 1;
}

static int
keyeq(struct ds_span a, const char *b, size_t blen)
{
	return a.len == blen && memcmp(a.p, b, blen) == 0;
}

static void
addmember(struct ds_buf *b, int *any, const char *k, size_t klen,
    const char *v, size_t vlen)
{
	if ((*any)++)
		ds_buf_addc(b, ',');
	ds_buf_add(b, k, klen);
	ds_buf_addc(b, ':');
	ds_buf_add(b, v, vlen);
}

void
ds_jmerge_init(struct ds_jmerge *m, const char *as)
{
	memset(m, 0, sizeof(*m));
	if (as != NULL) {
		m->qlen = (size_t)snprintf(m->qas, sizeof(m->qas), "\"%s\"",
		    as);
		if (m->qlen >= sizeof(m->qas))
			m->qlen = sizeof(m->qas) - 1;
		m->as = 1;
	}
}

/* The members of s, less the --as one; remembered in m->sk. */
static int
firstmembers(struct ds_jmerge *m, struct ds_buf *b, const char *s,
    size_t slen, int *any)
{
	struct ds_span k, v;
	const char *p;
	int ns = 0;

	for (p = s; member(&p, s + slen, &k, &v);) {
		if (m->as && keyeq(k, m->qas, m->qlen))
			continue;
		if (ns == m->nsk) {
			m->nsk = m->nsk ? m->nsk * 2 : 64;
			m->sk = ds_reallocarray(m->sk, m->nsk, sizeof(*m->sk));
		}
		m->sk[ns++] = k;
		addmember(b, any, k.p, k.len, v.p, v.len);
	}
	return ns;
}

void
ds_jmerge(struct ds_jmerge *m, struct ds_buf *b, const char *s, size_t slen,
    const char *t, size_t tlen)
{
	struct ds_span k, v;
	const char *p;
	int ns, i, any = 0;

	ds_buf_addc(b, '{');
	ns = firstmembers(m, b, s, slen, &any);
	if (m->as)
		addmember(b, &any, m->qas, m->qlen, t, tlen);
	else
		for (p = t; member(&p, t + tlen, &k, &v);) {
			for (i = 0; i < ns; i++)
				if (keyeq(m->sk[i], k.p, k.len))
					break;
			if (i == ns)
				addmember(b, &any, k.p, k.len, v.p, v.len);
		}
	ds_buf_addc(b, '}');
}

void
ds_jmerge_free(struct ds_jmerge *m)
{
	free(m->sk);
	memset(m, 0, sizeof(*m));
}
