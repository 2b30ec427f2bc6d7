#!/usr/bin/env bash
# mongo.sh start|stop|stop-ferret|start-ferret: a MongoDB-compatible
# server for the tests: FerretDB v1.24 (--handler=sqlite by default,
# --handler=postgresql with DS_MONGO_PG=1) on Debian's
# PostgreSQL 15, loopback only, free ports.  "start" installs what is
# missing (FerretDB built from the Go module proxy, pymongo in a venv for
# the independent checker test/mongo-q.py) and prints
#   DS_TEST_MONGO_URI=mongodb://127.0.0.1:PORT/
#   DS_TEST_MONGO_PY=<python with pymongo>
# Everything lives in $DS_SERVER_DIR/mongo (default build/servers/mongo),
# so two copies with different DS_SERVER_DIR run side by side.
# stop-ferret/start-ferret stop and restart FerretDB alone, on the same
# port (the sink's "MongoDB went away" tests).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${DS_CACHE:-$HOME/.cache/ds}
dir=${DS_SERVER_DIR:-$top/build/servers}/mongo
pgbin=/usr/lib/postgresql/15/bin
ferret=$cache/go/bin/ferretdb
venv=$cache/venv-mongo
fver=v1.24.0
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
# the postgres user cannot enter the caller's directory (bats' scratch dirs)
cd / || exit 1

die() {
	echo "mongo.sh: $*" >&2
	exit 1
}

# run a command as the postgres user when we are root (initdb refuses root)
aspg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

freeport() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# cachelock: one install into $cache at a time (make test starts both
# tiers' servers at once); held until the script exits
cachelock() {
	exec 8>"$cache/ferretdb.lock"
	flock -w 1200 8 || die "timed out waiting for another install into $cache"
}

install_ferret() {
	[ -x "$ferret" ] && return 0
	command -v go >/dev/null || die "go is not installed (apt-get install golang-go)"
	mkdir -p "$cache/go/bin" || die "cannot create $cache"
	cachelock
	[ -x "$ferret" ] && return 0
	export GOMODCACHE=$cache/go/mod GOFLAGS=-mod=mod
	# "go install ...@v1.24.0" is tried first; where the proxy refuses the
	# version list it needs, build the downloaded module ourselves.
	if GOBIN=$cache/go/bin timeout 900 go install \
	    github.com/FerretDB/FerretDB/cmd/ferretdb@$fver >&2 &&
	    "$ferret" --version >/dev/null 2>&1; then
		return 0
	fi
	rm -f "$ferret"
	echo "mongo.sh: go install failed; building the module from the proxy" >&2
	local mod
	mod=$(timeout 600 go mod download -json \
	    github.com/FerretDB/FerretDB@$fver | python3 -c \
	    'import json,sys; print(json.load(sys.stdin)["Dir"])') ||
		die "go mod download github.com/FerretDB/FerretDB@$fver failed"
	rm -rf "$cache/ferretdb-src"
	cp -r "$mod" "$cache/ferretdb-src" && chmod -R u+w "$cache/ferretdb-src" ||
		die "cannot copy $mod"
	# the module zip lacks the version file that "task gen-version" writes
	echo $fver >"$cache/ferretdb-src/build/version/version.txt"
	(cd "$cache/ferretdb-src" && timeout 900 go build -trimpath \
	    -o "$ferret" ./cmd/ferretdb) >&2 || die "go build of FerretDB failed"
	"$ferret" --version >/dev/null || die "built FerretDB does not run"
}

