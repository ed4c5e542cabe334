#!/bin/bash
# digests.sh - how fast crierd hands Postfix the digests of N recipients that
# all fall due at the same instant, against smtp-source sending N messages of
# the same size into the same Postfix; side by side, in one run.
#
# Usage (as root, from anywhere): bash tests/bench/digests.sh [BUILD_DIR]
#
# BUILD_DIR holds crierd and crierctl (default: build-main/ of the source
# tree if it has one, else the source tree); both are copied into the scratch
# directory first, so a rebuild during the run does not change what is
# measured. One private Postfix (tests/e2e/postfix.sh) relays every recipient
# domain to an smtp-sink on another loopback port; crierd (tests/crierd.sh,
# as its milter, milter_default_action=tempfail) reinjects through
# PF_REINJECT_PORT (no milters), so its digests reach the sink too.
#
# The rules.d (written here, rules_dir in crier.conf points at it): the
# frequencies immediately and daily (FREQ=DAILY;BYHOUR=9;BYMINUTE=0), one
# event type qc_failed (filter source_type = [ "Video" ]) offering both, one
# profile whose one default is { qc_failed, source_type Video, daily }, and N
# users u000001@partner.test ... in users/NNN/uNNNNNN.conf (1000 a
# directory), all in UTC and partners [ "Acme" ]. So one qc-failed event of
# partner Acme with Source-Type: Video is N digest items, one per user, and
# every user's daily digest of that one item falls due at 09:00:00Z.
#
# Each round (R rounds; odd rounds D then S, even rounds S then D):
#   prep  crierd with CRIER_NOW=2027-03-15T07:00:00Z; one event mail (its own
#         Event-Id) through the milter listener; wait until the log says
#         digest_items=N and `crierctl digests --json` lists N digests; stop
#         crierd. Not timed (the time the milter took is shown).
#   D     crierd again, CRIER_NOW = 09:00:00Z minus LEAD seconds (LEAD: how
#         long the prep's crierd took to serve, rounded up, plus 2; crierd is
#         started just after a whole second, as its clock has whole seconds).
#         T runs from the due instant (start + LEAD) to the moment the sink has
#         received the N-th message (smtp-sink -c, polled every 50 ms).
#   S     smtp-source -s S -m N -l L to someone@partner.test on the listener
#         crierd reinjects to (PF_REINJECT_PORT); T from just before
#         smtp-source starts to the N-th message at the sink.
# Rate = N / T. After each phase the queue must be empty, the sink must have
# exactly N more messages and the maillog exactly N more deliveries to it; for
# D, crierd must have logged N "digest: ... status=queued" and N "outbox: ...
# status=sent" lines and have no digest pending. Otherwise the script says so
# and exits 1.
#
# L (the message length of smtp-source) is chosen so that Postfix's size= of
# smtp-source's messages matches the average size= of the digests of the
# first D phase: L = average digest size - what size= adds to -l (measured
# once, with one message of -l 1000). Both averages are printed.
#
# crierd's log is time-stamped line by line (a perl filter on a fifo), so
# the D phase is broken down: runner latency (due instant to the first
# "status=queued"), render span (first to last "status=queued": the runner
# rendering batches of up to 256 digests, one LMDB commit each, while the
# outbox already sends), send span (first to last "outbox: ... status=sent"),
# and the tail after the last status=queued.
#
# Environment: BENCH_DIGESTS (N, 100000), BENCH_ROUNDS (R, 1), BENCH_SESSIONS
# (S, 20), BENCH_LENGTH (L; default measured as above), BENCH_WARMUP (1: an
# uncounted smtp-source of min(N/10, 2000) messages first), BENCH_PERF=DIR
# (perf record -g the crierd worker during each D phase into
# DIR/perf-D-rN.data; the rates of such a run are not representative),
# BENCH_OUTBOX_WORKERS (set outbox_workers in crier.conf; default: crierd's
# own default), BENCH_TIMEOUT (seconds a phase may take, 1800), KEEP=1 (keep
# the scratch directory), TMPDIR.
#
# Exit status: 0 measured (whether or not the target is met; the last line
# says), 1 a phase went wrong, 2 cannot run here.

