/*
 * filter.c - complaint-milter's callbacks.
 *
 * Per connection a struct conn, per message a struct msg inside it; one
 * cleanup function (msg_reset) runs from envfrom, data-accept, eom, abort and
 * close, so a message's memory is freed on every path.
 *
 * Ordinary mail costs almost nothing: only MAIL, RCPT, DATA, headers, body
 * and end of message are negotiated, MAIL and RCPT need no reply, and at DATA
 * a message with no complaints recipient (and not from staff) is answered
 * ACCEPT, after which the MTA sends nothing more for it.
 *
 * Mail from a Staff address (envelope sender) that names a case is recorded
 * on the case as a staff reply: the first acknowledges the case, later ones
 * are progress updates.  It is never rejected and never opens a case.
 */
#include "filter.h"
#include "caseid.h"
#include "mfio.h"
#include "pipeline.h"
#include "smtpreply.h"
#include "subject.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

/* Headers we write; copies arriving from outside are removed first. */
static const char *const our_headers[] = {
	"X-Case-ID", "X-Complaint-Kind", "X-Complaint-Status",
	"X-Complaint-Ticket", "X-Complaint-Model", "X-Complaint-Serial",
};
#define N_OUR (sizeof(our_headers) / sizeof(our_headers[0]))

/* The working-day calendar, shared by the messages that started with it. */
struct calref {
	int refs;
	struct calendar *cal;
};

struct msg {
	struct config *cf;	/* snapshot for this message */
	struct rules *rs;
	struct calref *cal;
	bool staff;		/* envelope sender is a Staff address */
	char *envfrom;
	strlist rcpts;
	bool complaint_rcpt;
	bool other_rcpt;
	strbuf raw;		/* headers and body as the MTA sent them */
	size_t raw_cap;
	bool truncated;
	bool failed;		/* out of memory in a step that sends no reply */
	bool in_body;
	int our_count[N_OUR];	/* occurrences of our headers in the message */
	int subject_count;
	char *raw_subject;	/* first Subject as sent */
};

struct conn {
	struct msg m;
};

static struct {
	pthread_rwlock_t lock;
	struct config *cf;
	struct rules *rs;
	struct calref *cal;
	struct store_writer *w;
	unsigned long steps;	/* protocol steps we may skip (negotiated) */
} G = { .lock = PTHREAD_RWLOCK_INITIALIZER };

static struct calref *
calref_new(struct calendar *cal)
{
	struct calref *cr = calloc(1, sizeof(*cr));

	if (cr == NULL)
		return NULL;
	cr->refs = 1;
	cr->cal = cal;
	return cr;
}

