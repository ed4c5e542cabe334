# lib.sh - what the end-to-end tests share: the command-line test kit, a
# crierd under test, a private Postfix with crierd as its milter, and a
# cleanup that stops both. Root only (a private Postfix needs it): other
# users get automake's SKIP.
. "${srcdir:-.}/tests/cli/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for a private Postfix"; exit 77; }
. "$srcdir/tests/crierd.sh"
PF_NO_TRAP=1 . "$srcdir/tests/e2e/postfix.sh"
. "$srcdir/tests/e2e/stream.sh"
trap 'crierd_kill9; pf_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT

# e2e_up - Postfix on loopback, crierd as its milter, reinjection without
# milters; crier.conf gets the lines in $E2E_CONF too, and when they say
# nothing of submit_*, the tests' portal: swaks on 127.0.0.1 (the milter
# refuses events from any other submitter)
e2e_up() {
    pf_setup "$T/pf" >/dev/null || { fail "pf_setup"; finish; }
    crierd_setup "$T/d" "smtp:127.0.0.1:$PF_REINJECT_PORT"
    echo "${E2E_CONF:-}" >>"$CD_DIR/crier.conf"
    case ${E2E_CONF:-} in
        *submit_*) ;;
        *) echo 'submit_networks = ["127.0.0.1"];' >>"$CD_DIR/crier.conf" ;;
    esac
    crierd_start || { fail "crierd start"; finish; }
    pf_set "smtpd_milters=unix:$CD_SOCK" milter_default_action=tempfail milter_protocol=6
    pf_start || { fail "pf_start"; finish; }
}

# log_clean - crierd logged no error and libmilter no protocol complaint
log_clean() {
    grep -E "error:|claimed not to reply" "$CD_DIR/crierd.log" | grep -v "CRIER_CRASH_AT" >"$T/errors"
    [ -s "$T/errors" ] && fail "crierd logged: $(head -3 "$T/errors")"
    return 0
}
