#!/usr/bin/env bash
# Install what a fresh Debian machine lacks for building and testing ds.
# As root it runs apt-get; otherwise it prints the one line to run.
set -u
pkgs="build-essential pkg-config libjansson-dev libbsd-dev librdkafka-dev
libmongoc-dev libbson-dev libonig-dev bats jq miller kcat python3 python3-venv mandoc
cppcheck postgresql time procps psmisc netcat-openbsd openjdk-17-jre-headless tmux
maven golang-go"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
# a JDK, Maven and Go may come from elsewhere than Debian: accept those
for tool in java:openjdk-17-jre-headless mvn:maven go:golang-go; do
	command -v "${tool%%:*}" >/dev/null 2>&1 &&
		missing=$(echo "$missing" | sed "s/ ${tool#*:}\b//")
done
missing=$(echo $missing)
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages; run as root:" >&2
	echo "  apt-get install -y $missing" >&2
	exit 1
fi
echo "deps: installing $missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || exit 1
apt-get install -y -qq $missing >/dev/null || exit 1
