/*
 * milterload - a load driver that plays the MTA side of the milter
 * protocol (version 6) straight to a milter's socket, no MTA involved.
 *
 * Usage:
 *   milterload -s unix:/path/sock [-c CONNS] [-n MSGS] [-m PER_CONN]
 *              [-f SENDER] [-r RCPT]... [-T TIMEOUT_MS] [-D MAX_SECS]
 *              [-R RUNID] [-p RATE] [-P MILTER_PID] [-L LABEL] FILE...
 *
 *   -s  the milter socket: unix:PATH, or inet:PORT@127.0.0.1 (loopback only)
 *   -c  concurrent connections, one thread each (default 1, at most 256)
 *   -n  messages in all (default 1000, at most 2,000,000), the FILEs
 *       round-robin; message k is FILE[k % nfiles] with a Message-ID of its
 *       own (<mlb.RUNID.k@bench.test>), so no two are retries of each other
 *   -m  messages per connection before it is closed and a new one opened
 *       (default 0: a connection carries messages until the end, as an
 *       SMTP session with many messages does)
 *   -f  envelope sender (default customer@example.org)
 *   -r  envelope recipient, repeatable (default complaints@example.com)
 *   -T  timeout of every single wait for the milter, in ms (default 10000);
 *       a connection whose milter does not answer in time is closed and
 *       counted as an error, never waited on further
 *   -D  stop starting new messages after this many seconds (default 600)
 *   -R  run tag in the Message-IDs (default: time and pid)
 *   -p  offered load: message k starts no earlier than k/RATE seconds after
 *       the start (default: each connection sends its next message as soon
 *       as the last one is answered, i.e. a saturating closed loop)
 *   -P  after the run, report VmRSS/VmHWM of this process (the milter)
 *   -L  a label echoed in the result line
 *
 * Per connection: OPTNEG offering every action and protocol step of
 * version 6, then CONNECT and HELO unless the milter switched them off.
 * Per message, as Postfix sends it: MAIL, RCPT per recipient, DATA, each
 * header field, end of headers, body chunks of at most 65535 bytes (CRLF
 * line ends), end of message, each preceded by its macros ({i} is a queue
 * ID of the message).  Every step the milter switched off (SMFIP_NO*) is not
 * sent, and a step it asked no reply for (SMFIP_NR_*) is not waited on:
 * such packets are written together with the next one that needs a reply.
 * A terminal reply (accept, reject, tempfail, discard, reply code) ends the
 * message at once, as it does in an MTA; SKIP ends the body.  At end of
 * message the modification replies (add/change/insert header, quarantine,
 * recipient and body changes, progress) are read until the final reply.
 *
 * Output, one line of key=value (times in ms):
 *   milterload label= conns= offered= msgs= ok= errors= secs= rate=
 *     eom_p50= eom_p90= eom_p99= eom_max= msg_p50= msg_p99=
 *     accept= reject= tempfail= discard= quarantine= new_cases= followups=
 *     addhdr= chghdr= rss_kb= hwm_kb=
 * eom_* is the time from sending end-of-message to the final reply (only
 * messages that got that far); msg_* from MAIL to the final reply; rate is
 * ok messages per second of wall time after all connections negotiated.
 * new_cases counts messages answered with an X-Case-ID header whose
 * X-Complaint-Status is not a follow-up: the cases the milter says it
 * committed.  Exit status 0 when no message failed, 1 otherwise, 2 usage.
 */
#include "benchlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfdef.h>

#define MAX_CONNS	256
#define MAX_MSGS	2000000
#define MAX_RCPTS	16
#define MAX_REPLY	(1024 * 1024)
#define NO_LAT		UINT64_MAX

