#!/bin/bash
# git.sh - rules.d under git on the mail host (contrib/hooks/post-receive):
# the operators push to a bare repository, whose hook deploys into crierd's
# directory, made a repository of crierd's user. Ana mutes a notification
# with the link in a notification (the real self-service path through
# Postfix), and crierd commits that as Ana; meanwhile an operator changes
# another notification of hers in a clone and pushes: the push is merged
# with Ana's commit, deployed and published, and both changes are in
# service and in git. A push that changes the same lines as a change made
# on the host since (crierctl, as root: git runs as crierd's user) is
# refused with the files named, and nothing is lost on either side; once
# merged with branch host, it goes through.
. "${srcdir:-.}/tests/e2e/lib.sh"
e2e_up
ANA=ana@juicepost.example
W=$CD_DIR				# the work tree: rules.d, crier.conf, the key, ...
B="$T/rules.git"
OPS="$T/ops"
export GIT_CONFIG_GLOBAL=/dev/null	# not this machine's ~/.gitconfig
export GIT_AUTHOR_NAME=ops GIT_AUTHOR_EMAIL=ops@studio.example
export GIT_COMMITTER_NAME=ops GIT_COMMITTER_EMAIL=ops@studio.example
export CRIERCTL CRIER_CONF="$CD_DIR/crier.conf" CRIER_RULES_WORKTREE="$W"
ops() { git -C "$OPS" "$@"; }
host() { git -c safe.directory="$W" -C "$W" "$@"; }
# push WHAT: the operators push main; the hook's words in $T/push
push() { ops push -q origin main >"$T/push" 2>&1 || fail "$1: git push: $(cat "$T/push")"; }
log_wait() {
    for _ in $(seq 150); do grep -qF -- "$1" "$CD_DIR/crierd.log" && return 0; sleep 0.1; done
    fail "crierd did not log: $1"
}
in_service() { "$CRIERCTL" -c "$CD_DIR/crier.conf" list $ANA | grep -qF -- "$1"; }

# The operators' repository, pushed to the host for the first time: the
# work tree becomes a repository of crierd's user, with nothing to commit.
git init -q --bare "$B" && cp "$srcdir/contrib/hooks/post-receive" "$B/hooks/post-receive"
chmod +x "$B/hooks/post-receive"
git init -q -b main "$OPS" && cp -r "$RULES" "$OPS/rules.d" && chmod -R u+w "$OPS/rules.d"
cp "$srcdir/contrib/git/gitignore" "$OPS/.gitignore"
ops add -A && ops commit -qm "rules.d as shipped" && ops remote add origin "$B" || fail "ops repository"
push "first push"
expect_in "$T/push" "post-receive: making $W a git repository of $CD_USER's"
expect_in "$T/push" "post-receive: rules.d is in service"
[ "$(stat -c %U "$W/.git")" = "$CD_USER" ] || fail "$W/.git is not $CD_USER's"
[ "$(host config crier.commit)" = true ] || fail "crier.commit is not set in $W"
[ -z "$(host status --porcelain -- rules.d)" ] || fail "rules.d differs after the first deploy"
host check-ignore -q crier.conf || fail "the shipped .gitignore does not keep crier.conf out"

# Ana mutes a notification with its link; crierd commits the change as her.
pf_send_file "$EVENTS/redelivery-juice.eml" portal@studio.test events@crier.test || fail "event"
pf_wait_mail $ANA 1 30 >/dev/null || fail "no notification for Ana"
first=$(pf_mail_files $ANA | sed -n 1p)
notif=$(sed -n 's/^X-Crier-Notification: \([^,]*\).*/\1/p' "$first" | tr -d '\r')
token=$(sed -n 's/^List-Unsubscribe: <mailto:[^?]*?subject=mute%20\(v1[^>]*\)>.*/\1/p' "$first" | tr -d '\r')
printf 'From: %s\nTo: crier-request@crier.test\nSubject: mute %s\n\n' $ANA "$token" >"$T/mute.eml"
pf_send_file "$T/mute.eml" $ANA crier-request@crier.test || fail "mute mail"
log_wait "rules: $ANA: mute $notif (mail): committed main "
host log -1 --format='%an|%ae|%cn|%s' >"$T/commit"
expect_in "$T/commit" "$ANA|$ANA|crier|$ANA: mute $notif (mail)"
[ -z "$(find "$W/.git" ! -user "$CD_USER" ! -name index)" ] || fail "files in $W/.git not $CD_USER's"

