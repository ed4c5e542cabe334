#!/bin/bash
# compile.sh - crierctl compile: generations replace each other whole; a
# broken rules.d compiles nothing and the set in service keeps answering.
. "${srcdir:-.}/tests/cli/lib.sh"

S="$T/state"
expect_exit 1 "$CRIERCTL" -s "$S" list ana@juicepost.example
expect_in "$T/err" "run 'crierctl compile'"

expect_exit 0 "$CRIERCTL" -r "$RULES" -s "$S" compile
expect_in "$T/out" "generation 1: 4 frequencies, 9 event types, 3 profiles, 8 users, 26 notifications"
[ -f "$S/rules.lmdb" ] || fail "no $S/rules.lmdb"
expect_exit 0 "$CRIERCTL" -r "$RULES" -s "$S" compile
expect_in "$T/out" "generation 1 unchanged: rules.d is what it was compiled from"
"$CRIERCTL" -s "$S" explain --json "$EVENTS/redelivery-juice.eml" >"$T/before" || fail "explain"

# A copy of the rules with one user's file broken: refused, old set kept.
cp -r "$RULES" "$T/rules"
sed -i 's/profile = "content_partner";/profile = "no_such_profile";/' "$T/rules/users/ana.conf"
expect_exit 1 "$CRIERCTL" -r "$T/rules" -s "$S" compile
expect_in "$T/err" "unknown profile 'no_such_profile'"
expect_in "$T/err" "the rules in service are unchanged"
"$CRIERCTL" -s "$S" explain --json "$EVENTS/redelivery-juice.eml" >"$T/after" || fail "explain"
expect_same "$T/after" "$T/before"

# Ana leaves: the next generation no longer delivers to her.
rm "$T/rules/users/ana.conf"
expect_exit 0 "$CRIERCTL" -r "$T/rules" -s "$S" compile
expect_in "$T/out" "generation 2:"
expect_exit 1 "$CRIERCTL" -s "$S" list ana@juicepost.example
expect_in "$T/err" "no user 'ana@juicepost.example'"
"$CRIERCTL" -s "$S" explain "$EVENTS/redelivery-juice.eml" >"$T/out" || fail "explain after ana left"
grep -q "@juicepost.example" "$T/out" || fail "explain names no Juice Post user at all"
grep -q "ana@" "$T/out" && fail "ana still gets events after leaving"

# A rules directory that does not exist, or holds no rules.
expect_exit 1 "$CRIERCTL" -r "$T/nowhere" -s "$S" compile
expect_in "$T/err" "cannot open rules directory"
mkdir "$T/empty"
expect_exit 1 "$CRIERCTL" -r "$T/empty" check
expect_in "$T/err" "no *.conf files"
finish
