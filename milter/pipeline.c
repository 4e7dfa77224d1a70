/*
 * pipeline.c - run the stages in order on one message.
 */
#include "pipeline.h"
#include "describe.h"
#include "doc.h"
#include "extract.h"
#include "mime.h"
#include "verdict.h"

#include <stdlib.h>
#include <string.h>

int
pipeline_run(const struct pipeline_opts *po, const char *buf, size_t len,
    const char *envelope_from, struct complaint *c)
{
	struct msgtext mt;
	struct doc d;
	struct rscan sc;
	int rc = -1;

	complaint_init(c);
	if (rscan_init(&sc) < 0)
		return -1;
	if (mime_parse(buf, len, po->max_scan, &mt) < 0) {
		rscan_free(&sc);
		return -1;
	}
	/* the decoded subject and, once built, the text: see rscan_set_valid() */
	(void)rscan_set_valid(&sc, mt.subject, strlen(mt.subject));
	if (doc_build(&d, &mt, po->rules, &sc) < 0)
		goto out;
	(void)rscan_set_valid(&sc, d.text.s, d.text.len);
	c->subject = strdup(mt.subject);
	c->from_addr = strdup(mt.from_addr);
	c->from_name = strdup(mt.from_name);
	c->message_id = strdup(mt.message_id);
	c->in_reply_to = strdup(mt.in_reply_to);
	if (!c->subject || !c->from_addr || !c->from_name || !c->message_id || !c->in_reply_to)
		goto out;
	if (extract_fields(c, mt.subject, &d, po->rules, &sc, &po->idf) < 0)
		goto out;
	c->description = describe_words(&d, po->rules, &sc, DESCRIBE_MIN_WORDS) >=
	    DESCRIBE_MIN_WORDS;
	c->auto_submitted = verdict_is_automatic(&mt, envelope_from, po->rules, &sc);
	c->review = sc.limit_hit || mt.truncated;
	verdict_decide(c, po->action);
	rc = 0;
out:
	doc_free(&d);
	msgtext_free(&mt);
	rscan_free(&sc);
	if (rc < 0)
		complaint_free(c);
	return rc;
}
