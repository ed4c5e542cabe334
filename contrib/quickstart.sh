#!/bin/bash
# contrib/quickstart.sh - the main job on the embedded default, on a fresh
# Debian 12 machine: install the build dependencies, build crier, compile
# the shipped example rules.d into a temporary state directory, and show,
# for each sample event mail in tests/events, who gets it and why not.
#
# (This release has the rules engine and crierctl; the daemon that receives
# events from Postfix comes next, and this script will then run it.)
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
DEPS="build-essential autoconf automake libtool pkg-config libconfig-dev liblmdb-dev
libical-dev libmilter-dev libgmime-3.0-dev libjansson-dev libsodium-dev
libcurl4-openssl-dev"
missing=""
for p in $DEPS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    [ "$(id -u)" = 0 ] || { echo "quickstart: run as root to install:$missing" >&2; exit 1; }
    echo "== installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq $missing >/dev/null
fi
echo "== building in build-quickstart/"
[ -f config.status ] && make distclean >/dev/null 2>&1
./autogen.sh >/dev/null 2>&1
mkdir -p build-quickstart
(cd build-quickstart && "$top/configure" -q && make -j2 >/dev/null)
ctl="$top/build-quickstart/crierctl"
state=$(mktemp -d /tmp/crier-quickstart.XXXXXX)
trap 'rm -rf "$state"' EXIT

echo "== crierctl check"
"$ctl" -r rules.d check
echo "== crierctl compile"
"$ctl" -r rules.d -s "$state" compile
for mail in tests/events/*.eml; do
    echo
    echo "== crierctl explain $mail"
    "$ctl" -s "$state" explain "$mail"
done
echo
echo "== crierctl list ana@juicepost.example"
"$ctl" -s "$state" list ana@juicepost.example
