#!/bin/bash
# http.sh - the notification settings panel over HTTP, with curl, against
# the test server on a copy of the shipped rules.d: security headers on
# every answer; signing in by a mailed link (once, 15 minutes, signature
# checked) and the same answer for every address; sessions (cookie
# attributes, CSRF, sign out, sign out everywhere, kept across a restart);
# the list, a create with "Saved", a duplicate refused, a free-text value
# shown escaped; the fields an error concerns marked aria-invalid and
# described by it; defaults never edited or deleted, another person's
# notification never touched; a GET of any link changes nothing; RFC 8058
# one-click unsubscribe; limits on requests.
. "${srcdir:-.}/tests/web/lib.sh"

ANA=ana@juicepost.example
web_setup
web_start

# --- security headers, on every kind of answer ---
check_headers() {    # check_headers PERSONAL(0|1)
    expect_in "$T/head" "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'"
    expect_in "$T/head" "Referrer-Policy: no-referrer"
    expect_in "$T/head" "X-Content-Type-Options: nosniff"
    [ "$1" = 1 ] && expect_in "$T/head" "Cache-Control: no-store"
    grep -qi '<script>' "$T/body" && fail "$path: an inline script"
    return 0
}
req GET /; expect_status 200; check_headers 1
expect_in "$T/body" 'name="address"'
req GET /static/panel.css; expect_status 200; check_headers 0
expect_in "$T/head" "Content-Type: text/css"
req GET /static/panel.js; expect_status 200; check_headers 0
req GET /no-such-page; expect_status 303
req POST /mute -d name=x; expect_status 403; check_headers 1
req PUT /; expect_status 405; check_headers 1

# --- asking for a link: one answer for all; a link only for users ---
before=$(outbox_count)
req POST /signin -d address=nobody@example.com; expect_status 200
cp "$T/body" "$T/answer-stranger"
req POST /signin --data-urlencode "address=$ANA"; expect_status 200
cmp -s "$T/body" "$T/answer-stranger" || fail "the answer differs for a user and a stranger"
expect_in "$T/body" "If this address receives notifications, a sign-in link is on its way"
links_written 1     # the mailer writes the link after the answer went out
[ "$(outbox_count)" = $((before + 1)) ] || fail "outbox: $(outbox_count) messages, expected $((before + 1))"
link=$(outbox_text | grep -ao "$URL/s/v1\.s\.[A-Za-z0-9_.-]*" | head -1)
[ -n "$link" ] || fail "no sign-in link in the queued mail"
outbox_text | grep -aq "^To: $ANA" || fail "the sign-in mail is not to $ANA"
for _ in 1 2 3 4; do req POST /signin --data-urlencode "address=$ANA"; done
links_written 3
[ "$(outbox_count)" = $((before + 3)) ] || fail "per-address limit: $(outbox_count) messages queued"
expect_in "$T/serve.log" "more than 3 a minute for the address"
# The address counts without case, as rules.d finds it: another spelling
# is the same person's mailbox, and gets no fourth link.
limited=$(grep -c "more than 3 a minute for the address" "$T/serve.log")
for a in Ana@juicepost.example ANA@JUICEPOST.EXAMPLE aNa@JuicePost.example; do
    req POST /signin --data-urlencode "address=$a"; expect_status 200
done
[ "$(grep -c "more than 3 a minute for the address" "$T/serve.log")" = $((limited + 3)) ] \
    || fail "another spelling of $ANA escaped the per-address limit"
# A client counts by its IPv6 /64 (submit_rate_limit_ipv6_prefix), as the
# policy service counts submitters: 11 addresses of one /64 (X-Forwarded-For,
# trusted from the loopback) are one client, whose 11th request is refused.
for i in 1 2 3 4 5 6 7 8 9 a b; do
    req POST /signin -H "X-Forwarded-For: 2001:db8:5:6::$i" -d "address=n$i@example.com"
done
expect_in "$T/serve.log" "client=2001:db8:5:6::b: sign-in for <nb@example.com>: more than 10 a minute from the client"
grep -q "client=2001:db8:5:6::a: .*more than 10" "$T/serve.log" && fail "the /64 was refused before its 11th request"
links_written 3
[ "$(outbox_count)" = $((before + 3)) ] || fail "other spellings queued mail: $(outbox_count) messages"

