#!/bin/bash
# bad-rules.sh - crierd given digest rules that crierctl check refuses (each
# rule of issue 9's items 1 to 3, planted in rules.lmdb behind check's back
# by set-rrule) neither crashes nor defers: every event is accepted, its
# immediate notifications are made, and the digest the rule cannot
# schedule is due at once, with a log line saying why, and the digest
# runner sends it at once, saying why again.
. "${srcdir:-.}/tests/cli/lib.sh"
. "$srcdir/tests/crierd.sh"

command -v miltertest >/dev/null || { fail "miltertest is not installed"; finish; }
SETRRULE="$top_builddir/tests/sched/set-rrule"
RULES_BAD=(
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30" "FREQ=MONTHLY;BYDAY=6MO" "FREQ=YEARLY;BYMONTH=13"
    "FREQ=YEARLY;BYYEARDAY=367" "FREQ=YEARLY;BYWEEKNO=54" "FREQ=DAILY;BYWEEKNO=1"
    "FREQ=DAILY;BYYEARDAY=100" "FREQ=WEEKLY;BYMONTHDAY=1" "FREQ=MONTHLY;BYWEEKNO=1;BYDAY=MO"
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=31" "FREQ=MONTHLY;BYMONTHDAY=31;BYMONTH=4"
    "FREQ=WEEKLY;BYDAY=1MO" "FREQ=DAILY;BYSECOND=60" "FREQ=DAILY;BYSETPOS=1"
    "FREQ=DAILY;INTERVAL=7;BYDAY=TU"
)
# rule_why RULE - the reason crierctl check gives for RULE (crierd logs the same)
rule_why() {
    printf 'frequencies = { daily = { rrule = "%s"; }; };\n' "$1" >"$T/why.conf"
    mkdir -p "$T/why" && cp "$T/why.conf" "$T/why/00.conf"
    "$CRIERCTL" -c /dev/null -r "$T/why" check 2>&1 | sed -n 's/.*: RRULE "[^"]*": //p' | head -1
}
crierd_setup "$T/d"
echo 'submit_networks = ["192.0.2.0/24"];' >>"$CD_DIR/crier.conf"   # lib.lua's portal
crierd_start || { fail "crierd start"; finish; }
trap 'crierd_kill9; rm -rf "$T"' EXIT
pid=$(cat "$CD_DIR/run/crierd.pid")

n=0
for rule in "${RULES_BAD[@]}"; do
    n=$((n + 1))
    "$SETRRULE" "$CD_DIR/state" daily "$rule" || { fail "set-rrule '$rule'"; continue; }
    sed "s/^Event-Id: .*/Event-Id: bad-rule-$n/" "$EVENTS/redelivery-juice.eml" >"$T/ev$n.eml"
    CRIER_MILTER="unix:$CD_SOCK" CRIER_SRCDIR="$srcdir" CRIER_EVENT="$T/ev$n.eml" \
        CRIER_QID="BAD$n" miltertest -s "$srcdir/tests/sched/bad-rules.lua" >"$T/mt" 2>&1 \
        || { fail "rule '$rule': the event was not accepted"; cat "$T/mt" >&2; }
    # lena, marco and sam get redeliveries daily: three digests due at once
    got=$(grep -c "BAD$n: event=bad-rule-$n to=<.*> frequency=daily: .*the digest is due at once" \
        "$CD_DIR/crierd.log")
    [ "$got" = 3 ] || fail "rule '$rule': $got digests due at once, expected 3"
    # ana's two immediate notifications are one message: 3 messages for 4 people
    grep -q "BAD$n: event=bad-rule-$n .*accepted notifications=3 digest_items=3" \
        "$CD_DIR/crierd.log" || fail "rule '$rule': the event's notifications were not all made"
    for _ in $(seq 100); do                 # the runner ticks once a second
        [ "$(crierd_count digests)" = 0 ] && break
        sleep 0.1
    done
    [ "$(crierd_count digests)" = 0 ] || fail "rule '$rule': $(crierd_count digests) items pending"
    got=$(grep -cF "frequency=daily: $(rule_why "$rule")" "$CD_DIR/crierd.log")
    [ "$got" -ge 6 ] || fail "rule '$rule': $got log lines say \"$(rule_why "$rule")\", expected 3 at intake, 3 sent"
    kill -0 "$pid" 2>/dev/null || { fail "rule '$rule': crierd is gone"; break; }
done
[ "$n" = 15 ] || fail "$n rules tried, expected 15"
# A rules.d that now fails check (an older crier took it) keeps the rules in
# service, as any bad reload does.
sed -i 's/"FREQ=DAILY;BYHOUR=9;BYMINUTE=0"/"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"/' \
    "$CD_DIR/rules.d/00-frequencies.conf"
kill -HUP "$pid"
for _ in $(seq 100); do
    grep -q "rules in service are unchanged" "$CD_DIR/crierd.log" && break
    sleep 0.1
done
grep "rules in service are unchanged" "$CD_DIR/crierd.log" | grep -q \
    "00-frequencies.conf:[0-9]*: frequency 'daily': .*BYMONTHDAY=30 never occurs with BYMONTH=2" \
    || fail "the reload did not refuse the rule at its line"
kill -0 "$pid" 2>/dev/null || fail "crierd is gone after the reload"
grep -qi "segmentation\|signal 11\|exited (status" "$CD_DIR/crierd.log" && fail "crierd crashed"
crierd_stop || fail "crierd stop"
echo "bad-rules: $n rules planted, crierd alive"
finish
