#!/bin/bash
# full.sh - full disks and full maps during a stream of events.
# 1. state_dir on a small tmpfs filled to the brim mid-stream: events get
#    451 4.3.0 while it is full, and once space returns everything flows;
#    no accepted event is lost.
# 2. The stores' maps started tiny (CRIER_MAP_SIZE=64k, a test knob): they
#    grow while the milter, the outbox senders and the digest runner use
#    them, nothing is lost, crierd stays up.
. "${srcdir:-.}/tests/e2e/lib.sh"
N=${FULL_EVENTS:-40}
cases=0
check() { cases=$((cases + 1)); }
mapsize() { mdb_stat -n -e "$CD_DIR/state/$1" | awk '/Map size:/ {print $3}'; }

# 1. the disk fills up
pf_setup "$T/pf" >/dev/null || { fail "pf_setup"; finish; }
crierd_setup "$T/d" "smtp:127.0.0.1:$PF_REINJECT_PORT"
echo 'submit_networks = ["127.0.0.1"];' >>"$CD_DIR/crier.conf"    # as e2e_up does
mkdir -p "$CD_DIR/state"
mount -t tmpfs -o size=3m,mode=0750 tmpfs "$CD_DIR/state" || { fail "mount tmpfs"; finish; }
trap 'crierd_kill9; pf_cleanup; umount "$T/d/state" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
chown "$CD_USER" "$CD_DIR/state"
crierd_start || { fail "crierd start"; finish; }
pf_set "smtpd_milters=unix:$CD_SOCK" milter_default_action=tempfail milter_protocol=6
pf_start || { fail "pf_start"; finish; }
# Ana's notifications wait (450) so that the store must grow into the full disk
echo '/^ana@juicepost\.example$/ 450 4.7.1 later' >"$PF_DIR/etc/refuse"
pf_set "smtpd_recipient_restrictions=check_recipient_access regexp:$PF_DIR/etc/refuse, permit_mynetworks, reject_unauth_destination"
pf_reload || fail "pf_reload"
mkdir "$T/ev" && stream_make "$T/ev" "$N"
stream_send "$T/ev" "$N" >"$T/send.log" 2>&1 &
sender=$!
for _ in $(seq 200); do grep -q "stream-$$-5 .*accepted" "$CD_DIR/crierd.log" && break; sleep 0.1; done
dd if=/dev/zero of="$CD_DIR/state/filler" bs=64k 2>/dev/null    # to the brim
for _ in $(seq 300); do
    grep -q "deferred: 4.3.0 crier cannot store the event now" "$CD_DIR/crierd.log" && break; sleep 0.1
done
grep -q "deferred: 4.3.0 crier cannot store the event now: .*No space left on device" "$CD_DIR/crierd.log" \
    || fail "no event was deferred while the disk was full"; check
grep -q "milter-reject: END-OF-MESSAGE .*4.3.0 crier cannot store the event now" "$PF_LOG" \
    || fail "Postfix did not answer 451 4.3.0 while full"; check
sleep 2
rm -f "$CD_DIR/state/filler"                                     # space returns
: >"$PF_DIR/etc/refuse"; pf_reload || fail "pf_reload"
wait $sender || { fail "the sender gave up"; cat "$T/send.log" >&2; }; check
for _ in 1 2 3; do stream_check "$N" 2>/dev/null && break; done; stream_check "$N" || fail "not every accepted event was notified once"; check
kill -0 "$CD_PID" 2>/dev/null || fail "crierd died"; check
crierd_stop || fail "crierd stop"
umount "$CD_DIR/state" || fail "umount"

# 2. tiny maps
rm -rf "$CD_DIR/state" && mkdir "$CD_DIR/state" && chown "$CD_USER" "$CD_DIR/state"
rm -rf "$PF_DIR/mail"/*
export CRIER_MAP_SIZE=64k
crierd_start || { fail "crierd start with a 64 KiB map"; finish; }
unset CRIER_MAP_SIZE
mkdir "$T/ev2" && stream_make "$T/ev2" "$N"
sed -i "s/stream-$$-/stream2-$$-/" "$T/ev2"/*.eml
stream_send "$T/ev2" "$N" >"$T/send2.log" 2>&1 || { fail "the sender gave up"; cat "$T/send2.log" >&2; }; check
pf_wait_mail ana@juicepost.example "$N" 60 || fail "ana got $(pf_mail_count ana@juicepost.example) of $N"; check
got=$(grep -h '^X-Crier-Event: stream2-' $(pf_mail_files ana@juicepost.example) | sort -u | wc -l)
[ "$got" = "$N" ] || fail "ana has $got distinct events of $N"; check
grep -q "state.lmdb: map grown to" "$CD_DIR/crierd.log" || fail "state.lmdb never grew"; check
grep -q "rules.lmdb: map grown to" "$CD_DIR/crierd.log" || fail "rules.lmdb never grew"; check
[ "$(mapsize state.lmdb)" -gt 65536 ] || fail "state.lmdb map: $(mapsize state.lmdb)"; check
grep -E "MDB_MAP_FULL|cannot be resized" "$CD_DIR/crierd.log" | grep -v "map grown" >"$T/full"
[ -s "$T/full" ] && fail "a full map reached an event: $(head -2 "$T/full")"; check
kill -0 "$CD_PID" 2>/dev/null || fail "crierd died"; check
grep -c 'worker: serving' "$CD_DIR/crierd.log" | grep -q '^2$' || fail "the worker restarted"; check
crierd_stop || fail "crierd stop"
echo "full: $cases cases checked"
finish
