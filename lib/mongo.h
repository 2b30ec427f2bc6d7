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

/*
 * Parse an index spec "user:1,timestamp:-1" into keys (initialised
 * here; the caller destroys it).  Returns 0, or -1 with a message.
 */
int	 ds_mongo_index_parse(const char *spec, bson_t *keys, char *err,
	    size_t errlen);
/* Create the index keys on db.coll, retrying while unreachable. */
void	 ds_mongo_index(struct ds_mongo *, const char *db, const char *coll,
	    const bson_t *keys);

/* The last recorded batch seq of sink id (0: none), retrying. */
int64_t	 ds_mongo_progress_get(struct ds_mongo *, const char *db,
	    const char *id);
/* Record marker's seq, time and offsets as the progress of id. */
void	 ds_mongo_progress_put(struct ds_mongo *, const char *db,
	    const char *id, json_t *marker);

/*
 * Why FerretDB or MongoDB would refuse doc ('$'-prefixed or dotted key,
 * NaN), as a static string, or NULL when it is acceptable.
 */
const char *ds_mongo_check(const bson_t *doc);

#endif /* DS_MONGO_H */
