#!/bin/bash
# web.sh - the notification settings panel inside a real crierd, with a
# private Postfix: a sign-in link asked for on the panel arrives by mail
# at once (the outbox is woken) and signs Ana in; a default she mutes
# there is not mailed to her while others still get it; a notification
# carries List-Unsubscribe with the one-click link first,
# List-Unsubscribe-Post and "Manage your notifications"; a GET of the
# one-click link changes nothing and its RFC 8058 POST mutes; the manage
# link signs in; the panel's process holds none of the supervisor's
# descriptors (the milter's and the policy service's sockets), and killed
# with SIGKILL is started again while the milter keeps serving; a SIGHUP
# to every crierd process keeps the panel serving, and a new web_base_url
# (or web_listen, bound as the service user) starts it anew; the
# form's preview counts the events kept that the notification would have
# delivered; a digest of several notifications carries the one-click link
# of its frequency (CRIER_NOW moves crierd's clock to the digest), whose
# GET changes nothing, whose POST mutes each daily notification of the
# person once (no next digest), and which is refused used or altered.
. "${srcdir:-.}/tests/e2e/lib.sh"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
E2E_CONF="web_listen = \"inet:$PORT@127.0.0.1\"; web_base_url = \"$URL\";"
e2e_up
ANA=ana@juicepost.example
ANAF="$CD_DIR/rules.d/users/ana.conf"
SUP=$(cat "$CD_DIR/run/crierd.pid")

# req METHOD PATH [CURL ARGS...] - status in $T/status, headers $T/head, body $T/body
req() {
    method=$1 path=$2; shift 2
    curl -s -m 10 -X "$method" -D "$T/head" -o "$T/body" -w '%{http_code}' "$@" "$URL$path" >"$T/status"
    tr -d '\r' <"$T/head" >"$T/head.txt" && mv "$T/head.txt" "$T/head"
}
status_is() { [ "$(cat "$T/status")" = "$1" ] || fail "$method $path: status $(cat "$T/status"), expected $1 ($2)"; }
# text FILE - a message with its quoted-printable undone
text() { perl -MMIME::QuotedPrint -0777 -ne 'print decode_qp($_)' "$1"; }
# web_pid - the panel's process: the supervisor's child named crierd-web
web_pid() { pgrep -P "$SUP" -x crierd-web; }
# log_wait TEXT [N] - crierd logged TEXT (a fixed string) N times
log_wait() {
    for _ in $(seq 150); do
        [ "$(grep -cF -- "$1" "$CD_DIR/crierd.log")" -ge "${2:-1}" ] && return 0
        sleep 0.1
    done
    fail "crierd did not log: $1"
}
# serving - the panel answers its sign-in page
serving() {
    for _ in $(seq 100); do
        [ "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$URL/")" = 200 ] && return 0
        sleep 0.1
    done
    return 1
}
# panel_fds - the panel's process keeps only stdin, stdout, stderr, its
# listening socket, the state lock and what it opens itself (webproc_child):
# each fd above 2 is web_listen's socket (its inode from /proc/net/tcp),
# state_dir's crierd.lock (every process of crierd holds it until it ends:
# no second crierd starts meanwhile), a file of its LMDB stores in state_dir
# (rules, state, web: the data file twice and its -lock), libmicrohttpd's
# eventfd and epoll, an inotify (a watch on rules.d, where the panel keeps
# one), or a datagram socket (syslog's, where there is a /dev/log). Not the milter's or the policy service's listening socket
# (inodes from /proc/net/unix), the worker's pipe, or what crierd itself
# inherited.
panel_fds() {
    pid=$(web_pid) || { fail "panel_fds: no panel process"; return; }
    web=$(awk -v a=":$(printf %04X "$PORT")" '$2 ~ a"$" && $4 == "0A" {print $10}' /proc/net/tcp)
    milter=$(awk -v p="$CD_SOCK" '$8 == p {print $7}' /proc/net/unix)
    policy=$(awk -v p="$CD_POLICY" '$8 == p {print $7}' /proc/net/unix)
    [ -n "$web" ] && [ -n "$milter" ] && [ -n "$policy" ] \
        || { fail "panel_fds: socket inodes web='$web' milter='$milter' policy='$policy'"; return; }
    for f in /proc/"$pid"/fd/*; do
        n=${f##*/} to=$(readlink "$f") || continue
        [ "$n" -le 2 ] && continue
        case $to in
            "socket:[$web]" | "anon_inode:[eventfd]" | "anon_inode:[eventpoll]") ;;
            "anon_inode:inotify") ;;
            "$CD_DIR/state/crierd.lock" | "$CD_DIR"/state/*.lmdb | "$CD_DIR"/state/*.lmdb-lock) ;;
            "socket:[$milter]") fail "the panel ($1) has the milter's socket as fd $n" ;;
            "socket:[$policy]") fail "the panel ($1) has the policy service's socket as fd $n" ;;
            socket:*) ino=${to#socket:[}
                awk -v i="${ino%]}" '$7 == i && $5 == "0002" {f = 1} END {exit !f}' /proc/net/unix \
                    || fail "the panel ($1) has a socket not its own as fd $n: $to" ;;
            *) fail "the panel ($1) has fd $n -> $to, not its own" ;;
        esac
    done
}
# event FILE ID - a sample event under another Event-Id, through Postfix
event() {
    sed "s/^Event-Id: .*/Event-Id: $2/" "$1" >"$T/$2.eml"
    pf_send_file "$T/$2.eml" portal@studio.test events@crier.test || fail "event $2: $PF_SWAKS_OUT"
}
# mail_of RCPT ID - RCPT's notification of event ID, once it is there
mail_of() {
    for _ in $(seq 200); do
        f=$(grep -l "^X-Crier-Event: $2" $(pf_mail_files "$1") 2>/dev/null | head -1)
        [ -n "$f" ] && { echo "$f"; return 0; }
        sleep 0.1
    done
    return 1
}

