#!/bin/bash
# hooks.sh - the operators' git workflow with contrib/hooks: pre-commit
# refuses a rules.d that does not pass crierctl check and lets a good one
# through; on the mail host, post-merge puts a pulled change into service
# (check, compile, reload), and post-receive turns a work tree an older
# version deployed into a repository without losing what changed there.
# (tests/e2e/git.sh: post-receive with crierd and mail.)
. "${srcdir:-.}/tests/cli/lib.sh"
export GIT_AUTHOR_NAME=ops GIT_AUTHOR_EMAIL=ops@studio.example
export GIT_COMMITTER_NAME=ops GIT_COMMITTER_EMAIL=ops@studio.example
export CRIERCTL
ANA=ana@juicepost.example

# The operators' repository, with the pre-commit hook.
git init -q "$T/ops" && cp -r "$RULES" "$T/ops/rules.d" && chmod -R u+w "$T/ops/rules.d"
cp "$srcdir/contrib/hooks/pre-commit" "$T/ops/.git/hooks/pre-commit"
(cd "$T/ops" && git add rules.d && git commit -qm "rules.d as shipped") || fail "first commit"

sed -i 's/profile = "content_partner";/profile = "no_such_profile";/' "$T/ops/rules.d/users/ana.conf"
(cd "$T/ops" && git add rules.d && git commit -qm broken) 2>"$T/err" && fail "a broken rules.d was committed"
expect_in "$T/err" "unknown profile 'no_such_profile'"
expect_in "$T/err" "pre-commit: rules.d does not pass crierctl check; commit refused"
(cd "$T/ops" && git reset -q --hard) || fail "reset"

# The mail host: a clone whose rules.d crierd reads, with post-merge.
git clone -q "$T/ops" "$T/host" || fail "clone"
cp "$srcdir/contrib/hooks/post-merge" "$T/host/.git/hooks/post-merge"
# A stand-in for crierd that dies of the SIGHUP: crierctl reload signals only
# a program named crierd whose -c names this pid_file (a copy of perl here,
# with SIGHUP at its default action even when the tests run under nohup).
mkdir "$T/bin" && cp "$(command -v perl)" "$T/bin/crierd"
"$T/bin/crierd" -e '$SIG{HUP} = "DEFAULT"; sleep 300' -- -c "$T/crier.conf" & fake=$!; disown $fake
echo $fake >"$T/crierd.pid"
printf 'pid_file = "%s";\nrules_dir = "%s";\nstate_dir = "%s";\n' \
    "$T/crierd.pid" "$T/host/rules.d" "$T/state" >"$T/crier.conf"
"$CRIERCTL" -c "$T/crier.conf" compile >/dev/null || fail "first compile"

# A change reviewed in git: made with crierctl, committed, pulled, in service.
"$CRIERCTL" -r "$T/ops/rules.d" -s "$T/ops-state" create $ANA --event qc_failed \
    --where severity=Critical --frequency daily --name crit_daily --no-reload >/dev/null \
    || fail "crierctl create"
(cd "$T/ops" && git diff) >"$T/diff"
expect_in "$T/diff" "+  crit_daily = {"
[ "$(grep -c '^[-+] ' "$T/diff")" -le 16 ] || fail "a one-notification change is a large diff"
(cd "$T/ops" && git commit -qam "Ana: critical QC failures daily") || fail "a good change was refused"
(cd "$T/host" && CRIER_CONF="$T/crier.conf" git pull -q) >"$T/out" 2>&1 || fail "pull: $(cat "$T/out")"
expect_in "$T/out" "post-merge: rules.d changed: rules.d/users/ana.conf"
"$CRIERCTL" -c "$T/crier.conf" list $ANA >"$T/list" || fail "list"
expect_in "$T/list" "crit_daily  qc_failed  daily  where severity = Critical"
for _ in $(seq 50); do kill -0 $fake 2>/dev/null || break; sleep 0.1; done
kill -0 $fake 2>/dev/null && { kill $fake; fail "post-merge did not signal crierd"; }

# post-receive on a host an older version deployed: its work tree is no
# repository, and Ana's file changed there since (a mute). The next push
# makes it one, commits the mute, merges the push with it: both stay.
git init -q --bare "$T/bare.git" && (cd "$T/ops" && git push -q "$T/bare.git" HEAD:refs/heads/main) \
    || fail "bare repository"
git --git-dir="$T/bare.git" update-ref refs/crier/deployed main
mkdir "$T/etc" && git --git-dir="$T/bare.git" archive main | tar -x -C "$T/etc" || fail "old deploy"
"$CRIERCTL" -r "$T/etc/rules.d" mute $ANA content_partner/due_dates --no-reload >/dev/null || fail "mute"
cp "$srcdir/contrib/hooks/post-receive" "$T/bare.git/hooks/post-receive"
"$T/bin/crierd" -e '$SIG{HUP} = "DEFAULT"; sleep 300' -- -c "$T/crier.conf" & fake=$!; disown $fake
printf 'pid_file = "%s";\nrules_dir = "%s";\nstate_dir = "%s";\n' \
    "$T/crierd.pid" "$T/etc/rules.d" "$T/state" >"$T/crier.conf" && echo $fake >"$T/crierd.pid"
sed -i 's/language = \[ "de" \];/language = [ "de", "at" ];/' "$T/ops/rules.d/users/ana.conf"
(cd "$T/ops" && git commit -qam "Ana: Austrian redeliveries too" &&
    CRIER_RULES_WORKTREE="$T/etc" CRIER_CONF="$T/crier.conf" git push -q "$T/bare.git" HEAD:refs/heads/main) \
    >"$T/out" 2>&1 || fail "push: $(cat "$T/out")"
expect_in "$T/out" "post-receive: committed changes found in $T/etc/rules.d"
expect_in "$T/out" "post-receive: main merged with the mail host's changes"
expect_in "$T/out" "post-receive: rules.d is in service"
expect_in "$T/etc/rules.d/users/ana.conf" '"content_partner/due_dates"'
expect_in "$T/etc/rules.d/users/ana.conf" '[ "de", "at" ]'
[ -z "$(git -C "$T/etc" status --porcelain -- rules.d)" ] || fail "the host's rules.d is not committed"
git --git-dir="$T/bare.git" log --format=%s host | grep -q "changes made on the mail host" \
    || fail "the host's change is not published as branch host"
for _ in $(seq 50); do kill -0 $fake 2>/dev/null || break; sleep 0.1; done
kill -0 $fake 2>/dev/null && { kill $fake; fail "post-receive did not signal crierd"; }
finish
