/*
 * test_store.c - unit tests of the case store: schema and migrations, case
 * IDs and sequences, retried deliveries, follow-ups, events, and the
 * group-commit writer (batching, isolation of a failing op, two writers on
 * one database, a locked database).  Every test works on a fresh database
 * in its own mkdtemp() directory under /tmp, removed afterwards.
 */
#include "unit.h"

#include <dirent.h>
#include <pthread.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define NOW_2024 ((time_t)1714567890)	/* 2024-05-01T12:51:30Z */

struct fx {
	char dir[64];
	char path[128];
	struct caseid_fmt idf;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_store.XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	snprintf(fx->path, sizeof(fx->path), "%s/cases.db", fx->dir);
	caseid_fmt_init(&fx->idf, "CASE", "", false);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	unit_rmdir(fx->dir);
	free(fx);
	return 0;
}

/* ---- helpers ---- */

/* A complaint and its intake, owned together. */
struct msg {
	struct complaint c;
	struct intake in;
	char dedup[64];
	char from[64];
};

static void
add_csv(strlist *sl, const char *csv)
{
	char buf[256], *p, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", csv ? csv : "");
	for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save))
		assert_int_equal(sl_add(sl, p), 0);
}

static void
msg_init(struct msg *m, const struct fx *fx, const char *dedup, const char *from)
{
	memset(m, 0, sizeof(*m));
	complaint_init(&m->c);
	m->c.subject = strdup("Inverter fault");
	m->c.from_addr = strdup(from);
	m->c.from_name = strdup("A. Customer");
	m->c.message_id = strdup(dedup);
	m->c.in_reply_to = strdup("");
	m->c.kind = KIND_SERVICE;
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
	m->in.year = 2024;
	m->in.now = NOW_2024;
}

static void
msg_fields(struct msg *m, enum complaint_kind kind, const char *tickets,
    const char *models, const char *serials, bool description, unsigned missing)
{
	m->c.kind = kind;
	add_csv(&m->c.tickets, tickets);
	add_csv(&m->c.models, models);
	add_csv(&m->c.serials, serials);
	m->c.description = description;
	m->c.missing = missing;
}

static void
msg_free(struct msg *m)
{
	complaint_free(&m->c);
}

static struct store *
open_ok(const struct fx *fx)
{
	char err[512] = "";
	struct store *st = store_open(fx->path, 2000, err, sizeof(err));

	if (st == NULL)
		fail_msg("store_open: %s", err);
	return st;
}

static sqlite3 *
raw_open(const struct fx *fx)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static void
raw_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* The integer the query answers (first column of the first row). */
static long long
raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	long long v;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static long long
db_int(const struct fx *fx, const char *sql)
{
	sqlite3 *db = raw_open(fx);
	long long v = raw_int(db, sql);

	sqlite3_close(db);
	return v;
}

/* A new case from a service complaint with a ticket; its ID into id. */
static void
new_case_ok(struct store *st, const struct fx *fx, const char *dedup, char *id, size_t idsz)
{
	struct msg m;
	struct case_result cr;

	msg_init(&m, fx, dedup, "cust@example.net");
	msg_fields(&m, KIND_SERVICE, "T-1001", NULL, NULL, true, 0);
	if (store_new_case(st, &m.in, &cr) != 0)
		fail_msg("store_new_case: %s", store_errmsg(st));
	assert_false(cr.existed);
	snprintf(id, idsz, "%s", cr.case_id);
	msg_free(&m);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* ---- schema and migrations ---- */

static void
test_migration_creates_schema(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx);
	sqlite3 *db = raw_open(fx);
	sqlite3_stmt *s;

	assert_true(store_schema_version() >= 2);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), store_schema_version());
	/* 2: replies and the due dates */
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
	    " AND name = 'replies'"), 1);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM pragma_table_info('cases')"
	    " WHERE name IN ('ack_by', 'update_by', 'acknowledged_at')"), 3);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
	    " AND name IN ('cases', 'messages', 'events', 'case_seq')"), 4);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'"
	    " AND name IN ('events_no_update', 'events_no_delete')"), 2);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM pragma_table_info('cases')"
	    " WHERE name IN ('case_id', 'status', 'dedup_key', 'tickets', 'models', 'serials',"
	    " 'missing', 'resolve_by', 'received_at', 'updated_at', 'node', 'seq')"), 12);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	/* A status outside the list is refused by the schema. */
	assert_int_not_equal(sqlite3_exec(db, "INSERT INTO cases (case_id, year, seq, status,"
	    " envelope_from, dedup_key, received_at, updated_at) VALUES ('X', 2024, 1,"
	    " 'bogus', '', 'k', 'now', 'now')", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	store_close(st);
}

static void
test_open_errors(void **state)
{
	struct fx *fx = *state;
	char path[256], err[512] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/no/such/dir/cases.db", fx->dir);
	assert_null(store_open(path, 100, err, sizeof(err)));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "unable to open"));

	snprintf(path, sizeof(path), "%s/garbage.db", fx->dir);
	assert_non_null(f = fopen(path, "w"));
	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite database\n", f);
	fclose(f);
	err[0] = '\0';
	assert_null(store_open(path, 100, err, sizeof(err)));
	assert_non_null(strstr(err, "not a database"));
}

