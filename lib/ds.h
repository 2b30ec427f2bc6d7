/*
 * ds.h -- the one public header of libds, shared by every ds-* tool.
 *
 * Ownership: a json_t * (jansson) returned by a ds_ function is a new
 * reference owned by the caller unless the comment says "borrowed".
 * Functions taking a json_t * borrow it unless they say "steals".
 * Spans (const char *p, size_t len) point into a buffer the caller owns
 * and stay valid only until that buffer is reused (the next line read).
 *
 * Errors: functions that can fail return -1 (or NULL) and leave a message
 * in the char *err buffer when they take one; usage-level failures in
 * tools go through errx(2, ...), data failures through ds_bad().
 */
#ifndef DS_H
#define DS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <jansson.h>

#define DS_VERSION	"0.1.0"

/* Default limits (protocol.md: sane defaults, options to change). */
#define DS_MAXLINE_DEFAULT	(16 * 1024 * 1024)
#define DS_MAXDEPTH_DEFAULT	512

/* ---------------------------------------------------------------------
 * util.c: program name, durations, numbers, version, signals
 * ------------------------------------------------------------------- */

extern volatile sig_atomic_t ds_stop;	/* set by SIGINT/SIGTERM */

/*
 * Install SIGINT/SIGTERM handlers that set ds_stop (no SA_RESTART, so a
 * blocked read returns EINTR and the reader reports end of input), and
 * restore SIGPIPE to its default so a closed downstream ends us quietly.
 */
void	 ds_signals(void);

/*
 * Parse a duration: "500ms", "2s", "1m", "1h", "1d", or a bare number of
 * seconds ("2" is 2s).  Returns 0 and sets *ms, or -1 when malformed or
 * not positive (zero allowed when allow_zero is set).
 */
int	 ds_duration(const char *s, int64_t *ms, int allow_zero);

/* Parse a byte size: "1024", "64k", "16M", "1G". Returns 0 or -1. */
int	 ds_bytesize(const char *s, int64_t *n);

/* Current wall clock, milliseconds since the epoch. */
int64_t	 ds_now_ms(void);

/* mkdir -p, new directories 0700 (less under a tighter umask): 0, or -1. */
int	 ds_mkdirs(const char *dir);
/*
 * Create path to be renamed over a file (an atomic replace): whatever is
 * there, a stale copy or a symlink planted to redirect the write, is
 * unlinked, then the file is made new with O_EXCL (which never follows
 * a link), mode 0600.  Returns the descriptor, or -1 with errno set.
 */
int	 ds_create(const char *path);
/*
 * A secret kept off the command line (ps shows argv to everyone): the
 * first line of path, without its newline and trailing blanks.  Warns
 * when group or others may read the file; exits 2 when it cannot be read
 * or is empty.  The string is malloc'd.
 */
char	*ds_secret_file(const char *path);
/* Write all n bytes, retrying short writes and EINTR: 0, or -1. */
int	 ds_writeall(int fd, const void *p, size_t n);
/* fsync a directory (a new entry in it is durable): 0, or -1. */
int	 ds_syncdir(const char *dir);

/* Print "ds-x 0.1.0" to stdout and exit 0 (the -V flag). */
void	 ds_version(void) __attribute__((noreturn));

/* ---------------------------------------------------------------------
 * buf.c: growable byte buffer
 * ------------------------------------------------------------------- */

struct ds_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