static void
calref_unref(struct calref *cr)
{
	if (cr == NULL || __atomic_sub_fetch(&cr->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	calendar_free(cr->cal);
	free(cr);
}

void
filter_init(struct config *cf, struct rules *rs, struct calendar *cal, struct store_writer *w)
{
	config_ref(cf);
	rules_ref(rs);
	G.cf = cf;
	G.rs = rs;
	G.cal = calref_new(cal);
	G.w = w;
}

void
filter_swap(struct config *cf, struct rules *rs, struct calendar *cal)
{
	struct config *ocf;
	struct rules *ors;
	struct calref *ocal, *ncal = calref_new(cal);

	if (ncal == NULL) {
		calendar_free(cal);
		return;		/* out of memory: keep what runs */
	}
	config_ref(cf);
	rules_ref(rs);
	pthread_rwlock_wrlock(&G.lock);
	ocf = G.cf;
	ors = G.rs;
	ocal = G.cal;
	G.cf = cf;
	G.rs = rs;
	G.cal = ncal;
	pthread_rwlock_unlock(&G.lock);
	config_unref(ocf);
	rules_unref(ors);
	calref_unref(ocal);
}

void
filter_shutdown(void)
{
	pthread_rwlock_wrlock(&G.lock);
	config_unref(G.cf);
	rules_unref(G.rs);
	calref_unref(G.cal);
	G.cf = NULL;
	G.rs = NULL;
	G.cal = NULL;
	pthread_rwlock_unlock(&G.lock);
}

static void
log_line(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
log_line(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (mf_test_mode()) {
		fputs("log: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		vsyslog(prio, fmt, ap);
	}
	va_end(ap);
}

/* The one cleanup function of a message. */
static void
msg_reset(struct msg *m)
{
	config_unref(m->cf);
	rules_unref(m->rs);
	calref_unref(m->cal);
	free(m->envfrom);
	sl_free(&m->rcpts);
	sb_free(&m->raw);
	free(m->raw_subject);
	memset(m, 0, sizeof(*m));
}

static struct conn *
conn_get(SMFICTX *ctx)
{
	struct conn *c = mf_getpriv(ctx);

	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return NULL;
		if (mf_setpriv(ctx, c) != MI_SUCCESS) {
			free(c);
			return NULL;
		}
	}
	return c;
}

static const char *
queue_id(SMFICTX *ctx)
{
	const char *q = mf_getsymval(ctx, "i");

	return q ? q : "NOQUEUE";
}

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
    unsigned long *pf3)
{
	unsigned long want = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NOEOH |
	    SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_BODY;

	(void)ctx;
	(void)f2;
	(void)f3;
	*pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE);
	*pf1 = f1 & want;
	*pf2 = 0;
	*pf3 = 0;
	G.steps = *pf1;
	return SMFIS_CONTINUE;
}

/* An envelope address as stored: without <> or blanks ("" for the null sender). */
static char *
addr_bare(const char *a)
{
	size_t n;

	if (a == NULL)
		return strdup("");
	while (*a == ' ' || *a == '<')
		a++;
	n = strlen(a);
	while (n > 0 && (a[n - 1] == '>' || a[n - 1] == ' '))
		n--;
	return xstrndup(a, n);
}

/*
 * What a step answers when all went well: nothing at all when the MTA agreed
 * that the step needs no reply (libmilter logs an error for every reply sent
 * after such an agreement), else CONTINUE.  A failure in such a step marks
 * the message; DATA or end of message then answers 4xx.
 */
static sfsistat
step_ok(unsigned long nr_flag)
{
	return (G.steps & nr_flag) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
step_failed(struct msg *m, unsigned long nr_flag)
{
	m->failed = true;
	return (G.steps & nr_flag) ? SMFIS_NOREPLY : SMFIS_TEMPFAIL;
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = conn_get(ctx);
	struct msg *m;

	if (c == NULL)
		return SMFIS_TEMPFAIL;
	m = &c->m;
	msg_reset(m);
	pthread_rwlock_rdlock(&G.lock);
	m->cf = G.cf;
	m->rs = G.rs;
	m->cal = G.cal;
	config_ref(m->cf);
	rules_ref(m->rs);
	__atomic_add_fetch(&m->cal->refs, 1, __ATOMIC_ACQ_REL);
	pthread_rwlock_unlock(&G.lock);
	m->raw_cap = 4 * m->cf->max_scan_size + 65536;
	if ((m->envfrom = addr_bare(argv[0])) == NULL)
		return step_failed(m, SMFIP_NR_MAIL);
	m->staff = m->cf->staff.n > 0 && config_is_staff(m->cf, m->envfrom);
	return step_ok(SMFIP_NR_MAIL);
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn *c = mf_getpriv(ctx);
	struct msg *m;

	if (c == NULL || c->m.cf == NULL)
		return step_ok(SMFIP_NR_RCPT);
	m = &c->m;
	if (config_is_recipient(m->cf, argv[0])) {
		m->complaint_rcpt = true;
		if (sl_add(&m->rcpts, argv[0]) < 0)
			return step_failed(m, SMFIP_NR_RCPT);
	} else {
		m->other_rcpt = true;
	}
	return step_ok(SMFIP_NR_RCPT);
}

static sfsistat
cb_data(SMFICTX *ctx)
{
	struct conn *c = mf_getpriv(ctx);

	if (c == NULL || c->m.cf == NULL || c->m.failed)
		return SMFIS_TEMPFAIL;
	if (!c->m.complaint_rcpt && !c->m.staff) {
		/* not for us: the MTA sends nothing more for this message */
		msg_reset(&c->m);
		return SMFIS_ACCEPT;
	}
	return SMFIS_CONTINUE;
}

static int
raw_append(struct msg *m, const char *p, size_t n)
{
	if (m->raw.len >= m->raw_cap) {
		m->truncated = true;
		return 0;
	}
	if (n > m->raw_cap - m->raw.len) {
		n = m->raw_cap - m->raw.len;
		m->truncated = true;
	}
	return sb_append(&m->raw, p, n);
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = mf_getpriv(ctx);
	struct msg *m;

	if (c == NULL || c->m.cf == NULL)
		return step_ok(SMFIP_NR_HDR);
	m = &c->m;
	for (size_t i = 0; i < N_OUR; i++)
		if (strcasecmp(name, our_headers[i]) == 0)
			m->our_count[i]++;
	if (strcasecmp(name, "Subject") == 0 && m->subject_count++ == 0 &&
	    (m->raw_subject = strdup(value)) == NULL)
		return step_failed(m, SMFIP_NR_HDR);
	if (raw_append(m, name, strlen(name)) < 0 || raw_append(m, ": ", 2) < 0 ||
	    raw_append(m, value, strlen(value)) < 0 || raw_append(m, "\r\n", 2) < 0)
		return step_failed(m, SMFIP_NR_HDR);
	return step_ok(SMFIP_NR_HDR);
}

static sfsistat
cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct conn *c = mf_getpriv(ctx);
	struct msg *m;

	if (c == NULL || c->m.cf == NULL)
		return step_ok(SMFIP_NR_BODY);
	m = &c->m;
	if (!m->in_body) {
		m->in_body = true;
		if (raw_append(m, "\r\n", 2) < 0)
			return step_failed(m, SMFIP_NR_BODY);
	}
	/* beyond the cap the chunks are dropped (the scan is partial: flagged) */
	if (raw_append(m, (const char *)chunk, len) < 0)
		return step_failed(m, SMFIP_NR_BODY);
	return step_ok(SMFIP_NR_BODY);
}

/* Text for X-Complaint-Status. */
static void
status_text(const struct complaint *c, char *buf, size_t n)
{
	char miss[128];

	complaint_missing_str(c->missing, miss, sizeof(miss));
	if (c->missing)
		snprintf(buf, n, "incomplete; missing=%s", miss);
	else
		snprintf(buf, n, "complete");
}

static void
remove_our_headers(SMFICTX *ctx, const struct msg *m)
{
	for (size_t i = 0; i < N_OUR; i++)
		for (int k = m->our_count[i]; k >= 1; k--)
			mf_chgheader(ctx, our_headers[i], k, NULL);
}

static int
add_list_header(SMFICTX *ctx, const char *name, const strlist *sl)
{
	char *joined, *safe;
	int rc;

	if (sl->n == 0)
		return 0;
	if ((joined = sl_join(sl, ", ")) == NULL)
		return -1;
	safe = header_value_safe(joined);
	free(joined);
	if (safe == NULL)
		return -1;
	rc = mf_addheader(ctx, name, safe) == MI_SUCCESS ? 0 : -1;
	free(safe);
	return rc;
}

/* Subject tag and our headers on an accepted complaint or follow-up. */
static int
edit_message(SMFICTX *ctx, const struct msg *m, const struct complaint *c,
    const char *case_id, const char *status, bool with_kind)
{
	bool unchanged;
	char *subj;

	remove_our_headers(ctx, m);
	subj = subject_tag(m->raw_subject, c->subject, case_id, m->rs, &unchanged);
	if (subj == NULL && !unchanged)
		return -1;
	if (subj != NULL) {
		int r = m->subject_count ? mf_chgheader(ctx, "Subject", 1, subj) :
		    mf_addheader(ctx, "Subject", subj);

		free(subj);
		if (r != MI_SUCCESS)
			return -1;
	}
	if (mf_addheader(ctx, "X-Case-ID", case_id) != MI_SUCCESS ||
	    (with_kind && mf_addheader(ctx, "X-Complaint-Kind",
	    complaint_kind_name(c->kind)) != MI_SUCCESS) ||
	    mf_addheader(ctx, "X-Complaint-Status", status) != MI_SUCCESS)
		return -1;
	if (add_list_header(ctx, "X-Complaint-Ticket", &c->tickets) < 0 ||
	    add_list_header(ctx, "X-Complaint-Model", &c->models) < 0 ||
	    add_list_header(ctx, "X-Complaint-Serial", &c->serials) < 0)
		return -1;
	return 0;
}

/* Message-ID, or a digest of the message when it has none. */
static char *
dedup_key(const struct msg *m, const struct complaint *c)
{
	gchar *sum;
	char *key;

	if (*c->message_id)
		return strdup(c->message_id);
	sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)m->raw.s, m->raw.len);
	if (sum == NULL)
		return NULL;
	if (asprintf(&key, "sha256:%s", sum) < 0)
		key = NULL;
	g_free(sum);
	return key;
}

