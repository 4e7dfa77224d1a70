/*
 * describe.h - did the customer describe the problem in their own words?
 *
 * Counts the words of the customer's own (and forwarded) text, leaving out
 * greetings, "Label: value" lines, everything from a closing ("Met
 * vriendelijke groet", "Regards", ...) to the end of that part, quoted reply
 * text, forward headers and signatures.
 */
#ifndef CM_DESCRIBE_H
#define CM_DESCRIBE_H

#include <stdbool.h>
#include "doc.h"
#include "rules.h"

#define DESCRIBE_MIN_WORDS 8

/* Number of words that count as description (stops early at max). */
unsigned describe_words(const struct doc *d, const struct rules *rs, struct rscan *sc,
    unsigned max);

#endif
