# shellcheck shell=bash
# tests/e2e/postfix.sh -- a private, throwaway Postfix instance for end-to-end tests.
#
# Source this file from a bash test (as root), then:
#
#   . tests/e2e/postfix.sh
#   pf_setup "$(mktemp -d /tmp/crier-e2e.XXXXXX)"   # or any empty/new directory
#   pf_set smtpd_milters=unix:/run/crier/milter.sock # optional extra parameters
#   pf_start
#   pf_send_file msg.eml alice@partner.test events@crier.test || grep '^<\*\* 5' "$PF_SWAKS_LOG"
#   pf_wait_mail events@crier.test 1 || exit 1
#   pf_mail_files events@crier.test               # Maildir files, oldest first
#   # pf_cleanup runs from an EXIT trap: stops Postfix, removes the directory (KEEP=1 keeps it)
#
# Functions (each is documented where it is defined below):
#   pf_setup DIR, pf_set NAME=VALUE..., pf_postconf ARGS..., pf_start, pf_reload,
#   pf_running, pf_stop, pf_cleanup, pf_flush, pf_queue_empty_wait [TIMEOUT],
#   pf_send_file FILE [FROM [TO...]], pf_wait_mail ADDRESS N [TIMEOUT],
#   pf_mail_count ADDRESS, pf_mail_files ADDRESS, pf_maildir ADDRESS, pf_log
#
# What the instance is:
#   DIR/etc      config_directory: master.cf copied from /etc/postfix, main.cf built by pf_setup
#   DIR/queue    queue_directory     DIR/data   data_directory (owned by postfix)
#   DIR/mail     mail for ANY local part of a domain in PF_DOMAINS (virtual mailbox
#                domains) lands in the Maildir DIR/mail/DOMAIN/LOCALPART/ (lowercase,
#                "+extension" dropped; Delivered-To keeps it). virtual(8) cannot do
#                this (it refuses regexp substitution in virtual_mailbox_maps), so
#                virtual_transport is a pipe(8) service running DIR/etc/deliver as
#                nobody (uid 65534). Local parts with '/', quotes or a leading '.'
#                are rejected at RCPT with 550.
#                DIR must not contain white space.
#   DIR/maillog  the instance's log (no syslog needed)
#   SMTP on 127.0.0.1:$PF_PORT (milters apply) and 127.0.0.1:$PF_REINJECT_PORT
#   (receive_override_options=no_milters: for mail handed back by crier).
#   default_transport and relay_transport are error: (no mail ever leaves the machine;
#   smtpd rejects RCPT TO other domains with 550); for a sink, e.g.
#   pf_set relayhost=[127.0.0.1]:$SINK_PORT default_transport=smtp relay_transport=relay
#   The default port-25 listener is removed, all services run unchrooted.
#
# Non-default config directory: as root, `postfix -c DIR/etc`, `postqueue -c DIR/etc`,
# `sendmail -C DIR/etc` and `postconf -c DIR/etc` work without listing DIR/etc in
# alternate_config_directories of /etc/postfix/main.cf (that list only restricts
# unprivileged users of the set-gid commands). /etc/postfix is only read.
#
# Variables (set before pf_setup to override; pf_setup exports the rest):
#   PF_DOMAINS        virtual mailbox domains (space separated)
#   PF_PORT           SMTP port with milters (default: a free port in 20000-29999)
#   PF_REINJECT_PORT  SMTP port without milters (default: another free port)
#   PF_SYSLOG_NAME    syslog_name (default postfix-crier-test-<port>)
#   PF_DIR            the instance directory (set by pf_setup)
#   PF_CONF           $PF_DIR/etc, for `postconf -c "$PF_CONF"`, `sendmail -C "$PF_CONF"`
#   PF_LOG            $PF_DIR/maillog
#   PF_SWAKS_LOG      transcript file of the last pf_send_file; PF_SWAKS_OUT its text
#   PF_SWAKS_EXTRA    extra swaks arguments for pf_send_file (word-split)
#   PF_SEND_PORT      port pf_send_file talks to (default $PF_PORT)
#   KEEP=1            pf_cleanup stops Postfix but keeps $PF_DIR for inspection
#   PF_NO_TRAP=1      pf_setup does not install the EXIT trap (call pf_cleanup yourself;
#                     do so too if you set your own EXIT trap after pf_setup)
#
# Every function returns 0 on success and non-zero (with a message on stderr) on failure.
# One instance per shell process; run several instances from separate processes.

