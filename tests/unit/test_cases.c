/*
 * test_cases.c - unit tests of the case lifecycle and the staff's queries:
 * the transition table, deadlines in working days (NL holidays of 2026:
 * Goede Vrijdag 3 April, Tweede Paasdag 6 April, Koningsdag 27 April,
 * Hemelvaart 14 May, Tweede Pinksterdag 25 May), set-status, extend,
 * escalation and staff replies (direct and through the group-commit
 * writer), list filters, sorting and paging, overdue for a fixed today,
 * statistics, and the JSON, CSV and table output.  Every test builds its
 * fixture database through the store API in its own mkdtemp() directory.
 */
#include "unit.h"

#include <dirent.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include "calendar.h"
#include "cases.h"
#include "cases_out.h"
#include "lifecycle.h"
#include "store.h"

#ifndef HOLIDAYS_DIR
#define HOLIDAYS_DIR "conf/holidays"
#endif

struct fx {
	char dir[64];
	char path[128];
	struct caseid_fmt idf;
	struct calendar *cal;
	struct store *st;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char err[512];

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_cases.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/cases.db", fx->dir);
	caseid_fmt_init(&fx->idf, "CASE", "", false);
	fx->cal = calendar_load(HOLIDAYS_DIR, "NL", err, sizeof(err));
	fx->st = store_open(fx->path, 2000, err, sizeof(err));
	if (fx->cal == NULL || fx->st == NULL) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	store_close(fx->st);
	calendar_free(fx->cal);
	unit_rmdir(fx->dir);
	free(fx);
	return 0;
}

/* ---- helpers ---- */

static struct ymd
D(int y, int m, int d)
{
	struct ymd r = { y, m, d };

	return r;
}

/* y-m-d at 09:00 UTC. */
static time_t
T(int y, int m, int d)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 9 };

	return timegm(&tm);
}

static void
add_csv(strlist *sl, const char *csv)
{
	char buf[256], *p, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", csv ? csv : "");
	for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
		assert_int_equal(sl_add(sl, p), 0);
}

/* A message and its intake, owned together. */
struct msg {
	struct complaint c;
	struct intake in;
	char dedup[64];
	char from[64];
};

static void
msg_init(struct msg *m, const struct fx *fx, const char *dedup, const char *from,
    time_t now)
{
	memset(m, 0, sizeof(*m));
	complaint_init(&m->c);
	m->c.subject = strdup("Inverter fault");
	m->c.from_addr = strdup(from);
	m->c.from_name = strdup("A. Customer");
	m->c.message_id = strdup(dedup);
	m->c.in_reply_to = strdup("");
	m->c.description = true;
	snprintf(m->c.language, sizeof(m->c.language), "en");
	snprintf(m->dedup, sizeof(m->dedup), "%s", dedup);
	snprintf(m->from, sizeof(m->from), "%s", from);
	m->in.c = &m->c;
	m->in.envelope_from = m->from;
	m->in.recipients = "complaints@example.com";
	m->in.queue_id = "4Q1x2y3z";
	m->in.dedup_key = m->dedup;
	m->in.idf = &fx->idf;
	m->in.now = now;
}

struct spec {
	const char *dedup;
	time_t when;
	enum complaint_kind kind;
	const char *tickets, *models, *serials;
	unsigned missing;
	const char *from, *name, *lang, *subject;
};

/* A new case from spec; its ID into id. */
static void
add_case(struct fx *fx, const struct spec *s, char *id)
{
	struct case_result cr;
	struct msg m;

	msg_init(&m, fx, s->dedup, s->from ? s->from : "customer@example.com", s->when);
	m.c.kind = s->kind;
	add_csv(&m.c.tickets, s->tickets);
	add_csv(&m.c.models, s->models);
	add_csv(&m.c.serials, s->serials);
	m.c.missing = s->missing;
	m.c.description = !(s->missing & MISSING_DESCRIPTION);
	if (s->name) {
		free(m.c.from_name);
		m.c.from_name = strdup(s->name);
	}
	if (s->subject) {
		free(m.c.subject);
		m.c.subject = strdup(s->subject);
	}
	if (s->lang)
		snprintf(m.c.language, sizeof(m.c.language), "%s", s->lang);
	assert_int_equal(store_new_case(fx->st, &m.in, &cr), 0);
	strcpy(id, cr.case_id);
	complaint_free(&m.c);
}

/* A staff reply on id at when (message dedup as its Message-ID). */
static int
staff_reply(struct fx *fx, const char *id, const char *dedup, time_t when,
    struct life_result *lr)
{
	struct msg m;
	int rc;

	msg_init(&m, fx, dedup, "anna@staff.example.com", when);
	free(m.c.subject);
	m.c.subject = strdup("Re: Inverter fault");
	rc = store_staff_reply(fx->st, id, &m.in, fx->cal, lr);
	complaint_free(&m.c);
	return rc;
}

static int
set_status(struct fx *fx, const char *id, const char *status, time_t when)
{
	struct life_result lr;

	return store_set_status(fx->st, id, status, NULL, "tester", fx->cal, when, &lr);
}

/* First column of the first row of sql (one optional text parameter). */
static char *
sql1(const struct fx *fx, const char *sql, const char *arg)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	char *r = NULL;

	assert_int_equal(sqlite3_open_v2(fx->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (arg)
		sqlite3_bind_text(s, 1, arg, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		r = strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return r;
}

static void
assert_sql(const struct fx *fx, const char *sql, const char *arg, const char *want)
{
	char *got = sql1(fx, sql, arg);

	if (want == NULL)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
	free(got);
}

/* What JSON text says at path ($[0].case_id, $.total, ...), via SQLite. */
static char *
json_at(const char *json, const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	char *r = NULL;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT json_valid(?1), json_extract(?1, ?2)",
	    -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_text(s, 1, json, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, path, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), 1);
	if (sqlite3_column_text(s, 1))
		r = strdup((const char *)sqlite3_column_text(s, 1));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return r;
}

static void
assert_json(const char *json, const char *path, const char *want)
{
	char *got = json_at(json, path);

	if (want == NULL)
		assert_null(got);
	else {
		if (got == NULL || strcmp(got, want) != 0)
			fprintf(stderr, "%s: got %s, want %s\n", path, got ? got : "NULL", want);
		assert_non_null(got);
		assert_string_equal(got, want);
	}
	free(got);
}

static struct cases_db *
open_read(const struct fx *fx)
{
	char err[512];
	struct cases_db *db = cases_open(fx->path, 1000, err, sizeof(err));

	if (db == NULL)
		fprintf(stderr, "cases_open: %s\n", err);
	assert_non_null(db);
	return db;
}

/* The case IDs of a list, comma-joined. */
static void
ids_of(const struct case_list *l, char *buf, size_t n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < l->n && o < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? "," : "",
		    l->v[i].f[CF_CASE_ID] + strlen("CASE-2026-"));
}

