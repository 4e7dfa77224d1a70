/*
 * cases_out.c - tables, JSON and CSV of complaint-cases.
 *
 * A table is built as rows of cells (struct table), then printed with each
 * column as wide as its widest cell, counted in terminal columns (GLib tells
 * wide and zero-width characters).  JSON and CSV are written straight to
 * the buffer.
 */
#include "cases_out.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define SUBJECT_WIDTH	40
#define FROM_WIDTH	28
#define TABLE_MAXCOLS	12

static const char *const KIND[3] = { "service", "product", "unknown" };

/* ---- text for people ---- */

static const char *
or_dash(const char *s)
{
	return s && *s ? s : "-";
}

/* "YYYY-MM-DD" of an ISO time (or the text itself when it is no time). */
static void
date_of(const char *iso, char *buf, size_t n)
{
	struct ymd d;

	if (ymd_of_iso(iso, &d) == 0)
		ymd_format(d, buf, n);
	else
		snprintf(buf, n, "%s", or_dash(iso));
}

/* First entry of a list, "+N" when there are more. */
static void
first_of(const strlist *sl, char *buf, size_t n)
{
	if (sl->n == 0)
		snprintf(buf, n, "-");
	else if (sl->n == 1)
		snprintf(buf, n, "%s", sl->v[0]);
	else
		snprintf(buf, n, "%s +%zu", sl->v[0], sl->n - 1);
}

/* "4", "today", "3 late"; left of deadline dl. */
static void
left_text(const struct deadline *dl, struct ymd today, char *buf, size_t n)
{
	if (dl->left > 0)
		snprintf(buf, n, "%ld", dl->left);
	else if (dl->left == 0)
		snprintf(buf, n, "%s", ymd_cmp(dl->due, today) >= 0 ? "today" : "0 (passed)");
	else
		snprintf(buf, n, "%ld late", -dl->left);
}

/* ---- tables ---- */

struct table {
	size_t ncols;
	bool right[TABLE_MAXCOLS];	/* right-aligned column */
	size_t maxw[TABLE_MAXCOLS];	/* cut cells wider than this (0: never) */
	strlist cells;			/* row after row */
};

static void
table_init(struct table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols < TABLE_MAXCOLS ? ncols : TABLE_MAXCOLS;
	sl_init(&t->cells);
}

/* Add a row of t->ncols cells (NULL is "-"). */
static int
table_row(struct table *t, const char *const *cells)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (sl_add(&t->cells, or_dash(cells[i])) < 0)
			return -1;
	return 0;
}

/* Terminal columns of one character. */
static size_t
char_width(gunichar c)
{
	if (g_unichar_iszerowidth(c))
		return 0;
	return g_unichar_iswide(c) ? 2 : 1;
}

/* The character at p and its length in bytes; an invalid byte is BAD, 1 byte. */
#define BAD ((gunichar)-1)

static gunichar
char_at(const char *p, size_t *len)
{
	gunichar c = g_utf8_get_char_validated(p, -1);

	if (c == (gunichar)-1 || c == (gunichar)-2) {
		*len = 1;
		return BAD;
	}
	*len = (size_t)(g_utf8_next_char(p) - p);
	return c;
}

/*
 * Append s for a terminal: control characters and invalid UTF-8 as '?', at
 * most maxw columns (0: no limit; longer text ends in "...").  Returns the
 * columns used, or -1.
 */
static long
put_clean(strbuf *sb, const char *s, size_t maxw)
{
	size_t w = 0, full = 0, len;
	const char *p;
	int r = 0;

	for (p = s; *p; p += len) {
		gunichar c = char_at(p, &len);

		full += c == BAD ? 1 : char_width(c);
	}
	for (p = s; *p && r == 0; p += len) {
		gunichar c = char_at(p, &len);
		size_t cw = c == BAD ? 1 : char_width(c);

		if (maxw > 3 && full > maxw && w + cw > maxw - 3)
			return sb_puts(sb, "...") < 0 ? -1 : (long)(w + 3);
		if (c == BAD || c < 0x20 || (c >= 0x7f && c < 0xa0))
			r = sb_putc(sb, '?');
		else
			r = sb_append(sb, p, len);
		w += cw;
	}
	return r < 0 ? -1 : (long)w;
}