void	 ds_buf_grow(struct ds_buf *, size_t more);	/* exits on ENOMEM */
void	 ds_buf_add(struct ds_buf *, const void *, size_t);
void	 ds_buf_addc(struct ds_buf *, char);
void	 ds_buf_adds(struct ds_buf *, const char *);
void	 ds_buf_addf(struct ds_buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 ds_buf_addi(struct ds_buf *, int64_t);		/* decimal */
/* Append a double the way jq 1.7 prints it (shortest round trip, %.17g). */
void	 ds_buf_addd(struct ds_buf *, double);
/* Append s[0..n) as a JSON string literal; invalid UTF-8 becomes U+FFFD. */
void	 ds_buf_addq(struct ds_buf *, const char *s, size_t n);
/* Is s[0..n) valid UTF-8 (what ds_buf_addq keeps as it is)? */
int	 ds_utf8_valid(const char *s, size_t n);
/* Append the base64 (RFC 4648, padded) of s[0..n), without quotes. */
void	 ds_buf_addb64(struct ds_buf *, const void *s, size_t n);
/* Append the bytes of base64 text s[0..n); -1 when it is not base64. */
int	 ds_b64dec(struct ds_buf *, const char *s, size_t n);
void	 ds_buf_free(struct ds_buf *);
#define	 ds_buf_reset(b)	((b)->len = 0)

/* ---------------------------------------------------------------------
 * json.c: the fast scanner.  Works on raw line bytes, builds no tree.
 * ------------------------------------------------------------------- */

enum ds_jtype {
	DS_JNONE = 0, DS_JNULL, DS_JFALSE, DS_JTRUE, DS_JNUM, DS_JSTR,
	DS_JARR, DS_JOBJ
};

/* A raw JSON value inside a line: p[0..len) is its exact text. */
struct ds_span {
	const char	*p;
	size_t		 len;
};

/*
 * Validate that p[0..len) holds exactly one JSON value (surrounding
 * white space allowed), with valid UTF-8 and nesting at most maxdepth.
 * Returns 0, or -1 with a static message in *errmsg ("invalid JSON at
 * byte 12: ...", "invalid UTF-8 at byte 3", "nesting deeper than 512").
 */
int	 ds_json_check(const char *p, size_t len, int maxdepth,
	    const char **errmsg);

/* The same, also telling whether a top-level object has an "@ds" key. */
int	 ds_json_validate(const char *p, size_t len, int maxdepth,
	    const char **errmsg, int *dskey);

/* Type of the raw value starting at p (after white space). */
enum ds_jtype ds_json_type(const char *p, size_t len);

/*
 * Skip one value starting at p (which must be valid JSON, as checked by
 * ds_json_check); returns the first byte after it.  No validation.
 */
const char *ds_json_skip(const char *p, const char *end);

/*
 * A parsed field path: "geo.city" is {"geo","city"}.  A component may be
 * quoted to hold dots: '"a.b".c'.  Parse returns 0 or -1 on a bad path.
 */
struct ds_path {
	int	  n;
	char	**key;
	size_t	 *klen;
	char	 *text;		/* the path as written, for messages */
};
int	 ds_path_parse(const char *s, struct ds_path *);
void	 ds_path_free(struct ds_path *);
/* Parse "a,b.c,d" into an array of paths; returns count or -1. */
int	 ds_paths_parse(const char *s, struct ds_path **);

/*
 * Find path in the valid JSON object p[0..len).  Returns 1 and sets *v
 * to the raw value, or 0 when absent (or a parent is not an object).
 * A duplicated key resolves to its last occurrence, as in jq.
 */
int	 ds_json_get(const char *p, size_t len, const struct ds_path *,
	    struct ds_span *v);

/*
 * Numbers from a raw value.  ds_json_int returns 0 and sets *i when the
 * raw text is an integer that fits int64; ds_json_num returns 0 and sets
 * *d for any JSON number.  Both return -1 for anything else.
 */
int	 ds_json_int(struct ds_span, int64_t *i);
int	 ds_json_num(struct ds_span, double *d);

/*
 * Unescape a raw JSON string value (with its quotes) into b (appended,
 * not NUL-terminated).  Returns 0 or -1 when v is not a string.
 */
int	 ds_json_str(struct ds_span v, struct ds_buf *b);

/* Does the top-level object have key "@ds"?  (Forged control records.) */
int	 ds_json_has_dskey(const char *p, size_t len);

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
 * Open path ("-" or NULL: stdin) for reading.  Exits with err(1) when it
 * cannot be opened.  maxline is the line-length limit in bytes.
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
};

/* Run the stage over the files (NULL or empty: stdin), in order. */
void	 ds_stage_run(const struct ds_stage *, char **files, int nfiles);

/* ---------------------------------------------------------------------
 * hash.c: a byte-string keyed hash table (open addressing)
 * ------------------------------------------------------------------- */

struct ds_hent {
	char	*key;		/* owned copy, NUL-terminated */
	size_t	 klen;
	uint64_t hash;
	void	*val;
};

struct ds_hash {
	struct ds_hent *e;
	size_t	 cap;		/* power of two */
	size_t	 n;		/* live entries */
	size_t	 dead;		/* tombstones */
};