# Meanwhile an operator makes Ana's branded QC digest hourly, and pushes:
# merged with the mute, deployed, published (main and host here).
sed -i 's/    frequency = "daily";/    frequency = "hourly";/' "$OPS/rules.d/users/ana.conf"
ops commit -qam "Ana: branded QC failures hourly" || fail "ops commit"
push "the hourly change"
expect_in "$T/push" "post-receive: main merged with the mail host's changes into $W"
expect_in "$T/push" "post-receive: rules.d is in service"
expect_in "$W/rules.d/users/ana.conf" 'frequency = "hourly";'
grep -qF "\"$notif\"" "$W/rules.d/users/ana.conf" || grep -q "muted = true" "$W/rules.d/users/ana.conf" \
    || fail "the merge lost Ana's mute"
[ "$(grep -c '^ *#' "$W/rules.d/users/ana.conf")" = "$(grep -c '^ *#' "$RULES/users/ana.conf")" ] \
    || fail "ana.conf lost comments on the way"
in_service "branded_qc_daily  qc_failed  hourly" || fail "the hourly change is not in service"
"$CRIERCTL" -c "$CD_DIR/crier.conf" list $ANA | grep -F "$notif " | grep -q "(muted)" \
    || fail "the mute is not in service"
git --git-dir="$B" log --format='%an <%ae>: %s' main >"$T/log"
expect_in "$T/log" "$ANA <$ANA>: $ANA: mute $notif (mail)"
expect_in "$T/log" "ops <ops@studio.example>: Ana: branded QC failures hourly"
[ "$(git --git-dir="$B" rev-parse host)" = "$(git --git-dir="$B" rev-parse main)" ] || fail "branch host"
ops pull -q --no-rebase origin main || fail "ops pull"

# On the host, crierctl (as root) makes german_redeliveries daily; the
# operators, not knowing, make it hourly: refused, nothing lost.
"$CRIERCTL" -c "$CD_DIR/crier.conf" edit $ANA german_redeliveries --frequency daily >"$T/out" \
    || fail "crierctl edit on the host"
expect_in "$T/out" "git: committed main "
[ "$(host log -1 --format=%cn)" = crier ] || fail "crierctl's change is not committed"
[ -z "$(find "$W/.git" -user root ! -name index)" ] || fail "crierctl left files of root's in $W/.git"
sed -i '/german_redeliveries = {/,/frequency/s/frequency = "immediately";/frequency = "hourly";/' \
    "$OPS/rules.d/users/ana.conf"
ops commit -qam "Ana: German redeliveries hourly" || fail "ops commit"
push "the conflicting change"
expect_in "$T/push" "post-receive: FAILED: your push and changes made on the mail host since change the same lines of rules.d/users/ana.conf: nothing deployed"
grep -q '^[<>=]\{7\}' "$W/rules.d/users/ana.conf" && fail "conflict markers in the host's ana.conf"
in_service "german_redeliveries  redelivery_requested  daily" || fail "the host's change left service"
[ -z "$(host status --porcelain -- rules.d)" ] || fail "the refused push changed $W"
git --git-dir="$B" log -1 --format=%s host | grep -q "edit german_redeliveries (crierctl)" \
    || fail "branch host lacks the host's change"

# Merged with branch host (the operators keep theirs), it goes through.
ops fetch -q origin && ops merge -q -X ours -m "Merge the host's changes" origin/host \
    || fail "ops merge"
push "the merged change"
expect_in "$T/push" "post-receive: rules.d is in service"
in_service "german_redeliveries  redelivery_requested  hourly" || fail "the merged change is not in service"
git --git-dir="$B" log --format=%s main | grep -q "edit german_redeliveries (crierctl)" \
    || fail "the host's commit is not in main"

log_clean
crierd_stop || fail "crierd stop"
finish
