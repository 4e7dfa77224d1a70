/*
 * pipeline.h - message bytes to verdict: the one pipeline that both
 * complaint-check (offline) and complaint-milter (online) run.
 *
 *   bytes -> mime (UTF-8 parts) -> doc (tagged lines) -> extract + describe
 *         -> verdict
 */
#ifndef CM_PIPELINE_H
#define CM_PIPELINE_H

#include "caseid.h"
#include "complaint.h"
#include "rules.h"

struct pipeline_opts {
	const struct rules *rules;
	struct caseid_fmt idf;
	size_t max_scan;
	enum incomplete_action action;
};

/*
 * Run the pipeline on one message.  envelope_from is the SMTP sender or NULL
 * offline.  Returns 0 (c filled; malformed mail still yields a result) or -1
 * on an internal error (memory), which the milter answers with 4xx.
 */
int pipeline_run(const struct pipeline_opts *po, const char *buf, size_t len,
    const char *envelope_from, struct complaint *c);

#endif
