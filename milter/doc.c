/*
 * doc.c - tag each line of the decoded text as own, quoted, forwarded,
 * forward header or signature.
 *
 * Mail clients introduce earlier mail in two ways: a line of their own
 * ("On ... wrote:", "---------- Forwarded message ---------") or, as Outlook
 * does, a header block ("From: ..." then "Sent: ..."; GMX: "Gesendet: ..." then
 * "Von: ..."), perhaps after "-----Original Message-----".  A header block is a reply's quoted text,
 * unless the Subject says the message is a forward ("FW:", "WG:", ...): then
 * it is the forwarded message, which counts as the customer's text.
 */
#include "doc.h"

#include <stdlib.h>
#include <string.h>

static int
add_line(struct doc *d, size_t *cap, size_t off, size_t len, unsigned part, enum line_kind k)
{
	if (d->nlines == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct doc_line *nl = realloc(d->lines, nc * sizeof(*nl));

		if (nl == NULL)
			return -1;
		d->lines = nl;
		*cap = nc;
	}
	d->lines[d->nlines++] = (struct doc_line){ off, len, part, k };
	return 0;
}

static bool
blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

/* A line of ">" quoting, allowing leading blanks. */
static bool
quoted(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i < n && s[i] == '>';
}

static bool
sig_delim(const char *s, size_t n)
{
	return (n == 3 && memcmp(s, "-- ", 3) == 0) || (n == 2 && memcmp(s, "--", 2) == 0);
}

static bool
line_match(const struct rules *rs, enum rule_class rc, struct rscan *sc, const char *s, size_t n,
    struct rmatch *m)
{
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return rules_find(rs, rc, sc, s, n, i, m) == 1;
}

static bool
line_matches(const struct rules *rs, enum rule_class rc, struct rscan *sc, const char *s, size_t n)
{
	struct rmatch m;

	return line_match(rs, rc, sc, s, n, &m);
}

/*
 * Which header field of earlier mail starts the line: 'f' for a rule named
 * "from", 's' for "sent", 'd' for "date", 'o' for another field, 0 for none.
 */
static char
field_at(const struct rules *rs, struct rscan *sc, const char *s, size_t n)
{
	struct rmatch m;

	if (s == NULL || !line_match(rs, RC_FORWARD_FIELD, sc, s, n, &m))
		return 0;
	return strcmp(m.name, "from") == 0 ? 'f' : strcmp(m.name, "sent") == 0 ? 's' :
	    strcmp(m.name, "date") == 0 ? 'd' : 'o';
}

/* The line after the one ending at t[pos] ('\n' or end), skipping blank lines if asked. */
static const char *
next_line(const char *t, size_t len, size_t pos, bool skip_blank, size_t *n)
{
	while (pos < len) {
		const char *s = t + pos + 1, *nl;

		if (pos + 1 >= len)
			break;
		nl = memchr(s, '\n', len - pos - 1);
		*n = nl ? (size_t)(nl - s) : len - pos - 1;
		if (!skip_blank || !blank(s, *n))
			return s;
		pos += *n + 1;
	}
	*n = 0;
	return NULL;
}

/*
 * Is the Subject a forward?  Its first reply/forward prefix decides
 * ("Fwd: Re:" forwards a reply); rules named "forward" are forward prefixes.
 */
static bool
forward_subject(const char *subject, const struct rules *rs, struct rscan *sc)
{
	size_t len = strlen(subject), i = 0;
	struct rmatch m;

	while (i < len && (subject[i] == ' ' || subject[i] == '\t'))
		i++;
	return rules_find(rs, RC_REPLY_PREFIX, sc, subject, len, i, &m) == 1 &&
	    strcmp(m.name, "forward") == 0;
}

/*
 * Does earlier mail start at the line t[pos..pos+n)?  A reply header ("On ...
 * wrote:", "-----Original Message-----") or a header block ("From:" and on the
 * next line "Sent:" or "Date:", or "Sent:" and then "From:").  LINE_OWN when not;
 * LINE_FWD_HEADER when the Subject is a forward and a header block starts here
 * or on the next non-blank line; else LINE_QUOTED.
 */
