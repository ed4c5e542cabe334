#!/bin/bash
# bounce.sh - bounces end to end, through a private Postfix set up as
# contrib/postfix/*.snippet say: each notification leaves with its own
# envelope sender crier+b1.ID.MAC@crier.test; transport_maps sends mail
# to those addresses to the "crier" transport and the loopback listener
# crier-in, which has crierd's milter. Checked: outbox lines carry
# Postfix's reply ("queued as", a refusal's full text); a DSN made by
# Postfix's own bounce(8) (a pipe(8) transport that fails as a mailbox
# that is gone: accepted at SMTP, bounced later) and a remote-style DSN
# sent with swaks move the notification to the dead table with the DSN's
# status and diagnostic; unsigned, forged and unreadable bounces are
# logged and discarded; after bounce_limit hard bounces the address is
# suppressed (log, crierctl dead) and the next notification is not sent
# until crierctl dead unsuppress; what crierd keeps of sent notifications
# goes after event_retention.
. "${srcdir:-.}/tests/e2e/lib.sh"
ANA=ana@juicepost.example
E2E_CONF='bounce_limit = 3;'
cases=0
check() { cases=$((cases + 1)); }
ctl() { "$CRIERCTL" -c "$CD_DIR/crier.conf" "$@"; }
# log_wait TEXT [N] - crierd logged TEXT (an extended regexp) N times (default 1)
log_wait() {
    for _ in $(seq 600); do             # 60 s: bounce(8) under load
        [ "$(grep -cE -- "$1" "$CD_DIR/crierd.log")" -ge "${2:-1}" ] && return 0
        sleep 0.1
    done
    fail "crierd did not log (${2:-1} times): $1"; return 1
}
# route LINE... - the test's transport table: crier's bounces, then LINE...
route() {
    { printf '/^crier\\+.*@crier\\.test$/ crier:[127.0.0.1]:%s\n' "$CIN"; printf '%s\n' "$@"; } \
        >"$PF_DIR/etc/transport"
    pf_reload || fail "pf_reload"
}
# refuse [CODE TEXT] - Postfix answers RCPT TO:<ana> so (nothing: takes her)
refuse() {
    if [ -n "${1:-}" ]; then echo "/^ana@juicepost\\.example\$/ $1" >"$PF_DIR/etc/refuse"
    else : >"$PF_DIR/etc/refuse"; fi
    pf_reload || fail "pf_reload"
}
# event N - send stream event N (Ana gets one immediate notification)
event() { pf_send_file "$T/ev/ev-$1.eml" portal@studio.test events@crier.test || fail "event $1: $PF_SWAKS_OUT"; }
# dsn FILE TO - a mail to a bounce address, by SMTP, from <>, as a remote MTA sends it
dsn() { PF_SEND_PORT=$PF_REINJECT_PORT pf_send_file "$1" "<>" "$2" || fail "dsn $1: $PF_SWAKS_OUT"; }
# remote_dsn ADDRESS STATUS TEXT [ACTION] - a remote MTA's RFC 3464 report about Ana
remote_dsn() {
    cat <<EOF
From: MAILER-DAEMON@mx.partner.example
To: $1
Subject: Delivery Status Notification (Failure)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b0"

--b0
Content-Type: text/plain

Your message could not be delivered.

--b0
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.partner.example

Final-Recipient: rfc822; $ANA
Action: ${4:-failed}
Status: $2
Diagnostic-Code: smtp; $3

--b0--
EOF
}
# dead_json FIELD... - print FIELD of each dead entry for Ana, tab-separated
dead_json() {
    ctl dead --json | python3 -c 'import json,sys
for e in json.load(sys.stdin)["dead"]:
    if e["recipient"] == sys.argv[1]: print("\t".join(str(e[f]) for f in sys.argv[2:]))' "$ANA" "$@" >"$T/dead.tsv"
    cat "$T/dead.tsv"
}

e2e_up
mkdir "$T/ev" && stream_make "$T/ev" 6
CIN=$(_pf_free_port) || { fail "no port for crier-in"; finish; }
printf '#!/bin/sh\necho "ana'"'"'s mailbox is gone"\nexit 67\n' >"$PF_DIR/etc/gone"
pf_postconf -M "crier/unix=crier unix - - n - - smtp" \
    "127.0.0.1:$CIN/inet=127.0.0.1:$CIN inet n - n - - smtpd" \
    "gone/unix=gone unix - n n - - pipe user=nobody argv=/bin/sh $PF_DIR/etc/gone" || fail "master.cf"
