/*
 * cases.h - reading the case store for staff (complaint-cases): filtered,
 * sorted and paged lists of cases, one case with its messages and events,
 * and statistics, with deadlines in working days.
 *
 * The connection is read-only and never changes the database, so it never
 * blocks the milter or the reply worker (WAL: readers and the writer do not
 * wait for each other).  A database in WAL mode needs its -shm file to be
 * read; when neither -shm nor -wal is there (nobody has the database open)
 * and the directory is not writable for us, the file is read as an
 * immutable snapshot instead.  The schema must be the one this program
 * writes: complaint-cases never migrates (the milter does, when it starts).
 *
 * Every function returning int returns -1 on an error, with the reason in
 * cases_errmsg().
 */
#ifndef CM_CASES_H
#define CM_CASES_H

#include <stdbool.h>
#include <stddef.h>

#include "calendar.h"
#include "lifecycle.h"
#include "util.h"

struct cases_db;

/* Fields of a case; names as the columns (and the JSON keys). */
enum case_field {
	CF_CASE_ID,
	CF_STATUS,
	CF_KIND,
	CF_LANGUAGE,
	CF_ENVELOPE_FROM,
	CF_FROM_ADDR,
	CF_FROM_NAME,
	CF_SUBJECT,
	CF_MESSAGE_ID,
	CF_QUEUE_ID,
	CF_RECIPIENTS,
	CF_MISSING,
	CF_RECEIVED_AT,
	CF_UPDATED_AT,
	CF_ACKNOWLEDGED_AT,
	CF_ACK_BY,		/* as stored (NULL: worked out, see dl[]) */
	CF_UPDATE_BY,
	CF_RESOLVE_BY,
	CF_COUNT
};

const char *case_field_name(enum case_field f);

struct case_info {
	char *f[CF_COUNT];	/* NULL when the column is NULL */
	strlist tickets, models, serials;
	bool description, solution_idea;
	int year;
	char *node;
	unsigned long long seq;
	long ord;		/* position in received order (newest first) */
	struct deadline dl[DL_COUNT];
	int next;		/* case_next_deadline(dl) */
	int worst;		/* case_worst_overdue(dl) */
};

enum case_sort {
	SORT_RECEIVED = 0,	/* newest first */
	SORT_CASE,		/* by case ID: year, node, number */
	SORT_DUE,		/* next deadline first; none last */
	SORT_OVERDUE,		/* most working days late first */
};

struct case_filter {
	unsigned statuses;	/* 1u << enum case_status; 0: any */
	const char *kind;	/* service, product, unknown; NULL: any */
	const char *language;
	/* As typed; compared in normalised form (norm_key); "X*": prefix. */
	const char *model, *serial, *ticket;
	const char *from;	/* substring of From or envelope sender, any case */
	const char *since, *until;	/* YYYY-MM-DD, received (local date), inclusive */
	bool overdue;		/* only cases with an overdue deadline */
	enum case_sort sort;
	long limit;		/* < 0: no limit */
	long offset;
};

void case_filter_init(struct case_filter *f);

struct case_list {
	struct case_info *v;
	size_t n, cap;
	size_t total;		/* matching cases before paging */
};

/* Rows of text cells (NULL for SQL NULL): v[row * ncols + col]. */
struct text_rows {
	size_t ncols, n, cap;
	char **v;
};

/* Columns of case_detail.messages and .events. */
enum { MSG_AT, MSG_DIRECTION, MSG_KIND, MSG_SUBJECT, MSG_MESSAGE_ID, MSG_FROM, MSG_QUEUE_ID,
	MSG_NCOLS };
enum { EV_AT, EV_TYPE, EV_DETAIL, EV_MESSAGE_ID, EV_FROM, EV_QUEUE_ID, EV_NCOLS };

struct case_detail {
	struct case_info info;
	struct text_rows messages;	/* oldest first */
	struct text_rows events;	/* in order of writing; detail is JSON */
};

struct stat_median {
	long n;			/* cases measured */
	double value;		/* working days; meaningless when n == 0 */
};

struct case_stats {
	long total;
	long status[CS_COUNT];
	long kind[3];		/* service, product, unknown */
	strlist models;		/* first spelling of each normalised model */
	long *model_n;		/* cases per model (a case counts for each model) */
	long no_model;
	/* Working days from receipt (see stats in doc/staff.md). */
	struct stat_median to_ack, to_update, to_resolve;
	long within30, within30_known;	/* resolved within 30 working days, of known */
};

struct cases_db *cases_open(const char *path, unsigned busy_timeout_ms, char *err,
    size_t errlen);
void cases_close(struct cases_db *db);
const char *cases_errmsg(const struct cases_db *db);
/* The database was opened as an immutable snapshot (see above). */
bool cases_immutable(const struct cases_db *db);

int cases_list(struct cases_db *db, const struct case_filter *f, const struct calendar *cal,
    struct ymd today, struct case_list *out);
void case_list_free(struct case_list *l);

/* case_id in canonical form.  1 found, 0 no such case, -1 error. */
int cases_show(struct cases_db *db, const char *case_id, const struct calendar *cal,
    struct ymd today, struct case_detail *out);
void case_detail_free(struct case_detail *d);

/* Over the cases f selects (overdue, sort and paging are ignored). */
int cases_stats(struct cases_db *db, const struct case_filter *f, const struct calendar *cal,
    struct ymd today, struct case_stats *out);
void case_stats_free(struct case_stats *s);

#endif
