#!/bin/bash
# contrib/quickstart.sh - the main job on the embedded default, on a fresh
# Debian 12 machine, as root: install what crier needs, build it, start a
# private Postfix on loopback with crierd as its milter and the shipped
# example rules.d, push the sample events in tests/events through it with
# swaks, and show the mail that arrived; the notification settings panel
# is on (web_listen on a loopback port), and Ana's sign-in link is printed
# and used. Nothing outside a temporary
# directory is touched (the system Postfix is neither configured nor
# started); KEEP=1 keeps the directory for a look around.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
[ "$(id -u)" = 0 ] || { echo "quickstart: run as root (it starts a private Postfix)" >&2; exit 1; }
DEPS="build-essential autoconf automake libtool pkg-config libconfig-dev liblmdb-dev
lmdb-utils libmilter-dev libgmime-3.0-dev libjansson-dev libsodium-dev
libcurl4-openssl-dev libmicrohttpd-dev postfix swaks curl"
missing=""
for p in $DEPS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "== installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq $missing >/dev/null
fi
echo "== building in build-quickstart/"
[ -f config.status ] && make distclean >/dev/null 2>&1
./autogen.sh >/dev/null 2>&1
mkdir -p build-quickstart
(cd build-quickstart && "$top/configure" -q && make -j2 >/dev/null)

srcdir=$top
top_builddir=$top/build-quickstart
work=$(mktemp -d /tmp/crier-quickstart.XXXXXX)
. tests/crierd.sh
PF_NO_TRAP=1 . tests/e2e/postfix.sh
trap 'crierd_stop >/dev/null 2>&1; pf_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

echo "== a private Postfix on 127.0.0.1 and crierd with rules.d/"
pf_setup "$work/postfix" >/dev/null
crierd_setup "$work/crier" "smtp:127.0.0.1:$PF_REINJECT_PORT"
echo 'submit_senders = ["portal@studio.test"];' >>"$CD_DIR/crier.conf"
WEB_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
WEB_URL="http://127.0.0.1:$WEB_PORT/"
printf 'web_listen = "inet:%s@127.0.0.1";\nweb_base_url = "%s";\n' "$WEB_PORT" "$WEB_URL" \
    >>"$CD_DIR/crier.conf"
crierd_start
pf_set "smtpd_milters=unix:$CD_SOCK" milter_default_action=tempfail milter_protocol=6 \
    "smtpd_recipient_restrictions=check_policy_service unix:$CD_POLICY"
pf_start
echo "   Postfix: 127.0.0.1:$PF_PORT (crierd's milter and policy service), reinjection on :$PF_REINJECT_PORT"
echo "   crierd:  $CD_DIR/crier.conf, log in $CD_DIR/crierd.log"
echo "   the notification settings panel: $WEB_URL (web_listen; TLS belongs to a reverse proxy)"

echo "== sending the sample events to events@crier.test"
for mail in tests/events/*.eml tests/events/bad/no-event-id.eml; do
    if pf_send_file "$mail" portal@studio.test events@crier.test; then
        echo "   $(basename "$mail"): accepted"
    else
        echo "   $(basename "$mail"): $(grep '^<\*\*' "$PF_SWAKS_LOG" | tail -1 | sed 's/^<\*\* *//')"
    fi
done
echo "== an event from a sender crier.conf does not allow (submit_senders)"
pf_send_file tests/events/redelivery-juice.eml mallory@elsewhere.test events@crier.test \
    || echo "   $(grep '^<\*\*' "$PF_SWAKS_LOG" | tail -1 | sed 's/^<\*\* *//')"
pf_queue_empty_wait 30 >/dev/null || true
sleep 1

