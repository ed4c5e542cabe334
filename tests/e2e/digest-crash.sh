#!/bin/bash
# digest-crash.sh - a digest is sent exactly once across a crash, or as
# close as two systems allow: crierd killed (CRIER_CRASH_AT, a testing aid)
# right after moving a digest to the outbox sends it once after restart;
# killed between Postfix's 250 and forgetting it sends it again with the
# same Message-ID. And a digest over digest_max_size goes out in parts,
# each saying what follows; nothing is dropped.
. "${srcdir:-.}/tests/e2e/lib.sh"

digests_of() { for f in $(pf_mail_files "$1"); do grep -l '^X-Crier-Digest:' "$f"; done 2>/dev/null; }
created() {      # N: N new-request events for Juice Post (Ana: her daily digest only)
    local i
    for i in $(seq "$1"); do
        printf 'From: portal@studio.test\nTo: events@crier.test\nSubject: e\n\nEvent: source-request-created\nEvent-Id: %s-%s\nPartner: Juice Post\nTitle: Request %s\nPriority: Standard\nSource-Type: Video\n' \
            "$2" "$i" "$i" >"$T/c.eml"
        pf_send_file "$T/c.eml" portal@studio.test events@crier.test || fail "event $2-$i"
    done
    pf_queue_empty_wait 20 || fail "queue"
}
crash_at() {     # POINT INSTANT: crierd with its clock at INSTANT dies at POINT; then again, healthy
    crierd_stop || fail "stop"
    CRIER_NOW=$2 CRIER_CRASH_AT=$1 crierd_start || fail "start"
    for _ in $(seq 100); do grep -q "CRIER_CRASH_AT=$1" "$CD_DIR/crierd.log" && break; sleep 0.2; done
    grep -q "CRIER_CRASH_AT=$1" "$CD_DIR/crierd.log" || fail "no crash at $1"
    sleep 0.5
    pgrep -f "crierd -c $CD_DIR/crier.conf" >/dev/null && fail "crierd survived the crash point"
    CD_PID=; CRIER_NOW=$2 crierd_start || fail "restart after the crash at $1"
}

all_digests() { for d in "$PF_DIR"/mail/*/*; do digests_of "$(basename "$d")@$(basename "$(dirname "$d")")"; done; }
at() {           # INSTANT: crierd again, healthy, its clock at INSTANT
    crierd_stop || fail "stop"
    CRIER_NOW=$1 crierd_start || fail "start at $1"
}

export CRIER_NOW=2027-03-15T07:00:00Z
e2e_up
created 2 day1
crash_at digest-moved 2027-03-15T07:59:57Z      # Berlin 08:59:57: Ana's is due
for _ in $(seq 50); do [ "$(digests_of ana@juicepost.example | wc -l)" -ge 1 ] && break; sleep 0.2; done
sleep 2
[ "$(digests_of ana@juicepost.example | wc -l)" = 1 ] || fail "after a crash once moved: $(digests_of ana@juicepost.example | wc -l) digests"

at 2027-03-16T06:00:00Z
before=$(all_digests | wc -l)
created 1 day2
crash_at outbox-sent 2027-03-16T07:59:57Z
for _ in $(seq 50); do [ "$(all_digests | wc -l)" -ge $((before + 2)) ] && break; sleep 0.2; done
sleep 2
# One digest (the first Postfix took before the crash) came twice, with one Message-ID.
dups=$(grep -hi '^Message-Id:' $(all_digests) | sort | uniq -d | wc -l)
[ "$dups" = 1 ] || fail "after a crash between 250 and commit: $dups Message-IDs repeated, expected 1"
[ "$(grep -hi '^Message-Id:' $(all_digests) | sort | uniq -c | awk '$1 > 2' | wc -l)" = 0 ] \
    || fail "a digest came three times"

# Over the size cap: parts, each saying what follows.
at 2027-03-17T06:00:00Z
sed -i '/^digest_max_size/d' "$CD_DIR/crier.conf" && echo 'digest_max_size = 40;' >>"$CD_DIR/crier.conf"
before=$(digests_of ana@juicepost.example | wc -l)
created 3 day3
at 2027-03-17T07:59:58Z
for _ in $(seq 50); do [ "$(digests_of ana@juicepost.example | wc -l)" -ge $((before + 3)) ] && break; sleep 0.2; done
[ "$(digests_of ana@juicepost.example | wc -l)" = $((before + 3)) ] \
    || fail "3 items over the cap: $(( $(digests_of ana@juicepost.example | wc -l) - before )) digests, expected 3"
grep -l "2 more items did not fit in this message" $(digests_of ana@juicepost.example) >/dev/null \
    || fail "the first part does not say what follows"
sleep 2
[ "$("$CRIERCTL" -s "$CD_DIR/state" digests ana@juicepost.example --json | jq '.digests | length')" = 0 ] \
    || fail "Ana's items left behind"
crierd_stop || fail "crierd stop"
finish
