/*
 * reply_main.c - complaint-reply: the auto-reply worker.
 *
 * complaint-reply [-c CONF] [-f] [--once] [-n]
 *
 * It polls the case store once a second (an indexed query on rows newer
 * than the last it saw) for new cases and for follow-ups that completed a
 * case, decides whether to answer (RFC 3834, the rate limit), stores the
 * due dates on the case and a reply row with its Message-ID, and then
 * submits the pending replies whose time has come, retrying failures with
 * backoff.  It never writes to the milter's socket or blocks it: the only
 * thing they share is the SQLite database (WAL; short transactions).
 *
 * -f is accepted for symmetry with the milter: the worker always stays in
 * the foreground (a service manager runs it) and logs to syslog and, in the
 * foreground on a terminal or with -f, to stderr.  --once handles what is
 * there, submits what is due and exits.  -n checks the configuration, the
 * templates and the holiday rules and exits.
 *
 * Environment: CM_TODAY=YYYY-MM-DD makes the worker compute dates as if
 * today were that day (tests only).
 */
#include "calendar.h"
#include "config.h"
#include "reply.h"
#include "replystore.h"
#include "store.h"
#include "submit.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* The policy: acknowledge within 7, update 14 after that, resolve within 30. */
#define ACK_DAYS	7
#define UPDATE_DAYS	14
#define RESOLVE_DAYS	30
/* Cases older than this (seconds) are never answered: a first start on an old database. */
#define MAX_AGE		(7 * 86400)
#define DUE_BATCH	16

struct worker {
	struct config *cf;
	struct store *st;
	struct calendar *cal;
	struct reply_templates *tm;
	struct transport tr;
	strlist own;			/* ReplyFrom's address and every Recipient */
	char from_addr[320], from_name[256], domain[256];
	long shift;			/* seconds added to "today" (CM_TODAY) */
	long long cases_mark, events_mark;
	bool errors;			/* a database error in this round */
};

static volatile sig_atomic_t stopping, reloading;

static void
on_signal(int sig)
{
	if (sig == SIGHUP || sig == SIGUSR1)
		reloading = 1;
	else
		stopping = 1;
}

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int code, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	syslog(LOG_ERR, "%s", msg);
	fprintf(stderr, "complaint-reply: %s\n", msg);
	exit(code);
}

static void
usage(void)
{
	fprintf(stderr, "usage: complaint-reply [-c CONF] [-f] [--once] [-n]\n");
	exit(EX_USAGE);
}

/* ---- dates ---- */

/* CM_TODAY as an offset in seconds from the real today (0 when unset). */
static long
today_shift(void)
{
	const char *v = getenv("CM_TODAY");
	struct ymd want, real;
	struct tm tw = { 0 }, tr = { 0 };
	time_t now = time(NULL);
	struct tm lt;

	if (v == NULL || *v == '\0')
		return 0;
	if (ymd_parse(v, &want) < 0)
		die(EX_USAGE, "CM_TODAY: expected YYYY-MM-DD, not \"%s\"", v);
	localtime_r(&now, &lt);
	real = (struct ymd){ lt.tm_year + 1900, lt.tm_mon + 1, lt.tm_mday };
	tw = (struct tm){ .tm_year = want.y - 1900, .tm_mon = want.m - 1, .tm_mday = want.d };
	tr = (struct tm){ .tm_year = real.y - 1900, .tm_mon = real.m - 1, .tm_mday = real.d };
	return (long)(timegm(&tw) - timegm(&tr));
}

/* The local calendar date of t, shifted by CM_TODAY. */
static struct ymd
local_day(const struct worker *w, time_t t)
{
	struct tm lt;

	t += w->shift;
	localtime_r(&t, &lt);
	return (struct ymd){ lt.tm_year + 1900, lt.tm_mon + 1, lt.tm_mday };
}

/* "2024-05-01T12:51:30Z" as a time; -1 when it is not one. */
static time_t
parse_iso(const char *s)
{
	struct tm tm = { 0 };
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;

	return end && *end == '\0' ? timegm(&tm) : (time_t)-1;
}

static void
due_dates(const struct worker *w, time_t received, time_t now, struct reply_dates *d)
{
	struct ymd r = local_day(w, received), t = local_day(w, now);

	if (received > now)
		r = t;
	ymd_format(calendar_add_working_days(w->cal, r, ACK_DAYS), d->ack_by, sizeof(d->ack_by));
	ymd_format(calendar_add_working_days(w->cal, t, UPDATE_DAYS), d->update_by,
	    sizeof(d->update_by));
	ymd_format(calendar_add_working_days(w->cal, r, RESOLVE_DAYS), d->resolve_by,
	    sizeof(d->resolve_by));
}

