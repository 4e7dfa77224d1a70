/*
 * calendar.c - working days: Monday to Friday minus the public holidays of a
 * country and the company's closing days.
 *
 * A holidays file holds rules, not dates (format: conf/holidays/README.md):
 *
 *	fixed MM-DD NAME [options]		every year on that date
 *	easter +N NAME [options]		N days after Easter Sunday (or -N)
 *	weekday DOW NTH MM NAME [options]	first..fourth or last DOW of month MM
 *	date YYYY-MM-DD NAME			one year only
 *
 * options: if-saturday MOVE, if-sunday MOVE (MOVE is MM-DD or +N/-N days:
 * the holiday moves there), substitute (on a weekend, the next weekday that
 * is not already a holiday is a day off too), every N (only every N-th year,
 * counted from the "from" year), from YYYY, until YYYY.
 *
 * The holidays of a year are worked out when asked, into a small table on
 * the caller's stack: a loaded calendar is never written again, so threads
 * can share it.
 */
#include "calendar.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAX_RULES	100
#define MAX_DAYS	(2 * MAX_RULES)
#define MAX_CLOSING	2000

enum rule_kind {
	R_FIXED,
	R_EASTER,
	R_WEEKDAY,
	R_DATE,
};

/* Where a holiday that falls on a Saturday or Sunday goes. */
struct move {
	bool set;
	int month, day;		/* an absolute date in the same year, or */
	int days;		/* a shift in days (month == 0) */
};

struct rule {
	enum rule_kind kind;
	int year, month, day;	/* fixed (month, day), date (all three) */
	int offset;		/* easter */
	int wday, nth;		/* weekday: 0 = Monday; nth 1..4, -1 = last */
	int every, from, until;	/* every N years from `from`; 0 = none */
	struct move sat, sun;
	bool substitute;
	char *name;
	char *subst_name;	/* "NAME (substitute day)" */
};

struct closing {
	struct ymd d;
	char *name;
};

struct calendar {
	struct rule rules[MAX_RULES];
	size_t nrules;
	struct closing *closing;
	size_t nclosing;
};

/* The holidays of one year, worked out. */
struct hday {
	long day;		/* day number (days since 1970-01-01) */
	const char *name;
};

struct year_hols {
	int year;		/* 0: nothing computed yet */
	size_t n;
	struct hday h[MAX_DAYS];
};

