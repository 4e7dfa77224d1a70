/*
 * rules.c - load and compile rules/NAME.rules; match them.
 *
 * Each line "CLASS[:NAME] PATTERN" is compiled on its own first, so an error
 * names its file and line.  All rules of one class are then compiled again as
 * one alternation, each branch marked with (*MARK:n) at its end (a mark at
 * the start would cost pcre2 its start-of-match optimisation), so that a
 * scan costs one JIT pass per class however many rules the class has, and
 * the mark says which rule matched.
 *
 * Searched classes also get a prefilter: at load time every pair of bytes,
 * and every ASCII byte after a pair that passed, is tried with pcre2's
 * partial matching as the start of a match of the class anchored there
 * (with lookbehinds left out, at the start of a text and after a word
 * character: see could_start()).  A scan then runs the anchored pattern
 * only where the text's next two bytes (exactly) and three bytes (through a
 * hashed, case-folded set that may let a few more through, never fewer) can
 * start a match, and for classes that never match right after a word
 * character only at word starts.  That skips nearly all of a mail's text
 * cheaply (pcre2 itself would try every alternative at every position whose
 * first byte could start one).  The result is the same leftmost match;
 * CM_RULES_NO_PREFILTER=1 turns the prefilter off, so that tests can
 * compare.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_MATCH_LIMIT	200000
#define RULES_DEPTH_LIMIT	5000
#define RULES_MAX_LINE		4096

static const struct {
	const char *name;
	bool anchored;
	bool required;
} class_info[RC__COUNT] = {
	[RC_TICKET_LABEL] = { "ticket.label", false, true },
	[RC_TICKET_VALUE] = { "ticket.value", true, true },
	[RC_TICKET_BARE] = { "ticket.bare", false, false },
	[RC_TICKET_REJECT] = { "ticket.reject", true, false },
	[RC_SERIAL_LABEL] = { "serial.label", false, true },
	[RC_SERIAL_VALUE] = { "serial.value", true, true },
	[RC_SERIAL_NONE] = { "value.none", true, false },
	[RC_SERIAL_REJECT] = { "serial.reject", true, false },
	[RC_LIST_SEP] = { "list.separator", true, false },
	[RC_FILLER] = { "label.filler", true, false },
	[RC_MODEL] = { "model", false, true },
	[RC_KIND_SERVICE] = { "kind.service", false, false },
	[RC_KIND_PRODUCT] = { "kind.product", false, false },
	[RC_SOLUTION_LABEL] = { "solution.label", false, false },
	[RC_GREETING] = { "text.greeting", true, false },
	[RC_CLOSING] = { "text.closing", true, false },
	[RC_REPLY_HEADER] = { "text.reply-header", true, false },
	[RC_FORWARD_HEADER] = { "text.forward-header", true, false },
	[RC_FORWARD_FIELD] = { "text.forward-field", true, false },
	[RC_LANG] = { "language", false, false },
	[RC_AUTO_SUBJECT] = { "auto.subject", false, false },
	[RC_AUTO_SENDER] = { "auto.sender", true, false },
	[RC_ESCALATE] = { "escalate", false, false },
	[RC_REPLY_PREFIX] = { "subject.reply-prefix", true, false },
	[RC_NEVER] = { "value.never", true, false },
};

struct rule {
	char *name;
	char *file;
	int line;
};

struct rclass {
	pcre2_code *re;		/* combined alternation, NULL when no rules */
	pcre2_code *anch;	/* the same, anchored: used with the prefilter */
	/*
	 * Without the JIT, pcre2_match() checks the UTF-8 of the subject from
	 * the start offset to its end on every call when the pattern has
	 * PCRE2_MATCH_INVALID_UTF (PCRE2_NO_UTF_CHECK is then ignored), so a
	 * text of n bytes scanned match by match, or position by position
	 * after the prefilter, costs O(n^2): minutes for 250 KB.  Where the JIT
	 * is not there (CM_RULES_NO_JIT, valgrind, a system that forbids
	 * writable executable memory), re and anch are compiled once more
	 * without that option, for texts known to be valid UTF-8
	 * (rscan_set_valid()), matched with PCRE2_NO_UTF_CHECK.
	 */
	pcre2_code *re_valid, *anch_valid;
	uint8_t *pairs;		/* 65536-bit set of byte pairs that can start a match */
	uint8_t *triples;	/* 65536-bit hashed set of ASCII triples (tri_hash()) */
	bool word_initial;	/* no match starts right after [A-Za-z0-9_] */
	int slot;		/* its candidate list (-1: none) */
	struct rule *rules;
	size_t n;
};

/* What a byte is, for word starts (rules->byte_kind). */
#define BK_WORD 1	/* ASCII letter, digit or '_' */
#define BK_CONT 2	/* UTF-8 continuation byte */
#define BK_LONG 4	/* lead byte of a character of three or four bytes */

/* At most this many classes keep candidate lists (the others scan). */
#define PF_MAX 16

