/*
 * cases.c - the staff's queries on the case store: the read-only
 * connection, lists with filters, one case in full, statistics.
 *
 * Every statement is a constant: a filter that is not given binds NULL and
 * its condition is true ("?4 IS NULL OR ...").  What the user typed is only
 * ever bound.  Model, serial and ticket match in normalised form through
 * the SQL function cm_keyeq(); From matches through cm_ifind(), which folds
 * case with GLib (so "müller" finds "MÜLLER").  The deadlines need the
 * working-day calendar, so the overdue filter, sorting and paging happen
 * here after the query; thousands of cases take milliseconds.
 */
#include "cases.h"

#include <errno.h>
#include <glib.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

struct cases_db {
	sqlite3 *db;
	bool immutable;
	char errmsg[512];
};

static const char *const FIELD_NAME[CF_COUNT] = {
	"case_id", "status", "kind", "language", "envelope_from", "from_addr", "from_name",
	"subject", "message_id", "queue_id", "recipients", "missing", "received_at",
	"updated_at", "acknowledged_at", "ack_by", "update_by", "resolve_by",
};

/* The CF_* columns in order, then the others CASE_COLS reads. */
#define CASE_COLS \
	"c.case_id, c.status, c.kind, c.language, c.envelope_from, c.from_addr," \
	" c.from_name, c.subject, c.message_id, c.queue_id, c.recipients, c.missing," \
	" c.received_at, c.updated_at, c.acknowledged_at, c.ack_by, c.update_by," \
	" c.resolve_by, c.tickets, c.models, c.serials, c.description, c.solution_idea," \
	" c.year, c.node, c.seq"
enum { COL_TICKETS = CF_COUNT, COL_MODELS, COL_SERIALS, COL_DESCRIPTION, COL_SOLUTION,
	COL_YEAR, COL_NODE, COL_SEQ };

/* Parameters: see bind_filter(). */
#define FILTER_WHERE \
	" WHERE (?1 IS NULL OR instr(?1, ',' || c.status || ',') > 0)" \
	" AND (?2 IS NULL OR c.kind = ?2)" \
	" AND (?3 IS NULL OR c.language = ?3)" \
	" AND (?4 IS NULL OR EXISTS (SELECT 1 FROM json_each(c.models) j" \
	"  WHERE cm_keyeq(j.value, ?4, ?5)))" \
	" AND (?6 IS NULL OR EXISTS (SELECT 1 FROM json_each(c.serials) j" \
	"  WHERE cm_keyeq(j.value, ?6, ?7)))" \
	" AND (?8 IS NULL OR EXISTS (SELECT 1 FROM json_each(c.tickets) j" \
	"  WHERE cm_keyeq(j.value, ?8, ?9)))" \
	" AND (?10 IS NULL OR cm_ifind(c.from_addr, ?10) OR cm_ifind(c.from_name, ?10)" \
	"  OR cm_ifind(c.envelope_from, ?10))" \
	" AND (?11 IS NULL OR date(c.received_at, 'localtime') >= ?11)" \
	" AND (?12 IS NULL OR date(c.received_at, 'localtime') <= ?12)"

static const char SQL_LIST[] = "SELECT " CASE_COLS " FROM cases c" FILTER_WHERE
    " ORDER BY c.received_at DESC, c.id DESC";
static const char SQL_SHOW[] = "SELECT " CASE_COLS " FROM cases c WHERE c.case_id = ?1";
static const char SQL_MESSAGES[] = "SELECT received_at, direction, kind_of_message, subject,"
    " message_id, envelope_from, queue_id FROM messages WHERE case_id = ?1"
    " ORDER BY received_at, id";
static const char SQL_EVENTS[] = "SELECT at, type, json(detail), message_id, envelope_from,"
    " queue_id FROM events WHERE case_id = ?1 ORDER BY id";
static const char SQL_JSON_EACH[] = "SELECT value FROM json_each(?1) WHERE type = 'text'";
/* Per case: first update and last resolution (events), see cases_stats(). */
static const char SQL_STATS[] = "SELECT c.status, c.kind, c.models, c.received_at,"
    " c.acknowledged_at,"
    " (SELECT min(e.at) FROM events e WHERE e.case_id = c.case_id AND (e.type = 'updated'"
    "  OR (e.type = 'status' AND json_extract(e.detail, '$.to') = 'updated'))),"
    " (SELECT max(e.at) FROM events e WHERE e.case_id = c.case_id AND e.type = 'status'"
    "  AND json_extract(e.detail, '$.to') = 'resolved')"
    " FROM cases c" FILTER_WHERE " ORDER BY c.id";