install_pymongo() {
	[ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import pymongo' \
	    2>/dev/null && return 0
	cachelock
	[ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import pymongo' \
	    2>/dev/null && return 0
	python3 -m venv "$venv" >&2 ||
		die "python3 -m venv failed (apt-get install python3-venv)"
	timeout 600 "$venv/bin/pip" install -q 'pymongo>=4,<5' >&2 ||
		die "pip install pymongo failed"
}

pg_start() {
	local pgport
	mkdir -p "$dir" || die "cannot create $dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	if [ ! -s "$dir/pg/PG_VERSION" ]; then
		aspg "$pgbin/initdb" -D "$dir/pg" -U postgres --auth=trust \
		    --no-sync >"$dir/initdb.log" 2>&1 ||
			die "initdb failed: $(tail -5 "$dir/initdb.log")"
	fi
	mkdir -p "$dir/sock" && [ "$(id -u)" = 0 ] && chown postgres: "$dir/sock"
	pgport=$(freeport)
	echo "$pgport" >"$dir/pg.port"
	# unix socket in our dir, TCP on loopback only
	aspg "$pgbin/pg_ctl" -D "$dir/pg" -l "$dir/pg.log" -w -t 60 \
	    -o "-p $pgport -k $dir/sock -c listen_addresses=127.0.0.1 -c fsync=off" \
	    start </dev/null >&2 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- || die "PostgreSQL did not start: $(tail -5 "$dir/pg.log")"
	aspg "$pgbin/createdb" -h "$dir/sock" -p "$pgport" -U postgres ferretdb \
	    2>/dev/null || aspg "$pgbin/psql" -h "$dir/sock" -p "$pgport" \
	    -U postgres -d ferretdb -c 'select 1' >/dev/null ||
		die "cannot create the ferretdb database"
}

ferret_start() {
	local port pgport handler=postgresql url
	port=$(cat "$dir/ferret.port" 2>/dev/null) || port=$(freeport)
	echo "$port" >"$dir/ferret.port"
	pgport=$(cat "$dir/pg.port")
	mkdir -p "$dir/state"
	url="--postgresql-url=postgres://postgres@127.0.0.1:$pgport/ferretdb"
	if [ "$(cat "$dir/handler" 2>/dev/null)" = sqlite ]; then
		handler=sqlite
		mkdir -p "$dir/sqlite"
		# WAL with synchronous=normal: durable when a process dies (what
		# the crash tests do), not on power loss: no fsync per write
		url="--sqlite-url=file:$dir/sqlite/?_pragma=synchronous(normal)"
	fi
	setsid "$ferret" --handler=$handler "$url" --telemetry=disable \
	    --listen-addr=127.0.0.1:"$port" --debug-addr=- \
	    --state-dir="$dir/state" --log-level=warn \
	    </dev/null >>"$dir/ferret.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	echo $! >"$dir/ferret.pid"
	local i
	for i in $(seq 1 300); do
		if "$venv/bin/python" "$top/test/mongo-q.py" \
		    "mongodb://127.0.0.1:$port/" ping >/dev/null 2>&1; then
			echo "DS_TEST_MONGO_URI=mongodb://127.0.0.1:$port/"
			echo "DS_TEST_MONGO_PY=$venv/bin/python"
			return 0
		fi
		kill -0 "$(cat "$dir/ferret.pid")" 2>/dev/null ||
			die "FerretDB exited: $(tail -5 "$dir/ferret.log")"
		sleep 0.1
	done
	die "FerretDB did not answer a ping in 30s: $(tail -5 "$dir/ferret.log")"
}

ferret_stop() {
	local pid i
	pid=$(cat "$dir/ferret.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
	rm -f "$dir/ferret.pid"
}

case ${1:-} in
start)
	install_ferret
	install_pymongo
	ferret_stop
	rm -f "$dir/ferret.port"
	if [ -s "$dir/pg/postmaster.pid" ]; then
		aspg "$pgbin/pg_ctl" -D "$dir/pg" -m fast -w stop >/dev/null 2>&1
	fi
	mkdir -p "$dir" || die "cannot create $dir"
	# SQLite by default: FerretDB 1.24's PostgreSQL backend leaks pool
	# connections under clients killed mid-request and bulk upserts, then
	# deadlocks (createIndexes holds the metadata registry's write lock
	# while waiting for a pool connection; every ping hangs).  Seen in
	# the crash test and the W8 bench; SQLite survives both.
	# DS_MONGO_PG=1 asks for PostgreSQL.
	echo sqlite >"$dir/handler"
	echo 0 >"$dir/pg.port"
	if [ -n "${DS_MONGO_PG:-}" ]; then
		if (pg_start); then
			echo postgresql >"$dir/handler"
		else
			echo "mongo.sh: WARNING: no PostgreSQL: FerretDB runs on SQLite" >&2
			echo 0 >"$dir/pg.port"
		fi
	fi
	ferret_start
	;;
stop)
	ferret_stop
	if [ -s "$dir/pg/postmaster.pid" ]; then
		aspg "$pgbin/pg_ctl" -D "$dir/pg" -m fast -w -t 30 stop >/dev/null
	fi
	exit 0
	;;
stop-ferret)
	ferret_stop
	;;
start-ferret)
	ferret_start >/dev/null
	;;
*)
	echo "usage: mongo.sh start|stop|stop-ferret|start-ferret" >&2
	exit 2
	;;
esac
