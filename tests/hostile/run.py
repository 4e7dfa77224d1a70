#!/usr/bin/env python3
"""Run complaint-check (and complaint-milter -t) on the hostile messages.

usage: tests/hostile/run.py [options] DIR [DIR...]
  --check BIN      complaint-check to run (default build/complaint-check)
  --milter BIN     complaint-milter for the cases marked "milter" (optional)
  --rules DIR      rules directory (default rules)
  --time S         per-message wall-clock bound in seconds (default 5)
  --mem MB         per-message bound on peak RSS (default 512)
  --vmem MB        address-space limit (ulimit -v) for each run; 0 = none
                   (default 0; AddressSanitizer needs a huge address space)
  --wrap CMD       prefix each run with CMD (e.g. "valgrind -q ...")
  --name LABEL     label of the closing line (default hostile)

Each DIR holds *.eml files and optionally expect.json (tests/hostile/gen.py
writes one; tests/regress/ has none: there only the bounds and the JSON line
are checked).  For every message, complaint-check --json must exit 0 within
the time bound, print exactly one line of valid JSON (strict UTF-8) with a
verdict, stay under the memory bound, and print nothing to stderr (no
sanitizer report, no GLib warning); expect.json adds what the verdict and
fields must be.  Cases marked "milter" also go through complaint-milter -t
(IncompleteAction reject, a fresh database): a decision (accept, reject,
tempfail is an error) within the bound, no CR or LF in any value we add or
change except Subject folding (LF followed by a tab or blank), no value of
ours longer than 998 bytes, a 550 reply only with our own text (no '%' of
the sender's), and the database still passes PRAGMA integrity_check.

Ends with "NAME: N passed, N failed"; exit 1 on any failure.
"""
import argparse
import json
import os
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def limit(vmem_mb):
    def pre():
        os.setsid()
        if vmem_mb:
            b = vmem_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (b, b))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return pre


def run(argv, timeout, vmem, env=None):
    """(rc, stdout bytes, stderr bytes, seconds, peak RSS MB); rc None on timeout."""
    t0 = time.monotonic()
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    p = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                         preexec_fn=limit(vmem), env=env)
    rc = None
    ru = None
    deadline = t0 + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            rc = os.waitstatus_to_exitcode(status)
            p.returncode = rc
            break
        if time.monotonic() > deadline:
            os.killpg(p.pid, signal.SIGKILL)
            pid, status, ru = os.wait4(p.pid, 0)
            p.returncode = -9
            rc = None
            break
        time.sleep(0.005)
    secs = time.monotonic() - t0
    out.seek(0)
    err.seek(0)
    return rc, out.read(), err.read(), secs, ru.ru_maxrss / 1024.0


