/*
 * opt.c -- the options every tool shares (bad-record policy, limits,
 * the run summary, the progress line) and the signals they answer.
 */
#include <err.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream/stream.h"

volatile sig_atomic_t ds_stop;

static void
onsig(int sig)
{
	if (sig == SIGUSR1)
		ds_statsreq = 1;	/* the summary is written by the loop */
	else
		ds_stop = 1;
}

void
ds_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onsig;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: a blocked read must return */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_flags = SA_RESTART;	/* SIGUSR1 interrupts nothing */
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_DFL);
	ds_stats.start = ds_now_ms();
}

struct ds_opts ds_opts = {
	.maxline = DS_MAXLINE_DEFAULT,
	.maxdepth = DS_MAXDEPTH_DEFAULT,
	.progress = -1
};

struct ds_stats ds_stats;
volatile sig_atomic_t ds_statsreq;
void (*ds_stats_extra)(struct ds_buf *);

void
ds_stats_write(void)
{
	struct ds_buf b = { 0 };

	ds_buf_adds(&b, "{\"tool\":");
	ds_buf_addq(&b, getprogname(), strlen(getprogname()));
	ds_buf_addf(&b, ",\"in\":%llu,\"out\":%llu,\"bad\":%llu,"
	    "\"batches\":%llu,\"wall_ms\":%lld",
	    (unsigned long long)ds_stats.in, (unsigned long long)ds_stats.out,
	    (unsigned long long)ds_stats.bad,
	    (unsigned long long)ds_stats.batches,
	    (long long)(ds_now_ms() - ds_stats.start));
	if (ds_stats_extra != NULL)
		ds_stats_extra(&b);
	ds_buf_adds(&b, "}\n");
	/* one write: the line is not interleaved with other messages */
	(void)ds_writeall(STDERR_FILENO, b.p, b.len);
	ds_buf_free(&b);
}

void
ds_stats_check(void)
{
	if (!ds_statsreq)
		return;
	ds_statsreq = 0;
	ds_stats_write();
}

static void
stats_atexit(void)
{
	ds_stats_write();
}

int
ds_common_opt(int ch, const char *arg)
{
	const char *errstr;
	int64_t n;

	switch (ch) {
	case DS_OPT_SKIPBAD:
		ds_opts.skipbad = 1;
		return 1;
	case DS_OPT_DEADLETTER:
		ds_opts.deadletter = arg;
		return 1;
	case DS_OPT_MAXLINE:
		if (ds_bytesize(arg, &n) == -1 || n < 16 || n > (1LL << 31))
			errx(2, "--max-line: %s: expected a size from 16 to 2G",
			    arg);
		ds_opts.maxline = (size_t)n;
		return 1;
	case DS_OPT_STATS:
		if (!ds_opts.stats)
			atexit(stats_atexit);
		ds_opts.stats = 1;
		return 1;
	case DS_OPT_PROGRESS:
	case DS_OPT_NOPROGRESS:
		ds_opts.progress = ch == DS_OPT_PROGRESS;
		return 1;
	case DS_OPT_MAXDEPTH:
		ds_opts.maxdepth = (int)strtonum(arg, 1, 10000, &errstr);
		if (errstr != NULL)
			errx(2, "--max-depth: %s is %s", arg, errstr);
		return 1;
	}
	return 0;
}

void
ds_opt_keys(const char *arg, struct ds_path **keys, int *nkeys)
{
	char msg[256];

	if (*keys != NULL)
		errx(2, "-k: give the key fields once, comma-separated");
	if ((*nkeys = ds_paths_parse(arg, keys)) < 1)
		errx(2, "-k %s: bad field list", arg);
	if (ds_key_check(*keys, *nkeys, msg, sizeof(msg)) == -1)
		errx(2, "-k: %s", msg);
}

void
ds_opt_keys_lead(const char *field, struct ds_path **keys, int *nkeys)
{
	struct ds_path p;
	char msg[256];

	if (ds_path_parse(field, &p) == -1)
		errx(2, "--partition-field %s: bad field", field);
	*keys = ds_reallocarray(*keys, (size_t)*nkeys + 1, sizeof(**keys));
	memmove(*keys + 1, *keys, (size_t)*nkeys * sizeof(**keys));
	(*keys)[0] = p;
	(*nkeys)++;
	if (ds_key_check(*keys, *nkeys, msg, sizeof(msg)) == -1)
		errx(2, "-k: %s", msg);
}
