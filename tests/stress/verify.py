#!/usr/bin/env python3
"""Check what a stress run left: tests/stress.sh calls this after the load.

usage: verify.py --results FILE --db DB --maildir DIR [--rss FILE] [--label L]

  results  what load.py wrote (number kind message-id result attempts)
  db       the milter's database
  maildir  where Postfix delivered (new/ and cur/)
  rss      "seconds kB" samples of the milter's VmRSS (one process; the
           crash run has none)

Checks, each printed as ok/FAIL:
  - every message got a final answer; no complaint was rejected
  - every accepted message was delivered exactly once
  - every accepted complaint has exactly one case
  - every case belongs to an accepted complaint (no case without its message)
  - every case ID is on exactly one delivered message, the one whose
    Message-ID the case recorded, in X-Case-ID and the Subject tag
  - no case ID was given twice (case_id and (year, node, seq) distinct)
  - ordinary mail carries no header of ours
  - PRAGMA integrity_check is ok
  - RSS flat: after the first fifth of the run, the median of the last
    fifth is at most 10 % (and 8 MB) above the median of the second fifth
Ends with "LABEL: N passed, N failed".
"""
import argparse
import email.parser
import email.policy
import os
import re
import sqlite3
import statistics
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--rss")
    ap.add_argument("--label", default="stress")
    a = ap.parse_args()
    passed = failed = 0

    def check(desc, cond, detail=""):
        nonlocal passed, failed
        if cond:
            passed += 1
            print("ok   - %s" % desc)
        else:
            failed += 1
            print("FAIL - %s%s" % (desc, (": " + detail) if detail else ""))

    msgs = {}
    for line in open(a.results):
        n, kind, mid, result, attempts = line.split()
        msgs[mid] = (kind, result, int(attempts))
    results = {}
    for kind, result, _ in msgs.values():
        results[(kind, result)] = results.get((kind, result), 0) + 1
    check("every message got a final answer (%s)" % ", ".join(
        "%d %s %s" % (v, k[0], k[1]) for k, v in sorted(results.items())),
        not any(r == "unsent" for _, r, _ in msgs.values()))
    check("no complaint rejected", results.get(("complaint", "rejected"), 0) == 0 and
          results.get(("ordinary", "rejected"), 0) == 0)
    accepted = {m for m, (k, r, _) in msgs.items() if r == "accepted"}
    complaints = {m for m in accepted if msgs[m][0] == "complaint"}

    # delivered messages: Message-ID -> list of (X-Case-ID values, Subject)
    hp = email.parser.BytesHeaderParser(policy=email.policy.compat32)
    delivered = {}
    nfiles = 0
    for sub in ("new", "cur"):
        d = os.path.join(a.maildir, sub)
        if not os.path.isdir(d):
            continue
        for fn in os.listdir(d):
            with open(os.path.join(d, fn), "rb") as f:
                h = hp.parse(f)
            nfiles += 1
            mid = (h.get("Message-ID") or "").strip().strip("<>")
            delivered.setdefault(mid, []).append(
                ([v.strip() for v in h.get_all("X-Case-ID") or []], str(h.get("Subject") or "")))
    run = next(iter(msgs)).rsplit("-", 1)[0] + "-" if msgs else "stress-"
    ours = {m for m in delivered if m.startswith(run)}
    dup = [m for m in accepted if len(delivered.get(m, [])) > 1]
    lost = [m for m in accepted if m not in delivered]
    check("every accepted message delivered (%d files)" % nfiles, not lost,
          "%d not delivered, e.g. %s" % (len(lost), lost[:3]))
    check("each exactly once", not dup, "%d twice, e.g. %s" % (len(dup), dup[:3]))
    check("nothing delivered that was not accepted", ours <= accepted,
          str(sorted(ours - accepted)[:3]))

    db = sqlite3.connect("file:%s?mode=ro" % a.db, uri=True, timeout=30)
    rows = db.execute("SELECT case_id, message_id, year, node, seq FROM cases").fetchall()
    by_mid = {}
    for cid, mid, *_ in rows:
        by_mid.setdefault(mid, []).append(cid)
    no_case = [m for m in complaints if m not in by_mid]
    two = [m for m, c in by_mid.items() if len(c) > 1]
    check("every accepted complaint has a case (%d cases)" % len(rows), not no_case,
          "%d without, e.g. %s" % (len(no_case), no_case[:3]))
    check("none has two", not two, "%d with two or more, e.g. %s" % (len(two), two[:3]))
    orphans = [m for m in by_mid if m not in complaints]
    check("every case belongs to an accepted complaint", not orphans,
          "%d cases without an accepted message, e.g. %s" % (len(orphans), orphans[:3]))
    ids = [r[0] for r in rows]
    seqs = [(r[2], r[3], r[4]) for r in rows]
    check("no case ID given twice", len(set(ids)) == len(ids) and len(set(seqs)) == len(seqs))

    on_mail = {}
    wrong = []
    for mid in complaints:
        for hdrs, subj in delivered.get(mid, []):
            cid = by_mid.get(mid, [None])[0]
            if hdrs != [cid] or ("[%s]" % cid) not in subj:
                wrong.append((mid, hdrs, subj[:60], cid))
            for h in hdrs:
                on_mail[h] = on_mail.get(h, 0) + 1
    check("each delivered complaint carries its case's ID (X-Case-ID and Subject)", not wrong,
          "%d wrong, e.g. %s" % (len(wrong), wrong[:2]))
    not_once = [c for c in ids if on_mail.get(c, 0) != 1]
    check("every case ID on exactly one delivered message", not not_once,
          "%d not, e.g. %s" % (len(not_once), [(c, on_mail.get(c, 0)) for c in not_once[:3]]))
    tagged = [m for m in accepted if msgs[m][0] == "ordinary" and
              any(h for h, _ in delivered.get(m, []))]
    check("ordinary mail untouched (no X-Case-ID)", not tagged, str(tagged[:3]))
    ic = db.execute("PRAGMA integrity_check").fetchall()
    check("PRAGMA integrity_check ok", ic == [("ok",)], str(ic[:3]))

    if a.rss:
        samples = []
        for line in open(a.rss):
            p = line.split()
            if len(p) == 2:
                samples.append((float(p[0]), int(p[1])))
        if len(samples) >= 10:
            k = len(samples) // 5
            second = statistics.median(s[1] for s in samples[k:2 * k])
            last = statistics.median(s[1] for s in samples[-k:])
            peak = max(s[1] for s in samples)
            limit = second + max(second * 0.10, 8192)
            check("milter RSS flat: %.1f MB in the second fifth, %.1f MB in the last, peak %.1f MB "
                  "(%d samples)" % (second / 1024, last / 1024, peak / 1024, len(samples)),
                  last <= limit)
        else:
            check("enough RSS samples", False, "%d" % len(samples))
    print("%s: %d passed, %d failed" % (a.label, passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
