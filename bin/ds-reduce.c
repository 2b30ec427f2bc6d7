/*
 * ds-reduce -- per-batch aggregation: Spark's reduceByKey, count,
 * countByValue and reduce.  Each batch's records are grouped by the -k
 * fields and folded into the -a aggregates; at the batch's marker one
 * record per group is written (groups in order of first appearance),
 * then the marker.  Plain input (no markers) gives plain results at end
 * of input.
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ds.h"

enum { OPT_TOP = DS_OPT_FIRST_TOOL };

struct reduce {
	struct ds_aggs	 aggs;
	struct ds_path	*keys;
	int		 nkeys;
	struct ds_groups groups;
	struct ds_buf	 out;
	struct ds_grouper gr;
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: ds-reduce [-hV] [-k FIELD[,FIELD...]] [-a [NAME=]AGG]... "
	    "[--top N:FIELD]\n"
	    "                 " DS_COMMON_USAGE " [FILE...]\n");
	exit(status);
}

static void
data(void *ctx, const struct ds_line *l)
{
	struct reduce *r = ctx;
	const char *why;

	if (ds_check_line(l, 0) == -1)
		return;
	if (ds_grouper_add(&r->gr, &r->groups, l->p, l->len, &why) == -1)
		ds_bad(l, "%s", why);
}

/* Write one record per group (or one for the whole batch) and reset. */
static void
flush(struct reduce *r)
{
	struct ds_aggst *empty;
	struct ds_grp *g;
	size_t i = 0;

	if (r->nkeys == 0 && ds_groups_count(&r->groups) == 0) {
		/* reduce/count of an empty batch: count 0, aggregates null */
		empty = ds_agg_new(&r->aggs);
		ds_buf_clear(&r->out);
		ds_group_emit(&r->aggs, NULL, 0, "", 0, empty, &r->out);
		ds_out_buf(&r->out);
		ds_agg_free(&r->aggs, empty);
	}
	while ((g = ds_groups_next(&r->groups, &i)) != NULL) {
		ds_buf_clear(&r->out);
		ds_group_emit(&r->aggs, r->keys, r->nkeys, g->key, g->klen,
		    g->st, &r->out);
		ds_out_buf(&r->out);
	}
	ds_groups_clear(&r->groups, &r->aggs);
}

static void
marker(void *ctx, json_t *m, const struct ds_line *l)
{
	flush(ctx);
	ds_marker_emit(m);
	json_decref(m);
}

static void
end(void *ctx, unsigned long nmarkers)
{
	if (nmarkers == 0)
		flush(ctx);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		DS_COMMON_LONGOPTS,
		{ "top",	required_argument, NULL, OPT_TOP },
		{ "key",	required_argument, NULL, 'k' },
		{ "agg",	required_argument, NULL, 'a' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct reduce r;
	struct ds_stage st = { data, marker, NULL, end, &r };
	char ebuf[512], *spec;
	int ch;

	memset(&r, 0, sizeof(r));
	ds_signals();
	while ((ch = getopt_long(argc, argv, "a:hk:V", longopts, NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
		case 'a':
			if (ds_aggs_add(&r.aggs, optarg, ebuf, sizeof(ebuf)) == -1)
				errx(2, "-a %s", ebuf);
			break;
		case OPT_TOP:
			if (asprintf(&spec, "top:%s", optarg) == -1)
				err(1, NULL);
			if (ds_aggs_add(&r.aggs, spec, ebuf, sizeof(ebuf)) == -1)
				errx(2, "--top %s", ebuf);
			free(spec);
			break;
		case 'k':
			if (r.keys != NULL)
				errx(2, "-k: give the key fields once, "
				    "comma-separated");
			if ((r.nkeys = ds_paths_parse(optarg, &r.keys)) == -1)
				errx(2, "-k %s: bad field list", optarg);
			if (ds_key_check(r.keys, r.nkeys, ebuf,
			    sizeof(ebuf)) == -1)
				errx(2, "-k: %s", ebuf);
			break;
		case 'h':
			usage(0);
		case 'V':
			ds_version();
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;

	if (r.aggs.n == 0 && ds_aggs_add(&r.aggs, "count", ebuf,
	    sizeof(ebuf)) == -1)
		errx(2, "%s", ebuf);
	if (ds_grouper_init(&r.gr, &r.aggs, r.keys, r.nkeys, ebuf,
	    sizeof(ebuf)) == -1)
		errx(2, "%s", ebuf);

	ds_stage_run(&st, argv, argc);

	ds_groups_free(&r.groups, &r.aggs);
	ds_aggs_free(&r.aggs);
	ds_paths_free(r.keys, r.nkeys);
	ds_buf_free(&r.out);
	ds_grouper_free(&r.gr);
	return 0;
}
