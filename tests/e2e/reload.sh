#!/bin/bash
# reload.sh - SIGHUP during a stream of events loses nothing; a reload
# with a broken rules.d or crier.conf keeps the running ones and says why;
# a good one takes effect (crierctl reload sends the SIGHUP).
. "${srcdir:-.}/tests/e2e/lib.sh"
N=30

e2e_up
mkdir "$T/ev" && stream_make "$T/ev" $N
pid=$(cat "$CD_DIR/run/crierd.pid")

stream_send "$T/ev" $N >"$T/send.log" 2>&1 &
sender=$!
while kill -0 $sender 2>/dev/null; do
    kill -HUP "$pid"
    sleep 0.3
done
wait $sender || { fail "the sender gave up"; cat "$T/send.log" >&2; }
stream_check $N || fail "events lost or repeated across SIGHUPs"
[ "$(grep -c 'SIGHUP: reloading' "$CD_DIR/crierd.log")" -ge 2 ] || fail "no reloads logged"
kill -0 "$pid" || fail "the supervisor died"

# A broken rules.d: the reload keeps the rules in service and says why.
echo 'profiles = { broken = { title = 1; }; };' >"$CD_DIR/rules.d/99-broken.conf"
"$CRIERCTL" -c "$CD_DIR/crier.conf" reload >/dev/null || fail "crierctl reload"
sleep 1
grep -q 'the rules in service are unchanged' "$CD_DIR/crierd.log" || fail "bad rules.d not reported"
rm "$CD_DIR/rules.d/99-broken.conf"

# A broken crier.conf: kept out of service.
cp "$CD_DIR/crier.conf" "$T/good.conf"
echo 'colour = "blue";' >>"$CD_DIR/crier.conf"
kill -HUP "$pid"; sleep 1
grep -q "unknown setting 'colour'.*keeping the running configuration" "$CD_DIR/crierd.log" \
    || fail "bad crier.conf not reported"
cp "$T/good.conf" "$CD_DIR/crier.conf"

# A good change takes effect: Ana leaves; the next event does not reach her.
rm "$CD_DIR/rules.d/users/ana.conf"
kill -HUP "$pid"; sleep 1
before=$(pf_mail_count ana@juicepost.example)
stream_make "$T/ev" 1 && sed -i 's/Event-Id: stream-/Event-Id: after-/' "$T/ev/ev-1.eml"
stream_send "$T/ev" 1 || fail "send after reload"
pf_queue_empty_wait 20 || fail "queue not empty"
grep -q "event=after-.* accepted" "$CD_DIR/crierd.log" || fail "the event after the reload was not accepted"
sleep 1
[ "$(pf_mail_count ana@juicepost.example)" = "$before" ] || fail "ana still notified after leaving"
# A second crierd on the same state directory: refused, the running one unharmed.
"$CRIERD" -c "$CD_DIR/crier.conf" -f >"$T/second.log" 2>&1 && fail "a second crierd started"
grep -q "another crierd is running" "$T/second.log" || fail "second start: $(cat "$T/second.log")"
[ -S "$CD_SOCK" ] && [ "$(cat "$CD_DIR/run/crierd.pid")" = "$pid" ] || fail "second start did harm"

# A stray SIGHUP to the worker (libmilter's "stop", which removes the socket):
# crierd starts afresh in the same process and serves on.
pkill -HUP -P "$pid"
for _ in $(seq 100); do
    [ "$(grep -c 'worker: serving' "$CD_DIR/crierd.log")" -ge 2 ] && [ -S "$CD_SOCK" ] && break
    sleep 0.1
done
grep -q "the milter socket is gone; crierd restarts" "$CD_DIR/crierd.log" || fail "no restart logged"
kill -0 "$pid" || fail "the supervisor is gone after a stray SIGHUP"
mkdir "$T/ev2" && stream_make "$T/ev2" 3 && sed -i 's/Event-Id: stream-/Event-Id: stray-/' "$T/ev2"/*.eml
stream_send "$T/ev2" 3 || fail "events after the stray SIGHUP"
pf_queue_empty_wait 20 || fail "queue not empty"
[ "$(grep -c 'event=stray-.* accepted' "$CD_DIR/crierd.log")" = 3 ] || fail "stray-SIGHUP events not accepted"
crierd_stop || fail "crierd stop"
finish
