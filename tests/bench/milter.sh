#!/bin/bash
# milter.sh - what crierd costs Postfix: messages per second through a
# private Postfix alone, with crierd as its milter for ordinary mail, and
# with crierd for events that each produce one notification; side by side,
# in one run.
#
# Usage (as root, from anywhere): bash tests/bench/milter.sh [BUILD_DIR]
#
# BUILD_DIR holds crierd (default: build-main/ of the source tree if it has
# one, else the source tree). One private Postfix (tests/e2e/postfix.sh)
# relays every recipient domain to an smtp-sink on another loopback port,
# and crierd (tests/crierd.sh; state, rules.d and log in the scratch
# directory) reinjects its notifications through PF_REINJECT_PORT, so they
# reach the sink too. Five configurations, in R rounds (rotated: ABCDE, BCDEA,
# ...) after an uncounted warm-up, so drift and noise of the machine
# fall on all of them alike:
#
#   A  Postfix alone: smtp-source -s S -m M -l L (one SMTP session per
#      message) to someone@partner.test, on a listener with smtpd_milters
#      empty (crierd runs, idle; Postfix never connects to it).
#   B  the same traffic to a listener with smtpd_milters=unix:<crierd>,
#      milter_default_action=tempfail, milter_protocol=6.
#   C  the same listener, E events: event mails to events@crier.test from
#      milter-load.c (built here; smtp-source cannot vary the Event-Id),
#      S sessions, one session per message like smtp-source. The bench
#      rules.d (written here) has one event type, one profile with one
#      immediate default and one user, so each event produces exactly one
#      notification, to notified@partner.test.
#   D  the recommended deployment (contrib/postfix): the same ordinary
#      traffic as A to a listener where only event submitters reach crierd
#      (smtpd_milters empty, smtpd_milter_maps = cidr: the portal's
#      192.0.2.0/24 -> crierd) and crier's policy service is asked only for
#      crier's addresses (check_recipient_access -> a restriction class).
#   E  events as in C, through the recommended deployment's portal path: a
#      listener with the same restrictions as D, on which the client
#      (127.0.0.1) gets crierd's milter, i.e. what smtpd_milter_maps gives
#      the portal (or the portal's own listener does): policy service and
#      milter. (A second loopback address for the portal, milter-load -b
#      127.0.0.2, costs smtpd a failing reverse lookup per session here.)
#   A' (with BENCH_CALIBRATE=1, the default) Postfix alone again, but the
#      load from milter-load -l L: shows whether the two load generators
#      differ, i.e. whether C/A compares like with like (C/A' is the
#      like-for-like ratio).
#
# Definition of msgs/s: N / T, where N is M messages (A, A', B) or E events
# (C), and T runs from just before the load generator starts to the moment
# the sink has received the N-th message of the phase (for C: the N-th
# notification, so every event has gone in, through crierd and back out);
# smtp-sink -c counts the messages, polled every 50 ms. After each phase
# the queue must be empty, the sink must have exactly N more messages and
# the maillog exactly N more deliveries to it ("status=sent"), and the
# generator must have had no failure; otherwise the script says so and
# exits 1. The column in_s is when the load generator had finished (every
# message accepted by Postfix); for C, the time from in_s to seconds is
# crierd's outbox catching up with the events it has accepted.
#
# Environment: BENCH_MESSAGES (M, 2000), BENCH_EVENTS (E, 1000), BENCH_ROUNDS
# (R, 3), BENCH_SESSIONS (S, 20), BENCH_LENGTH (L, 2048), BENCH_CALIBRATE
# (1), BENCH_WARMUP (1), BENCH_PERF=DIR (perf record -g the crierd worker
# during each B and C phase into DIR/perf-B-rN.data, DIR/perf-C-rN.data;
# the rates of such a run are not representative), BENCH_TIMEOUT (seconds a
# phase may take, 300), KEEP=1 (keep the scratch directory), TMPDIR.
#
# Exit status: 0 measured (whether or not the targets are met; the last
# line says), 1 a phase went wrong, 2 cannot run here.