/* ---- deciding ---- */

/* Why this case gets no reply of kind k (NULL: it does). */
static const char *
suppress_reason(struct worker *w, const struct case_row *row, time_t at, time_t now)
{
	struct reply_origin o = { .envelope_from = row->envelope_from };
	const char *why = reply_suppress_reason(&o, &w->own);
	int q;

	if (why)
		return why;
	if ((q = replystore_case_has_event(w->st, row->case_id, "quarantined")) != 0)
		return q < 0 ? NULL : "quarantined";
	if (at != (time_t)-1 && now - at > MAX_AGE)
		return "too-old";
	return NULL;
}

/* Create the reply row of one new case or completion.  0 or -1. */
static int
plan_reply(struct worker *w, const struct reply_todo *td)
{
	time_t at = parse_iso(td->at);
	struct case_row row;
	struct reply_dates dates;
	struct reply_new rn = { 0 };
	char msgid[512];
	const char *why;
	time_t now = time(NULL), received;
	int r;

	if ((r = store_find_case(w->st, td->case_id, &row)) <= 0) {
		if (r < 0)
			syslog(LOG_ERR, "%s: %s", td->case_id, store_errmsg(w->st));
		return r < 0 ? -1 : 0;	/* a completed event of a case that is gone */
	}
	received = parse_iso(row.received_at);
	due_dates(w, received == (time_t)-1 ? now : received, now, &dates);
	if (reply_message_id(row.case_id, td->kind, w->domain, msgid, sizeof(msgid)) < 0) {
		case_row_free(&row);
		return -1;
	}
	rn = (struct reply_new){ row.case_id, td->kind, msgid, row.envelope_from,
	    suppress_reason(w, &row, at, now), w->cf->reply_rate_limit,
	    w->cf->reply_rate_period, &dates, now };
	r = replystore_create(w->st, &rn, &why);
	if (r < 0)
		syslog(LOG_ERR, "%s: reply=%s: %s", row.case_id, reply_kind_name(td->kind),
		    replystore_errmsg());
	else if (r == REPLY_SUPPRESSED)
		syslog(LOG_INFO, "%s: reply=%s suppressed reason=%s to=<%s>", row.case_id,
		    reply_kind_name(td->kind), why, row.envelope_from);
	else if (r == REPLY_PENDING)
		syslog(LOG_INFO, "%s: reply=%s queued msgid=<%s> to=<%s> update_by=%s resolve_by=%s",
		    row.case_id, reply_kind_name(td->kind), msgid, row.envelope_from,
		    dates.update_by, dates.resolve_by);
	case_row_free(&row);
	return r < 0 ? -1 : 0;
}

/* Plan the replies of kind k after *mark, up to hi.  0, or -1 on an error. */
static int
scan_kind(struct worker *w, enum reply_kind k, long long *mark, long long hi)
{
	struct reply_todo td;
	int r = 0;

	while (!stopping) {
		r = k == REPLY_ACK ? replystore_next_ack(w->st, *mark, hi, &td) :
		    replystore_next_complete(w->st, *mark, hi, &td);
		if (r != 1)
			break;
		if (plan_reply(w, &td) < 0)
			return -1;	/* the same one again at the next poll */
		*mark = td.src;
	}
	if (r < 0) {
		syslog(LOG_ERR, "poll: %s", replystore_errmsg());
		return -1;
	}
	if (!stopping)
		*mark = hi;
	return 0;
}

/* New cases, then completions, up to the ids that existed when we looked. */
static void
scan(struct worker *w)
{
	long long chi, ehi;

	if (replystore_marks(w->st, &chi, &ehi) < 0) {
		syslog(LOG_ERR, "poll: %s", replystore_errmsg());
		w->errors = true;
		return;
	}
	if (scan_kind(w, REPLY_ACK, &w->cases_mark, chi) < 0)
		w->errors = true;
	if (scan_kind(w, REPLY_COMPLETE, &w->events_mark, ehi) < 0)
		w->errors = true;
}

/* ---- sending ---- */

static void
fill_case(const struct worker *w, const struct case_row *row, const struct reply_dates *dt,
    enum reply_kind k, struct reply_case *rc)
{
	time_t received = parse_iso(row->received_at);

	memset(rc, 0, sizeof(*rc));
	rc->kind = k;
	rc->lang = reply_language(row->language, w->cf->reply_language_fallback);
	rc->case_id = row->case_id;
	rc->case_kind = row->kind;
	rc->tickets = &row->tickets;
	rc->models = &row->models;
	rc->serials = &row->serials;
	rc->missing = row->missing ? row->missing : "";
	rc->customer_name = row->from_name ? row->from_name : "";
	rc->subject = row->subject ? row->subject : "";
	rc->received = local_day(w, received == (time_t)-1 ? time(NULL) : received);
	ymd_parse(dt->update_by, &rc->update_by);
	ymd_parse(dt->resolve_by, &rc->resolve_by);
	rc->complaints_address = w->from_addr;
	rc->company_name = w->from_name;
}

