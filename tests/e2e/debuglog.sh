#!/bin/bash
# debuglog.sh - log_level "debug" through a real Postfix: the policy
# service's decisions (which submit_* list admitted), the matcher's view
# of an event (candidates, each delivery immediate or into a digest, each
# notification skipped with its reason: muted, other partner), the digest
# runner (what is due, its items, sent, next due) and self-service (the
# commands read, whose, what came of a link) each leave a line that names
# the event id, the Postfix queue id and the recipient, and never a
# token. Then at log_level "info" the same traffic leaves none of them.
. "${srcdir:-.}/tests/e2e/lib.sh"
EV=7f3c2a9e-0b1d-4d0e-9a55-2f5b1c0e4a10
ANA=ana@juicepost.example
MARCO=marco@juicepost.example
REQ=crier-request@crier.test
LOG=

# has TEXT - the log (from line $FROM on) holds TEXT, a fixed string
has() { tail -n "+$FROM" "$CD_DIR/crierd.log" | grep -qF -- "$1" || fail "no log line with: $1"; }
# log_wait TEXT - wait up to 20 s for TEXT in the log
log_wait() {
    for _ in $(seq 200); do grep -qF -- "$1" "$CD_DIR/crierd.log" && return 0; sleep 0.1; done
    fail "crierd did not log: $1"
}
# ask FROM SUBJECT - a mail to the request address
ask() {
    printf 'From: %s\nTo: %s\nSubject: %s\n\nthanks\n' "$1" "$REQ" "$2" >"$T/ask.eml"
    pf_send_file "$T/ask.eml" "$1" "$REQ" || fail "request '$2' not accepted: $PF_SWAKS_OUT"
}
# restart_at LEVEL INSTANT - crierd again at log_level LEVEL, its clock at INSTANT
restart_at() {
    crierd_stop || fail "stop"
    sed -i "s/^log_level = .*/log_level = \"$1\";/" "$CD_DIR/crier.conf"
    FROM=$(($(wc -l <"$CD_DIR/crierd.log") + 1))
    CRIER_NOW=$2 crierd_start || fail "start at $2"
}

export CRIER_NOW=2027-03-15T07:00:00Z
e2e_up
grep -q '^log_level = "debug";' "$CD_DIR/crier.conf" || { fail "crier.conf is not at debug"; finish; }
FROM=1
pf_set "smtpd_recipient_restrictions=check_policy_service unix:$CD_POLICY"
pf_reload || fail "pf_reload"

# An event: Ana immediately, Marco into his daily digest, others skipped.
pf_send_file "$EVENTS/redelivery-juice.eml" portal@studio.test events@crier.test \
    || fail "event not accepted: $PF_SWAKS_OUT"
pf_wait_mail $ANA 1 20 || fail "no notification for Ana"
log_wait "event=$EV type=redelivery_requested"
qid=$(grep -F "event=$EV type=redelivery_requested" "$CD_DIR/crierd.log" | head -1 \
    | sed -n 's/.*crierd\[[0-9]*\]: \([0-9A-F]*\): event=.*/\1/p')
[ -n "$qid" ] || fail "the match line has no queue id: $(grep -F "event=$EV type=" "$CD_DIR/crierd.log")"
grep -q " $qid: .*to=<events@crier.test>" "$PF_DIR/maillog" || fail "queue id $qid is not Postfix's"

has "NOQUEUE: policy dunno: client=localhost[127.0.0.1] from=<portal@studio.test> to=<events@crier.test>: admitted by submit_networks, within submit_rate_limit; action=DUNNO"
has "$qid: event=$EV type=redelivery_requested partner=\"Juice Post\" candidates="
has "$qid: event=$EV to=<$ANA> notification=content_partner/all_redeliveries kind=default frequency=immediately delivery=immediate"
has "$qid: event=$EV to=<$MARCO> notification=redeliveries_daily kind=custom frequency=daily delivery=digest due=2027-03-15T09:00:00Z"
has "$qid: event=$EV to=<$MARCO> notification=content_partner/all_redeliveries kind=default frequency=immediately skipped: muted by the user"
has "$qid: event=$EV to=<tom@northlight.example> notification=content_partner/all_redeliveries kind=default frequency=immediately skipped: other partner: the event is for \"Juice Post\""

# Self-service: Ana's mute link, then a list; the token stays out of the log.
f=$(pf_mail_files $ANA | head -1)
token=$(sed -n 's/^List-Unsubscribe: <mailto:[^?]*?subject=mute%20\(v1[^>]*\)>.*/\1/p' "$f" | tr -d '\r')
[ -n "$token" ] || fail "no mute link in Ana's notification"
ask $ANA "mute $token"
ask $ANA "list"
pf_wait_mail $ANA 3 30 || fail "Ana's answers"
log_wait "commands: list"
has "policy dunno: client=localhost[127.0.0.1] from=<$ANA> to=<$REQ>: the request address: anybody may write; action=DUNNO"
has "request from=<$ANA> header_from=<$ANA> user=<$ANA> commands: mute TOKEN"
has "request user=<$ANA>: link to mute content_partner/all_redeliveries: valid"
has "request from=<$ANA> header_from=<$ANA> user=<$ANA> commands: list"
grep -qF -- "${token##*.}" "$CD_DIR/crierd.log" && fail "a token's signature is in the log"

# 09:00 in London: Marco's daily digest.
restart_at debug 2027-03-15T08:59:57Z
pf_wait_mail $MARCO 1 30 || fail "no digest for Marco"
log_wait "digest: to=<$MARCO> frequency=daily items=1 more=0 message-id="
has "digest: 1 digest due at 2027-03-15T09:00:0"
has "; the next is due 2027-03-15T12:00:00Z"
has "digest: to=<$MARCO> frequency=daily items=1 more=0 removed=0 due=2027-03-15T09:00:00Z: due: sending"
has "digest: to=<$MARCO> frequency=daily event=$EV type=redelivery_requested notification=redeliveries_daily: in the digest"

# At info: the same kinds of traffic, none of those lines.
restart_at info 2027-03-15T11:59:57Z
sed 's/^Event-Id: .*/Event-Id: debuglog-info-1/' "$EVENTS/redelivery-juice.eml" >"$T/info.eml"
pf_send_file "$T/info.eml" portal@studio.test events@crier.test || fail "info event: $PF_SWAKS_OUT"
ask $ANA "list"
log_wait "event=debuglog-info-1 type=redelivery_requested partner=\"Juice Post\" accepted"
log_wait "digest: to=<sam@studio.example> frequency=daily items=2 more=0 message-id="
pf_wait_mail $ANA 4 30 || fail "Ana's answer at info"
log_wait "request answered to=<$ANA>"
tail -n "+$FROM" "$CD_DIR/crierd.log" | grep -E "policy dunno|candidates=|delivery=|skipped:|due: sending|in the digest|digests? due at|commands:|link to|confirmation asked" \
    >"$T/leak" && fail "debug lines at log_level info: $(head -3 "$T/leak")"

log_clean
crierd_stop || fail "crierd stop"
finish
