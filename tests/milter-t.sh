#!/bin/sh
# The milter's callbacks without an MTA: complaint-milter -t runs them on
# saved messages (every smfi_* call goes through the test-mode wrapper) and
# prints the edits.  Checks the decisions, the edits and the database.
# usage: tests/milter-t.sh build/complaint-milter
set -u
milter=${1:-build/complaint-milter}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { d=$1; shift; if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL - $d"; fi; }
conf() {
	cat >"$tmp/t.conf" <<EOF
Recipient complaints@example.com
Database $tmp/cases.sqlite
RulesDir rules
IncompleteAction $1
CaseIdCheckChar ${2:-no}
EOF
}
run() { "$milter" -c "$tmp/t.conf" "$@" 2>"$tmp/log"; }
C=tests/corpus/dev

conf reject
check "-n accepts the config" sh -c "'$milter' -c '$tmp/t.conf' -n >/dev/null"
printf 'Bogus line\n' >"$tmp/bad.conf"
out=$("$milter" -c "$tmp/bad.conf" -n 2>&1); rc=$?
check "-n refuses a bad config with file:line" sh -c "[ $rc -ne 0 ] && echo '$out' | grep -q 'bad.conf:1: unknown key'"

out=$(run -t $C/001-nl-product-labeled.eml)
check "complete: accepted" sh -c "echo '$out' | grep -q '^result: accept'"
check "complete: subject tagged" sh -c "echo '$out' | grep -qE '^chgheader Subject\[1\]: \[CASE-[0-9]{4}-000001\] Klacht'"
check "complete: X-Complaint-Status complete" sh -c "echo '$out' | grep -q '^addheader X-Complaint-Status: complete'"
check "complete: logged with queue ID" grep -q 'TESTQUEUEID: case=CASE-.*verdict=accept' "$tmp/log"

out=$(run -t $C/001-nl-product-labeled.eml)
check "retry: same case ID" sh -c "echo '$out' | grep -q 'X-Case-ID: CASE-[0-9]*-000001'"

out=$(run -t $C/003-nl-productklacht-no-model.eml)
check "incomplete: rejected" sh -c "echo '$out' | grep -q '^result: reject'"
check "incomplete: 550 5.7.1 multi-line" sh -c "echo '$out' | grep -q '^reply 550-5.7.1 Uw klacht'"
check "incomplete: last line has no dash" sh -c "echo '$out' | grep -q '^reply 550 5.7.1 '"

out=$(run -R complaints@example.com -R other@example.com -t $C/003-nl-productklacht-no-model.eml)
check "mixed recipients: flagged, not rejected" sh -c "echo '$out' | grep -q 'X-Complaint-Status: incomplete; missing=model'"

out=$(run -t $C/020-auto-reply-ooo.eml)
check "auto-reply: auto-submitted" sh -c "echo '$out' | grep -q 'X-Complaint-Status: auto-submitted'"

conf quarantine
out=$(run -t $C/007-nl-vague-no-fields.eml)
check "quarantine: quarantined" sh -c "echo '$out' | grep -q '^quarantine: complaint-milter: CASE-'"

conf flag yes
out=$(run -t $C/002-nl-service-ticket.eml)
check "check character appended" sh -c "echo '$out' | grep -qE 'X-Case-ID: CASE-[0-9]{4}-[0-9]{6}-[0-9A-Z]$'"

check "no case for the rejected or automatic mail" test "$(sqlite3 "$tmp/cases.sqlite" 'select count(*) from cases')" = 4
echo "milter-t: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