static struct {
	const char *sock;
	int conns;
	size_t msgs;
	size_t per_conn;
	const char *from;
	const char *rcpt[MAX_RCPTS];
	int nrcpt;
	int timeout_ms;
	unsigned max_secs;
	char runid[64];
	long pid;
	const char *label;
	double rate;		/* offered load, messages/s in all; 0: as fast as answered */
	struct bmsg *tmpl;
	size_t ntmpl;
} O = {
	.conns = 1, .msgs = 1000, .from = "customer@example.org",
	.timeout_ms = 10000, .max_secs = 600, .label = "-",
};

static atomic_size_t next_msg;
static uint64_t deadline_ns, start_ns;
static uint64_t *eom_lat, *msg_lat;	/* per message index, NO_LAT if none */
static pthread_barrier_t start_bar;

/* What a message ended with. */
enum outcome { OUT_NONE, OUT_ACCEPT, OUT_REJECT, OUT_TEMPFAIL, OUT_DISCARD };

struct counts {
	size_t ok, errors, accept, reject, tempfail, discard, quarantine;
	size_t new_cases, followups, addhdr, chghdr;
};

struct conn {
	int fd;
	uint32_t pflags;	/* protocol flags the milter negotiated */
	struct {
		char *s;
		size_t len, cap;
	} out;			/* packets not yet written */
	char *reply;		/* the last reply packet's data */
	uint32_t reply_len;
	/* per message, from the EOM modifications */
	bool case_hdr, followup_status;
};

/* ---- packets ---- */

static void
out_reserve(struct conn *c, size_t n)
{
	if (c->out.len + n > c->out.cap) {
		c->out.cap = (c->out.len + n) * 2;
		if ((c->out.s = realloc(c->out.s, c->out.cap)) == NULL)
			die("out of memory");
	}
}

/* Append one packet: length, command, data pieces (each given with length). */
static void
pkt(struct conn *c, char cmd, const void *d1, size_t n1, const void *d2, size_t n2,
    const void *d3, size_t n3)
{
	uint32_t len = htonl((uint32_t)(1 + n1 + n2 + n3));

	out_reserve(c, 5 + n1 + n2 + n3);
	memcpy(c->out.s + c->out.len, &len, 4);
	c->out.s[c->out.len + 4] = cmd;
	c->out.len += 5;
	if (n1) {
		memcpy(c->out.s + c->out.len, d1, n1);
		c->out.len += n1;
	}
	if (n2) {
		memcpy(c->out.s + c->out.len, d2, n2);
		c->out.len += n2;
	}
	if (n3) {
		memcpy(c->out.s + c->out.len, d3, n3);
		c->out.len += n3;
	}
}

/* A macro packet: 'D', the stage, then name\0value\0 pairs. */
static void
macros(struct conn *c, char stage, const char *const *nv, int n)
{
	char buf[1024];
	size_t o = 0;

	buf[o++] = stage;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(nv[i]) + 1;

		if (o + l > sizeof(buf))
			break;
		memcpy(buf + o, nv[i], l);
		o += l;
	}
	pkt(c, SMFIC_MACRO, buf, o, NULL, 0, NULL, 0);
}

static int
flush(struct conn *c)
{
	int r = 0;

	if (c->out.len)
		r = io_write_full(c->fd, c->out.s, c->out.len, O.timeout_ms);
	c->out.len = 0;
	return r;
}

/* Read one reply packet; its command, or -1 on error. */
static int
read_reply(struct conn *c)
{
	uint32_t len;

	if (io_read_full(c->fd, &len, 4, O.timeout_ms) < 0)
		return -1;
	len = ntohl(len);
	if (len == 0 || len > MAX_REPLY) {
		errno = EPROTO;
		return -1;
	}
	if ((c->reply = realloc(c->reply, len + 1)) == NULL)
		die("out of memory");
	if (io_read_full(c->fd, c->reply, len, O.timeout_ms) < 0)
		return -1;
	c->reply[len] = '\0';
	c->reply_len = len;
	return (unsigned char)c->reply[0];
}

/* ---- steps ---- */

enum step { ST_CONTINUE, ST_SKIP, ST_DONE, ST_ERROR };

