/*
 * durable/durable.h -- what survives a crash: atomic checksummed
 * files, framed logs, the batch log and its replay, the cutting of
 * batches, the keys, the checkpoints and the state records of a
 * stateful stage, and the keyed state of ds-state.  Uses base, json,
 * stream and agg.
 */
#ifndef DS_DURABLE_H
#define DS_DURABLE_H

#include "agg/agg.h"

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
/*
 * Write data, then the line trailer, to fd, fsync and close it (also on
 * failure).  0, or -1 with errno set.
 */
int	 ds_write_trailed(int fd, const void *data, size_t len,
	    const char *trailer);
/*
 * The 64-bit FNV-1a hash of p[0..n), defined byte by byte (the same on
 * every host): the checksum of checkpoints and frames.
 */
uint64_t ds_fnv1a64(const void *p, size_t n);

/* ---------------------------------------------------------------------
 * batchlog.c: the batch log of ds-batch --log
 * ------------------------------------------------------------------- */

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
 * cut off.  Returns 0, or -1 with a message in msg when the log cannot
 * be opened or read or is corrupt before its last line (close it then).
 */
int	 ds_blog_open(struct ds_blog *, const char *dir, char *msg,
	    size_t msglen);
/*
 * Append the marker's seq, time, interval, count and offsets as one
 * line and fsync it before returning.  0, or -1 with a message in msg.
 */
int	 ds_blog_append(struct ds_blog *, json_t *marker, char *msg,
	    size_t msglen);
void	 ds_blog_close(struct ds_blog *);

/* ---------------------------------------------------------------------
 * replay.c: envelopes and the replay of a batch log
 * ------------------------------------------------------------------- */

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
/* Is p[0..len) ds-kafka-cat's assign (revoke) record (a prefix test)? */
int	 ds_is_assign(const char *p, size_t len);
int	 ds_is_revoke(const char *p, size_t len);
/*
 * Read the assign record p[0..len): tell the replay rp (NULL: none)
 * where each partition starts (ds_replay_start).  0, or -1 when it is
 * malformed (the entries before the bad one were told).
 */
int	 ds_replay_assign(struct ds_replay *rp, const char *p, size_t len);
/* Logged batches replayed with fewer or more records than logged. */
int	 ds_replay_errors(const struct ds_replay *);
void	 ds_replay_free(struct ds_replay *);

/* ---------------------------------------------------------------------
 * cut.c: cutting a stream into batches (ds-batch)
 * ------------------------------------------------------------------- */

/* A batch being cut: its counts, offsets and the records it holds. */
struct ds_cutb {
	int64_t		 k;	/* event time: index of [kI, (k+1)I) */
	int64_t		 count;
	int64_t		 bytes;
	struct ds_buf	 held;	/* lines, each with its '\n' */
	struct ds_offsets off;
};

/* Count a record of len bytes (e NULL: no envelope) into b. */
void	 ds_cutb_count(struct ds_cutb *, size_t len, const struct ds_env *e);
/* Keep the record in b until b is written out. */
void	 ds_cutb_hold(struct ds_cutb *, const char *p, size_t len);
/* b's marker is out: zero its counts and offsets. */
void	 ds_cutb_closed(struct ds_cutb *);
void	 ds_cutb_free(struct ds_cutb *);

/*
 * The per-partition rate bound (Spark's maxRatePerPartition): at most
 * quota records of each partition in a batch; the rest wait, in order,
 * for later batches.  Records without an envelope are one partition.
 */
struct ds_rate {
	int64_t		 quota;		/* 0: no bound */
	struct ds_hash	 parts;		/* topic \0 partition -> counts */
	struct ds_buf	 held;		/* the waiting records, oldest first */
	struct ds_buf	 keybuf, topicbuf;
	int64_t		 nheld;
	uint64_t	 npass;
};

void	 ds_rate_init(struct ds_rate *, int64_t quota);
/* 1: the record goes in the open batch; 0: it waits (kept). */
int	 ds_rate_admit(struct ds_rate *, const char *p, size_t len,
	    const struct ds_env *e);
/* Do records wait for every partition seen?  Then stop reading. */
int	 ds_rate_full(const struct ds_rate *);
/*
 * A new batch began: pass the waiting records its bound allows to
 * put(arg, p, len, e), oldest first.
 */