echo "== the mail that arrived"
for d in "$PF_DIR"/mail/*/*; do
    rcpt="$(basename "$d")@$(basename "$(dirname "$d")")"
    echo "-- $rcpt: $(pf_mail_count "$rcpt") message(s)"
    for f in $(pf_mail_files "$rcpt"); do
        sed -n 's/^Subject: /   /p' "$f"
    done
done
first=$(pf_mail_files ana@juicepost.example | head -1)
if [ -n "$first" ]; then
    echo
    echo "== one of them in full ($first)"
    awk '/^(Received|Delivered-To|Return-Path|X-Original-To):/ {skip = 1; next}
         skip && /^[ \t]/ {next} {skip = 0; print "   " $0}' "$first"
    echo
    echo "== Ana uses its mute link (List-Unsubscribe: a mail to crier-request@crier.test)"
    link=$(sed -n 's/^List-Unsubscribe:.*<mailto:[^?]*?subject=mute%20\(v1[^>]*\)>.*/\1/p' "$first" | tr -d '\r')
    n=$(pf_mail_count ana@juicepost.example)
    printf 'From: ana@juicepost.example\nTo: crier-request@crier.test\nSubject: mute %s\n\n' "$link" \
        >"$work/mute.eml"
    pf_send_file "$work/mute.eml" ana@juicepost.example crier-request@crier.test || true
    if pf_wait_mail ana@juicepost.example $((n + 1)) 30 >/dev/null 2>&1; then
        answer=$(pf_mail_files ana@juicepost.example | tail -1)
        echo "   the answer: $(grep -m1 '^Auto-Submitted:' "$answer" | tr -d '\r')," \
            "Subject: $(sed -n 's/^Subject: //p' "$answer" | cut -c1-40)..."
        perl -MMIME::QuotedPrint -0777 -ne 'print decode_qp((split /\r?\n\r?\n/, $_, 2)[1])' \
            "$answer" | sed -n '1,3p' | sed 's/^/   | /'
        echo "   rules.d/users/ana.conf now holds:"
        grep -A1 '^muted' "$CD_DIR/rules.d/users/ana.conf" | sed 's/^/   | /'
    fi
fi
echo
echo "== the notification settings panel: Ana asks for a sign-in link"
n=$(pf_mail_count ana@juicepost.example)
curl -s -o /dev/null -d address=ana@juicepost.example "${WEB_URL}signin"
if pf_wait_mail ana@juicepost.example $((n + 1)) 30 >/dev/null 2>&1; then
    signin=$(perl -MMIME::QuotedPrint -0777 -ne 'print decode_qp($_)' \
        "$(pf_mail_files ana@juicepost.example | tail -1)" | grep -o "${WEB_URL}s/[^ ]*" | head -1)
    echo "   Ana's sign-in link (once, within 15 minutes, while this script runs):"
    echo "   $signin"
    cookie=$(curl -s -D - -o /dev/null -X POST "$signin" \
        | sed -n 's/^Set-Cookie: __Host-crier=\([^;]*\);.*/\1/p')
    echo "   signed in (POST of the link); her panel lists:"
    curl -s -b "__Host-crier=$cookie" "$WEB_URL" | grep -o 'id="n-[^"]*"' \
        | sed 's/id="n-\(.*\)"/   | \1/; s/%2F/\//g' | sort -u | head -12
fi
echo
echo "== digests waiting (crierctl digests)"
"$top_builddir/crierctl" -s "$CD_DIR/state" digests | sed 's/^/   /'
later=$(date -u -d '+8 days' +%Y-%m-%dT%H:%M:%SZ)
echo
echo "== crierd's clock moved to $later (CRIER_NOW, a testing aid): every digest is due"
crierd_stop >/dev/null
CRIER_NOW=$later crierd_start
for _ in $(seq 50); do
    [ "$("$top_builddir/crierctl" -s "$CD_DIR/state" digests --json | grep -c '"recipient"')" = 0 ] && break
    sleep 0.2
done
echo "== an event from a sender crier.conf does not allow (submit_senders)"
pf_send_file tests/events/redelivery-juice.eml mallory@elsewhere.test events@crier.test \
    || echo "   $(grep '^<\*\*' "$PF_SWAKS_LOG" | tail -1 | sed 's/^<\*\* *//')"
pf_queue_empty_wait 30 >/dev/null || true
for f in $(grep -l '^X-Crier-Digest:' "$PF_DIR"/mail/*/*/new/* 2>/dev/null); do
    rcpt=$(sed -n 's/^To: //p' "$f" | head -1)
    subj=$(awk '/^Subject:/ {s = $0; more = 1; next} more && /^[ \t]/ {s = s $0; next}
                {more = 0} END {print s}' "$f")
    echo "   $rcpt: ${subj#Subject: }"
done

echo
echo "== what crierd logged"
sed 's/^/   /' "$CD_DIR/crierd.log" | grep -v 'outbox: to=' | tail -20