set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-}
if [ -z "$build" ]; then
    build=$top
    [ ! -x "$top/crierd" ] && [ -x "$top/build-main/crierd" ] && build=$top/build-main
fi
build=$(cd "$build" && pwd) || exit 2
M=${BENCH_MESSAGES:-2000}
E=${BENCH_EVENTS:-1000}
R=${BENCH_ROUNDS:-3}
S=${BENCH_SESSIONS:-20}
L=${BENCH_LENGTH:-2048}
CALIBRATE=${BENCH_CALIBRATE:-1}
WARMUP=${BENCH_WARMUP:-1}
PERF_DIR=${BENCH_PERF:-}
TIMEOUT=${BENCH_TIMEOUT:-300}

die() { echo "milter.sh: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "run as root (a private Postfix)"
[ -x "$build/crierd" ] || die "no crierd in $build: build first"
for c in postfix postconf postqueue smtp-source smtp-sink gcc; do
    command -v "$c" >/dev/null || die "$c not found (apt-get install postfix gcc)"
done
if [ -n "$PERF_DIR" ]; then
    command -v perf >/dev/null || die "BENCH_PERF set but perf is not installed"
    mkdir -p "$PERF_DIR" && PERF_DIR=$(cd "$PERF_DIR" && pwd) || exit 2
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/crier-bench-milter.XXXXXX") || exit 2
chmod 755 "$W"
srcdir=$top
top_builddir=$build
# Every domain but this unused one is relayed (to the sink): no Maildirs.
PF_DOMAINS=bench-unused.invalid
PF_NO_TRAP=1
# shellcheck source=../crierd.sh
. "$top/tests/crierd.sh"
# shellcheck source=../e2e/postfix.sh
. "$top/tests/e2e/postfix.sh"

. "$top/tests/bench/lib.sh"

gcc -O2 -Wall -Wextra -o "$W/milter-load" "$top/tests/bench/milter-load.c" -lpthread \
    || die "cannot build milter-load"

# --- Postfix and the sink ------------------------------------------------
pf_setup "$W/pf" >/dev/null || die "pf_setup failed"
# _pf_free_port reserves in a subshell: note the lock so pf_cleanup drops it.
SINK_PORT=$(_pf_free_port) || die "no port for the sink"
PLAIN_PORT=$(_pf_free_port) || die "no port for the milter-less listener"
RECO_PORT=$(_pf_free_port) || die "no port for the recommended listener"
PORTAL_PORT=$(_pf_free_port) || die "no port for the portal's listener"
_PF_PORT_LOCKS+=("$_PF_LOCKDIR/$SINK_PORT" "$_PF_LOCKDIR/$PLAIN_PORT" "$_PF_LOCKDIR/$RECO_PORT"
    "$_PF_LOCKDIR/$PORTAL_PORT")

smtp-sink -4 -c -u nobody -m 512 "127.0.0.1:$SINK_PORT" 1024 >"$W/sink.out" 2>&1 &
SINK_PID=$!

mkdir -p "$W/crierd"
crierd_setup "$W/crierd" "smtp:127.0.0.1:$PF_REINJECT_PORT"
sed -i 's/^log_level = .*/log_level = "info";/' "$CD_DIR/crier.conf"
# The bench's portal: milter-load on 127.0.0.1 (C, E), without a rate limit.
printf '%s\n' 'submit_networks = ["127.0.0.1"];' 'submit_rate_limit = 0;' >>"$CD_DIR/crier.conf"
rm -rf "$CD_DIR/rules.d"
mkdir -p "$CD_DIR/rules.d/users"
cat >"$CD_DIR/rules.d/00-bench.conf" <<'RULES'
# The bench rules: one event type, one profile with one immediate default,
# one user (below): every event is exactly one notification.
frequencies = { immediately = { title = "Immediately"; }; };
event_types = {
  bench_event = {
    title = "Bench Event";
    filters = { priority = [ "Standard", "Rush" ]; };
    frequencies = [ "immediately" ];
  };
};
profiles = {
  bench = {
    title = "Bench";
    defaults = {
      all = { event = "bench_event"; where = { priority = [ "Standard", "Rush" ]; };
              frequency = "immediately"; };
    };
  };
};
RULES
cat >"$CD_DIR/rules.d/users/notified.conf" <<'RULES'
user = { address = "notified@partner.test"; profile = "bench";
         partners = [ "Bench Partner" ]; timezone = "UTC"; };
RULES
chmod -R a+rX "$CD_DIR/rules.d"

# The event mail, padded to about L bytes like the ordinary mail; @N@ is
# the event number (milter-load -F).
{
    printf '%s\n' "From: Partner Portal <portal@studio.test>" "To: events@crier.test" \
        "Subject: Bench event @N@" "Date: $(date -R)" "Message-ID: <@N@@portal.studio.test>" \
        "MIME-Version: 1.0" "Content-Type: text/plain; charset=utf-8" \
        "Content-Transfer-Encoding: 8bit"
    pad=$((L - 700))
    while [ "$pad" -gt 0 ]; do
        echo "X-Bench-Padding: La de da de da 1. La de da de da 2. La de da de da 3."
        pad=$((pad - 76))
    done
    printf '%s\n' "" "Event: bench-event" "Event-Id: @N@" "Partner: Bench Partner" \
        "Occurred: 2026-11-30T10:15:00Z" "Title: Bench title @N@" "Priority: Rush" \
        "Summary: A bench event, one of many, each with its own Event-Id so that each one" \
        "  produces exactly one immediate notification to notified@partner.test." \
        "Link: https://portal.studio.test/requests/@N@"
} >"$W/event.eml"

crierd_start >/dev/null || die "crierd did not start ($CD_DIR/crierd.log)"

pf_set "relayhost=[127.0.0.1]:$SINK_PORT" default_transport=smtp relay_transport=relay \
    "smtpd_milters=unix:$CD_SOCK" milter_default_action=tempfail milter_protocol=6 \
    || die "pf_set failed"
# A listener like PF_PORT but without milters, for Postfix alone.
pf_postconf -M "$PLAIN_PORT/inet=127.0.0.1:$PLAIN_PORT inet n - n - - smtpd" \
    || die "cannot add the milter-less listener"
pf_postconf -P "127.0.0.1:$PLAIN_PORT/inet/smtpd_milters=" || die "cannot clear its smtpd_milters"
# The recommended deployment (main.cf.snippet) on a listener of its own.
printf '192.0.2.0/24 unix:%s\n' "$CD_SOCK" >"$PF_CONF/crier_milters"
printf '127.0.0.1/32 unix:%s\n' "$CD_SOCK" >"$PF_CONF/crier_milters_portal"
printf '%s crier_policy\n' events@crier.test crier-request@crier.test >"$PF_CONF/crier_addresses"
pf_set smtpd_restriction_classes=crier_policy "crier_policy=check_policy_service unix:$CD_POLICY" \
    "crier_recipient_restrictions=check_recipient_access texthash:$PF_CONF/crier_addresses, permit_mynetworks, reject_unauth_destination" \
    || die "pf_set failed"
pf_postconf -M "$RECO_PORT/inet=127.0.0.1:$RECO_PORT inet n - n - - smtpd" \
    || die "cannot add the recommended listener"
pf_postconf -P "127.0.0.1:$RECO_PORT/inet/smtpd_milters=" \
    "127.0.0.1:$RECO_PORT/inet/smtpd_milter_maps=cidr:$PF_CONF/crier_milters" \
    "127.0.0.1:$RECO_PORT/inet/smtpd_recipient_restrictions=\$crier_recipient_restrictions" \
    || die "cannot configure the recommended listener"
pf_postconf -M "$PORTAL_PORT/inet=127.0.0.1:$PORTAL_PORT inet n - n - - smtpd" \
    || die "cannot add the portal's listener"
pf_postconf -P "127.0.0.1:$PORTAL_PORT/inet/smtpd_milters=" \
    "127.0.0.1:$PORTAL_PORT/inet/smtpd_milter_maps=cidr:$PF_CONF/crier_milters_portal" \
    "127.0.0.1:$PORTAL_PORT/inet/smtpd_recipient_restrictions=\$crier_recipient_restrictions" \
    || die "cannot configure the portal's listener"
pf_start || die "Postfix did not start"
_pf_wait_listen "$PLAIN_PORT" || die "Postfix does not listen on $PLAIN_PORT"
_pf_wait_listen "$RECO_PORT" || die "Postfix does not listen on $RECO_PORT"
_pf_wait_listen "$PORTAL_PORT" || die "Postfix does not listen on $PORTAL_PORT"
_pf_wait_listen "$SINK_PORT" || die "smtp-sink does not listen on $SINK_PORT"

# --- measuring -----------------------------------------------------------

# phase CONFIG ROUND N: run one phase; appends "CONFIG ROUND N SECONDS RATE" to
# $W/results (unless ROUND is "warm-up") and prints it.
phase() {
    local cfg=$1 round=$2 n=$3 off base t0 tg t1 got i gen_rc worker
    pf_queue_empty_wait 60 >/dev/null || { echo "milter.sh: queue not empty before $cfg" >&2; exit 1; }
    off=$(stat -c %s "$PF_LOG")
    base=$(sink_count)
    if [ -n "$PERF_DIR" ] && { [ "$cfg" = B ] || [ "$cfg" = C ]; } && [ "$round" != warm-up ]; then
        worker=$(ps -o pid= --ppid "$CD_PID" | head -1 | tr -d ' ')
        perf record -g -q -p "$worker" -o "$PERF_DIR/perf-$cfg-r$round.data" >/dev/null 2>&1 &
        PERF_PID=$!
        sleep 0.5
    fi
    t0=$(date +%s.%N)
    case $cfg in
        A)  smtp-source -4 -s "$S" -m "$n" -l "$L" -f load@bench.test -t someone@partner.test \
                -M load.bench.test "127.0.0.1:$PLAIN_PORT" >"$W/gen.out" 2>&1 ;;
        "A'") "$W/milter-load" -s "$S" -m "$n" -l "$L" -f load@bench.test -t someone@partner.test \
                -P "a-$round-$$-" "127.0.0.1:$PLAIN_PORT" >"$W/gen.out" 2>&1 ;;
        B)  smtp-source -4 -s "$S" -m "$n" -l "$L" -f load@bench.test -t someone@partner.test \
                -M load.bench.test "127.0.0.1:$PF_PORT" >"$W/gen.out" 2>&1 ;;
        C)  "$W/milter-load" -s "$S" -m "$n" -F "$W/event.eml" -P "bench-$round-$$-" \
                -f portal@studio.test -t events@crier.test "127.0.0.1:$PF_PORT" \
                >"$W/gen.out" 2>&1 ;;
        D)  smtp-source -4 -s "$S" -m "$n" -l "$L" -f load@bench.test -t someone@partner.test \
                -M load.bench.test "127.0.0.1:$RECO_PORT" >"$W/gen.out" 2>&1 ;;
        E)  "$W/milter-load" -s "$S" -m "$n" -F "$W/event.eml" -P "reco-$round-$$-" \
                -f portal@studio.test -t events@crier.test "127.0.0.1:$PORTAL_PORT" \
                >"$W/gen.out" 2>&1 ;;
    esac
    gen_rc=$?
    tg=$(date +%s.%N)
    if [ "$gen_rc" != 0 ]; then
        echo "milter.sh: $cfg round $round: the load generator failed (exit $gen_rc):" >&2
        tail -5 "$W/gen.out" >&2
        exit 1
    fi
    # Done when the sink has the N-th message (polled every 50 ms).
    for ((i = 0; ; i++)); do
        got=$(($(sink_count) - base))
        [ "$got" -ge "$n" ] && break
        if [ "$i" -ge $((TIMEOUT * 20)) ]; then
            echo "milter.sh: $cfg round $round: the sink has $got of $n after ${TIMEOUT}s" >&2
            tail -20 "$PF_LOG" >&2
            tail -5 "$CD_DIR/crierd.log" >&2
            exit 1
        fi
        sleep 0.05
    done
    t1=$(date +%s.%N)
    if [ -n "$PERF_PID" ]; then
        kill -INT "$PERF_PID" 2>/dev/null
        wait "$PERF_PID" 2>/dev/null
        PERF_PID=
    fi
    # Check: nothing left, nothing extra, and Postfix agrees with the sink.
    pf_queue_empty_wait 60 >/dev/null || { echo "milter.sh: $cfg round $round: queue not empty" >&2; exit 1; }
    sleep 0.5
    got=$(($(sink_count) - base))
    i=$(sent_since "$off")
    if [ "$got" != "$n" ] || [ "$i" != "$n" ]; then
        echo "milter.sh: $cfg round $round: the sink got $got messages, Postfix logged $i" \
            "deliveries to it; expected exactly $n" >&2
        exit 1
    fi
    awk -v c="$cfg" -v r="$round" -v n="$n" -v a="$t0" -v g="$tg" -v b="$t1" -v out="$W/results" '
        BEGIN { s = b - a; line = sprintf("%-6s %-8s %8d %9.2f %9.1f %9.2f", c, r, n, s, n / s, g - a)
                print line; if (r != "warm-up") print c, r, n, s, n / s >> out }'
}

