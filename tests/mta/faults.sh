#!/bin/bash
# tests/mta/faults.sh - database faults under the real milter behind a
# private Postfix (loopback only), mail sent with swaks (SMTP: the 4xx is
# seen) and with sendmail (local submission: Postfix keeps the message and
# retries it, so "eventually delivered" can be checked).
#
# The database lives on a small ext4 file system of its own (a loop device,
# 8 MB), so that it can be filled up and made read-only without touching the
# machine's disks.  For each fault:
#   locked     another process holds BEGIN EXCLUSIVE past DatabaseBusyTimeout
#   full       the file system is full (after the WAL was truncated)
#   read-only  chattr +i on the database and its WAL (a chmod would not
#              affect the file the milter has open)
#   removed    the database, WAL and shm moved away (then put back), and
#              replaced by a backup (a new inode: the milter reopens it)
# the test checks: every complaint sent during the fault gets 451 4.3.0, the
# milter keeps running, the cause is logged once for the burst (not once per
# message), a message submitted locally during the fault is delivered with
# exactly one case once the fault is gone, mail sent after it is accepted at
# once, and PRAGMA integrity_check is ok.
#
# Usage (as root): tests/mta/faults.sh      env: KEEP=1 keep the work directory
# Ends with "faults: N passed, N failed"; exit 1 on any failure.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
PF_LIB=1 . "$here/postfix.sh"
. "$here/lib.sh"	# ok, bad, check, start_milter, stop_milter (log: $work/milter.err), sql

MILTER=${MILTER_BIN:-$top/build/complaint-milter}
CORPUS=$top/tests/corpus/dev
pass=0
fail=0
milter_pid=
loop=
work=$(mktemp -d /tmp/cm-faults.XXXXXX)
chmod 755 "$work"
sockdir=/run/cm-faults-$$
sock=$sockdir/milter.sock
port=$((30000 + $$ % 2000))
pfdir=$work/postfix
dbdir=$work/db
db=$dbdir/cases.sqlite
log=$work/milter.err
holder=

