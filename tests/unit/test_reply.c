/*
 * test_reply.c - unit tests of complaint-reply's parts: the RFC 3834
 * suppression rules, dates in four languages, the template renderer (blocks,
 * escaping, customer text that looks like a placeholder or a header), the
 * shipped templates, the message built with GMime and parsed back, the
 * transport specification, and the reply store (create, rate limit, due,
 * sent, retry with backoff, a crash between submit and commit).
 */
#include "unit.h"

#include <dirent.h>
#include <gmime/gmime.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mime.h"
#include "reply.h"
#include "replystore.h"
#include "store.h"
#include "submit.h"

#ifndef TEMPLATES_DIR
#define TEMPLATES_DIR "conf/templates"
#endif

static struct ymd
D(int y, int m, int d)
{
	struct ymd r = { y, m, d };

	return r;
}

/* ---- RFC 3834 ---- */

static const char *
why(const char *env, const char *auto_sub, const char *prec, bool list)
{
	static strlist own;
	static bool init;
	struct reply_origin o = { env, auto_sub, prec, list };

	if (!init) {
		sl_init(&own);
		sl_add(&own, "complaints@example.com");
		sl_add(&own, "klachten@example.nl");
		init = true;
	}
	return reply_suppress_reason(&o, &own);
}

static void
expect_why(const char *got, const char *want)
{
	if (want == NULL) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
}

static void
test_suppress(void **state)
{
	(void)state;
	expect_why(why("jan@example.nl", NULL, NULL, false), NULL);
	expect_why(why("<jan@example.nl>", "no", NULL, false), NULL);
	expect_why(why("jan@example.nl", " No ; comment", NULL, false), NULL);
	expect_why(why("", NULL, NULL, false), "null-sender");
	expect_why(why("<>", NULL, NULL, false), "null-sender");
	expect_why(why(NULL, NULL, NULL, false), "null-sender");
	expect_why(why("jan@example.nl", "auto-replied", NULL, false), "auto-submitted");
	expect_why(why("jan@example.nl", "auto-generated", NULL, false), "auto-submitted");
	expect_why(why("jan@example.nl", "Auto-Notified; owner-email=x", NULL, false),
	    "auto-submitted");
	expect_why(why("jan@example.nl", NULL, "bulk", false), "precedence");
	expect_why(why("jan@example.nl", NULL, "Junk", false), "precedence");
	expect_why(why("jan@example.nl", NULL, "list", false), "precedence");
	expect_why(why("jan@example.nl", NULL, "first-class", false), NULL);
	expect_why(why("jan@example.nl", NULL, NULL, true), "list");
	expect_why(why("MAILER-DAEMON@mx.example.nl", NULL, NULL, false), "mailer-daemon");
	expect_why(why("Postmaster@example.nl", NULL, NULL, false), "postmaster");
	expect_why(why("owner-solar@lists.example.org", NULL, NULL, false), "owner");
	expect_why(why("solar-request@lists.example.org", NULL, NULL, false), "request");
	expect_why(why("noreply@shop.example", NULL, NULL, false), "no-reply-address");
	expect_why(why("do-not-reply@shop.example", NULL, NULL, false), "no-reply-address");
	expect_why(why("Complaints@Example.COM", NULL, NULL, false), "own-address");
	expect_why(why("complaints+nl@example.com", NULL, NULL, false), "own-address");
	expect_why(why("<klachten@example.nl>", NULL, NULL, false), "own-address");
	expect_why(why("jan", NULL, NULL, false), "bad-address");
	expect_why(why("-oQ/tmp@example.nl", NULL, NULL, false), "bad-address");
	expect_why(why("a b@example.nl", NULL, NULL, false), "bad-address");
	expect_why(why("jan@example.nl\r\nBcc: x@y", NULL, NULL, false), "bad-address");
	/* the first reason wins: a null sender with Auto-Submitted */
	expect_why(why("", "auto-replied", "bulk", true), "null-sender");
}

static void
test_addr_key(void **state)
{
	char k[64];

	(void)state;
	reply_addr_key("<Jan.Klant+Zon@Example.NL>", k, sizeof(k));
	assert_string_equal(k, "jan.klant@example.nl");
	reply_addr_key("plain@x.y", k, sizeof(k));
	assert_string_equal(k, "plain@x.y");
	reply_addr_key("averyveryverylongaddressthatdoesnotfit@example.nl", k, 8);
	assert_string_equal(k, "");
}

/* ---- languages and dates ---- */