PF_DOMAINS=${PF_DOMAINS:-"crier.test partner.test studio.test juicepost.example northlight.example reelworks.example studio.example"}
PF_DIR=${PF_DIR:-}
PF_PORT=${PF_PORT:-}
PF_REINJECT_PORT=${PF_REINJECT_PORT:-}
PF_SWAKS_LOG=${PF_SWAKS_LOG:-}
PF_SWAKS_OUT=${PF_SWAKS_OUT:-}
PF_SWAKS_EXTRA=${PF_SWAKS_EXTRA:-}
PF_SEND_PORT=${PF_SEND_PORT:-}
_PF_PORT_LOCKS=()        # port reservations made by this shell (removed by pf_cleanup)
_PF_SEND_SEQ=0
_PF_LOCKDIR=/tmp/crier-e2e-ports

_pf_err() { echo "postfix.sh: $*" >&2; }

# _pf_need_setup: fail unless pf_setup ran.
_pf_need_setup() {
    if [ -z "$PF_DIR" ] || [ ! -f "$PF_DIR/etc/main.cf" ]; then
        _pf_err "pf_setup has not been run"
        return 1
    fi
}

# _pf_port_busy PORT: true if something listens on PORT (TCP, any address).
_pf_port_busy() {
    local p=$1
    if command -v ss >/dev/null 2>&1; then
        [ -n "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] && return 0
    fi
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0
    return 1
}

# _pf_reserve PORT: atomically reserve PORT among concurrent instances (mkdir lock
# holding the owner pid; stale locks of dead owners are reclaimed).
_pf_reserve() {
    local p=$1 d owner
    mkdir -p "$_PF_LOCKDIR" 2>/dev/null
    d=$_PF_LOCKDIR/$p
    if ! mkdir "$d" 2>/dev/null; then
        owner=$(cat "$d/pid" 2>/dev/null)
        if [ -n "$owner" ] && kill -0 "$owner" 2>/dev/null; then
            return 1
        fi
        # Stale (or half-written) lock: take it over only if it is old enough.
        if [ -z "$owner" ] && [ -n "$(find "$d" -maxdepth 0 -newermt '-5 seconds' 2>/dev/null)" ]; then
            return 1
        fi
        rm -rf "$d"
        mkdir "$d" 2>/dev/null || return 1
    fi
    echo $$ >"$d/pid"
    _PF_PORT_LOCKS+=("$d")
}

# _pf_free_port: print a free, reserved TCP port in 20000-29999.
_pf_free_port() {
    local i p
    for i in $(seq 1 200); do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 10000))
        _pf_port_busy "$p" && continue
        _pf_reserve "$p" || continue
        echo "$p"
        return 0
    done
    _pf_err "no free port found in 20000-29999"
    return 1
}