static enum outcome
reply_outcome(int cmd, const struct conn *c)
{
	switch (cmd) {
	case SMFIR_ACCEPT:
		return OUT_ACCEPT;
	case SMFIR_REJECT:
		return OUT_REJECT;
	case SMFIR_TEMPFAIL:
		return OUT_TEMPFAIL;
	case SMFIR_DISCARD:
		return OUT_DISCARD;
	case SMFIR_REPLYCODE:
		return c->reply_len > 1 && c->reply[1] == '4' ? OUT_TEMPFAIL : OUT_REJECT;
	default:
		return OUT_NONE;
	}
}

/*
 * Write what is pending and read the reply to a step that wants one.
 * At end of message (eom) modification replies are counted and skipped.
 */
static enum step
await(struct conn *c, bool eom, enum outcome *out, struct counts *ct)
{
	int cmd;

	if (flush(c) < 0)
		return ST_ERROR;
	for (;;) {
		if ((cmd = read_reply(c)) < 0)
			return ST_ERROR;
		switch (cmd) {
		case SMFIR_CONTINUE:
			if (eom) {
				*out = OUT_ACCEPT;
				return ST_DONE;
			}
			return ST_CONTINUE;
		case SMFIR_SKIP:
			return ST_SKIP;
		case SMFIR_PROGRESS:
			continue;
		case SMFIR_ADDHEADER:
		case SMFIR_INSHEADER:
		case SMFIR_CHGHEADER: {
			/* data: [index(4) for change/insert] name\0 value\0 */
			const char *p = c->reply + 1;
			size_t n = c->reply_len - 1;

			if (cmd != SMFIR_ADDHEADER) {
				if (n < 4)
					return ST_ERROR;
				p += 4;
				n -= 4;
			}
			if (cmd == SMFIR_CHGHEADER)
				ct->chghdr++;
			else
				ct->addhdr++;
			if (strcasecmp(p, "X-Case-ID") == 0)
				c->case_hdr = true;
			else if (strcasecmp(p, "X-Complaint-Status") == 0) {
				size_t nl = strlen(p) + 1;

				if (nl < n && strncmp(p + nl, "follow-up", 9) == 0)
					c->followup_status = true;
			}
			if (!eom)
				return ST_ERROR;	/* only allowed at end of message */
			continue;
		}
		case SMFIR_QUARANTINE:
			ct->quarantine++;
			continue;
		case SMFIR_ADDRCPT:
		case SMFIR_DELRCPT:
		case SMFIR_ADDRCPT_PAR:
		case SMFIR_CHGFROM:
		case SMFIR_REPLBODY:
			if (!eom)
				return ST_ERROR;
			continue;
		case SMFIR_ACCEPT:
		case SMFIR_REJECT:
		case SMFIR_TEMPFAIL:
		case SMFIR_DISCARD:
		case SMFIR_REPLYCODE:
			*out = reply_outcome(cmd, c);
			return ST_DONE;
		default:	/* connfail, shutdown, or garbage */
			errno = EPROTO;
			return ST_ERROR;
		}
	}
}

/*
 * After a message's final reply nothing more may be waiting: a reply to a
 * step the milter had said it would not answer would put the rest of the
 * connection out of step.  True (errno EPROTO) when something is there.
 */
static bool
stray(struct conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
		errno = EPROTO;
		return true;
	}
	return false;
}

