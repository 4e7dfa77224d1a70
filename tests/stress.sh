#!/bin/bash
# tests/stress.sh - make stress: the real milter behind a private Postfix
# under load, on loopback only, bounded in count and time.
#
#   1. load: STRESS_COUNT messages (20,000; STRESS_SCALE=small: 1,000) over
#      32 concurrent SMTP sessions (tests/stress/load.py), half complaints
#      (complete ones from the corpus), half ordinary mail (small: 3,000);
#      the milter's VmRSS sampled five times a second.  Then tests/stress/verify.py: every
#      accepted complaint has exactly one case, every case ID is on exactly
#      one delivered message (and no case without its message), no ID given
#      twice, ordinary mail untouched, integrity_check ok, RSS flat.
#   2. crash: the same load (STRESS_CRASH_COUNT, 20,000; small: 3,000) while
#      the milter is killed with SIGKILL every STRESS_KILL_EVERY seconds (2;
#      small: 1) and
#      restarted after half a second.  Postfix answers 4xx while it is down
#      and load.py retries those, as a sending MTA would.  At the end the
#      queue is flushed and the same checks run (but RSS).
# A summary of what was done is printed at the end.
#
# Usage (as root): tests/stress.sh     env: STRESS_SCALE=small, KEEP=1
# Ends with "stress: N passed, N failed"; exit 1 on any failure.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
PF_LIB=1 . "$here/mta/postfix.sh"

MILTER=${MILTER_BIN:-$top/build/complaint-milter}
if [ "${STRESS_SCALE:-}" = small ]; then
	COUNT=${STRESS_COUNT:-3000}
	CRASH_COUNT=${STRESS_CRASH_COUNT:-3000}
	KILL_EVERY=${STRESS_KILL_EVERY:-1}
else
	COUNT=${STRESS_COUNT:-20000}
	CRASH_COUNT=${STRESS_CRASH_COUNT:-20000}
	KILL_EVERY=${STRESS_KILL_EVERY:-2}
fi
SESSIONS=${STRESS_SESSIONS:-32}
pass=0
fail=0
milter_pid=
sampler=
killer=
work=$(mktemp -d /tmp/cm-stress.XXXXXX)
chmod 755 "$work"
sockdir=/run/cm-stress-$$
sock=$sockdir/milter.sock
port=$((32000 + $$ % 2000))
pfdir=$work/postfix
summary=$work/summary
T=(tests/corpus/dev/001-nl-product-labeled.eml tests/corpus/dev/002-nl-service-ticket.eml
	tests/corpus/dev/004-en-product-alt.eml tests/corpus/dev/006-fr-service-qp.eml
	tests/messages/001-en-product-serial-no.eml tests/messages/004-en-service-ticket-hash.eml)

stop_milter() {
	local pid
	pid=$(cat "$work/milter.pid" 2>/dev/null)
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -9 "$pid" 2>/dev/null
	rm -f "$work/milter.pid"
}

