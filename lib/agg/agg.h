/*
 * agg/agg.h -- aggregates: specs, folds, inverses, the groups of a
 * batch, and the batches of a sliding window.  Uses base, json and
 * stream.
 */
#ifndef DS_AGG_H
#define DS_AGG_H

#include "stream/stream.h"

/* ---------------------------------------------------------------------
 * agg.c: aggregates
 * ------------------------------------------------------------------- */

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
/*
 * Is st free of floating-point sums (and averages), so that merging
 * partials gives the same result as folding the records in one go?
 */
int	 ds_agg_exact(const struct ds_aggs *, const struct ds_aggst *);
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

/* ds_agg_add on values found by ds_json_getv (vals indexed like aggs->d). */
int	 ds_agg_add_v(const struct ds_aggs *, struct ds_aggst *,
	    const char *rec, size_t len, const struct ds_span *vals,
	    const int *found, const char **errmsg);

/*
 * A batch's groups in order of first appearance: key -> partial.  The
 * table owns the keys and the partials; clear frees both and keeps the
 * table for the next batch, free releases it too.
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
/*
 * The groups in order of first appearance: start with i = 0; NULL at
 * the end.  A caller may take a group's st (setting it NULL).
 */
struct ds_grp *ds_groups_next(struct ds_groups *, size_t *i);
size_t	 ds_groups_count(const struct ds_groups *);
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
	struct ds_jscan		  js;	/* its fields' scan */
	int			  quick; /* ds_grouper_quick may apply */
	int			  rawkey; /* it did: the key is vals[0]'s
					   text as it is */
};
/*
 * Set up: 0, or -1 with a message in err when an aggregate's name is
 * also a key field (a usage error).
 */
int	 ds_grouper_init(struct ds_grouper *, const struct ds_aggs *,
	    const struct ds_path *keys, int nkeys, char *err, size_t errlen);
/*
 * The scan a record goes through first (ds_check_line_scan or
 * ds_json_scan): it validates the record and finds the grouper's key
 * and aggregate fields in the same pass.
 */
struct ds_jscan *ds_grouper_scan(struct ds_grouper *);
/*
 * Instead of that scan, for the tiniest records: with one key field K
 * (top-level, a name that needs no escape), when rec[0..len) is the
 * one-member object {"K":"v"} as ds_json_pair takes it, set the scan's
 * outputs as ds_json_scan would and return 1; else 0, and the record
 * goes through the scan.  ds_grouper_add follows either way.
 */
int	 ds_grouper_quick(struct ds_grouper *, const char *rec, size_t len);
/*
 * Fold record rec[0..len), just scanned with ds_grouper_scan's struct,
 * into its group in gs: 0, or -1 with *why set when the record is bad
 * (not an object, a key or a summed value of the wrong type); then no
 * group is changed.  The caller applies the bad-record policy.
 */
int	 ds_grouper_add(struct ds_grouper *, struct ds_groups *gs,
	    const char *rec, size_t len, const char **why);
void	 ds_grouper_free(struct ds_grouper *);
/* Append one output record {key fields, aggregates} (no newline) to b. */
void	 ds_group_emit(const struct ds_aggs *, const struct ds_path *keys,
	    int nkeys, const char *k, size_t klen, const struct ds_aggst *,
	    struct ds_buf *b);

/* ---------------------------------------------------------------------
 * winq.c: the batches inside a sliding window (ds-window)
 * ------------------------------------------------------------------- */

struct ds_winpart {		/* one batch inside the window */
	int64_t		 time;
	int64_t		 seq;
	struct ds_buf	 keys;	/* the groups' keys */
	struct {
		size_t		 off, len;	/* key in keys */
		struct ds_aggst	*st;
	}		*g;
	size_t		 n;
	struct ds_buf	 recs;	/* raw mode: the lines, \n-ended */
	size_t		 nrecs;
};
/*
 * The batches oldest first, each reduced to one partial per key (raw
 * mode: its records).  With inverse set, run holds one running total
 * per key: a batch is merged in as it enters and subtracted as it
 * leaves, and keys whose count falls to 0 are dropped.  Borrows aggs.
 */
struct ds_winq {
	const struct ds_aggs *aggs;
	int64_t		 length;	/* batches with time > t - length stay */
	int		 raw, inverse;
	struct ds_winpart *q;
	size_t		 n, cap;
	struct ds_hash	 run;
};
void	 ds_winq_init(struct ds_winq *, const struct ds_aggs *,
	    int64_t length, int raw, int inverse);
/*
 * A batch enters: the partials of gs move into the window (gs is left
 * cleared), or in raw mode the nrecs lines of recs (recs is left empty).
 */
void	 ds_winq_push(struct ds_winq *, int64_t time, int64_t seq,
	    struct ds_groups *gs, struct ds_buf *recs, size_t nrecs);
/*
 * Drop the batches no window ending at t or later covers: 0, or -1 if a
 * key left the running totals twice (an internal error).
 */
int	 ds_winq_evict(struct ds_winq *, int64_t t);
/* Raw mode: write the records held to standard output. */
void	 ds_winq_records(const struct ds_winq *);
/*
 * The window's groups: their count, with *v a new array (the caller
 * frees it) pointing into the running totals, or into tmp where the
 * partials are merged (the caller frees tmp's groups after use).
 */
size_t	 ds_winq_groups(struct ds_winq *, struct ds_groups *tmp,
	    struct ds_grp **v);
/*
 * Checkpoints: the batches appended to b as lines; and back into an
 * empty queue from p..e (0, or -1 when malformed).
 */
void	 ds_winq_save(const struct ds_winq *, struct ds_buf *b);
int	 ds_winq_load(struct ds_winq *, const char *p, const char *e);
void	 ds_winq_free(struct ds_winq *);
/*
 * A window kept per source partition (no running totals, not raw):
 * ds_winpart_key gives group i's key; ds_winq_at the batch of a time,
 * made in time order when there is none; ds_winq_loadgroup reads one
 * group [[key],partial] of the saved form into a batch (0, or -1 when
 * malformed); ds_winq_drop drops from every batch the groups whose key
 * gone() says go.
 */
const char *ds_winpart_key(const struct ds_winpart *, size_t i, size_t *len);
struct ds_winpart *ds_winq_at(struct ds_winq *, int64_t time, int64_t seq);
int	 ds_winq_loadgroup(struct ds_winq *, struct ds_winpart *,
	    const char *p, size_t len);
void	 ds_winq_drop(struct ds_winq *,
	    int (*gone)(void *, const char *k, size_t klen), void *arg);

#endif /* DS_AGG_H */