set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-}
if [ -z "$build" ]; then
    build=$top
    [ ! -x "$top/crierd" ] && [ -x "$top/build-main/crierd" ] && build=$top/build-main
fi
build=$(cd "$build" && pwd) || exit 2
N=${BENCH_DIGESTS:-100000}
R=${BENCH_ROUNDS:-1}
S=${BENCH_SESSIONS:-20}
L=${BENCH_LENGTH:-}
WARMUP=${BENCH_WARMUP:-1}
PERF_DIR=${BENCH_PERF:-}
WORKERS=${BENCH_OUTBOX_WORKERS:-}
TIMEOUT=${BENCH_TIMEOUT:-1800}
DAY=2027-03-15

die() { echo "digests.sh: $*" >&2; exit 2; }
fail() { echo "digests.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "run as root (a private Postfix)"
if [ ! -x "$build/crierd" ] || [ ! -x "$build/crierctl" ]; then
    die "no crierd/crierctl in $build: build first"
fi
for c in postfix postconf postqueue smtp-source smtp-sink swaks jq perl awk; do
    command -v "$c" >/dev/null || die "$c not found (apt-get install postfix swaks jq)"
done
[ "$N" -ge 1 ] 2>/dev/null || die "BENCH_DIGESTS must be a positive number"
if [ -n "$PERF_DIR" ]; then
    command -v perf >/dev/null || die "BENCH_PERF set but perf is not installed"
    mkdir -p "$PERF_DIR" && PERF_DIR=$(cd "$PERF_DIR" && pwd) || exit 2
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/crier-bench-digests.XXXXXX") || exit 2
chmod 755 "$W"
mkdir -p "$W/bin"
cp "$build/crierd" "$build/crierctl" "$W/bin/" || die "cannot copy crierd and crierctl"
srcdir=$top
top_builddir=$build
PF_DOMAINS=bench-unused.invalid	# every other domain is relayed to the sink
PF_NO_TRAP=1
# shellcheck source=../crierd.sh
. "$top/tests/crierd.sh"
# shellcheck source=../e2e/postfix.sh
. "$top/tests/e2e/postfix.sh"
CRIERD=$W/bin/crierd
CRIERCTL=$W/bin/crierctl

. "$top/tests/bench/lib.sh"

# --- Postfix and the sink ------------------------------------------------
pf_setup "$W/pf" >/dev/null || die "pf_setup failed"
SINK_PORT=$(_pf_free_port) || die "no port for the sink"
_PF_PORT_LOCKS+=("$_PF_LOCKDIR/$SINK_PORT")
smtp-sink -4 -c -u nobody -m 512 "127.0.0.1:$SINK_PORT" 1024 >"$W/sink.out" 2>&1 &
SINK_PID=$!

# --- crierd and its rules.d ----------------------------------------------
mkdir -p "$W/crierd"
crierd_setup "$W/crierd" "smtp:127.0.0.1:$PF_REINJECT_PORT"
rm -rf "$CD_DIR/rules.d"
RULES=$W/rules.d
mkdir -p "$RULES/users"
cat >"$RULES/00-bench.conf" <<'RULES'
# The digest bench: one event type offering immediately and daily, one
# profile whose one default is a daily digest of Video QC failures; every
# user (users/NNN/uNNNNNN.conf) has that profile, partner Acme, zone UTC.
frequencies = {
  immediately = { title = "Immediately"; };
  daily = { title = "Daily"; rrule = "FREQ=DAILY;BYHOUR=9;BYMINUTE=0"; };
};
event_types = {
  qc_failed = {
    title = "QC Failed";
    filters = { source_type = [ "Video" ]; };
    frequencies = [ "immediately", "daily" ];
  };
};
profiles = {
  bench = {
    title = "Bench";
    defaults = {
      video_qc_daily = { event = "qc_failed"; where = { source_type = [ "Video" ]; };
                         frequency = "daily"; };
    };
  };
};
RULES
t=$EPOCHREALTIME
awk -v n="$N" -v d="$RULES/users" 'BEGIN {
    for (i = 1; i <= n; i++) {
        if ((i - 1) % 1000 == 0) {
            dir = sprintf("%s/%03d", d, int((i - 1) / 1000))
            if (system("mkdir -p " dir) != 0) exit 1
        }
        f = sprintf("%s/u%06d.conf", dir, i)
        printf "user = { address = \"u%06d@partner.test\"; profile = \"bench\";\n" \
               "         partners = [ \"Acme\" ]; timezone = \"UTC\"; };\n", i > f
        close(f)
    } }' || die "cannot write the users of rules.d"
