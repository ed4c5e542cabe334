#!/bin/bash
# startup.sh - crierd's start-up errors reach the terminal. A -c file that
# does not exist, a token key, a state_dir or a rules.d the service user
# cannot use, a service user that does not exist: crierd -n fails on each
# with exit status 1 and the reason on stderr, with the safe fix (chown
# the key, never a new one); so does the start, as a daemon and with -f,
# before or after the fork (a worker that cannot open its store), and it
# leaves no pid file, socket or process behind, not even in a directory
# only root may write. A start that succeeds exits 0 once the worker
# serves, with its warnings on the terminal. A unix web_listen's directory
# is checked as the other sockets' are.
# Root only (crierd drops to nobody); no Postfix needed.
. "${srcdir:-.}/tests/cli/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (crierd drops privileges)"; exit 77; }
. "$srcdir/tests/crierd.sh"
trap 'crierd_kill9; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
cases=0
CD_PID=

# pid_file, sockets: where this configuration puts them
pid_file() { sed -n 's/^pid_file = "\(.*\)";$/\1/p' "$CD_DIR/crier.conf"; }
sockets() {
    sed -n 's/^\(milter_socket\|policy_socket\|web_listen\) = "unix:\(.*\)";$/\2/p' \
        "$CD_DIR/crier.conf"
}

# gone NAME: no pid file, socket or crierd process of this configuration left
gone() {
    for _ in $(seq 50); do
        pgrep -f "crierd -c $CD_DIR/crier.conf" >/dev/null || break
        sleep 0.1
    done
    pgrep -af "crierd -c $CD_DIR/crier.conf" >&2 && fail "$1: a crierd process is left"
    [ -e "$(pid_file)" ] && fail "$1: the pid file $(pid_file) is left"
    for s in $(sockets); do
        [ -e "$s" ] && fail "$1: the socket $s is left"
    done
    return 0
}

# refused NAME TEXT [ARG...]: crierd -c CONF ARG... exits 1 and says TEXT
# on stderr, without the hint that would break every link already mailed
refused() {
    name=$1 text=$2
    shift 2
    cases=$((cases + 1))
    timeout 30 "$CRIERD" -c "$CD_DIR/crier.conf" "$@" >"$T/$name.out" 2>"$T/$name.err"
    st=$?
    [ "$st" = 1 ] || fail "$name: crierd $* exited $st, expected 1: $(tail -3 "$T/$name.err")"
    grep -qF -- "$text" "$T/$name.err" || fail "$name: no '$text' on stderr: $(tail -3 "$T/$name.err")"
    grep -q "head -c" "$T/$name.err" && fail "$name: the hint makes a new key"
    return 0
}

# refused_all NAME TEXT: crierd -n, the daemon and crierd -f are refused,
# the two starts leaving nothing behind
refused_all() {
    refused "$1-n" "$2" -n
    refused "$1-daemon" "$2"
    gone "$1-daemon"
    refused "$1-f" "$2" -f
    gone "$1-f"
}

# 1. A -c file that does not exist: an error, never the built-in defaults.
crierd_setup "$T/a"
cases=$((cases + 1))
expect_exit 1 "$CRIERD" -c "$T/nonexistent.conf" -n
expect_in "$T/err" "$T/nonexistent.conf: cannot read: No such file or directory"
cases=$((cases + 1))
expect_exit 1 "$CRIERD" -c "$T/nonexistent.conf"
expect_in "$T/err" "$T/nonexistent.conf: cannot read: No such file or directory"

# 2. token.key root's, mode 0600: the service user cannot read it. The
# fix is a chown; a new key would make every link already mailed invalid.
chown root "$CD_DIR/key"
refused_all key "token_key_file $CD_DIR/key: the service user nobody (uid $(id -u nobody)) cannot read it: chown nobody $CD_DIR/key"
chown nobody "$CD_DIR/key"

# 3. The key in a directory the service user may not enter.
mkdir -m 700 "$CD_DIR/private"
mv "$CD_DIR/key" "$CD_DIR/private/key"
sed -i "s|^token_key_file = .*|token_key_file = \"$CD_DIR/private/key\";|" "$CD_DIR/crier.conf"
refused_all keydir "cannot reach it: it may not enter $CD_DIR/private"
mv "$CD_DIR/private/key" "$CD_DIR/key"
sed -i "s|^token_key_file = .*|token_key_file = \"$CD_DIR/key\";|" "$CD_DIR/crier.conf"

# 4. crier.conf readable by root alone.
chmod 600 "$CD_DIR/crier.conf"
refused_all conf "configuration file $CD_DIR/crier.conf: the service user nobody"
chmod 644 "$CD_DIR/crier.conf"

# 5. The service user does not exist.
sed -i 's/^user = .*/user = "crier-test-nobody";/' "$CD_DIR/crier.conf"
refused_all user 'user "crier-test-nobody" does not exist: create it'
sed -i 's/^user = .*/user = "nobody";/' "$CD_DIR/crier.conf"

# 6. A state_dir that exists, root's, where others may write above it: not
# given away, so not writable by the service user.
rm -rf "$CD_DIR/state"
mkdir -m 755 "$CD_DIR/state"
refused_all state "state_dir $CD_DIR/state: not writable by the service user nobody"
rm -rf "$CD_DIR/state"

# 7. A rules.d file only root can read, and no rules compiled before.
chmod 600 "$CD_DIR/rules.d/00-frequencies.conf"
refused rules-n "$CD_DIR/rules.d/00-frequencies.conf: cannot read: Permission denied" -n
refused rules-f "and there are no rules compiled before to serve" -f
gone rules-f
chmod 644 "$CD_DIR/rules.d/00-frequencies.conf"

