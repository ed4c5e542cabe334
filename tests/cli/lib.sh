# lib.sh - what the command-line tests share: paths, a scratch directory,
# and assertions that say what was expected and what came.
set -u
srcdir=${srcdir:-.}
top_builddir=$(cd "${top_builddir:-.}" && pwd)
srcdir=$(cd "$srcdir" && pwd)
CRIERCTL="$top_builddir/crierctl"
RULES="$srcdir/rules.d"
EVENTS="$srcdir/tests/events"
T=$(mktemp -d "${TMPDIR:-/tmp}/crier-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
failures=0

# fail MESSAGE: count a failure, in $T/failed too, so that one in a
# subshell (a $(...) or a background job) is not lost
fail() {
    echo "FAIL: $*" >&2
    echo "$*" >>"$T/failed"
    failures=$((failures + 1))
}

# expect_exit STATUS COMMAND...: run it, keep stdout/stderr in $T/out, $T/err
expect_exit() {
    want=$1; shift
    "$@" >"$T/out" 2>"$T/err"; got=$?
    [ "$got" = "$want" ] || { fail "'$*' exited $got, expected $want"; sed 's/^/  | /' "$T/err" >&2; }
}

# expect_in FILE TEXT: FILE contains TEXT
expect_in() {
    grep -qF -- "$2" "$1" || { fail "$1 lacks '$2'"; sed 's/^/  | /' "$1" >&2; }
}

# expect_same FILE REF: byte-equal, or show the diff
expect_same() {
    diff -u "$2" "$1" >&2 || fail "$1 differs from $2"
}

# expect_golden FILE REF: as expect_same; with CRIER_REGEN set, REF is
# rewritten from FILE instead, and that is a failure to review, not a pass
expect_golden() {
    if [ -n "${CRIER_REGEN:-}" ]; then
        cp "$1" "$2" || { fail "cannot regenerate $2"; return; }
        fail "regenerated $2: review with git diff (a CRIER_REGEN run never passes)"
    else
        expect_same "$1" "$2"
    fi
}

finish() {
    [ -s "$T/failed" ] && failures=$(wc -l <"$T/failed")
    [ "$failures" = 0 ] && echo "ok: $(basename "$0")" && exit 0
    echo "$failures failure(s) in $(basename "$0")" >&2
    exit 1
}