/* The message of reply d into out.  0, or -1 with err. */
static int
compose(struct worker *w, const struct reply_due *d, strbuf *out, char *err, size_t errlen)
{
	struct case_row row;
	struct reply_dates dt;
	struct reply_case rc;
	struct reply_text rt;
	struct reply_msg m = { 0 };
	char *followup = NULL, refs[2048];
	int r;

	if ((r = store_find_case(w->st, d->case_id, &row)) <= 0) {
		snprintf(err, errlen, "%s", r < 0 ? store_errmsg(w->st) : "no such case");
		return -1;
	}
	if (replystore_get_dates(w->st, d->case_id, &dt) < 0 ||
	    (d->kind == REPLY_COMPLETE && replystore_completed_msgid(w->st, d->case_id, &followup) < 0)) {
		snprintf(err, errlen, "%s", replystore_errmsg());
		case_row_free(&row);
		return -1;
	}
	fill_case(w, &row, &dt, d->kind, &rc);
	if ((r = reply_render_case(w->tm, &rc, &rt, err, errlen)) == 0) {
		snprintf(refs, sizeof(refs), "%s %s", row.message_id ? row.message_id : "",
		    followup ? followup : "");
		m.from = w->cf->reply_from;
		m.to_addr = d->recipient;
		m.to_name = row.from_addr && str_ieq(row.from_addr, d->recipient) ? row.from_name : NULL;
		m.case_id = row.case_id;
		m.message_id = d->message_id;
		m.in_reply_to = followup ? followup : row.message_id;
		m.references = refs;
		m.body = &rt;
		m.date = time(NULL);
		r = reply_build(&m, out, err, errlen);
		reply_text_free(&rt);
	}
	free(followup);
	case_row_free(&row);
	return r;
}

static void
deliver_one(struct worker *w, const struct reply_due *d)
{
	char err[1024] = "";
	enum submit_result res;
	strbuf msg;
	int r;

	sb_init(&msg);
	if (compose(w, d, &msg, err, sizeof(err)) < 0)
		res = SUBMIT_TEMPFAIL;	/* the database or memory: try again */
	else
		res = submit_message(&w->tr, d->recipient, msg.s, msg.len, err, sizeof(err));
	sb_free(&msg);
	if (res == SUBMIT_OK) {
		r = replystore_sent(w->st, d, time(NULL));
		syslog(LOG_INFO, "%s: reply=%s sent msgid=<%s> to=<%s>", d->case_id,
		    reply_kind_name(d->kind), d->message_id, d->recipient);
	} else {
		r = replystore_failed(w->st, d, time(NULL), res == SUBMIT_PERMFAIL, err,
		    w->cf->reply_retry_base);
		syslog(res == SUBMIT_PERMFAIL ? LOG_ERR : LOG_WARNING,
		    "%s: reply=%s %s to=<%s> attempt=%d: %s", d->case_id, reply_kind_name(d->kind),
		    res == SUBMIT_PERMFAIL ? "failed" : "deferred", d->recipient, d->attempts + 1, err);
	}
	if (r < 0) {
		syslog(LOG_ERR, "%s: recording the delivery: %s", d->case_id, replystore_errmsg());
		w->errors = true;
	}
}

/* Submit what is due.  The number handled, or -1. */
static int
deliver(struct worker *w)
{
	struct reply_due due[DUE_BATCH];
	int n = replystore_due(w->st, time(NULL), due, DUE_BATCH);

	if (n < 0) {
		syslog(LOG_ERR, "due replies: %s", replystore_errmsg());
		w->errors = true;
		return -1;
	}
	for (int i = 0; i < n && !stopping; i++)
		deliver_one(w, &due[i]);
	return n;
}

/* ---- setup ---- */

/*
 * Load what the configuration names into w (config, sender, transport,
 * templates, calendar); 0, or -1 with the reason in err and w untouched
 * where it matters (a failed reload keeps the running worker).
 */
