/*
 * store_schema.c - the schema of the case store and its migrations.
 *
 * PRAGMA user_version is the number of migrations applied.  Migration N is
 * migrations[N - 1]; each runs in its own BEGIN IMMEDIATE transaction that
 * also sets user_version, so a crash or a second process starting at the
 * same time never applies one twice or half.  To change the schema, append
 * one entry to migrations[] (never edit an applied one) and describe it in
 * doc/schema.md.
 */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>

/* 1: cases, messages, events (append-only), case_seq. */
static const char MIGRATION_1[] =
	"CREATE TABLE cases ("
	" id INTEGER PRIMARY KEY,"
	" case_id TEXT NOT NULL UNIQUE,"
	" year INTEGER NOT NULL,"
	" seq INTEGER NOT NULL CHECK (seq >= 1),"
	" node TEXT NOT NULL DEFAULT '',"
	" status TEXT NOT NULL CHECK (status IN ('new', 'incomplete', 'acknowledged',"
	"  'in-progress', 'updated', 'resolved', 'escalated', 'closed')),"
	" kind TEXT NOT NULL DEFAULT 'unknown' CHECK (kind IN ('service', 'product', 'unknown')),"
	" language TEXT,"
	" envelope_from TEXT NOT NULL,"
	" from_addr TEXT,"
	" from_name TEXT,"
	" subject TEXT,"
	" message_id TEXT,"
	" dedup_key TEXT NOT NULL,"
	" queue_id TEXT,"
	" recipients TEXT,"
	" tickets TEXT NOT NULL DEFAULT '[]'"
	"  CHECK (json_valid(tickets) AND json_type(tickets) = 'array'),"
	" models TEXT NOT NULL DEFAULT '[]'"
	"  CHECK (json_valid(models) AND json_type(models) = 'array'),"
	" serials TEXT NOT NULL DEFAULT '[]'"
	"  CHECK (json_valid(serials) AND json_type(serials) = 'array'),"
	" missing TEXT NOT NULL DEFAULT '',"
	" description INTEGER NOT NULL DEFAULT 0 CHECK (description IN (0, 1)),"
	" solution_idea INTEGER NOT NULL DEFAULT 0 CHECK (solution_idea IN (0, 1)),"
	" received_at TEXT NOT NULL,"
	" updated_at TEXT NOT NULL,"
	" resolve_by TEXT,"
	" UNIQUE (dedup_key, envelope_from),"
	" UNIQUE (year, node, seq));"
	"CREATE INDEX cases_status ON cases (status);"
	"CREATE TABLE messages ("
	" id INTEGER PRIMARY KEY,"
	" case_id TEXT NOT NULL REFERENCES cases (case_id),"
	" direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),"
	" received_at TEXT NOT NULL,"
	" message_id TEXT,"
	" dedup_key TEXT NOT NULL,"
	" envelope_from TEXT NOT NULL,"
	" subject TEXT,"
	" queue_id TEXT,"
	" kind_of_message TEXT NOT NULL"
	"  CHECK (kind_of_message IN ('complaint', 'follow-up', 'staff')),"
	" UNIQUE (dedup_key, envelope_from, case_id));"
	"CREATE INDEX messages_case ON messages (case_id);"
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY,"
	" case_id TEXT REFERENCES cases (case_id),"
	" at TEXT NOT NULL,"
	" type TEXT NOT NULL,"
	" detail TEXT"
	"  CHECK (detail IS NULL OR (json_valid(detail) AND json_type(detail) = 'object')),"
	" message_id TEXT,"
	" envelope_from TEXT,"
	" queue_id TEXT);"
	"CREATE INDEX events_case ON events (case_id);"
	"CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
	" BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
	"CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
	" BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
	"CREATE TABLE case_seq ("
	" year INTEGER NOT NULL,"
	" node TEXT NOT NULL DEFAULT '',"
	" next INTEGER NOT NULL CHECK (next >= 1),"
	" PRIMARY KEY (year, node));";

/*
 * 2: replies (complaint-reply's delivery state) and the due dates on cases.
 * acknowledged_at is set by the staff tool; ack_by, update_by and resolve_by
 * by the reply worker when it first answers a case (never overwritten).
 */
static const char MIGRATION_2[] =
	"ALTER TABLE cases ADD COLUMN ack_by TEXT;"
	"ALTER TABLE cases ADD COLUMN update_by TEXT;"
	"ALTER TABLE cases ADD COLUMN acknowledged_at TEXT;"
	"CREATE TABLE replies ("
	" id INTEGER PRIMARY KEY,"
	" case_id TEXT NOT NULL REFERENCES cases (case_id),"
	" kind TEXT NOT NULL CHECK (kind IN ('ack', 'complete')),"
	" message_id TEXT UNIQUE,"
	" recipient TEXT NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'suppressed', 'failed')),"
	" attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),"
	" next_attempt_at TEXT,"
	" last_error TEXT,"
	" created_at TEXT NOT NULL,"
	" sent_at TEXT,"
	" CHECK (message_id IS NOT NULL OR status = 'suppressed'),"
	" UNIQUE (case_id, kind));"
	"CREATE INDEX replies_due ON replies (status, next_attempt_at);"
	"CREATE INDEX replies_recipient ON replies (lower(recipient), created_at);";

static const char *const migrations[] = {
	MIGRATION_1,
	MIGRATION_2,
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int
store_schema_version(void)
{
	return NMIGRATIONS;
}

static int
user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int
too_new(int v, const char *path, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: schema version %d is newer than this program knows (%d);"
	    " run a newer complaint-milter", path, v, NMIGRATIONS);
	return -1;
}

static int
fail(sqlite3 *db, const char *path, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s: %s", path, what, sqlite3_errmsg(db));
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * Apply the next migration, if any is still due once we hold the write lock
 * (another process may have applied it meanwhile).  *v: the version after.
 */
static int
migrate_next(sqlite3 *db, const char *path, int *v, char *err, size_t errlen)
{
	char sql[64];

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fail(db, path, "migration", err, errlen);
	if (user_version(db, v) < 0)
		return fail(db, path, "reading user_version", err, errlen);
	if (*v > NMIGRATIONS) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return too_new(*v, path, err, errlen);
	}
	if (*v == NMIGRATIONS)
		return sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 :
		    fail(db, path, "migration", err, errlen);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", *v + 1);
	if (sqlite3_exec(db, migrations[*v], NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		char what[48];

		snprintf(what, sizeof(what), "migration %d", *v + 1);
		return fail(db, path, what, err, errlen);
	}
	(*v)++;
	return 0;
}

int
store_schema_migrate(struct sqlite3 *db, const char *path, char *err, size_t errlen)
{
	int v;

	if (user_version(db, &v) < 0)
		return fail(db, path, "reading user_version", err, errlen);
	if (v > NMIGRATIONS)
		return too_new(v, path, err, errlen);
	while (v < NMIGRATIONS)
		if (migrate_next(db, path, &v, err, errlen) < 0)
			return -1;
	return 0;
}
