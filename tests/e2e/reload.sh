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
crierd_stop || fail "crierd stop"
finish