static void
check_date(const char *lang, struct ymd d, const char *want)
{
	char buf[80];

	reply_format_date(lang, d, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void
test_dates(void **state)
{
	(void)state;
	check_date("nl", D(2026, 12, 11), "vrijdag 11 december 2026");
	check_date("en", D(2026, 12, 11), "Friday 11 December 2026");
	check_date("de", D(2026, 12, 11), "Freitag, 11. Dezember 2026");
	check_date("fr", D(2026, 12, 11), "vendredi 11 décembre 2026");
	check_date("fr", D(2026, 12, 1), "mardi 1er décembre 2026");
	check_date("de", D(2027, 3, 1), "Montag, 1. März 2027");
	check_date("nl", D(2027, 1, 3), "zondag 3 januari 2027");
	check_date("fr", D(2027, 8, 15), "dimanche 15 août 2027");
	check_date("en", D(2024, 2, 29), "Thursday 29 February 2024");
	check_date("es", D(2026, 12, 11), "Friday 11 December 2026");	/* unknown: English */
	check_date("nl", D(2026, 13, 1), "?");
	assert_string_equal(reply_language("de", "nl"), "de");
	assert_string_equal(reply_language("", "nl"), "nl");
	assert_string_equal(reply_language(NULL, "fr"), "fr");
	assert_string_equal(reply_language("es", "xx"), "en");
}

/* ---- the renderer ---- */

static const struct reply_var VARS[] = {
	{ "case_id", "CASE-2026-000123" },
	{ "customer_name", "Jan <b>&</b>" },
	{ "missing", "" },
	{ "subject", "{case_id}\r\nBcc: victim@example.org" },
};
#define NVARS (sizeof(VARS) / sizeof(VARS[0]))

static void
render_ok(const char *tmpl, bool html, const char *want)
{
	strbuf sb;
	char err[256] = "";

	sb_init(&sb);
	if (reply_render(tmpl, VARS, NVARS, html, &sb, err, sizeof(err)) < 0)
		fprintf(stderr, "render: %s\n", err);
	assert_string_equal(sb.s, want);
	sb_free(&sb);
}

static void
render_fails(const char *tmpl, const char *want_err)
{
	strbuf sb;
	char err[256] = "";

	sb_init(&sb);
	assert_int_equal(reply_render(tmpl, VARS, NVARS, false, &sb, err, sizeof(err)), -1);
	assert_non_null(strstr(err, want_err));
	sb_free(&sb);
}

static void
test_render(void **state)
{
	(void)state;
	render_ok("Case {case_id}.\n", false, "Case CASE-2026-000123.\n");
	render_ok("{case_id}{case_id}", false, "CASE-2026-000123CASE-2026-000123");
	/* unknown placeholders, braces that are none, and {{ */
	render_ok("{unknown} {Case_ID} { case_id} {{case_id} {", false,
	    "{unknown} {Case_ID} { case_id} {case_id} {");
	/* customer text is inserted as it is, never expanded again */
	render_ok("[{subject}]", false, "[{case_id}\r\nBcc: victim@example.org]");
	/* HTML escaping of values, not of the template */
	render_ok("<p>{customer_name}</p>", true, "<p>Jan &lt;b&gt;&amp;&lt;/b&gt;</p>");
	render_ok("<p>{customer_name}</p>", false, "<p>Jan <b>&</b></p>");
	/* blocks */
	render_ok("a\n{#customer_name}\nname {customer_name}\n{/customer_name}\nb\n", false,
	    "a\nname Jan <b>&</b>\nb\n");
	render_ok("a\n{#missing}\nmissing\n{/missing}\n{^missing}\ncomplete\n{/missing}\n", false,
	    "a\ncomplete\n");
	render_ok("{#nosuch}\nx\n{/nosuch}\n{^nosuch}\ny\n{/nosuch}\n", false, "y\n");
	render_ok("{#case_id}\n{#missing}\nno\n{/missing}\nyes\n{/case_id}\n", false, "yes\n");
	/* a marker must be alone on its line; otherwise it is text */
	render_ok("x {#missing} y\n", false, "x {#missing} y\n");
	render_ok("  {#missing}  \nhidden\n{/missing}\n", false, "");
	render_ok("no newline at the end", false, "no newline at the end");
	render_ok("", false, "");
	render_fails("{#missing}\nx\n", "{#missing} is never closed");
	render_fails("{/missing}\n", "line 1: {/missing} closes no open block");
	render_fails("{#case_id}\n{/missing}\n", "closes no open block");
	render_fails("{#a}\n{#a}\n{#a}\n{#a}\n{#a}\n{#a}\n{#a}\n{#a}\n{#a}\n", "nested too deep");
}

static void
test_unknown_placeholder(void **state)
{
	char name[64];

	(void)state;
	assert_int_equal(reply_unknown_placeholder("{case_id} {resolve_by}\n{{x}",
	    reply_placeholders, name, sizeof(name)), 0);
	assert_int_equal(reply_unknown_placeholder("ok\n\n{case_idd}", reply_placeholders,
	    name, sizeof(name)), 3);
	assert_string_equal(name, "case_idd");
	assert_int_equal(reply_unknown_placeholder("{#nope}\n{/nope}\n", reply_placeholders,
	    name, sizeof(name)), 1);
	assert_string_equal(name, "nope");
}

/* ---- templates on disk ---- */

static struct reply_case
sample_case(enum reply_kind k, const char *lang, strlist *t, strlist *m, strlist *s)
{
	struct reply_case rc = {
		.kind = k, .lang = lang, .case_id = "CASE-2026-000123", .case_kind = "product",
		.tickets = t, .models = m, .serials = s, .missing = "",
		.customer_name = "Jan de Vries", .subject = "Klacht {case_id}\nBcc: x@y",
		.received = { 2026, 11, 25 }, .update_by = { 2026, 12, 15 },
		.resolve_by = { 2027, 1, 8 }, .complaints_address = "complaints@example.com",
		.company_name = "Klachtenservice",
	};

	return rc;
}

static void
test_shipped_templates(void **state)
{
	static const struct {
		const char *lang, *subject, *update, *kind;
	} want[] = {
		{ "nl", "[CASE-2026-000123] Ontvangen: uw productklacht", "dinsdag 15 december 2026",
		  "productklacht" },
		{ "en", "[CASE-2026-000123] Received: your product complaint",
		  "Tuesday 15 December 2026", "product complaint" },
		{ "de", "[CASE-2026-000123] Eingegangen: Ihre Produktbeschwerde",
		  "Dienstag, 15. Dezember 2026", "Produktbeschwerde" },
		{ "fr", "[CASE-2026-000123] Reçue : votre réclamation sur un produit",
		  "mardi 15 décembre 2026", "réclamation sur un produit" },
	};
	char err[512] = "";
	struct reply_templates *t = reply_templates_load(TEMPLATES_DIR, "en", err, sizeof(err));
	strlist tk, md, sr;

	(void)state;
	if (t == NULL)
		fprintf(stderr, "%s\n", err);
	assert_non_null(t);
	sl_init(&tk);
	sl_init(&md);
	sl_init(&sr);
	sl_add(&md, "SUN2000-5KTL-L1");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct reply_case rc = sample_case(REPLY_ACK, want[i].lang, &tk, &md, &sr);
		struct reply_text rt;

		assert_int_equal(reply_render_case(t, &rc, &rt, err, sizeof(err)), 0);
		assert_string_equal(rt.subject, want[i].subject);
		assert_non_null(strstr(rt.text, want[i].update));
		assert_non_null(strstr(rt.text, "CASE-2026-000123"));
		assert_non_null(strstr(rt.text, "SUN2000-5KTL-L1"));
		assert_non_null(strstr(rt.text, "complaints@example.com"));
		/* nothing missing: no list; no serial: ask for it */
		assert_null(strstr(rt.text, "  - het ticketnummer"));
		/* the customer's subject stays on one line, and unexpanded */
		assert_non_null(strstr(rt.text, "Klacht {case_id} Bcc: x@y"));
		assert_non_null(rt.html);
		assert_non_null(strstr(rt.html, "Klacht {case_id} Bcc: x@y"));
		reply_text_free(&rt);

		rc = sample_case(REPLY_COMPLETE, want[i].lang, &tk, &md, &sr);
		assert_int_equal(reply_render_case(t, &rc, &rt, err, sizeof(err)), 0);
		assert_non_null(strstr(rt.subject, "[CASE-2026-000123]"));
		assert_non_null(strstr(rt.text, want[i].kind));
		reply_text_free(&rt);
	}
	/* what is missing, in the customer's language */
	{
		struct reply_case rc = sample_case(REPLY_ACK, "nl", &tk, &sr, &sr);
		struct reply_text rt;

		rc.case_kind = "unknown";
		rc.missing = "ticket_or_model,description";
		assert_int_equal(reply_render_case(t, &rc, &rt, err, sizeof(err)), 0);
		assert_non_null(strstr(rt.text, "hebben wij nog nodig:\n  - het ticketnummer van uw"
		    " servicemelding of het type (model) van uw omvormer\n  - een beschrijving"));
		assert_non_null(strstr(rt.subject, "uw klacht"));
		reply_text_free(&rt);
		/* an unknown language falls back to the configured one (en) */
		rc.lang = "es";
		assert_int_equal(reply_render_case(t, &rc, &rt, err, sizeof(err)), 0);
		assert_non_null(strstr(rt.text, "To handle your complaint we still need:"));
		reply_text_free(&rt);
	}
	reply_templates_free(t);
	sl_free(&md);
}

/* A templates directory with one language whose ack.txt is text. */
static char *
tmpl_dir(const char *ack, const char *complete)
{
	static char dir[64];
	char p[256];
	FILE *fp;

	snprintf(dir, sizeof(dir), "/tmp/test_reply.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/en", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/en/ack.txt", dir);
	assert_non_null(fp = fopen(p, "w"));
	fputs(ack, fp);
	fclose(fp);
	snprintf(p, sizeof(p), "%s/en/complete.txt", dir);
	assert_non_null(fp = fopen(p, "w"));
	fputs(complete, fp);
	fclose(fp);
	return dir;
}

static void
rm_tmpl_dir(const char *dir)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/en/ack.txt", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/en/complete.txt", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/en/ack.html", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/en", dir);
	rmdir(p);
	rmdir(dir);
}

