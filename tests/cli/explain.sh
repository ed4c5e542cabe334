#!/bin/bash
# explain.sh - crierctl explain on the sample events against the shipped
# rules: deliveries and exclusions as golden files (tests/events/*.explain),
# JSON shape, stdin, and invalid events refused with the reason.
. "${srcdir:-.}/tests/cli/lib.sh"

S="$T/state"
"$CRIERCTL" -r "$RULES" -s "$S" compile >/dev/null || fail "compile"

compared=0
for mail in "$EVENTS"/*.eml; do
    ref="${mail%.eml}.explain"
    "$CRIERCTL" -s "$S" explain "$mail" --json >"$T/json" || { fail "explain $mail"; continue; }
    jq -r '(.deliveries[] | "deliver \(.recipient) \(.notification) \(.frequency)"),
           (.excluded[] | "exclude \(.recipient) \(.notification): \(.reason)")' \
        "$T/json" >"$T/got" || { fail "jq on the explanation of $mail"; continue; }
    expect_golden "$T/got" "$ref"
    compared=$((compared + 1))
done
[ "$compared" -ge 9 ] || fail "only $compared of the sample events were explained and compared"

# The JSON keys the issue fixes, with the notification id as a string.
"$CRIERCTL" -s "$S" explain --json - <"$EVENTS/redelivery-juice.eml" >"$T/json" || fail "stdin"
jq -e '.deliveries | length > 0 and all(.recipient and (.notification|type=="string") and .frequency)' \
    "$T/json" >/dev/null || fail "deliveries lack recipient/notification/frequency"
jq -e '.excluded | all(.recipient and .notification and .reason)' "$T/json" >/dev/null \
    || fail "excluded lack recipient/notification/reason"

# Text output: one line per recipient and frequency, notifications listed.
expect_exit 0 "$CRIERCTL" -s "$S" explain "$EVENTS/redelivery-juice.eml"
expect_in "$T/out" "ana@juicepost.example  immediately  content_partner/all_redeliveries (default), german_redeliveries (custom)"

# Partner isolation: nobody of another partner is delivered, whatever the
# filters. Each command's status is checked: a failing explain must not
# pass for "no delivery to the other partner".
isolated=0
for mail in "$EVENTS"/*.eml; do
    "$CRIERCTL" -s "$S" explain --json "$mail" >"$T/iso.json" 2>"$T/err" \
        || { fail "explain $mail: $(cat "$T/err")"; continue; }
    jq -r '.event.partner' "$T/iso.json" >"$T/p" || { fail "jq .event.partner of $mail"; continue; }
    case "$(tr A-Z a-z <"$T/p")" in
    "juice post") bad='northlight' ;;
    "northlight"*) bad='juicepost' ;;
    *) fail "$mail: unexpected partner '$(cat "$T/p")'"; continue ;;
    esac
    jq -r '.deliveries[].recipient' "$T/iso.json" >"$T/recipients" \
        || { fail "jq .deliveries of $mail"; continue; }
    grep -q "$bad" "$T/recipients" && fail "$mail reaches another partner's user"
    isolated=$((isolated + 1))
done
[ "$isolated" -ge 9 ] || fail "only $isolated of the sample events were checked for isolation"

# Invalid events: exit 1 and the reason on one line.
expect_exit 1 "$CRIERCTL" -s "$S" explain "$EVENTS/bad/no-event-id.eml"
expect_in "$T/err" "invalid event: the event has no Event-Id field"
expect_exit 1 "$CRIERCTL" -s "$S" explain "$EVENTS/bad/unknown-event-type.eml"
expect_in "$T/err" "unknown event type \"source_request_archived\" (the catalog offers:"
expect_exit 1 "$CRIERCTL" -s "$S" explain "$EVENTS/bad/html-only.eml"
expect_in "$T/err" "no text/plain part"
expect_exit 1 "$CRIERCTL" -s "$S" explain "$T/missing.eml"
expect_exit 2 "$CRIERCTL" -s "$S" explain
finish
