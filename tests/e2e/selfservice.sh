#!/bin/bash
# selfservice.sh - mail to the request address, through Postfix: the mute
# link of a notification mutes exactly that notification (rules.d/users/
# rewritten, crierd reloaded) and the answer shows how to undo it; the
# same link twice, or a forged one, changes nothing; "mute NAME" asks for
# a confirmation that takes effect when answered; "list" answers to the
# registered address; a link older than 60 days has expired;
# auto-submitted mail, bounces and strangers get no answer and change
# nothing.
. "${srcdir:-.}/tests/e2e/lib.sh"
e2e_up
ANA=ana@juicepost.example
ANAF="$CD_DIR/rules.d/users/ana.conf"
REQ=crier-request@crier.test

# ask FROM SUBJECT [HEADER] - a mail to the request address
n=0
ask() {
    n=$((n + 1))
    printf 'From: %s\nTo: %s\nSubject: %s\nMessage-ID: <ask-%s@juicepost.example>\n%s\nthanks\n' \
        "$1" "$REQ" "$2" "$n" "${3:+$3
}" >"$T/ask-$n.eml"
    pf_send_file "$T/ask-$n.eml" "${ENVELOPE-$1}" "$REQ" || fail "request $n not accepted: $PF_SWAKS_OUT"
}
# answer N - wait for Ana's N-th message, print its file name
answer() {
    pf_wait_mail $ANA "$1" 30 >/dev/null || { fail "no answer number $1 for Ana"; return 1; }
    pf_mail_files $ANA | sed -n "${1}p"
}
# log_wait TEXT - crierd logged TEXT (a fixed string)
log_wait() {
    for _ in $(seq 150); do grep -qF -- "$1" "$CD_DIR/crierd.log" && return 0; sleep 0.1; done
    fail "crierd did not log: $1"
}
# compiled_wait N - crierd has compiled rules.d N times (a change takes effect)
compiled_wait() {
    for _ in $(seq 100); do
        [ "$(grep -c 'rules: .* compiled' "$CD_DIR/crierd.log")" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}
# text FILE - a message with its quoted-printable undone
text() { perl -MMIME::QuotedPrint -0777 -ne 'print decode_qp($_)' "$1"; }
# subject FILE - the Subject of a message, unfolded
subject() { sed -n '/^Subject:/,/^[^ \t]/p' "$1" | sed '$d' | tr -d '\r\n' | sed 's/^Subject: *//; s/\t/ /g'; }

pf_send_file "$EVENTS/redelivery-juice.eml" portal@studio.test events@crier.test || fail "event"
first=$(answer 1)
notif=$(sed -n 's/^X-Crier-Notification: \([^,]*\).*/\1/p' "$first" | tr -d '\r')
token=$(sed -n 's/^List-Unsubscribe: <mailto:[^?]*?subject=mute%20\(v1[^>]*\)>.*/\1/p' "$first" | tr -d '\r')
[ -n "$token" ] && [ -n "$notif" ] || fail "no mute link in the notification"
cp "$ANAF" "$T/ana.before"

# The link mutes exactly that notification; the answer says how to undo it.
ask $ANA "mute $token"
log_wait "selfservice: mute $notif for $ANA"
reply=$(answer 2)
grep -q '^Auto-Submitted: auto-replied' "$reply" || fail "the answer is not auto-replied"
grep -q '^In-Reply-To: <ask-1@juicepost.example>' "$reply" || fail "no In-Reply-To"
text "$reply" | grep -q "is muted" || fail "the answer does not say it is muted"
undo=$(subject "$reply")
case $undo in "confirm v1.u."*) ;; *) fail "the answer's subject is no undo: $undo" ;; esac
grep -qF "\"$notif\"" "$ANAF" || fail "$notif not muted in ana.conf"
diff "$T/ana.before" "$ANAF" | grep '^<' && fail "the mute took lines (comments) out of ana.conf"
compiled_wait 2 || fail "no recompile after the mute"
cp "$ANAF" "$T/ana.muted"