/* List with f and today; the IDs (numbers only) into buf. */
static void
list_ids(struct fx *fx, const struct case_filter *f, struct ymd today, char *buf, size_t n)
{
	struct cases_db *db = open_read(fx);
	struct case_list l;

	assert_int_equal(cases_list(db, f, fx->cal, today, &l), 0);
	ids_of(&l, buf, n);
	case_list_free(&l);
	cases_close(db);
}

/*
 * The list fixture:
 *  000001 product SUN2000-5KTL-L1 / HV2150123456, nl, jan@example.nl, 2026-04-01
 *  000002 service TCK-204518, de, "Peter MÜLLER" <p.mueller@example.de>, 2026-04-20
 *  000003 product SB5.0-1AV-41, incomplete (description), en, 2026-05-04
 *  000004 product SUN2000-10KTL-M1 / ES2140012345, nl, 2026-03-02
 */
static void
list_fixture(struct fx *fx, char ids[4][CASEID_MAX])
{
	const struct spec s[4] = {
		{ "m1@x", T(2026, 4, 1), KIND_PRODUCT, NULL, "SUN2000-5KTL-L1", "HV2150123456",
		  0, "jan@example.nl", "Jan de Vries", "nl", "Klacht omvormer" },
		{ "m2@x", T(2026, 4, 20), KIND_SERVICE, "TCK-204518", NULL, NULL, 0,
		  "p.mueller@example.de", "Peter MÜLLER", "de", "Reklamation, \"dringend\"" },
		{ "m3@x", T(2026, 5, 4), KIND_PRODUCT, NULL, "SB5.0-1AV-41", NULL,
		  MISSING_DESCRIPTION, "mark@example.co.uk", "Mark", "en", "=HYPERLINK(\"x\")" },
		{ "m4@x", T(2026, 3, 2), KIND_PRODUCT, NULL, "SUN2000-10KTL-M1", "ES2140012345",
		  0, "els@example.nl", "Els", "nl", "Storing\x1b[31m rood" },
	};

	for (int i = 0; i < 4; i++)
		add_case(fx, &s[i], ids[i]);
}

/* ---- the transition table ---- */

static void
test_transitions(void **state)
{
	char why[160];

	(void)state;
	assert_true(case_transition_ok(CS_NEW, CS_ACKNOWLEDGED));
	assert_true(case_transition_ok(CS_INCOMPLETE, CS_NEW));
	assert_true(case_transition_ok(CS_RESOLVED, CS_CLOSED));
	assert_true(case_transition_ok(CS_RESOLVED, CS_ESCALATED));
	assert_true(case_transition_ok(CS_RESOLVED, CS_IN_PROGRESS));
	assert_true(case_transition_ok(CS_ESCALATED, CS_RESOLVED));
	assert_false(case_transition_ok(CS_ESCALATED, CS_CLOSED));
	assert_false(case_transition_ok(CS_NEW, CS_UPDATED));
	assert_false(case_transition_ok(CS_RESOLVED, CS_ACKNOWLEDGED));
	assert_false(case_transition_ok(CS_ACKNOWLEDGED, CS_NEW));
	for (int s = 0; s < CS_COUNT; s++) {
		assert_false(case_transition_ok(CS_CLOSED, (enum case_status)s));
		assert_false(case_transition_ok((enum case_status)s, (enum case_status)s));
		assert_int_equal(case_status_parse(case_status_name((enum case_status)s)), s);
	}
	assert_int_equal(case_status_parse("In-Progress"), -1);
	assert_string_equal(case_transition_refusal(CS_CLOSED, CS_NEW, why, sizeof(why)),
	    "closed is final");
	assert_string_equal(case_transition_refusal(CS_RESOLVED, CS_NEW, why, sizeof(why)),
	    "allowed from resolved: in-progress, escalated, closed");
	assert_string_equal(case_transition_refusal(CS_NEW, CS_NEW, why, sizeof(why)),
	    "the case is new already");
}

/* ---- deadlines ---- */

static void
test_deadlines_computed(void **state)
{
	struct fx *fx = *state;
	struct case_dates d = { .status = "new", .received_at = "2026-04-01T09:00:00Z" };
	struct deadline dl[DL_COUNT];

	/* 7 working days after Wed 1 April skip Goede Vrijdag and Tweede Paasdag */
	case_deadlines(fx->cal, &d, D(2026, 4, 10), dl);
	assert_true(dl[DL_ACK].known && !dl[DL_ACK].stored && dl[DL_ACK].applies);
	assert_int_equal(ymd_cmp(dl[DL_ACK].due, D(2026, 4, 14)), 0);
	assert_int_equal(dl[DL_ACK].left, 2);
	/* ack + 14 skips Koningsdag */
	assert_int_equal(ymd_cmp(dl[DL_UPDATE].due, D(2026, 5, 5)), 0);
	/* received + 30 skips Hemelvaart */
	assert_int_equal(ymd_cmp(dl[DL_RESOLVE].due, D(2026, 5, 19)), 0);
	assert_int_equal(case_next_deadline(dl), DL_ACK);
	assert_int_equal(case_worst_overdue(dl), -1);

	/* stored dates win; acknowledged: ack no longer applies */
	d.status = "acknowledged";
	d.acknowledged_at = "2026-04-02T10:00:00Z";
	d.resolve_by = "2026-06-30";
	case_deadlines(fx->cal, &d, D(2026, 5, 20), dl);
	assert_false(dl[DL_ACK].applies);
	assert_int_equal(ymd_cmp(dl[DL_UPDATE].due, D(2026, 4, 24)), 0);
	assert_int_equal(dl[DL_UPDATE].left, -16);
	assert_true(dl[DL_RESOLVE].stored);
	assert_int_equal(case_worst_overdue(dl), DL_UPDATE);

	/* resolved: nothing applies */
	d.status = "resolved";
	case_deadlines(fx->cal, &d, D(2026, 5, 20), dl);
	assert_int_equal(case_next_deadline(dl), -1);
	assert_int_equal(case_worst_overdue(dl), -1);

	/* a Friday deadline seen on Saturday: not yet a working day late */
	d.status = "new";
	d.acknowledged_at = NULL;
	d.ack_by = "2026-04-10";
	case_deadlines(fx->cal, &d, D(2026, 4, 11), dl);
	assert_int_equal(dl[DL_ACK].left, 0);
	case_deadlines(fx->cal, &d, D(2026, 4, 13), dl);
	assert_int_equal(dl[DL_ACK].left, -1);
}

