/*
 * unit.h - what every cmocka unit test includes.
 */
#ifndef CM_UNIT_H
#define CM_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* Directory of the project's rules, relative to the repository root. */
#ifndef RULES_DIR
#define RULES_DIR "rules"
#endif

#include "rules.h"

/* The shipped rules, for a group's setup; NULL (and why, on stderr) when they do not load. */
static inline struct rules *
unit_rules_load(void)
{
	char err[512] = "";
	struct rules *rs = rules_load(RULES_DIR, err, sizeof(err));

	if (rs == NULL)
		fprintf(stderr, "rules_load(%s): %s\n", RULES_DIR, err);
	return rs;
}

#endif