pf_postconf -P "crier/unix/smtp_send_xforward_command=yes" \
    "127.0.0.1:$CIN/inet/myhostname=crier-in.localhost" \
    "127.0.0.1:$CIN/inet/smtpd_milters=unix:$CD_SOCK" \
    "127.0.0.1:$CIN/inet/smtpd_authorized_xforward_hosts=127.0.0.0/8" || fail "master.cf -o"
pf_set "transport_maps=regexp:$PF_DIR/etc/transport" \
    "smtpd_recipient_restrictions=check_recipient_access regexp:$PF_DIR/etc/refuse, permit_mynetworks, reject_unauth_destination"
: >"$PF_DIR/etc/refuse"
route

# (5) A refusal: the dead table and the log carry Postfix's own reply text.
refuse "550 5.7.1 ana refuses crier"
event 1
log_wait "to=<$ANA> .*status=dead \(refused\): 550 5.7.1 <$ANA>: Recipient address rejected: ana refuses crier \(in reply to RCPT TO command\)"; check
dead_json reply | grep -q "^550 5.7.1 <$ANA>: Recipient address rejected: ana refuses crier" \
    || fail "crierctl dead lacks Postfix's reply: $(dead_json reply)"; check

# (5) A delivery: "queued as" the id Postfix logs; the envelope sender is signed.
refuse ""
event 2
pf_wait_mail $ANA 1 30 || fail "event 2 not delivered"
log_wait "to=<$ANA> .*status=sent \(250 2.0.0 Ok: queued as [0-9A-Za-z]+\)"; check
qid=$(sed -n "s/.*to=<$ANA> .*status=sent (250 2.0.0 Ok: queued as \([0-9A-Za-z]*\)).*/\1/p" "$CD_DIR/crierd.log" | tail -1)
grep -q "$qid: .*from=<crier+b1\." "$PF_LOG" || fail "Postfix's log has no $qid from a bounce address"; check
verp2=$(sed -n 's/^Return-Path: <\(.*\)>\r\{0,1\}$/\1/p' "$(pf_mail_files $ANA | tail -1)")
[[ $verp2 =~ ^crier\+b1\.[0-9]+\.[0-9a-f]{20}@crier\.test$ ]] || fail "envelope sender '$verp2'"; check

# (3) Unsigned, forged and unreadable: logged and discarded, nothing dead.
dead0=$(crierd_count dead)
remote_dsn "crier+hello@crier.test" 5.1.1 "550 5.1.1 no" >"$T/unsigned.eml"
dsn "$T/unsigned.eml" "crier+hello@crier.test"
log_wait "bounce: to=<crier\+hello@crier.test>: not a crier bounce id; discarded"; check
forged=$(echo "$verp2" | sed 's/\.[0-9a-f]\{20\}@/.00000000000000000000@/')
remote_dsn "$forged" 5.1.1 "550 5.1.1 no" >"$T/forged.eml"
dsn "$T/forged.eml" "$forged"
log_wait "bounce: to=<crier\+b1\.[0-9]+\.0{20}@crier.test> id=[0-9]+: the signature does not match"; check
printf 'From: ana@juicepost.example\nTo: %s\nSubject: Out of office\n\nI am away.\n' "$verp2" >"$T/ooo.eml"
dsn "$T/ooo.eml" "$verp2"
log_wait "bounce: to=<$ANA> id=[0-9]+ message-id=<[^>]+>: could not read DSN \(no message/delivery-status part"; check
[ "$(crierd_count dead)" = "$dead0" ] || fail "a bad bounce changed the dead table"; check

# (1) A DSN from Postfix's own bounce(8): pipe(8) fails for Ana (EX_NOUSER).
route "/^ana@juicepost\\.example\$/ gone:"
event 3
log_wait "bounce: to=<$ANA> id=[0-9]+ message-id=<[^>]+> dsn=5.1.1 action=failed \(bounced 5.1.1 by mx.crier.test: [^)]*mailbox is gone[^)]*\): dead; hard bounce 1 in a row"; check
dead_json event reply | grep -qE "stream-$$-3	bounced 5.1.1 by mx.crier.test: .*mailbox is gone" \
    || fail "crierctl dead: $(dead_json event reply)"; check

