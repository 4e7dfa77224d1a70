#!/bin/bash
# bench/run.sh - complaint-milter's benchmarks, side by side in one run:
# through Postfix against no milter, the null milter and MIMEDefang; at the
# milter protocol level against the null milter; the offline pipeline; and
# the milter's memory.  `make bench` runs it; `make bench-smoke` runs it with
# BENCH_SCALE=smoke (a few hundred messages, well under a minute) to prove
# the harness still works.
#
# Usage (as root, from anywhere): bench/run.sh
#   env: BENCH_SCALE   full (default) or smoke
#        BENCH_ROUNDS  rounds of the Postfix configurations (full 9, smoke 1);
#                      the configurations take turns within a round; a rate
#                      is the median over the rounds, a ratio the median of
#                      the rounds' ratios (runs of one round are close in
#                      time, so load from elsewhere hits both sides alike)
#        BENCH_PF_MSGS messages per Postfix run (full 2000, smoke 300)
#        BENCH_MD_MSGS messages per MIMEDefang run (full 700, smoke 100)
#        BENCH_PROTO_MSGS messages per protocol-level run (full 5000, smoke 300)
#        BENCH_RSS     "A B": milter RSS after A and after B messages
#                      (full "10000 100000", smoke "500 2000")
#        BENCH_PEER=0  leave MIMEDefang out (it is left out, with a note,
#                      when not installed: scripts/install-deps.sh --bench)
#        KEEP=1        keep the work directory (databases, logs, callgrind)
#
# What runs, all on loopback (Postfix on 127.0.0.1, milters on unix sockets):
#  1. Postfix: one private instance (tests/mta/postfix.sh) delivering every
#     message to discard: (transport_maps), in_flow_delay 0 so Postfix's
#     own flow control does not pace the sender; smtpd_milters switched by
#     postconf + postfix reload between configurations.  Load: bench/smtpload
#     (20 sessions, many messages each, like smtp-source -d, but a fresh
#     Message-ID per message: smtp-source -F repeats the file's Message-ID
#     and every copy would be a retry of one complaint).  Configurations:
#       nomilter   no milter
#       null       build/null-milter (accepts at MAIL: the protocol floor)
#       nulle      build/null-milter -E (receives the whole message, no
#                  replies but at end of message: the floor of any milter
#                  that reads the content)
#       ours       complaint-milter, complaints@: the complete dev-corpus
#                  complaints round-robin, every one a new case committed
#                  (synchronous=FULL) before the 250; the case count is
#                  checked after each run
#       ordinary   complaint-milter, the same messages to other@example.com
#       mimedefang MIMEDefang + bench/peers/mimedefang-filter.pl (same job
#                  in Perl, DBD::SQLite), complaints@; cases checked too
#     The rate is messages answered 250 per second; the queue is drained
#     between runs, and each run starts after a short warm-up.  The CPU
#     time (utime + stime) of Postfix's processes (master and children,
#     receiving and delivering) and of the milter's processes is read from
#     /proc before and after each run: microseconds per message.
#  2. Protocol level: bench/milterload (milter protocol 6 straight to the
#     socket) with 1, 4, 16, 64 connections, each sending its next message
#     as soon as the last is answered: the whole dev corpus round-robin
#     (complete, incomplete, follow-up, automatic), then synthetic 2/20/200
#     KB complaints (bench/gen-complaint.sh) at 16 connections; the same
#     against null-milter (accept at MAIL) and null-milter -E (whole message,
#     accept at end of message: the floor for end-of-message latency).
#     Then 16 connections at half of complaint-milter's measured rate, to
#     show end-of-message latency when the milter is not saturated.
#  3. Offline: complaint-check messages/s on the dev corpus repeated, its
#     time per 8 KB complaint (2001 copies minus 1), and callgrind's
#     instruction count inside pipeline_run() per 8 KB complaint, with the
#     pcre2 JIT on as in production (callgrind's CPU model has no AVX-512,
#     so the JIT code it counts differs from what runs natively: compare
#     the count from run to run, not with the time); bench/stageprof's
#     time per pipeline stage and per rule class.
#  4. Memory: VmHWM of the complaint-milter processes of 1 and 2, and VmRSS
#     of a fresh one after A and after B messages through milterload.
#
# Prints a table and, as its last line:
#   summary: postfix ours/null=R1 ours/mimedefang=R2 ordinary/null=R3 protocol16 ours/null=R4 p99_ms=L offline_us=U
# R4 is complaint-milter's rate over null-milter -E's at 16 connections on
# the corpus; L its p99 end-of-message latency there (saturated, as the
# issue asks; the half-load p99 is in the table); U microseconds per 8 KB
# complaint offline.  A value that could not be measured is "n/a".
# Exit status: 0, or 1 when a run failed (errors, tempfails, a case count
# that does not match); the table is printed either way.  The programs are
# built with make, then copied into the work directory, so that a build
# running beside (make check on the same tree) cannot swap them mid-run.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top" || exit 1

