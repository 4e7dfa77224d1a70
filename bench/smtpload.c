/*
 * smtpload - an SMTP load generator for the Postfix benchmarks: like
 * Postfix's smtp-source -d, but every message gets its own Message-ID.
 *
 * Usage:
 *   smtpload -s 127.0.0.1:PORT [-c SESSIONS] [-n MSGS] [-m PER_SESSION]
 *            [-f SENDER] [-t RCPT]... [-T TIMEOUT_MS] [-D MAX_SECS]
 *            [-R RUNID] [-L LABEL] FILE...
 *
 *   -s  the SMTP server, a loopback address only (127.0.0.0/8)
 *   -c  parallel SMTP sessions, one thread each (default 20, at most 256)
 *   -n  messages in all (default 1000, at most 2,000,000); message k is
 *       FILE[k % nfiles] with its Message-ID replaced by
 *       <slb.RUNID.k@bench.test> (added in front when the file has none)
 *   -m  messages per session before QUIT and a new connection (default 0:
 *       one session carries messages until the end, as smtp-source -d)
 *   -f  envelope sender (default customer@example.org)
 *   -t  envelope recipient, repeatable (default complaints@example.com)
 *   -T  timeout of every single wait for the server, in ms (default 30000)
 *   -D  stop starting new messages after this many seconds (default 600)
 *   -R  run tag in the Message-IDs (default: time and pid)
 *   -L  a label echoed in the result line
 *
 * Why not smtp-source itself: smtp-source -F sends the same file, Message-ID
 * and all, every time, and complaint-milter rightly takes a repeated
 * (Message-ID, sender) for a retry of the same complaint: 4000 messages
 * would make one case.  smtpload speaks SMTP the way smtp-source does: one
 * command at a time, no PIPELINING, EHLO once per session, then per message
 * MAIL, RCPT, DATA, the text (dot-stuffed, CRLF) and ".", each waiting for
 * its reply.
 *
 * Output, one line of key=value (times in ms):
 *   smtpload label= sessions= msgs= ok= temp= perm= errors= secs= rate=
 *     p50= p99= max=
 * ok counts messages the server answered 250 after the data; temp and perm
 * 4xx and 5xx replies at any step; rate is ok messages per second of wall
 * time after all sessions said EHLO; p50/p99 the time from MAIL to the 250.
 * Exit status 0 when every message got its 250, 1 otherwise, 2 usage.
 */
#include "benchlib.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SESSIONS	256
#define MAX_MSGS	2000000
#define MAX_RCPTS	16

static struct {
	const char *server;
	int sessions;
	size_t msgs, per_session;
	const char *from;
	const char *rcpt[MAX_RCPTS];
	int nrcpt;
	int timeout_ms;
	unsigned max_secs;
	char runid[64];
	const char *label;
	struct bmsg *tmpl;
	size_t ntmpl;
} O = {
	.sessions = 20, .msgs = 1000, .from = "customer@example.org",
	.timeout_ms = 30000, .max_secs = 600, .label = "-",
};

static atomic_size_t next_msg;
static uint64_t deadline_ns;
static uint64_t *lat;
static pthread_barrier_t start_bar;

struct sess {
	int fd;
	char buf[8192];
	size_t have;		/* bytes in buf */
	char last[512];		/* the last reply line, for messages */
};

struct worker {
	pthread_t tid;
	size_t ok, temp, perm, errors;
	char err[600];
};