# --- the link: GET shows a button and signs nobody in; POST signs in, once ---
token=${link##*/s/}
req GET "/s/$token"; expect_status 200; check_headers 1
expect_in "$T/body" "Sign in as $ANA"
grep -qi '^Set-Cookie' "$T/head" && fail "GET of a sign-in link set a cookie"
req POST "/s/$token"; expect_status 303
expect_in "$T/head" "Location: /"
cookie_line=$(grep '^Set-Cookie: __Host-crier=' "$T/head")
for attr in HttpOnly Secure "Path=/" "SameSite=Lax"; do
    case "$cookie_line" in *"; $attr"*) ;; *) fail "cookie lacks $attr: $cookie_line" ;; esac
done
case "$cookie_line" in *Domain=*) fail "a __Host- cookie with a Domain" ;; esac
req POST "/s/$token"; expect_status 410
expect_in "$T/body" "This link was used before."
grep -q '^Set-Cookie' "$T/head" && fail "a used link set a cookie"
req POST "/s/$(mint s $ANA "" $(( $(date +%s) - 16 * 60 )))"; expect_status 410
expect_in "$T/body" "This link has expired."
alt=$(mint s $ANA ""); alt="${alt%?}$( [ "${alt: -1}" = A ] && echo B || echo A)"
req POST "/s/$alt"; expect_status 400
expect_in "$T/body" "This link is not valid."
req POST "/s/$(mint s tom@cafe.example "")"         # signed, but for no user of rules.d
expect_in "$T/body" "no longer receives notifications"
req POST "/s/$(mint m $ANA content_partner/qc_failures)"; expect_status 400   # a mute token
manage=$(mint p $ANA "" $(( $(date +%s) - 30 * 86400 )))
# A sign-in POST made by another site's page is refused (a login CSRF with
# someone's own manage link): the browser's Sec-Fetch-Site, or an Origin
# not web_base_url's. "Origin: null" is what the panel's own page sends
# (its Referrer-Policy is no-referrer).
for h in "Sec-Fetch-Site: cross-site" "Sec-Fetch-Site: same-site" "Origin: https://evil.example" \
    "Origin: $URL.evil.example"; do
    req POST "/s/$manage" -H "$h"; expect_status 403
    grep -qi '^Set-Cookie' "$T/head" && fail "a sign-in POST with $h set a cookie"
done
expect_in "$T/serve.log" "a sign-in POST from another site's page (Origin https://evil.example"
req POST "/s/$manage" -H "Origin: null" -H "Sec-Fetch-Site: same-origin"; expect_status 303
req POST "/s/$manage" -H "Origin: $URL"; expect_status 303
req POST "/s/$manage"; expect_status 303
req POST "/s/$manage"; expect_status 303             # the footer's link works again
req POST "/s/$(mint p $ANA "" $(( $(date +%s) - 61 * 86400 )))"; expect_status 410

# --- the list ---
sign_in $ANA
req GET / -b "__Host-crier=$COOKIE"; expect_status 200; check_headers 1
for t in "Content Partner" "Juice Post" "Europe/Berlin" ">Default notifications<" \
    ">Custom notifications<" ">Immediately<" ">Daily<" "Redelivery Requested" \
    "german_redeliveries" "Your digests"; do
    expect_in "$T/body" "$t"
done
sed 's/Custom notifications.*//' "$T/body" | grep -q '/edit?n=' \
    && fail "a default offers Edit"
expect_in "$T/body" 'href="/edit?n=german_redeliveries"'
expect_in "$T/body" 'href="/delete?n=german_redeliveries"'
req GET "/?q=qc&event=" -b "__Host-crier=$COOKIE"
expect_in "$T/body" "branded_qc_daily"
grep -q "german_redeliveries" "$T/body" && fail "search 'qc' kept german_redeliveries"
req GET "/?event=redelivery_requested" -b "__Host-crier=$COOKIE"
expect_in "$T/body" "content_partner/all_redeliveries"
grep -q "branded_qc_daily" "$T/body" && fail "search by event type kept branded_qc_daily"