# The at-risk sample, its body decoded, so that event() can give it new Event-Ids.
{ printf 'From: portal@studio.example\nTo: events@crier.example\nSubject: at risk\n'
  printf 'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n'
  sed '1,/^$/d' "$EVENTS/at-risk-base64.eml" | base64 -d; } >"$T/at-risk.eml"
AT_RISK=$T/at-risk.eml

serving || { fail "the panel does not answer on $URL"; finish; }
[ -n "$(web_pid)" ] || fail "no crierd-web process under the supervisor $SUP"
panel_fds "at the start"

# --- signing in by mail: the link arrives at once, a GET only shows a button ---
t0=$(date +%s)
req POST /signin -d address=$ANA; status_is 200 "sign-in request"
pf_wait_mail $ANA 1 20 || { fail "no sign-in mail for Ana"; finish; }
[ $(($(date +%s) - t0)) -le 10 ] || fail "the sign-in mail took $(($(date +%s) - t0)) s (outbox not woken)"
link=$(text "$(pf_mail_files $ANA | head -1)" | grep -o "$URL/s/v1\.s\.[^ ]*" | head -1)
[ -n "$link" ] || { fail "no sign-in link in the mail"; finish; }
req GET "${link#"$URL"}"; status_is 200 "GET of the sign-in link"
grep -q "Sign in as" "$T/body" || fail "GET of the sign-in link shows no button"
grep -qi '^Set-Cookie' "$T/head" && fail "a GET of the sign-in link set a cookie"
req POST "${link#"$URL"}"; status_is 303 "POST of the sign-in link"
COOKIE=$(sed -n 's/^Set-Cookie: __Host-crier=\([^;]*\);.*/\1/p' "$T/head")
[ -n "$COOKIE" ] || { fail "no session cookie"; finish; }
req POST "${link#"$URL"}"; status_is 410 "the sign-in link a second time"
req GET / -b "__Host-crier=$COOKIE"; status_is 200 "panel"
CSRF=$(grep -o 'name="csrf" value="[^"]*"' "$T/body" | head -1 | sed 's/.*value="//; s/"$//')
[ -n "$CSRF" ] || fail "no CSRF token on the panel"

# --- a default muted on the panel: Ana is not mailed, Marco still is ---
req POST /mute -b "__Host-crier=$COOKIE" --data-urlencode "csrf=$CSRF" \
    -d name=content_partner/at_risk_rush; status_is 303 "mute on the panel"
grep -q 'content_partner/at_risk_rush' "$ANAF" || fail "the mute is not in ana.conf"
grep -q 'web: user=<ana@juicepost.example> mute notification=content_partner/at_risk_rush' \
    "$CD_DIR/crierd.log" || fail "the mute was not logged"
