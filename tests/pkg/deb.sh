#!/bin/bash
# tests/pkg/deb.sh - the Debian package from build to purge, as root.
#
# Builds crier_VERSION_ARCH.deb with contrib/debian/build.sh from a clean
# copy of this tree, runs lintian (an error fails), installs the package
# with apt-get, checks what dpkg and the maintainer scripts made, runs
# crierd -n, and starts crierd with the systemd unit's own command lines
# (no systemd here: /run/crier and /var/lib/crier are made as the unit's
# RuntimeDirectory= and StateDirectory= make them). Then a private Postfix
# (tests/e2e/postfix.sh: its own directories and ports, the system Postfix
# is neither configured nor started) gets crier's settings from the
# installed snippets alone, applied mechanically: every setting of
# main.cf.snippet through postconf -e, every service of master.cf.snippet
# through postconf -M. One event goes through it, from an address in
# submit_networks, and its notifications must arrive in the recipients'
# Maildirs. Last, apt-get purge, and nothing of the package may be left.
#
# Each check prints "PASS: pkg: ..." or "FAIL: pkg: ...", with what went
# wrong; the last line is "deb.sh: N passed, M failed" (checks that could
# not run count as failed). Exit 0 only when every check passed.
# KEEP=1 keeps the work directory.
set -u
cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)

PLAN=13
passed=0
failed=0
ok() { echo "PASS: pkg: $*"; passed=$((passed + 1)); }
nok() { echo "FAIL: pkg: $*"; failed=$((failed + 1)); }

finish() {
    local missing=$((PLAN - passed - failed))
    if [ "$missing" -gt 0 ]; then
        echo "FAIL: pkg: $missing check(s) not run"
        failed=$((failed + missing))
    fi
    echo "deb.sh: $passed passed, $failed failed ($(($(date +%s) - t0)) s)"
    [ "$failed" = 0 ]
    exit $?
}
t0=$(date +%s)

if [ "$(id -u)" != 0 ]; then
    nok "must run as root (installs a package)"
    finish
fi

version=$(sed -n 's/^AC_INIT(\[crier\], \[\([^]]*\)\].*/\1/p' configure.ac)
arch=$(dpkg-architecture -qDEB_HOST_ARCH 2>/dev/null || dpkg --print-architecture)
deb=crier_${version}_$arch.deb
work=$(mktemp -d /tmp/crier-pkg.XXXXXX) || { nok "mktemp"; finish; }
chmod 755 "$work"
CONF=/etc/crier
UNIT=/lib/systemd/system/crierd.service
EXAMPLES=/usr/share/doc/crier/examples
crierd_pids=""
syslog_pid=""
syslog_ino=""

# alive PID - the process runs (a zombie does not)
alive() {
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]
}
installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' crier 2>/dev/null)" = installed ]
}
# present - dpkg knows crier in any state but "not installed"
present() {
    local s
    s=$(dpkg-query -W -f='${db:Status-Abbrev}' crier 2>/dev/null)
    [ -n "$s" ] && [ "$s" != "un " ]
}

