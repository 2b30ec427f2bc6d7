/*
 * fz-envelope -- Kafka envelope decoding (lib/durable/replay.c ds_envelope) on
 * valid JSON, against jansson: an envelope's topic, partition and offset
 * must be the record's (the last of a repeated key, as jq), and a record
 * that has them must be taken for one.  The offsets it yields then go
 * through lib/stream/offsets.c.
 */
#include <string.h>

#include "ds.h"
#include "fuzz.h"

static struct ds_offsets seen;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *msg;
	struct ds_buf topic = { 0 };
	struct ds_env e;
	json_t *j, *t, *pa, *off, *arr, *low;
	int is, want;

	if (ds_json_check(p, size, DS_MAXDEPTH_DEFAULT, &msg) == -1)
		return 0;
	is = ds_envelope(p, size, &topic, &e);
	j = json_loadb(p, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (j == NULL)	/* beyond jansson's limits */
		goto out;
	t = json_object_get(j, "topic");
	pa = json_object_get(j, "partition");
	off = json_object_get(j, "offset");
	want = size >= 9 && memcmp(p, "{\"topic\":", 9) == 0 &&
	    json_is_string(t) && json_is_integer(pa) &&
	    json_integer_value(pa) >= 0 &&
	    json_integer_value(pa) <= INT32_MAX && json_is_integer(off);
	/* a key spelt with escapes ("partit\u0069on") is not looked at */
	if (memchr(p, '\\', size) != NULL)
		want = is;
	if (is != want)
		fz_fail("ds_envelope says %d, jansson %d", is, want);
	if (is && (e.tlen != json_string_length(t) ||
	    memcmp(e.topic, json_string_value(t), e.tlen) != 0 ||
	    e.part != json_integer_value(pa) ||
	    e.off != json_integer_value(off)))
		fz_fail("ds_envelope read other values");
	if (is) {
		ds_offsets_fresh(&seen, e.topic, e.tlen, e.part, e.off);
		ds_offsets_see(&seen, e.topic, e.tlen, e.part, e.off);
		arr = ds_offsets_json(&seen);
		low = ds_offsets_lower(arr, arr);
		if (!json_equal(low, arr))
			fz_fail("offsets lowered to themselves differ");
		ds_offsets_merge_json(&seen, arr);
		json_decref(arr);
		json_decref(low);
		if (seen.n > 64)
			ds_offsets_clear(&seen);
	}
out:
	json_decref(j);
	ds_buf_free(&topic);
	return 0;
}
