/*
 * store.c - the case store: opening, the write operations (new case,
 * follow-up, event), reading a case, and the group-commit writer thread.
 *
 * Every write operation is a do_*() function that runs inside a transaction
 * it does not own.  run_alone() wraps one in BEGIN IMMEDIATE ... COMMIT (the
 * direct API); the writer runs a whole batch in one transaction with a
 * SAVEPOINT per op, so a failing op is rolled back alone.  When the batch as
 * a whole is lost (COMMIT fails, or an error rolled the transaction back),
 * the writer retries every op in its own transaction.  Ops in one batch run
 * one after the other, so the second of two deliveries of one message sees
 * the case the first created.
 */
#include "store.h"
#include "calendar.h"
#include "lifecycle.h"
#include "verdict.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"

/* Prepared once per connection, on first use. */
enum stmt_id {
	S_FIND_DEDUP,
	S_NEXT_SEQ,
	S_INSERT_CASE,
	S_INSERT_MSG,
	S_INSERT_EVENT,
	S_FIND_CASE,
	S_LOAD_MERGE,
	S_MSG_SEEN,
	S_UPDATE_CASE,
	S_JSON_EACH,
	S_LIFE_LOAD,
	S_LIFE_STATUS,
	S_LIFE_ACKED,
	S_LIFE_UPDATE_BY,
	S_LIFE_RESOLVE_BY,
	S_INSERT_STAFF_MSG,
	S_EVENT_SEEN,
	S_BEGIN,
	S_COMMIT,
	S_SAVEPOINT,
	S_RELEASE,
	S_COUNT
};

static const char *const SQL[S_COUNT] = {
	[S_FIND_DEDUP] = "SELECT case_id, seq, status FROM cases"
	    " WHERE dedup_key = ?1 AND envelope_from = ?2",
	/* next is the number the next case gets; hand it out and bump it. */
	[S_NEXT_SEQ] = "INSERT INTO case_seq (year, node, next) VALUES (?1, ?2, 2)"
	    " ON CONFLICT (year, node) DO UPDATE SET next = next + 1"
	    " RETURNING next - 1",
	[S_INSERT_CASE] = "INSERT INTO cases (case_id, year, seq, node, status, kind,"
	    " language, envelope_from, from_addr, from_name, subject, message_id,"
	    " dedup_key, queue_id, recipients, tickets, models, serials, missing,"
	    " description, solution_idea, received_at, updated_at) VALUES (?1, ?2,"
	    " ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
	    " ?19, ?20, ?21, ?22, ?22)",
	[S_INSERT_MSG] = "INSERT INTO messages (case_id, direction, received_at,"
	    " message_id, dedup_key, envelope_from, subject, queue_id, kind_of_message)"
	    " VALUES (?1, 'in', ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_INSERT_EVENT] = "INSERT INTO events (case_id, at, type, detail, message_id,"
	    " envelope_from, queue_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_FIND_CASE] = "SELECT id, case_id, year, seq, node, status, kind, language,"
	    " envelope_from, from_addr, from_name, subject, message_id, dedup_key,"
	    " queue_id, recipients, tickets, models, serials, missing, description,"
	    " solution_idea, received_at, updated_at, resolve_by"
	    " FROM cases WHERE case_id = ?1",
	[S_LOAD_MERGE] = "SELECT kind, status, tickets, models, serials, description,"
	    " solution_idea, missing FROM cases WHERE case_id = ?1",
	[S_MSG_SEEN] = "SELECT 1 FROM messages"
	    " WHERE dedup_key = ?1 AND envelope_from = ?2 AND case_id = ?3",
	[S_UPDATE_CASE] = "UPDATE cases SET kind = ?2, status = ?3, tickets = ?4,"
	    " models = ?5, serials = ?6, description = ?7, solution_idea = ?8,"
	    " missing = ?9, updated_at = ?10 WHERE case_id = ?1",
	[S_JSON_EACH] = "SELECT value FROM json_each(?1) WHERE type = 'text'",
	[S_LIFE_LOAD] = "SELECT status, received_at, acknowledged_at, ack_by, update_by,"
	    " resolve_by FROM cases WHERE case_id = ?1",
	[S_LIFE_STATUS] = "UPDATE cases SET status = ?2, updated_at = ?3 WHERE case_id = ?1",
	[S_LIFE_ACKED] = "UPDATE cases SET acknowledged_at = ?2"
	    " WHERE case_id = ?1 AND acknowledged_at IS NULL",
	[S_LIFE_UPDATE_BY] = "UPDATE cases SET update_by = ?2 WHERE case_id = ?1",
	[S_LIFE_RESOLVE_BY] = "UPDATE cases SET resolve_by = ?2, updated_at = ?3"
	    " WHERE case_id = ?1",
	[S_INSERT_STAFF_MSG] = "INSERT INTO messages (case_id, direction, received_at,"
	    " message_id, dedup_key, envelope_from, subject, queue_id, kind_of_message)"
	    " VALUES (?1, 'out', ?2, ?3, ?4, ?5, ?6, ?7, 'staff')",
	[S_EVENT_SEEN] = "SELECT 1 FROM events WHERE case_id = ?1 AND type = ?2"
	    " AND message_id = ?3",
	/* the transaction statements of every write, prepared like the rest */
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_SAVEPOINT] = "SAVEPOINT op",
	[S_RELEASE] = "RELEASE op",
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[S_COUNT];
	char errmsg[512];
};

/* ---- errors, statements, transactions ---- */

static int
set_err(struct store *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
	va_end(ap);
	return -1;
}

static int
sql_err(struct store *st, const char *what)
{
	return set_err(st, "%s: %s", what, sqlite3_errmsg(st->db));
}

const char *
store_errmsg(const struct store *st)
{
	return st->errmsg;
}

struct sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

static sqlite3_stmt *
stmt(struct store *st, enum stmt_id id)
{
	if (st->stmt[id] == NULL &&
	    sqlite3_prepare_v3(st->db, SQL[id], -1, SQLITE_PREPARE_PERSISTENT,
	    &st->stmt[id], NULL) != SQLITE_OK) {
		sql_err(st, "prepare");
		st->stmt[id] = NULL;
	}
	return st->stmt[id];
}

static void
done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* NULL binds SQL NULL.  The text must outlive the step (we reset first). */
static int
bt(sqlite3_stmt *s, int i, const char *v)
{
	return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

/* Step s once: SQLITE_ROW or SQLITE_DONE; on an error -1 and s is done. */
static int
step(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	sql_err(st, what);
	done(s);
	return -1;
}

/* Run a statement to its end (bound already), then reset it. */
static int
run(struct store *st, sqlite3_stmt *s, int binds, const char *what)
{
	int rc;

	if (binds != SQLITE_OK) {
		done(s);
		return sql_err(st, what);
	}
	while ((rc = step(st, s, what)) == SQLITE_ROW)
		;
	if (rc < 0)
		return -1;
	done(s);
	return 0;
}

static int
exec(struct store *st, const char *sql)
{
	return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : sql_err(st, sql);
}

/* Run one of the prepared transaction statements (S_BEGIN ...). */
static int
exec_id(struct store *st, enum stmt_id id)
{
	sqlite3_stmt *s = stmt(st, id);
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		sql_err(st, SQL[id]);
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	return 0;
}

static void
rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- small helpers ---- */

static const char *
col_str(sqlite3_stmt *s, int i)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	return v ? v : "";
}

static void
iso_utc(time_t t, char *buf, size_t bufsz)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static time_t
intake_now(const struct intake *in)
{
	return in->now ? in->now : time(NULL);
}

static int
intake_year(const struct intake *in, time_t now)
{
	struct tm tm;

	if (in->year)
		return in->year;
	gmtime_r(&now, &tm);
	return tm.tm_year + 1900;
}

