#!/bin/bash
# sched.sh - benchmark digest scheduling: what one due time costs, and what
# replanning every pending digest after a reload costs.
#
# Usage: bash tests/bench/sched.sh [BUILD_DIR]
#
# BUILD_DIR is where configure and make ran (holding config.h and
# libcrier.a): the source tree by default, else build-main/ if that is where
# they are. bench-sched.c is compiled against it into a scratch directory
# and run there; its output is printed as it comes, then the wall time.
#
# What bench-sched measures (see its top comment):
#  - sched_next() per call, timed one by one after a warm-up, for the
#    shipped frequencies (hourly, daily, weekly of rules.d/00-frequencies.conf)
#    and three harder rules, in 30 zones at random instants of 2026-2036:
#    calls, median, p90, p99. Target: median <= 20 us for the shipped ones.
#    Also sched_rrule_check() (the 400-year walk of check and compile) per
#    rule, median of 20 calls.
#  - digest_replan() over BENCH_DIGESTS pending digests (ceil(N/3) users,
#    each with an hourly, a daily and a weekly digest, users over the 30
#    zones) in a rules.lmdb and state.lmdb it writes with the store APIs:
#    once with the rules unchanged (nothing may move), once after the daily
#    RRULE moved from 09:00 to 10:00 (every daily digest must move).
#    Target: under 30 s for 10^6 digests. Building the stores is timed
#    apart and is not part of the target. Then the peak RSS.
# A failed call or a replan that moves what it must not (or misses what
# it must move) makes the script exit 1.
#
# Environment: BENCH_DIGESTS (1000000), BENCH_CALLS (sched_next calls per
# rule, 20000), BENCH_SEED (1), TMPDIR (the scratch directory goes there:
# about 400 MB for 10^6 digests), KEEP=1 (keep the scratch directory).

set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
ndigests=${BENCH_DIGESTS:-1000000}
calls=${BENCH_CALLS:-20000}
seed=${BENCH_SEED:-1}

build=${1:-}
if [ -z "$build" ]; then
    build=$top
    [ ! -f libcrier.a ] && [ -f build-main/libcrier.a ] && build=$top/build-main
fi
build=$(cd "$build" && pwd)
for f in config.h libcrier.a; do
    if [ ! -f "$build/$f" ]; then
	echo "sched.sh: no $f in $build: run ./configure && make there first" >&2
	exit 2
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/crier-sched.XXXXXX")
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
    if [ "${KEEP:-0}" = 1 ]; then echo "sched.sh: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

pkgs="libconfig lmdb gmime-3.0 gio-2.0 jansson libsodium"
# shellcheck disable=SC2046,SC2086  # pkg-config's flags are words
gcc -O2 -Wall -Wextra -I plugin/util -I plugin/core -I plugin/store -I "$build" \
    $(pkg-config --cflags $pkgs) -o "$work/bench-sched" tests/bench/bench-sched.c \
    "$build/libcrier.a" $(pkg-config --libs $pkgs) -lpthread

mkdir "$work/state"
echo "sched.sh: $build, $(nproc) CPUs, scratch $work"
t0=$(date +%s.%N)
rc=0
"$work/bench-sched" -s "$work/state" -n "$ndigests" -c "$calls" -r "$seed" || rc=$?
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "\nbench-sched wall time: %.1f s\n", b - a }'
[ "$rc" = 0 ] || echo "sched.sh: bench-sched failed (exit $rc)" >&2
exit "$rc"
