/*
 * complaint.c - life cycle and names of struct complaint.
 */
#include "complaint.h"

#include <stdlib.h>
#include <string.h>

void
complaint_init(struct complaint *c)
{
	memset(c, 0, sizeof(*c));
	sl_init(&c->tickets);
	sl_init(&c->models);
	sl_init(&c->serials);
	sl_init(&c->escalation_words);
}

void
complaint_free(struct complaint *c)
{
	free(c->subject);
	free(c->from_addr);
	free(c->from_name);
	free(c->message_id);
	free(c->in_reply_to);
	free(c->case_ref);
	sl_free(&c->tickets);
	sl_free(&c->models);
	sl_free(&c->serials);
	sl_free(&c->escalation_words);
	complaint_init(c);
}

const char *
complaint_kind_name(enum complaint_kind k)
{
	switch (k) {
	case KIND_SERVICE:
		return "service";
	case KIND_PRODUCT:
		return "product";
	default:
		return "unknown";
	}
}

const char *
complaint_missing_str(unsigned missing, char *buf, size_t bufsz)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{ MISSING_TICKET, "ticket" },
		{ MISSING_MODEL, "model" },
		{ MISSING_TICKET_OR_MODEL, "ticket_or_model" },
		{ MISSING_DESCRIPTION, "description" },
	};
	size_t o = 0;

	if (bufsz == 0)
		return "";
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(missing & names[i].bit))
			continue;
		size_t n = strlen(names[i].name);
		if (o + n + 2 > bufsz)
			break;
		if (o)
			buf[o++] = ',';
		memcpy(buf + o, names[i].name, n + 1);
		o += n;
	}
	return buf;
}

const char *
verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_REJECT:
		return "reject";
	case VERDICT_FLAG:
		return "flag";
	default:
		return "accept";
	}
}