static const char *
or_empty(const char *s)
{
	return s ? s : "";
}

static const char *
null_if_empty(const char *s)
{
	return s && *s ? s : NULL;
}

static int
json_list(strbuf *sb, const strlist *sl)
{
	if (sb_putc(sb, '[') < 0)
		return -1;
	for (size_t i = 0; i < sl->n; i++)
		if ((i && sb_putc(sb, ',') < 0) || json_string(sb, sl->v[i]) < 0)
			return -1;
	return sb_putc(sb, ']');
}

/* A JSON array of strings as a new string; NULL when out of memory. */
static char *
json_array(const strlist *sl)
{
	strbuf sb;

	sb_init(&sb);
	if (json_list(&sb, sl) < 0) {
		sb_free(&sb);
		return NULL;
	}
	return sb_steal(&sb);
}

/* The missing names as a JSON array. */
static int
json_missing(strbuf *sb, unsigned missing)
{
	char buf[128];
	int r = sb_putc(sb, '[');

	for (unsigned bit = 1, n = 0; bit <= MISSING_DESCRIPTION; bit <<= 1) {
		if (!(missing & bit))
			continue;
		if (n++)
			r |= sb_putc(sb, ',');
		r |= json_string(sb, complaint_missing_str(bit, buf, sizeof(buf)));
	}
	return r | sb_putc(sb, ']');
}

