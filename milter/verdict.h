/*
 * verdict.h - the complaints policy applied to what was extracted.
 *
 * Automatic mail (bounces, auto-replies, bulk and list mail) is recognised
 * and never asked for anything.  Otherwise the kind is what the text says or,
 * failing that, service when a ticket was found, product when a model was;
 * missing lists what the policy requires and the message lacks.  The verdict
 * is what the milter does under the configured action for incomplete mail.
 */
#ifndef CM_VERDICT_H
#define CM_VERDICT_H

#include "complaint.h"
#include "mime.h"
#include "rules.h"

/*
 * Is this automatic mail?  envelope_from is the SMTP MAIL FROM (NULL when not
 * known, as offline); "" or "<>" is the null sender.
 */
bool verdict_is_automatic(const struct msgtext *mt, const char *envelope_from,
    const struct rules *rs, struct rscan *sc);
/* The kind a complaint has: what it says, else service with a ticket, product with a model. */
enum complaint_kind verdict_kind(enum complaint_kind explicit_kind, size_t ntickets, size_t nmodels);
/* MISSING_* bits the policy finds for a complaint of this kind with these fields. */
unsigned verdict_missing(enum complaint_kind kind, size_t ntickets, size_t nmodels,
    bool description);
/* Fill kind, missing and verdict from the extracted fields. */
void verdict_decide(struct complaint *c, enum incomplete_action action);

#endif
