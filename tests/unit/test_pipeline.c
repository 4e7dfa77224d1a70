/*
 * test_pipeline.c - end-to-end: message bytes to verdict, as complaint-check
 * and the milter run it.
 */
#include "unit.h"
#include "pipeline.h"

static struct rules *rs;
static struct complaint c;
static bool have_c;

static int
setup(void **state)
{
	(void)state;
	if ((rs = unit_rules_load()) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	rules_unref(rs);
	return 0;
}

static int
teardown_each(void **state)
{
	(void)state;
	if (have_c)
		complaint_free(&c);
	have_c = false;
	return 0;
}

/* Run the pipeline on msg with the given action, scan limit and envelope sender. */
static void
run_opts(const char *msg, enum incomplete_action action, size_t max_scan, const char *env)
{
	struct pipeline_opts po;

	memset(&po, 0, sizeof(po));
	po.rules = rs;
	caseid_fmt_init(&po.idf, "CASE", "", false);
	po.max_scan = max_scan;
	po.action = action;
	if (have_c)
		complaint_free(&c);
	assert_int_equal(pipeline_run(&po, msg, strlen(msg), env, &c), 0);
	have_c = true;
	assert_non_null(c.subject);
	assert_non_null(c.from_addr);
}

static void
run(const char *msg)
{
	run_opts(msg, INCOMPLETE_REJECT, 256 * 1024, NULL);
}

static void
one_value(const strlist *sl, const char *want)
{
	assert_int_equal(sl->n, 1);
	assert_string_equal(sl->v[0], want);
}

static const char *
missing(void)
{
	static char buf[128];

	return complaint_missing_str(c.missing, buf, sizeof(buf));
}

static const char COMPLETE_NL[] =
    "From: Jan de Vries <jan.devries@example.nl>\n"
    "To: complaints@example.com\n"
    "Subject: Klacht over omvormer SUN2000-5KTL-L1\n"
    "Message-ID: <p1@example.nl>\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "\n"
    "Geachte heer/mevrouw,\n"
    "\n"
    "Sinds twee weken valt mijn omvormer elke middag uit met foutcode 2032.\n"
    "\n"
    "Model omvormer: SUN2000-5KTL-L1\n"
    "Serienummer: HV2150123456\n"
    "Oplossingsidee: graag een vervangend toestel\n"
    "\n"
    "Met vriendelijke groet,\n"
    "Jan de Vries\n"
    "Tel. 06-12345678\n";

static void
test_complete_product(void **state)
{
	(void)state;
	run(COMPLETE_NL);
	assert_string_equal(c.subject, "Klacht over omvormer SUN2000-5KTL-L1");
	assert_string_equal(c.from_addr, "jan.devries@example.nl");
	assert_string_equal(c.from_name, "Jan de Vries");
	assert_string_equal(c.message_id, "p1@example.nl");
	assert_int_equal(c.kind, KIND_PRODUCT);
	one_value(&c.models, "SUN2000-5KTL-L1");
	one_value(&c.serials, "HV2150123456");
	assert_int_equal(c.tickets.n, 0);
	assert_true(c.description);
	assert_true(c.solution_idea);
	assert_string_equal(missing(), "");
	assert_string_equal(c.language, "nl");
	assert_null(c.case_ref);
	assert_false(c.auto_submitted);
	assert_false(c.review);
	assert_int_equal(c.verdict, VERDICT_ACCEPT);
}

static void
test_service_without_ticket(void **state)
{
	static const char msg[] =
	    "From: Anna <anna@example.de>\nSubject: Beschwerde über den Service\n"
	    "Content-Type: text/plain; charset=utf-8\n\n"
	    "Hallo,\n\nich warte seit sechs Wochen auf den versprochenen Austausch meines Geräts.\n\n"
	    "Viele Grüße\nAnna\n";

	(void)state;
	run(msg);
	assert_int_equal(c.kind, KIND_SERVICE);
	assert_string_equal(missing(), "ticket");
	assert_string_equal(c.language, "de");
	assert_int_equal(c.verdict, VERDICT_REJECT);
	/* the same under IncompleteAction flag / quarantine */
	run_opts(msg, INCOMPLETE_FLAG, 256 * 1024, NULL);
	assert_int_equal(c.verdict, VERDICT_FLAG);
	run_opts(msg, INCOMPLETE_QUARANTINE, 256 * 1024, NULL);
	assert_int_equal(c.verdict, VERDICT_FLAG);
}

static void
test_html_quoted_printable_fr(void **state)
{
	(void)state;
	run("From: Claire <claire@example.fr>\n"
	    "Subject: =?iso-8859-1?q?R=E9clamation_service?=\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/html; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: quoted-printable\n\n"
	    "<p>Bonjour,</p><p>Personne ne m'a rappel=E9e malgr=E9 vos promesses, le technicien n'est =\n"
	    "jamais venu.</p><p>Num=E9ro de ticket : 5521907<br>N=B0 de s=E9rie : 2812 3456</p>"
	    "<p>Cordialement,<br>Claire</p>\n");
	assert_string_equal(c.subject, "Réclamation service");
	assert_int_equal(c.kind, KIND_SERVICE);
	one_value(&c.tickets, "5521907");
	one_value(&c.serials, "28123456");
	assert_true(c.description);
	assert_string_equal(c.language, "fr");
	assert_int_equal(c.verdict, VERDICT_ACCEPT);
}

static void
test_fields_only(void **state)
{
	(void)state;
	run("From: k@example.nl\nSubject: klacht\n\nModel: SE5000H\nSerienummer: 7E123456-8C\n\nGroeten, Kees\n");
	assert_int_equal(c.kind, KIND_PRODUCT);
	assert_false(c.description);
	assert_string_equal(missing(), "description");
	assert_int_equal(c.verdict, VERDICT_REJECT);
}

static void
test_follow_up(void **state)
{
	(void)state;
	run("From: Jan <jan@example.nl>\n"
	    "Subject: Re: AW: [CASE-2026-000123] Klacht over omvormer SUN2000-5KTL-L1\n"
	    "In-Reply-To: <ack-123@example.com>\n\n"
	    "Hierbij alsnog het serienummer: HV2150123456\n\n"
	    "Op 17 nov. 2026 om 10:00 schreef Klachten <complaints@example.com>:\n"
	    "> Wij missen uw ticketnummer TCK-999999.\n");
	assert_string_equal(c.case_ref, "CASE-2026-000123");
	assert_string_equal(c.in_reply_to, "<ack-123@example.com>");
	one_value(&c.serials, "HV2150123456");
	one_value(&c.models, "SUN2000-5KTL-L1");
	assert_int_equal(c.tickets.n, 0);
	assert_string_equal(missing(), "description");
	/* a follow-up is never rejected */
	assert_int_equal(c.verdict, VERDICT_ACCEPT);
}

static void
test_automatic(void **state)
{
	(void)state;
	run("From: Jan <jan@example.nl>\nSubject: Automatisch antwoord: Uw klacht\n"
	    "Auto-Submitted: auto-replied\n\nIk ben afwezig tot en met 30 november.\n");
	assert_true(c.auto_submitted);
	assert_int_equal(c.missing, 0);
	assert_int_equal(c.verdict, VERDICT_ACCEPT);
	/* a null envelope sender online */
	run_opts("From: Mail System <ms@mx.example.org>\nSubject: Message status\n\nNot delivered.\n",
	    INCOMPLETE_REJECT, 256 * 1024, "<>");
	assert_true(c.auto_submitted);
	assert_int_equal(c.verdict, VERDICT_ACCEPT);
	/* the same message from a real sender is a (vague) complaint */
	run_opts("From: Mail System <ms@mx.example.org>\nSubject: Message status\n\nNot delivered.\n",
	    INCOMPLETE_REJECT, 256 * 1024, "ms@mx.example.org");
	assert_false(c.auto_submitted);
	assert_int_equal(c.verdict, VERDICT_REJECT);
}

static void
test_forward_and_outlook_reply(void **state)
{
	(void)state;
	/* an installer forwards the customer's mail as an attachment */
	run("From: Installateur <info@zon.example.nl>\nSubject: Fwd: klacht van klant\n"
	    "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"o\"\n\n"
	    "--o\nContent-Type: text/plain\n\nHieronder de klacht van onze klant.\n\nGroet,\nTeam Zon\n"
	    "--o\nContent-Type: message/rfc822\n\n"
	    "From: A. Visser <a.visser@example.nl>\nSubject: omvormer\n\n"
	    "De omvormer in onze schuur piept de hele nacht. Model: Primo 4.0-1, serienummer 28345678.\n"
	    "--o--\n");
	one_value(&c.models, "Primo 4.0-1");
	one_value(&c.serials, "28345678");
	assert_true(c.description);
	assert_int_equal(c.verdict, VERDICT_ACCEPT);
	/* an Outlook reply: nothing is taken from our own quoted mail */
	run("From: Paul <paul@example.co.uk>\nSubject: RE: [CASE-2026-000456] Your complaint\n\n"
	    "It is two weeks later and the inverter is still completely dead.\n\n"
	    "From: Complaints <complaints@example.com>\nSent: Tuesday, November 3, 2026 10:00 AM\n"
	    "Subject: [CASE-2026-000456] Your complaint\n\n"
	    "Please tell us the serial number of your SE10K.\nSerial number: 7E0000000-00\n");
	assert_string_equal(c.case_ref, "CASE-2026-000456");
	assert_int_equal(c.models.n, 0);
	assert_int_equal(c.serials.n, 0);
	assert_int_equal(c.kind, KIND_UNKNOWN);
	assert_true(c.description);
	assert_string_equal(c.language, "en");
}

static void
test_truncated_is_review(void **state)
{
	char msg[4096];
	size_t n;

	(void)state;
	n = (size_t)snprintf(msg, sizeof(msg), "From: x@example.nl\nSubject: klacht\n\n");
	while (n + 40 < sizeof(msg))
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "De omvormer doet het niet meer. ");
	/* incomplete, but the scan was partial: flagged, never rejected */
	run_opts(msg, INCOMPLETE_REJECT, 100, NULL);
	assert_true(c.review);
	assert_string_equal(missing(), "ticket_or_model");
	assert_int_equal(c.verdict, VERDICT_FLAG);
	/* with room to read it all: rejected */
	run_opts(msg, INCOMPLETE_REJECT, 256 * 1024, NULL);
	assert_false(c.review);
	assert_int_equal(c.verdict, VERDICT_REJECT);
}