SCALE=${BENCH_SCALE:-full}
case "$SCALE" in
full)
	ROUNDS=${BENCH_ROUNDS:-9}
	PF_MSGS=${BENCH_PF_MSGS:-2000}
	MD_MSGS=${BENCH_MD_MSGS:-700}
	PROTO_MSGS=${BENCH_PROTO_MSGS:-5000}
	PROTO_CONNS="1 4 16 64"
	SIZES="2 20 200"
	RSS=${BENCH_RSS:-"10000 100000"}
	OFF_REPS=40
	OFF_COPIES=2000
	CG_COPIES=20
	WARM=100
	;;
smoke)
	ROUNDS=${BENCH_ROUNDS:-1}
	PF_MSGS=${BENCH_PF_MSGS:-300}
	MD_MSGS=${BENCH_MD_MSGS:-100}
	PROTO_MSGS=${BENCH_PROTO_MSGS:-300}
	PROTO_CONNS="1 16"
	SIZES="2 200"
	RSS=${BENCH_RSS:-"500 2000"}
	OFF_REPS=3
	OFF_COPIES=100
	CG_COPIES=2
	WARM=20
	;;
*)
	echo "bench: BENCH_SCALE must be full or smoke" >&2
	exit 2
	;;
esac
read -r RSS_A RSS_B <<<"$RSS"

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (a private Postfix, the milter's own user, /run); skipped"
	[ "$SCALE" = smoke ] && exit 0
	exit 1
fi
for t in postfix postconf sqlite3; do
	command -v "$t" >/dev/null || {
		echo "bench: $t missing: scripts/install-deps.sh --test" >&2
		exit 1
	}
done

# shellcheck source=../tests/mta/postfix.sh
PF_LIB=1 . "$top/tests/mta/postfix.sh"

B=${B:-build}
echo "bench: building"
make -s "$B/complaint-milter" "$B/complaint-check" "$B/null-milter" "$B/milterload" \
	"$B/smtpload" "$B/stageprof" "$B/logsink" || exit 1

work=$(mktemp -d /var/tmp/cm-bench.XXXXXX)
chmod 755 "$work"
# The programs are copied: a build running beside us (make check on the same
# tree) may relink build/ in the middle of a run.
mkdir -p "$work/bin"
for p in complaint-milter complaint-check null-milter milterload smtpload stageprof logsink; do
	cp "$top/$B/$p" "$work/bin/" || { rm -rf "$work"; exit 1; }
done
chmod -R a+rX "$work/bin"
MILTER=$work/bin/complaint-milter
CHECK=$work/bin/complaint-check
NULLM=$work/bin/null-milter
MLOAD=$work/bin/milterload
SLOAD=$work/bin/smtpload
STAGEPROF=$work/bin/stageprof
sockdir=/run/cm-bench-$$
# the MTA tests use 26000-29999; the first free port from 30000 + pid % 2000
port=$((30000 + $$ % 2000))
while pf_port_open "$port"; do port=$((port + 1)); done
pfdir=$work/postfix
db=$work/db/cases.sqlite
mddir=$work/md
status=0
pids=()		# everything we started, stopped on exit
cm_pid=
md_pids=()
declare -A R	# results: R[key]=value

note() { echo "bench: $*"; }
fail() {
	echo "bench: FAIL: $*"
	status=1
}

stop_pid() { # stop_pid PID: TERM, then KILL after 10 s
	local p=$1 i
	[ -n "$p" ] || return 0
	kill "$p" 2>/dev/null || return 0
	for ((i = 0; i < 200; i++)); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}

cleanup() {
	local p
	declare -F stop_md >/dev/null && stop_md
	for p in "${pids[@]}"; do stop_pid "$p"; done
	pf_stop "$pfdir" >/dev/null 2>&1
	rm -rf "$sockdir"
	if [ "${KEEP:-0}" = 1 ]; then echo "bench: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

id complaint-milter >/dev/null 2>&1 ||
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin complaint-milter
mkdir -p -m 755 "$sockdir" "$work/db" "$work/msgs"
# A mail server has a syslog daemon behind /dev/log; without one, every
# syslog() call of the milter connects anew and fails (three system calls no
# MX pays).  When nothing is there, bench/logsink stands in for the run.
syslog_note="the system's syslog"
if [ ! -e /dev/log ]; then
	"$work/bin/logsink" /dev/log "$work/syslog" &
	pids+=($!)
	for ((i = 0; i < 100; i++)); do [ -S /dev/log ] && break; sleep 0.02; done
	syslog_note="bench/logsink on /dev/log (none was there)"
fi
chown complaint-milter "$work/db"
cp -r "$top/rules" "$work/rules"
chmod -R a+rX "$work/rules"

# key=value from a result line
kv() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
median() { # median NUMBER...
	printf '%s\n' "$@" | grep -v '^n/a$' | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { # ratio A B [DIGITS]
	awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN {
		if (a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf "%.*f\n", d, a / b }'
}
cases() { sqlite3 -cmd ".timeout 10000" "$db" "select count(*) from cases" 2>/dev/null || echo 0; }
md_cases() { sqlite3 -cmd ".timeout 10000" "$mddir/cases.sqlite" "select count(*) from cases" 2>/dev/null || echo 0; }

# ---- messages ----

# The dev corpus messages complaint-check accepts as complete new complaints.
mapfile -t ALL < <(ls "$top"/tests/corpus/dev/*.eml)
mapfile -t COMPLETE < <("$CHECK" -r "$work/rules" --json "${ALL[@]}" 2>/dev/null |
	grep -F '"missing": []' | grep -F '"auto_submitted": false' |
	grep -F '"case_ref": null' | grep -F '"verdict": "accept"' |
	sed -n 's/^{"file": "\([^"]*\)".*/\1/p')
[ "${#COMPLETE[@]}" -ge 5 ] || { echo "bench: too few complete complaints in tests/corpus/dev" >&2; exit 1; }
for k in 2 8 20 200; do
	sh "$here/gen-complaint.sh" "$k" "$work/msgs/syn-${k}k.eml" || exit 1
done
n_acc=$("$CHECK" -r "$work/rules" --json "$work"/msgs/syn-*.eml | grep -c '"verdict": "accept"')
[ "$n_acc" = 4 ] || { echo "bench: a synthetic complaint is not accepted as complete" >&2; exit 1; }
note "scale $SCALE; ${#COMPLETE[@]} complete complaints of ${#ALL[@]} dev corpus messages; work dir $work"

# ---- milters ----

write_conf() {
	cat >"$work/milter.conf" <<EOF
Socket              local:$sockdir/cm.sock
SocketMode          0660
SocketGroup         postfix
Recipient           complaints@example.com
IncompleteAction    reject
Database            $db
RulesDir            $work/rules
UserID              complaint-milter
EOF
}

wait_sock() { # wait_sock PATH PID
	local i
	for ((i = 0; i < 200; i++)); do
		[ -S "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

start_cm() {
	# the last one, running as complaint-milter, could not remove its socket
	# from our root-owned directory: wait for the new one's, not the old
	rm -f "$sockdir/cm.sock"
	"$MILTER" -c "$work/milter.conf" -f 2>>"$work/milter.err" &
	cm_pid=$!
	pids+=("$cm_pid")
	wait_sock "$sockdir/cm.sock" "$cm_pid" || { cat "$work/milter.err"; echo "bench: complaint-milter did not start" >&2; exit 1; }
}

stop_cm() { # prints nothing; R[$1]=VmHWM in kB
	[ -n "$cm_pid" ] || return 0
	[ -n "${1:-}" ] && R[$1]=$(awk '/^VmHWM:/ { print $2 }' "/proc/$cm_pid/status" 2>/dev/null)
	stop_pid "$cm_pid"
	cm_pid=
}

declare -A null_pid
start_null() { # start_null NAME [-E]
	"$NULLM" -p "unix:$sockdir/$1.sock" ${2:-} 2>>"$work/null.err" &
	pids+=($!)
	null_pid[$1]=$!
	wait_sock "$sockdir/$1.sock" $! || { echo "bench: null-milter did not start" >&2; exit 1; }
}

# MIMEDefang: multiplexor with Perl workers, and the milter in front of it.
have_md=0
if [ "${BENCH_PEER:-1}" = 1 ] && command -v mimedefang >/dev/null &&
	command -v mimedefang-multiplexor >/dev/null && perl -MDBD::SQLite -MNet::DNS -e1 2>/dev/null &&
	id defang >/dev/null 2>&1; then
	have_md=1
fi

start_md() {
	local f=$here/peers/mimedefang-filter.pl
	mkdir -p "$mddir"
	chown defang:defang "$mddir"
	chmod 755 "$mddir"
	perl -e 'do $ARGV[0] or die "$@"; print $main::SCHEMA' "$f" >"$work/md-schema.sql" || return 1
	runuser -u defang -- sqlite3 "$mddir/cases.sqlite" "PRAGMA journal_mode=WAL;" \
		".read $work/md-schema.sql" >/dev/null || return 1
	# 4 Perl workers on this 2-core machine; up to 64 requests queue for a free one
	CM_BENCH_MD_DB=$mddir/cases.sqlite mimedefang-multiplexor -D -U defang \
		-s "$mddir/mx.sock" -z "$mddir" -F "$f" -m 4 -x 4 -q 64 -Q 60 -r 100000 \
		-p "$mddir/mx.pid" -o "$mddir/mx.lock" >>"$work/md.err" 2>&1 &
	md_pids+=($!)
	wait_sock "$mddir/mx.sock" $! || return 1
	mimedefang -D -U defang -p "unix:$mddir/md.sock" -m "$mddir/mx.sock" -z "$mddir" -q -X \
		-P "$mddir/md.pid" -o "$mddir/md.lock" >>"$work/md.err" 2>&1 &
	md_pids+=($!)
	wait_sock "$mddir/md.sock" $! || return 1
	chmod 666 "$mddir/md.sock"	# created 0700 for defang; Postfix connects as postfix
}

stop_md() {
	local p
	for p in "${md_pids[@]}"; do stop_pid "$p"; done
	md_pids=()
}

# ---- 1. through Postfix ----

pf_milter() { # pf_milter SPEC|"": switch smtpd_milters, reload, wait for the port
	local i
	postconf -c "$pfdir" -e "smtpd_milters = $1" "non_smtpd_milters = $1" || return 1
	postfix -c "$pfdir" reload >/dev/null 2>&1 || return 1
	sleep 1
	for ((i = 0; i < 100; i++)); do
		pf_port_open "$port" && return 0
		sleep 0.1
	done
	return 1
}

pf_drain() { # wait until Postfix's queue is empty (at most 180 s)
	local i
	for ((i = 0; i < 900; i++)); do
		[ -z "$(pf_queued "$pfdir")" ] && return 0
		sleep 0.2
	done
	fail "Postfix queue not drained after 180 s"
	return 1
}

# CPU time (utime + stime, all threads) of processes: "PID TICKS" lines.
ticks() {
	local p
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] && awk -v p="$p" '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
			print p, f[12] + f[13] }' "/proc/$p/stat" 2>/dev/null
	done
}
# The processes of a configuration: Postfix's master and its children; the
# milter (complaint-milter, or MIMEDefang's daemons and Perl workers).
pf_pids() {
	local m
	m=$(tr -dc 0-9 <"$pfdir/queue/pid/master.pid" 2>/dev/null)
	[ -n "$m" ] && echo "$m" $(pgrep -P "$m")
}
milter_pids() { # milter_pids CONFIG
	case $1 in
	null | nulle) echo "${null_pid[$1]}" ;;
	ours | ordinary) echo "$cm_pid" ;;
	mimedefang) echo "${md_pids[@]}" $(for p in "${md_pids[@]}"; do pgrep -P "$p"; done) ;;
	esac
}
# CPU microseconds per message between two ticks snapshots (new PIDs count whole).
cpu_us() { # cpu_us BEFORE_FILE AFTER_FILE N
	awk -v n="$3" -v hz="$(getconf CLK_TCK)" 'NR == FNR { b[$1] = $2; next }
		{ d += $2 - ($1 in b ? b[$1] : 0) } END { printf "%.0f\n", d * 1e6 / hz / n }' "$1" "$2"
}

# pf_run CONFIG N RCPT FILE...: warm up, measure, drain; R[pf.CONFIG.ROUND]=rate,
# R[pfcpu.CONFIG.ROUND] and R[mcpu.CONFIG.ROUND]: CPU us per message of
# Postfix (receiving and delivering) and of the milter
pf_run() {
	local cfg=$1 n=$2 rcpt=$3 out before after want
	shift 3
	before=$([ "$cfg" = mimedefang ] && md_cases || cases)
	"$SLOAD" -s "127.0.0.1:$port" -c 20 -n "$WARM" -t "$rcpt" -R "w$round$cfg$$" -T 60000 "$@" \
		>/dev/null 2>>"$work/smtpload.err"
	pf_drain
	ticks $(pf_pids) >"$work/pf.t0"
	ticks $(milter_pids "$cfg") >"$work/m.t0"
	out=$("$SLOAD" -s "127.0.0.1:$port" -c 20 -n "$n" -t "$rcpt" -R "r$round$cfg$$" -T 60000 \
		-L "$cfg" "$@" 2>>"$work/smtpload.err")
	echo "$out" >>"$work/results.txt"
	R[pf.$cfg.$round]=$(kv "$out" rate)
	if [ "$(kv "$out" ok)" != "$n" ]; then
		fail "postfix $cfg: $(kv "$out" ok) of $n messages got 250 (temp $(kv "$out" temp), perm $(kv "$out" perm), errors $(kv "$out" errors)); see $work/smtpload.err"
		R[pf.$cfg.$round]=n/a
	fi
	pf_drain
	ticks $(pf_pids) >"$work/pf.t1"
	ticks $(milter_pids "$cfg") >"$work/m.t1"
	R[pfcpu.$cfg.$round]=$(cpu_us "$work/pf.t0" "$work/pf.t1" "$n")
	R[mcpu.$cfg.$round]=$(cpu_us "$work/m.t0" "$work/m.t1" "$n")
	if [ "$cfg" = ours ] || [ "$cfg" = mimedefang ]; then
		after=$([ "$cfg" = mimedefang ] && md_cases || cases)
		want=$((n + WARM))
		if [ $((after - before)) -ne "$want" ]; then
			fail "postfix $cfg: $((after - before)) new cases for $want complaints"
		fi
	fi
	note "postfix round $round $cfg: $(kv "$out" rate) msg/s (p99 $(kv "$out" p99) ms)"
}

write_conf
start_null null
start_null nulle -E
start_cm
PF_WAIT=30 pf_start "$pfdir" "$port" "unix:$sockdir/null.sock" >/dev/null || exit 1
postconf -c "$pfdir" -e "transport_maps = inline:{ example.com=discard: }" "in_flow_delay = 0s" || exit 1
if [ "$have_md" = 1 ]; then
	start_md || { note "MIMEDefang did not start: $(tail -3 "$work/md.err")"; stop_md; have_md=0; }
fi

CONFIGS="nomilter null ordinary nulle ours"
[ "$have_md" = 1 ] && CONFIGS="$CONFIGS mimedefang"
for ((round = 1; round <= ROUNDS; round++)); do
	for cfg in $CONFIGS; do
		case $cfg in
		nomilter) pf_milter "" && pf_run nomilter "$PF_MSGS" complaints@example.com "${COMPLETE[@]}" ;;
		null) pf_milter "unix:$sockdir/null.sock" && pf_run null "$PF_MSGS" complaints@example.com "${COMPLETE[@]}" ;;
		nulle) pf_milter "unix:$sockdir/nulle.sock" && pf_run nulle "$PF_MSGS" complaints@example.com "${COMPLETE[@]}" ;;
		ours) pf_milter "unix:$sockdir/cm.sock" && pf_run ours "$PF_MSGS" complaints@example.com "${COMPLETE[@]}" ;;
		ordinary) pf_milter "unix:$sockdir/cm.sock" && pf_run ordinary "$PF_MSGS" other@example.com "${COMPLETE[@]}" ;;
		mimedefang) pf_milter "unix:$mddir/md.sock" && pf_run mimedefang "$MD_MSGS" complaints@example.com "${COMPLETE[@]}" ;;
		esac || fail "postfix: switching to $cfg failed"
	done