static void
load_fails(const char *ack, const char *want)
{
	char err[512] = "", *dir = tmpl_dir(ack, "Subject: x\n\nbody\n");
	struct reply_templates *t = reply_templates_load(dir, "en", err, sizeof(err));

	if (t != NULL || strstr(err, want) == NULL)
		fprintf(stderr, "error \"%s\", want \"%s\"\n", err, want);
	assert_null(t);
	assert_non_null(strstr(err, want));
	rm_tmpl_dir(dir);
}

static void
test_template_errors(void **state)
{
	char err[512];

	(void)state;
	load_fails("Hello\n\nbody\n", "en/ack.txt:1: the first line must be \"Subject: ...\"");
	load_fails("Subject: x\nbody\n", "en/ack.txt:2: expected an empty line");
	load_fails("Subject: {casse_id}\n\nbody\n", "en/ack.txt:1: unknown placeholder {casse_id}");
	load_fails("Subject: x\n\nline\n{oops}\n", "en/ack.txt:4: unknown placeholder {oops}");
	load_fails("Subject: x\n\n{#missing}\nbody\n", "{#missing} is never closed");
	/* the fallback language must be there */
	assert_null(reply_templates_load(TEMPLATES_DIR "/nl", "en", err, sizeof(err)));
}

/* An admin's own HTML template: values HTML-escaped. */
static void
test_html_template(void **state)
{
	char err[512] = "", p[256], *dir = tmpl_dir("Subject: [{case_id}] x\n\nHi {customer_name}\n",
	    "Subject: y\n\nbody\n");
	struct reply_templates *t;
	struct reply_text rt;
	strlist e;
	struct reply_case rc;
	FILE *fp;

	(void)state;
	snprintf(p, sizeof(p), "%s/en/ack.html", dir);
	assert_non_null(fp = fopen(p, "w"));
	fputs("<p>Dear {customer_name}</p>\n", fp);
	fclose(fp);
	assert_non_null(t = reply_templates_load(dir, "en", err, sizeof(err)));
	sl_init(&e);
	rc = sample_case(REPLY_ACK, "nl", &e, &e, &e);
	rc.customer_name = "<script>alert(1)</script>";
	assert_int_equal(reply_render_case(t, &rc, &rt, err, sizeof(err)), 0);
	assert_string_equal(rt.text, "Hi <script>alert(1)</script>\n");
	assert_string_equal(rt.html, "<p>Dear &lt;script&gt;alert(1)&lt;/script&gt;</p>\n");
	reply_text_free(&rt);
	reply_templates_free(t);
	rm_tmpl_dir(dir);
}

