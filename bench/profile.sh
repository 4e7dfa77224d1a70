#!/bin/bash
# bench/profile.sh - where complaint-milter spends its time under load: the
# data to optimise from.  Not part of `make bench` (it is slow and its
# output is for reading, not for a summary line).
#
# Usage (as root, from anywhere): bench/profile.sh [MESSAGES]
#   env: KEEP=1  keep the work directory (perf.data, callgrind.out, ...)
#
# A private complaint-milter (its own configuration, database and socket
# under /run/cm-prof-PID) is driven by bench/milterload with 16 connections
# replaying the dev corpus (MESSAGES, default 4000), four times:
#   0. under perf stat (software events): the milter's CPU time, context
#      switches and page faults per message;
#   1. under strace -c -f: system calls per message, by call;
#   2. under perf record -e cpu-clock -g (software clock sampling: works
#      where the hardware counters are not available): share of each
#      library and the top functions, kernel included; skipped when perf
#      cannot record here;
#   3. under valgrind --tool=callgrind (500 messages, 4 connections): the
#      instructions per message by function, exclusive and inclusive.
# It also counts what libmilter logs per message (syslog calls seen by
# strace as socket/connect attempts when no syslog daemon runs), because
# that is a cost that grows with a real syslog.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top" || exit 1
N=${1:-4000}
case "$N" in '' | *[!0-9]*) echo "usage: $0 [MESSAGES]" >&2; exit 2 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "profile: needs root" >&2; exit 1; }
B=${B:-build}
make -s "$B/complaint-milter" "$B/milterload" || exit 1

