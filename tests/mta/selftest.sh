#!/bin/bash
# tests/mta/selftest.sh — proves the real-MTA harness (postfix.sh,
# sendmail.sh, build/null-milter) works on this machine.  Run as root from
# anywhere; builds build/null-milter if missing.
#
# Usage: tests/mta/selftest.sh
#   env: SM_CACHE  where the unpacked Sendmail lives (default
#                  /var/tmp/cm-sendmail-cache; downloaded once via apt)
#        KEEP=1    keep the work directory (printed) for inspection
#
# Asserts:
#   a  Postfix without milter: a swaks message to box@example.com gets 250
#      and lands in the Maildir; hold@example.com lands in the hold queue.
#   b  Postfix + null-milter (unix socket under /run/cm-test-self/), a second
#      instance running beside a's: 250 and delivered; null-milter exits on
#      SIGTERM, removes its socket, and the next message then gets a 4xx.
#   c  Postfix with a milter socket where no milter runs: swaks gets a 4xx;
#      nothing is delivered.  A local submission (non_smtpd_milters) made
#      while the milter is down stays queued and is delivered once
#      null-milter is started on that socket (queue retry / pickup).
#   d  Sendmail + null-milter: swaks --pipe gets 250 for the message and a
#      qf file with the Subject header appears in the queue.
#   e  Sendmail with no milter listening: 4xx, no new qf file.
# Ends with "mta-selftest: N passed, N failed"; exit status 1 on any failure.
# Everything it started (Postfix instances, milters) is stopped on exit.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=SCRIPTDIR/postfix.sh
PF_LIB=1 . "$here/postfix.sh"
# shellcheck source=SCRIPTDIR/sendmail.sh
SM_LIB=1 . "$here/sendmail.sh"

NULLM=$top/build/null-milter
SM_CACHE=${SM_CACHE:-/var/tmp/cm-sendmail-cache}
pass=0
fail=0
milter_pids=()
pf_dirs=()
work=
sockdir=

ok() {
	pass=$((pass + 1))
	echo "ok   - $*"
}

not_ok() {
	fail=$((fail + 1))
	echo "FAIL - $*"
}

check() {	# check "description" command...
	local what=$1
	shift
	if "$@"; then
		ok "$what"
	else
		not_ok "$what"
		return 1
	fi
}