/* ---- lifecycle ops ---- */

static void
test_set_status(void **state)
{
	struct fx *fx = *state;
	char ids[4][CASEID_MAX];
	struct life_result lr;

	list_fixture(fx, ids);
	assert_int_equal(store_set_status(fx->st, ids[0], "acknowledged", "phoned the customer",
	    "anna", fx->cal, T(2026, 4, 2), &lr), 1);
	assert_true(lr.changed);
	assert_string_equal(lr.from, "new");
	assert_string_equal(lr.to, "acknowledged");
	/* Thu 2 April + 14 working days (Easter): Fri 24 April */
	assert_string_equal(lr.update_by, "2026-04-24");
	assert_sql(fx, "SELECT status || ' ' || acknowledged_at || ' ' || update_by FROM cases"
	    " WHERE case_id = ?1", ids[0], "acknowledged 2026-04-02T09:00:00Z 2026-04-24");
	assert_sql(fx, "SELECT detail FROM events WHERE case_id = ?1 AND type = 'status'", ids[0],
	    "{\"from\":\"new\",\"to\":\"acknowledged\",\"update_by\":\"2026-04-24\","
	    "\"note\":\"phoned the customer\",\"by\":\"anna\"}");

	/* refused: nothing written, the reason says what is allowed */
	assert_int_equal(store_set_status(fx->st, ids[0], "new", NULL, NULL, fx->cal, 0, &lr),
	    STORE_REFUSED);
	assert_string_equal(lr.from, "acknowledged");
	assert_non_null(strstr(store_errmsg(fx->st), "cannot change from acknowledged to new"));
	assert_sql(fx, "SELECT count(*) FROM events WHERE case_id = ?1", ids[0], "2");

	/* to closed, then closed is final */
	assert_int_equal(set_status(fx, ids[0], "closed", T(2026, 4, 3)), 1);
	assert_int_equal(store_set_status(fx->st, ids[0], "in-progress", NULL, NULL, fx->cal, 0,
	    &lr), STORE_REFUSED);
	assert_non_null(strstr(store_errmsg(fx->st), "closed is final"));

	/* no such case, not a status */
	assert_int_equal(set_status(fx, "CASE-2026-999999", "closed", 0), 0);
	assert_int_equal(set_status(fx, ids[1], "done", 0), -1);
	assert_sql(fx, "SELECT status FROM cases WHERE case_id = ?1", ids[1], "new");
}

static void
test_extend(void **state)
{
	struct fx *fx = *state;
	char ids[4][CASEID_MAX];
	struct life_result lr;

	list_fixture(fx, ids);
	/* no stored date: the old one is received + 30 working days */
	assert_int_equal(store_extend(fx->st, ids[0], "2026-06-30", "parts from the factory",
	    "anna", fx->cal, T(2026, 5, 11), &lr), 1);
	assert_string_equal(lr.old_date, "2026-05-19");
	assert_string_equal(lr.new_date, "2026-06-30");
	assert_sql(fx, "SELECT resolve_by FROM cases WHERE case_id = ?1", ids[0], "2026-06-30");
	assert_sql(fx, "SELECT detail FROM events WHERE case_id = ?1 AND type = 'extended'", ids[0],
	    "{\"old\":\"2026-05-19\",\"new\":\"2026-06-30\",\"reason\":\"parts from the factory\","
	    "\"by\":\"anna\"}");
	/* again: the stored one is the old one */
	assert_int_equal(store_extend(fx->st, ids[0], "2026-07-15", "still waiting", NULL,
	    NULL, 0, &lr), 1);
	assert_string_equal(lr.old_date, "2026-06-30");

	/* refusals and errors write nothing */
	assert_int_equal(set_status(fx, ids[1], "resolved", 0), 1);
	assert_int_equal(store_extend(fx->st, ids[1], "2026-07-15", "x", NULL, fx->cal, 0, &lr),
	    STORE_REFUSED);
	assert_int_equal(store_extend(fx->st, ids[2], "2026-13-01", "x", NULL, fx->cal, 0, &lr), -1);
	assert_int_equal(store_extend(fx->st, ids[2], "2026-07-01", "", NULL, fx->cal, 0, &lr), -1);
	assert_int_equal(store_extend(fx->st, "CASE-2026-999999", "2026-07-01", "x", NULL, fx->cal,
	    0, &lr), 0);
	assert_sql(fx, "SELECT count(*) FROM events WHERE type = 'extended'", NULL, "2");
}

static void
test_escalate(void **state)
{
	struct fx *fx = *state;
	char ids[4][CASEID_MAX];
	struct life_result lr;
	strlist words;
	struct msg m;

	list_fixture(fx, ids);
	sl_init(&words);
	add_csv(&words, "ombudsman,advocaat");
	msg_init(&m, fx, "angry.1@x", "jan@example.nl", T(2026, 4, 20));
	assert_int_equal(store_escalate(fx->st, ids[0], &words, &m.in, &lr), 1);
	assert_true(lr.changed && !lr.existed);
	assert_string_equal(lr.to, "escalated");
	assert_sql(fx, "SELECT detail || ' ' || message_id || ' ' || at FROM events"
	    " WHERE case_id = ?1 AND type = 'escalated'", ids[0],
	    "{\"from\":\"new\",\"to\":\"escalated\",\"words\":[\"ombudsman\",\"advocaat\"]}"
	    " angry.1@x 2026-04-20T09:00:00Z");
	/* the same message again: nothing */
	assert_int_equal(store_escalate(fx->st, ids[0], &words, &m.in, &lr), 1);
	assert_true(lr.existed);
	assert_sql(fx, "SELECT count(*) FROM events WHERE type = 'escalated'", NULL, "1");
	/* a closed case stays closed; the event is still written */
	assert_int_equal(set_status(fx, ids[1], "closed", 0), 1);
	assert_int_equal(store_escalate(fx->st, ids[1], NULL, NULL, &lr), 1);
	assert_false(lr.changed);
	assert_sql(fx, "SELECT status FROM cases WHERE case_id = ?1", ids[1], "closed");
	assert_sql(fx, "SELECT detail FROM events WHERE case_id = ?1 AND type = 'escalated'",
	    ids[1], "{\"from\":\"closed\",\"to\":\"closed\",\"words\":[]}");
	/* resolved -> escalated: the customer is not satisfied */
	assert_int_equal(set_status(fx, ids[2], "resolved", 0), 1);
	assert_int_equal(store_escalate(fx->st, ids[2], &words, NULL, &lr), 1);
	assert_string_equal(lr.to, "escalated");
	assert_int_equal(store_escalate(fx->st, "CASE-2026-999999", &words, NULL, &lr), 0);
	sl_free(&words);
	complaint_free(&m.c);
}