/* MISSING_* bits of a stored comma list (names of complaint_missing_str). */
static unsigned
missing_bits(const char *csv)
{
	char buf[128];
	unsigned bits = 0;

	if (csv == NULL)
		return 0;
	for (unsigned bit = 1; bit <= MISSING_DESCRIPTION; bit <<= 1) {
		const char *name = complaint_missing_str(bit, buf, sizeof(buf));
		size_t n = strlen(name);

		for (const char *p = csv; (p = strstr(p, name)) != NULL; p += n)
			if ((p == csv || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
				bits |= bit;
	}
	return bits;
}

static enum complaint_kind
kind_of(const char *name)
{
	if (name == NULL)
		return KIND_UNKNOWN;
	if (strcmp(name, complaint_kind_name(KIND_SERVICE)) == 0)
		return KIND_SERVICE;
	if (strcmp(name, complaint_kind_name(KIND_PRODUCT)) == 0)
		return KIND_PRODUCT;
	return KIND_UNKNOWN;
}

static int
check_intake(struct store *st, const struct intake *in, bool need_idf)
{
	if (in == NULL || in->c == NULL)
		return set_err(st, "intake without a complaint");
	if (in->dedup_key == NULL || *in->dedup_key == '\0')
		return set_err(st, "intake without a dedup key");
	if (need_idf && in->idf == NULL)
		return set_err(st, "intake without a case ID format");
	return 0;
}

/* ---- the write operations (inside a transaction) ---- */

static int
insert_event(struct store *st, const char *case_id, const char *at, const char *type,
    const char *detail, const char *message_id, const char *envelope_from,
    const char *queue_id)
{
	sqlite3_stmt *s = stmt(st, S_INSERT_EVENT);
	int b;

	if (s == NULL)
		return -1;
	b = bt(s, 1, case_id) | bt(s, 2, at) | bt(s, 3, type) | bt(s, 4, detail) |
	    bt(s, 5, message_id) | bt(s, 6, envelope_from) | bt(s, 7, queue_id);
	return run(st, s, b, "insert event");
}

/* The event of in, on case_id, with detail built in sb. */
static int
intake_event(struct store *st, const char *case_id, const struct intake *in,
    const char *at, const char *type, strbuf *sb)
{
	if (sb->s == NULL)
		return set_err(st, "out of memory");
	return insert_event(st, case_id, at, type, sb->s, null_if_empty(in->c->message_id),
	    or_empty(in->envelope_from), in->queue_id);
}

static int
insert_message(struct store *st, const char *case_id, const struct intake *in,
    const char *at, const char *kind_of_message)
{
	sqlite3_stmt *s = stmt(st, S_INSERT_MSG);
	int b;

	if (s == NULL)
		return -1;
	b = bt(s, 1, case_id) | bt(s, 2, at) | bt(s, 3, null_if_empty(in->c->message_id)) |
	    bt(s, 4, in->dedup_key) | bt(s, 5, or_empty(in->envelope_from)) |
	    bt(s, 6, in->c->subject) | bt(s, 7, in->queue_id) | bt(s, 8, kind_of_message);
	return run(st, s, b, "insert message");
}

/* The case of (dedup_key, envelope_from), if any: 1, 0 or -1. */
static int
find_dedup(struct store *st, const struct intake *in, struct case_result *out)
{
	sqlite3_stmt *s = stmt(st, S_FIND_DEDUP);
	int rc;

	if (s == NULL)
		return -1;
	if ((bt(s, 1, in->dedup_key) | bt(s, 2, or_empty(in->envelope_from))) != SQLITE_OK)
		return run(st, s, SQLITE_ERROR, "find case");
	if ((rc = step(st, s, "find case")) < 0)
		return -1;
	if (rc == SQLITE_ROW) {
		snprintf(out->case_id, sizeof(out->case_id), "%s", col_str(s, 0));
		out->seq = (unsigned long long)sqlite3_column_int64(s, 1);
		out->incomplete = strcmp(col_str(s, 2), "incomplete") == 0;
		out->existed = true;
	}
	done(s);
	return rc == SQLITE_ROW;
}

/* Allocate the next sequence number of (year, node). */
static int
next_seq(struct store *st, int year, const char *node, unsigned long long *seq)
{
	sqlite3_stmt *s = stmt(st, S_NEXT_SEQ);
	int rc;

	if (s == NULL)
		return -1;
	if ((sqlite3_bind_int(s, 1, year) | bt(s, 2, node)) != SQLITE_OK)
		return run(st, s, SQLITE_ERROR, "allocate sequence");
	if ((rc = step(st, s, "allocate sequence")) < 0)
		return -1;
	if (rc != SQLITE_ROW) {
		done(s);
		return set_err(st, "allocate sequence: no row returned");
	}
	*seq = (unsigned long long)sqlite3_column_int64(s, 0);
	return run(st, s, SQLITE_OK, "allocate sequence");
}

struct lists_json {
	char *tickets, *models, *serials;
};

static void
lists_json_free(struct lists_json *j)
{
	free(j->tickets);
	free(j->models);
	free(j->serials);
}

static int
lists_json(struct store *st, const strlist *t, const strlist *m, const strlist *s,
    struct lists_json *j)
{
	j->tickets = json_array(t);
	j->models = json_array(m);
	j->serials = json_array(s);
	if (j->tickets && j->models && j->serials)
		return 0;
	lists_json_free(j);
	return set_err(st, "out of memory");
}

static int
insert_case(struct store *st, const struct intake *in, const struct case_result *cr,
    int year, const char *at)
{
	const struct complaint *c = in->c;
	sqlite3_stmt *s = stmt(st, S_INSERT_CASE);
	struct lists_json j;
	char missing[128];
	int b, rc;

	if (s == NULL || lists_json(st, &c->tickets, &c->models, &c->serials, &j) < 0)
		return -1;
	complaint_missing_str(c->missing, missing, sizeof(missing));
	b = bt(s, 1, cr->case_id) | sqlite3_bind_int(s, 2, year) |
	    sqlite3_bind_int64(s, 3, (sqlite3_int64)cr->seq) | bt(s, 4, in->idf->node) |
	    bt(s, 5, c->missing ? "incomplete" : "new") | bt(s, 6, complaint_kind_name(c->kind)) |
	    bt(s, 7, null_if_empty(c->language)) | bt(s, 8, or_empty(in->envelope_from)) |
	    bt(s, 9, c->from_addr) | bt(s, 10, c->from_name) | bt(s, 11, c->subject) |
	    bt(s, 12, null_if_empty(c->message_id)) | bt(s, 13, in->dedup_key) |
	    bt(s, 14, in->queue_id) | bt(s, 15, in->recipients) | bt(s, 16, j.tickets) |
	    bt(s, 17, j.models) | bt(s, 18, j.serials) | bt(s, 19, missing) |
	    sqlite3_bind_int(s, 20, c->description) | sqlite3_bind_int(s, 21, c->solution_idea) |
	    bt(s, 22, at);
	rc = run(st, s, b, "insert case");
	lists_json_free(&j);
	return rc;
}

static int
new_case_event(struct store *st, const struct intake *in, const char *case_id,
    const char *at)
{
	const struct complaint *c = in->c;
	strbuf sb;
	int rc;

	sb_init(&sb);
	if (sb_printf(&sb, "{\"status\":\"%s\",\"kind\":\"%s\",\"missing\":",
	    c->missing ? "incomplete" : "new", complaint_kind_name(c->kind)) < 0 ||
	    json_missing(&sb, c->missing) < 0 || sb_putc(&sb, '}') < 0)
		sb_free(&sb);
	rc = intake_event(st, case_id, in, at, in->event_type ? in->event_type : "received", &sb);
	sb_free(&sb);
	return rc;
}

static int
do_new_case(struct store *st, const struct intake *in, struct case_result *out)
{
	time_t now;
	char at[32];
	int year, r;

	memset(out, 0, sizeof(*out));
	if (check_intake(st, in, true) < 0)
		return -1;
	if ((r = find_dedup(st, in, out)) != 0)
		return r < 0 ? -1 : 0;
	now = intake_now(in);
	year = intake_year(in, now);
	iso_utc(now, at, sizeof(at));
	if (next_seq(st, year, in->idf->node, &out->seq) < 0)
		return -1;
	if (caseid_format(in->idf, year, out->seq, out->case_id, sizeof(out->case_id)) < 0)
		return set_err(st, "case ID of %d/%llu too long", year, out->seq);
	out->incomplete = in->c->missing != 0;
	if (insert_case(st, in, out, year, at) < 0 ||
	    insert_message(st, out->case_id, in, at, "complaint") < 0 ||
	    new_case_event(st, in, out->case_id, at) < 0)
		return -1;
	return 0;
}

/* What a follow-up merges into: the case's fields as stored. */
struct merge {
	enum complaint_kind kind;
	char status[24];
	strlist tickets, models, serials;
	bool description, solution_idea;
	unsigned missing;
	strlist added[3];	/* tickets, models, serials added: for the event */
};

static void
merge_init(struct merge *m)
{
	memset(m, 0, sizeof(*m));
	sl_init(&m->tickets);
	sl_init(&m->models);
	sl_init(&m->serials);
	for (size_t i = 0; i < 3; i++)
		sl_init(&m->added[i]);
}

static void
merge_free(struct merge *m)
{
	sl_free(&m->tickets);
	sl_free(&m->models);
	sl_free(&m->serials);
	for (size_t i = 0; i < 3; i++)
		sl_free(&m->added[i]);
}

/* Append the strings of a JSON array to sl. */
static int
load_list(struct store *st, const char *json, strlist *sl)
{
	sqlite3_stmt *s = stmt(st, S_JSON_EACH);
	int rc;

	if (s == NULL)
		return -1;
	if (bt(s, 1, json ? json : "[]") != SQLITE_OK)
		return run(st, s, SQLITE_ERROR, "read list");
	while ((rc = step(st, s, "read list")) == SQLITE_ROW)
		if (sl_add(sl, (const char *)sqlite3_column_text(s, 0)) < 0) {
			done(s);
			return set_err(st, "out of memory");
		}
	if (rc < 0)
		return -1;
	done(s);
	return 0;
}

static int
load_merge_row(struct store *st, sqlite3_stmt *s, struct merge *m)
{
	m->kind = kind_of(col_str(s, 0));
	snprintf(m->status, sizeof(m->status), "%s", col_str(s, 1));
	m->description = sqlite3_column_int(s, 5) != 0;
	m->solution_idea = sqlite3_column_int(s, 6) != 0;
	m->missing = missing_bits((const char *)sqlite3_column_text(s, 7));
	if (load_list(st, (const char *)sqlite3_column_text(s, 2), &m->tickets) < 0 ||
	    load_list(st, (const char *)sqlite3_column_text(s, 3), &m->models) < 0 ||
	    load_list(st, (const char *)sqlite3_column_text(s, 4), &m->serials) < 0)
		return -1;
	return 0;
}

/* Load the case into m: 1, 0 (no such case) or -1. */
static int
load_merge(struct store *st, const char *case_id, struct merge *m)
{
	sqlite3_stmt *s = stmt(st, S_LOAD_MERGE);
	int rc;

	if (s == NULL)
		return -1;
	if (bt(s, 1, case_id) != SQLITE_OK)
		return run(st, s, SQLITE_ERROR, "load case");
	if ((rc = step(st, s, "load case")) < 0)
		return -1;
	if (rc == SQLITE_ROW && load_merge_row(st, s, m) < 0)
		rc = -1;
	done(s);
	return rc < 0 ? -1 : rc == SQLITE_ROW;
}

/* Was this message recorded on case_id already?  1, 0 or -1. */
static int
msg_seen(struct store *st, const char *case_id, const struct intake *in)
{
	sqlite3_stmt *s = stmt(st, S_MSG_SEEN);
	int rc, b;

	if (s == NULL)
		return -1;
	b = bt(s, 1, in->dedup_key) | bt(s, 2, or_empty(in->envelope_from)) | bt(s, 3, case_id);
	if (b != SQLITE_OK)
		return run(st, s, b, "find message");
	if ((rc = step(st, s, "find message")) < 0)
		return -1;
	done(s);
	return rc == SQLITE_ROW;
}

/*
 * What the policy requires and the case lacks.  The same rule as
 * verdict_decide() in verdict.c, which works on one message; keep the two
 * in step.  A case of unknown kind takes the kind the merged fields show.
 */
static unsigned
case_missing(enum complaint_kind *kind, enum complaint_kind explicit_kind,
    const struct merge *m)
{
	/* the policy's rule, as for a new complaint (verdict.c) */
	if (*kind == KIND_UNKNOWN)
		*kind = verdict_kind(explicit_kind, m->tickets.n, m->models.n);
	return verdict_missing(*kind, m->tickets.n, m->models.n, m->description);
}

/* Add the values of from to to (deduplicated); note each new one in added. */
static int
merge_list(strlist *to, const strlist *from, strlist *added)
{
	for (size_t i = 0; i < from->n; i++) {
		int r = sl_add_unique(to, from->v[i]);

		if (r < 0 || (r == 1 && sl_add(added, from->v[i]) < 0))
			return -1;
	}
	return 0;
}

static int
merge_fields(struct store *st, struct merge *m, const struct complaint *c)
{
	if (merge_list(&m->tickets, &c->tickets, &m->added[0]) < 0 ||
	    merge_list(&m->models, &c->models, &m->added[1]) < 0 ||
	    merge_list(&m->serials, &c->serials, &m->added[2]) < 0)
		return set_err(st, "out of memory");
	m->description |= c->description;
	m->solution_idea |= c->solution_idea;
	return 0;
}

static int
update_case(struct store *st, const char *case_id, const struct merge *m,
    const char *status, unsigned missing, const char *at)
{
	sqlite3_stmt *s = stmt(st, S_UPDATE_CASE);
	struct lists_json j;
	char csv[128];
	int b, rc;

	if (s == NULL || lists_json(st, &m->tickets, &m->models, &m->serials, &j) < 0)
		return -1;
	complaint_missing_str(missing, csv, sizeof(csv));
	b = bt(s, 1, case_id) | bt(s, 2, complaint_kind_name(m->kind)) | bt(s, 3, status) |
	    bt(s, 4, j.tickets) | bt(s, 5, j.models) | bt(s, 6, j.serials) |
	    sqlite3_bind_int(s, 7, m->description) | sqlite3_bind_int(s, 8, m->solution_idea) |
	    bt(s, 9, csv) | bt(s, 10, at);
	rc = run(st, s, b, "update case");
	lists_json_free(&j);
	return rc;
}

/* {"tickets":[..],"models":[..],"serials":[..],"missing":[..]}: what was added. */
static int
followup_detail(strbuf *sb, const struct merge *m, unsigned missing)
{
	static const char *const names[3] = { "tickets", "models", "serials" };
	int r = sb_putc(sb, '{');

	for (size_t l = 0; l < 3; l++) {
		r |= sb_printf(sb, "\"%s\":", names[l]);
		r |= json_list(sb, &m->added[l]);
		r |= sb_putc(sb, ',');
	}
	r |= sb_puts(sb, "\"missing\":");
	r |= json_missing(sb, missing);
	return r | sb_putc(sb, '}');
}

static int
followup_events(struct store *st, const char *case_id, const struct intake *in,
    const struct merge *m, const struct followup_result *out, const char *at)
{
	strbuf sb;
	int rc;

	sb_init(&sb);
	if (followup_detail(&sb, m, out->missing) < 0)
		sb_free(&sb);
	rc = intake_event(st, case_id, in, at, "follow-up", &sb);
	if (rc == 0 && out->completed) {
		sb_reset(&sb);
		if (sb_printf(&sb, "{\"status\":\"%s\"}", m->status) < 0)
			sb_free(&sb);
		rc = intake_event(st, case_id, in, at, "completed", &sb);
	}
	sb_free(&sb);
	return rc;
}

/* The case is loaded into m and the message is new: merge, record, log. */
static int
apply_followup(struct store *st, const char *case_id, const struct intake *in,
    struct merge *m, struct followup_result *out)
{
	char at[32];

	iso_utc(intake_now(in), at, sizeof(at));
	if (merge_fields(st, m, in->c) < 0)
		return -1;
	/* A complete case stays complete, whatever a follow-up lacks. */
	out->missing = m->missing ? case_missing(&m->kind, in->c->explicit_kind, m) : 0;
	out->completed = m->missing != 0 && out->missing == 0;
	if (out->completed && strcmp(m->status, "incomplete") == 0)
		snprintf(m->status, sizeof(m->status), "new");
	if (update_case(st, case_id, m, m->status, out->missing, at) < 0 ||
	    insert_message(st, case_id, in, at, "follow-up") < 0 ||
	    followup_events(st, case_id, in, m, out, at) < 0)
		return -1;
	return 1;
}

static int
do_followup(struct store *st, const char *case_id, const struct intake *in,
    struct followup_result *out)
{
	struct merge m;
	int rc;

	memset(out, 0, sizeof(*out));
	if (check_intake(st, in, false) < 0)
		return -1;
	if (case_id == NULL)
		return set_err(st, "follow-up without a case ID");
	merge_init(&m);
	if ((rc = load_merge(st, case_id, &m)) == 1) {
		int seen = msg_seen(st, case_id, in);

		if (seen < 0)
			rc = -1;
		else if (seen) {
			out->existed = true;	/* a retried delivery */
			out->missing = m.missing;
		} else
			rc = apply_followup(st, case_id, in, &m, out);
	}
	merge_free(&m);
	return rc;
}

static int
do_event(struct store *st, const char *case_id, const char *type, const char *detail,
    const char *message_id, const char *envelope_from, const char *queue_id)
{
	char at[32];

	if (type == NULL || *type == '\0')
		return set_err(st, "event without a type");
	iso_utc(time(NULL), at, sizeof(at));
	return insert_event(st, case_id, at, type, detail, message_id, envelope_from, queue_id);
}

/* ---- the lifecycle of a case: status, deadlines, escalation, staff replies ---- */

/* Columns of S_LIFE_LOAD. */
enum { LC_STATUS, LC_RECEIVED, LC_ACKED, LC_ACK_BY, LC_UPDATE_BY, LC_RESOLVE_BY, LC_N };

/* What the lifecycle ops read of a case. */
struct life {
	char v[LC_N][40];
	bool set[LC_N];		/* the column is not NULL */
	int status;		/* enum case_status, -1 unknown */
};

/* Load the case: 1, 0 (no such case) or -1. */
static int
load_life(struct store *st, const char *case_id, struct life *lf)
{
	sqlite3_stmt *s = stmt(st, S_LIFE_LOAD);
	int rc;

	memset(lf, 0, sizeof(*lf));
	if (case_id == NULL || *case_id == '\0')
		return set_err(st, "no case ID");
	if (s == NULL)
		return -1;
	if (bt(s, 1, case_id) != SQLITE_OK)
		return run(st, s, SQLITE_ERROR, "load case");
	if ((rc = step(st, s, "load case")) < 0)
		return -1;
	if (rc == SQLITE_ROW)
		for (int i = 0; i < LC_N; i++) {
			lf->set[i] = sqlite3_column_type(s, i) != SQLITE_NULL;
			snprintf(lf->v[i], sizeof(lf->v[i]), "%s", col_str(s, i));
		}
	done(s);
	lf->status = case_status_parse(lf->v[LC_STATUS]);
	return rc == SQLITE_ROW;
}

static const char *
life_col(const struct life *lf, int i)
{
	return lf->set[i] ? lf->v[i] : NULL;
}

static void
life_dates(const struct life *lf, struct case_dates *d)
{
	d->status = lf->v[LC_STATUS];
	d->received_at = life_col(lf, LC_RECEIVED);
	d->acknowledged_at = life_col(lf, LC_ACKED);
	d->ack_by = life_col(lf, LC_ACK_BY);
	d->update_by = life_col(lf, LC_UPDATE_BY);
	d->resolve_by = life_col(lf, LC_RESOLVE_BY);
}

static const char *
status_str(int s)
{
	const char *name = case_status_name((enum case_status)s);

	return name ? name : "";
}

static void
life_status(struct life_result *out, int from, int to)
{
	snprintf(out->from, sizeof(out->from), "%s", status_str(from));
	snprintf(out->to, sizeof(out->to), "%s", status_str(to));
	out->changed = from != to;
}

/* Bind case_id as ?1, then a and b (either may be NULL) as ?2, ?3; run. */
static int
run_case_stmt(struct store *st, enum stmt_id id, const char *case_id, const char *a,
    const char *b, const char *what)
{
	sqlite3_stmt *s = stmt(st, id);

	if (s == NULL)
		return -1;
	return run(st, s, bt(s, 1, case_id) | bt(s, 2, a) | (b ? bt(s, 3, b) : SQLITE_OK), what);
}

/* update_by = (local date of now) + 14 working days; acknowledged_at = at when not set. */
static int
move_update_by(struct store *st, const char *case_id, const struct calendar *cal,
    time_t now, const char *ack_at, struct life_result *out)
{
	struct ymd d;

	if (cal == NULL)
		return set_err(st, "no working-day calendar to count the update date with");
	d = calendar_add_working_days(cal, ymd_local(now), POLICY_UPDATE_DAYS);
	ymd_format(d, out->update_by, sizeof(out->update_by));
	if (run_case_stmt(st, S_LIFE_UPDATE_BY, case_id, out->update_by, NULL,
	    "set update date") < 0)
		return -1;
	return ack_at ? run_case_stmt(st, S_LIFE_ACKED, case_id, ack_at, NULL,
	    "set acknowledged") : 0;
}

/* "key":"value" into an object being built in sb (value NULL: nothing). */
static int
detail_str(strbuf *sb, const char *key, const char *value)
{
	if (value == NULL)
		return 0;
	if ((sb->len > 1 && sb_putc(sb, ',') < 0) || json_string(sb, key) < 0 ||
	    sb_putc(sb, ':') < 0)
		return -1;
	return json_string(sb, value);
}

/* {"from":..,"to":.. and update_by when it moved (the object is left open). */
static int
detail_open(strbuf *sb, const struct life_result *out)
{
	return sb_putc(sb, '{') | detail_str(sb, "from", out->from) |
	    detail_str(sb, "to", out->to) |
	    detail_str(sb, "update_by", *out->update_by ? out->update_by : NULL);
}

/* Close the object in sb and append the event; in may be NULL. */
static int
life_event(struct store *st, const char *case_id, const char *type, const char *at,
    strbuf *sb, int built, const struct intake *in)
{
	int rc;

	if (built < 0 || sb_putc(sb, '}') < 0)
		rc = set_err(st, "out of memory");
	else if (in != NULL)
		rc = intake_event(st, case_id, in, at, type, sb);
	else
		rc = insert_event(st, case_id, at, type, sb->s, NULL, NULL, NULL);
	sb_free(sb);
	return rc;
}

static int
do_set_status(struct store *st, struct store_op *op)
{
	struct life_result *out = &op->lres;
	time_t now = op->now ? op->now : time(NULL);
	char at[32], why[160];
	struct life lf;
	strbuf sb;
	int to, r;

	if ((to = case_status_parse(op->status)) < 0)
		return set_err(st, "\"%s\" is not a status", op->status ? op->status : "");
	if ((r = load_life(st, op->case_id, &lf)) <= 0)
		return r;
	if (lf.status < 0)
		return set_err(st, "%s: unknown status \"%s\"", op->case_id, lf.v[LC_STATUS]);
	life_status(out, lf.status, lf.status);
	if (!case_transition_ok((enum case_status)lf.status, (enum case_status)to)) {
		set_err(st, "%s: cannot change from %s to %s: %s", op->case_id, out->from,
		    status_str(to), case_transition_refusal(
		    (enum case_status)lf.status, (enum case_status)to, why, sizeof(why)));
		return STORE_REFUSED;
	}
	life_status(out, lf.status, to);
	iso_utc(now, at, sizeof(at));
	if ((to == CS_ACKNOWLEDGED || to == CS_UPDATED) && move_update_by(st, op->case_id,
	    op->cal, now, lf.set[LC_ACKED] ? NULL : at, out) < 0)
		return -1;
	if (run_case_stmt(st, S_LIFE_STATUS, op->case_id, out->to, at, "set status") < 0)
		return -1;
	sb_init(&sb);
	r = detail_open(&sb, out) | detail_str(&sb, "note", null_if_empty(op->text)) |
	    detail_str(&sb, "by", null_if_empty(op->actor));
	return life_event(st, op->case_id, "status", at, &sb, r, NULL) < 0 ? -1 : 1;
}

/* resolve_by before an extension: stored, else worked out ("" unknown). */
static void
old_resolve_by(const struct life *lf, const struct calendar *cal, time_t now, char *buf,
    size_t n)
{
	struct deadline dl[DL_COUNT];
	struct case_dates d;
	struct ymd y;

	buf[0] = '\0';
	if (ymd_of_iso(life_col(lf, LC_RESOLVE_BY), &y) == 0)
		ymd_format(y, buf, n);
	else if (cal != NULL) {
		life_dates(lf, &d);
		case_deadlines(cal, &d, ymd_local(now), dl);
		if (dl[DL_RESOLVE].known)
			ymd_format(dl[DL_RESOLVE].due, buf, n);
	}
}

static int
do_extend(struct store *st, struct store_op *op)
{
	struct life_result *out = &op->lres;
	time_t now = op->now ? op->now : time(NULL);
	struct life lf;
	struct ymd d;
	char at[32];
	strbuf sb;
	int r;

	if (op->date == NULL || ymd_parse(op->date, &d) < 0)
		return set_err(st, "\"%s\" is not a date (YYYY-MM-DD)", op->date ? op->date : "");
	if (op->text == NULL || *op->text == '\0')
		return set_err(st, "a new resolution date needs a reason");
	if ((r = load_life(st, op->case_id, &lf)) <= 0)
		return r;
	life_status(out, lf.status, lf.status);
	if (lf.status < 0 || !case_status_open((enum case_status)lf.status)) {
		set_err(st, "%s: the case is %s: no resolution date to move", op->case_id,
		    lf.v[LC_STATUS]);
		return STORE_REFUSED;
	}
	old_resolve_by(&lf, op->cal, now, out->old_date, sizeof(out->old_date));
	ymd_format(d, out->new_date, sizeof(out->new_date));
	iso_utc(now, at, sizeof(at));
	if (run_case_stmt(st, S_LIFE_RESOLVE_BY, op->case_id, out->new_date, at,
	    "set resolution date") < 0)
		return -1;
	sb_init(&sb);
	r = sb_putc(&sb, '{') | detail_str(&sb, "old", null_if_empty(out->old_date)) |
	    detail_str(&sb, "new", out->new_date) | detail_str(&sb, "reason", op->text) |
	    detail_str(&sb, "by", null_if_empty(op->actor));
	return life_event(st, op->case_id, "extended", at, &sb, r, NULL) < 0 ? -1 : 1;
}

/* An event of type by the message of in on case_id already?  1, 0 or -1. */
static int
event_seen(struct store *st, const char *case_id, const char *type, const struct intake *in)
{
	sqlite3_stmt *s;
	int rc;

	if (in == NULL || in->c == NULL || in->c->message_id == NULL || !*in->c->message_id)
		return 0;
	if ((s = stmt(st, S_EVENT_SEEN)) == NULL)
		return -1;
	if ((bt(s, 1, case_id) | bt(s, 2, type) | bt(s, 3, in->c->message_id)) != SQLITE_OK)
		return run(st, s, SQLITE_ERROR, "find event");
	if ((rc = step(st, s, "find event")) < 0)
		return -1;
	done(s);
	return rc == SQLITE_ROW;
}

static int
do_escalate(struct store *st, struct store_op *op)
{
	struct life_result *out = &op->lres;
	const strlist none = { NULL, 0, 0 };
	char at[32];
	struct life lf;
	strbuf sb;
	int r, to;

	if (op->in != NULL && op->in->c == NULL)
		return set_err(st, "intake without a complaint");
	if ((r = load_life(st, op->case_id, &lf)) <= 0)
		return r;
	life_status(out, lf.status, lf.status);
	if ((r = event_seen(st, op->case_id, "escalated", op->in)) != 0) {
		out->existed = r > 0;
		return r < 0 ? -1 : 1;
	}
	to = lf.status >= 0 && case_transition_ok((enum case_status)lf.status, CS_ESCALATED) ?
	    CS_ESCALATED : lf.status;
	iso_utc(op->in ? intake_now(op->in) : time(NULL), at, sizeof(at));
	if (to != lf.status) {
		life_status(out, lf.status, to);
		if (run_case_stmt(st, S_LIFE_STATUS, op->case_id, out->to, at, "set status") < 0)
			return -1;
	}
	sb_init(&sb);
	r = detail_open(&sb, out) | sb_puts(&sb, ",\"words\":") |
	    json_list(&sb, op->words ? op->words : &none);
	return life_event(st, op->case_id, "escalated", at, &sb, r, op->in) < 0 ? -1 : 1;
}

static int
insert_staff_message(struct store *st, const char *case_id, const struct intake *in,
    const char *at)
{
	sqlite3_stmt *s = stmt(st, S_INSERT_STAFF_MSG);
	int b;

	if (s == NULL)
		return -1;
	b = bt(s, 1, case_id) | bt(s, 2, at) | bt(s, 3, null_if_empty(in->c->message_id)) |
	    bt(s, 4, in->dedup_key) | bt(s, 5, or_empty(in->envelope_from)) |
	    bt(s, 6, in->c->subject) | bt(s, 7, in->queue_id);
	return run(st, s, b, "insert staff message");
}

/* A staff reply's dates: update_by while the case is open, acknowledged_at. */
static int
staff_dates(struct store *st, struct store_op *op, int to, bool first, const char *at)
{
	if (to >= 0 && case_status_open((enum case_status)to))
		return move_update_by(st, op->case_id, op->cal, intake_now(op->in),
		    first ? at : NULL, &op->lres);
	return first ? run_case_stmt(st, S_LIFE_ACKED, op->case_id, at, NULL,
	    "set acknowledged") : 0;
}

static int
do_staff_reply(struct store *st, struct store_op *op)
{
	struct life_result *out = &op->lres;
	const struct intake *in = op->in;
	bool first;
	char at[32];
	struct life lf;
	strbuf sb;
	int r, to;

	if (check_intake(st, in, false) < 0)
		return -1;
	if ((r = load_life(st, op->case_id, &lf)) <= 0)
		return r;
	life_status(out, lf.status, lf.status);
	if ((r = msg_seen(st, op->case_id, in)) != 0) {
		out->existed = r > 0;
		return r < 0 ? -1 : 1;
	}
	first = !lf.set[LC_ACKED];
	to = lf.status;
	if (first && (to == CS_NEW || to == CS_INCOMPLETE))
		to = CS_ACKNOWLEDGED;
	else if (!first && (to == CS_ACKNOWLEDGED || to == CS_IN_PROGRESS || to == CS_UPDATED))
		to = CS_UPDATED;
	life_status(out, lf.status, to);
	iso_utc(intake_now(in), at, sizeof(at));
	if (staff_dates(st, op, to, first, at) < 0 ||
	    run_case_stmt(st, S_LIFE_STATUS, op->case_id, out->to, at, "set status") < 0 ||
	    insert_staff_message(st, op->case_id, in, at) < 0)
		return -1;
	sb_init(&sb);
	r = detail_open(&sb, out);
	return life_event(st, op->case_id, first ? "acknowledged" : "updated", at, &sb, r,
	    in) < 0 ? -1 : 1;
}


/* ---- ops: one dispatcher for the direct API and the writer ---- */

void
store_op_new_case(struct store_op *op, const struct intake *in)
{
	memset(op, 0, sizeof(*op));
	op->kind = STORE_OP_NEW_CASE;
	op->in = in;
}

void
store_op_followup(struct store_op *op, const char *case_id, const struct intake *in)
{
	memset(op, 0, sizeof(*op));
	op->kind = STORE_OP_FOLLOWUP;
	op->case_id = case_id;
	op->in = in;
}

void
store_op_event(struct store_op *op, const char *case_id, const char *type,
    const char *detail_json, const char *message_id, const char *envelope_from,
    const char *queue_id)
{
	memset(op, 0, sizeof(*op));
	op->kind = STORE_OP_EVENT;
	op->case_id = case_id;
	op->ev_type = type;
	op->ev_detail = detail_json;
	op->ev_message_id = message_id;
	op->ev_envelope_from = envelope_from;
	op->ev_queue_id = queue_id;
}

void
store_op_set_status(struct store_op *op, const char *case_id, const char *status,
    const char *note, const char *actor, const struct calendar *cal, time_t now)
{
	memset(op, 0, sizeof(*op));
	op->kind = STORE_OP_SET_STATUS;
	op->case_id = case_id;
	op->status = status;
	op->text = note;
	op->actor = actor;
	op->cal = cal;
	op->now = now;
}

void
store_op_extend(struct store_op *op, const char *case_id, const char *date,
    const char *reason, const char *actor, const struct calendar *cal, time_t now)
{
	memset(op, 0, sizeof(*op));
	op->kind = STORE_OP_EXTEND;
	op->case_id = case_id;
	op->date = date;
	op->text = reason;
	op->actor = actor;
	op->cal = cal;
	op->now = now;
}

void
store_op_escalate(struct store_op *op, const char *case_id, const strlist *words,
    const struct intake *in)
{
	memset(op, 0, sizeof(*op));
	op->kind = STORE_OP_ESCALATE;
	op->case_id = case_id;
	op->words = words;
	op->in = in;
}

void
store_op_staff_reply(struct store_op *op, const char *case_id, const struct intake *in,
    const struct calendar *cal)
{
	memset(op, 0, sizeof(*op));
	op->kind = STORE_OP_STAFF_REPLY;
	op->case_id = case_id;
	op->in = in;
	op->cal = cal;
}

/* Run op inside the current transaction; sets op->rc (and errmsg). */
static int
run_op(struct store *st, struct store_op *op)
{
	op->errmsg[0] = '\0';
	switch (op->kind) {
	case STORE_OP_NEW_CASE:
		op->rc = do_new_case(st, op->in, &op->cres);
		break;
	case STORE_OP_FOLLOWUP:
		op->rc = do_followup(st, op->case_id, op->in, &op->fres);
		break;
	case STORE_OP_EVENT:
		op->rc = do_event(st, op->case_id, op->ev_type, op->ev_detail,
		    op->ev_message_id, op->ev_envelope_from, op->ev_queue_id);
		break;
	case STORE_OP_SET_STATUS:
		op->rc = do_set_status(st, op);
		break;
	case STORE_OP_EXTEND:
		op->rc = do_extend(st, op);
		break;
	case STORE_OP_ESCALATE:
		op->rc = do_escalate(st, op);
		break;
	case STORE_OP_STAFF_REPLY:
		op->rc = do_staff_reply(st, op);
		break;
	default:
		op->rc = set_err(st, "unknown store op %d", (int)op->kind);
	}
	if (op->rc == STORE_REFUSED)	/* nothing written: why, for the caller */
		snprintf(op->errmsg, sizeof(op->errmsg), "%.*s", (int)sizeof(op->errmsg) - 1,
		    st->errmsg);
	return op->rc;
}

static void
op_failed(struct store_op *op, const char *msg)
{
	size_t n = strlen(msg);

	op->rc = -1;
	memset(&op->cres, 0, sizeof(op->cres));
	memset(&op->fres, 0, sizeof(op->fres));
	memset(&op->lres, 0, sizeof(op->lres));
	if (n >= sizeof(op->errmsg))
		n = sizeof(op->errmsg) - 1;	/* truncated */
	memcpy(op->errmsg, msg, n);
	op->errmsg[n] = '\0';
}

/* op in its own transaction; returns op->rc. */
static int
run_alone(struct store *st, struct store_op *op)
{
	if (exec_id(st, S_BEGIN) < 0 || run_op(st, op) < 0 || exec_id(st, S_COMMIT) < 0) {
		rollback(st);
		op_failed(op, st->errmsg);
	}
	return op->rc;
}

int
store_new_case(struct store *st, const struct intake *in, struct case_result *out)
{
	struct store_op op;

	store_op_new_case(&op, in);
	run_alone(st, &op);
	*out = op.cres;
	return op.rc;
}

int
store_add_followup(struct store *st, const char *case_id, const struct intake *in,
    struct followup_result *out)
{
	struct store_op op;

	store_op_followup(&op, case_id, in);
	run_alone(st, &op);
	*out = op.fres;
	return op.rc;
}

int
store_event(struct store *st, const char *case_id, const char *type,
    const char *detail_json, const char *message_id, const char *envelope_from,
    const char *queue_id)
{
	struct store_op op;

	store_op_event(&op, case_id, type, detail_json, message_id, envelope_from, queue_id);
	return run_alone(st, &op);
}

int
store_set_status(struct store *st, const char *case_id, const char *status,
    const char *note, const char *actor, const struct calendar *cal, time_t now,
    struct life_result *out)
{
	struct store_op op;

	store_op_set_status(&op, case_id, status, note, actor, cal, now);
	run_alone(st, &op);
	*out = op.lres;
	return op.rc;
}

int
store_extend(struct store *st, const char *case_id, const char *date, const char *reason,
    const char *actor, const struct calendar *cal, time_t now, struct life_result *out)
{
	struct store_op op;

	store_op_extend(&op, case_id, date, reason, actor, cal, now);
	run_alone(st, &op);
	*out = op.lres;
	return op.rc;
}

int
store_escalate(struct store *st, const char *case_id, const strlist *words,
    const struct intake *in, struct life_result *out)
{
	struct store_op op;

	store_op_escalate(&op, case_id, words, in);
	run_alone(st, &op);
	*out = op.lres;
	return op.rc;
}

int
store_staff_reply(struct store *st, const char *case_id, const struct intake *in,
    const struct calendar *cal, struct life_result *out)
{
	struct store_op op;

	store_op_staff_reply(&op, case_id, in, cal);
	run_alone(st, &op);
	*out = op.lres;
	return op.rc;
}

/* ---- reading a case ---- */

static void
case_row_init(struct case_row *row)
{
	memset(row, 0, sizeof(*row));
	sl_init(&row->tickets);
	sl_init(&row->models);
	sl_init(&row->serials);
}

/* Text columns of S_FIND_CASE and where they go. */
static const struct {
	int col;
	size_t off;
} TEXT_COLS[] = {
	{ 1, offsetof(struct case_row, case_id) },
	{ 4, offsetof(struct case_row, node) },
	{ 5, offsetof(struct case_row, status) },
	{ 6, offsetof(struct case_row, kind) },
	{ 7, offsetof(struct case_row, language) },
	{ 8, offsetof(struct case_row, envelope_from) },
	{ 9, offsetof(struct case_row, from_addr) },
	{ 10, offsetof(struct case_row, from_name) },
	{ 11, offsetof(struct case_row, subject) },
	{ 12, offsetof(struct case_row, message_id) },
	{ 13, offsetof(struct case_row, dedup_key) },
	{ 14, offsetof(struct case_row, queue_id) },
	{ 15, offsetof(struct case_row, recipients) },
	{ 19, offsetof(struct case_row, missing) },
	{ 22, offsetof(struct case_row, received_at) },
	{ 23, offsetof(struct case_row, updated_at) },
	{ 24, offsetof(struct case_row, resolve_by) },
};

#define NTEXT_COLS (sizeof(TEXT_COLS) / sizeof(TEXT_COLS[0]))

static char **
text_col(struct case_row *row, size_t i)
{
	return (char **)(void *)((char *)row + TEXT_COLS[i].off);
}

static int
read_case_row(struct store *st, sqlite3_stmt *s, struct case_row *row)
{
	row->id = sqlite3_column_int64(s, 0);
	row->year = sqlite3_column_int(s, 2);
	row->seq = (unsigned long long)sqlite3_column_int64(s, 3);
	row->description = sqlite3_column_int(s, 20) != 0;
	row->solution_idea = sqlite3_column_int(s, 21) != 0;
	for (size_t i = 0; i < NTEXT_COLS; i++) {
		const char *v = (const char *)sqlite3_column_text(s, TEXT_COLS[i].col);

		if (v == NULL && sqlite3_column_type(s, TEXT_COLS[i].col) != SQLITE_NULL)
			return set_err(st, "out of memory");
		if (v != NULL && (*text_col(row, i) = strdup(v)) == NULL)
			return set_err(st, "out of memory");
	}
	if (load_list(st, (const char *)sqlite3_column_text(s, 16), &row->tickets) < 0 ||
	    load_list(st, (const char *)sqlite3_column_text(s, 17), &row->models) < 0 ||
	    load_list(st, (const char *)sqlite3_column_text(s, 18), &row->serials) < 0)
		return -1;
	return 0;
}

int
store_find_case(struct store *st, const char *case_id, struct case_row *out)
{
	sqlite3_stmt *s = stmt(st, S_FIND_CASE);
	int rc;

	case_row_init(out);
	if (s == NULL)
		return -1;
	if (case_id == NULL || bt(s, 1, case_id) != SQLITE_OK)
		return run(st, s, SQLITE_ERROR, "find case");
	if ((rc = step(st, s, "find case")) < 0)
		return -1;
	if (rc == SQLITE_ROW && read_case_row(st, s, out) < 0)
		rc = -1;
	done(s);
	if (rc < 0)
		case_row_free(out);
	return rc < 0 ? -1 : rc == SQLITE_ROW;
}

void
case_row_free(struct case_row *row)
{
	for (size_t i = 0; i < NTEXT_COLS; i++)
		free(*text_col(row, i));
	sl_free(&row->tickets);
	sl_free(&row->models);
	sl_free(&row->serials);
	case_row_init(row);
}

/* ---- opening and closing ---- */

static int
open_fail(sqlite3 *db, const char *path, const char *what, char *err, size_t errlen)
{
	int e = db ? sqlite3_system_errno(db) : 0;

	snprintf(err, errlen, "%s: %s: %s%s%s", path, what,
	    db ? sqlite3_errmsg(db) : "out of memory", e ? ": " : "", e ? strerror(e) : "");
	sqlite3_close(db);
	return -1;
}

/* WAL, full sync, foreign keys; "PRAGMA journal_mode" answers the mode. */
static int
set_pragmas(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int ok;

	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK)
		return open_fail(db, path, "journal_mode", err, errlen);
	ok = sqlite3_step(s) == SQLITE_ROW &&
	    strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0;
	sqlite3_finalize(s);
	if (!ok)
		return open_fail(db, path, "cannot switch to WAL", err, errlen);
	if (sqlite3_exec(db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON",
	    NULL, NULL, NULL) != SQLITE_OK)
		return open_fail(db, path, "pragma", err, errlen);
	return 0;
}

struct store *
store_open(const char *path, unsigned busy_timeout_ms, char *err, size_t errlen)
{
	struct store *st;
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	    NULL) != SQLITE_OK) {
		open_fail(db, path, "cannot open", err, errlen);
		return NULL;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, busy_timeout_ms > INT_MAX ? INT_MAX : (int)busy_timeout_ms);
	if (set_pragmas(db, path, err, errlen) < 0)
		return NULL;
	if (store_schema_migrate(db, path, err, errlen) < 0) {
		sqlite3_close(db);
		return NULL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		open_fail(db, path, "store", err, errlen);
		return NULL;
	}
	st->db = db;
	return st;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