/* Open and negotiate a connection; 0, or -1 (closed). */
static int
conn_open(struct conn *c)
{
	uint32_t v[3];
	struct counts dummy = { 0 };
	enum outcome out = OUT_NONE;
	int cmd;

	c->fd = io_connect(O.sock, O.timeout_ms);
	if (c->fd < 0)
		return -1;
	v[0] = htonl(SMFI_PROT_VERSION);
	v[1] = htonl(SMFI_CURR_ACTS);
	v[2] = htonl(SMFI_CURR_PROT);
	pkt(c, SMFIC_OPTNEG, v, sizeof(v), NULL, 0, NULL, 0);
	if (flush(c) < 0 || (cmd = read_reply(c)) != SMFIC_OPTNEG || c->reply_len < 13)
		goto fail;
	memcpy(v, c->reply + 1, sizeof(v));
	c->pflags = ntohl(v[2]);
	if (!(c->pflags & SMFIP_NOCONNECT)) {
		static const char *const m[] = { "j", "mx.bench.test", "{daemon_name}",
			"bench", "v", "milterload", "_", "localhost [127.0.0.1]" };
		uint16_t port = htons(25);

		macros(c, SMFIC_CONNECT, m, 8);
		pkt(c, SMFIC_CONNECT, "localhost\0" "4", 11, &port, 2, "127.0.0.1", 10);
		if (!(c->pflags & SMFIP_NR_CONN) && await(c, false, &out, &dummy) != ST_CONTINUE)
			goto fail;
	}
	if (!(c->pflags & SMFIP_NOHELO)) {
		pkt(c, SMFIC_HELO, "bench.test", 11, NULL, 0, NULL, 0);
		if (!(c->pflags & SMFIP_NR_HELO) && await(c, false, &out, &dummy) != ST_CONTINUE)
			goto fail;
	}
	return 0;
fail:
	close(c->fd);
	c->fd = -1;
	return -1;
}

static void
conn_quit(struct conn *c)
{
	if (c->fd < 0)
		return;
	pkt(c, SMFIC_QUIT, NULL, 0, NULL, 0, NULL, 0);
	(void)flush(c);
	close(c->fd);
	c->fd = -1;
}