printf '%-6s %-8s %8s %9s %9s %9s\n' config round messages seconds "msgs/s" "in_s"
configs=(A B C D E)
[ "$CALIBRATE" = 1 ] && configs+=("A'")
if [ "$WARMUP" = 1 ]; then
    for cfg in "${configs[@]}"; do
        case $cfg in C|E) phase "$cfg" warm-up $(((E + 9) / 10)) ;; *) phase "$cfg" warm-up $(((M + 9) / 10)) ;; esac
    done
fi
: >"$W/results"
k=${#configs[@]}
for ((r = 1; r <= R; r++)); do
    for ((j = 0; j < k; j++)); do
        cfg=${configs[$(((r - 1 + j) % k))]}
        case $cfg in C|E) phase "$cfg" "$r" "$E" ;; *) phase "$cfg" "$r" "$M" ;; esac
    done
done

# Medians and ratios.
awk -v calib="$CALIBRATE" '
    function median(c,   n, i, j, t, v) {
        n = 0
        for (i = 1; i <= cnt[c]; i++) v[++n] = rate[c, i]
        for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    { cnt[$1]++; rate[$1, cnt[$1]] = $5 }
    END {
        a = median("A"); b = median("B"); c = median("C"); d = median("D"); e = median("E")
        printf "median: A=%.1f B=%.1f C=%.1f D=%.1f E=%.1f", a, b, c, d, e
        if (calib == 1) printf " A'\''=%.1f", median("A'\''")
        printf " msgs/s\n"
        printf "B/A=%.2f (target >= 0.9), C/A=%.2f (target >= 0.4)", b / a, c / a
        if (calib == 1) printf "; A'\''/A=%.2f, C/A'\''=%.2f", median("A'\''") / a, c / median("A'\''")
        printf "\n"
        printf "recommended deployment: D/A=%.2f (target >= 0.97), E/A=%.2f, E/C=%.2f (target: events unchanged, >= 0.95 within noise)\n", d / a, e / a, e / c
        printf "targets: B/A %s, C/A %s, D/A %s, E/C %s\n", (b / a >= 0.9 ? "met" : "MISSED"),
            (c / a >= 0.4 ? "met" : "MISSED"), (d / a >= 0.97 ? "met" : "MISSED"), (e / c >= 0.95 ? "met" : "MISSED")
    }' "$W/results"
exit 0
