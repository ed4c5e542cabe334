#!/bin/bash
# crash.sh - kill -9 every crierd process in the middle of a stream of
# events (milter_default_action = tempfail), start it again: the stale
# socket and lock do not block the restart, and every accepted event is
# notified exactly once.
. "${srcdir:-.}/tests/e2e/lib.sh"
N=40

e2e_up
mkdir "$T/ev" && stream_make "$T/ev" $N

stream_send "$T/ev" $N >"$T/send.log" 2>&1 &
sender=$!
for round in 1 2 3; do
    sleep 0.$((3 + round * 2))
    crierd_kill9
    [ -S "$CD_SOCK" ] || fail "round $round: the socket went with the process?"
    sleep 0.3
    crierd_start || { fail "restart $round after kill -9"; break; }
done
wait $sender || { fail "the sender gave up"; cat "$T/send.log" >&2; }
grep -c 'worker: serving' "$CD_DIR/crierd.log" | grep -q '^4$' || fail "expected 4 starts"
stream_check $N || fail "not exactly once"

# kill -9 of the supervisor alone: its worker follows (it holds the lock),
# so a plain restart works.
pid=$(cat "$CD_DIR/run/crierd.pid")
kill -9 "$pid"
for _ in $(seq 300); do pgrep -f "crierd -c $CD_DIR/crier.conf" >/dev/null || break; sleep 0.1; done
pgrep -f "crierd -c $CD_DIR/crier.conf" >/dev/null && fail "the worker outlived its supervisor"
crierd_start || fail "restart after kill -9 of the supervisor"
crierd_stop || fail "crierd stop"
finish
