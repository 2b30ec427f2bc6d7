/*
 * ds-reduce -- per-batch aggregation: Spark's reduceByKey, count,
 * countByValue and reduce.  Each batch's records are grouped by the -k
 * fields and folded into the -a aggregates; at the batch's marker one
 * record per group is written (groups in order of first appearance),
 * then the marker.  Plain input (no markers) gives plain results at end
 * of input.
 *
 * -j N: a plain regular file is cut at line boundaries into N chunks,
 * each aggregated by a child process (the file mapped, not read); the
 * parent merges their partials in chunk order, so groups keep their
 * order of first appearance.  Whatever -j 1 would treat differently (a
 * control record, a bad or over-long line, a sum that went to floating
 * point and so would round in another order, --top) sends the parent to
 * the sequential path, which gives exactly -j 1's output and messages.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ds.h"

enum { OPT_TOP = DS_OPT_FIRST_TOOL };

struct reduce {
	struct ds_aggs	 aggs;
	struct ds_path	*keys;
	int		 nkeys;
	struct ds_groups groups;
	struct ds_buf	 out;
	struct ds_grouper gr;
	int		 jobs;		/* -j */
};

#define MAXJOBS		64
#define SEQUENTIAL	3	/* a child's exit: run as -j 1 instead */

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: ds-reduce [-hV] [-j N] [-k FIELD[,FIELD...]] "
	    "[-a [NAME=]AGG]...\n"
	    "                 [--top N:FIELD] " DS_COMMON_USAGE " [FILE...]\n");
	exit(status);
}

/* Fold line l into its group: 0, or -1 when it is bad (reported). */
static int
add(struct reduce *r, const struct ds_line *l)
{
	const char *why;

	if ((l->toolong || !ds_grouper_quick(&r->gr, l->p, l->len)) &&
	    ds_check_line_scan(l, 0, ds_grouper_scan(&r->gr)) == -1)
		return -1;
	if (ds_grouper_add(&r->gr, &r->groups, l->p, l->len, &why) == -1) {
		ds_bad(l, "%s", why);
		return -1;
	}
	return 0;
}