event "$AT_RISK" web-at-risk-1
event "$EVENTS/redelivery-juice.eml" web-redelivery-1
mail_of marco@juicepost.example web-at-risk-1 >/dev/null || fail "Marco did not get the at-risk event"
n=$(mail_of $ANA web-redelivery-1) || { fail "Ana did not get the redelivery"; finish; }
pf_queue_empty_wait 20 || fail "queue not empty"
grep -l "^X-Crier-Event: web-at-risk-1" $(pf_mail_files $ANA) >/dev/null 2>&1 \
    && fail "Ana got the at-risk event she muted on the panel"

# --- the notification's headers and footer ---
grep -q "^List-Unsubscribe: <$URL/u/v1\.m\.[^>]*>, <mailto:crier-request@crier.test?subject=mute%20v1\.m\.[^>]*>" "$n" \
    || fail "List-Unsubscribe: $(grep '^List-Unsubscribe:' "$n")"
grep -q '^List-Unsubscribe-Post: List-Unsubscribe=One-Click' "$n" || fail "no List-Unsubscribe-Post"
manage=$(text "$n" | sed -n "s|^Manage your notifications: $URL\(/s/v1\.p\.[^ ]*\)$|\1|p" | tr -d '\r')
[ -n "$manage" ] || fail "no 'Manage your notifications' in the footer"
unsub=$(sed -n "s|^List-Unsubscribe: <$URL\(/u/[^>]*\)>.*|\1|p" "$n" | tr -d '\r')
notif=$(sed -n 's/^X-Crier-Notification: \([^,]*\).*/\1/p' "$n" | tr -d '\r')

# --- RFC 8058: a GET changes nothing, the one-click POST mutes ---
cp "$ANAF" "$T/ana.before"
req GET "$unsub"; status_is 200 "GET of the one-click link"
cmp -s "$ANAF" "$T/ana.before" || fail "a GET of the one-click link changed ana.conf"
curl -s -m 10 -o "$T/body" -w '%{http_code}' -d List-Unsubscribe=One-Click "$URL$unsub" >"$T/status"
method=POST path=$unsub status_is 200 "one-click POST"
grep -qF "\"$notif\"" "$ANAF" || fail "the one-click POST did not mute $notif"

# --- the manage link signs in (a GET first shows the button) ---
req GET "$manage"; status_is 200 "GET of the manage link"
req POST "$manage"; status_is 303 "POST of the manage link"
grep -q '^Set-Cookie: __Host-crier=' "$T/head" || fail "the manage link gave no session"

# --- the panel killed: started again; the milter never stopped ---
old=$(web_pid)
kill -9 "$old"
log_wait "web: panel process $old was killed by signal 9"
serving || fail "the panel was not started again after SIGKILL"
panel_fds "started again"
new=$(web_pid)
[ -n "$new" ] && [ "$new" != "$old" ] || fail "no new panel process ($old, now '$new')"
pgrep -P "$SUP" -x crierd >/dev/null || fail "the worker is gone"
event "$AT_RISK" web-at-risk-2
mail_of marco@juicepost.example web-at-risk-2 >/dev/null || fail "the milter stopped with the panel"
req GET / -b "__Host-crier=$COOKIE"; status_is 200 "the session after the panel's restart"
grep -q 'name="csrf"' "$T/body" || fail "the session did not survive the panel's restart"

# --- SIGHUP to every process of crierd (pkill -HUP crierd): the panel keeps serving ---
reloads=$(grep -c 'SIGHUP: reloading' "$CD_DIR/crierd.log")
kill -HUP "$SUP" $(pgrep -P "$SUP")
log_wait 'SIGHUP: reloading' $((reloads + 1))
log_wait 'reload: configuration'
serving || fail "the panel stopped serving after SIGHUP"
[ "$(web_pid)" = "$new" ] || fail "an unchanged configuration started the panel anew"
req GET / -b "__Host-crier=$COOKIE"; status_is 200 "the session after SIGHUP"
event "$AT_RISK" web-at-risk-3
mail_of marco@juicepost.example web-at-risk-3 >/dev/null || fail "no notification after SIGHUP"

# --- the form's preview: the events kept, through the matcher, nothing saved ---
cp "$ANAF" "$T/ana.before"
preview() {
    req POST /save -b "__Host-crier=$COOKIE" --data-urlencode "csrf=$CSRF" -d mode=create \
        -d event=source_request_at_risk -d "w.priority=$1" -d frequency=hourly -d preview=1
    status_is 200 "preview of priority $1"
}
preview Rush
grep -q 'In the last 30 days this would have notified you 3 times\.' "$T/body" \
    || fail "preview (Rush): $(grep -o 'In the last[^<]*' "$T/body")"