/* Send message k.  ST_DONE with its outcome, or ST_ERROR. */
static enum step
send_message(struct conn *c, size_t k, enum outcome *out, struct counts *ct)
{
	const struct bmsg *t = &O.tmpl[k % O.ntmpl];
	const uint32_t pf = c->pflags;
	char qid[32], msgid[160], addr[600];
	enum step s;
	uint64_t t0 = now_ns(), t1;

	snprintf(qid, sizeof(qid), "ML%010zX", k);
	snprintf(msgid, sizeof(msgid), "<mlb.%s.%zu@bench.test>", O.runid, k);
	c->case_hdr = c->followup_status = false;
	*out = OUT_NONE;

#define STEP(nr)                                                              \
	do {                                                                  \
		if (!(pf & (nr))) {                                           \
			s = await(c, false, out, ct);                         \
			if (s == ST_DONE || s == ST_ERROR)                    \
				goto end;                                     \
		}                                                             \
	} while (0)

	if (!(pf & SMFIP_NOMAIL)) {
		const char *m[] = { "i", qid, "{mail_addr}", O.from };

		macros(c, SMFIC_MAIL, m, 4);
		snprintf(addr, sizeof(addr), "<%s>", O.from);
		pkt(c, SMFIC_MAIL, addr, strlen(addr) + 1, NULL, 0, NULL, 0);
		STEP(SMFIP_NR_MAIL);
	}
	if (!(pf & SMFIP_NORCPT)) {
		for (int i = 0; i < O.nrcpt; i++) {
			const char *m[] = { "i", qid, "{rcpt_addr}", O.rcpt[i] };

			macros(c, SMFIC_RCPT, m, 4);
			snprintf(addr, sizeof(addr), "<%s>", O.rcpt[i]);
			pkt(c, SMFIC_RCPT, addr, strlen(addr) + 1, NULL, 0, NULL, 0);
			STEP(SMFIP_NR_RCPT);
		}
	}
	if (!(pf & SMFIP_NODATA)) {
		const char *m[] = { "i", qid };

		macros(c, SMFIC_DATA, m, 2);
		pkt(c, SMFIC_DATA, NULL, 0, NULL, 0, NULL, 0);
		STEP(SMFIP_NR_DATA);
	}
	if (!(pf & SMFIP_NOHDRS)) {
		for (size_t i = 0; i < t->nhdr; i++) {
			const struct bhdr *h = &t->hdr[i];
			const char *val = i == t->msgid_idx ? msgid : h->value;
			char lead[8] = "";

			if (pf & SMFIP_HDR_LEADSPC)
				snprintf(lead, sizeof(lead), "%s", h->lead);
			pkt(c, SMFIC_HEADER, h->name, strlen(h->name) + 1, lead, strlen(lead),
			    val, strlen(val) + 1);
			STEP(SMFIP_NR_HDR);
		}
	}
	if (!(pf & SMFIP_NOEOH)) {
		const char *m[] = { "i", qid };

		macros(c, SMFIC_EOH, m, 2);
		pkt(c, SMFIC_EOH, NULL, 0, NULL, 0, NULL, 0);
		STEP(SMFIP_NR_EOH);
	}
	if (!(pf & SMFIP_NOBODY)) {
		for (size_t off = 0; off < t->body_len; off += MILTER_CHUNK_SIZE) {
			size_t n = t->body_len - off;

			if (n > MILTER_CHUNK_SIZE)
				n = MILTER_CHUNK_SIZE;
			pkt(c, SMFIC_BODY, t->body + off, n, NULL, 0, NULL, 0);
			if (!(pf & SMFIP_NR_BODY)) {
				s = await(c, false, out, ct);
				if (s == ST_DONE || s == ST_ERROR)
					goto end;
				if (s == ST_SKIP)
					break;
			}
		}
	}
	{
		const char *m[] = { "i", qid };

		/* what the milter asked no reply for goes first, as an MTA
		 * writes it: the latency is end of message alone */
		if (flush(c) < 0) {
			s = ST_ERROR;
			goto end;
		}
		macros(c, SMFIC_BODYEOB, m, 2);
		pkt(c, SMFIC_BODYEOB, NULL, 0, NULL, 0, NULL, 0);
		t1 = now_ns();
		s = await(c, true, out, ct);
		if (s == ST_DONE)
			eom_lat[k] = now_ns() - t1;
		else if (s != ST_ERROR) {
			errno = EPROTO;		/* SKIP or CONTINUE where a verdict is due */
			s = ST_ERROR;
		}
	}
#undef STEP
end:
	if (s == ST_ERROR || stray(c))
		return ST_ERROR;
	msg_lat[k] = now_ns() - t0;
	switch (*out) {
	case OUT_ACCEPT:
		ct->accept++;
		break;
	case OUT_REJECT:
		ct->reject++;
		break;
	case OUT_TEMPFAIL:
		ct->tempfail++;
		break;
	case OUT_DISCARD:
		ct->discard++;
		break;
	case OUT_NONE:
		break;
	}
	if (c->case_hdr && *out == OUT_ACCEPT) {
		if (c->followup_status)
			ct->followups++;
		else
			ct->new_cases++;
	}
	ct->ok++;
	return ST_DONE;
}

/* With -p: wait until message k's turn, start + k / rate (if not late). */
static void
pace(size_t k)
{
	uint64_t due = start_ns + (uint64_t)((double)k * 1e9 / O.rate);
	uint64_t now = now_ns();

	if (due > now) {
		struct timespec ts = { (time_t)((due - now) / 1000000000u),
			(long)((due - now) % 1000000000u) };

		nanosleep(&ts, NULL);
	}
}

struct worker {
	pthread_t tid;
	struct counts ct;
	int negotiated;
	char err[160];
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct conn c = { .fd = -1 };
	size_t on_conn = 0;
	int fails = 0;
	enum outcome out;

