/*
 * fz-jqeval -- the jq-subset evaluator (lib/jq/) on generated
 * programs and inputs: every output must be valid JSON, every error
 * must have a message.  Input: PROGRAM "\n--\n" INPUT "\n--\n" $v.
 * An input or $v that is not JSON is replaced by a fixed record.
 *
 * Programs that loop by design (repeat, while, until, recurse, def)
 * are skipped: jq has no step limit either, and a fuzzer stuck in one
 * finds nothing else.
 */
#include <stdlib.h>
#include <string.h>

#include "ds.h"
#include "fuzz.h"

#define REC	"{\"a\":3,\"b\":\"q\",\"c\":[3,1,2,1],\"d\":{\"e\":null}," \
		"\"s\":\"a b\"}"

static unsigned long nout;

static void
emit(void *arg, const char *out, size_t len)
{
	const char *msg;

	if (ds_json_check(out, len, 100000, &msg) == -1)
		fz_fail("output is not JSON (%s): %.*s", msg, (int)len, out);
	nout++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const vars[] = { "v" };
	static const char *const loops[] = { "repeat", "while", "until",
	    "recurse", "def", "..", "env", "input", NULL };
	struct ds_expr *x;
	char *part[3], err[256];
	size_t len[3];
	const char *in, *v, *msg;
	size_t inlen, vlen;
	int i;

	if (size > 4096)
		return 0;
	fz_split(data, size, part, len, 3);
	for (i = 0; loops[i] != NULL; i++)
		if (strstr(part[0], loops[i]) != NULL)
			goto out;
	in = part[1], inlen = len[1];
	if (ds_json_check(in, inlen, DS_MAXDEPTH_DEFAULT, &msg) == -1)
		in = REC, inlen = strlen(REC);
	v = part[2], vlen = len[2];
	if (ds_json_check(v, vlen, DS_MAXDEPTH_DEFAULT, &msg) == -1)
		v = "1", vlen = 1;
	if ((x = ds_expr_compile(part[0], vars, 1, err, sizeof(err))) ==
	    NULL)
		goto out;
	if (ds_expr_bind(x, 0, v, vlen) == -1)
		fz_fail("bind refused valid JSON");
	nout = 0;
	msg = NULL;
	if (ds_expr_run(x, in, inlen, emit, NULL, &msg) == -1 &&
	    (msg == NULL || msg[0] == '\0'))
		fz_fail("runtime error without a message");
	ds_expr_free(x);
out:
	fz_free(part, 3);
	return 0;
}
