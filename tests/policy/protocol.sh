#!/bin/bash
# protocol.sh - crierd's policy service over its socket, asked by a real
# client (tests/policy/policy-client): every decision of crier.conf's
# submit_* lists, the rate limit, crier's unknown addresses, requests split
# at every byte, several per read, garbage and oversized lines (the
# connection is closed, the service lives on), a stalled client that does
# not hold up the others, 200 connections at once, and a reload that
# changes the allow lists for the next request.
. "${srcdir:-.}/tests/cli/lib.sh"
. "$srcdir/tests/crierd.sh"
trap 'crierd_kill9; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
PC="$top_builddir/tests/policy/policy-client"
TEMPLATE="$srcdir/tests/policy/requests/postfix.req"

crierd_setup "$T/d"
cat >>"$T/d/crier.conf" <<'EOF'
submit_networks = ["192.0.2.0/24", "2001:db8::/32"];
submit_sasl_users = ["portal"];
submit_senders = ["portal@studio.test", "@feeds.studio.test"];
submit_rate_limit = 5;
crier_domain = "crier.test";
recipient_delimiter = "+-";
EOF
crierd_start || { fail "crierd start"; finish; }

# req NAME=VALUE... - Postfix's request (the template) with these attributes changed
req() {
    local args=(-e 's/^//') kv
    for kv in "$@"; do args+=(-e "s|^${kv%%=*}=.*|$kv|"); done
    sed "${args[@]}" "$TEMPLATE"
}
# asks EXPECTED NAME=VALUE... - one request on its own connection gets EXPECTED
asks() {
    local want=$1 got; shift
    got=$(req "$@" | "$PC" "$CD_POLICY")
    [ "$got" = "action=$want" ] || fail "$* -> '$got', expected '$want'"
}
EV=recipient=events@crier.test
NO_SUBMIT="REJECT 5.7.1 client is not allowed to submit events"
UNKNOWN="REJECT 5.1.1 no such crier address"

# Everything else is none of crier's business.
asks DUNNO
asks DUNNO recipient=events@elsewhere.test
asks DUNNO $EV protocol_state=DATA client_address=198.51.100.1
# Who may submit: a network (IPv4, IPv6, IPv4-mapped), a SASL login, a sender.
asks DUNNO $EV client_address=192.0.2.7
asks DUNNO $EV client_address=2001:db8::5
asks DUNNO $EV client_address=::ffff:192.0.2.9
asks DUNNO $EV sasl_username=portal
asks DUNNO $EV sasl_username=PORTAL
asks DUNNO $EV sender=portal@studio.test
asks DUNNO $EV sender=robot@feeds.studio.test
asks DUNNO recipient=EVENTS@Crier.Test sender=portal@studio.test
# ... and nobody else.
asks "$NO_SUBMIT" $EV
asks "$NO_SUBMIT" $EV client_address=2001:db9::5 sasl_username=someone
asks "$NO_SUBMIT" $EV sender=portal@studio.test.evil.example
asks "$NO_SUBMIT" $EV sender=robot@sub.feeds.studio.test
asks "$NO_SUBMIT" $EV sender= client_address=garbage
# Crier's addresses: the request address is open, extensions and others in
# crier_domain are not.
asks DUNNO recipient=crier-request@crier.test
asks DUNNO recipient=crier@crier.test
asks "$UNKNOWN" recipient=events+bogus@crier.test
asks "$UNKNOWN" recipient=events-x@crier.test
asks "$UNKNOWN" recipient=crier-request+mute@crier.test
asks "$UNKNOWN" recipient=nobody@crier.test
asks "$UNKNOWN" recipient=events+bogus@crier.test client_address=192.0.2.7
grep -q 'NOQUEUE: policy reject: client=mx.example.net\[198.51.100.20\] from=<someone@example.net> to=<events@crier.test>: not an allowed submitter' \
    "$CD_DIR/crierd.log" || fail "a refusal is not logged with client, sender and recipient"
grep -q 'to=<nobody@crier.test>: unknown crier address' "$CD_DIR/crierd.log" \
    || fail "an unknown address is not logged"

# The rate limit: 5 events a minute per submitter (a SASL login, else the
# client address), in a burst, then 4.7.1; other submitters have their own.
for i in 1 2 3 4 5 6; do req $EV client_address=192.0.2.50; done | "$PC" "$CD_POLICY" >"$T/rate"
[ "$(grep -c '^action=DUNNO$' "$T/rate")" = 5 ] || fail "5 within the limit: $(cat "$T/rate")"
grep -q '^action=DEFER 4.7.1 too many events from this submitter' "$T/rate" || fail "6th not deferred"
asks DUNNO $EV client_address=192.0.2.51
for i in 1 2 3 4 5 6; do req $EV client_address=192.0.2.50 sasl_username=portal; done \
    | "$PC" "$CD_POLICY" | tail -1 | grep -q DEFER || fail "the SASL login has no bucket of its own"
