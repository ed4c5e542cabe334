#!/bin/bash
# bounded.sh - crierd's policy service under slow clients, over its real
# socket: 1024 connections that each send a byte a second and never a
# whole request take no slot that a real client needs: a legitimate
# request is answered in under 100 ms, whether the slow ones share its
# uid (they give way, the oldest first), have another (capped at 512), or
# are two others that take every slot (the bigger gives way);
# and a client that drips a request byte by byte is closed when the
# request's time is up, counted from its first byte, however regularly
# the bytes come (CRIER_POLICY_TIMEOUTS shortens the limits to seconds).
. "${srcdir:-.}/tests/cli/lib.sh"
. "$srcdir/tests/crierd.sh"
trap 'kill $(jobs -p) 2>/dev/null; crierd_kill9; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
PC="$top_builddir/tests/policy/policy-client"
REQ="$srcdir/tests/policy/requests/postfix.req"
checks=0
check() { checks=$((checks + 1)); "$@"; }

crierd_setup "$T/d"
crierd_start || { fail "crierd start"; finish; }

# slow_start N [AS...] - N slow clients in the background, until they are all connected
SLOW=
slow_start() {
    local n=$1 out="$T/slow.$RANDOM"; shift
    "$@" "$PC" -w "$n" -d 1000 -t 30 "$CD_POLICY" <"$REQ" >"$out" 2>&1 &
    SLOW="$SLOW $!"
    for _ in $(seq 100); do grep -q ready "$out" && break; sleep 0.1; done
    grep -q ready "$out" || fail "the slow clients did not connect: $(cat "$out")"
}
# logged PATTERN - crierd logs PATTERN within 20 s (the server takes the slow
# clients' connections in its own time: a busy machine lags behind them)
logged() {
    for _ in $(seq 200); do grep -q -- "$1" "$CD_DIR/crierd.log" && return 0; sleep 0.1; done
    return 1
}
slow_stop() { kill $SLOW 2>/dev/null; wait $SLOW 2>/dev/null; SLOW=; }
# as USER - run as USER, with the group that may use the policy socket
as() { setpriv --reuid="$1" --regid="$(id -g "$1")" --groups="$(stat -c %g "$CD_POLICY")" "${@:2}"; }

# legit WHAT - five requests, each on a new connection, each DUNNO in under 100 ms
legit() {
    local i out ms
    for i in 1 2 3 4 5; do
        out=$("$PC" -m "$CD_POLICY" <"$REQ")
        ms=$(sed -n 's/^ms=//p' <<<"$out")
        check [ "$(head -1 <<<"$out")" = action=DUNNO ] \
            || fail "$1: request $i: '$(head -1 <<<"$out")', expected DUNNO"
        echo "$1: request $i: $(head -1 <<<"$out") after ${ms:-?} ms"
        check awk -v ms="${ms:-1e9}" 'BEGIN { exit !(ms < 100) }' \
            || fail "$1: request $i took ${ms:-forever} ms, not under 100"
    done
}

# 1024 slow clients of the legitimate client's own uid: its connections
# are capped at 512 and the slowest give way to a new one.
slow_start 1024
sleep 1.5                               # every one has sent a byte or two
legit "1024 slow clients, same uid"
check kill -0 $SLOW || fail "the slow clients died"
check logged "policy: uid $(id -u) has 512 connections, the most one client may have" \
    || fail "the cap of one peer is not logged"
slow_stop

# ... of another uid: capped at 512, the others' slots are free.
if [ "$(id -u)" = 0 ]; then
    slow_start 1024 as nobody
    sleep 1.5
    legit "1024 slow clients of uid nobody"
    check logged "policy: uid $(id -u nobody) has 512 connections" \
        || fail "the cap of uid nobody is not logged"
    # ... and 512 more of uid daemon: every slot taken, the biggest gives way
    slow_start 520 as daemon
    sleep 1.5
    legit "all 1024 slots held by slow clients of nobody and daemon"
    check logged "policy: uid [01-9]* has 512 connections, the most, and every slot is taken" \
        || fail "a full table is not logged"
    slow_stop
fi

# A request dripped a byte every 100 ms (a minute's worth) is closed when
# its time (1 s here) is up, counted from its first byte.
crierd_stop || fail "crierd stop"
export CRIER_POLICY_TIMEOUTS="2 1"
crierd_start || { fail "crierd start with CRIER_POLICY_TIMEOUTS"; finish; }
unset CRIER_POLICY_TIMEOUTS
start=$(date +%s.%N)
got=$(timeout 10 "$PC" -s 1 -d 100 "$CD_POLICY" <"$REQ")
took=$(echo "$(date +%s.%N) - $start" | bc)
echo "a request dripped a byte every 100 ms: '$got' after $took s"
check [ "$got" = closed ] || fail "the dripping client was not closed: '$got'"
check awk -v t="$took" 'BEGIN { exit !(t < 4) }' || fail "closing the dripping client took $took s"
check logged "policy: uid $(id -u): a request not whole 1 s after its first byte; closing" \
    || fail "the closing is not logged"
check [ "$("$PC" "$CD_POLICY" <"$REQ")" = action=DUNNO ] || fail "no answer after"

crierd_stop || fail "crierd stop"
echo "bounded.sh: $checks checks"
finish