struct rules {
	int refs;
	struct rclass cls[RC__COUNT];
	/* prefiltered classes that start at word starts: candidate lists */
	unsigned npf;
	enum rule_class pf_class[PF_MAX];
	uint16_t first[256];	/* first byte -> which of them can start with it */
	uint8_t byte_kind[256];	/* BK_* of every byte */
	uint8_t starts_word[64];	/* [kind before << 3 | kind]: a word start? */
	pcre2_match_context *mctx;
	size_t total;
};

static const uint32_t COMPILE_OPTS = PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS |
    PCRE2_MULTILINE | PCRE2_MATCH_INVALID_UTF;

const char *
rules_class_name(enum rule_class rc)
{
	return rc < RC__COUNT ? class_info[rc].name : "?";
}

static int
class_lookup(const char *s, size_t n)
{
	for (int i = 0; i < RC__COUNT; i++)
		if (strlen(class_info[i].name) == n && strncasecmp(class_info[i].name, s, n) == 0)
			return i;
	return -1;
}

/* Growing source text of one class's combined pattern. */
struct csrc {
	strbuf pat;
	size_t cap;
};

static int
add_rule(struct rules *rs, struct csrc *src, int rc, const char *name,
    const char *file, int line, const char *pat)
{
	struct rclass *c = &rs->cls[rc];
	struct rule *nr;

	if (c->n == src->cap) {
		size_t cap = src->cap ? src->cap * 2 : 8;

		if ((nr = realloc(c->rules, cap * sizeof(*nr))) == NULL)
			return -1;
		c->rules = nr;
		src->cap = cap;
	}
	nr = &c->rules[c->n];
	nr->name = strdup(name);
	nr->file = strdup(file);
	nr->line = line;
	if (nr->name == NULL || nr->file == NULL) {
		free(nr->name);
		free(nr->file);
		return -1;
	}
	if ((c->n && sb_putc(&src->pat, '|') < 0) ||
	    sb_printf(&src->pat, "(?:(?:%s)(*MARK:%zu))", pat, c->n) < 0)
		return -1;
	c->n++;
	rs->total++;
	return 0;
}

static pcre2_code *
compile(const char *pat, bool anchored, char *msg, size_t msglen, size_t *erroff)
{
	int errcode;
	PCRE2_SIZE off = 0;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    COMPILE_OPTS | (anchored ? PCRE2_ANCHORED : 0), &errcode, &off, NULL);

	if (re == NULL) {
		PCRE2_UCHAR buf[256];

		pcre2_get_error_message(errcode, buf, sizeof(buf));
		snprintf(msg, msglen, "%s", (char *)buf);
		*erroff = off;
	}
	return re;
}

static int
load_file(struct rules *rs, struct csrc *srcs, const char *path, const char *shown,
    char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char line[RULES_MAX_LINE];
	int lineno = 0;

	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", shown, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *p = line, *cls, *name = "", *pat, *colon;
		char msg[256];
		size_t erroff;
		pcre2_code *re;
		int rc;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			snprintf(err, errlen, "%s:%d: line longer than %d bytes", shown, lineno,
			    RULES_MAX_LINE - 2);
			goto fail;
		}
		line[strcspn(line, "\r\n")] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		cls = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		pat = p;
		/* trailing blanks are not part of the pattern */
		for (size_t n = strlen(pat); n && (pat[n - 1] == ' ' || pat[n - 1] == '\t'); n--)
			pat[n - 1] = '\0';
		if ((colon = strchr(cls, ':')) != NULL) {
			*colon = '\0';
			name = colon + 1;
		}
		if ((rc = class_lookup(cls, strlen(cls))) < 0) {
			snprintf(err, errlen, "%s:%d: unknown rule class \"%s\"", shown, lineno, cls);
			goto fail;
		}
		if (*pat == '\0') {
			snprintf(err, errlen, "%s:%d: %s: missing pattern", shown, lineno, cls);
			goto fail;
		}
		if (rc == RC_LANG && *name == '\0') {
			snprintf(err, errlen, "%s:%d: language rules need a name (language:nl)",
			    shown, lineno);
			goto fail;
		}
		re = compile(pat, class_info[rc].anchored, msg, sizeof(msg), &erroff);
		if (re == NULL) {
			snprintf(err, errlen, "%s:%d: %s at offset %zu", shown, lineno, msg, erroff);
			goto fail;
		}
		pcre2_code_free(re);
		if (add_rule(rs, &srcs[rc], rc, name, shown, lineno, pat) < 0) {
			snprintf(err, errlen, "%s:%d: out of memory", shown, lineno);
			goto fail;
		}
	}
	fclose(fp);
	return 0;
fail:
	fclose(fp);
	return -1;
}

/* A prefilter that lets more than 1/PREFILTER_MAX_SHARE of letter pairs through is dropped. */
#define PREFILTER_MAX_SHARE	12
#define PAIR_BIT(a, b)	(((unsigned)(a) << 8) | (unsigned)(b))

static inline bool
bit_test(const uint8_t *set, unsigned bit)
{
	return set[bit >> 3] & (1u << (bit & 7));
}

static inline void
bit_set(uint8_t *set, unsigned bit)
{
	set[bit >> 3] |= (uint8_t)(1u << (bit & 7));
}

static inline bool
pair_set(const uint8_t *pairs, unsigned a, unsigned b)
{
	return bit_test(pairs, PAIR_BIT(a, b));
}