static void
intake_fill(struct intake *in, const struct msg *m, const struct complaint *c,
    const char *rcpts, const char *qid, const char *key, const struct caseid_fmt *idf,
    const char *event)
{
	memset(in, 0, sizeof(*in));
	in->c = c;
	in->envelope_from = m->envfrom;
	in->recipients = rcpts;
	in->queue_id = qid;
	in->dedup_key = key;
	in->idf = idf;
	in->event_type = event;
}

/*
 * Tempfail log lines are rate limited per cause: while the database is
 * locked or the disk full, every message of a burst fails the same way.  The
 * first of a cause is logged; the same cause again within TEMPFAIL_QUIET
 * seconds is counted, and the next line logged for it says how many were
 * not.  Every message still gets its 451.
 */
#define TEMPFAIL_QUIET	10
#define TEMPFAIL_CAUSES	8

static struct {
	pthread_mutex_t mu;
	struct {
		char why[128];
		struct timespec last;	/* CLOCK_MONOTONIC of the last line logged */
		unsigned long quiet;	/* not logged since */
	} c[TEMPFAIL_CAUSES];
} TF = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* 0: do not log; else the line is logged with *quiet not logged before it. */
static int
tempfail_log_due(const char *why, unsigned long *quiet)
{
	struct timespec now;
	size_t i, oldest = 0;
	int due = 1;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&TF.mu);
	for (i = 0; i < TEMPFAIL_CAUSES; i++) {
		if (strncmp(TF.c[i].why, why, sizeof(TF.c[i].why) - 1) == 0 && TF.c[i].why[0])
			break;
		if (TF.c[i].last.tv_sec < TF.c[oldest].last.tv_sec)
			oldest = i;
	}
	if (i == TEMPFAIL_CAUSES) {	/* a new cause takes the stalest slot */
		i = oldest;
		snprintf(TF.c[i].why, sizeof(TF.c[i].why), "%s", why);
		TF.c[i].quiet = 0;
	} else if (now.tv_sec - TF.c[i].last.tv_sec < TEMPFAIL_QUIET) {
		TF.c[i].quiet++;
		due = 0;
	}
	if (due) {
		*quiet = TF.c[i].quiet;
		TF.c[i].quiet = 0;
		TF.c[i].last = now;
		if (TF.c[i].last.tv_sec == 0)
			TF.c[i].last.tv_sec = 1;	/* 0 means never */
	}
	pthread_mutex_unlock(&TF.mu);
	return due;
}