/* ---- the group-commit writer ---- */

/* One submitting thread waits for its ops on its own condition variable. */
struct waiter {
	pthread_cond_t cv;
	size_t left;
};

struct pending {
	struct store_op *op;
	struct waiter *w;
	struct pending *next;
};

struct store_writer {
	struct store *st;		/* NULL after a failed reopen */
	/*
	 * The database file the connection has open.  Before each batch the
	 * writer looks at the path again: removed (rm, mv) means the batch
	 * fails (4xx) until the file is back, never a fresh database with case
	 * numbers starting again at 1 (IDs already in mail would be reused);
	 * another file there (restored from a backup) is opened.
	 */
	char *path;
	unsigned busy_ms;
	bool watch;			/* path is a file we can stat */
	dev_t dev;
	ino_t ino;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t work;		/* pending ops or stopping */
	struct pending *head, **tail;
	bool stopping;
	struct store_writer_stats stats;
};

/* Run op in a savepoint of the batch.  -1: the batch transaction is lost. */
static int
run_in_savepoint(struct store *st, struct store_op *op)
{
	if (exec_id(st, S_SAVEPOINT) < 0) {
		op_failed(op, st->errmsg);
		return -1;
	}
	if (run_op(st, op) >= 0)
		return exec_id(st, S_RELEASE);
	op_failed(op, st->errmsg);
	if (sqlite3_get_autocommit(st->db))
		return -1;	/* the error rolled back the whole transaction */
	return exec(st, "ROLLBACK TO op") < 0 || exec_id(st, S_RELEASE) < 0 ? -1 : 0;
}