void	 ds_rate_release(struct ds_rate *, void (*put)(void *, const char *,
	    size_t, const struct ds_env *), void *arg);
void	 ds_rate_free(struct ds_rate *);

/*
 * The event-time clock: batches of ival ms by the records' time, open
 * until the largest time seen is lateness past their end.  The records
 * of the oldest open batch are written through, later ones held; emit
 * gets each batch as it closes, in order (empty ones too once a batch
 * has closed), at time, after its records.
 */
struct ds_evclk {
	int64_t		 ival, lateness;
	void		(*emit)(void *arg, int64_t time, struct ds_cutb *);
	void		*arg;
	struct ds_cutb	*ob;		/* the open batches with records, by k */
	size_t		 nob, obcap;
	int		 have, started;
	int64_t		 lo, maxt;	/* batches below lo are closed */
};

void	 ds_evclk_init(struct ds_evclk *, int64_t ival, int64_t lateness,
	    void (*emit)(void *, int64_t, struct ds_cutb *), void *arg);
/*
 * Add the record p[0..len) of time t: 0, or -1 with a message in why
 * when it is late or too far ahead.
 */
int	 ds_evclk_add(struct ds_evclk *, int64_t t, const char *p, size_t len,
	    const struct ds_env *e, char *why, size_t whylen);
/* Go on after a replayed batch log whose last batch ended at lasttime. */
void	 ds_evclk_resume(struct ds_evclk *, int64_t lasttime);
/* End of input: close every open batch. */
void	 ds_evclk_finish(struct ds_evclk *);
void	 ds_evclk_free(struct ds_evclk *);

/* ---------------------------------------------------------------------
 * ckptlog.c: incremental checkpoints
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
 * keytab.c: the keys of a stateful stage
 * ------------------------------------------------------------------- */

#define DS_KEY_NOTIME	INT64_MIN	/* a key never updated by a batch */

/*
 * One key: the first member of the stage's own per-key struct, which
 * the table allocates (zeroed, of the size given to ds_keytab_init) and
 * frees.  Fields are read-only to the stage.
 */
struct ds_key {
	const char	*key;		/* owned by the table */
	size_t		 klen;
	int64_t		 last;		/* batch time of the last update */
	size_t		 idx;		/* in ord */
	size_t		 didx;		/* in chg */
	struct ds_key	*prev, *next;	/* the age list */
	unsigned	 live:1;	/* in the state (ds_keytab_live) */
	unsigned	 dirty:1;	/* in chg */
	unsigned	 touched:1;	/* in touch */
};

struct ds_keytab {
	struct ds_hash	 h;
	size_t		 size;		/* of the stage's struct */
	int		 byage;		/* keep the age list */
	int		 track;		/* note changes for a delta */
	struct ds_key	**ord;		/* first-seen order; NULL: a hole */
	size_t		 n, cap, holes;
	struct ds_key	*oldest, *newest;	/* live keys by last update */
	struct ds_key	**chg;		/* changed since settled; NULL: gone */
	size_t		 nchg, chgcap;
	struct ds_buf	 gone;		/* live keys removed since settled */
	struct ds_key	**touch;	/* touched in this batch */
	size_t		 ntouch, touchcap;
};

/*
 * Set up for per-key structs of size bytes; byage: keep the age list
 * (timeouts); track: note changed and removed keys (set and cleared by
 * the stage, e.g. off while it loads a checkpoint).
 */
void	 ds_keytab_init(struct ds_keytab *, size_t size, int byage,
	    int track);
/* The key k[0..n), created (zeroed, not live) when absent. */
void	*ds_keytab_get(struct ds_keytab *, const char *k, size_t n);
/* The key k[0..n), or NULL. */
void	*ds_keytab_find(struct ds_keytab *, const char *k, size_t n);
/* Remove k and free it (the stage has freed what its struct holds). */
void	 ds_keytab_del(struct ds_keytab *, struct ds_key *);
/* k is live, updated at time (it becomes the newest), and changed. */
void	 ds_keytab_live(struct ds_keytab *, struct ds_key *, int64_t time);
/* k's value changed (a delta must write it). */
void	 ds_keytab_changed(struct ds_keytab *, struct ds_key *);
/*
 * The next key removed since the last ds_keytab_settled, from *off (0
 * first): 1 with *key and *klen, 0 at the end.
 */
