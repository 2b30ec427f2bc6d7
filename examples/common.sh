# common.sh -- sourced by the examples: find the tools and the input.
#
# The examples take their text from a socket (HOST:PORT, as Spark's
# socketTextStream; type into `nc -lk 9999`) or from stdin ("-").
# DS_OUT names the last stage (default ds-print, Spark's print());
# DS_OUT=cat gives the NDJSON stream itself.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# the tools on PATH (the tests' plain or sanitizer build), else ours
command -v ds-batch >/dev/null 2>&1 || PATH="$here/../build/bin:$PATH"
: "${DS_OUT:=ds-print}"
: "${INTERVAL:=2s}"

# text from the source named by $1 (default localhost:9999)
source_text() {
	local src=${1:-localhost:9999}
	if [ "$src" = - ]; then
		cat
	else
		nc "${src%:*}" "${src##*:}"
	fi
}

# ack_state: the directory $STATE, with the FIFO "acks" in it on which
# the sink tells the source which batches it has stored
ack_state() {
	mkdir -p "$STATE"
	[ -p "$STATE/acks" ] || mkfifo "$STATE/acks"
}

# kafka_end: in $end, the options of the Kafka source for AT_END=1
# (stop when the topic is drained) and RATE=N (at most N records/s a
# partition)
kafka_end() {
	end=
	if [ "${AT_END:-0}" = 1 ]; then
		end=-e
	fi
	if [ -n "${RATE:-}" ]; then
		end="$end --max-rate-per-partition $RATE"
	fi
}