/* ---- the message ---- */

static GMimeMessage *
parse_back(const strbuf *sb)
{
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(sb->s, sb->len);
	GMimeParser *p = g_mime_parser_new_with_stream(s);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);

	g_object_unref(p);
	g_object_unref(s);
	assert_non_null(m);
	return m;
}

static const char *
hdr(GMimeMessage *m, const char *name)
{
	const char *v = g_mime_object_get_header(GMIME_OBJECT(m), name);

	return v ? v : "";
}

/* The decoded text of the first text/plain part. */
static char *
plain_text(GMimeMessage *m)
{
	GMimeObject *body = g_mime_message_get_mime_part(m);
	GMimeObject *part = GMIME_IS_MULTIPART(body) ?
	    g_mime_multipart_get_part(GMIME_MULTIPART(body), 0) : body;

	assert_true(GMIME_IS_TEXT_PART(part));
	assert_string_equal(g_mime_object_get_content_type_parameter(part, "charset"), "utf-8");
	assert_int_equal(g_mime_part_get_content_encoding(GMIME_PART(part)),
	    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	return g_mime_text_part_get_text(GMIME_TEXT_PART(part));
}

static void
test_build(void **state)
{
	struct reply_text rt = {
		.subject = "[CASE-2026-000123] Reçue : votre réclamation\r\nBcc: victim@example.org",
		.text = "Bonjour,\n\nd'ici le mardi 15 décembre 2026.\n.\nFrom me\n",
		.html = "<p>Bonjour</p>\n",
	};
	struct reply_msg m = {
		.from = "Klachtenservice Zon <complaints@example.com>",
		.to_addr = "jan@example.nl",
		.to_name = "Jan \"de\" Vries\r\nBcc: victim@example.org",
		.case_id = "CASE-2026-000123",
		.message_id = "reply.CASE-2026-000123.ack.0011@example.com",
		.in_reply_to = "orig@mail.example.net",
		.references = "orig@mail.example.net bad<id>@x follow@mail.example.net",
		.body = &rt,
		.date = (time_t)1795651199,
	};
	char err[256] = "", *text;
	strbuf sb;
	GMimeMessage *msg;
	InternetAddressList *to;

	(void)state;
	sb_init(&sb);
	assert_int_equal(reply_build(&m, &sb, err, sizeof(err)), 0);
	/* no header line of its own from customer text */
	assert_null(strstr(sb.s, "\nBcc:"));
	assert_null(strstr(sb.s, "\r"));
	msg = parse_back(&sb);
	assert_string_equal(hdr(msg, "Auto-Submitted"), "auto-replied");
	assert_string_equal(hdr(msg, "X-Auto-Response-Suppress"), "All");
	assert_string_equal(hdr(msg, "X-Case-ID"), "CASE-2026-000123");
	assert_string_equal(hdr(msg, "In-Reply-To"), "<orig@mail.example.net>");
	assert_string_equal(hdr(msg, "References"), "<orig@mail.example.net> <follow@mail.example.net>");
	assert_string_equal(g_mime_message_get_message_id(msg), "reply.CASE-2026-000123.ack.0011@example.com");
	assert_string_equal(g_mime_message_get_subject(msg),
	    "[CASE-2026-000123] Reçue : votre réclamation  Bcc: victim@example.org");
	assert_non_null(strstr(hdr(msg, "From"), "complaints@example.com"));
	assert_non_null(strstr(hdr(msg, "From"), "Klachtenservice Zon"));
	to = g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO);
	assert_int_equal(internet_address_list_length(to), 1);
	assert_string_equal(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(
	    internet_address_list_get_address(to, 0))), "jan@example.nl");
	assert_int_equal(internet_address_list_length(g_mime_message_get_addresses(msg,
	    GMIME_ADDRESS_TYPE_BCC)), 0);
	assert_non_null(g_mime_message_get_date(msg));
	assert_true(GMIME_IS_MULTIPART(g_mime_message_get_mime_part(msg)));
	text = plain_text(msg);
	assert_string_equal(text, rt.text);
	g_free(text);
	g_object_unref(msg);

	/* without HTML: a single text/plain part; no In-Reply-To when none is usable */
	rt.html = NULL;
	m.in_reply_to = "has space@x";
	m.references = NULL;
	assert_int_equal(reply_build(&m, &sb, err, sizeof(err)), 0);
	msg = parse_back(&sb);
	assert_false(GMIME_IS_MULTIPART(g_mime_message_get_mime_part(msg)));
	assert_string_equal(hdr(msg, "In-Reply-To"), "");
	text = plain_text(msg);
	assert_string_equal(text, rt.text);
	g_free(text);
	g_object_unref(msg);

	/* a recipient that could be an option or a header is refused */
	m.to_addr = "-oQ/tmp@x.y";
	assert_int_equal(reply_build(&m, &sb, err, sizeof(err)), -1);
	m.to_addr = "a@b.c\nBcc: d@e.f";
	assert_int_equal(reply_build(&m, &sb, err, sizeof(err)), -1);
	sb_free(&sb);
}

