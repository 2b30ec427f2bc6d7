/*
 * stream/stream.h -- the stream protocol: the NDJSON reader, the
 * stdout writer, shared options and the run summary, the bad-record
 * policy, control records, the stage loop, offset ranges, event times,
 * the ack path and the merge of several inputs.  Uses base and json.
 *
 * Library code returns errors to the tool, which decides: it does not
 * exit, nor apply the bad-record policy.  The exceptions are the tool
 * runtime's, where no caller could do better and every tool would do
 * the same:
 * - out of memory exits 1 (err(1, NULL)), in every layer;
 * - bad.c is the bad-record policy itself;
 * - out.c: a write error on standard output exits 1, a closed pipe
 *   exits quietly (the stream downstream is gone);
 * - in.c: a read error of an open input exits 1 naming it (a stream
 *   cut short must not pass for its end);
 * - opt.c: a bad value of a shared option is a usage error, exit 2
 *   (it is part of the tool's getopt loop);
 * - stream.c: the stage loop is the runtime of a filter: a malformed
 *   control record goes to the bad-record policy, and an input file
 *   that cannot be opened exits 1 naming it;
 * - kafka/: librdkafka's fatal-error callback exits 1 (the client can
 *   do nothing more, and a callback has no caller to tell);
 * - base/util.c: ds_version (-V) exits 0 and ds_secret_file exits 2,
 *   both part of a tool's option parsing.
 */
#ifndef DS_STREAM_H
#define DS_STREAM_H

#include <jansson.h>
#include "json/json.h"

/* ---------------------------------------------------------------------
 * in.c: the NDJSON line reader
 * ------------------------------------------------------------------- */

struct ds_line {
	const char	*p;		/* without the \n or \r\n */
	size_t		 len;
	unsigned long	 lineno;	/* 1-based, within its input */
	const char	*src;		/* "<stdin>" or the file name */
	int		 toolong;	/* 1: p holds only the first bytes */
};

struct ds_in {
	const char	*name;
	int		 fd;
	char		*buf;
	size_t		 cap;
	size_t		 start;		/* first unconsumed byte */
	size_t		 end;		/* end of valid bytes */
	size_t		 scan;		/* where the newline search resumes */
	size_t		 maxline;
	unsigned long	 lineno;
	int		 eof;
	int		 skipping;	/* discarding the rest of a long line */
};

/*
 * Open path ("-" or NULL: stdin) for reading; maxline is the line-length
 * limit in bytes.  Returns NULL with errno set when it cannot be opened.
 */
struct ds_in *ds_in_open(const char *path, size_t maxline);
void	 ds_in_close(struct ds_in *);

/*
 * Return the next complete line already buffered: 1 and *l set, or 0
 * when more input is needed (or at EOF once everything is returned).
 * A line over maxline is returned once with toolong set and the rest of
 * it discarded.  A final line without \n is returned at EOF.
 */
int	 ds_in_line(struct ds_in *, struct ds_line *l);

/*
 * Read once from the descriptor into the buffer (one read(2)).  Returns
 * the byte count, 0 at end of file, or -1 on EINTR/EAGAIN (errno set).
 * Other read errors exit with err(1).
 */
ssize_t	 ds_in_fill(struct ds_in *);

/*
 * Blocking convenience: the next line, reading as needed.  Returns 1, or
 * 0 at end of input or when ds_stop was set by a signal.
 */
int	 ds_in_next(struct ds_in *, struct ds_line *l);

/*
 * ds_check_line in one ds_json_scan pass: js's paths are found (and
 * js->hadws set) in the validating pass.  Sets js->maxdepth.
 */
int	 ds_check_line_scan(const struct ds_line *, int ingress,
	    struct ds_jscan *js);
/* Is the line empty or only white space?  (Blank lines are skipped.) */
int	 ds_line_blank(const struct ds_line *);

