#!/usr/bin/env bats
# Secrets off the command line (ds-sink-mongo --uri-file and
# DS_MONGO_URI, ds-kafka-cat -F and DS_KAFKA_X_*), a warning when one is
# on it, no secret in any diagnostic, dead-letter record or progress
# document, and the files ds creates: 0600 in 0700 directories, and an
# atomic replace that never writes through a planted symlink.

load helper
bats_require_minimum_version 1.5.0

PW=S3cret-pw-4711

mk() {
	printf '{"@ds":"batch","seq":%d,"time":%d000,"interval":1000,"count":1,"offsets":[]}\n' "$1" "$1"
}

# the test server's URI with a user and the password: FerretDB takes
# any credentials over PLAIN
creds() {
	printf '%s' "$DS_TEST_MONGO_URI" |
	    sed "s,://,://alice:$PW@,; s,/\$,/?authMechanism=PLAIN,"
}

# mode FILE: its permission bits in octal
mode() {
	stat -c %a "$1"
}

@test "ds-sink-mongo --uri-file reads the URI, without a warning" {
	creds >uri
	chmod 600 uri
	db=sec_$$_1
	{ echo '{"_id":1,"a":1}'; mk 1; } >in
	run --separate-stderr timeout 60 ds-sink-mongo --uri-file uri -d "$db" \
	    -c t in
	[ "$status" -eq 0 ]
	# (a loaded server may make the client warn of a retry)
	[[ "$stderr" != *"chmod 600"* ]]
	[[ "$stderr" != *"shows in ps"* ]]
	[[ "$stderr" != *"$PW"* ]]
	run q count "$db" t
	[ "$output" = 1 ]
}

@test "ds-sink-mongo --uri-file warns when others may read the file" {
	creds >uri
	chmod 644 uri
	run --separate-stderr timeout 60 ds-sink-mongo --uri-file uri \
	    -d sec_$$_2 -c t </dev/null
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"uri: group or others may read it; chmod 600"* ]]
	[[ "$stderr" != *"$PW"* ]]
}

@test "ds-sink-mongo --uri-file: a missing or empty file is a usage error" {
	run --separate-stderr ds-sink-mongo --uri-file nothere -d x -c t
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"nothere: No such file or directory"* ]]
	: >empty
	run --separate-stderr ds-sink-mongo --uri-file empty -d x -c t
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"empty: empty (expected one line)"* ]]
}

@test "ds-sink-mongo --uri with a password warns; DS_MONGO_URI does not" {
	run --separate-stderr timeout 60 ds-sink-mongo --uri "$(creds)" \
	    -d sec_$$_3 -c t </dev/null
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"--uri: the password shows in ps to every local user"* ]]
	[[ "$stderr" != *"$PW"* ]]
	DS_MONGO_URI=$(creds) run --separate-stderr timeout 60 \
	    ds-sink-mongo -d sec_$$_3 -c t </dev/null
	[ "$status" -eq 0 ]
	# (a loaded server may make the client warn of a retry: no silence)
	[[ "$stderr" != *"the password shows in ps"* ]]
	[[ "$stderr" != *"$PW"* ]]
}

@test "no diagnostic, dead-letter record or progress document holds the password" {
	db=sec_$$_4
	{ echo '{"_id":1}'; echo '{"_id":'; echo '{"_id":2,"$bad":1}'; mk 1; } >in
	DS_MONGO_URI=$(creds) run --separate-stderr timeout 60 \
	    ds-sink-mongo -d "$db" -c t --dead-letter dl in
	[ "$status" -eq 0 ]
	[ "$(wc -l <dl)" -eq 2 ]
	run q find "$db" ds_progress
	[ "$status" -eq 0 ]
	[[ "$output" == *'"seq": 1'* || "$output" == *'"seq":1'* ]]
	[[ "$output" != *"$PW"* ]]
	run grep -c "$PW" dl
	[ "$output" = 0 ]
	[[ "$stderr" != *"$PW"* ]]
	# a failing connection names the host, never the credentials
	DS_MONGO_URI=$(creds | sed 's/PLAIN/SCRAM-SHA-256/') run \
	    --separate-stderr timeout 60 ds-sink-mongo -d "$db" -c t </dev/null
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"127.0.0.1"* ]]
	[[ "$stderr" != *"$PW"* ]]
	[[ "$stderr" != *alice* ]]
}

