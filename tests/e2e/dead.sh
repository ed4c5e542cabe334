#!/bin/bash
# dead.sh - dead letters end to end: a notification Postfix refuses for
# good (5xx) goes to the dead table, crierctl dead lists it with Postfix's
# own reply text, drop forgets one, resend puts one back in the outbox and it is
# delivered once Postfix takes the recipient; a 4xx deferral older than
# outbox_max_age goes dead too, and dead entries go after event_retention
# (crierd's clock moved with CRIER_NOW, never slept for).
. "${srcdir:-.}/tests/e2e/lib.sh"
ANA=ana@juicepost.example
E2E_CONF='outbox_max_age = 2;'
cases=0
check() { cases=$((cases + 1)); }
ctl() { "$CRIERCTL" -c "$CD_DIR/crier.conf" "$@"; }
# dead_wait N: wait (20 s at most) until the dead table holds N entries
dead_wait() {
    for _ in $(seq 200); do [ "$(crierd_count dead)" = "$1" ] && return 0; sleep 0.1; done
    return 1
}
# refuse CODE TEXT: Postfix answers RCPT TO:<ana> so ("" takes her again)
refuse() {
    if [ -n "$1" ]; then echo "/^ana@juicepost\\.example\$/ $1" >"$PF_DIR/etc/refuse"
    else : >"$PF_DIR/etc/refuse"; fi
    pf_reload || fail "pf_reload"
}
# restart_at DAYS: crierd again, its clock DAYS days ahead
restart_at() {
    crierd_stop || fail "crierd stop"
    CRIER_NOW=$(date -u -d "+$1 days" +%Y-%m-%dT%H:%M:%SZ) crierd_start || fail "crierd start"
}

e2e_up
mkdir "$T/ev" && stream_make "$T/ev" 3
pf_set "smtpd_recipient_restrictions=check_recipient_access regexp:$PF_DIR/etc/refuse, permit_mynetworks, reject_unauth_destination"
refuse "550 5.7.1 ana refuses crier"

# 5xx: straight to the dead table, with the reply, in the log and the list
pf_send_file "$T/ev/ev-1.eml" portal@studio.test events@crier.test || fail "event 1 not accepted"
dead_wait 1 || fail "the refused notification is not in the dead table"; check
[ "$(crierd_count outbox)" = 0 ] || fail "the refused notification is still in the outbox"; check
grep -q "to=<$ANA> .*status=dead (refused): 550 5.7.1 <$ANA>: Recipient address rejected: ana refuses crier (in reply to RCPT TO command)" "$CD_DIR/crierd.log" \
    || fail "no log line for the move to the dead table"; check
expect_exit 0 ctl dead; check
expect_in "$T/out" "$ANA"; check
expect_in "$T/out" "german_redeliveries"; check
expect_in "$T/out" "stream-$$-1"; check
expect_in "$T/out" "550 5.7.1 <$ANA>: Recipient address rejected: ana refuses crier"; check
id1=$(awk -v a="$ANA" '$2 == a {print $1}' "$T/out")
expect_exit 0 ctl dead --json; check
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["dead"]; assert len(d)==1 and d[0]["recipient"]==sys.argv[2] and d[0]["reply"].startswith("550 5.7.1 ") and d[0]["attempts"]==1 and d[0]["event"].startswith("stream-"), d' \
    "$T/out" "$ANA" || fail "dead --json: $(cat "$T/out")"; check

# drop: one goes, the other stays; an unknown ID is refused
pf_send_file "$T/ev/ev-2.eml" portal@studio.test events@crier.test || fail "event 2 not accepted"
dead_wait 2 || fail "the second refusal is not in the dead table"; check
id2=$(ctl dead --json | python3 -c 'import json,sys; print([e["id"] for e in json.load(sys.stdin)["dead"] if e["event"].endswith("-2")][0])')
expect_exit 0 ctl dead drop "$id2"; check
[ "$(crierd_count dead)" = 1 ] || fail "drop: $(crierd_count dead) dead entries"; check
expect_exit 1 ctl dead drop "$id2"; check
expect_exit 2 ctl dead drop; check

# resend: back in the outbox, delivered once Postfix takes Ana again
refuse ""
expect_exit 0 ctl dead resend "$id1"; check
expect_in "$T/out" "1 dead notification back in the outbox"; check
[ "$(crierd_count dead)" = 0 ] || fail "resend left it in the dead table"; check
pf_wait_mail $ANA 1 45 || fail "the resent notification never arrived"; check
grep -q "X-Crier-Event: stream-$$-1" $(pf_mail_files $ANA) || fail "not event 1's notification"; check

# 4xx: retried (not dead) until outbox_max_age, then dead with the reply
refuse "450 4.7.1 ana is busy"
pf_send_file "$T/ev/ev-3.eml" portal@studio.test events@crier.test || fail "event 3 not accepted"
for _ in $(seq 200); do grep -q "to=<$ANA> .*status=deferred attempts=1: 450 4.7.1 <$ANA>: Recipient address rejected: ana is busy" "$CD_DIR/crierd.log" && break; sleep 0.1; done
grep -q "to=<$ANA> .*status=deferred attempts=1" "$CD_DIR/crierd.log" || fail "no deferral"; check
[ "$(crierd_count dead)" = 0 ] && [ "$(crierd_count outbox)" = 1 ] || fail "a young deferral went dead"; check
restart_at 3
dead_wait 1 || fail "a deferral older than outbox_max_age is not dead"; check
grep -q "status=dead (deferred longer than outbox_max_age): 450 4.7.1 <$ANA>: Recipient address rejected: ana is busy" "$CD_DIR/crierd.log" \
    || fail "no log line for the give-up"; check
CRIER_NOW=$(date -u -d "+3 days" +%Y-%m-%dT%H:%M:%SZ) expect_exit 0 ctl dead; check
expect_in "$T/out" "450 4.7.1 <$ANA>: Recipient address rejected: ana is busy"; check

# pruning: still there before event_retention (30 days), gone after
restart_at 20
[ "$(crierd_count dead)" = 1 ] || fail "pruned before event_retention"; check
restart_at 40
for _ in $(seq 100); do [ "$(crierd_count dead)" = 0 ] && break; sleep 0.1; done
[ "$(crierd_count dead)" = 0 ] || fail "not pruned after event_retention"; check
grep -q "outbox: forgot 1 dead notifications older than 30 days" "$CD_DIR/crierd.log" || fail "no log of the pruning"; check

log_clean_dead() {   # refusals are logged as errors on purpose
    grep -E "error:|claimed not to reply" "$CD_DIR/crierd.log" | grep -v "status=dead" >"$T/errors"
    [ -s "$T/errors" ] && fail "crierd logged: $(head -3 "$T/errors")"
    return 0
}
log_clean_dead; check
crierd_stop || fail "crierd stop"
echo "dead: $cases cases checked"
finish