static inline void
pair_add(uint8_t *pairs, unsigned a, unsigned b)
{
	bit_set(pairs, PAIR_BIT(a, b));
}

/* An ASCII letter folded to lower case; other bytes as they are. */
static inline uint32_t
fold(uint8_t b)
{
	return b >= 'A' && b <= 'Z' ? (uint32_t)b | 0x20 : b;
}

/*
 * Where three ASCII bytes (folded) go in a 65536-bit set.  Different triples
 * may share a bit: the set then lets more through, never fewer.
 */
static inline unsigned
tri_hash(uint8_t a, uint8_t b, uint8_t c)
{
	uint32_t k = fold(a) << 14 | fold(b) << 7 | fold(c);

	return (k * 2654435761u) >> 16;
}

/*
 * What the prefilter looks at in the text at u[i]: the next two bytes and,
 * when they and the third are ASCII, the next three (hashed the first time
 * a class asks).  The last byte of the text pairs with nothing and is
 * always tried, as pcre2 would.
 */
struct startkey {
	const uint8_t *u;	/* the text at i */
	bool any;		/* too close to the end to judge: try it */
	bool three;		/* three ASCII bytes to judge by */
	unsigned pair;		/* PAIR_BIT of the next two bytes */
	int tri;		/* tri_hash() of the next three; -1 until asked */
};

static inline struct startkey
start_key(const uint8_t *u, size_t len, size_t i)
{
	struct startkey k = { .u = u + i, .any = i + 1 >= len, .tri = -1 };

	if (!k.any) {
		k.pair = PAIR_BIT(u[i], u[i + 1]);
		k.three = i + 2 < len && !((u[i] | u[i + 1] | u[i + 2]) & 0x80);
	}
	return k;
}

/* Can a match of class c start where k was taken?  false only when certain. */
static inline bool
key_allows(const struct rclass *c, struct startkey *k)
{
	if (k->any)
		return true;
	if (!bit_test(c->pairs, k->pair))
		return false;
	if (c->triples == NULL || !k->three)
		return true;
	if (k->tri < 0)
		k->tri = (int)tri_hash(k->u[0], k->u[1], k->u[2]);
	return bit_test(c->triples, (unsigned)k->tri);
}

static inline bool
could_match_at(const struct rclass *c, const uint8_t *u, size_t len, size_t i)
{
	struct startkey k = start_key(u, len, i);

	return key_allows(c, &k);
}

/* Can subj (n bytes, at offset off) be the start of a match (or a whole one)? */
static bool
starts_at(pcre2_code *probe, pcre2_match_data *md, const uint8_t *subj, size_t n, size_t off)
{
	int r = pcre2_match(probe, subj, n, off, PCRE2_PARTIAL_HARD, md, NULL);

	return r >= 0 || r == PCRE2_ERROR_PARTIAL;
}

/*
 * Can subj (n <= 3 bytes) be the start of a match, whatever comes before it?
 * Lookbehinds are gone from the probe pattern (probe_source()), so only \b,
 * ^ and \A look back: at the start of the subject (no character before:
 * like a line break or a non-word character) and after a word character
 * ('a': under PCRE2_UCP every word character is alike to \b) they see every
 * case there is.
 */
static bool
could_start(pcre2_code *probe, pcre2_match_data *md, const uint8_t *subj, size_t n)
{
	uint8_t ctx[4] = { 'a' };

	if (starts_at(probe, md, subj, n, 0))
		return true;
	memcpy(ctx + 1, subj, n);
	return starts_at(probe, md, ctx, n + 1, 1);
}

/*
 * Can a match start right after a letter, digit or '_'?  When not (every
 * rule begins with \b and a word character, say), only the text's word
 * starts need trying.  Asked of the probe pattern after 'x' (for \b every
 * word character is alike): every ASCII first byte and every two-byte
 * character the pairs let through.  A character of three or four bytes is
 * not asked about: word starts include every one (see struct wstarts).
 */
static bool
word_initial(const struct rclass *c, pcre2_code *probe, pcre2_match_data *md)
{
	uint8_t subj[3] = { 'x' };

	for (unsigned a = 0; a < 0x80; a++) {
		subj[1] = (uint8_t)a;
		if (starts_at(probe, md, subj, 2, 1))
			return false;
	}
	for (unsigned a = 0xC2; a <= 0xDF; a++) {
		for (unsigned b = 0x80; b <= 0xBF; b++) {
			if (!pair_set(c->pairs, a, b))
				continue;
			subj[1] = (uint8_t)a;
			subj[2] = (uint8_t)b;
			if (starts_at(probe, md, subj, 3, 1))
				return false;
		}
	}
	return true;
}

/*
 * Could the pattern tell an upper-case ASCII letter from its lower case?
 * Every rule is compiled caseless; only an inline option that turns that
 * off ((?-i), (?^)) or a Unicode property (\p{Lu}: caseless does not
 * apply to it) can.  Conservative: any "(?" group with '-' or '^' among
 * its options, and any \p or \P, say yes.
 */