done
# smtp-source itself, as a check that smtpload loads Postfix the same way
if [ "$SCALE" = full ] && command -v smtp-source >/dev/null; then
	for cfg in nomilter null; do
		if [ $cfg = null ]; then pf_milter "unix:$sockdir/null.sock"; else pf_milter ""; fi
		t0=$(date +%s%N)
		smtp-source -s 20 -m "$PF_MSGS" -d -f customer@example.org -t complaints@example.com \
			-F "${COMPLETE[0]}" "127.0.0.1:$port" >/dev/null 2>>"$work/smtpload.err"
		t1=$(date +%s%N)
		R[pf.srcchk.$cfg]=$(awk -v n="$PF_MSGS" -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", n / (ns / 1e9) }')
		pf_drain
	done
fi
for cfg in $CONFIGS; do
	vals=() pc=() mc=()
	for ((round = 1; round <= ROUNDS; round++)); do
		vals+=("${R[pf.$cfg.$round]:-n/a}")
		pc+=("${R[pfcpu.$cfg.$round]:-n/a}")
		mc+=("${R[mcpu.$cfg.$round]:-n/a}")
	done
	R[pf.$cfg]=$(median "${vals[@]}")
	R[pf.$cfg.all]="${vals[*]}"
	R[pfcpu.$cfg]=$(median "${pc[@]}")
	R[mcpu.$cfg]=$(median "${mc[@]}")
done
pf_stop "$pfdir"
stop_cm hwm.pf
if [ "$have_md" = 1 ]; then
	R[hwm.md]=$(for p in $(pgrep -u defang -f 'mimedefang'); do awk '/^VmHWM:/ { print $2 }' "/proc/$p/status"; done 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
	stop_md
fi

# ---- 2. protocol level ----

start_cm
# ml_run KEY SOCK CONNS N [milterload options] FILE...: R[KEY]=the result line
ml_run() {
	local key=$1 sock=$2 conns=$3 n=$4 out before after
	shift 4
	before=$(cases)
	out=$("$MLOAD" -s "unix:$sock" -c "$conns" -n "$n" -T 10000 -D 300 -L "$key" "$@" \
		2>>"$work/milterload.err")
	echo "$out" >>"$work/results.txt"
	R[$key]=$out
	[ "$(kv "$out" ok)" = "$n" ] && [ "$(kv "$out" errors)" = 0 ] && [ "$(kv "$out" tempfail)" = 0 ] ||
		fail "protocol $key: ok $(kv "$out" ok) of $n, errors $(kv "$out" errors), tempfail $(kv "$out" tempfail); see $work/milterload.err"
	if [ "$sock" = "$sockdir/cm.sock" ]; then
		after=$(cases)
		[ $((after - before)) -eq "$(kv "$out" new_cases)" ] ||
			fail "protocol $key: $((after - before)) cases in the database, the milter announced $(kv "$out" new_cases)"
	fi
}

for c in $PROTO_CONNS; do
	ml_run "p.null.$c" "$sockdir/null.sock" "$c" "$PROTO_MSGS" "${ALL[@]}"
	ml_run "p.nulle.$c" "$sockdir/nulle.sock" "$c" "$PROTO_MSGS" "${ALL[@]}"
	ml_run "p.ours.$c" "$sockdir/cm.sock" "$c" "$PROTO_MSGS" "${ALL[@]}"
	ml_run "p.ord.$c" "$sockdir/cm.sock" "$c" "$PROTO_MSGS" -r other@example.com "${ALL[@]}"
	note "protocol $c conns: ours $(kv "${R[p.ours.$c]}" rate) msg/s p99 $(kv "${R[p.ours.$c]}" eom_p99) ms"
done
for k in $SIZES; do
	n=$PROTO_MSGS
	[ "$k" -ge 200 ] && n=$((PROTO_MSGS / 5))
	ml_run "p.nulle.${k}k" "$sockdir/nulle.sock" 16 "$n" "$work/msgs/syn-${k}k.eml"
	ml_run "p.ours.${k}k" "$sockdir/cm.sock" 16 "$n" "$work/msgs/syn-${k}k.eml"
	note "protocol ${k} KB: ours $(kv "${R[p.ours.${k}k]}" rate) msg/s p99 $(kv "${R[p.ours.${k}k]}" eom_p99) ms"
done
# half of the saturated rate at 16 connections: latency when not saturated
half=$(awk -v r="$(kv "${R[p.ours.16]:-}" rate)" 'BEGIN { printf "%d", r / 2 }')
if [ "${half:-0}" -gt 0 ]; then
	ml_run "p.ours.half" "$sockdir/cm.sock" 16 "$PROTO_MSGS" -p "$half" "${ALL[@]}"
	ml_run "p.nulle.half" "$sockdir/nulle.sock" 16 "$PROTO_MSGS" -p "$half" "${ALL[@]}"
fi
stop_cm hwm.proto

# ---- 4. memory growth (a fresh milter) ----

start_cm
ml_run "m.a" "$sockdir/cm.sock" 16 "$RSS_A" -P "$cm_pid" "${ALL[@]}"
ml_run "m.b" "$sockdir/cm.sock" 16 $((RSS_B - RSS_A)) -P "$cm_pid" "${ALL[@]}"
R[rss.a]=$(kv "${R[m.a]}" rss_kb)
R[rss.b]=$(kv "${R[m.b]}" rss_kb)
stop_cm hwm.mem

# ---- 3. offline ----

# best_of_3 FILE...: the least wall time in ns of complaint-check --json on
# the files, each run checked to give one line per file; empty on a failure
best_of_3() {
	local b= i t0 t1 n
	for i in 1 2 3; do
		t0=$(date +%s%N)
		n=$("$CHECK" -r "$work/rules" --json "$@" 2>>"$work/check.err" | wc -l)
		t1=$(date +%s%N)
		if [ "$n" != "$#" ]; then
			fail "offline: complaint-check gave $n results for $# messages; see $work/check.err"
			return
		fi
		[ -z "$b" ] || [ $((t1 - t0)) -lt "$b" ] && b=$((t1 - t0))
	done
	echo "$b"
}
rep=()
for ((i = 0; i < OFF_REPS; i++)); do rep+=("${ALL[@]}"); done
best=$(best_of_3 "${rep[@]}")
R[off.rate]=$(awk -v n="${#rep[@]}" -v ns="$best" 'BEGIN { if (ns == "") print "n/a"; else printf "%.0f", n / (ns / 1e9) }')
R[off.n]=${#rep[@]}
syn8=$work/msgs/syn-8k.eml
files=()
for ((i = 0; i <= OFF_COPIES; i++)); do files+=("$syn8"); done
t_1=$(best_of_3 "$syn8")
t_n=$(best_of_3 "${files[@]}")
R[off.us]=$(awk -v a="$t_1" -v b="$t_n" -v n="$OFF_COPIES" 'BEGIN {
	if (a == "" || b == "") print "n/a"; else printf "%.1f", (b - a) / n / 1000 }')
# where the time goes, stage by stage and rule class by rule class
"$STAGEPROF" -r "$work/rules" -n $((OFF_COPIES / 4 + 10)) "$syn8" >"$work/stageprof.txt" 2>&1 ||
	fail "stageprof: $(tail -1 "$work/stageprof.txt")"
R[cg.ir]=n/a
if command -v valgrind >/dev/null; then
	files=()
	for ((i = 0; i < CG_COPIES; i++)); do files+=("$syn8"); done
	if valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" \
		--collect-atstart=no --toggle-collect=pipeline_run \
		"$CHECK" -r "$work/rules" "${files[@]}" >/dev/null 2>"$work/callgrind.log"; then
		ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$work/callgrind.out" | head -1)
		[ -n "$ir" ] && R[cg.ir]=$((ir / CG_COPIES))
		# exclusive cost per function; the JIT-compiled regex code has no
		# symbols (???:0x...): its pieces are added up into one line
		callgrind_annotate --auto=no --inclusive=no --threshold=100 "$work/callgrind.out" 2>/dev/null |
			grep -E '^ *[0-9,]+ +\(' | grep -v 'PROGRAM TOTALS' |
			awk -v tot="$ir" '{
				n = $1; gsub(/,/, "", n)
				f = $0; sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", f)
				if (f ~ /^\?\?\?:0x/) { jit += n; next }
				sub(/ \[.*\]$/, "", f); sub(/^.*\//, "", f)
				c[f] += n
			} END {
				c["(pcre2 JIT-compiled code, all pieces)"] = jit
				for (f in c) printf "%14d %6.2f%%  %s\n", c[f], 100 * c[f] / tot, f
			}' | sort -rn | head -15 >"$work/hotspots.txt"
		callgrind_annotate --auto=no --inclusive=yes --threshold=100 "$work/callgrind.out" 2>/dev/null |
			grep -E '^ *[0-9,]+ +\(' | grep -E 'milter/[a-z_]+\.c:' |
			awk -v tot="$ir" '{
				n = $1; gsub(/,/, "", n)
				f = $0; sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", f); sub(/ \[.*\]$/, "", f); sub(/^.*\//, "", f)
				if (!seen[f]++) printf "%14d %6.2f%%  %s\n", n, 100 * n / tot, f
			}' | head -12 >"$work/inclusive.txt"
	else
		note "callgrind failed: $(tail -2 "$work/callgrind.log")"
	fi
else
	note "valgrind not installed: no instruction count"
fi

# ---- table ----

p() { kv "${R[$1]:-}" "$2"; }
or_na() { [ -n "${1:-}" ] && echo "$1" || echo n/a; }
hr() { printf '%s\n' "----------------------------------------------------------------------------------------"; }

echo
echo "complaint-milter benchmarks ($SCALE, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
if git -C "$top" rev-parse --short HEAD >/dev/null 2>&1; then
	echo "code: $(git -C "$top" rev-parse --short HEAD), $(git -C "$top" status --porcelain -- milter rules 2>/dev/null | wc -l) files in milter/ and rules/ differ from it"
fi
echo "syslog: $syslog_note"
hr
printf '1. Through Postfix 3.7: smtpload 20 sessions, %s msgs/run (MIMEDefang %s), median of %s round(s)\n' \
	"$PF_MSGS" "$MD_MSGS" "$ROUNDS"
printf '   %-44s %8s %8s %8s   %s\n' "configuration" "msg/s" "MTA cpu" "milt cpu" "(msg/s each round)"
pfrow() { # pfrow LABEL CONFIG
	printf '   %-44s %8s %8s %8s   %s\n' "$1" "$(or_na "${R[pf.$2]:-}")" "$(or_na "${R[pfcpu.$2]:-}")" \
		"$(or_na "${R[mcpu.$2]:-}")" "${R[pf.$2.all]:-}"
}
pfrow "no milter" nomilter
pfrow "null milter (accept at MAIL)" null
pfrow "null milter -E (whole message, accept at EOM)" nulle
pfrow "complaint-milter, complaints (new case each)" ours
pfrow "complaint-milter, ordinary mail" ordinary
if [ "$have_md" = 1 ]; then
	pfrow "MIMEDefang 3.3 + Perl filter, complaints" mimedefang
else
	printf '   %-44s %10s\n' "MIMEDefang (not installed or not started)" "n/a"
fi
[ -n "${R[pf.srcchk.nomilter]:-}" ] &&
	printf '   %-44s %8s / %s\n' "cross-check: smtp-source -d, no milter / null" "${R[pf.srcchk.nomilter]}" "${R[pf.srcchk.null]}"
echo "   (MTA cpu / milt cpu: CPU microseconds per message of Postfix's processes, receiving and"
echo "    delivering, and of the milter's processes; medians over the rounds)"
# A ratio is the median of the per-round ratios: the two runs of a round
# are close in time, so load from elsewhere on the machine hits both alike.
rratio() { # rratio A B DIGITS: median over rounds of pf.A.r / pf.B.r
	local r v=()
	for ((r = 1; r <= ROUNDS; r++)); do
		v+=("$(ratio "${R[pf.$1.$r]:-n/a}" "${R[pf.$2.$r]:-n/a}" 4)")
	done
	median "${v[@]}" | awk -v d="$3" '{ if ($1 == "n/a") print; else printf "%.*f\n", d, $1 }'
}
R0=$(rratio ours nomilter 3)
R1=$(rratio ours null 3)
R2=$(rratio ours mimedefang 2)
R3=$(rratio ordinary null 3)
printf '   ratios (median of the rounds'"'"' ratios): ours/no-milter %s  ours/null %s (target >= 0.95)\n' "$R0" "$R1"
printf '   null -E/null %s (what seeing the whole message costs any milter)  ours/null -E %s\n' \
	"$(rratio nulle null 3)" "$(rratio ours nulle 3)"
printf '   ours/mimedefang %s (target >= 3)  ordinary/null %s (target >= 0.99)\n' "$R2" "$R3"
hr
echo "2. Protocol level (milterload, milter protocol 6 on a unix socket, closed loop)"
printf '   %-30s %5s %9s %9s %9s %9s   %s\n' "milter / messages" conns "msg/s" "eom p50" "eom p99" "eom max" "accept/reject/new cases"
for c in $PROTO_CONNS; do
	for m in null nulle ours ord; do
		key=p.$m.$c
		case $m in
		null) name="null (accept at MAIL), corpus" ;;
		nulle) name="null -E (accept at EOM), corpus" ;;
		ours) name="complaint-milter, corpus" ;;
		ord) name="complaint-milter, ordinary" ;;
		esac
		printf '   %-30s %5s %9s %9s %9s %9s   %s/%s/%s\n' "$name" "$c" "$(p "$key" rate)" \
			"$(p "$key" eom_p50)" "$(p "$key" eom_p99)" "$(p "$key" eom_max)" \
			"$(p "$key" accept)" "$(p "$key" reject)" "$(p "$key" new_cases)"
	done