# pf_postconf ARGS...: run `postconf -c $PF_DIR/etc ARGS` (e.g. -M, -P, -X, -e), then
# backdate main.cf and master.cf. Use it (or pf_set) rather than plain postconf -c:
# Postfix programs (postfix, postconf, each new daemon) re-read a main.cf that is less
# than about 2 s old until it is older (dict_load_file suspects an edit in progress),
# which made every `postfix reload` after a change take 2.5 s. postconf writes the
# files atomically, so the old mtime is harmless. With no ARGS it only backdates
# (call it after editing the files by other means).
pf_postconf() {
    local rc=0 t
    if [ $# -gt 0 ]; then postconf -c "$PF_DIR/etc" "$@"; rc=$?; fi
    t=$(($(date +%s) - 10))
    touch -d "@$t" "$PF_DIR/etc/main.cf" "$PF_DIR/etc/master.cf" 2>/dev/null
    return $rc
}

# _pf_procs: pids of this instance's Postfix processes (MAIL_CONFIG=$PF_DIR/etc in
# their environment, executable under the Postfix daemon directory).
_pf_procs() {
    local env pid exe daemon_dir
    daemon_dir=$(postconf -dh daemon_directory 2>/dev/null)
    for env in /proc/[0-9]*/environ; do
        pid=${env#/proc/}; pid=${pid%/environ}
        [ "$pid" = $$ ] && continue
        exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
        case $exe in "$daemon_dir"/*|/usr/sbin/*|/usr/bin/*) ;; *) continue ;; esac
        case $exe in */bash|*/sh|*/dash) continue ;; esac
        if tr '\0' '\n' <"$env" 2>/dev/null | grep -qxF "MAIL_CONFIG=$PF_DIR/etc"; then
            echo "$pid"
        fi
    done
}

# pf_setup DIR: create and configure a private instance in DIR (created if missing;
# made world-searchable because the postfix user must reach DIR/data). Sets and exports
# PF_DIR PF_CONF PF_LOG PF_PORT PF_REINJECT_PORT. Installs the pf_cleanup EXIT trap
# (kept in front of an existing EXIT trap) unless PF_NO_TRAP=1.
pf_setup() {
    local dir=${1:?usage: pf_setup DIR} d re old svc services sname
    if [ "$(id -u)" != 0 ]; then _pf_err "must run as root"; return 1; fi
    command -v postfix >/dev/null || { _pf_err "postfix is not installed"; return 1; }
    mkdir -p "$dir" || return 1
    dir=$(cd "$dir" && pwd -P) || return 1
    PF_DIR=$dir
    PF_CONF=$dir/etc
    PF_LOG=$dir/maillog
    export PF_DIR PF_CONF PF_LOG

    if [ "${PF_NO_TRAP:-0}" != 1 ]; then
        old=$(trap -p EXIT)
        if [ -n "$old" ]; then
            eval "set -- $old"          # trap -- 'command' EXIT
            # shellcheck disable=SC2064 # the old command is meant to be expanded now
            case $3 in *pf_cleanup*) ;; *) trap "pf_cleanup; $3" EXIT ;; esac
        else
            trap pf_cleanup EXIT
        fi
        # Make INT/TERM run the EXIT trap, unless the test handles them itself.
        [ -z "$(trap -p INT)" ] && trap 'exit 130' INT
        [ -z "$(trap -p TERM)" ] && trap 'exit 143' TERM
    fi

    [ -n "$PF_PORT" ] || PF_PORT=$(_pf_free_port) || return 1
    [ -n "$PF_REINJECT_PORT" ] || PF_REINJECT_PORT=$(_pf_free_port) || return 1
    # $(...) ran in a subshell: record the reservations here so pf_cleanup drops them.
    for d in "$PF_PORT" "$PF_REINJECT_PORT"; do
        [ "$(cat "$_PF_LOCKDIR/$d/pid" 2>/dev/null)" = $$ ] && _PF_PORT_LOCKS+=("$_PF_LOCKDIR/$d")
    done
    export PF_PORT PF_REINJECT_PORT
    sname=${PF_SYSLOG_NAME:-postfix-crier-test-$PF_PORT}

    mkdir -p "$dir/etc" "$dir/queue" "$dir/data" "$dir/mail" || return 1
    chmod 755 "$dir" "$dir/etc" || return 1
    chown postfix "$dir/data" || return 1
    chown 65534:65534 "$dir/mail" || return 1
    cp /etc/postfix/master.cf "$dir/etc/master.cf" || return 1
    : >"$dir/etc/main.cf"
    : >"$dir/maillog"

    # Recipient validation (smtpd): any local part (no '/', no quotes, no leading '.') of a
    # domain in PF_DOMAINS exists. The value is the Maildir path, for reference only:
    # virtual(8) refuses regexp substitution ("regular expression substitution is not
    # allowed"), so delivery goes through pipe(8) and $dir/etc/deliver instead.
    # shellcheck disable=SC2016 # $1 and $3 are regexp substitutions, not shell
    re='/^([^@+\/."][^@+\/"]*)(\+[^@]*)?@([^@\/"]+)$/ $3/$1/'
    printf '%s\n' "$re" >"$dir/etc/vmailbox"
    _pf_write_deliver "$dir" || return 1

    pf_postconf -e \
        "queue_directory=$dir/queue" \
        "data_directory=$dir/data" \
        "inet_interfaces=127.0.0.1" \
        "inet_protocols=ipv4" \
        "myhostname=mx.crier.test" \
        "mydomain=crier.test" \
        "myorigin=crier.test" \
        "mydestination=" \
        "mynetworks=127.0.0.0/8" \
        "alias_maps=" \
        "alias_database=" \
        "compatibility_level=3.6" \
        "maillog_file=$dir/maillog" \
        "maillog_file_prefixes=$dir" \
        "syslog_name=$sname" \
        "biff=no" \
        "recipient_delimiter=+" \
        "virtual_mailbox_domains=$PF_DOMAINS" \
        "virtual_mailbox_base=$dir/mail" \
        "virtual_mailbox_maps=regexp:$dir/etc/vmailbox" \
        "virtual_uid_maps=static:65534" \
        "virtual_gid_maps=static:65534" \
        "virtual_minimum_uid=1" \
        "virtual_transport=e2emaildir" \
        "e2emaildir_destination_recipient_limit=1" \
        "default_transport=error:crier e2e: no mail leaves this test instance" \
        "relay_transport=error:crier e2e: no mail leaves this test instance" \
        "milter_default_action=tempfail" \
        "smtpd_banner=\$myhostname ESMTP crier-e2e" \
        || return 1
    # Known since 3.5.24/3.6.14/3.7.10/3.8.5 (default "no" before 3.9); an unknown
    # name only makes postconf -d warn on stderr with status 0, so test its output.
    if [ -n "$(postconf -d smtpd_forbid_bare_newline 2>/dev/null)" ]; then
        pf_postconf -e smtpd_forbid_bare_newline=yes || return 1
    fi

    # master.cf: no port 25, no chroot (the private queue has no etc/ copies),
    # no pipe services for users that do not exist here, two loopback listeners.
    pf_postconf -MX smtp/inet
    services=$(pf_postconf -M 2>/dev/null)
    for svc in maildrop uucp ifmail bsmtp scalemail-backend mailman; do
        case $'\n'$services in *$'\n'"$svc "*) pf_postconf -MX "$svc/unix" ;; esac
    done
    pf_postconf -F '*/*/chroot=n' || return 1
    # Debian's relay entry logs as "postfix/relay": keep this instance's syslog_name.
    case $'\n'$services in
        *$'\n'"relay "*) pf_postconf -P "relay/unix/syslog_name=$sname/\$service_name" ;;
    esac
    pf_postconf -M "$PF_PORT/inet=127.0.0.1:$PF_PORT inet n - n - - smtpd" || return 1
    pf_postconf -M "$PF_REINJECT_PORT/inet=127.0.0.1:$PF_REINJECT_PORT inet n - n - - smtpd" || return 1
    pf_postconf -P "127.0.0.1:$PF_REINJECT_PORT/inet/receive_override_options=no_milters" \
        "127.0.0.1:$PF_REINJECT_PORT/inet/syslog_name=$sname/reinject" \
        || return 1
    # Maildir delivery for the virtual domains: one recipient per call, as nobody,
    # with Delivered-To, X-Original-To and Return-Path like virtual(8) adds.
    pf_postconf -M "e2emaildir/unix=e2emaildir unix - n n - - pipe flags=DORhu user=nobody argv=/bin/sh $dir/etc/deliver $dir/mail \${domain} \${user}" \
        || return 1
}