static void
test_staff_reply(void **state)
{
	struct fx *fx = *state;
	char ids[4][CASEID_MAX];
	struct life_result lr;

	list_fixture(fx, ids);
	/* the first reply acknowledges: Tue 21 April + 14 = Tue 12 May (Koningsdag) */
	assert_int_equal(staff_reply(fx, ids[1], "r1@staff", T(2026, 4, 21), &lr), 1);
	assert_string_equal(lr.from, "new");
	assert_string_equal(lr.to, "acknowledged");
	assert_string_equal(lr.update_by, "2026-05-12");
	assert_sql(fx, "SELECT acknowledged_at || ' ' || update_by FROM cases WHERE case_id = ?1",
	    ids[1], "2026-04-21T09:00:00Z 2026-05-12");
	assert_sql(fx, "SELECT direction || ' ' || kind_of_message || ' ' || subject || ' ' ||"
	    " envelope_from FROM messages WHERE case_id = ?1 AND message_id = 'r1@staff'", ids[1],
	    "out staff Re: Inverter fault anna@staff.example.com");
	assert_sql(fx, "SELECT type || ' ' || detail FROM events WHERE case_id = ?1 ORDER BY id"
	    " DESC", ids[1], "acknowledged {\"from\":\"new\",\"to\":\"acknowledged\","
	    "\"update_by\":\"2026-05-12\"}");
	/* a retried delivery of it: nothing */
	assert_int_equal(staff_reply(fx, ids[1], "r1@staff", T(2026, 4, 21), &lr), 1);
	assert_true(lr.existed);
	assert_sql(fx, "SELECT count(*) FROM messages WHERE case_id = ?1", ids[1], "2");
	/* a later reply is an update: Mon 11 May + 14 = Tue 2 June (Hemelvaart, Pinksteren) */
	assert_int_equal(staff_reply(fx, ids[1], "r2@staff", T(2026, 5, 11), &lr), 1);
	assert_string_equal(lr.to, "updated");
	assert_string_equal(lr.update_by, "2026-06-02");
	assert_sql(fx, "SELECT status || ' ' || acknowledged_at || ' ' || update_by FROM cases"
	    " WHERE case_id = ?1", ids[1], "updated 2026-04-21T09:00:00Z 2026-06-02");
	assert_sql(fx, "SELECT count(*) FROM events WHERE case_id = ?1 AND type = 'updated'",
	    ids[1], "1");
	/* an escalated case stays escalated, its update date moves */
	assert_int_equal(set_status(fx, ids[1], "escalated", 0), 1);
	assert_int_equal(staff_reply(fx, ids[1], "r3@staff", T(2026, 5, 12), &lr), 1);
	assert_string_equal(lr.to, "escalated");
	assert_string_equal(lr.update_by, "2026-06-03");
	/* an incomplete case's first reply acknowledges it too */
	assert_int_equal(staff_reply(fx, ids[2], "r4@staff", T(2026, 5, 5), &lr), 1);
	assert_string_equal(lr.from, "incomplete");
	assert_string_equal(lr.to, "acknowledged");
	/* a closed case: recorded, nothing moves */
	assert_int_equal(set_status(fx, ids[3], "closed", 0), 1);
	assert_int_equal(staff_reply(fx, ids[3], "r5@staff", T(2026, 5, 5), &lr), 1);
	assert_false(lr.changed);
	assert_string_equal(lr.update_by, "");
	assert_sql(fx, "SELECT coalesce(update_by, 'NULL') FROM cases WHERE case_id = ?1", ids[3],
	    "NULL");
	assert_int_equal(staff_reply(fx, "CASE-2026-999999", "r6@staff", 0, &lr), 0);
}

/* The lifecycle ops through the group-commit writer, one refused in the batch. */
static void
test_writer_ops(void **state)
{
	struct fx *fx = *state;
	char ids[4][CASEID_MAX], err[256];
	struct store_writer *w;
	struct store_op ops[4], *pops[4];
	struct msg m;
	strlist words;

	list_fixture(fx, ids);
	assert_int_equal(set_status(fx, ids[3], "closed", 0), 1);
	w = store_writer_start(fx->path, 2000, err, sizeof(err));
	assert_non_null(w);
	sl_init(&words);
	add_csv(&words, "ombudsman");
	msg_init(&m, fx, "w1@staff", "anna@staff.example.com", T(2026, 4, 21));
	store_op_staff_reply(&ops[0], ids[1], &m.in, fx->cal);
	store_op_set_status(&ops[1], ids[3], "new", NULL, NULL, fx->cal, 0);
	store_op_escalate(&ops[2], ids[0], &words, NULL);
	store_op_extend(&ops[3], ids[2], "2026-08-01", "supplier", NULL, fx->cal, 0);
	for (int i = 0; i < 4; i++)
		pops[i] = &ops[i];
	assert_int_equal(store_writer_submitv(w, pops, 4), 0);
	assert_int_equal(ops[0].rc, 1);
	assert_string_equal(ops[0].lres.to, "acknowledged");
	assert_int_equal(ops[1].rc, STORE_REFUSED);
	assert_non_null(strstr(ops[1].errmsg, "closed is final"));
	assert_int_equal(ops[2].rc, 1);
	assert_int_equal(ops[3].rc, 1);
	store_writer_stop(w);
	assert_sql(fx, "SELECT group_concat(status, ',') FROM (SELECT status FROM cases"
	    " ORDER BY seq)", NULL, "escalated,acknowledged,incomplete,closed");
	assert_sql(fx, "SELECT resolve_by FROM cases WHERE case_id = ?1", ids[2], "2026-08-01");
	sl_free(&words);
	complaint_free(&m.c);
}

