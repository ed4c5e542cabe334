#!/bin/bash
# check.sh - crierctl check: the shipped rules are clean; a broken rules.d
# gets every problem reported as FILE:LINE (tests/rules/bad.ref) and exit 1.
. "${srcdir:-.}/tests/cli/lib.sh"

expect_exit 0 "$CRIERCTL" -r "$RULES" check
expect_in "$T/out" "ok: 11 files, 4 frequencies, 9 event types, 3 profiles, 8 users"

(cd "$srcdir/tests/rules" && "$CRIERCTL" -r bad check) >"$T/out" 2>"$T/err"
[ $? = 1 ] || fail "check of tests/rules/bad did not exit 1"
grep -v '^crierctl: check: ' "$T/err" >"$T/problems"
expect_golden "$T/problems" "$srcdir/tests/rules/bad.ref"
expect_in "$T/err" "crierctl: check: bad: 58 errors, 2 warnings"
# Each problem is reported at the line of the setting at fault, which the
# file marks with "# error", "# errors" or "# warning"; every such line, and
# no other, is in bad.ref.
(cd "$srcdir/tests/rules" && grep -rnE '#[[:space:]]*(errors?|warning)\b' bad) \
    | cut -d: -f1,2 | sort -u >"$T/marked"
cut -d: -f1,2 "$srcdir/tests/rules/bad.ref" | sort -u >"$T/reported"
[ "$(wc -l <"$T/marked")" -ge 50 ] || fail "tests/rules/bad marks only $(wc -l <"$T/marked") lines"
diff -u "$T/marked" "$T/reported" >&2 || fail "bad.ref reports lines other than those marked in tests/rules/bad"

# Digest schedules: each refused at the line of its rrule, naming the part at
# fault; the three at the end of the file are accepted (27 of 30 refused).
(cd "$srcdir/tests/rules" && "$CRIERCTL" -r rrules check) >"$T/out" 2>"$T/err"
[ $? = 1 ] || fail "check of tests/rules/rrules did not exit 1"
grep -v '^crierctl: check: ' "$T/err" >"$T/problems"
expect_golden "$T/problems" "$srcdir/tests/rules/rrules.ref"
expect_in "$T/err" "crierctl: check: rrules: 27 errors, 0 warnings"
[ "$(grep -c 'rrule = ' "$srcdir/tests/rules/rrules/00-frequencies.conf")" = 30 ] \
    || fail "tests/rules/rrules should hold 30 rules"

# Usage errors exit 2; a missing -c file is refused (1), a missing default is fine.
expect_exit 2 "$CRIERCTL" -r "$RULES" check extra
expect_exit 2 "$CRIERCTL" -r "$RULES" frobnicate
expect_exit 2 "$CRIERCTL"
expect_exit 1 "$CRIERCTL" -c "$T/nonexistent.conf" -r "$RULES" check
expect_exit 0 "$CRIERCTL" --version
expect_in "$T/out" "crierctl (crier)"
expect_exit 0 "$CRIERCTL" --help
expect_in "$T/out" "explain FILE|-"
grep -n ' $' "$T/out" && fail "crierctl --help has lines that end in a space"

# crier.conf sets the directories; an unknown key names its line.
printf 'rules_dir = "%s";\nstate_dir = "%s";\n' "$RULES" "$T/state" >"$T/crier.conf"
expect_exit 0 "$CRIERCTL" -c "$T/crier.conf" check
printf 'rules_dir = "%s";\ncolour = "blue";\n' "$RULES" >"$T/bad.conf"
expect_exit 1 "$CRIERCTL" -c "$T/bad.conf" check
expect_in "$T/err" "bad.conf:2: unknown setting 'colour'"

# A unix socket path longer than a sockaddr_un holds (107 bytes) is
# refused by the check, not at bind: each of the three sockets.
long=/run/$(printf 'x%.0s' $(seq 110))/s
for key in milter_socket policy_socket web_listen; do
    printf 'rules_dir = "%s";\n%s = "unix:%s";\nweb_base_url = "https://n.example/";\n' \
        "$RULES" "$key" "$long" >"$T/long.conf"
    expect_exit 1 "$CRIERCTL" -c "$T/long.conf" check
    expect_in "$T/err" "$key \"unix:$long\": the path is 117 bytes long; a unix socket's can be 107 at most"
done
sed -i "s|^web_listen = .*|web_listen = \"unix:/run/crier/web\";|" "$T/long.conf"
expect_exit 0 "$CRIERCTL" -c "$T/long.conf" check
finish
