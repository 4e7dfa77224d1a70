/*
 * rules.h - extraction rules as data: rules/NAME.rules compiled with pcre2.
 *
 * A rule set is loaded once, compiled (UTF, caseless, JIT, invalid UTF-8
 * tolerated) and then shared read-only by every thread; reload builds a new
 * set and swaps it (reference counted).  Each thread matches with its own
 * struct rscan.  Format: rules/README.md.
 */
#ifndef CM_RULES_H
#define CM_RULES_H

#include <stdbool.h>
#include <stddef.h>

enum rule_class {
	RC_TICKET_LABEL,	/* words that introduce a ticket number */
	RC_TICKET_VALUE,	/* a ticket value, anchored after a label */
	RC_TICKET_BARE,		/* the desk's own format, found without a label */
	RC_TICKET_REJECT,	/* anchored: what is never a ticket (dates, ...) */
	RC_SERIAL_LABEL,
	RC_SERIAL_VALUE,	/* anchored */
	RC_SERIAL_NONE,		/* anchored: "unknown" and friends */
	RC_SERIAL_REJECT,	/* anchored */
	RC_LIST_SEP,		/* anchored: between several values (, en and und et) */
	RC_FILLER,		/* anchored: words between a label and its value ("is") */
	RC_MODEL,		/* the catalog; NAME is the family */
	RC_KIND_SERVICE,
	RC_KIND_PRODUCT,
	RC_SOLUTION_LABEL,	/* a solution label, ending in its colon */
	RC_GREETING,		/* salutation at the start of a line */
	RC_CLOSING,		/* line that starts the signature ("Regards") */
	RC_REPLY_HEADER,	/* "On ... wrote:" — quoted text follows */
	RC_FORWARD_HEADER,	/* "---- Forwarded message ----" */
	RC_FORWARD_FIELD,	/* anchored: "From:", "Van:" lines of a forward header */
	RC_LANG,		/* NAME is the language code; counts words */
	RC_AUTO_SUBJECT,	/* subject of automatic mail (out of office, ...) */
	RC_AUTO_SENDER,		/* sender local parts of automatic mail */
	RC_ESCALATE,		/* words of escalation */
	RC_REPLY_PREFIX,	/* anchored: one reply/forward prefix of a Subject */
	RC_NEVER,		/* anchored: phone, IBAN, VAT, ... never a value */
	RC__COUNT
};

struct rules;

struct rmatch {
	size_t start, end;	/* byte offsets of the whole match */
	const char *name;	/* NAME of the rule that matched ("" when none) */
	const char *file;	/* where that rule is written */
	int line;
};

/* Per-thread (per-message) matching state. */
struct rscan {
	void *md;		/* pcre2_match_data */
	bool limit_hit;		/* a match hit the match/depth limit */
	void *ws;		/* rules.c: where words start in the texts searched */
	struct {		/* texts declared valid UTF-8 (rscan_set_valid) */
		const char *s;
		size_t len;
	} valid[2];
	size_t nvalid;
};

/* Load every NAME.rules file in dir (sorted).  NULL with "file:line: message" in err. */
struct rules *rules_load(const char *dir, char *err, size_t errlen);
void rules_ref(struct rules *rs);
void rules_unref(struct rules *rs);
size_t rules_count(const struct rules *rs);
const char *rules_class_name(enum rule_class rc);

int rscan_init(struct rscan *sc);
void rscan_free(struct rscan *sc);
/*
 * Declare s[0..len) valid UTF-8 (at most two texts per rscan): checked here,
 * once (-1: not valid, or no room; nothing declared).  The text must not
 * change while sc is in use.  Without the JIT, matches on pieces of it that
 * are cut at character boundaries then skip pcre2's UTF check, which
 * otherwise reads the rest of the subject at every call (quadratic on long
 * texts).  The answers are the same either way.
 */
int rscan_set_valid(struct rscan *sc, const char *s, size_t len);

/*
 * Find the first match of class rc in s[0..len) starting at off (anchored
 * classes match only at off).  1 found, 0 none; a limit or error counts as
 * none and sets sc->limit_hit.
 */
int rules_find(const struct rules *rs, enum rule_class rc, struct rscan *sc,
    const char *s, size_t len, size_t off, struct rmatch *m);
bool rules_has(const struct rules *rs, enum rule_class rc);

#endif
