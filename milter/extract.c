/*
 * extract.c - find the fields of a complaint with the rules.
 *
 * Tickets and serials are taken only after a label (or, for tickets, in the
 * desk's own format); a label may be followed by one value, several joined by
 * list separators, or a list on the following lines.  Models come from the
 * catalog anywhere in Subject or text, except inside a value already taken as
 * a ticket or serial.  Values are kept in order of appearance, deduplicated.
 */
#include "extract.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALUE_MAX	64
#define MAX_VALUES	64	/* per field and message */

struct cand {
	size_t order;		/* source * SRC_STRIDE + offset */
	char v[VALUE_MAX];
};

struct candlist {
	struct cand c[MAX_VALUES];
	size_t n;
};

struct span {
	size_t src, start, end;
};

struct ctx {
	const struct rules *rs;
	struct rscan *sc;
	const struct caseid_fmt *idf;
	struct span spans[2 * MAX_VALUES];
	size_t nspans;
};

#define SRC_STRIDE ((size_t)1 << 40)
#define LANG_SAMPLE	30	/* language words counted at most */
#define ESCALATION_WORDS 4	/* escalation words kept for the event */

/*
 * Every model of the catalog holds a digit, starts at most MODEL_BEFORE bytes
 * before its first digit and ends at most MODEL_AFTER bytes after its last
 * (rules/models.rules says so): only text around digits is searched.
 */
#define MODEL_BEFORE	40
#define MODEL_AFTER	24

/*
 * An anchored class at i.  What these classes match (a value, a filler, a
 * separator) is short, so the pattern sees at most AT_WINDOW bytes: a
 * lookahead such as ticket.value's (?=(?:[a-z-]*\d){4}) must not scan the
 * rest of a 250 KB line after each of thousands of labels (quadratic time).
 */
#define AT_WINDOW	1024

static bool
at(struct ctx *x, enum rule_class rc, const char *s, size_t len, size_t i, struct rmatch *m)
{
	struct rmatch tmp;

	if (len > i && len - i > AT_WINDOW)
		len = i + AT_WINDOW;
	return rules_find(x->rs, rc, x->sc, s, len, i, m ? m : &tmp) == 1;
}

static size_t
skip_blanks(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/*
 * Skip what stands between a label and its value: blanks, ':', '.', '=',
 * dashes, opening brackets and quotes, fillers.
 */
static size_t
skip_label_tail(struct ctx *x, const char *s, size_t len, size_t i)
{
	for (int round = 0; round < 3; round++) {
		struct rmatch m;

		while (i < len) {
			unsigned char c = (unsigned char)s[i];

			if (c == ' ' || c == '\t' || c == ':' || c == '.' || c == '=' || c == '-' ||
			    c == '(' || c == '[' || c == '<' || c == '"' || c == '\'')
				i++;
			else if (c == 0xE2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
			    ((unsigned char)s[i + 2] == 0x93 || (unsigned char)s[i + 2] == 0x94 ||
			    (unsigned char)s[i + 2] == 0x9C || (unsigned char)s[i + 2] == 0x9E))
				i += 3;	/* en or em dash, opening quote “ „ */
			else if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] == 0xA0)
				i += 2;	/* no-break space */
			else
				break;
		}
		if (!at(x, RC_FILLER, s, len, i, &m) || m.end == m.start)
			break;
		i = m.end;
	}
	return i;
}

static void
cand_add(struct candlist *cl, size_t order, const char *v)
{
	if (cl->n < MAX_VALUES && *v) {
		cl->c[cl->n].order = order;
		snprintf(cl->c[cl->n].v, VALUE_MAX, "%s", v);
		cl->n++;
	}
}

static void
span_add(struct ctx *x, size_t src, size_t start, size_t end)
{
	if (x->nspans < sizeof(x->spans) / sizeof(x->spans[0]))
		x->spans[x->nspans++] = (struct span){ src, start, end };
}

