/*
 * test_verdict.c - unit tests of automatic-mail detection and of the policy:
 * kind, missing fields and the verdict under each IncompleteAction.
 */
#include "unit.h"
#include "verdict.h"

static struct rules *rs;
static struct rscan sc;

static int
setup(void **state)
{
	(void)state;
	if ((rs = unit_rules_load()) == NULL)
		return -1;
	return rscan_init(&sc);
}

static int
teardown(void **state)
{
	(void)state;
	rscan_free(&sc);
	rules_unref(rs);
	return 0;
}

/* An ordinary customer's message: no header says it is automatic. */
static void
mt_plain(struct msgtext *mt)
{
	memset(mt, 0, sizeof(*mt));
	mt->subject = "Klacht over omvormer";
	mt->from_addr = "jan@example.nl";
	mt->from_name = "Jan";
	mt->message_id = "1@example.nl";
	mt->in_reply_to = "";
	mt->return_path = "<jan@example.nl>";
	mt->auto_submitted = "";
	mt->precedence = "";
}

static bool
automatic(const struct msgtext *mt, const char *envelope_from)
{
	return verdict_is_automatic(mt, envelope_from, rs, &sc);
}

static void
test_ordinary_mail(void **state)
{
	struct msgtext mt;

	(void)state;
	mt_plain(&mt);
	assert_false(automatic(&mt, NULL));
	assert_false(automatic(&mt, "jan@example.nl"));
	assert_false(automatic(&mt, "<jan@example.nl>"));
	mt.return_path = "";
	assert_false(automatic(&mt, NULL));
}

static void
test_auto_submitted(void **state)
{
	struct msgtext mt;

	(void)state;
	mt_plain(&mt);
	mt.auto_submitted = "auto-replied";
	assert_true(automatic(&mt, NULL));
	mt.auto_submitted = "auto-generated; owner-email=\"x@y\"";
	assert_true(automatic(&mt, NULL));
	mt.auto_submitted = "no";
	assert_false(automatic(&mt, NULL));
	mt.auto_submitted = "No (comment)";
	assert_false(automatic(&mt, NULL));
	mt.auto_submitted = "notification";
	assert_true(automatic(&mt, NULL));
}

static void
test_precedence(void **state)
{
	struct msgtext mt;

	(void)state;
	mt_plain(&mt);
	mt.precedence = "bulk";
	assert_true(automatic(&mt, NULL));
	mt.precedence = "Junk";
	assert_true(automatic(&mt, NULL));
	mt.precedence = " list";
	assert_true(automatic(&mt, NULL));
	mt.precedence = "first-class";
	assert_false(automatic(&mt, NULL));
	mt.precedence = "bulky";
	assert_false(automatic(&mt, NULL));
}

static void
test_header_flags(void **state)
{
	struct msgtext mt;

	(void)state;
	mt_plain(&mt);
	mt.has_list_headers = true;
	assert_true(automatic(&mt, NULL));
	mt_plain(&mt);
	mt.has_autoreply_header = true;
	assert_true(automatic(&mt, NULL));
	mt_plain(&mt);
	mt.is_report = true;
	assert_true(automatic(&mt, NULL));
}

static void
test_null_sender(void **state)
{
	struct msgtext mt;

	(void)state;
	mt_plain(&mt);
	/* offline: the Return-Path */
	mt.return_path = "<>";
	assert_true(automatic(&mt, NULL));
	mt.return_path = " <> ";
	assert_true(automatic(&mt, NULL));
	/* online: the envelope sender, whatever Return-Path says */
	assert_false(automatic(&mt, "jan@example.nl"));
	mt_plain(&mt);
	assert_true(automatic(&mt, ""));
	assert_true(automatic(&mt, "<>"));
}

static void
test_auto_senders(void **state)
{
	struct msgtext mt;

	(void)state;
	mt_plain(&mt);
	mt.from_addr = "MAILER-DAEMON@mx.example.net";
	assert_true(automatic(&mt, NULL));
	mt.from_addr = "postmaster@example.org";
	assert_true(automatic(&mt, NULL));
	mt.from_addr = "noreply@portal.example.com";
	assert_true(automatic(&mt, NULL));
	mt.from_addr = "bounces+12345@lists.example.org";
	assert_true(automatic(&mt, NULL));
	/* the whole local part must match */
	mt.from_addr = "postmaster-team@example.org";
	assert_false(automatic(&mt, NULL));
	mt.from_addr = "jan.postmaster@example.org";
	assert_false(automatic(&mt, NULL));
	/* the envelope sender, and offline the Return-Path, count too */
	mt_plain(&mt);
	assert_true(automatic(&mt, "<MAILER-DAEMON@mx.example.net>"));
	mt.return_path = "<MAILER-DAEMON@mx.example.net>";
	assert_true(automatic(&mt, NULL));
	mt.return_path = "<mailer-daemon>";
	assert_true(automatic(&mt, NULL));
}

