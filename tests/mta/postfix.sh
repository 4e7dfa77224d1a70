#!/bin/bash
# tests/mta/postfix.sh — a private Postfix instance for integration tests.
#
# Usage (run as root; DIR must be an absolute path):
#   postfix.sh start DIR PORT [MILTER]
#       (Re)create the instance in DIR and start it; the SMTP server listens on
#       127.0.0.1:PORT only.  MILTER (e.g. unix:/run/cm-test/milter.sock) is
#       used for both smtpd_milters and non_smtpd_milters, with
#       milter_default_action = tempfail and milter_protocol = 6.  A leftover
#       instance running in DIR is stopped first.  The queue, the mailbox and
#       the log are wiped unless PF_KEEP=1 is set in the environment (use that
#       to restart with another milter and keep queued mail).
#       Returns once the port accepts connections (or fails after PF_WAIT s,
#       default 20, printing the maillog tail).
#   postfix.sh stop DIR          stop it; wait until it is really gone.
#   postfix.sh delivered DIR     paths of delivered messages, one per line
#                                (files in DIR/vmail/box/new and cur).
#   postfix.sh held DIR          queue IDs in the hold queue, one per line.
#   postfix.sh queued DIR        queue IDs still in the queue (any state).
#   postfix.sh flush DIR         postqueue -c DIR -f (retry deferred mail now).
#   postfix.sh wait DIR N [SECS] wait until at least N messages are delivered
#                                (default 20 s); exit 1 on timeout.
#   postfix.sh log DIR           print DIR/maillog.
#
# Layout of DIR: main.cf master.cf maillog queue/ data/ vmail/box/{new,cur,tmp}.
# Every address @example.com is delivered into the Maildir DIR/vmail/box/,
# except hold@example.com, which Postfix itself puts on hold (to test "held").
# Other domains are relayed from 127.0.0.0/8 to "error:" (bounced at once),
# so nothing ever leaves the machine.
#
# The milter socket must be connectable by user postfix: its file needs mode
# 0666 (or postfix's group), and every directory above it must be traversable.
#
# Milter macros (Postfix defaults, written out explicitly in main.cf):
#   connect: j {daemon_name} {daemon_addr} v _
#   MAIL:    i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host}
#            {mail_mailer}
#   RCPT:    i {rcpt_addr} {rcpt_host} {rcpt_mailer}
#   DATA, end of headers, end of message: i
# libmilter's smfi_getsymval() also finds macros of earlier stages of the same
# message, so at end of message {i}, {mail_addr} and the last {rcpt_addr} are
# all available (the milter must not switch off MAIL/RCPT events for that).
# {i} is not known yet at MAIL time (smtpd_delay_open_until_valid_rcpt = yes).
#
# The functions can also be used after sourcing this file with PF_LIB=1 set:
#   PF_LIB=1 . tests/mta/postfix.sh; pf_start "$dir" 2525 unix:/run/x/sock
set -u

pf_die() {
	echo "postfix.sh: $*" >&2
	return 1
}

pf_checkdir() {
	case "${1:-}" in
	/?*) ;;
	*) pf_die "DIR must be an absolute path, not '${1:-}'" ;;
	esac
}

# Is a master process running for instance DIR?
pf_running() {
	[ -f "$1/main.cf" ] || return 1
	postfix -c "$1" status >/dev/null 2>&1
}

pf_port_open() {
	timeout 2 bash -c ": </dev/tcp/127.0.0.1/$1" 2>/dev/null
}

pf_stop() {
	local dir=$1 i pid
	pf_checkdir "$dir" || return 1
	pf_running "$dir" || return 0
	postfix -c "$dir" stop >/dev/null 2>&1
	for ((i = 0; i < 100; i++)); do
		pf_running "$dir" || return 0
		sleep 0.1
	done
	# Graceful stop did not finish in 10 s: abort, then kill the master.
	postfix -c "$dir" abort >/dev/null 2>&1
	for ((i = 0; i < 50; i++)); do
		pf_running "$dir" || return 0
		sleep 0.1
	done
	pid=$(tr -dc 0-9 <"$dir/queue/pid/master.pid" 2>/dev/null)
	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null
		sleep 0.5
	fi
	pf_running "$dir" && pf_die "cannot stop the instance in $dir"
	return 0
}

pf_write_config() {
	local dir=$1 port=$2 milter=$3 uid gid
	uid=$(id -u postfix) && gid=$(id -g postfix) ||
		pf_die "no user postfix (is postfix installed?)" || return 1

	cat >"$dir/main.cf" <<EOF
# Private Postfix instance written by tests/mta/postfix.sh — do not edit.
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-test-$port
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
myhostname = mx.test.example
mydomain = test.example
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
smtpd_banner = \$myhostname ESMTP test instance
biff = no
append_dot_mydomain = no
smtputf8_enable = no
# Nothing leaves the machine: every non-local destination bounces at once.
default_transport = error:outbound mail disabled in tests
relay_transport = error:outbound mail disabled in tests
smtp_dns_support_level = disabled
disable_vrfy_command = yes
# All mail for example.com lands in the Maildir $dir/vmail/box/.
virtual_mailbox_domains = example.com
virtual_mailbox_base = $dir/vmail
virtual_mailbox_maps = static:box/
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
virtual_minimum_uid = 1
# Fast retries, so mail deferred while the milter was down goes soon.
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
# Tests use big bursts from one address.
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_error_sleep_time = 0
# Test hook: mail to hold@example.com goes to the hold queue (see "held").
smtpd_recipient_restrictions = check_recipient_access inline:{ hold@example.com=HOLD }
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
EOF
	if [ -n "$milter" ]; then
		cat >>"$dir/main.cf" <<EOF
# The milter under test.
smtpd_milters = $milter
non_smtpd_milters = $milter
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 10s
milter_command_timeout = 30s
milter_content_timeout = 60s
milter_connect_macros = j {daemon_name} {daemon_addr} v _
milter_mail_macros = i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}
milter_rcpt_macros = i {rcpt_addr} {rcpt_host} {rcpt_mailer}
milter_data_macros = i
milter_end_of_header_macros = i
milter_end_of_data_macros = i
EOF
	fi

	cat >"$dir/master.cf" <<EOF