static void
test_reopen_is_noop(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx);
	struct case_row row;
	char id[CASEID_MAX];
	long long objects;

	new_case_ok(st, fx, "<a@x>", id, sizeof(id));
	store_close(st);
	objects = db_int(fx, "SELECT count(*) FROM sqlite_schema");
	st = open_ok(fx);
	assert_int_equal(db_int(fx, "PRAGMA user_version"), store_schema_version());
	assert_int_equal(db_int(fx, "SELECT count(*) FROM sqlite_schema"), objects);
	assert_int_equal(store_find_case(st, id, &row), 1);
	assert_string_equal(row.case_id, "CASE-2024-000001");
	case_row_free(&row);
	store_close(st);
}

static void
test_newer_version_refused(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx);
	sqlite3 *db;
	char err[512] = "";

	store_close(st);
	db = raw_open(fx);
	raw_exec(db, "PRAGMA user_version = 99");
	sqlite3_close(db);
	assert_null(store_open(fx->path, 100, err, sizeof(err)));
	assert_non_null(strstr(err, "schema version 99 is newer"));
	assert_non_null(strstr(err, fx->path));
	/* Nothing was changed. */
	assert_int_equal(db_int(fx, "PRAGMA user_version"), 99);
}

/* ---- case IDs ---- */

static void
test_ids_sequential_per_year(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx);
	static const char *const want[] = {
		"CASE-2024-000001", "CASE-2024-000002", "CASE-2024-000003",
	};
	struct case_result cr;
	struct msg m;
	char key[32];

	for (int i = 0; i < 3; i++) {
		snprintf(key, sizeof(key), "<%d@x>", i);
		msg_init(&m, fx, key, "a@example.net");
		assert_int_equal(store_new_case(st, &m.in, &cr), 0);
		assert_string_equal(cr.case_id, want[i]);
		assert_int_equal(cr.seq, i + 1);
		msg_free(&m);
	}
	/* Another year has its own sequence; year 0 takes the year of now. */
	msg_init(&m, fx, "<y@x>", "a@example.net");
	m.in.year = 0;
	m.in.now = (time_t)1735689600;	/* 2025-01-01T00:00:00Z */
	assert_int_equal(store_new_case(st, &m.in, &cr), 0);
	assert_string_equal(cr.case_id, "CASE-2025-000001");
	msg_free(&m);
	store_close(st);

	/* After a restart the sequence goes on. */
	st = open_ok(fx);
	msg_init(&m, fx, "<after@x>", "a@example.net");
	assert_int_equal(store_new_case(st, &m.in, &cr), 0);
	assert_string_equal(cr.case_id, "CASE-2024-000004");
	msg_free(&m);
	store_close(st);
	assert_int_equal(db_int(fx, "SELECT next FROM case_seq"
	    " WHERE year = 2024 AND node = ''"), 5);
}

static void
test_sequence_past_999999(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx);
	sqlite3 *db = raw_open(fx);
	struct case_result cr;
	struct msg m;
	unsigned long long seq;
	int year;

	raw_exec(db, "INSERT INTO case_seq (year, node, next) VALUES (2024, '', 999999)");
	sqlite3_close(db);
	msg_init(&m, fx, "<1@x>", "a@example.net");
	assert_int_equal(store_new_case(st, &m.in, &cr), 0);
	assert_string_equal(cr.case_id, "CASE-2024-999999");
	msg_free(&m);
	msg_init(&m, fx, "<2@x>", "a@example.net");
	assert_int_equal(store_new_case(st, &m.in, &cr), 0);
	assert_string_equal(cr.case_id, "CASE-2024-1000000");
	assert_int_equal(cr.seq, 1000000);
	assert_int_equal(caseid_parse(&fx->idf, cr.case_id, &year, &seq), 0);
	assert_int_equal(seq, 1000000);
	msg_free(&m);
	store_close(st);
}

