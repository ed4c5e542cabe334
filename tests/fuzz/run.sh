#!/bin/bash
# tests/fuzz/run.sh SECONDS - build the libFuzzer targets with clang (the
# event parsers, mail to the request address, bounces (DSNs), the policy
# request reader, digest schedules) and run each on a copy of its corpus
# (tests/fuzz/corpus-NAME) for SECONDS (default 20). Exit 0 when nothing crashed. Needs clang and libclang-rt-14-dev (tests/run.sh installs them).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-20}
work=$(mktemp -d /tmp/crier-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$top"
[ -f configure ] || ./autogen.sh >/dev/null 2>&1
cflags="-fsanitize=fuzzer,address,undefined -g -O1 -DCRIER_CONFDIR=\"/etc/crier\" -DCRIER_STATEDIR=\"/var/lib/crier\" -DCRIER_RUNDIR=\"/run/crier\" -I$work/build -Iplugin/util -Iplugin/core -Iplugin/store -Itests/unit"
mkdir -p "$work/build"
(cd "$work/build" && "$top/configure" -q CC=clang >/dev/null && make config.h >/dev/null)
pkgs="libconfig lmdb gmime-3.0 gio-2.0 jansson"
# fuzz NAME SOURCES... - build fuzz_NAME and run it on its corpus
fuzz() {
    local name=$1; shift
    # shellcheck disable=SC2046,SC2086
    clang $cflags -o "$work/fuzz_$name" "tests/fuzz/fuzz_$name.c" "$@" plugin/util/*.c \
        $(pkg-config --cflags --libs $pkgs)
    cp -r "tests/fuzz/corpus-$name" "$work/corpus-$name"
    "$work/fuzz_$name" -max_total_time="$secs" -max_len=16384 -timeout=10 "$work/corpus-$name" \
        >"$work/log-$name" 2>&1 || { tail -40 "$work/log-$name"; exit 1; }
    echo "fuzz_$name: $(grep -E '^#[0-9]+.*DONE' "$work/log-$name" || tail -1 "$work/log-$name")"
}
fuzz event plugin/core/event.c plugin/core/event_mail.c plugin/core/mail.c
fuzz selfmail plugin/core/selfmail.c plugin/core/mail.c
fuzz dsn plugin/core/dsn.c plugin/core/mail.c
fuzz policy plugin/core/policy_request.c plugin/core/policy.c plugin/core/throttle.c \
    plugin/core/conf.c plugin/core/schedule.c plugin/core/rrule.c plugin/core/tzfile.c
fuzz sched plugin/core/schedule.c plugin/core/rrule.c plugin/core/tzfile.c