cleanup() {
	[ -n "$killer" ] && kill "$killer" 2>/dev/null && wait "$killer" 2>/dev/null
	[ -n "$sampler" ] && kill "$sampler" 2>/dev/null
	stop_milter
	pf_stop "$pfdir" >/dev/null 2>&1
	rm -rf "$sockdir"
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$MILTER" ] || { echo "stress: build $MILTER first"; exit 1; }
cd "$top" || exit 1
id complaint-milter >/dev/null 2>&1 ||
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin complaint-milter
mkdir -p -m 755 "$sockdir"
cp -r rules "$work/rules"
chmod -R a+rX "$work/rules"

setup_db() { # setup_db NAME: a fresh database directory and configuration
	db=$work/$1/cases.sqlite
	mkdir -p "$work/$1"
	chown complaint-milter "$work/$1"
	cat >"$work/milter.conf" <<EOF
Socket              local:$sock
SocketMode          0660
SocketGroup         postfix
Recipient           complaints@example.com
IncompleteAction    reject
Database            $db
RulesDir            $work/rules
UserID              complaint-milter
EOF
}

# start the milter in the background; its pid in $work/milter.pid
start_milter() {
	"$MILTER" -c "$work/milter.conf" -f 2>>"$work/milter.err" &
	echo $! >"$work/milter.pid"
	for _ in $(seq 200); do [ -S "$sock" ] && return 0; sleep 0.05; done
	tail -5 "$work/milter.err"
	return 1
}

# deliver everything still queued (bounded: 10 minutes)
drain() {
	for _ in $(seq 1200); do
		[ -z "$(pf_queued "$pfdir")" ] && return 0
		pf_flush "$pfdir" >/dev/null 2>&1
		sleep 0.5
	done
	return 1
}

run_verify() { # run_verify LABEL RESULTS [RSS]
	python3 tests/stress/verify.py --label "$1" --results "$2" --db "$db" \
		--maildir "$pfdir/vmail/box" ${3:+--rss "$3"} | tee "$work/$1.verify"
	pass=$((pass + $(sed -n "s/^$1: \([0-9]*\) passed.*/\1/p" "$work/$1.verify")))
	fail=$((fail + $(sed -n "s/^$1: [0-9]* passed, \([0-9]*\) failed/\1/p" "$work/$1.verify")))
}

tpl=()
for t in "${T[@]}"; do tpl+=(--template "$t"); done

# ---- 1. load ----
setup_db load
start_milter || { echo "stress: the milter does not start"; exit 1; }
pf_start "$pfdir" "$port" "unix:$sock" >/dev/null || { echo "stress: postfix does not start"; exit 1; }
pid=$(cat "$work/milter.pid")
(
	while kill -0 "$pid" 2>/dev/null; do
		echo "$(date +%s.%N) $(awk '/^VmRSS/ { print $2 }' /proc/"$pid"/status 2>/dev/null)"
		sleep 0.2
	done
) >"$work/rss" &
sampler=$!
t0=$(date +%s)
python3 tests/stress/load.py --port "$port" --count "$COUNT" --sessions "$SESSIONS" \
	--run load$$ --out "$work/load.results" --deadline 2400 "${tpl[@]}" | tee -a "$summary"
drain || echo "stress: the queue did not drain"
t1=$(date +%s)
kill "$sampler" 2>/dev/null
sampler=
echo "load: $COUNT messages sent and delivered in $((t1 - t0)) s" >>"$summary"
run_verify load "$work/load.results" "$work/rss"
stop_milter

# ---- 2. crash: SIGKILL every few seconds during the load ----
setup_db crash
: >"$work/kills"
start_milter || { echo "stress: the milter does not start"; exit 1; }
(
	while :; do
		sleep "$KILL_EVERY"
		pid=$(cat "$work/milter.pid" 2>/dev/null)
		[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && echo kill >>"$work/kills"
		sleep 0.5
		start_milter >/dev/null || echo "restart failed" >>"$work/kills"
	done
) 2>/dev/null &
killer=$!
t0=$(date +%s)
python3 tests/stress/load.py --port "$port" --count "$CRASH_COUNT" --sessions "$SESSIONS" \
	--run crash$$ --out "$work/crash.results" --deadline 2400 "${tpl[@]}" | tee -a "$summary"
kill "$killer" 2>/dev/null
wait "$killer" 2>/dev/null
killer=
stop_milter
start_milter || echo "stress: the milter does not restart"
drain || echo "stress: the queue did not drain"
t1=$(date +%s)
kills=$(grep -c kill "$work/kills")
echo "crash: $CRASH_COUNT messages in $((t1 - t0)) s with $kills SIGKILLs of the milter" \
	"($(grep -c 'restart failed' "$work/kills") failed restarts)" >>"$summary"
check_kills() { [ "$kills" -ge 2 ]; }
if check_kills; then pass=$((pass + 1)); echo "ok   - the milter was killed $kills times";
else fail=$((fail + 1)); echo "FAIL - the milter was killed only $kills times"; fi
run_verify crash "$work/crash.results"
stop_milter
pf_stop "$pfdir" >/dev/null

echo "---- what stress did ----"
cat "$summary"
echo "stress: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