static void
test_node_component(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx);
	struct caseid_fmt mx2;
	struct case_result cr;
	struct case_row row;
	struct msg m;
	unsigned long long seq;
	int year;

	caseid_fmt_init(&mx2, "CASE", "MX2", true);
	msg_init(&m, fx, "<1@x>", "a@example.net");
	m.in.idf = &mx2;
	assert_int_equal(store_new_case(st, &m.in, &cr), 0);
	assert_int_equal(strncmp(cr.case_id, "CASE-2024-MX2-000001-", 21), 0);
	assert_int_equal(strlen(cr.case_id), 22);	/* with the check character */
	assert_int_equal(caseid_parse(&mx2, cr.case_id, &year, &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(store_find_case(st, cr.case_id, &row), 1);
	assert_string_equal(row.node, "MX2");
	case_row_free(&row);
	msg_free(&m);
	/* Without a node: a sequence of its own. */
	msg_init(&m, fx, "<2@x>", "a@example.net");
	assert_int_equal(store_new_case(st, &m.in, &cr), 0);
	assert_string_equal(cr.case_id, "CASE-2024-000001");
	msg_free(&m);
	store_close(st);
}

/* ---- new cases ---- */

static void
test_retried_delivery_same_case(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx);
	struct case_result a, b, c;
	struct msg m;

	msg_init(&m, fx, "<retry@x>", "a@example.net");
	assert_int_equal(store_new_case(st, &m.in, &a), 0);
	assert_false(a.existed);
	m.in.queue_id = "OTHERQ";	/* the retry has another queue ID */
	assert_int_equal(store_new_case(st, &m.in, &b), 0);
	assert_true(b.existed);
	assert_string_equal(b.case_id, a.case_id);
	assert_int_equal(b.seq, a.seq);
	msg_free(&m);
	assert_int_equal(db_int(fx, "SELECT count(*) FROM cases"), 1);
	assert_int_equal(db_int(fx, "SELECT count(*) FROM messages"), 1);
	assert_int_equal(db_int(fx, "SELECT count(*) FROM events"), 1);
	/* The same Message-ID from another sender is another case. */
	msg_init(&m, fx, "<retry@x>", "other@example.net");
	assert_int_equal(store_new_case(st, &m.in, &c), 0);
	assert_false(c.existed);
	assert_string_equal(c.case_id, "CASE-2024-000002");
	msg_free(&m);
	store_close(st);
}

static void
test_find_case_fields(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx);
	struct case_result cr;
	struct case_row row;
	struct msg m;

	msg_init(&m, fx, "<f@x>", "env@example.net");
	msg_fields(&m, KIND_PRODUCT, NULL, "MOD 10KTL3-X", "SN1,SN\"2", false,
	    MISSING_DESCRIPTION);
	m.c.solution_idea = true;
	assert_int_equal(store_new_case(st, &m.in, &cr), 0);
	assert_true(cr.incomplete);
	assert_int_equal(store_find_case(st, cr.case_id, &row), 1);
	assert_string_equal(row.case_id, cr.case_id);
	assert_int_equal(row.year, 2024);
	assert_int_equal(row.seq, 1);
	assert_string_equal(row.status, "incomplete");
	assert_string_equal(row.kind, "product");
	assert_string_equal(row.language, "en");
	assert_string_equal(row.envelope_from, "env@example.net");
	assert_string_equal(row.from_addr, "env@example.net");
	assert_string_equal(row.from_name, "A. Customer");
	assert_string_equal(row.subject, "Inverter fault");
	assert_string_equal(row.message_id, "<f@x>");
	assert_string_equal(row.dedup_key, "<f@x>");
	assert_string_equal(row.queue_id, "4Q1x2y3z");
	assert_string_equal(row.recipients, "complaints@example.com");
	assert_int_equal(row.tickets.n, 0);
	assert_int_equal(row.models.n, 1);
	assert_string_equal(row.models.v[0], "MOD 10KTL3-X");
	assert_int_equal(row.serials.n, 2);
	assert_string_equal(row.serials.v[1], "SN\"2");
	assert_string_equal(row.missing, "description");
	assert_false(row.description);
	assert_true(row.solution_idea);
	assert_string_equal(row.received_at, "2024-05-01T12:51:30Z");
	assert_string_equal(row.updated_at, "2024-05-01T12:51:30Z");
	assert_null(row.resolve_by);
	case_row_free(&row);
	msg_free(&m);
	assert_int_equal(store_find_case(st, "CASE-2024-000099", &row), 0);
	case_row_free(&row);
	assert_int_equal(db_int(fx, "SELECT count(*) FROM events WHERE type = 'received'"
	    " AND json_extract(detail, '$.missing[0]') = 'description'"), 1);
	store_close(st);
}

static void
test_flagged_event_type(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx);
	struct case_result cr;
	struct msg m;

	msg_init(&m, fx, "<flag@x>", "a@example.net");
	msg_fields(&m, KIND_UNKNOWN, NULL, NULL, NULL, true, MISSING_TICKET_OR_MODEL);
	m.in.event_type = "flagged";
	assert_int_equal(store_new_case(st, &m.in, &cr), 0);
	msg_free(&m);
	store_close(st);
	assert_int_equal(db_int(fx, "SELECT count(*) FROM events WHERE type = 'flagged'"
	    " AND case_id = 'CASE-2024-000001'"), 1);
	assert_int_equal(db_int(fx, "SELECT count(*) FROM cases WHERE status = 'incomplete'"
	    " AND missing = 'ticket_or_model' AND kind = 'unknown'"), 1);
}

