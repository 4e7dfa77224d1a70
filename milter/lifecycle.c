/*
 * lifecycle.c - case statuses, the transition table and deadlines in
 * working days.  What they mean: lifecycle.h.
 */
#include "lifecycle.h"

#include <stdio.h>
#include <string.h>

#define BIT(s) (1u << (s))

static const struct {
	const char *name;
	const char *meaning;
	unsigned to;		/* BIT() of every status set-status may go to */
} STATUS[CS_COUNT] = {
	[CS_NEW] = { "new",
	    "received with what the policy asks; not answered yet",
	    BIT(CS_INCOMPLETE) | BIT(CS_ACKNOWLEDGED) | BIT(CS_IN_PROGRESS) |
	    BIT(CS_RESOLVED) | BIT(CS_ESCALATED) | BIT(CS_CLOSED) },
	[CS_INCOMPLETE] = { "incomplete",
	    "received, but the ticket or model or a description is missing",
	    BIT(CS_NEW) | BIT(CS_ACKNOWLEDGED) | BIT(CS_IN_PROGRESS) |
	    BIT(CS_RESOLVED) | BIT(CS_ESCALATED) | BIT(CS_CLOSED) },
	[CS_ACKNOWLEDGED] = { "acknowledged",
	    "the customer was told the complaint is being handled (due: 7 working days)",
	    BIT(CS_IN_PROGRESS) | BIT(CS_UPDATED) | BIT(CS_RESOLVED) |
	    BIT(CS_ESCALATED) | BIT(CS_CLOSED) },
	[CS_IN_PROGRESS] = { "in-progress",
	    "staff are working on it",
	    BIT(CS_UPDATED) | BIT(CS_RESOLVED) | BIT(CS_ESCALATED) | BIT(CS_CLOSED) },
	[CS_UPDATED] = { "updated",
	    "the customer got an update (due every 14 working days until resolved)",
	    BIT(CS_IN_PROGRESS) | BIT(CS_RESOLVED) | BIT(CS_ESCALATED) | BIT(CS_CLOSED) },
	[CS_RESOLVED] = { "resolved",
	    "a solution was given (aim: 30 working days from receipt)",
	    BIT(CS_CLOSED) | BIT(CS_ESCALATED) | BIT(CS_IN_PROGRESS) },
	[CS_ESCALATED] = { "escalated",
	    "the customer is not satisfied and asked for more; senior staff take it",
	    BIT(CS_IN_PROGRESS) | BIT(CS_RESOLVED) },
	[CS_CLOSED] = { "closed",
	    "finished; final",
	    0 },
};

static const char *const DL_NAME[DL_COUNT] = { "ack", "update", "resolve" };
static const char *const DL_COLUMN[DL_COUNT] = { "ack_by", "update_by", "resolve_by" };

const char *
case_status_name(enum case_status s)
{
	return (unsigned)s < CS_COUNT ? STATUS[s].name : NULL;
}

int
case_status_parse(const char *name)
{
	for (int s = 0; name && s < CS_COUNT; s++)
		if (strcmp(STATUS[s].name, name) == 0)
			return s;
	return -1;
}

const char *
case_status_meaning(enum case_status s)
{
	return (unsigned)s < CS_COUNT ? STATUS[s].meaning : "";
}

bool
case_status_open(enum case_status s)
{
	return s != CS_RESOLVED && s != CS_CLOSED;
}

bool
case_transition_ok(enum case_status from, enum case_status to)
{
	if ((unsigned)from >= CS_COUNT || (unsigned)to >= CS_COUNT)
		return false;
	return (STATUS[from].to & BIT(to)) != 0;
}

