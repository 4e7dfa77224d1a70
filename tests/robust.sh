#!/bin/sh
# Robustness: every message of ../shared/corpus/mime (about 400 real-world and
# malformed messages) yields exactly one JSON line from complaint-check, which
# exits 0.  With VALGRIND=1 the same run is done under valgrind's memcheck and
# any error or definite leak fails.  Skipped with a message when the corpus is
# absent.
# usage: tests/robust.sh build/complaint-check
set -u
check=${1:-build/complaint-check}
corpus=${MIME_CORPUS:-../shared/corpus/mime}
if [ ! -d "$corpus" ]; then
	echo "robust: $corpus not present, skipped"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
find "$corpus" -type f ! -name SOURCES.md ! -name 'ARTISTIC-LICENSE.txt' | sort > "$tmp/files"
n=$(wc -l < "$tmp/files")
run=""
if [ "${VALGRIND:-0}" = 1 ]; then
	export CM_RULES_NO_JIT=1	# JIT code confuses memcheck
	run="valgrind -q --suppressions=tests/valgrind.supp --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99"
fi
# one process for the whole corpus: state must not leak from one message to the next
tr '\n' '\0' < "$tmp/files" | xargs -0 $run "$check" -r rules --json > "$tmp/out.jsonl" 2> "$tmp/err"
rc=$?
lines=$(wc -l < "$tmp/out.jsonl")
python3 - "$tmp/out.jsonl" "$tmp/files" <<'PY'
import json, sys
files = [l.rstrip("\n") for l in open(sys.argv[2], encoding="utf-8", errors="replace")]
seen = []
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    obj = json.loads(line)          # raises on invalid JSON
    assert obj["verdict"] in ("accept", "reject", "flag"), line
    seen.append(obj["file"])
missing = set(files) - set(seen)
if missing or len(seen) != len(files):
    print("robust: %d files, %d results; missing: %s" % (len(files), len(seen), sorted(missing)[:5]))
    sys.exit(1)
PY
py=$?
# GLib criticals and warnings mean we handed a library something it rejects
if grep -q -E 'CRITICAL|GLib-WARNING|GMime-WARNING' "$tmp/err"; then
	grep -E 'CRITICAL|WARNING' "$tmp/err" | head -5
	rc=98
fi
if [ $rc -ne 0 ] || [ $py -ne 0 ] || [ "$lines" -ne "$n" ]; then
	cat "$tmp/err" | head -50
	echo "robust: 0 passed, 1 failed (exit $rc, $lines lines for $n messages)"
	exit 1
fi
echo "robust: $n messages, one JSON line each${run:+ under valgrind}"
echo "robust: 1 passed, 0 failed"