static enum line_kind
earlier_mail(const struct rules *rs, struct rscan *sc, const char *t, size_t len, size_t pos,
    size_t n, bool fwd_subject)
{
	const char *s = t + pos, *nx;
	size_t nn;
	char f = field_at(rs, sc, s, n), g;
	bool block = false;

	if (f == 'f' || f == 's') {
		nx = next_line(t, len, pos + n, false, &nn);
		g = field_at(rs, sc, nx, nn);
		block = (f == 'f' && (g == 's' || g == 'd')) || (f == 's' && g == 'f');
	}
	if (!block && (f || !line_matches(rs, RC_REPLY_HEADER, sc, s, n)))
		return LINE_OWN;
	if (!block && fwd_subject) {
		nx = next_line(t, len, pos + n, true, &nn);
		g = field_at(rs, sc, nx, nn);
		block = g == 'f' || g == 's';	/* not 'd': "Date:" leads no client's block */
	}
	return fwd_subject && block ? LINE_FWD_HEADER : LINE_QUOTED;
}

int
doc_build(struct doc *d, const struct msgtext *mt, const struct rules *rs, struct rscan *sc)
{
	size_t cap = 0;
	bool fwd_subject;

	sb_init(&d->text);
	d->lines = NULL;
	d->nlines = 0;
	fwd_subject = forward_subject(mt->subject ? mt->subject : "", rs, sc);
	for (size_t p = 0; p < mt->nparts; p++) {
		const char *t = mt->parts[p].text;
		size_t len = mt->parts[p].len, pos = 0;
		enum line_kind state = mt->parts[p].forwarded ? LINE_FORWARDED : LINE_OWN;
		bool in_fwd_header = false, fwd_fields = false;

		while (pos < len) {
			const char *nl = memchr(t + pos, '\n', len - pos);
			size_t n = nl ? (size_t)(nl - (t + pos)) : len - pos;
			const char *s = t + pos;
			enum line_kind k;

			if (in_fwd_header) {
				/* blank lines before the first field do not end it */
				if (blank(s, n))
					in_fwd_header = !fwd_fields;
				else if (line_matches(rs, RC_FORWARD_FIELD, sc, s, n))
					fwd_fields = true;
				else
					in_fwd_header = false;
			}
			if (state == LINE_OWN || state == LINE_FORWARDED) {
				if (line_matches(rs, RC_FORWARD_HEADER, sc, s, n)) {
					state = LINE_FORWARDED;
					in_fwd_header = true;
					fwd_fields = false;
					k = LINE_FWD_HEADER;
					goto emit;
				}
				if (!in_fwd_header &&
				    (k = earlier_mail(rs, sc, t, len, pos, n, fwd_subject)) != LINE_OWN) {
					state = k == LINE_FWD_HEADER ? LINE_FORWARDED : LINE_QUOTED;
					in_fwd_header = k == LINE_FWD_HEADER;
					fwd_fields = k == LINE_FWD_HEADER && field_at(rs, sc, s, n) != 0;
					goto emit;
				}
				if (sig_delim(s, n)) {
					state = LINE_SIGNATURE;
					k = LINE_SIGNATURE;
					goto emit;
				}
			}
			if (in_fwd_header)
				k = LINE_FWD_HEADER;
			else if (quoted(s, n))
				k = LINE_QUOTED;
			else
				k = state;
emit:
			if (add_line(d, &cap, d->text.len, (k == LINE_OWN || k == LINE_FORWARDED) ? n : 0,
			    (unsigned)p, k) < 0)
				return -1;
			if ((k == LINE_OWN || k == LINE_FORWARDED) && sb_append(&d->text, s, n) < 0)
				return -1;
			if (sb_putc(&d->text, '\n') < 0)
				return -1;
			pos += n + 1;
		}
		/* parts never run together */
		if (sb_putc(&d->text, '\n') < 0)
			return -1;
	}
	if (d->text.s == NULL && sb_puts(&d->text, "") < 0)
		return -1;
	return 0;
}

void
doc_free(struct doc *d)
{
	sb_free(&d->text);
	free(d->lines);
	d->lines = NULL;
	d->nlines = 0;
}
