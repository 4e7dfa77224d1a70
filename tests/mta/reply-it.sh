#!/bin/bash
# tests/mta/reply-it.sh - complaint-reply end to end: the real complaint-milter
# and complaint-reply against one database, a private Postfix on loopback,
# mail sent with swaks from customers @example.com, so that the replies land
# in the test Maildir next to the complaints.
#
# Usage (as root, from anywhere): tests/mta/reply-it.sh
#   env: KEEP=1      keep the work directory for inspection
#        REPLY_BIN   the worker to test (default build/complaint-reply; e.g.
#                    build/asan/complaint-reply)
#
# The worker runs as user complaint-milter, like the milter, with
# CM_TODAY=2026-11-25 so the promised dates are fixed: update by Tuesday
# 15 December 2026 (14 working days), resolve by Friday 8 January 2027 (30
# working days, over Christmas and New Year, NL holidays).
# Ends with "reply-it: N passed, N failed"; exit 1 on any failure.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
PF_LIB=1 . "$here/postfix.sh"
. "$here/lib.sh"

MILTER=$top/build/complaint-milter
REPLY=${REPLY_BIN:-$top/build/complaint-reply}
CORPUS=$top/tests/corpus/dev
pass=0
fail=0
milter_pid=
reply_pid=
work=$(mktemp -d /tmp/cm-rit.XXXXXX)
chmod 755 "$work"
sockdir=/run/cm-rit-$$
sock=$sockdir/milter.sock
port=$((28000 + $$ % 2000))
pfdir=$work/postfix
db=$work/db/cases.sqlite
export CM_TODAY=2026-11-25

