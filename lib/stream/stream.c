/*
 * stream.c -- the loop every filter stage shares: data lines to the
 * stage, batch markers after their batch, other control records
 * forwarded, and the end-of-input rule of ds(7).
 */
#include <err.h>
#include <stdlib.h>

#include "stream/stream.h"

void
ds_stage_run(const struct ds_stage *st, char **files, int nfiles)
{
	static char *stdinv[] = { "-" };
	struct ds_in *in;
	struct ds_line l;
	json_t *m, *last = NULL;
	unsigned long nmarkers = 0;
	int64_t since = 0;
	int i;

	if (nfiles == 0) {
		files = stdinv;
		nfiles = 1;
	}
	for (i = 0; i < nfiles && !ds_stop; i++) {
		if ((in = ds_in_open(files[i], ds_opts.maxline)) == NULL)
			err(1, "%s", files[i]);
		while (ds_in_next(in, &l)) {
			if (!st->text && ds_line_blank(&l))
				continue;	/* as jq: no value, no record */
			if (!l.toolong && ds_is_control(l.p, l.len)) {
				if ((m = ds_marker_parse(&l)) == NULL) {
					ds_bad(&l, "malformed control record");
					continue;
				}
				if (!ds_marker_is_batch(m)) {
					json_decref(m);
					if (st->control != NULL)
						st->control(st->ctx, &l);
					else
						ds_out_line(l.p, l.len);
					continue;
				}
				json_decref(last);
				last = json_deep_copy(m);
				nmarkers++;
				since = 0;
				st->marker(st->ctx, m, &l);
				continue;
			}
			since++;
			st->data(st->ctx, &l);
		}
		ds_in_close(in);
	}
	if (nmarkers > 0 && since > 0)
		st->marker(st->ctx, ds_marker_final(last, since), NULL);
	json_decref(last);
	if (st->end != NULL)
		st->end(st->ctx, nmarkers);
	ds_out_flush();
}