	w->negotiated = conn_open(&c) == 0;
	if (!w->negotiated)
		snprintf(w->err, sizeof(w->err), "connect/negotiate: %s", strerror(errno));
	pthread_barrier_wait(&start_bar);
	for (;;) {
		size_t k;

		if (c.fd < 0) {
			if (fails >= 5)
				break;	/* the milter is gone: stop trying */
			if (conn_open(&c) < 0) {
				snprintf(w->err, sizeof(w->err), "connect/negotiate: %s",
				    strerror(errno));
				fails++;
				w->ct.errors++;
				struct timespec ts = { 0, 100 * 1000000L };
				nanosleep(&ts, NULL);
				continue;
			}
			on_conn = 0;
		}
		if (now_ns() > deadline_ns)
			break;
		k = atomic_fetch_add(&next_msg, 1);
		if (k >= O.msgs)
			break;
		if (O.rate > 0)
			pace(k);
		if (send_message(&c, k, &out, &w->ct) == ST_ERROR) {
			snprintf(w->err, sizeof(w->err), "message %zu (%s): %s", k,
			    O.tmpl[k % O.ntmpl].path, strerror(errno));
			w->ct.errors++;
			fails++;
			close(c.fd);
			c.fd = -1;
			continue;
		}
		fails = 0;
		if (O.per_conn && ++on_conn >= O.per_conn)
			conn_quit(&c);
	}
	conn_quit(&c);
	free(c.out.s);
	free(c.reply);
	return NULL;
}

/* Quantile in ms of the recorded latencies (NO_LAT entries left out). */
static double
lat_ms(uint64_t *v, size_t n, double q)
{
	return (double)quantile_sorted(v, n, q) / 1e6;
}

static size_t
compact(uint64_t *v, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i] != NO_LAT)
			v[o++] = v[i];
	(void)quantile(v, o, 1.0);	/* sorts */
	return o;
}