static void
test_ids_and_from(void **state)
{
	char id[128], id2[128], addr[64], name[64];

	(void)state;
	assert_int_equal(reply_message_id("CASE-2026-000123", REPLY_ACK, "example.com", id,
	    sizeof(id)), 0);
	assert_int_equal(strncmp(id, "reply.CASE-2026-000123.ack.", 27), 0);
	assert_non_null(strstr(id, "@example.com"));
	assert_int_equal(reply_message_id("CASE-2026-000123", REPLY_COMPLETE, "example.com", id2,
	    sizeof(id2)), 0);
	assert_non_null(strstr(id2, ".complete."));
	assert_string_not_equal(id, id2);
	assert_int_equal(reply_message_id("CASE-2026-000123", REPLY_ACK, "example.com", id, 10), -1);
	assert_int_equal(reply_split_from("Klachtenservice <complaints@example.com>", addr,
	    sizeof(addr), name, sizeof(name)), 0);
	assert_string_equal(addr, "complaints@example.com");
	assert_string_equal(name, "Klachtenservice");
	assert_int_equal(reply_split_from("\"Service, NL\" <k@example.nl>", addr, sizeof(addr),
	    name, sizeof(name)), 0);
	assert_string_equal(name, "Service, NL");
	assert_int_equal(reply_split_from("k@example.nl", addr, sizeof(addr), name, sizeof(name)), 0);
	assert_string_equal(addr, "k@example.nl");
	assert_string_equal(name, "");
	assert_int_equal(reply_split_from("nobody", addr, sizeof(addr), name, sizeof(name)), -1);
}

