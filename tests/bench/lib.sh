# lib.sh - what the benchmarks that run a private Postfix share: cleaning
# up everything they started (perf, crierd and its worker, the sink, the
# Postfix instance, the scratch directory $W unless KEEP=1), and reading
# how much mail reached the sink.
SINK_PID=
PERF_PID=
TS_PID=
CD_PID=

# cleanup - stop what the benchmark started; EXIT trap
cleanup() {
    local i kids
    [ -n "$PERF_PID" ] && kill -INT "$PERF_PID" 2>/dev/null && wait "$PERF_PID" 2>/dev/null
    if [ -n "${CD_PID:-}" ]; then		# our crierd: supervisor, then its worker
        kids=$(ps -o pid= --ppid "$CD_PID" 2>/dev/null)
        kill -TERM "$CD_PID" 2>/dev/null
        for ((i = 0; i < 100; i++)); do
            kill -0 "$CD_PID" 2>/dev/null || break
            sleep 0.1
        done
        # shellcheck disable=SC2086
        kill -9 "$CD_PID" $kids 2>/dev/null
        wait "$CD_PID" 2>/dev/null
    fi
    [ -n "$TS_PID" ] && kill "$TS_PID" 2>/dev/null && wait "$TS_PID" 2>/dev/null
    [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
    pf_cleanup >/dev/null 2>&1
    if [ "${KEEP:-0}" = 1 ]; then echo "$(basename "$0"): kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# sink_count: messages the sink has received so far (its -c counters on
# stdout: "sess=N quit=N mesg=N\r" per event; the last complete record)
sink_count() {
    local s
    s=$(tail -c 96 "$W/sink.out" 2>/dev/null)
    case $s in *$'\r') s=${s%$'\r'} ;; *) s=${s%$'\r'*} ;; esac
    s=${s##*$'\r'}
    case $s in *mesg=*) s=${s##*mesg=}; echo "${s%%[!0-9]*}" ;; *) echo 0 ;; esac
}

# sent_since OFFSET: deliveries to the sink logged by Postfix after byte OFFSET
sent_since() {
    tail -c +"$(($1 + 1))" "$PF_LOG" | grep -F " relay=127.0.0.1[127.0.0.1]:$SINK_PORT," \
        | grep -cF 'status=sent'
}
