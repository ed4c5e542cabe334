#!/bin/bash
# comments.sh - every verb that changes settings keeps the comments people
# wrote: tests/cli/comments.golden/rita.conf has them in every place (file header,
# above a notification, inside one, trailing on a line, between
# notifications, at the end of a group and of the file). Each verb is
# applied to it alone and the result compared with a golden file
# (NAME.ref); then the opposite verb gives back the very same bytes. A
# file crierctl cannot splice into is written whole, with a warning.
. "${srcdir:-.}/tests/cli/lib.sh"

G="$srcdir/tests/cli/comments.golden"
R="$T/rules"
cp -r "$RULES" "$R" && chmod -R u+w "$R"
F="$R/users/rita.conf"
RITA=rita@juicepost.example
ctl() { "$CRIERCTL" -c /dev/null -r "$R" "$@" --no-reload; }

# change REF VERB ARGS...: the verb on the pristine file, the result against REF.ref
change() {
    ref=$1; shift
    cp "$G/rita.conf" "$F"
    expect_exit 0 ctl "$@"
    [ -s "$T/err" ] && fail "$ref: crierctl said: $(cat "$T/err")"
    cp "$T/out" "$T/said"
    cp "$F" "$T/$ref"
    expect_golden "$T/$ref" "$G/$ref.ref"
    expect_exit 0 "$CRIERCTL" -c /dev/null -r "$R" check
}
# undo VERB ARGS...: after it, the file is the pristine one again
undo() {
    expect_exit 0 ctl "$@"
    cmp -s "$F" "$G/rita.conf" || { diff -u "$G/rita.conf" "$F" >&2; fail "$1 did not undo"; }
}

change create create $RITA --event qc_failed --where severity=Critical --frequency immediately
undo delete $RITA qc_failed_critical_immediately
change edit edit $RITA branded_qc --where severity=Major --frequency hourly
undo edit $RITA branded_qc --unwhere severity --frequency daily
change edit-inline edit $RITA german --where language=de,fr --frequency daily
undo edit $RITA german --where language=de --frequency immediately
change rename edit $RITA source_processed_trailer_weekly --frequency daily
expect_in "$T/said" "saved source_processed_trailer_daily (renamed from source_processed_trailer_weekly"
undo edit $RITA source_processed_trailer_daily --frequency weekly
change clone clone $RITA branded_qc --where content_type=Trailer
undo delete $RITA qc_failed_trailer_daily
change mute mute $RITA content_partner/qc_failures
undo unmute $RITA content_partner/qc_failures
change mute-custom mute $RITA german
undo unmute $RITA german
change unmute unmute $RITA content_partner/due_dates
undo mute $RITA content_partner/due_dates
change delete delete $RITA german

# Every custom notification gone: the comments in the group hold it, empty.
cp "$G/rita.conf" "$F"
for n in branded_qc german source_processed_trailer_weekly; do expect_exit 0 ctl delete $RITA $n; done
expect_in "$F" "/* a C comment at the end of the group */"
expect_in "$F" "# Between notifications, after a blank line: stays where it is."
grep -q "Above branded_qc\|Above german\|A name crier made" "$F" && fail "a deleted notification's comments stayed"
expect_exit 0 "$CRIERCTL" -c /dev/null -r "$R" check

# The shipped ana.conf: a mute and its unmute give back the same bytes.
A="$R/users/ana.conf"
expect_exit 0 ctl mute ana@juicepost.example german_redeliveries
[ "$(grep -c '^ *#' "$A")" = "$(grep -c '^ *#' "$RULES/users/ana.conf")" ] || fail "ana.conf lost comments"
expect_exit 0 ctl unmute ana@juicepost.example german_redeliveries
expect_same "$A" "$RULES/users/ana.conf"

# What the splice does not follow (an @include; libconfig reads it): the
# file is written whole, in the canonical layout, and crierctl says so.
cp "$G/rita.conf" "$F"
printf '@include "/dev/null"\n' >>"$F"
expect_exit 0 ctl mute $RITA content_partner/qc_failures
expect_in "$T/err" "warning: $F: written whole, comments below its top not kept (line 49: "
expect_in "$F" "# put them. crierctl changes settings and keeps every comment."
expect_in "$F" 'muted = [ "content_partner/due_dates", "content_partner/qc_failures" ];'
finish
