/*
 * durable/assign.c -- ds-kafka-cat's assign and revoke records: where
 * the newly assigned partitions start, and which partitions it lost.  A
 * replay of a batch log learns from an assignment which logged batches
 * were committed.
 */
#include <string.h>

#include "durable/durable.h"

#define ASSIGN	"{\"@ds\":\"assign\","
#define REVOKE	"{\"@ds\":\"revoke\","

int
ds_is_assign(const char *p, size_t len)
{
	return len > sizeof(ASSIGN) - 1 &&
	    memcmp(p, ASSIGN, sizeof(ASSIGN) - 1) == 0;
}

int
ds_is_revoke(const char *p, size_t len)
{
	return len > sizeof(REVOKE) - 1 &&
	    memcmp(p, REVOKE, sizeof(REVOKE) - 1) == 0;
}

int
ds_replay_assign(struct ds_replay *rp, const char *p, size_t len)
{
	json_t *m, *o, *e, *pa, *from;
	const char *t;
	size_t i;
	int rv = 0;

	if ((m = json_loadb(p, len, 0, NULL)) == NULL ||
	    !json_is_array(o = json_object_get(m, "offsets"))) {
		json_decref(m);
		return -1;
	}
	json_array_foreach(o, i, e) {
		t = json_string_value(json_object_get(e, "topic"));
		pa = json_object_get(e, "partition");
		from = json_object_get(e, "from");
		if (t == NULL || !json_is_integer(pa)) {
			rv = -1;
			break;
		}
		if (rp != NULL)
			ds_replay_start(rp, t, strlen(t),
			    (int32_t)json_integer_value(pa),
			    json_is_integer(from) ? json_integer_value(from) :
			    -1);
	}
	json_decref(m);
	return rv;
}