static bool
span_overlaps(const struct ctx *x, size_t src, size_t start, size_t end)
{
	for (size_t i = 0; i < x->nspans; i++)
		if (x->spans[i].src == src && start < x->spans[i].end && x->spans[i].start < end)
			return true;
	return false;
}

/* Value copy: upper case for serials, '#' never leads, blanks removed (serials). */
static void
value_copy(char *out, const char *s, size_t n, bool serial)
{
	size_t o = 0;

	while (n && *s == '#') {
		s++;
		n--;
	}
	for (size_t i = 0; i < n && o + 1 < VALUE_MAX; i++) {
		unsigned char c = (unsigned char)s[i];

		if (serial && (c == ' ' || c == '\t'))
			continue;
		out[o++] = (char)(serial && c < 0x80 ? toupper(c) : c);
	}
	out[o] = '\0';
}

static bool
is_case_id(struct ctx *x, const char *v)
{
	size_t pl = strlen(x->idf->prefix);

	return strncasecmp(v, x->idf->prefix, pl) == 0 && v[pl] == '-';
}

/* A serial written in groups: "2811 2345" continues while groups are short. */
static size_t
join_groups(const char *s, size_t len, size_t vs, size_t ve)
{
	for (int g = 0; g < 4; g++) {
		size_t j = ve, k;
		bool digit = false;

		if (ve - vs > 16 || j >= len || s[j] != ' ')
			break;
		/* the group before must be short too */
		size_t prev = ve;
		while (prev > vs && s[prev - 1] != ' ')
			prev--;
		if (ve - prev > 6)
			break;
		j++;
		for (k = j; k < len && isalnum((unsigned char)s[k]); k++)
			if (isdigit((unsigned char)s[k]))
				digit = true;
		if (k - j < 2 || k - j > 6 || !digit)
			break;
		if (k < len && (isalnum((unsigned char)s[k]) || (unsigned char)s[k] >= 0x80))
			break;
		ve = k;
	}
	return ve;
}

/*
 * Take one value at i.  Returns its end (> i) and sets *vs, or 0 when the
 * text at i is no value of this field.
 */
static size_t
take_value(struct ctx *x, bool serial, const char *s, size_t len, size_t i, size_t *vs)
{
	struct rmatch m;

	if (at(x, RC_SERIAL_NONE, s, len, i, NULL) || at(x, RC_NEVER, s, len, i, NULL) ||
	    at(x, serial ? RC_SERIAL_REJECT : RC_TICKET_REJECT, s, len, i, NULL))
		return 0;
	if (!at(x, serial ? RC_SERIAL_VALUE : RC_TICKET_VALUE, s, len, i, &m) || m.end <= m.start)
		return 0;
	*vs = m.start;
	return serial ? join_groups(s, len, m.start, m.end) : m.end;
}

/*
 * Take a list of values starting at i ("A, B en C").  Returns the offset after
 * the last value taken, or 0 when not even one value was there.
 */
static size_t
take_list(struct ctx *x, bool serial, const char *s, size_t len, size_t i, size_t src,
    struct candlist *out)
{
	size_t last = 0;

	for (int k = 0; k < MAX_VALUES; k++) {
		size_t vs, ve = take_value(x, serial, s, len, i, &vs);
		char v[VALUE_MAX];
		struct rmatch m;

		if (ve == 0)
			break;
		value_copy(v, s + vs, ve - vs, serial);
		if (!is_case_id(x, v)) {
			cand_add(out, src * SRC_STRIDE + vs, v);
			span_add(x, src, vs, ve);
		}
		last = ve;
		if (!at(x, RC_LIST_SEP, s, len, ve, &m) || m.end == m.start)
			break;
		i = m.end;
	}
	return last;
}

static size_t
line_end(const char *s, size_t len, size_t i)
{
	const char *nl = memchr(s + i, '\n', len - i);

	return nl ? (size_t)(nl - s) : len;
}