int	 ds_keytab_gone(const struct ds_keytab *, size_t *off,
	    const char **key, size_t *klen);
/* A checkpoint holds every change: forget them. */
void	 ds_keytab_settled(struct ds_keytab *);
/* Close the holes of ord (never while iterating it). */
void	 ds_keytab_compact(struct ds_keytab *);
/* k is touched by this batch (noted once). */
void	 ds_keytab_touch(struct ds_keytab *, struct ds_key *);
/*
 * The next key touched in this batch, from *i (0 first), no longer
 * marked touched; NULL at the end, which empties the list.  Only the
 * key just returned may be removed while iterating.
 */
void	*ds_keytab_nexttouched(struct ds_keytab *, size_t *i);
/* Keys in the age list without a time (loaded, --init) get time. */
void	 ds_keytab_stamp(struct ds_keytab *, int64_t time);
/*
 * The oldest live key not updated for more than ttl at time now, or
 * NULL (also when ttl <= 0 or now is DS_KEY_NOTIME); the stage removes
 * it and asks again.
 */
void	*ds_keytab_expired(struct ds_keytab *, int64_t now, int64_t ttl);
/* Rebuild the age list from the live keys' times (after a load). */
void	 ds_keytab_sortage(struct ds_keytab *);
/* Free every key and the table. */
void	 ds_keytab_free(struct ds_keytab *);

/* ---------------------------------------------------------------------
 * stagestate.c: the durable state of a stateful stage
 * ------------------------------------------------------------------- */

/*
 * What ds-state and ds-window keep across restarts, beside their own
 * records: the checkpoint files (a snapshot DIR/NAME, and with deltas a
 * log DIR/NAME.log of what changed after it), the last batch applied,
 * and the offsets of the applied batches.  Fields are read-only to the
 * stage.
 */
struct ds_stst {
	const char	*dir;		/* NULL: no checkpoint */
	char		*name, *logname, *path;	/* NAME, NAME.log, DIR/NAME */
	int		 deltas;	/* keep a delta log */
	struct ds_applied applied;	/* the last batch applied */
	struct ds_offsets cum;		/* offsets of every applied batch */
	json_t		*ckcum;		/* cum as of the last checkpoint */
	uint64_t	 gen;		/* checkpoints written, ever */
	int		 needfull;	/* the next one must be a snapshot */
	off_t		 basebytes, logbytes;
	size_t		 lastbytes;	/* the last checkpoint's size */
};

/* How a stage reads its checkpoint back (ds_stst_load). */
struct ds_stst_load {
	/*
	 * Check the snapshot's header (the stage's own fields: its options)
	 * and take what the stage needs from it: 0, or -1 with a message.
	 */
	int	(*header)(void *arg, json_t *hd, char *msg, size_t msglen);
	/*
	 * Apply the record lines p[0..end) (writable) of the snapshot, then
	 * of each delta in order: 0, or -1 with a message.
	 */
	int	(*records)(void *arg, char *p, char *end, char *msg,
		    size_t msglen);
	void	*arg;
};

/*
 * Was the checkpoint whose header is hd written with this run's
 * options?  want holds them as the stage writes them: "mode", "key"
 * and "aggs" (an array of -a specs).  0, or -1 with a message.
 */
int	 ds_stst_sameopts(const struct ds_stst *, json_t *hd, json_t *want,
	    char *msg, size_t msglen);
/* Set up for DIR/NAME (dir NULL: nothing is durable); deltas: keep a log. */
void	 ds_stst_init(struct ds_stst *, const char *dir, const char *name,
	    int deltas);
/*
 * Load the checkpoint.  Returns 1 when one was loaded, 0 when there is
 * none, -1 with a message in msg when it cannot be used (every copy
 * corrupt, written with other options, malformed).
 */
int	 ds_stst_load(struct ds_stst *, const struct ds_stst_load *,
	    char *msg, size_t msglen);
/* Was the batch of marker m applied before (a replay)?  0 without DIR. */
int	 ds_stst_applied(const struct ds_stst *, json_t *m);
/* The batch of marker m is applied: note it and its offsets. */
void	 ds_stst_apply(struct ds_stst *, json_t *m);
/*
 * Is the next checkpoint a snapshot (the body holds the whole state)
 * rather than a delta (what changed since the last one)?  A snapshot
 * comes first, and whenever the log has outgrown the last snapshot.
 */