/* Columns s takes once cleaned and cut to maxw. */
static size_t
cell_width(const char *s, size_t maxw)
{
	strbuf tmp;
	long w;

	sb_init(&tmp);
	w = put_clean(&tmp, s, maxw);
	sb_free(&tmp);
	return w < 0 ? 0 : (size_t)w;
}

static int
pad(strbuf *sb, size_t n)
{
	int r = 0;

	while (n-- > 0 && r == 0)
		r = sb_putc(sb, ' ');
	return r;
}

static int
table_print(strbuf *sb, struct table *t)
{
	size_t width[TABLE_MAXCOLS] = { 0 }, rows = t->cells.n / t->ncols;
	int r = 0;

	for (size_t i = 0; i < t->cells.n; i++) {
		size_t w = cell_width(t->cells.v[i], t->maxw[i % t->ncols]);

		if (w > width[i % t->ncols])
			width[i % t->ncols] = w;
	}
	for (size_t row = 0; row < rows && r == 0; row++) {
		for (size_t c = 0; c < t->ncols && r == 0; c++) {
			const char *cell = t->cells.v[row * t->ncols + c];
			size_t w = cell_width(cell, t->maxw[c]);
			bool last = c + 1 == t->ncols;

			if (c)
				r |= sb_puts(sb, "  ");
			if (t->right[c])
				r |= pad(sb, width[c] - w);
			r |= put_clean(sb, cell, t->maxw[c]) < 0 ? -1 : 0;
			if (!t->right[c] && !last)
				r |= pad(sb, width[c] - w);
		}
		r |= sb_putc(sb, '\n');
	}
	sl_free(&t->cells);
	return r;
}

/* ---- JSON ---- */

/* ,"key": (no comma right after '{' or '['). */
static int
jkey(strbuf *sb, const char *key)
{
	char last = sb->len ? sb->s[sb->len - 1] : '\0';
	int r = 0;

	if (last != '{' && last != '[' && last != '\0' && last != '\n')
		r = sb_putc(sb, ',');
	return r | json_string(sb, key) | sb_putc(sb, ':');
}

static int
jstr(strbuf *sb, const char *key, const char *v)
{
	return jkey(sb, key) | (v ? json_string(sb, v) : sb_puts(sb, "null"));
}

static int
jlong(strbuf *sb, const char *key, long v)
{
	return jkey(sb, key) | sb_printf(sb, "%ld", v);
}

static int
jbool(strbuf *sb, const char *key, bool v)
{
	return jkey(sb, key) | sb_puts(sb, v ? "true" : "false");
}

static int
jlist(strbuf *sb, const char *key, const strlist *sl)
{
	int r = jkey(sb, key) | sb_putc(sb, '[');

	for (size_t i = 0; i < sl->n; i++)
		r |= (i ? sb_putc(sb, ',') : 0) | json_string(sb, sl->v[i]);
	return r | sb_putc(sb, ']');
}

/* The comma list "ticket,description" as a JSON array. */
static int
jcsv_list(strbuf *sb, const char *key, const char *csv)
{
	strlist sl;
	int r = 0;

	sl_init(&sl);
	for (const char *p = csv ? csv : ""; *p && r == 0;) {
		size_t n = strcspn(p, ",");

		if (n)
			r = sl_addn(&sl, p, n);
		p += n + (p[n] == ',');
	}
	r |= jlist(sb, key, &sl);
	sl_free(&sl);
	return r;
}

static int
jdate(strbuf *sb, const char *key, const struct deadline *dl)
{
	char d[16];

	if (!dl->known)
		return jstr(sb, key, NULL);
	ymd_format(dl->due, d, sizeof(d));
	return jstr(sb, key, d);
}

static int
jdeadlines(strbuf *sb, const struct case_info *ci)
{
	int r = jkey(sb, "deadlines") | sb_putc(sb, '{');

	for (int k = 0; k < DL_COUNT; k++) {
		const struct deadline *dl = &ci->dl[k];

		r |= jkey(sb, deadline_name((enum deadline_kind)k)) | sb_putc(sb, '{');
		r |= jdate(sb, "due", dl) | jbool(sb, "stored", dl->stored) |
		    jbool(sb, "applies", dl->applies);
		r |= dl->known ? jlong(sb, "working_days_left", dl->left) :
		    jstr(sb, "working_days_left", NULL);
		r |= sb_putc(sb, '}');
	}
	return r | sb_putc(sb, '}');
}