done
for k in $SIZES; do
	for m in nulle ours; do
		key=p.$m.${k}k
		name="complaint-milter, ${k} KB"
		[ $m = nulle ] && name="null -E, ${k} KB"
		printf '   %-30s %5s %9s %9s %9s %9s   %s/%s/%s\n' "$name" 16 "$(p "$key" rate)" \
			"$(p "$key" eom_p50)" "$(p "$key" eom_p99)" "$(p "$key" eom_max)" \
			"$(p "$key" accept)" "$(p "$key" reject)" "$(p "$key" new_cases)"
	done
done
if [ -n "${R[p.ours.half]:-}" ]; then
	for m in nulle ours; do
		key=p.$m.half
		name="complaint-milter, corpus"
		[ $m = nulle ] && name="null -E, corpus"
		printf '   %-30s %5s %9s %9s %9s %9s   offered %s msg/s (half of ours saturated)\n' "$name" 16 \
			"$(p "$key" rate)" "$(p "$key" eom_p50)" "$(p "$key" eom_p99)" "$(p "$key" eom_max)" "$half"
	done
fi
R4=$(ratio "$(p p.ours.16 rate)" "$(p p.nulle.16 rate)" 3)
L=$(or_na "$(p p.ours.16 eom_p99)")
printf '   ours/null -E at 16 connections: %s; p99 end of message %s ms saturated, %s ms at half load (target <= 2)\n' \
	"$R4" "$L" "$(or_na "$(p p.ours.half eom_p99)")"
