#!/bin/bash
# change.sh - crierctl create, edit, clone, mute, unmute, delete on a copy
# of the shipped rules.d: each change rewrites only the user's file, what
# it writes in the canonical layout (the same settings give the same bytes;
# comments.sh: what people wrote stays); the reference
# product's refusals (defaults are not edited or deleted, nothing becomes
# a duplicate, only what the catalog offers); and two writers at once lose
# nothing.
. "${srcdir:-.}/tests/cli/lib.sh"

R="$T/rules"
S="$T/state"
cp -r "$RULES" "$R"
chmod -R u+w "$R"
ctl() { "$CRIERCTL" -c /dev/null -r "$R" -s "$S" "$@"; }
ANA=ana@juicepost.example
ANAF="$R/users/ana.conf"
snapshot() {
    (cd "$R" && find . -type f | sort | xargs sha256sum) >"$1"
    [ "$(wc -l <"$1")" -ge 10 ] || fail "snapshot of $R: $(wc -l <"$1") files"
}

# create: the user's file alone changes, and the list marks the new one
snapshot "$T/before"
expect_exit 0 ctl create $ANA --event qc_failed --where severity=Critical --frequency immediately
expect_in "$T/out" "users/ana.conf: saved qc_failed_critical_immediately"
expect_in "$T/out" "generation 1: 4 frequencies"   # nothing compiled before: all of rules.d
expect_in "$T/out" "* [custom ] qc_failed_critical_immediately  qc_failed  immediately  where severity = Critical"
snapshot "$T/after"
diff "$T/before" "$T/after" | grep '^[<>]' | grep -v ' ./users/ana.conf$' && fail "files other than ana.conf changed"
expect_exit 0 ctl check
cp "$ANAF" "$T/created"
expect_in "$ANAF" "# ana.conf - Ana, content partner at Juice Post."
expect_in "$ANAF" '  qc_failed_critical_immediately = {
    event = "qc_failed";
    where = {
      severity = [ "Critical" ];
    };
    frequency = "immediately";
  };'
expect_exit 0 ctl create $ANA --event qc_failed --where severity=Critical,Major --where source_type=Video \
    --frequency daily --name crit_video --no-reload
expect_in "$ANAF" '      severity = [ "Critical", "Major" ];
      source_type = [ "Video" ];'

# edit replaces one condition and keeps the others; edit back gives the same bytes
expect_exit 0 ctl edit $ANA crit_video --where source_type=Audio --no-reload
expect_in "$ANAF" 'source_type = [ "Audio" ];'
expect_in "$ANAF" 'severity = [ "Critical", "Major" ];'
expect_exit 0 ctl edit $ANA crit_video --unwhere source_type --no-reload
expect_exit 0 ctl edit $ANA crit_video --where source_type=Video --no-reload
cp "$ANAF" "$T/edited"
expect_exit 0 ctl edit $ANA crit_video --where source_type=Video,Audio --frequency hourly --no-reload
expect_exit 0 ctl edit $ANA crit_video --where source_type=Video --frequency daily --no-reload
cmp -s "$ANAF" "$T/edited" || fail "edit and edit back did not give the same bytes"
expect_exit 1 ctl edit $ANA crit_video --unwhere language --no-reload
expect_in "$T/err" "'crit_video' has no condition on 'language' to remove"
expect_exit 1 ctl edit $ANA crit_video --unwhere severity --unwhere source_type --no-reload
expect_in "$T/err" "notification 'crit_video' has no condition"
expect_exit 1 ctl edit $ANA crit_video --no-reload
expect_in "$T/err" "edit needs something to change"

# a name crierctl made from the settings follows them (and the output says
# so); a name given with --name (crit_video, above) stays
expect_exit 0 ctl create $ANA --event qc_failed --where language=en --frequency daily --no-reload
expect_in "$T/out" "saved qc_failed_en_daily"
expect_exit 0 ctl edit $ANA qc_failed_en_daily --frequency hourly --no-reload
expect_in "$T/out" "saved qc_failed_en_hourly (renamed from qc_failed_en_daily: a name made from the settings follows them)"
grep -q "qc_failed_en_daily" "$ANAF" && fail "edit kept the derived name qc_failed_en_daily"
grep -q "  crit_video = {" "$ANAF" || fail "edit renamed crit_video, a name given with --name"
expect_exit 0 ctl delete $ANA qc_failed_en_hourly --no-reload

