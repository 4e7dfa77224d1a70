/*
 * calendar.h - working days: Monday to Friday minus the public holidays of a
 * country, from data files that describe rules, not dates
 * (conf/holidays/CC.holidays: fixed dates, Easter-relative feasts, weekday
 * rules), plus one-off company closing days.
 *
 * The reply worker, the milter (staff replies move deadlines) and the staff
 * tool all use this one calendar, so the dates they show agree.
 */
#ifndef CM_CALENDAR_H
#define CM_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct ymd {
	int y, m, d;		/* 2026, 1..12, 1..31 */
};

struct calendar;

/*
 * Load dir/COUNTRY.holidays (country "NL", "BE", "DE", "FR", "GB", ... or
 * "none" for weekends only) and, when present, dir/closing.days (one-off
 * company closing days, one YYYY-MM-DD per line).  NULL with
 * "file:line: message" in err.
 */
struct calendar *calendar_load(const char *dir, const char *country, char *err, size_t errlen);
void calendar_free(struct calendar *cal);

/* Gregorian Easter Sunday of year (e.g. 2027 -> 28 March). */
struct ymd calendar_easter(int year);
/* Name of the holiday on d ("Koningsdag"), or NULL when none. */
const char *calendar_holiday(const struct calendar *cal, struct ymd d);
bool calendar_is_working_day(const struct calendar *cal, struct ymd d);
/* The n-th working day after d (n >= 0; n == 0 gives d itself). */
struct ymd calendar_add_working_days(const struct calendar *cal, struct ymd d, int n);
/* Working days after a up to and including b; negative when b is before a. */
long calendar_working_days_between(const struct calendar *cal, struct ymd a, struct ymd b);

/* Conversions: UTC date of t; "YYYY-MM-DD"; parse "YYYY-MM-DD" (0 or -1). */
struct ymd ymd_from_time(time_t t);
void ymd_format(struct ymd d, char *buf, size_t n);
int ymd_parse(const char *s, struct ymd *out);
int ymd_cmp(struct ymd a, struct ymd b);

#endif
