#!/bin/bash
# tests/mta/reply-abuse.sh - the reply worker under abuse and crashes.
#
# No MTA is needed: complaints go in through complaint-milter -t (the real
# callbacks and store), replies go out through a stand-in sendmail
# (ReplyTransport sendmail:PATH) that keeps each message it is handed as a
# file and can be made slow, and complaint-reply --once runs the worker.
#
#   flood     40 complete complaints from one (forged) envelope sender: at
#             most ReplyRateLimit (3) replies to that address, the rest
#             suppressed with reason rate-limit; each case has a reply row
#   loop      two of our instances, A and B, pointed at each other: a
#             complaint to A from B's complaints address; A's reply goes to
#             B's milter, and so on, until nobody sends anything more (at
#             most 10 rounds): at most 1 mail of ours exchanged, B makes no
#             case of A's reply (Auto-Submitted, null sender); then a naive
#             auto-responder (no Auto-Submitted, answers every mail with
#             "Re: " and the subject) at the customer's address: the answer
#             is a follow-up of the case, not a new case, and gets no reply
#   crash     the worker SIGKILLed while the stand-in sendmail has the reply
#             (after the hand-over, before the worker marks it sent), then
#             run again: every case gets its reply, no case more than two
#             copies, at most one case two, a second copy has the same
#             Message-ID, every reply row ends as sent
#   reject    a rejected (incomplete) complaint: no reply row, nothing sent
#
# Usage: tests/mta/reply-abuse.sh      env: KEEP=1
# Ends with "reply-abuse: N passed, N failed"; exit 1 on any failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
MILTER=${MILTER_BIN:-$top/build/complaint-milter}
REPLY=${REPLY_BIN:-$top/build/complaint-reply}
CORPUS=$top/tests/corpus/dev
pass=0
fail=0
work=$(mktemp -d /tmp/cm-rabuse.XXXXXX)
trap 'if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi' EXIT
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
for p in "$MILTER" "$REPLY"; do
	[ -x "$p" ] || { echo "reply-abuse: build $p first"; exit 1; }
done

# The stand-in sendmail: argv "-i -f <> -- RCPT", message on stdin.  Each
# message becomes OUT/N.eml (written completely before the pause), then it
# sleeps as long as OUT/delay says.
cat >"$work/sendmail" <<'EOF'
#!/bin/sh
out=$(dirname "$0")/out
rcpt=
for a in "$@"; do rcpt=$a; done
f=$out/$(date +%s%N).$$.eml
{ echo "X-Envelope-To: $rcpt"; cat; } >"$f.tmp" && mv "$f.tmp" "$f"
d=$(cat "$out/delay" 2>/dev/null)
[ -n "$d" ] && sleep "$d"
exit 0
EOF
chmod 755 "$work/sendmail"
mkdir -p "$work/out"
cp -r "$top/conf/templates" "$work/templates"
cp -r "$top/conf/holidays" "$work/holidays"

