#!/bin/bash
# git.sh - crierctl's changes under git: in a work tree whose repository
# says crier.commit = true, each change is one commit of the user's file
# alone (author the operator, committer crier, the message what changed
# and through which channel); a commit that fails leaves the change made
# and says why; a repository without crier.commit (an operator's clone)
# gets no commit. (tests/e2e/git.sh: the mail host, with crierd and mail.)
. "${srcdir:-.}/tests/cli/lib.sh"

unset SUDO_USER
export GIT_CONFIG_GLOBAL=/dev/null GIT_AUTHOR_NAME=ops GIT_AUTHOR_EMAIL=ops@studio.example
export GIT_COMMITTER_NAME=ops GIT_COMMITTER_EMAIL=ops@studio.example
ANA=ana@juicepost.example
W="$T/etc"
git init -q -b main "$W" && cp -r "$RULES" "$W/rules.d" && chmod -R u+w "$W/rules.d"
echo "an operator's edit, not staged" >"$W/notes.txt"
git -C "$W" add rules.d && git -C "$W" commit -qm "rules.d as shipped" || fail "repository"
ctl() { "$CRIERCTL" -c /dev/null -r "$W/rules.d" "$@" --no-reload; }
gitlog() { git -C "$W" log -1 --format="$1"; }

# Without crier.commit, crierctl leaves git to the operator.
expect_exit 0 ctl mute $ANA content_partner/due_dates
grep -q "^git: committed" "$T/out" && fail "committed without crier.commit"
[ "$(git -C "$W" rev-list --count HEAD)" = 1 ] || fail "a commit without crier.commit"
git -C "$W" checkout -q -- rules.d

# With it, each change is a commit of its own.
git -C "$W" config crier.commit true
expect_exit 0 ctl mute $ANA content_partner/due_dates
expect_in "$T/out" "git: committed main "
[ "$(gitlog %an)" = "$(id -un)@$(hostname)" ] || fail "author: $(gitlog %an)"
[ "$(gitlog %cn)" = crier ] || fail "committer: $(gitlog %cn)"
[ "$(gitlog %s)" = "$ANA: mute content_partner/due_dates (crierctl)" ] || fail "message: $(gitlog %s)"
[ "$(git -C "$W" show --name-only --format= HEAD)" = rules.d/users/ana.conf ] \
    || fail "the commit holds more than ana.conf"
[ -z "$(git -C "$W" status --porcelain -- rules.d)" ] || fail "the change is not committed"
git -C "$W" status --porcelain | grep -q '^?? notes.txt$' || fail "crierctl committed notes.txt"

expect_exit 0 ctl create $ANA --event qc_failed --where language=en --frequency daily
expect_exit 0 ctl edit $ANA qc_failed_en_daily --frequency hourly
[ "$(gitlog %s)" = "$ANA: edit qc_failed_en_daily, now qc_failed_en_hourly (crierctl)" ] \
    || fail "message of a rename: $(gitlog %s)"

# A commit that fails: the change is made, crierctl says why, exit 0; the
# next change commits both.
touch "$W/.git/index.lock"
expect_exit 0 ctl delete $ANA qc_failed_en_hourly
expect_in "$T/err" "crierctl: warning: not committed to git (the change is made): git add rules.d/users/ana.conf: fatal: Unable to create"
grep -q "qc_failed_en_hourly" "$W/rules.d/users/ana.conf" && fail "the change was not made"
rm -f "$W/.git/index.lock"
expect_exit 0 ctl unmute $ANA content_partner/due_dates
expect_in "$T/out" "git: committed main "
expect_same "$W/rules.d/users/ana.conf" "$RULES/users/ana.conf"
[ -z "$(git -C "$W" status --porcelain -- rules.d)" ] || fail "left uncommitted"
finish