grep -q '<li>Brückenjahre Ep. 2</li>' "$T/body" || fail "the preview lists no title"
preview Standard
grep -q 'would have notified you 0 times\.' "$T/body" \
    || fail "preview (Standard): $(grep -o 'In the last[^<]*' "$T/body")"
cmp -s "$ANAF" "$T/ana.before" || fail "a preview changed ana.conf"
req GET "/clone?n=content_partner/at_risk_rush" -b "__Host-crier=$COOKIE"
grep -q 'would have notified you 3 times' "$T/body" || fail "no preview on the clone form"

# --- a new web_base_url: the panel starts anew, and mail links follow ---
sed -i "s|web_base_url = \"$URL\"|web_base_url = \"http://localhost:$PORT/\"|" "$CD_DIR/crier.conf"
kill -HUP "$SUP"
log_wait "web: the panel's settings changed: starting it anew"
log_wait "web: serving http://localhost:$PORT/" 
serving || fail "the panel does not serve after a new web_base_url"
req POST /signin -d address=$ANA
for _ in $(seq 100); do
    text "$(pf_mail_files $ANA | tail -1)" | grep -q "http://localhost:$PORT/s/v1\.s\." && break
    sleep 0.1
done
text "$(pf_mail_files $ANA | tail -1)" | grep -q "http://localhost:$PORT/s/v1\.s\." \
    || fail "the sign-in mail does not use the new web_base_url"

# --- a new web_listen at a reload: bound as the service user, the old port let go ---
OLD_URL=$URL
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
sed -i "s|^web_listen = .*|web_listen = \"inet:$PORT@127.0.0.1\"; web_base_url = \"$URL\";|" \
    "$CD_DIR/crier.conf"
kill -HUP "$SUP"
log_wait "web: serving $URL/ on inet:$PORT@127.0.0.1"
serving || fail "the panel does not serve on the new web_listen $URL"
curl -s -m 2 -o /dev/null "$OLD_URL/" && fail "the old web_listen still answers"
panel_fds "on a web_listen bound at a reload"
# A unix web_listen at a reload is not bound: the service user would own
# it, mode 0666, where a start as root makes it root:www-data 0660. The
# panel stays on its socket, and the log says to start crierd again.
sed -i "s|^web_listen = \"inet:$PORT@127.0.0.1\";|web_listen = \"unix:$CD_DIR/run/web\";|" \
    "$CD_DIR/crier.conf"
grep -q "unix:$CD_DIR/run/web" "$CD_DIR/crier.conf" || fail "web_listen not changed to unix"
kill -HUP "$SUP"
log_wait "web: web_listen unix:$CD_DIR/run/web: a unix socket is bound by root only"
[ -e "$CD_DIR/run/web" ] && fail "the service user bound unix:$CD_DIR/run/web at a reload"
serving || fail "the panel does not serve on its socket after a refused web_listen"
sed -i "s|^web_listen = \"unix:$CD_DIR/run/web\";|web_listen = \"inet:$PORT@127.0.0.1\";|" \
    "$CD_DIR/crier.conf"
reloads=$(grep -c "reload: configuration" "$CD_DIR/crierd.log")
kill -HUP "$SUP"
log_wait "reload: configuration" $((reloads + 1))
serving || fail "the panel does not serve after web_listen is back"

# --- a digest of several notifications: one click mutes the whole frequency ---
# Marco's daily: redeliveries_daily (custom), content_partner/new_requests_daily
# and content_partner/cancellations; the digest covers the first two (the
# one of web-redelivery-1, overdue at the first restart, only the first).
MARCO=marco@juicepost.example
MARCOF="$CD_DIR/rules.d/users/marco.conf"
digests_of() { for f in $(pf_mail_files "$1"); do grep -l '^X-Crier-Digest:' "$f"; done 2>/dev/null; }
several() { grep -l '^X-Crier-Notification: .*,' $(digests_of $MARCO) /dev/null; }
restart_at() {
    crierd_stop || fail "stop"
    CRIER_NOW=$1 crierd_start || fail "start at $1"
    SUP=$(cat "$CD_DIR/run/crierd.pid")
    serving || fail "the panel does not serve after the restart at $1"
}
restart_at 2027-03-15T07:00:00Z
for mail in redelivery-juice created-cafe-qp; do
    pf_send_file "$EVENTS/$mail.eml" portal@studio.test events@crier.test || fail "$mail"
