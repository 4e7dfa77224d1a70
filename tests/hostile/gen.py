#!/usr/bin/env python3
"""Write hostile messages (worst cases for the pipeline) into a directory.

usage: tests/hostile/gen.py OUTDIR

Writes OUTDIR/NAME.eml for every case and OUTDIR/expect.json, which says
for each file what tests/hostile/run.py checks beyond "one JSON line within
the time and memory bound":

  review      true: the scan must be marked partial ("review": true)
  verdict     the verdict the message must get (accept, flag, reject)
  not_verdict a verdict it must never get
  milter      also run through complaint-milter -t (header edits checked)
  rules       a rules directory the case needs instead of rules/
              ("bomb": rules/ plus a catastrophically backtracking rule)
  models/serials/tickets  values that must be found
  kind        the kind that must be found

Standard library only; deterministic (no randomness), so a failure can be
reproduced from the file alone.  About 40 MB in all.
"""
import base64
import json
import os
import sys

MB = 1024 * 1024

# A complete English product complaint: model, serial, description.
COMPLETE = (
    "Dear Sir or Madam,\n\n"
    "Our inverter SUN2000-5KTL-L1 has been switching itself off several times a day\n"
    "since the firmware update last month. The monitoring app then shows no\n"
    "production at all and the display stays dark until the next morning.\n\n"
    "Serial number: HV2150123456\n\n"
    "Kind regards,\nJan Jansen\n"
)
# A product complaint without a model: incomplete, rejected under
# IncompleteAction reject unless the scan was partial.
NO_MODEL = (
    "Dear Sir or Madam,\n\n"
    "This is a product complaint. Our inverter has been switching itself off\n"
    "several times a day since the firmware update last month. The monitoring\n"
    "app then shows no production at all and the display stays dark.\n\n"
    "Kind regards,\nJan Jansen\n"
)

cases = {}


def headers(name, subject="Inverter complaint", extra="", ctype="text/plain; charset=utf-8",
            cte=None, frm="Jan Jansen <jan@example.org>"):
    h = ("From: %s\r\nTo: complaints@example.com\r\nSubject: %s\r\n"
         "Date: Wed, 18 Nov 2026 09:01:00 +0100\r\nMessage-ID: <hostile-%s@test.example>\r\n"
         "MIME-Version: 1.0\r\n" % (frm, subject, name))
    h += extra
    if ctype:
        h += "Content-Type: %s\r\n" % ctype
    if cte:
        h += "Content-Transfer-Encoding: %s\r\n" % cte
    return h.encode("utf-8", "surrogateescape")


def crlf(text):
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogateescape")
    return text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def case(name, data, **expect):
    cases[name] = (data, expect)


def simple(name, body, subject="Inverter complaint", extra="", **expect):
    case(name, headers(name, subject, extra) + b"\r\n" + crlf(body), **expect)