uint64_t ds_hash_bytes(const void *, size_t);
/* Find key; returns its entry or NULL. */
struct ds_hent *ds_hash_get(struct ds_hash *, const void *k, size_t n);
/* Find or insert key (val NULL when new, *isnew set). */
struct ds_hent *ds_hash_put(struct ds_hash *, const void *k, size_t n,
	    int *isnew);
/* Remove an entry returned by get/put; its val is the caller's. */
void	 ds_hash_del(struct ds_hash *, struct ds_hent *);
/* Iterate: start with i = 0; returns NULL at the end. */
struct ds_hent *ds_hash_next(struct ds_hash *, size_t *i);
void	 ds_hash_clear(struct ds_hash *);	/* frees keys, not vals */

/* ---------------------------------------------------------------------
 * checkpoint.c: atomic, checksummed files
 * ------------------------------------------------------------------- */

/*
 * Write data atomically as DIR/NAME: write DIR/NAME.tmp with a trailing
 * checksum line, fsync, keep the old file as DIR/NAME.prev, rename,
 * fsync the directory.  Creates DIR.  Returns 0 or -1 (errno set).
 */
int	 ds_ckpt_write(const char *dir, const char *name, const void *data,
	    size_t len);

/*
 * Read DIR/NAME, verify its checksum; when it is missing, truncated or
 * corrupt, warn and fall back to DIR/NAME.prev.  Returns 1 with *data
 * (malloc'd, caller frees) and *len, 0 when there is no checkpoint, -1
 * when every copy is corrupt (a message has been printed).
 */
int	 ds_ckpt_read(const char *dir, const char *name, char **data,
	    size_t *len);

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

/* ---------------------------------------------------------------------
 * agg.c: aggregates (section owned by the ds-reduce/ds-window work)
 * ------------------------------------------------------------------- */

/*
 * Group keys (key.c).  ds_key_make appends to b a byte string that
 * identifies rec's values at the n paths (equal JSON values give equal
 * keys: strings are compared unescaped, an absent field is null).
 * ds_key_emit appends those fields as JSON object members, without
 * braces ("user":"u1","geo":{"city":"x"}), from a key made by
 * ds_key_make with the same paths.  Both return 0, or -1 with *errmsg
 * set when rec is not an object.
 */
int	 ds_key_make(const char *rec, size_t len, const struct ds_path *,
	    int n, struct ds_buf *b, const char **errmsg);
int	 ds_key_emit(const char *key, size_t klen, const struct ds_path *,
	    int n, struct ds_buf *b);

enum ds_aggop {
	DS_AGG_COUNT, DS_AGG_SUM, DS_AGG_MIN, DS_AGG_MAX, DS_AGG_AVG,
	DS_AGG_FIRST, DS_AGG_LAST, DS_AGG_COLLECT, DS_AGG_DISTINCT,
	DS_AGG_TOP
};

struct ds_aggdef {
	char		*name;		/* output field: "sum_bytes", "n" */
	enum ds_aggop	 op;
	struct ds_path	 field;		/* empty for count */
	int		 topn;		/* DS_AGG_TOP: keep the N largest */
};

/* The aggregates of one tool run (-a ... -a ... --top N:F). */
struct ds_aggs {
	struct ds_aggdef *d;
	int		 n;
	int		 invertible;	/* every aggregate has an inverse */
};

/*
 * Add one definition: "count", "sum:F", "NAME=max:F", ... ("top:N:F" is
 * --top N:F).  Returns 0, or -1 with a message in err (usage error).
 * Default names: count, sum_F, min_F, ... with dots in F as '_'.
 */
int	 ds_aggs_add(struct ds_aggs *, const char *spec, char *err,
	    size_t errlen);
void	 ds_aggs_free(struct ds_aggs *);

struct ds_aggst;	/* the partial aggregate of one group (opaque) */

struct ds_aggst *ds_agg_new(const struct ds_aggs *);
void	 ds_agg_free(const struct ds_aggs *, struct ds_aggst *);
/*
 * Fold one record (valid JSON text) into st.  Returns 0, or -1 with
 * *errmsg set (a summed field that is not a number, an int64 overflow
 * that cannot be represented): the caller reports a bad record and st is
 * unchanged.
 */
int	 ds_agg_add(const struct ds_aggs *, struct ds_aggst *, const char *rec,
	    size_t len, const char **errmsg);
