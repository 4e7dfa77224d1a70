#!/bin/sh
# Score complaint-check on the complaint corpora: the copy of the shared dev
# corpus in tests/corpus/dev, our own messages in tests/messages, and, when it
# is there, ../shared/corpus/complaints/dev with the shared scorer.
# usage: tests/corpus.sh build/complaint-check
set -u
check=${1:-build/complaint-check}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
for dir in tests/corpus/dev tests/messages; do
	ls "$dir"/*.eml >/dev/null 2>&1 || continue
	"$check" -r rules --json "$dir"/*.eml > "$tmp/r.jsonl" || { echo "complaint-check failed on $dir"; status=1; }
	python3 tests/score.py "$dir" "$tmp/r.jsonl" || status=1
done
shared=../shared/corpus/complaints/dev
if [ -d "$shared" ] && [ -x ../shared/tools/score-complaints ]; then
	"$check" -r rules --json "$shared"/*.eml > "$tmp/s.jsonl"
	../shared/tools/score-complaints "$shared" "$tmp/s.jsonl" --min 100 | tail -1 || status=1
else
	echo "corpus: ../shared/corpus/complaints/dev not present, skipped"
fi
exit $status