/* ---- errors ---- */

static int
set_err(struct cases_db *db, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(db->errmsg, sizeof(db->errmsg), fmt, ap);
	va_end(ap);
	return -1;
}

static int
sql_err(struct cases_db *db, const char *what)
{
	return set_err(db, "%s: %s", what, sqlite3_errmsg(db->db));
}

const char *
cases_errmsg(const struct cases_db *db)
{
	return db->errmsg;
}

bool
cases_immutable(const struct cases_db *db)
{
	return db->immutable;
}

const char *
case_field_name(enum case_field f)
{
	return (unsigned)f < CF_COUNT ? FIELD_NAME[f] : "";
}

/* ---- SQL functions ---- */

/* cm_keyeq(value, key, prefix): norm_key(value) equals key (or starts with it). */
static void
fn_keyeq(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *v = (const char *)sqlite3_value_text(argv[0]);
	const char *key = (const char *)sqlite3_value_text(argv[1]);
	char nv[256];

	(void)argc;
	if (v == NULL || key == NULL) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	norm_key(v, nv, sizeof(nv));
	sqlite3_result_int(ctx, sqlite3_value_int(argv[2]) ?
	    strncmp(nv, key, strlen(key)) == 0 : strcmp(nv, key) == 0);
}

/* Case-folded copy of s (valid UTF-8 or not); g_free() it. */
static char *
fold(const char *s)
{
	char *valid = g_utf8_make_valid(s, -1);
	char *f = g_utf8_casefold(valid, -1);

	g_free(valid);
	return f;
}

/* cm_ifind(haystack, needle): needle occurs in haystack, ignoring case. */
static void
fn_ifind(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *h = (const char *)sqlite3_value_text(argv[0]);
	const char *n = (const char *)sqlite3_value_text(argv[1]);
	char *fh, *fn;

	(void)argc;
	if (h == NULL || n == NULL) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	fh = fold(h);
	fn = fold(n);
	sqlite3_result_int(ctx, strstr(fh, fn) != NULL);
	g_free(fh);
	g_free(fn);
}

static int
add_functions(sqlite3 *db)
{
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;

	if (sqlite3_create_function(db, "cm_keyeq", 3, flags, NULL, fn_keyeq, NULL, NULL) !=
	    SQLITE_OK)
		return -1;
	return sqlite3_create_function(db, "cm_ifind", 2, flags, NULL, fn_ifind, NULL, NULL) ==
	    SQLITE_OK ? 0 : -1;
}

/* ---- opening ---- */

