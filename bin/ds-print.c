/*
 * ds-print -- show the first records of every batch (Spark's print()):
 * a header with the batch time, the first N records, "..." when the
 * batch had more, and a blank line.  Plain input without markers prints
 * its first N records, like head(1).
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ds.h"

#define RULE	"-------------------------------------------\n"

struct print {
	int64_t		 n;		/* records to show per batch */
	int64_t		 seen;		/* records in the current batch */
	struct ds_buf	 first;		/* the first n, each with '\n' */
};

static void
usage(int st)
{
	fprintf(st ? stderr : stdout, "usage: ds-print [-n N] "
	    DS_COMMON_USAGE " [FILE ...]\n");
	exit(st);
}

static void
data(void *ctx, const struct ds_line *l)
{
	struct print *pr = ctx;

	if (ds_line_blank(l) || ds_check_line(l, 0) == -1)
		return;
	if (pr->seen++ < pr->n) {
		ds_buf_add(&pr->first, l->p, l->len);
		ds_buf_addc(&pr->first, '\n');
	}
}

/* The batch is complete: its header, its first records, then flush. */
static void
marker(void *ctx, json_t *m, const struct ds_line *l)
{
	struct print *pr = ctx;
	char hdr[160];
	int len;

	len = snprintf(hdr, sizeof(hdr), RULE "Time: %lld ms\n" RULE,
	    (long long)ds_marker_int(m, "time"));
	ds_out(hdr, (size_t)len);
	ds_out(pr->first.p, pr->first.len);
	if (pr->seen > pr->n)
		ds_out("...\n", 4);
	ds_out("\n", 1);
	ds_out_flush();
	ds_buf_clear(&pr->first);
	pr->seen = 0;
	ds_bad_count = 0;	/* shown nowhere: the records were reported */
	json_decref(m);
}

/* Other control records are not part of the display. */
static void
control(void *ctx, const struct ds_line *l)
{
}

/* Plain input: no marker came, print what head(1) would. */
static void
end(void *ctx, unsigned long nmarkers)
{
	struct print *pr = ctx;

	if (nmarkers == 0)
		ds_out(pr->first.p, pr->first.len);
}

int
main(int argc, char *argv[])
{
	static struct option lopts[] = {
		DS_COMMON_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct print pr = { 10, 0, { 0 } };
	struct ds_stage st = { data, marker, NULL, end, &pr, 0 };
	const char *errstr;
	int ch;

	ds_signals();
	while ((ch = getopt_long(argc, argv, "hn:V", lopts, NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
		case 'h':
			usage(0);
			break;
		case 'n':
			pr.n = strtonum(optarg, 0, INT64_MAX, &errstr);
			if (errstr != NULL)
				errx(2, "-n: %s is %s", optarg, errstr);
			break;
		case 'V':
			ds_version();
			break;
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;

	st.control = control;
	ds_stage_run(&st, argv, argc);
	ds_out_flush();
	ds_buf_free(&pr.first);
	return 0;
}