/* ---------------------------------------------------------------------
 * merge.c: several inputs read as their lines arrive
 * ------------------------------------------------------------------- */

#define DS_MERGE_END	(-2)

/* What ds_in_merge calls back. */
struct ds_merge {
	/* each line, in the order the inputs deliver them */
	void	 (*record)(void *arg, const struct ds_line *);
	/* nonzero: read no more lines until a tick */
	int	 (*paused)(void *arg);
	/*
	 * After each drain of the inputs (nopen of them still open, or
	 * paused): the ms to wait for input, -1 without a deadline, or
	 * DS_MERGE_END to stop.
	 */
	int64_t	 (*tick)(void *arg, int nopen);
	void	 *arg;
};

/*
 * Read the n open inputs (a signal's ds_stop ends it too) and close
 * them.  0, or -1 with errno set when poll(2) fails.
 */
int	 ds_in_merge(struct ds_in **in, int n, const struct ds_merge *);


/* ---------------------------------------------------------------------
 * out.c: the buffered stdout writer
 * ------------------------------------------------------------------- */

/*
 * Writes go to a large buffer, written out when full and at every
 * ds_out_flush() (call it at each marker).  A write error exits with
 * err(1) ("ds-x: stdout: No space left on device"); EPIPE exits quietly.
 */
void	 ds_out(const void *p, size_t n);
void	 ds_out_line(const void *p, size_t n);	/* adds '\n' */
void	 ds_out_buf(struct ds_buf *);		/* adds '\n' */
void	 ds_out_flush(void);
/* Write a compact JSON document and a newline. */
void	 ds_out_json(json_t *);

/* ---------------------------------------------------------------------
 * opt.c: options shared by every tool
 * ------------------------------------------------------------------- */

/* Long-option codes shared by every tool (use in struct option tables). */
enum {
	DS_OPT_SKIPBAD = 1000,
	DS_OPT_DEADLETTER,
	DS_OPT_MAXLINE,
	DS_OPT_MAXDEPTH,
	DS_OPT_STATS,
	DS_OPT_PROGRESS,
	DS_OPT_NOPROGRESS,
	DS_OPT_FIRST_TOOL = 1100	/* tools number their own from here */
};

#define DS_COMMON_LONGOPTS						\
	{ "skip-bad",	 no_argument,	    NULL, DS_OPT_SKIPBAD },	\
	{ "dead-letter", required_argument, NULL, DS_OPT_DEADLETTER },	\
	{ "max-line",	 required_argument, NULL, DS_OPT_MAXLINE },	\
	{ "max-depth",	 required_argument, NULL, DS_OPT_MAXDEPTH },	\
	{ "stats",	 no_argument,	    NULL, DS_OPT_STATS },	\
	{ "progress",	 no_argument,	    NULL, DS_OPT_PROGRESS },	\
	{ "no-progress", no_argument,	    NULL, DS_OPT_NOPROGRESS }

extern volatile sig_atomic_t ds_stop;	/* set by SIGINT/SIGTERM */

/*
 * Install SIGINT/SIGTERM handlers that set ds_stop (no SA_RESTART, so a
 * blocked read returns EINTR and the reader reports end of input), and
 * restore SIGPIPE to its default so a closed downstream ends us quietly.
 */
void	 ds_signals(void);

struct ds_opts {
	size_t	 maxline;
	int	 maxdepth;
	int	 skipbad;
	const char *deadletter;
	int	 stats;		/* --stats: a summary line at exit */
	int	 progress;	/* --progress 1, --no-progress 0, else -1 */
};
extern struct ds_opts ds_opts;

/*
 * Handle a shared option; returns 1 when ch was one, 0 otherwise.  A bad
 * value exits with status 2.
 */
int	 ds_common_opt(int ch, const char *arg);

/*
 * -k LIST, the same in every keyed tool: the key fields into *keys and
 * *nkeys.  Exits 2 with a message when -k came before, when LIST is not
 * a list of field paths, or when its fields repeat or contain one
 * another ("geo,geo.city").
 */