/* next_due, next_due_date, working_days_left, overdue, overdue_what, overdue_days */
static int
jdue(strbuf *sb, const struct case_info *ci)
{
	int r = 0;

	if (ci->next >= 0)
		r |= jstr(sb, "next_due", deadline_name((enum deadline_kind)ci->next)) |
		    jdate(sb, "next_due_date", &ci->dl[ci->next]) |
		    jlong(sb, "working_days_left", ci->dl[ci->next].left);
	else
		r |= jstr(sb, "next_due", NULL) | jstr(sb, "next_due_date", NULL) |
		    jstr(sb, "working_days_left", NULL);
	r |= jbool(sb, "overdue", ci->worst >= 0);
	r |= jstr(sb, "overdue_what", ci->worst >= 0 ?
	    deadline_name((enum deadline_kind)ci->worst) : NULL);
	return r | jlong(sb, "overdue_days", ci->worst >= 0 ? -ci->dl[ci->worst].left : 0);
}

static int
json_case(strbuf *sb, const struct case_info *ci)
{
	static const enum case_field plain[] = {
		CF_CASE_ID, CF_STATUS, CF_KIND, CF_LANGUAGE, CF_RECEIVED_AT, CF_UPDATED_AT,
		CF_ACKNOWLEDGED_AT, CF_FROM_ADDR, CF_FROM_NAME, CF_ENVELOPE_FROM, CF_SUBJECT,
		CF_MESSAGE_ID, CF_QUEUE_ID, CF_RECIPIENTS,
	};
	int r = sb_putc(sb, '{');

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		r |= jstr(sb, case_field_name(plain[i]), ci->f[plain[i]]);
	r |= jlist(sb, "tickets", &ci->tickets) | jlist(sb, "models", &ci->models) |
	    jlist(sb, "serials", &ci->serials) | jcsv_list(sb, "missing", ci->f[CF_MISSING]);
	r |= jbool(sb, "description", ci->description) |
	    jbool(sb, "solution_idea", ci->solution_idea);
	for (int k = 0; k < DL_COUNT; k++)
		r |= jdate(sb, deadline_column((enum deadline_kind)k), &ci->dl[k]);
	r |= jdeadlines(sb, ci) | jdue(sb, ci);
	return r | sb_putc(sb, '}');
}

/* ---- CSV ---- */

int
csv_field(strbuf *sb, const char *v, bool guard)
{
	bool quote;
	int r = 0;

	if (v == NULL)
		return 0;
	quote = strpbrk(v, ",\"\r\n") != NULL;
	guard = guard && *v && strchr("=+-@", *v) != NULL;
	if (quote)
		r |= sb_putc(sb, '"');
	if (guard)
		r |= sb_putc(sb, '\'');
	for (const char *p = v; *p && r == 0; p++)
		r |= *p == '"' ? sb_puts(sb, "\"\"") : sb_putc(sb, *p);
	if (quote)
		r |= sb_putc(sb, '"');
	return r;
}

static int
csv_row(strbuf *sb, const char *const *cells, const bool *guard, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n; i++)
		r |= (i ? sb_putc(sb, ',') : 0) | csv_field(sb, cells[i], guard && guard[i]);
	return r | sb_puts(sb, "\r\n");
}

static const char *const CSV_HEADER[] = {
	"case_id", "received_at", "status", "kind", "language", "from_addr", "from_name",
	"subject", "tickets", "models", "serials", "missing", "ack_by", "update_by",
	"resolve_by", "next_due", "next_due_date", "working_days_left", "overdue_days",
};
#define CSV_NCOLS (sizeof(CSV_HEADER) / sizeof(CSV_HEADER[0]))

/* Customer text: guarded against formulas. */
static const bool CSV_GUARD[CSV_NCOLS] = {
	[5] = true, [6] = true, [7] = true, [8] = true, [9] = true, [10] = true,
};

