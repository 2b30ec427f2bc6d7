/*
 * marker.c -- control records.  Markers are few (one per batch), so they
 * are ordinary jansson objects; jansson keeps insertion order, so the
 * canonical form starts with "@ds" and unknown fields are carried along.
 */
#include <err.h>
#include <stdlib.h>
#include <string.h>

#include "stream/stream.h"

json_t *
ds_marker_parse(const struct ds_line *l)
{
	json_t *m;
	json_error_t e;

	if ((m = json_loadb(l->p, l->len, JSON_DISABLE_EOF_CHECK, &e)) == NULL)
		return NULL;
	if (!json_is_object(m) ||
	    !json_is_string(json_object_get(m, "@ds"))) {
		json_decref(m);
		return NULL;
	}
	return m;
}

int
ds_marker_is_batch(json_t *m)
{
	const char *t = json_string_value(json_object_get(m, "@ds"));

	return t != NULL && strcmp(t, "batch") == 0;
}

int64_t
ds_marker_int(json_t *m, const char *key)
{
	json_t *v = json_object_get(m, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

void
ds_marker_set_int(json_t *m, const char *key, int64_t v)
{
	json_object_set_new(m, key, json_integer(v));
}

json_t *
ds_marker_new(int64_t seq, int64_t time, int64_t interval, int64_t count,
    json_t *offsets)
{
	json_t *m = json_object();

	if (m == NULL)
		err(1, NULL);
	json_object_set_new(m, "@ds", json_string("batch"));
	ds_marker_set_int(m, "seq", seq);
	ds_marker_set_int(m, "time", time);
	ds_marker_set_int(m, "interval", interval);
	ds_marker_set_int(m, "count", count);
	json_object_set_new(m, "offsets", offsets ? offsets : json_array());
	ds_marker_set_int(m, "created", ds_now_ms());
	return m;
}

int
ds_applied_replay(const struct ds_applied *a, json_t *m)
{
	const char *s = json_string_value(json_object_get(m, "stream"));

	if (s != NULL && a->stream != NULL && strcmp(s, a->stream) != 0)
		return 0;	/* another stream: a new batch */
	return ds_marker_int(m, "seq") <= a->seq &&
	    ds_marker_int(m, "time") <= a->time;
}

void
ds_applied_set(struct ds_applied *a, json_t *m)
{
	const char *s = json_string_value(json_object_get(m, "stream"));

	a->seq = ds_marker_int(m, "seq");
	a->time = ds_marker_int(m, "time");
	free(a->stream);
	a->stream = NULL;
	if (s != NULL && (a->stream = strdup(s)) == NULL)
		err(1, NULL);
}

void
ds_applied_save(const struct ds_applied *a, json_t *obj)
{
	ds_marker_set_int(obj, "seq", a->seq);
	ds_marker_set_int(obj, "time", a->time);
	if (a->stream != NULL)
		json_object_set_new(obj, "stream", json_string(a->stream));
}

void
ds_applied_load(struct ds_applied *a, json_t *obj)
{
	ds_applied_set(a, obj);
	if (!json_is_integer(json_object_get(obj, "time")))
		a->time = INT64_MAX;	/* older checkpoints: seq alone */
}

void
ds_applied_free(struct ds_applied *a)
{
	free(a->stream);
	a->stream = NULL;
}

void
ds_marker_emit(json_t *m)
{
	if (ds_bad_count > 0) {
		ds_marker_set_int(m, "bad",
		    ds_marker_int(m, "bad") + (int64_t)ds_bad_count);
		ds_bad_count = 0;
	}
	ds_out_json(m);
	ds_out_flush();
}

json_t *
ds_marker_final(json_t *last, int64_t count)
{
	int64_t seq = 1, time = ds_now_ms(), interval = 0;
	json_t *m;

	if (last != NULL) {
		seq = ds_marker_int(last, "seq") + 1;
		interval = ds_marker_int(last, "interval");
		time = ds_marker_int(last, "time") + interval;
	}
	m = ds_marker_new(seq, time, interval, count, NULL);
	json_object_set_new(m, "final", json_true());
	return m;
}