# --- CSRF: none, another session's, an altered one: refused, nothing changed ---
sum=$(rules_sum)
req POST /mute -b "__Host-crier=$COOKIE" -d name=content_partner/qc_failures; expect_status 403
other_cookie=$COOKIE other_csrf=$CSRF
sign_in $ANA
req POST /mute -b "__Host-crier=$COOKIE" --data-urlencode "csrf=$other_csrf" \
    -d name=content_partner/qc_failures
expect_status 403
req POST /mute -b "__Host-crier=$COOKIE" --data-urlencode "csrf=${CSRF}x" \
    -d name=content_partner/qc_failures
expect_status 403
[ "$(rules_sum)" = "$sum" ] || fail "a refused POST changed rules.d"
COOKIE=$other_cookie CSRF=$other_csrf

# --- create the reference product's example; saved, highlighted; again: refused ---
save() { req POST /save -b "__Host-crier=$COOKIE" --data-urlencode "csrf=$CSRF" "$@"; }
# invalid WHAT NAMES: the error form in $T/body marks the fields NAMES
# ("a b ", sorted; "": none) with aria-invalid="true", and only those; each
# such field has aria-describedby naming the error, which is on the page
# once; #rest, replaced in place by panel.js, is no live region (the error,
# role="alert", is the one)
invalid() {
    tags=$(grep -o '<\(input\|select\)[^>]*>' "$T/body")
    bad=$(echo "$tags" | grep 'aria-invalid="true"')
    got=$(echo "$bad" | sed -n 's/.* name="\([^"]*\)".*/\1/p' | sort -u | tr '\n' ' ')
    [ "$got" = "$2" ] || fail "$1: fields marked invalid '$got', expected '$2'"
    [ "$(echo "$bad" | grep -c .)" = "$(echo "$bad" | grep -c ' aria-describedby="form-error"')" ] \
        || fail "$1: a field marked invalid does not point to the error"
    refs=$(grep -o 'aria-describedby="[^"]*"' "$T/body" | sed 's/.*="//; s/"$//' | sort -u)
    for ref in $refs; do
        [ "$(grep -o " id=\"$ref\"" "$T/body" | grep -c .)" = 1 ] \
            || fail "$1: aria-describedby=\"$ref\" names no element (or several)"
    done
    [ -n "$2" ] && ! grep -q '<p class="error" role="alert" id="form-error">' "$T/body" \
        && fail "$1: no error with id form-error"
    grep -q '<div id="rest" aria-live' "$T/body" && fail "$1: #rest is a live region"
    return 0
}
save -d mode=create -d event=redelivery_requested -d w.content_type=Branded \
    --data-urlencode "w.source_type=Video & Audio" -d frequency=daily
expect_status 303
id=redelivery_requested_branded_video_audio_daily
expect_in "$T/head" "Location: /?did=saved&n=$id#n-$id"
expect_in "$T/rules.d/users/ana.conf" "$id = {"
"$CRIERCTL" -c "$T/crier.conf" list $ANA | grep -q "$id" || fail "$id is not in service"
req GET "/?did=saved&n=$id" -b "__Host-crier=$COOKIE"
expect_in "$T/body" "Saved '$id'"
expect_in "$T/body" "class=\"notif saved\" id=\"n-$id\""
expect_in "$T/serve.log" "web: user=<$ANA> create notification=$id via=web"
save -d mode=create -d event=redelivery_requested -d w.content_type=Branded \
    --data-urlencode "w.source_type=Video & Audio" -d frequency=daily -d name=again
expect_status 422
expect_in "$T/body" "already exists as &#39;$id&#39;"
expect_in "$T/body" 'value="Branded" checked'                 # the input is kept
grep -q "$T/rules.d" "$T/body" && fail "an error shows a path of the server"
invalid "already exists" ""                                 # the whole notification
save -d mode=create -d event=redelivery_requested -d frequency=daily; expect_status 422
expect_in "$T/body" "Choose at least one condition under Where."
conds=$(grep -o 'name="[wt]\.[^"]*"' "$T/body" | sed 's/name="//; s/"$//' | sort -u | tr '\n' ' ')
invalid "no condition" "$conds"                         # each one's fields
save -d mode=create -d event=redelivery_requested -d w.content_type=Nope -d frequency=daily
expect_in "$T/body" "&#39;Nope&#39; is not a value this event type offers for Content Type."
invalid "a value not offered" "w.content_type "
save -d mode=create -d event=redelivery_requested -d w.content_type=Branded -d frequency=weekly
expect_in "$T/body" "Choose one of the frequencies this event type offers."
invalid "a frequency not offered" "frequency "
save -d mode=create -d event=redelivery_requested -d w.bogus=1 -d frequency=daily
expect_in "$T/body" "&#39;bogus&#39; is not a condition this event type offers."
invalid "a condition not offered" ""
save -d mode=create -d w.content_type=Branded -d frequency=daily; expect_status 422
expect_in "$T/body" "Choose what to be notified of."
invalid "no event type" "event "
save -d mode=create -d event=redelivery_requested -d w.content_type=Trailer -d frequency=daily \
    -d name=9lives