static int
csv_case(strbuf *sb, const struct case_info *ci)
{
	char dates[DL_COUNT][16], next_date[16] = "", left[24] = "", late[24];
	char *lists[3] = { sl_join(&ci->tickets, "; "), sl_join(&ci->models, "; "),
	    sl_join(&ci->serials, "; ") };
	int r = -1;

	for (int k = 0; k < DL_COUNT; k++)
		if (ci->dl[k].known)
			ymd_format(ci->dl[k].due, dates[k], sizeof(dates[k]));
		else
			dates[k][0] = '\0';
	if (ci->next >= 0) {
		ymd_format(ci->dl[ci->next].due, next_date, sizeof(next_date));
		snprintf(left, sizeof(left), "%ld", ci->dl[ci->next].left);
	}
	snprintf(late, sizeof(late), "%ld", ci->worst >= 0 ? -ci->dl[ci->worst].left : 0);
	if (lists[0] && lists[1] && lists[2]) {
		const char *cells[CSV_NCOLS] = {
			ci->f[CF_CASE_ID], ci->f[CF_RECEIVED_AT], ci->f[CF_STATUS], ci->f[CF_KIND],
			ci->f[CF_LANGUAGE], ci->f[CF_FROM_ADDR], ci->f[CF_FROM_NAME],
			ci->f[CF_SUBJECT], lists[0], lists[1], lists[2], ci->f[CF_MISSING],
			dates[DL_ACK], dates[DL_UPDATE], dates[DL_RESOLVE],
			ci->next >= 0 ? deadline_name((enum deadline_kind)ci->next) : "",
			next_date, left, late,
		};

		r = csv_row(sb, cells, CSV_GUARD, CSV_NCOLS);
	}
	for (int i = 0; i < 3; i++)
		free(lists[i]);
	return r;
}

/* ---- list and overdue ---- */

static int
list_json(strbuf *sb, const struct case_list *l)
{
	int r = sb_putc(sb, '[');

	for (size_t i = 0; i < l->n; i++)
		r |= sb_puts(sb, i ? ",\n" : "\n") | json_case(sb, &l->v[i]);
	return r | sb_puts(sb, l->n ? "\n]\n" : "]\n");
}

static int
list_csv(strbuf *sb, const struct case_list *l)
{
	int r = csv_row(sb, CSV_HEADER, NULL, CSV_NCOLS);

	for (size_t i = 0; i < l->n; i++)
		r |= csv_case(sb, &l->v[i]);
	return r;
}

/* One row of the list table. */
static int
list_row(struct table *t, const struct case_info *ci, struct ymd today)
{
	char recv[16], model[64], serial[64], ticket[64], due[32] = "-", left[32] = "-";
	const char *from = ci->f[CF_FROM_ADDR] && *ci->f[CF_FROM_ADDR] ?
	    ci->f[CF_FROM_ADDR] : ci->f[CF_ENVELOPE_FROM];

	date_of(ci->f[CF_RECEIVED_AT], recv, sizeof(recv));
	first_of(&ci->models, model, sizeof(model));
	first_of(&ci->serials, serial, sizeof(serial));
	first_of(&ci->tickets, ticket, sizeof(ticket));
	if (ci->next >= 0) {
		char d[16];

		ymd_format(ci->dl[ci->next].due, d, sizeof(d));
		snprintf(due, sizeof(due), "%s %s", deadline_name((enum deadline_kind)ci->next), d);
		left_text(&ci->dl[ci->next], today, left, sizeof(left));
	}
	const char *cells[] = { ci->f[CF_CASE_ID], recv, ci->f[CF_STATUS], ci->f[CF_KIND],
	    model, serial, ticket, from, due, left, ci->f[CF_SUBJECT] };
	return table_row(t, cells);
}

static int
overdue_row(struct table *t, const struct case_info *ci)
{
	char recv[16], model[64], due[16] = "-", late[24] = "-";
	const char *from = ci->f[CF_FROM_ADDR] && *ci->f[CF_FROM_ADDR] ?
	    ci->f[CF_FROM_ADDR] : ci->f[CF_ENVELOPE_FROM];
	const char *what = "-";

	date_of(ci->f[CF_RECEIVED_AT], recv, sizeof(recv));
	first_of(&ci->models, model, sizeof(model));
	if (ci->worst >= 0) {
		ymd_format(ci->dl[ci->worst].due, due, sizeof(due));
		snprintf(late, sizeof(late), "%ld", -ci->dl[ci->worst].left);
		what = deadline_name((enum deadline_kind)ci->worst);
	}
	const char *cells[] = { ci->f[CF_CASE_ID], ci->f[CF_STATUS], late, what, due, recv,
	    from, model, ci->f[CF_SUBJECT] };
	return table_row(t, cells);
}