# the refusals: duplicates, what the catalog does not offer, defaults
expect_exit 1 ctl create $ANA --event redelivery_requested --where language=DE --frequency immediately --no-reload
expect_in "$T/err" "already exists as 'german_redeliveries'"
expect_exit 1 ctl edit $ANA crit_video --unwhere source_type --where severity=Critical --frequency immediately --no-reload
expect_in "$T/err" "notification 'qc_failed_critical_immediately' already exists as 'crit_video'"
expect_exit 1 ctl create $ANA --event qc_failed --where severity=Critical --frequency immediately --name other --no-reload
expect_in "$T/err" "already exists"
expect_exit 1 ctl create $ANA --event no_such_event --where severity=Critical --frequency daily --no-reload
expect_in "$T/err" "unknown event type 'no_such_event' (the catalog offers: "
expect_exit 1 ctl create $ANA --event qc_failed --where colour=Red --frequency daily --no-reload
expect_in "$T/err" "has no filter 'colour' (it offers: "
expect_exit 1 ctl create $ANA --event qc_failed --where severity=Huge --frequency daily --no-reload
expect_in "$T/err" "'Huge' is not a value of filter 'severity' (it offers: Minor, Major, Critical)"
expect_exit 1 ctl create $ANA --event qc_failed --where severity=Minor --frequency weekly --no-reload
expect_in "$T/err" "event type 'qc_failed' does not offer frequency 'weekly' (it offers: immediately, hourly, daily)"
expect_exit 1 ctl create $ANA --event qc_failed --frequency daily --no-reload
expect_in "$T/err" "create needs --event, --frequency and at least one --where"
expect_exit 2 ctl create $ANA --event qc_failed --where severity --frequency daily
expect_in "$T/err" "write FILTER=VALUE"
expect_exit 1 ctl edit $ANA content_partner/qc_failures --where severity=Minor --no-reload
expect_in "$T/err" "is a default of profile content_partner: defaults cannot be edited; clone it"
expect_exit 1 ctl delete $ANA content_partner/qc_failures --no-reload
expect_in "$T/err" "defaults cannot be deleted"
expect_exit 1 ctl mute $ANA studio_ops/anything --no-reload
expect_in "$T/err" "has no notification 'studio_ops/anything'"
expect_exit 1 ctl mute nobody@example.org x --no-reload
expect_in "$T/err" "no user nobody@example.org"
expect_exit 1 ctl create $ANA --event qc_failed --where severity=Minor --frequency daily --name 'bad name' --no-reload
expect_in "$T/err" "is not a name"
cmp -s "$ANAF" "$T/edited" || fail "a refused change wrote the file"

# clone: a default into a custom (changes needed, or it is a duplicate)
expect_exit 1 ctl clone $ANA content_partner/qc_failures --no-reload
expect_in "$T/err" "already exists as 'content_partner/qc_failures'"
expect_exit 0 ctl clone $ANA content_partner/qc_failures --where severity=Minor,Major,Critical --name all_qc --no-reload
expect_in "$ANAF" 'all_qc = {'
expect_in "$ANAF" 'severity = [ "Critical", "Major", "Minor" ];'

# mute and unmute: defaults in "muted", customs with muted = true
expect_exit 0 ctl mute $ANA content_partner/qc_failures --no-reload
expect_in "$ANAF" 'muted = [ "content_partner/qc_failures" ];'
expect_exit 0 ctl mute $ANA content_partner/qc_failures --no-reload
expect_in "$T/out" "is already muted; nothing changed"
expect_exit 0 ctl mute $ANA all_qc --no-reload
expect_in "$ANAF" '    muted = true;'
expect_exit 0 ctl unmute $ANA content_partner/qc_failures --no-reload
expect_exit 0 ctl unmute $ANA all_qc --no-reload
grep -q 'muted' "$ANAF" && fail "unmute left a mute: $(grep muted "$ANAF")"

# without --no-reload, the user alone is compiled into the set in service
expect_exit 0 ctl compile
expect_exit 0 ctl mute $ANA content_partner/due_dates
expect_in "$T/out" "ana@juicepost.example compiled anew (61 views in all); crierd serves it"
expect_in "$T/out" "* [default] content_partner/due_dates  due_date_changed  immediately  where direction = Earlier  (muted)"
"$CRIERCTL" -s "$S" explain --json "$EVENTS/redelivery-juice.eml" >"$T/incremental" \
    || fail "explain after the change in place"
expect_exit 0 ctl unmute $ANA content_partner/due_dates
expect_exit 0 ctl mute $ANA content_partner/due_dates --no-reload
expect_in "$T/out" "not compiled (--no-reload)"
expect_exit 0 ctl compile          # all of rules.d: the same answers as the change in place
"$CRIERCTL" -s "$S" explain --json "$EVENTS/redelivery-juice.eml" >"$T/whole" \
    || fail "explain after the whole compile"
expect_same "$T/whole" "$T/incremental"
expect_exit 0 ctl unmute $ANA content_partner/due_dates

# a default its profile mutes for everyone: muted already, never unmuted
expect_exit 0 ctl mute $ANA content_partner/delivered_weekly --no-reload
expect_in "$T/out" "is already muted; nothing changed"
expect_exit 1 ctl unmute $ANA content_partner/delivered_weekly --no-reload
expect_in "$T/err" "is muted in the definition of profile content_partner, for everyone"
expect_exit 0 ctl create $ANA --event qc_failed --where language=Français+ --frequency daily --no-reload
expect_in "$T/out" "saved qc_failed_fran_ais_daily"

# delete: customs go; after deleting what was added, the file is as created
expect_exit 0 ctl delete $ANA all_qc --no-reload
expect_exit 0 ctl delete $ANA qc_failed_fran_ais_daily --no-reload
expect_exit 0 ctl delete $ANA crit_video --no-reload
expect_in "$T/out" "deleted crit_video"
cmp -s "$ANAF" "$T/created" || { diff "$T/created" "$ANAF" >&2; fail "delete did not undo create"; }

# two writers at once: every change lands
for w in a b; do
    (for i in 1 2 3 4 5 6; do
        ctl create $ANA --event qc_failed --where "language=$w$i" --frequency daily --name "c_$w$i" \
            --no-reload >/dev/null 2>&1 || echo "writer $w: create $i refused" >&2
    done) &
done
wait
for w in a b; do for i in 1 2 3 4 5 6; do
    grep -q "c_$w$i = {" "$ANAF" || fail "c_$w$i was lost"
done; done
expect_exit 0 ctl check
finish