/* Read one reply (all its lines); its code, or -1 on error/timeout. */
static int
reply(struct sess *s)
{
	for (;;) {
		char *nl = memchr(s->buf, '\n', s->have);

		if (nl != NULL) {
			size_t n = (size_t)(nl - s->buf) + 1;
			bool final = n >= 4 && s->buf[3] != '-';
			int code = n >= 3 ? atoi(s->buf) : -1;

			snprintf(s->last, sizeof(s->last), "%.*s", (int)(n > 2 ? n - 2 : 0), s->buf);
			memmove(s->buf, s->buf + n, s->have - n);
			s->have -= n;
			if (final)
				return code >= 200 && code < 600 ? code : -1;
			continue;
		}
		if (s->have == sizeof(s->buf)) {
			s->have = 0;	/* an overlong line: keep reading */
		}
		/* io_read_full wants an exact count: read what is there */
		ssize_t r = recv(s->fd, s->buf + s->have, sizeof(s->buf) - s->have, MSG_DONTWAIT);

		if (r > 0) {
			s->have += (size_t)r;
			continue;
		}
		if (r == 0) {
			errno = ECONNRESET;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		/* wait with the deadline: a zero-length read does that */
		char c;

		if (io_read_full(s->fd, &c, 1, O.timeout_ms) < 0)
			return -1;
		s->buf[s->have++] = c;
	}
}

static int
cmd(struct sess *s, const char *line)
{
	if (io_write_full(s->fd, line, strlen(line), O.timeout_ms) < 0)
		return -1;
	return reply(s);
}

static int
sess_open(struct sess *s)
{
	s->have = 0;
	if ((s->fd = io_connect(O.server, O.timeout_ms)) < 0)
		return -1;
	if (reply(s) != 220 || cmd(s, "EHLO bench.test\r\n") != 250) {
		close(s->fd);
		s->fd = -1;
		if (errno == 0)
			errno = EPROTO;
		return -1;
	}
	return 0;
}

static void
sess_quit(struct sess *s)
{
	if (s->fd < 0)
		return;
	(void)cmd(s, "QUIT\r\n");
	close(s->fd);
	s->fd = -1;
}

/* Send message k: its final code (250, 4xx, 5xx), or -1 on an I/O error. */
static int
send_message(struct sess *s, size_t k)
{
	const struct bmsg *t = &O.tmpl[k % O.ntmpl];
	char line[700], idline[200];
	uint64_t t0 = now_ns();
	int code;

	snprintf(line, sizeof(line), "MAIL FROM:<%s>\r\n", O.from);
	if ((code = cmd(s, line)) != 250)
		goto bad;
	for (int i = 0; i < O.nrcpt; i++) {
		snprintf(line, sizeof(line), "RCPT TO:<%s>\r\n", O.rcpt[i]);
		if ((code = cmd(s, line)) != 250)
			goto bad;
	}
	if ((code = cmd(s, "DATA\r\n")) != 354)
		goto bad;
	snprintf(idline, sizeof(idline), "Message-ID: <slb.%s.%zu@bench.test>\r\n", O.runid, k);

	struct iovec iov[4] = {
		{ t->smtp_pre, t->smtp_pre_len },
		{ idline, strlen(idline) },
		{ t->smtp_post, t->smtp_post_len },
		{ ".\r\n", 3 },
	};

	if (io_writev_full(s->fd, iov, 4, O.timeout_ms) < 0)
		return -1;
	code = reply(s);
	if (code == 250)
		lat[k] = now_ns() - t0;
	return code;
bad:
	if (code > 0) {
		char why[sizeof(s->last)];

		memcpy(why, s->last, sizeof(why));
		if (cmd(s, "RSET\r\n") < 0)
			return -1;
		memcpy(s->last, why, sizeof(why));
	}
	return code;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct sess s = { .fd = -1 };
	size_t on_sess = 0;
	int fails = 0;

	if (sess_open(&s) < 0)
		snprintf(w->err, sizeof(w->err), "connect: %s", strerror(errno));
	pthread_barrier_wait(&start_bar);
	for (;;) {
		size_t k;
		int code;

		if (s.fd < 0) {
			if (fails >= 5)
				break;
			if (sess_open(&s) < 0) {
				snprintf(w->err, sizeof(w->err), "connect: %s", strerror(errno));
				w->errors++;
				fails++;
				struct timespec ts = { 0, 100 * 1000000L };
				nanosleep(&ts, NULL);
				continue;
			}
			on_sess = 0;
		}
		if (now_ns() > deadline_ns)
			break;
		k = atomic_fetch_add(&next_msg, 1);
		if (k >= O.msgs)
			break;
		code = send_message(&s, k);
		if (code < 0) {
			snprintf(w->err, sizeof(w->err), "message %zu: %s", k, strerror(errno));
			w->errors++;
			fails++;
			close(s.fd);
			s.fd = -1;
			continue;
		}
		fails = 0;
		if (code == 250)
			w->ok++;
		else {
			snprintf(w->err, sizeof(w->err), "message %zu (%s): %s", k,
			    O.tmpl[k % O.ntmpl].path, s.last);
			if (code >= 500)
				w->perm++;
			else
				w->temp++;
		}
		if (O.per_session && ++on_sess >= O.per_session)
			sess_quit(&s);
	}
	sess_quit(&s);
	return NULL;
}

static void
usage(void)
{
	fputs("usage: smtpload -s 127.0.0.1:PORT [-c SESSIONS] [-n MSGS] [-m PER_SESSION] "
	    "[-f SENDER] [-t RCPT]... [-T TIMEOUT_MS] [-D MAX_SECS] [-R RUNID] [-L LABEL] "
	    "FILE...\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	struct worker *w;
	size_t ok = 0, temp = 0, perm = 0, errors = 0, n = 0;
	uint64_t t0, t1;
	int opt;

	bench_prog = "smtpload";
	snprintf(O.runid, sizeof(O.runid), "%lx%x", (unsigned long)time(NULL),
	    (unsigned)getpid());
	while ((opt = getopt(argc, argv, "s:c:n:m:f:t:T:D:R:L:h")) != -1) {
		switch (opt) {
		case 's': O.server = optarg; break;
		case 'c': O.sessions = atoi(optarg); break;
		case 'n': O.msgs = strtoul(optarg, NULL, 10); break;
		case 'm': O.per_session = strtoul(optarg, NULL, 10); break;
		case 'f': O.from = optarg; break;
		case 't':
			if (O.nrcpt == MAX_RCPTS)
				die("at most %d recipients", MAX_RCPTS);
			O.rcpt[O.nrcpt++] = optarg;
			break;
		case 'T': O.timeout_ms = atoi(optarg); break;
		case 'D': O.max_secs = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'R': snprintf(O.runid, sizeof(O.runid), "%s", optarg); break;
		case 'L': O.label = optarg; break;
		default: usage();
		}
	}
	if (O.server == NULL || optind == argc)
		usage();
	if (O.sessions < 1 || O.sessions > MAX_SESSIONS)
		die("-c: 1..%d sessions", MAX_SESSIONS);
	if (O.msgs < 1 || O.msgs > MAX_MSGS)
		die("-n: 1..%d messages", MAX_MSGS);
	if (O.timeout_ms < 1 || O.timeout_ms > 600000)
		die("-T: 1..600000 ms");
	if (O.max_secs < 1 || O.max_secs > 3600)
		die("-D: 1..3600 s");
	if (O.nrcpt == 0)
		O.rcpt[O.nrcpt++] = "complaints@example.com";
	signal(SIGPIPE, SIG_IGN);

	O.ntmpl = (size_t)(argc - optind);
	O.tmpl = bmsg_load_all(argv + optind, O.ntmpl);
	lat = malloc(O.msgs * sizeof(*lat));
	w = calloc((size_t)O.sessions, sizeof(*w));
	if (lat == NULL || w == NULL)
		die("out of memory");
	for (size_t i = 0; i < O.msgs; i++)
		lat[i] = UINT64_MAX;

	pthread_barrier_init(&start_bar, NULL, (unsigned)O.sessions + 1);
	deadline_ns = now_ns() + (uint64_t)O.max_secs * 1000000000u;
	for (int i = 0; i < O.sessions; i++)
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0)
			die("pthread_create failed");
	pthread_barrier_wait(&start_bar);
	t0 = now_ns();
	deadline_ns = t0 + (uint64_t)O.max_secs * 1000000000u;
	for (int i = 0; i < O.sessions; i++) {
		pthread_join(w[i].tid, NULL);
		ok += w[i].ok;
		temp += w[i].temp;
		perm += w[i].perm;
		errors += w[i].errors;
		if (w[i].err[0])
			fprintf(stderr, "smtpload: session %d: %s\n", i, w[i].err);
	}
	t1 = now_ns();

	for (size_t i = 0; i < O.msgs; i++)
		if (lat[i] != UINT64_MAX)
			lat[n++] = lat[i];
	(void)quantile(lat, n, 1.0);
	double secs = (double)(t1 - t0) / 1e9;

	printf("smtpload label=%s sessions=%d msgs=%zu ok=%zu temp=%zu perm=%zu errors=%zu "
	    "secs=%.3f rate=%.1f p50=%.3f p99=%.3f max=%.3f\n",
	    O.label, O.sessions, O.msgs, ok, temp, perm, errors, secs,
	    secs > 0 ? (double)ok / secs : 0.0, (double)quantile_sorted(lat, n, 0.5) / 1e6,
	    (double)quantile_sorted(lat, n, 0.99) / 1e6, (double)quantile_sorted(lat, n, 1.0) / 1e6);
	for (size_t i = 0; i < O.ntmpl; i++)
		bmsg_free(&O.tmpl[i]);
	free(O.tmpl);
	free(lat);
	free(w);
	return ok == O.msgs ? 0 : 1;
}