# The same link again, and a forged one: nothing changes, a polite answer.
ask $ANA "mute $token"
text "$(answer 3)" | grep -q "was used before" || fail "a replayed link was not refused"
ask $ANA "mute ${token%?}x"
text "$(answer 4)" | grep -q "This link is not valid" || fail "a forged link was not refused"
cmp -s "$ANAF" "$T/ana.muted" || fail "a refused link changed ana.conf"

# A link next to other commands under a forged From: the link alone counts,
# its user alone hears; Marco gets neither Ana's answer nor his own list.
marco=$(pf_mail_count marco@juicepost.example)
printf 'From: marco@juicepost.example\nTo: %s\nSubject: hello\n\nlist\nmute content_partner/due_dates\nmute %s\n' \
    "$REQ" "$token" >"$T/forged.eml"
pf_send_file "$T/forged.eml" marco@juicepost.example "$REQ" || fail "forged request not accepted"
text "$(answer 5)" >"$T/forged.txt"
grep -q "was used before" "$T/forged.txt" || fail "the link's user did not hear of the link"
grep -q "content_partner/" "$T/forged.txt" && fail "a forged From: got a list or confirmation sent along"
sleep 1
[ "$(pf_mail_count marco@juicepost.example)" = "$marco" ] || fail "Marco got mail from a forged request"

# Undo by answering the answer.
ask $ANA "Re: $undo"
text "$(answer 6)" | grep -q "is active again" || fail "undo did not unmute"
grep -qF "\"$notif\"" "$ANAF" && fail "undo left $notif muted"
cmp -s "$ANAF" "$T/ana.before" || fail "mute and undo did not give back ana.conf byte for byte"
cp "$ANAF" "$T/ana.undone"

# A command that changes settings asks for a confirmation first.
ask $ANA "mute content_partner/qc_failures"
confirm=$(answer 7)
cmp -s "$ANAF" "$T/ana.undone" || fail "mute NAME changed ana.conf before confirmation"
ask $ANA "Re: $(subject "$confirm")"
text "$(answer 8)" | grep -q "is muted" || fail "the confirmation did not mute"
grep -q '"content_partner/qc_failures"' "$ANAF" || fail "qc_failures not muted"
compiled_wait 4 || fail "no recompile after the confirmed mute"

# Read-only commands answer the registered address.
ask ANA@JuicePost.Example "list"
text "$(answer 9)" | grep -q "content_partner/qc_failures: qc_failed, immediately, .*(muted)" \
    || fail "list does not show the muted notification"

# No answer, no change: auto-submitted mail, a bounce, a stranger.
ask $ANA "mute content_partner/due_dates" "Auto-Submitted: auto-replied"
log_wait "left unanswered: auto-submitted mail"
ENVELOPE="<>" ask $ANA "list"
log_wait "left unanswered: a bounce"
ask mallory@evil.test "list"
log_wait "mallory@evil.test is not a user"
sleep 1
[ "$(pf_mail_count $ANA)" = 9 ] || fail "Ana got $(pf_mail_count $ANA) messages, expected 9"
[ -z "$(pf_mail_files mallory@evil.test 2>/dev/null)" ] || fail "a stranger got an answer"

# A link older than 60 days has expired: crierd's clock moved on (CRIER_NOW),
# and the used tokens, expired too, are forgotten.
ask $ANA "mute content_partner/due_dates"
pending=$(subject "$(answer 10)")
crierd_stop || fail "crierd stop"
used=$(crierd_count tokens)
[ "$used" -ge 3 ] || fail "used tokens are not kept: $used"
CRIER_NOW=$(date -u -d '+61 days' +%Y-%m-%dT%H:%M:%SZ) crierd_start || fail "crierd start later"
log_wait "selfservice: forgot $used used tokens, expired since"
# ... and the event, its digests sent, is older than event_retention (30 days).
log_wait "events: forgot 1 events older than 30 days (event_retention)"
[ "$(crierd_count events)" = 0 ] || fail "events kept: $(crierd_count events)"
ask $ANA "Re: $pending"
text "$(answer 11)" | grep -q "This link has expired; nothing was changed" || fail "an old link was carried out"
grep -q '"content_partner/due_dates"' "$ANAF" && fail "an expired link muted"

log_clean
crierd_stop || fail "crierd stop"
finish
