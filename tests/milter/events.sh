#!/bin/bash
# events.sh - the milter through a real milter client (miltertest): see
# events.lua for the conversation; here, what it left in the store.
. "${srcdir:-.}/tests/cli/lib.sh"
. "$srcdir/tests/crierd.sh"

command -v miltertest >/dev/null || { fail "miltertest is not installed"; finish; }
crierd_setup "$T/d"
printf '%s\n' 'submit_networks = ["192.0.2.0/24"];' 'submit_local_users = ["daemon"];' >>"$CD_DIR/crier.conf"
crierd_start || { fail "crierd start"; finish; }
trap 'crierd_kill9; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

CRIER_MILTER="unix:$CD_SOCK" CRIER_SRCDIR="$srcdir" miltertest -s "$srcdir/tests/milter/events.lua" \
    >"$T/mt" 2>&1 || { fail "events.lua"; cat "$T/mt" >&2; }
cat "$T/mt"
# Two good events (one sent twice): 2 events, their immediate messages and digest items.
[ "$(crierd_count events)" = 2 ] || fail "events stored: $(crierd_count events), expected 2"
[ "$(crierd_count outbox)" = 8 ] || fail "outbox: $(crierd_count outbox), expected 8"
[ "$(crierd_count digests)" = 4 ] || fail "digest items: $(crierd_count digests), expected 4"
# The request: stored before the reply, then taken by self-service.
grep -q "Q5: request stored" "$CD_DIR/crierd.log" || fail "the request was not stored"
for _ in $(seq 50); do grep -q "Q5: request" <(grep -v stored "$CD_DIR/crierd.log") && break; sleep 0.1; done
grep -v stored "$CD_DIR/crierd.log" | grep -q "Q5: request" || fail "self-service did not take the request"
grep -q "duplicate notifications=0" "$CD_DIR/crierd.log" || fail "no duplicate logged"
# The refused submitters: logged, nothing stored (the counts above).
grep -q "QR1: event refused: client=portal.studio.test\[198.51.100.7\] .*from=<mallory@evil.test>.*: 5.7.1 client is not allowed to submit events" \
    "$CD_DIR/crierd.log" || fail "the disallowed client's refusal is not logged"
grep -q "QR2: event refused: client=local user=nobody .*: 5.7.1 local user nobody is not allowed to submit events" \
    "$CD_DIR/crierd.log" || fail "the local user's refusal is not logged"
grep -q "QL1: event=.* duplicate" "$CD_DIR/crierd.log" || fail "the listed local user's event was not taken"
grep -q "TESTQID\|Q2: event=" "$CD_DIR/crierd.log" || fail "queue id not logged"
crierd_stop || fail "crierd stop"
finish