const char *
case_transition_refusal(enum case_status from, enum case_status to, char *buf, size_t n)
{
	size_t o;

	if ((unsigned)from >= CS_COUNT || (unsigned)to >= CS_COUNT) {
		snprintf(buf, n, "unknown status");
		return buf;
	}
	if (from == CS_CLOSED) {
		snprintf(buf, n, "closed is final");
		return buf;
	}
	if (from == to) {
		snprintf(buf, n, "the case is %s already", STATUS[from].name);
		return buf;
	}
	o = (size_t)snprintf(buf, n, "allowed from %s:", STATUS[from].name);
	for (int s = 0, k = 0; s < CS_COUNT && o < n; s++)
		if (STATUS[from].to & BIT(s))
			o += (size_t)snprintf(buf + o, n - o, "%s %s", k++ ? "," : "", STATUS[s].name);
	return buf;
}

const char *
deadline_name(enum deadline_kind k)
{
	return (unsigned)k < DL_COUNT ? DL_NAME[k] : "";
}

const char *
deadline_column(enum deadline_kind k)
{
	return (unsigned)k < DL_COUNT ? DL_COLUMN[k] : "";
}

struct ymd
ymd_local(time_t t)
{
	struct tm tm;
	struct ymd d = { 0, 0, 0 };

	if (localtime_r(&t, &tm) != NULL) {
		d.y = tm.tm_year + 1900;
		d.m = tm.tm_mon + 1;
		d.d = tm.tm_mday;
	}
	return d;
}

int
ymd_of_iso(const char *s, struct ymd *out)
{
	struct tm tm;
	const char *end;

	if (s == NULL)
		return -1;
	if (strlen(s) == 10)
		return ymd_parse(s, out);
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	*out = ymd_local(timegm(&tm));
	return 0;
}

/* A stored date, else base + days working days (when base is known). */
static void
deadline_set(const struct calendar *cal, struct deadline *dl, const char *stored,
    const struct deadline *base, int days)
{
	if (ymd_of_iso(stored, &dl->due) == 0) {
		dl->known = dl->stored = true;
		return;
	}
	if (base->known) {
		dl->due = calendar_add_working_days(cal, base->due, days);
		dl->known = true;
	}
}

void
case_deadlines(const struct calendar *cal, const struct case_dates *in, struct ymd today,
    struct deadline out[DL_COUNT])
{
	struct deadline received, acked;
	int st = case_status_parse(in->status);
	bool open = st < 0 || case_status_open((enum case_status)st);

	memset(out, 0, sizeof(struct deadline) * DL_COUNT);
	memset(&received, 0, sizeof(received));
	memset(&acked, 0, sizeof(acked));
	received.known = ymd_of_iso(in->received_at, &received.due) == 0;
	acked.known = ymd_of_iso(in->acknowledged_at, &acked.due) == 0;
	deadline_set(cal, &out[DL_ACK], in->ack_by, &received, POLICY_ACK_DAYS);
	deadline_set(cal, &out[DL_UPDATE], in->update_by, acked.known ? &acked : &out[DL_ACK],
	    POLICY_UPDATE_DAYS);
	deadline_set(cal, &out[DL_RESOLVE], in->resolve_by, &received, POLICY_RESOLVE_DAYS);
	out[DL_ACK].applies = (st == CS_NEW || st == CS_INCOMPLETE) && !acked.known;
	out[DL_UPDATE].applies = open;
	out[DL_RESOLVE].applies = open;
	for (int k = 0; k < DL_COUNT; k++) {
		out[k].applies = out[k].applies && out[k].known;
		if (out[k].known)
			out[k].left = calendar_working_days_between(cal, today, out[k].due);
	}
}

int
case_next_deadline(const struct deadline d[DL_COUNT])
{
	int best = -1;

	for (int k = 0; k < DL_COUNT; k++)
		if (d[k].applies && (best < 0 || ymd_cmp(d[k].due, d[best].due) < 0))
			best = k;
	return best;
}

int
case_worst_overdue(const struct deadline d[DL_COUNT])
{
	int worst = -1;

	for (int k = 0; k < DL_COUNT; k++)
		if (d[k].applies && d[k].left < 0 && (worst < 0 || d[k].left < d[worst].left))
			worst = k;
	return worst;
}