expect_status 422
expect_in "$T/body" "&#39;9lives&#39; is not a name"
invalid "not a name" "name "
save -d mode=create -d event=redelivery_requested -d w.content_type=Trailer -d frequency=daily \
    -d name=german_redeliveries
expect_in "$T/body" "already has a custom notification named &#39;german_redeliveries&#39;"
invalid "a name taken" "name "

# --- a free-text value is shown escaped, on the list and in the form ---
save -d mode=create -d event=qc_failed --data-urlencode "t.language=<script>alert(1)</script>" \
    -d frequency=daily
expect_status 303
req GET / -b "__Host-crier=$COOKIE"
expect_in "$T/body" "&lt;script&gt;alert(1)&lt;/script&gt;"
grep -q "<script>alert" "$T/body" && fail "the free-text value is not escaped on the list"
xid=$(grep -o 'id="n-qc_failed_script[^"]*"' "$T/body" | head -1 | sed 's/id="n-//; s/"$//')
req GET "/edit?n=$xid" -b "__Host-crier=$COOKIE"
expect_in "$T/body" 'value="&lt;script&gt;alert(1)&lt;/script&gt;"'
grep -q "<script>alert" "$T/body" && fail "the free-text value is not escaped in the form"

# --- defaults: no edit, no delete; the same refusal as crierctl ---
sum=$(rules_sum)
req POST /delete -b "__Host-crier=$COOKIE" --data-urlencode "csrf=$CSRF" \
    -d name=content_partner/qc_failures
expect_status 409
"$CRIERCTL" -c "$T/crier.conf" delete $ANA content_partner/qc_failures 2>"$T/ctl.err"
expect_in "$T/body" "$(sed "s/^crierctl: delete: //; s/'/\&#39;/g" "$T/ctl.err" | head -1)"
save -d mode=edit -d src=content_partner/qc_failures -d event=qc_failed -d w.severity=Minor \
    -d frequency=daily
expect_in "$T/body" "defaults cannot be edited"
req GET "/edit?n=content_partner/qc_failures" -b "__Host-crier=$COOKIE"; expect_status 409
req GET "/delete?n=content_partner/qc_failures" -b "__Host-crier=$COOKIE"; expect_status 409
[ "$(rules_sum)" = "$sum" ] || fail "a refused change to a default changed rules.d"

# --- another person's notifications: never seen, never changed ---
tomf=$(grep -l 'tom@' "$T/rules.d/users/"*.conf | head -1)
theirs=$(awk '/^custom/ {c=1} c && /^  [a-z_]+ = \{/ {print $1; exit}' "$tomf")
[ -n "$theirs" ] || theirs=$(awk '/^custom/ {c=1} c && /= \{/ && !/^custom/ {print $1; exit}' \
    "$(grep -l '^custom' "$T/rules.d/users/"*.conf | grep -v ana.conf | head -1)")
sum=$(rules_sum)
for verb in mute unmute delete; do
    req POST /$verb -b "__Host-crier=$COOKIE" --data-urlencode "csrf=$CSRF" -d "name=$theirs"
    expect_status 409
done
save -d mode=edit -d "src=$theirs" -d event=qc_failed -d w.severity=Minor -d frequency=daily
expect_status 422
save -d mode=clone -d "src=$theirs" -d event=qc_failed -d w.severity=Minor -d frequency=daily
expect_status 422
req POST /mute -b "__Host-crier=$COOKIE" --data-urlencode "csrf=$CSRF" \
    -d name=fulfillment_partner/all_assigned -d user=tom@cafe.example