static void
test_transport(void **state)
{
	struct transport t;
	char err[256];

	(void)state;
	assert_int_equal(submit_parse_transport("smtp:127.0.0.1:2525", &t, err, sizeof(err)), 0);
	assert_int_equal(t.kind, SUBMIT_SMTP);
	assert_string_equal(t.host, "127.0.0.1");
	assert_int_equal(t.port, 2525);
	assert_int_equal(submit_parse_transport("smtp:[::1]:25", &t, err, sizeof(err)), 0);
	assert_string_equal(t.host, "[::1]");
	assert_int_equal(submit_parse_transport("sendmail:/usr/sbin/sendmail", &t, err,
	    sizeof(err)), 0);
	assert_int_equal(t.kind, SUBMIT_SENDMAIL);
	assert_string_equal(t.path, "/usr/sbin/sendmail");
	assert_int_equal(submit_parse_transport("sendmail:sendmail", &t, err, sizeof(err)), -1);
	assert_int_equal(submit_parse_transport("smtp:host", &t, err, sizeof(err)), -1);
	assert_int_equal(submit_parse_transport("smtp:host:0", &t, err, sizeof(err)), -1);
	assert_int_equal(submit_parse_transport("smtp:host:99999", &t, err, sizeof(err)), -1);
	assert_int_equal(submit_parse_transport("smtp:a/b:25", &t, err, sizeof(err)), -1);
	assert_int_equal(submit_parse_transport("pigeon:x", &t, err, sizeof(err)), -1);
	/* a recipient that is an option never reaches the transport */
	assert_int_equal(submit_message(&t, "-t", "x", 1, err, sizeof(err)), SUBMIT_PERMFAIL);
}

/* A sendmail stand-in: /bin/false fails (tempfail); /bin/true takes the message. */
static void
test_sendmail_exit(void **state)
{
	struct transport t;
	char err[256];

	(void)state;
	assert_int_equal(submit_parse_transport("sendmail:/bin/true", &t, err, sizeof(err)), 0);
	assert_int_equal(submit_message(&t, "jan@example.nl", "x\n", 2, err, sizeof(err)), SUBMIT_OK);
	assert_int_equal(submit_parse_transport("sendmail:/bin/false", &t, err, sizeof(err)), 0);
	assert_int_equal(submit_message(&t, "jan@example.nl", "x\n", 2, err, sizeof(err)),
	    SUBMIT_TEMPFAIL);
	assert_non_null(strstr(err, "exited with status 1"));
	assert_int_equal(submit_parse_transport("sendmail:/nonexistent/sendmail", &t, err,
	    sizeof(err)), 0);
	assert_int_equal(submit_message(&t, "jan@example.nl", "x\n", 2, err, sizeof(err)),
	    SUBMIT_TEMPFAIL);
}

/* ---- the reply store ---- */

struct fx {
	char dir[64];
	char path[128];
	struct store *st;
};

static int
setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char err[256];

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_reply.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/cases.db", fx->dir);
	if ((fx->st = store_open(fx->path, 2000, err, sizeof(err))) == NULL)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *fx = *state;

	store_close(fx->st);
	unit_rmdir(fx->dir);
	free(fx);
	return 0;
}

/* A case from envelope sender from; its case ID into id. */
static void
new_case(struct fx *fx, const char *from, const char *msgid, unsigned missing, char *id)
{
	struct complaint c;
	struct intake in = { 0 };
	struct caseid_fmt idf;
	struct case_result cr;

	complaint_init(&c);
	free(c.message_id);
	c.message_id = strdup(msgid);
	c.missing = missing;
	c.kind = KIND_PRODUCT;
	caseid_fmt_init(&idf, "CASE", "", false);
	in.c = &c;
	in.envelope_from = from;
	in.dedup_key = msgid;
	in.idf = &idf;
	in.year = 2026;
	in.now = (time_t)1795651199;
	assert_int_equal(store_new_case(fx->st, &in, &cr), 0);
	strcpy(id, cr.case_id);
	complaint_free(&c);
}