/* "file:" URI of path, read-only and immutable. */
static char *
immutable_uri(const char *path)
{
	static const char keep[] = "/._-~";
	strbuf sb;
	int r;

	sb_init(&sb);
	r = sb_puts(&sb, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		r |= g_ascii_isalnum(*p) || strchr(keep, *p) ? sb_putc(&sb, (char)*p) :
		    sb_printf(&sb, "%%%02X", *p);
	if ((r |= sb_puts(&sb, "?mode=ro&immutable=1")) < 0) {
		sb_free(&sb);
		return NULL;
	}
	return sb_steal(&sb);
}

static bool
file_exists(const char *path, const char *suffix)
{
	char p[PATH_MAX];
	struct stat sb;

	if ((size_t)snprintf(p, sizeof(p), "%s%s", path, suffix) >= sizeof(p))
		return false;
	return stat(p, &sb) == 0;
}

static int
user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL)) != SQLITE_OK)
		return rc;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*v = sqlite3_column_int(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

/* A WAL database we cannot create the -shm of: read-only, no -shm to share. */
static bool
needs_immutable(int rc, const char *path)
{
	return (rc == SQLITE_READONLY_DIRECTORY || rc == SQLITE_READONLY_CANTINIT ||
	    (rc & 0xff) == SQLITE_CANTOPEN) && !file_exists(path, "-wal") &&
	    !file_exists(path, "-shm");
}

static int
open_as(struct cases_db *db, const char *name, int flags, unsigned busy_ms)
{
	int rc;

	sqlite3_close(db->db);
	db->db = NULL;
	rc = sqlite3_open_v2(name, &db->db, flags, NULL);
	if (db->db == NULL)
		return SQLITE_NOMEM;
	sqlite3_extended_result_codes(db->db, 1);
	sqlite3_busy_timeout(db->db, busy_ms > INT_MAX ? INT_MAX : (int)busy_ms);
	return rc;
}

static int
check_version(struct cases_db *db, const char *path, int v)
{
	if (v == 0)
		return set_err(db, "%s: not a case database (no schema)", path);
	if (v > store_schema_version())
		return set_err(db, "%s: schema version %d is newer than this program knows (%d);"
		    " run a newer complaint-cases", path, v, store_schema_version());
	if (v < store_schema_version())
		return set_err(db, "%s: schema version %d is older than this program's (%d);"
		    " start the new complaint-milter once to upgrade it", path, v,
		    store_schema_version());
	return 0;
}

static int
open_db(struct cases_db *db, const char *path, unsigned busy_ms)
{
	int rc, v = 0;
	char *uri;

	if (!file_exists(path, ""))
		return set_err(db, "%s: no such database: %s", path, strerror(errno));
	rc = open_as(db, path, SQLITE_OPEN_READONLY, busy_ms);
	if (rc == SQLITE_OK)
		rc = user_version(db->db, &v);
	if (rc != SQLITE_OK && needs_immutable(rc, path)) {
		if ((uri = immutable_uri(path)) == NULL)
			return set_err(db, "out of memory");
		rc = open_as(db, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, busy_ms);
		free(uri);
		db->immutable = true;
		if (rc == SQLITE_OK)
			rc = user_version(db->db, &v);
	}
	if (rc != SQLITE_OK)
		return set_err(db, "%s: cannot read: %s", path, db->db ?
		    sqlite3_errmsg(db->db) : "out of memory");
	if (check_version(db, path, v) < 0)
		return -1;
	return add_functions(db->db) < 0 ? sql_err(db, "functions") : 0;
}

struct cases_db *
cases_open(const char *path, unsigned busy_timeout_ms, char *err, size_t errlen)
{
	struct cases_db *db = calloc(1, sizeof(*db));

	if (db == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	if (open_db(db, path, busy_timeout_ms) < 0) {
		snprintf(err, errlen, "%s", db->errmsg);
		cases_close(db);
		return NULL;
	}
	return db;
}

void
cases_close(struct cases_db *db)
{
	if (db == NULL)
		return;
	sqlite3_close(db->db);
	free(db);
}

/* ---- statements ---- */

static sqlite3_stmt *
prepare(struct cases_db *db, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(db->db, sql, -1, &s, NULL) != SQLITE_OK) {
		sql_err(db, "prepare");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

static int
bt(sqlite3_stmt *s, int i, const char *v)
{
	return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, i);
}

/* A read transaction, so that one command sees one state of the database. */
static int
begin(struct cases_db *db)
{
	return sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0 :
	    sql_err(db, "begin");
}

static void
end(struct cases_db *db)
{
	if (!sqlite3_get_autocommit(db->db))
		sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
}

/* ---- filters ---- */

void
case_filter_init(struct case_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->limit = -1;
}

/* ",new,acknowledged," for the statuses in the mask; "" when none. */
static void
status_set(unsigned mask, char *buf, size_t n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int s = 0; s < CS_COUNT && o < n; s++)
		if (mask & (1u << s))
			o += (size_t)snprintf(buf + o, n - o, "%s%s,", o ? "" : ",",
			    case_status_name((enum case_status)s));
}

/* Bind a model, serial or ticket pattern as (key, prefix) at i, i + 1. */
static int
bind_key(sqlite3_stmt *s, int i, const char *pattern)
{
	char key[256], tmp[256];
	size_t n;
	bool prefix;

	if (pattern == NULL)
		return sqlite3_bind_null(s, i) | sqlite3_bind_int(s, i + 1, 0);
	snprintf(tmp, sizeof(tmp), "%s", pattern);
	n = strlen(tmp);
	prefix = n > 0 && tmp[n - 1] == '*';
	if (prefix)
		tmp[n - 1] = '\0';
	norm_key(tmp, key, sizeof(key));
	return bt(s, i, key) | sqlite3_bind_int(s, i + 1, prefix);
}

static int
bind_filter(sqlite3_stmt *s, const struct case_filter *f)
{
	char statuses[160];
	int b;

	status_set(f->statuses, statuses, sizeof(statuses));
	b = bt(s, 1, f->statuses ? statuses : NULL) | bt(s, 2, f->kind) | bt(s, 3, f->language);
	b |= bind_key(s, 4, f->model) | bind_key(s, 6, f->serial) | bind_key(s, 8, f->ticket);
	b |= bt(s, 10, f->from) | bt(s, 11, f->since) | bt(s, 12, f->until);
	return b;
}

/* ---- reading cases ---- */

static void
case_info_init(struct case_info *ci)
{
	memset(ci, 0, sizeof(*ci));
	sl_init(&ci->tickets);
	sl_init(&ci->models);
	sl_init(&ci->serials);
	ci->next = ci->worst = -1;
}

static void
case_info_free(struct case_info *ci)
{
	for (int i = 0; i < CF_COUNT; i++)
		free(ci->f[i]);
	free(ci->node);
	sl_free(&ci->tickets);
	sl_free(&ci->models);
	sl_free(&ci->serials);
	case_info_init(ci);
}

/* Copy column i of s (NULL stays NULL); -1 when out of memory. */
static int
col_dup(sqlite3_stmt *s, int i, char **out)
{
	const char *v = (const char *)sqlite3_column_text(s, i);

	*out = NULL;
	if (v == NULL)
		return sqlite3_column_type(s, i) == SQLITE_NULL ? 0 : -1;
	return (*out = strdup(v)) ? 0 : -1;
}

/* The strings of the JSON array json into sl. */
static int
load_list(struct cases_db *db, sqlite3_stmt *each, const char *json, strlist *sl)
{
	int rc;

	if (bt(each, 1, json ? json : "[]") != SQLITE_OK)
		return sql_err(db, "read list");
	while ((rc = sqlite3_step(each)) == SQLITE_ROW)
		if (sl_add(sl, (const char *)sqlite3_column_text(each, 0)) < 0) {
			sqlite3_reset(each);
			return set_err(db, "out of memory");
		}
	sqlite3_reset(each);
	return rc == SQLITE_DONE ? 0 : sql_err(db, "read list");
}

static void
case_dates_of(const struct case_info *ci, struct case_dates *d)
{
	d->status = ci->f[CF_STATUS];
	d->received_at = ci->f[CF_RECEIVED_AT];
	d->acknowledged_at = ci->f[CF_ACKNOWLEDGED_AT];
	d->ack_by = ci->f[CF_ACK_BY];
	d->update_by = ci->f[CF_UPDATE_BY];
	d->resolve_by = ci->f[CF_RESOLVE_BY];
}

static void
case_info_deadlines(struct case_info *ci, const struct calendar *cal, struct ymd today)
{
	struct case_dates d;

	case_dates_of(ci, &d);
	case_deadlines(cal, &d, today, ci->dl);
	ci->next = case_next_deadline(ci->dl);
	ci->worst = case_worst_overdue(ci->dl);
}

/* One row of CASE_COLS into ci. */
static int
read_case(struct cases_db *db, sqlite3_stmt *s, sqlite3_stmt *each, struct case_info *ci)
{
	for (int i = 0; i < CF_COUNT; i++)
		if (col_dup(s, i, &ci->f[i]) < 0)
			return set_err(db, "out of memory");
	if (col_dup(s, COL_NODE, &ci->node) < 0)
		return set_err(db, "out of memory");
	ci->description = sqlite3_column_int(s, COL_DESCRIPTION) != 0;
	ci->solution_idea = sqlite3_column_int(s, COL_SOLUTION) != 0;
	ci->year = sqlite3_column_int(s, COL_YEAR);
	ci->seq = (unsigned long long)sqlite3_column_int64(s, COL_SEQ);
	if (load_list(db, each, (const char *)sqlite3_column_text(s, COL_TICKETS), &ci->tickets) < 0 ||
	    load_list(db, each, (const char *)sqlite3_column_text(s, COL_MODELS), &ci->models) < 0 ||
	    load_list(db, each, (const char *)sqlite3_column_text(s, COL_SERIALS), &ci->serials) < 0)
		return -1;
	return 0;
}

static struct case_info *
list_push(struct case_list *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct case_info *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	case_info_init(&l->v[l->n]);
	return &l->v[l->n++];
}

void
case_list_free(struct case_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		case_info_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Run the list query into l (every matching case, newest first). */
static int
query_list(struct cases_db *db, const struct case_filter *f, const struct calendar *cal,
    struct ymd today, struct case_list *l)
{
	sqlite3_stmt *s = prepare(db, SQL_LIST), *each = prepare(db, SQL_JSON_EACH);
	struct case_info *ci;
	int rc = -1, step;

	if (s == NULL || each == NULL)
		goto out;
	if (bind_filter(s, f) != SQLITE_OK) {
		sql_err(db, "bind");
		goto out;
	}
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if ((ci = list_push(l)) == NULL) {
			set_err(db, "out of memory");
			goto out;
		}
		ci->ord = (long)l->n - 1;
		if (read_case(db, s, each, ci) < 0)
			goto out;
		case_info_deadlines(ci, cal, today);
		if (f->overdue && ci->worst < 0)
			case_info_free(&l->v[--l->n]);
	}
	rc = step == SQLITE_DONE ? 0 : sql_err(db, "list");
out:
	sqlite3_finalize(s);
	sqlite3_finalize(each);
	return rc;
}

static int
cmp_ord(const struct case_info *a, const struct case_info *b)
{
	return (a->ord > b->ord) - (a->ord < b->ord);
}

static int
cmp_received(const void *pa, const void *pb)
{
	return cmp_ord(pa, pb);
}

static int
cmp_case(const void *pa, const void *pb)
{
	const struct case_info *a = pa, *b = pb;
	int r;

	if (a->year != b->year)
		return a->year < b->year ? -1 : 1;
	if ((r = strcmp(a->node ? a->node : "", b->node ? b->node : "")) != 0)
		return r;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return cmp_ord(a, b);
}

static int
cmp_due(const void *pa, const void *pb)
{
	const struct case_info *a = pa, *b = pb;
	int r;

	if ((a->next < 0) != (b->next < 0))
		return a->next < 0 ? 1 : -1;
	if (a->next >= 0 && (r = ymd_cmp(a->dl[a->next].due, b->dl[b->next].due)) != 0)
		return r;
	return cmp_ord(a, b);
}

static int
cmp_overdue(const void *pa, const void *pb)
{
	const struct case_info *a = pa, *b = pb;
	long la = a->worst < 0 ? 0 : a->dl[a->worst].left;
	long lb = b->worst < 0 ? 0 : b->dl[b->worst].left;

	if (la != lb)
		return la < lb ? -1 : 1;
	return cmp_due(pa, pb);
}

static void
sort_list(struct case_list *l, enum case_sort sort)
{
	int (*cmp)(const void *, const void *) = sort == SORT_CASE ? cmp_case :
	    sort == SORT_DUE ? cmp_due : sort == SORT_OVERDUE ? cmp_overdue : cmp_received;

	if (l->n > 1)
		qsort(l->v, l->n, sizeof(l->v[0]), cmp);
}

/* Keep only v[offset .. offset + limit). */
static void
page_list(struct case_list *l, long offset, long limit)
{
	size_t from = offset > 0 ? (size_t)offset : 0, to;

	if (from > l->n)
		from = l->n;
	to = limit < 0 || (size_t)limit > l->n - from ? l->n : from + (size_t)limit;
	for (size_t i = 0; i < l->n; i++)
		if (i < from || i >= to)
			case_info_free(&l->v[i]);
	if (to > from)
		memmove(l->v, l->v + from, (to - from) * sizeof(l->v[0]));
	l->n = to - from;
}

int
cases_list(struct cases_db *db, const struct case_filter *f, const struct calendar *cal,
    struct ymd today, struct case_list *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (begin(db) < 0)
		return -1;
	rc = query_list(db, f, cal, today, out);
	end(db);
	if (rc < 0) {
		case_list_free(out);
		return -1;
	}
	out->total = out->n;
	sort_list(out, f->sort);
	page_list(out, f->offset, f->limit);
	return 0;
}

/* ---- one case ---- */

static int
rows_push(struct text_rows *t, char **cells)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **v = realloc(t->v, cap * t->ncols * sizeof(*v));

		if (v == NULL)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	memcpy(t->v + t->n * t->ncols, cells, t->ncols * sizeof(*cells));
	t->n++;
	return 0;
}

