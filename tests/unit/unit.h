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

#endif
