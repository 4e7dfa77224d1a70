/*
 * check_main.c - complaint-check: run the milter's pipeline on saved messages.
 *
 * complaint-check [-c CONF] [-r RULESDIR] [--json] FILE...   ("-" is stdin)
 *
 * Prints what the milter would understand and decide for each message: a
 * short report per message, or one JSON object per line with --json.  A
 * message that cannot be read still gets its line.  Exit 0 when every file
 * was processed, 1 when one could not be, 2 on a usage or configuration
 * error.
 */
#include "config.h"
#include "json.h"
#include "pipeline.h"
#include "rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
usage(void)
{
	fprintf(stderr, "usage: complaint-check [-c CONF] [-r RULESDIR] [--json] FILE...\n"
	    "       (\"-\" reads a message from standard input)\n");
	exit(2);
}

static void
print_list(const char *label, const strlist *sl)
{
	printf("  %-14s", label);
	if (sl->n == 0)
		printf("-");
	for (size_t i = 0; i < sl->n; i++)
		printf("%s%s", i ? ", " : "", sl->v[i]);
	printf("\n");
}

static void
print_human(const char *file, const struct complaint *c)
{
	char miss[128];

	printf("%s\n", file);
	printf("  %-14s%s\n", "subject:", c->subject);
	printf("  %-14s%s\n", "kind:", complaint_kind_name(c->kind));
	print_list("tickets:", &c->tickets);
	print_list("models:", &c->models);
	print_list("serials:", &c->serials);
	printf("  %-14s%s\n", "description:", c->description ? "yes" : "no");
	printf("  %-14s%s\n", "solution idea:", c->solution_idea ? "yes" : "no");
	complaint_missing_str(c->missing, miss, sizeof(miss));
	printf("  %-14s%s\n", "missing:", *miss ? miss : "-");
	printf("  %-14s%s\n", "language:", c->language[0] ? c->language : "unknown");
	printf("  %-14s%s\n", "case ref:", c->case_ref ? c->case_ref : "-");
	printf("  %-14s%s\n", "automatic:", c->auto_submitted ? "yes" : "no");
	if (c->review)
		printf("  %-14s%s\n", "review:", "yes (partial scan: never rejected)");
	printf("  %-14s%s\n\n", "verdict:", verdict_name(c->verdict));
}

int
main(int argc, char **argv)
{
	const char *conf = NULL, *rules_dir = NULL;
	bool json = false;
	int first = argc, status = 0;
	struct config *cf;
	struct rules *rs;
	struct pipeline_opts po;
	char err[1024];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
			rules_dir = argv[++i];
		else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			usage();
		else if (argv[i][0] == '-' && argv[i][1] != '\0')
			usage();
		else {
			first = i;
			break;
		}
	}
	if (first >= argc)
		usage();
	cf = conf ? config_load(conf, err, sizeof(err)) : config_defaults();
	if (cf == NULL) {
		fprintf(stderr, "complaint-check: %s\n", conf ? err : "out of memory");
		return 2;
	}
	rs = rules_load(rules_dir ? rules_dir : cf->rules_dir, err, sizeof(err));
	if (rs == NULL) {
		fprintf(stderr, "complaint-check: %s\n", err);
		config_unref(cf);
		return 2;
	}
	memset(&po, 0, sizeof(po));
	po.rules = rs;
	caseid_fmt_init(&po.idf, cf->case_id_prefix, cf->case_id_node, cf->case_id_check);
	po.max_scan = cf->max_scan_size;
	po.action = cf->incomplete_action;

	for (int i = first; i < argc; i++) {
		char *buf = NULL;
		size_t len = 0;
		struct complaint c;
		const char *error = NULL;
		strbuf out;

		complaint_init(&c);
		if (file_read(argv[i], &buf, &len) < 0) {
			error = strerror(errno);
			status = 1;
		} else if (pipeline_run(&po, buf, len, NULL, &c) < 0) {
			error = "internal error (out of memory)";
			status = 1;
		}
		if (json) {
			sb_init(&out);
			if (json_complaint(&out, argv[i], &c, error) == 0)
				printf("%s\n", out.s);
			sb_free(&out);
		} else if (error) {
			printf("%s\n  error: %s\n\n", argv[i], error);
		} else {
			print_human(argv[i], &c);
		}
		complaint_free(&c);
		free(buf);
	}
	rules_unref(rs);
	config_unref(cf);
	return status;
}
