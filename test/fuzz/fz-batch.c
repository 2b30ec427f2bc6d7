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

static struct batcher b0;

/* A fresh ds-batch: what its main sets before reading. */
static struct batcher *
reset(void)
{
	memset(&b0, 0, sizeof(b0));
	b0.ival = 1000;
	b0.tunit = DS_TU_MS;
	b0.lasttime = INT64_MIN;
	b0.tpre = -1;
	ds_bad_count = 0;
	return &b0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_line l = { 0 };
	struct batcher *bt;
	char *part[2], *p, *nl;
	size_t len[2];

	if (size > 65536)
		return 0;
	fz_quiet_stdout();
	ds_opts.skipbad = 1;
	bt = reset();
	bt->maxn = 2;
	fz_split(data, size, part, len, 2);
	bt->logdir = fz_dir();
	fz_file(bt->logdir, "batches.ndjson", part[0], len[0]);
	strlcpy(bt->streamid, "s-1", sizeof(bt->streamid));
	l.src = "fuzz";
	if (FZ_TRY) {
		replay_init(bt);
		pt_settick(bt, ds_now_ms());
		for (p = part[1]; *p != '\0' || p < part[1] + len[1];
		    p = nl + 1) {
			if ((nl = memchr(p, '\n', part[1] + len[1] - p)) ==
			    NULL)
				nl = part[1] + len[1];
			*nl = '\0';
			l.p = p;
			l.len = nl - p;
			l.lineno++;
			record(bt, &l);
			if (nl == part[1] + len[1])
				break;
		}
		if (bt->replaying)
			replay_pump(bt, 1);
		if (bt->cur.count > 0 || ds_bad_count > 0)
			pt_final(bt);
		ds_out_flush();
	}
	FZ_END;
	cleanup(bt);
	fz_free(part, 2);
	return 0;
}