/* dst += src (partials of two batches or two groups). */
void	 ds_agg_merge(const struct ds_aggs *, struct ds_aggst *dst,
	    const struct ds_aggst *src);
/* dst -= src; only when aggs->invertible (Spark's invFunc). */
void	 ds_agg_sub(const struct ds_aggs *, struct ds_aggst *dst,
	    const struct ds_aggst *src);
/* Records folded in (after merges and subtractions). */
int64_t	 ds_agg_count(const struct ds_aggst *);
/* Append the members ,"name":value,... (leading comma) to b. */
void	 ds_agg_emit(const struct ds_aggs *, const struct ds_aggst *,
	    struct ds_buf *b);
/* Checkpoints: st as one JSON value appended to b; and back (NULL if bad). */
void	 ds_agg_save(const struct ds_aggs *, const struct ds_aggst *,
	    struct ds_buf *b);
struct ds_aggst *ds_agg_load(const struct ds_aggs *, const char *json,
	    size_t len);

/* ---------------------------------------------------------------------
 * expr.c: the jq-subset language (section owned by the ds-map work)
 * ------------------------------------------------------------------- */

/*
 * The jq subset of ds-map(1), also used by ds-state -e.  Values cross
 * the API as compact JSON text.
 */
struct ds_expr;

/*
 * Compile src.  vars[0..nvars) name the $variables the program may use
 * (without '$'), bound later by index.  Returns NULL with a message in
 * err naming the construct and its position ("unsupported: 'reduce' at
 * 1:5") -- a usage error, exit 2.
 */
struct ds_expr *ds_expr_compile(const char *src, const char *const *vars,
	    int nvars, char *err, size_t errlen);
/* Bind variable i to a JSON text (copied).  Returns 0 or -1 if invalid. */
int	 ds_expr_bind(struct ds_expr *, int i, const char *json, size_t len);
/*
 * Run the program on one input (valid JSON text).  Each output is passed
 * to emit as compact JSON text, valid only during the call.  Returns 0,
 * or -1 with *errmsg (owned by the expr, valid until the next run) on a
 * runtime error: outputs emitted before the error stand.
 */
int	 ds_expr_run(struct ds_expr *, const char *in, size_t len,
	    void (*emit)(void *arg, const char *out, size_t outlen),
	    void *arg, const char **errmsg);
void	 ds_expr_free(struct ds_expr *);

/* ---------------------------------------------------------------------
 * key.c, agg.c extras (owned by the ds-reduce/ds-window work)
 * ------------------------------------------------------------------- */

/*
 * Append the canonical compact text of the raw value v to b (the form
 * keys and distinct use: strings re-escaped, 1 and 1.0 both "1", white
 * space dropped).  Returns 0, or -1 when v is not a value.
 */
int	 ds_json_canon(struct ds_span v, struct ds_buf *b);
/*
 * Reject key paths that repeat or contain one another ("geo" and
 * "geo.city"): -1 with a message in err (a usage error), else 0.
 */
int	 ds_key_check(const struct ds_path *, int n, char *err, size_t errlen);
/* Does op have an inverse (count, sum, avg)? */
int	 ds_agg_invertible_op(enum ds_aggop op);

/*
 * Find n paths in the object rec in one pass: v[i] and found[i] as
 * ds_json_get would set them.  Returns 0, or -1 when rec is not an
 * object.  ds_key_make_v and ds_agg_add_v are ds_key_make and ds_agg_add
 * on values found that way (vals indexed like aggs->d), so a tool scans
 * a record once for its key and aggregate fields.
 */
int	 ds_json_getv(const char *rec, size_t len,
	    const struct ds_path *const *paths, int n, struct ds_span *v,
	    int *found);
int	 ds_key_make_v(const struct ds_span *v, const int *found, int n,
	    struct ds_buf *b, const char **errmsg);
int	 ds_agg_add_v(const struct ds_aggs *, struct ds_aggst *,
	    const char *rec, size_t len, const struct ds_span *vals,
	    const int *found, const char **errmsg);

/*
 * A batch's groups in order of first appearance: key -> partial.  The
 * table owns the keys (g[i].key) and the partials; clear frees both.
 */