/* ---- queries ---- */

static void
test_list_filters(void **state)
{
	struct fx *fx = *state;
	char ids[4][CASEID_MAX], got[256];
	struct ymd today = D(2026, 5, 6);
	struct case_filter f;

	list_fixture(fx, ids);
	case_filter_init(&f);
	list_ids(fx, &f, today, got, sizeof(got));
	assert_string_equal(got, "000003,000002,000001,000004");	/* newest first */
	f.model = "sun2000 5ktl l1";				/* normalised */
	list_ids(fx, &f, today, got, sizeof(got));
	assert_string_equal(got, "000001");
	f.model = "SUN2000*";					/* prefix */
	list_ids(fx, &f, today, got, sizeof(got));
	assert_string_equal(got, "000001,000004");
	f.model = "SUN2000";					/* no prefix: exact */
	list_ids(fx, &f, today, got, sizeof(got));
	assert_string_equal(got, "");
	case_filter_init(&f);
	f.serial = "hv 2150-123456";
	list_ids(fx, &f, today, got, sizeof(got));
	assert_string_equal(got, "000001");
	case_filter_init(&f);
	f.ticket = "tck204518";
	list_ids(fx, &f, today, got, sizeof(got));
	assert_string_equal(got, "000002");
	case_filter_init(&f);
	f.from = "müller";					/* From name, any case */
	list_ids(fx, &f, today, got, sizeof(got));
	assert_string_equal(got, "000002");
	f.from = "EXAMPLE.NL";
	list_ids(fx, &f, today, got, sizeof(got));
	assert_string_equal(got, "000001,000004");
	case_filter_init(&f);
	f.statuses = 1u << CS_INCOMPLETE;
	list_ids(fx, &f, today, got, sizeof(got));
	assert_string_equal(got, "000003");
	case_filter_init(&f);
	f.kind = "service";
	list_ids(fx, &f, today, got, sizeof(got));
	assert_string_equal(got, "000002");
	case_filter_init(&f);
	f.language = "nl";
	f.since = "2026-03-03";
	list_ids(fx, &f, today, got, sizeof(got));
	assert_string_equal(got, "000001");
	case_filter_init(&f);
	f.since = "2026-04-01";
	f.until = "2026-04-20";					/* inclusive */
	list_ids(fx, &f, today, got, sizeof(got));
	assert_string_equal(got, "000002,000001");
	/* an injection attempt is only ever a value */
	case_filter_init(&f);
	f.from = "x' OR 1=1 --";
	list_ids(fx, &f, today, got, sizeof(got));
	assert_string_equal(got, "");
}

static void
test_list_sort_page(void **state)
{
	struct fx *fx = *state;
	char ids[4][CASEID_MAX], got[256];
	struct ymd today = D(2026, 5, 6);
	struct cases_db *db;
	struct case_filter f;
	struct case_list l;

	list_fixture(fx, ids);
	case_filter_init(&f);
	f.sort = SORT_CASE;
	list_ids(fx, &f, today, got, sizeof(got));
	assert_string_equal(got, "000001,000002,000003,000004");
	f.sort = SORT_DUE;
	list_ids(fx, &f, today, got, sizeof(got));
	/* ack_by: 000004 2026-03-11, 000001 2026-04-14, 000002 2026-04-30, 000003 2026-05-13 */
	assert_string_equal(got, "000004,000001,000002,000003");
	f.sort = SORT_CASE;
	f.limit = 2;
	f.offset = 1;
	db = open_read(fx);
	assert_int_equal(cases_list(db, &f, fx->cal, today, &l), 0);
	ids_of(&l, got, sizeof(got));
	assert_string_equal(got, "000002,000003");
	assert_int_equal(l.total, 4);
	case_list_free(&l);
	f.offset = 10;
	assert_int_equal(cases_list(db, &f, fx->cal, today, &l), 0);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.total, 4);
	case_list_free(&l);
	cases_close(db);
}

/*
 * Overdue on Wed 20 May 2026:
 *  A received 1 April, never answered: ack 14 April, 24 working days late
 *  B received 20 April, staff reply 21 April: update 12 May, 5 late
 *  C received 18 May: ack 28 May, 5 left
 *  D received 2 March, resolved
 *  E received 1 April, acknowledged 2 April, resolve_by extended to 30 June:
 *    update 24 April, 16 late
 */
static void
test_overdue(void **state)
{
	struct fx *fx = *state;
	char id[5][CASEID_MAX], got[256];
	struct life_result lr;
	struct case_filter f;
	struct case_list l;
	struct cases_db *db;
	const struct spec s[5] = {
		{ "a@x", T(2026, 4, 1), KIND_PRODUCT, NULL, "M1", NULL, 0, NULL, NULL, NULL, NULL },
		{ "b@x", T(2026, 4, 20), KIND_PRODUCT, NULL, "M1", NULL, 0, NULL, NULL, NULL, NULL },
		{ "c@x", T(2026, 5, 18), KIND_PRODUCT, NULL, "M1", NULL, 0, NULL, NULL, NULL, NULL },
		{ "d@x", T(2026, 3, 2), KIND_PRODUCT, NULL, "M1", NULL, 0, NULL, NULL, NULL, NULL },
		{ "e@x", T(2026, 4, 1), KIND_PRODUCT, NULL, "M1", NULL, 0, NULL, NULL, NULL, NULL },
	};

	for (int i = 0; i < 5; i++)
		add_case(fx, &s[i], id[i]);
	assert_int_equal(staff_reply(fx, id[1], "rb@staff", T(2026, 4, 21), &lr), 1);
	assert_int_equal(set_status(fx, id[3], "resolved", T(2026, 3, 20)), 1);
	assert_int_equal(set_status(fx, id[4], "acknowledged", T(2026, 4, 2)), 1);
	assert_int_equal(store_extend(fx->st, id[4], "2026-06-30", "parts", NULL, fx->cal,
	    T(2026, 4, 3), &lr), 1);
	case_filter_init(&f);
	f.overdue = true;
	f.sort = SORT_OVERDUE;
	db = open_read(fx);
	assert_int_equal(cases_list(db, &f, fx->cal, D(2026, 5, 20), &l), 0);
	ids_of(&l, got, sizeof(got));
	assert_string_equal(got, "000001,000005,000002");
	assert_int_equal(l.v[0].worst, DL_ACK);
	assert_int_equal(l.v[0].dl[DL_ACK].left, -24);
	assert_int_equal(l.v[1].worst, DL_UPDATE);
	assert_int_equal(l.v[1].dl[DL_UPDATE].left, -16);
	assert_int_equal(l.v[2].worst, DL_UPDATE);
	assert_int_equal(l.v[2].dl[DL_UPDATE].left, -5);
	case_list_free(&l);
	/* the new ones, newest first: C's acknowledgement is due in 5 working days */
	f.overdue = false;
	f.sort = SORT_RECEIVED;
	f.statuses = 1u << CS_NEW;
	assert_int_equal(cases_list(db, &f, fx->cal, D(2026, 5, 20), &l), 0);
	ids_of(&l, got, sizeof(got));
	assert_string_equal(got, "000003,000001");
	assert_int_equal(l.v[0].next, DL_ACK);
	assert_int_equal(l.v[0].dl[DL_ACK].left, 5);
	case_list_free(&l);
	cases_close(db);
}