static long long
q(struct fx *fx, const char *sql)
{
	sqlite3_stmt *s;
	long long v = -1;

	assert_int_equal(sqlite3_prepare_v2(store_db(fx->st), sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int
create(struct fx *fx, const char *id, enum reply_kind k, const char *rcpt, const char *supp,
    unsigned limit, time_t now, const char **why)
{
	char msgid[128];
	struct reply_dates d = { "2026-12-04", "2026-12-15", "2027-01-08" };
	struct reply_new rn;

	snprintf(msgid, sizeof(msgid), "reply.%s.%s.1@example.com", id, reply_kind_name(k));
	rn = (struct reply_new){ id, k, msgid, rcpt, supp, limit, 86400, &d, now };
	return replystore_create(fx->st, &rn, why);
}

static void
test_store_todo_and_create(void **state)
{
	struct fx *fx = *state;
	char a[CASEID_MAX], b[CASEID_MAX];
	struct reply_todo td;
	struct reply_dates dt;
	long long chi, ehi;
	const char *why;
	time_t now = (time_t)1795651199;

	new_case(fx, "jan@example.nl", "a@x", 0, a);
	new_case(fx, "piet@example.nl", "b@x", 0, b);
	assert_int_equal(replystore_marks(fx->st, &chi, &ehi), 0);
	assert_int_equal(chi, 2);
	assert_int_equal(replystore_next_ack(fx->st, 0, chi, &td), 1);
	assert_string_equal(td.case_id, a);
	assert_string_equal(td.at, "2026-11-25T23:59:59Z");
	assert_int_equal(td.kind, REPLY_ACK);
	assert_int_equal(replystore_next_ack(fx->st, td.src, chi, &td), 1);
	assert_string_equal(td.case_id, b);
	assert_int_equal(replystore_next_ack(fx->st, td.src, chi, &td), 0);

	assert_int_equal(create(fx, a, REPLY_ACK, "jan@example.nl", NULL, 5, now, &why),
	    REPLY_PENDING);
	assert_null(why);
	/* a second time: it exists, nothing changes */
	assert_int_equal(create(fx, a, REPLY_ACK, "jan@example.nl", NULL, 5, now, &why),
	    REPLY_EXISTS);
	assert_int_equal(q(fx, "SELECT count(*) FROM replies"), 1);
	/* a now has its ack: only b is left */
	assert_int_equal(replystore_next_ack(fx->st, 0, chi, &td), 1);
	assert_string_equal(td.case_id, b);
	/* the due dates are on the case */
	assert_int_equal(replystore_get_dates(fx->st, a, &dt), 1);
	assert_string_equal(dt.ack_by, "2026-12-04");
	assert_string_equal(dt.update_by, "2026-12-15");
	assert_string_equal(dt.resolve_by, "2027-01-08");
	assert_int_equal(replystore_get_dates(fx->st, "CASE-1999-000001", &dt), 0);

	/* suppressed: a row without Message-ID and an event with the reason */
	assert_int_equal(create(fx, b, REPLY_ACK, "piet@example.nl", "own-address", 5, now, &why),
	    REPLY_SUPPRESSED);
	assert_string_equal(why, "own-address");
	assert_int_equal(q(fx, "SELECT count(*) FROM replies WHERE status = 'suppressed'"
	    " AND message_id IS NULL"), 1);
	assert_int_equal(q(fx, "SELECT count(*) FROM events WHERE type = 'reply-suppressed'"
	    " AND json_extract(detail, '$.reason') = 'own-address'"
	    " AND json_extract(detail, '$.kind') = 'ack'"), 1);
	assert_int_equal(replystore_next_ack(fx->st, 0, chi, &td), 0);
	assert_int_equal(replystore_case_has_event(fx->st, b, "reply-suppressed"), 1);
	assert_int_equal(replystore_case_has_event(fx->st, b, "quarantined"), 0);
}

static void
test_store_rate_limit(void **state)
{
	struct fx *fx = *state;
	char id[4][CASEID_MAX], msgid[16];
	const char *why;
	time_t now = (time_t)1795651199;

	for (int i = 0; i < 4; i++) {
		snprintf(msgid, sizeof(msgid), "m%d@x", i);
		new_case(fx, "Veel@Example.nl", msgid, 0, id[i]);
	}
	assert_int_equal(create(fx, id[0], REPLY_ACK, "Veel@Example.nl", NULL, 2, now, &why),
	    REPLY_PENDING);
	assert_int_equal(create(fx, id[1], REPLY_ACK, "veel@example.nl", NULL, 2, now + 10, &why),
	    REPLY_PENDING);
	/* the third within 24 hours: suppressed, whatever the case of the letters */
	assert_int_equal(create(fx, id[2], REPLY_ACK, "VEEL@example.nl", NULL, 2, now + 20, &why),
	    REPLY_SUPPRESSED);
	assert_string_equal(why, "rate-limit");
	/* a day later the first two no longer count */
	assert_int_equal(create(fx, id[3], REPLY_ACK, "veel@example.nl", NULL, 2, now + 86401, &why),
	    REPLY_PENDING);
	/* 0: no limit */
	assert_int_equal(create(fx, id[2], REPLY_COMPLETE, "veel@example.nl", NULL, 0, now + 30,
	    &why), REPLY_PENDING);
}

static void
test_store_delivery(void **state)
{
	struct fx *fx = *state;
	char id[CASEID_MAX];
	struct reply_due due[4];
	const char *why;
	time_t now = (time_t)1795651199;

	new_case(fx, "jan@example.nl", "a@x", 0, id);
	assert_int_equal(create(fx, id, REPLY_ACK, "jan@example.nl", NULL, 5, now, &why),
	    REPLY_PENDING);
	assert_int_equal(replystore_due(fx->st, now, due, 4), 1);
	assert_string_equal(due[0].case_id, id);
	assert_int_equal(due[0].kind, REPLY_ACK);
	assert_int_equal(due[0].attempts, 0);
	assert_string_equal(due[0].recipient, "jan@example.nl");

	/* the relay is down: retried after 60 s, then 120 s */
	assert_int_equal(replystore_failed(fx->st, &due[0], now, false, "connection refused", 60), 0);
	assert_int_equal(replystore_due(fx->st, now + 59, due, 4), 0);
	assert_int_equal(replystore_due(fx->st, now + 60, due, 4), 1);
	assert_int_equal(due[0].attempts, 1);
	assert_int_equal(replystore_failed(fx->st, &due[0], now + 60, false, "refused", 60), 0);
	assert_int_equal(replystore_due(fx->st, now + 179, due, 4), 0);
	assert_int_equal(replystore_due(fx->st, now + 180, due, 4), 1);
	assert_int_equal(q(fx, "SELECT count(*) FROM events WHERE type = 'reply-deferred'"), 2);
	assert_int_equal(q(fx, "SELECT count(*) FROM replies WHERE last_error = 'refused'"), 1);

	/*
	 * A crash after the submission, before replystore_sent(): the reply is
	 * still due, with the same Message-ID, so it goes once more at most.
	 */
	{
		char first[512];
		struct store *again;
		char err[256];

		snprintf(first, sizeof(first), "%s", due[0].message_id);
		store_close(fx->st);
		assert_non_null(again = store_open(fx->path, 2000, err, sizeof(err)));
		fx->st = again;
		assert_int_equal(replystore_due(fx->st, now + 180, due, 4), 1);
		assert_string_equal(due[0].message_id, first);
	}
	assert_int_equal(replystore_sent(fx->st, &due[0], now + 181), 0);
	assert_int_equal(replystore_due(fx->st, now + 100000, due, 4), 0);
	assert_int_equal(q(fx, "SELECT attempts FROM replies"), 3);
	assert_int_equal(q(fx, "SELECT count(*) FROM replies WHERE status = 'sent'"
	    " AND sent_at = '2026-11-26T00:03:00Z' AND last_error IS NULL"), 1);
	assert_int_equal(q(fx, "SELECT count(*) FROM events WHERE type = 'reply-sent'"), 1);
}

static void
test_store_permanent_and_complete(void **state)
{
	struct fx *fx = *state;
	char id[CASEID_MAX], *msgid = NULL;
	struct reply_due due[4];
	struct reply_todo td;
	const char *why;
	long long chi, ehi;
	time_t now = (time_t)1795651199;

	new_case(fx, "jan@example.nl", "a@x", MISSING_MODEL, id);
	assert_int_equal(create(fx, id, REPLY_ACK, "jan@example.nl", NULL, 5, now, &why),
	    REPLY_PENDING);
	assert_int_equal(replystore_due(fx->st, now, due, 4), 1);
	assert_int_equal(replystore_failed(fx->st, &due[0], now, true, "550 no such user", 60), 0);
	assert_int_equal(replystore_due(fx->st, now + 100000, due, 4), 0);
	assert_int_equal(q(fx, "SELECT count(*) FROM replies WHERE status = 'failed'"), 1);
	assert_int_equal(q(fx, "SELECT count(*) FROM events WHERE type = 'reply-failed'"), 1);

	/* a follow-up completes the case: a completed event wants a "complete" reply */
	assert_int_equal(replystore_marks(fx->st, &chi, &ehi), 0);
	assert_int_equal(replystore_next_complete(fx->st, 0, ehi, &td), 0);
	assert_int_equal(store_event(fx->st, id, "completed", "{\"status\":\"new\"}",
	    "followup@x", "jan@example.nl", NULL), 0);
	assert_int_equal(replystore_marks(fx->st, &chi, &ehi), 0);
	assert_int_equal(replystore_next_complete(fx->st, 0, ehi, &td), 1);
	assert_string_equal(td.case_id, id);
	assert_int_equal(td.kind, REPLY_COMPLETE);
	assert_int_equal(replystore_completed_msgid(fx->st, id, &msgid), 0);
	assert_string_equal(msgid, "followup@x");
	free(msgid);
	assert_int_equal(create(fx, id, REPLY_COMPLETE, "jan@example.nl", NULL, 5, now, &why),
	    REPLY_PENDING);
	assert_int_equal(replystore_next_complete(fx->st, 0, ehi, &td), 0);
}

static void
test_backoff(void **state)
{
	(void)state;
	assert_int_equal(replystore_backoff(60, 1), 60);
	assert_int_equal(replystore_backoff(60, 2), 120);
	assert_int_equal(replystore_backoff(60, 3), 240);
	assert_int_equal(replystore_backoff(60, 6), 1920);
	assert_int_equal(replystore_backoff(60, 7), 3600);
	assert_int_equal(replystore_backoff(60, 1000), 3600);
	assert_int_equal(replystore_backoff(1, 1), 1);
	assert_int_equal(replystore_backoff(1, 4), 8);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suppress),
		cmocka_unit_test(test_addr_key),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_unknown_placeholder),
		cmocka_unit_test(test_shipped_templates),
		cmocka_unit_test(test_template_errors),
		cmocka_unit_test(test_html_template),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_ids_and_from),
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_sendmail_exit),
		cmocka_unit_test_setup_teardown(test_store_todo_and_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_rate_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_delivery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_permanent_and_complete, setup, teardown),
		cmocka_unit_test(test_backoff),
	};

	mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