# 8. A start that succeeds: exit 0 once the worker serves; the warnings
# (here: self-service cannot write rules.d/users) on the terminal. It
# was handed a file of the shell's (fd 7) and no standard input: neither
# the supervisor nor the worker keeps the file, and both have a stdin.
chown root "$CD_DIR/rules.d/users"
cases=$((cases + 1))
exec 7>"$T/handed"
expect_exit 0 "$CRIERD" -c "$CD_DIR/crier.conf" <&-
exec 7>&-
CD_PID=$(cat "$(pid_file)" 2>/dev/null)
[ -n "$CD_PID" ] && kill -0 "$CD_PID" || fail "no crierd in $(pid_file) after exit 0"
pgrep -P "$CD_PID" >/dev/null || fail "no worker when the start exited 0"
for p in "$CD_PID" $(pgrep -P "$CD_PID"); do
    ls -l "/proc/$p/fd/" | grep -q "$T/handed" && fail "process $p keeps the shell's fd 7"
    [ -e "/proc/$p/fd/0" ] || fail "process $p has no standard input"
done
for s in $(sockets); do
    [ -S "$s" ] || fail "no socket $s after exit 0"
done
expect_in "$T/err" "crierd: warning: $CD_DIR/rules.d/users: not writable by the service user nobody"
crierd_stop || fail "stop"
chown nobody "$CD_DIR/rules.d/users"

# 9. The same rules.d file unreadable again, with rules compiled before:
# the start serves those, and says so on the terminal.
chmod 600 "$CD_DIR/rules.d/00-frequencies.conf"
cases=$((cases + 1))
expect_exit 0 "$CRIERD" -c "$CD_DIR/crier.conf"
CD_PID=$(cat "$(pid_file)" 2>/dev/null)
expect_in "$T/err" "crierd: warning: rules: $CD_DIR/rules.d: "
expect_in "$T/err" "errors: $CD_DIR/rules.d/00-frequencies.conf: cannot read: Permission denied; serving the rules compiled before, generation 1"
crierd_stop || fail "stop"
chmod 644 "$CD_DIR/rules.d/00-frequencies.conf"

# 10. web_listen, a unix socket, whose directory cannot be made (its
# parent does not exist): crierd -n and both starts refuse it with the
# message of the other sockets' directories. One crierd can make passes
# crierd -n, which makes nothing, and the start makes it; one that exists but that the service user
# cannot write passes with a warning, as the milter's would.
printf 'web_listen = "unix:%s/nonexistent-dir/x/web";\nweb_base_url = "http://127.0.0.1/";\n' \
    "$CD_DIR" >>"$CD_DIR/crier.conf"
refused_all weblisten "cannot create $CD_DIR/nonexistent-dir/x: No such file or directory"
sed -i "s|^web_listen = .*|web_listen = \"unix:$CD_DIR/webrun/web\";|" "$CD_DIR/crier.conf"
cases=$((cases + 1))
expect_exit 0 "$CRIERD" -c "$CD_DIR/crier.conf" -n
expect_in "$T/out" "crierd: $CD_DIR/crier.conf and $CD_DIR/rules.d: ok"
[ -e "$CD_DIR/webrun" ] && fail "crierd -n made $CD_DIR/webrun"
cases=$((cases + 1))
expect_exit 0 "$CRIERD" -c "$CD_DIR/crier.conf"
CD_PID=$(cat "$(pid_file)" 2>/dev/null)
[ -S "$CD_DIR/webrun/web" ] || fail "no socket $CD_DIR/webrun/web after exit 0"
crierd_stop || fail "stop"
gone webrun
mkdir -m 755 "$CD_DIR/webroot"
sed -i "s|^web_listen = .*|web_listen = \"unix:$CD_DIR/webroot/web\";|" "$CD_DIR/crier.conf"
cases=$((cases + 1))
expect_exit 0 "$CRIERD" -c "$CD_DIR/crier.conf" -n
expect_in "$T/err" "crierd: warning: $CD_DIR/webroot: not writable by the service user nobody"
sed -i '/^web_listen = /d; /^web_base_url = /d' "$CD_DIR/crier.conf"
rmdir "$CD_DIR/webroot"

# 11. A worker that cannot open its store fails the start after the fork:
# the reason reaches the terminal all the same, and root removes what the
# start made in a directory the service user cannot write.
mkdir -m 755 "$CD_DIR/rootrun"
sed -i -e "s|^milter_socket = .*|milter_socket = \"unix:$CD_DIR/rootrun/milter\";|" \
    -e "s|^policy_socket = .*|policy_socket = \"unix:$CD_DIR/rootrun/policy\";|" \
    -e "s|^pid_file = .*|pid_file = \"$CD_DIR/rootrun/crierd.pid\";|" "$CD_DIR/crier.conf"
rm -f "$CD_DIR/state/state.lmdb" "$CD_DIR/state/state.lmdb-lock"
head -c 16384 /dev/zero >"$CD_DIR/state/state.lmdb"
chown nobody "$CD_DIR/state/state.lmdb"
refused store-daemon "$CD_DIR/state/state.lmdb: cannot open: MDB_INVALID"
gone store-daemon
refused store-f "$CD_DIR/state/state.lmdb: cannot open: MDB_INVALID" -f
gone store-f
[ "$(stat -c '%U %a' "$CD_DIR/rootrun")" = "root 755" ] || fail "rootrun changed"

echo "startup: $cases cases checked"
finish