# Private Postfix instance written by tests/mta/postfix.sh — no chroot.
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$port inet n  -       n       -       -       smtpd
pickup    unix  n       -       n       2       1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

pf_start() {
	local dir=${1:-} port=${2:-} milter=${3:-} i
	pf_checkdir "$dir" || return 1
	case "$port" in
	'' | *[!0-9]*) pf_die "bad PORT '$port'" || return 1 ;;
	esac
	pf_stop "$dir" || return 1
	if pf_port_open "$port"; then
		pf_die "127.0.0.1:$port is already in use" || return 1
	fi

	# DIR and every missing parent 0755; existing parents must be traversable.
	(umask 022 && mkdir -p "$dir") || return 1
	chmod 755 "$dir"
	local p=$dir
	while [ "$p" != / ] && [ -n "$p" ]; do
		if [ "$(stat -c %A "$p" | cut -c10)" != x ] &&
			[ "$(stat -c %A "$p" | cut -c10)" != t ]; then
			pf_die "$p is not traversable by others (postfix needs o+x)" ||
				return 1
		fi
		p=$(dirname "$p")
	done

	if [ "${PF_KEEP:-0}" != 1 ]; then
		rm -rf "${dir:?}/queue" "${dir:?}/data" "${dir:?}/vmail" \
			"${dir:?}/maillog"
	fi
	mkdir -p "$dir/queue" "$dir/data" "$dir/vmail/box/new" \
		"$dir/vmail/box/cur" "$dir/vmail/box/tmp" || return 1
	chown root:root "$dir/queue" && chmod 755 "$dir/queue"
	chown -R postfix:postfix "$dir/data" "$dir/vmail"
	chmod 700 "$dir/data"
	touch "$dir/maillog"
	pf_write_config "$dir" "$port" "$milter" || return 1

	# "postfix start" creates the missing queue subdirectories itself
	# (post-install create-missing).  Its warnings "not owned by root" about
	# DIR/queue, DIR/data and DIR/vmail are expected: they live under the
	# config directory.
	local out
	if ! out=$(script -qec "postfix -c '$dir' start" /dev/null 2>&1); then
		echo "$out" >&2
		tail -n 20 "$dir/maillog" >&2
		pf_die "postfix -c $dir start failed" || return 1
	fi
	for ((i = 0; i < ${PF_WAIT:-20} * 10; i++)); do
		if pf_port_open "$port"; then
			return 0
		fi
		sleep 0.1
	done
	tail -n 20 "$dir/maillog" >&2
	pf_die "127.0.0.1:$port does not accept connections after ${PF_WAIT:-20} s"
}

pf_delivered() {
	pf_checkdir "${1:-}" || return 1
	find "$1/vmail/box/new" "$1/vmail/box/cur" -type f 2>/dev/null | sort
}

pf_held() {
	pf_checkdir "${1:-}" || return 1
	find "$1/queue/hold" -type f -printf '%f\n' 2>/dev/null | sort
}

pf_queued() {
	pf_checkdir "${1:-}" || return 1
	find "$1/queue/incoming" "$1/queue/active" "$1/queue/deferred" \
		"$1/queue/hold" "$1/queue/maildrop" -type f -printf '%f\n' \
		2>/dev/null | sort
}

pf_flush() {
	pf_checkdir "${1:-}" || return 1
	postqueue -c "$1" -f
}

pf_wait() {
	local dir=${1:-} n=${2:-1} secs=${3:-20} i
	pf_checkdir "$dir" || return 1
	for ((i = 0; i <= secs * 10; i++)); do
		[ "$(pf_delivered "$dir" | wc -l)" -ge "$n" ] && return 0
		sleep 0.1
	done
	pf_die "fewer than $n messages delivered in $dir after $secs s"
}

if [ "${PF_LIB:-0}" != 1 ]; then
	cmd=${1:-}
	shift || true
	case "$cmd" in
	start) pf_start "$@" ;;
	stop) pf_stop "${1:-}" ;;
	delivered) pf_delivered "${1:-}" ;;
	held) pf_held "${1:-}" ;;
	queued) pf_queued "${1:-}" ;;
	flush) pf_flush "${1:-}" ;;
	wait) pf_wait "$@" ;;
	log) pf_checkdir "${1:-}" && cat "$1/maillog" ;;
	*)
		awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' \
			"$0" >&2
		exit 2
		;;
	esac
fi