cleanup() {
	local pid d
	for d in "${pf_dirs[@]}"; do
		pf_stop "$d" >/dev/null 2>&1
	done
	for pid in "${milter_pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${milter_pids[@]}"; do
		wait "$pid" 2>/dev/null
	done
	[ -n "$sockdir" ] && rm -rf "$sockdir"
	rmdir /run/cm-test-self 2>/dev/null
	if [ -n "$work" ]; then
		if [ "${KEEP:-0}" = 1 ]; then
			echo "kept $work"
		else
			rm -rf "$work"
		fi
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free 127.0.0.1 port in 25000..25999, starting from one derived from $$.
pick_port() {
	local p=$((25000 + ($$ * 7 + ${1:-0} * 131) % 1000)) i
	for ((i = 0; i < 1000; i++)); do
		if ! pf_port_open "$p"; then
			echo "$p"
			return 0
		fi
		p=$((25000 + (p - 25000 + 1) % 1000))
	done
	return 1
}

# start_milter SOCKPATH: run null-milter there, wait for the socket.
start_milter() {
	local i
	"$NULLM" -p "unix:$1" &
	milter_pids+=($!)
	for ((i = 0; i < 50; i++)); do
		[ -S "$1" ] && return 0
		sleep 0.1
	done
	echo "null-milter did not create $1" >&2
	return 1
}

# stop_milter: stop the last one started.
stop_milter() {
	local n=$((${#milter_pids[@]} - 1))
	kill -TERM "${milter_pids[$n]}" 2>/dev/null
	wait "${milter_pids[$n]}" 2>/dev/null
	unset "milter_pids[$n]"
	milter_pids=("${milter_pids[@]}")
}

# Postfix: send_pf PORT TO SUBJECT -> swaks transcript in $out, status in $rc
send_pf() {
	out=$(swaks --server "127.0.0.1:$1" --from sender@example.org \
		--to "$2" --header "Subject: $3" --body "selftest body $3" \
		--timeout 30 2>&1)
	rc=$?
}

send_sm() {	# send_sm DIR SUBJECT
	out=$(swaks --pipe "$1/smtp.sh" --from sender@example.org \
		--to complaints@example.com --header "Subject: $2" \
		--body "selftest body $2" --timeout 30 2>&1)
	rc=$?
}

# The first error reply code in a swaks transcript (lines "<** NNN ...").
err_code() {
	printf '%s\n' "$out" | sed -n 's/^<\*\* *\([0-9][0-9][0-9]\) .*/\1/p' |
		head -n 1
}

accepted_pf() {
	[ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -q '^<- *250 .*queued as'
}

accepted_sm() {
	[ "$rc" -eq 0 ] &&
		printf '%s\n' "$out" | grep -q '^<- *250 .*Message accepted for delivery'
}

is_4xx() {
	case "$(err_code)" in
	4[0-9][0-9]) return 0 ;;
	*) return 1 ;;
	esac
}

show() {	# print the transcript's replies when a check failed
	printf '%s\n' "$out" | grep -E '^(<-|<\*\*|\*\*\*)' | sed 's/^/    /' >&2
}

delivered_with() {	# delivered_with DIR SUBJECT
	local f
	for f in $(pf_delivered "$1"); do
		grep -q "^Subject: $2\$" "$f" && return 0
	done
	return 1
}

wait_delivered_with() {	# DIR SUBJECT SECS
	local i
	for ((i = 0; i <= $3 * 10; i++)); do
		delivered_with "$1" "$2" && return 0
		sleep 0.1
	done
	return 1
}

qf_with() {	# qf_with DIR SUBJECT
	local f
	for f in $(sm_queued "$1"); do
		grep -q "^H??Subject: $2\$" "$f" && return 0
	done
	return 1
}

elapsed() { echo "  ($((SECONDS - t0)) s)"; }

# ---------------------------------------------------------------- setup
[ "$(id -u)" -eq 0 ] || {
	echo "mta-selftest: must run as root" >&2
	exit 1
}
if [ ! -x "$NULLM" ] || [ "$top/bench/null-milter.c" -nt "$NULLM" ]; then
	make -C "$top" -s build/null-milter >&2 || exit 1
fi
work=$(mktemp -d /tmp/cm-mta-self.XXXXXX) || exit 1
chmod 755 "$work"	# postfix must traverse it
(umask 022 && mkdir -p /run/cm-test-self) || exit 1
chmod 755 /run/cm-test-self
sockdir=/run/cm-test-self/$$
rm -rf "$sockdir"
mkdir -m 755 "$sockdir" || exit 1
port1=$(pick_port 1)
port2=$(pick_port 2)
[ "$port1" = "$port2" ] && port2=$(pick_port 3)
echo "mta-selftest: work $work, ports $port1 $port2, sockets $sockdir"

# ---------------------------------------------------------------- a
t0=$SECONDS
pfa=$work/pf-a
pf_dirs+=("$pfa")
if pf_start "$pfa" "$port1"; then
	ok "a: postfix started on 127.0.0.1:$port1 without milter"
	send_pf "$port1" box@example.com "selftest-a"
	check "a: 250 queued" accepted_pf || show
	check "a: delivered to the Maildir" wait_delivered_with "$pfa" selftest-a 20
	send_pf "$port1" hold@example.com "selftest-a-hold"
	check "a: hold@example.com accepted" accepted_pf || show
	sleep 0.5
	check "a: one message in the hold queue" \
		test "$(pf_held "$pfa" | wc -l)" -eq 1
	check "a: held message not delivered" \
		test "$(pf_delivered "$pfa" | wc -l)" -eq 1
else
	not_ok "a: postfix start"
fi
elapsed

# ---------------------------------------------------------------- b
t0=$SECONDS
pfb=$work/pf-b
pf_dirs+=("$pfb")
sock_b=$sockdir/null-b.sock
if start_milter "$sock_b" && pf_start "$pfb" "$port2" "unix:$sock_b"; then
	ok "b: postfix on 127.0.0.1:$port2 with null-milter (second instance running at once)"
	check "b: instance a still running" pf_running "$pfa"
	send_pf "$port2" box@example.com "selftest-b"
	check "b: 250 queued through the milter" accepted_pf || show
	check "b: delivered" wait_delivered_with "$pfb" selftest-b 20
	check "b: no milter errors in the maillog" \
		bash -c "! grep -qi 'milter.*\\(error\\|can.t connect\\|reject\\)' '$pfb/maillog'"
	stop_milter
	check "b: null-milter exited on SIGTERM and removed its socket" \
		test ! -e "$sock_b"
	send_pf "$port2" box@example.com "selftest-b-down"
	check "b: the instance really uses the milter: 4xx once it is gone" \
		is_4xx || show
else
	not_ok "b: null-milter + postfix start"
fi
pf_stop "$pfa"
elapsed

# ---------------------------------------------------------------- c
t0=$SECONDS
sock_c=$sockdir/absent.sock
# Same DIR as b: also proves a running instance is replaced by start.
if pf_start "$pfb" "$port2" "unix:$sock_c"; then
	ok "c: postfix restarted in the same DIR with an absent milter"
	send_pf "$port2" box@example.com "selftest-c"
	check "c: 4xx from postfix when the milter is down (got $(err_code))" \
		is_4xx || show
	check "c: nothing delivered" test "$(pf_delivered "$pfb" | wc -l)" -eq 0
	printf 'From: sender@example.org\nTo: box@example.com\nSubject: selftest-c-local\n\nlocal body\n' |
		sendmail -C "$pfb" -f sender@example.org box@example.com
	sleep 3
	check "c: local submission not delivered while the milter is down" \
		bash -c "! grep -rqs '^Subject: selftest-c-local' '$pfb/vmail/box'"
	check "c: ... and kept in the queue" test -n "$(pf_queued "$pfb")"
	if start_milter "$sock_c"; then
		check "c: delivered after null-milter came back" \
			wait_delivered_with "$pfb" selftest-c-local 30
		send_pf "$port2" box@example.com "selftest-c-again"
		check "c: the client's retry now gets 250" accepted_pf || show
		stop_milter
	else
		not_ok "c: null-milter start"
	fi
else
	not_ok "c: postfix start"
fi
pf_stop "$pfb"
check "c: postfix stopped" bash -c "! postfix -c '$pfb' status >/dev/null 2>&1"
elapsed

# ---------------------------------------------------------------- d
t0=$SECONDS
smd=$work/sm-d
sock_d=$sockdir/null-d.sock
if sm_prepare "$SM_CACHE" && sm_setup "$smd" "$SM_CACHE" "$sock_d" &&
	start_milter "$sock_d"; then
	ok "d: sendmail prepared and configured"
	send_sm "$smd" "selftest-d"
	check "d: 250 from sendmail through null-milter" accepted_sm || show
	check "d: qf file with the Subject header queued" qf_with "$smd" selftest-d
	stop_milter
else
	not_ok "d: sendmail prepare/setup/null-milter"
fi
elapsed

# ---------------------------------------------------------------- e
t0=$SECONDS
sme=$work/sm-e
if sm_setup "$sme" "$SM_CACHE" "$sockdir/absent-e.sock"; then
	send_sm "$sme" "selftest-e"
	check "e: 4xx from sendmail when the milter is down (got $(err_code))" \
		is_4xx || show
	check "e: nothing queued" test -z "$(sm_queued "$sme")"
else
	not_ok "e: sendmail setup"
fi
elapsed

echo "mta-selftest: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