work=$(mktemp -d /var/tmp/cm-prof.XXXXXX)
chmod 755 "$work"
sockdir=/run/cm-prof-$$
mkdir -p -m 755 "$sockdir" "$work/db"
id complaint-milter >/dev/null 2>&1 ||
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin complaint-milter
chown complaint-milter "$work/db"
cp -r rules "$work/rules"
chmod -R a+rX "$work/rules"
cat >"$work/milter.conf" <<EOF
Socket              local:$sockdir/cm.sock
SocketMode          0660
SocketGroup         postfix
Recipient           complaints@example.com
IncompleteAction    reject
Database            $work/db/cases.sqlite
RulesDir            $work/rules
UserID              complaint-milter
EOF
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$sockdir"
	if [ "${KEEP:-0}" = 1 ]; then echo "profile: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start() { # start [wrapper...]: the milter, optionally under a wrapper
	rm -f "$sockdir/cm.sock"
	"$@" "$top/$B/complaint-milter" -c "$work/milter.conf" -f 2>>"$work/milter.err" &
	pid=$!
	for _ in $(seq 600); do [ -S "$sockdir/cm.sock" ] && return 0; sleep 0.05; done
	echo "profile: complaint-milter did not start" >&2
	cat "$work/milter.err" >&2
	exit 1
}
stop() {
	kill "$pid" 2>/dev/null
	for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=
}
load() { # load CONNS N: the dev corpus through milterload
	"$top/$B/milterload" -s "unix:$sockdir/cm.sock" -c "$1" -n "$2" -T 60000 \
		tests/corpus/dev/*.eml
}

echo "== 0. CPU time and context switches per message (perf stat, 16 connections, $N messages)"
start
load 16 200 >/dev/null
if perf stat -e task-clock -o /dev/null true >/dev/null 2>&1; then
	perf stat -e task-clock,context-switches,cpu-migrations,page-faults -p "$pid" \
		-o "$work/perfstat.txt" 2>/dev/null &
	ppid=$!
	sleep 1
	load 16 "$N"
	kill -INT "$ppid"
	wait "$ppid" 2>/dev/null
	awk -v n="$N" '$2 ~ /task-clock|context-switches|cpu-migrations|page-faults/ {
		v = $1; gsub(/,/, "", v)
		if ($2 == "msec") { printf "   %-18s %8.1f us per message\n", "milter CPU", v * 1000 / n }
		else printf "   %-18s %8.2f per message\n", $2, v / n
	} $3 ~ /task-clock/ { v = $1; gsub(/,/, "", v); printf "   %-18s %8.1f us per message\n", "milter CPU", v * 1000 / n }' \
		"$work/perfstat.txt"
else
	echo "   perf stat not available: skipped"
fi
stop

echo "== 1. system calls per message (strace -c -f, 16 connections, $N messages)"
start
load 16 200 >/dev/null
strace -c -f -p "$pid" -o "$work/strace.txt" 2>/dev/null &
spid=$!
sleep 1
load 16 "$N"
kill -INT "$spid"
wait "$spid" 2>/dev/null
awk -v n="$N" '/^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+/ && $NF != "total" {
	calls = $4; name = $NF; total += calls
	printf "   %-16s %8.1f per message\n", name, calls / n
} END { printf "   %-16s %8.1f per message\n", "(all)", total / n }' \
	"$work/strace.txt" | sort -k2 -rn | head -16
echo "   (socket+connect+close+getpid in step: syslog() calls with no syslog daemon listening)"
stop

if perf record -e cpu-clock -o /dev/null true >/dev/null 2>&1; then
	echo "== 2. perf record -e cpu-clock -g (16 connections, $N messages)"
	start
	load 16 200 >/dev/null
	perf record -e cpu-clock -F 2000 -g -p "$pid" -o "$work/perf.data" >/dev/null 2>&1 &
	ppid=$!
	sleep 1
	load 16 "$N"
	kill -INT "$ppid"
	wait "$ppid" 2>/dev/null
	echo "   by object:"
	perf report -i "$work/perf.data" --no-children --sort dso 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -12 | sed 's/^/   /'
	echo "   by function (self):"
	perf report -i "$work/perf.data" --no-children --sort dso,sym 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -30 | sed 's/^/   /'
	stop
else
	echo "== 2. perf cannot record on this machine: skipped"
fi

if command -v valgrind >/dev/null; then
	echo "== 3. callgrind (4 connections, 500 messages)"
	# valgrind creates the file as root at start and writes it at exit as
	# the milter's own user: it must belong to that user from the start
	install -o complaint-milter -m 600 /dev/null "$work/db/callgrind.out"
	start valgrind --tool=callgrind --callgrind-out-file="$work/db/callgrind.out"
	load 4 500
	stop
	mv "$work/db/callgrind.out" "$work/callgrind.out" 2>/dev/null
	ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$work/callgrind.out" | head -1)
	[ -n "$ir" ] || { echo "   callgrind wrote no profile"; exit 1; }
	incl() { # incl FUNCTION: inclusive instructions of a function of the milter
		callgrind_annotate --auto=no --inclusive=yes "$work/callgrind.out" 2>/dev/null |
			grep -E "milter/[a-z_]+\.c:$1( |\$)" | head -1 | awk '{ n = $1; gsub(/,/, "", n); print n + 0 }'
	}
	eom=$(incl cb_eom)
	wr=$(incl writer_main)
	ld=$(incl rules_load)
	echo "   instructions in all: $ir; start-up rule compilation (rules_load) ${ld:-0};"
	echo "   per message: end of message (cb_eom) $(( ${eom:-0} / 500 )), store writer $(( ${wr:-0} / 500 ))"
	echo "   exclusive:"
	callgrind_annotate --auto=no --inclusive=no "$work/callgrind.out" 2>/dev/null |
		grep -E '^ *[0-9,]+ +\(' | grep -v 'PROGRAM TOTALS' | head -25 | sed 's/^/   /'
	echo "   inclusive, complaint-milter's functions:"
	callgrind_annotate --auto=no --inclusive=yes "$work/callgrind.out" 2>/dev/null |
		grep -E '^ *[0-9,]+ +\(' | grep -E 'milter/[a-z_]+\.c:' | sed "s/ \[.*\]\$//; s|$top/||" |
		awk '!seen[$NF]++' | head -25 | sed 's/^/   /'
fi
