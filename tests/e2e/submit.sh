#!/bin/bash
# submit.sh - every path an event can take into Postfix is checked by
# crierd's milter with the policy service's own decision, not only the
# listener that asks the policy service: a second smtpd listener without
# check_policy_service, XCLIENT from a disallowed address on it, and local
# submissions through the private instance's own sendmail (pickup, with
# crierd in non_smtpd_milters). A refused event gets 5.7.1 (at RCPT from
# smtpd; at DATA, which becomes a bounce, for sendmail, whose reply nobody
# waits for) and is never stored; the allowed portal still gets 250 and
# its event is stored, and so does a local user listed in
# submit_local_users. root is not special. A local submission's user is
# its envelope sender, tied to the login by local_login_sender_maps as
# main.cf.snippet sets it: nobody cannot pass for a listed user with -f.
#
# The private instance's sendmail run by another user than root needs
# its configuration directory in alternate_config_directories of
# /etc/postfix/main.cf: the test bind-mounts a copy that says so over
# /etc/postfix, in a mount namespace of its own (unshare -m), so the
# system's Postfix configuration is neither read nor changed for it.
. "${srcdir:-.}/tests/e2e/lib.sh"
command -v unshare >/dev/null || { echo "SKIP: unshare not installed"; exit 77; }
E2E_CONF='
submit_networks = ["192.0.2.0/24"];
submit_senders = ["portal@studio.test"];
submit_local_users = ["daemon"];'
e2e_up
OPEN_PORT=$(_pf_free_port) || { fail "no port"; finish; }
_PF_PORT_LOCKS+=("$_PF_LOCKDIR/$OPEN_PORT")
echo '/^(.+)$/ $1 $1@crier.test' >"$PF_CONF/login_senders"
pf_set "smtpd_recipient_restrictions=check_policy_service unix:$CD_POLICY" \
    smtpd_authorized_xclient_hosts=127.0.0.0/8 "non_smtpd_milters=unix:$CD_SOCK" \
    "local_login_sender_maps=regexp:$PF_CONF/login_senders"
# A second listener as a submission service might be: its own restrictions,
# without crier's policy service; crierd's milter applies all the same.
pf_postconf -M "$OPEN_PORT/inet=127.0.0.1:$OPEN_PORT inet n - n - - smtpd" || fail "listener"
pf_postconf -P "127.0.0.1:$OPEN_PORT/inet/smtpd_recipient_restrictions=permit_auth_destination,reject" \
    "127.0.0.1:$OPEN_PORT/inet/syslog_name=postfix-crier-test/open" || fail "listener options"
pf_reload || fail "pf_reload"
_pf_wait_listen "$OPEN_PORT" || fail "no listener on $OPEN_PORT"
cases=0

# ev ID - a redelivery request for Juice Post with Event-Id ID
ev() {
    printf 'From: portal@studio.test\nTo: events@crier.test\nSubject: %s\n\nEvent: redelivery-requested\nEvent-Id: %s\nPartner: Juice Post\nTitle: Episode %s\nSource-Type: Video\nLanguage: de\n' \
        "$1" "$1" "$1" >"$T/$1.eml"
    chmod 644 "$T/$1.eml"
    echo "$T/$1.eml"
}
# stored ID - crierd's store holds the event ID
stored() {
    mdb_dump -n -p -s events "$CD_DIR/state/state.lmdb" 2>/dev/null | grep -qx " $1"
}
# refused ID WHY - the event is not in the store, and crierd logged why
refused() {
    cases=$((cases + 1))
    stored "$1" && fail "$1: stored"
    grep -q "event refused: .*: 5.7.1 $2" "$CD_DIR/crierd.log" || fail "$1: no refusal logged ($2)"
}
# accepted ID - the event is in the store
accepted() {
    cases=$((cases + 1))
    for _ in $(seq 50); do stored "$1" && return 0; sleep 0.1; done
    fail "$1: not stored"
}

# The allowed portal: 250 on either listener, stored.
PF_SWAKS_EXTRA="--xclient-addr 192.0.2.10" pf_send_file "$(ev portal-main)" other@studio.test \
    events@crier.test || fail "the portal refused on the main listener: $PF_SWAKS_OUT"
accepted portal-main
PF_SEND_PORT=$OPEN_PORT PF_SWAKS_EXTRA="--xclient-addr 192.0.2.10" pf_send_file "$(ev portal-open)" \
    other@studio.test events@crier.test || fail "the portal refused on the open listener: $PF_SWAKS_OUT"
