/*
 * replystore.h - complaint-reply's queries on the case store: what needs a
 * reply, the replies table (delivery state, retries with backoff, the rate
 * limit), suppression events and the due dates on the case.
 *
 * They work on the connection of a struct store (store_db()), one thread at
 * a time.  Every write runs in its own short BEGIN IMMEDIATE transaction, so
 * the milter's writer never waits long.  Times are UTC ISO 8601 like the
 * rest of the store; "now" is passed in so tests can fix it.
 *
 * Crash safety: replystore_create() commits the reply with its Message-ID
 * before anything is submitted, and replystore_sent() records the success
 * afterwards.  A crash in between leaves the reply pending, so it is
 * submitted once more with the same Message-ID: at most one duplicate.
 */
#ifndef CM_REPLYSTORE_H
#define CM_REPLYSTORE_H

#include <stdbool.h>
#include <time.h>

#include "caseid.h"
#include "reply.h"
#include "store.h"

/* Why the last call of this thread failed. */
const char *replystore_errmsg(void);

/* Something that needs a reply: a new case, or a follow-up that completed one. */
struct reply_todo {
	long long src;			/* cases.id (ack) or events.id (complete) */
	char case_id[CASEID_MAX];
	enum reply_kind kind;
	char at[32];			/* cases.received_at or events.at */
};

/* Highest cases.id and events.id now: the end of one scan.  0 or -1. */
int replystore_marks(struct store *st, long long *cases_hi, long long *events_hi);
/*
 * The first case after cases.id `after` (up to `upto`) without an ack reply,
 * else the first completed event after events.id `after` (up to `upto`)
 * without a complete reply.  1 found, 0 none, -1 error.
 */
int replystore_next_ack(struct store *st, long long after, long long upto, struct reply_todo *out);
int replystore_next_complete(struct store *st, long long after, long long upto,
    struct reply_todo *out);

/* Is there an event of this type on the case?  1, 0 or -1. */
int replystore_case_has_event(struct store *st, const char *case_id, const char *type);
/* The Message-ID of the follow-up that completed the case (malloc'd, NULL if none).  0 or -1. */
int replystore_completed_msgid(struct store *st, const char *case_id, char **out);

struct reply_dates {
	char ack_by[11], update_by[11], resolve_by[11];	/* YYYY-MM-DD or "" */
};

/* The due dates stored on the case ("" when NULL).  1, 0 (no case) or -1. */
int replystore_get_dates(struct store *st, const char *case_id, struct reply_dates *out);

struct reply_new {
	const char *case_id;
	enum reply_kind kind;
	const char *message_id;		/* ours, without <> */
	const char *recipient;		/* the address the reply goes to */
	const char *suppress;		/* a reason (reply_suppress_reason ...) or NULL */
	unsigned rate_limit;		/* replies per recipient per period; 0: none */
	unsigned rate_period;		/* seconds */
	const struct reply_dates *dates;	/* stored on the case where still NULL; may be NULL */
	time_t now;
};

enum reply_created {
	REPLY_EXISTS = 0,	/* the case already has a reply of this kind */
	REPLY_PENDING = 1,	/* created, to be submitted */
	REPLY_SUPPRESSED = 2,	/* recorded as suppressed, with an event */
};

/*
 * In one transaction: store the due dates, apply the rate limit (replies
 * pending or sent to the same address, case-insensitive, created in the
 * last rate_period seconds), insert the reply as pending, or as suppressed
 * with a "reply-suppressed" event {"kind":..,"reason":..,"recipient":..}.
 * Returns enum reply_created or -1; *why is the reason of a suppression.
 */
int replystore_create(struct store *st, const struct reply_new *rn, const char **why);

/* A reply ready to be submitted. */
struct reply_due {
	long long id;
	char case_id[CASEID_MAX];
	enum reply_kind kind;
	char message_id[512];
	char recipient[512];
	int attempts;
};

/* Up to max pending replies whose time has come, oldest first.  Count or -1. */
int replystore_due(struct store *st, time_t now, struct reply_due *out, int max);
/* Submitted: status sent, a "reply-sent" event.  0 or -1. */
int replystore_sent(struct store *st, const struct reply_due *d, time_t now);
/*
 * Submission failed.  permanent: status failed and a "reply-failed" event;
 * else retried after base * 2^attempts seconds (at most an hour) and a
 * "reply-deferred" event.  0 or -1.
 */
int replystore_failed(struct store *st, const struct reply_due *d, time_t now, bool permanent,
    const char *error, unsigned base);
/* The delay before retry number attempts + 1 (attempts >= 1). */
unsigned replystore_backoff(unsigned base, int attempts);

#endif
