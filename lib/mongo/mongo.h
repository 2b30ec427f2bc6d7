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
	char		 err[512];	/* why the last call returned -1 */
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
 * the current backoff (100ms doubling to 5s).  Returns 0, or -1 when
 * SIGTERM or SIGINT arrives meanwhile.  ds_mongo_ok() resets the backoff.
 *
 * These functions and those below that retry return -1 with the reason
 * in m->err when they fail for good (an error that is not transient, or
 * a signal while waiting).
 */
int	 ds_mongo_wait(struct ds_mongo *, const char *what,
	    const bson_error_t *e);
void	 ds_mongo_ok(struct ds_mongo *);
/*
 * After a call that failed with e: when e is transient, wait as
 * ds_mongo_wait (0: try again); else -1 with m->err "WHERE: CTX: why",
 * CTX as fmt says.
 */
int	 ds_mongo_retry(struct ds_mongo *, const bson_error_t *e,
	    const char *what, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/* Put the message of a failure in m->err; returns -1. */
int	 ds_mongo_fail(struct ds_mongo *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Is the server FerretDB (buildInfo's ferretdbVersion)?  1, 0 or -1. */
int	 ds_mongo_ferretdb(struct ds_mongo *);

/*
 * Parse an index spec "user:1,timestamp:-1" into keys (initialised
 * here; the caller destroys it).  Returns 0, or -1 with a message.
 */
int	 ds_mongo_index_parse(const char *spec, bson_t *keys, char *err,
	    size_t errlen);
/* Create the index keys on db.coll, retrying while unreachable. */
int	 ds_mongo_index(struct ds_mongo *, const char *db, const char *coll,
	    const bson_t *keys);

/* The last recorded batch of sink id into *a (zero: none), retrying. */
int	 ds_mongo_progress_get(struct ds_mongo *, const char *db,
	    const char *id, struct ds_applied *a);
/* Record marker's stream, seq, time and offsets as the progress of id. */
int	 ds_mongo_progress_put(struct ds_mongo *, const char *db,
	    const char *id, json_t *marker);

/*
 * Why FerretDB or MongoDB would refuse doc ('$'-prefixed or dotted key,
 * NaN), as a static string, or NULL when it is acceptable.
 */
const char *ds_mongo_check(const bson_t *doc);
/*
 * A record p[0..len) as a document for MongoDB: *b (the caller destroys
 * it) and NULL, or why it cannot be one (not an object, not BSON, or
 * what ds_mongo_check says), in buf[0..n) or static, with *b unset.
 */
const char *ds_mongo_doc(const char *p, size_t len, bson_t *b, char *buf,
	    size_t n);
/*
 * The collection name in field of b (a dotted path), of *len bytes, or
 * NULL when there is none a collection could have (not a string, empty,
 * over 200 bytes, starting with '$', or holding a NUL).
 */
const char *ds_mongo_collname(const bson_t *b, const char *field,
	    uint32_t *len);
/* Does the URI carry a password (mongodb://user:password@host/)? */
int	 ds_mongo_uri_password(const char *uri);
/* An integer field of a server reply ("nInserted"), 0 when absent. */
int64_t	 ds_mongo_reply_int(const bson_t *reply, const char *key);
/*
 * Call fn for each write error of a bulk write's reply: the index of
 * the op (-1: not given), the server's error code (11000: duplicate
 * key) and its message.
 */
void	 ds_mongo_write_errors(const bson_t *reply, void (*fn)(void *ctx,
	    int64_t idx, int64_t code, const char *msg), void *ctx);

/* ---------------------------------------------------------------------
 * mongo_batch.c: one batch held until its marker
 * ------------------------------------------------------------------- */

#define DS_MONGO_GUARD	"_ds_seq"	/* per-document last seq (inc) */
#define DS_MONGO_GSTREAM "_ds_stream"	/* and the stream of that seq */
#define DS_MONGO_GOFFSET "_ds_o"	/* --envelope: per topic, per
					   partition, the last offset */

enum ds_mmode { DS_M_INSERT, DS_M_UPSERT, DS_M_MERGE, DS_M_INC };

struct ds_mdoc {			/* one record as BSON */
	size_t		 off;		/* its bytes in docs */
	uint32_t	 len;
	int32_t		 next;		/* next doc of the same key, or -1 */
	unsigned long	 lineno;
	const char	*src;
	int64_t		 moff;		/* --envelope: its message's offset */
};

struct ds_mop {				/* one write of a bulk */
	int32_t		 head, tail;	/* its docs, in input order */
	size_t		 koff;		/* {"_id":K} in keys */
	uint32_t	 klen;		/* 0: no key */
	/* --envelope: a key's messages of one partition, in offset order */
	size_t		 goff;		/* its guard's path in guards */
	uint32_t	 glen;		/* 0: no guard */
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
	int		 envelope;	/* records are Kafka envelopes */
	struct ds_buf	 guards;	/* "_ds_o.TOPIC.P" NUL, an op each */
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
 * one key share one op; the messages of envelopes (e, NULL otherwise)
 * share it with those of their key and partition only, and it is guarded
 * by their offsets.  Returns the index of a new op, or -1 when rec joined
 * an existing one.
 */
int32_t	 ds_mbatch_add(struct ds_mbatch *, const char *coll, const bson_t *rec,
	    const bson_t *k, const struct ds_env *e, unsigned long lineno,
	    const char *src);
/*
 * Append op o to bulk: insert, replace (upsert), $set (merge) or
 * $inc+$set (inc; when seq > 0 it also sets the guard DS_MONGO_GUARD
 * and DS_MONGO_GSTREAM to the batch).  The filter is {_id: K} alone,
 * except for envelopes' messages: {_id: K, GUARD: {$not: {$gte: FIRST}}},
 * FIRST the offset of the op's first message, the write setting GUARD to
 * its last one's (a replacement holds that guard alone).
 * Returns 0, or -1 with the reason in *e.
 */
int	 ds_mbatch_op(const struct ds_mbatch *, mongoc_bulk_operation_t *bulk,
	    const struct ds_mop *o, int64_t seq, bson_error_t *e);
/*
 * Compact ops[0..n) (indexes of b's ops in collection coll) to those
 * not applied yet, and return how many are left, adding the others to
 * *dup.  A document the batch reached before a crash or a failed request
 * carries its seq and stream (the guard of inc); one that envelopes'
 * messages reached carries the offset of the last of them (or, inserted,
 * exists): an op's messages up to it are left out of the op, and counted
 * in *dup.  One find by _id reads them back, retried while m is
 * unreachable.  Returns -1 with the reason in m->err when that fails.
 */
ssize_t	 ds_mbatch_unapplied(struct ds_mbatch *b, struct ds_mongo *m,
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