static void
rows_free(struct text_rows *t)
{
	for (size_t i = 0; i < t->n * t->ncols; i++)
		free(t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

/* Every row of sql (case_id bound as ?1) into t. */
static int
query_rows(struct cases_db *db, const char *sql, const char *case_id, struct text_rows *t)
{
	sqlite3_stmt *s = prepare(db, sql);
	char *cells[16];
	int rc = -1, step;

	if (s == NULL || t->ncols > sizeof(cells) / sizeof(cells[0]))
		goto out;
	if (bt(s, 1, case_id) != SQLITE_OK) {
		sql_err(db, "bind");
		goto out;
	}
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		size_t i;

		for (i = 0; i < t->ncols; i++)
			if (col_dup(s, (int)i, &cells[i]) < 0)
				break;
		if (i < t->ncols || rows_push(t, cells) < 0) {
			for (size_t k = 0; k < i; k++)
				free(cells[k]);
			set_err(db, "out of memory");
			goto out;
		}
	}
	rc = step == SQLITE_DONE ? 0 : sql_err(db, "read");
out:
	sqlite3_finalize(s);
	return rc;
}

static int
query_case(struct cases_db *db, const char *case_id, struct case_info *ci)
{
	sqlite3_stmt *s = prepare(db, SQL_SHOW), *each = prepare(db, SQL_JSON_EACH);
	int rc = -1, step;

	if (s == NULL || each == NULL)
		goto out;
	if (bt(s, 1, case_id) != SQLITE_OK) {
		sql_err(db, "bind");
		goto out;
	}
	step = sqlite3_step(s);
	if (step == SQLITE_ROW)
		rc = read_case(db, s, each, ci) < 0 ? -1 : 1;
	else
		rc = step == SQLITE_DONE ? 0 : sql_err(db, "find case");
out:
	sqlite3_finalize(s);
	sqlite3_finalize(each);
	return rc;
}

static void
case_detail_init(struct case_detail *d)
{
	memset(d, 0, sizeof(*d));
	case_info_init(&d->info);
	d->messages.ncols = MSG_NCOLS;
	d->events.ncols = EV_NCOLS;
}

int
cases_show(struct cases_db *db, const char *case_id, const struct calendar *cal,
    struct ymd today, struct case_detail *out)
{
	int rc;

	case_detail_init(out);
	if (begin(db) < 0)
		return -1;
	rc = query_case(db, case_id, &out->info);
	if (rc == 1 && (query_rows(db, SQL_MESSAGES, case_id, &out->messages) < 0 ||
	    query_rows(db, SQL_EVENTS, case_id, &out->events) < 0))
		rc = -1;
	end(db);
	if (rc == 1)
		case_info_deadlines(&out->info, cal, today);
	else
		case_detail_free(out);
	return rc;
}

void
case_detail_free(struct case_detail *d)
{
	case_info_free(&d->info);
	rows_free(&d->messages);
	rows_free(&d->events);
	case_detail_init(d);
}

/* ---- statistics ---- */

/* Working-day samples of one measure. */
struct samples {
	long *v;
	size_t n, cap;
};

static int
sample_add(struct samples *s, long x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		long *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
	return 0;
}

static int
cmp_long(const void *pa, const void *pb)
{
	long a = *(const long *)pa, b = *(const long *)pb;

	return (a > b) - (a < b);
}

static void
median_of(struct samples *s, struct stat_median *m)
{
	m->n = (long)s->n;
	m->value = 0;
	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof(s->v[0]), cmp_long);
	m->value = s->n % 2 ? (double)s->v[s->n / 2] :
	    ((double)s->v[s->n / 2 - 1] + (double)s->v[s->n / 2]) / 2.0;
}

