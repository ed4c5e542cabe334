#!/bin/bash
# tests/run.sh - the whole test suite, from a fresh checkout.
#
# Installs the Debian packages the build and the tests need (when run as
# root and they are missing), bootstraps autotools, builds with warnings as
# errors, runs "make check" (every test, the browser's too), then "make
# distcheck" (the tarball builds, installs and uninstalls, and the tests
# that read the most shipped fixtures run from it: unit, command line,
# schedules, policy, the panel over curl, one event end to end), builds
# the Debian package and takes it from install to purge (tests/pkg/deb.sh),
# fuzzes the parsers briefly (libFuzzer), and builds everything again with
# AddressSanitizer and UBSan in a separate tree, where the unit,
# command-line, schedule and policy tests (slow clients too), three
# end-to-end tests and the panel's (curl, and crierd's panel process) run (any
# sanitizer report fails the run), and once more with ThreadSanitizer,
# where the unit, miltertest and policy tests, the end-to-end tests that
# keep every thread of crierd busy and the panel's run (any report not in
# tests/tsan.supp fails the run). Ends with "N passed, N failed" alone on
# a line.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)

DEPS="build-essential autoconf automake libtool pkg-config libconfig-dev liblmdb-dev
lmdb-utils libmilter-dev libgmime-3.0-dev libjansson-dev libsodium-dev
libcurl4-openssl-dev libmicrohttpd-dev jq curl
clang libclang-rt-14-dev postfix swaks miltertest tzdata python3 python3-dateutil
debhelper lintian chromium chromium-driver python3-selenium"

install_deps() {
    missing=$(dpkg-query -W -f='${Package} ${Status}\n' $DEPS 2>/dev/null \
        | awk '$NF != "installed" {print $1}')
    for p in $DEPS; do dpkg-query -W "$p" >/dev/null 2>&1 || missing="$missing $p"; done
    [ -z "$(echo $missing)" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "run.sh: missing Debian packages: $missing (install them as root)" >&2
        return 1
    fi
    echo "run.sh: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq $missing >/dev/null
}

passed=0
failed=0
# tally LOG: add automake's test-suite.log summary to the totals. A test
# that skipped (a missing package, not root) counts as failed: this script
# installs what every test needs, so here nothing may skip unseen.
tally() {
    local p f e s
    p=$(sed -n 's/^# PASS: *//p' "$1" | head -1)
    f=$(sed -n 's/^# FAIL: *//p' "$1" | head -1)
    e=$(sed -n 's/^# ERROR: *//p' "$1" | head -1)
    s=$(sed -n 's/^# SKIP: *//p' "$1" | head -1)
    [ "${s:-0}" = 0 ] || { echo "skipped tests count as failed:"; grep '^SKIP:' "$1"; }
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0} + ${e:-0} + ${s:-0}))
}

step() { echo "== $*"; }

# show_failed DIR... - the logs of the tests that failed under DIR
show_failed() {
    local trs
    for trs in $(find "$@" -name '*.trs' 2>/dev/null); do
        grep -q '^:test-result: \(FAIL\|ERROR\)' "$trs" && { echo "--- ${trs%.trs}.log"; cat "${trs%.trs}.log"; }
    done
}

install_deps || { echo "0 passed, 1 failed"; exit 1; }

step "bootstrap and build (-Werror) in build-main/"
# Both builds are out of tree, so the source tree must not be configured.
[ -f config.status ] && make distclean >/dev/null 2>&1
./autogen.sh >/dev/null 2>&1 || { echo "autogen.sh failed"; echo "0 passed, 1 failed"; exit 1; }
main="$top/build-main"
rm -rf "$main" && mkdir -p "$main"
if ! (cd "$main" && "$top/configure" -q --enable-werror && make -j2 >/dev/null); then
    echo "build failed"; echo "$passed passed, $((failed + 1)) failed"; exit 1
fi

step "make check"
# Most tests wait (Postfix, token buckets, the browser): -j3 on two cores.
(cd "$main" && make -j3 check >/dev/null 2>&1)
grep -h '^:test-result:' $(find "$main/tests" -name '*.trs') | sort | uniq -c
show_failed "$main/tests"
tally "$main/test-suite.log"

step "make distcheck (tarball builds, checks, installs and uninstalls)"
# TESTS reaches distcheck's own "make check" through MAKEFLAGS, expanded there.
dist_tests='$(UNIT_TESTS) $(CLI_TESTS) $(SCHED_TESTS) $(POLICY_TESTS) $(WEB_UNIT_TESTS) tests/web/http.sh tests/e2e/notify.sh'
if (cd "$main" && make -j2 distcheck TESTS="$dist_tests" >"$main/distcheck.out" 2>&1); then
    echo "PASS: distcheck"; passed=$((passed + 1))
else
    tail -30 "$main/distcheck.out"
    # the failed tests' own logs, from the tree distcheck leaves behind
    show_failed "$main"/crier-*
    echo "FAIL: distcheck"; failed=$((failed + 1))
fi

