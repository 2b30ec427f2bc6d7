/*
 * fz-args -- the arguments the tools parse from argv: durations and
 * sizes (lib/base/util.c), ds-kafka-cat's -o start offsets, field paths,
 * aggregate specs (lib/agg/agg.c) and event times (lib/stream/evtime.c).  Each is
 * parsed or refused with a message, never a crash; a duration or size
 * that parses is within range.
 */
#include <stdlib.h>
#include <string.h>

#include "ds.h"
#include "fuzz.h"

/* ds-kafka-cat's -o parser is file-local: take the whole file. */
#include "../../lib/kafka/kafka_consume.c"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_aggs aggs = { 0 };
	struct dk dk = { 0 };
	char dkerr[DK_ERRLEN];
	struct ds_path path;
	struct ds_span v;
	const char *msg;
	char *s, err[256];
	int64_t n;
	int ts;
	enum ds_tunit u;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (ds_duration(s, &n, 1) == 0 && n < 0)
		fz_fail("negative duration %lld", (long long)n);
	if (ds_duration(s, &n, 0) == 0 && n <= 0)
		fz_fail("duration %lld not positive", (long long)n);
	if (ds_bytesize(s, &n) == 0 && n < 0)
		fz_fail("negative size %lld", (long long)n);
	dk.offset = s;
	dk.err = dkerr;
	dkerr[0] = '\0';
	if (startoffset(&dk, &n, &ts) != 0 && dkerr[0] == '\0')
		fz_fail("-o refused without a message");
	if (ds_path_parse(s, &path) == 0)
		ds_path_free(&path);
	err[0] = '\0';
	if (ds_aggs_add(&aggs, s, err, sizeof(err)) == -1 && err[0] == '\0')
		fz_fail("aggregate refused without a message");
	ds_aggs_free(&aggs);
	v.p = s;
	v.len = size;
	if (ds_json_check(s, size, DS_MAXDEPTH_DEFAULT, &msg) == 0)
		for (u = DS_TU_MS; u <= DS_TU_US; u++)
			ds_evtime(v, u, &n);
	free(s);
	return 0;
}