/* Working days from receipt to the date of at; -1 when either is unknown. */
static long
wd_since(const struct calendar *cal, const char *received, const char *at)
{
	struct ymd r, a;

	if (ymd_of_iso(received, &r) < 0 || ymd_of_iso(at, &a) < 0)
		return -1;
	return calendar_working_days_between(cal, r, a);
}

struct stats_acc {
	struct samples ack, update, resolve;
};

static int
count_models(struct cases_db *db, sqlite3_stmt *each, const char *json, struct case_stats *st)
{
	strlist models;
	int rc = 0;

	sl_init(&models);
	if (load_list(db, each, json, &models) < 0) {
		sl_free(&models);
		return -1;
	}
	st->no_model += models.n == 0;
	for (size_t i = 0; i < models.n && rc == 0; i++) {
		long k = sl_find_norm(&st->models, models.v[i]);

		if (k < 0) {
			long *n = realloc(st->model_n, (st->models.n + 1) * sizeof(*n));

			if (n == NULL || sl_add(&st->models, models.v[i]) < 0) {
				if (n)
					st->model_n = n;
				rc = set_err(db, "out of memory");
				break;
			}
			st->model_n = n;
			k = (long)st->models.n - 1;
			st->model_n[k] = 0;
		}
		st->model_n[k]++;
	}
	sl_free(&models);
	return rc;
}

