#!/bin/sh
# complaint-reply reloads on SIGHUP and SIGUSR1: a broken configuration
# keeps the running one (and the log says why), a good one is taken; the
# worker keeps running either way.  No MTA: replies go to a closed port and
# stay pending.
# usage: tests/reply-reload.sh build
set -u
B=${1:-build}
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { d=$1; shift; if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL - $d"; fi; }
cat >"$tmp/t.conf" <<EOF
Recipient complaints@example.com
Database $tmp/cases.sqlite
RulesDir rules
TemplatesDir conf/templates
HolidaysDir conf/holidays
ReplyTransport smtp:127.0.0.1:9
EOF
"$B/complaint-milter" -c "$tmp/t.conf" -t tests/corpus/dev/001-nl-product-labeled.eml >/dev/null 2>&1
"$B/complaint-reply" -c "$tmp/t.conf" -f >"$tmp/log" 2>&1 &
pid=$!
sleep 1.5
echo "HolidayCountry XX" >>"$tmp/t.conf"
kill -HUP "$pid"
sleep 1.5
check "broken reload: still running" kill -0 "$pid"
check "broken reload: logged with the reason" grep -q 'reload failed, keeping the running configuration: .*HolidayCountry' "$tmp/log"
sed -i '$d' "$tmp/t.conf"
echo "ReplyLanguageFallback de" >>"$tmp/t.conf"
kill -USR1 "$pid"
sleep 1.5
check "good reload: taken" grep -q 'reloaded ' "$tmp/log"
check "good reload: still running" kill -0 "$pid"
check "the reply was queued, not lost" test "$(sqlite3 "$tmp/cases.sqlite" "select count(*) from replies where status='pending'")" = 1
kill "$pid"
wait "$pid" 2>/dev/null
pid=
echo "reply-reload: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