int	 ds_stst_wantfull(const struct ds_stst *);
/*
 * Write a checkpoint as ds_stst_wantfull said: the header hd (the
 * stage's own fields; stolen) with this module's, then the body.
 * 0, or -1 with a message.
 */
int	 ds_stst_save(struct ds_stst *, json_t *hd, const struct ds_buf *body,
	    char *msg, size_t msglen);
/*
 * The "commit" to release with marker m: the offsets of the last
 * checkpoint, lowered to what an upstream stage said in m's own
 * "commit", and for a replayed batch to m's offsets (the output has got
 * only that far).  A new array.
 */
json_t	*ds_stst_commit(const struct ds_stst *, json_t *m, int replayed);
void	 ds_stst_free(struct ds_stst *);

/* ---------------------------------------------------------------------
 * staterec.c: the state records of a keyed stage's checkpoint
 * ------------------------------------------------------------------- */

/*
 * One line per key: {"k":{<key fields>},"t":LAST,"<tag>":VALUE}, or
 * {"k":{<key fields>},"d":1} for a key removed since the checkpoint
 * before.  The stage writes and reads its VALUE.
 */
struct ds_staterec {
	const struct ds_path *keys;	/* -k */
	int		 nkeys;
	const char	*tag;		/* the value's member name */
	/* append k's value (JSON) to b */
	void		(*save)(void *arg, struct ds_key *k, struct ds_buf *b);
	/*
	 * Key key[0..klen) has value v, updated last at batch time last
	 * (DS_KEY_NOTIME: unknown); v NULL: the key was removed.  0, or -1
	 * with *why.
	 */
	int		(*load)(void *arg, const char *key, size_t klen,
			    int64_t last, const struct ds_span *v,
			    const char **why);
	void		*arg;
};

/*
 * Append to b the records of a checkpoint: with full (a snapshot) every
 * live key, else (a delta) the keys removed and changed since kt was
 * last settled.
 */
void	 ds_staterec_body(struct ds_keytab *kt, int full,
	    const struct ds_staterec *, struct ds_buf *b);
/*
 * The same records one by one (without the newline): fn gets the key's
 * text, the record rec[0..len), whose key fields object ends at
 * rec[kend] (it starts at rec[5], after {"k":), and whether the key was
 * removed.  A -1 from fn stops the walk and is returned; else 0.
 */
typedef int (*ds_staterec_fn)(void *arg, const char *key, size_t klen,
	    const char *rec, size_t len, size_t kend, int gone);
int	 ds_staterec_each(struct ds_keytab *kt, int full,
	    const struct ds_staterec *, ds_staterec_fn fn, void *arg);
/*
 * Read the records p[0..end) (writable; the lines after a header line)
 * of the checkpoint at path.  0, or -1 with "path:line: why" in msg.
 */
int	 ds_staterec_load(const struct ds_staterec *, const char *path,
	    char *p, char *end, char *msg, size_t msglen);

/*
 * An initial state file (--init): for each good line l of file, fn gets
 * its key (by keys) and, with member set, that member's value in v
 * (else the whole line); a line that is bad, has no key or lacks the
 * member goes to bad with why.  0, or -1 (file cannot be opened) with
 * errno set.
 */
struct ds_stateinit {
	const struct ds_path *keys;	/* -k */
	int		 nkeys;
	const char	*member;	/* NULL: the whole record */
	void		(*fn)(void *arg, const struct ds_line *l,
			    const char *key, size_t klen,
			    const struct ds_span *v);
	void		(*bad)(void *arg, const struct ds_line *l,
			    const char *why);
	void		*arg;
};

int	 ds_staterec_init(const struct ds_stateinit *, const char *file);

/* ---------------------------------------------------------------------
 * kstate.c: the keyed state of a stage (ds-state)
 * ------------------------------------------------------------------- */

/*
 * One key: its running aggregates (-a), or its state as JSON text (-e,
 * which the stage computes); vals and upd are the stage's.
 */
struct ds_kval {
	struct ds_key	 k;		/* first: the key table's part */
	struct ds_aggst	*st;		/* -a: the running aggregates */
	char		*js;		/* -e: the state; NULL: none yet */
	struct ds_buf	 vals;		/* -e: "[v,v,..." of this batch */
	uint64_t	 upd;		/* the stage's batch that updated it */
};