/* ---- dates as day numbers ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static long
days_from_civil(int y, int m, int d)
{
	long yy = y - (m <= 2);
	long era = (yy >= 0 ? yy : yy - 399) / 400;
	long yoe = yy - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static struct ymd
civil_from_days(long z)
{
	struct ymd r;
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	r.d = (int)(doy - (153 * mp + 2) / 5 + 1);
	r.m = (int)(mp < 10 ? mp + 3 : mp - 9);
	r.y = (int)(yoe + era * 400 + (r.m <= 2));
	return r;
}

static long
dayno(struct ymd d)
{
	return days_from_civil(d.y, d.m, d.d);
}

/* 0 = Monday ... 6 = Sunday. */
static int
weekday_of(long z)
{
	return (int)(((z % 7) + 7 + 3) % 7);
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int y, int m)
{
	static const int md[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && leap(y) ? 29 : md[m - 1];
}

static bool
valid_ymd(struct ymd d)
{
	return d.y >= 1 && d.y <= 9999 && d.m >= 1 && d.m <= 12 && d.d >= 1 &&
	    d.d <= month_days(d.y, d.m);
}

struct ymd
calendar_easter(int year)
{
	/* The anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
	int a = year % 19, b = year / 100, c = year % 100;
	int d = b / 4, e = b % 4, f = (b + 8) / 25, g = (b - f + 1) / 3;
	int h = (19 * a + b - d - g + 15) % 30;
	int i = c / 4, k = c % 4;
	int l = (32 + 2 * e + 2 * i - h - k) % 7;
	int m = (a + 11 * h + 22 * l) / 451;
	struct ymd r = { year, (h + l - 7 * m + 114) / 31, (h + l - 7 * m + 114) % 31 + 1 };

	return r;
}

struct ymd
ymd_from_time(time_t t)
{
	long z = (long)(t / 86400);

	if (t % 86400 < 0)
		z--;
	return civil_from_days(z);
}

void
ymd_format(struct ymd d, char *buf, size_t n)
{
	snprintf(buf, n, "%04d-%02d-%02d", d.y, d.m, d.d);
}

int
ymd_parse(const char *s, struct ymd *out)
{
	struct ymd d;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return -1;
	d.y = atoi(s);
	d.m = atoi(s + 5);
	d.d = atoi(s + 8);
	if (!valid_ymd(d))
		return -1;
	*out = d;
	return 0;
}

int
ymd_cmp(struct ymd a, struct ymd b)
{
	if (a.y != b.y)
		return a.y < b.y ? -1 : 1;
	if (a.m != b.m)
		return a.m < b.m ? -1 : 1;
	return a.d < b.d ? -1 : a.d > b.d;
}

/* ---- the holidays of one year ---- */

static bool
rule_applies(const struct rule *r, int year)
{
	if (r->from && year < r->from)
		return false;
	if (r->until && year > r->until)
		return false;
	if (r->every > 1 && (year - r->from) % r->every != 0)
		return false;
	return r->kind != R_DATE || r->year == year;
}

/* The nth (or last, nth -1) weekday wday of month m. */
static long
nth_weekday(int year, int m, int wday, int nth)
{
	long z;

	if (nth > 0) {
		z = days_from_civil(year, m, 1);
		z += (wday - weekday_of(z) + 7) % 7;
		return z + 7L * (nth - 1);
	}
	z = days_from_civil(year, m, month_days(year, m));
	return z - (weekday_of(z) - wday + 7) % 7;
}

static long
apply_move(long z, int year, const struct move *mv)
{
	if (mv->month)
		return days_from_civil(year, mv->month, mv->day);
	return z + mv->days;
}

/* Day number of r in year, before any substitute day. */
static long
rule_day(const struct rule *r, int year)
{
	long z;
	int wd;

	switch (r->kind) {
	case R_EASTER: {
		struct ymd e = calendar_easter(year);

		z = dayno(e) + r->offset;
		break;
	}
	case R_WEEKDAY:
		z = nth_weekday(year, r->month, r->wday, r->nth);
		break;
	case R_DATE:
		z = days_from_civil(r->year, r->month, r->day);
		break;
	default:
		/* 29 February in a year without one: the 28th */
		z = days_from_civil(year, r->month,
		    r->day > month_days(year, r->month) ? month_days(year, r->month) : r->day);
		break;
	}
	wd = weekday_of(z);
	if (wd == 5 && r->sat.set)
		z = apply_move(z, year, &r->sat);
	else if (wd == 6 && r->sun.set)
		z = apply_move(z, year, &r->sun);
	return z;
}

static const char *
hols_find(const struct year_hols *yh, long z)
{
	for (size_t i = 0; i < yh->n; i++)
		if (yh->h[i].day == z)
			return yh->h[i].name;
	return NULL;
}

static int
hday_cmp(const void *a, const void *b)
{
	const struct hday *x = a, *y = b;

	return x->day < y->day ? -1 : x->day > y->day;
}

/* Substitute days: a holiday on a weekend gives the next free weekday. */
static void
add_substitutes(const struct calendar *cal, int year, struct year_hols *yh)
{
	for (size_t i = 0; i < cal->nrules; i++) {
		const struct rule *r = &cal->rules[i];
		long z;

		if (!r->substitute || !rule_applies(r, year))
			continue;
		z = rule_day(r, year);
		if (weekday_of(z) < 5)
			continue;
		do
			z++;
		while (weekday_of(z) >= 5 || hols_find(yh, z) != NULL);
		if (yh->n < MAX_DAYS)
			yh->h[yh->n++] = (struct hday){ z, r->subst_name };
	}
}

static void
year_compute(const struct calendar *cal, int year, struct year_hols *yh)
{
	yh->year = year;
	yh->n = 0;
	if (cal == NULL)
		return;
	for (size_t i = 0; i < cal->nrules && yh->n < MAX_DAYS; i++)
		if (rule_applies(&cal->rules[i], year))
			yh->h[yh->n++] = (struct hday){ rule_day(&cal->rules[i], year),
			    cal->rules[i].name };
	/* in date order, so Christmas takes its substitute before Boxing Day */
	qsort(yh->h, yh->n, sizeof(yh->h[0]), hday_cmp);
	add_substitutes(cal, year, yh);
}

static const char *
closing_day(const struct calendar *cal, struct ymd d)
{
	if (cal == NULL)
		return NULL;
	for (size_t i = 0; i < cal->nclosing; i++)
		if (ymd_cmp(cal->closing[i].d, d) == 0)
			return cal->closing[i].name;
	return NULL;
}

/* The holiday on d, with yh as a cache of d's year. */
static const char *
holiday_cached(const struct calendar *cal, struct ymd d, struct year_hols *yh)
{
	const char *name;

	if (yh->year != d.y)
		year_compute(cal, d.y, yh);
	if ((name = hols_find(yh, dayno(d))) != NULL)
		return name;
	return closing_day(cal, d);
}

static bool
working_cached(const struct calendar *cal, struct ymd d, struct year_hols *yh)
{
	return weekday_of(dayno(d)) < 5 && holiday_cached(cal, d, yh) == NULL;
}

const char *
calendar_holiday(const struct calendar *cal, struct ymd d)
{
	struct year_hols yh = { 0 };

	if (!valid_ymd(d))
		return NULL;
	return holiday_cached(cal, d, &yh);
}

bool
calendar_is_working_day(const struct calendar *cal, struct ymd d)
{
	struct year_hols yh = { 0 };

	return valid_ymd(d) && working_cached(cal, d, &yh);
}

struct ymd
calendar_add_working_days(const struct calendar *cal, struct ymd d, int n)
{
	struct year_hols yh = { 0 };
	long z;

	if (!valid_ymd(d) || n <= 0)
		return d;
	z = dayno(d);
	while (n > 0) {
		struct ymd x = civil_from_days(++z);

		if (x.y > 9999)
			return x;	/* out of range: stop counting */
		if (working_cached(cal, x, &yh))
			n--;
	}
	return civil_from_days(z);
}

long
calendar_working_days_between(const struct calendar *cal, struct ymd a, struct ymd b)
{
	struct year_hols yh = { 0 };
	long za, zb, n = 0;

	if (!valid_ymd(a) || !valid_ymd(b))
		return 0;
	if (ymd_cmp(b, a) < 0)
		return -calendar_working_days_between(cal, b, a);
	za = dayno(a);
	zb = dayno(b);
	for (long z = za + 1; z <= zb; z++)
		n += working_cached(cal, civil_from_days(z), &yh);
	return n;
}

/* ---- loading ---- */

struct parser {
	const char *file;
	int line;
	char *err;
	size_t errlen;
};

static int
perr(struct parser *p, const char *fmt, const char *arg)
{
	char msg[200];

	snprintf(msg, sizeof(msg), fmt, arg ? arg : "");
	snprintf(p->err, p->errlen, "%s:%d: %s", p->file, p->line, msg);
	return -1;
}

/* A whole decimal number of at most 4 digits, with an optional sign when signed_ok. */
static int
parse_int(const char *s, bool signed_ok, int *out)
{
	char *end;
	long v;

	if (*s == '\0' || (!signed_ok && !isdigit((unsigned char)*s)))
		return -1;
	if (signed_ok && *s != '+' && *s != '-' && !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < -9999 || v > 9999)
		return -1;
	*out = (int)v;
	return 0;
}

/* "MM-DD": month and day (29 February allowed). */
static int
parse_mmdd(const char *s, int *m, int *d)
{
	if (strlen(s) != 5 || s[2] != '-' || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[1]) || !isdigit((unsigned char)s[3]) ||
	    !isdigit((unsigned char)s[4]))
		return -1;
	*m = atoi(s);
	*d = atoi(s + 3);
	if (*m < 1 || *m > 12 || *d < 1 || *d > month_days(2000, *m))
		return -1;
	return 0;
}

static int
parse_move(struct parser *p, const char *s, struct move *mv)
{
	mv->set = true;
	if (parse_mmdd(s, &mv->month, &mv->day) == 0)
		return 0;
	mv->month = 0;
	if ((*s == '+' || *s == '-') && parse_int(s, true, &mv->days) == 0 &&
	    mv->days >= -7 && mv->days <= 7)
		return 0;
	return perr(p, "expected MM-DD or a shift such as +1 or -1, not \"%s\"", s);
}

static int
parse_wday(const char *s)
{
	static const char *const names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

	for (int i = 0; i < 7; i++)
		if (str_ieq(s, names[i]))
			return i;
	return -1;
}

static int
parse_nth(const char *s)
{
	static const char *const names[4] = { "first", "second", "third", "fourth" };

	if (str_ieq(s, "last"))
		return -1;
	for (int i = 0; i < 4; i++)
		if (str_ieq(s, names[i]))
			return i + 1;
	return 0;
}

static bool
is_option(const char *t)
{
	static const char *const opts[] = {
		"if-saturday", "if-sunday", "substitute", "every", "from", "until",
	};

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (strcmp(t, opts[i]) == 0)
			return true;
	return false;
}

/* The options tok[i..n); they all need a value except "substitute". */
static int
parse_options(struct parser *p, struct rule *r, char **tok, size_t i, size_t n)
{
	for (; i < n; i++) {
		const char *o = tok[i], *v = i + 1 < n ? tok[i + 1] : NULL;

		if (strcmp(o, "substitute") == 0) {
			r->substitute = true;
			continue;
		}
		if (v == NULL)
			return perr(p, "%s needs a value", o);
		i++;
		if (strcmp(o, "if-saturday") == 0) {
			if (parse_move(p, v, &r->sat) < 0)
				return -1;
		} else if (strcmp(o, "if-sunday") == 0) {
			if (parse_move(p, v, &r->sun) < 0)
				return -1;
		} else if (strcmp(o, "every") == 0) {
			if (parse_int(v, false, &r->every) < 0 || r->every < 1)
				return perr(p, "every: expected a number of years, not \"%s\"", v);
		} else if (strcmp(o, "from") == 0 || strcmp(o, "until") == 0) {
			int *y = o[0] == 'f' ? &r->from : &r->until;

			if (parse_int(v, false, y) < 0 || *y < 1583)
				return perr(p, "expected a year (1583 or later), not \"%s\"", v);
		} else
			return perr(p, "unknown option \"%s\"", o);
	}
	if (r->every > 1 && r->from == 0)
		return perr(p, "every needs a from year to count from", NULL);
	if (r->until && r->from > r->until)
		return perr(p, "from is after until", NULL);
	return 0;
}

/* The arguments of the rule kind tok[0]; *used: tokens consumed. */
static int
parse_kind(struct parser *p, struct rule *r, char **tok, size_t n, size_t *used)
{
	const char *k = tok[0];

	if (strcmp(k, "fixed") == 0 && n >= 2) {
		r->kind = R_FIXED;
		*used = 2;
		return parse_mmdd(tok[1], &r->month, &r->day) < 0 ?
		    perr(p, "fixed: expected MM-DD, not \"%s\"", tok[1]) : 0;
	}
	if (strcmp(k, "easter") == 0 && n >= 2) {
		r->kind = R_EASTER;
		*used = 2;
		return parse_int(tok[1], true, &r->offset) < 0 || r->offset < -100 ||
		    r->offset > 100 ? perr(p, "easter: expected an offset such as -2 or +39, not \"%s\"",
		    tok[1]) : 0;
	}
	if (strcmp(k, "weekday") == 0 && n >= 4) {
		r->kind = R_WEEKDAY;
		*used = 4;
		if ((r->wday = parse_wday(tok[1])) < 0)
			return perr(p, "weekday: expected mon..sun, not \"%s\"", tok[1]);
		if ((r->nth = parse_nth(tok[2])) == 0)
			return perr(p, "weekday: expected first, second, third, fourth or last, not \"%s\"",
			    tok[2]);
		if (parse_int(tok[3], false, &r->month) < 0 || r->month < 1 || r->month > 12)
			return perr(p, "weekday: expected a month 01..12, not \"%s\"", tok[3]);
		return 0;
	}
	if (strcmp(k, "date") == 0 && n >= 2) {
		struct ymd d;

		r->kind = R_DATE;
		*used = 2;
		if (ymd_parse(tok[1], &d) < 0)
			return perr(p, "date: expected YYYY-MM-DD, not \"%s\"", tok[1]);
		r->year = d.y;
		r->month = d.m;
		r->day = d.d;
		return 0;
	}
	if (strcmp(k, "fixed") && strcmp(k, "easter") && strcmp(k, "weekday") && strcmp(k, "date"))
		return perr(p, "unknown rule \"%s\" (fixed, easter, weekday, date)", k);
	return perr(p, "%s: too few fields", k);
}

/* The name tok[i..j) joined by spaces, and its substitute-day name. */
static int
rule_names(struct parser *p, struct rule *r, char **tok, size_t i, size_t j)
{
	strbuf sb;

	if (i == j)
		return perr(p, "a holiday needs a name", NULL);
	sb_init(&sb);
	for (size_t k = i; k < j; k++)
		if ((k > i && sb_putc(&sb, ' ') < 0) || sb_puts(&sb, tok[k]) < 0)
			goto oom;
	if ((r->name = strdup(sb.s)) == NULL || sb_puts(&sb, " (substitute day)") < 0)
		goto oom;
	r->subst_name = sb_steal(&sb);
	return 0;
oom:
	sb_free(&sb);
	free(r->name);
	r->name = NULL;
	return perr(p, "out of memory", NULL);
}

/* Split line into white-space separated tokens (in place). */
static size_t
tokenize(char *line, char **tok, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *t = strtok_r(line, " \t\r\n", &save); t && n < max;
	    t = strtok_r(NULL, " \t\r\n", &save))
		tok[n++] = t;
	return n;
}

