#!/bin/bash
# privileges.sh - what crierd does as root at start cannot be steered by
# its service user (nobody here): links planted where that user writes
# (the lock file, the pid file, the stores, a directory, a socket) stop
# the start with the path named, and no file or directory of root's
# changes owner, mode or content; directories that exist are not given
# away; crierctl reload signals only the crierd of its configuration;
# crierctl run as root opens the stores as the owner of state_dir.
# Root only (crierd drops to nobody); no Postfix needed.
. "${srcdir:-.}/tests/cli/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (crierd drops privileges)"; exit 77; }
. "$srcdir/tests/crierd.sh"
SLEEPER=
trap 'crierd_kill9; [ -n "$SLEEPER" ] && kill "$SLEEPER" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
cases=0

# Root's victims: files and directories that must stay exactly as they are.
V="$T/victims"
mkdir -p "$V/dir1" "$V/dir2" "$V/dir3" && chmod 755 "$V" "$V"/dir*
for f in lock pid rules state-lock policy; do
    echo "root's $f file" >"$V/$f"
done
chmod 600 "$V/lock" "$V/pid"
chmod 644 "$V/rules" "$V/state-lock" "$V/policy"
snap() {    # owner, mode and content of every victim, and what is in the directories
    (cd "$V" && find . -printf '%p %u:%g %m\n' | sort && find . -type f -exec sha256sum {} + | sort)
}
snap >"$T/victims.before"

as_user() { runuser -u nobody -- "$@"; }

# refused NAME TEXT: crierd (config $CD_DIR/crier.conf) stops with status 1,
# saying TEXT, and root's victims are unchanged
refused() {
    cases=$((cases + 1))
    timeout 20 "$CRIERD" -c "$CD_DIR/crier.conf" -f >"$T/$1.log" 2>&1
    st=$?
    [ "$st" = 1 ] || fail "$1: crierd exited $st, expected 1: $(tail -3 "$T/$1.log")"
    grep -qF -- "$2" "$T/$1.log" || fail "$1: no '$2' in: $(tail -3 "$T/$1.log")"
    snap | diff "$T/victims.before" - >&2 || fail "$1: root's files changed"
}

# unchanged NAME PATH...: each directory still root's, mode 755
unchanged() {
    for d in "${@:2}"; do
        cases=$((cases + 1))
        [ "$(stat -c '%u %a' "$d")" = "0 755" ] || fail "$1: $d is now $(stat -c '%U %a' "$d")"
    done
}

# A first start as usual: the state directory is made and given to nobody.
crierd_setup "$T/a"
crierd_start || fail "first start"
crierd_stop
cases=$((cases + 1))
[ "$(stat -c %U "$CD_DIR/state" "$CD_DIR/state/crierd.lock" | sort -u)" = nobody ] \
    || fail "the new state directory and lock are not nobody's"

# 1. state/crierd.lock -> a root file (it was opened O_CREAT, then fchowned).
as_user rm -f "$CD_DIR/state/crierd.lock"
as_user ln -s "$V/lock" "$CD_DIR/state/crierd.lock"
refused lock "$CD_DIR/state/crierd.lock is a symbolic link"
as_user rm -f "$CD_DIR/state/crierd.lock"

# 2. run/crierd.pid -> a root file (it was written, then chowned).
as_user ln -s "$V/pid" "$CD_DIR/run/crierd.pid"
refused pid "pid_file $CD_DIR/run/crierd.pid is a symbolic link"
as_user rm -f "$CD_DIR/run/crierd.pid"

# 3, 4. The stores -> root files (they were chowned by path).
as_user rm -f "$CD_DIR/state/rules.lmdb"    # compiled again at the next start
as_user ln -s "$V/rules" "$CD_DIR/state/rules.lmdb"
refused rules "$CD_DIR/state/rules.lmdb is a symbolic link"
as_user rm -f "$CD_DIR/state/rules.lmdb"
as_user rm -f "$CD_DIR/state/state.lmdb-lock"
as_user ln -s "$V/state-lock" "$CD_DIR/state/state.lmdb-lock"
refused state-lock "$CD_DIR/state/state.lmdb-lock is a symbolic link"
as_user rm -f "$CD_DIR/state/state.lmdb-lock"

# 5. The policy socket -> a root file.
as_user rm -f "$CD_DIR/run/policy"
as_user ln -s "$V/policy" "$CD_DIR/run/policy"
refused policy-link "policy_socket $CD_DIR/run/policy exists and is not a socket"
as_user rm -f "$CD_DIR/run/policy"

# 6. A socket directory in nobody's run/ -> a root directory (it was chowned).
cp "$CD_DIR/crier.conf" "$T/a.conf"
sed -i "s|^milter_socket = .*|milter_socket = \"unix:$CD_DIR/run/sub/milter\";|" "$CD_DIR/crier.conf"
as_user ln -s "$V/dir1" "$CD_DIR/run/sub"
refused sockdir-link "$CD_DIR/run/sub is a symbolic link owned by uid"
as_user rm -f "$CD_DIR/run/sub"
cp "$T/a.conf" "$CD_DIR/crier.conf"

# After all that, crierd starts as before.
crierd_start || fail "start after the links were gone"
crierd_stop

# 7. state_dir itself a link of nobody's to a root directory.
crierd_setup "$T/b"
mkdir "$CD_DIR/home" && chown nobody "$CD_DIR/home"
sed -i "s|^state_dir = .*|state_dir = \"$CD_DIR/home/state\";|" "$CD_DIR/crier.conf"
as_user ln -s "$V/dir2" "$CD_DIR/home/state"
refused statedir-link "$CD_DIR/home/state is a symbolic link owned by uid"

