/*
 * lifecycle.h - the life of a case in the complaints policy's terms: its
 * statuses, which changes of status staff may make, and its deadlines in
 * working days.
 *
 * Statuses and what they mean:
 *
 *	new		received with what the policy asks; nobody has answered yet
 *	incomplete	received, but the ticket, model or description is missing
 *	acknowledged	staff told the customer the complaint is being handled
 *	in-progress	staff are working on it
 *	updated		staff sent the customer an update
 *	resolved	staff proposed a solution
 *	escalated	the customer is not satisfied and asked for more
 *	closed		finished; final
 *
 * Transitions that set-status accepts (to the same status is refused):
 *
 *	new, incomplete	 -> each other, acknowledged, in-progress, resolved,
 *			    escalated, closed
 *	acknowledged	 -> in-progress, updated, resolved, escalated, closed
 *	in-progress	 -> updated, resolved, escalated, closed
 *	updated		 -> in-progress, resolved, escalated, closed
 *	resolved	 -> closed, escalated (customer unhappy),
 *			    in-progress (reopened)
 *	escalated	 -> in-progress, resolved
 *	closed		 -> nothing: closed is final
 *
 * Deadlines (policy: acknowledge within 7 working days, update within 14
 * working days after that, resolve within 30 working days of receipt).  The
 * reply worker and the lifecycle functions store ack_by, update_by and
 * resolve_by on the case; when one is NULL (older rows) it is worked out:
 * ack_by = received + 7, update_by = acknowledged (else ack_by) + 14,
 * resolve_by = received + 30 working days, on local dates.  A deadline
 * applies while it can still be missed: ack_by while the case is new or
 * incomplete, update_by and resolve_by until it is resolved or closed.
 */
#ifndef CM_LIFECYCLE_H
#define CM_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "calendar.h"

enum case_status {
	CS_NEW = 0,
	CS_INCOMPLETE,
	CS_ACKNOWLEDGED,
	CS_IN_PROGRESS,
	CS_UPDATED,
	CS_RESOLVED,
	CS_ESCALATED,
	CS_CLOSED,
	CS_COUNT
};

#define POLICY_ACK_DAYS		7
#define POLICY_UPDATE_DAYS	14
#define POLICY_RESOLVE_DAYS	30

/* "in-progress"; NULL for a value out of range. */
const char *case_status_name(enum case_status s);
/* The status of a name (exact, lower case), or -1. */
int case_status_parse(const char *name);
/* One line: what the status means in the policy's terms. */
const char *case_status_meaning(enum case_status s);
/* Not resolved and not closed: deadlines still run. */
bool case_status_open(enum case_status s);
/* May set-status change from to to? */
bool case_transition_ok(enum case_status from, enum case_status to);
/*
 * Why from -> to is refused, with the statuses that are allowed from from:
 * "closed is final" or "allowed from resolved: closed, escalated,
 * in-progress".  Returns buf.
 */
const char *case_transition_refusal(enum case_status from, enum case_status to,
    char *buf, size_t n);

enum deadline_kind {
	DL_ACK = 0,
	DL_UPDATE,
	DL_RESOLVE,
	DL_COUNT
};

/* "ack", "update", "resolve"; and the column: "ack_by", ... */
const char *deadline_name(enum deadline_kind k);
const char *deadline_column(enum deadline_kind k);

/* The stored dates of a case (any may be NULL); times or YYYY-MM-DD. */
struct case_dates {
	const char *status;
	const char *received_at;
	const char *acknowledged_at;
	const char *ack_by;
	const char *update_by;
	const char *resolve_by;
};

struct deadline {
	bool known;		/* due is set (false: no received date to count from) */
	bool stored;		/* due came from the database, else worked out */
	bool applies;		/* can still be missed (see above) */
	struct ymd due;
	long left;		/* working days from today to due; < 0: overdue */
};

/*
 * Work out the three deadlines of a case relative to today.  left is
 * calendar_working_days_between(today, due): 0 when due today (or passed
 * over a weekend only), -N when N working days late.
 */
void case_deadlines(const struct calendar *cal, const struct case_dates *in,
    struct ymd today, struct deadline out[DL_COUNT]);
/* The applicable deadline due first (-1 when none applies). */
int case_next_deadline(const struct deadline d[DL_COUNT]);
/* The applicable deadline most overdue (-1 when none is overdue). */
int case_worst_overdue(const struct deadline d[DL_COUNT]);

/*
 * Dates are local calendar dates (the process's time zone, TZ), as
 * complaint-reply computes them, so the staff see the dates the customer
 * was promised.  ymd_local: the local date of t.  ymd_of_iso: the local
 * date of a stored UTC time "2026-03-02T09:15:00Z", or the date
 * "2026-03-02" itself; 0, or -1 when s is neither.
 */
struct ymd ymd_local(time_t t);
int ymd_of_iso(const char *s, struct ymd *out);

#endif
