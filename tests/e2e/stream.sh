# stream.sh - a stream of distinct events for the crash and reload tests.
# Each event is a redelivery request in German video for Juice Post: Ana
# (content_partner, custom german_redeliveries) gets exactly one immediate
# message per event. The sender retries on 4xx, as a portal's MTA would.
#
#   stream_make DIR N     write DIR/ev-1.eml .. DIR/ev-N.eml
#   stream_send DIR N     send them in order, retrying each until accepted
#   stream_check N        Ana has every event once (a resend after a crash
#                         between Postfix's 250 and the outbox delete may
#                         repeat a message, but only with the same Message-ID)

stream_make() {
    local i
    for i in $(seq "$2"); do
        printf 'From: portal@studio.test\nTo: events@crier.test\nSubject: event %s\n\nEvent: redelivery-requested\nEvent-Id: stream-%s-%s\nPartner: Juice Post\nTitle: Episode %s\nSource-Type: Video\nLanguage: de\n' \
            "$i" "$$" "$i" "$i" >"$1/ev-$i.eml"
    done
}

stream_send() {
    local i tries
    for i in $(seq "$2"); do
        tries=0
        until pf_send_file "$1/ev-$i.eml" portal@studio.test events@crier.test; do
            tries=$((tries + 1))
            grep -q '^<\*\* *4' "$PF_SWAKS_LOG" || [ "$tries" -lt 3 ] || {
                echo "event $i refused for good: $PF_SWAKS_OUT" >&2; return 1; }
            [ "$tries" -lt 200 ] || { echo "event $i never accepted" >&2; return 1; }
            sleep 0.2
        done
    done
}

# stream_events - how many distinct stream events Ana's mailbox holds
stream_events() {
    local files
    files=$(pf_mail_files ana@juicepost.example)
    [ -n "$files" ] || { echo 0; return; }
    # shellcheck disable=SC2086
    grep -h '^X-Crier-Event: stream-' $files | sort -u | wc -l
}

# A repeated message counts in the mailbox as one more file: wait for N
# distinct events, not N files, or a repeat ends the wait one event early.
stream_check() {
    local files events ids i
    pf_wait_mail ana@juicepost.example "$1" 60 || { echo "ana got $(pf_mail_count ana@juicepost.example) of $1" >&2; return 1; }
    for i in $(seq 300); do
        events=$(stream_events)
        [ "$events" -ge "$1" ] && break
        sleep 0.1
    done
    files=$(pf_mail_files ana@juicepost.example)
    # shellcheck disable=SC2086
    ids=$(grep -hi '^Message-Id:' $files | sort -u | wc -l)
    [ "$events" = "$1" ] || { echo "ana has $events distinct events, expected $1" >&2; return 1; }
    [ "$ids" = "$1" ] || { echo "ana has $ids distinct Message-IDs for $1 events" >&2; return 1; }
}