static int
list_footer(strbuf *sb, const struct case_list *l, bool overdue_view, struct ymd today)
{
	char d[16];

	ymd_format(today, d, sizeof(d));
	if (l->total == 0)
		return sb_printf(sb, "no %scases match (today %s)\n", overdue_view ? "overdue " : "", d);
	if (l->n == l->total)
		return sb_printf(sb, "%zu %scase%s (working days, today %s)\n", l->n,
		    overdue_view ? "overdue " : "", l->n == 1 ? "" : "s", d);
	return sb_printf(sb, "%zu of %zu %scases (working days, today %s)\n", l->n, l->total,
	    overdue_view ? "overdue " : "", d);
}

static int
list_table(strbuf *sb, const struct case_list *l, bool overdue_view, struct ymd today)
{
	static const char *const head[] = { "CASE", "RECEIVED", "STATUS", "KIND", "MODEL",
	    "SERIAL", "TICKET", "FROM", "NEXT DUE", "WD LEFT", "SUBJECT" };
	static const char *const ohead[] = { "CASE", "STATUS", "WD LATE", "MISSED", "DUE",
	    "RECEIVED", "FROM", "MODEL", "SUBJECT" };
	struct table t;
	int r;

	table_init(&t, overdue_view ? 9 : 11);
	t.maxw[overdue_view ? 8 : 10] = SUBJECT_WIDTH;
	t.maxw[overdue_view ? 6 : 7] = FROM_WIDTH;
	t.right[overdue_view ? 2 : 9] = true;
	r = table_row(&t, overdue_view ? ohead : head);
	for (size_t i = 0; i < l->n; i++)
		r |= overdue_view ? overdue_row(&t, &l->v[i]) : list_row(&t, &l->v[i], today);
	r |= l->n ? table_print(sb, &t) : 0;
	sl_free(&t.cells);
	return r | list_footer(sb, l, overdue_view, today);
}

int
cases_out_list(strbuf *sb, const struct case_list *l, enum out_format fmt, bool overdue_view,
    struct ymd today)
{
	if (fmt == OUT_JSON)
		return list_json(sb, l);
	if (fmt == OUT_CSV)
		return list_csv(sb, l);
	return list_table(sb, l, overdue_view, today);
}

/* ---- show ---- */

static int
show_json(strbuf *sb, const struct case_detail *d, struct ymd today)
{
	static const char *const mcols[MSG_NCOLS] = { "at", "direction", "kind", "subject",
	    "message_id", "envelope_from", "queue_id" };
	static const char *const ecols[EV_NCOLS] = { "at", "type", "detail", "message_id",
	    "envelope_from", "queue_id" };
	char day[16];
	int r;

	ymd_format(today, day, sizeof(day));
	r = sb_putc(sb, '{') | jstr(sb, "today", day) | jkey(sb, "case") | json_case(sb, &d->info);
	r |= jkey(sb, "messages") | sb_putc(sb, '[');
	for (size_t i = 0; i < d->messages.n; i++) {
		char *const *row = d->messages.v + i * MSG_NCOLS;

		r |= (i ? sb_putc(sb, ',') : 0) | sb_putc(sb, '{');
		for (int c = 0; c < MSG_NCOLS; c++)
			r |= jstr(sb, mcols[c], row[c]);
		r |= sb_putc(sb, '}');
	}
	r |= sb_putc(sb, ']') | jkey(sb, "events") | sb_putc(sb, '[');
	for (size_t i = 0; i < d->events.n; i++) {
		char *const *row = d->events.v + i * EV_NCOLS;

		r |= (i ? sb_putc(sb, ',') : 0) | sb_putc(sb, '{');
		for (int c = 0; c < EV_NCOLS; c++)
			/* detail is JSON already (json() of a CHECKed column) */
			r |= c == EV_DETAIL ? jkey(sb, ecols[c]) | sb_puts(sb, row[c] ? row[c] : "null") :
			    jstr(sb, ecols[c], row[c]);
		r |= sb_putc(sb, '}');
	}
	return r | sb_puts(sb, "]}\n");
}