expect_status 409
req GET "/edit?n=$theirs" -b "__Host-crier=$COOKIE"; expect_status 404
[ "$(rules_sum)" = "$sum" ] || fail "a request about another person's notification changed rules.d"

# --- mute, unmute, clone, edit, delete (with its confirmation) ---
req POST /mute -b "__Host-crier=$COOKIE" --data-urlencode "csrf=$CSRF" \
    -d name=content_partner/qc_failures
expect_status 303
expect_in "$T/rules.d/users/ana.conf" '"content_partner/qc_failures"'
req POST /unmute -b "__Host-crier=$COOKIE" --data-urlencode "csrf=$CSRF" \
    -d name=content_partner/qc_failures
expect_status 303
req GET "/clone?n=content_partner/qc_failures" -b "__Host-crier=$COOKIE"; expect_status 200
expect_in "$T/body" 'value="Critical" checked'
save -d mode=clone -d src=content_partner/qc_failures -d event=qc_failed -d w.severity=Critical \
    -d frequency=daily -d name=crit_daily
expect_status 303
expect_in "$T/rules.d/users/ana.conf" "crit_daily = {"
save -d mode=edit -d src=crit_daily -d event=qc_failed -d w.severity=Critical \
    -d w.content_type=Branded -d frequency=hourly
expect_status 303
expect_in "$T/rules.d/users/ana.conf" 'frequency = "hourly";'
req GET "/new?event=qc_failed&fragment=1" -b "__Host-crier=$COOKIE"; expect_status 200
head -c 30 "$T/body" | grep -q '^<div id="rest"' || fail "the fragment for panel.js is not the form's rest"
expect_in "$T/body" 'name="w.severity"'
req GET "/new" -b "__Host-crier=$COOKIE"
expect_in "$T/body" 'id="type-form"'
grep -q 'id="save-form"' "$T/body" && fail "without a type, the form skips the type step"
req GET "/delete?n=crit_daily" -b "__Host-crier=$COOKIE"; expect_status 200
expect_in "$T/body" "This cannot be undone."
grep -q "crit_daily = {" "$T/rules.d/users/ana.conf" || fail "GET /delete deleted"
req POST /delete -b "__Host-crier=$COOKIE" --data-urlencode "csrf=$CSRF" -d name=crit_daily
expect_status 303
grep -q "crit_daily = {" "$T/rules.d/users/ana.conf" && fail "crit_daily is still there"

# --- the list kept between pages: fresh after every kind of change ---
list_page() { req GET / -b "__Host-crier=$COOKIE"; expect_status 200; }
# expect_entry NAME muted|active WHAT - the last page shows NAME so, after WHAT
expect_entry() {
    local e
    e=$(grep -o "<li class=\"notif[^\"]*\" id=\"n-${1//\//%2F}\"" "$T/body")
    case "$2:$e" in
    muted:*'"notif muted'*) ;;
    active:'<li class="notif" '*) ;;
    *) fail "after $3, the list does not show $1 $2: ${e:-not there}" ;;
    esac
}
list_page; list_page                    # the plain list, kept since the first
expect_entry content_partner/qc_failures active "a page kept"
req POST /mute -b "__Host-crier=$COOKIE" --data-urlencode "csrf=$CSRF" \
    -d name=content_partner/qc_failures
expect_status 303
list_page; expect_entry content_partner/qc_failures muted "a mute by the panel"
list_page
"$CRIERCTL" -c "$T/crier.conf" unmute $ANA content_partner/qc_failures >/dev/null \
    || fail "crierctl unmute failed"
list_page; expect_entry content_partner/qc_failures active "crierctl unmute"
"$CRIERCTL" -c "$T/crier.conf" mute $ANA german_redeliveries >/dev/null \
    || fail "crierctl mute failed"
list_page; expect_entry german_redeliveries muted "crierctl mute (while a page is kept)"
list_page
req POST "/u/$(mint m $ANA content_partner/cancellations)" -d List-Unsubscribe=One-Click
expect_status 200
list_page; expect_entry content_partner/cancellations muted "the mute link of a mail"
for n in german_redeliveries content_partner/cancellations; do
    req POST /unmute -b "__Host-crier=$COOKIE" --data-urlencode "csrf=$CSRF" -d "name=$n"
    expect_status 303
    list_page; expect_entry "$n" active "an unmute by the panel"