static int
parse_rule(struct parser *p, struct calendar *cal, char *line)
{
	char *tok[32];
	size_t n = tokenize(line, tok, 32), used = 0, j;
	struct rule *r;

	if (n == 0)
		return 0;
	if (cal->nrules == MAX_RULES)
		return perr(p, "too many rules (at most 100)", NULL);
	r = &cal->rules[cal->nrules];
	memset(r, 0, sizeof(*r));
	if (parse_kind(p, r, tok, n, &used) < 0)
		return -1;
	for (j = used; j < n && !is_option(tok[j]); j++)
		;
	if (rule_names(p, r, tok, used, j) < 0)
		return -1;
	cal->nrules++;		/* from here on calendar_free() frees the names */
	if (parse_options(p, r, tok, j, n) < 0)
		return -1;
	if (r->kind == R_DATE && (r->every || r->from || r->until || r->sat.set || r->sun.set))
		return perr(p, "date: a one-off date takes no options except substitute", NULL);
	return 0;
}

static int
add_closing(struct parser *p, struct calendar *cal, char *line)
{
	char *tok[32];
	size_t n = tokenize(line, tok, 32);
	struct closing *c;
	struct ymd d;
	strbuf sb;

	if (n == 0)
		return 0;
	if (ymd_parse(tok[0], &d) < 0)
		return perr(p, "expected a date YYYY-MM-DD, not \"%s\"", tok[0]);
	if (cal->nclosing == MAX_CLOSING)
		return perr(p, "too many closing days", NULL);
	if ((c = realloc(cal->closing, (cal->nclosing + 1) * sizeof(*c))) == NULL)
		return perr(p, "out of memory", NULL);
	cal->closing = c;
	sb_init(&sb);
	for (size_t k = 1; k < n; k++)
		if ((k > 1 && sb_putc(&sb, ' ') < 0) || sb_puts(&sb, tok[k]) < 0) {
			sb_free(&sb);
			return perr(p, "out of memory", NULL);
		}
	if (n == 1 && sb_puts(&sb, "Closing day") < 0)
		return perr(p, "out of memory", NULL);
	c[cal->nclosing].d = d;
	c[cal->nclosing++].name = sb_steal(&sb);
	return 0;
}

