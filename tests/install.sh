#!/bin/bash
# tests/install.sh - complaint-milter installed the way a mail admin installs
# it (issue 8), checked end to end against the installed files, never the
# build tree.
#
# Usage (as root, from anywhere): tests/install.sh
#   env: KEEP=1   keep the work directory
#        B        the build directory of the Makefile (default build)
#
#  1. make install DESTDIR=D: the file list (tests/install.files), the
#     installed configuration's paths, the units verified; a second install
#     keeps an edited configuration (new version as .dist); make uninstall
#     removes everything else.
#  2. make deb: the Debian package from a copy of the tree (timed); lintian
#     with every tag shown (info, pedantic, experimental) must find nothing.
#  3. dpkg -i: the user (groups postfix, postdrop), /var/lib/complaint-milter,
#     conffiles, units enabled, systemd-analyze verify and security, man.
#  4. The admin's steps from the README: edit the configuration, add the
#     inet drop-in for the reply worker, complaint-milter -n; then the milter
#     and the worker started as their units start them: with systemctl when
#     systemd runs this machine, otherwise the units' own ExecStartPre= and
#     ExecStart= command lines, as User= with its groups, UMask=,
#     NoNewPrivileges=, RuntimeDirectory= and StateDirectory= made as systemd
#     makes them, and the unit's sandbox as far as util-linux can build it:
#     ProtectSystem=strict with ReadWritePaths=, PrivateTmp=, ProtectHome=
#     (a mount namespace), PrivateNetwork= (a network namespace),
#     MemoryDenyWriteExecute= (prctl PR_SET_MDWE).  A private Postfix (tests/mta/postfix.sh) uses the installed
#     socket; swaks sends a complete complaint (tag, case in
#     /var/lib/complaint-milter/cases.sqlite, the reply in the Maildir) and
#     an incomplete one (550); ExecReload=; the installed complaint-cases and
#     complaint-check; the README's online backup; the socket moved inside
#     /var/spool/postfix (the README's way for a chrooted Postfix).
#  5. Upgrade to a repacked 0.1.0+test1 whose conffiles changed: the admin's
#     edited configuration kept (--force-confold, new one as .dpkg-dist),
#     an unedited rules file updated, the database and its cases kept, the
#     next case numbered after them.
#  6. dpkg --purge: every file gone, /etc/complaint-milter,
#     /var/lib/complaint-milter and /run/complaint-milter gone, the user kept.
#
# The package part is skipped (with a message) when complaint-milter is
# already installed on this machine or /etc/complaint-milter exists: the
# test never touches an installation it did not make.
# Ends with "install: N passed, N failed"; exit 1 on any failure.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
PF_LIB=1 . "$here/mta/postfix.sh"
B=${B:-build}
case $B in /*) ;; *) B=$top/$B ;; esac

pass=0
fail=0
t_start=$(date +%s)
work=$(mktemp -d /tmp/cm-inst.XXXXXX)
chmod 755 "$work"
pfdir=$work/postfix
port=$((32000 + $$ % 2000))
while pf_port_open "$port"; do port=$((port + 1)); done
CONF=/etc/complaint-milter/complaint-milter.conf
DB=/var/lib/complaint-milter/cases.sqlite
SOCK=/run/complaint-milter/complaint-milter.sock
UNITS=/lib/systemd/system
DROPIN=/etc/systemd/system/complaint-reply.service.d
marker=/var/tmp/cm-install-test.marker	# the package is installed by this test
installed_by_us=0
declare -A mainpid=()

ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
check() { # check DESCRIPTION COMMAND...
	local d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
note() { echo "     ($*)"; }

have_systemd() { [ -d /run/systemd/system ]; }

# ---- a unit's [Service] settings, and running it as systemd would ----

# unit_get UNIT KEY: the values of KEY in the unit and its drop-ins, one per line
unit_get() {
	local f
	for f in "$UNITS/$1" /etc/systemd/system/"$1".d/*.conf; do
		[ -f "$f" ] || continue
		awk -v k="$2" '/^\[/ { s = $0 } s == "[Service]" && index($0, k "=") == 1 {
			print substr($0, length(k) + 2) }' "$f"
	done
}

unit_one() { unit_get "$1" "$2" | tail -1; }

# unit_exec UNIT: sets EXEC_UMASK and EXEC_PREFIX, the command that runs a
# program as the unit's User=/Group= with the user's groups (systemd calls
# initgroups()), NoNewPrivileges= and a clean environment
unit_exec() {
	local user group nnp=
	user=$(unit_one "$1" User)
	group=$(unit_one "$1" Group)
	EXEC_UMASK=$(unit_one "$1" UMask)
	[ "$(unit_one "$1" NoNewPrivileges)" = yes ] && nnp=--no-new-privs
	EXEC_PREFIX=(setpriv --reuid="$user" --regid="${group:-$user}" --init-groups $nnp --
		env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
	# ProtectSystem=strict, ProtectHome=, PrivateTmp=, ReadWritePaths=,
	# StateDirectory=, RuntimeDirectory=: a mount namespace of its own in
	# which every file system is read-only but /dev, /proc, /sys and those
	# paths, /tmp and /var/tmp are empty and private, /home and /root hidden
	local rw=() p
	for p in $(unit_get "$1" ReadWritePaths); do
		case $p in -*) p=${p#-}; [ -e "$p" ] || continue ;; esac
		rw+=("$p")
	done
	for p in $(unit_get "$1" StateDirectory); do rw+=("/var/lib/$p"); done
	for p in $(unit_get "$1" RuntimeDirectory); do rw+=("/run/$p"); done
	if [ "$(unit_one "$1" ProtectSystem)" = strict ]; then
		EXEC_PREFIX=(unshare --mount --propagation private -- bash -c '
			n=$1; shift
			awk "{ print \$5 }" /proc/self/mountinfo | sort -u | while read -r m; do
				case $m in /proc | /proc/* | /sys | /sys/* | /dev | /dev/*) continue ;; esac
				mount -o remount,bind,ro "$m" 2>/dev/null
			done
			for p in /tmp /var/tmp; do mount -t tmpfs -o mode=1777 tmpfs "$p"; done
			for p in /home /root; do mount -t tmpfs -o ro,mode=000 tmpfs "$p"; done
			while [ "$n" -gt 0 ]; do
				mount --bind "$1" "$1" && mount -o remount,bind,rw "$1"
				shift; n=$((n - 1))
			done
			exec "$@"' sandbox "${#rw[@]}" "${rw[@]}" "${EXEC_PREFIX[@]}")
	fi
	# PrivateNetwork=: a network namespace of its own (loopback down, as
	# systemd leaves it); unix sockets in the file system still work
	[ "$(unit_one "$1" PrivateNetwork)" = yes ] && EXEC_PREFIX=(unshare --net -- "${EXEC_PREFIX[@]}")
	# MemoryDenyWriteExecute=: prctl(PR_SET_MDWE) as systemd 255+ does
	# (Linux 6.3+; older kernels: a note, and the program runs without it)
	[ "$(unit_one "$1" MemoryDenyWriteExecute)" = yes ] && EXEC_PREFIX+=(python3 -c '
import ctypes, os, sys
if ctypes.CDLL(None, use_errno=True).prctl(65, 1, 0, 0, 0) != 0:
    print("install.sh: PR_SET_MDWE not available", file=sys.stderr)
os.execvp(sys.argv[1], sys.argv[1:])')
}

# as_unit UNIT CMD...: CMD as the unit runs it (in /, UMask=, stdin /dev/null)
as_unit() {
	local unit=$1
	shift
	unit_exec "$unit"
	(cd / && umask "${EXEC_UMASK:-0022}" && exec "${EXEC_PREFIX[@]}" "$@" </dev/null)
}

# start_unit UNIT: systemctl restart, or ExecStartPre= and ExecStart= by hand
start_unit() {
	local unit=$1 user group d mode cmd i
	if have_systemd; then
		# restart: the package's postinst may have started it already
		systemctl restart "$unit" || return 1
		mainpid[$unit]=$(systemctl show -p MainPID --value "$unit")
		return 0
	fi
	user=$(unit_one "$unit" User)
	group=$(unit_one "$unit" Group)
	# RuntimeDirectory= and StateDirectory=: made and given to the user
	for d in $(unit_get "$unit" RuntimeDirectory); do
		mode=$(unit_one "$unit" RuntimeDirectoryMode)
		install -d -m "${mode:-0755}" -o "$user" -g "$group" "/run/$d" || return 1
	done
	for d in $(unit_get "$unit" StateDirectory); do
		mode=$(unit_one "$unit" StateDirectoryMode)
		install -d -m "${mode:-0755}" -o "$user" -g "$group" "/var/lib/$d" || return 1
	done
	while read -r cmd; do
		[ -n "$cmd" ] || continue
		# shellcheck disable=SC2086 # the unit's command line, split as systemd does
		as_unit "$unit" ${cmd#-} >>"$work/$unit.log" 2>&1 || { cat "$work/$unit.log"; return 1; }
	done < <(unit_get "$unit" ExecStartPre)
	cmd=$(unit_one "$unit" ExecStart)
	unit_exec "$unit"
	# the subshell execs setpriv, which execs env, which execs the daemon:
	# $! is the daemon's pid ($MAINPID)
	# shellcheck disable=SC2086
	(cd / && umask "${EXEC_UMASK:-0022}" && exec "${EXEC_PREFIX[@]}" $cmd </dev/null \
		>>"$work/$unit.log" 2>&1) &
	mainpid[$unit]=$!
	for i in $(seq 20); do sleep 0.1; done
	kill -0 "${mainpid[$unit]}" 2>/dev/null || { cat "$work/$unit.log"; return 1; }
}

# reload_unit UNIT: systemctl reload, or each ExecReload= with $MAINPID, as User=
reload_unit() {
	local unit=$1 cmd
	if have_systemd; then systemctl reload "$unit"; return; fi
	while read -r cmd; do
		cmd=${cmd//\$MAINPID/${mainpid[$unit]}}
		# shellcheck disable=SC2086
		as_unit "$unit" $cmd >>"$work/$unit.log" 2>&1 || return 1
	done < <(unit_get "$unit" ExecReload)
}

# stop_unit UNIT: systemctl stop, or SIGTERM (KillSignal=) and wait; then
# RuntimeDirectory= is removed, as systemd does
stop_unit() {
	local unit=$1 pid d
	if have_systemd; then systemctl stop "$unit"; return; fi
	pid=${mainpid[$unit]:-}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	mainpid[$unit]=
	for d in $(unit_get "$unit" RuntimeDirectory); do rm -rf "/run/$d"; done
}

stop_all() {
	stop_unit complaint-reply.service
	stop_unit complaint-milter.service
}

cleanup() {
	if [ "$installed_by_us" = 1 ]; then
		stop_all 2>/dev/null
		dpkg --purge complaint-milter >/dev/null 2>&1
		rm -rf "$DROPIN" "$marker" /var/spool/postfix/complaint-milter
	fi
	pf_stop "$pfdir" >/dev/null 2>&1
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

elapsed() { echo $(($(date +%s) - $1)); }

# ---- 1. make install DESTDIR ----
dd=$work/destdir
if make -s -C "$top" B="$B" install DESTDIR="$dd" >"$work/install.log" 2>&1; then
	ok "make install DESTDIR=... (PREFIX=/usr/local)"
else
	bad "make install DESTDIR=..."
	cat "$work/install.log"
fi
(cd "$dd" && find . -mindepth 1 \( -type f -o -type l \) -printf '%m %P\n' | LC_ALL=C sort -k2) >"$work/files.got"
grep -v '^#' "$here/install.files" | LC_ALL=C sort -k2 >"$work/files.want"
if diff -u "$work/files.want" "$work/files.got" >"$work/files.diff"; then
	ok "installed file list and modes are tests/install.files"
else
	bad "installed file list differs from tests/install.files:"
	cat "$work/files.diff"
fi
check "no directory left empty" test -z "$(find "$dd" -type d -empty)"
c=$dd/etc/complaint-milter/complaint-milter.conf
check "installed configuration: TemplatesDir in PREFIX/share" grep -q '^TemplatesDir *\/usr/local/share/complaint-milter/templates$' "$c"
check "installed configuration: HolidaysDir in PREFIX/share" grep -q '^HolidaysDir *\/usr/local/share/complaint-milter/holidays$' "$c"
check "installed configuration: Database, DatabaseBusyTimeout kept" \
	bash -c "grep -q '^Database  *\/var\/lib\/complaint-milter\/cases.sqlite$' '$c' && grep -q '^DatabaseBusyTimeout *5000$' '$c'"
check "installed configuration passes complaint-milter -n (with its rules)" \
	bash -c "sed 's|^RulesDir .*|RulesDir $dd/etc/complaint-milter/rules|' '$c' >'$work/t.conf' && '$dd/usr/local/sbin/complaint-milter' -n -c '$work/t.conf' >/dev/null"
check "units name the installed programs" grep -q '^ExecStart=/usr/local/sbin/complaint-milter -f -c /etc/complaint-milter/complaint-milter.conf$' \
	"$dd/usr/local/lib/systemd/system/complaint-milter.service"
# systemd-analyze verify with the programs where the units say they are
mkdir -p "$work/units"
for u in complaint-milter complaint-reply; do
	sed "s|/usr/local/sbin/|$dd/usr/local/sbin/|g" "$dd/usr/local/lib/systemd/system/$u.service" >"$work/units/$u.service"
done
if command -v systemd-analyze >/dev/null; then
	out=$(cd "$work/units" && systemd-analyze verify --man=no ./complaint-milter.service ./complaint-reply.service 2>&1)
	check "systemd-analyze verify: the make install units are clean" test -z "$out"
	[ -z "$out" ] || echo "$out"
fi
# a second install keeps an edited configuration and rules file
echo "Recipient klachten@example.nl" >>"$c"
echo "# local" >>"$dd/etc/complaint-milter/rules/models.rules"
make -s -C "$top" B="$B" install DESTDIR="$dd" >"$work/install2.log" 2>&1
check "reinstall keeps the edited configuration" grep -q '^Recipient klachten@example.nl$' "$c"
check "reinstall puts the new version beside it (.dist)" test -f "$c.dist"
check "reinstall keeps an edited rules file" grep -q '^# local$' "$dd/etc/complaint-milter/rules/models.rules"
check "reinstall says what it kept" grep -q "kept your .*complaint-milter.conf" "$work/install2.log"
make -s -C "$top" B="$B" uninstall DESTDIR="$dd" >"$work/uninstall.log" 2>&1
left=$(cd "$dd" && find . -mindepth 1 -type f -printf '%P\n' | sort | tr '\n' ' ')
check "make uninstall removes all but the two edited files" \
	test "$left" = "etc/complaint-milter/complaint-milter.conf etc/complaint-milter/rules/models.rules "
[ "$left" = "etc/complaint-milter/complaint-milter.conf etc/complaint-milter/rules/models.rules " ] || note "left: $left"

# ---- 2.-6. the Debian package ----
# an installation left by an interrupted run of this test is removed first
if [ -f "$marker" ]; then
	echo "install: removing what an interrupted run left"
	dpkg --purge complaint-milter >/dev/null 2>&1
	rm -rf "$DROPIN" "$marker"
fi
if dpkg-query -W -f='${Status}' complaint-milter 2>/dev/null | grep -q 'installed' ||
	[ -e /etc/complaint-milter ]; then
	echo "install: complaint-milter is installed on this machine (or /etc/complaint-milter exists):"
	echo "install: package tests skipped, nothing touched"
	echo "install: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
fi
for tool in dpkg-buildpackage dh lintian swaks postfix sqlite3 setpriv; do
	command -v "$tool" >/dev/null || { bad "$tool not installed (scripts/install-deps.sh --test)"; exit 1; }
done

# 2. build (the unit tests ran in make check already: nocheck)
t0=$(date +%s)
if DEB_BUILD_OPTIONS=nocheck make -s -C "$top" B="$work/b" deb >"$work/deb.log" 2>&1; then
	ok "make deb builds the package ($(elapsed "$t0") s)"
else
	bad "make deb"
	tail -30 "$work/deb.log"
	exit 1
fi
deb=$(ls "$work"/b/deb/complaint-milter_*_*.deb)
lint=$(cd "$work/b/deb" && lintian --pedantic --display-info --display-experimental \
	*.changes 2>&1 | grep -v 'running with root privileges')
check "lintian (all tags, overrides explained in debian/): nothing" test -z "$lint"
[ -z "$lint" ] || echo "$lint"

# 3. dpkg -i
installed_by_us=1
touch "$marker"
if dpkg -i "$deb" >"$work/dpkg-i.log" 2>&1; then ok "dpkg -i"; else bad "dpkg -i"; cat "$work/dpkg-i.log"; exit 1; fi
user_exists() { getent passwd complaint-milter >/dev/null; }
check "user complaint-milter" user_exists
groups=" $(id -Gn complaint-milter) "
check "user in group postfix (SocketGroup)" grep -q ' postfix ' <<<"$groups"
check "user in group postdrop (sendmail transport)" grep -q ' postdrop ' <<<"$groups"
check "/var/lib/complaint-milter: 750 complaint-milter" \
	test "$(stat -c '%a %U' /var/lib/complaint-milter)" = "750 complaint-milter"
check "programs in /usr/sbin and /usr/bin" test -x /usr/sbin/complaint-milter -a -x /usr/sbin/complaint-reply \
	-a -x /usr/bin/complaint-cases -a -x /usr/bin/complaint-check
check "configuration and rules are conffiles" \
	test "$(dpkg-query -W -f='${Conffiles}\n' complaint-milter | grep -c '/etc/complaint-milter/')" = "$(($(ls "$top"/rules/*.rules | wc -l) + 1))"
check "templates and holidays in /usr/share/complaint-milter" \
	test -f /usr/share/complaint-milter/templates/nl/ack.txt -a -f /usr/share/complaint-milter/holidays/NL.holidays
check "units enabled (multi-user.target.wants)" \
	test -L /etc/systemd/system/multi-user.target.wants/complaint-milter.service -a \
	-L /etc/systemd/system/multi-user.target.wants/complaint-reply.service
out=$(systemd-analyze verify "$UNITS/complaint-milter.service" "$UNITS/complaint-reply.service" 2>&1)
check "systemd-analyze verify: installed units clean (man pages found too)" test -z "$out"
[ -z "$out" ] || echo "$out"
for u in complaint-milter complaint-reply; do
	e=$(systemd-analyze security --offline=yes "$UNITS/$u.service" 2>/dev/null |
		sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
	check "systemd-analyze security $u: exposure $e (at most 1.0)" \
		python3 -c "import sys; sys.exit(0 if 0 < float('${e:-99}') <= 1.0 else 1)"
done
out=$(for p in 8/complaint-milter 8/complaint-reply 5/complaint-milter.conf 1/complaint-cases 1/complaint-check; do
	MANWIDTH=80 man --warnings "${p%%/*}" "${p#*/}" 2>&1 >/dev/null || echo "no page ${p#*/}(${p%%/*})"; done)
check "man pages installed, no warnings" test -z "$out"
[ -z "$out" ] || echo "$out"

# 4. the admin's steps (README): configure, check, start, test complaint
sed -i -e "s|^ReplyTransport .*|ReplyTransport      smtp:127.0.0.1:$port|" \
	-e 's|^IncompleteAction .*|IncompleteAction    reject|' "$CONF"
mkdir -p "$DROPIN"
cp /usr/share/doc/complaint-milter/examples/systemd/complaint-reply-inet.conf "$DROPIN/inet.conf"
check "complaint-milter -n accepts the edited configuration" bash -c "/usr/sbin/complaint-milter -n >/dev/null"
check "complaint-reply -n too" bash -c "/usr/sbin/complaint-reply -n >/dev/null"
out=$(systemd-analyze verify "$UNITS/complaint-reply.service" 2>&1)
check "the reply unit with the inet drop-in verifies" test -z "$out"
check "the drop-in adds AF_INET" grep -q AF_INET <<<"$(unit_get complaint-reply.service RestrictAddressFamilies)"
have_systemd && systemctl daemon-reload
start_unit complaint-milter.service && ok "milter started as its unit starts it" || bad "milter starts"
start_unit complaint-reply.service && ok "reply worker started as its unit starts it" || bad "reply worker starts"
have_systemd || note "no systemd running here: the units' command lines run with setpriv"
mp=${mainpid[complaint-milter.service]:-0}
rp=${mainpid[complaint-reply.service]:-0}
check "milter runs as complaint-milter" test "$(ps -o user= -p "$mp")" = complaint-milter
check "reply worker runs as complaint-milter" test "$(ps -o user= -p "$rp")" = complaint-milter
has_gid() { # has_gid PID GROUP: GROUP among the process's supplementary groups
	local gid
	gid=$(getent group "$2" | cut -d: -f3)
	[ -n "$gid" ] && grep '^Groups:' "/proc/$1/status" | tr -s ' \t' '\n\n' | grep -qx "$gid"
}
check "milter has group postfix (from the user's groups)" has_gid "$mp" postfix
check "reply worker has group postdrop" has_gid "$rp" postdrop
check "milter: no new privileges" grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$mp/status"
have_systemd || check "milter: in a network namespace of its own (PrivateNetwork=)" \
	test "$(readlink "/proc/$mp/ns/net")" != "$(readlink /proc/self/ns/net)"
have_systemd || check "reply worker: the drop-in gives it the host's network" \
	test "$(readlink "/proc/$rp/ns/net")" = "$(readlink /proc/self/ns/net)"
mount_opts() { awk -v m="$2" '$5 == m { print $6 }' "/proc/$1/mountinfo" | tail -1; }
check "milter: / read-only (ProtectSystem=strict)" grep -q '^ro' <<<"$(mount_opts "$mp" /)"
check "milter: /var/lib/complaint-milter writable" grep -q '^rw' <<<"$(mount_opts "$mp" /var/lib/complaint-milter)"
check "milter: /run/complaint-milter writable" grep -q '^rw' <<<"$(mount_opts "$mp" /run/complaint-milter)"
check "reply worker: / read-only, the maildrop writable" \
	bash -c "grep -q '^ro' <<<'$(mount_opts "$rp" /)' && grep -q '^rw' <<<'$(mount_opts "$rp" /var/spool/postfix/maildrop)'"
check "reply worker: a private /tmp (PrivateTmp=)" test "$(awk '$5 == "/tmp" { print $9 }' "/proc/$rp/mountinfo" | tail -1)" = tmpfs
check "reply worker: no new privileges" grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$rp/status"
if ! have_systemd; then
	if grep -q 'PR_SET_MDWE not available' "$work/complaint-reply.service.log" 2>/dev/null; then
		note "MemoryDenyWriteExecute= not emulated: the kernel has no PR_SET_MDWE"
	else
		check "reply worker started under MemoryDenyWriteExecute= (prctl MDWE, then exec)" \
			test "$(ps -o comm= -p "$rp")" = complaint-reply
	fi
fi
check "socket in /run/complaint-milter: 660 complaint-milter postfix" \
	test "$(stat -c '%a %U %G' "$SOCK" 2>/dev/null)" = "660 complaint-milter postfix"
check "/run/complaint-milter belongs to the user" test "$(stat -c '%U' /run/complaint-milter)" = complaint-milter

pf_start "$pfdir" "$port" "unix:$SOCK" >/dev/null || { bad "private postfix starts on the installed socket"; exit 1; }
ok "private Postfix on 127.0.0.1:$port uses unix:$SOCK"

send() { # send OUT FILE
	swaks --server "127.0.0.1:$port" --from customer@example.com --to complaints@example.com \
		--data "@$2" >"$1" 2>&1
}
sql() { sqlite3 -cmd ".timeout 5000" "$DB" "$@"; }
fresh() { sed "s/^Message-ID: .*/Message-ID: <$2@install.test>/" "$top/tests/corpus/dev/$1"; }
wait_for() { # wait_for SECS COMMAND...: until COMMAND succeeds
	local s=$1 i
	shift
	for ((i = 0; i < s * 10; i++)); do "$@" && return 0; sleep 0.1; done
	return 1
}
delivered_with() { grep -l -- "$1" $(pf_delivered "$pfdir") /dev/null 2>/dev/null | head -1; }
has_delivered() { [ -n "$(delivered_with "$1")" ]; }

fresh 001-nl-product-labeled.eml inst-1 >"$work/m1.eml"
send "$work/o1" "$work/m1.eml"
check "complete complaint accepted (250)" grep -q '^<-  250 ' "$work/o1"
cid=$(sql "select case_id from cases where message_id='inst-1@install.test'")
check "case in /var/lib/complaint-milter/cases.sqlite" grep -qE '^CASE-[0-9]{4}-[0-9]{6}$' <<<"$cid"
wait_for 10 has_delivered inst-1@install.test
f=$(delivered_with inst-1@install.test)
check "delivered with the case tag in the Subject" grep -q "^Subject: \[$cid\]" "$f"
check "delivered with X-Case-ID" grep -q "^X-Case-ID: $cid" "$f"
has_reply() { for g in $(pf_delivered "$pfdir"); do grep -q '^Auto-Submitted: auto-replied' "$g" &&
	grep -q "^X-Case-ID: $1" "$g" && return 0; done; return 1; }
check "the reply to the customer arrives (complaint -> tag -> reply)" wait_for 15 has_reply "$cid"
check "reply row sent" test "$(sql "select status from replies where case_id='$cid'")" = sent
check "database 640 complaint-milter (UMask=0027)" test "$(stat -c '%a %U' "$DB")" = "640 complaint-milter"
fresh 003-nl-productklacht-no-model.eml inst-2 >"$work/m2.eml"
send "$work/o2" "$work/m2.eml"
check "incomplete complaint rejected (550 5.7.1)" grep -q '^<\*\* 550.5\.7\.1' "$work/o2"

# ExecReload=: -n, then SIGUSR1: the milter stays and still answers
reload_unit complaint-milter.service && ok "reload (ExecReload=)" || bad "reload"
sleep 0.5
check "milter alive after reload" kill -0 "$mp"
fresh 002-nl-service-ticket.eml inst-3 >"$work/m3.eml"
send "$work/o3" "$work/m3.eml"
check "complaint after reload accepted" grep -q '^<-  250 ' "$work/o3"
# the reply worker's ExecReload=: -n, then SIGHUP: it stays
reload_unit complaint-reply.service && ok "reply worker reload (ExecReload=)" || bad "reply worker reload"
sleep 0.5
check "reply worker alive after reload" kill -0 "${mainpid[complaint-reply.service]:-0}"

# the installed staff and check tools
check "complaint-cases show (installed, default configuration)" bash -c "/usr/bin/complaint-cases show '$cid' | grep -q '$cid'"
check "complaint-cases list as a member of group complaint-milter" \
	bash -c "setpriv --reuid=nobody --regid=nogroup --groups=\$(getent group complaint-milter | cut -d: -f3) /usr/bin/complaint-cases list | grep -q '$cid'"
check "complaint-check with the installed rules" bash -c "/usr/bin/complaint-check -c '$CONF' '$work/m2.eml' | grep -q 'missing: *model'"
# online backup, as the README says, while both daemons run
sqlite3 "$DB" ".backup '$work/backup.sqlite'" 2>"$work/backup.err"
check "online backup (.backup): integrity ok" test "$(sqlite3 "$work/backup.sqlite" 'pragma integrity_check')" = ok
check "online backup has the cases" test "$(sqlite3 "$work/backup.sqlite" 'select count(*) from cases')" = "$(sql 'select count(*) from cases')"

# the chrooted-Postfix alternative (README): the socket inside /var/spool/postfix
spool=/var/spool/postfix/complaint-milter
install -d -o complaint-milter -g postfix -m 0750 "$spool"
sed -i "s|^Socket .*|Socket              local:$spool/complaint-milter.sock|" "$CONF"
stop_unit complaint-milter.service
start_unit complaint-milter.service || bad "milter starts with the socket in $spool"
mp=${mainpid[complaint-milter.service]:-0}
check "socket in $spool: 660 complaint-milter postfix" \
	test "$(stat -c '%a %U %G' "$spool/complaint-milter.sock" 2>/dev/null)" = "660 complaint-milter postfix"
PF_KEEP=1 pf_start "$pfdir" "$port" "unix:$spool/complaint-milter.sock" >/dev/null || bad "postfix restarts"
fresh 005-de-product-spaced-serial.eml inst-5 >"$work/m5.eml"
send "$work/o5" "$work/m5.eml"
check "a complaint through the socket in the spool" test -n "$(sql "select case_id from cases where message_id='inst-5@install.test'")"
sed -i "s|^Socket .*|Socket              local:$SOCK|" "$CONF"
stop_unit complaint-milter.service
rm -rf "$spool"
start_unit complaint-milter.service || bad "milter starts again on $SOCK"
PF_KEEP=1 pf_start "$pfdir" "$port" "unix:$SOCK" >/dev/null || bad "postfix restarts"
ncases=$(sql 'select count(*) from cases')

# 5. upgrade to a newer package whose configuration and a rules file changed
t0=$(date +%s)
up=$work/up
dpkg-deb -R "$deb" "$up"
sed -i 's/^Version: .*/&+test1/' "$up/DEBIAN/control"
echo "# changed in 0.1.0+test1" >>"$up/etc/complaint-milter/complaint-milter.conf"
echo "# changed in 0.1.0+test1" >>"$up/etc/complaint-milter/rules/auto.rules"
(cd "$up" && find etc usr lib -type f -exec md5sum {} + >DEBIAN/md5sums)
dpkg-deb -b "$up" "$work/up.deb" >/dev/null
stop_all
if dpkg -i --force-confdef --force-confold "$work/up.deb" >"$work/dpkg-up.log" 2>&1; then
	ok "upgrade with dpkg -i --force-confold"
else
	bad "upgrade"
	cat "$work/dpkg-up.log"
fi
check "version 0.1.0+test1 installed" test "$(dpkg-query -W -f='${Version}' complaint-milter)" = 0.1.0+test1
check "upgrade kept the admin's configuration" grep -q "^ReplyTransport *smtp:127.0.0.1:$port" "$CONF"
check "the package's new configuration beside it (.dpkg-dist)" grep -q 'changed in 0.1.0+test1' "$CONF.dpkg-dist"
check "an unedited rules file was updated" grep -q 'changed in 0.1.0+test1' /etc/complaint-milter/rules/auto.rules
check "upgrade kept the database" test "$(sql 'select count(*) from cases')" = "$ncases"
start_unit complaint-milter.service && start_unit complaint-reply.service && ok "services start after the upgrade" ||
	bad "services start after the upgrade"
fresh 004-en-product-alt.eml inst-4 >"$work/m4.eml"
send "$work/o4" "$work/m4.eml"
cid4=$(sql "select case_id from cases where message_id='inst-4@install.test'")
check "after the upgrade: a new case, numbered after the old ones" test "${cid4##*-}" -gt "${cid##*-}"
check "after the upgrade: its reply arrives" wait_for 15 has_reply "$cid4"
note "upgrade and restart: $(elapsed "$t0") s"

# 6. purge
pf_stop "$pfdir" >/dev/null
stop_all
rm -rf "$DROPIN"
files=$(dpkg -L complaint-milter | while read -r p; do [ -f "$p" ] && echo "$p"; done)
if dpkg --purge complaint-milter >"$work/purge.log" 2>&1; then ok "dpkg --purge"; else bad "dpkg --purge"; cat "$work/purge.log"; fi
installed_by_us=0
rm -f "$marker"
left=$(for p in $files; do [ -e "$p" ] && echo "$p"; done)
check "purge removed every file of the package" test -z "$left"
[ -z "$left" ] || echo "$left"
check "purge removed /etc/complaint-milter" test ! -e /etc/complaint-milter
check "purge removed /var/lib/complaint-milter (the database)" test ! -e /var/lib/complaint-milter
check "no /run/complaint-milter left" test ! -e /run/complaint-milter
check "no unit symlinks left" test -z "$(find /etc/systemd/system -name 'complaint-*' 2>/dev/null)"
check "the user stays (Debian keeps system users)" user_exists
check "dpkg forgot the package" bash -c "! dpkg-query -W complaint-milter >/dev/null 2>&1"

note "install tests took $(elapsed "$t_start") s"
echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