hr
echo "3. Offline (complaint-check, pcre2 JIT on)"
printf '   %-56s %s\n' "dev corpus x$OFF_REPS (${R[off.n]} messages), best of 3" "${R[off.rate]} msg/s"
printf '   %-56s %s\n' "8 KB complaint ($OFF_COPIES copies minus 1), best of 3" "${R[off.us]} us/message (target <= 100)"
printf '   %-56s %s\n' "callgrind: instructions in pipeline_run per 8 KB" "${R[cg.ir]}"
hr
echo "4. Memory (complaint-milter)"
printf '   %-56s %s kB\n' "peak RSS (VmHWM), Postfix runs" "$(or_na "${R[hwm.pf]:-}")"
printf '   %-56s %s kB\n' "peak RSS (VmHWM), protocol runs" "$(or_na "${R[hwm.proto]:-}")"
printf '   %-56s %s kB / %s kB\n' "RSS after $RSS_A / after $RSS_B messages (16 conns)" "$(or_na "${R[rss.a]:-}")" "$(or_na "${R[rss.b]:-}")"
[ "$have_md" = 1 ] && printf '   %-56s %s kB\n' "MIMEDefang processes at the end, VmHWM summed" "$(or_na "${R[hwm.md]:-}")"
if [ -s "$work/stageprof.txt" ]; then
	hr
	echo "Where pipeline_run spends its time on the 8 KB complaint (bench/stageprof):"
	sed 's/^/ /' "$work/stageprof.txt"
fi
if [ -s "$work/hotspots.txt" ]; then
	hr
	echo "Callgrind inside pipeline_run, 8 KB complaint, per message x$CG_COPIES (instructions, % of ${R[cg.ir]}x$CG_COPIES):"
	echo "   exclusive:"
	sed 's/^/   /' "$work/hotspots.txt"
	if [ -s "$work/inclusive.txt" ]; then
		echo "   inclusive, the pipeline's own functions:"
		sed 's/^/   /' "$work/inclusive.txt"
	fi
fi
hr
[ "$status" = 0 ] || echo "bench: some runs FAILED (see above)"
U=$(or_na "${R[off.us]:-}")
echo "summary: postfix ours/null=$R1 ours/mimedefang=$R2 ordinary/null=$R3 protocol16 ours/null=$R4 p99_ms=$L offline_us=$U"
exit "$status"
