#!/bin/bash
# explain.sh - crierctl explain on the sample events against the shipped
# rules: deliveries and exclusions as golden files (tests/events/*.explain),
# JSON shape, stdin, and invalid events refused with the reason.
. "${srcdir:-.}/tests/cli/lib.sh"

S="$T/state"
"$CRIERCTL" -r "$RULES" -s "$S" compile >/dev/null || fail "compile"

for mail in "$EVENTS"/*.eml; do
    ref="${mail%.eml}.explain"
    "$CRIERCTL" -s "$S" explain "$mail" --json >"$T/json" || { fail "explain $mail"; continue; }
    jq -r '(.deliveries[] | "deliver \(.recipient) \(.notification) \(.frequency)"),
           (.excluded[] | "exclude \(.recipient) \(.notification): \(.reason)")' \
        "$T/json" >"$T/got"
    [ -n "${CRIER_REGEN:-}" ] && cp "$T/got" "$ref"
    expect_same "$T/got" "$ref"
done

# The JSON keys the issue fixes, with the notification id as a string.
"$CRIERCTL" -s "$S" explain --json - <"$EVENTS/redelivery-juice.eml" >"$T/json" || fail "stdin"
jq -e '.deliveries | length > 0 and all(.recipient and (.notification|type=="string") and .frequency)' \
    "$T/json" >/dev/null || fail "deliveries lack recipient/notification/frequency"
jq -e '.excluded | all(.recipient and .notification and .reason)' "$T/json" >/dev/null \
    || fail "excluded lack recipient/notification/reason"

# Text output: one line per recipient and frequency, notifications listed.
expect_exit 0 "$CRIERCTL" -s "$S" explain "$EVENTS/redelivery-juice.eml"
expect_in "$T/out" "ana@juicepost.example  immediately  content_partner/all_redeliveries (default), german_redeliveries (custom)"

# Partner isolation: nobody of another partner is delivered, whatever the filters.
for mail in "$EVENTS"/*.eml; do
    "$CRIERCTL" -s "$S" explain --json "$mail" | jq -r '.event.partner' >"$T/p"
    case "$(tr A-Z a-z <"$T/p")" in
    "juice post") bad='northlight' ;;
    *) bad='juicepost' ;;
    esac
    "$CRIERCTL" -s "$S" explain --json "$mail" | jq -r '.deliveries[].recipient' | grep -q "$bad" \
        && fail "$mail reaches another partner's user"
done

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