static sfsistat
tempfail(SMFICTX *ctx, const char *qid, const char *why)
{
	static const char *const line[] = {
		"Temporary problem recording your complaint; please try again later.",
	};
	unsigned long quiet = 0;

	if (tempfail_log_due(why, &quiet)) {
		if (quiet)
			log_line(LOG_ERR, "%s: tempfail: %s (%lu more tempfails for this cause in "
			    "the last %d s not logged)", qid, why, quiet, TEMPFAIL_QUIET);
		else
			log_line(LOG_ERR, "%s: tempfail: %s", qid, why);
	}
	mf_setmlreply(ctx, "451", "4.3.0", line, 1);
	return SMFIS_TEMPFAIL;
}

static sfsistat
reject(SMFICTX *ctx, struct msg *m, const struct complaint *c, const char *qid,
    const char *key)
{
	char lines[MF_REPLY_LINES][SMTPREPLY_LINE_MAX];
	const char *ptr[MF_REPLY_LINES];
	char miss[128], detail[512];
	struct store_op op;
	int n;

	complaint_missing_str(c->missing, miss, sizeof(miss));
	/* detail: {"missing":["model","description"],"kind":"product","language":"nl"} */
	{
		size_t o = (size_t)snprintf(detail, sizeof(detail), "{\"missing\":[");
		char tmp[128], *save = NULL;
		int first = 1;

		snprintf(tmp, sizeof(tmp), "%s", miss);
		for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			o += (size_t)snprintf(detail + o, sizeof(detail) - o, "%s\"%s\"",
			    first ? "" : ",", t);
			first = 0;
		}
		snprintf(detail + o, sizeof(detail) - o, "],\"kind\":\"%s\",\"language\":\"%s\"}",
		    complaint_kind_name(c->kind), c->language);
	}
	store_op_event(&op, NULL, "rejected", detail, key, m->envfrom, qid);
	if (store_writer_submit(G.w, &op) < 0)
		return tempfail(ctx, qid, op.errmsg);
	n = smtpreply_incomplete(c, lines, MF_REPLY_LINES);
	for (int i = 0; i < n; i++)
		ptr[i] = lines[i];
	mf_setmlreply(ctx, "550", "5.7.1", ptr, n);
	log_line(LOG_INFO, "%s: verdict=reject missing=%s kind=%s language=%s from=<%s>",
	    qid, miss, complaint_kind_name(c->kind), c->language[0] ? c->language : "-",
	    m->envfrom);
	return SMFIS_REJECT;
}

