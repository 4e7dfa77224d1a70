/*
 * doc.c - tag each line of the decoded text as own, quoted, forwarded,
 * forward header or signature.
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
line_matches(const struct rules *rs, enum rule_class rc, struct rscan *sc, const char *s, size_t n)
{
	struct rmatch m;
	size_t i = 0;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return rules_find(rs, rc, sc, s, n, i, &m) == 1;
}

int
doc_build(struct doc *d, const struct msgtext *mt, const struct rules *rs, struct rscan *sc)
{
	size_t cap = 0;

	sb_init(&d->text);
	d->lines = NULL;
	d->nlines = 0;
	for (size_t p = 0; p < mt->nparts; p++) {
		const char *t = mt->parts[p].text;
		size_t len = mt->parts[p].len, pos = 0;
		enum line_kind state = mt->parts[p].forwarded ? LINE_FORWARDED : LINE_OWN;
		bool in_fwd_header = false;

		while (pos < len) {
			const char *nl = memchr(t + pos, '\n', len - pos);
			size_t n = nl ? (size_t)(nl - (t + pos)) : len - pos;
			const char *s = t + pos;
			enum line_kind k;

			if (in_fwd_header) {
				if (blank(s, n))
					in_fwd_header = false;
				else if (!line_matches(rs, RC_FORWARD_FIELD, sc, s, n))
					in_fwd_header = false;
			}
			if (state == LINE_OWN || state == LINE_FORWARDED) {
				if (line_matches(rs, RC_FORWARD_HEADER, sc, s, n)) {
					state = LINE_FORWARDED;
					in_fwd_header = true;
					k = LINE_FWD_HEADER;
					goto emit;
				}
				if (line_matches(rs, RC_REPLY_HEADER, sc, s, n)) {
					state = LINE_QUOTED;
					k = LINE_QUOTED;
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
