#!/bin/bash
# view.sh - crierctl list and search on the shipped rules: grouping by
# frequency, default/custom and muted marks, every search criterion, JSON,
# options before or after arguments.
. "${srcdir:-.}/tests/cli/lib.sh"

S="$T/state"
"$CRIERCTL" -r "$RULES" -s "$S" compile >/dev/null || fail "compile"
ctl() { "$CRIERCTL" -s "$S" "$@"; }

# list: groups in the order rules.d defines the frequencies.
expect_exit 0 ctl list ana@juicepost.example
grep -E '^(Immediately|Hourly|Daily|Weekly) ' "$T/out" | cut -d' ' -f1 | tr '\n' ' ' >"$T/groups"
[ "$(cat "$T/groups")" = "Immediately Daily Weekly " ] || fail "groups: $(cat "$T/groups")"
expect_in "$T/out" "[custom ] german_redeliveries"
expect_in "$T/out" "[default] content_partner/delivered_weekly"
expect_in "$T/out" "(muted by definition)"
expect_exit 0 ctl list MARCO@juicepost.example
expect_in "$T/out" "content_partner/all_redeliveries  redelivery_requested  immediately"
grep "all_redeliveries" "$T/out" | grep -q "(muted)" || fail "marco's mute is not shown"

expect_exit 2 ctl --json list ana@juicepost.example   # verb options follow the verb
ctl list --json ana@juicepost.example >"$T/a" || fail "list --json USER"
ctl list ana@juicepost.example --json >"$T/b" || fail "list USER --json"
expect_same "$T/a" "$T/b"
jq -e '.user == "ana@juicepost.example" and (.groups | map(.frequency)) == ["immediately","daily","weekly"]' \
    "$T/a" >/dev/null || fail "list --json shape"
jq -e '[.groups[].notifications[] | select(.kind=="custom")] | length == 2' "$T/a" >/dev/null \
    || fail "ana has 2 custom notifications"
expect_exit 1 ctl list nobody@example.org
expect_exit 2 ctl list
expect_exit 2 ctl list a@b c@d

# search: count the results of each criterion. search runs in $(...): its
# status and jq's are checked there (fail counts from a subshell too).
search() {
    ctl search --json "$@" >"$T/search" 2>"$T/search.err" \
        || { fail "search $*: $(cat "$T/search.err")"; return 1; }
}
count() { search "$@" && jq -e .count "$T/search" || fail "search $*: no count"; }
muted_flags() {
    search && jq -e '[.results[] | select(.muted)] | length' "$T/search" \
        || fail "search: no results"
}
[ "$(count --event qc-failed --user ana@juicepost.example)" = 2 ] || fail "search --event --user"
[ "$(count --kind custom)" = 7 ] || fail "search --kind custom: $(count --kind custom)"
[ "$(count --muted)" -ge 1 ] || fail "search --muted finds nothing"
[ "$(count --muted)" = "$(muted_flags)" ] || fail "--muted disagrees with the muted flags"
m=$(count --muted); a=$(count --active); all=$(count)
[ $((m + a)) = "$all" ] || fail "muted $m + active $a != all $all"
[ "$(count --profile studio_user --kind default)" -gt 0 ] || fail "search --profile"
[ "$(count --where language=de)" = 1 ] || fail "search --where language=de"
[ "$(count --where 'source_type=video,audio' --user ana@juicepost.example)" = 2 ] \
    || fail "search --where with two values"
[ "$(count --frequency weekly --user sam@studio.example)" -ge 1 ] || fail "search --frequency"
[ "$(count german)" = 1 ] || fail "free text 'german'"
[ "$(count GERMAN --kind default)" = 0 ] || fail "free text and kind"
[ "$(count "qc failed")" = "$(count --event qc_failed)" ] || fail "free text in event type titles"
expect_exit 0 ctl search --event redelivery_requested
expect_in "$T/out" "notifications found"
expect_exit 2 ctl search --kind sometimes
expect_exit 2 ctl search --where nofilter
expect_exit 2 ctl search one two
finish
