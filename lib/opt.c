/*
 * opt.c -- the options every tool shares (bad-record policy and limits).
 */
#include <err.h>
#include <stdlib.h>

#include "ds.h"

struct ds_opts ds_opts = {
	DS_MAXLINE_DEFAULT, DS_MAXDEPTH_DEFAULT, 0, NULL
};

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
	case DS_OPT_MAXDEPTH:
		ds_opts.maxdepth = (int)strtonum(arg, 1, 10000, &errstr);
		if (errstr != NULL)
			errx(2, "--max-depth: %s is %s", arg, errstr);
		return 1;
	}
	return 0;
}