/* Resolved within 30 working days: known once resolved or once the 30 are over. */
static void
count_within30(struct case_stats *st, const struct calendar *cal, int status,
    const char *received, long to_resolve, struct ymd today)
{
	struct ymd r;

	if (to_resolve >= 0) {
		st->within30_known++;
		st->within30 += to_resolve <= POLICY_RESOLVE_DAYS;
	} else if (case_status_open((enum case_status)status) && ymd_of_iso(received, &r) == 0 &&
	    calendar_working_days_between(cal, r, today) > POLICY_RESOLVE_DAYS)
		st->within30_known++;
}

static int
stats_row(struct cases_db *db, sqlite3_stmt *s, sqlite3_stmt *each,
    const struct calendar *cal, struct ymd today, struct case_stats *st,
    struct stats_acc *acc)
{
	const char *received = (const char *)sqlite3_column_text(s, 3);
	int status = case_status_parse((const char *)sqlite3_column_text(s, 0));
	const char *kind = (const char *)sqlite3_column_text(s, 1);
	long ack = wd_since(cal, received, (const char *)sqlite3_column_text(s, 4));
	long upd = wd_since(cal, received, (const char *)sqlite3_column_text(s, 5));
	long res = -1;

	st->total++;
	if (status >= 0)
		st->status[status]++;
	st->kind[kind && strcmp(kind, "service") == 0 ? 0 :
	    kind && strcmp(kind, "product") == 0 ? 1 : 2]++;
	/* A resolution counts while the case is resolved or closed (not reopened). */
	if (status == CS_RESOLVED || status == CS_CLOSED)
		res = wd_since(cal, received, (const char *)sqlite3_column_text(s, 6));
	count_within30(st, cal, status, received, res, today);
	if ((ack >= 0 && sample_add(&acc->ack, ack) < 0) ||
	    (upd >= 0 && sample_add(&acc->update, upd) < 0) ||
	    (res >= 0 && sample_add(&acc->resolve, res) < 0))
		return set_err(db, "out of memory");
	return count_models(db, each, (const char *)sqlite3_column_text(s, 2), st);
}

