# tests/mta/lib.sh - helpers shared by the MTA integration tests (sourced).
#
# The sourcing script sets: pass=0 fail=0; work (its work directory), sock
# (the milter's socket), db (the case database), MILTER (the binary), and
# writes $work/milter.conf before start_milter.
#   ok / bad / check DESCRIPTION COMMAND...   count and print a result
#   start_milter / stop_milter                complaint-milter -f, log in $work/milter.err
#   sql ARGS...                               sqlite3 on $db (waits for locks)
#   fresh FILE ID                             FILE with Message-ID <ID@test.example>
#   accepted SWAKS-OUTPUT                     the message got 250

ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
check() { # check DESCRIPTION COMMAND...
	local d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}

milter_pid=
start_milter() {
	"$MILTER" -c "$work/milter.conf" -f 2>>"$work/milter.err" &
	milter_pid=$!
	for _ in $(seq 100); do [ -S "$sock" ] && return 0; sleep 0.05; done
	cat "$work/milter.err"
	return 1
}

stop_milter() {
	[ -n "$milter_pid" ] || return 0
	kill "$milter_pid" 2>/dev/null
	for _ in $(seq 200); do kill -0 "$milter_pid" 2>/dev/null || break; sleep 0.05; done
	kill -9 "$milter_pid" 2>/dev/null
	wait "$milter_pid" 2>/dev/null
	milter_pid=
}

sql() { sqlite3 -cmd ".timeout 5000" "$db" "$@"; }

# a corpus message with a fresh Message-ID, so tests never collide
fresh() { # fresh FILE ID > out
	sed "s/^Message-ID: .*/Message-ID: <$2@test.example>/" "$1"
}

accepted() { grep -q '^<-  250 ' "$1"; }