static void
test_intake_checked(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx);
	struct case_result cr;
	struct msg m;

	msg_init(&m, fx, "<k@x>", "a@example.net");
	m.in.dedup_key = NULL;
	assert_int_equal(store_new_case(st, &m.in, &cr), -1);
	assert_non_null(strstr(store_errmsg(st), "dedup"));
	msg_free(&m);
	store_close(st);
	assert_int_equal(db_int(fx, "SELECT count(*) FROM cases"), 0);
}

/* ---- follow-ups ---- */

static void
test_followup_completes_case(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx);
	struct followup_result fr;
	struct case_result cr;
	struct case_row row;
	struct msg m, f;

	msg_init(&m, fx, "<orig@x>", "a@example.net");
	msg_fields(&m, KIND_PRODUCT, NULL, "MOD 10KTL3-X", NULL, false, MISSING_DESCRIPTION);
	assert_int_equal(store_new_case(st, &m.in, &cr), 0);
	assert_true(cr.incomplete);

	msg_init(&f, fx, "<fu@x>", "a@example.net");
	/* The model again, written differently, and a serial and a description. */
	msg_fields(&f, KIND_PRODUCT, NULL, "mod 10ktl3 x", "SN-123", true, 0);
	f.in.now = NOW_2024 + 60;
	assert_int_equal(store_add_followup(st, cr.case_id, &f.in, &fr), 1);
	assert_false(fr.existed);
	assert_true(fr.completed);
	assert_int_equal(fr.missing, 0);
	assert_int_equal(store_find_case(st, cr.case_id, &row), 1);
	assert_string_equal(row.status, "new");
	assert_string_equal(row.missing, "");
	assert_true(row.description);
	assert_int_equal(row.models.n, 1);
	assert_string_equal(row.models.v[0], "MOD 10KTL3-X");
	assert_int_equal(row.serials.n, 1);
	assert_string_equal(row.serials.v[0], "SN-123");
	assert_string_equal(row.updated_at, "2024-05-01T12:52:30Z");
	assert_string_equal(row.received_at, "2024-05-01T12:51:30Z");
	case_row_free(&row);
	msg_free(&m);
	msg_free(&f);
	store_close(st);
	assert_int_equal(db_int(fx, "SELECT count(*) FROM events WHERE type = 'follow-up'"
	    " AND json_extract(detail, '$.serials[0]') = 'SN-123'"
	    " AND json_array_length(detail, '$.models') = 0"), 1);
	assert_int_equal(db_int(fx, "SELECT count(*) FROM events WHERE type = 'completed'"
	    " AND case_id = 'CASE-2024-000001'"), 1);
	assert_int_equal(db_int(fx, "SELECT count(*) FROM messages WHERE kind_of_message ="
	    " 'follow-up' AND dedup_key = '<fu@x>'"), 1);
}

static void
test_followup_unknown_kind_gets_kind(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx);
	struct followup_result fr;
	struct case_result cr;
	struct case_row row;
	struct msg m, f;

	msg_init(&m, fx, "<u@x>", "a@example.net");
	msg_fields(&m, KIND_UNKNOWN, NULL, NULL, NULL, true, MISSING_TICKET_OR_MODEL);
	assert_int_equal(store_new_case(st, &m.in, &cr), 0);
	/* A follow-up bringing only a serial completes nothing. */
	msg_init(&f, fx, "<u1@x>", "a@example.net");
	msg_fields(&f, KIND_UNKNOWN, NULL, NULL, "SN9", false, 0);
	assert_int_equal(store_add_followup(st, cr.case_id, &f.in, &fr), 1);
	assert_false(fr.completed);
	assert_int_equal(fr.missing, MISSING_TICKET_OR_MODEL);
	msg_free(&f);
	/* A ticket makes it a complete service case. */
	msg_init(&f, fx, "<u2@x>", "a@example.net");
	msg_fields(&f, KIND_SERVICE, "T-77", NULL, NULL, false, 0);
	assert_int_equal(store_add_followup(st, cr.case_id, &f.in, &fr), 1);
	assert_true(fr.completed);
	assert_int_equal(store_find_case(st, cr.case_id, &row), 1);
	assert_string_equal(row.kind, "service");
	assert_string_equal(row.status, "new");
	assert_int_equal(row.tickets.n, 1);
	assert_int_equal(row.serials.n, 1);
	case_row_free(&row);
	msg_free(&f);
	msg_free(&m);
	store_close(st);
}