# _pf_write_deliver DIR: write DIR/etc/deliver, the pipe(8) command that stores the
# message on stdin in the Maildir BASE/DOMAIN/USER/ (tmp/ then rename to new/).
# Exit 75 (EX_TEMPFAIL) makes Postfix retry, 67 (EX_NOUSER) bounces.
_pf_write_deliver() {
    cat >"$1/etc/deliver" <<'DELIVER'
#!/bin/sh
# deliver BASE DOMAIN USER < message  (run by pipe(8) as nobody)
base=$1 domain=$2 user=$3
case $domain/$user in
    */*/*|.*|*/.*|/*|*/) echo "bad address $user@$domain"; exit 67 ;;
esac
md=$base/$domain/$user
mkdir -p "$md/tmp" "$md/new" "$md/cur" 2>/dev/null || { echo "cannot create $md"; exit 75; }
f=$(date +%s.%N).P$$.mx.crier.test
if cat >"$md/tmp/$f" && mv "$md/tmp/$f" "$md/new/$f"; then exit 0; fi
rm -f "$md/tmp/$f"
echo "cannot write $md"
exit 75
DELIVER
    chmod 755 "$1/etc/deliver"
}

# pf_set NAME=VALUE ...: set main.cf parameters of the private instance (postconf -e).
# Call pf_reload afterwards if the instance is running.
pf_set() {
    _pf_need_setup || return 1
    pf_postconf -e "$@"
}