static void
test_show(void **state)
{
	struct fx *fx = *state;
	char ids[4][CASEID_MAX];
	struct life_result lr;
	struct case_detail d;
	struct cases_db *db;
	strbuf sb;

	list_fixture(fx, ids);
	assert_int_equal(staff_reply(fx, ids[0], "s1@staff", T(2026, 4, 2), &lr), 1);
	assert_int_equal(store_set_status(fx->st, ids[0], "in-progress", "ordered a new board",
	    "anna", fx->cal, T(2026, 4, 3), &lr), 1);
	db = open_read(fx);
	assert_int_equal(cases_show(db, "CASE-2026-999999", fx->cal, D(2026, 4, 10), &d), 0);
	assert_int_equal(cases_show(db, ids[0], fx->cal, D(2026, 4, 10), &d), 1);
	cases_close(db);
	assert_int_equal(d.messages.n, 2);
	assert_string_equal(d.messages.v[MSG_NCOLS + MSG_DIRECTION], "out");
	assert_int_equal(d.events.n, 3);
	assert_string_equal(d.events.v[2 * EV_NCOLS + EV_TYPE], "status");

	sb_init(&sb);
	assert_int_equal(cases_out_show(&sb, &d, OUT_JSON, D(2026, 4, 10)), 0);
	assert_json(sb.s, "$.case.case_id", ids[0]);
	assert_json(sb.s, "$.case.status", "in-progress");
	assert_json(sb.s, "$.case.models[0]", "SUN2000-5KTL-L1");
	assert_json(sb.s, "$.case.update_by", "2026-04-24");
	assert_json(sb.s, "$.case.deadlines.update.stored", "1");
	assert_json(sb.s, "$.case.deadlines.update.working_days_left", "10");
	assert_json(sb.s, "$.case.deadlines.ack.applies", "0");
	assert_json(sb.s, "$.messages[1].kind", "staff");
	assert_json(sb.s, "$.events[2].detail.note", "ordered a new board");
	assert_json(sb.s, "$.events[1].type", "acknowledged");

	sb_reset(&sb);
	assert_int_equal(cases_out_show(&sb, &d, OUT_TABLE, D(2026, 4, 10)), 0);
	assert_non_null(strstr(sb.s, "Status         in-progress\n"));
	assert_non_null(strstr(sb.s, "met: acknowledged 2026-04-02"));
	assert_non_null(strstr(sb.s, "update by       2026-04-24   10 working days left"));
	assert_non_null(strstr(sb.s, "resolve by      2026-05-19*  25 working days left"));
	assert_non_null(strstr(sb.s, "Events (3)"));
	assert_non_null(strstr(sb.s, "ordered a new board"));
	sb_free(&sb);
	case_detail_free(&d);
}

/* The fixture of test_stats (see the expectations there). */
static void
stats_fixture(struct fx *fx, char id[6][CASEID_MAX])
{
	struct life_result lr;
	const struct spec s[6] = {
		{ "s1@x", T(2026, 4, 1), KIND_PRODUCT, NULL, "SUN2000-5KTL-L1", NULL, 0,
		  NULL, NULL, NULL, NULL },
		{ "s2@x", T(2026, 4, 20), KIND_SERVICE, "T1", NULL, NULL, 0, NULL, NULL, NULL, NULL },
		{ "s3@x", T(2026, 5, 4), KIND_PRODUCT, NULL, "sun2000 5ktl l1", NULL,
		  MISSING_DESCRIPTION, NULL, NULL, NULL, NULL },
		{ "s4@x", T(2026, 3, 2), KIND_PRODUCT, NULL, "SB5.0-1AV-41,SUN2000-5KTL-L1", NULL,
		  0, NULL, NULL, NULL, NULL },
		{ "s5@x", T(2026, 1, 5), KIND_UNKNOWN, "T2", NULL, NULL, 0, NULL, NULL, NULL, NULL },
		{ "s6@x", T(2026, 5, 6), KIND_SERVICE, "T3", NULL, NULL, 0, NULL, NULL, NULL, NULL },
	};

	for (int i = 0; i < 6; i++)
		add_case(fx, &s[i], id[i]);
	/* 4: ack after 3, update after 10, resolved after 22 working days */
	assert_int_equal(staff_reply(fx, id[3], "x1@staff", T(2026, 3, 5), &lr), 1);
	assert_int_equal(staff_reply(fx, id[3], "x2@staff", T(2026, 3, 16), &lr), 1);
	assert_int_equal(set_status(fx, id[3], "resolved", T(2026, 4, 1)), 1);
	/* 1: ack after 1, update after 11, resolved after 31 */
	assert_int_equal(set_status(fx, id[0], "acknowledged", T(2026, 4, 2)), 1);
	assert_int_equal(staff_reply(fx, id[0], "x3@staff", T(2026, 4, 20), &lr), 1);
	assert_int_equal(set_status(fx, id[0], "resolved", T(2026, 5, 20)), 1);
	/* 2: ack after 1, then in progress */
	assert_int_equal(staff_reply(fx, id[1], "x4@staff", T(2026, 4, 21), &lr), 1);
	assert_int_equal(set_status(fx, id[1], "in-progress", T(2026, 4, 22)), 1);
	/* 6: closed as spam without a resolution */
	assert_int_equal(set_status(fx, id[5], "closed", T(2026, 5, 7)), 1);
}

