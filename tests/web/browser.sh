#!/bin/bash
# browser.sh - the notification settings panel in a real browser: Debian's
# headless Chromium driven by tests/web/journey.py (python3-selenium and
# chromium-driver), with axe-core from npm checking every page against
# WCAG 2 A/AA. The reference product's whole journey with JavaScript on and
# off, a keyboard-only session, and screenshots at 1280 and 390 px wide,
# kept in $top_builddir/tests/web/screenshots/.
#
# It installs what it needs: the Debian packages when missing (as root;
# otherwise it fails and names them), and axe-core with npm into the build
# tree (tests/web/node/). It never skips: a registry out of reach is a
# failure.
#
# The server (start_panel): as root, a real crierd serving the panel, with
# a private Postfix as its milter; the sign-in mail is read from Ana's
# Maildir, and the journey ends with an event sent through Postfix (swaks)
# and the one mail the new settings call for. Otherwise (or with
# CRIER_BROWSER_SERVER=serve) the test server tests/web/web-serve, the
# sign-in mail read from the outbox.
SERVER=${CRIER_BROWSER_SERVER:-$([ "$(id -u)" = 0 ] && echo crierd || echo serve)}
case $SERVER in
    crierd) . "${srcdir:-.}/tests/e2e/lib.sh" ;;
    serve) . "${srcdir:-.}/tests/web/lib.sh" ;;
    *) echo "CRIER_BROWSER_SERVER: crierd or serve, not '$SERVER'" >&2; exit 2 ;;
esac

PY=/usr/bin/python3     # Debian's, which has python3-selenium, whatever PATH says
AXE_VERSION=${CRIER_AXE_VERSION:-4.14.1}
NODE_DIR="$top_builddir/tests/web/node"
AXE="$NODE_DIR/node_modules/axe-core/axe.min.js"
SHOTS="$top_builddir/tests/web/screenshots"
ANA=ana@juicepost.example
BROWSER_PID='' SERVE_PID='' MAIL_ARGS=''

cleanup() {
    # the browser session, its chromedriver and Chromium: our process group only
    [ -n "$BROWSER_PID" ] && kill -- -"$BROWSER_PID" 2>/dev/null
    stop_panel
    if [ -d "$T/shots" ]; then
        mkdir -p "$SHOTS" && cp "$T"/shots/* "$SHOTS"/ 2>/dev/null
    fi
    rm -rf "$T"
}
trap cleanup EXIT

# need_packages: chromium, chromium-driver, python3-selenium, and an npm
need_packages() {
    missing=
    for p in chromium chromium-driver python3-selenium; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' \
            || missing="$missing $p"
    done
    command -v npm >/dev/null || missing="$missing npm"  # or Node.js's own npm
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        fail "missing Debian packages:$missing (apt-get install them as root)"
        finish
    fi
    echo "browser.sh: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq $missing; } >"$T/apt.log" 2>&1 \
        || { fail "apt-get install$missing: $(tail -3 "$T/apt.log")"; finish; }
}

# install_axe: axe-core $AXE_VERSION from the npm registry, once per build tree
install_axe() {
    if [ -f "$AXE" ] && grep -q "\"version\": \"$AXE_VERSION\"" \
            "$NODE_DIR/node_modules/axe-core/package.json"; then
        return 0
    fi
    mkdir -p "$NODE_DIR"
    if ! timeout 120 npm install --prefix "$NODE_DIR" --cache "$NODE_DIR/.npm-cache" \
            --no-audit --no-fund --no-save --no-package-lock --fetch-retries=2 \
            --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=10000 "axe-core@$AXE_VERSION" \
            >"$T/npm.log" 2>&1 || [ ! -f "$AXE" ]; then
        echo "browser.sh: npm could not install axe-core@$AXE_VERSION" \
            "(registry: $(npm config get registry 2>/dev/null)):" >&2
        sed 's/^/  | /' "$T/npm.log" >&2
        fail "axe-core not installed: the npm registry must be reachable for this test"
        finish
    fi
}

# start_panel: the one place that says which server the browser talks to
# (see the top). Sets URL and MAIL_ARGS, the journey's arguments for the mail.
start_panel() {
    if [ "$SERVER" = serve ]; then
        web_setup
        web_start
        MAIL_ARGS="--outbox $T/state/state.lmdb"
        return
    fi
    PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    URL="http://127.0.0.1:$PORT"
    E2E_CONF="web_listen = \"inet:$PORT@127.0.0.1\"; web_base_url = \"$URL/\";"
    e2e_up
    for _ in $(seq 100); do
        curl -s -o /dev/null "$URL/static/panel.css" && break
        sleep 0.1
    done
    curl -s -o /dev/null "$URL/static/panel.css" || { fail "crierd does not serve the panel"; finish; }
    MAIL_ARGS="--maildir $(pf_maildir $ANA) --smtp ${PF_SEND_PORT:-$PF_PORT}
        --event $EVENTS/redelivery-juice.eml"
}

stop_panel() {
    if [ "$SERVER" = serve ]; then
        web_stop
    else
        crierd_stop >/dev/null; pf_cleanup
    fi
}

# server_clean: the server logged no error
server_clean() {
    if [ "$SERVER" = serve ]; then
        grep -q "error:" "$T/serve.log" && fail "the server logged: $(grep -m2 'error:' "$T/serve.log")"
    else
        log_clean
    fi
    return 0
}

need_packages
install_axe
start_panel
mkdir -p "$T/shots"
rm -f "$SHOTS"/*.png "$SHOTS"/failure-* 2>/dev/null

# its own process group, so that the cleanup can end Chromium and chromedriver
# whatever state the session ends in
setsid timeout 170 "$PY" "$srcdir/tests/web/journey.py" --url "$URL" --user "$ANA" \
    --axe "$AXE" --shots "$T/shots" --work "$T" $MAIL_ARGS ${JOURNEY_ONLY:+--only $JOURNEY_ONLY} \
    >"$T/journey.out" 2>&1 &
BROWSER_PID=$!
wait "$BROWSER_PID"
rc=$?
kill -- -"$BROWSER_PID" 2>/dev/null
BROWSER_PID=
cat "$T/journey.out"
[ "$rc" = 0 ] || fail "journey.py exited $rc: $(grep -m1 '^FAIL' "$T/journey.out")"
tail -1 "$T/journey.out" | grep -Eq '^[0-9]+ steps$' || fail "journey.py did not finish"
server_clean
finish
