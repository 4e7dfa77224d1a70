/*
 * store.h - the case store: an SQLite database of cases, the messages on
 * them and an append-only log of events.
 *
 * Schema and versions: doc/schema.md.  store_open() creates the database
 * when it is not there (never its directory), turns on WAL, synchronous=FULL
 * and foreign keys, and brings the schema up to date; it refuses a database
 * written by a newer program.
 *
 * Threads.  One struct store is one SQLite connection and must never be used
 * by two threads at once; readers open their own (WAL lets them read while
 * the writer writes).  The milter does not call the write functions from its
 * connection threads: it hands them to one store_writer, whose thread owns
 * the only writing connection of the process and commits everything pending
 * in one transaction (group commit: one fsync for many messages).  Several
 * processes may write one database: BEGIN IMMEDIATE and the busy timeout
 * serialise them, and case numbers are allocated inside the transaction.
 *
 * Results.  Every function returns -1 on an error (SQLite, out of memory,
 * bad argument) after rolling back what it did; store_errmsg() or
 * op->errmsg says why.  SQLITE_BUSY after the busy timeout is such an error:
 * the milter answers 451 4.3.0 and the sender retries; nothing is lost.
 */
#ifndef CM_STORE_H
#define CM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "caseid.h"
#include "complaint.h"
#include "util.h"

struct store;
struct store_writer;

/* What the milter knows about one incoming message besides its complaint. */
struct intake {
	const struct complaint *c;	/* subject, from, message_id, fields, kind, missing */
	const char *envelope_from;	/* MAIL FROM; NULL is stored as "" */
	const char *recipients;		/* RCPT TO, comma-joined; may be NULL */
	const char *queue_id;		/* may be NULL */
	const char *dedup_key;		/* Message-ID, or a hash when none; required */
	const struct caseid_fmt *idf;	/* prefix, node, check character (new case) */
	int year;			/* of the case ID; 0: the UTC year of now */
	time_t now;			/* 0: time(NULL) */
	const char *event_type;		/* new case: NULL ("received"), "flagged", ... */
};

struct case_result {
	char case_id[CASEID_MAX];
	unsigned long long seq;
	bool existed;		/* a retried delivery: the case already was there */
	bool incomplete;	/* stored with status "incomplete" */
};

struct followup_result {
	bool existed;		/* this message was already recorded on the case */
	bool completed;		/* the case went from incomplete to complete */
	unsigned missing;	/* MISSING_* bits of the case now */
};

/* One case as stored.  Text columns that are NULL are NULL pointers. */
struct case_row {
	long long id;
	char *case_id;
	int year;
	unsigned long long seq;
	char *node;
	char *status;
	char *kind;
	char *language;
	char *envelope_from;
	char *from_addr;
	char *from_name;
	char *subject;
	char *message_id;
	char *dedup_key;
	char *queue_id;
	char *recipients;
	strlist tickets;	/* stored as JSON arrays of strings */
	strlist models;
	strlist serials;
	char *missing;		/* comma list, "" when complete */
	bool description;
	bool solution_idea;
	char *received_at;	/* UTC, 2024-05-01T12:34:56Z */
	char *updated_at;
	char *resolve_by;	/* set by other tools; usually NULL */
};

/* Schema version this program writes (PRAGMA user_version). */
int store_schema_version(void);

struct store *store_open(const char *path, unsigned busy_timeout_ms, char *err, size_t errlen);
void store_close(struct store *st);
/* Why the last call on st failed. */
const char *store_errmsg(const struct store *st);

/*
 * A new case, or the existing one when (dedup_key, envelope_from) was seen:
 * a retried delivery gets the same case ID (out->existed).  0 or -1.
 */
int store_new_case(struct store *st, const struct intake *in, struct case_result *out);
/* 1 found (out filled, free with case_row_free), 0 not found, -1 error. */
int store_find_case(struct store *st, const char *case_id, struct case_row *out);
void case_row_free(struct case_row *row);
/*
 * Record a follow-up message on case_id and merge the fields it brings.
 * 1 recorded (or already recorded: out->existed), 0 no such case (nothing
 * written), -1 error.
 */
int store_add_followup(struct store *st, const char *case_id, const struct intake *in,
    struct followup_result *out);
/*
 * Append an event.  case_id NULL: an event without a case (a rejection).
 * detail_json is NULL or a JSON object.  0 or -1.
 */
int store_event(struct store *st, const char *case_id, const char *type,
    const char *detail_json, const char *message_id, const char *envelope_from,
    const char *queue_id);

/*
 * Group commit.  The writer thread owns its own connection.  An op lives in
 * the submitting thread (on its stack is fine); store_op_*() fill it,
 * store_writer_submit() queues it and blocks until the batch holding it was
 * committed or failed, then returns op->rc.  The pointers in an op must stay
 * valid until then.
 */
enum store_op_kind {
	STORE_OP_NEW_CASE = 1,
	STORE_OP_FOLLOWUP,
	STORE_OP_EVENT,
};

struct store_op {
	enum store_op_kind kind;
	const struct intake *in;	/* NEW_CASE, FOLLOWUP */
	const char *case_id;		/* FOLLOWUP; EVENT (NULL: none) */
	const char *ev_type;		/* EVENT: the arguments of store_event() */
	const char *ev_detail;
	const char *ev_message_id;
	const char *ev_envelope_from;
	const char *ev_queue_id;
	/* Filled by the writer. */
	int rc;				/* what the direct function returns */
	struct case_result cres;	/* NEW_CASE */
	struct followup_result fres;	/* FOLLOWUP */
	char errmsg[256];		/* when rc == -1 */
};

void store_op_new_case(struct store_op *op, const struct intake *in);
void store_op_followup(struct store_op *op, const char *case_id, const struct intake *in);
void store_op_event(struct store_op *op, const char *case_id, const char *type,
    const char *detail_json, const char *message_id, const char *envelope_from,
    const char *queue_id);

struct store_writer_stats {
	unsigned long long ops;		/* ops finished */
	unsigned long long batches;	/* batches taken from the queue */
	unsigned long long commits;	/* transactions committed */
	unsigned long long fallbacks;	/* batches retried op by op */
	unsigned long long failed;	/* ops that ended with rc -1 */
	size_t max_batch;		/* largest batch */
};

struct store_writer *store_writer_start(const char *path, unsigned busy_timeout_ms,
    char *err, size_t errlen);
/* Queue op, wait until it is committed or failed; returns op->rc. */
int store_writer_submit(struct store_writer *w, struct store_op *op);
/* Queue n ops together (they land in one batch); -1 when any failed, else 0. */
int store_writer_submitv(struct store_writer *w, struct store_op **ops, size_t n);
void store_writer_stats(struct store_writer *w, struct store_writer_stats *out);
/*
 * Finish what is queued, stop the thread, close and free w.  Call it when no
 * thread can submit any more (after smfi_main() returned).
 */
void store_writer_stop(struct store_writer *w);

/* For store.c only: bring the schema of db (opened on path) up to date. */
struct sqlite3;
int store_schema_migrate(struct sqlite3 *db, const char *path, char *err, size_t errlen);

#endif