/*
 * Medians: acknowledgement 1, 1, 3 -> 1; first update 10, 11 -> 10.5;
 * resolution 22, 31 -> 26.5.  Within 30 (today 1 June): 4 yes, 1 no (31),
 * 5 open for far more than 30 -> no; 2 and 3 not known yet; 6 closed
 * without resolution: left out.  1 of 3.
 */
static void
test_stats(void **state)
{
	struct fx *fx = *state;
	char id[6][CASEID_MAX];
	struct case_filter f;
	struct case_stats st;
	struct cases_db *db;
	strbuf sb;

	stats_fixture(fx, id);
	case_filter_init(&f);
	db = open_read(fx);
	assert_int_equal(cases_stats(db, &f, fx->cal, D(2026, 6, 1), &st), 0);
	assert_int_equal(st.total, 6);
	assert_int_equal(st.status[CS_RESOLVED], 2);
	assert_int_equal(st.status[CS_IN_PROGRESS], 1);
	assert_int_equal(st.status[CS_INCOMPLETE], 1);
	assert_int_equal(st.status[CS_NEW], 1);
	assert_int_equal(st.status[CS_CLOSED], 1);
	assert_int_equal(st.kind[0], 2);
	assert_int_equal(st.kind[1], 3);
	assert_int_equal(st.kind[2], 1);
	assert_int_equal(st.models.n, 2);
	assert_string_equal(st.models.v[0], "SUN2000-5KTL-L1");	/* both spellings */
	assert_int_equal(st.model_n[0], 3);
	assert_string_equal(st.models.v[1], "SB5.0-1AV-41");
	assert_int_equal(st.model_n[1], 1);
	assert_int_equal(st.no_model, 3);
	assert_int_equal(st.to_ack.n, 3);
	assert_true(st.to_ack.value == 1.0);
	assert_int_equal(st.to_update.n, 2);
	assert_true(st.to_update.value == 10.5);
	assert_int_equal(st.to_resolve.n, 2);
	assert_true(st.to_resolve.value == 26.5);
	assert_int_equal(st.within30, 1);
	assert_int_equal(st.within30_known, 3);

	sb_init(&sb);
	assert_int_equal(cases_out_stats(&sb, &st, OUT_JSON, D(2026, 6, 1)), 0);
	assert_json(sb.s, "$.total", "6");
	assert_json(sb.s, "$.by_status.resolved", "2");
	assert_json(sb.s, "$.by_model.\"SUN2000-5KTL-L1\"", "3");
	assert_json(sb.s, "$.median_working_days.first_update", "10.5");
	assert_json(sb.s, "$.resolved_within_30.share", "0.333");
	sb_reset(&sb);
	assert_int_equal(cases_out_stats(&sb, &st, OUT_CSV, D(2026, 6, 1)), 0);
	assert_non_null(strstr(sb.s, "group,key,value\r\n"));
	assert_non_null(strstr(sb.s, "\r\nmedian_working_days,resolution,26.5\r\n"));
	sb_reset(&sb);
	assert_int_equal(cases_out_stats(&sb, &st, OUT_TABLE, D(2026, 6, 1)), 0);
	assert_non_null(strstr(sb.s, "Resolved within 30 working days: 1 of 3 (33%)"));
	sb_free(&sb);
	case_stats_free(&st);

	/* filters narrow the statistics */
	f.kind = "service";
	assert_int_equal(cases_stats(db, &f, fx->cal, D(2026, 6, 1), &st), 0);
	assert_int_equal(st.total, 2);
	assert_int_equal(st.to_resolve.n, 0);
	case_stats_free(&st);
	cases_close(db);
}

/* ---- output ---- */

static void
test_list_json_csv(void **state)
{
	struct fx *fx = *state;
	char ids[4][CASEID_MAX];
	struct case_filter f;
	struct case_list l;
	struct cases_db *db;
	strbuf sb;
	char *line;

	list_fixture(fx, ids);
	case_filter_init(&f);
	f.sort = SORT_CASE;
	db = open_read(fx);
	assert_int_equal(cases_list(db, &f, fx->cal, D(2026, 5, 6), &l), 0);
	cases_close(db);
	sb_init(&sb);
	assert_int_equal(cases_out_list(&sb, &l, OUT_JSON, false, D(2026, 5, 6)), 0);
	assert_json(sb.s, "$[0].case_id", "CASE-2026-000001");
	assert_json(sb.s, "$[1].subject", "Reklamation, \"dringend\"");
	assert_json(sb.s, "$[1].tickets[0]", "TCK-204518");
	assert_json(sb.s, "$[2].missing[0]", "description");
	assert_json(sb.s, "$[0].ack_by", "2026-04-14");
	assert_json(sb.s, "$[0].overdue", "1");
	assert_json(sb.s, "$[0].overdue_what", "ack");
	assert_json(sb.s, "$[0].overdue_days", "15");
	assert_json(sb.s, "$[2].next_due", "ack");
	assert_json(sb.s, "$[2].working_days_left", "5");
	assert_json(sb.s, "$[4]", NULL);

	sb_reset(&sb);
	assert_int_equal(cases_out_list(&sb, &l, OUT_CSV, false, D(2026, 5, 6)), 0);
	line = strstr(sb.s, "\r\n");
	assert_non_null(line);
	assert_int_equal(strncmp(sb.s, "case_id,received_at,status,kind,language,from_addr,"
	    "from_name,subject,tickets,models,serials,missing,ack_by,update_by,resolve_by,"
	    "next_due,next_due_date,working_days_left,overdue_days\r\n", (size_t)(line - sb.s) + 2), 0);
	/* quotes doubled, commas quoted, a formula defused */
	assert_non_null(strstr(sb.s, ",\"Reklamation, \"\"dringend\"\"\",TCK-204518,"));
	assert_non_null(strstr(sb.s, ",\"'=HYPERLINK(\"\"x\"\")\","));
	assert_non_null(strstr(sb.s, "CASE-2026-000001,2026-04-01T09:00:00Z,new,product,nl,"
	    "jan@example.nl,Jan de Vries,Klacht omvormer,,SUN2000-5KTL-L1,HV2150123456,,"
	    "2026-04-14,2026-05-05,2026-05-19,ack,2026-04-14,-15,15\r\n"));

	sb_reset(&sb);
	assert_int_equal(cases_out_list(&sb, &l, OUT_TABLE, false, D(2026, 5, 6)), 0);
	assert_non_null(strstr(sb.s, "CASE  "));
	assert_non_null(strstr(sb.s, "15 late"));
	assert_null(strchr(sb.s, '\x1b'));			/* no terminal escapes */
	assert_non_null(strstr(sb.s, "Storing?[31m rood"));
	assert_non_null(strstr(sb.s, "4 cases (working days, today 2026-05-06)"));
	sb_free(&sb);
	case_list_free(&l);
}

