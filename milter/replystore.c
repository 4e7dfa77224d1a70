/*
 * replystore.c - complaint-reply's queries on the case store (see
 * replystore.h and doc/schema.md, migration 2).
 *
 * Statements are prepared per call: the worker runs a handful a second at
 * most.  Writes are short BEGIN IMMEDIATE transactions; any error rolls
 * back and leaves its message for replystore_errmsg().
 */
#include "replystore.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static __thread char errbuf[512];

const char *
replystore_errmsg(void)
{
	return errbuf;
}

static int
fail(sqlite3 *db, const char *what)
{
	snprintf(errbuf, sizeof(errbuf), "%s: %s", what, sqlite3_errmsg(db));
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static void
iso_utc(time_t t, char *buf, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * Prepare sql and bind the arguments: fmt has one letter per parameter,
 * 't' text (NULL binds NULL), 'i' long long.
 */
static sqlite3_stmt *
prep(sqlite3 *db, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *s;
	va_list ap;
	int rc = SQLITE_OK, i = 1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		fail(db, "prepare");
		return NULL;
	}
	va_start(ap, fmt);
	for (const char *f = fmt; *f && rc == SQLITE_OK; f++, i++) {
		if (*f == 't') {
			const char *v = va_arg(ap, const char *);

			rc = v ? sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) :
			    sqlite3_bind_null(s, i);
		} else
			rc = sqlite3_bind_int64(s, i, va_arg(ap, long long));
	}
	va_end(ap);
	if (rc != SQLITE_OK) {
		fail(db, "bind");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

/* Run a statement without results.  0 or -1. */
static int
exec_stmt(sqlite3 *db, sqlite3_stmt *s, const char *what)
{
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : fail(db, what);
}

static int
begin(sqlite3 *db)
{
	return sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? 0 :
	    fail(db, "begin");
}

static int
commit(sqlite3 *db)
{
	return sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(db, "commit");
}

static const char *
col(sqlite3_stmt *s, int i)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	return v ? v : "";
}

static enum reply_kind
kind_of(const char *k)
{
	return strcmp(k, "complete") == 0 ? REPLY_COMPLETE : REPLY_ACK;
}

/* ---- what needs a reply ---- */

int
replystore_marks(struct store *st, long long *cases_hi, long long *events_hi)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *s = prep(db, "SELECT (SELECT coalesce(max(id), 0) FROM cases),"
	    " (SELECT coalesce(max(id), 0) FROM events)", "");
	int rc;

	if (s == NULL)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*cases_hi = sqlite3_column_int64(s, 0);
		*events_hi = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : fail(db, "marks");
}

static int
next_todo(struct store *st, const char *sql, long long after, long long upto,
    enum reply_kind kind, struct reply_todo *out)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *s = prep(db, sql, "ii", after, upto);
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->src = sqlite3_column_int64(s, 0);
		snprintf(out->case_id, sizeof(out->case_id), "%s", col(s, 1));
		snprintf(out->at, sizeof(out->at), "%s", col(s, 2));
		out->kind = kind;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(db, "next reply");
	return rc == SQLITE_ROW;
}

int
replystore_next_ack(struct store *st, long long after, long long upto, struct reply_todo *out)
{
	return next_todo(st, "SELECT c.id, c.case_id, c.received_at FROM cases c"
	    " WHERE c.id > ?1 AND c.id <= ?2 AND NOT EXISTS (SELECT 1 FROM replies r"
	    "  WHERE r.case_id = c.case_id AND r.kind = 'ack')"
	    " ORDER BY c.id LIMIT 1", after, upto, REPLY_ACK, out);
}

int
replystore_next_complete(struct store *st, long long after, long long upto,
    struct reply_todo *out)
{
	return next_todo(st, "SELECT e.id, e.case_id, e.at FROM events e"
	    " WHERE e.id > ?1 AND e.id <= ?2 AND e.type = 'completed' AND e.case_id IS NOT NULL"
	    " AND NOT EXISTS (SELECT 1 FROM replies r"
	    "  WHERE r.case_id = e.case_id AND r.kind = 'complete')"
	    " ORDER BY e.id LIMIT 1", after, upto, REPLY_COMPLETE, out);
}

/* Does the query (two text parameters) give a row?  1 yes, 0 no, -1 (what failed). */
static int
row_exists(sqlite3 *db, const char *sql, const char *a, const char *b, const char *what)
{
	sqlite3_stmt *s = prep(db, sql, "tt", a, b);
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(db, what);
	return rc == SQLITE_ROW;
}

int
replystore_case_has_event(struct store *st, const char *case_id, const char *type)
{
	return row_exists(store_db(st),
	    "SELECT 1 FROM events WHERE case_id = ?1 AND type = ?2 LIMIT 1", case_id, type,
	    "find event");
}