static void
usage(void)
{
	fputs("usage: milterload -s unix:/path/sock [-c CONNS] [-n MSGS] [-m PER_CONN] "
	    "[-f SENDER] [-r RCPT]... [-T TIMEOUT_MS] [-D MAX_SECS] [-R RUNID] "
	    "[-p RATE] [-P PID] [-L LABEL] FILE...\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	struct worker *w;
	struct counts t = { 0 };
	uint64_t t0, t1;
	size_t ne, nm;
	int opt;

	bench_prog = "milterload";
	snprintf(O.runid, sizeof(O.runid), "%lx%x", (unsigned long)time(NULL),
	    (unsigned)getpid());
	while ((opt = getopt(argc, argv, "s:c:n:m:f:r:T:D:R:P:L:p:h")) != -1) {
		switch (opt) {
		case 's': O.sock = optarg; break;
		case 'c': O.conns = atoi(optarg); break;
		case 'n': O.msgs = strtoul(optarg, NULL, 10); break;
		case 'm': O.per_conn = strtoul(optarg, NULL, 10); break;
		case 'f': O.from = optarg; break;
		case 'r':
			if (O.nrcpt == MAX_RCPTS)
				die("at most %d recipients", MAX_RCPTS);
			O.rcpt[O.nrcpt++] = optarg;
			break;
		case 'T': O.timeout_ms = atoi(optarg); break;
		case 'D': O.max_secs = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'R': snprintf(O.runid, sizeof(O.runid), "%s", optarg); break;
		case 'P': O.pid = strtol(optarg, NULL, 10); break;
		case 'L': O.label = optarg; break;
		case 'p': O.rate = strtod(optarg, NULL); break;
		default: usage();
		}
	}
	if (O.sock == NULL || optind == argc)
		usage();
	if (O.conns < 1 || O.conns > MAX_CONNS)
		die("-c: 1..%d connections", MAX_CONNS);
	if (O.msgs < 1 || O.msgs > MAX_MSGS)
		die("-n: 1..%d messages", MAX_MSGS);
	if (O.timeout_ms < 1 || O.timeout_ms > 600000)
		die("-T: 1..600000 ms");
	if (O.max_secs < 1 || O.max_secs > 3600)
		die("-D: 1..3600 s");
	if (O.rate < 0 || O.rate > 1e6)
		die("-p: 0..1000000 messages/s");
	if (O.nrcpt == 0)
		O.rcpt[O.nrcpt++] = "complaints@example.com";
	signal(SIGPIPE, SIG_IGN);

	O.ntmpl = (size_t)(argc - optind);
	O.tmpl = bmsg_load_all(argv + optind, O.ntmpl);
	eom_lat = malloc(O.msgs * sizeof(*eom_lat));
	msg_lat = malloc(O.msgs * sizeof(*msg_lat));
	w = calloc((size_t)O.conns, sizeof(*w));
	if (eom_lat == NULL || msg_lat == NULL || w == NULL)
		die("out of memory");
	for (size_t i = 0; i < O.msgs; i++)
		eom_lat[i] = msg_lat[i] = NO_LAT;

	pthread_barrier_init(&start_bar, NULL, (unsigned)O.conns + 1);
	deadline_ns = now_ns() + (uint64_t)O.max_secs * 1000000000u;
	for (int i = 0; i < O.conns; i++)
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0)
			die("pthread_create failed");
	start_ns = now_ns() + 1000000;	/* the workers read it after the barrier */
	pthread_barrier_wait(&start_bar);
	t0 = now_ns();
	deadline_ns = t0 + (uint64_t)O.max_secs * 1000000000u;
	for (int i = 0; i < O.conns; i++) {
		pthread_join(w[i].tid, NULL);
		t.ok += w[i].ct.ok;
		t.errors += w[i].ct.errors;
		t.accept += w[i].ct.accept;
		t.reject += w[i].ct.reject;
		t.tempfail += w[i].ct.tempfail;
		t.discard += w[i].ct.discard;
		t.quarantine += w[i].ct.quarantine;
		t.new_cases += w[i].ct.new_cases;
		t.followups += w[i].ct.followups;
		t.addhdr += w[i].ct.addhdr;
		t.chghdr += w[i].ct.chghdr;
		if (w[i].err[0])
			fprintf(stderr, "milterload: connection %d: %s\n", i, w[i].err);
	}
	t1 = now_ns();

	double secs = (double)(t1 - t0) / 1e9;
	ne = compact(eom_lat, O.msgs);
	nm = compact(msg_lat, O.msgs);
	printf("milterload label=%s conns=%d offered=%.0f msgs=%zu ok=%zu errors=%zu secs=%.3f rate=%.1f "
	    "eom_p50=%.3f eom_p90=%.3f eom_p99=%.3f eom_max=%.3f msg_p50=%.3f msg_p99=%.3f "
	    "accept=%zu reject=%zu tempfail=%zu discard=%zu quarantine=%zu new_cases=%zu "
	    "followups=%zu addhdr=%zu chghdr=%zu rss_kb=%ld hwm_kb=%ld\n",
	    O.label, O.conns, O.rate, O.msgs, t.ok, t.errors, secs, secs > 0 ? (double)t.ok / secs : 0.0,
	    lat_ms(eom_lat, ne, 0.50), lat_ms(eom_lat, ne, 0.90), lat_ms(eom_lat, ne, 0.99),
	    lat_ms(eom_lat, ne, 1.0), lat_ms(msg_lat, nm, 0.50), lat_ms(msg_lat, nm, 0.99),
	    t.accept, t.reject, t.tempfail, t.discard, t.quarantine, t.new_cases, t.followups,
	    t.addhdr, t.chghdr, O.pid ? proc_status_kb(O.pid, "VmRSS") : -1L,
	    O.pid ? proc_status_kb(O.pid, "VmHWM") : -1L);
	for (size_t i = 0; i < O.ntmpl; i++)
		bmsg_free(&O.tmpl[i]);
	free(O.tmpl);
	free(eom_lat);
	free(msg_lat);
	free(w);
	return t.errors || t.ok < O.msgs ? 1 : 0;
}