# pf_running: true if the instance's master process runs.
pf_running() {
    _pf_need_setup || return 1
    postfix -c "$PF_DIR/etc" status </dev/null >/dev/null 2>&1
}

# _pf_wait_listen PORT [TIMEOUT]: wait until 127.0.0.1:PORT accepts connections.
_pf_wait_listen() {
    local p=$1 t=${2:-10} i
    for ((i = 0; i < t * 20; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# pf_start: start the instance and wait until both SMTP ports accept connections.
pf_start() {
    _pf_need_setup || return 1
    local p
    # master's own fatal errors (such as a failed bind) reach neither the maillog nor
    # stderr (postlogd is not up yet), so check the usual cause first.
    for p in "$PF_PORT" "$PF_REINJECT_PORT"; do
        if _pf_port_busy "$p"; then
            _pf_err "port $p is already in use; cannot start Postfix"
            return 1
        fi
    done
    if ! postfix -c "$PF_DIR/etc" start </dev/null >>"$PF_DIR/postfix.out" 2>&1; then
        _pf_err "postfix start failed (master's own errors are not logged; try" \
            "'postfix -c $PF_DIR/etc start' on a terminal with KEEP=1):"
        postfix -c "$PF_DIR/etc" check </dev/null >>"$PF_DIR/postfix.out" 2>&1
        tail -n 20 "$PF_DIR/maillog" >&2
        return 1
    fi
    if ! _pf_wait_listen "$PF_PORT" || ! _pf_wait_listen "$PF_REINJECT_PORT"; then
        _pf_err "Postfix does not listen on $PF_PORT/$PF_REINJECT_PORT"
        tail -n 20 "$PF_DIR/maillog" >&2
        return 1
    fi
}

# pf_reload: make the running instance re-read main.cf/master.cf. Waits until master
# logged the reload; smtpd processes of the old generation finish their session, so a
# new SMTP connection after pf_reload sees the new settings.
pf_reload() {
    _pf_need_setup || return 1
    local before i master old=() p alive
    before=$(grep -c 'master.*: reload ' "$PF_DIR/maillog")
    master=$(sed -n '1s/ //gp' "$PF_DIR/queue/pid/master.pid" 2>/dev/null)
    for p in $(_pf_procs); do
        [ "$p" != "$master" ] && old+=("$p")
    done
    postfix -c "$PF_DIR/etc" reload </dev/null >>"$PF_DIR/postfix.out" 2>&1 || {
        _pf_err "postfix reload failed"; tail -n 20 "$PF_DIR/maillog" >&2; return 1; }
    for ((i = 0; i < 200; i++)); do
        [ "$(grep -c 'master.*: reload ' "$PF_DIR/maillog")" -gt "$before" ] && break
        sleep 0.02
    done
    if [ "$i" = 200 ]; then
        _pf_err "no reload logged"
        return 1
    fi
    # Idle daemons of the old generation (an smtpd with the old smtpd_milters, say)
    # can still accept a connection for a moment after the reload: wait (up to 5 s)
    # until they have exited. A process busy with a session that a test keeps open
    # keeps running; after 5 s pf_reload returns anyway.
    for ((i = 0; i < 100; i++)); do
        alive=0
        for p in "${old[@]}"; do
            [ -d "/proc/$p" ] && { alive=1; break; }
        done
        [ "$alive" = 0 ] && return 0
        sleep 0.05
    done
    return 0
}

# pf_stop: stop the instance (postfix stop, then wait up to 5 s for all of its processes
# to exit; stragglers of this instance only are killed by pid).
pf_stop() {
    _pf_need_setup || return 1
    local i pids
    if pf_running; then
        postfix -c "$PF_DIR/etc" stop </dev/null >>"$PF_DIR/postfix.out" 2>&1
    fi
    for ((i = 0; i < 50; i++)); do
        pids=$(_pf_procs)
        [ -z "$pids" ] && return 0
        sleep 0.1
    done
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null
    return 0
}

# pf_cleanup: stop the instance, release the ports, remove PF_DIR unless KEEP=1.
# Safe to call more than once; installed as EXIT trap by pf_setup.
pf_cleanup() {
    local rc=$? l
    if [ -n "$PF_DIR" ] && [ -f "$PF_DIR/etc/main.cf" ]; then
        pf_stop
        if [ "${KEEP:-0}" = 1 ]; then
            echo "postfix.sh: kept $PF_DIR" >&2
        else
            rm -rf "$PF_DIR"
        fi
    fi
    for l in "${_PF_PORT_LOCKS[@]}"; do
        [ "$(cat "$l/pid" 2>/dev/null)" = $$ ] && rm -rf "$l"
    done
    _PF_PORT_LOCKS=()
    return $rc
}

# pf_flush: attempt delivery of all deferred mail now (postqueue -f).
pf_flush() {
    _pf_need_setup || return 1
    postqueue -c "$PF_DIR/etc" -f
}

# pf_queue_empty_wait [TIMEOUT]: wait (default 20 s) until postqueue -p shows an empty
# queue; on timeout print the queue and the maillog tail and return 1.
pf_queue_empty_wait() {
    _pf_need_setup || return 1
    local t=${1:-20} i out
    for ((i = 0; i < t * 10; i++)); do
        out=$(postqueue -c "$PF_DIR/etc" -p 2>&1)
        case $out in *"Mail queue is empty"*) return 0 ;; esac
        sleep 0.1
    done
    _pf_err "queue not empty after ${t}s:"
    echo "$out" >&2
    tail -n 20 "$PF_DIR/maillog" >&2
    return 1
}

# pf_maildir ADDRESS: print the Maildir path of ADDRESS (lowercased, +extension dropped).
pf_maildir() {
    _pf_need_setup || return 1
    local a=${1,,} local_part domain
    local_part=${a%@*}; domain=${a##*@}
    local_part=${local_part%%+*}
    echo "$PF_DIR/mail/$domain/$local_part"
}

# pf_mail_files ADDRESS: print the message files in ADDRESS's Maildir (new/ and cur/),
# oldest first (by modification time, then name).
pf_mail_files() {
    local md
    md=$(pf_maildir "${1:?usage: pf_mail_files ADDRESS}") || return 1
    [ -d "$md" ] || return 0
    find "$md/new" "$md/cur" -maxdepth 1 -type f -printf '%T@ %f %p\n' 2>/dev/null \
        | sort -k1,1n -k2,2 | cut -d' ' -f3-
}

# pf_mail_count ADDRESS: print how many messages ADDRESS's Maildir holds.
pf_mail_count() {
    local md
    md=$(pf_maildir "${1:?usage: pf_mail_count ADDRESS}") || return 1
    find "$md/new" "$md/cur" -maxdepth 1 -type f 2>/dev/null | wc -l
}

# pf_wait_mail ADDRESS N [TIMEOUT]: wait (default 20 s) until ADDRESS's Maildir holds
# at least N messages; on timeout print the count and the maillog tail, return 1.
pf_wait_mail() {
    local addr=${1:?usage: pf_wait_mail ADDRESS N [TIMEOUT]} n=${2:?usage: pf_wait_mail ADDRESS N [TIMEOUT]}
    local t=${3:-20} i c=0
    _pf_need_setup || return 1
    for ((i = 0; i <= t * 20; i++)); do
        c=$(pf_mail_count "$addr")
        [ "$c" -ge "$n" ] && return 0
        sleep 0.05
    done
    _pf_err "timeout: $addr has $c message(s), expected $n, after ${t}s; maillog tail:"
    tail -n 25 "$PF_DIR/maillog" >&2
    return 1
}

# pf_send_file FILE [FROM [TO...]]: send FILE (an RFC 5322 message, LF or CRLF) with
# swaks to 127.0.0.1:${PF_SEND_PORT:-$PF_PORT}. FROM defaults to sender@crier.test,
# TO to test@crier.test. Returns swaks' exit status (0 = accepted; 23 = an RCPT was
# rejected, 25 = DATA rejected, ...). The transcript (DATA summarised) is written to
# $PF_SWAKS_LOG (a new file per call under $PF_DIR) and kept in $PF_SWAKS_OUT, e.g.
#   pf_send_file m.eml a@partner.test x@crier.test; grep -q '^<\*\* 550 5.6.0' "$PF_SWAKS_LOG"
# (swaks marks server replies "<- " and error replies "<** "). FROM "<>" sends a null
# sender.
pf_send_file() {
    _pf_need_setup || return 1
    local file=${1:?usage: pf_send_file FILE [FROM [TO...]]} from=${2:-sender@crier.test}
    local port=${PF_SEND_PORT:-$PF_PORT} rc to
    shift; [ $# -gt 0 ] && shift
    [ -r "$file" ] || { _pf_err "cannot read $file"; return 1; }
    if [ $# -gt 0 ]; then to=$(IFS=,; echo "$*"); else to=test@crier.test; fi
    _PF_SEND_SEQ=$((_PF_SEND_SEQ + 1))
    PF_SWAKS_LOG=$PF_DIR/swaks.$$.$_PF_SEND_SEQ.log
    # shellcheck disable=SC2086
    swaks --server "127.0.0.1:$port" --helo client.crier.test --timeout 30 \
        --from "$from" --to "$to" --data "@$file" --suppress-data \
        $PF_SWAKS_EXTRA >"$PF_SWAKS_LOG" 2>&1 </dev/null
    rc=$?
    PF_SWAKS_OUT=$(cat "$PF_SWAKS_LOG")
    return $rc
}

# pf_log: print the instance's maillog.
pf_log() {
    _pf_need_setup || return 1
    cat "$PF_DIR/maillog"
}