int
replystore_completed_msgid(struct store *st, const char *case_id, char **out)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *s = prep(db, "SELECT message_id FROM events WHERE case_id = ?1"
	    " AND type = 'completed' AND message_id IS NOT NULL ORDER BY id LIMIT 1", "t", case_id);
	int rc;

	*out = NULL;
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && (*out = strdup(col(s, 0))) == NULL) {
		sqlite3_finalize(s);
		snprintf(errbuf, sizeof(errbuf), "out of memory");
		return -1;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(db, "completed event");
}

int
replystore_get_dates(struct store *st, const char *case_id, struct reply_dates *out)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *s = prep(db, "SELECT ack_by, update_by, resolve_by FROM cases"
	    " WHERE case_id = ?1", "t", case_id);
	int rc;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(out->ack_by, sizeof(out->ack_by), "%.10s", col(s, 0));
		snprintf(out->update_by, sizeof(out->update_by), "%.10s", col(s, 1));
		snprintf(out->resolve_by, sizeof(out->resolve_by), "%.10s", col(s, 2));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(db, "due dates");
	return rc == SQLITE_ROW;
}

/* ---- creating a reply ---- */

static const char *
empty_null(const char *s)
{
	return s && *s ? s : NULL;
}

static int
store_dates(sqlite3 *db, const char *case_id, const struct reply_dates *d)
{
	if (d == NULL)
		return 0;
	return exec_stmt(db, prep(db, "UPDATE cases SET ack_by = coalesce(ack_by, ?2),"
	    " update_by = coalesce(update_by, ?3), resolve_by = coalesce(resolve_by, ?4)"
	    " WHERE case_id = ?1", "tttt", case_id, empty_null(d->ack_by),
	    empty_null(d->update_by), empty_null(d->resolve_by)), "store due dates");
}

/* 1 when the case has a reply of this kind, 0 when not, -1. */
static int
reply_exists(sqlite3 *db, const char *case_id, enum reply_kind k)
{
	return row_exists(db, "SELECT 1 FROM replies WHERE case_id = ?1 AND kind = ?2", case_id,
	    reply_kind_name(k), "find reply");
}

/* Replies pending or sent to recipient created since `since`.  Count or -1. */
static long long
recent_replies(sqlite3 *db, const char *recipient, const char *since)
{
	sqlite3_stmt *s = prep(db, "SELECT count(*) FROM replies WHERE lower(recipient) = lower(?1)"
	    " AND created_at >= ?2 AND status IN ('pending', 'sent')", "tt", recipient, since);
	long long n = -1;

	if (s == NULL)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n < 0 ? fail(db, "rate limit") : n;
}

static int
event(sqlite3 *db, const char *case_id, const char *type, const char *detail,
    const char *message_id, const char *at)
{
	return exec_stmt(db, prep(db, "INSERT INTO events (case_id, at, type, detail, message_id)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)", "ttttt", case_id, at, type, detail, message_id),
	    "insert event");
}

/* {"kind":"ack","reason":"rate-limit","recipient":"a@b"} */
static int
suppressed_event(sqlite3 *db, const struct reply_new *rn, const char *why, const char *at)
{
	strbuf sb;
	int rc;

	sb_init(&sb);
	if (sb_printf(&sb, "{\"kind\":\"%s\",\"reason\":", reply_kind_name(rn->kind)) < 0 ||
	    json_string(&sb, why) < 0 || sb_puts(&sb, ",\"recipient\":") < 0 ||
	    json_string(&sb, rn->recipient) < 0 || sb_putc(&sb, '}') < 0) {
		sb_free(&sb);
		snprintf(errbuf, sizeof(errbuf), "out of memory");
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	rc = event(db, rn->case_id, "reply-suppressed", sb.s, NULL, at);
	sb_free(&sb);
	return rc;
}

/* Inside the transaction: the rate limit, then the row.  enum reply_created or -1. */
static int
insert_reply(sqlite3 *db, const struct reply_new *rn, const char **why, const char *at)
{
	char since[32];
	long long n;

	*why = rn->suppress;
	if (*why == NULL && rn->rate_limit > 0) {
		iso_utc(rn->now - (time_t)rn->rate_period, since, sizeof(since));
		if ((n = recent_replies(db, rn->recipient, since)) < 0)
			return -1;
		if (n >= (long long)rn->rate_limit)
			*why = "rate-limit";
	}
	if (exec_stmt(db, prep(db, "INSERT INTO replies (case_id, kind, message_id, recipient,"
	    " status, next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)", "tttttt",
	    rn->case_id, reply_kind_name(rn->kind), *why ? NULL : rn->message_id, rn->recipient,
	    *why ? "suppressed" : "pending", at), "insert reply") < 0)
		return -1;
	if (*why && suppressed_event(db, rn, *why, at) < 0)
		return -1;
	return *why ? REPLY_SUPPRESSED : REPLY_PENDING;
}

int
replystore_create(struct store *st, const struct reply_new *rn, const char **why)
{
	sqlite3 *db = store_db(st);
	char at[32];
	int rc;

	*why = NULL;
	if (rn->case_id == NULL || rn->recipient == NULL ||
	    (rn->suppress == NULL && (rn->message_id == NULL || *rn->message_id == '\0'))) {
		snprintf(errbuf, sizeof(errbuf), "reply without a case, recipient or Message-ID");
		return -1;
	}
	iso_utc(rn->now, at, sizeof(at));
	if (begin(db) < 0)
		return -1;
	if ((rc = reply_exists(db, rn->case_id, rn->kind)) != 0) {
		if (rc < 0)
			return -1;
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return REPLY_EXISTS;
	}
	if (store_dates(db, rn->case_id, rn->dates) < 0 ||
	    (rc = insert_reply(db, rn, why, at)) < 0 || commit(db) < 0)
		return -1;
	return rc;
}

/* ---- delivery ---- */

int
replystore_due(struct store *st, time_t now, struct reply_due *out, int max)
{
	sqlite3 *db = store_db(st);
	char at[32];
	sqlite3_stmt *s;
	int n = 0, rc;

	iso_utc(now, at, sizeof(at));
	s = prep(db, "SELECT id, case_id, kind, message_id, recipient, attempts FROM replies"
	    " WHERE status = 'pending' AND next_attempt_at <= ?1"
	    " ORDER BY next_attempt_at, id LIMIT ?2", "ti", at, (long long)max);
	if (s == NULL)
		return -1;
	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct reply_due *d = &out[n++];

		d->id = sqlite3_column_int64(s, 0);
		snprintf(d->case_id, sizeof(d->case_id), "%s", col(s, 1));
		d->kind = kind_of(col(s, 2));
		snprintf(d->message_id, sizeof(d->message_id), "%s", col(s, 3));
		snprintf(d->recipient, sizeof(d->recipient), "%s", col(s, 4));
		d->attempts = sqlite3_column_int(s, 5);
	}
	if (n < max && rc != SQLITE_DONE) {
		sqlite3_finalize(s);
		return fail(db, "due replies");
	}
	sqlite3_finalize(s);
	return n;
}