void	 ds_opt_keys(const char *arg, struct ds_path **keys, int *nkeys);
/*
 * --partition-field FIELD: FIELD leads the key fields (state kept per
 * source partition), checked as ds_opt_keys checks them.
 */
void	 ds_opt_keys_lead(const char *field, struct ds_path **keys,
	    int *nkeys);

/* Usage text of the shared options, for each tool's usage(). */
#define DS_COMMON_USAGE \
	"[--skip-bad] [--dead-letter FILE] [--max-line BYTES] [--max-depth N]" \
	" [--stats]"

/*
 * The run summary (--stats, and SIGUSR1 always): counters kept by the
 * shared reader and writer.  in counts data lines read (ds_in), out
 * data lines written (ds_out*), batches the batch markers written, bad
 * every ds_bad() report; start is set by ds_signals().
 */
struct ds_stats {
	uint64_t in, out, bad, batches;
	int64_t	 start;		/* ms since the epoch */
};
extern struct ds_stats ds_stats;
extern volatile sig_atomic_t ds_statsreq;	/* set by SIGUSR1 */
/*
 * A tool's own members for the summary, appended with a leading comma
 * (",\"lag_start\":12"); NULL when it has none.
 */
extern void (*ds_stats_extra)(struct ds_buf *);
/*
 * Write the summary as one JSON line to stderr:
 * {"tool","in","out","bad","batches","wall_ms",...}.
 */
void	 ds_stats_write(void);
/* Write it now when SIGUSR1 asked for it (call from the main loops). */
void	 ds_stats_check(void);

/*
 * progress.c: the progress line of long work, on stderr when it is a
 * terminal (or with --progress, never with --no-progress): done of
 * total, percent, rate and ETA, redrawn at most twice a second.  unit
 * is "bytes" (shown scaled) or a noun such as "records".
 */
int	 ds_progress_on(void);
void	 ds_progress(int64_t done, int64_t total, const char *unit);
/* Draw the final figures and end the line (the work is done). */
void	 ds_progress_end(int64_t done, int64_t total, const char *unit);

/* ---------------------------------------------------------------------
 * bad.c: the bad-record policy every tool shares
 * ------------------------------------------------------------------- */

/*
 * Report a bad line.  Default: flush stdout (what is complete), print
 * "ds-x: SRC:LINE: why" and exit 1.  With --skip-bad: print and go on.
 * With --dead-letter FILE: append {"error","source","line","raw"} to FILE
 * (and print nothing) and go on.  Every reported line counts in
 * ds_bad_count, which tools add to the marker's "bad" field and reset.
 */
