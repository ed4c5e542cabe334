#!/bin/bash
# tests/e2e/selftest.sh -- proves that tests/e2e/postfix.sh works (run as root).
#
#   tests/e2e/selftest.sh            # prints "ok" and exits 0, or "FAIL ..." and exits 1
#   KEEP=1 tests/e2e/selftest.sh     # keep the instance directory for inspection
#
# Sets up a private Postfix, sends 3 messages with swaks to two addresses in two
# domains and 1 with smtp-source, checks the Maildirs, checks the no-milter reinject
# port (while a dead milter makes the main port answer 451), and stops the instance.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=postfix.sh
. "$here/postfix.sh"

fail() {
    echo "FAIL $*"
    exit 1
}

for c in postfix swaks smtp-source; do
    command -v "$c" >/dev/null || fail "$c is not installed (apt-get install -y postfix swaks)"
done
[ "$(id -u)" = 0 ] || fail "must run as root"

t0=$(date +%s.%N)
pf_setup "$(mktemp -d /tmp/crier-e2e.XXXXXX)" || fail "pf_setup"
pf_start || fail "pf_start"

msgdir=$PF_DIR/msgs
mkdir -p "$msgdir"
mkmsg() { # mkmsg FILE FROM TO SUBJECT
    printf 'From: <%s>\nTo: <%s>\nSubject: %s\nMessage-ID: <%s.%s@crier.test>\nDate: %s\n\nbody of %s\n' \
        "$2" "$3" "$4" "$4" "$$" "$(date -R)" "$4" >"$1"
}

# 1. Three messages with swaks: two addresses in two domains (one with an extension
#    and upper case, which must land in the same Maildir).
mkmsg "$msgdir/m1" sender@partner.test alice@crier.test selftest-1
mkmsg "$msgdir/m2" sender@partner.test bob@studio.test selftest-2
mkmsg "$msgdir/m3" sender@partner.test Alice+tag@Crier.test selftest-3
pf_send_file "$msgdir/m1" sender@partner.test alice@crier.test || fail "swaks m1: $PF_SWAKS_OUT"
grep -q '^<-  *250 .*queued as' "$PF_SWAKS_LOG" || fail "no 250 queued as in transcript: $PF_SWAKS_OUT"
pf_send_file "$msgdir/m2" sender@partner.test bob@studio.test || fail "swaks m2: $PF_SWAKS_OUT"
# (wait for the first one so that the oldest-first order below is certain)
pf_wait_mail alice@crier.test 1 || fail "alice@crier.test did not get message 1"
pf_send_file "$msgdir/m3" sender@partner.test Alice+tag@Crier.test || fail "swaks m3: $PF_SWAKS_OUT"

# 2. One message with smtp-source.
smtp-source -c -m 1 -s 1 -l 512 -f load@partner.test -t carol@juicepost.example \
    "127.0.0.1:$PF_PORT" >/dev/null 2>&1 || fail "smtp-source"

pf_wait_mail alice@crier.test 2 || fail "alice@crier.test did not get 2 messages"
pf_wait_mail bob@studio.test 1 || fail "bob@studio.test did not get 1 message"
pf_wait_mail carol@juicepost.example 1 || fail "carol@juicepost.example did not get 1 message"
[ "$(pf_mail_count alice@crier.test)" = 2 ] || fail "alice count $(pf_mail_count alice@crier.test)"
[ "$(pf_mail_count bob@studio.test)" = 1 ] || fail "bob count $(pf_mail_count bob@studio.test)"
[ "$(pf_mail_count carol@juicepost.example)" = 1 ] || fail "carol count"
[ -d "$PF_DIR/mail/crier.test/alice/new" ] || fail "Maildir layout: no $PF_DIR/mail/crier.test/alice/new"
mapfile -t files < <(pf_mail_files alice@crier.test)
[ "${#files[@]}" = 2 ] || fail "pf_mail_files returned ${#files[@]} files"
grep -q '^Subject: selftest-1' "${files[0]}" || fail "oldest alice message is not selftest-1"
grep -q '^Subject: selftest-3' "${files[1]}" || fail "newest alice message is not selftest-3"
grep -qi '^Delivered-To: alice+tag@crier.test' "${files[1]}" || fail "no Delivered-To: alice+tag@crier.test"

# 3. A dead milter: the main port must tempfail, the reinject port must still deliver.
pf_set "smtpd_milters=unix:$PF_DIR/no-such-milter.sock" || fail "pf_set"
pf_reload || fail "pf_reload"
mkmsg "$msgdir/m4" crier@crier.test dave@northlight.example selftest-4
pf_send_file "$msgdir/m4" crier@crier.test dave@northlight.example && fail "main port accepted mail with a dead milter: $PF_SWAKS_OUT"
grep -q '^<[-~*]* *4[0-9][0-9] ' "$PF_SWAKS_LOG" || fail "no 4xx reply with dead milter: $PF_SWAKS_OUT"
PF_SEND_PORT=$PF_REINJECT_PORT pf_send_file "$msgdir/m4" crier@crier.test dave@northlight.example \
    || fail "reinject port refused: $PF_SWAKS_OUT"
pf_wait_mail dave@northlight.example 1 || fail "reinjected message not delivered"
[ "$(pf_mail_count dave@northlight.example)" = 1 ] || fail "dave count"
pf_queue_empty_wait 10 || fail "queue not empty"
grep -q "/reinject/smtpd" "$PF_LOG" || fail "reinject listener did not log under its own name"

# 4. Stop: no process of this instance may remain.
pf_stop || fail "pf_stop"
pf_running && fail "still running after pf_stop"
left=$(_pf_procs)
[ -z "$left" ] || fail "processes left after pf_stop: $left"

t1=$(date +%s.%N)
echo "ok ($(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s, ports $PF_PORT/$PF_REINJECT_PORT)"
exit 0
