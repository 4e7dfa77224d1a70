/*
 * complaint.h - what one message says, as it flows from extract to verdict
 * to store to reply.  Defined once; every stage fills or reads its part.
 */
#ifndef CM_COMPLAINT_H
#define CM_COMPLAINT_H

#include <stdbool.h>
#include "util.h"

enum complaint_kind {
	KIND_UNKNOWN = 0,
	KIND_SERVICE,
	KIND_PRODUCT,
};

/* Bits of complaint.missing. */
enum {
	MISSING_TICKET = 1u << 0,
	MISSING_MODEL = 1u << 1,
	MISSING_TICKET_OR_MODEL = 1u << 2,
	MISSING_DESCRIPTION = 1u << 3,
};

/* What to do with a new complaint that lacks required data. */
enum incomplete_action {
	INCOMPLETE_REJECT = 0,
	INCOMPLETE_FLAG,
	INCOMPLETE_QUARANTINE,
};

enum verdict {
	VERDICT_ACCEPT = 0,	/* complete, follow-up or automatic mail */
	VERDICT_REJECT,		/* incomplete, IncompleteAction reject */
	VERDICT_FLAG,		/* incomplete (or unsure), accepted with a flag */
};

struct complaint {
	/* From the message headers (UTF-8, decoded; never NULL after parse). */
	char *subject;		/* decoded Subject, "" when absent */
	char *from_addr;	/* address part of From, "" when absent */
	char *from_name;	/* display name of From, "" when absent */
	char *message_id;	/* Message-ID without <>, "" when absent */
	char *in_reply_to;	/* In-Reply-To as written, "" when absent */

	/* Extracted fields: deduplicated, in order of appearance. */
	strlist tickets;
	strlist models;
	strlist serials;
	bool solution_idea;
	enum complaint_kind explicit_kind;	/* what the text said, if anything */
	char *case_ref;		/* referenced case ID or NULL */

	/* Verdict stage. */
	enum complaint_kind kind;
	bool description;
	unsigned missing;	/* MISSING_* bits */
	char language[4];	/* "nl", "en", "de", "fr" or "" */
	bool auto_submitted;
	bool escalation;	/* words of escalation in a follow-up's text */
	strlist escalation_words;	/* the words found (at most a few) */
	bool review;		/* scan was partial (regex limit, truncation): never reject */
	enum verdict verdict;
};

void complaint_init(struct complaint *c);
void complaint_free(struct complaint *c);
const char *complaint_kind_name(enum complaint_kind k);
/* Comma-separated list of missing field names into buf ("" when none). */
const char *complaint_missing_str(unsigned missing, char *buf, size_t bufsz);
const char *verdict_name(enum verdict v);

#endif
