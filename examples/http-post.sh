#!/usr/bin/env bash
# http-post.sh -- foreachRDD with an HTTP client: every batch of NDJSON
# records is POSTed to URL as one application/x-ndjson request, with its
# stream and seq in the query so the server can take a replayed batch
# as the same one.  curl -f makes an HTTP error a failed batch: ds-each
# retries it with backoff, and passes the batch's marker on only once
# the server accepted it.
#
# usage: URL=http://host:port/path http-post.sh < records.ndjson
#   INTERVAL (2s), RETRY (3: retries of a failed POST)
. "$(dirname "$0")/common.sh"
: "${URL:?set URL}"
export URL

ds-batch -i "$INTERVAL" |
	ds-each --sink --retry "${RETRY:-3}" --backoff 200ms --timeout 30s \
	    -c 'exec curl -fsS -o /dev/null -H "Content-Type: application/x-ndjson" \
		--data-binary @- "$URL?stream=$DS_STREAM&seq=$DS_SEQ"' |
	$DS_OUT