static bool
case_sensitive_somewhere(const char *pat)
{
	for (const char *p = pat; *p; p++) {
		if (p[0] == '\\' && p[1] != '\0') {
			if (p[1] == 'p' || p[1] == 'P')
				return true;
			p++;
			continue;
		}
		if (p[0] == '(' && p[1] == '?') {
			for (const char *q = p + 2; *q && *q != ')' && *q != ':'; q++)
				if (*q == '-' || *q == '^')
					return true;
		}
	}
	return false;
}

static bool
ascii_upper(unsigned b)
{
	return b >= 'A' && b <= 'Z';
}

/*
 * The triples: every ASCII byte after every ASCII pair that can start a
 * match.  The set is keyed by the folded triple, so when the pattern
 * cannot tell case apart only lower-case letters need probing (a fifth of
 * the probes; an upper-case triple matches where its lower case does).
 * Returns how many triples of lower-case letters can start a match.
 */
static unsigned
triples_build(struct rclass *c, pcre2_code *probe, pcre2_match_data *md, bool fold)
{
	uint8_t subj[3];
	unsigned letters = 0;

	for (unsigned a = 0; a < 0x80; a++) {
		for (unsigned b = 0; b < 0x80; b++) {
			if (!pair_set(c->pairs, a, b) || (fold && (ascii_upper(a) || ascii_upper(b))))
				continue;
			subj[0] = (uint8_t)a;
			subj[1] = (uint8_t)b;
			for (unsigned k = 0; k < 0x80; k++) {
				if (fold && ascii_upper(k))
					continue;
				subj[2] = (uint8_t)k;
				if (!could_start(probe, md, subj, 3))
					continue;
				bit_set(c->triples, tri_hash(subj[0], subj[1], subj[2]));
				if (islower(a) && islower(b) && islower(k))
					letters++;
			}
		}
	}
	return letters;
}

/*
 * The pattern the prefilter probes with: pat with every lookbehind
 * ((?<=...), (?<!...)) replaced by an empty group.  An assertion removed
 * can only let more through, and the probes see two bytes of text with
 * nothing before them, where a lookbehind would judge what it cannot see.
 * NULL (no prefilter for the class) for what the probes cannot stand in
 * for: \G (pcre2 matches it only where a search starts), \Q...\E, the
 * (*alpha_assertions) and inline extended mode (x), which this small
 * scanner does not follow; or when memory runs out.
 */
static char *
probe_source(const char *pat)
{
	size_t n = strlen(pat), o = 0;
	char *out = malloc(n + 1);

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n;) {
		if (pat[i] == '\\') {
			if (pat[i + 1] == 'G' || pat[i + 1] == 'Q')
				goto bail;
			out[o++] = pat[i++];
			if (i < n)
				out[o++] = pat[i++];
			continue;
		}
		if (pat[i] == '[') {
			/* a character class: brackets inside are literal */
			size_t j = i + 1;

			if (pat[j] == '^')
				j++;
			if (pat[j] == ']')
				j++;
			while (j < n && pat[j] != ']') {
				if (pat[j] == '\\' && j + 1 < n)
					j++;
				else if (pat[j] == '[' && pat[j + 1] == ':') {
					const char *e = strstr(pat + j + 2, ":]");

					if (e != NULL)
						j = (size_t)(e - pat) + 1;
				}
				j++;
			}
			if (j >= n)
				goto bail;
			memcpy(out + o, pat + i, j + 1 - i);
			o += j + 1 - i;
			i = j + 1;
			continue;
		}
		if (pat[i] == '(' && pat[i + 1] == '*' && pat[i + 2] >= 'a' && pat[i + 2] <= 'z')
			goto bail;
		if (pat[i] == '(' && pat[i + 1] == '?') {
			size_t j = i + 2;

			/* options (?x), (?ix-s:...): extended mode is not followed */
			while (j < n && strchr("imnsxJU-^", pat[j]) != NULL) {
				if (pat[j] == 'x')
					goto bail;
				j++;
			}
			if (pat[i + 2] == '<' && (pat[i + 3] == '=' || pat[i + 3] == '!')) {
				/* a lookbehind: skip to its closing parenthesis */
				int depth = 1;

				j = i + 4;
				while (j < n && depth > 0) {
					if (pat[j] == '\\') {
						j += 2;
						continue;
					}
					if (pat[j] == '[') {
						while (j < n && pat[j] != ']')
							j += pat[j] == '\\' ? 2 : 1;
					} else if (pat[j] == '(') {
						depth++;
					} else if (pat[j] == ')') {
						depth--;
					}
					j++;
				}
				if (depth > 0)
					goto bail;
				memcpy(out + o, "(?:)", 4);
				o += 4;
				i = j;
				continue;
			}
		}
		out[o++] = pat[i++];
	}
	out[o] = '\0';
	return out;
bail:
	free(out);
	return NULL;
}

/*
 * The anchored pattern and the sets of byte pairs and triples that can
 * start a match.  A failure leaves the class without a prefilter (pcre2
 * alone then scans); -1 only when memory ran out.  Without the JIT (a
 * valgrind run) the triples are not built: their probes would cost more at
 * load time than they save.
 */
