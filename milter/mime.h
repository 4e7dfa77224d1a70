/*
 * mime.h - message bytes to UTF-8 text, with GMime 3.
 *
 * mime_parse() walks the MIME tree of one message held in memory: nested
 * multiparts and attached message/rfc822 forwards (depth-capped), text/plain
 * preferred and text/html (through html.c) used when a message has no
 * non-empty plain text.  Transfer encodings are undone and every charset is
 * converted to UTF-8 (unknown or broken ones fall back without failing).
 * Non-text parts and attachments are skipped.  At most max_scan bytes of text
 * are kept.
 */
#ifndef CM_MIME_H
#define CM_MIME_H

#include <stdbool.h>
#include <stddef.h>

/* One decoded text part: LF line ends, valid UTF-8. */
struct textpart {
	char *text;
	size_t len;
	bool forwarded;		/* inside an attached message/rfc822 */
	bool from_html;
};

struct msgtext {
	/* Decoded headers of the outer message ("" when absent). */
	char *subject;
	char *from_addr;
	char *from_name;
	char *message_id;	/* without <> */
	char *in_reply_to;
	char *return_path;	/* as written, e.g. "<>" */
	/* Header facts for automatic-mail detection. */
	char *auto_submitted;
	char *precedence;
	bool has_list_headers;	/* List-Id or List-Unsubscribe */
	bool has_autoreply_header;	/* X-Autoreply, X-Autorespond, ... */
	bool is_report;		/* top-level multipart/report */

	struct textpart *parts;
	size_t nparts;
	size_t text_bytes;
	bool truncated;		/* a partial scan: text beyond max_scan, parts past
				   the depth or count cap, or HTML the parser gave
				   up on, were dropped */
	bool no_headers;	/* the bytes did not parse as a message */
};

/* Call once per process before any thread parses (g_mime_init). */
void mime_init(void);
/* 0 on success (even for malformed mail), -1 when memory runs out. */
int mime_parse(const char *buf, size_t len, size_t max_scan, struct msgtext *out);
void msgtext_free(struct msgtext *mt);

#endif