chmod -R a+rX "$RULES"
echo "rules.d: $N users written in $(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"

sed -i -e "s|^rules_dir = .*|rules_dir = \"$RULES\";|" -e 's/^log_level = .*/log_level = "info";/' \
    "$CD_DIR/crier.conf"
if grep -q '"outbox_workers"' "$top/plugin/core/conf.c" 2>/dev/null; then
    if [ -n "$WORKERS" ]; then
        echo "outbox_workers = $WORKERS;" >>"$CD_DIR/crier.conf"
        WORKERS_NOTE="outbox_workers=$WORKERS (crier.conf)"
    else
        WORKERS_NOTE="outbox_workers=$(sed -n 's/.*{"outbox_workers", CONF_INT, "\([0-9]*\)".*/\1/p' \
            "$top/plugin/core/conf.c") (the default)"
    fi
else
    [ -n "$WORKERS" ] && die "BENCH_OUTBOX_WORKERS set, but this crierd has no outbox_workers"
    WORKERS_NOTE="one outbox sender (no outbox_workers in this crierd)"
fi

# The event mail: one QC failure of partner Acme on a Video source; @ID@ is
# the round's Event-Id.
cat >"$W/event.tmpl" <<'EOF'
From: Partner Portal <portal@studio.test>
To: events@crier.test
Subject: QC failed: Harbour Lights (bench @ID@)
Message-ID: <@ID@@portal.studio.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Event: qc-failed
Event-Id: @ID@
Partner: Acme
Occurred: 2027-03-15T06:58:00Z
Title: Harbour Lights
Source-Type: Video
Summary: The delivered video fails the loudness check: integrated loudness
  -19.5 LUFS, more than 1 LU above the target of -23 LUFS.
Link: https://portal.studio.test/requests/SR-@ID@
EOF

pf_set "relayhost=[127.0.0.1]:$SINK_PORT" default_transport=smtp relay_transport=relay \
    "smtpd_milters=unix:$CD_SOCK" milter_default_action=tempfail milter_protocol=6 \
    || die "pf_set failed"
pf_start || die "Postfix did not start"
_pf_wait_listen "$SINK_PORT" || die "smtp-sink does not listen on $SINK_PORT"

# --- crierd with a time-stamped log --------------------------------------

# The log: "EPOCH.USEC line" per line of crierd's stderr, through a fifo so
# that the filter is a child of this shell, not of crierd.
mkfifo "$W/log.fifo" || die "mkfifo failed"
CD_LOG=$CD_DIR/crierd.log
: >"$CD_LOG"

