#!/bin/sh
# Hostile input: the worst cases tests/hostile/gen.py writes (10 MB bodies,
# 100 KB header lines, 10,000 MIME parts, nesting 1,000 deep, NUL bytes,
# invalid UTF-8, broken base64/QP, RFC 2047 bombs, header injection, '%' and
# SQL in values, inputs built to make each rule class backtrack, a rule that
# hits pcre2's match limit) and the regression inputs in tests/regress/ go
# through complaint-check --json and, where marked, complaint-milter -t;
# tests/hostile/run.py says what each run must show (one JSON line, a
# decision within the time bound, peak RSS within the memory bound, nothing
# on stderr, review and verdict as expected, no line break in a header we
# write, no '%' of the sender's in a 550, PRAGMA integrity_check ok).
#
# usage: tests/hostile.sh [BUILDDIR]     build (default) or build/asan
#   VALGRIND=1  also run complaint-check under memcheck on every case of at
#               most 1 MB that is not about time (bt-*): any error or
#               definite leak fails
# Ends with "hostile: N passed, N failed" (one such line per run).
set -u
B=${1:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
if ! python3 tests/hostile/gen.py "$tmp/gen" >/dev/null; then
	echo "hostile: tests/hostile/gen.py failed"
	echo "hostile: 0 passed, 1 failed"
	exit 1
fi
case $B in
*asan*)
	# AddressSanitizer reserves terabytes of address space: no ulimit -v;
	# its shadow memory and slower code get wider bounds
	python3 tests/hostile/run.py --check "$B/complaint-check" --milter "$B/complaint-milter" \
		--time 60 --mem 3072 --vmem 0 --name hostile-asan "$tmp/gen" tests/regress || status=1 ;;
*)
	python3 tests/hostile/run.py --check "$B/complaint-check" --milter "$B/complaint-milter" \
		--time 5 --mem 512 --vmem 4096 "$tmp/gen" tests/regress || status=1 ;;
esac
if [ "${VALGRIND:-0}" = 1 ]; then
	mkdir "$tmp/vg"
	for f in "$tmp"/gen/*.eml tests/regress/*.eml; do
		case ${f##*/} in bt-* | regex-limit-*) continue ;; esac
		[ "$(stat -c %s "$f")" -le 1100000 ] && ln -s "$(cd "$(dirname "$f")" && pwd)/${f##*/}" "$tmp/vg/"
	done
	# JIT code confuses memcheck; the interpreter gives the same answers
	CM_RULES_NO_JIT=1 python3 tests/hostile/run.py --check "$B/complaint-check" \
		--wrap "valgrind -q --suppressions=tests/valgrind.supp --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99" \
		--time 300 --mem 4096 --name hostile-valgrind "$tmp/vg" || status=1
fi
exit $status
