# crierd.sh - run a crierd under test: its own configuration, key, rules.d
# copy and state in a scratch directory, as the service user "nobody" when
# the tests run as root (so privileges are really dropped).
#
#   crierd_setup DIR [REINJECT]   write DIR/crier.conf and friends (sockets
#                                 $CD_SOCK for the milter, $CD_POLICY for policy)
#   crierd_start                  start it in the background, wait for its socket
#                                 (CD_START_WAIT tenths of a second, 300 unless set)
#   crierd_stop                   SIGTERM, wait for it to go
#   crierd_kill9                  kill -9 every crierd process of this instance
#   crierd_count TABLE            entries in a table of state.lmdb
: "${top_builddir:?}" "${srcdir:?}"
CRIERD="$top_builddir/crierd"

crierd_setup() {
    CD_DIR=$1
    mkdir -p "$CD_DIR/run"
    chmod 755 "$CD_DIR"
    chmod a+x "$(dirname "$CD_DIR")"      # the service user must reach it
    cp -r "$srcdir/rules.d" "$CD_DIR/rules.d"
    chmod -R u+w "$CD_DIR/rules.d"          # a distcheck source tree is read-only
    head -c 32 /dev/urandom >"$CD_DIR/key"
    chmod 600 "$CD_DIR/key"
    CD_USER=$(id -un)
    if [ "$(id -u)" = 0 ]; then
        CD_USER=nobody
        chown nobody "$CD_DIR/key" "$CD_DIR/run"
        chown -R nobody "$CD_DIR/rules.d/users"    # self-service writes here
        chmod -R a+rX "$CD_DIR/rules.d"
    fi
    CD_SOCK="$CD_DIR/run/milter"
    CD_POLICY="$CD_DIR/run/policy"
    cat >"$CD_DIR/crier.conf" <<CONF
rules_dir = "$CD_DIR/rules.d";
state_dir = "$CD_DIR/state";
milter_socket = "unix:$CD_SOCK";
policy_socket = "unix:$CD_POLICY";
pid_file = "$CD_DIR/run/crierd.pid";
events_address = "events@crier.test";
request_address = "crier-request@crier.test";
sender_address = "crier@crier.test";
token_key_file = "$CD_DIR/key";
reinject = "${2:-smtp:127.0.0.1:9}";
user = "$CD_USER";
log_level = "debug";
CONF
}

crierd_start() {
    rm -f "$CD_DIR/run/crierd.pid"
    "$CRIERD" -c "$CD_DIR/crier.conf" -f >>"$CD_DIR/crierd.log" 2>&1 &
    CD_PID=$!
    for _ in $(seq "${CD_START_WAIT:-300}"); do
        [ -S "$CD_SOCK" ] && [ -s "$CD_DIR/run/crierd.pid" ] \
            && grep -q "worker: serving" "$CD_DIR/crierd.log" && return 0
        kill -0 "$CD_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "crierd did not start:" >&2
    tail -20 "$CD_DIR/crierd.log" >&2
    return 1
}

crierd_stop() {
    [ -n "${CD_PID:-}" ] || return 0
    kill -TERM "$CD_PID" 2>/dev/null
    for _ in $(seq 300); do
        kill -0 "$CD_PID" 2>/dev/null || { CD_PID=; return 0; }
        sleep 0.1
    done
    echo "crierd did not stop on SIGTERM" >&2
    crierd_kill9
    return 1
}

crierd_kill9() {
    pkill -9 -f "crierd -c $CD_DIR/crier.conf" 2>/dev/null
    wait "$CD_PID" 2>/dev/null
    CD_PID=
}

crierd_count() {
    mdb_stat -n -s "$1" "$CD_DIR/state/state.lmdb" 2>/dev/null | awk '/Entries:/ {print $2}'
}
