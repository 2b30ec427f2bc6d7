/*
 * fz-batch -- ds-batch's input side as a whole (bin/ds-batch.c, taken
 * in): records, envelopes, assign control records and forged ones, cut
 * by count, with --log replaying a batch log of arbitrary bytes.
 * Input: BATCHLOG "\n--\n" LINES.
 */
#include "fuzz.h"

/* a tool's error exit leaks what it would have freed at exit(3) */
const char *__asan_default_options(void) { return "detect_leaks=0"; }

#define main	dsbatch_main
#include "../../bin/ds-batch.c"
#undef main

static void
reset(void)
{
	seq = 0;
	lasttime = INT64_MIN;
	replaying = 0;
	rp = NULL;
	ob = NULL;
	nob = obcap = 0;
	redelivered = 0;
	status = 0;
	ds_bad_count = 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_line l = { 0 };
	char *part[2], *p, *nl;
	size_t len[2];

	if (size > 65536)
		return 0;
	fz_quiet_stdout();
	ds_opts.skipbad = 1;
	maxn = 2;
	fz_split(data, size, part, len, 2);
	logdir = fz_dir();
	fz_file(logdir, "batches.ndjson", part[0], len[0]);
	reset();
	strlcpy(streamid, "s-1", sizeof(streamid));
	l.src = "fuzz";
	if (FZ_TRY) {
		replay_init();
		pt_settick(ds_now_ms());
		for (p = part[1]; *p != '\0' || p < part[1] + len[1];
		    p = nl + 1) {
			if ((nl = memchr(p, '\n', part[1] + len[1] - p)) ==
			    NULL)
				nl = part[1] + len[1];
			*nl = '\0';
			l.p = p;
			l.len = nl - p;
			l.lineno++;
			record(&l);
			if (nl == part[1] + len[1])
				break;
		}
		if (replaying)
			replay_pump(1);
		if (cur.count > 0 || ds_bad_count > 0)
			pt_final();
		ds_out_flush();
	}
	FZ_END;
	cleanup();
	fz_free(part, 2);
	return 0;
}