static int
query_stats(struct cases_db *db, const struct case_filter *f, const struct calendar *cal,
    struct ymd today, struct case_stats *st, struct stats_acc *acc)
{
	sqlite3_stmt *s = prepare(db, SQL_STATS), *each = prepare(db, SQL_JSON_EACH);
	int rc = -1, step;

	if (s == NULL || each == NULL)
		goto out;
	if (bind_filter(s, f) != SQLITE_OK) {
		sql_err(db, "bind");
		goto out;
	}
	while ((step = sqlite3_step(s)) == SQLITE_ROW)
		if (stats_row(db, s, each, cal, today, st, acc) < 0)
			goto out;
	rc = step == SQLITE_DONE ? 0 : sql_err(db, "stats");
out:
	sqlite3_finalize(s);
	sqlite3_finalize(each);
	return rc;
}

int
cases_stats(struct cases_db *db, const struct case_filter *f, const struct calendar *cal,
    struct ymd today, struct case_stats *out)
{
	struct stats_acc acc;
	int rc;

	memset(out, 0, sizeof(*out));
	sl_init(&out->models);
	memset(&acc, 0, sizeof(acc));
	if (begin(db) < 0)
		return -1;
	rc = query_stats(db, f, cal, today, out, &acc);
	end(db);
	median_of(&acc.ack, &out->to_ack);
	median_of(&acc.update, &out->to_update);
	median_of(&acc.resolve, &out->to_resolve);
	free(acc.ack.v);
	free(acc.update.v);
	free(acc.resolve.v);
	if (rc < 0)
		case_stats_free(out);
	return rc;
}

void
case_stats_free(struct case_stats *s)
{
	sl_free(&s->models);
	free(s->model_n);
	s->model_n = NULL;
}
