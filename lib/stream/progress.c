/*
 * progress.c -- the progress line of long work (a backfill with -e, a
 * backlog of log files): done of total, percent, rate and ETA, redrawn
 * in place on stderr at most twice a second.  Only for a person at a
 * terminal: off when stderr is not one, unless --progress forces it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stream/stream.h"

#define REDRAW_MS	500

static int64_t	 t0, lastdraw, done0;
static int	 shown;

int
ds_progress_on(void)
{
	static int tty = -1;

	if (ds_opts.progress != -1)
		return ds_opts.progress;
	if (tty == -1)
		tty = isatty(STDERR_FILENO);
	return tty;
}

/* Append n in unit: bytes scaled (KB, MB, GB), anything else as is. */
static void
amount(struct ds_buf *b, double n, const char *unit)
{
	static const char *const sfx[] = { "B", "KB", "MB", "GB", "TB" };
	int i = 0;

	if (strcmp(unit, "bytes") != 0) {
		ds_buf_addf(b, "%.0f", n);
		return;
	}
	while (n >= 1024 && i < 4) {
		n /= 1024;
		i++;
	}
	ds_buf_addf(b, i == 0 ? "%.0f %s" : "%.1f %s", n, sfx[i]);
}

static void
draw(int64_t done, int64_t total, const char *unit, int final)
{
	struct ds_buf b = { 0 };
	int64_t now = ds_now_ms(), secs;
	double rate;

	if (!ds_progress_on())
		return;
	if (t0 == 0) {
		t0 = lastdraw = now;
		done0 = done;
	}
	if (now - lastdraw < REDRAW_MS && shown && !final)
		return;
	lastdraw = now;
	if (total < done)
		total = done;
	rate = now > t0 ? (double)(done - done0) * 1000 / (double)(now - t0) :
	    0;
	ds_buf_addf(&b, "\r%s: ", getprogname());
	amount(&b, (double)done, unit);
	ds_buf_adds(&b, " of ");
	amount(&b, (double)total, unit);
	if (strcmp(unit, "bytes") != 0)
		ds_buf_addf(&b, " %s", unit);
	ds_buf_addf(&b, " (%d%%), ", total > 0 ?
	    (int)(done * 100 / total) : 100);
	amount(&b, rate, unit);
	ds_buf_adds(&b, "/s, ETA ");
	if (done >= total)
		ds_buf_adds(&b, "0s");
	else if (rate >= 1) {
		secs = (int64_t)((double)(total - done) / rate);
		if (secs >= 3600)
			ds_buf_addf(&b, "%lldh%02lldm", (long long)secs / 3600,
			    (long long)secs % 3600 / 60);
		else if (secs >= 60)
			ds_buf_addf(&b, "%lldm%02llds", (long long)secs / 60,
			    (long long)secs % 60);
		else
			ds_buf_addf(&b, "%llds", (long long)secs);
	} else
		ds_buf_adds(&b, "?");
	ds_buf_adds(&b, "\033[K");
	(void)ds_writeall(STDERR_FILENO, b.p, b.len);
	ds_buf_free(&b);
	shown = 1;
}

void
ds_progress(int64_t done, int64_t total, const char *unit)
{
	draw(done, total, unit, 0);
}

void
ds_progress_end(int64_t done, int64_t total, const char *unit)
{
	if (!shown)
		return;
	draw(done, total, unit, 1);
	(void)ds_writeall(STDERR_FILENO, "\n", 1);
	shown = 0;
	t0 = 0;
}