static void
fail_all(struct pending *batch, const char *msg)
{
	for (struct pending *p = batch; p; p = p->next)
		op_failed(p->op, msg);
}

/* Counters of one batch, added to the writer's under its mutex. */
struct batch_count {
	size_t n;
	unsigned long long commits, fallback;
};

/* One transaction for the batch; op by op when that fails as a whole. */
static void
run_batch(struct store *st, struct pending *batch, struct batch_count *bc)
{
	struct pending *p;

	if (exec_id(st, S_BEGIN) < 0) {
		fail_all(batch, st->errmsg);	/* busy: each alone would wait again */
		return;
	}
	for (p = batch; p; p = p->next)
		if (run_in_savepoint(st, p->op) < 0)
			break;
	if (p == NULL && exec_id(st, S_COMMIT) == 0) {
		bc->commits++;
		return;
	}
	rollback(st);
	bc->fallback = 1;
	for (p = batch; p; p = p->next)
		if (run_alone(st, p->op) >= 0)
			bc->commits++;
}

/* With w->mu held: count the batch and wake whoever waits for it. */
static void
finish_batch(struct store_writer *w, struct pending *batch, const struct batch_count *bc)
{
	struct pending *p, *next;

	w->stats.batches++;
	w->stats.commits += bc->commits;
	w->stats.fallbacks += bc->fallback;
	if (bc->n > w->stats.max_batch)
		w->stats.max_batch = bc->n;
	for (p = batch; p; p = next) {
		next = p->next;
		w->stats.ops++;
		w->stats.failed += p->op->rc < 0;
		if (--p->w->left == 0)
			pthread_cond_signal(&p->w->cv);
	}
}

