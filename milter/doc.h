/*
 * doc.h - the decoded text of a message as tagged lines.
 *
 * doc_build() joins the text parts of a struct msgtext into one buffer and
 * tags every line: the customer's own text, quoted reply text (">" lines and
 * everything after "On ... wrote:"), a forwarded message (attached or inline
 * after "---- Forwarded message ----"), the header block of a forward, or a
 * signature (after "-- ").  In doc.text the lines that are not own or
 * forwarded text are blanked, keeping offsets and line structure, so that
 * extraction looks only at what the customer (or the forwarded customer)
 * wrote.
 */
#ifndef CM_DOC_H
#define CM_DOC_H

#include <stddef.h>
#include "mime.h"
#include "rules.h"
#include "util.h"

enum line_kind {
	LINE_OWN,
	LINE_FORWARDED,
	LINE_QUOTED,
	LINE_FWD_HEADER,
	LINE_SIGNATURE,
};

struct doc_line {
	size_t off;		/* into doc.text */
	size_t len;		/* without the '\n' */
	unsigned part;		/* index of the text part */
	enum line_kind kind;
};

struct doc {
	strbuf text;		/* own and forwarded lines; other lines blanked */
	struct doc_line *lines;
	size_t nlines;
};

int doc_build(struct doc *d, const struct msgtext *mt, const struct rules *rs,
    struct rscan *sc);
void doc_free(struct doc *d);

#endif