/* Read path line by line into cal; missing_ok: a file that is not there is empty. */
static int
load_file(struct calendar *cal, const char *path, bool closing, bool missing_ok,
    char *err, size_t errlen)
{
	struct parser p = { path, 0, err, errlen };
	char line[1024];
	FILE *fp = fopen(path, "r");
	int rc = 0;

	if (fp == NULL) {
		if (missing_ok && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof(line), fp)) {
		char *hash;

		p.line++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			rc = perr(&p, "line too long", NULL);
			break;
		}
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		rc = closing ? add_closing(&p, cal, line) : parse_rule(&p, cal, line);
	}
	if (rc == 0 && ferror(fp)) {
		snprintf(err, errlen, "%s: read error", path);
		rc = -1;
	}
	fclose(fp);
	return rc;
}

static bool
country_ok(const char *c)
{
	size_t n = strlen(c);

	if (n < 2 || n > 8)
		return false;
	for (; *c; c++)
		if (!isalpha((unsigned char)*c) && *c != '-' && *c != '_')
			return false;
	return true;
}

struct calendar *
calendar_load(const char *dir, const char *country, char *err, size_t errlen)
{
	struct calendar *cal;
	char path[4096], cc[16];
	size_t i;

	if (dir == NULL || country == NULL || !country_ok(country)) {
		snprintf(err, errlen, "holidays: bad country \"%s\"", country ? country : "(null)");
		return NULL;
	}
	if ((cal = calloc(1, sizeof(*cal))) == NULL) {
		snprintf(err, errlen, "holidays: out of memory");
		return NULL;
	}
	for (i = 0; country[i] && i < sizeof(cc) - 1; i++)
		cc[i] = (char)toupper((unsigned char)country[i]);
	cc[i] = '\0';
	if (strcmp(cc, "NONE") != 0) {
		snprintf(path, sizeof(path), "%s/%s.holidays", dir, cc);
		if (load_file(cal, path, false, false, err, errlen) < 0)
			goto fail;
	}
	snprintf(path, sizeof(path), "%s/closing.days", dir);
	if (load_file(cal, path, true, true, err, errlen) < 0)
		goto fail;
	return cal;
fail:
	calendar_free(cal);
	return NULL;
}

void
calendar_free(struct calendar *cal)
{
	if (cal == NULL)
		return;
	for (size_t i = 0; i < cal->nrules; i++) {
		free(cal->rules[i].name);
		free(cal->rules[i].subst_name);
	}
	for (size_t i = 0; i < cal->nclosing; i++)
		free(cal->closing[i].name);
	free(cal->closing);
	free(cal);
}
