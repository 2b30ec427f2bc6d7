/*
 * ds.h -- the header of libds every ds-* tool includes: one header a layer.
 *
 * Ownership: a json_t * (jansson) returned by a ds_ function is a new
 * reference owned by the caller unless the comment says "borrowed".
 * Functions taking a json_t * borrow it unless they say "steals".
 * Spans (const char *p, size_t len) point into a buffer the caller owns
 * and stay valid only until that buffer is reused (the next line read).
 *
 * Errors: functions that can fail return -1 (or NULL) and leave a message
 * in the char *err buffer when they take one; usage-level failures in
 * tools go through errx(2, ...), data failures through ds_bad().  The
 * rule: a library function returns its error and lets the tool decide;
 * it does not exit or apply the bad-record policy itself (ds_bad,
 * ds_check_line and the stage loop of stream/ are the tools' helpers for
 * that).  Running out of memory is the exception: ds_reallocarray exits.
 *
 * Lifetimes: a zeroed struct is empty and ready to use.  x_clear empties
 * it and keeps its storage for reuse (a per-batch table does not grow
 * again); x_free empties it and releases the storage, leaving it zeroed.
 */
#ifndef DS_H
#define DS_H

/*
 * Layers, each using only those above it in this list:
 *	base/	 utilities, byte buffers, JSON text output, the hash table
 *	json/	 the scanner, field paths, group keys
 *	stream/	 reader, writer, options, bad records, markers, offsets
 *	agg/	 aggregates and groups
 *	durable/ checkpoint files, framed logs, the batch log and replay,
 *		 the keyed state of a stage
 *	jq/	 the jq language
 *	kafka/, mongo/	client code (kafka.h, mongo.h), beside the tools
 */
#include "base/base.h"
#include "json/json.h"
#include "stream/stream.h"
#include "agg/agg.h"
#include "durable/durable.h"
#include "jq/jq.h"

#endif /* DS_H */
