#!/bin/bash
# web.sh - how fast the notification settings panel answers when rules.d
# is large, side by side with the HTTP library's own floor.
#
# Usage: bash tests/bench/web.sh [BUILD_DIR] [SECONDS] [ROUNDS]
#
# BUILD_DIR holds crierd, crierctl and tests/web/web-serve (default:
# build-main/ of the source tree if it has one, else the source tree; they
# are made there first, so that none is older than the library). gen-rules
# writes a rules.d of BENCH_SIZE notifications (default 10^6), compiled
# whole with crierctl; one of its users is given custom notifications
# until the panel shows 50. As root, the panel runs as in service: crierd
# -f started as root, its panel a process of its own under the
# supervisor, as the service user nobody (the start compiles rules.d
# again, as every start does); otherwise, or with BENCH_SERVER=web-serve,
# as tests/web/web-serve (web_main, what crierd's panel process runs).
# It serves 127.0.0.1; the person signs in with a minted sign-in link, and the
# load generator (web-load.c: keep-alive HTTP/1.1, one thread per
# connection, each asking again as soon as answered) uses that cookie and
# CSRF token. Each round runs, SECONDS each (default 5, after 1 s not
# counted):
#   page/1    GET / (the panel page of the 50 notifications), 1 connection
#   page/50   the same on 50 connections
#   post/1    POST /mute then POST /unmute of one notification, over and
#             over (each POST a request), 1 connection
#   post/50   the same on 50 connections, connection i on the person's
#             notification i (one person's file: the changes queue on its
#             lock and on the one LMDB writer)
# and each run twice, side by side: against the panel, and against the
# floor (web-floor.c: libmicrohttpd with http.c's threads and limits,
# answering the panel page's bytes, saved, to a GET and 303 to a POST).
# The ratio is the panel's requests a second over the floor's.
#
# A change in service: a POST answers (303) only after apply.c has
# compiled the person anew and committed it, so the POST's latency is the
# time from the request to the change in service. The run shows it: after
# each of CHANGES single mutes and unmutes (default 5 each), timed by curl,
# a fresh reader (crierctl list) must already see the change.
#
# Targets (issue 12): panel page p99 under 20 ms; a change in service in
# under 100 ms; at least half the floor's requests a second.
#
# Environment: BENCH_SIZE (1000000), BENCH_SEED (1), CHANGES (5), TMPDIR
# (the scratch directory holds two copies of rules.d for a moment: about
# 1 GB at 10^6), KEEP=1 keeps it.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-}
[ -z "$build" ] && { [ -x "$top/build-main/crierctl" ] && build=$top/build-main || build=$top; }
build=$(cd "$build" && pwd)
secs=${2:-5}
rounds=${3:-2}
size=${BENCH_SIZE:-1000000}
changes=${CHANGES:-5}
make -C "$build" crierd crierctl tests/web/web-serve >/dev/null || exit 1	# never a stale one