void	 ds_bad(const struct ds_line *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
extern unsigned long ds_bad_count;

/*
 * Check a data line the way an ingress tool must: too long, invalid
 * JSON, invalid UTF-8, too deep, or a forged control record.  Returns 0
 * when good, or reports it through ds_bad() and returns -1.
 */
int	 ds_check_line(const struct ds_line *, int ingress);
/*
 * The same check without the policy: why the line is bad (a static
 * string, valid until the next call), or NULL when it is good.
 */
const char *ds_line_why(const struct ds_line *, int ingress);

/* ---------------------------------------------------------------------
 * marker.c: control records
 * ------------------------------------------------------------------- */

/* Is this line a control record?  (Its first seven bytes are {"@ds":.) */
#define	 ds_is_control(p, n) \
	((n) >= 7 && memcmp((p), "{\"@ds\":", 7) == 0)

/* Parse a control line into a jansson object, NULL if malformed. */
json_t	*ds_marker_parse(const struct ds_line *);
/* Is m a batch marker ({"@ds":"batch",...})? */
int	 ds_marker_is_batch(json_t *m);
/* Read an integer field (0 when absent). */
int64_t	 ds_marker_int(json_t *m, const char *key);
/* Set an integer field. */
void	 ds_marker_set_int(json_t *m, const char *key, int64_t v);

/*
 * Build a batch marker with the canonical key order: @ds, seq, time,
 * interval, count, offsets (steals; NULL means []), created (now).
 */
json_t	*ds_marker_new(int64_t seq, int64_t time, int64_t interval,
	    int64_t count, json_t *offsets);

/*
 * The last batch a stateful stage or sink applied, to tell replays from
 * new batches.  A stream is identified by the marker's "stream" (set by
 * ds-batch: new for each run, kept in its --log); within one stream, or
 * when markers carry none, a batch was applied when its seq and its time
 * are both at or below the last applied one's.  A replay repeats all
 * three; a new stream starts seq at 1 again.
 */
struct ds_applied {
	int64_t	 seq;
	int64_t	 time;
	char	*stream;	/* owned, NULL when unknown */
};
/* Was the batch of marker m applied already? */
int	 ds_applied_replay(const struct ds_applied *, json_t *m);
/* Note that the batch of marker m was applied. */
void	 ds_applied_set(struct ds_applied *, json_t *m);
/* Add "seq","time","stream" to obj (a checkpoint header); read back. */
void	 ds_applied_save(const struct ds_applied *, json_t *obj);
void	 ds_applied_load(struct ds_applied *, json_t *obj);
void	 ds_applied_free(struct ds_applied *);

/*
 * Add bad (when nonzero) to the marker's "bad" field and write it with
 * ds_out_json, then flush stdout.  Resets ds_bad_count.
 */
void	 ds_marker_emit(json_t *m);

/*
 * The protocol's end-of-input rule: after markers, trailing records form
 * a last batch closed with {"final":true}.  Given the last marker seen
 * (borrowed, may be NULL), return the final marker for count records.
 */
json_t	*ds_marker_final(json_t *last, int64_t count);

/* ---------------------------------------------------------------------
 * stream.c: the common loop of a filter stage
 * ------------------------------------------------------------------- */

/*
 * Callbacks of a stage.  data() gets each data line (not yet validated:
 * call ds_check_line or parse it yourself); marker() gets each batch
 * marker (owned by the callee) after the batch's data; other control
 * records are passed to control() or, when it is NULL, forwarded as they
 * are.  end() is called once at end of input with the number of batch
 * markers seen; when markers were seen and data followed the last one,
 * the loop first calls marker() with ds_marker_final().
 */
struct ds_stage {
	void	(*data)(void *ctx, const struct ds_line *);
	void	(*marker)(void *ctx, json_t *m, const struct ds_line *);
	void	(*control)(void *ctx, const struct ds_line *);
	void	(*end)(void *ctx, unsigned long nmarkers);
	void	 *ctx;
	int	  text;		/* lines are text: blank ones are data too */
};

/* Run the stage over the files (NULL or empty: stdin), in order. */
void	 ds_stage_run(const struct ds_stage *, char **files, int nfiles);

/* ---------------------------------------------------------------------
 * offsets.c: per topic/partition offset ranges (Spark's OffsetRange)
 * ------------------------------------------------------------------- */

struct ds_orange {
	char	*topic;
	int32_t	 partition;
	int64_t	 from;		/* inclusive */
	int64_t	 until;		/* exclusive */
};

struct ds_offsets {
	struct ds_orange *r;
	size_t	 n;
	size_t	 cap;
};

/* Note that offset was seen for topic/partition (extends the range). */
void	 ds_offsets_see(struct ds_offsets *, const char *topic, size_t tlen,
	    int32_t partition, int64_t offset);
/*
 * Is offset above every offset seen for topic/partition?  Then note it
 * and return 1; else 0 (a record delivered again).
 */
int	 ds_offsets_fresh(struct ds_offsets *, const char *topic, size_t tlen,
	    int32_t partition, int64_t offset);
/* As a JSON array of {"topic","partition","from","until"}, sorted. */
json_t	*ds_offsets_json(const struct ds_offsets *);
/* Merge a marker's "offsets" array (borrowed) into o. */
void	 ds_offsets_merge_json(struct ds_offsets *, json_t *arr);
void	 ds_offsets_clear(struct ds_offsets *);	/* keeps the array */
void	 ds_offsets_free(struct ds_offsets *);	/* clear, release it */
/*
 * An offsets array lowered to bound: per topic and partition the smaller
 * "until"; a partition missing from bound is left out.  bound NULL (or
 * not an array) leaves ours as it is.  Returns a new array.
 */
json_t	*ds_offsets_lower(json_t *ours, json_t *bound);
/*
 * The "commit" of a marker that merges the batches of n inputs: every
 * topic/partition an input delivered (cum[i], all it delivered so far),
 * up to the lowest offset each input that had it says is safe: its
 * marker's own "commit" (m[i]; a commit without the partition holds it
 * back entirely), else all it delivered.  Inputs with m[i] NULL have no
 * batch in the merge and are left out.  A new array.
 */
json_t	*ds_offsets_commit(const struct ds_offsets *const *cum,
	    json_t *const *m, int n);

/* ---------------------------------------------------------------------
 * evtime.c: event times
 * ------------------------------------------------------------------- */

/* Units of numeric event times (--time-unit). */
enum ds_tunit { DS_TU_MS = 0, DS_TU_S, DS_TU_US };

/*
 * An event time in epoch ms from a raw JSON value: a number in unit u
 * (fractions floored to the ms) or an RFC 3339 string
 * ("2024-11-22T10:00:00.250Z", "...+08:00").  Returns 0, or -1 when v
 * is neither.
 */
int	 ds_evtime(struct ds_span v, enum ds_tunit u, int64_t *ms);
/* Floor division, for batch indexes of negative times. */
int64_t	 ds_floordiv(int64_t a, int64_t b);

/* ---------------------------------------------------------------------
 * ack.c: the ack path (--acks PATH) of a sink and of a source
 * ------------------------------------------------------------------- */

/* The sink's end.  path NULL: no acks.  Initialise as { path, -1, 0 }. */
struct ds_acks {
	const char	*path;
	int		 fd;
	int		 warned;
};
/*
 * Append marker m as one line to the ack path (opened at the first
 * call).  A FIFO without a reader, or whose reader went away, gets a
 * warning and no ack (returns 0).  Returns 0, or -1 with errno set.
 */
int	 ds_acks_write(struct ds_acks *, json_t *m);
/* Returns 0, or -1 with errno set. */
int	 ds_acks_close(struct ds_acks *);

/* The source's end: the lines the sink appends, read without blocking. */
struct ds_ackin {
	const char	*path;
	int		 fd;
	int		 wfd;		/* our own writer of a FIFO, or -1 */
	int		 fifo;		/* path is a FIFO */
	struct ds_buf	 buf;		/* a line not complete yet */
};
/*
 * Open path for reading (created when missing).  A FIFO is also held
 * open for writing, so that a sink that restarts is no end of it.
 * Returns 0, or -1 with errno set.
 */
int	 ds_ackin_open(struct ds_ackin *, const char *path);
/*
 * Read what the path holds now and call fn(ctx, m) for each control
 * record m (borrowed; batch markers and others alike), in order.  Lines
 * that are not control records are no acks and skipped; a malformed one
 * gets a warning.  Returns 1 at the end of the path (a FIFO with no
 * writer left, or the end of a file), 0 when more may come, -1 on a
 * read error (errno set).
 */
int	 ds_ackin_read(struct ds_ackin *, void (*fn)(void *ctx, json_t *m),
	    void *ctx);
/*
 * Before waiting for the last acks: flush standard output and point it
 * at /dev/null, so that the pipeline sees its end and drains, and close
 * our own writer of the FIFO, so that its end comes when the sink's
 * does.  Returns 0, or -1 with errno set.
 */
int	 ds_ackin_drain(struct ds_ackin *);
void	 ds_ackin_close(struct ds_ackin *);

/* ---------------------------------------------------------------------
 * follow.c: files and globs followed through rotation (ds-tail)
 * ------------------------------------------------------------------- */

#define DS_FOLLOW_NWAS	4

/*
 * One followed content: a file, whatever its name and its copies, known
 * by the hash of its first line.
 */
struct ds_fent {
	uint64_t fp;		/* hash of the first line, never 0 */
	char	*path;		/* where it was last seen */
	int	 fd;		/* -1: its content is gone (detached) */
	dev_t	 dev;
	ino_t	 ino;
	ino_t	 was[DS_FOLLOW_NWAS];	/* earlier inodes of this content */
	int	 nwas;
	ino_t	 shrunk;	/* this inode shrank below off */
	off_t	 off;		/* after the last line handed over */
	off_t	 acked;		/* the tool's: after the last line saved */
	off_t	 size;
	unsigned long lineno;	/* lines read in this run */
	unsigned long pend;	/* the tool's: lines it still holds */
	int	 matched;	/* found by the last scan */
	int	 detached;	/* scans since the content went away */
	int	 skipping;	/* discarding the rest of a long line */
	int64_t	 idle;		/* unmatched at its end since, or 0 */
	int	 dead;		/* closed for good */
};

struct ds_follow {
	char		**pats;		/* the files and globs */
	int		  npats;
	struct ds_fent	**e;
	size_t		  n;
	size_t		  maxline;
	char		 *buf;
	size_t		  bufcap;
	int		  dirty;	/* positions changed since the tool saved */
	int		  blocked;	/* set by the tool: no more lines now */
	const char	 *failed;	/* the path of the last error */
	/*
	 * A complete line p[0..len) of e (e->lineno is its number), from
	 * byte at to end of its file; and the first bytes of a line over
	 * maxline (a bad record: the rest of it is dropped).
	 */
	void	(*line)(void *ctx, struct ds_fent *e, const char *p,
		    size_t len, off_t at, off_t end);
	void	(*toolong)(void *ctx, struct ds_fent *e, const char *p,
		    size_t len);
	void	 *ctx;
};

/* Follow the globs pats; set line, toolong and ctx after. */
void	 ds_follow_init(struct ds_follow *, char **pats, int npats,
	    size_t maxline);
/* A content known from before (a position file), at offset off. */
struct ds_fent *ds_follow_add(struct ds_follow *, uint64_t fp,
	    const char *path, off_t off);
/*
 * Look at the globs again: renamed, new, copied, truncated files.
 * Returns 0, or -1 with errno set and f->failed naming the file.
 */
int	 ds_follow_scan(struct ds_follow *);
/*
 * Hand over the complete lines of e from e->off on, until the tool
 * blocks or a few MB were read; closing, also a last line without its
 * newline.  Returns the bytes consumed, or -1 as ds_follow_scan.
 */
off_t	 ds_follow_read(struct ds_follow *, struct ds_fent *e, int closing);
/*
 * One pass: scan, then read every file; a file out of the globs (or
 * deleted) and idle at its end for 2 s is closed for good (dead).
 * Returns the bytes consumed, or -1 as ds_follow_scan.
 */
off_t	 ds_follow_pass(struct ds_follow *);
/* Drop the dead contents whose lines the tool no longer holds. */
void	 ds_follow_reap(struct ds_follow *);
/*
 * A line delivered before (--seen): move the content it came from past
 * it, found by its inode (ino, or one it had before) and, when line is
 * not NULL, checked by its bytes at off; a content first seen as a copy
 * since has a new inode: then any content that holds line at off.
 */
void	 ds_follow_seen(struct ds_follow *, ino_t ino, off_t off,
	    const char *line, size_t len);
void	 ds_follow_free(struct ds_follow *);

#endif /* DS_STREAM_H */