/* A follow-up of an existing case: 1 done, 0 no such case, -1 error. */
static int
followup(SMFICTX *ctx, struct msg *m, const struct complaint *c, const char *qid,
    const char *rcpts, const char *key, const struct caseid_fmt *idf, sfsistat *st)
{
	struct intake in;
	struct store_op op;
	char status[160], miss[128];

	struct store_op esc;
	struct store_op *ops[2] = { &op, &esc };

	intake_fill(&in, m, c, rcpts, qid, key, idf, NULL);
	store_op_followup(&op, c->case_ref, &in);
	/* words of escalation: the case is escalated in the same batch */
	if (c->escalation)
		store_op_escalate(&esc, c->case_ref, &c->escalation_words, &in);
	if (store_writer_submitv(G.w, ops, c->escalation ? 2 : 1) < 0) {
		*st = tempfail(ctx, qid, op.rc < 0 ? op.errmsg : esc.errmsg);
		return -1;
	}
	if (op.rc == 0)
		return 0;
	if (c->escalation && esc.rc == 1 && esc.lres.changed)
		log_line(LOG_INFO, "%s: case=%s escalated by the customer (%s -> %s)", qid,
		    c->case_ref, esc.lres.from, esc.lres.to);
	complaint_missing_str(op.fres.missing, miss, sizeof(miss));
	snprintf(status, sizeof(status), "follow-up%s", op.fres.completed ? "; complete" : "");
	if (edit_message(ctx, m, c, c->case_ref, status, c->kind != KIND_UNKNOWN) < 0) {
		*st = tempfail(ctx, qid, "editing the message failed");
		return -1;
	}
	log_line(LOG_INFO, "%s: case=%s verdict=follow-up%s%s case-missing=%s from=<%s>", qid,
	    c->case_ref, op.fres.completed ? " completed" : "", op.fres.existed ? " retried" : "",
	    *miss ? miss : "-", m->envfrom);
	*st = SMFIS_ACCEPT;
	return 1;
}

static sfsistat
new_case(SMFICTX *ctx, struct msg *m, const struct complaint *c, const char *qid,
    const char *rcpts, const char *key, const struct caseid_fmt *idf, bool quarantine)
{
	struct intake in;
	struct store_op op;
	char status[160], miss[128];

	intake_fill(&in, m, c, rcpts, qid, key, idf,
	    c->missing == 0 ? NULL : quarantine ? "quarantined" : "flagged");
	store_op_new_case(&op, &in);
	if (store_writer_submit(G.w, &op) < 0)
		return tempfail(ctx, qid, op.errmsg);
	status_text(c, status, sizeof(status));
	if (edit_message(ctx, m, c, op.cres.case_id, status, true) < 0)
		return tempfail(ctx, qid, "editing the message failed");
	if (quarantine && c->missing) {
		char reason[256];

		complaint_missing_str(c->missing, miss, sizeof(miss));
		snprintf(reason, sizeof(reason), "complaint-milter: %s incomplete, missing %s",
		    op.cres.case_id, miss);
		if (mf_quarantine(ctx, reason) != MI_SUCCESS)
			return tempfail(ctx, qid, "quarantine failed");
	}
	complaint_missing_str(c->missing, miss, sizeof(miss));
	log_line(LOG_INFO, "%s: case=%s verdict=%s%s kind=%s missing=%s language=%s from=<%s>",
	    qid, op.cres.case_id,
	    c->missing == 0 ? "accept" : quarantine ? "quarantine" : "flag",
	    op.cres.existed ? " retried" : "", complaint_kind_name(c->kind), *miss ? miss : "-",
	    c->language[0] ? c->language : "-", m->envfrom);
	return SMFIS_ACCEPT;
}

/*
 * Mail from staff: recorded on the case it names as a staff reply; never
 * rejected, never a new case, never edited.
 */