static void
test_followup_retry_not_doubled(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx);
	struct followup_result fr;
	struct case_row row;
	char id[CASEID_MAX];
	struct msg f;

	new_case_ok(st, fx, "<o@x>", id, sizeof(id));
	msg_init(&f, fx, "<fu@x>", "cust@example.net");
	msg_fields(&f, KIND_SERVICE, "T-2002", NULL, "SN-1", true, 0);
	assert_int_equal(store_add_followup(st, id, &f.in, &fr), 1);
	assert_false(fr.existed);
	assert_false(fr.completed);	/* it was complete already */
	assert_int_equal(store_add_followup(st, id, &f.in, &fr), 1);
	assert_true(fr.existed);
	assert_false(fr.completed);
	assert_int_equal(store_find_case(st, id, &row), 1);
	assert_int_equal(row.tickets.n, 2);
	assert_int_equal(row.serials.n, 1);
	assert_string_equal(row.status, "new");
	case_row_free(&row);
	msg_free(&f);
	store_close(st);
	assert_int_equal(db_int(fx, "SELECT count(*) FROM messages"), 2);
	assert_int_equal(db_int(fx, "SELECT count(*) FROM events WHERE type = 'follow-up'"), 1);
}

static void
test_followup_no_such_case(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx);
	struct followup_result fr;
	struct msg f;

	msg_init(&f, fx, "<fu@x>", "a@example.net");
	assert_int_equal(store_add_followup(st, "CASE-2024-000042", &f.in, &fr), 0);
	assert_false(fr.existed);
	msg_free(&f);
	store_close(st);
	assert_int_equal(db_int(fx, "SELECT (SELECT count(*) FROM messages) +"
	    " (SELECT count(*) FROM events)"), 0);
}

/* ---- events ---- */

static void
test_rejection_event_without_case(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx);

	assert_int_equal(store_event(st, NULL, "rejected",
	    "{\"missing\":[\"ticket\",\"description\"]}", "<rej@x>", "a@example.net", "Q1"), 0);
	/* Not JSON, or not an object: refused by the schema. */
	assert_int_equal(store_event(st, NULL, "rejected", "{missing", NULL, NULL, NULL), -1);
	assert_true(strlen(store_errmsg(st)) > 0);
	assert_int_equal(store_event(st, NULL, "rejected", "[1]", NULL, NULL, NULL), -1);
	/* An event on a case that does not exist. */
	assert_int_equal(store_event(st, "CASE-2024-000005", "escalated", NULL, NULL, NULL,
	    NULL), -1);
	assert_non_null(strstr(store_errmsg(st), "FOREIGN KEY"));
	assert_int_equal(store_event(st, NULL, NULL, NULL, NULL, NULL, NULL), -1);
	store_close(st);
	assert_int_equal(db_int(fx, "SELECT count(*) FROM events"), 1);
	assert_int_equal(db_int(fx, "SELECT count(*) FROM events WHERE case_id IS NULL"
	    " AND type = 'rejected' AND message_id = '<rej@x>' AND queue_id = 'Q1'"
	    " AND json_extract(detail, '$.missing[1]') = 'description'"), 1);
}