def filler(nbytes, line="The weather was fine and nothing else happened that day at all.\n"):
    return (line * (nbytes // len(line) + 1))[:nbytes]


# ---- size ----------------------------------------------------------------

# 10 MB of text after a complete complaint: cut at MaxScanSize, so review.
simple("body-10mb", COMPLETE + filler(10 * MB), review=True, not_verdict="reject",
       models=["SUN2000-5KTL-L1"], milter=True)
# The same as one 10 MB base64 part.
case("body-10mb-base64",
     headers("body-10mb-base64", cte="base64") + b"\r\n" +
     base64.encodebytes((COMPLETE + filler(10 * MB)).encode()).replace(b"\n", b"\r\n"),
     review=True, not_verdict="reject", models=["SUN2000-5KTL-L1"])
# 10 MB in one line without a single line break.
simple("body-10mb-one-line", COMPLETE + "x" * (10 * MB), review=True, not_verdict="reject")
# An incomplete complaint whose text goes past MaxScanSize: never rejected.
simple("incomplete-truncated", NO_MODEL + filler(2 * MB), review=True, not_verdict="reject",
       milter=True)

# ---- headers ---------------------------------------------------------------

long_subject = "Inverter " + "complaint " * 10000
simple("header-100k-subject", COMPLETE, subject=long_subject, milter=True,
       models=["SUN2000-5KTL-L1"])
simple("header-100k-other", COMPLETE, extra="X-Long: " + "y" * (100 * 1024) + "\r\n",
       models=["SUN2000-5KTL-L1"], milter=True)
folded = "X-Folded: start" + "".join("\r\n\tword%05d" % i for i in range(10000)) + "\r\n"
simple("header-100k-folded", COMPLETE, extra=folded, models=["SUN2000-5KTL-L1"], milter=True)
simple("header-2000-headers", COMPLETE,
       extra="".join("X-Many-%d: value %d\r\n" % (i, i) for i in range(2000)),
       models=["SUN2000-5KTL-L1"], milter=True)
# No header/body separator at all; only headers.
case("header-only-no-body", headers("header-only-no-body"))
# Garbage that is no message at all.
case("not-a-message", bytes(range(256)) * 4000)
case("empty", b"")
case("only-newlines", b"\r\n" * 100000)

# ---- MIME structure ----------------------------------------------------------


def multipart(name, parts, boundary="b0", subtype="mixed", extra=""):
    out = headers(name, ctype='multipart/%s; boundary="%s"' % (subtype, boundary), extra=extra)
    out += b"\r\nPreamble.\r\n"
    for p in parts:
        out += b"--" + boundary.encode() + b"\r\n" + p + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    return out


def textpart(body, ctype="text/plain; charset=utf-8", cte=None, extra=b""):
    h = b"Content-Type: " + ctype.encode() + b"\r\n"
    if cte:
        h += b"Content-Transfer-Encoding: " + cte.encode() + b"\r\n"
    return h + extra + b"\r\n" + crlf(body)


# 10,000 parts; the complaint in the first one.  Parts past the leaf cap are
# not read: a partial scan.
case("parts-10000",
     multipart("parts-10000", [textpart(COMPLETE)] + [textpart("part %d\n" % i) for i in range(9999)]),
     review=True, not_verdict="reject", models=["SUN2000-5KTL-L1"], milter=True)
# The model only in part 9,000: not seen, and so never rejected.
case("parts-10000-model-late",
     multipart("parts-10000-model-late",
               [textpart(NO_MODEL)] + [textpart("part %d\n" % i) for i in range(8999)] +
               [textpart("Model: SUN2000-5KTL-L1\n")] + [textpart("x\n")] * 999),
     review=True, not_verdict="reject", milter=True)


def nested_multipart(depth, inner):
    body = inner
    for d in range(depth, 0, -1):
        b = ("n%d" % d).encode()
        body = (b'Content-Type: multipart/mixed; boundary="' + b + b'"\r\n\r\n--' + b + b"\r\n" +
                body + b"\r\n--" + b + b"--\r\n")
    return body


def nested_message(depth, inner):
    body = inner
    for d in range(depth, 0, -1):
        body = (b"Content-Type: message/rfc822\r\n\r\n"
                b"From: x%d@example.org\r\nSubject: level %d\r\n" % (d, d) + body)
    return body


for depth in (1000,):
    n = "nest-multipart-%d" % depth
    case(n, headers(n, ctype=None) + nested_multipart(depth, textpart(NO_MODEL)),
         review=True, not_verdict="reject", milter=True)
    n = "nest-rfc822-%d" % depth
    case(n, headers(n, ctype=None) + nested_message(depth, textpart(NO_MODEL)),
         review=True, not_verdict="reject", milter=True)
# Nested without closing boundaries, and boundaries that prefix each other.
open_nest = b""
for d in range(1000):
    open_nest += b'Content-Type: multipart/mixed; boundary="a' + b"a" * (d % 50) + b'"\r\n\r\n--a' + b"a" * (d % 50) + b"\r\n"
case("nest-unclosed", headers("nest-unclosed", ctype=None) + open_nest + textpart(NO_MODEL),
     review=True, not_verdict="reject")
# HTML: deep nesting, deep quotes with many paragraphs, entity floods.
# libxml2 stops at 256 levels: what is deeper is lost, a partial scan.
html_deep = "<html><body>" + "<div>" * 100000 + "<p>" + COMPLETE.replace("\n", "<br>") + "</p></body></html>"
case("html-div-100000", headers("html-div-100000", ctype="text/html; charset=utf-8") + b"\r\n" +
     html_deep.encode(), review=True, not_verdict="reject")
# 250 nested quotes before 120,000 short paragraphs: the text must stay of the
# order of the HTML (quote prefixes capped), not 150 MB.
html_quote = "<html><body>" + "<blockquote>" * 250 + "<p>x</p>" * 120000 + "</body></html>"
case("html-blockquote-20000", headers("html-blockquote-20000", ctype="text/html; charset=utf-8") +
     b"\r\n" + html_quote.encode(), review=True, not_verdict="reject", milter=True)
case("html-entities", headers("html-entities", ctype="text/html; charset=utf-8") + b"\r\n" +
     ("<p>" + "&amp;&#x10FFFF;&#0;&#xD800;&nbsp;&bogus;" * 50000 + "</p>").encode(),
     not_verdict="reject")
case("html-unclosed-tags", headers("html-unclosed-tags", ctype="text/html; charset=utf-8") + b"\r\n" +
     ("<table><tr><td>" * 30000 + "<li><ul>" * 30000 + "<pre>" * 10000).encode(),
     review=True, not_verdict="reject")

# ---- bytes -------------------------------------------------------------------

nul = COMPLETE.replace("switching", "swi\0tching").encode() + b"\0" * 1000 + b"\r\nSerial\0number: HV21\0501\r\n"
case("nul-bytes", headers("nul-bytes", subject="Inverter\0 complaint") + b"\r\n" + crlf(nul),
     models=["SUN2000-5KTL-L1"], milter=True)
bad_utf8 = (b"Inverter \xc0\xaf \xed\xa0\x80 \xf8\x88\x80\x80\x80 \xfe\xff \x80\x80 "
            b"SUN2000-5KTL-L1 \xe2\x82 caf\xe9 \xf4\x90\x80\x80\r\n") * 2000 + b"\xe2"
case("invalid-utf8", headers("invalid-utf8", subject="Klacht \xff\xfe \xc3") + b"\r\n" +
     crlf(COMPLETE) + bad_utf8, models=["SUN2000-5KTL-L1"], milter=True)
case("invalid-utf8-headers",
     b"From: \xff\xfe\xc3 <jan\xc3@example.org>\r\nTo: complaints@example.com\r\n"
     b"Subject: \xed\xa0\x80\xc0\xaf SUN2000-5KTL-L1 \xe2\x82\r\n"
     b"Message-ID: <hostile-\xff\xfe@test.example>\r\n\r\n" + crlf(NO_MODEL), milter=True)
for cs in ("x-no-such-charset", "utf-7", "iso-2022-jp", "utf-16", "utf-32", "ucs-2"):
    n = "charset-" + cs
    case(n, headers(n, ctype="text/plain; charset=" + cs) + b"\r\n" + crlf(COMPLETE) +
         b"\x1b$B\x1b(J\xff\xfe\x00\x00+AGEA-+/v8-" * 1000)

# ---- transfer encodings -------------------------------------------------------

b64 = base64.encodebytes(COMPLETE.encode()).decode()
broken_b64 = "!!!" + b64[:40] + "====\r\n" + "*&^%" * 100 + b64[40:] + "=\r\n" + "A" * 100001 + "\r\n"
case("base64-broken", headers("base64-broken", cte="base64") + b"\r\n" + broken_b64.encode())
case("base64-no-padding-huge", headers("base64-no-padding-huge", cte="base64") + b"\r\n" +
     b"QUFB" * 500000 + b"Q", not_verdict="reject")
qp = COMPLETE.replace("e", "=65") + "=\r\n" * 50000 + "=ZZ=4=\r\n=" + "a=\r\n" * 10000 + "x" * 200000 + "="
case("qp-broken", headers("qp-broken", cte="quoted-printable") + b"\r\n" + qp.encode(),
     models=["SUN2000-5KTL-L1"], milter=True)
case("cte-unknown", headers("cte-unknown", cte="x-uuencode-bomb") + b"\r\n" + crlf(COMPLETE))

# ---- RFC 2047 / 2231 -------------------------------------------------------------

ew = " ".join("=?utf-8?q?%s?=" % c for c in "ab" * 10000)
simple("rfc2047-bomb-many", COMPLETE, subject=ew, milter=True)
simple("rfc2047-bomb-huge", COMPLETE,
       subject="=?utf-8?b?" + base64.b64encode(("Ω SUN2000-5KTL-L1 " * 5000).encode()).decode() + "?=",
       milter=True)
simple("rfc2047-bad-charsets", COMPLETE,
       subject=" ".join("=?%s?%s?%s?=" % (cs, enc, txt) for cs, enc, txt in
                        [("x-bogus", "q", "a"), ("utf-8", "x", "b"), ("utf-8", "b", "!!!"),
                         ("utf-8*en", "q", "c"), ("", "q", "d"), ("utf-8", "q", "=ZZ=0"),
                         ("utf-16", "b", "AAAA"), ("iso-2022-jp", "b", "GyRC")] * 500),
       frm="=?utf-8?b?" + base64.b64encode(b"\xff\xfe evil \r\nBcc: x@example.org").decode() +
       "?= <jan@example.org>", milter=True)
nested_ew = "SUN2000-5KTL-L1"
for _ in range(6):
    nested_ew = "=?utf-8?b?" + base64.b64encode(nested_ew.encode()).decode() + "?="
simple("rfc2047-nested", COMPLETE, subject=nested_ew)
rfc2231 = "".join('; filename*%d*="utf-8\'\'%%41%%42"' % i for i in range(5000))
case("rfc2231-bomb",
     multipart("rfc2231-bomb", [textpart(COMPLETE),
                                 textpart("x", ctype="application/octet-stream" + rfc2231,
                                          extra=b"Content-Disposition: attachment" +
                                          rfc2231.encode() + b"\r\n")]),
     models=["SUN2000-5KTL-L1"])

# ---- header injection, format strings, SQL -------------------------------------------

inj_subject = "=?utf-8?q?Klacht=0D=0ABcc:_evil@example.org=0D=0A=0D=0Abody?= %s%n%x%% %%%"
simple("inject-subject-crlf", COMPLETE, subject=inj_subject, milter=True, percent=True)
simple("inject-percent-incomplete", NO_MODEL.replace("Dear", "Dear %s%n%%%"),
       subject="100% broken %s%n%x %% %", milter=True, percent=True, verdict="reject")
long_vals = ("Serial numbers: " + ", ".join("HV%010d" % i for i in range(500)) + "\n"
             "Ticket numbers: " + ", ".join("TCK-%08d" % i for i in range(500)) + "\n"
             "Models: " + ", ".join("SUN2000-%dKTL-L1" % (i % 100) for i in range(500)) + "\n"
             "Serial number: " + "A1" * 50000 + "\n"
             "Ticket: " + "9" * 100000 + "\n")
simple("inject-long-values", COMPLETE + long_vals, milter=True)
simple("inject-values-percent", COMPLETE + "Serial number: %s%n%x\nTicket: %08x%n\n"
       "Model: SUN2000-5KTL-L1%n\nSerial number: HV1234%0D%0ABcc\n", milter=True)
simple("sql-values", COMPLETE.replace("Jan Jansen", "Robert'); DROP TABLE cases;--") +
       "Ticket: 1234'--\nSerial number: 12345;DROP\nModel: SUN2000-5KTL-L1' OR '1'='1\n",
       subject="'; DELETE FROM cases; -- \" OR 1=1", frm="\"Robert'); DROP TABLE cases;--\" <bobby@example.org>",
       milter=True, models=["SUN2000-5KTL-L1"])
simple("inject-our-headers", COMPLETE, extra="X-Case-ID: CASE-1999-999999\r\nX-Complaint-Status: complete\r\n"
       "x-case-id: CASE-1999-999998\r\nX-Complaint-Model: evil\r\n", milter=True)

# ---- inputs built to make each rule class work hard ----------------------------------------

SCAN = 240 * 1024  # just under the default MaxScanSize (256k)


def bt(name, body, **expect):
    expect.setdefault("not_verdict", None)
    simple("bt-" + name, body, **expect)


bt("ticket-label-run", "ticket-" * (SCAN // 7))
bt("ticket-label-nr-run", "ticket nr. " * (SCAN // 11))
bt("ticket-value-letters", "Ticket: " + "a" * SCAN)
bt("ticket-value-dashes", "Ticket: " + "a-" * (SCAN // 2))
bt("ticket-value-digits-sparse", "Ticket: " + ("abcdefghij-" * 3 + "1") * (SCAN // 34))
bt("ticket-labels-alone", "Ticket number:\n" * (SCAN // 15))
bt("ticket-labels-alone-values", ("Ticket number:\n" + "1234\n" * 70) * (SCAN // 365))
bt("ticket-list", "Ticket: " + "1234, " * (SCAN // 6))
bt("ticket-list-words", "Ticket: 1234" + " en and und et &" * (SCAN // 16))
bt("ticket-bare", "TCK-" * (SCAN // 4) + "TCK-1234567890123")
bt("ticket-reject-dates", "Ticket: " + "12-12-" * (SCAN // 6))
bt("serial-label-run", "sn " * (SCAN // 3))
bt("serial-label-serials", "serials " * (SCAN // 8))
bt("serial-label-dash-run", "serial-" * (SCAN // 7))
bt("serial-label-sn-dash-run", "s/n-" * (SCAN // 4))
bt("serial-value-dashes", "Serial number: " + "a-" * (SCAN // 2))
bt("serial-value-groups", "Serial number: " + "12 " * (SCAN // 3))
bt("serial-groups-lines", ("Serial number: 1234 5678 9012 3456 7890\n") * (SCAN // 40))
bt("filler-van", "Serial number van " + "x " * (SCAN // 2))
bt("filler-paren", "Serial number " + "(" * SCAN)
bt("filler-words", "Serial number " + "is the was the ist der " * (SCAN // 23))
bt("value-never", "Ticket: +31" + " 1(" * (SCAN // 3))
bt("value-none", "Serial number: " + "-" * SCAN)
bt("value-none-q", "Serial number: " + "?" * SCAN)
bt("models-digits", "1 " * (SCAN // 2))
bt("models-sun2000", "SUN2000-" * (SCAN // 8))
bt("models-sb", "SB 1.5-1" * (SCAN // 8))
bt("models-iq", "IQ7-" + "60-" * (SCAN // 3))
bt("models-enphase", "M215-60-" + "a-" * (SCAN // 2))
bt("models-solax", "X1-Boost-" * (SCAN // 9))
bt("models-sunny", "Sunny Boy " * (SCAN // 10) + "1")
bt("models-primo", "Primo GEN24 Plus " * (SCAN // 17) + "1")
bt("reply-header-lines", ("on " + "x" * 197 + "\n") * (SCAN // 201))
bt("reply-header-op", ("op " + "x " * 100 + "schreef " + "@" * 100 + "\n") * (SCAN // 312))
bt("original-message", ("-" * 1000 + " original message\n") * (SCAN // 1018))
bt("forward-header-dashes", "-" * SCAN)
bt("forward-fields", "From:\nSent:\n" * (SCAN // 12))
bt("forward-fields-fwd", "---------- Forwarded message ---------\n" + "From: x\n" * (SCAN // 8))
bt("greeting-lines", ("hallo " + "a" * 49 + "\n") * (SCAN // 56))
bt("greeting-run", "hallo " * (SCAN // 6))
bt("closing-lines", ("groet " + "x" * 39 + "\n") * (SCAN // 46))
bt("closing-long-line", "regards " * (SCAN // 8))
bt("kind-run", "klacht over de " * (SCAN // 15))
bt("kind-complaint", "complaint about the " * (SCAN // 20))
bt("solution-label", "\n- oplossing " * (SCAN // 13))
bt("solution-idea", "solution idea: " * (SCAN // 15))
bt("language-none", "zzz " * (SCAN // 4))
bt("language-words", "het the der le " * (SCAN // 15))
bt("caseid-prefix", "CASE-2026-" * (SCAN // 10))
bt("caseid-short", "CASE-2026-12345 " * (SCAN // 16))
bt("escalate-followup", "CASE-2026-000001 " + "not " * (SCAN // 4) + " escalate" * 1000)
bt("quoted-lines", "> " * 10 + ("> x\n" * (SCAN // 4)))
bt("signature", "-- \n" * (SCAN // 4))
bt("bullets", ("Ticket numbers:\n" + "- 1234\n* 5678\n1. 9012\n" * 30) * (SCAN // 800))
simple("bt-subject-prefixes", COMPLETE, subject="Re: " * 25000, milter=True)
simple("bt-subject-prefixes-mixed", COMPLETE, subject="Re[2]: AW: Fwd: WG: " * 5000, milter=True)
# The same backtracking inputs as an incomplete complaint: whatever they cost,
# they must never turn into a reject on a partial scan.
bt("incomplete-ticket-value", NO_MODEL + "Ticket: " + "a-" * (SCAN // 2))

# ---- a rule that backtracks catastrophically (test rules: rules/ + bomb) ----------------------

# kind.product "(?:a|aa)+$" against a long run of a's that ends in "b": the
# match limit is hit, the scan is partial, the incomplete complaint is
# flagged for review, never rejected.
simple("regex-limit-incomplete", "a" * 60 + "b\n" + NO_MODEL, rules="bomb", review=True,
       verdict="flag", milter=True)
simple("regex-limit-complete", "a" * 60 + "b\n" + COMPLETE, rules="bomb", review=True,
       not_verdict="reject")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    expect = {}
    for name, (data, exp) in sorted(cases.items()):
        with open(os.path.join(out, name + ".eml"), "wb") as f:
            f.write(data)
        expect[name + ".eml"] = {k: v for k, v in exp.items() if v is not None}
    with open(os.path.join(out, "expect.json"), "w") as f:
        json.dump(expect, f, indent=1, sort_keys=True)
    print("%d hostile messages in %s" % (len(cases), out))


if __name__ == "__main__":
    main()