static void
data(void *ctx, const struct ds_line *l)
{
	add(ctx, l);
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

/*
 * -j: fold the lines of p[0..n) (a chunk of name, mapped) into r's
 * groups.  Returns -1 at the first line that -j 1 would treat
 * otherwise than as a good data record.
 */
static int
chunk(struct reduce *r, const char *name, const char *p, size_t n,
    uint64_t *nin)
{
	const char *e = p + n, *nl;
	struct ds_line l;

	memset(&l, 0, sizeof(l));
	l.src = name;
	for (; p < e; p = nl + 1) {
		if ((nl = memchr(p, '\n', e - p)) == NULL)
			nl = e;
		if ((size_t)(nl - p) > ds_opts.maxline)
			return -1;
		l.p = p;
		l.len = nl - p;
		if (l.len > 0 && p[l.len - 1] == '\r')
			l.len--;
		if (ds_line_blank(&l))
			continue;
		if (ds_is_control(l.p, l.len))
			return -1;
		(*nin)++;
		if (add(r, &l) == -1)
			return -1;
	}
	return 0;
}

/*
 * A child: aggregate one chunk, write "records\n" then "key\nstate\n"
 * for each group to fd, and exit 0, or SEQUENTIAL without writing.
 */
static void __attribute__((noreturn))
child(struct reduce *r, const char *name, const char *p, size_t n, int fd)
{
	struct ds_buf b = { 0 };
	uint64_t nin = 0;
	size_t i;
	int null;

	/* a bad line is the sequential path's to report */
	if ((null = open("/dev/null", O_WRONLY)) != -1)
		dup2(null, STDERR_FILENO);
	ds_opts.skipbad = 1;
	ds_opts.deadletter = NULL;
	if (chunk(r, name, p, n, &nin) == -1)
		_exit(SEQUENTIAL);
	ds_buf_addi(&b, (int64_t)nin);
	ds_buf_addc(&b, '\n');
	for (i = 0; i < r->groups.n; i++) {
		ds_buf_add(&b, r->groups.g[i].key, r->groups.g[i].klen);
		ds_buf_addc(&b, '\n');
		ds_agg_save(&r->aggs, r->groups.g[i].st, &b);
		ds_buf_addc(&b, '\n');
	}
	_exit(ds_writeall(fd, b.p, b.len) == -1 ? 1 : 0);
}

/* Merge the partials a child wrote (b) into r; -1 if malformed. */
static int
merge(struct reduce *r, const struct ds_buf *b, uint64_t *nin)
{
	const char *p = b->p, *e = b->p + b->len, *k, *nl;
	struct ds_aggst *st, *part;
	size_t klen;
	int isnew;

	if (b->len == 0 || (nl = memchr(p, '\n', e - p)) == NULL)
		return -1;
	*nin += strtoull(p, NULL, 10);
	for (p = nl + 1; p < e; p = nl + 1) {
		k = p;
		if ((nl = memchr(p, '\n', e - p)) == NULL)
			return -1;
		klen = nl - k;
		p = nl + 1;
		if ((nl = memchr(p, '\n', e - p)) == NULL ||
		    (part = ds_agg_load(&r->aggs, p, nl - p)) == NULL)
			return -1;
		st = ds_groups_get(&r->groups, &r->aggs, k, klen, &isnew);
		ds_agg_merge(&r->aggs, st, part);
		ds_agg_free(&r->aggs, part);
		if (!ds_agg_exact(&r->aggs, st))
			return -1;
	}
	return 0;
}

/* Read all of fd into b. */
static int
slurp(int fd, struct ds_buf *b)
{
	ssize_t n;

	for (;;) {
		ds_buf_grow(b, 65536);
		if ((n = read(fd, b->p + b->len, b->cap - b->len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return 0;
		b->len += n;
	}
}

/* Where chunk i of the n-byte map starts: after a newline. */
static size_t
cut(const char *map, size_t n, int i, int jobs, size_t prev)
{
	size_t at = (size_t)((unsigned __int128)n * i / jobs);
	const char *nl;

	if (at < prev)
		at = prev;
	if (at == 0 || at >= n)
		return at;
	nl = memchr(map + at - 1, '\n', n - at + 1);
	return nl == NULL ? n : (size_t)(nl - map) + 1;
}

/* Wait for a child; its exit status, or -1 if it did not exit. */
static int
reap(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * -j: aggregate the file name in r->jobs children.  Returns 0 with the
 * merged groups in r, or -1 (r's groups empty) when the file is to be
 * read sequentially.
 */
static int
parallel(struct reduce *r, const char *name)
{
	struct ds_buf b = { 0 };
	struct stat sb;
	pid_t pid[MAXJOBS];
	size_t off[MAXJOBS + 1], size;
	uint64_t nin = 0;
	int fd, pfd[MAXJOBS], p2[2], i, n, rc = 0;
	char *map;

	if (strcmp(name, "-") == 0 ||
	    (fd = open(name, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;	/* the sequential path reports it */
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) || sb.st_size == 0) {
		close(fd);
		return -1;
	}
	size = (size_t)sb.st_size;
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -1;
	off[0] = 0;
	for (i = 1; i <= r->jobs; i++)
		off[i] = cut(map, size, i, r->jobs, off[i - 1]);
	for (n = 0; n < r->jobs; n++) {
		if (pipe(p2) == -1)
			break;
		if ((pid[n] = fork()) == -1) {
			close(p2[0]);
			close(p2[1]);
			break;
		}
		if (pid[n] == 0) {
			close(p2[0]);
			for (i = 0; i < n; i++)
				close(pfd[i]);
			child(r, name, map + off[n], off[n + 1] - off[n],
			    p2[1]);
		}
		close(p2[1]);
		pfd[n] = p2[0];
	}
	if (n < r->jobs)
		rc = -1;
	for (i = 0; i < n; i++) {
		ds_buf_clear(&b);
		if (rc == -1)
			kill(pid[i], SIGKILL);
		else if (slurp(pfd[i], &b) == -1)
			rc = -1;
		close(pfd[i]);
		if (reap(pid[i]) != 0 && rc == 0)
			rc = -1;
		if (rc == 0 && merge(r, &b, &nin) == -1)
			rc = -1;
	}
	ds_buf_free(&b);
	munmap(map, size);
	if (rc == -1)
		ds_groups_clear(&r->groups, &r->aggs);
	else
		ds_stats.in += nin;
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		DS_COMMON_LONGOPTS,
		{ "top",	required_argument, NULL, OPT_TOP },
		{ "key",	required_argument, NULL, 'k' },
		{ "agg",	required_argument, NULL, 'a' },
		{ "jobs",	required_argument, NULL, 'j' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct reduce r;
	struct ds_stage st = { data, marker, NULL, end, &r, 0 };
	const char *errstr;
	char ebuf[512], *spec;
	int ch, i, top = 0;

	memset(&r, 0, sizeof(r));
	ds_signals();
	r.jobs = 1;
	while ((ch = getopt_long(argc, argv, "a:hj:k:V", longopts,
	    NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
		case 'a':
			if (ds_aggs_add(&r.aggs, optarg, ebuf, sizeof(ebuf)) == -1)
				errx(2, "-a %s", ebuf);
			break;
		case 'j':
			r.jobs = (int)strtonum(optarg, 1, MAXJOBS, &errstr);
			if (errstr != NULL)
				errx(2, "-j %s: %s (1 to %d)", optarg, errstr,
				    MAXJOBS);
			break;
		case OPT_TOP:
			top = 1;
			if (asprintf(&spec, "top:%s", optarg) == -1)
				err(1, NULL);
			if (ds_aggs_add(&r.aggs, spec, ebuf, sizeof(ebuf)) == -1)
				errx(2, "--top %s", ebuf);
			free(spec);
			break;
		case 'k':
			ds_opt_keys(optarg, &r.keys, &r.nkeys);
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

	/* merging top N is not exact on ties: -j needs exact merges */
	for (i = 0; i < r.aggs.n; i++)
		top |= r.aggs.d[i].op == DS_AGG_TOP;
	if (r.jobs > 1 && argc == 1 && !top && parallel(&r, argv[0]) == 0) {
		flush(&r);
		ds_out_flush();
	} else
		ds_stage_run(&st, argv, argc);

	ds_groups_free(&r.groups, &r.aggs);
	ds_aggs_free(&r.aggs);
	ds_paths_free(r.keys, r.nkeys);
	ds_buf_free(&r.out);
	ds_grouper_free(&r.gr);
	return 0;
}