/*
 * Before a batch: is the database still the file we have open?  0 yes (or
 * reopened), -1 with msg when the batch must fail.
 */
static int
writer_check(struct store_writer *w, char *msg, size_t msglen)
{
	struct stat sb;
	char err[512];

	if (!w->watch)
		return 0;
	if (stat(w->path, &sb) < 0) {
		snprintf(msg, msglen, "database %s: %s (removed while the milter runs? put it "
		    "back, or restart the milter to start a new one)", w->path, strerror(errno));
		return -1;
	}
	if (w->st != NULL && sb.st_dev == w->dev && sb.st_ino == w->ino)
		return 0;
	/* another file at the path (restored from a backup), or not open: open it */
	store_close(w->st);
	if ((w->st = store_open(w->path, w->busy_ms, err, sizeof(err))) == NULL) {
		snprintf(msg, msglen, "%.*s", (int)(msglen > 0 ? msglen - 1 : 0), err);
		return -1;
	}
	w->dev = sb.st_dev;
	w->ino = sb.st_ino;
	return 0;
}

static void *
writer_main(void *arg)
{
	struct store_writer *w = arg;
	struct pending *batch;
	struct batch_count bc;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->head == NULL && !w->stopping)
			pthread_cond_wait(&w->work, &w->mu);
		if (w->head == NULL)
			break;		/* stopping, and everything is done */
		batch = w->head;
		w->head = NULL;
		w->tail = &w->head;
		pthread_mutex_unlock(&w->mu);

		memset(&bc, 0, sizeof(bc));
		for (struct pending *p = batch; p; p = p->next)
			bc.n++;
		{
			char msg[sizeof(batch->op->errmsg)];

			if (writer_check(w, msg, sizeof(msg)) < 0)
				fail_all(batch, msg);
			else
				run_batch(w->st, batch, &bc);
		}
		pthread_mutex_lock(&w->mu);
		finish_batch(w, batch, &bc);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct store_writer *
