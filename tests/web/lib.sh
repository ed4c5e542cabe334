# lib.sh - what the panel's HTTP tests share: a scratch crier setup with a
# copy of the shipped rules.d compiled, a test server (web-serve) on a free
# loopback port, and curl helpers that keep each answer's status, headers
# and body.
#
#   web_setup             $T/crier.conf, key, rules.d, state; compiled
#   web_start / web_stop  the server, in the background; $URL (web_listen
#                         and web_base_url written into crier.conf)
#   req METHOD PATH [CURL ARGS...]   status in $T/status, $T/head, $T/body
#   sign_in USER          a session for USER: $COOKIE, $CSRF
#   mint ACTION USER NOTIF [ISSUED]  a token of the server's key
#   rules_sum             a digest of every file of rules.d
#   links_written N       the mailer has written N sign-in links in all
#   outbox_count          messages waiting in the outbox
. "${srcdir:-.}/tests/cli/lib.sh"
SERVE="$top_builddir/tests/web/web-serve"

web_setup() {
    cp -r "$RULES" "$T/rules.d"
    chmod -R u+w "$T/rules.d"
    head -c 32 /dev/urandom >"$T/key"
    chmod 600 "$T/key"
    cat >"$T/crier.conf" <<CONF
rules_dir = "$T/rules.d";
state_dir = "$T/state";
sender_address = "crier@crier.test";
request_address = "crier-request@crier.test";
token_key_file = "$T/key";
CONF
    "$CRIERCTL" -c "$T/crier.conf" compile >"$T/compile.out" 2>&1 \
        || { fail "compile: $(cat "$T/compile.out")"; finish; }
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

web_start() {
    PORT=$(free_port)
    URL="http://127.0.0.1:$PORT"
    sed -i '/^web_listen\|^web_base_url/d' "$T/crier.conf"
    printf 'web_listen = "inet:%s@127.0.0.1";\nweb_base_url = "%s/";\n' "$PORT" "$URL" \
        >>"$T/crier.conf"
    "$SERVE" -c "$T/crier.conf" >>"$T/serve.log" 2>&1 &
    SERVE_PID=$!
    for _ in $(seq 100); do
        curl -s -o /dev/null "$URL/static/panel.css" && return 0
        sleep 0.05
    done
    fail "web-serve did not start: $(tail -5 "$T/serve.log")"
    finish
}

web_stop() {
    kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
    SERVE_PID=
}
trap 'web_stop; rm -rf "$T"' EXIT

req() {
    method=$1 path=$2; shift 2
    curl -s -X "$method" -D "$T/head" -o "$T/body" -w '%{http_code}' "$@" "$URL$path" >"$T/status"
    tr -d '\r' <"$T/head" >"$T/head.txt" && mv "$T/head.txt" "$T/head"
}

# expect_status CODE: the last request's status
expect_status() {
    [ "$(cat "$T/status")" = "$1" ] || fail "$method $path: status $(cat "$T/status"), expected $1"
}

mint() {
    "$SERVE" -c "$T/crier.conf" -T "$@"
}

# csrf_of FILE: the first CSRF token of a page
csrf_of() {
    grep -o 'name="csrf" value="[^"]*"' "$1" | head -1 | sed 's/.*value="//; s/"$//'
}

SIGNINS=0
sign_in() {     # each session from a token of its own (its nonce)
    SIGNINS=$((SIGNINS + 1))
    req POST "/s/$(mint s "$1" "nonce$SIGNINS")"
    COOKIE=$(sed -n 's/^Set-Cookie: __Host-crier=\([^;]*\);.*/\1/p' "$T/head")
    [ -n "$COOKIE" ] || fail "sign_in $1 (#$SIGNINS): no cookie: $(cat "$T/status") $(grep -o "class=\"error\"[^<]*" "$T/body")"
    req GET / -b "__Host-crier=$COOKIE"
    CSRF=$(csrf_of "$T/body")
    [ -n "$CSRF" ] || fail "sign_in $1: no CSRF token on the panel"
}

rules_sum() {
    (cd "$T/rules.d" && find . -type f | sort | xargs sha256sum) | sha256sum
}

# links_written N - the mailer logged N sign-in links queued in all (it
# writes them after the answer went out); 5 s at most
links_written() {
    for _ in $(seq 100); do
        [ "$(grep -c 'sign-in link queued' "$T/serve.log")" -ge "$1" ] && return 0
        sleep 0.05
    done
    fail "the mailer wrote $(grep -c 'sign-in link queued' "$T/serve.log") sign-in links, not $1"
}

outbox_count() {
    n=$(mdb_stat -n -s outbox "$T/state/state.lmdb" 2>/dev/null | awk '/Entries:/ {print $2}')
    echo "${n:-0}"
}

# outbox_text: every queued message, quoted-printable decoded
outbox_text() {
    mdb_dump -n -p -s outbox "$T/state/state.lmdb" | python3 -c '
import quopri, re, sys
raw = re.sub(r"\\([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), sys.stdin.read())
sys.stdout.write(quopri.decodestring(raw.encode("latin-1")).decode("utf-8", "replace"))'
}
