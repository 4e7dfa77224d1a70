/*
 * subject.h - case tags in Subjects, and header values that are safe to add.
 *
 * The tag "[CASE-2026-000123]" goes after any chain of reply/forward
 * prefixes ("Re: AW: [CASE-...] text") on the raw Subject as it came over
 * SMTP: encoded words are kept as they are, never re-encoded.  A Subject that
 * already names the case is left alone.  Header values we write from
 * message data are cleaned of control characters, cut to a sane length and
 * RFC 2047-encoded when they are not ASCII.
 */
#ifndef CM_SUBJECT_H
#define CM_SUBJECT_H

#include <stdbool.h>
#include "caseid.h"
#include "rules.h"

/* Longest header value we write from message data (before encoding). */
#define HEADER_VALUE_MAX 256

/*
 * New raw Subject value for case_id, or NULL when the Subject (decoded, as
 * the pipeline saw it) already names the case (*unchanged = true) or memory
 * ran out (*unchanged = false).  raw may be NULL: the message had none.
 */
char *subject_tag(const char *raw, const char *decoded, const char *case_id,
    const struct rules *rs, bool *unchanged);

/*
 * Clean value for a header we add: control characters (CR, LF, TAB, NUL ...)
 * become spaces, runs of blanks one space, at most HEADER_VALUE_MAX bytes
 * (cut at a character boundary), RFC 2047 encoded when not ASCII.
 * NULL on ENOMEM.
 */
char *header_value_safe(const char *value);

#endif
