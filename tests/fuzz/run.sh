#!/bin/bash
# tests/fuzz/run.sh SECONDS - build the libFuzzer target with clang and run
# it on a copy of the corpus for SECONDS (default 20). Exit 0 when nothing
# crashed. Needs clang and libclang-rt-14-dev (tests/run.sh installs them).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-20}
work=$(mktemp -d /tmp/crier-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$top"
[ -f configure ] || ./autogen.sh >/dev/null 2>&1
cflags="-fsanitize=fuzzer,address,undefined -g -O1 -I$work/build -Iplugin/util -Iplugin/core -Iplugin/store"
mkdir -p "$work/build"
(cd "$work/build" && "$top/configure" -q CC=clang >/dev/null && make config.h >/dev/null)
pkgs="libconfig lmdb libical gmime-3.0 jansson"
# shellcheck disable=SC2046
clang $cflags -o "$work/fuzz_event" tests/fuzz/fuzz_event.c plugin/core/event.c \
    plugin/core/event_mail.c plugin/util/*.c $(pkg-config --cflags --libs $pkgs)
cp -r tests/fuzz/corpus "$work/corpus"
"$work/fuzz_event" -max_total_time="$secs" -max_len=16384 -timeout=10 "$work/corpus" \
    >"$work/log" 2>&1 || { tail -40 "$work/log"; exit 1; }
grep -E '^#[0-9]+.*DONE' "$work/log" || tail -2 "$work/log"
