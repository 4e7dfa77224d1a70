/*
 * extract.h - tickets, models, serials, solution idea, explicit kind, case
 * reference and language, found by the rules in the Subject and the
 * customer's own (and forwarded) text.
 */
#ifndef CM_EXTRACT_H
#define CM_EXTRACT_H

#include "caseid.h"
#include "complaint.h"
#include "doc.h"
#include "rules.h"

/*
 * Fill c->tickets, models, serials, solution_idea, explicit_kind, case_ref,
 * language and escalation from subject and d.  0, or -1 when memory ran out.
 * sc->limit_hit tells afterwards whether a regex hit its limit.
 */
int extract_fields(struct complaint *c, const char *subject, const struct doc *d,
    const struct rules *rs, struct rscan *sc, const struct caseid_fmt *idf);

#endif