# cd_start INSTANT: crierd with CRIER_NOW=INSTANT, started just after a whole
# second; sets CD_T0 (the real start, seconds) and CD_READY (seconds it took
# to serve).
cd_start() {
    local i off f
    perl -MTime::HiRes=time -ne 'BEGIN { $| = 1 } printf "%.6f %s", time, $_' \
        <"$W/log.fifo" >>"$CD_LOG" &
    TS_PID=$!
    off=$(stat -c %s "$CD_LOG")
    # Just after a whole second (CRIER_NOW minus time(NULL) is whole seconds).
    f=${EPOCHREALTIME#*.}
    sleep "$(awk -v f="0.$f" 'BEGIN { printf "%.6f", (f < 0.02 ? 0.02 - f : 1.02 - f) }')"
    CD_T0=$EPOCHREALTIME
    CRIER_NOW=$1 "$CRIERD" -c "$CD_DIR/crier.conf" -f >"$W/log.fifo" 2>&1 &
    CD_PID=$!
    for ((i = 0; i < 1200; i++)); do
        if [ -S "$CD_SOCK" ] && tail -c +"$((off + 1))" "$CD_LOG" | grep -q "worker: serving"; then
            CD_READY=$(awk -v a="$CD_T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
            return 0
        fi
        kill -0 "$CD_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "digests.sh: crierd did not start:" >&2
    tail -20 "$CD_LOG" >&2
    return 1
}

cd_stop() {
    local i
    kill -TERM "$CD_PID" 2>/dev/null
    for ((i = 0; i < 600; i++)); do
        kill -0 "$CD_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$CD_PID" 2>/dev/null; then
        echo "digests.sh: crierd did not stop on SIGTERM" >&2
        return 1
    fi
    wait "$CD_PID" 2>/dev/null
    CD_PID=
    wait "$TS_PID" 2>/dev/null		# the filter ends with the fifo's last writer
    TS_PID=
}

pending() {
    "$CRIERCTL" -s "$CD_DIR/state" digests --json | jq '.digests | length'
}

# --- measuring -----------------------------------------------------------

# avg_size OFFSET SENDER: the average size= Postfix logged after byte OFFSET
# for messages from SENDER (or its bounce addresses, SENDER+...), and how many
avg_size() {
    tail -c +"$(($1 + 1))" "$PF_LOG" | grep -E "from=<${2%@*}(\+[^@>]*)?@${2#*@}>, size=" \
        | sed -n 's/.* size=\([0-9]*\),.*/\1/p' \
        | awk '{ s += $1; n++ } END { printf "%d %d\n", n ? s / n + 0.5 : 0, n }'
}

# wait_sink BASE N WHAT: until the sink has N messages more than BASE; sets T1
wait_sink() {
    local base=$1 n=$2 i got
    for ((i = 0; ; i++)); do
        got=$(($(sink_count) - base))
        [ "$got" -ge "$n" ] && break
        if [ "$i" -ge $((TIMEOUT * 20)) ]; then
            echo "digests.sh: $3: the sink has $got of $n after ${TIMEOUT}s" >&2
            tail -20 "$PF_LOG" >&2
            tail -5 "$CD_LOG" >&2
            exit 1
        fi
        sleep 0.05
    done
    T1=$EPOCHREALTIME
}

# check BASE OFF N WHAT: nothing left, nothing extra, Postfix agrees with the sink
check() {
    local got i
    pf_queue_empty_wait 120 >/dev/null || fail "$4: queue not empty"
    sleep 0.5
    got=$(($(sink_count) - $1))
    i=$(sent_since "$2")
    [ "$got" = "$3" ] && [ "$i" = "$3" ] \
        || fail "$4: the sink got $got messages, Postfix logged $i deliveries to it; expected exactly $3"
}

ROUND_ID=
# prep ROUND: N digest items pending, crierd stopped
prep() {
    local r=$1 id off t
    id=bench-digests-$r-$$
    cd_start "${DAY}T07:00:00Z" || fail "round $r: crierd did not start (prep)"
    START_S=$CD_READY
    sed "s/@ID@/$id/g" "$W/event.tmpl" >"$W/event.eml"
    off=$(stat -c %s "$CD_LOG")
    t=$EPOCHREALTIME
    PF_SWAKS_EXTRA="--timeout 600" pf_send_file "$W/event.eml" portal@studio.test events@crier.test \
        || fail "round $r: the event was not accepted: $(tail -3 "$PF_SWAKS_LOG")"
    MILTER_S=$(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
    tail -c +"$((off + 1))" "$CD_LOG" | grep -q "event=$id .* accepted notifications=0 digest_items=$N\$" \
        || fail "round $r: crierd did not log digest_items=$N: $(grep "event=$id" "$CD_LOG")"
    [ "$(pending)" = "$N" ] || fail "round $r: crierctl digests lists $(pending) digests, not $N"
    cd_stop || fail "round $r: crierd did not stop"
    pf_queue_empty_wait 120 >/dev/null || fail "round $r: queue not empty after the event"
}

# phase_d ROUND: the digests
phase_d() {
    local r=$1 lead due off pfoff base worker tdue cpu
    prep "$r"
    lead=$(awk -v s="$START_S" 'BEGIN { printf "%d", int(s) + 1 + 2 }')
    due=$(date -u -d "@$(($(date -u -d "${DAY}T09:00:00Z" +%s) - lead))" +%Y-%m-%dT%H:%M:%SZ)
    off=$(stat -c %s "$CD_LOG")
    pfoff=$(stat -c %s "$PF_LOG")
    base=$(sink_count)
    cd_start "$due" || fail "round $r: crierd did not start (digests)"
    tdue=$(awk -v t="$CD_T0" -v l="$lead" 'BEGIN { printf "%.6f", int(t) + l }')
    if [ "${CD_READY%.*}" -ge "$lead" ]; then
        echo "digests.sh: round $r: crierd took ${CD_READY}s to serve, the lead was ${lead}s" >&2
    fi
    if [ -n "$PERF_DIR" ]; then
        worker=$(ps -o pid= --ppid "$CD_PID" | head -1 | tr -d ' ')
        perf record -g -q -p "$worker" -o "$PERF_DIR/perf-D-r$r.data" >/dev/null 2>&1 &
        PERF_PID=$!
    fi
    wait_sink "$base" "$N" "D round $r"
    # CPU seconds of crierd (supervisor and worker) since it started
    cpu=$(for p in "$CD_PID" $(ps -o pid= --ppid "$CD_PID"); do cat "/proc/$p/stat"; done 2>/dev/null \
        | awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); t += $12 + $13 } END { printf "%.1f", t / hz }')
    if [ -n "$PERF_PID" ]; then
        kill -INT "$PERF_PID" 2>/dev/null
        wait "$PERF_PID" 2>/dev/null
        PERF_PID=
    fi
    check "$base" "$pfoff" "$N" "D round $r"
    # crierd's side: N queued, N sent, nothing pending; the time line.
    tail -c +"$((off + 1))" "$CD_LOG" >"$W/log.d"
    [ "$(grep -c ' digest: .* status=queued$' "$W/log.d")" = "$N" ] \
        || fail "D round $r: $(grep -c ' digest: .* status=queued$' "$W/log.d") digests queued, not $N"
    [ "$(grep -cE ' outbox: .* status=sent( |$)' "$W/log.d")" = "$N" ] \
        || fail "D round $r: $(grep -cE ' outbox: .* status=sent( |$)' "$W/log.d") sent by the outbox, not $N"
    grep -E ' (error|warning): ' "$W/log.d" | head -5 | sed 's/^/digests.sh: crierd: /' >&2
    [ "$(pending)" = 0 ] || fail "D round $r: $(pending) digests still pending"
    cd_stop || fail "round $r: crierd did not stop"
    read -r DSIZE DCOUNT <<<"$(avg_size "$pfoff" crier@crier.test)"
    awk -v r="$r" -v n="$N" -v due="$tdue" -v t1="$T1" -v lead="$lead" -v ms="$MILTER_S" \
        -v sz="$DSIZE" -v cpu="$cpu" -v out="$W/results" -v bd="$W/breakdown" '
        $3 == "digest:" && / status=queued$/ { if (!q0) q0 = $1; q1 = $1 }
        $3 == "outbox:" && / status=sent( |$)/ { if (!s0) s0 = $1; s1 = $1 }
        END {
            s = t1 - due
            printf "%-6s %-8s %8d %9.2f %9.1f %7d\n", "D", r, n, s, n / s, sz
            print "D", r, n, s, n / s >> out
            printf "D %s lead=%d milter=%.2f latency=%.2f render=%.2f send=%.2f tail=%.2f " \
                "render_rate=%.1f send_rate=%.1f crierd_cpu=%s\n", r, lead, ms, q0 - due, q1 - q0, \
                s1 - s0, t1 - q1, n / (q1 - q0 > 0 ? q1 - q0 : 1e-9), \
                n / (s1 - s0 > 0 ? s1 - s0 : 1e-9), cpu >> bd
        }' "$W/log.d"
}

# phase_s ROUND N: smtp-source, N messages of L bytes, to the reinject listener
phase_s() {
    local r=$1 n=$2 pfoff base t0 rc size cnt
    pf_queue_empty_wait 120 >/dev/null || fail "queue not empty before S round $r"
    pfoff=$(stat -c %s "$PF_LOG")
    base=$(sink_count)
    t0=$EPOCHREALTIME
    smtp-source -4 -s "$S" -m "$n" -l "$L" -f load@bench.test -t someone@partner.test \
        -M load.bench.test "127.0.0.1:$PF_REINJECT_PORT" >"$W/gen.out" 2>&1
    rc=$?
    [ "$rc" = 0 ] || fail "S round $r: smtp-source failed (exit $rc): $(tail -5 "$W/gen.out")"
    wait_sink "$base" "$n" "S round $r"
    check "$base" "$pfoff" "$n" "S round $r"
    read -r size cnt <<<"$(avg_size "$pfoff" load@bench.test)"
    awk -v r="$r" -v n="$n" -v a="$t0" -v b="$T1" -v sz="$size" -v out="$W/results" '
        BEGIN { s = b - a; printf "%-6s %-8s %8d %9.2f %9.1f %7d\n", "S", r, n, s, n / s, sz
                if (r != "warm-up") print "S", r, n, s, n / s >> out }'
}

# size_overhead: sets OVERHEAD, what Postfix's size= of an smtp-source
# message adds to -l (one message with -l 1000)
size_overhead() {
    local pfoff base size cnt
    pfoff=$(stat -c %s "$PF_LOG")
    base=$(sink_count)
    smtp-source -4 -s 1 -m 1 -l 1000 -f load@bench.test -t someone@partner.test \
        -M load.bench.test "127.0.0.1:$PF_REINJECT_PORT" >"$W/gen.out" 2>&1 \
        || fail "smtp-source -l 1000 failed: $(tail -5 "$W/gen.out")"
    wait_sink "$base" 1 "size calibration"
    check "$base" "$pfoff" 1 "size calibration"
    read -r size cnt <<<"$(avg_size "$pfoff" load@bench.test)"
    [ "$cnt" = 1 ] || fail "size calibration: no size= in the maillog"
    OVERHEAD=$((size - 1000))
}

echo "crierd: $WORKERS_NOTE; smtp-source: $S sessions; $N recipients; $R round(s)"
size_overhead
: >"$W/results"
: >"$W/breakdown"
printf '%-6s %-8s %8s %9s %9s %7s\n' phase round messages seconds "msgs/s" "size"
if [ "$WARMUP" = 1 ]; then
    L0=${L:-2000}
    w=$((N / 10 < 2000 ? N / 10 : 2000))
    [ "$w" -ge 1 ] && L=$L0 phase_s warm-up "$w"
fi
for ((r = 1; r <= R; r++)); do
    if [ $((r % 2)) = 1 ]; then order="D S"; else order="S D"; fi
    for ph in $order; do
        case $ph in
            D)  phase_d "$r"
                if [ -z "$L" ]; then
                    L=$((DSIZE - OVERHEAD))
                    [ "$L" -ge 0 ] || L=0
                fi ;;
            S)  phase_s "$r" "$N" ;;
        esac
    done
