/*
 * caseid.h - the case ID format: PREFIX-YYYY-[NODE-]NNNNNN[-C].
 *
 * The sequence has at least six digits and grows past 999999.  NODE (1-4
 * letters/digits) keeps IDs of several MX hosts with separate databases
 * apart.  C is an optional Luhn mod 36 check character over year, node and
 * sequence, verified whenever an ID is read back from mail.
 */
#ifndef CM_CASEID_H
#define CM_CASEID_H

#include <stdbool.h>
#include <stddef.h>

#define CASEID_MAX 48

struct caseid_fmt {
	char prefix[16];	/* "CASE" */
	char node[8];		/* "" for none */
	bool check;		/* append/verify a check character */
};

void caseid_fmt_init(struct caseid_fmt *f, const char *prefix, const char *node, bool check);
/* Format an ID; returns 0, or -1 when out is too small. */
int caseid_format(const struct caseid_fmt *f, int year, unsigned long long seq,
    char *out, size_t outsz);
/*
 * Parse id (case-insensitive, exactly one ID); on success fills year and seq
 * and returns 0.  -1: not of this format; -2: check character wrong.
 */
int caseid_parse(const struct caseid_fmt *f, const char *id, int *year,
    unsigned long long *seq);
/*
 * Find the first valid ID of this format in s[0..len) on word boundaries.
 * Writes the canonical (upper-case) ID to out and returns 1; 0 when none.
 * *bad_check is set when an ID with a wrong check character was seen.
 */
int caseid_find(const struct caseid_fmt *f, const char *s, size_t len,
    char *out, size_t outsz, bool *bad_check);

#endif
