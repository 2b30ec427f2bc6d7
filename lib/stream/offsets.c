/*
 * offsets.c -- offset ranges per topic and partition, collected from
 * ds-kafka-cat envelopes into batch markers (Spark's OffsetRange).
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "stream/stream.h"

static struct ds_orange *
range(struct ds_offsets *o, const char *topic, size_t tlen, int32_t part)
{
	struct ds_orange *r;
	size_t i;

	for (i = 0; i < o->n; i++) {
		r = &o->r[i];
		if (r->partition == part && strlen(r->topic) == tlen &&
		    memcmp(r->topic, topic, tlen) == 0)
			return r;
	}
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 8;
		if ((o->r = reallocarray(o->r, o->cap, sizeof(*o->r))) == NULL)
			err(1, NULL);
	}
	r = &o->r[o->n++];
	if ((r->topic = strndup(topic, tlen)) == NULL)
		err(1, NULL);
	r->partition = part;
	r->from = INT64_MAX;
	r->until = INT64_MIN;
	return r;
}

void
ds_offsets_see(struct ds_offsets *o, const char *topic, size_t tlen,
    int32_t partition, int64_t offset)
{
	struct ds_orange *r = range(o, topic, tlen, partition);

	if (offset < r->from)
		r->from = offset;
	if (offset + 1 > r->until)
		r->until = offset + 1;
}

int
ds_offsets_fresh(struct ds_offsets *o, const char *topic, size_t tlen,
    int32_t partition, int64_t offset)
{
	struct ds_orange *r = range(o, topic, tlen, partition);

	if (offset < r->until)
		return 0;
	if (offset < r->from)
		r->from = offset;
	r->until = offset + 1;
	return 1;
}

static int
cmp(const void *a, const void *b)
{
	const struct ds_orange *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	if (c != 0)
		return c;
	return (x->partition > y->partition) - (x->partition < y->partition);
}

json_t *
ds_offsets_json(const struct ds_offsets *o)
{
	json_t *a = json_array();
	size_t i;

	if (o->n > 1)	/* qsort(NULL, 0) is undefined */
		qsort(o->r, o->n, sizeof(*o->r), cmp);
	for (i = 0; i < o->n; i++)
		json_array_append_new(a, json_pack("{s:s,s:i,s:I,s:I}",
		    "topic", o->r[i].topic, "partition", (int)o->r[i].partition,
		    "from", (json_int_t)o->r[i].from,
		    "until", (json_int_t)o->r[i].until));
	return a;
}

void
ds_offsets_merge_json(struct ds_offsets *o, json_t *arr)
{
	json_t *v;
	size_t i;
	const char *t;
	struct ds_orange *r;

	json_array_foreach(arr, i, v) {
		t = json_string_value(json_object_get(v, "topic"));
		if (t == NULL)
			continue;
		r = range(o, t, strlen(t),
		    (int32_t)json_integer_value(json_object_get(v, "partition")));
		int64_t from = json_integer_value(json_object_get(v, "from"));
		int64_t until = json_integer_value(json_object_get(v, "until"));
		if (from < r->from)
			r->from = from;
		if (until > r->until)
			r->until = until;
	}
}

void
ds_offsets_clear(struct ds_offsets *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		free(o->r[i].topic);
	o->n = 0;
}

void
ds_offsets_free(struct ds_offsets *o)
{
	ds_offsets_clear(o);
	free(o->r);
	o->r = NULL;
	o->cap = 0;
}

json_t *
ds_offsets_lower(json_t *ours, json_t *bound)
{
	json_t *out = json_array(), *r, *q;
	const char *t, *qt;
	size_t i, j;

	json_array_foreach(ours, i, r) {
		if (!json_is_array(bound)) {
			json_array_append(out, r);
			continue;
		}
		t = json_string_value(json_object_get(r, "topic"));
		json_array_foreach(bound, j, q) {
			qt = json_string_value(json_object_get(q, "topic"));
			if (t == NULL || qt == NULL || strcmp(t, qt) != 0 ||
			    json_integer_value(json_object_get(q,
			    "partition")) != json_integer_value(
			    json_object_get(r, "partition")))
				continue;
			r = json_deep_copy(r);
			if (json_integer_value(json_object_get(q, "until")) <
			    json_integer_value(json_object_get(r, "until")))
				json_object_set(r, "until",
				    json_object_get(q, "until"));
			json_array_append_new(out, r);
			break;
		}
	}
	return out;
}

/*
 * What input i says is safe to commit for topic/partition r: its own
 * "commit" when it has one (-1: not yet safe), else all it delivered.
 * 0 and *until unchanged when i never had that partition.
 */
static int
safe(const struct ds_offsets *cum, json_t *m, const struct ds_orange *r,
    int64_t *until)
{
	json_t *c, *e;
	const char *t;
	size_t k, j;

	for (k = 0; k < cum->n; k++)
		if (cum->r[k].partition == r->partition &&
		    strcmp(cum->r[k].topic, r->topic) == 0)
			break;
	if (k == cum->n)
		return 0;
	if ((c = json_object_get(m, "commit")) == NULL) {
		if (cum->r[k].until < *until)
			*until = cum->r[k].until;
		return 0;
	}
	json_array_foreach(c, j, e) {
		t = json_string_value(json_object_get(e, "topic"));
		if (t == NULL || strcmp(t, r->topic) != 0 ||
		    json_integer_value(json_object_get(e, "partition")) !=
		    r->partition)
			continue;
		if (json_integer_value(json_object_get(e, "until")) < *until)
			*until = json_integer_value(json_object_get(e,
			    "until"));
		return 0;
	}
	return -1;
}

json_t *
ds_offsets_commit(const struct ds_offsets *const *cum, json_t *const *m,
    int n)
{
	struct ds_offsets all = { 0 };
	struct ds_orange *r;
	json_t *c;
	int64_t until;
	size_t k, j;
	int i;

	for (i = 0; i < n; i++)
		for (k = 0; m[i] != NULL && k < cum[i]->n; k++) {
			r = &cum[i]->r[k];
			r = range(&all, r->topic, strlen(r->topic),
			    r->partition);
			r->from = r->from < cum[i]->r[k].from ? r->from :
			    cum[i]->r[k].from;
			r->until = r->until > cum[i]->r[k].until ? r->until :
			    cum[i]->r[k].until;
		}
	for (k = j = 0; k < all.n; k++) {
		until = all.r[k].until;
		for (i = 0; i < n; i++)
			if (m[i] != NULL && safe(cum[i], m[i], &all.r[k],
			    &until) == -1)
				break;
		if (i < n) {
			free(all.r[k].topic);
			continue;
		}
		all.r[k].until = until;
		all.r[j++] = all.r[k];
	}
	all.n = j;
	c = ds_offsets_json(&all);
	ds_offsets_free(&all);
	return c;
}