conf() { # conf NAME OWN-ADDRESS
	mkdir -p "$work/$1"
	cat >"$work/$1/conf" <<EOF
Recipient           $2
IncompleteAction    reject
Database            $work/$1/cases.sqlite
RulesDir            $top/rules
ReplyFrom           Complaints $1 <$2>
ReplyTransport      sendmail:$work/sendmail
ReplyLanguageFallback en
HolidayCountry      NL
HolidaysDir         $work/holidays
TemplatesDir        $work/templates
ReplyRateLimit      3
ReplyRetryBase      1
EOF
}
intake() { # intake NAME FILE ENVELOPE-FROM: the milter's callbacks on one message
	"$MILTER" -c "$work/$1/conf" -F "$3" -t "$2" 2>>"$work/$1/milter.log" | sed -n 's/^result: //p'
}
worker() { # worker NAME: one pass of the reply worker
	timeout 60 "$REPLY" -c "$work/$1/conf" --once 2>>"$work/$1/reply.log"
}
sql() { sqlite3 -cmd ".timeout 5000" "$work/$1/cases.sqlite" "$2"; }
fresh() { # fresh FILE ID [FROM]: a corpus message with a fresh Message-ID (and From)
	sed -e "s/^Message-ID: .*/Message-ID: <$2@test.example>/" ${3:+-e "s/^From: .*/From: <$3>/"} "$1"
}
sent_to() { grep -l "^X-Envelope-To: $1\$" "$work/out"/*.eml 2>/dev/null | wc -l; }

# ---- flood from one forged sender ----
conf flood complaints@example.com
rm -f "$work/out"/*.eml
for i in $(seq 40); do
	fresh "$CORPUS/001-nl-product-labeled.eml" "flood$i" victim@example.org >"$work/f.eml"
	intake flood "$work/f.eml" "<victim@example.org>" >/dev/null
done
check "flood: 40 cases" test "$(sql flood "select count(*) from cases")" = 40
worker flood
worker flood
check "flood: at most 3 replies to the forged sender ($(sent_to victim@example.org))" test "$(sent_to victim@example.org)" -le 3
check "flood: ... and some (the limit is not zero)" test "$(sent_to victim@example.org)" -ge 1
check "flood: the others suppressed for the rate limit" \
	test "$(sql flood "select count(*) from events where type='reply-suppressed' and json_extract(detail,'\$.reason')='rate-limit'")" = $((40 - $(sent_to victim@example.org)))
check "flood: nothing else sent" test "$(ls "$work/out" | grep -c '\.eml$')" = "$(sent_to victim@example.org)"

# ---- two of our instances pointed at each other ----
conf a complaints-a@example.com
conf b complaints-b@example.com
rm -f "$work/out"/*.eml
fresh "$CORPUS/004-en-product-alt.eml" loop1 complaints-b@example.com >"$work/l.eml"
intake a "$work/l.eml" "<complaints-b@example.com>" >/dev/null
exchanged=0
for round in $(seq 10); do
	before=$(ls "$work/out" | grep -c '\.eml$')
	worker a
	worker b
	new=$(ls -tr "$work/out"/*.eml 2>/dev/null | tail -n $(($(ls "$work/out" | grep -c '\.eml$') - before)))
	[ -z "$new" ] && break
	for f in $new; do
		exchanged=$((exchanged + 1))
		to=$(sed -n 's/^X-Envelope-To: //p' "$f" | head -1)
		sed 1d "$f" >"$work/in.eml"
		case $to in
		complaints-a@example.com) intake a "$work/in.eml" "<>" >/dev/null ;;
		complaints-b@example.com) intake b "$work/in.eml" "<>" >/dev/null ;;
		esac
	done
done
check "loop: the exchange stopped by itself (round $round of at most 10)" test "$round" -lt 10
check "loop: at most one mail of ours exchanged ($exchanged)" test "$exchanged" -le 1
check "loop: B made no case of A's reply" test "$(sql b "select count(*) from cases")" = 0
check "loop: A has one case" test "$(sql a "select count(*) from cases")" = 1

# a naive auto-responder at the customer's address answers every mail
rm -f "$work/out"/*.eml
fresh "$CORPUS/001-nl-product-labeled.eml" naive1 bot@example.org >"$work/n.eml"
intake a "$work/n.eml" "<bot@example.org>" >/dev/null
mails=0
for round in $(seq 10); do
	worker a
	f=$(ls "$work/out"/*.eml 2>/dev/null | head -1)
	[ -n "$f" ] || break
	mails=$((mails + 1))
	subj=$(sed -n 's/^Subject: //p' "$f" | head -1)
	mv "$f" "$work/answered.$round"
	printf 'From: Bot <bot@example.org>\nTo: complaints-a@example.com\nSubject: Re: %s\nMessage-ID: <naive-%s@test.example>\n\nI am out of the office until Monday.\n' \
		"$subj" "$round" >"$work/n.eml"
	intake a "$work/n.eml" "<bot@example.org>" >/dev/null
done
check "naive auto-responder: the exchange stopped (round $round of at most 10)" test "$round" -lt 10
check "naive auto-responder: one reply of ours ($mails)" test "$mails" -le 1
check "naive auto-responder: its answers made no new case" \
	test "$(sql a "select count(*) from cases where from_addr='bot@example.org' or envelope_from='bot@example.org'")" = 1

# ---- a rejected complaint: no mail of ours ----
rm -f "$work/out"/*.eml
fresh "$CORPUS/003-nl-productklacht-no-model.eml" rej1 someone@example.org >"$work/r.eml"
check "reject: the incomplete complaint is rejected" test "$(intake a "$work/r.eml" "<someone@example.org>")" = reject
worker a
check "reject: no reply row" test "$(sql a "select count(*) from replies r join cases c using (case_id) where c.message_id='rej1@test.example'")" = 0
check "reject: nothing sent" test "$(ls "$work/out" | grep -c '\.eml$')" = 0

# ---- the worker killed mid-send ----
conf crash complaints@example.com
rm -f "$work/out"/*.eml
for i in 1 2 3 4 5; do
	fresh "$CORPUS/001-nl-product-labeled.eml" "crash$i" "c$i@example.org" >"$work/c.eml"
	intake crash "$work/c.eml" "<c$i@example.org>" >/dev/null
done
echo 3 >"$work/out/delay"
"$REPLY" -c "$work/crash/conf" --once 2>>"$work/crash/reply.log" &
rp=$!
for _ in $(seq 100); do ls "$work/out"/*.eml >/dev/null 2>&1 && break; sleep 0.05; done
kill -9 "$rp" 2>/dev/null
wait "$rp" 2>/dev/null
check "crash: the worker was killed with a reply handed over" test "$(ls "$work/out" | grep -c '\.eml$')" -ge 1
rm -f "$work/out/delay"
sleep 3.5	# the orphaned stand-in finishes
for _ in 1 2 3; do worker crash; sleep 1.1; done
for i in 1 2 3 4 5; do
	cid=$(sql crash "select case_id from cases where message_id='crash$i@test.example'")
	copies=$(grep -l "^X-Case-ID: $cid" "$work/out"/*.eml 2>/dev/null | wc -l)
	echo "$cid $copies" >>"$work/copies"
done
check "crash: every case got its reply (no reply lost)" bash -c "! awk '\$2 < 1' '$work/copies' | grep -q ."
check "crash: no case more than two copies" bash -c "! awk '\$2 > 2' '$work/copies' | grep -q ."
check "crash: at most one case with a second copy" test "$(awk '$2 == 2' "$work/copies" | wc -l)" -le 1
dup=$(awk '$2 == 2 { print $1 }' "$work/copies")
if [ -n "$dup" ]; then
	check "crash: the second copy has the same Message-ID" \
		test "$(grep -l "^X-Case-ID: $dup" "$work/out"/*.eml | xargs grep -hi '^Message-ID:' | sort -u | wc -l)" = 1
fi
check "crash: every reply row sent" test "$(sql crash "select count(*) from replies where status<>'sent'")" = 0

echo "reply-abuse: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
