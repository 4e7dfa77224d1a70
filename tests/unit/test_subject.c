/*
 * test_subject.c - case tags on Subjects, safe header values, reject text.
 */
#include "unit.h"
#include "rules.h"
#include "smtpreply.h"
#include "subject.h"

static struct rules *rs;

static int
setup(void **state)
{
	char err[512];

	(void)state;
	rs = rules_load(RULES_DIR, err, sizeof(err));
	return rs ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	rules_unref(rs);
	return 0;
}

static void
expect_tag(const char *raw, const char *decoded, const char *want)
{
	bool unchanged;
	char *got = subject_tag(raw, decoded, "CASE-2026-000123", rs, &unchanged);

	if (want == NULL) {
		assert_null(got);
		assert_true(unchanged);
		return;
	}
	assert_non_null(got);
	assert_false(unchanged);
	assert_string_equal(got, want);
	free(got);
}

static void
test_tag_plain(void **state)
{
	(void)state;
	expect_tag("Klacht omvormer", "Klacht omvormer", "[CASE-2026-000123] Klacht omvormer");
}

static void
test_tag_after_reply_prefixes(void **state)
{
	(void)state;
	expect_tag("Re: AW: Klacht", "Re: AW: Klacht", "Re: AW: [CASE-2026-000123] Klacht");
	expect_tag("Antw: klacht", "Antw: klacht", "Antw: [CASE-2026-000123] klacht");
	expect_tag("Fwd: Re: x", "Fwd: Re: x", "Fwd: Re: [CASE-2026-000123] x");
	/* "Reklamation" starts with "Re" but is no prefix */
	expect_tag("Reklamation", "Reklamation", "[CASE-2026-000123] Reklamation");
}

static void
test_tag_encoded_word_kept(void **state)
{
	(void)state;
	expect_tag("=?iso-8859-1?q?R=E9clamation_service?=", "Réclamation service",
	    "[CASE-2026-000123] =?iso-8859-1?q?R=E9clamation_service?=");
}

static void
test_tag_once(void **state)
{
	(void)state;
	expect_tag("Re: [CASE-2026-000123] Klacht", "Re: [CASE-2026-000123] Klacht", NULL);
	/* the reference in any case counts: case-2026-000123 */
	expect_tag("re: case-2026-000123", "re: case-2026-000123", NULL);
	/* another case's tag does not stop ours */
	expect_tag("[CASE-2026-000001] x", "[CASE-2026-000001] x",
	    "[CASE-2026-000123] [CASE-2026-000001] x");
}

static void
test_tag_missing_subject(void **state)
{
	(void)state;
	expect_tag(NULL, "", "[CASE-2026-000123]");
	expect_tag("", "", "[CASE-2026-000123]");
}

static void
test_tag_long_subject_folds(void **state)
{
	char raw[1200];
	bool unchanged;
	char *got;

	(void)state;
	memset(raw, 'a', sizeof(raw) - 1);
	raw[sizeof(raw) - 1] = '\0';
	got = subject_tag(raw, raw, "CASE-2026-000123", rs, &unchanged);
	assert_non_null(got);
	/* the tag line is short, the rest follows on a folded line */
	assert_true(strncmp(got, "[CASE-2026-000123]\n\t", 20) == 0);
	assert_int_equal(strlen(got), strlen(raw) + 20);
	free(got);
}

static void
test_header_value_safe(void **state)
{
	char *v;
	char big[1000];

	(void)state;
	v = header_value_safe("SB5.0\r\nBcc: victim@example.com");
	assert_string_equal(v, "SB5.0 Bcc: victim@example.com");
	free(v);
	v = header_value_safe("  a\t\tb \x01 c  ");
	assert_string_equal(v, "a b c");
	free(v);
	v = header_value_safe("Müller");
	assert_non_null(strcasestr(v, "=?utf-8?"));
	assert_null(strchr(v, '\n'));
	free(v);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	v = header_value_safe(big);
	assert_int_equal(strlen(v), HEADER_VALUE_MAX);
	free(v);
	v = header_value_safe("100%");
	assert_string_equal(v, "100%");
	free(v);
}

static void
test_header_value_cut_in_utf8(void **state)
{
	char in[HEADER_VALUE_MAX + 8];
	char *v;

	(void)state;
	memset(in, 'x', sizeof(in));
	/* a two-byte é straddling the limit must not be cut in half */
	in[HEADER_VALUE_MAX - 1] = (char)0xC3;
	in[HEADER_VALUE_MAX] = (char)0xA9;
	in[sizeof(in) - 1] = '\0';
	v = header_value_safe(in);
	assert_non_null(v);
	assert_null(strstr(v, "\xef\xbf\xbd"));	/* no U+FFFD */
	free(v);
}

static void
test_reject_text(void **state)
{
	struct complaint c;
	char lines[16][SMTPREPLY_LINE_MAX];
	int n;

	(void)state;
	complaint_init(&c);
	c.kind = KIND_PRODUCT;
	c.missing = MISSING_MODEL | MISSING_DESCRIPTION;
	strcpy(c.language, "de");
	n = smtpreply_incomplete(&c, lines, 16);
	assert_int_equal(n, 8);
	assert_non_null(strstr(lines[1], "das Modell des Wechselrichters"));
	assert_non_null(strstr(lines[1], "eine Beschreibung des Problems"));
	assert_non_null(strstr(lines[5], "Missing: the inverter model, a description of the problem."));
	for (int i = 0; i < n; i++)
		for (const char *p = lines[i]; *p; p++)
			assert_true((unsigned char)*p < 0x80 && *p != '%');
	/* English only when the language is English or unknown */
	c.language[0] = '\0';
	c.kind = KIND_SERVICE;
	c.missing = MISSING_TICKET;
	n = smtpreply_incomplete(&c, lines, 16);
	assert_int_equal(n, 4);
	assert_string_equal(lines[1], "Missing: the service desk ticket number.");
	complaint_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tag_plain),
		cmocka_unit_test(test_tag_after_reply_prefixes),
		cmocka_unit_test(test_tag_encoded_word_kept),
		cmocka_unit_test(test_tag_once),
		cmocka_unit_test(test_tag_missing_subject),
		cmocka_unit_test(test_tag_long_subject_folds),
		cmocka_unit_test(test_header_value_safe),
		cmocka_unit_test(test_header_value_cut_in_utf8),
		cmocka_unit_test(test_reject_text),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
