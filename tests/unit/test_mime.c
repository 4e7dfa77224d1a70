/*
 * test_mime.c - unit tests of mime_parse(): structure, transfer encodings,
 * charsets, headers and the scan limit.
 */
#include "unit.h"
#include "mime.h"
#include "util.h"

#include <glib.h>

#define MAX_SCAN (256 * 1024)

static struct msgtext mt;

static int
setup(void **state)
{
	(void)state;
	mime_init();
	return 0;
}

static int
teardown_each(void **state)
{
	(void)state;
	msgtext_free(&mt);
	return 0;
}

/* Parse a NUL-terminated message into the file's mt. */
static void
parse_max(const char *msg, size_t max_scan)
{
	msgtext_free(&mt);
	assert_int_equal(mime_parse(msg, strlen(msg), max_scan, &mt), 0);
	assert_non_null(mt.subject);
	assert_non_null(mt.from_addr);
	for (size_t i = 0; i < mt.nparts; i++) {
		assert_non_null(mt.parts[i].text);
		assert_int_equal(strlen(mt.parts[i].text), mt.parts[i].len);
		assert_true(g_utf8_validate(mt.parts[i].text, (gssize)mt.parts[i].len, NULL));
		assert_null(strchr(mt.parts[i].text, '\r'));
	}
}

static void
parse(const char *msg)
{
	parse_max(msg, MAX_SCAN);
}

/* Part i contains needle. */
static void
part_has(size_t i, const char *needle)
{
	assert_true(i < mt.nparts);
	if (strstr(mt.parts[i].text, needle) == NULL)
		fail_msg("part %zu \"%s\" lacks \"%s\"", i, mt.parts[i].text, needle);
}

/* No part contains needle. */
static void
nowhere(const char *needle)
{
	for (size_t i = 0; i < mt.nparts; i++)
		if (strstr(mt.parts[i].text, needle) != NULL)
			fail_msg("part %zu has \"%s\"", i, needle);
}

#define HDRS "From: Jan de Vries <jan@example.nl>\nTo: complaints@example.com\n" \
	"Subject: Klacht\nMIME-Version: 1.0\n"

static void
test_plain_8bit(void **state)
{
	(void)state;
	parse(HDRS "Content-Type: text/plain; charset=utf-8\n"
	    "Message-ID: <abc.1@example.nl>\nIn-Reply-To: <x@y>\n\n"
	    "Hallo, de omvormer is kapot. Grüße\n");
	assert_int_equal(mt.nparts, 1);
	assert_false(mt.no_headers);
	assert_false(mt.truncated);
	assert_string_equal(mt.subject, "Klacht");
	assert_string_equal(mt.from_addr, "jan@example.nl");
	assert_string_equal(mt.from_name, "Jan de Vries");
	assert_string_equal(mt.message_id, "abc.1@example.nl");
	assert_string_equal(mt.in_reply_to, "<x@y>");
	assert_string_equal(mt.parts[0].text, "Hallo, de omvormer is kapot. Grüße\n");
	assert_false(mt.parts[0].forwarded);
	assert_false(mt.parts[0].from_html);
	assert_int_equal(mt.text_bytes, mt.parts[0].len);
}

static void
test_crlf(void **state)
{
	(void)state;
	parse("Subject: crlf\r\nContent-Type: text/plain\r\n\r\nregel een\r\nregel twee\r\n");
	assert_int_equal(mt.nparts, 1);
	assert_string_equal(mt.parts[0].text, "regel een\nregel twee\n");
}

static void
test_base64(void **state)
{
	(void)state;
	/* "Serienummer: HV2150123456\nGroet\n" */
	parse(HDRS "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
	    "U2VyaWVudW1tZXI6IEhWMjE1MDEyMzQ1NgpHcm9ldAo=\n");
	assert_int_equal(mt.nparts, 1);
	assert_string_equal(mt.parts[0].text, "Serienummer: HV2150123456\nGroet\n");
}

static void
test_qp_soft_breaks(void **state)
{
	(void)state;
	parse(HDRS "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "Model: SUN2000-10KTL-M1 Serienummer: HV21=\n50765432\n"
	    "na een regenb=\nui. Gr=C3=BC=C3=9Fe =3D gelijk\n");
	part_has(0, "Serienummer: HV2150765432\n");
	part_has(0, "na een regenbui. Grüße = gelijk");
}

static void
test_cp1252(void **state)
{
	(void)state;
	/* 0x80 is the euro sign in windows-1252 only */
	parse(HDRS "Content-Type: text/plain; charset=windows-1252\nContent-Transfer-Encoding: 8bit\n\n"
	    "Wij hebben \x80 450 gemist, \x93helaas\x94.\n");
	part_has(0, "Wij hebben € 450 gemist, “helaas”.");
}