static void
test_garbage_in(void **state)
{
	static const char bin[] = "\x00\xff\xfe\x01 Serienummer: 3004123456 \x80\x81\n\n\x00";

	(void)state;
	/* no headers, binary bytes, empty: a result every time */
	run("De omvormer is kapot.\nSerienummer: 3004123456\nModel: SE7K\n");
	one_value(&c.serials, "3004123456");
	one_value(&c.models, "SE7K");
	assert_string_equal(c.subject, "");
	run("");
	assert_int_equal(c.kind, KIND_UNKNOWN);
	assert_false(c.description);
	{
		struct pipeline_opts po;

		memset(&po, 0, sizeof(po));
		po.rules = rs;
		caseid_fmt_init(&po.idf, "CASE", "", false);
		po.max_scan = 1024;
		complaint_free(&c);
		assert_int_equal(pipeline_run(&po, bin, sizeof(bin) - 1, NULL, &c), 0);
		one_value(&c.serials, "3004123456");
	}
}

int
main(void)
{
#define T(f) cmocka_unit_test_teardown(f, teardown_each)
	const struct CMUnitTest tests[] = {
		T(test_complete_product),
		T(test_service_without_ticket),
		T(test_html_quoted_printable_fr),
		T(test_fields_only),
		T(test_follow_up),
		T(test_automatic),
		T(test_forward_and_outlook_reply),
		T(test_truncated_is_review),
		T(test_garbage_in),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