/*
 * The state of a keyed stage across batches: the keys and their values,
 * the output record of a key, the checkpoint (a header with the -k and
 * -a/-e it was written with, then a state record a key; ds_stst) and
 * the initial state.  The stage fills the options (keys, nkeys, keytext,
 * expr, and aggs through ds_kstate_addagg), then calls ds_kstate_init;
 * ds_kstate_free frees them too.  The rest is read-only to the stage.
 */
struct ds_kstate {
	struct ds_path	*keys;		/* -k */
	int		 nkeys;
	const char	*keytext;	/* -k as given */
	int		 expr;		/* the values are JSON text (-e) */
	struct ds_aggs	 aggs;		/* -a */
	const char	**specs;	/* -a as given */
	struct ds_keytab kt;
	struct ds_stst	 ss;		/* the checkpoint */
	int		 needtime;	/* keys without a time exist */
	struct ds_buf	 ob;
};

/* -a spec: 0, or -1 with a message (a usage error). */
int	 ds_kstate_addagg(struct ds_kstate *, const char *spec, char *msg,
	    size_t msglen);
/*
 * After the options: the checkpoint DIR/NAME (dir NULL: none); byage:
 * keys can time out; track: note the changes for deltas or a changelog.
 */
void	 ds_kstate_init(struct ds_kstate *, const char *dir, const char *name,
	    int byage, int track);
/* The key k[0..n): get creates it (not live, no value) when absent. */
struct ds_kval *ds_kstate_get(struct ds_kstate *, const char *k, size_t n);
/* The key k[0..n), or NULL. */
struct ds_kval *ds_kstate_find(struct ds_kstate *, const char *k, size_t n);
/* Remove the key and free its value. */
void	 ds_kstate_del(struct ds_kstate *, struct ds_kval *);
/* The same, as the callback of dk_scope_control (arg: the state). */
void	 ds_kstate_drop(void *arg, struct ds_key *);
/* -e: v's state is now p[0..n) (p NULL: none); changed when live. */
void	 ds_kstate_setjs(struct ds_kstate *, struct ds_kval *, const char *p,
	    size_t n);
/* -a: merge the batch partial of group g into its key (taking g->st). */
void	 ds_kstate_take(struct ds_kstate *, struct ds_grp *g);
/*
 * Write v as {<key fields>,<aggregates>} or {<key fields>,"state":S}:
 * with gone, S is null; with timedout, "timedOut":true is added.
 */
void	 ds_kstate_emit(struct ds_kstate *, struct ds_kval *, int gone,
	    int timedout);
/* Write every live key. */
void	 ds_kstate_emitall(struct ds_kstate *);
/* The first batch time t is known: the loaded keys' updates take it. */
void	 ds_kstate_stamp(struct ds_kstate *, int64_t t);
/* At batch time t, write and remove the keys not updated for ttl. */
void	 ds_kstate_expire(struct ds_kstate *, int64_t t, int64_t ttl);
/*
 * A batch the checkpoint holds already: drop its partials gs and values
 * without applying them, and with emit write the current values of the
 * keys they touched, so that a sink that lost the first outputs still
 * converges.
 */
void	 ds_kstate_replay(struct ds_kstate *, struct ds_groups *gs, int emit);
/* How the checkpoint and a changelog hold a key. */
struct ds_staterec ds_kstate_rec(struct ds_kstate *);
/*
 * Write a checkpoint, a snapshot or a delta (ds_stst_wantfull): 1 for a
 * snapshot, 0 for a delta, -1 with a message.
 */
int	 ds_kstate_save(struct ds_kstate *, char *msg, size_t msglen);
/* Load it: 1 when there was one, 0 when not, -1 with a message. */
int	 ds_kstate_load(struct ds_kstate *, char *msg, size_t msglen);
/*
 * The initial state of file, one record a key: -a folds the records;
 * -e takes {<key fields>,"state":S} (S null: no state).  A bad record
 * goes to bad with why.  0, or -1 (file cannot be opened) with errno.
 */
int	 ds_kstate_initfile(struct ds_kstate *, const char *file,
	    void (*bad)(void *arg, const struct ds_line *l, const char *why),
	    void *arg);
void	 ds_kstate_free(struct ds_kstate *);

#endif /* DS_DURABLE_H */
