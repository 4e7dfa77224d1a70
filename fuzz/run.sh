#!/bin/sh
# fuzz/run.sh - run the libFuzzer harnesses (make fuzz / make check-fuzz).
#
# usage: fuzz/run.sh FUZZDIR SECONDS [HARNESS...]
#   FUZZDIR   where make put the harnesses (build/fuzz); the working corpora
#             (FUZZDIR/corpus/NAME) and crash files (FUZZDIR/artifacts/) go
#             there too, never into the source tree
#   SECONDS   how long each harness fuzzes (after its regression inputs)
#   HARNESS   pipeline, rules, config (default: all three)
#
# Seeds, copied at run time into FUZZDIR/seeds/NAME (../shared is read-only
# test data that is not ours to copy into the project):
#   pipeline  tests/corpus/dev, tests/messages, tests/regress, ../shared/corpus/mime
#   rules     rules/*.rules, tests/regress/fuzz-rules
#   config    conf/complaint-milter.conf, tests/regress/fuzz-config
# First every file of tests/regress/fuzz-NAME/ (crashes found earlier) is run
# once: each must now pass.  A new crash, leak, timeout (10 s) or out-of-
# memory (2 GB) fails the run; the input is in FUZZDIR/artifacts/ and is
# printed: minimise it (FUZZDIR/fuzz_NAME -minimize_crash=1 FILE), fix the
# bug and add the file to tests/regress/fuzz-NAME/ (an .eml for the pipeline
# also goes to tests/regress/, where check-hostile runs it).
# Ends with "fuzz: N passed, N failed".
set -u
dir=${1:?usage: fuzz/run.sh FUZZDIR SECONDS [HARNESS...]}
secs=${2:?usage: fuzz/run.sh FUZZDIR SECONDS [HARNESS...]}
shift 2
[ $# -gt 0 ] || set -- pipeline rules config
pass=0
fail=0
mkdir -p "$dir/artifacts"

seed() { # seed NAME: fill $dir/seeds/NAME
	s=$dir/seeds/$1
	rm -rf "$s"
	mkdir -p "$s"
	case $1 in
	pipeline)
		for f in tests/corpus/dev/*.eml tests/messages/*.eml tests/regress/*.eml \
			tests/regress/fuzz-pipeline/*; do
			[ -f "$f" ] && cp "$f" "$s/$(echo "$f" | tr / _)"
		done
		if [ -d ../shared/corpus/mime ]; then
			find ../shared/corpus/mime -type f ! -name '*.md' ! -name '*LICENSE*' |
				while read -r f; do cp "$f" "$s/$(echo "$f" | tr -c 'A-Za-z0-9.\n-' _)"; done
		fi ;;
	rules)
		for f in rules/*.rules tests/regress/fuzz-rules/*; do [ -f "$f" ] && cp "$f" "$s/"; done
		# one file with every required class, so that loading gets past the checks
		cat rules/*.rules >"$s/all.rules" ;;
	config)
		cp conf/complaint-milter.conf "$s/"
		for f in tests/regress/fuzz-config/*; do [ -f "$f" ] && cp "$f" "$s/"; done
		printf 'Recipient a@example.com\nIncompleteAction flag\nMaxScanSize 1m\nSocketMode 0660\n' >"$s/small.conf" ;;
	esac
}

for h in "$@"; do
	bin=$dir/fuzz_$h
	if [ ! -x "$bin" ]; then
		echo "FAIL - fuzz_$h: $bin not built"
		fail=$((fail + 1))
		continue
	fi
	seed "$h"
	mkdir -p "$dir/corpus/$h"
	opts="-rss_limit_mb=2048 -timeout=10 -max_len=1048576 -print_final_stats=1"
	[ "$h" = pipeline ] || opts="-rss_limit_mb=2048 -timeout=10 -max_len=16384 -print_final_stats=1"
	export CM_FUZZ_RULES=rules ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
	# crashes found earlier: each runs once and must pass now
	reg=tests/regress/fuzz-$h
	if [ -d "$reg" ] && [ -n "$(ls -A "$reg" 2>/dev/null)" ]; then
		if "$bin" $opts "$reg"/* >"$dir/$h-regress.log" 2>&1; then
			echo "ok   - fuzz_$h: $(ls "$reg" | wc -l) regression inputs"
			pass=$((pass + 1))
		else
			echo "FAIL - fuzz_$h: a regression input fails again"
			tail -30 "$dir/$h-regress.log"
			fail=$((fail + 1))
			continue
		fi
	fi
	if "$bin" $opts -max_total_time="$secs" -artifact_prefix="$dir/artifacts/$h-" \
		"$dir/corpus/$h" "$dir/seeds/$h" >"$dir/$h.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$h.log" | tail -1)
		echo "ok   - fuzz_$h: ${runs:-?} runs in $secs s, corpus $(ls "$dir/corpus/$h" | wc -l) inputs"
		pass=$((pass + 1))
	else
		echo "FAIL - fuzz_$h: see $dir/$h.log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)|runtime error' \
			"$dir/$h.log" | head -10
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