class Runner:
    def __init__(self, a):
        self.a = a
        self.passed = 0
        self.failed = 0
        self.slowest = []
        self.tmp = tempfile.mkdtemp(prefix="cm-hostile.")
        self.wrap = shlex.split(a.wrap) if a.wrap else []
        self.bomb = None

    def fail(self, name, why):
        self.failed += 1
        print("FAIL - %s: %s" % (name, why))

    def rules_for(self, exp):
        if exp.get("rules") != "bomb":
            return self.a.rules
        if self.bomb is None:
            self.bomb = os.path.join(self.tmp, "rules-bomb")
            shutil.copytree(self.a.rules, self.bomb)
            with open(os.path.join(self.bomb, "zz-bomb.rules"), "w") as f:
                f.write("# backtracks catastrophically on aaaa...b\n"
                        "kind.product   (?:a|aa)+$\n")
        return self.bomb

    def check_one(self, path, exp):
        name = os.path.basename(path)
        rules = self.rules_for(exp)
        rc, out, err, secs, rss = run(self.wrap + [self.a.check, "-r", rules, "--json", path],
                                      self.a.time, self.a.vmem)
        self.slowest.append((secs, rss, name))
        bad = []
        if rc is None:
            bad.append("no decision within %.0f s" % self.a.time)
        elif rc != 0:
            bad.append("exit %d" % rc)
        if rss > self.a.mem:
            bad.append("peak RSS %.0f MB > %d MB" % (rss, self.a.mem))
        if err.strip():
            bad.append("stderr: %r" % err[:300])
        obj = None
        try:
            lines = out.decode("utf-8").splitlines()
            if len(lines) != 1:
                bad.append("%d output lines" % len(lines))
            else:
                obj = json.loads(lines[0])
        except (UnicodeDecodeError, ValueError) as e:
            bad.append("output not one JSON line in UTF-8: %s" % e)
        if obj is not None:
            v = obj.get("verdict")
            if v not in ("accept", "reject", "flag"):
                bad.append("verdict %r" % v)
            if exp.get("review") and obj.get("review") is not True:
                bad.append("review expected")
            if obj.get("review") and v == "reject":
                bad.append("rejected on a partial scan")
            if "verdict" in exp and v != exp["verdict"]:
                bad.append("verdict %s, expected %s" % (v, exp["verdict"]))
            if exp.get("not_verdict") and v == exp["not_verdict"]:
                bad.append("verdict must not be %s" % v)
            for k in ("models", "serials", "tickets"):
                for want in exp.get(k, []):
                    if want not in obj.get(k, []):
                        bad.append("%s %s not found (got %s)" % (k, want, obj.get(k, [])[:5]))
            if "kind" in exp and obj.get("kind") != exp["kind"]:
                bad.append("kind %s, expected %s" % (obj.get("kind"), exp["kind"]))
        if bad:
            self.fail(name, "; ".join(bad))
        else:
            self.passed += 1

    def milter_one(self, path, exp):
        name = os.path.basename(path) + " (milter -t)"
        rules = self.rules_for(exp)
        d = tempfile.mkdtemp(dir=self.tmp)
        conf = os.path.join(d, "t.conf")
        db = os.path.join(d, "cases.sqlite")
        with open(conf, "w") as f:
            f.write("Recipient complaints@example.com\nDatabase %s\nRulesDir %s\n"
                    "IncompleteAction reject\n" % (db, rules))
        rc, out, err, secs, rss = run(self.wrap + [self.a.milter, "-c", conf, "-F",
                                                   "<jan%s%n@example.org>", "-t", path],
                                      self.a.time, self.a.vmem)
        self.slowest.append((secs, rss, name))
        bad = []
        if rc is None:
            bad.append("no decision within %.0f s" % self.a.time)
        if rss > self.a.mem:
            bad.append("peak RSS %.0f MB > %d MB" % (rss, self.a.mem))
        text = out.decode("utf-8", "replace")
        results = [l for l in text.split("\n") if l.startswith("result: ")]
        if len(results) != 1 or results[0] not in ("result: accept", "result: reject"):
            bad.append("result %r (exit %s)" % (results, rc))
        # every output line is an edit, a reply, a quarantine or the result;
        # a line of anything else is a value that carried a line break
        cur = None
        for line in text.split("\n")[:-1]:
            if line.startswith(("addheader ", "chgheader ", "delheader ", "reply ",
                                "quarantine: ", "result: ")):
                cur = line
                if "\r" in line:
                    bad.append("CR in %r" % line[:80])
                if line.startswith("addheader ") and len(line) > 998 + 30:
                    bad.append("added header longer than 998: %r..." % line[:60])
                if line.startswith("reply ") and "%" in line:
                    bad.append("'%%' in the SMTP reply: %r" % line[:80])
                continue
            # a continuation: allowed only as Subject folding
            if not (cur and cur.startswith("chgheader Subject") and line[:1] in (" ", "\t")):
                bad.append("line break in a value: %r after %r" % (line[:60], (cur or "")[:40]))
        if exp.get("percent"):
            subj = [l for l in text.split("\n") if l.startswith("chgheader Subject")]
            if results == ["result: accept"] and not any("%" in l for l in subj):
                bad.append("'%' lost from the Subject")
        if "verdict" in exp and exp["verdict"] == "reject" and results != ["result: reject"]:
            bad.append("expected reject")
        if exp.get("review") and results == ["result: reject"]:
            bad.append("rejected on a partial scan")
        if "stderr" not in exp:
            for l in err.decode("utf-8", "replace").splitlines():
                if not l.startswith("log: "):
                    bad.append("stderr: %r" % l[:200])
                    break
        if os.path.exists(db):
            r = subprocess.run(["sqlite3", db, "PRAGMA integrity_check; SELECT count(*) FROM cases;"],
                               capture_output=True, text=True)
            lines = r.stdout.split()
            if not lines or lines[0] != "ok":
                bad.append("integrity_check: %r" % r.stdout[:200])
        if bad:
            self.fail(name, "; ".join(bad))
        else:
            self.passed += 1

    def run_dir(self, d):
        exp_path = os.path.join(d, "expect.json")
        expect = {}
        if os.path.exists(exp_path):
            with open(exp_path) as f:
                expect = json.load(f)
        files = sorted(f for f in os.listdir(d) if f.endswith(".eml"))
        for f in files:
            exp = expect.get(f, {})
            self.check_one(os.path.join(d, f), exp)
            if self.a.milter and exp.get("milter"):
                self.milter_one(os.path.join(d, f), exp)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", default="build/complaint-check")
    ap.add_argument("--milter")
    ap.add_argument("--rules", default="rules")
    ap.add_argument("--time", type=float, default=5)
    ap.add_argument("--mem", type=int, default=512)
    ap.add_argument("--vmem", type=int, default=0)
    ap.add_argument("--wrap")
    ap.add_argument("--name", default="hostile")
    ap.add_argument("dirs", nargs="+")
    a = ap.parse_args()
    r = Runner(a)
    t0 = time.monotonic()
    try:
        for d in a.dirs:
            r.run_dir(d)
    finally:
        shutil.rmtree(r.tmp, ignore_errors=True)
    r.slowest.sort(reverse=True)
    print("%s: %d runs in %.0f s; slowest: %s" % (
        a.name, len(r.slowest), time.monotonic() - t0,
        ", ".join("%s %.2f s %.0f MB" % (n, s, m) for s, m, n in r.slowest[:3])))
    print("%s: %d passed, %d failed" % (a.name, r.passed, r.failed))
    sys.exit(1 if r.failed else 0)


if __name__ == "__main__":
    main()
