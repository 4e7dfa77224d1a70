#!/bin/sh
# tests/man.sh - the man pages: man(1) renders each without a warning, and
# complaint-milter.conf(5) documents every key of the program's own table
# (complaint-milter -K) with its type and default.
# Usage: tests/man.sh MILTER PAGE...
# Ends with "man: N passed, N failed"; exit 1 on any failure.
milter=$1
shift
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }

if ! command -v man >/dev/null; then
	echo "man: man-db not installed, man page checks skipped"
	exit 0
fi
conf5=
for p in "$@"; do
	# man --warnings prints troff's warnings on stderr; the page goes away
	w=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$p" 2>&1 >/dev/null)
	[ -z "$w" ] && ok || bad "$p: $w"
	head -1 "$p" | grep -q '^\.TH ' && ok || bad "$p: no .TH line"
	case $p in *.conf.5) conf5=$p ;; esac
done

if [ -n "$conf5" ]; then
	text=$(MANWIDTH=1000 man -E UTF-8 -l "$conf5" 2>/dev/null | col -b)
	# "Socket  string  default local:/run/...  libmilter socket: ..."
	"$milter" -K | while read -r key rest; do
		type=$(printf '%s\n' "$rest" | sed 's/ *default .*//')
		def=$(printf '%s\n' "$rest" | sed 's/.* default \(.*\)/\1/')
		case $def in
		'(empty)'*) def=empty ;;
		'(none)'*) def= ;;
		*)	# the default is one word, except ReplyFrom's "Name <addr>"
			case $key in ReplyFrom) def=$(printf '%s\n' "$def" | sed 's/\(>\).*/\1/') ;;
			*) def=${def%% *} ;; esac ;;
		esac
		entry=$(printf '%s\n' "$text" | awk -v k="$key" '
			$0 ~ "^       " k "$" { on = 1; next }
			on && /^       [^ ]/ { exit }
			on { print }')
		if [ -z "$entry" ]; then echo "FAIL - $conf5: no entry for $key"; continue; fi
		printf '%s\n' "$entry" | head -1 | grep -qF "$type" ||
			echo "FAIL - $conf5: $key: type \"$type\" not given"
		[ -z "$def" ] || printf '%s\n' "$entry" | head -3 | grep -qF "default $def" ||
			echo "FAIL - $conf5: $key: default \"$def\" not given"
		echo "KEY $key"
	done >"${TMPDIR:-/tmp}/cm-man.$$"
	n=$(grep -c '^KEY ' "${TMPDIR:-/tmp}/cm-man.$$")
	f=$(grep -c '^FAIL' "${TMPDIR:-/tmp}/cm-man.$$")
	grep '^FAIL' "${TMPDIR:-/tmp}/cm-man.$$"
	rm -f "${TMPDIR:-/tmp}/cm-man.$$"
	[ "$n" -ge 20 ] && ok || bad "complaint-milter -K listed only $n keys"
	pass=$((pass + n - f))
	fail=$((fail + f))
fi
echo "man: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