/* Skip a list bullet ("-", "*", "•", "1.", "2)") at the start of a line. */
static size_t
skip_bullet(const char *s, size_t len, size_t i)
{
	i = skip_blanks(s, len, i);
	if (i < len && (s[i] == '-' || s[i] == '*'))
		return skip_blanks(s, len, i + 1);
	if (i + 2 < len && (unsigned char)s[i] == 0xE2 && (unsigned char)s[i + 1] == 0x80 &&
	    (unsigned char)s[i + 2] == 0xA2)
		return skip_blanks(s, len, i + 3);
	if (i + 1 < len && isdigit((unsigned char)s[i])) {
		size_t j = i;

		while (j < len && isdigit((unsigned char)s[j]) && j - i < 2)
			j++;
		if (j < len && (s[j] == '.' || s[j] == ')') && j + 1 < len && s[j + 1] == ' ')
			return skip_blanks(s, len, j + 1);
	}
	return i;
}

/* Lines after pos that hold nothing but values (bulleted or not). */
static void
take_following_lines(struct ctx *x, bool serial, const char *s, size_t len, size_t pos,
    size_t src, struct candlist *out, bool allow_blank)
{
	for (int k = 0; k < MAX_VALUES && pos < len; k++) {
		size_t ls = pos + 1, le, i, end;

		if (ls >= len)
			break;
		le = line_end(s, len, ls);
		if (allow_blank && skip_blanks(s, len, ls) == le) {
			allow_blank = false;
			pos = le;
			continue;
		}
		i = skip_bullet(s, len, ls);
		{
			struct candlist tmp = { .n = 0 };
			size_t save = x->nspans;

			end = take_list(x, serial, s, le, i, src, &tmp);
			if (end == 0 || skip_blanks(s, le, end) != le) {
				x->nspans = save;
				break;
			}
			for (size_t t = 0; t < tmp.n; t++)
				cand_add(out, tmp.c[t].order, tmp.c[t].v);
		}
		allow_blank = false;
		pos = le;
	}
}

/* Values after every label of a class in one source text. */
static void
labeled_values(struct ctx *x, bool serial, const char *s, size_t len, size_t src,
    struct candlist *out)
{
	enum rule_class label = serial ? RC_SERIAL_LABEL : RC_TICKET_LABEL;
	size_t off = 0;
	struct rmatch m;

	while (off < len && rules_find(x->rs, label, x->sc, s, len, off, &m) == 1) {
		size_t i, end;

		off = m.end > m.start ? m.end : m.start + 1;
		i = skip_label_tail(x, s, len, m.end);
		if (i >= len || s[i] == '\n') {
			/* label alone on its line: the values follow as a list */
			take_following_lines(x, serial, s, len, i, src, out, true);
			continue;
		}
		end = take_list(x, serial, s, len, i, src, out);
		if (end == 0)
			continue;
		off = end;
		/* nothing more on the line (not line_end(): O(line) per label) */
		if ((i = skip_blanks(s, len, end)) >= len || s[i] == '\n')
			take_following_lines(x, serial, s, len, line_end(s, len, end), src, out, false);
	}
}

static void
bare_tickets(struct ctx *x, const char *s, size_t len, size_t src, struct candlist *out)
{
	size_t off = 0;
	struct rmatch m;

	while (off < len && rules_find(x->rs, RC_TICKET_BARE, x->sc, s, len, off, &m) == 1) {
		char v[VALUE_MAX];

		off = m.end > m.start ? m.end : m.start + 1;
		if (span_overlaps(x, src, m.start, m.end))
			continue;
		value_copy(v, s + m.start, m.end - m.start, false);
		cand_add(out, src * SRC_STRIDE + m.start, v);
		span_add(x, src, m.start, m.end);
	}
}

/* Model as written, white space collapsed. */
static void
model_copy(char *out, const char *s, size_t n)
{
	size_t o = 0;
	bool sp = false;

	for (size_t i = 0; i < n && o + 1 < VALUE_MAX; i++) {
		if (isspace((unsigned char)s[i])) {
			sp = true;
			continue;
		}
		if (sp && o)
			out[o++] = ' ';
		sp = false;
		if (o + 1 < VALUE_MAX)
			out[o++] = s[i];
	}
	out[o] = '\0';
}