static void
test_auto_subjects(void **state)
{
	static const char *const yes[] = {
		"Automatisch antwoord: Uw klacht", "Out of Office: klacht",
		"Automatic reply: [CASE-2026-000123] Your complaint", "Abwesenheitsnotiz: Reklamation",
		"Automatische Antwort: Ihre Reklamation", "Réponse automatique : Votre réclamation",
		"Undelivered Mail Returned to Sender", "Undeliverable: Klacht over omvormer",
		"Onbestelbaar: Klacht", "Delivery Status Notification (Failure)",
		"Mail delivery failed: returning message to sender", "failure notice",
		"Unzustellbar: Reklamation", "Afwezig: klacht",
	};
	static const char *const no[] = {
		"Klacht over omvormer", "Re: out of office hours the inverter beeps",
		"Mijn afwezigheid", "Delivery was damaged",
	};
	struct msgtext mt;

	(void)state;
	mt_plain(&mt);
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		mt.subject = (char *)yes[i];
		if (!automatic(&mt, NULL))
			fail_msg("\"%s\" not automatic", yes[i]);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		mt.subject = (char *)no[i];
		if (automatic(&mt, NULL))
			fail_msg("\"%s\" automatic", no[i]);
	}
}

/* ---- verdict_decide ---- */

/*
 * A complaint with the given fields: explicit kind, tickets, models,
 * description, case reference, review and automatic flags.
 */
static void
decide(struct complaint *c, enum complaint_kind explicit_kind, int tickets, int models,
    bool description, const char *case_ref, bool review, bool automatic_mail,
    enum incomplete_action action)
{
	complaint_free(c);
	c->explicit_kind = explicit_kind;
	for (int i = 0; i < tickets; i++)
		assert_int_equal(sl_add(&c->tickets, i ? "TCK-000002" : "TCK-000001"), 0);
	for (int i = 0; i < models; i++)
		assert_int_equal(sl_add(&c->models, i ? "SE10K" : "SE5000H"), 0);
	c->description = description;
	c->case_ref = case_ref ? strdup(case_ref) : NULL;
	c->review = review;
	c->auto_submitted = automatic_mail;
	verdict_decide(c, action);
}

static void
missing_is(const struct complaint *c, const char *want)
{
	char buf[128];

	assert_string_equal(complaint_missing_str(c->missing, buf, sizeof(buf)), want);
}

static void
test_kind_precedence(void **state)
{
	struct complaint c;

	(void)state;
	complaint_init(&c);
	/* what the text says wins */
	decide(&c, KIND_SERVICE, 0, 1, true, NULL, false, false, INCOMPLETE_REJECT);
	assert_int_equal(c.kind, KIND_SERVICE);
	decide(&c, KIND_PRODUCT, 1, 0, true, NULL, false, false, INCOMPLETE_REJECT);
	assert_int_equal(c.kind, KIND_PRODUCT);
	/* else a ticket before a model */
	decide(&c, KIND_UNKNOWN, 1, 1, true, NULL, false, false, INCOMPLETE_REJECT);
	assert_int_equal(c.kind, KIND_SERVICE);
	decide(&c, KIND_UNKNOWN, 0, 2, true, NULL, false, false, INCOMPLETE_REJECT);
	assert_int_equal(c.kind, KIND_PRODUCT);
	decide(&c, KIND_UNKNOWN, 0, 0, true, NULL, false, false, INCOMPLETE_REJECT);
	assert_int_equal(c.kind, KIND_UNKNOWN);
	/* automatic mail still gets a kind */
	decide(&c, KIND_UNKNOWN, 0, 1, false, NULL, false, true, INCOMPLETE_REJECT);
	assert_int_equal(c.kind, KIND_PRODUCT);
	complaint_free(&c);
}