done
cp -p "$T/rules.d/users/ana.conf" "$T/ana.conf.saved"
sed -i 's,"Europe/Berlin","America/New_York",' "$T/rules.d/users/ana.conf"  # by hand
list_page; expect_in "$T/body" "America/New_York"
cp "$T/ana.conf.saved" "$T/rules.d/users/ana.conf"
list_page; expect_in "$T/body" "Europe/Berlin"
cp -p "$T/rules.d/10-event-types.conf" "$T/types.saved"
sed -i 's/"Redelivery Requested"/"Redelivery Wanted"/' "$T/rules.d/10-event-types.conf"
list_page; expect_in "$T/body" "<strong>Redelivery Wanted</strong>"
grep -q "Redelivery Requested" "$T/body" && fail "a catalog edit is not on the list"
cp "$T/types.saved" "$T/rules.d/10-event-types.conf"
list_page; expect_in "$T/body" "<strong>Redelivery Requested</strong>"
# each session's own CSRF token in every form of the kept list, no other
first_cookie=$COOKIE first_csrf=$CSRF
sign_in $ANA                            # its own GET /: the kept list
[ "$CSRF" != "$first_csrf" ] || fail "two sessions were given one CSRF token by the list"
req POST /mute -b "__Host-crier=$COOKIE" --data-urlencode "csrf=$CSRF" \
    -d name=content_partner/qc_failures
expect_status 303                       # the token on its list is the session's
req POST /unmute -b "__Host-crier=$first_cookie" --data-urlencode "csrf=$first_csrf" \
    -d name=content_partner/qc_failures
expect_status 303
for c in "$COOKIE $CSRF" "$first_cookie $first_csrf"; do
    req GET / -b "__Host-crier=${c% *}"
    tokens=$(grep -o 'name="csrf" value="[^"]*"' "$T/body" | sort | uniq -c)
    [ "$(echo "$tokens" | wc -l)" = 1 ] && [ "$(echo "$tokens" | awk '{print $1}')" -gt 10 ] \
        && case "$tokens" in *"value=\"${c#* }\"") ;; *) false ;; esac \
        || fail "the list's CSRF tokens are not the session's: $tokens"
done
COOKIE=$first_cookie CSRF=$first_csrf

# --- a GET of every link changes nothing ---
sum=$(rules_sum) out=$(outbox_count)
for page in / /new "/new?event=qc_failed" "/clone?n=content_partner/qc_failures" \
    "/edit?n=german_redeliveries" "/delete?n=german_redeliveries"; do
    req GET "$page" -b "__Host-crier=$COOKIE"
    grep -o 'href="[^"]*"' "$T/body" | sed 's/^href="//; s/"$//; s/&amp;/\&/g' >>"$T/links"
done
echo "/s/$(mint s $ANA "")" >>"$T/links"
echo "/u/$(mint m $ANA content_partner/due_dates)" >>"$T/links"
sort -u "$T/links" | grep '^/' >"$T/links.u"
[ "$(wc -l <"$T/links.u")" -ge 8 ] || fail "only $(wc -l <"$T/links.u") links found"
while read -r l; do req GET "$l" -b "__Host-crier=$COOKIE"; done <"$T/links.u"
[ "$(rules_sum)" = "$sum" ] || fail "a GET changed rules.d"
[ "$(outbox_count)" = "$out" ] || fail "a GET queued mail"

# --- RFC 8058 one-click unsubscribe ---
u=$(mint m $ANA content_partner/due_dates)
sum=$(rules_sum)
req GET "/u/$u"; expect_status 200; check_headers 1
expect_in "$T/body" ">Mute</button>"
[ "$(rules_sum)" = "$sum" ] || fail "GET /u/ changed rules.d"
req POST "/u/$u" -d x=y; expect_status 400
req POST "/u/$u" -d List-Unsubscribe=One-Click; expect_status 200
grep -q '^Set-Cookie' "$T/head" && fail "unsubscribe set a cookie"
expect_in "$T/rules.d/users/ana.conf" '"content_partner/due_dates"'
"$CRIERCTL" -c "$T/crier.conf" list $ANA | grep 'content_partner/due_dates' | grep -q muted \
    || fail "the unsubscribe is not in service"
