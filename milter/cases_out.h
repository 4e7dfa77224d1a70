/*
 * cases_out.h - what complaint-cases prints: aligned tables for people, one
 * JSON document or RFC 4180 CSV for scripts and spreadsheets.
 *
 * Tables replace control characters with '?' (a subject cannot move the
 * terminal's cursor) and cut long text with "...".  JSON is one document:
 * an array for list and overdue, an object for show and stats.  CSV has a
 * header row, CRLF line ends and quotes where RFC 4180 needs them; text the
 * customer wrote (subject, names, addresses) that starts with = + - @ gets
 * a leading ' so that a spreadsheet does not run it as a formula.
 */
#ifndef CM_CASES_OUT_H
#define CM_CASES_OUT_H

#include "cases.h"
#include "util.h"

enum out_format {
	OUT_TABLE = 0,
	OUT_JSON,
	OUT_CSV,
};

/* list (overdue_view false) or overdue (true). */
int cases_out_list(strbuf *sb, const struct case_list *l, enum out_format fmt,
    bool overdue_view, struct ymd today);
/* OUT_TABLE or OUT_JSON (a case is not a table: no CSV). */
int cases_out_show(strbuf *sb, const struct case_detail *d, enum out_format fmt,
    struct ymd today);
int cases_out_stats(strbuf *sb, const struct case_stats *s, enum out_format fmt,
    struct ymd today);
/* One CSV field (quoted when needed; guard: the formula guard above). */
int csv_field(strbuf *sb, const char *v, bool guard);

#endif
