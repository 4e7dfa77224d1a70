#!/bin/bash
# tests/mta/sendmail.sh — Sendmail 8.17 for integration tests, run from the
# Debian packages unpacked (never installed: sendmail-bin conflicts with
# postfix).  Run as root.
#
# Usage:
#   sendmail.sh prepare CACHE
#       apt-get download sendmail-bin sendmail-cf sendmail-base into CACHE and
#       unpack them into CACHE/root.  Skipped when
#       CACHE/root/usr/libexec/sendmail/sendmail exists.  Needs m4, libwrap0,
#       liblockfile1 (scripts/install-deps.sh --test) and the apt mirror.
#   sendmail.sh setup DIR CACHE MILTER_SOCKET_PATH
#       Write DIR/t.mc, build DIR/t.cf (milter "complaint" on
#       unix:MILTER_SOCKET_PATH, F=T: tempfail when the milter is
#       unavailable, T=S:4m;R:4m), create the queue DIR/q (emptied) and write
#       DIR/smtp.sh, a wrapper that speaks SMTP on stdin/stdout:
#           swaks --pipe DIR/smtp.sh --from a@example.org \
#                 --to complaints@example.com --data FILE.eml
#       Each run is one `sendmail -bs -odq` in a fresh UTS+network namespace
#       (hostname mx.test.example, only lo up), so nothing leaves the
#       machine and no DNS is tried.  Accepted mail stays queued in DIR/q:
#       qfID holds the envelope and the headers as the milter left them
#       (header lines start "H??"), dfID the body.
#   sendmail.sh queued DIR     the qf files in DIR/q, one path per line.
#
# MILTER_SOCKET_PATH: Sendmail refuses a socket whose directory path has a
# group- or world-writable component (/tmp!): use a root-owned 0755
# directory such as /run/NAME/.  The unix socket stays reachable from inside
# the network namespace (unix sockets are found by path, not by netns).
#
# Macros sent to the milter (set in t.mc; Sendmail's defaults plus i at EOM):
#   connect: j _ {daemon_name} {if_name} {if_addr}
#   MAIL:    i {auth_type} {auth_authen} {auth_ssf} {auth_author}
#            {mail_mailer} {mail_host} {mail_addr}
#   RCPT:    {rcpt_mailer} {rcpt_host} {rcpt_addr}
#   EOM:     {msg_id} i
# ({i}, the queue id, is known from MAIL on, unlike Postfix.)
#
# The functions can be used after sourcing with SM_LIB=1:
#   SM_LIB=1 . tests/mta/sendmail.sh; sm_setup "$dir" "$cache" /run/x/sock
set -u

sm_die() {
	echo "sendmail.sh: $*" >&2
	return 1
}

sm_abs() {
	case "${1:-}" in
	/?*) ;;
	*) sm_die "$2 must be an absolute path, not '${1:-}'" ;;
	esac
}

sm_prepare() {
	local cache=${1:-} f
	sm_abs "$cache" CACHE || return 1
	[ -x "$cache/root/usr/libexec/sendmail/sendmail" ] && return 0
	for p in m4 libwrap0 liblockfile1; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' ||
			sm_die "package $p is missing (scripts/install-deps.sh --test)" ||
			return 1
	done
	mkdir -p "$cache" || return 1
	# apt's _apt user must be able to write there, or apt warns.
	(cd "$cache" && apt-get download -q sendmail-bin sendmail-cf \
		sendmail-base >/dev/null 2>"$cache/download.log") || {
		cat "$cache/download.log" >&2
		sm_die "apt-get download failed"
		return 1
	}
	rm -rf "$cache/root.tmp"
	for f in "$cache"/sendmail-bin_*.deb "$cache"/sendmail-cf_*.deb \
		"$cache"/sendmail-base_*.deb; do
		[ -f "$f" ] || sm_die "missing $f" || return 1
		dpkg -x "$f" "$cache/root.tmp" || return 1
	done
	rm -rf "$cache/root"
	mv "$cache/root.tmp" "$cache/root"
	[ -x "$cache/root/usr/libexec/sendmail/sendmail" ] ||
		sm_die "no sendmail binary after unpacking"
}