static void
test_events_append_only(void **state)
{
	struct fx *fx = *state;
	struct store *st = open_ok(fx);
	char id[CASEID_MAX], *msg = NULL;
	sqlite3 *db;

	new_case_ok(st, fx, "<e@x>", id, sizeof(id));
	store_close(st);
	db = raw_open(fx);
	assert_int_not_equal(sqlite3_exec(db, "UPDATE events SET type = 'x'", NULL, NULL, &msg),
	    SQLITE_OK);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	msg = NULL;
	assert_int_not_equal(sqlite3_exec(db, "DELETE FROM events", NULL, NULL, &msg), SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM events WHERE type = 'received'"), 1);
	sqlite3_close(db);
}

/* ---- the writer ---- */

static struct store_writer *
writer_ok(const struct fx *fx, unsigned busy_ms)
{
	char err[512] = "";
	struct store_writer *w = store_writer_start(fx->path, busy_ms, err, sizeof(err));

	if (w == NULL)
		fail_msg("store_writer_start: %s", err);
	return w;
}

#define NTHREADS 8
#define PER_THREAD 200

struct worker {
	pthread_t t;
	struct store_writer *w;
	const struct fx *fx;
	int no;
	int n;
	int failures;
	char (*ids)[CASEID_MAX];
};

/* No cmocka asserts here (not in threads): results go to the main thread. */
static void *
worker_main(void *arg)
{
	struct worker *wk = arg;
	struct store_op op;
	struct msg m;
	char key[64];

	for (int i = 0; i < wk->n; i++) {
		snprintf(key, sizeof(key), "<%d.%d@load>", wk->no, i);
		memset(&m, 0, sizeof(m));
		complaint_init(&m.c);
		m.c.subject = strdup("load");
		m.c.from_addr = strdup("load@example.net");
		m.c.message_id = strdup(key);
		m.c.kind = KIND_SERVICE;
		m.c.description = true;
		if (m.c.subject == NULL || m.c.from_addr == NULL || m.c.message_id == NULL ||
		    sl_add(&m.c.tickets, "T-1") < 0)
			wk->failures++;
		m.in.c = &m.c;
		m.in.envelope_from = "load@example.net";
		m.in.dedup_key = key;
		m.in.idf = &wk->fx->idf;
		m.in.year = 2024;
		m.in.now = NOW_2024;
		store_op_new_case(&op, &m.in);
		if (store_writer_submit(wk->w, &op) != 0 || op.cres.existed)
			wk->failures++;
		else
			memcpy(wk->ids[i], op.cres.case_id, CASEID_MAX);
		complaint_free(&m.c);
	}
	return NULL;
}

/* nthreads workers on writers w[i % nw], n cases each; IDs into ids. */
static void
run_workers(struct store_writer **w, int nw, const struct fx *fx, int nthreads, int n,
    char (*ids)[CASEID_MAX])
{
	struct worker wk[NTHREADS];

	assert_true(nthreads <= NTHREADS);
	for (int i = 0; i < nthreads; i++) {
		wk[i] = (struct worker){ .w = w[i % nw], .fx = fx, .no = i, .n = n,
		    .ids = ids + (size_t)i * n };
		assert_int_equal(pthread_create(&wk[i].t, NULL, worker_main, &wk[i]), 0);
	}
	for (int i = 0; i < nthreads; i++) {
		assert_int_equal(pthread_join(wk[i].t, NULL), 0);
		assert_int_equal(wk[i].failures, 0);
	}
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
assert_distinct(char (*ids)[CASEID_MAX], size_t n)
{
	qsort(ids, n, CASEID_MAX, cmp_id);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(strncmp(ids[i], "CASE-2024-", 10), 0);
		if (i)
			assert_int_not_equal(strcmp(ids[i - 1], ids[i]), 0);
	}
}

/* seq runs 1..n without a gap or a duplicate, one case per seq. */
static void
assert_seq_dense(const struct fx *fx, long long n)
{
	assert_int_equal(db_int(fx, "SELECT count(*) FROM cases"), n);
	assert_int_equal(db_int(fx, "SELECT count(DISTINCT seq) FROM cases"), n);
	assert_int_equal(db_int(fx, "SELECT min(seq) FROM cases"), 1);
	assert_int_equal(db_int(fx, "SELECT max(seq) FROM cases"), n);
	assert_int_equal(db_int(fx, "SELECT next FROM case_seq WHERE year = 2024"), n + 1);
}

static void
test_writer_group_commit(void **state)
{
	struct fx *fx = *state;
	struct store_writer *w = writer_ok(fx, 5000);
	char (*ids)[CASEID_MAX] = calloc(NTHREADS * PER_THREAD, CASEID_MAX);
	struct store_writer_stats s;
	double t0, ms;

	assert_non_null(ids);
	t0 = now_ms();
	run_workers(&w, 1, fx, NTHREADS, PER_THREAD, ids);
	ms = now_ms() - t0;
	store_writer_stats(w, &s);
	store_writer_stop(w);
	printf("# group commit: %llu ops in %llu transactions (%llu batches, largest %zu),"
	    " %.0f ms, %.0f ops/s\n", s.ops, s.commits, s.batches, s.max_batch, ms,
	    s.ops * 1000.0 / ms);
	assert_int_equal(s.ops, NTHREADS * PER_THREAD);
	assert_int_equal(s.failed, 0);
	assert_int_equal(s.fallbacks, 0);
	assert_int_equal(s.commits, s.batches);
	assert_true(s.commits <= NTHREADS * PER_THREAD / 2);
	assert_true(s.max_batch > 1 && s.max_batch <= NTHREADS);
	assert_distinct(ids, NTHREADS * PER_THREAD);
	assert_seq_dense(fx, NTHREADS * PER_THREAD);
	free(ids);
}

static void
test_two_writers_one_database(void **state)
{
	struct fx *fx = *state;
	struct store_writer *w[2] = { writer_ok(fx, 10000), writer_ok(fx, 10000) };
	char (*ids)[CASEID_MAX] = calloc(4 * 100, CASEID_MAX);
	struct store_writer_stats s0, s1;

	assert_non_null(ids);
	run_workers(w, 2, fx, 4, 100, ids);
	store_writer_stats(w[0], &s0);
	store_writer_stats(w[1], &s1);
	store_writer_stop(w[0]);
	store_writer_stop(w[1]);
	assert_int_equal(s0.ops, 200);
	assert_int_equal(s1.ops, 200);
	assert_distinct(ids, 400);
	assert_seq_dense(fx, 400);
	free(ids);
}

/* Two deliveries of one message, a follow-up and an event in one batch. */
static void
test_writer_batch_sees_own_writes(void **state)
{
	struct fx *fx = *state;
	struct store_writer *w = writer_ok(fx, 2000);
	struct store_op a, b, f, e, *ops[] = { &a, &b, &f, &e };
	struct store_writer_stats s;
	struct msg m, fu;

	msg_init(&m, fx, "<dup@x>", "a@example.net");
	msg_fields(&m, KIND_SERVICE, NULL, NULL, NULL, true, MISSING_TICKET);
	msg_init(&fu, fx, "<dup-fu@x>", "a@example.net");
	msg_fields(&fu, KIND_SERVICE, "T-5", NULL, NULL, false, 0);
	store_op_new_case(&a, &m.in);
	store_op_new_case(&b, &m.in);
	store_op_followup(&f, "CASE-2024-000001", &fu.in);
	store_op_event(&e, "CASE-2024-000001", "escalated", "{\"by\":\"test\"}", NULL, NULL,
	    NULL);
	assert_int_equal(store_writer_submitv(w, ops, 4), 0);
	assert_false(a.cres.existed);
	assert_true(b.cres.existed);
	assert_string_equal(a.cres.case_id, "CASE-2024-000001");
	assert_string_equal(b.cres.case_id, a.cres.case_id);
	assert_int_equal(f.rc, 1);
	assert_true(f.fres.completed);
	assert_int_equal(e.rc, 0);
	store_writer_stats(w, &s);
	store_writer_stop(w);
	assert_int_equal(s.batches, 1);
	assert_int_equal(s.commits, 1);
	assert_int_equal(s.max_batch, 4);
	assert_int_equal(db_int(fx, "SELECT count(*) FROM cases WHERE status = 'new'"), 1);
	assert_int_equal(db_int(fx, "SELECT count(*) FROM events"), 4);
	msg_free(&m);
	msg_free(&fu);
}

/* One op fails inside the batch: only it is rolled back (savepoint). */
static void
test_writer_isolates_failing_op(void **state)
{
	struct fx *fx = *state;
	struct store_writer *w = writer_ok(fx, 2000);
	struct store_op a, b, c, *ops[] = { &a, &b, &c };
	struct store_writer_stats s;
	struct msg ma, mb, mc;
	sqlite3 *db = raw_open(fx);

	/* A case insert that fails after its sequence number was taken. */
	raw_exec(db, "CREATE TRIGGER boom BEFORE INSERT ON cases WHEN NEW.subject = 'boom'"
	    " BEGIN SELECT RAISE(ABORT, 'boom'); END");
	sqlite3_close(db);
	msg_init(&ma, fx, "<a@x>", "a@example.net");
	msg_init(&mb, fx, "<b@x>", "a@example.net");
	free(mb.c.subject);
	mb.c.subject = strdup("boom");
	msg_init(&mc, fx, "<c@x>", "a@example.net");
	store_op_new_case(&a, &ma.in);
	store_op_new_case(&b, &mb.in);
	store_op_new_case(&c, &mc.in);
	assert_int_equal(store_writer_submitv(w, ops, 3), -1);
	assert_int_equal(a.rc, 0);
	assert_int_equal(b.rc, -1);
	assert_non_null(strstr(b.errmsg, "boom"));
	assert_string_equal(b.cres.case_id, "");
	assert_int_equal(c.rc, 0);
	assert_string_equal(a.cres.case_id, "CASE-2024-000001");
	assert_string_equal(c.cres.case_id, "CASE-2024-000002");	/* no gap */
	store_writer_stats(w, &s);
	store_writer_stop(w);
	assert_int_equal(s.commits, 1);
	assert_int_equal(s.fallbacks, 0);
	assert_int_equal(s.failed, 1);
	assert_seq_dense(fx, 2);
	msg_free(&ma);
	msg_free(&mb);
	msg_free(&mc);
}

/* COMMIT of the batch fails: the ops are retried one by one. */
static void
test_writer_commit_failure_falls_back(void **state)
{
	struct fx *fx = *state;
	struct store_writer *w = writer_ok(fx, 2000);
	struct store_op a, b, c, *ops[] = { &a, &b, &c };
	struct store_writer_stats s;
	struct msg ma, mc;
	sqlite3 *db = raw_open(fx);

	/* An event of type 'boom' breaks a deferred foreign key: COMMIT fails. */
	raw_exec(db, "CREATE TABLE t_parent (k TEXT PRIMARY KEY);"
	    "CREATE TABLE t_child (k TEXT REFERENCES t_parent (k) DEFERRABLE INITIALLY DEFERRED);"
	    "CREATE TRIGGER t_boom AFTER INSERT ON events WHEN NEW.type = 'boom'"
	    " BEGIN INSERT INTO t_child VALUES ('x'); END");
	sqlite3_close(db);
	msg_init(&ma, fx, "<a@x>", "a@example.net");
	msg_init(&mc, fx, "<c@x>", "a@example.net");
	store_op_new_case(&a, &ma.in);
	store_op_event(&b, NULL, "boom", NULL, NULL, NULL, NULL);
	store_op_new_case(&c, &mc.in);
	assert_int_equal(store_writer_submitv(w, ops, 3), -1);
	assert_int_equal(a.rc, 0);
	assert_int_equal(b.rc, -1);
	assert_non_null(strstr(b.errmsg, "FOREIGN KEY"));
	assert_int_equal(c.rc, 0);
	assert_string_equal(a.cres.case_id, "CASE-2024-000001");
	assert_string_equal(c.cres.case_id, "CASE-2024-000002");
	assert_string_equal(a.errmsg, "");
	store_writer_stats(w, &s);
	store_writer_stop(w);
	assert_int_equal(s.batches, 1);
	assert_int_equal(s.fallbacks, 1);
	assert_int_equal(s.commits, 2);
	assert_int_equal(s.failed, 1);
	assert_seq_dense(fx, 2);
	assert_int_equal(db_int(fx, "SELECT count(*) FROM events WHERE type = 'boom'"), 0);
	msg_free(&ma);
	msg_free(&mc);
}

/* Another connection holds the write lock past the busy timeout. */
static void
test_writer_busy_timeout(void **state)
{
	struct fx *fx = *state;
	struct store_writer *w = writer_ok(fx, 300);
	struct store_op op;
	struct msg m;
	sqlite3 *db = raw_open(fx);
	double t0, ms;

	raw_exec(db, "BEGIN EXCLUSIVE");
	msg_init(&m, fx, "<busy@x>", "a@example.net");
	store_op_new_case(&op, &m.in);
	t0 = now_ms();
	assert_int_equal(store_writer_submit(w, &op), -1);
	ms = now_ms() - t0;
	printf("# busy: submit failed after %.0f ms (timeout 300 ms): %s\n", ms, op.errmsg);
	assert_true(ms >= 250 && ms < 5000);
	assert_non_null(strstr(op.errmsg, "locked"));
	raw_exec(db, "COMMIT");
	sqlite3_close(db);
	/* The retry (the MTA's, after 451) succeeds: nothing was half-written. */
	store_op_new_case(&op, &m.in);
	assert_int_equal(store_writer_submit(w, &op), 0);
	assert_false(op.cres.existed);
	assert_string_equal(op.cres.case_id, "CASE-2024-000001");
	store_writer_stop(w);
	msg_free(&m);
	assert_seq_dense(fx, 1);
}

/* The same with the direct API. */
static void
test_direct_busy_timeout(void **state)
{
	struct fx *fx = *state;
	char err[512] = "";
	struct store *st = store_open(fx->path, 200, err, sizeof(err));
	struct case_result cr;
	struct msg m;
	sqlite3 *db = raw_open(fx);
	double t0, ms;

	assert_non_null(st);
	raw_exec(db, "BEGIN EXCLUSIVE");
	msg_init(&m, fx, "<busy@x>", "a@example.net");
	t0 = now_ms();
	assert_int_equal(store_new_case(st, &m.in, &cr), -1);
	ms = now_ms() - t0;
	assert_true(ms >= 150 && ms < 5000);
	assert_non_null(strstr(store_errmsg(st), "locked"));
	raw_exec(db, "ROLLBACK");
	sqlite3_close(db);
	assert_int_equal(store_new_case(st, &m.in, &cr), 0);
	assert_string_equal(cr.case_id, "CASE-2024-000001");
	msg_free(&m);
	store_close(st);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_migration_creates_schema),
		T(test_open_errors),
		T(test_reopen_is_noop),
		T(test_newer_version_refused),
		T(test_ids_sequential_per_year),
		T(test_sequence_past_999999),
		T(test_node_component),
		T(test_retried_delivery_same_case),
		T(test_find_case_fields),
		T(test_flagged_event_type),
		T(test_intake_checked),
		T(test_followup_completes_case),
		T(test_followup_unknown_kind_gets_kind),
		T(test_followup_retry_not_doubled),
		T(test_followup_no_such_case),
		T(test_rejection_event_without_case),
		T(test_events_append_only),
		T(test_writer_group_commit),
		T(test_two_writers_one_database),
		T(test_writer_batch_sees_own_writes),
		T(test_writer_isolates_failing_op),
		T(test_writer_commit_failure_falls_back),
		T(test_writer_busy_timeout),
		T(test_direct_busy_timeout),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
