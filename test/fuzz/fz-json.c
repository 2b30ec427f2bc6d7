/*
 * fz-json -- the JSON scanner (lib/json/json.c) against jansson on the same
 * bytes: accept/reject, the type, each top-level field's value found by
 * ds_json_get/ds_json_getv/ds_json_scan, numbers, unescaped strings, and
 * the compact and canonical forms.  Also field-path parsing on the raw input.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ds.h"
#include "fuzz.h"

#define DEPTH	64	/* below jansson's 2048: both must say the same */
#define JFLAGS	(JSON_DECODE_ANY | JSON_ALLOW_NUL)

/* Equal as JSON values, numbers compared by value (canon drops 1.0). */
static int
same(json_t *a, json_t *b)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b) ||
		    (isnan(json_number_value(a)) && isnan(json_number_value(b)));
	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		json_array_foreach(a, i, v)
			if (!same(v, json_array_get(b, i)))
				return 0;
		return 1;
	}
	if (json_is_object(a)) {
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach(a, k, v)
			if (!same(v, json_object_get(b, k)))
				return 0;
		return 1;
	}
	return json_equal(a, b);
}

static json_t *
load(const char *p, size_t n)
{
	return json_loadb(p, n, JFLAGS, NULL);
}

/* The raw value v must be the value j. */
static void
checkval(struct ds_span v, json_t *j, const char *what)
{
	struct ds_buf b = { 0 };
	json_t *got;
	int64_t i;
	double d;

	if ((got = load(v.p, v.len)) == NULL || !json_equal(got, j))
		fz_fail("%s: ds_json_get found %.*s", what, (int)v.len, v.p);
	json_decref(got);
	if (json_is_integer(j) && (ds_json_int(v, &i) == -1 ||
	    i != json_integer_value(j)))
		fz_fail("%s: ds_json_int %.*s", what, (int)v.len, v.p);
	if (json_is_number(j) && (ds_json_num(v, &d) == -1 ||
	    d != json_number_value(j)))
		fz_fail("%s: ds_json_num %.*s", what, (int)v.len, v.p);
	if (!json_is_number(j) && ds_json_num(v, &d) == 0)
		fz_fail("%s: ds_json_num took %.*s", what, (int)v.len, v.p);
	if (json_is_string(j)) {
		if (ds_json_str(v, &b) == -1 ||
		    b.len != json_string_length(j) || (b.len > 0 &&
		    memcmp(b.p, json_string_value(j), b.len) != 0))
			fz_fail("%s: ds_json_str %.*s", what, (int)v.len, v.p);
	} else if (ds_json_str(v, &b) == 0)
		fz_fail("%s: ds_json_str took %.*s", what, (int)v.len, v.p);
	ds_buf_free(&b);
}

/* Every member of object o, and one level below, found by path. */
static void
fields(const char *p, size_t len, json_t *o)
{
	const struct ds_path *pp[64];
	struct ds_path path[64];
	struct ds_span v[64], sv[64], sub;
	struct ds_jscan js;
	int found[64], sfound[64];
	char *key[64][2];
	size_t klen[64][2];
	json_t *val, *inner;
	void *it;
	int n = 0, i;

	for (it = json_object_iter(o); it != NULL && n < 64;
	    it = json_object_iter_next(o, it), n++) {
		key[n][0] = (char *)json_object_iter_key(it);
		klen[n][0] = json_object_iter_key_len(it);
		path[n].n = 1;
		path[n].key = key[n];
		path[n].klen = klen[n];
		path[n].text = key[n][0];
		pp[n] = &path[n];
		val = json_object_iter_value(it);
		if (ds_json_get(p, len, &path[n], &v[n]) != 1)
			fz_fail("ds_json_get missed key %s", key[n][0]);
		checkval(v[n], val, key[n][0]);
		/* one level down: the first member of an inner object */
		if (json_is_object(val) && json_object_size(val) > 0) {
			struct ds_path p2 = path[n];
			void *it2 = json_object_iter(val);

			key[n][1] = (char *)json_object_iter_key(it2);
			klen[n][1] = json_object_iter_key_len(it2);
			p2.n = 2;
			inner = json_object_getn(val, key[n][1], klen[n][1]);
			if (ds_json_get(p, len, &p2, &sub) != 1)
				fz_fail("ds_json_get missed %s.%s", key[n][0],
				    key[n][1]);
			checkval(sub, inner, key[n][1]);
		}
	}
	if (n == 0)
		return;
	if (ds_json_getv(p, len, pp, n, v, found) == -1)
		fz_fail("ds_json_getv refused an object");
	for (i = 0; i < n; i++) {
		if (!found[i])
			fz_fail("ds_json_getv missed key %s", key[i][0]);
		checkval(v[i], json_object_getn(o, key[i][0], klen[i][0]),
		    key[i][0]);
	}
	/* the validating pass finds the very same spans */
	js = (struct ds_jscan){ .maxdepth = DEPTH, .paths = pp, .npaths = n,
	    .v = sv, .found = sfound };
	if (ds_json_scan(p, len, &js) == -1 || !js.isobj)
		fz_fail("ds_json_scan refused an object");
	for (i = 0; i < n; i++)
		if (!sfound[i] || sv[i].p != v[i].p || sv[i].len != v[i].len)
			fz_fail("ds_json_scan and ds_json_getv differ on %s",
			    key[i][0]);
}

