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
struct calendar;

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

/* What a lifecycle op (SET_STATUS, EXTEND, ESCALATE, STAFF_REPLY) did. */
struct life_result {
	bool existed;		/* ESCALATE, STAFF_REPLY: this message was recorded
				   already (a retried delivery); nothing written */
	bool changed;		/* the status changed */
	char from[16];		/* the status before */
	char to[16];		/* the status after (== from unless changed) */
	char update_by[16];	/* YYYY-MM-DD when the op moved update_by, else "" */
	char old_date[16];	/* EXTEND: resolve_by before (stored or worked
				   out; "" when unknown) */
	char new_date[16];	/* EXTEND: resolve_by after */
};

/* rc of a lifecycle op that was refused; nothing was written. */
#define STORE_REFUSED 2

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
 * The lifecycle of a case (statuses, transitions, deadlines: lifecycle.h).
 * Each runs in one transaction, appends its event there, and returns 1
 * done, 0 no such case (nothing written), STORE_REFUSED (nothing written;
 * store_errmsg() says why) or -1 on an error.  out says what changed.
 * Deadlines are counted in working days of cal from the local date of now
 * (lifecycle.h; the intake's now for ESCALATE and STAFF_REPLY).
 *
 * store_set_status: staff change the status (complaint-cases set-status).
 * A transition the table refuses, or to the same status, is STORE_REFUSED.
 * Event "status" {"from":..,"to":..,"note":..,"by":..}.  To acknowledged:
 * acknowledged_at (when not set yet) = now and update_by = now + 14; to
 * updated: update_by = now + 14.
 */
int store_set_status(struct store *st, const char *case_id, const char *status,
    const char *note, const char *actor, const struct calendar *cal, time_t now,
    struct life_result *out);
/*
 * store_extend: a new resolution date with the reason told to the customer
 * (the policy's "explain and set a new date").  date is YYYY-MM-DD; reason
 * is required.  A resolved or closed case is STORE_REFUSED.  Event
 * "extended" {"old":..,"new":..,"reason":..,"by":..}; old is the stored
 * resolve_by, else received + 30 working days of cal (when cal is given).
 */
int store_extend(struct store *st, const char *case_id, const char *date,
    const char *reason, const char *actor, const struct calendar *cal, time_t now,
    struct life_result *out);
/*
 * store_escalate: a customer's message on the case has escalation words
 * (complaint.escalation).  The status becomes escalated where the table
 * allows it (not from closed; escalated stays escalated); an event
 * "escalated" {"from":..,"to":..,"words":[..]} is appended either way,
 * with in's Message-ID, envelope sender and queue ID.  in may be NULL;
 * with a Message-ID, a second escalation by the same message is
 * out->existed and writes nothing.
 */
int store_escalate(struct store *st, const char *case_id, const strlist *words,
    const struct intake *in, struct life_result *out);
/*
 * store_staff_reply: record in (a staff member's message about the case)
 * as an outgoing message (direction out, kind staff); a retried delivery
 * (same dedup key and envelope sender) is out->existed.  The first staff
 * reply (acknowledged_at not set) sets acknowledged_at, makes a new or
 * incomplete case acknowledged and appends "acknowledged"; a later one
 * makes an acknowledged, in-progress or updated case updated and appends
 * "updated".  Detail {"from":..,"to":..,"update_by":..}.  While the case
 * is open, update_by moves to the reply's date + 14 working days.
 * in->c gives the subject and Message-ID; in->now the time.
 */
int store_staff_reply(struct store *st, const char *case_id, const struct intake *in,
    const struct calendar *cal, struct life_result *out);

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
	STORE_OP_SET_STATUS,
	STORE_OP_EXTEND,
	STORE_OP_ESCALATE,
	STORE_OP_STAFF_REPLY,
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
	/* The lifecycle ops (see store_set_status() and the others above). */
	const struct calendar *cal;	/* SET_STATUS, STAFF_REPLY; EXTEND: optional */
	const char *status;		/* SET_STATUS */
	const char *text;		/* SET_STATUS: note; EXTEND: reason */
	const char *date;		/* EXTEND: YYYY-MM-DD */
	const char *actor;		/* SET_STATUS, EXTEND: who; may be NULL */
	const strlist *words;		/* ESCALATE: may be NULL */
	time_t now;			/* SET_STATUS, EXTEND; 0: time(NULL) */
	/* Filled by the writer. */
	int rc;				/* what the direct function returns */
	struct case_result cres;	/* NEW_CASE */
	struct followup_result fres;	/* FOLLOWUP */
	struct life_result lres;	/* the lifecycle ops */
	char errmsg[256];		/* when rc == -1 or STORE_REFUSED */
};

void store_op_new_case(struct store_op *op, const struct intake *in);
void store_op_followup(struct store_op *op, const char *case_id, const struct intake *in);
void store_op_event(struct store_op *op, const char *case_id, const char *type,
    const char *detail_json, const char *message_id, const char *envelope_from,
    const char *queue_id);

void store_op_set_status(struct store_op *op, const char *case_id, const char *status,
    const char *note, const char *actor, const struct calendar *cal, time_t now);
void store_op_extend(struct store_op *op, const char *case_id, const char *date,
    const char *reason, const char *actor, const struct calendar *cal, time_t now);
void store_op_escalate(struct store_op *op, const char *case_id, const strlist *words,
    const struct intake *in);
void store_op_staff_reply(struct store_op *op, const char *case_id, const struct intake *in,
    const struct calendar *cal);

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

/*
 * The connection of st, for modules that keep their own queries
 * (replystore.c).  Same rules: one thread at a time.
 */
struct sqlite3;
struct sqlite3 *store_db(struct store *st);

/* For store.c only: bring the schema of db (opened on path) up to date. */
int store_schema_migrate(struct sqlite3 *db, const char *path, char *err, size_t errlen);

#endif