/* A table of a case built in memory: invalid UTF-8, controls, wide text. */
static void
test_table_clean(void **state)
{
	struct case_list l;
	struct case_info *ci;
	strbuf sb;

	(void)state;
	memset(&l, 0, sizeof(l));
	l.v = calloc(1, sizeof(*l.v));
	assert_non_null(l.v);
	l.n = l.cap = l.total = 1;
	ci = &l.v[0];
	sl_init(&ci->tickets);
	sl_init(&ci->models);
	sl_init(&ci->serials);
	ci->next = ci->worst = -1;
	ci->f[CF_CASE_ID] = strdup("CASE-2026-000001");
	ci->f[CF_STATUS] = strdup("new");
	ci->f[CF_RECEIVED_AT] = strdup("2026-04-01T09:00:00Z");
	/* an invalid lead byte right before the end, a bell, a lone continuation */
	ci->f[CF_SUBJECT] = strdup("Bad \xf0 \x07 \x80 end \xe2\x82");
	ci->f[CF_FROM_ADDR] = strdup("\xe7\x94\xb0\xe4\xb8\xad@example.jp");	/* 2 wide */
	assert_int_equal(sl_add(&ci->models, "SUN2000-5KTL-L1"), 0);
	assert_int_equal(sl_add(&ci->models, "SB5.0-1AV-41"), 0);
	sb_init(&sb);
	assert_int_equal(cases_out_list(&sb, &l, OUT_TABLE, false, D(2026, 4, 2)), 0);
	assert_non_null(strstr(sb.s, "Bad ? ? ? end ??"));
	assert_non_null(strstr(sb.s, "SUN2000-5KTL-L1 +1"));
	/* the FROM column is 15 terminal columns wide (two wide characters): the header pads to it */
	assert_non_null(strstr(sb.s, "FROM             NEXT DUE"));
	sb_reset(&sb);
	free(ci->f[CF_SUBJECT]);
	ci->f[CF_SUBJECT] = strdup("A very long subject that goes on and on beyond forty columns");
	assert_int_equal(cases_out_list(&sb, &l, OUT_TABLE, false, D(2026, 4, 2)), 0);
	assert_non_null(strstr(sb.s, "A very long subject that goes on and ...\n"));
	sb_free(&sb);
	case_list_free(&l);
}

static void
test_csv_field(void **state)
{
	strbuf sb;

	(void)state;
	sb_init(&sb);
	assert_int_equal(csv_field(&sb, "plain", true), 0);
	assert_int_equal(csv_field(&sb, "a,b", false), 0);
	assert_int_equal(csv_field(&sb, "say \"hi\"", false), 0);
	assert_int_equal(csv_field(&sb, "two\nlines", false), 0);
	assert_int_equal(csv_field(&sb, "-1+1", true), 0);
	assert_int_equal(csv_field(&sb, "-1", false), 0);
	assert_string_equal(sb.s, "plain\"a,b\"\"say \"\"hi\"\"\"\"two\nlines\"'-1+1-1");
	sb_free(&sb);
}

static void
test_open_errors(void **state)
{
	struct fx *fx = *state;
	char err[512], p[200];
	sqlite3 *db;

	assert_null(cases_open("/nonexistent/cases.db", 100, err, sizeof(err)));
	assert_non_null(strstr(err, "no such database"));
	/* a database of a newer program */
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(cases_open(fx->path, 100, err, sizeof(err)));
	assert_non_null(strstr(err, "newer than this program"));
	/* not a case database */
	snprintf(p, sizeof(p), "%s/empty.db", fx->dir);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(cases_open(p, 100, err, sizeof(err)));
	assert_non_null(strstr(err, "not a case database"));
}

/* Dates are local: late evening UTC is the next day in Amsterdam. */
static void
test_local_dates(void **state)
{
	struct ymd d;

	(void)state;
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	assert_int_equal(ymd_of_iso("2026-04-01T22:30:00Z", &d), 0);
	assert_int_equal(ymd_cmp(d, D(2026, 4, 2)), 0);	/* 00:30 CEST */
	assert_int_equal(ymd_of_iso("2026-01-05T22:30:00Z", &d), 0);
	assert_int_equal(ymd_cmp(d, D(2026, 1, 5)), 0);	/* 23:30 CET */
	assert_int_equal(ymd_of_iso("2026-04-01", &d), 0);	/* a date stays itself */
	assert_int_equal(ymd_cmp(d, D(2026, 4, 1)), 0);
	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(ymd_of_iso("2026-04-01T22:30:00Z", &d), 0);
	assert_int_equal(ymd_cmp(d, D(2026, 4, 1)), 0);
	assert_int_equal(ymd_of_iso("2026-04-01T22:30", &d), -1);
	assert_int_equal(ymd_of_iso("yesterday", &d), -1);
	assert_int_equal(ymd_of_iso(NULL, &d), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_local_dates),
		cmocka_unit_test_setup_teardown(test_deadlines_computed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escalate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staff_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_sort_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overdue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_show, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_json_csv, setup, teardown),
		cmocka_unit_test(test_table_clean),
		cmocka_unit_test(test_csv_field),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	};

	setenv("TZ", "UTC", 1);		/* the fixtures' times are 09:00 UTC */
	tzset();
	return cmocka_run_group_tests_name("cases", tests, NULL, NULL);
}