/* The state of one deadline for people. */
static void
deadline_text(const struct case_info *ci, int k, struct ymd today, char *buf, size_t n)
{
	const struct deadline *dl = &ci->dl[k];
	char ack[16], left[32];

	if (!dl->known)
		snprintf(buf, n, "unknown (no date received)");
	else if (k == DL_ACK && ci->f[CF_ACKNOWLEDGED_AT]) {
		struct ymd a;

		date_of(ci->f[CF_ACKNOWLEDGED_AT], ack, sizeof(ack));
		snprintf(buf, n, "met: acknowledged %s%s", ack,
		    ymd_of_iso(ci->f[CF_ACKNOWLEDGED_AT], &a) == 0 && ymd_cmp(a, dl->due) > 0 ?
		    " (late)" : "");
	} else if (!dl->applies)
		snprintf(buf, n, "does not apply: the case is %s", or_dash(ci->f[CF_STATUS]));
	else if (dl->left < 0)
		snprintf(buf, n, "OVERDUE by %ld working day%s", -dl->left, dl->left == -1 ? "" : "s");
	else if (dl->left == 0)
		snprintf(buf, n, "%s", ymd_cmp(dl->due, today) >= 0 ? "due today" :
		    "passed, no working day since");
	else {
		left_text(dl, today, left, sizeof(left));
		snprintf(buf, n, "%s working day%s left", left, dl->left == 1 ? "" : "s");
	}
}

static int
show_fields(strbuf *sb, const struct case_info *ci)
{
	char *t = sl_join(&ci->tickets, ", "), *m = sl_join(&ci->models, ", ");
	char *s = sl_join(&ci->serials, ", "), from[512];
	struct table tb;
	int r = -1;

	snprintf(from, sizeof(from), "%s%s<%s>", ci->f[CF_FROM_NAME] ? ci->f[CF_FROM_NAME] : "",
	    ci->f[CF_FROM_NAME] && *ci->f[CF_FROM_NAME] ? " " : "", or_dash(ci->f[CF_FROM_ADDR]));
	table_init(&tb, 2);
	if (t && m && s) {
		const char *rows[][2] = {
			{ "Case", ci->f[CF_CASE_ID] }, { "Status", ci->f[CF_STATUS] },
			{ "Kind", ci->f[CF_KIND] }, { "Language", ci->f[CF_LANGUAGE] },
			{ "Subject", ci->f[CF_SUBJECT] }, { "From", from },
			{ "Envelope from", ci->f[CF_ENVELOPE_FROM] },
			{ "Recipients", ci->f[CF_RECIPIENTS] },
			{ "Received", ci->f[CF_RECEIVED_AT] }, { "Updated", ci->f[CF_UPDATED_AT] },
			{ "Acknowledged", ci->f[CF_ACKNOWLEDGED_AT] },
			{ "Tickets", t }, { "Models", m }, { "Serials", s },
			{ "Missing", ci->f[CF_MISSING] },
			{ "Description", ci->description ? "yes" : "no" },
			{ "Solution idea", ci->solution_idea ? "yes" : "no" },
			{ "Message-ID", ci->f[CF_MESSAGE_ID] }, { "Queue ID", ci->f[CF_QUEUE_ID] },
		};

		r = 0;
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
			r |= table_row(&tb, rows[i]);
		r |= table_print(sb, &tb);
	}
	sl_free(&tb.cells);
	free(t);
	free(m);
	free(s);
	return r;
}

static int
show_deadlines(strbuf *sb, const struct case_info *ci, struct ymd today)
{
	static const char *const label[DL_COUNT] = { "  acknowledge by", "  update by",
	    "  resolve by" };
	char day[16], due[16], text[96];
	bool computed = false;
	struct table t;
	int r;

	ymd_format(today, day, sizeof(day));
	table_init(&t, 3);
	r = sb_printf(sb, "\nDeadlines (working days, today %s)\n", day);
	for (int k = 0; k < DL_COUNT; k++) {
		const struct deadline *dl = &ci->dl[k];

		snprintf(due, sizeof(due), "-");
		if (dl->known) {
			ymd_format(dl->due, due, sizeof(due));
			if (!dl->stored) {
				strcat(due, "*");
				computed = true;
			}
		}
		deadline_text(ci, k, today, text, sizeof(text));
		const char *cells[] = { label[k], due, text };
		r |= table_row(&t, cells);
	}
	r |= table_print(sb, &t);
	sl_free(&t.cells);
	if (computed)
		r |= sb_puts(sb, "  * worked out from the policy (not stored on the case)\n");
	return r;
}