struct ds_grp {
	const char	*key;
	size_t		 klen;
	struct ds_aggst	*st;
};
struct ds_groups {
	struct ds_hash	 h;	/* key -> index + 1 in g */
	struct ds_grp	*g;
	size_t		 n;
	size_t		 cap;
};
/* Find or create the group of key k (*isnew set); never NULL. */
struct ds_aggst *ds_groups_get(struct ds_groups *, const struct ds_aggs *,
	    const char *k, size_t n, int *isnew);
/* Remove the group created last (an add into it failed). */
void	 ds_groups_drop_last(struct ds_groups *, const struct ds_aggs *);
void	 ds_groups_clear(struct ds_groups *, const struct ds_aggs *);
void	 ds_groups_free(struct ds_groups *, const struct ds_aggs *);
/*
 * Records into groups by the -k key fields, folding them into the
 * aggregates: the key paths, then the aggregates' fields, read in one
 * scan a record (ds-reduce, ds-window).  Borrows aggs and keys.
 */
struct ds_grouper {
	const struct ds_aggs	 *aggs;
	int			  nkeys;
	const struct ds_path	**paths;
	struct ds_span		 *vals;
	int			 *found;
	int			  npaths;
	struct ds_buf		  kbuf;
};
/* Set up; exits 2 when an aggregate's name is also a key field. */
void	 ds_grouper_init(struct ds_grouper *, const struct ds_aggs *,
	    const struct ds_path *keys, int nkeys);
/* Fold record l into its group in gs; a bad record goes to ds_bad(). */
void	 ds_grouper_add(struct ds_grouper *, struct ds_groups *gs,
	    const struct ds_line *l);
void	 ds_grouper_free(struct ds_grouper *);
/* Append one output record {key fields, aggregates} (no newline) to b. */
void	 ds_group_emit(const struct ds_aggs *, const struct ds_path *keys,
	    int nkeys, const char *k, size_t klen, const struct ds_aggst *,
	    struct ds_buf *b);

/* ---------------------------------------------------------------------
 * batching (section owned by the ds-batch work): json.c additions,
 * evtime.c, batchlog.c
 * ------------------------------------------------------------------- */

/*
 * Did the last successful ds_json_check/ds_json_validate skip white
 * space outside strings?  Then the line is not compact.
 */
int	 ds_json_hadws(void);
/* Append p[0..len) (valid JSON) to b without insignificant white space. */
void	 ds_json_compact(const char *p, size_t len, struct ds_buf *b);
/*
 * ds_json_validate that also finds the top-level key[0..klen) in the
 * same pass (the last occurrence wins, as in ds_json_get): -1 when
 * invalid (*errmsg set), 0 valid without the key, 1 valid with *v set.
 * key NULL: no key.
 */
int	 ds_json_validate_get(const char *p, size_t len, int maxdepth,
	    const char **errmsg, int *dskey, const char *key, size_t klen,
	    struct ds_span *v);
/*
 * ds_check_line that also finds a top-level key: -1 bad (reported),
 * 0 good without the key, 1 good with *v set.
 */
int	 ds_check_line_get(const struct ds_line *, int ingress,
	    const char *key, size_t klen, struct ds_span *v);
/* Is the line empty or only white space?  (Blank lines are skipped.) */
int	 ds_line_blank(const struct ds_line *);

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

/* One entry of a batch log: a closed batch as its marker said. */
struct ds_blogent {
	int64_t	 seq, time, interval, count;
	json_t	*offsets;	/* owned array of offset ranges */
	char	*stream;	/* owned "stream" id, or NULL */
};

struct ds_blog {
	int	 fd;
	char	*path;		/* DIR/batches.ndjson */
	char	*stream;	/* the last entry's stream id (borrowed) */
	struct ds_blogent *e;	/* entries read at open */
	size_t	 n;
};

/*
 * Open (creating DIR) the batch log DIR/batches.ndjson and read its
 * entries into l->e; a torn last line (a crash during an append) is
 * cut off.  Exits with err(1) when the log cannot be opened, read or
 * is corrupt before its last line.
 */
void	 ds_blog_open(struct ds_blog *, const char *dir);
/*
 * Append the marker's seq, time, interval, count and offsets as one
 * line and fsync it before returning; exits with err(1) on failure.
 */
void	 ds_blog_append(struct ds_blog *, json_t *marker);
void	 ds_blog_close(struct ds_blog *);