@test "ds-kafka-cat -X with a password warns and never prints it" {
	run --separate-stderr ds-kafka-cat -L -b 127.0.0.1:1 \
	    -X "sasl.password=$PW" -X no.such.property=1
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"-X sasl.password: the value shows in ps"* ]]
	[[ "$stderr" == *"-X no.such.property"* ]]
	[[ "$stderr" != *"$PW"* ]]
}

@test "ds-kafka-cat takes properties from DS_KAFKA_X_* and -F, -X wins" {
	# a bad value proves the variable was read, under its property name
	DS_KAFKA_X_QUEUED_MIN_MESSAGES=lots run --separate-stderr \
	    ds-kafka-cat -L -b 127.0.0.1:1
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"-X queued.min.messages: "* ]]
	# a secret from the environment: no warning, and never shown
	DS_KAFKA_X_SASL_PASSWORD=$PW \
	    DS_KAFKA_X_SASL_KERBEROS_MIN_TIME_BEFORE_RELOGIN=$PW run \
	    --separate-stderr ds-kafka-cat -L -b 127.0.0.1:1
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"-X sasl.kerberos.min.time.before.relogin: invalid property or value"* ]]
	[[ "$stderr" != *"shows in ps"* ]]
	[[ "$stderr" != *"$PW"* ]]
	# -X comes after the environment: its good value replaces the bad one
	echo "sasl.password=$PW" >props
	DS_KAFKA_X_QUEUED_MIN_MESSAGES=lots run --separate-stderr \
	    ds-kafka-cat -L -b 127.0.0.1:1 -F props \
	    -X queued.min.messages=5 -X no.such.property=1
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"-X no.such.property"* ]]
	[[ "$stderr" != *"queued.min.messages"* ]]
	[[ "$stderr" != *"$PW"* ]]
}

@test "checkpoints, batch logs and dead letters are 0600 in 0700 directories" {
	umask 022
	{ echo '{"u":"a","n":1}'; echo 'bad'; mk 1; } >in
	run ds-state -k u -a sum:n --checkpoint ck --dead-letter dl in
	[ "$status" -eq 0 ]
	[ "$(mode ck)" = 700 ]
	[ "$(mode ck/state)" = 600 ]
	[ "$(mode dl)" = 600 ]
	echo '{"a":1}' | ds-batch -n 1 --log deep/log >/dev/null
	[ "$(mode deep)" = 700 ]
	[ "$(mode deep/log)" = 700 ]
	[ "$(mode deep/log/batches.ndjson)" = 600 ]
	{ echo '{"a":1}'; mk 1; } | ds-sink-file out >/dev/null
	[ "$(mode out-1000)" = 600 ]
}

@test "a tighter umask makes the files tighter still" {
	umask 0377
	{ echo '{"a":1}'; mk 1; } | ds-sink-file out >/dev/null
	[ "$(mode out-1000)" = 400 ]
	umask 0277
	{ echo '{"u":"a"}'; mk 1; } >in
	run ds-state -k u -a count --checkpoint . in
	[ "$status" -eq 0 ]
	[ "$(mode state)" = 400 ]
}

@test "an atomic replace never writes through a planted symlink" {
	echo precious >victim
	mkdir ck
	ln -s "$PWD/victim" ck/state.tmp
	{ echo '{"u":"a","n":1}'; mk 1; } >in
	run ds-state -k u -a sum:n --checkpoint ck in
	[ "$status" -eq 0 ]
	[ "$(cat victim)" = precious ]
	[ ! -L ck/state ]
	grep -q '"u":"a"' ck/state
	# ds-sink-file's temporary: PREFIX.tmp.PID, PID the tool's own
	{ echo '{"a":1}'; mk 1; } >in2
	run bash -c 'ln -s "$1" out.tmp.$$ && exec ds-sink-file out <in2' \
	    _ "$PWD/victim"
	[ "$status" -eq 0 ]
	[ "$(cat victim)" = precious ]
	[ "$(cat out-1000)" = '{"a":1}' ]
}
