/*
 * fuzz_pipeline.c - libFuzzer harness: message bytes -> verdict.
 *
 * Runs the pipeline complaint-check and the milter run (MIME, HTML, tagged
 * lines, extraction, verdict) on the input as one message, then what the
 * milter does with the result: the JSON line, the Subject tag on the decoded
 * Subject and the header values we would add.  The rules come from
 * $CM_FUZZ_RULES (default "rules", relative to where the fuzzer runs).
 */
#include "complaint.h"
#include "json.h"
#include "mime.h"
#include "pipeline.h"
#include "rules.h"
#include "subject.h"
#include "util.h"

#include <libxml/parser.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rules *rs;

static void
init(void)
{
	const char *dir = getenv("CM_FUZZ_RULES");
	char err[1024];

	mime_init();
	xmlInitParser();
	if ((rs = rules_load(dir ? dir : "rules", err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_pipeline: %s\n", err);
		abort();
	}
}

static void
check_header_value(const char *v)
{
	char *safe = header_value_safe(v);

	if (safe == NULL)
		return;
	/* what we add to a message never carries a line break or a control character */
	for (const char *p = safe; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			abort();
	if (strlen(safe) > 998)
		abort();
	free(safe);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pipeline_opts po;
	struct complaint c;
	strbuf sb;

	if (rs == NULL)
		init();
	memset(&po, 0, sizeof(po));
	po.rules = rs;
	caseid_fmt_init(&po.idf, "CASE", "", size % 2 == 0);
	po.max_scan = 64 * 1024;
	po.action = (enum incomplete_action)(size % 3);
	if (pipeline_run(&po, (const char *)data, size, size % 5 ? "customer@example.org" : "",
	    &c) < 0)
		return 0;
	/* a partial scan is never a reject */
	if (c.review && c.verdict == VERDICT_REJECT)
		abort();
	sb_init(&sb);
	(void)json_complaint(&sb, "fuzz", &c, NULL);
	sb_free(&sb);
	{
		bool unchanged;
		char *tagged = subject_tag(c.subject, c.subject, "CASE-2026-000001", rs, &unchanged);

		free(tagged);
	}
	check_header_value(c.subject);
	check_header_value(c.from_name);
	for (size_t i = 0; i < c.models.n; i++)
		check_header_value(c.models.v[i]);
	for (size_t i = 0; i < c.serials.n; i++)
		check_header_value(c.serials.v[i]);
	for (size_t i = 0; i < c.tickets.n; i++)
		check_header_value(c.tickets.v[i]);
	complaint_free(&c);
	return 0;
}
