/*
 * reply.h - what complaint-reply sends: the RFC 3834 checks, the language,
 * dates in words, the templates and the message itself (built with GMime).
 *
 * Nothing here touches the database or the network: the worker
 * (reply_main.c) reads a case, fills a struct reply_case, renders it with
 * reply_render() and builds the message with reply_build().
 */
#ifndef CM_REPLY_H
#define CM_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "calendar.h"
#include "util.h"

enum reply_kind {
	REPLY_ACK = 0,		/* a new case */
	REPLY_COMPLETE,		/* a follow-up completed the case */
};

/* "ack" or "complete": the replies.kind column and the template name. */
const char *reply_kind_name(enum reply_kind k);

/* ---- RFC 3834: when not to answer ---- */

/* What is known about the mail a reply would answer. */
struct reply_origin {
	const char *envelope_from;	/* MAIL FROM as stored: "" or "<>" is the null sender */
	const char *auto_submitted;	/* Auto-Submitted header, NULL when absent */
	const char *precedence;		/* Precedence header, NULL when absent */
	bool list_headers;		/* any List-* header */
};

/*
 * NULL when a reply may go, else why not: "null-sender", "auto-submitted",
 * "precedence", "list", "mailer-daemon", "postmaster", "owner", "request",
 * "no-reply-address", "own-address" (own: our addresses, lower case, as
 * config.c keeps Recipient), "bad-address".
 */
const char *reply_suppress_reason(const struct reply_origin *o, const strlist *own);
/* Lower-case address without <> and +detail, into out ("" when it does not fit). */
void reply_addr_key(const char *addr, char *out, size_t outsz);

/* ---- languages and dates ---- */

/* lang when it is one we write (nl, en, de, fr), else fallback, else "en". */
const char *reply_language(const char *lang, const char *fallback);
/* "vrijdag 11 december 2026", "Friday 11 December 2026",
   "Freitag, 11. Dezember 2026", "vendredi 11 décembre 2026". */
void reply_format_date(const char *lang, struct ymd d, char *buf, size_t n);

/* ---- templates ---- */

/* One placeholder and its value (UTF-8; "" counts as empty in blocks). */
struct reply_var {
	const char *name;
	const char *value;
};

/*
 * Render tmpl: "{name}" becomes the value of name; "{{" is "{".  A line that
 * is just "{#name}" ... "{/name}" keeps the lines between only when name is
 * not empty, "{^name}" ... "{/name}" only when it is.  Values are inserted
 * as they are (with html, HTML-escaped) and never scanned again, so
 * customer text cannot expand placeholders.  An unknown placeholder is left
 * as written.  0, or -1 with the reason (out of memory, unbalanced block) in
 * err.
 */
int reply_render(const char *tmpl, const struct reply_var *vars, size_t nvars, bool html,
    strbuf *out, char *err, size_t errlen);
/* The first placeholder in tmpl that is not in names (NULL-terminated), or 0. */
int reply_unknown_placeholder(const char *tmpl, const char *const *names, char *out, size_t n);
/* Every placeholder the worker fills (NULL-terminated). */
extern const char *const reply_placeholders[];

struct reply_templates;

/*
 * Load dir/LANG/{ack,complete}.txt (and .html when present) for nl, en,
 * de, fr.  A .txt file is "Subject: ..." on its first line, an empty line,
 * then the body.  Languages whose directory is missing fall back to
 * fallback, which must be there.  Unknown placeholders are an error
 * ("file:line: ...").
 */
struct reply_templates *reply_templates_load(const char *dir, const char *fallback,
    char *err, size_t errlen);
void reply_templates_free(struct reply_templates *t);

/* What a reply says about one case. */
struct reply_case {
	enum reply_kind kind;
	const char *lang;		/* nl, en, de, fr */
	const char *case_id;
	const char *case_kind;		/* service, product, unknown */
	const strlist *tickets, *models, *serials;
	const char *missing;		/* comma list as stored, "" when complete */
	const char *customer_name;	/* "" when unknown */
	const char *subject;		/* the complaint's Subject */
	struct ymd received, update_by, resolve_by;
	const char *complaints_address;	/* ReplyFrom's address */
	const char *company_name;	/* ReplyFrom's display name */
};

struct reply_text {
	char *subject;
	char *text;
	char *html;			/* NULL when there is no HTML part */
};

/* Render the templates of rc->lang and rc->kind.  0 or -1 (err). */
int reply_render_case(const struct reply_templates *t, const struct reply_case *rc,
    struct reply_text *out, char *err, size_t errlen);
void reply_text_free(struct reply_text *rt);

/* ---- the message ---- */

struct reply_msg {
	const char *from;		/* ReplyFrom: "Name <address>" */
	const char *to_addr;		/* the customer's address */
	const char *to_name;		/* NULL or "" for none */
	const char *case_id;
	const char *message_id;		/* ours, without <> */
	const char *in_reply_to;	/* the complaint's Message-ID without <>; NULL */
	const char *references;		/* Message-IDs without <>, space separated; NULL */
	const struct reply_text *body;
	time_t date;
};

/*
 * The whole message (LF line ends) into out: From, To, Subject, Date,
 * Message-ID, In-Reply-To, References, Auto-Submitted: auto-replied,
 * X-Auto-Response-Suppress: All, X-Case-ID; text/plain UTF-8
 * quoted-printable, in multipart/alternative with the HTML part when there
 * is one.  Control characters in header values become spaces; a Message-ID
 * that is not a plain token is left out.  0 or -1 (err).
 */
int reply_build(const struct reply_msg *m, strbuf *out, char *err, size_t errlen);
/* "reply.CASE-2026-000123.ack.RANDOM@DOMAIN" into out; -1 when it does not fit. */
int reply_message_id(const char *case_id, enum reply_kind k, const char *domain,
    char *out, size_t n);
/* The address and the display name of a "Name <address>" (either may be ""). */
int reply_split_from(const char *from, char *addr, size_t an, char *name, size_t nn);

#endif