step "the Debian package: build, lintian, install, crierd and Postfix from the snippets, purge"
# tests/pkg/deb.sh counts its own checks and ends with "deb.sh: N passed, M
# failed"; no such line (the script died) is one more failure.
t0=$(date +%s)
bash tests/pkg/deb.sh >"$main/deb.out" 2>&1
rc=$?
cat "$main/deb.out"
counts=$(sed -n 's/^deb\.sh: \([0-9]*\) passed, \([0-9]*\) failed.*/\1 \2/p' "$main/deb.out" | tail -1)
if [ -n "$counts" ]; then
    passed=$((passed + ${counts% *}))
    failed=$((failed + ${counts#* }))
    [ "$rc" != 0 ] && [ "${counts#* }" = 0 ] && { echo "FAIL: deb.sh exited $rc"; failed=$((failed + 1)); }
else
    echo "FAIL: tests/pkg/deb.sh (exit $rc) ended without its counts"; failed=$((failed + 1))
fi
echo "package stage: $(( $(date +%s) - t0 )) s"

step "fuzz the event, request-mail and policy parsers and digest schedules, ${CRIER_FUZZ_SECONDS:-10} s each (libFuzzer)"
if bash tests/fuzz/run.sh "${CRIER_FUZZ_SECONDS:-10}"; then
    echo "PASS: fuzz"; passed=$((passed + 1))
else
    echo "FAIL: fuzz"; failed=$((failed + 1))
fi

# reports_dir - a directory for sanitizer reports that crierd's worker, which
# runs as nobody, can reach and write: under /tmp, not under the checkout
# (a clone in a mktemp -d directory is 0700). A report the worker cannot
# write kills it ("Can't open file") and is lost.
reports_dir() {
    local d
    d=$(mktemp -d /tmp/crier-reports.XXXXXX) && chmod 1777 "$d" && echo "$d"
}

# sanitized NAME DIR CFLAGS JOBS TESTS REPORTS - configure DIR with clang and
# CFLAGS (also the link flags), run TESTS with make -jJOBS, and count every
# report the sanitizer wrote in REPORTS (the *_OPTIONS the caller exported
# send them there) as a failure.
sanitized() {
    local name=$1 dir=$2 cflags=$3 jobs=$4 tests=$5 reports=$6 t0
    t0=$(date +%s)
    rm -rf "$dir" && mkdir -p "$dir"
    if (cd "$dir" && "$top/configure" -q CC=clang CFLAGS="$cflags" LDFLAGS="$cflags" \
            && make -j2 >/dev/null 2>&1 && make -j"$jobs" check TESTS="$tests" >/dev/null 2>&1); then
        tally "$dir/test-suite.log"
    elif [ -f "$dir/test-suite.log" ]; then
        tally "$dir/test-suite.log"; cat "$dir/test-suite.log"
    else
        echo "the $name build failed"; failed=$((failed + 1))
    fi
    if ls "$reports"/* >/dev/null 2>&1; then
        cat "$reports"/*
        echo "FAIL: $name reports"; failed=$((failed + 1))
    fi
    echo "$name stage: $(( $(date +%s) - t0 )) s"
    rm -rf "$reports"
}

# crierd's worker runs as nobody: to name the frames of a report it runs
# llvm-symbolizer on its own binary, in this tree, which a clone made in a
# mktemp -d directory (0700) keeps it from reading; without names the
# suppressions of tests/tsan.supp match nothing. Let it through (x only).
chmod o+x "$top" || echo "run.sh: cannot make $top searchable: sanitizer reports of the worker lose their names"

step "unit tests, the milter and crierd end to end under AddressSanitizer + UBSan"
asan="$top/build-asan"
rep=$(reports_dir) || { echo "FAIL: no reports directory"; failed=$((failed + 1)); }
export ASAN_OPTIONS="log_path=$rep/report" UBSAN_OPTIONS="log_path=$rep/report:print_stacktrace=1"
sanitized AddressSanitizer "$asan" \
    "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g -O1" 2 \
    '$(UNIT_TESTS) $(CLI_TESTS) $(SCHED_TESTS) $(POLICY_TESTS) tests/e2e/policy.sh tests/e2e/notify.sh tests/e2e/selfservice.sh $(WEB_UNIT_TESTS) tests/web/http.sh tests/e2e/web.sh' \
    "$rep"
unset ASAN_OPTIONS UBSAN_OPTIONS

step "unit tests, the milter, the policy service and every crierd thread under ThreadSanitizer"
tsan="$top/build-tsan"
# libmilter's shutdown races are suppressed (tests/tsan.supp says why); GLib's
# slice allocator recycles memory between threads unseen by TSan: plain malloc.
# The tests mostly wait (Postfix, token buckets, digest times): -j4 on two cores.
rep=$(reports_dir) || { echo "FAIL: no reports directory"; failed=$((failed + 1)); }
export TSAN_OPTIONS="log_path=$rep/tsan suppressions=$top/tests/tsan.supp" G_SLICE=always-malloc
sanitized ThreadSanitizer "$tsan" "-fsanitize=thread -g -O1" 4 \
    '$(UNIT_TESTS) tests/milter/events.sh tests/policy/protocol.sh tests/e2e/notify.sh tests/e2e/policy.sh tests/e2e/selfservice.sh tests/e2e/digests.sh tests/e2e/reload.sh $(WEB_UNIT_TESTS) tests/web/http.sh tests/e2e/web.sh' \
    "$rep"
unset TSAN_OPTIONS G_SLICE

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
