#!/bin/bash
# crash.sh - kill -9 every crierd process in the middle of a stream of
# events (milter_default_action = tempfail), start it again: the stale
# socket and lock do not block the restart, and every accepted event is
# notified exactly once.
. "${srcdir:-.}/tests/cli/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for a private Postfix"; exit 77; }
. "$srcdir/tests/crierd.sh"
PF_NO_TRAP=1 . "$srcdir/tests/e2e/postfix.sh"
. "$srcdir/tests/e2e/stream.sh"
trap 'crierd_kill9; pf_cleanup; rm -rf "$T"' EXIT
N=40

pf_setup "$T/pf" >/dev/null || { fail "pf_setup"; finish; }
crierd_setup "$T/d" "smtp:127.0.0.1:$PF_REINJECT_PORT"
crierd_start || { fail "crierd start"; finish; }
pf_set "smtpd_milters=unix:$CD_SOCK" milter_default_action=tempfail milter_protocol=6
pf_start || { fail "pf_start"; finish; }
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
crierd_stop || fail "crierd stop"
finish
