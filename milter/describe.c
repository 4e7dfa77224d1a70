/*
 * describe.c - count the words a customer wrote about the problem.
 */
#include "describe.h"

#include <ctype.h>
#include <string.h>

/* Letters: ASCII ones and any non-ASCII UTF-8 byte (accented letters). */
static bool
letter(unsigned char c)
{
	return isalpha(c) || c >= 0x80;
}

static unsigned
count_words(const char *s, size_t n)
{
	unsigned words = 0;
	size_t i = 0;

	while (i < n) {
		bool has_letter = false;

		while (i < n && isspace((unsigned char)s[i]))
			i++;
		if (i >= n)
			break;
		while (i < n && !isspace((unsigned char)s[i])) {
			if (letter((unsigned char)s[i]))
				has_letter = true;
			i++;
		}
		if (has_letter)
			words++;
	}
	return words;
}

/*
 * "Label: value" — a short label (at most four words, no sentence
 * punctuation) before a colon and a short value after it.
 */
static bool
label_line(const char *s, size_t n)
{
	const char *colon = memchr(s, ':', n);
	size_t ln;

	if (colon == NULL)
		return false;
	ln = (size_t)(colon - s);
	for (size_t i = 0; i < ln; i++)
		if (s[i] == ',' || s[i] == '!' || s[i] == '?' || s[i] == ';')
			return false;
	if (count_words(s, ln) > 4)
		return false;
	return count_words(colon + 1, n - ln - 1) <= 6;
}

unsigned
describe_words(const struct doc *d, const struct rules *rs, struct rscan *sc, unsigned max)
{
	unsigned words = 0;
	long closed_part = -1;
	enum line_kind closed_kind = LINE_OWN;
	const char *text = d->text.s;

	for (size_t i = 0; i < d->nlines && words < max; i++) {
		const struct doc_line *l = &d->lines[i];
		const char *s = text + l->off;
		size_t n = l->len, st = 0;
		struct rmatch m;

		if (l->kind != LINE_OWN && l->kind != LINE_FORWARDED)
			continue;
		if ((long)l->part == closed_part && l->kind == closed_kind)
			continue;
		while (st < n && (s[st] == ' ' || s[st] == '\t'))
			st++;
		if (st == n)
			continue;
		/* a closing ends the part's text: the rest is name, phone, address */
		if (rules_find(rs, RC_CLOSING, sc, s, n, st, &m) == 1) {
			closed_part = (long)l->part;
			closed_kind = l->kind;
			continue;
		}
		/* greetings, also more than one: "Madame, Monsieur," */
		for (int g = 0; g < 3 && st < n && rules_find(rs, RC_GREETING, sc, s, n, st, &m) == 1 &&
		    m.end > st; g++)
			for (st = m.end; st < n && (s[st] == ' ' || s[st] == '\t'); st++)
				;
		if (label_line(s + st, n - st))
			continue;
		words += count_words(s + st, n - st);
	}
	return words;
}