static int
load(struct worker *w, const char *conf, char *err, size_t errlen)
{
	if ((w->cf = config_load(conf, err, errlen)) == NULL)
		return -1;
	if (reply_split_from(w->cf->reply_from, w->from_addr, sizeof(w->from_addr),
	    w->from_name, sizeof(w->from_name)) < 0 || strrchr(w->from_addr, '@') == NULL) {
		snprintf(err, errlen, "%s: ReplyFrom: expected \"Name <address>\"", conf);
		return -1;
	}
	snprintf(w->domain, sizeof(w->domain), "%s", strrchr(w->from_addr, '@') + 1);
	sl_init(&w->own);
	if (sl_add(&w->own, w->from_addr) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < w->cf->recipients.n; i++)
		if (sl_add(&w->own, w->cf->recipients.v[i]) < 0) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	if (submit_parse_transport(w->cf->reply_transport, &w->tr, err, errlen) < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: %s", conf, why);
		return -1;
	}
	snprintf(w->tr.helo, sizeof(w->tr.helo), "%s", w->domain);
	if ((w->tm = reply_templates_load(w->cf->templates_dir, w->cf->reply_language_fallback,
	    err, errlen)) == NULL)
		return -1;
	if ((w->cal = calendar_load(w->cf->holidays_dir, w->cf->holiday_country, err,
	    errlen)) == NULL)
		return -1;
	w->shift = today_shift();
	return 0;
}

/* What load() made; the database connection is not its. */
static void
unload(struct worker *w)
{
	calendar_free(w->cal);
	reply_templates_free(w->tm);
	sl_free(&w->own);
	config_unref(w->cf);
	w->cal = NULL;
	w->tm = NULL;
	w->cf = NULL;
}

static void
setup(struct worker *w, const char *conf)
{
	char err[1024];

	if (load(w, conf, err, sizeof(err)) < 0)
		die(EX_CONFIG, "%s", err);
}

/*
 * SIGHUP or SIGUSR1: load configuration, templates and holidays again; a
 * broken set keeps the running one (and says why).  The database stays open:
 * a new Database takes effect at restart.
 */
static void
reload(struct worker *w, const char *conf)
{
	struct worker nw = *w;
	char err[1024];

	nw.cf = NULL;
	nw.tm = NULL;
	nw.cal = NULL;
	sl_init(&nw.own);
	if (load(&nw, conf, err, sizeof(err)) < 0) {
		syslog(LOG_ERR, "reload failed, keeping the running configuration: %s", err);
		unload(&nw);
		return;
	}
	if (strcmp(nw.cf->database, w->cf->database) != 0)
		syslog(LOG_WARNING, "reload: a new Database takes effect only at restart");
	unload(w);
	*w = nw;
	syslog(LOG_INFO, "reloaded %s", conf);
}

static void
teardown(struct worker *w)
{
	store_close(w->st);
	unload(w);
	submit_cleanup();
}

static void
signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

static void
run(struct worker *w, const char *conf, bool once)
{
	struct timespec poll = { 1, 0 };

	while (!stopping) {
		int n;

		if (reloading) {
			reloading = 0;
			reload(w, conf);
		}
		w->errors = false;
		scan(w);
		n = deliver(w);
		if (once && !w->errors && n < DUE_BATCH)
			break;
		if (once && w->errors)
			die(EX_TEMPFAIL, "database errors; see the log");
		if (n < DUE_BATCH)
			nanosleep(&poll, NULL);
	}
}

int
main(int argc, char **argv)
{
	const char *conf = "/etc/complaint-milter/complaint-milter.conf";
	bool once = false, check = false, fg = isatty(STDERR_FILENO);
	struct worker w;
	char err[1024];

	memset(&w, 0, sizeof(w));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--once") == 0)
			once = true;
		else if (strcmp(argv[i], "-f") == 0)
			fg = true;
		else if (strcmp(argv[i], "-n") == 0)
			check = true;
		else
			usage();
	}
	openlog("complaint-reply", LOG_PID | LOG_NDELAY | (fg ? LOG_PERROR : 0), LOG_MAIL);
	setup(&w, conf);
	closelog();
	openlog("complaint-reply", LOG_PID | LOG_NDELAY | (fg ? LOG_PERROR : 0),
	    config_syslog_facility(w.cf));
	if (check) {
		printf("%s: configuration, templates and holidays OK\n", conf);
		teardown(&w);
		return 0;
	}
	if (submit_init() < 0)
		die(EX_SOFTWARE, "libcurl initialisation failed");
	if ((w.st = store_open(w.cf->database, w.cf->busy_timeout_ms, err, sizeof(err))) == NULL)
		die(EX_UNAVAILABLE, "%s", err);
	signals();
	syslog(LOG_INFO, "started: database %s, transport %s, holidays %s, polling every second%s",
	    w.cf->database, w.cf->reply_transport, w.cf->holiday_country,
	    w.shift ? " (CM_TODAY set)" : "");
	run(&w, conf, once);
	syslog(LOG_INFO, "stopping");
	teardown(&w);
	return 0;
}
