#!/bin/sh
# run.sh - benchmark the rules compiler and the matcher as rules.d grows.
#
# Usage: tests/bench/run.sh [BUILD_DIR]
#
# BUILD_DIR is where configure and make ran (holding config.h, libcrier.a
# and crierctl): the source tree by default, else build-main/ if that is
# where they are.
#
# For each size N in BENCH_SIZES (default "10000 100000 1000000"), writes a
# synthetic rules.d of about N notifications with gen-rules, times
# "crierctl compile" on it (wall seconds; peak RSS when GNU time is there),
# then times the matcher on BENCH_EVENTS event mails with bench-match.
# Prints a table and the ratios of the largest size to the smallest: the
# targets are match latency flat within 2x, and a compile of 10^6 under 60 s.
#
# Environment: BENCH_SIZES, BENCH_SEED (1), BENCH_EVENTS (1000),
# BENCH_PASSES (10), TMPDIR.

set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
sizes=${BENCH_SIZES:-"10000 100000 1000000"}
seed=${BENCH_SEED:-1}
nevents=${BENCH_EVENTS:-1000}
passes=${BENCH_PASSES:-10}

build=${1:-}
if [ -z "$build" ]; then
    build=$top
    [ ! -f libcrier.a ] && [ -f build-main/libcrier.a ] && build=$top/build-main
fi
build=$(cd "$build" && pwd)
for f in config.h libcrier.a crierctl; do
    if [ ! -f "$build/$f" ]; then
	echo "run.sh: no $f in $build: run ./configure && make there first" >&2
	exit 2
    fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/crier-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP

pkgs="libconfig lmdb gmime-3.0 jansson"
warn="-O2 -Wall -Wextra"
gcc $warn -o "$work/gen-rules" tests/bench/gen-rules.c
gcc $warn -I plugin/util -I plugin/core -I plugin/store -I "$build" \
    $(pkg-config --cflags $pkgs) -o "$work/bench-match" tests/bench/bench-match.c \
    "$build/libcrier.a" $(pkg-config --libs $pkgs)

# GNU time gives the peak RSS; without it, only the wall time.
gnutime=
if [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
    gnutime=/usr/bin/time
fi

# field NAME LINE - the value of NAME=value in a line of key=value pairs
field() {
    echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

now() {
    date +%s.%N
}

# elapsed T0 T1 - seconds between two now()s
elapsed() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}

rows="$work/rows"
: > "$rows"
for n in $sizes; do
    d="$work/$n"
    mkdir -p "$d"
    t0=$(now)
    gen=$("$work/gen-rules" -n "$n" -s "$seed" -o "$d/rules" -e "$d/events" -k "$nevents")
    t1=$(now)
    if [ -n "$gnutime" ]; then
	$gnutime -f %M -o "$d/rss" "$build/crierctl" -r "$d/rules" -s "$d/state" compile \
	    > "$d/compile.out"
    else
	"$build/crierctl" -r "$d/rules" -s "$d/state" compile > "$d/compile.out"
    fi
    t2=$(now)
    rss=-
    [ -s "$d/rss" ] && rss=$(( $(tail -n 1 "$d/rss") / 1024 ))
    m=$("$work/bench-match" -s "$d/state" -e "$d/events" -p "$passes")
    echo "N=$n: $gen gen_s=$(elapsed "$t0" "$t1")"
    echo "N=$n: $(cat "$d/compile.out")"
    echo "N=$n: $m"
    printf '%s %s %s %s %s %s %s %s %s\n' "$n" "$(field users "$gen")" \
	"$(elapsed "$t1" "$t2")" "$rss" "$(field median_us "$m")" \
	"$(field p99_us "$m")" "$(field per_s "$m")" "$(field avg_deliveries "$m")" \
	"$(field avg_candidates "$m")" >> "$rows"
    rm -rf "$d"
done

echo
awk 'BEGIN {
	printf "%9s %7s %9s %7s %9s %9s %13s %8s %8s\n", "N", "users", "compile_s",
	    "rss_mb", "median_us", "p99_us", "matches_per_s", "deliv", "cands"
    }
    { printf "%9s %7s %9s %7s %9s %9s %13s %8s %8s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }
    NR == 1 { med0 = $5; p990 = $6 }
    { medn = $5; p99n = $6 }
    END {
	if (NR > 1)
	    printf "largest/smallest: median %.2fx, p99 %.2fx (target: within 2x)\n",
		medn / med0, p99n / p990
    }' "$rows"
