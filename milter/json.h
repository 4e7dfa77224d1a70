/*
 * json.h - the JSON line complaint-check --json prints for one message.
 */
#ifndef CM_JSON_H
#define CM_JSON_H

#include "complaint.h"
#include "util.h"

int json_string(strbuf *sb, const char *s);
/* One object, no trailing newline.  error != NULL marks a message that failed. */
int json_complaint(strbuf *sb, const char *file, const struct complaint *c, const char *error);

#endif
