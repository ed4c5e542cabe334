#!/bin/bash
# notify.sh - end to end: the sample events through a real Postfix with
# crierd as its milter; notifications read from the Maildirs. The right
# people get the right mail (the immediate deliveries of the explain
# golden files, one message per recipient and event), nobody else does,
# bad events are refused at SMTP with the reason, a resent Event-Id
# notifies once, and the event mail itself reaches no mailbox.
. "${srcdir:-.}/tests/e2e/lib.sh"

e2e_up

# What should arrive: per recipient, the events with an immediate delivery.
for ref in "$EVENTS"/*.explain; do
    awk '$1 == "deliver" && $4 == "immediately" {print $2}' "$ref" | sort -u
done | sort | uniq -c | awk '{print $2, $1}' >"$T/want"

for mail in "$EVENTS"/*.eml; do
    pf_send_file "$mail" portal@studio.test events@crier.test \
        || fail "$(basename "$mail") not accepted: $PF_SWAKS_OUT"
done
while read -r rcpt n; do
    pf_wait_mail "$rcpt" "$n" 20 || fail "$rcpt got $(pf_mail_count "$rcpt") of $n"
done <"$T/want"

# Bad events: refused at end of data with the reason.
pf_send_file "$EVENTS/bad/no-event-id.eml" portal@studio.test events@crier.test \
    && fail "an event without Event-Id was accepted"
grep -q '550 5.6.0 event refused: the event has no Event-Id field' "$PF_SWAKS_LOG" \
    || fail "no 550 5.6.0 with the reason: $PF_SWAKS_OUT"
pf_send_file "$EVENTS/bad/unknown-event-type.eml" portal@studio.test events@crier.test \
    && fail "an unknown event type was accepted"

# The same Event-Id again: accepted, nothing new.
pf_send_file "$EVENTS/redelivery-juice.eml" portal@studio.test events@crier.test \
    || fail "resent event not accepted"
pf_queue_empty_wait 20 || fail "queue not empty"
sleep 2
while read -r rcpt n; do
    got=$(pf_mail_count "$rcpt")
    [ "$got" = "$n" ] || fail "$rcpt has $got messages, expected exactly $n"
done <"$T/want"
# Nobody else: every Maildir belongs to an expected recipient; events@ got nothing.
find "$PF_DIR/mail" -mindepth 2 -maxdepth 2 -type d | while read -r d; do
    a="$(basename "$d")@$(basename "$(dirname "$d")")"
    grep -q "^$a " "$T/want" || echo "$a"
done >"$T/extra"
[ -s "$T/extra" ] && fail "unexpected mailboxes: $(tr '\n' ' ' <"$T/extra")"

# One message, read as a person's mail client would.
f=$(grep -l "X-Crier-Event: 7f3c2a9e-0b1d-4d0e-9a55-2f5b1c0e4a10" $(pf_mail_files ana@juicepost.example) | head -1)
[ -n "$f" ] || { fail "ana has no mail for the redelivery event"; finish; }
for h in "Auto-Submitted: auto-generated" "List-Unsubscribe: <mailto:crier-request@crier.test?subject=mute%20v1.m." \
         "X-Crier-Notification: content_partner/all_redeliveries, german_redeliveries" \
         "Subject: Redelivery Requested: The Long Night S01E03 (Juice Post)" "From: crier <crier@crier.test>"; do
    grep -qF "$h" "$f" || fail "ana's mail lacks '$h'"
done
[ "$(grep -c '^Message-I[dD]: <crier\.' "$f")" = 1 ] || fail "Message-ID"
log_clean
crierd_stop || fail "crierd stop"
finish