static void
paths(const uint8_t *data, size_t size)
{
	struct ds_path path, *ps;
	char *s;
	int n;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (ds_path_parse(s, &path) == 0)
		ds_path_free(&path);
	if ((n = ds_paths_parse(s, &ps)) > 0)
		ds_paths_free(ps, n);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *msg;
	struct ds_buf b = { 0 };
	struct ds_span whole;
	json_t *j, *c;
	json_error_t je;
	int dskey, ok;

	paths(data, size);
	ok = ds_json_validate(p, size, DEPTH, &msg, &dskey) == 0;
	j = json_loadb(p, size, JFLAGS, &je);
	if (!ok && strstr(msg, "nesting deeper") != NULL) {
		json_decref(j);
		return 0;
	}
	/* jansson's own limits: int64 and double range, lone surrogates */
	if (j == NULL && (strstr(je.text, "too big") != NULL ||
	    strstr(je.text, "overflow") != NULL ||
	    strstr(je.text, "invalid Unicode") != NULL ||
	    strstr(je.text, "NUL byte in object key") != NULL ||
	    strstr(je.text, "maximum parsing depth") != NULL))
		return 0;
	/* jansson stops at a NUL byte; JSON has none outside strings */
	if (j != NULL && !ok && memchr(p, '\0', size) != NULL) {
		json_decref(j);
		return 0;
	}
	if (ok != (j != NULL))
		fz_fail("ds %s, jansson %s", ok ? "accepts" : msg,
		    j != NULL ? "accepts" : je.text);
	if (!ok)
		return 0;

	switch (ds_json_type(p, size)) {
	case DS_JOBJ: ok = json_is_object(j); break;
	case DS_JARR: ok = json_is_array(j); break;
	case DS_JSTR: ok = json_is_string(j); break;
	case DS_JNUM: ok = json_is_number(j); break;
	case DS_JTRUE: ok = json_is_true(j); break;
	case DS_JFALSE: ok = json_is_false(j); break;
	case DS_JNULL: ok = json_is_null(j); break;
	default: ok = 0;
	}
	if (!ok)
		fz_fail("ds_json_type disagrees");
	if (dskey != (json_is_object(j) && json_object_get(j, "@ds") != NULL))
		fz_fail("validate's dskey disagrees");
	if (json_is_object(j) && ds_json_has_dskey(p, size) !=
	    (json_object_get(j, "@ds") != NULL))
		fz_fail("ds_json_has_dskey disagrees");

	ds_json_compact(p, size, &b);
	if ((c = load(b.p, b.len)) == NULL || !json_equal(c, j))
		fz_fail("compact form differs: %.*s", (int)b.len, b.p);
	json_decref(c);
	ds_buf_clear(&b);
	whole.p = p;
	whole.len = size;
	while (whole.len > 0 && strchr(" \t\r\n", *whole.p) != NULL) {
		whole.p++;
		whole.len--;
	}
	while (whole.len > 0 && strchr(" \t\r\n", whole.p[whole.len - 1]) !=
	    NULL)
		whole.len--;
	/* canon writes a double of 1e17 and more in plain digits, jq's
	 * way, which jansson takes for an integer beyond int64 */
	if (ds_json_canon(whole, &b) == -1 || (c = json_loadb(b.p, b.len,
	    JFLAGS | JSON_DECODE_INT_AS_REAL, NULL)) == NULL || !same(c, j))
		fz_fail("canonical form differs: %.*s", (int)b.len, b.p);
	json_decref(c);
	ds_buf_free(&b);

	if (json_is_object(j))
		fields(p, size, j);
	json_decref(j);
	return 0;
}