static int
prefilter_build(struct rclass *c, const char *pat)
{
	char msg[256], *psrc;
	size_t erroff;
	pcre2_match_data *md;
	pcre2_code *probe;
	uint8_t subj[2];
	unsigned firsts = 0, letter_pairs = 0, letter_triples = 0;
	bool jit = getenv("CM_RULES_NO_JIT") == NULL;

	if (getenv("CM_RULES_NO_PREFILTER") != NULL)
		return 0;
	c->anch = compile(pat, true, msg, sizeof(msg), &erroff);
	if (c->anch == NULL)
		return 0;
	if (jit)
		(void)pcre2_jit_compile(c->anch, PCRE2_JIT_COMPLETE);
	if ((psrc = probe_source(pat)) == NULL)
		return 0;
	probe = compile(psrc, true, msg, sizeof(msg), &erroff);
	free(psrc);
	if (probe == NULL)
		return 0;
	if (jit)
		(void)pcre2_jit_compile(probe, PCRE2_JIT_PARTIAL_HARD);
	c->pairs = calloc(65536 / 8, 1);
	c->triples = jit ? calloc(65536 / 8, 1) : NULL;
	md = pcre2_match_data_create(4, NULL);
	if (c->pairs == NULL || (jit && c->triples == NULL) || md == NULL) {
		pcre2_match_data_free(md);
		pcre2_code_free(probe);
		return -1;	/* rules_unref() frees the rest */
	}
	for (unsigned a = 0; a < 256; a++) {
		subj[0] = (uint8_t)a;
		/*
		 * The lead byte of a two-byte character (é, ü, ß, ...): that
		 * character is probed whole.  Any other non-ASCII first byte
		 * (longer characters, which a pair does not hold whole, and
		 * invalid bytes): any pair is possible.
		 */
		if (a >= 0xC2 && a <= 0xDF) {
			for (unsigned b = 0; b < 256; b++) {
				subj[1] = (uint8_t)b;
				if ((b & 0xC0) != 0x80 || could_start(probe, md, subj, 2))
					pair_add(c->pairs, a, b);
			}
			continue;
		}
		if (a >= 0x80) {
			for (unsigned b = 0; b < 256; b++)
				pair_add(c->pairs, a, b);
			continue;
		}
		if (!could_start(probe, md, subj, 1))
			continue;
		firsts++;
		for (unsigned b = 0; b < 256; b++) {
			subj[1] = (uint8_t)b;
			if (b >= 0x80 || could_start(probe, md, subj, 2)) {
				pair_add(c->pairs, a, b);
				if (islower(a) && islower(b))
					letter_pairs++;
			}
		}
	}
	if (c->triples != NULL)
		letter_triples = triples_build(c, probe, md, !case_sensitive_somewhere(pat));
	c->word_initial = word_initial(c, probe, md);
	pcre2_match_data_free(md);
	pcre2_code_free(probe);
	if (getenv("CM_RULES_DEBUG") != NULL)
		fprintf(stderr, "prefilter %.60s: firsts %u letter pairs %u triples %u word-initial %d\n",
		    pat, firsts, letter_pairs, letter_triples, c->word_initial);
	/*
	 * Worth it only when few pairs of letters can start a match: a class
	 * starting with one letter is found faster by pcre2's own search for
	 * that letter, and one that can start almost anywhere (word lists)
	 * gains nothing.
	 */
	if (firsts <= 2 || letter_pairs * PREFILTER_MAX_SHARE > 26 * 26) {
		free(c->pairs);
		c->pairs = NULL;
		free(c->triples);
		c->triples = NULL;
	}
	return 0;
}

/*
 * A prefiltered class whose matches start at word starts gets a candidate
 * list (see struct wstarts), while there is room: rs->first marks the first
 * bytes of its possible pairs (never a UTF-8 continuation byte).
 */
static void
candidates_plan(struct rules *rs, enum rule_class rc)
{
	struct rclass *c = &rs->cls[rc];

	c->slot = -1;
	if (c->pairs == NULL || !c->word_initial || rs->npf >= PF_MAX)
		return;
	c->slot = (int)rs->npf;
	rs->pf_class[rs->npf++] = rc;
	for (unsigned a = 0; a < 256; a++) {
		if ((a & 0xC0) == 0x80)
			continue;
		for (unsigned b = 0; b < 256; b++) {
			if (pair_set(c->pairs, a, b)) {
				rs->first[a] |= (uint16_t)(1u << c->slot);
				break;
			}
		}
	}
}

/* A pattern that exists and has no JIT code. */
static bool
no_jit(const pcre2_code *re)
{
	size_t size = 0;

	return re != NULL && (pcre2_pattern_info(re, PCRE2_INFO_JITSIZE, &size) != 0 || size == 0);
}

/* The class compiled for valid UTF-8 only; NULL when that fails (not fatal). */
static pcre2_code *
twin(const char *pat, bool anchored)
{
	int errcode;
	PCRE2_SIZE off;

	return pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    (COMPILE_OPTS & ~(uint32_t)PCRE2_MATCH_INVALID_UTF) | (anchored ? PCRE2_ANCHORED : 0),
	    &errcode, &off, NULL);
}

static int
rules_file_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 6 && strcmp(d->d_name + n - 6, ".rules") == 0;
}

