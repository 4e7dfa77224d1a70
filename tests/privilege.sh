#!/bin/bash
# tests/privilege.sh - least privilege.
#
# Always: tests/privilege/sqlcheck.py on milter/ (no shell, no PATH search,
# SQL only prepared with bound values, never formatted).
# As root, the daemon in the layout the integration tests use (configuration
# and rules owned by root, mode 0644/0755; the database directory owned by
# the daemon user), started as root like an init system would:
#   - it runs as complaint-milter: real, effective, saved and file-system
#     UIDs and GIDs, no supplementary group root
#   - its socket is 0660, owner complaint-milter, group postfix
#   - complaint-milter cannot write the configuration, a rules file, or the
#     rules directory (so a compromised daemon cannot change its rules)
#   - it has no child processes (no shell, no helper)
#   - -f copies the log to stderr, except when stderr is systemd's journal
#     ($JOURNAL_STREAM), which would otherwise get every line twice
#   - a UserID of root, or no UserID when started as root, is refused
# Ends with "privilege: N passed, N failed".
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
MILTER=${MILTER_BIN:-$top/build/complaint-milter}
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }

if python3 "$here/privilege/sqlcheck.py" "$top/milter" >/tmp/cm-sqlcheck.$$ 2>&1; then
	ok "static checks of milter/ (sqlcheck: $(grep -c '^ok' /tmp/cm-sqlcheck.$$) passed)"
else
	cat /tmp/cm-sqlcheck.$$
	bad "static checks of milter/"
fi
rm -f /tmp/cm-sqlcheck.$$

if [ "$(id -u)" -ne 0 ]; then
	echo "privilege: not root, the daemon checks are skipped"
	echo "privilege: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
fi

work=$(mktemp -d /tmp/cm-priv.XXXXXX)
sockdir=/run/cm-priv-$$
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && sleep 0.3 && kill -9 "$pid" 2>/dev/null
	rm -rf "$work" "$sockdir"
}
trap cleanup EXIT
id complaint-milter >/dev/null 2>&1 ||
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin complaint-milter
chmod 755 "$work"
mkdir -p -m 755 "$sockdir" "$work/etc" "$work/db"
chown complaint-milter "$work/db"
cp -r "$top/rules" "$work/etc/rules"
chown -R root:root "$work/etc"
chmod -R u=rwX,go=rX "$work/etc"
conf=$work/etc/complaint-milter.conf
cat >"$conf" <<EOF
Socket              local:$sockdir/milter.sock
SocketMode          0660
SocketGroup         postfix
Recipient           complaints@example.com
Database            $work/db/cases.sqlite
RulesDir            $work/etc/rules
UserID              complaint-milter
EOF
chmod 644 "$conf"

"$MILTER" -c "$conf" -f 2>"$work/err" &
pid=$!
for _ in $(seq 100); do [ -S "$sockdir/milter.sock" ] && break; sleep 0.05; done
check "the milter starts as root and opens its socket" test -S "$sockdir/milter.sock"
uid=$(id -u complaint-milter)
gid=$(id -g complaint-milter)
st=/proc/$pid/status
check "runs as complaint-milter (real, effective, saved, fs UID)" \
	test "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "$st")" = "$uid $uid $uid $uid"
check "... and its group (all four GIDs)" \
	test "$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "$st")" = "$gid $gid $gid $gid"
check "no supplementary group root" bash -c "! awk '/^Groups:/' '$st' | grep -qw 0"
check "no capabilities left (CapEff 0)" test "$(awk '/^CapEff:/ { print $2 }' "$st")" = 0000000000000000
check "socket 0660 complaint-milter:postfix" \
	test "$(stat -c '%a %U %G' "$sockdir/milter.sock")" = "660 complaint-milter postfix"
as_daemon() { runuser -u complaint-milter -- "$@" 2>/dev/null; }
check "complaint-milter cannot write the configuration" bash -c "! runuser -u complaint-milter -- sh -c ': >>\"$conf\"' 2>/dev/null"
f=$(ls "$work/etc/rules"/*.rules | head -1)
check "complaint-milter cannot write a rules file" bash -c "! runuser -u complaint-milter -- sh -c ': >>\"$f\"' 2>/dev/null"
check "complaint-milter cannot add a rules file" bash -c "! runuser -u complaint-milter -- sh -c ': >\"$work/etc/rules/evil.rules\"' 2>/dev/null"
check "complaint-milter can write its database directory" as_daemon test -w "$work/db"
check "no child processes (no shell, no helper)" test -z "$(ps -o pid= --ppid "$pid")"
kill "$pid"
wait "$pid" 2>/dev/null
pid=
check "-f copies the log to stderr (start and stop lines)" \
	bash -c "grep -q 'started: socket' '$work/err' && grep -q 'stopping: store wrote' '$work/err'"

# Under systemd stderr is the journal, which has the syslog lines already:
# with $JOURNAL_STREAM naming stderr the copy is not made.
: >"$work/err.journal"
js=$(stat -c '%d:%i' "$work/err.journal")
rm -f "$sockdir/milter.sock"	# the last one could not remove it (root's directory)
env JOURNAL_STREAM="$js" "$MILTER" -c "$conf" -f 2>>"$work/err.journal" &
pid=$!
for _ in $(seq 100); do [ -S "$sockdir/milter.sock" ] && break; sleep 0.05; done
check "... (the milter started again)" test -S "$sockdir/milter.sock"
kill "$pid"
wait "$pid" 2>/dev/null
pid=
check "... but not when stderr is the journal (\$JOURNAL_STREAM)" \
	bash -c "test -f '$work/err.journal' && ! grep -q 'started: socket\\|stopping: store' '$work/err.journal'"

sed -i 's/^UserID.*/UserID root/' "$conf"
out=$("$MILTER" -c "$conf" -f 2>&1 & p=$!; sleep 1; kill $p 2>/dev/null)
check "UserID root is refused" bash -c "echo '$out' | grep -q 'must not be root'"
sed -i '/^UserID/d' "$conf"
out=$(timeout 5 "$MILTER" -c "$conf" -f 2>&1)
check "started as root without UserID: refused" bash -c "echo '$out' | grep -q 'no UserID'"

echo "privilege: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
