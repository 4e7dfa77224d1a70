/*
 * smtpreply.h - the text of the 550 reply to an incomplete complaint.
 *
 * The sender's own mail server turns our SMTP reply into the bounce the
 * customer reads, so it says what is missing and what the policy asks, in the
 * customer's language (when known and not English) and in English.  SMTP
 * replies are 7-bit: the texts are written without accents.
 */
#ifndef CM_SMTPREPLY_H
#define CM_SMTPREPLY_H

#include "complaint.h"

#define SMTPREPLY_LINE_MAX 256

/* Fill lines[0..max) and return how many were written. */
int smtpreply_incomplete(const struct complaint *c, char lines[][SMTPREPLY_LINE_MAX], int max);

#endif