static void
test_missing_combinations(void **state)
{
	struct complaint c;

	(void)state;
	complaint_init(&c);
	decide(&c, KIND_SERVICE, 1, 0, true, NULL, false, false, INCOMPLETE_REJECT);
	missing_is(&c, "");
	decide(&c, KIND_SERVICE, 0, 1, true, NULL, false, false, INCOMPLETE_REJECT);
	missing_is(&c, "ticket");
	decide(&c, KIND_SERVICE, 0, 0, false, NULL, false, false, INCOMPLETE_REJECT);
	missing_is(&c, "ticket,description");
	decide(&c, KIND_PRODUCT, 1, 0, true, NULL, false, false, INCOMPLETE_REJECT);
	missing_is(&c, "model");
	decide(&c, KIND_PRODUCT, 0, 1, false, NULL, false, false, INCOMPLETE_REJECT);
	missing_is(&c, "description");
	decide(&c, KIND_UNKNOWN, 0, 0, true, NULL, false, false, INCOMPLETE_REJECT);
	missing_is(&c, "ticket_or_model");
	decide(&c, KIND_UNKNOWN, 0, 0, false, NULL, false, false, INCOMPLETE_REJECT);
	missing_is(&c, "ticket_or_model,description");
	decide(&c, KIND_UNKNOWN, 0, 1, true, NULL, false, false, INCOMPLETE_REJECT);
	missing_is(&c, "");
	/* automatic mail is never asked for anything */
	decide(&c, KIND_UNKNOWN, 0, 0, false, NULL, false, true, INCOMPLETE_REJECT);
	assert_int_equal(c.missing, 0);
	assert_int_equal(c.verdict, VERDICT_ACCEPT);
	complaint_free(&c);
}

static void
test_actions(void **state)
{
	struct complaint c;

	(void)state;
	complaint_init(&c);
	/* complete: accepted under every action */
	for (int a = INCOMPLETE_REJECT; a <= INCOMPLETE_QUARANTINE; a++) {
		decide(&c, KIND_UNKNOWN, 1, 0, true, NULL, false, false, (enum incomplete_action)a);
		assert_int_equal(c.verdict, VERDICT_ACCEPT);
	}
	/* incomplete */
	decide(&c, KIND_SERVICE, 0, 0, true, NULL, false, false, INCOMPLETE_REJECT);
	assert_int_equal(c.verdict, VERDICT_REJECT);
	decide(&c, KIND_SERVICE, 0, 0, true, NULL, false, false, INCOMPLETE_FLAG);
	assert_int_equal(c.verdict, VERDICT_FLAG);
	decide(&c, KIND_SERVICE, 0, 0, true, NULL, false, false, INCOMPLETE_QUARANTINE);
	assert_int_equal(c.verdict, VERDICT_FLAG);
	decide(&c, KIND_PRODUCT, 0, 1, false, NULL, false, false, INCOMPLETE_REJECT);
	assert_int_equal(c.verdict, VERDICT_REJECT);
	assert_string_equal(verdict_name(c.verdict), "reject");
	complaint_free(&c);
}

static void
test_review_never_rejects(void **state)
{
	struct complaint c;

	(void)state;
	complaint_init(&c);
	decide(&c, KIND_UNKNOWN, 0, 0, false, NULL, true, false, INCOMPLETE_REJECT);
	assert_int_equal(c.verdict, VERDICT_FLAG);
	missing_is(&c, "ticket_or_model,description");
	decide(&c, KIND_UNKNOWN, 0, 0, false, NULL, true, false, INCOMPLETE_QUARANTINE);
	assert_int_equal(c.verdict, VERDICT_FLAG);
	/* a complete one is still accepted */
	decide(&c, KIND_UNKNOWN, 0, 1, true, NULL, true, false, INCOMPLETE_REJECT);
	assert_int_equal(c.verdict, VERDICT_ACCEPT);
	complaint_free(&c);
}

static void
test_follow_up_accepted(void **state)
{
	struct complaint c;

	(void)state;
	complaint_init(&c);
	/* a follow-up lacking everything is accepted, and still says what is missing */
	decide(&c, KIND_UNKNOWN, 0, 0, false, "CASE-2026-000123", false, false, INCOMPLETE_REJECT);
	assert_int_equal(c.verdict, VERDICT_ACCEPT);
	missing_is(&c, "ticket_or_model,description");
	decide(&c, KIND_SERVICE, 0, 0, true, "CASE-2026-000123", false, false, INCOMPLETE_FLAG);
	assert_int_equal(c.verdict, VERDICT_ACCEPT);
	missing_is(&c, "ticket");
	complaint_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ordinary_mail),
		cmocka_unit_test(test_auto_submitted),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_header_flags),
		cmocka_unit_test(test_null_sender),
		cmocka_unit_test(test_auto_senders),
		cmocka_unit_test(test_auto_subjects),
		cmocka_unit_test(test_kind_precedence),
		cmocka_unit_test(test_missing_combinations),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_review_never_rejects),
		cmocka_unit_test(test_follow_up_accepted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