/* {"kind":"ack","attempt":2,"error":"..."} (error may be NULL) */
static char *
delivery_detail(const struct reply_due *d, const char *error)
{
	strbuf sb;

	sb_init(&sb);
	if (sb_printf(&sb, "{\"kind\":\"%s\",\"attempt\":%d", reply_kind_name(d->kind),
	    d->attempts + 1) < 0 || (error && (sb_puts(&sb, ",\"error\":") < 0 ||
	    json_string(&sb, error) < 0)) || sb_putc(&sb, '}') < 0) {
		sb_free(&sb);
		return NULL;
	}
	return sb_steal(&sb);
}

/* Update the reply and log an event about it, in one transaction. */
static int
update_and_log(sqlite3 *db, sqlite3_stmt *upd, const struct reply_due *d, const char *type,
    const char *error, const char *at)
{
	char *detail = delivery_detail(d, error);

	if (detail == NULL) {
		sqlite3_finalize(upd);
		snprintf(errbuf, sizeof(errbuf), "out of memory");
		return -1;
	}
	if (begin(db) < 0) {
		sqlite3_finalize(upd);
		free(detail);
		return -1;
	}
	if (exec_stmt(db, upd, "update reply") < 0 ||
	    event(db, d->case_id, type, detail, d->message_id, at) < 0 || commit(db) < 0) {
		free(detail);
		return -1;
	}
	free(detail);
	return 0;
}

int
replystore_sent(struct store *st, const struct reply_due *d, time_t now)
{
	sqlite3 *db = store_db(st);
	char at[32];

	iso_utc(now, at, sizeof(at));
	return update_and_log(db, prep(db, "UPDATE replies SET status = 'sent', sent_at = ?2,"
	    " attempts = attempts + 1, next_attempt_at = NULL, last_error = NULL"
	    " WHERE id = ?1", "it", d->id, at), d, "reply-sent", NULL, at);
}

unsigned
replystore_backoff(unsigned base, int attempts)
{
	unsigned long long delay = base ? base : 1;

	for (int i = 1; i < attempts && delay < 3600; i++)
		delay *= 2;
	return delay > 3600 ? 3600 : (unsigned)delay;
}

int
replystore_failed(struct store *st, const struct reply_due *d, time_t now, bool permanent,
    const char *error, unsigned base)
{
	sqlite3 *db = store_db(st);
	char at[32], next[32];

	iso_utc(now, at, sizeof(at));
	if (permanent)
		return update_and_log(db, prep(db, "UPDATE replies SET status = 'failed',"
		    " attempts = attempts + 1, next_attempt_at = NULL, last_error = ?2"
		    " WHERE id = ?1", "it", d->id, error), d, "reply-failed", error, at);
	iso_utc(now + (time_t)replystore_backoff(base, d->attempts + 1), next, sizeof(next));
	return update_and_log(db, prep(db, "UPDATE replies SET attempts = attempts + 1,"
	    " next_attempt_at = ?2, last_error = ?3 WHERE id = ?1", "itt", d->id, next, error),
	    d, "reply-deferred", error, at);
}
