#!/bin/bash
# policy.sh - the policy service through Postfix's own smtpd
# (check_policy_service in smtpd_recipient_restrictions): an allowed
# sender, client network (XCLIENT ADDR) or SASL login (XCLIENT LOGIN)
# reaches the milter; anybody else is refused at RCPT with 5.7.1 and the
# event never reaches crierd; unknown crier addresses get 5.1.1 at RCPT;
# a burst over submit_rate_limit is deferred with 4.7.1 and every event
# of it passes when retried.
#
# The rate limit is a token bucket on crierd's monotonic clock, which the
# test cannot set, so the numbers are chosen for no race with the refill:
# the bucket starts with RATE tokens and earns one every 60/RATE seconds
# (RATE=4: 15 s). The burst is 2 * RATE events, one after the other; for
# none of them to be deferred the bucket would have to earn RATE tokens
# during the burst, that is the 8 sends would have to take a whole minute
# (7.5 s each; one takes a fraction of a second, under make -j8 too). So at
# least one is deferred, and at most RATE (the bucket holds RATE), whatever
# the load.
# (It was 36 at 30 a minute: a refill every 2 s, so a burst slower than
# 12 s was never throttled.) The retries wait for the refill, at most a
# minute in all; they come last, so the other checks use part of that time.
# The refill itself is stepped through time in tests/unit/t_policy.
. "${srcdir:-.}/tests/e2e/lib.sh"
RATE=4
E2E_CONF="
submit_networks = [\"192.0.2.0/24\"];
submit_sasl_users = [\"portal-feed\"];
submit_senders = [\"portal@studio.test\"];
submit_rate_limit = $RATE;
crier_domain = \"crier.test\";"
e2e_up
pf_set "smtpd_recipient_restrictions=check_policy_service unix:$CD_POLICY" \
    smtpd_authorized_xclient_hosts=127.0.0.0/8
pf_reload || fail "pf_reload"

# ev ID - a redelivery request for Juice Post in German: Ana hears of it
ev() {
    printf 'From: portal@studio.test\nTo: events@crier.test\nSubject: %s\n\nEvent: redelivery-requested\nEvent-Id: %s\nPartner: Juice Post\nTitle: Episode %s\nSource-Type: Video\nLanguage: de\n' \
        "$1" "$1" "$1" >"$T/$1.eml"
    echo "$T/$1.eml"
}
# ana_has ID - Ana got the notification of event ID
ana_has() {
    for _ in $(seq 100); do
        grep -qs "^X-Crier-Event: $1\$" $(pf_mail_files ana@juicepost.example) && return 0
        sleep 0.2
    done
    return 1
}

# A burst of 2 * RATE events from one submitter (sender list, 127.0.0.1)
# at RATE a minute: the first pass gets some 450 4.7.1 (retried below).
N=$((2 * RATE))
: >"$T/deferred"
for i in $(seq $N); do
    if ! pf_send_file "$(ev burst-$i)" portal@studio.test events@crier.test; then
        grep -q '^<\*\* *450 4.7.1 <events@crier.test>: Recipient address rejected: too many events' \
            "$PF_SWAKS_LOG" || fail "burst-$i: $PF_SWAKS_OUT"
        echo "$i" >>"$T/deferred"
    fi
done
deferred=$(wc -l <"$T/deferred")
[ "$deferred" -ge 1 ] || fail "a burst of $N at $RATE a minute was not throttled"
[ "$deferred" -le $((N - RATE)) ] || fail "$deferred of $N deferred: the bucket holds $RATE"

# Allowed by client network or SASL login (XCLIENT stands in for both).
PF_SWAKS_EXTRA="--xclient-addr 192.0.2.10" pf_send_file "$(ev by-network)" other@studio.test \
    events@crier.test || fail "a client in submit_networks refused: $PF_SWAKS_OUT"
PF_SWAKS_EXTRA="--xclient-login portal-feed" pf_send_file "$(ev by-login)" other@studio.test \
    events@crier.test || fail "a submit_sasl_users login refused: $PF_SWAKS_OUT"
ana_has by-network || fail "the event from an allowed network did not notify"
ana_has by-login || fail "the event from an allowed login did not notify"

# Anybody else: 5.7.1 at RCPT, and crierd's milter never sees the event.
pf_send_file "$(ev spoofed)" spoof@evil.test events@crier.test && fail "a spoofed event accepted"
grep -q '^<\*\* *554 5.7.1 <events@crier.test>: Recipient address rejected: client is not allowed to submit events' \
    "$PF_SWAKS_LOG" || fail "no 5.7.1 at RCPT: $PF_SWAKS_OUT"
grep -q '^ *-> *DATA' "$PF_SWAKS_LOG" && fail "the spoofed event got as far as DATA"
grep -q 'policy reject: client=localhost\[127.0.0.1\] from=<spoof@evil.test> to=<events@crier.test>: not an allowed submitter' \
    "$CD_DIR/crierd.log" || fail "the refusal is not in crierd's log"
grep -q 'spoofed' "$CD_DIR/crierd.log" && fail "the spoofed event reached crierd's milter"
PF_SWAKS_EXTRA="--xclient-addr 198.51.100.7" pf_send_file "$T/spoofed.eml" portal-x@studio.test \
    events@crier.test && fail "a client outside submit_networks accepted"

# Unknown crier addresses: 5.1.1 at RCPT; the request address is open to all.
for rcpt in events+bogus@crier.test nobody@crier.test; do
    pf_send_file "$T/spoofed.eml" someone@example.org "$rcpt" && fail "$rcpt accepted"
    grep -q "^<\*\* *554 5.1.1 <$rcpt>: Recipient address rejected: no such crier address" \
        "$PF_SWAKS_LOG" || fail "$rcpt: no 5.1.1: $PF_SWAKS_OUT"
done
printf 'From: someone@example.org\nTo: crier-request@crier.test\nSubject: help\n\nhelp\n' >"$T/help.eml"
pf_send_file "$T/help.eml" someone@example.org crier-request@crier.test \
    || fail "the request address refused a stranger: $PF_SWAKS_OUT"

# The burst's deferred events, retried: each passes once the bucket has
# earned a token (one every 60/RATE s), and Ana hears of every event once.
for i in $(cat "$T/deferred"); do
    passed=
    for _ in $(seq 90); do
        pf_send_file "$T/burst-$i.eml" portal@studio.test events@crier.test && { passed=1; break; }
        sleep 1
    done
    [ -n "$passed" ] || fail "burst-$i never passed: $PF_SWAKS_OUT"
done
burst_mails() { grep -h '^X-Crier-Event: burst-' $(pf_mail_files ana@juicepost.example) </dev/null 2>/dev/null; }
for _ in $(seq 300); do
    [ "$(burst_mails | sort -u | wc -l)" -ge $N ] && break
    sleep 0.2
done
got=$(burst_mails | sort -u | wc -l)
[ "$got" = $N ] || fail "Ana has $got distinct events of the burst of $N"
[ "$(burst_mails | wc -l)" = $N ] || fail "Ana has $(burst_mails | wc -l) mails of the burst of $N"
grep -q "policy defer: client=localhost\\[127.0.0.1\\] from=<portal@studio.test> to=<events@crier.test>: over submit_rate_limit $RATE" \
    "$CD_DIR/crierd.log" || fail "the deferral is not in crierd's log"

log_clean
crierd_stop || fail "crierd stop"
finish