done

echo
echo "D: size = average Postfix size= of the digests; S: smtp-source -l $L" \
    "(Postfix size= is -l plus $OVERHEAD)"
echo "D breakdown (seconds; due = crierd's 09:00:00Z in real time):"
echo "  latency = due -> first 'digest: status=queued'; render = first -> last 'status=queued';"
echo "  send = first -> last 'outbox: status=sent'; tail = last 'status=queued' -> N-th at the sink;"
echo "  milter = the prep's event mail through the milter (N items stored); crierd_cpu = CPU"
echo "  seconds of crierd from its start (rules.d compile included) to the N-th at the sink"
sed 's/^/  /' "$W/breakdown"
awk -v n="$N" '
    function median(c,   k, i, j, t, v) {
        k = 0
        for (i = 1; i <= cnt[c]; i++) v[++k] = rate[c, i]
        for (i = 2; i <= k; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
    }
    { cnt[$1]++; rate[$1, cnt[$1]] = $5 }
    END {
        d = median("D"); s = median("S")
        printf "median: digests D=%.1f/s, smtp-source S=%.1f msgs/s (N=%d)\n", d, s, n
        printf "D/S=%.2f (target >= 0.5): %s\n", d / s, (d / s >= 0.5 ? "met" : "MISSED")
    }' "$W/results"
exit 0