store_writer_start(const char *path, unsigned busy_timeout_ms, char *err, size_t errlen)
{
	struct store_writer *w;
	int e;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		snprintf(err, errlen, "store writer: out of memory");
		return NULL;
	}
	if ((w->st = store_open(path, busy_timeout_ms, err, errlen)) == NULL) {
		free(w);
		return NULL;
	}
	{
		struct stat sb;

		w->busy_ms = busy_timeout_ms;
		w->watch = strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0 &&
		    stat(path, &sb) == 0;
		if (w->watch) {
			w->dev = sb.st_dev;
			w->ino = sb.st_ino;
		}
		if ((w->path = strdup(path)) == NULL) {
			snprintf(err, errlen, "store writer: out of memory");
			store_close(w->st);
			free(w);
			return NULL;
		}
	}
	w->tail = &w->head;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->work, NULL);
	if ((e = pthread_create(&w->thread, NULL, writer_main, w)) != 0) {
		snprintf(err, errlen, "store writer: pthread_create: %s", strerror(e));
		pthread_cond_destroy(&w->work);
		pthread_mutex_destroy(&w->mu);
		store_close(w->st);
		free(w->path);
		free(w);
		return NULL;
	}
	return w;
}

/* Queue ps[0..n) (each with its op) and wait until the writer is through. */
static void
queue_and_wait(struct store_writer *w, struct pending *ps, size_t n)
{
	struct waiter wt = { .left = n };

	pthread_cond_init(&wt.cv, NULL);
	pthread_mutex_lock(&w->mu);
	if (w->stopping) {
		pthread_mutex_unlock(&w->mu);
		pthread_cond_destroy(&wt.cv);
		for (size_t i = 0; i < n; i++)
			op_failed(ps[i].op, "store writer stopped");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		ps[i].w = &wt;
		ps[i].next = NULL;
		*w->tail = &ps[i];
		w->tail = &ps[i].next;
	}
	pthread_cond_signal(&w->work);
	while (wt.left > 0)
		pthread_cond_wait(&wt.cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	pthread_cond_destroy(&wt.cv);
}

int
store_writer_submit(struct store_writer *w, struct store_op *op)
{
	struct pending p = { .op = op };

	queue_and_wait(w, &p, 1);
	return op->rc;
}

int
store_writer_submitv(struct store_writer *w, struct store_op **ops, size_t n)
{
	struct pending *ps;
	int rc = 0;

	if (n == 0)
		return 0;
	if ((ps = calloc(n, sizeof(*ps))) == NULL) {
		for (size_t i = 0; i < n; i++)
			op_failed(ops[i], "store writer: out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		ps[i].op = ops[i];
	queue_and_wait(w, ps, n);
	for (size_t i = 0; i < n; i++)
		if (ops[i]->rc < 0)
			rc = -1;
	free(ps);
	return rc;
}

void
store_writer_stats(struct store_writer *w, struct store_writer_stats *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->stats;
	pthread_mutex_unlock(&w->mu);
}

void
store_writer_stop(struct store_writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->mu);
	store_close(w->st);
	free(w->path);
	free(w);
}