static void
test_latin1(void **state)
{
	(void)state;
	parse(HDRS "Content-Type: text/plain; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "Mit freundlichen Gr=FC=DFen, num=E9ro de s=E9rie\n");
	part_has(0, "Mit freundlichen Grüßen, numéro de série");
}

static void
test_unknown_charset_falls_back(void **state)
{
	(void)state;
	/* an unknown charset with UTF-8 bytes: kept as UTF-8 */
	parse(HDRS "Content-Type: text/plain; charset=x-foo\n\nOnduleur défectueux\n");
	part_has(0, "Onduleur défectueux");
	/* an unknown charset with latin-1 bytes: windows-1252, never a failure */
	parse(HDRS "Content-Type: text/plain; charset=x-foo\n\nOnduleur d\xe9\x66\x65\x63tueux\n");
	part_has(0, "Onduleur défectueux");
	/* a charset name that is garbage */
	parse(HDRS "Content-Type: text/plain; charset=\"\x01\xff\"\n\nabc\n");
	part_has(0, "abc");
}

static void
test_invalid_utf8(void **state)
{
	(void)state;
	/* declared UTF-8 but not: the part still comes out as valid UTF-8 */
	parse(HDRS "Content-Type: text/plain; charset=utf-8\n\nabc \xff\xfe\xc3 def\n");
	part_has(0, "abc ");
	part_has(0, " def");
	/* NUL bytes do not cut the text */
	{
		static const char msg[] = HDRS "Content-Type: text/plain\n\nvoor\0na\n";

		msgtext_free(&mt);
		assert_int_equal(mime_parse(msg, sizeof(msg) - 1, MAX_SCAN, &mt), 0);
		assert_int_equal(mt.nparts, 1);
		assert_string_equal(mt.parts[0].text, "voor na\n");
	}
}

static void
test_rfc2047_headers(void **state)
{
	(void)state;
	parse("From: =?iso-8859-1?q?Ren=E9_M=FCller?= <rene@example.de>\n"
	    "Subject: =?iso-8859-1?q?R=E9clamation_service?= =?utf-8?b?4oCTIFNFNUs=?=\n"
	    "Content-Type: text/plain\n\nx\n");
	assert_string_equal(mt.subject, "Réclamation service– SE5K");
	assert_string_equal(mt.from_name, "René Müller");
	assert_string_equal(mt.from_addr, "rene@example.de");
}

static void
test_raw_8bit_subject(void **state)
{
	(void)state;
	/* raw UTF-8 */
	parse("Subject: Klacht: omvormer PLENTICORE plus 10 maakt zoemgeluid ’s nachts\n"
	    "Content-Type: text/plain\n\nx\n");
	assert_string_equal(mt.subject, "Klacht: omvormer PLENTICORE plus 10 maakt zoemgeluid ’s nachts");
	/* raw latin-1 */
	parse("Subject: R\xe9\x63lamation produit \xe0 Li\xe8ge\nContent-Type: text/plain\n\nx\n");
	assert_string_equal(mt.subject, "Réclamation produit à Liège");
	/* a folded Subject is one line */
	parse("Subject: Klacht over\n\tomvormer\nContent-Type: text/plain\n\nx\n");
	assert_null(strchr(mt.subject, '\n'));
	assert_non_null(strstr(mt.subject, "omvormer"));
}

static void
test_html_only(void **state)
{
	(void)state;
	parse(HDRS "Content-Type: text/html; charset=utf-8\n\n"
	    "<html><body><p>Hallo,</p><p>Model: SE5000H<br>Serienummer: 7E123456-8C</p>"
	    "<script>var x = 'SE10K';</script></body></html>\n");
	assert_int_equal(mt.nparts, 1);
	assert_true(mt.parts[0].from_html);
	part_has(0, "Hallo,\n\nModel: SE5000H\nSerienummer: 7E123456-8C");
	nowhere("<p>");
	nowhere("SE10K");
}

static void
test_alternative_prefers_plain(void **state)
{
	(void)state;
	parse(HDRS "Content-Type: multipart/alternative; boundary=\"b\"\n\n"
	    "--b\nContent-Type: text/plain; charset=utf-8\n\nPLAIN versie\n"
	    "--b\nContent-Type: text/html; charset=utf-8\n\n<p>HTML versie</p>\n"
	    "--b--\n");
	assert_int_equal(mt.nparts, 1);
	assert_false(mt.parts[0].from_html);
	part_has(0, "PLAIN versie");
	nowhere("HTML versie");
}

static void
test_empty_plain_uses_html(void **state)
{
	(void)state;
	parse(HDRS "Content-Type: multipart/alternative; boundary=\"b\"\n\n"
	    "--b\nContent-Type: text/plain; charset=utf-8\n\n  \n\n"
	    "--b\nContent-Type: text/html; charset=utf-8\n\n<p>Alleen in HTML</p>\n"
	    "--b--\n");
	assert_int_equal(mt.nparts, 1);
	assert_true(mt.parts[0].from_html);
	part_has(0, "Alleen in HTML");
}

static void
test_rfc822_forward(void **state)
{
	(void)state;
	parse("From: Installateur <info@zon.example.nl>\nSubject: Fwd: klacht\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"o\"\n\n"
	    "--o\nContent-Type: text/plain\n\nHieronder de klacht.\n"
	    "--o\nContent-Type: message/rfc822\n\n"
	    "From: Klant <klant@example.nl>\nSubject: omvormer\n"
	    "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
	    "Mod=\nel: Primo 4.0-1, caf=E9\n"
	    "--o--\n");
	assert_int_equal(mt.nparts, 2);
	assert_false(mt.parts[0].forwarded);
	part_has(0, "Hieronder de klacht.");
	assert_true(mt.parts[1].forwarded);
	part_has(1, "Model: Primo 4.0-1, café");
	/* the outer headers are the message's */
	assert_string_equal(mt.subject, "Fwd: klacht");
	assert_string_equal(mt.from_addr, "info@zon.example.nl");
	/*
	 * Parts keep their order of appearance, and each message level chooses
	 * plain or HTML for itself: the outer one has only HTML, the forward both.
	 */
	parse("Subject: Fwd: klacht\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"o\"\n\n"
	    "--o\nContent-Type: text/html\n\n<p>EERSTE tekst</p>\n"
	    "--o\nContent-Type: message/rfc822\n\n"
	    "Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"i\"\n\n"
	    "--i\nContent-Type: text/plain\n\nTWEEDE plain\n"
	    "--i\nContent-Type: text/html\n\n<p>TWEEDE html</p>\n--i--\n"
	    "--o\nContent-Type: text/html\n\n<p>DERDE tekst</p>\n"
	    "--o--\n");
	assert_int_equal(mt.nparts, 3);
	part_has(0, "EERSTE");
	assert_true(mt.parts[0].from_html);
	assert_false(mt.parts[0].forwarded);
	part_has(1, "TWEEDE plain");
	assert_false(mt.parts[1].from_html);
	assert_true(mt.parts[1].forwarded);
	part_has(2, "DERDE");
	assert_false(mt.parts[2].forwarded);
	nowhere("TWEEDE html");
}

static void
test_attachments_skipped(void **state)
{
	(void)state;
	parse(HDRS "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
	    "--b\nContent-Type: text/plain\n\nZie de bijlage.\n"
	    "--b\nContent-Type: text/plain; name=\"log.txt\"\nContent-Disposition: attachment; filename=\"log.txt\"\n\n"
	    "Serienummer: 9999999999\n"
	    "--b\nContent-Type: image/jpeg\nContent-Transfer-Encoding: base64\n\n/9j/4AAQSkZJRgABAQ==\n"
	    "--b\nContent-Type: application/pdf\n\n%PDF-1.4 Serienummer 8888\n"
	    "--b--\n");
	assert_int_equal(mt.nparts, 1);
	part_has(0, "Zie de bijlage.");
	nowhere("9999999999");
	nowhere("PDF");
}

static void
test_depth_cap(void **state)
{
	strbuf sb;
	int depth = 100;

	(void)state;
	sb_init(&sb);
	assert_int_equal(sb_puts(&sb, HDRS "Content-Type: multipart/mixed; boundary=\"b0\"\n\n"), 0);
	for (int i = 0; i < depth; i++) {
		assert_int_equal(sb_printf(&sb, "--b%d\nContent-Type: text/plain\n\nlevel %d text\n", i, i), 0);
		assert_int_equal(sb_printf(&sb, "--b%d\nContent-Type: multipart/mixed; boundary=\"b%d\"\n\n",
		    i, i + 1), 0);
	}
	assert_int_equal(sb_printf(&sb, "--b%d\nContent-Type: text/plain\n\nDEEPEST text\n--b%d--\n",
	    depth, depth), 0);
	for (int i = depth - 1; i >= 0; i--)
		assert_int_equal(sb_printf(&sb, "--b%d--\n", i), 0);
	parse(sb.s);
	sb_free(&sb);
	/* the outer levels are read, the ones past the cap are not */
	assert_true(mt.nparts >= 2);
	assert_true(mt.nparts < 50);
	part_has(0, "level 0 text");
	nowhere("DEEPEST");
	nowhere("level 99 text");
}

static void
test_mbox_from_line(void **state)
{
	(void)state;
	parse("From jan@example.nl Tue Nov 17 10:00:00 2026\n"
	    "From: Jan <jan@example.nl>\nSubject: Met envelop\nContent-Type: text/plain\n\nDe tekst.\n");
	assert_false(mt.no_headers);
	assert_string_equal(mt.subject, "Met envelop");
	assert_string_equal(mt.from_addr, "jan@example.nl");
	assert_int_equal(mt.nparts, 1);
	assert_string_equal(mt.parts[0].text, "De tekst.\n");
}

static void
test_no_headers(void **state)
{
	(void)state;
	parse("Gewoon wat tekst zonder headers.\nSerienummer: 3004123456\n");
	assert_true(mt.no_headers);
	assert_string_equal(mt.subject, "");
	assert_string_equal(mt.from_addr, "");
	assert_string_equal(mt.return_path, "");
	assert_int_equal(mt.nparts, 1);
	part_has(0, "Serienummer: 3004123456");
	/* nothing at all */
	msgtext_free(&mt);
	assert_int_equal(mime_parse("", 0, MAX_SCAN, &mt), 0);
	assert_string_equal(mt.subject, "");
	/* headers only */
	parse("Subject: alleen headers\n");
	assert_string_equal(mt.subject, "alleen headers");
	assert_int_equal(mt.nparts, 0);
}

static void
test_truncation(void **state)
{
	strbuf sb;

	(void)state;
	sb_init(&sb);
	assert_int_equal(sb_puts(&sb, HDRS "Content-Type: text/plain; charset=utf-8\n\n"), 0);
	for (int i = 0; i < 200; i++)
		assert_int_equal(sb_puts(&sb, "é"), 0);
	assert_int_equal(sb_puts(&sb, "\nEINDE\n"), 0);
	/* an odd limit: the cut falls inside a two-byte character and moves back */
	parse_max(sb.s, 101);
	assert_true(mt.truncated);
	assert_int_equal(mt.nparts, 1);
	assert_int_equal(mt.parts[0].len, 100);
	assert_true(mt.text_bytes <= 101);
	nowhere("EINDE");
	/* a limit that is not reached */
	parse_max(sb.s, 10000);
	assert_false(mt.truncated);
	part_has(0, "EINDE");
	sb_free(&sb);
	/* a second part past the limit is dropped and marks truncation */
	parse_max(HDRS "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
	    "--b\nContent-Type: text/plain\n\n0123456789\n"
	    "--b\nContent-Type: message/rfc822\n\nSubject: x\n\nTWEEDE deel\n--b--\n", 10);
	assert_true(mt.truncated);
	assert_int_equal(mt.nparts, 1);
	assert_string_equal(mt.parts[0].text, "0123456789");
	nowhere("TWEEDE");
}

static void
test_automatic_headers(void **state)
{
	(void)state;
	parse("Return-Path: <>\nFrom: MAILER-DAEMON@mx.example.net\nSubject: Undelivered Mail\n"
	    "Auto-Submitted: auto-replied\nPrecedence: bulk\nList-Id: <x.example.org>\n"
	    "X-Autoreply: yes\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\n\n"
	    "--r\nContent-Type: text/plain\n\nNot delivered.\n"
	    "--r\nContent-Type: message/delivery-status\n\nAction: failed\n--r--\n");
	assert_string_equal(mt.return_path, "<>");
	assert_string_equal(mt.auto_submitted, "auto-replied");
	assert_string_equal(mt.precedence, "bulk");
	assert_true(mt.has_list_headers);
	assert_true(mt.has_autoreply_header);
	assert_true(mt.is_report);
	part_has(0, "Not delivered.");
	nowhere("Action: failed");
	/* an ordinary message has none of them */
	parse(HDRS "Content-Type: text/plain\n\nx\n");
	assert_string_equal(mt.return_path, "");
	assert_string_equal(mt.auto_submitted, "");
	assert_string_equal(mt.precedence, "");
	assert_false(mt.has_list_headers);
	assert_false(mt.has_autoreply_header);
	assert_false(mt.is_report);
	/* List-Unsubscribe alone is a list header */
	parse("Subject: nieuws\nList-Unsubscribe: <mailto:u@example.org>\n\nx\n");
	assert_true(mt.has_list_headers);
}

int
main(void)
{
#define T(f) cmocka_unit_test_teardown(f, teardown_each)
	const struct CMUnitTest tests[] = {
		T(test_plain_8bit),
		T(test_crlf),
		T(test_base64),
		T(test_qp_soft_breaks),
		T(test_cp1252),
		T(test_latin1),
		T(test_unknown_charset_falls_back),
		T(test_invalid_utf8),
		T(test_rfc2047_headers),
		T(test_raw_8bit_subject),
		T(test_html_only),
		T(test_alternative_prefers_plain),
		T(test_empty_plain_uses_html),
		T(test_rfc822_forward),
		T(test_attachments_skipped),
		T(test_depth_cap),
		T(test_mbox_from_line),
		T(test_no_headers),
		T(test_truncation),
		T(test_automatic_headers),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
