/*
 * mongo.h -- private header of the libmongoc-linked code (lib/mongo*.c
 * and bin/ds-sink-mongo.c).  It is not part of ds.h because only these
 * files are compiled with libmongoc's CFLAGS.
 */
#ifndef DS_MONGO_H
#define DS_MONGO_H

#include <mongoc/mongoc.h>

#define DS_MONGO_PROGRESS	"ds_progress"	/* progress collection */

struct ds_mongo {
	mongoc_client_t	*client;	/* the one client of the run */
	char		*where;		/* hosts, never credentials */
	int64_t		 backoff_ms;	/* next wait when unreachable */
};

/*
 * Parse uri, make the client and set the write concern w ("majority", a
 * number >= 1, or NULL for 1).  Connects lazily.  Returns NULL with a
 * message in err (which never holds the password).  Free with
 * ds_mongo_close.
 */
struct ds_mongo *ds_mongo_open(const char *uri, const char *w, char *err,
	    size_t errlen);
void	 ds_mongo_close(struct ds_mongo *);

/* Is e a "server unreachable, try again" error (network, election)? */
int	 ds_mongo_transient(const bson_error_t *e);
/*
 * Say on stderr that what failed with e and that we retry, then sleep
 * the current backoff (100ms doubling to 5s).  Exits 1 when SIGTERM or
 * SIGINT arrives meanwhile.  ds_mongo_ok() resets the backoff.
 */
void	 ds_mongo_wait(struct ds_mongo *, const char *what,
	    const bson_error_t *e);
void	 ds_mongo_ok(struct ds_mongo *);

/* Is the server FerretDB (buildInfo's ferretdbVersion)?  Retries. */
int	 ds_mongo_ferretdb(struct ds_mongo *);

/*
 * Parse an index spec "user:1,timestamp:-1" into keys (initialised
 * here; the caller destroys it).  Returns 0, or -1 with a message.
 */
int	 ds_mongo_index_parse(const char *spec, bson_t *keys, char *err,
	    size_t errlen);
/* Create the index keys on db.coll, retrying while unreachable. */
void	 ds_mongo_index(struct ds_mongo *, const char *db, const char *coll,
	    const bson_t *keys);

/* The last recorded batch of sink id into *a (zero: none), retrying. */
void	 ds_mongo_progress_get(struct ds_mongo *, const char *db,
	    const char *id, struct ds_applied *a);
/* Record marker's stream, seq, time and offsets as the progress of id. */
void	 ds_mongo_progress_put(struct ds_mongo *, const char *db,
	    const char *id, json_t *marker);

/*
 * Why FerretDB or MongoDB would refuse doc ('$'-prefixed or dotted key,
 * NaN), as a static string, or NULL when it is acceptable.
 */
const char *ds_mongo_check(const bson_t *doc);

/* ---------------------------------------------------------------------
 * mongo_batch.c: one batch held until its marker
 * ------------------------------------------------------------------- */

#define DS_MONGO_GUARD	"_ds_seq"	/* per-document last seq (inc) */
#define DS_MONGO_GSTREAM "_ds_stream"	/* and the stream of that seq */

enum ds_mmode { DS_M_INSERT, DS_M_UPSERT, DS_M_MERGE, DS_M_INC };

struct ds_mdoc {			/* one record as BSON */
	size_t		 off;		/* its bytes in docs */
	uint32_t	 len;
	int32_t		 next;		/* next doc of the same key, or -1 */
	unsigned long	 lineno;
	const char	*src;
};

struct ds_mop {				/* one write of a bulk */
	int32_t		 head, tail;	/* its docs, in input order */
	size_t		 koff;		/* {"_id":K} in keys */
	uint32_t	 klen;		/* 0: no key */
};

struct ds_mbatch {
	enum ds_mmode	 mode;
	char		**key;		/* --key paths (borrowed) */
	int		 nkey;
	struct ds_buf	 docs, keys, tmp;
	struct ds_mdoc	*d;
	size_t		 nd, dcap;
	struct ds_mop	*o;
	size_t		 no, ocap;
	struct ds_hash	 bykey;		/* coll NUL key -> op index */
	const char	*stream;	/* the batch's "stream" (borrowed) */
	struct ds_path	*kpaths;	/* string ids: the key paths (owned) */
};

/*
 * Build k = {"_id": K} from the key fields of record l, rec as BSON
 * (initialised here; the caller destroys it): K is the value of the one
 * key, or a document {f1:v1,...} of several (dots in names become '_');
 * with kpaths set (--id-format string), the string "[v1,v2,...]" of the
 * values as compact JSON (ds_json_canon: equal values, equal text),
 * which FerretDB finds without a scan.  Returns 0, or -1 when a key
 * field is missing.
 */
int	 ds_mbatch_key(struct ds_mbatch *, const bson_t *rec,
	    const struct ds_line *l, bson_t *k);
/*
 * Add rec (copied) to the batch for collection coll, keyed by k (NULL:
 * unkeyed, one op per record).  In keyed non-insert modes the records of
 * one key share one op.  Returns the index of a new op, or -1 when rec
 * joined an existing one.
 */
int32_t	 ds_mbatch_add(struct ds_mbatch *, const char *coll, const bson_t *rec,
	    const bson_t *k, unsigned long lineno, const char *src);
/*
 * Append op o to bulk: insert, replace (upsert), $set (merge) or
 * $inc+$set (inc; when seq > 0 it also sets the guard DS_MONGO_GUARD
 * and DS_MONGO_GSTREAM to the batch).  The filter is {_id: K} alone.
 */
void	 ds_mbatch_op(const struct ds_mbatch *, mongoc_bulk_operation_t *bulk,
	    const struct ds_mop *o, int64_t seq);
/*
 * Compact ops[0..n) (indexes of b's ops in collection coll) to those
 * batch seq has not reached yet, and return how many are left, adding
 * the others to *dup.  A document the batch reached before a crash or a
 * failed request carries its seq and stream (the guard of inc): one find
 * by _id reads them back, retried while m is unreachable.
 */
size_t	 ds_mbatch_unapplied(const struct ds_mbatch *b, struct ds_mongo *m,
	    mongoc_collection_t *coll, int32_t *ops, size_t n, int64_t seq,
	    int64_t *dup);
/*
 * The first record of o as a line for ds_bad (relaxed extended JSON,
 * returned for the caller to bson_free).
 */
char	*ds_mbatch_json(const struct ds_mbatch *, const struct ds_mop *o,
	    struct ds_line *l);
void	 ds_mbatch_clear(struct ds_mbatch *);	/* empty for the next batch */
void	 ds_mbatch_free(struct ds_mbatch *);

#endif /* DS_MONGO_H */