struct rules *
rules_load(const char *dir, char *err, size_t errlen)
{
	struct rules *rs = calloc(1, sizeof(*rs));
	struct csrc srcs[RC__COUNT];
	struct dirent **names = NULL;
	int nfiles, i;
	char path[4096];

	memset(srcs, 0, sizeof(srcs));
	if (rs == NULL) {
		snprintf(err, errlen, "%s: out of memory", dir);
		return NULL;
	}
	rs->refs = 1;
	if ((nfiles = scandir(dir, &names, rules_file_filter, alphasort)) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	for (i = 0; i < nfiles; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (load_file(rs, srcs, path, path, err, errlen) < 0)
			break;
	}
	for (int j = 0; j < nfiles; j++)
		free(names[j]);
	free(names);
	if (i < nfiles)
		goto fail;
	if (nfiles == 0) {
		snprintf(err, errlen, "%s: no *.rules files", dir);
		goto fail;
	}
	for (int rc = 0; rc < RC__COUNT; rc++) {
		char msg[256];
		size_t erroff;

		if (rs->cls[rc].n == 0) {
			if (class_info[rc].required) {
				snprintf(err, errlen, "%s: no \"%s\" rules", dir, class_info[rc].name);
				goto fail;
			}
			continue;
		}
		rs->cls[rc].re = compile(srcs[rc].pat.s, class_info[rc].anchored, msg, sizeof(msg),
		    &erroff);
		if (rs->cls[rc].re == NULL) {
			/* each rule compiled alone, so it is the combination: a backreference */
			snprintf(err, errlen, "%s: %s rules do not combine (%s); "
			    "numbered backreferences are not allowed", dir, class_info[rc].name, msg);
			goto fail;
		}
		/*
		 * JIT failure is not fatal: the interpreter gives the same answers.
		 * CM_RULES_NO_JIT=1 turns it off for memcheck runs (valgrind cannot
		 * see that JIT code reads only initialised memory).
		 */
		if (getenv("CM_RULES_NO_JIT") == NULL)
			(void)pcre2_jit_compile(rs->cls[rc].re, PCRE2_JIT_COMPLETE);
	}
	for (int rc = 0; rc < RC__COUNT; rc++) {
		if (rs->cls[rc].re != NULL && !class_info[rc].anchored &&
		    prefilter_build(&rs->cls[rc], srcs[rc].pat.s) < 0) {
			snprintf(err, errlen, "%s: out of memory", dir);
			goto fail;
		}
	}
	for (int rc = 0; rc < RC__COUNT; rc++)
		candidates_plan(rs, (enum rule_class)rc);
	for (unsigned b = 0; b < 256; b++)
		rs->byte_kind[b] = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
		    (b >= '0' && b <= '9') || b == '_' ? BK_WORD : (b & 0xC0) == 0x80 ? BK_CONT :
		    b >= 0xE0 ? BK_LONG : 0;
	for (unsigned k = 0; k < 64; k++) {
		unsigned before = k >> 3, cur = k & 7;

		rs->starts_word[k] = (!(before & BK_WORD) || (cur & BK_LONG)) && !(cur & BK_CONT);
	}
	for (int rc = 0; rc < RC__COUNT; rc++) {
		struct rclass *c = &rs->cls[rc];

		c->re_valid = no_jit(c->re) ? twin(srcs[rc].pat.s, class_info[rc].anchored) : NULL;
		c->anch_valid = no_jit(c->anch) ? twin(srcs[rc].pat.s, true) : NULL;
	}
	if ((rs->mctx = pcre2_match_context_create(NULL)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", dir);
		goto fail;
	}
	pcre2_set_match_limit(rs->mctx, RULES_MATCH_LIMIT);
	pcre2_set_depth_limit(rs->mctx, RULES_DEPTH_LIMIT);
	for (int rc = 0; rc < RC__COUNT; rc++)
		sb_free(&srcs[rc].pat);
	return rs;
fail:
	for (int rc = 0; rc < RC__COUNT; rc++)
		sb_free(&srcs[rc].pat);
	rules_unref(rs);
	return NULL;
}

void
rules_ref(struct rules *rs)
{
	__atomic_add_fetch(&rs->refs, 1, __ATOMIC_ACQ_REL);
}

void
rules_unref(struct rules *rs)
{
	if (rs == NULL || __atomic_sub_fetch(&rs->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (int rc = 0; rc < RC__COUNT; rc++) {
		struct rclass *c = &rs->cls[rc];

		pcre2_code_free(c->re);
		pcre2_code_free(c->anch);
		pcre2_code_free(c->re_valid);
		pcre2_code_free(c->anch_valid);
		free(c->pairs);
		free(c->triples);
		for (size_t i = 0; i < c->n; i++) {
			free(c->rules[i].name);
			free(c->rules[i].file);
		}
		free(c->rules);
	}
	pcre2_match_context_free(rs->mctx);
	free(rs);
}

size_t
rules_count(const struct rules *rs)
{
	return rs->total;
}

bool
rules_has(const struct rules *rs, enum rule_class rc)
{
	return rs->cls[rc].re != NULL;
}

/*
 * Word starts of the texts a scan searches: positions not right after an
 * ASCII letter, digit or '_', and not inside a UTF-8 character (a match
 * never starts on a continuation byte); every character of three or four
 * bytes also counts as one (word_initial() does not probe those).  Computed once per text (a few
 * slots; a message has a Subject and a document text) and shared by every
 * class.  For the prefiltered classes that start at word starts, the same
 * pass keeps each class's candidates: the word starts its prefilter lets
 * through (rules->first says which classes to ask about a word's first
 * byte), so that a search of that class walks only those.
 *
 * Candidates were judged with the text's cached length: the last two bytes
 * of it had fewer than three bytes to judge by and are candidates when the
 * prefilter cannot say no.  A search of a shorter prefix (extract.c's
 * windows) judges its own last two bytes again; a search further than the
 * cached length extends the lists (the old last two stay candidates: a
 * shorter text is judged more leniently, never more strictly).
 */
#define WS_SLOTS 4
struct poslist {
	size_t *v;
	size_t n, cap;
};
struct wstarts {
	const char *s;
	size_t len;
	const struct rules *rs;	/* whose classes the candidates are for */
	struct poslist all;	/* every word start */
	struct poslist cand[PF_MAX];
};
struct wscache {
	struct wstarts slot[WS_SLOTS];
	unsigned next;
};

static void
wstarts_clear(struct wstarts *w)
{
	free(w->all.v);
	for (unsigned k = 0; k < PF_MAX; k++)
		free(w->cand[k].v);
	memset(w, 0, sizeof(*w));
}

/* Room for n more entries in p; -1 when memory ran out. */
static int
poslist_reserve(struct poslist *p, size_t n)
{
	size_t *np, want;

	if (p->n + n <= p->cap)
		return 0;
	want = p->cap ? p->cap : 64;
	while (want < p->n + n)
		want *= 2;
	if ((np = realloc(p->v, want * sizeof(*np))) == NULL)
		return -1;
	p->v = np;
	p->cap = want;
	return 0;
}

static inline int
poslist_push(struct poslist *p, size_t i)
{
	if (p->n == p->cap && poslist_reserve(p, 1) < 0)
		return -1;
	p->v[p->n++] = i;
	return 0;
}


/* The word starts of s[0..len) and their candidates, or NULL (then every position is tried). */
static const struct wstarts *
wstarts_get(const struct rules *rs, struct rscan *sc, const char *s, size_t len)
{
	struct wscache *wc = sc->ws;
	struct wstarts *w = NULL;
	const uint8_t *u = (const uint8_t *)s;
	size_t from = 0;

	if (wc == NULL)
		return NULL;
	for (unsigned k = 0; k < WS_SLOTS; k++) {
		if (wc->slot[k].s != s || wc->slot[k].rs != rs)
			continue;
		if (wc->slot[k].len >= len)
			return &wc->slot[k];
		/* the same text searched further (extract.c's windows): extend */
		w = &wc->slot[k];
		from = w->len;
		break;
	}
	if (w == NULL) {
		w = &wc->slot[wc->next++ % WS_SLOTS];
		wstarts_clear(w);
	}
	size_t k0 = w->all.n;

	/* branch-free, a block at a time: i is kept when it starts a word */
	for (size_t b = from; b < len; b += 256) {
		size_t e = len - b < 256 ? len : b + 256;

		if (poslist_reserve(&w->all, e - b) < 0) {
			wstarts_clear(w);
			return NULL;
		}
		const uint8_t *kind = rs->byte_kind;
		size_t *v = w->all.v, n = w->all.n;
		unsigned prev = b > 0 ? kind[u[b - 1]] : 0;

		for (size_t i = b; i < e; i++) {
			unsigned cur = kind[u[i]];

			v[n] = i;
			n += rs->starts_word[prev << 3 | cur];
			prev = cur;
		}
		w->all.n = n;
	}
	/* candidates among the new word starts: the bytes are read once for all classes */
	for (size_t k = k0; k < w->all.n; k++) {
		size_t i = w->all.v[k];
		unsigned m = rs->first[u[i]];
		struct startkey key;

		if (m == 0)
			continue;
		key = start_key(u, len, i);
		for (; m != 0; m &= m - 1) {
			unsigned slot = (unsigned)__builtin_ctz(m);

			if (key_allows(&rs->cls[rs->pf_class[slot]], &key) &&
			    poslist_push(&w->cand[slot], i) < 0) {
				wstarts_clear(w);
				return NULL;
			}
		}
	}
	w->s = s;
	w->rs = rs;
	w->len = len;
	return w;
}

int
rscan_init(struct rscan *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->ws = calloc(1, sizeof(struct wscache));
	sc->md = pcre2_match_data_create(32, NULL);
	if (sc->md == NULL || sc->ws == NULL) {
		rscan_free(sc);
		return -1;
	}
	return 0;
}

void
rscan_free(struct rscan *sc)
{
	struct wscache *wc = sc->ws;

	pcre2_match_data_free(sc->md);
	sc->md = NULL;
	if (wc != NULL)
		for (unsigned k = 0; k < WS_SLOTS; k++)
			wstarts_clear(&wc->slot[k]);
	free(wc);
	sc->ws = NULL;
}

int
rscan_set_valid(struct rscan *sc, const char *s, size_t len)
{
	if (s == NULL || sc->nvalid >= sizeof(sc->valid) / sizeof(sc->valid[0]) ||
	    !utf8_valid(s, len))
		return -1;
	sc->valid[sc->nvalid].s = s;
	sc->valid[sc->nvalid].len = len;
	sc->nvalid++;
	return 0;
}

/* Does s[0..len) lie in a text declared valid, cut at character boundaries? */
static bool
known_valid(const struct rscan *sc, const char *s, size_t len)
{
	for (size_t i = 0; i < sc->nvalid; i++) {
		const char *b = sc->valid[i].s, *e = b + sc->valid[i].len;

		if (s >= b && s <= e && len <= (size_t)(e - s))
			return (s == e || ((uint8_t)*s & 0xC0) != 0x80) &&
			    (s + len == e || ((uint8_t)s[len] & 0xC0) != 0x80);
	}
	return false;
}

/*
 * pcre2_match with the class's limits; <0 on no match or error (limit_hit
 * set).  valid: the twin compiled for valid UTF-8 (NULL: none), used when
 * the subject is known valid (see struct rclass).
 */
static int
match_once(const struct rules *rs, pcre2_code *re, pcre2_code *valid, struct rscan *sc,
    const char *s, size_t len, size_t off)
{
	int r = valid != NULL && known_valid(sc, s, len) ?
	    pcre2_match(valid, (PCRE2_SPTR)s, len, off, PCRE2_NO_UTF_CHECK, sc->md, rs->mctx) :
	    pcre2_match(re, (PCRE2_SPTR)s, len, off, 0, sc->md, rs->mctx);

	if (r < 0 && r != PCRE2_ERROR_NOMATCH)
		sc->limit_hit = true;
	return r;
}


/* First index of a sorted list whose entry is >= off (binary search). */
static size_t
poslist_find(const struct poslist *p, size_t off)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (p->v[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Leftmost match at or after off, trying only where the prefilter lets it. */
static int
match_prefiltered(const struct rules *rs, const struct rclass *c, struct rscan *sc,
    const char *s, size_t len, size_t off)
{
	const uint8_t *u = (const uint8_t *)s;
	const struct wstarts *w = c->word_initial ? wstarts_get(rs, sc, s, len) : NULL;
	/* known_valid() once for the whole scan, not at every position */
	pcre2_code *anch_valid = c->anch_valid && known_valid(sc, s, len) ? c->anch_valid : NULL;

	if (w != NULL && c->slot >= 0) {
		const struct poslist *cl = &w->cand[c->slot];
		/* a shorter prefix than the cached text: its own last two again */
		size_t edge = len < w->len ? (len >= 2 ? len - 2 : 0) : len;

		for (size_t k = poslist_find(cl, off); k < cl->n && cl->v[k] < edge; k++)
			if (match_once(rs, c->anch, anch_valid, sc, s, len, cl->v[k]) >= 0)
				return 1;
		for (size_t k = poslist_find(&w->all, edge > off ? edge : off);
		    k < w->all.n && w->all.v[k] < len; k++) {
			size_t i = w->all.v[k];

			if (could_match_at(c, u, len, i) &&
			    match_once(rs, c->anch, anch_valid, sc, s, len, i) >= 0)
				return 1;
		}
	} else if (w != NULL) {
		for (size_t k = poslist_find(&w->all, off); k < w->all.n && w->all.v[k] < len; k++) {
			size_t i = w->all.v[k];

			if (could_match_at(c, u, len, i) &&
			    match_once(rs, c->anch, anch_valid, sc, s, len, i) >= 0)
				return 1;
		}
	} else {
		for (size_t i = off; i < len; i++) {
			if (!could_match_at(c, u, len, i))
				continue;
			if (match_once(rs, c->anch, anch_valid, sc, s, len, i) >= 0)
				return 1;
		}
	}
	/* an empty match at the very end is possible for some patterns */
	return match_once(rs, c->anch, anch_valid, sc, s, len, len) >= 0 ? 1 : -1;
}

int
rules_find(const struct rules *rs, enum rule_class rc, struct rscan *sc,
    const char *s, size_t len, size_t off, struct rmatch *m)
{
	const struct rclass *c = &rs->cls[rc];
	PCRE2_SIZE *ov;
	PCRE2_SPTR mark;
	int r;

	if (c->re == NULL || off > len)
		return 0;
	if (c->pairs != NULL)
		r = match_prefiltered(rs, c, sc, s, len, off);
	else
		r = match_once(rs, c->re, c->re_valid, sc, s, len, off);
	if (r < 0)
		return 0;
	ov = pcre2_get_ovector_pointer(sc->md);
	m->start = ov[0];
	m->end = ov[1];
	m->name = "";
	m->file = "";
	m->line = 0;
	mark = pcre2_get_mark(sc->md);
	if (mark != NULL) {
		size_t idx = strtoul((const char *)mark, NULL, 10);

		if (idx < c->n) {
			m->name = c->rules[idx].name;
			m->file = c->rules[idx].file;
			m->line = c->rules[idx].line;
		}
	}
	return 1;
}
