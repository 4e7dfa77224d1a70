/*
 * verdict.c - automatic-mail detection, kind, missing fields, verdict.
 */
#include "verdict.h"

#include <ctype.h>
#include <string.h>

static bool
null_sender(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '\0' || strcmp(s, "<>") == 0 || strncmp(s, "<>", 2) == 0;
}

/* Local part of addr matches an auto.sender rule (mailer-daemon, postmaster). */
static bool
auto_sender(const char *addr, const struct rules *rs, struct rscan *sc)
{
	const char *at;
	struct rmatch m;
	size_t n;

	while (*addr == ' ' || *addr == '\t')
		addr++;
	if (*addr == '<')
		addr++;
	at = strrchr(addr, '@');
	n = at ? (size_t)(at - addr) : strcspn(addr, "> \t");
	if (n == 0)
		return false;
	return rules_find(rs, RC_AUTO_SENDER, sc, addr, n, 0, &m) == 1 && m.end == n;
}

static bool
word_is(const char *v, const char *w)
{
	size_t n = strlen(w);

	while (*v == ' ' || *v == '\t')
		v++;
	return strncasecmp(v, w, n) == 0 && !isalnum((unsigned char)v[n]) && v[n] != '-';
}

bool
verdict_is_automatic(const struct msgtext *mt, const char *envelope_from,
    const struct rules *rs, struct rscan *sc)
{
	struct rmatch m;

	if (*mt->auto_submitted && !word_is(mt->auto_submitted, "no"))
		return true;
	if (word_is(mt->precedence, "bulk") || word_is(mt->precedence, "junk") ||
	    word_is(mt->precedence, "list"))
		return true;
	if (mt->has_list_headers || mt->has_autoreply_header || mt->is_report)
		return true;
	/* offline, the Return-Path the MTA wrote stands for the envelope sender */
	if (envelope_from == NULL && *mt->return_path)
		envelope_from = mt->return_path;
	if (envelope_from != NULL && null_sender(envelope_from))
		return true;
	if (auto_sender(mt->from_addr, rs, sc) ||
	    (envelope_from && auto_sender(envelope_from, rs, sc)))
		return true;
	return rules_find(rs, RC_AUTO_SUBJECT, sc, mt->subject, strlen(mt->subject), 0, &m) == 1;
}

enum complaint_kind
verdict_kind(enum complaint_kind explicit_kind, size_t ntickets, size_t nmodels)
{
	if (explicit_kind != KIND_UNKNOWN)
		return explicit_kind;
	return ntickets ? KIND_SERVICE : nmodels ? KIND_PRODUCT : KIND_UNKNOWN;
}

unsigned
verdict_missing(enum complaint_kind kind, size_t ntickets, size_t nmodels, bool description)
{
	unsigned missing = 0;

	if (kind == KIND_SERVICE && ntickets == 0)
		missing |= MISSING_TICKET;
	else if (kind == KIND_PRODUCT && nmodels == 0)
		missing |= MISSING_MODEL;
	else if (kind == KIND_UNKNOWN)
		missing |= MISSING_TICKET_OR_MODEL;
	if (!description)
		missing |= MISSING_DESCRIPTION;
	return missing;
}

void
verdict_decide(struct complaint *c, enum incomplete_action action)
{
	c->kind = verdict_kind(c->explicit_kind, c->tickets.n, c->models.n);
	c->missing = 0;
	if (c->auto_submitted) {
		c->verdict = VERDICT_ACCEPT;
		return;
	}
	c->missing = verdict_missing(c->kind, c->tickets.n, c->models.n, c->description);

	if (c->missing == 0 || c->case_ref != NULL)
		c->verdict = VERDICT_ACCEPT;	/* complete, or a follow-up */
	else if (c->review || action != INCOMPLETE_REJECT)
		c->verdict = VERDICT_FLAG;	/* never reject on a partial scan */
	else
		c->verdict = VERDICT_REJECT;
}