cleanup() {
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	stop_milter
	pf_stop "$pfdir" >/dev/null 2>&1
	chattr -i "$db" "$db-wal" 2>/dev/null
	if mountpoint -q "$dbdir"; then umount "$dbdir" || umount -l "$dbdir"; fi
	[ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
	rm -rf "$sockdir"
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$MILTER" ] || { echo "faults: build $MILTER first"; exit 1; }
id complaint-milter >/dev/null 2>&1 ||
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin complaint-milter
mkdir -p -m 755 "$sockdir" "$dbdir"
truncate -s 8M "$work/db.img"
if ! mkfs.ext4 -q -F -m 0 "$work/db.img" >/dev/null 2>&1 || ! loop=$(losetup -f --show "$work/db.img" 2>/dev/null) ||
	! mount "$loop" "$dbdir"; then
	echo "faults: no loop device or ext4 here; database fault tests skipped"
	echo "faults: 0 passed, 0 failed"
	exit 0
fi
chown complaint-milter "$dbdir"
chmod 755 "$dbdir"
cp -r "$top/rules" "$work/rules"
chmod -R a+rX "$work/rules"
cat >"$work/milter.conf" <<EOF
Socket              local:$sock
SocketMode          0660
SocketGroup         postfix
Recipient           complaints@example.com
IncompleteAction    reject
Database            $db
DatabaseBusyTimeout 500
RulesDir            $work/rules
UserID              complaint-milter
EOF

# a complete complaint with a fresh Message-ID on stdout; its ID in $mid and
# in $work/mid (smtp runs in a subshell)
msg() {
	mid="fault-$1-$(date +%s%N)@test.example"
	echo "$mid" >"$work/mid"
	sed "s/^Message-ID: .*/Message-ID: <$mid>/" "$CORPUS/001-nl-product-labeled.eml"
}
smtp() { # smtp TAG: send one complaint by SMTP; prints the last reply code
	msg "$1" >"$work/m.eml"
	swaks --server "127.0.0.1:$port" --from customer@example.org --to complaints@example.com \
		--data "@$work/m.eml" 2>&1 |
		awk 'dot && /^<[-*]/ { sub(/^<[-*]+ +/, ""); print substr($0, 1, 3); exit } /^ -> \.$/ { dot = 1 }' 
}
local_submit() { # local_submit TAG: hand one complaint to Postfix's sendmail; its ID in $mid
	msg "$1" >"$work/l.eml"
	sendmail -C "$pfdir" -f customer@example.org complaints@example.com <"$work/l.eml"
}
delivered() { grep -l -- "$1" $(pf_delivered "$pfdir") /dev/null 2>/dev/null | wc -l; }
wait_delivered() { # wait_delivered MID [SECS]: flush the queue until it is delivered
	for _ in $(seq $((${2:-30} * 2))); do
		[ "$(delivered "$1")" -ge 1 ] && return 0
		pf_flush "$pfdir" >/dev/null 2>&1
		sleep 0.5
	done
	return 1
}
cases_of() { sql "select count(*) from cases where message_id='$1'"; }
tempfail_lines() { grep -c "tempfail: .*$1" "$log"; }
alive() { kill -0 "$milter_pid" 2>/dev/null; }

# a burst of SMTP complaints during a fault: all must get 451
burst() { # burst TAG N
	local codes="" c
	for _ in $(seq "$2"); do c=$(smtp "$1"); codes="$codes$c "; done
	echo "$codes"
}
all_451() { for c in $1; do [ "$c" = 451 ] || return 1; done; [ -n "$1" ]; }

# after a fault: the locally submitted message is delivered once, with one case
after_fault() { # after_fault NAME MID
	check "$1: fixed: next complaint accepted (250)" test "$(smtp "$1-after")" = 250
	check "$1: message submitted during the fault delivered" wait_delivered "$2"
	check "$1: ... with exactly one case" test "$(cases_of "$2")" = 1
	check "$1: ... and one copy" test "$(delivered "$2")" = 1
	check "$1: integrity_check ok" test "$(sql 'pragma integrity_check')" = ok
}

start_milter || { echo "faults: the milter does not start"; exit 1; }
pf_start "$pfdir" "$port" "unix:$sock" >/dev/null || { echo "faults: postfix does not start"; exit 1; }
check "baseline: complaint accepted (250)" test "$(smtp base)" = 250
check "baseline: one case" test "$(cases_of "$(cat "$work/mid")")" = 1

# ---- locked past the busy timeout ----
(echo "BEGIN EXCLUSIVE; SELECT count(*) FROM cases;"; sleep 6; echo "COMMIT;") |
	sqlite3 "$db" >/dev/null 2>&1 &
holder=$!
sleep 0.5
local_submit locked
lmid=$mid
codes=$(burst locked 5)
check "locked: 5 complaints during the lock get 451 ($codes)" all_451 "$codes"
check "locked: the milter keeps running" alive
check "locked: the cause logged once for the burst ($(tempfail_lines locked) lines)" test "$(tempfail_lines locked)" = 1
wait "$holder" 2>/dev/null
holder=
after_fault locked "$lmid"

# ---- disk full ----
sql "pragma wal_checkpoint(TRUNCATE)" >/dev/null
dd if=/dev/zero of="$dbdir/filler" bs=64k >/dev/null 2>&1
sync
local_submit full
fmid=$mid
codes=$(burst full 4)
check "full: complaints while the disk is full get 451 ($codes)" all_451 "$codes"
check "full: the milter keeps running" alive
check "full: the cause logged once for the burst ($(tempfail_lines 'full') lines)" test "$(tempfail_lines 'full')" = 1
rm -f "$dbdir/filler"
sync
after_fault full "$fmid"

# ---- read-only ----
chattr +i "$db" "$db-wal"
local_submit readonly
rmid=$mid
codes=$(burst readonly 4)
check "read-only: complaints get 451 ($codes)" all_451 "$codes"
check "read-only: the milter keeps running" alive
ro_lines=$(grep -c 'tempfail: .*\(disk I/O error\|readonly\|read-only\)' "$log")
check "read-only: the cause logged once for the burst ($ro_lines lines)" test "$ro_lines" = 1
chattr -i "$db" "$db-wal"
after_fault read-only "$rmid"

# ---- removed under the running daemon, then put back ----
mkdir -p "$dbdir/away"
mv "$db" "$db-wal" "$db-shm" "$dbdir/away/"
local_submit removed
dmid=$mid
codes=$(burst removed 4)
check "removed: complaints get 451 ($codes)" all_451 "$codes"
check "removed: no new database was created behind our back" test ! -e "$db"
check "removed: the milter keeps running" alive
check "removed: the cause logged once for the burst ($(tempfail_lines 'No such file') lines)" \
	test "$(tempfail_lines 'No such file')" = 1
mv "$dbdir/away/cases.sqlite" "$dbdir/away/cases.sqlite-wal" "$dbdir/away/cases.sqlite-shm" "$dbdir/"
after_fault removed "$dmid"

# ---- replaced by a copy (a new inode): the milter opens it ----
before=$(sql "select count(*) from cases")
sql ".backup '$dbdir/copy.sqlite'"
chown complaint-milter "$dbdir/copy.sqlite"
mv "$dbdir/copy.sqlite" "$db"
rm -f "$db-wal" "$db-shm"
check "replaced: complaint accepted (250)" test "$(smtp replaced)" = 250
check "replaced: the case went into the new file" test "$(sql "select count(*) from cases")" = $((before + 1))
check "replaced: integrity_check ok" test "$(sql 'pragma integrity_check')" = ok
check "the milter ran through every fault (one process)" alive
ids=$(sql "select count(*) - count(distinct case_id) from cases")
check "no case ID given twice" test "$ids" = 0

pf_stop "$pfdir" >/dev/null
stop_milter
echo "faults: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