# tests/web/lib.sh: the scratch directory $T, the server (web_setup,
# web_start: web-serve on a free loopback port, $URL), a session (sign_in:
# $COOKIE, $CSRF, the page in $T/body), the same as the panel's tests.
srcdir=$top top_builddir=$build
. "$top/tests/web/lib.sh"
FLOOR_PID=
cleanup() {
    web_stop
    declare -F crierd_kill9 >/dev/null && crierd_kill9	# a start that failed
    [ -n "$FLOOR_PID" ] && kill "$FLOOR_PID" 2>/dev/null && wait "$FLOOR_PID" 2>/dev/null
    if [ "${KEEP:-0}" = 1 ]; then echo "web.sh: kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
die() { echo "web.sh: $*" >&2; exit 1; }

gcc -O2 -o "$T/gen-rules" "$top/tests/bench/gen-rules.c" || exit 1
gcc -O2 -Wall -pthread -o "$T/web-load" "$top/tests/bench/web-load.c" || exit 1
# shellcheck disable=SC2046
gcc -O2 -Wall -pthread -o "$T/web-floor" "$top/tests/bench/web-floor.c" \
    $(pkg-config --cflags --libs libmicrohttpd) || exit 1

now() { date +%s.%N; }

# panel_in_crierd - the panel as it runs in service: tests/crierd.sh's
# crierd (-f, started as root; its crier.conf, key and sockets, the
# service user nobody) on a copy of $RULES, with the panel on and
# log_level info; its start compiles rules.d whole (timed by the caller).
# $URL; $SERVE_PID the supervisor (web_stop stops it, and the panel with
# it); $T/crier.conf a copy of its configuration (mint, crierctl); $LOG.
panel_in_crierd() {
    . "$top/tests/crierd.sh"
    crierd_setup "$T/d"
    rm -rf "$CD_DIR/rules.d" && cp -r "$RULES" "$CD_DIR/rules.d" || die "cannot copy rules.d"
    chown -R nobody "$CD_DIR/rules.d/users" && chmod -R a+rX "$CD_DIR/rules.d" || die "chown"
    PORT=$(free_port)
    URL="http://127.0.0.1:$PORT"
    sed -i 's/^log_level = .*/log_level = "info";/' "$CD_DIR/crier.conf"
    printf 'web_listen = "inet:%s@127.0.0.1";\nweb_base_url = "%s/";\n' "$PORT" "$URL" \
        >>"$CD_DIR/crier.conf"
    cp "$CD_DIR/crier.conf" "$T/crier.conf"
    LOG=$CD_DIR/crierd.log
    CD_START_WAIT=6000 crierd_start || die "crierd did not start"
    SERVE_PID=$CD_PID
    for _ in $(seq 100); do
        curl -s -o /dev/null "$URL/static/panel.css" && return 0
        sleep 0.1
    done
    die "crierd's panel does not answer: $(tail -5 "$LOG")"
}

# more_custom FILE N - N more custom notifications at the end of FILE's
# custom block: free-text values of their own, so none repeats another
more_custom() {
    local i ev f fq
    sed -i '$d' "$1"                    # the custom block's closing "};"
    for ((i = 1; i <= $2; i++)); do
        case $((i % 3)) in
        0) ev=source_request_created f=language fq=daily ;;
        1) ev=redelivery_requested f=language fq=hourly ;;
        2) ev=source_request_assigned f=fulfillment_partner fq=immediately ;;
        esac
        printf '  bench%02d = {\n    event = "%s";\n    where = {\n      %s = [ "b%02d" ];\n' \
            "$i" "$ev" "$f" "$i" >>"$1"
        printf '    };\n    frequency = "%s";\n  };\n' "$fq" >>"$1"
    done
    echo '};' >>"$1"
}