done
pf_queue_empty_wait 20 || fail "queue"
restart_at 2027-03-15T08:59:55Z			# 09:00 in London
for _ in $(seq 100); do [ -n "$(several)" ] && break; sleep 0.2; done
d=$(several)
[ "$(echo "$d" | grep -c .)" = 1 ] || { fail "Marco has $(echo "$d" | grep -c .) digests of several"; finish; }
grep '^List-Unsubscribe:' "$d" | tr -d '\r' | grep -qx "List-Unsubscribe: <$URL/u/v1\.d\.[^>]*>" \
    || fail "digest List-Unsubscribe: $(grep '^List-Unsubscribe:' "$d")"
grep -q '^List-Unsubscribe-Post: List-Unsubscribe=One-Click' "$d" || fail "digest: no List-Unsubscribe-Post"
dunsub=$(sed -n "s|^List-Unsubscribe: <$URL\(/u/[^>]*\)>.*|\1|p" "$d" | tr -d '\r')
cp "$MARCOF" "$T/marco.before"
req GET "$dunsub"; status_is 200 "GET of the digest's one-click link"
for n in redeliveries_daily content_partner/new_requests_daily content_partner/cancellations; do
    grep -qF "<strong>$n</strong>" "$T/body" || fail "the GET does not list $n"
done
grep -q 'all_redeliveries\|at_risk_rush' "$T/body" && fail "the GET lists a notification that is not daily or is muted"
cmp -s "$MARCOF" "$T/marco.before" || fail "a GET of the digest's one-click link changed marco.conf"
bad=${dunsub:0:10}$([ "${dunsub:10:1}" = A ] && echo B || echo A)${dunsub:11}	# in the user
curl -s -m 10 -o "$T/body" -w '%{http_code}' -d List-Unsubscribe=One-Click "$URL$bad" >"$T/status"
method=POST path=$bad status_is 400 "an altered digest token"
cmp -s "$MARCOF" "$T/marco.before" || fail "an altered digest token changed marco.conf"
curl -s -m 10 -D "$T/head" -o "$T/body" -w '%{http_code}' -d List-Unsubscribe=One-Click \
    "$URL$dunsub" >"$T/status"
method=POST path=$dunsub status_is 200 "the digest's one-click POST"
grep -qi '^Set-Cookie' "$T/head" && fail "the one-click POST set a cookie"
for n in redeliveries_daily content_partner/new_requests_daily content_partner/cancellations; do
    [ "$(grep -cF "web: user=<$MARCO> mute notification=$n via=web" "$CD_DIR/crierd.log")" = 1 ] \
        || fail "the digest's one-click POST did not log one mute of $n"
done
grep -qF '"content_partner/new_requests_daily"' "$MARCOF" || fail "new_requests_daily not muted in marco.conf"
curl -s -m 10 -o "$T/body" -w '%{http_code}' -d List-Unsubscribe=One-Click "$URL$dunsub" >"$T/status"
method=POST path=$dunsub status_is 410 "the digest's one-click link used again"
digests=$(digests_of $MARCO | grep -c .)
# The next day: the same events come, and Marco gets no digest.
for mail in redelivery-juice created-cafe-qp; do
    sed "s/^Event-Id: .*/Event-Id: web-digest-2-$mail/" "$EVENTS/$mail.eml" >"$T/$mail.2.eml"
    pf_send_file "$T/$mail.2.eml" portal@studio.test events@crier.test || fail "$mail again"
done
pf_queue_empty_wait 20 || fail "queue"
restart_at 2027-03-16T08:59:55Z
sleep 8
pf_queue_empty_wait 20 || fail "queue"
[ "$(digests_of $MARCO | grep -c .)" = "$digests" ] \
    || fail "Marco got a digest after muting all his daily notifications"

# --- the stop takes the panel with it ---
grep -E "error:|claimed not to reply" "$CD_DIR/crierd.log" | grep -v "was killed by signal 9" >"$T/errors"
[ -s "$T/errors" ] && fail "crierd logged: $(head -3 "$T/errors")"
crierd_stop || fail "crierd stop"
pgrep -x crierd-web -P "$SUP" >/dev/null && fail "the panel outlived crierd"
curl -s -m 2 -o /dev/null "$URL/" && fail "the panel's port still answers after the stop"
finish