/* The source position of a ds-kafka-cat envelope (replay.c). */
struct ds_env {
	const char	*topic;		/* in the caller's buffer */
	size_t		 tlen;
	int32_t		 part;
	int64_t		 off;
};

/*
 * Is p[0..len) (valid JSON) an envelope, an object starting with
 * "topic" and holding "partition" and "offset"?  Returns 1 with *e set
 * (the unescaped topic in *topic, reset first), 0 otherwise.  Other
 * records cost one 9-byte comparison.
 */
int	 ds_envelope(const char *p, size_t len, struct ds_buf *topic,
	    struct ds_env *e);

/*
 * Replay of a batch log (replay.c).  ds_replay_new returns NULL when
 * the log has no entries; emit gets each logged batch's marker (owned
 * by emit) after its records were written with ds_out.  seen (borrowed)
 * holds the offsets of the run's envelopes: the caller notes each one
 * (ds_offsets_fresh) before routing it.
 */
struct ds_replay;
enum { DS_RP_HELD, DS_RP_NEW, DS_RP_BAD };
struct ds_replay *ds_replay_new(const struct ds_blog *,
	    struct ds_offsets *seen, void (*emit)(void *arg, json_t *m),
	    void *arg);
/*
 * Route one valid record (e NULL when it is no envelope): DS_RP_HELD
 * when a logged batch took it, DS_RP_NEW when it is beyond the log (the
 * caller keeps it until the replay is done), DS_RP_BAD with a message
 * in why.
 */
int	 ds_replay_route(struct ds_replay *, const char *p, size_t len,
	    const struct ds_env *e, char *why, size_t whylen);
/*
 * The source starts topic/partition at offset from (its assign record):
 * the logged batches below it were committed (noted in seen, as if the
 * offsets before from had come).  Once a source has said
 * so, a batch none of whose records came is no longer taken for
 * committed when the input ends.
 */
void	 ds_replay_start(struct ds_replay *, const char *topic, size_t tlen,
	    int32_t partition, int64_t from);
/*
 * Emit the complete logged batches in order; returns 1 once every
 * logged batch is out.  When final (the input ended), plain batches go
 * out short, but a batch of offsets whose partitions were not replayed
 * to its end stops the replay there (reported, 0): written short, its
 * missing records would be skipped downstream when a later run replays
 * them.
 */
int	 ds_replay_pump(struct ds_replay *, int final);
/* Logged batches replayed with fewer or more records than logged. */
int	 ds_replay_errors(const struct ds_replay *);
void	 ds_replay_free(struct ds_replay *);

/* ---------------------------------------------------------------------
 * ckptlog.c: incremental checkpoints (section owned by the ds-state work)
 * ------------------------------------------------------------------- */

/*
 * Append data as one frame to DIR/NAME (data, then a trailer line with
 * its length and checksum) and fsync.  Returns 0 or -1 (errno set).
 */
int	 ds_ckptlog_append(const char *dir, const char *name,
	    const void *data, size_t len);
/* Empty DIR/NAME (creating it) and fsync.  Returns 0 or -1. */
int	 ds_ckptlog_reset(const char *dir, const char *name);
/*
 * Call fn(arg, data, len) for each good frame of DIR/NAME in order
 * (data is NUL-terminated, writable, valid during the call); fn returns
 * nonzero to stop.  A torn or corrupt frame ends the log: it and all
 * after it are cut off the file, with a warning.  Sets *size to the
 * bytes of good frames read.  Returns the number of frames (0 when the
 * file is missing) or -1 on an I/O error (errno set).
 */
int	 ds_ckptlog_read(const char *dir, const char *name,
	    int (*fn)(void *arg, char *data, size_t len), void *arg,
	    off_t *size);

/* ---------------------------------------------------------------------
 * ack.c: a sink's ack path (--acks PATH)
 * ------------------------------------------------------------------- */

/* path NULL: no acks.  Initialise as { path, -1, 0 }. */
struct ds_acks {
	const char	*path;
	int		 fd;
	int		 warned;
};
/*
 * Append marker m as one line to the ack path (opened at the first
 * call).  A FIFO without a reader, or whose reader went away, gets a
 * warning and no ack; other errors exit with err(1).
 */
void	 ds_acks_write(struct ds_acks *, json_t *m);
void	 ds_acks_close(struct ds_acks *);

#endif /* DS_H */