# (2) A remote DSN sent by SMTP to the bounce address of event 2's notification.
remote_dsn "$verp2" 5.2.2 "552 5.2.2 <$ANA>: mailbox full" >"$T/remote.eml"
dsn "$T/remote.eml" "$verp2"
log_wait "bounce: to=<$ANA> .* dsn=5.2.2 action=failed \(bounced 5.2.2 by mx.partner.example: 552 5.2.2 <$ANA>: mailbox full\): dead; hard bounce 2 in a row"; check
dead_json event reply | grep -q "stream-$$-2	bounced 5.2.2 by mx.partner.example" \
    || fail "crierctl dead: $(dead_json event reply)"; check
dsn "$T/remote.eml" "$verp2"              # the same bounce again: counted once
log_wait "bounce: to=<${verp2//+/\\+}> id=[0-9]+: crierd sent no such notification"; check

# (4) The third hard bounce suppresses Ana; the next notification is not sent.
event 4
log_wait "bounce: to=<$ANA>: suppressed after 3 hard bounces in a row \(bounce_limit = 3\)"; check
expect_exit 0 ctl dead; check
grep -qE "^$ANA +3 +suppressed " "$T/out" || fail "crierctl dead: $(cat "$T/out")"; check
sent=$(grep -c "to=<$ANA> .*status=sent" "$CD_DIR/crierd.log")
event 5
log_wait "to=<$ANA> .*status=dead \(suppressed\): not sent: suppressed after 3 bounces"; check
[ "$(grep -c "to=<$ANA> .*status=sent" "$CD_DIR/crierd.log")" = "$sent" ] || fail "sent to a suppressed address"; check
supp=$(dead_json id event | awk -v e="stream-$$-5" '$2 == e {print $1}')
bounced=$(dead_json id event | awk -v e="stream-$$-3" '$2 == e {print $1}')

# A bounced entry cannot be resent (only its headers stay); unsuppress, resend.
expect_exit 1 ctl dead resend "$bounced"; check
expect_in "$T/err" "bounced: crier kept only its headers"; check
expect_exit 1 ctl dead unsuppress nobody@juicepost.example; check
expect_exit 0 ctl dead unsuppress $ANA; check
route
expect_exit 0 ctl dead resend "$supp"; check
pf_wait_mail $ANA 2 45 || fail "the unsuppressed notification never arrived"; check
grep -q "X-Crier-Event: stream-$$-5" $(pf_mail_files $ANA | tail -1) || fail "not event 5's"; check
verp5=$(sed -n 's/^Return-Path: <\(.*\)>\r\{0,1\}$/\1/p' "$(pf_mail_files $ANA | tail -1)")

# A DSN that reports a delivery clears a count (here, the bounce of event 6).
route "/^ana@juicepost\\.example\$/ gone:"
event 6
log_wait "bounce: to=<$ANA> .* dsn=5.1.1 action=failed .*: dead; hard bounce 1 in a row" 2; check   # event 3 logged the first
remote_dsn "$verp5" 2.0.0 "250 2.0.0 Ok" delivered >"$T/delivered.eml"
dsn "$T/delivered.eml" "$verp5"
log_wait "bounce: to=<$ANA> .* dsn=2.0.0 action=delivered \(delivered 2.0.0 by mx.partner.example: 250 2.0.0 Ok\): delivered; bounce count cleared"; check
route
expect_exit 0 ctl dead --json; check
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["addresses"] == [], "addresses left"' "$T/out" \
    || fail "dead --json: $(cat "$T/out")"; check

# What crierd keeps of sent notifications goes after event_retention (30 days).
[ "$(crierd_count sent)" -ge 1 ] || fail "no sent records"; check
crierd_stop || fail "crierd stop"
lines=$(wc -l <"$CD_DIR/crierd.log")
CRIER_NOW=$(date -u -d "+40 days" +%Y-%m-%dT%H:%M:%SZ) crierd_start || fail "crierd start"
# (digests fall due at the new time: only what goes out now may stay)
fresh() { tail -n +"$((lines + 1))" "$CD_DIR/crierd.log" | grep -c " status=sent "; }
for _ in $(seq 100); do [ "$(crierd_count sent)" = "$(fresh)" ] && break; sleep 0.1; done
[ "$(crierd_count sent)" = "$(fresh)" ] || fail "sent records not pruned: $(crierd_count sent)"; check

grep -E "error:|claimed not to reply" "$CD_DIR/crierd.log" | grep -v "status=dead" >"$T/errors"
[ -s "$T/errors" ] && fail "crierd logged: $(head -3 "$T/errors")"; check
crierd_stop || fail "crierd stop"
echo "bounce: $cases cases checked"
finish