static bool
is_blank_byte(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* The next window of s at or after from that holds digits; false when none. */
static bool
digit_window(const char *s, size_t len, size_t from, size_t *ws, size_t *we)
{
	size_t i = from, last;

	while (i < len && !isdigit((unsigned char)s[i]))
		i++;
	if (i >= len)
		return false;
	*ws = i > MODEL_BEFORE ? i - MODEL_BEFORE : 0;
	while (*ws > 0 && !is_blank_byte(s[*ws - 1]))
		(*ws)--;
	/* digits closer than a window's width belong to the same window */
	last = i;
	for (size_t j = i + 1; j < len && j <= last + MODEL_BEFORE + MODEL_AFTER; j++)
		if (isdigit((unsigned char)s[j]))
			last = j;
	*we = last + 1 + MODEL_AFTER < len ? last + 1 + MODEL_AFTER : len;
	while (*we < len && !is_blank_byte(s[*we]))
		(*we)++;
	return true;
}

static void
models(struct ctx *x, const char *s, size_t len, size_t src, struct candlist *out)
{
	size_t ws, we, off = 0;
	struct rmatch m;

	while (off < len && digit_window(s, len, off, &ws, &we)) {
		if (ws < off)
			ws = off;
		while (ws < we && rules_find(x->rs, RC_MODEL, x->sc, s, we, ws, &m) == 1) {
			char v[VALUE_MAX];

			ws = m.end > m.start ? m.end : m.start + 1;
			if (m.end == m.start || span_overlaps(x, src, m.start, m.end))
				continue;
			model_copy(v, s + m.start, m.end - m.start);
			cand_add(out, src * SRC_STRIDE + m.start, v);
		}
		off = we > ws ? we : ws;
	}
}

static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return x->order < y->order ? -1 : x->order > y->order;
}

static int
publish(struct candlist *cl, strlist *dst)
{
	qsort(cl->c, cl->n, sizeof(cl->c[0]), cand_cmp);
	for (size_t i = 0; i < cl->n; i++)
		if (sl_add_unique(dst, cl->c[i].v) < 0)
			return -1;
	return 0;
}

/* First explicit statement of the kind, Subject before text. */
static enum complaint_kind
explicit_kind(struct ctx *x, const char *const src[2], const size_t lens[2])
{
	for (int k = 0; k < 2; k++) {
		struct rmatch ms, mp;
		bool s = rules_find(x->rs, RC_KIND_SERVICE, x->sc, src[k], lens[k], 0, &ms) == 1;
		bool p = rules_find(x->rs, RC_KIND_PRODUCT, x->sc, src[k], lens[k], 0, &mp) == 1;

		if (s && (!p || ms.start <= mp.start))
			return KIND_SERVICE;
		if (p)
			return KIND_PRODUCT;
	}
	return KIND_UNKNOWN;
}

/* A solution label followed by a real value (same line or the next). */
static bool
solution_idea(struct ctx *x, const char *s, size_t len)
{
	size_t off = 0;
	struct rmatch m;

	while (off < len && rules_find(x->rs, RC_SOLUTION_LABEL, x->sc, s, len, off, &m) == 1) {
		size_t i = skip_label_tail(x, s, len, m.end), le, letters = 0;

		off = m.end > m.start ? m.end : m.start + 1;
		if (i < len && s[i] == '\n')
			i = skip_blanks(s, len, i + 1);
		if (at(x, RC_SERIAL_NONE, s, len, i, NULL))
			continue;
		le = line_end(s, len, i);
		for (size_t j = i; j < le; j++)
			if (isalpha((unsigned char)s[j]) || (unsigned char)s[j] >= 0xC0)
				letters++;
		if (letters >= 3)
			return true;
	}
	return false;
}