/* rows under a title; the last column (subject, detail) is cut at width (0: never). */
static int
show_rows(strbuf *sb, const char *title, const struct text_rows *rows, const int *cols,
    size_t ncols, size_t width)
{
	struct table t;
	int r = sb_printf(sb, "\n%s (%zu)\n", title, rows->n);

	if (rows->n == 0)
		return r;
	table_init(&t, ncols + 1);
	t.maxw[ncols] = width;
	for (size_t i = 0; i < rows->n; i++) {
		const char *cells[TABLE_MAXCOLS] = { " " };

		for (size_t c = 0; c < ncols; c++)
			cells[c + 1] = rows->v[i * rows->ncols + (size_t)cols[c]];
		r |= table_row(&t, cells);
	}
	r |= table_print(sb, &t);
	sl_free(&t.cells);
	return r;
}

static int
show_table(strbuf *sb, const struct case_detail *d, struct ymd today)
{
	static const int mcols[] = { MSG_AT, MSG_DIRECTION, MSG_KIND, MSG_FROM, MSG_MESSAGE_ID,
	    MSG_SUBJECT };
	static const int ecols[] = { EV_AT, EV_TYPE, EV_DETAIL };

	return show_fields(sb, &d->info) | show_deadlines(sb, &d->info, today) |
	    show_rows(sb, "Messages", &d->messages, mcols, 6, 60) |
	    show_rows(sb, "Events", &d->events, ecols, 3, 0);
}

int
cases_out_show(strbuf *sb, const struct case_detail *d, enum out_format fmt, struct ymd today)
{
	return fmt == OUT_JSON ? show_json(sb, d, today) : show_table(sb, d, today);
}

/* ---- stats ---- */

static int
jmedian(strbuf *sb, const char *key, const struct stat_median *m)
{
	return m->n ? jkey(sb, key) | sb_printf(sb, "%g", m->value) : jstr(sb, key, NULL);
}

static int
stats_json(strbuf *sb, const struct case_stats *s)
{
	int r = sb_putc(sb, '{') | jlong(sb, "total", s->total);

	r |= jkey(sb, "by_status") | sb_putc(sb, '{');
	for (int i = 0; i < CS_COUNT; i++)
		r |= jlong(sb, case_status_name((enum case_status)i), s->status[i]);
	r |= sb_putc(sb, '}') | jkey(sb, "by_kind") | sb_putc(sb, '{');
	for (int i = 0; i < 3; i++)
		r |= jlong(sb, KIND[i], s->kind[i]);
	r |= sb_putc(sb, '}') | jkey(sb, "by_model") | sb_putc(sb, '{');
	for (size_t i = 0; i < s->models.n; i++)
		r |= jlong(sb, s->models.v[i], s->model_n[i]);
	r |= sb_putc(sb, '}') | jlong(sb, "no_model", s->no_model);
	r |= jkey(sb, "median_working_days") | sb_putc(sb, '{') |
	    jmedian(sb, "acknowledgement", &s->to_ack) |
	    jmedian(sb, "first_update", &s->to_update) |
	    jmedian(sb, "resolution", &s->to_resolve) | sb_putc(sb, '}');
	r |= jkey(sb, "measured") | sb_putc(sb, '{') | jlong(sb, "acknowledgement", s->to_ack.n) |
	    jlong(sb, "first_update", s->to_update.n) | jlong(sb, "resolution", s->to_resolve.n) |
	    sb_putc(sb, '}');
	r |= jkey(sb, "resolved_within_30") | sb_putc(sb, '{') | jlong(sb, "resolved", s->within30) |
	    jlong(sb, "of", s->within30_known);
	r |= s->within30_known ? jkey(sb, "share") |
	    sb_printf(sb, "%.3f", (double)s->within30 / (double)s->within30_known) :
	    jstr(sb, "share", NULL);
	return r | sb_puts(sb, "}}\n");
}

static int
csv_stat(strbuf *sb, const char *group, const char *key, const char *fmt, double v)
{
	char num[32];
	const char *cells[3] = { group, key, num };

	snprintf(num, sizeof(num), fmt, v);
	return csv_row(sb, cells, (const bool[3]){ false, true, false }, 3);
}

