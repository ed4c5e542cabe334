#!/bin/bash
# reload.sh - SIGHUP during a stream of events loses nothing; a reload
# with a broken rules.d or crier.conf keeps the running ones and says
# exactly what is in service; a good one takes effect (crierctl reload
# sends the SIGHUP). A SIGHUP that reaches the worker (pkill -HUP crierd)
# is the supervisor's: a reload, with no restart and the sockets as they
# were. A worker killed by a signal is logged so; one stopped by SIGTERM
# alone takes its socket, and crierd stops rather than loosen it.
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
# ... and the worker says what is in service: the new crier.conf, the rules
# of the generation before, and why.
gen=$(grep -o 'rules: .* generation [0-9]*' "$CD_DIR/crierd.log" | tail -1 | awk '{print $NF}')
grep -qF "warning: reload: configuration $CD_DIR/crier.conf in service, rules generation $gen kept (rules.d not compiled: $CD_DIR/rules.d: 1 error: $CD_DIR/rules.d/99-broken.conf:1: " \
    "$CD_DIR/crierd.log" || fail "the reload does not say what is in service: $(grep 'reload:' "$CD_DIR/crierd.log" | tail -1)"
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
gen=$(grep -o 'rules: .* compiled: generation [0-9]*' "$CD_DIR/crierd.log" | tail -1 | awk '{print $NF}')
grep -q "reload: configuration $CD_DIR/crier.conf in service, rules generation $gen\$" "$CD_DIR/crierd.log" \
    || fail "the good reload does not say which rules are in service"
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

# SIGHUP to every crierd process, as "pkill -HUP crierd" sends it, and
# more to the worker alone: the worker hands each to the supervisor, which
# reloads; nothing restarts, and the sockets keep owner, group and mode.
worker_pid() { sed -n 's/^crierd\[\([0-9]*\)\]: worker: serving .*/\1/p' "$CD_DIR/crierd.log" | tail -1; }
socks() { stat -c '%n %U:%G %a %F' "$CD_SOCK" "$CD_POLICY"; }
reloads() { grep -c "reload: configuration $CD_DIR/crier.conf in service" "$CD_DIR/crierd.log"; }
worker=$(worker_pid)
socks >"$T/socks.before"
before=$(reloads)
kill -HUP "$pid" "$worker"
for _ in 1 2 3 4 5 6 7 8 9 10; do
    kill -HUP "$worker" 2>/dev/null
    sleep 0.05
done
for _ in $(seq 100); do
    [ "$(reloads)" -ge $((before + 2)) ] && break
    sleep 0.1
done
sleep 1
[ "$(reloads)" -ge $((before + 2)) ] || fail "the SIGHUPs to the worker made no reload"
kill -0 "$worker" 2>/dev/null && [ "$(worker_pid)" = "$worker" ] \
    || fail "the worker did not survive SIGHUP"
[ "$(cat "$CD_DIR/run/crierd.pid")" = "$pid" ] && kill -0 "$pid" \
    || fail "the supervisor changed after SIGHUP"
socks | diff "$T/socks.before" - >&2 || fail "SIGHUP changed the sockets"
grep -E "restarts|worker [0-9]+ (exited|was killed)" "$CD_DIR/crierd.log" >&2 \
    && fail "a worker ended on SIGHUP"
mkdir "$T/ev2" && stream_make "$T/ev2" 3 && sed -i 's/Event-Id: stream-/Event-Id: stray-/' "$T/ev2"/*.eml
stream_send "$T/ev2" 3 || fail "events after the worker's SIGHUPs"
pf_queue_empty_wait 20 || fail "queue not empty"
[ "$(grep -c 'event=stray-.* accepted' "$CD_DIR/crierd.log")" = 3 ] || fail "events after the worker's SIGHUPs not accepted"

# A worker killed by signal 9: logged as such; another serves on the same sockets.
kill -9 "$worker"
for _ in $(seq 50); do
    [ "$(worker_pid)" != "$worker" ] && break
    sleep 0.1
done
grep -q "error: worker $worker was killed by signal 9 (Killed); starting another" "$CD_DIR/crierd.log" \
    || fail "the worker's death is not logged as killed by signal 9: $(grep "worker $worker" "$CD_DIR/crierd.log")"
[ "$(worker_pid)" != "$worker" ] || fail "no other worker after kill -9"
socks | diff "$T/socks.before" - >&2 || fail "the new worker changed the sockets"

# SIGTERM to the worker alone: libmilter stops it and removes the milter
# socket; the supervisor, no longer root, cannot make it again as it was,
# so crierd stops with status 1 (for systemd to start it again) instead of
# serving on a looser socket.
kill -TERM "$(worker_pid)"
for _ in $(seq 200); do
    kill -0 "$CD_PID" 2>/dev/null || break
    sleep 0.1
done
if kill -0 "$CD_PID" 2>/dev/null; then
    fail "crierd still runs after its worker's SIGTERM: $(tail -3 "$CD_DIR/crierd.log")"
    crierd_kill9
else
    wait "$CD_PID"
    st=$?
    CD_PID=
    [ "$st" = 1 ] || fail "crierd exited $st after its worker's SIGTERM, expected 1"
fi
grep -q "and the milter socket $CD_SOCK is gone: crierd stops" "$CD_DIR/crierd.log" \
    || fail "the stop for a lost socket is not logged"
[ -e "$CD_DIR/run/crierd.pid" ] && fail "the pid file outlived crierd"
finish
