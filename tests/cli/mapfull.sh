#!/bin/bash
# mapfull.sh - compiles into a full map: with the map started tiny
# (CRIER_MAP_SIZE, a test knob), a whole compile and a one-user change
# each find MDB_MAP_FULL, grow the map and write again; at the largest map
# allowed (CRIER_MAP_MAX) a change fails with the reason and the set in
# service stays as it was.
. "${srcdir:-.}/tests/cli/lib.sh"

R="$T/rules"
S="$T/state"
cp -r "$RULES" "$R"
chmod -R u+w "$R"
ctl() { "$CRIERCTL" -c /dev/null -r "$R" -s "$S" "$@"; }
mapsize() { mdb_stat -n -e "$S/rules.lmdb" | awk '/Map size:/ {print $3}'; }
ANA=ana@juicepost.example
cases=0
check() { cases=$((cases + 1)); }

# a whole compile from a 64 KiB map: it grows until rules.d fits
CRIER_MAP_SIZE=64k expect_exit 0 ctl compile; check
expect_in "$T/out" "generation 1:"; check
[ "$(mapsize)" -gt 65536 ] || fail "map size $(mapsize): never grew"; check

# a one-user change: the map starts at what the file holds, so the first
# write finds it full; the change grows it and lands
before=$(mapsize)
CRIER_MAP_SIZE=64k expect_exit 0 ctl create $ANA --event qc_failed --where severity=Critical \
    --frequency immediately; check
expect_in "$T/out" "compiled anew"; check
[ "$(mapsize)" -gt "$before" ] || fail "map size $(mapsize) after the change, $before before"; check
expect_exit 0 ctl list $ANA; check
expect_in "$T/out" "qc_failed_critical_immediately"; check

# at the largest map allowed: refused with the reason, the set unchanged
gen=$(ctl list $ANA --json | grep -c qc_failed_major_immediately)
CRIER_MAP_SIZE=64k CRIER_MAP_MAX=64k expect_exit 1 ctl create $ANA --event qc_failed \
    --where severity=Major --frequency immediately; check
expect_in "$T/err" "the map is full at its largest size"; check
[ "$(ctl list $ANA --json | grep -c qc_failed_major_immediately)" = "$gen" ] \
    || fail "a failed compile changed the set in service"; check

# a knob that is not a size is an error, not a silent default
CRIER_MAP_SIZE=lots expect_exit 1 ctl compile; check
expect_in "$T/err" "CRIER_MAP_SIZE"; check

echo "mapfull: $cases cases checked"
finish