static int
stats_csv(strbuf *sb, const struct case_stats *s)
{
	const struct { const char *key; const struct stat_median *m; } med[] = {
		{ "acknowledgement", &s->to_ack }, { "first_update", &s->to_update },
		{ "resolution", &s->to_resolve } };
	const char *head[3] = { "group", "key", "value" };
	int r = csv_row(sb, head, NULL, 3) | csv_stat(sb, "total", "", "%.0f", (double)s->total);

	for (int i = 0; i < CS_COUNT; i++)
		r |= csv_stat(sb, "status", case_status_name((enum case_status)i), "%.0f",
		    (double)s->status[i]);
	for (int i = 0; i < 3; i++)
		r |= csv_stat(sb, "kind", KIND[i], "%.0f", (double)s->kind[i]);
	for (size_t i = 0; i < s->models.n; i++)
		r |= csv_stat(sb, "model", s->models.v[i], "%.0f", (double)s->model_n[i]);
	r |= csv_stat(sb, "model", "(none)", "%.0f", (double)s->no_model);
	for (size_t i = 0; i < 3; i++) {
		if (med[i].m->n)
			r |= csv_stat(sb, "median_working_days", med[i].key, "%g", med[i].m->value);
		r |= csv_stat(sb, "measured", med[i].key, "%.0f", (double)med[i].m->n);
	}
	r |= csv_stat(sb, "resolved_within_30", "resolved", "%.0f", (double)s->within30);
	r |= csv_stat(sb, "resolved_within_30", "of", "%.0f", (double)s->within30_known);
	if (s->within30_known)
		r |= csv_stat(sb, "resolved_within_30", "share", "%.3f",
		    (double)s->within30 / (double)s->within30_known);
	return r;
}

static int
stats_counts(strbuf *sb, const char *title, const char *const *keys, const long *n,
    size_t count, long extra, const char *extra_key)
{
	struct table t;
	char num[24];
	int r = sb_printf(sb, "%s\n", title);

	table_init(&t, 3);
	t.right[2] = true;
	for (size_t i = 0; i < count + (extra_key != NULL); i++) {
		const char *cells[3] = { " ", i < count ? keys[i] : extra_key, num };

		snprintf(num, sizeof(num), "%ld", i < count ? n[i] : extra);
		r |= table_row(&t, cells);
	}
	r |= table_print(sb, &t);
	sl_free(&t.cells);
	return r;
}

static int
stats_median_line(strbuf *sb, const char *what, const struct stat_median *m)
{
	if (m->n == 0)
		return sb_printf(sb, "  %-28s -      (no case yet)\n", what);
	return sb_printf(sb, "  %-28s %-6g (%ld case%s)\n", what, m->value, m->n,
	    m->n == 1 ? "" : "s");
}

static int
stats_table(strbuf *sb, const struct case_stats *s, struct ymd today)
{
	const char *status[CS_COUNT];
	char day[16];
	int r;

	for (int i = 0; i < CS_COUNT; i++)
		status[i] = case_status_name((enum case_status)i);
	ymd_format(today, day, sizeof(day));
	r = sb_printf(sb, "%ld case%s\n\n", s->total, s->total == 1 ? "" : "s");
	r |= stats_counts(sb, "By status", status, s->status, CS_COUNT, 0, NULL);
	r |= sb_putc(sb, '\n') | stats_counts(sb, "By kind", KIND, s->kind, 3, 0, NULL);
	r |= sb_putc(sb, '\n') | stats_counts(sb, "By model", (const char *const *)s->models.v,
	    s->model_n, s->models.n, s->no_model, "(none)");
	r |= sb_printf(sb, "\nMedian working days from receipt (today %s)\n", day);
	r |= stats_median_line(sb, "to acknowledgement", &s->to_ack);
	r |= stats_median_line(sb, "to first update", &s->to_update);
	r |= stats_median_line(sb, "to resolution", &s->to_resolve);
	if (s->within30_known == 0)
		return r | sb_puts(sb, "Resolved within 30 working days: - (no case known yet)\n");
	return r | sb_printf(sb, "Resolved within 30 working days: %ld of %ld (%.0f%%)\n",
	    s->within30, s->within30_known, 100.0 * (double)s->within30 /
	    (double)s->within30_known);
}

int
cases_out_stats(strbuf *sb, const struct case_stats *s, enum out_format fmt, struct ymd today)
{
	if (fmt == OUT_JSON)
		return stats_json(sb, s);
	if (fmt == OUT_CSV)
		return stats_csv(sb, s);
	return stats_table(sb, s, today);
}
