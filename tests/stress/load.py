#!/usr/bin/env python3
"""SMTP load for tests/stress.sh: many messages over concurrent sessions.

usage: load.py --port P --count N --sessions S --run ID --out FILE
               [--complaints PCT] [--per-session K] [--deadline SECS]
               [--template EML]...

Sends N messages to 127.0.0.1:P (nothing else is ever contacted) over S
concurrent SMTP sessions, each session sending up to K messages before it
reconnects.  PCT percent are complaints (to complaints@example.com, built
from the --template messages, which must be complete complaints), the rest
ordinary mail (to box@example.com).  Every message has its own Message-ID
<stress-ID-NUMBER@test.example>.  A 4xx answer (or a dropped connection)
is what a sending MTA retries: the message goes back in the queue and is
sent again after a second or two, as many times as needed until the
deadline.  A 5xx is final.

Writes FILE: one line per message, "number kind message-id result attempts"
(result: accepted, rejected, or unsent when the deadline came first), and
prints a one-line summary.  Exit 0 when every message got a final answer.
"""
import argparse
import heapq
import random
import smtplib
import socket
import sys
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--sessions", type=int, default=32)
    ap.add_argument("--complaints", type=int, default=50)
    ap.add_argument("--per-session", type=int, default=20)
    ap.add_argument("--deadline", type=float, default=1800)
    ap.add_argument("--run", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--template", action="append", required=True)
    a = ap.parse_args()

    templates = []
    for t in a.template:
        with open(t, "rb") as f:
            raw = f.read().replace(b"\r\n", b"\n")
        lines = [l for l in raw.split(b"\n") if not l.lower().startswith(b"message-id:")]
        templates.append(b"\n".join(lines))
    ordinary = (b"From: Someone <someone@example.org>\nTo: box@example.com\n"
                b"Subject: Ordinary mail %d\n\nNothing to do with complaints.\n")

    kinds = {}
    for i in range(a.count):
        # spread the complaints evenly over the run
        kinds[i] = "complaint" if (i * a.complaints) // 100 != ((i + 1) * a.complaints) // 100 else "ordinary"
    state = {i: ["unsent", 0] for i in range(a.count)}
    lock = threading.Lock()
    ready = [(0.0, i) for i in range(a.count)]       # (not before, number)
    heapq.heapify(ready)
    left = [a.count]
    t0 = time.monotonic()
    deadline = t0 + a.deadline
    stats = {"tempfail": 0, "disconnect": 0}

    def mid(i):
        return "stress-%s-%d@test.example" % (a.run, i)

    def body(i):
        if kinds[i] == "ordinary":
            m = ordinary % i
        else:
            m = templates[i % len(templates)]
        return b"Message-ID: <" + mid(i).encode() + b">\n" + m

    def take():
        while True:
            with lock:
                if left[0] == 0 or time.monotonic() > deadline:
                    return None
                if ready and ready[0][0] <= time.monotonic():
                    return heapq.heappop(ready)[1]
            time.sleep(0.05)

    rnd = random.Random(a.count)    # reproducible, but no fixed period: a
                                    # retry must not fall into step with the
                                    # milter's kill-and-restart cycle

    def retry(i, why):
        with lock:
            stats[why] += 1
            heapq.heappush(ready, (time.monotonic() + rnd.uniform(0.3, 2.5), i))

    def done(i, result):
        with lock:
            state[i][0] = result
            left[0] -= 1

    def worker():
        conn = None
        sent = 0
        while True:
            i = take()
            if i is None:
                break
            state[i][1] += 1
            to = "complaints@example.com" if kinds[i] == "complaint" else "box@example.com"
            try:
                if conn is None or sent >= a.per_session:
                    if conn is not None:
                        try:
                            conn.quit()
                        except (smtplib.SMTPException, OSError):
                            pass
                    conn = smtplib.SMTP("127.0.0.1", a.port, timeout=120)
                    conn.ehlo("load.test.example")
                    sent = 0
                sent += 1
                conn.sendmail("customer%d@example.org" % (i % 97), [to], body(i))
                done(i, "accepted")
            except smtplib.SMTPRecipientsRefused as e:
                code = list(e.recipients.values())[0][0]
                if 400 <= code < 500:
                    retry(i, "tempfail")
                else:
                    done(i, "rejected")
                conn = close(conn)
            except smtplib.SMTPResponseException as e:
                if 400 <= e.smtp_code < 500:
                    retry(i, "tempfail")
                else:
                    done(i, "rejected")
                conn = close(conn)
            except (smtplib.SMTPException, OSError, socket.timeout):
                retry(i, "disconnect")
                conn = None
        if conn is not None:
            try:
                conn.quit()
            except (smtplib.SMTPException, OSError):
                pass

    def close(conn):
        # a sending MTA retries later on a new connection (and Postfix
        # connects to the milter per SMTP session: after a milter crash the
        # rest of the session would be answered 4xx)
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError, AttributeError):
            pass
        return None

    threads = [threading.Thread(target=worker) for _ in range(a.sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - t0
    counts = {}
    with open(a.out, "w") as f:
        for i in range(a.count):
            r, n = state[i]
            counts[r] = counts.get(r, 0) + 1
            f.write("%d %s %s %s %d\n" % (i, kinds[i], mid(i), r, n))
    print("load: %d messages (%d complaints) over %d sessions in %.0f s (%.0f/s): %s; "
          "%d 4xx answers and %d dropped connections retried" % (
              a.count, sum(1 for k in kinds.values() if k == "complaint"), a.sessions, secs,
              a.count / secs if secs else 0,
              ", ".join("%d %s" % (v, k) for k, v in sorted(counts.items())),
              stats["tempfail"], stats["disconnect"]))
    sys.exit(0 if counts.get("unsent", 0) == 0 else 1)


if __name__ == "__main__":
    main()
