#!/bin/sh
# change.sh - what one user's change costs when rules.d is large.
#
# Usage: tests/bench/change.sh [BUILD_DIR]
#
# Writes a synthetic rules.d of BENCH_SIZE notifications (default 10^6)
# with gen-rules, compiles it whole with "crierctl compile" (timed), then
# changes one user ROUNDS times (default 3 each of mute and unmute of one
# of their custom notifications) with crierctl, timed from the command's
# start to its end: the file rewritten, the catalog and that one file read
# and checked, the user compiled anew and committed. crierd reads the
# compiled set per message, so a committed change is in service from its
# next message; the run checks that a fresh reader (crierctl list) sees
# the mute. Prints each time and the ratio to the whole compile measured
# in the same run. Target: a change takes effect in under 1 second.
#
# Environment: BENCH_SIZE, BENCH_SEED (1), ROUNDS (3), TMPDIR.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
size=${BENCH_SIZE:-1000000}
rounds=${ROUNDS:-3}
build=${1:-}
[ -z "$build" ] && { [ -x build-main/crierctl ] && build=$top/build-main || build=$top; }
build=$(cd "$build" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/crier-bench-change.XXXXXX")
trap 'rm -rf "$work"' EXIT
gcc -O2 -o "$work/gen-rules" tests/bench/gen-rules.c
"$work/gen-rules" -n "$size" -s "${BENCH_SEED:-1}" -o "$work/rules" -e "$work/events" -k 1 >/dev/null
ctl() { "$build/crierctl" -c /dev/null -r "$work/rules" -s "$work/state" "$@"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

file=$(find "$work/rules/users" -name 'u*.conf' | sort | head -1)
user=$(sed -n 's/^ *address = "\(.*\)";/\1/p' "$file")
notif=$(awk '/^custom = {/ {getline; sub(/^ */, ""); sub(/ = {.*/, ""); print; exit}' "$file")
t0=$(now); ctl compile >"$work/compile.out"; t1=$(now)
full=$(secs "$t0" "$t1")
echo "change.sh: $(sed 's/.*generation/generation/' "$work/compile.out")"
echo "whole compile: $full s; the user: $user ($file), notification $notif"
echo "load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
printf '%-8s %8s %8s\n' change seconds "/whole"
for r in $(seq "$rounds"); do
    for verb in mute unmute; do
        t0=$(now); ctl $verb "$user" "$notif" >"$work/out" 2>&1 || { cat "$work/out"; exit 1; }; t1=$(now)
        grep -q "compiled anew" "$work/out" || { echo "not compiled in place:"; cat "$work/out"; exit 1; }
        line=$(ctl list "$user" | grep " $notif ")
        case "$verb:$line" in mute:*"(muted"* | unmute:*) ;; *) echo "not in service: $line"; exit 1 ;; esac
        case "$verb:$line" in unmute:*"(muted"*) echo "not in service: $line"; exit 1 ;; esac
        t=$(secs "$t0" "$t1")
        printf '%-8s %8s %8s\n' "$verb" "$t" "$(awk -v a="$t" -v b="$full" 'BEGIN {printf "%.4f", a / b}')"
    done
done