# cleanup - leave the machine as it was: crierd stopped, the package
# purged, the private Postfix stopped, /dev/log gone if it was ours.
cleanup() {
    local p
    for p in $crierd_pids; do kill -TERM "$p" 2>/dev/null; done
    if present; then
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -q crier >>"$work/cleanup.log" 2>&1
    fi
    [ -n "${PF_DIR:-}" ] && pf_cleanup >/dev/null 2>&1
    if [ -n "$syslog_pid" ]; then
        kill "$syslog_pid" 2>/dev/null
        [ "$(stat -c %i /dev/log 2>/dev/null)" = "$syslog_ino" ] && rm -f /dev/log
    fi
    if [ "${KEEP:-0}" = 1 ]; then echo "deb.sh: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The machine must not hold crier already: a package left by an
# interrupted run is purged; a "make install" or a user crier of its own
# would be mixed up with the package's, and purge would remove that user.
if present; then
    echo "deb.sh: purging a crier package left installed"
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q crier >"$work/prepurge.log" 2>&1
fi
for f in "$CONF" /var/lib/crier /run/crier; do
    if [ -e "$f" ]; then
        nok "$f exists before the package is installed (a make install?): not touching this machine"
        finish
    fi
done
if getent passwd crier >/dev/null || getent group crier >/dev/null; then
    nok "a user or group crier exists before the package is installed: not touching this machine"
    finish
fi
postfix_sum=$(find /etc/postfix -type f -exec sha256sum {} + 2>/dev/null | sort)

# A small /dev/log reader when nothing else is one (no syslog daemon in CI),
# so that crierd's log can be shown.
if [ ! -e /dev/log ] && command -v python3 >/dev/null; then
    python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
os.chmod("/dev/log", 0o666)
out = open(sys.argv[1], "ab", 0)
print(os.stat("/dev/log").st_ino, flush=True)
while True:
    out.write(s.recv(65536).rstrip(b"\n") + b"\n")
' "$work/syslog" >"$work/syslog.ino" 2>/dev/null &
    syslog_pid=$!
    for _ in $(seq 50); do [ -s "$work/syslog.ino" ] && break; sleep 0.1; done
    syslog_ino=$(cat "$work/syslog.ino" 2>/dev/null)
fi
# crierd_log [N] - the last N lines crierd logged: those of the processes
# this test started once they run (other tests may run crierds of their own)
crierd_log() {
    local re=crierd
    [ -f "$work/syslog" ] || return 0
    [ -n "$crierd_pids" ] && re="crierd\[($(echo $crierd_pids | tr ' ' '|'))\]"
    grep -a -E "$re" "$work/syslog" | tail -n "${1:-20}"
}

# --- 1, 2: build, lintian ----------------------------------------------------
echo "== building $deb (contrib/debian/build.sh)"
deps=""
dpkg-checkbuilddeps contrib/debian/control >/dev/null 2>&1 || deps=--deps
if bash contrib/debian/build.sh $deps -o "$work/out" >"$work/build.out" 2>&1 \
        && [ -f "$work/out/$deb" ]; then
    ok "build: $deb ($(stat -c %s "$work/out/$deb") bytes, $(($(date +%s) - t0)) s)"
else
    cat "$work/build.out"
    nok "build: contrib/debian/build.sh made no $deb"
    finish
fi
echo "== lintian"
lintian --display-info --pedantic "$work/out/crier_${version}_$arch.changes" >"$work/lintian.out" 2>&1
lint_rc=$?
grep -v '^running with root privileges' "$work/lintian.out"
if [ "$lint_rc" = 0 ] && ! grep -q '^E: ' "$work/lintian.out"; then
    ok "lintian: no errors ($(grep -c '^W: ' "$work/lintian.out") warnings, $(grep -c '^[IP]: ' "$work/lintian.out") info/pedantic)"
else
    nok "lintian: errors, or lintian failed (exit $lint_rc)"
fi

# --- 3-8: install, and what it made --------------------------------------------
echo "== apt-get install ./$deb"
if (cd "$work/out" && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "./$deb") \
        >"$work/install.out" 2>&1 && installed; then
    ok "apt-get install ./$deb"
else
    tail -20 "$work/install.out"
    nok "apt-get install ./$deb"
    finish
fi
dpkg -L crier | sort >"$work/dpkg-L"
why=""
for f in /usr/sbin/crierd /usr/sbin/crierctl "$UNIT" \
        /usr/share/man/man5/crier.conf.5.gz /usr/share/man/man5/crier-rules.5.gz \
        /usr/share/man/man8/crierd.8.gz /usr/share/man/man8/crierctl.8.gz \
        "$EXAMPLES/postfix/main.cf.snippet" "$EXAMPLES/postfix/master.cf.snippet" \
        "$EXAMPLES/hooks/pre-commit" "$EXAMPLES/hooks/post-merge" "$EXAMPLES/hooks/post-receive" \
        "$CONF/crier.conf" "$CONF/rules.d/00-frequencies.conf" "$CONF/rules.d/users/ana.conf"; do
    grep -qxF "$f" "$work/dpkg-L" && [ -f "$f" ] || why="$why $f:missing"
done
grep -q '^/run\|^/var' "$work/dpkg-L" && why="$why ships:$(grep '^/run\|^/var' "$work/dpkg-L" | tr '\n' ' ')"
conffiles=$(dpkg-query -W -f='${Conffiles}\n' crier | awk '{print $1}')
for f in "$CONF/crier.conf" "$CONF/rules.d/00-frequencies.conf" "$CONF/rules.d/users/ana.conf"; do
    printf '%s\n' "$conffiles" | grep -qxF "$f" || why="$why $f:not-a-conffile"
done
for f in crier.conf.5 crierd.8; do
    s=$(find /usr/share/man -name "$f.gz" | head -1)
    zcat "$s" | grep -v '^\.\\"' | grep -q '/usr/local' && why="$why $f:names-/usr/local"
done
zcat /usr/share/man/man5/crier.conf.5.gz | grep -q 'unix:/run/crier/milter' || why="$why crier.conf.5:no-/run/crier/milter"
zcat /usr/share/man/man8/crierd.8.gz | grep -q "$EXAMPLES/postfix" || why="$why crierd.8:no-examples-path"
grep -q '^rules_dir *= *"/etc/crier/rules.d";' "$CONF/crier.conf" || why="$why crier.conf:rules_dir"
if [ -z "$why" ]; then
    ok "files: binaries, unit, man pages with the package's paths, examples, conffiles ($(wc -l <"$work/dpkg-L") paths)"
else
    nok "files:$why"
fi

why=""
uid=$(id -u crier 2>/dev/null)
[ -n "$uid" ] && [ "$uid" -lt 1000 ] || why="$why no-system-user-crier(uid=${uid:-none})"
[ "$(id -gn crier 2>/dev/null)" = crier ] || why="$why primary-group-not-crier"
[ "$(getent passwd crier | cut -d: -f6)" = /var/lib/crier ] || why="$why home-not-/var/lib/crier"
[ "$(stat -c '%U:%G %a %s' "$CONF/token.key" 2>/dev/null)" = "crier:crier 400 32" ] \
    || why="$why token.key:$(stat -c '%U:%G-%a-%s' "$CONF/token.key" 2>&1)"
[ "$(stat -c '%U:%G %a' /var/lib/crier 2>/dev/null)" = "crier:crier 750" ] \
    || why="$why /var/lib/crier:$(stat -c '%U:%G-%a' /var/lib/crier 2>&1)"
[ "$(stat -c '%U' "$CONF/rules.d/users" 2>/dev/null)" = crier ] || why="$why rules.d/users-not-crier's"
dpkg-statoverride --list "$CONF/rules.d/users" >/dev/null || why="$why no-statoverride"
if [ -z "$why" ]; then
    ok "postinst: system user crier (uid $uid), token.key crier:crier 0400 32 bytes, /var/lib/crier crier 0750, rules.d/users crier's"
else
    nok "postinst:$why"
fi

key_sum=$(sha256sum "$CONF/token.key" | cut -d' ' -f1)
if (cd "$work/out" && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall "./$deb") \
        >"$work/reinstall.out" 2>&1 \
        && [ "$(sha256sum "$CONF/token.key" | cut -d' ' -f1)" = "$key_sum" ] \
        && [ "$(stat -c '%U %a' "$CONF/token.key")" = "crier 400" ] \
        && [ "$(getent passwd | grep -c '^crier:')" = 1 ]; then
    ok "reinstall: postinst runs again, keeps token.key and the one user crier"
else
    tail -20 "$work/reinstall.out"
    nok "reinstall: postinst failed, or token.key or the user changed"
fi

/usr/sbin/crierd -n >"$work/n.out" 2>&1
rc=$?
if [ "$rc" = 0 ]; then
    ok "crierd -n on the installed configuration: $(tail -1 "$work/n.out")"
else
    cat "$work/n.out"
    nok "crierd -n exits $rc on the installed configuration"
fi

# --- 9, 10: crier.conf for this test; start as the unit does --------------------
# The addresses of the private Postfix, the portal on 127.0.0.1, debug logs.
sed -i -E '/^[[:space:]]*(events_address|request_address|sender_address|submit_networks|log_level)[[:space:]]*=/d' \
    "$CONF/crier.conf"
cat >>"$CONF/crier.conf" <<'EOF'
# added by tests/pkg/deb.sh
events_address  = "events@crier.test";
request_address = "crier-request@crier.test";
sender_address  = "crier@crier.test";
submit_networks = [ "127.0.0.1/32" ];
log_level       = "debug";
EOF

unit_value() { sed -n "s/^$1=//p" "$UNIT" | head -1; }
pre=$(unit_value ExecStartPre)
start=$(unit_value ExecStart)
rdir=$(unit_value RuntimeDirectory)
rmode=$(unit_value RuntimeDirectoryMode)
sdir=$(unit_value StateDirectory)
smode=$(unit_value StateDirectoryMode)
pidfile=$(unit_value PIDFile)
echo "== starting crierd as $UNIT does: $pre; $start"
read -r -a pre_cmd <<<"$pre"
# where systemd runs, postinst has started the unit: this test starts
# crierd by hand instead (and prerm stops it all the same)
if [ -d /run/systemd/system ]; then
    systemctl stop crierd.service >/dev/null 2>&1
fi
read -r -a start_cmd <<<"$start"
why=""
if [ -z "$start" ] || [ -z "$rdir" ] || [ -z "$sdir" ] || [ -z "$pidfile" ]; then
    why="$UNIT lacks ExecStart, RuntimeDirectory, StateDirectory or PIDFile"
# systemd: RuntimeDirectory= made anew, root's; StateDirectory= root's, recursively
elif ! install -d -o root -g root -m "${rmode:-0755}" "/run/$rdir" \
        || ! chown -R root:root "/var/lib/$sdir" || ! chmod "${smode:-0755}" "/var/lib/$sdir"; then
    why="cannot make /run/$rdir or /var/lib/$sdir as systemd would"
elif ! "${pre_cmd[@]}" >"$work/pre.out" 2>&1; then
    why="ExecStartPre exits $?: $(cat "$work/pre.out")"
elif ! "${start_cmd[@]}" >"$work/start.out" 2>&1; then
    why="ExecStart exits $?: $(cat "$work/start.out")"
else
    for _ in $(seq 100); do
        [ -s "$pidfile" ] && [ -S /run/crier/milter ] && [ -S /run/crier/policy ] && break
        sleep 0.1
    done
    main_pid=$(cat "$pidfile" 2>/dev/null)
    if [ -z "$main_pid" ] || ! kill -0 "$main_pid" 2>/dev/null; then
        why="no crierd runs after ExecStart (pid file: '${main_pid}')"
    else
        crierd_pids="$main_pid $(pgrep -P "$main_pid" | tr '\n' ' ')"
        for s in /run/crier/milter /run/crier/policy; do
            [ "$(stat -c '%F %G %a' "$s" 2>/dev/null)" = "socket postfix 660" ] \
                || why="$why $s:$(stat -c '%F-%U:%G-%a' "$s" 2>&1)"
        done
        [ "$(stat -c '%U' /var/lib/crier)" = crier ] || why="$why /var/lib/crier-not-given-to-crier"
    fi
fi
if [ -z "$why" ]; then
    ok "started as the unit does: supervisor $main_pid, sockets root:postfix 0660 in /run/crier, /var/lib/crier taken over"
else
    crierd_log 20
    nok "start as the unit:$why"
    finish
fi

# --- 11: a private Postfix, configured from the installed snippets ---------------
# The snippets' lookup tables are in /etc/postfix; the private instance's
# config directory stands in for it, so the table paths are rewritten.
# Their contents are this site's, as the snippets' comments describe.
echo "== a private Postfix with $EXAMPLES/postfix/*.snippet"
PF_NO_TRAP=1 . tests/e2e/postfix.sh
why=""
for p in 10026 10027; do
    _pf_port_busy "$p" && why="$why port-$p-in-use(the snippets' listeners)"
done
# logical_lines FILE - main.cf/master.cf lines, comments dropped and the
# continuation lines (white space first) joined to theirs
logical_lines() {
    awk '/^[ \t]*(#|$)/ { next }
         /^[ \t]/ { sub(/^[ \t]+/, " "); line = line $0; next }
         { if (line != "") print line; line = $0 }
         END { if (line != "") print line }' "$1"
}
n_main=0
n_master=0
if [ -z "$why" ] && pf_setup "$work/postfix" >"$work/pf_setup.out" 2>&1; then
    while IFS= read -r l; do
        l=${l//\/etc\/postfix\//$PF_CONF\/}
        echo "   postconf -e '$l'"
        pf_postconf -e "$l" || why="$why postconf-e:$l"
        n_main=$((n_main + 1))
    done < <(logical_lines "$EXAMPLES/postfix/main.cf.snippet")
    while IFS= read -r l; do
        read -r name type _ <<<"$l"
        echo "   postconf -M '$name/$type=$l'"
        pf_postconf -M "$name/$type=$l" || why="$why postconf-M:$name/$type"
        n_master=$((n_master + 1))
    done < <(logical_lines "$EXAMPLES/postfix/master.cf.snippet")
    printf '127.0.0.1/32\tunix:/run/crier/milter\n' >"$PF_CONF/crier_milters"
    printf 'crier-request@crier.test\tcrier:[127.0.0.1]:10027\n' >"$PF_CONF/crier_transport"
    printf '/^crier\\+.+@crier\\.test$/\tcrier:[127.0.0.1]:10027\n' >"$PF_CONF/crier_bounces"
    printf '%s\tcrier_policy\n' events@crier.test crier-request@crier.test crier@crier.test \
        >"$PF_CONF/crier_addresses"
    postmap "hash:$PF_CONF/crier_transport" && postmap "hash:$PF_CONF/crier_addresses" \
        || why="$why postmap"
    [ "$(postconf -c "$PF_CONF" -h smtpd_milter_maps)" = "cidr:$PF_CONF/crier_milters" ] \
        || why="$why smtpd_milter_maps-not-set"
    [ "$n_main" -ge 5 ] && [ "$n_master" -ge 3 ] || why="$why too-few-settings($n_main/$n_master)"
    [ -z "$why" ] && { pf_start || why="$why postfix-start"; }
    [ -z "$why" ] && { _pf_wait_listen 10026 && _pf_wait_listen 10027 || why="$why snippet-listeners-not-up"; }
else
    [ -z "$why" ] && why=" pf_setup: $(tail -5 "$work/pf_setup.out")"
fi
if [ -z "$why" ]; then
    ok "Postfix from the snippets: $n_main main.cf settings, $n_master master.cf services, listening on 127.0.0.1:$PF_PORT, :10026, :10027"
else
    [ -n "${PF_LOG:-}" ] && tail -20 "$PF_LOG"
    nok "Postfix from the snippets:$why"
fi

# --- 12, 13: one event through it ---------------------------------------------------
# Who gets it at once: crierctl explain on the installed rules (with the
# shipped examples, kenji, lena, priya, sam and tom).
event=tests/events/qc-failed-northlight.eml
rcpts=$(/usr/sbin/crierctl explain --json "$event" 2>"$work/explain.err" \
    | jq -r '[.deliveries[] | select(.frequency == "immediately") | .recipient] | unique | join(" ")')
echo "== sending $event to events@crier.test from 127.0.0.1"
pf_send_file "$event" portal@studio.example events@crier.test
rc=$?
if [ "$rc" = 0 ]; then
    ok "event accepted: $(grep -a '^<-  250 .*queued' "$PF_SWAKS_LOG" | sed 's/^<- *//')"
else
    grep -a '^<\*\*' "$PF_SWAKS_LOG"
    nok "event refused (swaks exit $rc)"
fi
why=""
[ -n "$rcpts" ] || why=" crierctl explain names nobody: $(cat "$work/explain.err")"
for r in $rcpts; do
    pf_wait_mail "$r" 1 30 >/dev/null 2>&1 || { why="$why $r:no-mail"; continue; }
    m=$(pf_mail_files "$r" | head -1)
    grep -qi '^Auto-Submitted: auto-generated' "$m" || why="$why $r:no-Auto-Submitted"
    grep -qi '^From:.*crier@crier.test' "$m" || why="$why $r:From"
    grep -q 'Harbour Lights' "$m" || why="$why $r:not-about-the-event"
done
[ "$(pf_mail_count events@crier.test)" = 0 ] || why="$why the-event-mail-was-delivered-to-events@"
grep -q 'postfix/crier/smtpd' "$PF_LOG" || why="$why not-through-the-10026-listener"
if [ -z "$why" ]; then
    ok "notifications delivered to the $(echo "$rcpts" | wc -w) recipients crierctl explain names, handed back through the snippet's 127.0.0.1:10026"
else
    tail -25 "$PF_LOG"
    crierd_log 30
    nok "notifications:$why"
fi
crierd_pids="$main_pid $(pgrep -P "$main_pid" | tr '\n' ' ')"
if [ -f "$work/syslog" ]; then
    echo "== crierd's log"
    crierd_log 60
fi

# --- 14, 15: purge ---------------------------------------------------------------------
pf_stop
echo "== apt-get purge -y crier"
if DEBIAN_FRONTEND=noninteractive apt-get purge -y -q crier >"$work/purge.out" 2>&1 \
        && ! present; then
    ok "apt-get purge -y crier"
else
    tail -20 "$work/purge.out"
    nok "apt-get purge -y crier"
fi
grep -a '^crier:' "$work/purge.out"
why=""
# prerm's start-stop-daemon returns once the process is gone from
# /proc/PID/exe; its exit may take a moment more (and a zombie is gone)
for p in $crierd_pids; do
    for _ in $(seq 50); do alive "$p" || break; sleep 0.1; done
    alive "$p" && why="$why crierd-pid-$p-still-runs"
done
for f in "$CONF" /var/lib/crier /run/crier /usr/share/doc/crier \
        /etc/systemd/system/multi-user.target.wants/crierd.service; do
    [ -e "$f" ] || [ -L "$f" ] && why="$why $f"
done
getent passwd crier >/dev/null && why="$why user-crier"
getent group crier >/dev/null && why="$why group-crier"
dpkg-statoverride --list | grep -q crier && why="$why statoverride"
ls /var/lib/systemd/deb-systemd-helper-enabled 2>/dev/null | grep -q crierd && why="$why deb-systemd-helper-state"
left=0
while IFS= read -r f; do
    [ -d "$f" ] && continue      # /usr/sbin, /lib and friends
    { [ -e "$f" ] || [ -L "$f" ]; } && { why="$why $f"; left=$((left + 1)); }
done <"$work/dpkg-L"
[ "$(find /etc/postfix -type f -exec sha256sum {} + 2>/dev/null | sort)" = "$postfix_sum" ] \
    || why="$why /etc/postfix-changed"
if [ -z "$why" ]; then
    ok "nothing left: no crierd, $CONF, /var/lib/crier, /run/crier, user or group crier, statoverride, none of $(wc -l <"$work/dpkg-L") paths of dpkg -L; /etc/postfix unchanged"
else
    nok "left after purge:$why"
fi
crierd_pids=""
finish
