/*
 * test_calendar.c - unit tests of the working-day calendar: Easter, the
 * holidays of each country over several years (conf/holidays), weekday and
 * substitute rules, working-day arithmetic across weekends, Easter and the
 * turn of the year, closing days, date conversions and file errors.
 */
#include "unit.h"

#include <unistd.h>

#include "calendar.h"

#ifndef HOLIDAYS_DIR
#define HOLIDAYS_DIR "conf/holidays"
#endif

static struct ymd
D(int y, int m, int d)
{
	struct ymd r = { y, m, d };

	return r;
}

static struct calendar *
load(const char *country)
{
	char err[512] = "";
	struct calendar *cal = calendar_load(HOLIDAYS_DIR, country, err, sizeof(err));

	if (cal == NULL)
		fprintf(stderr, "calendar_load(%s): %s\n", country, err);
	assert_non_null(cal);
	return cal;
}

/* Every holiday of year as "MM-DD,MM-DD,..." (weekends included). */
static void
holidays_of(const struct calendar *cal, int year, char *out, size_t n)
{
	size_t o = 0;

	out[0] = '\0';
	for (int m = 1; m <= 12; m++)
		for (int d = 1; d <= 31; d++) {
			struct ymd x = D(year, m, d);
			char s[32];

			if (calendar_holiday(cal, x) == NULL)
				continue;
			snprintf(s, sizeof(s), "%s%02d-%02d", o ? "," : "", m, d);
			assert_true(o + strlen(s) < n);
			strcpy(out + o, s);
			o += strlen(s);
		}
}

