#!/usr/bin/env python3
"""Static checks of the C sources (milter/*.c): no shell, SQL only prepared.

usage: tests/privilege/sqlcheck.py [DIR]      (default milter)

  - no system(), popen(), exec*p() (PATH search), "/bin/sh" or "sh -c":
    the one program we run (sendmail, submit.c) goes through fork and execv
    with an explicit argument vector
  - no sqlite3_mprintf / sqlite3_vmprintf / sqlite3_snprintf: SQL is never
    built by formatting
  - no string literal that looks like SQL (SELECT, INSERT, UPDATE, DELETE,
    REPLACE, WHERE, VALUES: our SQL is written in capitals) holds a printf
    conversion; the one exception is
    "PRAGMA user_version = %d" (an integer of our own)
  - sqlite3_exec() and store.c's exec() are only called with a string
    literal or a fixed table of literals (migrations[]), never with text
    that came from a message: values go through sqlite3_bind_*
Prints each finding; ends with "sqlcheck: N passed, N failed".
"""
import os
import re
import sys

d = sys.argv[1] if len(sys.argv) > 1 else "milter"
findings = {"shell": [], "mprintf": [], "sqlfmt": [], "exec": []}
SQLWORD = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|REPLACE|WHERE|VALUES)\b")
CONV = re.compile(r"%[-+ #0-9.*]*[sdiuxXqQzc]")
LIT = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def strip_comments(src):
    return re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), src, flags=re.S)


for fn in sorted(os.listdir(d)):
    if not fn.endswith(".c"):
        continue
    path = os.path.join(d, fn)
    src = strip_comments(open(path, encoding="utf-8", errors="replace").read())
    for no, line in enumerate(src.split("\n"), 1):
        where = "%s:%d: %s" % (path, no, line.strip()[:100])
        if re.search(r"\b(system|popen|execlp|execvp|execvpe)\s*\(", line) or \
                "/bin/sh" in line or re.search(r'"(ba)?sh"', line):
            findings["shell"].append(where)
        if re.search(r"\bsqlite3_(v?mprintf|snprintf|vsnprintf)\s*\(", line):
            findings["mprintf"].append(where)
        for lit in LIT.findall(line):
            if SQLWORD.search(lit) and CONV.search(lit) and \
                    "PRAGMA user_version = %d" not in lit:
                findings["sqlfmt"].append(where)
        m = re.search(r"\bsqlite3_exec\s*\(\s*[^,]+,\s*([^,]+),", line) or \
            re.search(r"\bexec\s*\(\s*st\s*,\s*([^)]+)\)", line)
        if m:
            arg = m.group(1).strip()
            # literals, the migration table, and the one formatted integer pragma
            if not (arg.startswith('"') or re.fullmatch(r"migrations\[\*?v\]", arg) or
                    (fn == "store_schema.c" and arg == "sql") or
                    (fn == "store.c" and arg == "sql" and "static int" not in line)):
                findings["exec"].append(where)

# store.c's exec(st, sql) wrapper passes its argument on: check every caller
src = strip_comments(open(os.path.join(d, "store.c"), encoding="utf-8").read())
for m in re.finditer(r"\bexec\s*\(\s*st\s*,\s*([^)]*)\)", src):
    if not m.group(1).strip().startswith('"'):
        findings["exec"].append("store.c: exec(st, %s)" % m.group(1).strip())

names = {
    "shell": "no shell, no PATH search: system/popen/execvp/\"sh -c\"",
    "mprintf": "no SQL built with sqlite3_mprintf",
    "sqlfmt": "no SQL text with printf conversions",
    "exec": "sqlite3_exec/exec only with literal SQL",
}
passed = failed = 0
for k, v in findings.items():
    if v:
        failed += 1
        print("FAIL - %s" % names[k])
        for w in v[:10]:
            print("       %s" % w)
    else:
        passed += 1
        print("ok   - %s" % names[k])
print("sqlcheck: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
