/*
 * unit.h - what every cmocka unit test includes.
 */
#ifndef CM_UNIT_H
#define CM_UNIT_H

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/* Directory of the project's rules, relative to the repository root. */
#ifndef RULES_DIR
#define RULES_DIR "rules"
#endif

#include "rules.h"

/* Write text to dir/name; the test fails when it cannot. */
static inline void
unit_put_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* Remove a scratch directory and the files in it (one level, as the tests make them). */
static inline void
unit_rmdir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
	rmdir(dir);
}

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