static void
check_year(const char *country, int year, const char *want)
{
	struct calendar *cal = load(country);
	char got[1024];

	holidays_of(cal, year, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fprintf(stderr, "%s %d:\n got  %s\n want %s\n", country, year, got, want);
	assert_string_equal(got, want);
	calendar_free(cal);
}

static void
check_name(const struct calendar *cal, struct ymd d, const char *want)
{
	const char *got = calendar_holiday(cal, d);

	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
}

static void
check_add(const struct calendar *cal, struct ymd from, int n, struct ymd want)
{
	struct ymd got = calendar_add_working_days(cal, from, n);
	char g[16], w[16];

	ymd_format(got, g, sizeof(g));
	ymd_format(want, w, sizeof(w));
	assert_string_equal(g, w);
}

/* ---- Easter ---- */

static void
test_easter(void **state)
{
	static const struct { int y, m, d; } t[] = {
		{ 1818, 3, 22 }, { 1943, 4, 25 }, { 1961, 4, 2 }, { 2000, 4, 23 },
		{ 2008, 3, 23 }, { 2011, 4, 24 }, { 2019, 4, 21 }, { 2024, 3, 31 },
		{ 2025, 4, 20 }, { 2026, 4, 5 }, { 2027, 3, 28 }, { 2028, 4, 16 },
		{ 2029, 4, 1 }, { 2030, 4, 21 }, { 2031, 4, 13 }, { 2035, 3, 25 },
		{ 2038, 4, 25 }, { 2100, 3, 28 }, { 2285, 3, 22 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct ymd e = calendar_easter(t[i].y);

		assert_int_equal(e.y, t[i].y);
		assert_int_equal(e.m, t[i].m);
		assert_int_equal(e.d, t[i].d);
	}
}

/* ---- each country ---- */

static void
test_nl(void **state)
{
	struct calendar *cal;

	(void)state;
	check_year("NL", 2026, "01-01,04-03,04-05,04-06,04-27,05-14,05-24,05-25,12-25,12-26");
	check_year("NL", 2027, "01-01,03-26,03-28,03-29,04-27,05-06,05-16,05-17,12-25,12-26");
	/* Koningsdag 2025: the 27th is a Sunday, so Saturday the 26th; Bevrijdingsdag */
	check_year("NL", 2025, "01-01,04-18,04-20,04-21,04-26,05-05,05-29,06-08,06-09,12-25,12-26");
	check_year("NL", 2030, "01-01,04-19,04-21,04-22,04-27,05-05,05-30,06-09,06-10,12-25,12-26");
	/* Koninginnedag 2006: 30 April a Sunday, so the 29th */
	check_year("NL", 2006, "01-01,04-14,04-16,04-17,04-29,05-25,06-04,06-05,12-25,12-26");
	cal = load("nl");
	check_name(cal, D(2025, 4, 26), "Koningsdag");
	check_name(cal, D(2025, 4, 27), NULL);
	check_name(cal, D(2026, 5, 5), NULL);
	check_name(cal, D(2025, 5, 5), "Bevrijdingsdag");
	check_name(cal, D(2027, 5, 6), "Hemelvaartsdag");
	check_name(cal, D(2026, 12, 26), "Tweede Kerstdag");
	calendar_free(cal);
}

static void
test_be(void **state)
{
	(void)state;
	check_year("BE", 2026, "01-01,04-05,04-06,05-01,05-14,05-24,05-25,07-21,08-15,11-01,11-11,12-25");
	check_year("BE", 2027, "01-01,03-28,03-29,05-01,05-06,05-16,05-17,07-21,08-15,11-01,11-11,12-25");
	check_year("BE", 2028, "01-01,04-16,04-17,05-01,05-25,06-04,06-05,07-21,08-15,11-01,11-11,12-25");
}

static void
test_de(void **state)
{
	struct calendar *cal;

	(void)state;
	check_year("DE", 2026, "01-01,04-03,04-05,04-06,05-01,05-14,05-24,05-25,10-03,12-25,12-26");
	check_year("DE", 2027, "01-01,03-26,03-28,03-29,05-01,05-06,05-16,05-17,10-03,12-25,12-26");
	check_year("DE", 2017, "01-01,04-14,04-16,04-17,05-01,05-25,06-04,06-05,10-03,10-31,12-25,12-26");
	cal = load("DE");
	check_name(cal, D(2018, 10, 31), NULL);
	check_name(cal, D(2026, 10, 3), "Tag der Deutschen Einheit");
	calendar_free(cal);
}

static void
test_fr(void **state)
{
	(void)state;
	check_year("FR", 2026,
	    "01-01,04-05,04-06,05-01,05-08,05-14,05-24,05-25,07-14,08-15,11-01,11-11,12-25");
	check_year("FR", 2027,
	    "01-01,03-28,03-29,05-01,05-06,05-08,05-16,05-17,07-14,08-15,11-01,11-11,12-25");
}

static void
test_gb(void **state)
{
	struct calendar *cal;

	(void)state;
	/* Boxing Day on a Saturday: substitute Monday the 28th */
	check_year("GB", 2026, "01-01,04-03,04-06,05-04,05-25,08-31,12-25,12-26,12-28");
	/* Christmas Saturday, Boxing Day Sunday: Monday 27th and Tuesday 28th */
	check_year("GB", 2027, "01-01,03-26,03-29,05-03,05-31,08-30,12-25,12-26,12-27,12-28");
	/* New Year on a Saturday (Monday 3rd); Christmas on a Sunday (Tuesday 27th);
	   the jubilee moved the spring bank holiday; the state funeral */
	check_year("GB", 2022,
	    "01-01,01-03,04-15,04-18,05-02,06-02,06-03,08-29,09-19,12-25,12-26,12-27");
	/* VE Day: the early May bank holiday on Friday 8 May */
	check_year("GB", 2020, "01-01,04-10,04-13,05-08,05-25,08-31,12-25,12-26,12-28");
	cal = load("GB");
	check_name(cal, D(2027, 12, 27), "Christmas Day (substitute day)");
	check_name(cal, D(2027, 12, 28), "Boxing Day (substitute day)");
	check_name(cal, D(2022, 12, 27), "Christmas Day (substitute day)");
	calendar_free(cal);
}

static void
test_none(void **state)
{
	struct calendar *cal = load("none");

	(void)state;
	check_name(cal, D(2026, 12, 25), NULL);
	assert_true(calendar_is_working_day(cal, D(2026, 12, 25)));
	assert_false(calendar_is_working_day(cal, D(2026, 12, 26)));
	check_add(cal, D(2026, 12, 24), 1, D(2026, 12, 25));
	calendar_free(cal);
}

/* ---- working-day arithmetic (NL) ---- */

static void
test_add_working_days(void **state)
{
	struct calendar *cal = load("NL");

	(void)state;
	check_add(cal, D(2026, 11, 25), 0, D(2026, 11, 25));
	/* over a weekend */
	check_add(cal, D(2026, 11, 27), 1, D(2026, 11, 30));
	check_add(cal, D(2026, 11, 28), 1, D(2026, 11, 30));	/* from a Saturday */
	check_add(cal, D(2026, 11, 25), 5, D(2026, 12, 2));
	/* the policy's dates for a complaint of Wednesday 25 November 2026 */
	check_add(cal, D(2026, 11, 25), 14, D(2026, 12, 15));
	/* over Christmas and New Year: 30 working days */
	check_add(cal, D(2026, 11, 25), 30, D(2027, 1, 8));
	check_add(cal, D(2026, 12, 24), 1, D(2026, 12, 28));
	check_add(cal, D(2026, 12, 31), 1, D(2027, 1, 4));
	/* over Easter: Goede Vrijdag and Tweede Paasdag */
	check_add(cal, D(2026, 4, 2), 1, D(2026, 4, 7));
	check_add(cal, D(2027, 3, 25), 1, D(2027, 3, 30));
	/* Hemelvaartsdag on a Thursday */
	check_add(cal, D(2026, 5, 13), 1, D(2026, 5, 15));
	/* a negative count is nothing */
	check_add(cal, D(2026, 5, 13), -3, D(2026, 5, 13));

	assert_int_equal(calendar_working_days_between(cal, D(2026, 4, 2), D(2026, 4, 7)), 1);
	assert_int_equal(calendar_working_days_between(cal, D(2026, 4, 7), D(2026, 4, 2)), -1);
	assert_int_equal(calendar_working_days_between(cal, D(2026, 4, 7), D(2026, 4, 7)), 0);
	assert_int_equal(calendar_working_days_between(cal, D(2026, 11, 25), D(2027, 1, 8)), 30);
	assert_int_equal(calendar_working_days_between(cal, D(2027, 1, 8), D(2026, 11, 25)), -30);
	assert_int_equal(calendar_working_days_between(cal, D(2026, 1, 1), D(2026, 12, 31)), 254);	/* 261 weekdays, 7 holidays on them */

	assert_false(calendar_is_working_day(cal, D(2026, 12, 25)));
	assert_false(calendar_is_working_day(cal, D(2026, 11, 28)));
	assert_true(calendar_is_working_day(cal, D(2026, 11, 30)));
	calendar_free(cal);
}

/* The day after d, by parsing (the test does not trust calendar.c for it). */
static struct ymd
next_day(struct ymd d)
{
	char buf[16];
	struct ymd r = d;

	r.d++;
	ymd_format(r, buf, sizeof(buf));
	if (ymd_parse(buf, &r) < 0) {
		r.d = 1;
		if (++r.m > 12) {
			r.m = 1;
			r.y++;
		}
	}
	return r;
}

/* The inverse: between(a, add(a, n)) == n, for every start day of a year. */
static void
test_add_between_agree(void **state)
{
	struct calendar *cal = load("GB");
	struct ymd a = D(2027, 1, 1);

	(void)state;
	for (int doy = 0; doy < 366; doy++, a = next_day(a))
		for (int n = 1; n <= 30; n += 29)
			assert_int_equal(calendar_working_days_between(cal, a,
			    calendar_add_working_days(cal, a, n)), n);
	assert_int_equal(a.y, 2028);
	calendar_free(cal);
}

/* ---- closing days and errors ---- */

static void
test_closing_days(void **state)
{
	char dir[] = "/tmp/test_calendar.XXXXXX", err[256];
	struct calendar *cal;

	(void)state;
	assert_non_null(mkdtemp(dir));
	unit_put_file(dir, "XX.holidays", "fixed 12-25 Christmas # a comment\n\n# only a comment\n");
	unit_put_file(dir, "closing.days", "# company\n2026-12-24 Kerstavond\n2026-12-31\n");
	cal = calendar_load(dir, "XX", err, sizeof(err));
	assert_non_null(cal);
	check_name(cal, D(2026, 12, 24), "Kerstavond");
	check_name(cal, D(2026, 12, 31), "Closing day");
	check_add(cal, D(2026, 12, 23), 1, D(2026, 12, 28));
	check_add(cal, D(2026, 12, 30), 1, D(2027, 1, 1));
	calendar_free(cal);
	unit_rmdir(dir);
}

/* Loading text as XX.holidays fails with want in the message. */
static void
check_bad(const char *text, const char *want)
{
	char dir[] = "/tmp/test_calendar.XXXXXX", err[256] = "";
	struct calendar *cal;

	assert_non_null(mkdtemp(dir));
	unit_put_file(dir, "XX.holidays", text);
	cal = calendar_load(dir, "XX", err, sizeof(err));
	if (cal != NULL || strstr(err, want) == NULL)
		fprintf(stderr, "text %s: error \"%s\", want \"%s\"\n", text, err, want);
	assert_null(cal);
	assert_non_null(strstr(err, want));
	unit_rmdir(dir);
}

static void
test_errors(void **state)
{
	char err[256];

	(void)state;
	check_bad("fixed 12-25 Christmas\nfixed 13-01 Bad\n", "XX.holidays:2: fixed: expected MM-DD");
	check_bad("fixed 02-30 Bad\n", ":1: fixed: expected MM-DD");
	check_bad("easter x Bad\n", ":1: easter: expected an offset");
	check_bad("weekday mon fifth 05 Bad\n", ":1: weekday: expected first");
	check_bad("weekday xyz first 05 Bad\n", ":1: weekday: expected mon..sun");
	check_bad("monthly 05 Bad\n", ":1: unknown rule \"monthly\"");
	check_bad("fixed 05-05\n", ":1: a holiday needs a name");
	check_bad("fixed 05-05 Day every 5\n", ":1: every needs a from year");
	check_bad("fixed 05-05 Day if-sunday\n", ":1: if-sunday needs a value");
	check_bad("fixed 05-05 Day if-sunday 99\n", ":1: expected MM-DD or a shift");
	check_bad("fixed 05-05 Day from 2030 until 2020\n", ":1: from is after until");
	check_bad("date 2026-02-29 Day\n", ":1: date: expected YYYY-MM-DD");
	check_bad("date 2026-05-05 Day every 2 from 2000\n", ":1: date: a one-off date");
	assert_null(calendar_load(HOLIDAYS_DIR, "ZZ", err, sizeof(err)));
	assert_non_null(strstr(err, "ZZ.holidays"));
	assert_null(calendar_load(HOLIDAYS_DIR, "../etc", err, sizeof(err)));
	assert_null(calendar_load(HOLIDAYS_DIR, "", err, sizeof(err)));
}

/* ---- conversions ---- */

static void
test_conversions(void **state)
{
	struct ymd d;
	char buf[16];

	(void)state;
	d = ymd_from_time(0);
	assert_true(d.y == 1970 && d.m == 1 && d.d == 1);
	d = ymd_from_time((time_t)1714567890);	/* 2024-05-01T12:51:30Z */
	assert_true(d.y == 2024 && d.m == 5 && d.d == 1);
	d = ymd_from_time((time_t)1795651199);	/* 2026-11-25T23:59:59Z */
	assert_true(d.y == 2026 && d.m == 11 && d.d == 25);
	d = ymd_from_time((time_t)-1);
	assert_true(d.y == 1969 && d.m == 12 && d.d == 31);
	assert_int_equal(ymd_parse("2024-02-29", &d), 0);
	ymd_format(d, buf, sizeof(buf));
	assert_string_equal(buf, "2024-02-29");
	assert_int_equal(ymd_parse("2023-02-29", &d), -1);
	assert_int_equal(ymd_parse("2023-2-28", &d), -1);
	assert_int_equal(ymd_parse("2023-02-28x", &d), -1);
	assert_int_equal(ymd_parse("", &d), -1);
	assert_int_equal(ymd_parse(NULL, &d), -1);
	assert_int_equal(ymd_cmp(D(2026, 1, 1), D(2025, 12, 31)), 1);
	assert_int_equal(ymd_cmp(D(2026, 1, 1), D(2026, 1, 2)), -1);
	assert_int_equal(ymd_cmp(D(2026, 1, 1), D(2026, 1, 1)), 0);
	/* an impossible date is no working day and gets no holiday */
	assert_false(calendar_is_working_day(NULL, D(2026, 2, 30)));
	assert_null(calendar_holiday(NULL, D(2026, 13, 1)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_easter),
		cmocka_unit_test(test_nl),
		cmocka_unit_test(test_be),
		cmocka_unit_test(test_de),
		cmocka_unit_test(test_fr),
		cmocka_unit_test(test_gb),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_add_working_days),
		cmocka_unit_test(test_add_between_agree),
		cmocka_unit_test(test_closing_days),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_conversions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