# defaults_of PROFILE - how many default notifications gen-rules gave it
defaults_of() {
    awk -v p="$1" '/^  [a-z_0-9]+ = \{$/ { in_p = ($1 == p) }
        in_p && /^      [a-z_0-9]+ = \{$/ { n++ } END { print n + 0 }' "$RULES/20-profiles.conf"
}

# The rules, with one person of 50 notifications, copied and compiled
# whole (timed): by crierd's start, or for web-serve by crierctl.
RULES=$T/gen
"$T/gen-rules" -n "$size" -s "${BENCH_SEED:-1}" -o "$RULES" >"$T/gen.out" || exit 1
file=$(find "$RULES/users" -name 'u*.conf' | sort | head -1)
user=$(sed -n 's/^ *address = "\(.*\)";/\1/p' "$file")
profile=$(sed -n 's/^ *profile = "\(.*\)";/\1/p' "$file")
more_custom "$file" $((50 - $(defaults_of "$profile") - $(grep -c '^  [a-z_0-9]* = {$' "$file")))
LOG=$T/serve.log
t0=$(now)
if [ "$(id -u)" = 0 ] && [ "${BENCH_SERVER:-crierd}" = crierd ]; then
    server="crierd (its panel process, as nobody)"
    panel_in_crierd
    grep 'rules: .* compiled: generation' "$LOG" | tail -1 >"$T/compile.out"
else
    server="tests/web/web-serve"
    web_setup
    web_start
fi
t1=$(now)
rm -rf "$RULES"

# A session, the page and its Mute buttons.
sign_in "$user"
[ -s "$T/failed" ] && die "no session for $user: $(cat "$T/failed")"
PORT=${URL##*:}
cp "$T/body" "$T/page.html"
cookie=$COOKIE csrf=$CSRF
mute_form='action="/mute"><input type="hidden" name="csrf" value="[^"]*">'
# shellcheck disable=SC2207
names=($(grep -o "$mute_form"'<input type="hidden" name="name" value="[^"]*"' "$T/page.html" \
    | sed 's/.*value="//; s/"$//'))
shown=$(grep -o '<li class="notif' "$T/page.html" | wc -l)
[ "$shown" = 50 ] || die "$user has $shown notifications on the panel, not 50"
[ "${#names[@]}" -gt 40 ] || die "only ${#names[@]} Mute buttons on the panel"

FPORT=$(free_port)
"$T/web-floor" "$FPORT" "$T/page.html" & FLOOR_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$FPORT/" && break; sleep 0.1; done

echo "web.sh: $(cat "$T/gen.out")"
echo "the panel: $server; copy, whole compile of rules.d and start:" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s," \
    "$(sed 's/.*generation/generation/' "$T/compile.out")"
echo "the person: $user, $shown notifications on the page ($(wc -c <"$T/page.html") bytes)," \
    "${#names[@]} with Mute"
echo "$secs s per run, $rounds rounds, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# measure PORT RUN - "requests/s p50 p99 max errors" of one run
measure() {
    local conns=${2#*/} out
    if [ "${2%/*}" = page ]; then
        out=$("$T/web-load" -c "$conns" -d "$secs" -b "$cookie" 127.0.0.1 "$1" get /)
    else
        out=$("$T/web-load" -c "$conns" -d "$secs" -b "$cookie" -k "$csrf" 127.0.0.1 "$1" \
            toggle "${names[@]}")
    fi || die "web-load failed: $out"
    echo "$out" | tr ' ' '\n' \
        | awk -F= '/^(per_second|p50_ms|p99_ms|max_ms|errors)=/ {printf "%s ", $2}'
}
printf '%-7s %5s | %8s %7s %7s %7s %4s | %8s %7s %7s %7s %4s | %5s\n' run round \
    "panel/s" p50_ms p99_ms max_ms err "floor/s" p50_ms p99_ms max_ms err ratio
for r in $(seq "$rounds"); do
    for run in page/1 page/50 post/1 post/50; do
        # shellcheck disable=SC2046
        set -- $(measure "$PORT" $run) $(measure "$FPORT" $run)
        printf '%-7s %5s | %8s %7s %7s %7s %4s | %8s %7s %7s %7s %4s | %5.2f\n' $run "$r" "$@" \
            "$(awk -v a="$1" -v b="$6" 'BEGIN {print b ? a / b : 0}')"
    done
done

# A change in service: each POST timed, then a fresh reader.
name=${names[${#names[@]} - 1]}
printf '%-7s %9s  %s\n' change post_ms "crierctl list, right after"
for ((i = 0; i < changes; i++)); do
    for verb in mute unmute; do
        ms=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -b "__Host-crier=$cookie" \
            --data-urlencode "csrf=$csrf" --data-urlencode "name=$name" \
            "http://127.0.0.1:$PORT/$verb")
        line=$("$CRIERCTL" -c "$T/crier.conf" list "$user" | grep -F " $name ")
        case "$verb:$line" in
        mute:*"(muted"*) seen="muted" ;;
        unmute:*"(muted"*) seen="STILL MUTED" ;;
        mute:*) seen="NOT MUTED" ;;
        *) seen="active" ;;
        esac
        printf '%-7s %9s  %s\n' "$verb" \
            "$(awk -v s="${ms#* }" 'BEGIN {printf "%.1f", s * 1000}')" "$seen (HTTP ${ms% *})"
    done
done
grep -c 'compiled anew' "$LOG" | sed 's/^/one-user compiles logged: /'
grep -i 'error\|fatal\|panic' "$LOG" | head -5