cleanup() {
	stop_reply
	stop_milter
	pf_stop "$pfdir" >/dev/null 2>&1
	rm -rf "$sockdir"
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for p in "$MILTER" "$REPLY"; do
	[ -x "$p" ] || { echo "reply-it: build $p first"; exit 1; }
done
id complaint-milter >/dev/null 2>&1 ||
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin complaint-milter
mkdir -p -m 755 "$sockdir" "$work/db"
chown complaint-milter "$work/db"
cp -r "$top/rules" "$work/rules"
cp -r "$top/conf/templates" "$work/templates"
cp -r "$top/conf/holidays" "$work/holidays"
chmod -R a+rX "$work/rules" "$work/templates" "$work/holidays"

write_conf() { # write_conf TRANSPORT
	cat >"$work/milter.conf" <<EOF
Socket              local:$sock
SocketMode          0660
SocketGroup         postfix
Recipient           complaints@example.com
Recipient           klachten@example.com
IncompleteAction    flag
Database            $db
RulesDir            $work/rules
UserID              complaint-milter
ReplyFrom           Klachtenservice Zon <complaints@example.com>
ReplyTransport      $1
ReplyLanguageFallback en
HolidayCountry      NL
HolidaysDir         $work/holidays
TemplatesDir        $work/templates
ReplyRateLimit      2
ReplyRetryBase      1
EOF
	chmod 644 "$work/milter.conf"
}

# the worker as user complaint-milter (setpriv execs: $! is the worker itself)
start_reply() {
	setpriv --reuid=complaint-milter --regid="$(id -g complaint-milter)" --clear-groups \
		env CM_TODAY="$CM_TODAY" ${MAIL_CONFIG:+MAIL_CONFIG=$MAIL_CONFIG} \
		"$REPLY" -c "$work/milter.conf" -f 2>>"$work/reply.err" &
	reply_pid=$!
	sleep 0.3
	kill -0 "$reply_pid" 2>/dev/null || { cat "$work/reply.err"; return 1; }
}

stop_reply() {
	[ -n "$reply_pid" ] || return 0
	kill "$reply_pid" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$reply_pid" 2>/dev/null || break; sleep 0.05; done
	kill -9 "$reply_pid" 2>/dev/null
	wait "$reply_pid" 2>/dev/null
	reply_pid=
}

send() { # send OUTFILE FROM swaks-args...
	local out=$1 from=$2
	shift 2
	swaks --server "127.0.0.1:$port" --from "$from" "$@" >"$out" 2>&1
}

# the delivered reply (Auto-Submitted: auto-replied) with X-Case-ID CID and
# the reply kind's Message-ID (reply.CID.KIND.)
reply_file() { # reply_file CID [KIND]
	local f
	for f in $(pf_delivered "$pfdir"); do
		grep -q '^Auto-Submitted: auto-replied' "$f" &&
			grep -q "^Message-I[Dd]: <reply\.$1\.${2:-ack}\." "$f" && { echo "$f"; return 0; }
	done
	return 1
}

wait_reply() { # wait_reply CID [KIND] [SECS]: within SECS (default 10)
	local i
	for ((i = 0; i < ${3:-10} * 10; i++)); do
		reply_file "$1" "${2:-ack}" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# the decoded text/plain body of a message
text_of() {
	python3 - "$1" <<'EOF'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
print(m.get_body(preferencelist=('plain',)).get_content())
EOF
}

# a decoded header of a message
header_of() { # header_of FILE NAME
	python3 - "$1" "$2" <<'EOF'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
print(m.get(sys.argv[2], ''))
EOF
}

case_of() { sql "select case_id from cases where message_id='$1'"; }

wait_case() { # wait_case MSGID: the case exists (the milter committed it)
	for _ in $(seq 50); do [ -n "$(case_of "$1")" ] && return 0; sleep 0.1; done
	return 1
}

# our replies (Message-ID <reply.CASE.KIND.RANDOM@...>) in the Maildir
our_replies() {
	grep -lE '^Message-I[Dd]: <reply\.' $(pf_delivered "$pfdir") /dev/null
}

# no reply of ours to ADDRESS in the Maildir
no_reply_to() {
	! our_replies | xargs -r grep -li "^To: .*$1" | grep -q .
}

write_conf "smtp:127.0.0.1:$port"
start_milter || { bad "milter starts"; exit 1; }
pf_start "$pfdir" "$port" "unix:$sock" >/dev/null || { bad "postfix starts"; exit 1; }
"$REPLY" -c "$work/milter.conf" -n >/dev/null 2>&1
check "complaint-reply -n accepts the configuration" test $? = 0
start_reply || { bad "complaint-reply starts"; exit 1; }
ok "complaint-reply starts"
check "worker runs as complaint-milter" test "$(ps -o user= -p "$reply_pid")" = complaint-milter

# 1. a complete Dutch complaint: the reply lands within seconds
fresh "$CORPUS/001-nl-product-labeled.eml" rit-nl >"$work/m1.eml"
t0=$(date +%s.%N)
send "$work/o1" nl.klant@example.com --to complaints@example.com --data "@$work/m1.eml"
check "complete complaint accepted" accepted "$work/o1"
wait_case rit-nl@test.example
cid=$(case_of rit-nl@test.example)
check "case recorded" test -n "$cid"
check "reply arrives within 10 s" wait_reply "$cid"
t1=$(date +%s.%N)
echo "     (reply after $(python3 -c "print(round($t1 - $t0, 1))") s)"
f=$(reply_file "$cid")
if [ -n "$f" ]; then
	body=$(text_of "$f")
	check "Subject carries the case tag (nl)" grep -q "^Subject: \[$cid\] Ontvangen: uw productklacht" "$f"
	check "X-Case-ID" grep -q "^X-Case-ID: $cid\$" "$f"
	check "From is ReplyFrom" grep -q '^From: Klachtenservice Zon <complaints@example.com>' "$f"
	check "To is the envelope sender" grep -q '^To: .*nl.klant@example.com' "$f"
	check "In-Reply-To the complaint" grep -q '^In-Reply-To: <rit-nl@test.example>' "$f"
	check "References the complaint" grep -q '^References: <rit-nl@test.example>' "$f"
	check "Auto-Submitted: auto-replied" grep -q '^Auto-Submitted: auto-replied$' "$f"
	check "X-Auto-Response-Suppress: All" grep -q '^X-Auto-Response-Suppress: All$' "$f"
	check "Message-ID of our own domain" grep -qE "^Message-I[dD]: <reply\.$cid\.ack\.[0-9a-f]+@example\.com>" "$f"
	check "null envelope sender (Return-Path: <>)" grep -q '^Return-Path: <>$' "$f"
	check "text/plain UTF-8 quoted-printable" grep -qiE 'charset=utf-8' "$f"
	check "quoted-printable" grep -qi '^Content-Transfer-Encoding: quoted-printable' "$f"
	check "HTML alternative" grep -qi 'Content-Type: text/html' "$f"
	check "body: case ID" grep -q "Uw zaak heeft nummer $cid\." <<<"$body"
	check "body: model as understood" grep -q 'Model omvormer:  SUN2000-5KTL-L1' <<<"$body"
	check "body: serial as understood" grep -q 'Serienummer:     HV2150123456' <<<"$body"
	check "body: received (nl date)" grep -q 'woensdag 25 november 2026' <<<"$body"
	check "body: update by +14 working days (nl)" grep -q 'uiterlijk dinsdag 15 december 2026 hoort' <<<"$body"
	check "body: resolve by +30 working days (nl)" grep -q 'uiterlijk vrijdag 8 januari 2027 op te$' <<<"$body"
	check "body: nothing missing" bash -c "! grep -q 'nog nodig' <<<\"\$0\"" "$body"
	check "body: how to escalate" grep -q 'escaleren' <<<"$body"
	check "body: the complaints address" grep -q 'complaints@example.com' <<<"$body"
fi
check "due dates stored on the case" test "$(sql "select ack_by||' '||update_by||' '||resolve_by from cases where case_id='$cid'")" = "2026-12-04 2026-12-15 2027-01-08"
check "reply row sent, one attempt" test "$(sql "select status||' '||attempts from replies where case_id='$cid'")" = "sent 1"
check "reply-sent event" test "$(sql "select count(*) from events where case_id='$cid' and type='reply-sent'")" = 1

# 2. a German complaint: a German reply with German dates
fresh "$CORPUS/005-de-product-spaced-serial.eml" rit-de >"$work/m2.eml"
send "$work/o2" de.kunde@example.com --to complaints@example.com --data "@$work/m2.eml"
wait_case rit-de@test.example
cid2=$(case_of rit-de@test.example)
check "German complaint: reply arrives" wait_reply "$cid2"
f=$(reply_file "$cid2")
if [ -n "$f" ]; then
	body=$(text_of "$f")
	check "German Subject" grep -q "Eingegangen: Ihre Produktbeschwerde" <<<"$(header_of "$f" Subject)"
	check "German dates" grep -q 'bis Dienstag, 15. Dezember 2026 informieren' <<<"$body"
	check "German resolve date" grep -q 'bis Freitag, 8. Januar 2027 lösen' <<<"$body"
	check "German greeting with the name" grep -q 'Guten Tag Klaus Becker' <<<"$body"
fi

# 3. a flagged incomplete complaint: the reply lists what is missing
fresh "$CORPUS/007-nl-vague-no-fields.eml" rit-incomplete >"$work/m3.eml"
send "$work/o3" vaag@example.com --to complaints@example.com --data "@$work/m3.eml"
check "incomplete complaint accepted (flag)" accepted "$work/o3"
wait_case rit-incomplete@test.example
cid3=$(case_of rit-incomplete@test.example)
check "incomplete: reply arrives" wait_reply "$cid3"
f=$(reply_file "$cid3")
if [ -n "$f" ]; then
	body=$(text_of "$f")
	check "incomplete: says something is missing" grep -q 'hebben wij nog nodig' <<<"$body"
	check "incomplete: names ticket or model" grep -q 'het ticketnummer van uw servicemelding of het type (model) van uw omvormer' <<<"$body"
	check "incomplete: how to send it" grep -q 'door op deze e-mail te antwoorden' <<<"$body"
fi

# 4. a follow-up that completes the case: a short "now complete" reply
cat >"$work/m4.eml" <<EOF
From: Jan de Vries <vaag@example.com>
To: complaints@example.com
Subject: Re: [$cid3] Ontvangen: uw klacht
Message-ID: <rit-followup@test.example>

Het gaat om mijn omvormer, model SUN2000-5KTL-L1, serienummer HV2150000777.
EOF
send "$work/o4" vaag@example.com --to complaints@example.com --data "@$work/m4.eml"
check "follow-up accepted" accepted "$work/o4"
check "follow-up completed the case" bash -c "for i in \$(seq 50); do [ \"\$(sqlite3 -cmd '.timeout 5000' '$db' \"select count(*) from events where case_id='$cid3' and type='completed'\")\" = 1 ] && exit 0; sleep 0.1; done; exit 1"
check "complete: reply arrives" wait_reply "$cid3" complete
f=$(reply_file "$cid3" complete)
if [ -n "$f" ]; then
	check "complete: Subject says complete" grep -q "^Subject: \[$cid3\] Compleet" "$f"
	check "complete: In-Reply-To the follow-up" grep -q '^In-Reply-To: <rit-followup@test.example>' "$f"
	check "complete: References both" grep -q '^References: <rit-incomplete@test.example> <rit-followup@test.example>' "$f"
	check "complete: model as understood" grep -q 'SUN2000-5KTL-L1' <<<"$(text_of "$f")"
fi
check "one ack and one complete for that case" test "$(sql "select group_concat(kind||':'||status, ' ') from (select kind, status from replies where case_id='$cid3' order by kind)")" = "ack:sent complete:sent"

# 5. a follow-up that does not complete anything: no reply
cat >"$work/m5.eml" <<EOF
From: Jan de Vries <nl.klant@example.com>
To: complaints@example.com
Subject: Re: [$cid] Ontvangen: uw productklacht
Message-ID: <rit-followup2@test.example>

Nog een foto van het display volgt later.
EOF
send "$work/o5" nl.klant@example.com --to complaints@example.com --data "@$work/m5.eml"

# 6. automatic mail: a bounce, an auto-reply and a list mail get no case and no reply
fresh "$CORPUS/021-dsn-bounce.eml" rit-bounce >"$work/m6a.eml"
send "$work/o6a" "" --to complaints@example.com --data "@$work/m6a.eml"
fresh "$CORPUS/020-auto-reply-ooo.eml" rit-ooo >"$work/m6b.eml"
send "$work/o6b" ooo@example.com --to complaints@example.com --data "@$work/m6b.eml"
fresh "$CORPUS/022-newsletter-bulk.eml" rit-list >"$work/m6c.eml"
send "$work/o6c" news@example.com --to complaints@example.com --data "@$work/m6c.eml"
check "automatic mail accepted" bash -c "grep -q '^<-  250 ' '$work/o6a' && grep -q '^<-  250 ' '$work/o6b' && grep -q '^<-  250 ' '$work/o6c'"
# from postmaster@: automatic for the milter (no case)
fresh "$CORPUS/002-nl-service-ticket.eml" rit-postmaster >"$work/m6d.eml"
send "$work/o6d" postmaster@example.com --to complaints@example.com --data "@$work/m6d.eml"
# from one of our own addresses: a case, but the worker suppresses the reply
fresh "$CORPUS/002-nl-service-ticket.eml" rit-own >"$work/m6e.eml"
send "$work/o6e" klachten@example.com --to complaints@example.com --data "@$work/m6e.eml"
wait_case rit-own@test.example
cido=$(case_of rit-own@test.example)
# from owner-list@: a case, suppressed (RFC 3834: owner-*)
fresh "$CORPUS/002-nl-service-ticket.eml" rit-owner >"$work/m6f.eml"
send "$work/o6f" owner-list@example.com --to complaints@example.com --data "@$work/m6f.eml"
wait_case rit-owner@test.example
cidw=$(case_of rit-owner@test.example)

# 7. rate limit 2: the third complaint of one sender gets no reply
for i in 1 2 3; do
	fresh "$CORPUS/002-nl-service-ticket.eml" "rit-rate$i" >"$work/m7$i.eml"
	send "$work/o7$i" veel@example.com --to complaints@example.com --data "@$work/m7$i.eml"
	wait_case "rit-rate$i@test.example"
	# one at a time, so the order of the cases is the order of sending
	[ "$i" = 3 ] || wait_reply "$(case_of "rit-rate$i@test.example")" ack 10
done
cr3=$(case_of rit-rate3@test.example)
for _ in $(seq 50); do [ -n "$(sql "select status from replies where case_id='$cr3'")" ] && break; sleep 0.1; done
sleep 2
check "rate limit: two replies to veel@example.com" test "$(grep -l '^Auto-Submitted: auto-replied' $(pf_delivered "$pfdir") | xargs grep -li '^To: .*veel@example.com' | wc -l)" = 2
check "rate limit: the third is suppressed" test "$(sql "select status from replies where case_id='$cr3'")" = suppressed
check "rate limit: a suppressed event says why" test "$(sql "select json_extract(detail, '\$.reason') from events where case_id='$cr3' and type='reply-suppressed'")" = rate-limit

check "follow-up without completion: no second reply" test "$(sql "select count(*) from replies where case_id='$cid'")" = 1
check "bounce: no case" test "$(sql "select count(*) from cases where message_id in ('rit-bounce@test.example','rit-ooo@test.example','rit-list@test.example')")" = 0
check "auto-reply: no reply to its sender" no_reply_to ooo@example.com
check "list mail: no reply to its sender" no_reply_to news@example.com
check "postmaster: no case, no reply" test "$(case_of rit-postmaster@test.example)" = "" -a -z "$(our_replies | xargs -r grep -li '^To: .*postmaster@')"
check "own address: no reply" no_reply_to klachten@example.com
check "own address: suppressed with its reason" test "$(sql "select json_extract(detail, '\$.reason') from events where case_id='$cido' and type='reply-suppressed'")" = own-address
check "owner-*: no reply" no_reply_to owner-list@example.com
check "owner-*: suppressed with its reason" test "$(sql "select json_extract(detail, '\$.reason') from events where case_id='$cidw' and type='reply-suppressed'")" = owner
check "no reply ever to a complaints address" no_reply_to complaints@example.com

# 8. the relay down: the reply waits (pending, retried), then goes when it is back
stop_reply
fresh "$CORPUS/004-en-product-alt.eml" rit-down >"$work/m8.eml"
send "$work/o8" en.customer@example.com --to complaints@example.com --data "@$work/m8.eml"
wait_case rit-down@test.example
cidd=$(case_of rit-down@test.example)
for _ in $(seq 50); do [ -n "$(reply_file "$(case_of rit-down@test.example)" 2>/dev/null)" ] && break; sleep 0.1; done
sleep 1
pf_stop "$pfdir" >/dev/null
start_reply || bad "worker restarts"
for _ in $(seq 60); do [ "$(sql "select attempts from replies where case_id='$cidd'")" -ge 2 ] 2>/dev/null && break; sleep 0.1; done
check "relay down: reply pending" test "$(sql "select status from replies where case_id='$cidd'")" = pending
check "relay down: attempts counted, error kept" test -n "$(sql "select last_error from replies where case_id='$cidd' and attempts >= 1")"
check "relay down: deferred events" test "$(sql "select count(*) from events where case_id='$cidd' and type='reply-deferred'")" -ge 1
msgid=$(sql "select message_id from replies where case_id='$cidd'")
PF_KEEP=1 pf_start "$pfdir" "$port" "unix:$sock" >/dev/null || bad "postfix restarts"
check "relay back: the reply arrives (English)" wait_reply "$cidd" ack 15
f=$(reply_file "$cidd")
[ -n "$f" ] && check "relay back: the Message-ID stayed the same" grep -q "^Message-I[Dd]: <$msgid>" "$f"
[ -n "$f" ] && check "English dates" grep -q 'by Tuesday 15 December 2026 we will tell you' <<<"$(text_of "$f")"
check "relay back: status sent" test "$(sql "select status from replies where case_id='$cidd'")" = sent

# 9. sendmail transport: Postfix's sendmail with -f <>, argument vector, no -t.
# Postfix's sendmail honours MAIL_CONFIG (the private instance) only for
# root, so here the worker runs as root.
stop_reply
write_conf "sendmail:/usr/sbin/sendmail"
MAIL_CONFIG=$pfdir "$REPLY" -c "$work/milter.conf" -f 2>>"$work/reply.err" &
reply_pid=$!
fresh "$CORPUS/006-fr-service-qp.eml" rit-fr >"$work/m9.eml"
send "$work/o9" fr.client@example.com --to complaints@example.com --data "@$work/m9.eml"
wait_case rit-fr@test.example
cidf=$(case_of rit-fr@test.example)
check "sendmail transport: French reply arrives" wait_reply "$cidf" ack 15
f=$(reply_file "$cidf")
if [ -n "$f" ]; then
	check "sendmail transport: null envelope sender" grep -q '^Return-Path: <>$' "$f"
	check "French dates" grep -q "d'ici le mardi 15 décembre 2026" <<<"$(text_of "$f")"
	check "French Subject" grep -q 'Reçue : votre réclamation de service' <<<"$(header_of "$f" Subject)"
fi
stop_reply

# 10. --once drains and exits; nothing is sent twice
setpriv --reuid=complaint-milter --regid="$(id -g complaint-milter)" --clear-groups \
	env CM_TODAY="$CM_TODAY" "$REPLY" -c "$work/milter.conf" --once 2>>"$work/reply.err"
check "--once exits 0" test $? = 0
check "every reply is sent or suppressed" test "$(sql "select count(*) from replies where status not in ('sent','suppressed')")" = 0
check "each case answered at most once" test "$(sql "select count(*) from (select case_id, kind from replies group by 1, 2 having count(*) > 1)")" = 0

pf_stop "$pfdir" >/dev/null
stop_milter
[ "$fail" -eq 0 ] || { echo "--- reply.err"; tail -30 "$work/reply.err"; }
echo "reply-it: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