grep -q 'policy defer: client=.*192.0.2.50.*over submit_rate_limit 5' "$CD_DIR/crierd.log" \
    || fail "a deferral is not logged"

# Requests split anywhere, or several in one read: the same answers in order.
{ req; req $EV; req recipient=nobody@crier.test; req recipient=crier-request@crier.test; req; } >"$T/mixed"
"$PC" "$CD_POLICY" <"$T/mixed" >"$T/whole"
[ "$(wc -l <"$T/whole")" = 5 ] || fail "5 requests in one write: $(cat "$T/whole")"
for piece in 1 2 3 7 64 659; do
    "$PC" -s $piece "$CD_POLICY" <"$T/mixed" >"$T/split"
    cmp -s "$T/split" "$T/whole" || fail "requests in pieces of $piece bytes: $(cat "$T/split")"
done
printf 'request=smtpd_access_policy\r\nrecipient=nobody@crier.test\r\n\r\n' | "$PC" "$CD_POLICY" \
    | grep -q "^action=$UNKNOWN" || fail "CRLF line ends"

# Not the protocol: the connection is closed and the log says why.
bad() {
    local got
    got=$("$PC" "$CD_POLICY")
    [ "$got" = closed ] || fail "$1: '$got', expected the connection closed"
    grep -q "policy: $2; closing the connection" "$CD_DIR/crierd.log" || fail "$1 not logged"
}
printf 'hello there\n\n' | bad "a line without =" "request line is not name=value"
{ printf 'recipient='; head -c 5000 /dev/zero | tr '\0' a; printf '\n\n'; } \
    | bad "a 5000-byte line" "request line longer than 4096 bytes"
{ for i in $(seq 300); do printf 'x%s=%s\n' "$i" "$(head -c 60 /dev/zero | tr '\0' y)"; done; echo; } \
    | bad "an 18 KB request" "request longer than 16384 bytes"
printf 'recipient=a@b\nrecipient=events@crier.test\n\n' | bad "a repeated attribute" "attribute recipient given twice"
printf 'recipient=a\0b\n\n' | bad "a NUL byte" "NUL byte in a request line"
printf '\n\n' | bad "an empty request" "empty request"
head -c 3000 /dev/urandom | tr '\n' x | "$PC" "$CD_POLICY" >/dev/null
asks DUNNO                              # the service lives on

# A client that stalls inside a request holds up nobody else.
req | "$PC" -s 100 -d 60000 "$CD_POLICY" >/dev/null 2>&1 &
staller=$!
sleep 0.3
asks DUNNO
asks "$UNKNOWN" recipient=nobody@crier.test
kill $staller 2>/dev/null; wait $staller 2>/dev/null

# Many connections at once.
req >"$T/one"
"$PC" -b -c 200 -t 1 "$CD_POLICY" <"$T/one" >"$T/many" || fail "200 connections: $(cat "$T/many")"
grep -q 'answers=[1-9]' "$T/many" || fail "200 connections got no answers"

# A reload changes the allow lists for the next request; a bad one keeps them.
pid=$(cat "$CD_DIR/run/crierd.pid")
reloads() { grep -c 'reload: configuration .* in service' "$CD_DIR/crierd.log"; }
before=$(reloads)
sed -i 's|"192.0.2.0/24"|"198.51.100.0/24"|' "$CD_DIR/crier.conf"
kill -HUP "$pid"
for _ in $(seq 50); do [ "$(reloads)" -gt "$before" ] && break; sleep 0.1; done
asks DUNNO $EV client_address=198.51.100.1
asks "$NO_SUBMIT" $EV client_address=192.0.2.7
sed -i 's|"198.51.100.0/24"|"198.51.100.0/33"|' "$CD_DIR/crier.conf"
kill -HUP "$pid"
for _ in $(seq 50); do grep -q 'submit_networks: "198.51.100.0/33"' "$CD_DIR/crierd.log" && break; sleep 0.1; done
grep -q 'submit_networks: "198.51.100.0/33".*keeping the running configuration' "$CD_DIR/crierd.log" \
    || fail "a bad network is not reported on reload"
asks DUNNO $EV client_address=198.51.100.1

crierd_stop || fail "crierd stop"
[ -e "$CD_POLICY" ] && fail "the policy socket outlived crierd"
finish