# Every directory from / down to $1 must be root-owned and not writable by
# group or others (Sendmail's check on the milter socket path).
sm_check_sockdir() {
	local d=$1 perm owner
	while :; do
		if [ -d "$d" ]; then
			perm=$(stat -c %a "$d")
			owner=$(stat -c %u "$d")
			if [ "$owner" != 0 ] || [ $((8#$perm & 8#022)) -ne 0 ]; then
				sm_die "milter socket directory component $d (owner $owner, mode $perm) is group/world-writable or not root's: Sendmail will refuse it; use e.g. /run/NAME (root, 0755)"
				return 1
			fi
		fi
		[ "$d" = / ] && return 0
		d=$(dirname "$d")
	done
}

sm_setup() {
	local dir=${1:-} cache=${2:-} sock=${3:-} root cf
	sm_abs "$dir" DIR && sm_abs "$cache" CACHE &&
		sm_abs "$sock" MILTER_SOCKET_PATH || return 1
	root=$cache/root
	cf=$root/usr/share/sendmail/cf
	[ -x "$root/usr/libexec/sendmail/sendmail" ] ||
		sm_die "run: sendmail.sh prepare $cache" || return 1
	sm_check_sockdir "$(dirname "$sock")" || return 1

	(umask 022 && mkdir -p "$dir") || return 1
	rm -rf "${dir:?}/q"
	mkdir -m 700 "$dir/q" || return 1
	: >"$dir/aliases"
	: >"$dir/statistics"
	printf 'hosts\tfiles\naliases\tfiles\n' >"$dir/service.switch"

	cat >"$dir/t.mc" <<EOF
divert(-1)
# Written by tests/mta/sendmail.sh — do not edit.
divert(0)dnl
include(\`$cf/m4/cf.m4')dnl
VERSIONID(\`complaint-milter test instance')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.test.example')dnl
define(\`QUEUE_DIR', \`$dir/q')dnl
define(\`ALIAS_FILE', \`$dir/aliases')dnl
define(\`STATUS_FILE', \`$dir/statistics')dnl
define(\`HELP_FILE', \`$root/etc/mail/helpfile')dnl
define(\`confSERVICE_SWITCH_FILE', \`$dir/service.switch')dnl
define(\`confHOSTS_FILE', \`/etc/hosts')dnl
define(\`confDONT_PROBE_INTERFACES', \`true')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confMILTER_LOG_LEVEL', \`0')dnl
define(\`confMILTER_MACROS_EOM', \`{msg_id}, i')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`nocanonify')dnl
dnl Every remote recipient (e.g. complaints@example.com) is accepted and,
dnl with -odq, only queued: nothing is ever delivered.
define(\`SMART_HOST', \`[127.0.0.1]')dnl
INPUT_MAIL_FILTER(\`complaint', \`S=unix:$sock, F=T, T=S:4m;R:4m')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
	m4 -D_CF_DIR_="$cf/" "$dir/t.mc" >"$dir/t.cf.tmp" 2>"$dir/m4.log" || {
		cat "$dir/m4.log" >&2
		sm_die "m4 failed on $dir/t.mc"
		return 1
	}
	mv "$dir/t.cf.tmp" "$dir/t.cf"

	cat >"$dir/smtp.sh" <<EOF
#!/bin/sh
# Written by tests/mta/sendmail.sh: one Sendmail SMTP session on stdin/stdout,
# queue only, in a private UTS and network namespace (for swaks --pipe).
exec unshare -u -n sh -c 'hostname mx.test.example && ip link set lo up &&
	exec "$root/usr/libexec/sendmail/sendmail" -C "$dir/t.cf" -odq -bs'
EOF
	chmod 755 "$dir/smtp.sh"
}

sm_queued() {
	sm_abs "${1:-}" DIR || return 1
	find "$1/q" -maxdepth 1 -type f -name 'qf*' 2>/dev/null | sort
}

if [ "${SM_LIB:-0}" != 1 ]; then
	cmd=${1:-}
	shift || true
	case "$cmd" in
	prepare) sm_prepare "${1:-}" ;;
	setup) sm_setup "$@" ;;
	queued) sm_queued "${1:-}" ;;
	*)
		awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' \
			"$0" >&2
		exit 2
		;;
	esac
fi
