#!/usr/bin/env python3
"""Compare `complaint-check --json` output with NNN-name.expected.json files.

usage: score.py DIR RESULTS.jsonl

Same fields and normalisation as the shared scorer: lists compared as sets of
values upper-cased with spaces, '-', '_', '.', '/', '#' removed; for automatic
mail only auto_submitted, missing and case_ref count; a language expected as
null is not compared.  Prints each mismatch and a closing
"corpus DIR: N passed, N failed" line (one per message); exit 1 on a mismatch.
"""
import json, os, re, sys

FIELDS = ["kind", "tickets", "models", "serials", "description", "solution_idea",
          "missing", "language", "case_ref", "auto_submitted"]


def norm(v):
    return re.sub(r"[\s\-_./#]", "", str(v)).upper()


def same(field, want, got):
    if field in ("tickets", "models", "serials", "missing"):
        return isinstance(got, list) and sorted({norm(x) for x in want}) == sorted({norm(x) for x in got})
    if field == "case_ref":
        return (want is None and got in (None, "")) or (want is not None and got is not None and norm(want) == norm(got))
    if field == "language":
        return got is not None and str(got).lower().startswith(want)
    return want == got


def main(corpus, results):
    got = {}
    with open(results, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                obj = json.loads(line)
                got[os.path.basename(obj["file"])] = obj
    passed = failed = 0
    for name in sorted(os.listdir(corpus)):
        if not name.endswith(".expected.json"):
            continue
        eml = name[:-len(".expected.json")] + ".eml"
        with open(os.path.join(corpus, name), encoding="utf-8") as f:
            want = json.load(f)
        have = got.get(eml)
        fields = ["auto_submitted", "missing", "case_ref"] if want.get("auto_submitted") else FIELDS
        bad = []
        for field in fields:
            if field == "language" and want.get("language") is None:
                continue
            if have is None or not same(field, want.get(field), have.get(field)):
                bad.append("%s: expected %s, got %s" % (field, json.dumps(want.get(field), ensure_ascii=False),
                           "no result" if have is None else json.dumps(have.get(field), ensure_ascii=False)))
        if bad:
            failed += 1
            for b in bad:
                print("  %s %s" % (eml, b))
        else:
            passed += 1
    print("corpus %s: %d passed, %d failed" % (corpus, passed, failed))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
