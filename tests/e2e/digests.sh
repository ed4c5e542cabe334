#!/bin/bash
# digests.sh - digests end to end: events matching daily and weekly
# notifications of users in four time zones, crierd's clock (CRIER_NOW)
# moved to just before each user's 09:00, the digests read from Maildirs:
# right recipients, right grouping and counts, each once, none early.
# Monday 2027-03-15: Berlin is +01:00, London +00:00, New York already
# -04:00 (its change was the day before), Sao Paulo -03:00.
. "${srcdir:-.}/tests/e2e/lib.sh"

digests_of() {   # the digest files of a recipient
    local f
    for f in $(pf_mail_files "$1"); do grep -l '^X-Crier-Digest:' "$f"; done 2>/dev/null
}
wait_digests() { # RCPT N: wait (up to 20 s) until RCPT has N digests
    local i
    for i in $(seq 100); do
        [ "$(digests_of "$1" | wc -l)" -ge "$2" ] && return 0
        sleep 0.2
    done
    fail "$1 has $(digests_of "$1" | wc -l) digests, expected $2"
}
subject() {      # FILE: its Subject, unfolded
    awk '/^Subject:/ {s = $0; more = 1; next}
         more && /^[ \t]/ {s = s $0; next} {more = 0} END {print s}' "$1"
}
restart_at() {   # INSTANT: crierd again, its clock at INSTANT
    crierd_stop || fail "stop"
    CRIER_NOW=$1 crierd_start || fail "start at $1"
}

export CRIER_NOW=2027-03-15T07:00:00Z           # Berlin 08:00
e2e_up
for mail in redelivery-juice created-cafe-qp; do
    pf_send_file "$EVENTS/$mail.eml" portal@studio.test events@crier.test || fail "$mail"
done
pf_queue_empty_wait 20 || fail "queue"
"$CRIERCTL" -s "$CD_DIR/state" digests --json >"$T/pending" || fail "crierctl digests"
jq -e '.digests[] | select(.recipient=="lena@studio.example" and .frequency=="weekly")
       | .next_send == "2027-03-15T09:00:00-04:00" and .next_send_utc == "2027-03-15T13:00:00Z"
         and .items == 1' "$T/pending" >/dev/null || fail "lena's weekly: $(cat "$T/pending")"
"$CRIERCTL" -s "$CD_DIR/state" digests marco@juicepost.example | grep -q "2027-03-15T09:00:00Z (Europe/London)" \
    || fail "marco's daily in crierctl digests"
# The table: each header stands over its column (ITEMS right-aligned).
"$CRIERCTL" -s "$CD_DIR/state" digests >"$T/table" || fail "crierctl digests"
awk 'NR == 1 { f = index($0, "FREQUENCY"); i = index($0, "ITEMS") + 4
               z = index($0, "NEXT SEND (RECIPIENT"); u = index($0, "NEXT SEND (UTC)"); next }
     substr($0, f - 1, 2) !~ /^ [^ ]/ || substr($0, i, 2) !~ /^[0-9] $/ ||
     substr($0, z - 1, 2) !~ /^ [0-9]/ || substr($0, u - 1, 2) !~ /^ [0-9]/ { bad++; print }
     END { exit bad || NR < 3 }' "$T/table" >&2 || fail "crierctl digests: columns misaligned"

# 09:00 in Berlin: Ana's daily digest, and only hers.
restart_at 2027-03-15T07:59:57Z
wait_digests ana@juicepost.example 1
f=$(digests_of ana@juicepost.example)
[ "$(subject $f)" = "Subject: Daily digest, 15 Mar: 1 event: 1 Source Request Created" ] \
    || fail "ana's subject: $(subject $f)"
grep -q 'List-Unsubscribe: <mailto:crier-request@crier.test?subject=mute%20' $f || fail "one notification: List-Unsubscribe"
sleep 2
[ "$(digests_of marco@juicepost.example | wc -l)" = 0 ] || fail "marco's digest came early"

# 09:00 in London: Marco's, grouped by event type.
restart_at 2027-03-15T08:59:55Z
wait_digests marco@juicepost.example 1
f=$(digests_of marco@juicepost.example)
[ "$(subject $f)" = "Subject: Daily digest, 15 Mar: 2 events: 1 Redelivery Requested, 1 Source Request Created" ] \
    || fail "marco's subject: $(subject $f)"
grep -q '^Redelivery Requested$' $f && grep -q '^  through redeliveries_daily:' $f || fail "marco's grouping"
[ "$(digests_of lena@studio.example | wc -l)" = 0 ] || fail "lena's digest came early"

# 09:00 in New York (Sam's 09:00 in Sao Paulo, an hour before, is past: his goes at once).
restart_at 2027-03-15T12:59:55Z
wait_digests sam@studio.example 1
wait_digests lena@studio.example 2
f=$(grep -l '^X-Crier-Digest: weekly' $(digests_of lena@studio.example))
[ "$(subject $f)" = "Subject: Weekly digest, 15 Mar: 1 event: 1 Source Request Created" ] \
    || fail "lena's weekly: $(subject $f)"

# Once: a day later nothing new is pending, and nobody got a second digest.
restart_at 2027-03-16T13:00:30Z
sleep 3
for r in ana@juicepost.example:1 marco@juicepost.example:1 lena@studio.example:2 sam@studio.example:1; do
    [ "$(digests_of "${r%:*}" | wc -l)" = "${r#*:}" ] || fail "${r%:*}: $(digests_of "${r%:*}" | wc -l) digests"
done
[ "$(crierd_count digests)" = 0 ] || fail "items left: $(crierd_count digests)"

# A new item for Marco, then his zone changes in rules.d: the reload reschedules it.
sed 's/^Event-Id: .*/Event-Id: resched-1/' "$EVENTS/created-cafe-qp.eml" >"$T/r.eml"
pf_send_file "$T/r.eml" portal@studio.test events@crier.test || fail "event for the reschedule"
pf_queue_empty_wait 20 || fail "queue"
"$CRIERCTL" -s "$CD_DIR/state" digests marco@juicepost.example | grep -q "2027-03-17T09:00:00Z (Europe/London)" \
    || fail "marco's next digest before the change"
sed -i 's#timezone = "Europe/London"#timezone = "Asia/Tokyo"#' "$CD_DIR/rules.d/users/marco.conf"
kill -HUP "$(cat "$CD_DIR/run/crierd.pid")"
for _ in $(seq 100); do
    "$CRIERCTL" -s "$CD_DIR/state" digests marco@juicepost.example | grep -q "2027-03-17T09:00:00+09:00 (Asia/Tokyo)" && break
    sleep 0.2
done
"$CRIERCTL" -s "$CD_DIR/state" digests marco@juicepost.example | grep -q "2027-03-17T09:00:00+09:00 (Asia/Tokyo)" \
    || fail "not rescheduled: $("$CRIERCTL" -s "$CD_DIR/state" digests marco@juicepost.example)"
log_clean
crierd_stop || fail "crierd stop"
finish