static sfsistat
staff_mail(SMFICTX *ctx, struct msg *m, const struct complaint *c, const char *qid)
{
	struct intake in;
	struct store_op op;
	char *key;
	sfsistat st = SMFIS_ACCEPT;

	if (c->case_ref == NULL)
		return SMFIS_ACCEPT;
	if ((key = dedup_key(m, c)) == NULL)
		return tempfail(ctx, qid, "out of memory");
	intake_fill(&in, m, c, "", qid, key, NULL, NULL);
	store_op_staff_reply(&op, c->case_ref, &in, m->cal->cal);
	if (store_writer_submit(G.w, &op) < 0) {
		st = tempfail(ctx, qid, op.errmsg);
	} else if (op.rc == 1) {
		log_line(LOG_INFO, "%s: case=%s verdict=staff-reply status=%s%s update-by=%s from=<%s>",
		    qid, c->case_ref, op.lres.to, op.lres.existed ? " retried" : "",
		    *op.lres.update_by ? op.lres.update_by : "-", m->envfrom);
	}
	free(key);
	return st;
}

static sfsistat
decide(SMFICTX *ctx, struct msg *m)
{
	const char *qid = queue_id(ctx);
	struct pipeline_opts po;
	struct complaint c;
	char *rcpts = NULL, *key = NULL;
	sfsistat st;

	memset(&po, 0, sizeof(po));
	po.rules = m->rs;
	caseid_fmt_init(&po.idf, m->cf->case_id_prefix, m->cf->case_id_node, m->cf->case_id_check);
	po.max_scan = m->cf->max_scan_size;
	po.action = m->cf->incomplete_action;
	if (pipeline_run(&po, m->raw.s ? m->raw.s : "", m->raw.len, m->envfrom, &c) < 0)
		return tempfail(ctx, qid, "out of memory in the pipeline");
	if (m->truncated)
		c.review = true;
	if (m->staff) {
		st = staff_mail(ctx, m, &c, qid);
		complaint_free(&c);
		return st;
	}
	if (c.auto_submitted) {
		remove_our_headers(ctx, m);
		mf_addheader(ctx, "X-Complaint-Status", "auto-submitted");
		log_line(LOG_INFO, "%s: verdict=auto-submitted from=<%s>", qid, m->envfrom);
		complaint_free(&c);
		return SMFIS_ACCEPT;
	}
	if ((rcpts = sl_join(&m->rcpts, ",")) == NULL || (key = dedup_key(m, &c)) == NULL) {
		st = tempfail(ctx, qid, "out of memory");
		goto out;
	}
	if (c.case_ref != NULL && followup(ctx, m, &c, qid, rcpts, key, &po.idf, &st) != 0)
		goto out;
	/* a new complaint: the reference, if any, named no case we know */
	if (c.case_ref != NULL) {
		free(c.case_ref);
		c.case_ref = NULL;
	}
	if (c.missing == 0)
		st = new_case(ctx, m, &c, qid, rcpts, key, &po.idf, false);
	else if (m->cf->incomplete_action == INCOMPLETE_REJECT && !c.review && !m->other_rcpt)
		st = reject(ctx, m, &c, qid, key);
	else
		st = new_case(ctx, m, &c, qid, rcpts, key, &po.idf,
		    m->cf->incomplete_action == INCOMPLETE_QUARANTINE);
out:
	free(rcpts);
	free(key);
	complaint_free(&c);
	return st;
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct conn *c = mf_getpriv(ctx);
	sfsistat st;

	if (c == NULL || c->m.cf == NULL)
		return SMFIS_TEMPFAIL;
	if (c->m.failed)
		st = tempfail(ctx, queue_id(ctx), "out of memory while receiving the message");
	else
		st = decide(ctx, &c->m);
	msg_reset(&c->m);
	return st;
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct conn *c = mf_getpriv(ctx);

	if (c != NULL)
		msg_reset(&c->m);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct conn *c = mf_getpriv(ctx);

	if (c != NULL) {
		msg_reset(&c->m);
		free(c);
		mf_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "complaint-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
	.xxfi_connect = NULL,
	.xxfi_helo = NULL,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = NULL,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_unknown = NULL,
	.xxfi_data = cb_data,
	.xxfi_negotiate = cb_negotiate,
};

struct smfiDesc *
filter_desc(void)
{
	return &desc;
}