# 8. A state directory that exists and is root's (in /tmp, which others
# write): not given away; the start says whose it should be.
rm -f "$CD_DIR/home/state"
mkdir -m 755 "$CD_DIR/home/state"
refused statedir-root "state_dir $CD_DIR/home/state: not writable by the service user"
unchanged statedir-root "$CD_DIR/home/state"

# 9. The sockets and the pid file in directories that exist and are root's
# (milter_socket = "unix:/tmp/x/milter"): crierd starts, the directories
# stay root's, the sockets are root's, group postfix, mode 0660.
crierd_setup "$T/c"
mkdir -m 755 "$CD_DIR/rootrun"
sed -i -e "s|^milter_socket = .*|milter_socket = \"unix:$CD_DIR/rootrun/milter\";|" \
    -e "s|^policy_socket = .*|policy_socket = \"unix:$CD_DIR/rootrun/policy\";|" \
    -e "s|^pid_file = .*|pid_file = \"$CD_DIR/rootrun/crierd.pid\";|" "$CD_DIR/crier.conf"
"$CRIERD" -c "$CD_DIR/crier.conf" -f >>"$CD_DIR/crierd.log" 2>&1 &
CD_PID=$!
for _ in $(seq 300); do
    grep -q "worker: serving" "$CD_DIR/crierd.log" && break
    sleep 0.1
done
grep -q "worker: serving" "$CD_DIR/crierd.log" || fail "start with root's socket directory"
unchanged root-dirs "$CD_DIR/rootrun"
want="root 660 socket"
getent group postfix >/dev/null && want="root:postfix 660 socket"
for s in milter policy; do
    cases=$((cases + 1))
    got=$(stat -c '%U %a %F' "$CD_DIR/rootrun/$s")
    getent group postfix >/dev/null && got=$(stat -c '%U:%G %a %F' "$CD_DIR/rootrun/$s")
    [ "$got" = "$want" ] || fail "$s socket: $got, expected $want"
done
cases=$((cases + 1))
[ "$(stat -c %U "$CD_DIR/rootrun/crierd.pid")" = nobody ] || fail "the new pid file is not nobody's"
grep -q "rootrun: not writable by the service user" "$CD_DIR/crierd.log" \
    || fail "no warning about the root-owned socket directory"
C_PID=$CD_PID C_DIR=$CD_DIR

# 10. crierctl reload: the pid file names a process that is not crierd.
crierd_setup "$T/d"
sleep 1000 &
SLEEPER=$!
echo "$SLEEPER" >"$CD_DIR/run/crierd.pid"
chown nobody "$CD_DIR/run/crierd.pid"
cases=$((cases + 1))
expect_exit 1 "$CRIERCTL" -c "$CD_DIR/crier.conf" reload
expect_in "$T/err" "pid $SLEEPER in $CD_DIR/run/crierd.pid is not crierd"
sleep 0.5
kill -0 "$SLEEPER" 2>/dev/null || fail "crierctl reload signalled the sleep process"

# 11. ... names a crierd of another configuration (c's, still running).
cases=$((cases + 1))
echo "$C_PID" >"$CD_DIR/run/crierd.pid"
expect_exit 1 "$CRIERCTL" -c "$CD_DIR/crier.conf" reload
expect_in "$T/err" "is a crierd of another configuration ($C_DIR/crier.conf)"
grep -q "SIGHUP: reloading" "$C_DIR/crierd.log" && fail "the other crierd was signalled"

# 12. ... names its own crierd: signalled.
cases=$((cases + 1))
expect_exit 0 "$CRIERCTL" -c "$C_DIR/crier.conf" reload
for _ in $(seq 50); do
    grep -q "SIGHUP: reloading" "$C_DIR/crierd.log" && break
    sleep 0.1
done
grep -q "SIGHUP: reloading" "$C_DIR/crierd.log" || fail "crierctl reload did not reach crierd"
CD_DIR=$C_DIR CD_PID=$C_PID
crierd_stop || fail "stop"

# 13. crierctl run as root opens crierd's stores as the owner of
# state_dir: LMDB opens a store's lock file by name, and nobody has made
# the lock files links to files of root's. The commands fail on them, and
# root's files are unchanged (snap, below). Without the links they work,
# and the files they make are nobody's, as crierd's own.
cases=$((cases + 1))
S=$CD_DIR/state
as_user rm -f "$S/state.lmdb-lock" "$S/rules.lmdb-lock"
as_user ln -s "$V/lock" "$S/state.lmdb-lock"
as_user ln -s "$V/pid" "$S/rules.lmdb-lock"
expect_exit 1 "$CRIERCTL" -c "$CD_DIR/crier.conf" digests
expect_in "$T/err" "$S/state.lmdb: cannot open"
expect_exit 1 "$CRIERCTL" -c "$CD_DIR/crier.conf" compile
as_user rm -f "$S/state.lmdb-lock" "$S/rules.lmdb-lock"
expect_exit 0 "$CRIERCTL" -c "$CD_DIR/crier.conf" digests
expect_exit 0 "$CRIERCTL" -c "$CD_DIR/crier.conf" compile
[ "$(stat -c %U "$S/state.lmdb-lock" "$S/rules.lmdb-lock" | sort -u)" = nobody ] \
    || fail "crierctl as root made lock files of $(stat -c %U "$S/state.lmdb-lock" "$S/rules.lmdb-lock" | sort -u | tr '\n' ' ')"

snap | diff "$T/victims.before" - >&2 || fail "root's files changed"
echo "privileges: $cases cases checked"
finish