static void
language(struct ctx *x, struct complaint *c, const char *const src[2], const size_t lens[2])
{
	struct {
		const char *name;
		unsigned n;
	} counts[8];
	size_t nc = 0, best = 0;

	unsigned total = 0;

	/* a sample of LANG_SAMPLE words decides; long mails need not be read to the end */
	for (int k = 0; k < 2; k++) {
		size_t off = 0;
		struct rmatch m;

		while (off < lens[k] && total++ < LANG_SAMPLE &&
		    rules_find(x->rs, RC_LANG, x->sc, src[k], lens[k], off, &m) == 1) {
			size_t i;

			off = m.end > m.start ? m.end : m.start + 1;
			for (i = 0; i < nc; i++)
				if (strcmp(counts[i].name, m.name) == 0)
					break;
			if (i == nc) {
				if (nc == sizeof(counts) / sizeof(counts[0]))
					continue;
				counts[nc].name = m.name;
				counts[nc++].n = 0;
			}
			counts[i].n++;
		}
	}
	for (size_t i = 1; i < nc; i++)
		if (counts[i].n > counts[best].n)
			best = i;
	c->language[0] = '\0';
	if (nc && counts[best].n > 0)
		snprintf(c->language, sizeof(c->language), "%s", counts[best].name);
}

/* Words of escalation (at most ESCALATION_WORDS of them) in Subject and text. */
static int
escalation(struct ctx *x, struct complaint *c, const char *const src[2], const size_t lens[2])
{
	for (int k = 0; k < 2; k++) {
		size_t off = 0;
		struct rmatch m;

		while (off < lens[k] && c->escalation_words.n < ESCALATION_WORDS &&
		    rules_find(x->rs, RC_ESCALATE, x->sc, src[k], lens[k], off, &m) == 1) {
			char v[VALUE_MAX];

			off = m.end > m.start ? m.end : m.start + 1;
			model_copy(v, src[k] + m.start, m.end - m.start);
			if (sl_add_unique(&c->escalation_words, v) < 0)
				return -1;
		}
	}
	c->escalation = c->escalation_words.n > 0;
	return 0;
}

int
extract_fields(struct complaint *c, const char *subject, const struct doc *d,
    const struct rules *rs, struct rscan *sc, const struct caseid_fmt *idf)
{
	struct ctx *x = calloc(1, sizeof(*x));
	struct candlist *tk = calloc(1, sizeof(*tk)), *sr = calloc(1, sizeof(*sr)),
	    *md = calloc(1, sizeof(*md));
	const char *src[2] = { subject, d->text.s };
	size_t lens[2] = { strlen(subject), d->text.len };
	char ref[CASEID_MAX];
	int rc = -1;

	if (x == NULL || tk == NULL || sr == NULL || md == NULL)
		goto out;
	x->rs = rs;
	x->sc = sc;
	x->idf = idf;

	for (size_t k = 0; k < 2; k++) {
		labeled_values(x, true, src[k], lens[k], k, sr);
		labeled_values(x, false, src[k], lens[k], k, tk);
	}
	for (size_t k = 0; k < 2; k++)
		bare_tickets(x, src[k], lens[k], k, tk);
	for (size_t k = 0; k < 2; k++)
		models(x, src[k], lens[k], k, md);
	if (publish(tk, &c->tickets) < 0 || publish(sr, &c->serials) < 0 ||
	    publish(md, &c->models) < 0)
		goto out;

	c->explicit_kind = explicit_kind(x, src, lens);
	c->solution_idea = solution_idea(x, src[1], lens[1]);
	language(x, c, src, lens);
	free(c->case_ref);
	c->case_ref = NULL;
	if (caseid_find(idf, src[0], lens[0], ref, sizeof(ref), NULL) == 1 ||
	    caseid_find(idf, src[1], lens[1], ref, sizeof(ref), NULL) == 1) {
		if ((c->case_ref = strdup(ref)) == NULL)
			goto out;
	}
	/* escalation means something only for a case that exists: follow-ups */
	if (c->case_ref != NULL && escalation(x, c, src, lens) < 0)
		goto out;
	rc = 0;
out:
	free(x);
	free(tk);
	free(sr);
	free(md);
	return rc;
}