req POST "/u/$u" -d List-Unsubscribe=One-Click; expect_status 410
expect_in "$T/body" "This link was used before."
req POST "/u/$(mint m $ANA content_partner/at_risk_rush $(( $(date +%s) - 61 * 86400 )))" \
    -d List-Unsubscribe=One-Click
expect_status 410
u=$(mint m $ANA content_partner/at_risk_rush); u="${u%?}$( [ "${u: -1}" = A ] && echo B || echo A)"
req POST "/u/$u" -d List-Unsubscribe=One-Click; expect_status 400
req POST "/u/$(mint s $ANA "")" -d List-Unsubscribe=One-Click; expect_status 400
req POST "/u/$(mint m $ANA content_partner/at_risk_rush)" -F List-Unsubscribe=One-Click
expect_status 200                                    # multipart/form-data too (RFC 8058)

# --- sessions: kept across a restart; sign out; sign out everywhere ---
web_stop; web_start
req GET / -b "__Host-crier=$COOKIE"
expect_in "$T/body" "Your notifications"
sign_in $ANA
second=$COOKIE second_csrf=$CSRF
req POST /signout -b "__Host-crier=$second" --data-urlencode "csrf=$second_csrf"
expect_status 303
expect_in "$T/head" "Max-Age=0"
req GET / -b "__Host-crier=$second"
expect_in "$T/body" 'name="address"'
req GET / -b "__Host-crier=$other_cookie"
expect_in "$T/body" "Your notifications"
sign_in $ANA
req POST /signout-all -b "__Host-crier=$COOKIE" --data-urlencode "csrf=$CSRF"
for c in "$COOKIE" "$other_cookie"; do
    req GET / -b "__Host-crier=$c"
    expect_in "$T/body" 'name="address"'
done

# --- limits: a body too large; a client asking too often ---
head -c 40000 /dev/zero | tr '\0' a >"$T/big"
req POST /signin --data-binary "@$T/big"; expect_status 413
# Without a Content-Length (chunked), the refusal comes when the body has
# been read, 413 all the same; a form of 300 fields, or one that cannot be
# read, gets 400; a body sent on far past the limit has its connection cut.
{ printf 'address='; cat "$T/big"; } >"$T/bigform"
req POST /signin -H "Transfer-Encoding: chunked" --data-binary "@$T/bigform"; expect_status 413
req POST /signin --data "$(for i in $(seq 300); do printf 'f%d=x&' "$i"; done)"; expect_status 400
req POST /signin --data 'address=%&%%=%zz&=&&=x'; expect_status 400
head -c 1000000 /dev/zero | tr '\0' a >"$T/huge"
req POST /signin -H "Transfer-Encoding: chunked" --data-binary "@$T/huge"; expect_status 000
req GET /; expect_status 200                        # and the panel serves on
for _ in $(seq 12); do req POST /signin -d address=x@example.com; done
expect_in "$T/serve.log" "more than 10 a minute from the client"

# 200 slow clients (headers never finished) do not stop a sign-in
python3 - "$PORT" >"$T/slow.out" 2>&1 <<'PY' &
import socket, sys, time
conns = []
for _ in range(200):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    conns.append(s)
print("open", len(conns), flush=True)
time.sleep(6)
PY
slow=$!
for _ in $(seq 100); do grep -q "open 200" "$T/slow.out" && break; sleep 0.05; done
grep -q "open 200" "$T/slow.out" || fail "the slow clients did not connect: $(cat "$T/slow.out")"
t0=$(date +%s%N)
req POST /signin -d address=slow@example.com --max-time 5; expect_status 200
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 2000 ] || fail "a sign-in took $ms ms behind 200 slow clients"
kill "$slow" 2>/dev/null; wait "$slow" 2>/dev/null

# --- the server stops cleanly, and (in a sanitizer build) with no report ---
web_stop
expect_in "$T/serve.log" "web: stopped"
grep -E "runtime error|Sanitizer" "$T/serve.log" >&2 && fail "sanitizer reports in serve.log"
finish