accepted portal-open
PF_SEND_PORT=$OPEN_PORT pf_send_file "$(ev portal-sender)" portal@studio.test events@crier.test \
    || fail "an allowed sender refused on the open listener: $PF_SWAKS_OUT"
accepted portal-sender

# The listener without the policy service: 5.7.1 from the milter at RCPT,
# for the client itself and for a disallowed address given by XCLIENT.
PF_SEND_PORT=$OPEN_PORT pf_send_file "$(ev open-direct)" mallory@evil.test events@crier.test \
    && fail "a disallowed client's event accepted on the open listener"
grep -q '^<\*\* *550 5.7.1 client is not allowed to submit events' "$PF_SWAKS_LOG" \
    || fail "open-direct: no 550 5.7.1 at RCPT: $PF_SWAKS_OUT"
grep -q '^ *-> *DATA' "$PF_SWAKS_LOG" && fail "open-direct got as far as DATA"
refused open-direct "client is not allowed"
PF_SEND_PORT=$OPEN_PORT PF_SWAKS_EXTRA="--xclient-addr 198.51.100.7" pf_send_file \
    "$(ev open-xclient)" mallory@evil.test events@crier.test \
    && fail "an XCLIENT address outside submit_networks accepted"
grep -q '^<\*\* *550 5.7.1 client is not allowed to submit events' "$PF_SWAKS_LOG" \
    || fail "open-xclient: no 550 5.7.1: $PF_SWAKS_OUT"
refused open-xclient "client is not allowed"
grep -q 'event refused: client=.*\[198.51.100.7\] .*from=<mallory@evil.test>' "$CD_DIR/crierd.log" \
    || fail "the XCLIENT address is not in the log"
# Other recipients of the same mail go on: only crier's address is refused.
PF_SEND_PORT=$OPEN_PORT pf_send_file "$(ev open-mixed)" mallory@evil.test events@crier.test \
    someone@partner.test || fail "open-mixed: the other recipient refused too: $PF_SWAKS_OUT"
refused open-mixed "client is not allowed"
pf_wait_mail someone@partner.test 1 || fail "open-mixed: the other recipient got nothing"

# Local submissions: the private instance's own sendmail, as a user.
mkdir -p "$T/etc-postfix"
cp -a /etc/postfix/. "$T/etc-postfix/"
echo "alternate_config_directories = $PF_CONF" >>"$T/etc-postfix/main.cf"
# as USER ARGS... - run sendmail of the private Postfix as USER
as() {
    local user=$1
    shift
    unshare -m sh -c 'mount --bind "$0" /etc/postfix && exec su -s /bin/sh "$1" -c "$2"' \
        "$T/etc-postfix" "$user" "/usr/sbin/sendmail -C $PF_CONF $*"
}
bounces() { grep -c "status=bounced (local user $1 is not allowed to submit events)" "$PF_LOG"; }
as nobody events@crier.test <"$(ev local-nobody)" || fail "sendmail as nobody"
as nobody -f daemon@crier.test events@crier.test <"$(ev local-forged)" 2>"$T/forged.err" \
    && fail "sendmail -f daemon@ as nobody: accepted by postdrop"
grep -q 'not authorized to use sender' "$T/forged.err" || fail "local-forged: $(cat "$T/forged.err")"
cases=$((cases + 1))
as root events@crier.test <"$(ev local-root)" || fail "sendmail as root"
as daemon events@crier.test <"$(ev local-daemon)" || fail "sendmail as daemon"
accepted local-daemon
for _ in $(seq 100); do
    [ "$(bounces nobody)" -ge 1 ] && [ "$(bounces root)" -ge 1 ] && break
    sleep 0.1
done
refused local-nobody "local user nobody is not allowed"
[ "$(bounces nobody)" = 1 ] || fail "local-nobody: no bounce with 5.7.1 in the mail log"
grep -q 'event refused: client=local user=nobody .*from=<nobody@crier.test>' "$CD_DIR/crierd.log" \
    || fail "local-nobody: the refusal does not name the user"
refused local-root "local user root is not allowed"
[ "$(bounces root)" = 1 ] || fail "local-root: no bounce with 5.7.1 in the mail log"

pf_queue_empty_wait 30 || fail "mail left in the queue"
stored local-forged && fail "local-forged: stored"
n=$(crierd_count events)
[ "$n" = 4 ] || fail "events stored: $n, expected 4 (portal-main, portal-open, portal-sender, local-daemon)"
log_clean
crierd_stop || fail "crierd stop"
echo "submit.sh: $cases cases checked"
finish
