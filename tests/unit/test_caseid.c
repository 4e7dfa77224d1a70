/*
 * test_caseid.c - unit tests of the case ID format: format, parse, find.
 */
#include "unit.h"
#include "caseid.h"

static void
fmt(struct caseid_fmt *f, const char *prefix, const char *node, bool check)
{
	caseid_fmt_init(f, prefix, node, check);
}

/* Format year/seq and compare with want. */
static void
check_format(const struct caseid_fmt *f, int year, unsigned long long seq, const char *want)
{
	char out[CASEID_MAX];

	assert_int_equal(caseid_format(f, year, seq, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

/* Parse id; expect rc and, when 0, year and seq. */
static void
check_parse(const struct caseid_fmt *f, const char *id, int rc, int year, unsigned long long seq)
{
	int y = -1;
	unsigned long long q = 0;

	assert_int_equal(caseid_parse(f, id, &y, &q), rc);
	if (rc == 0) {
		assert_int_equal(y, year);
		assert_true(q == seq);
	}
}

/* Find in s; want NULL means none. */
static void
check_find(const struct caseid_fmt *f, const char *s, const char *want)
{
	char out[CASEID_MAX] = "untouched";
	int r = caseid_find(f, s, strlen(s), out, sizeof(out), NULL);

	if (want == NULL) {
		assert_int_equal(r, 0);
	} else {
		assert_int_equal(r, 1);
		assert_string_equal(out, want);
	}
}

static void
test_format_plain(void **state)
{
	struct caseid_fmt f;

	(void)state;
	fmt(&f, "CASE", "", false);
	check_format(&f, 2026, 123, "CASE-2026-000123");
	check_format(&f, 2026, 1, "CASE-2026-000001");
	check_format(&f, 2027, 999999, "CASE-2027-999999");
	/* the sequence grows past six digits */
	check_format(&f, 2026, 1234567, "CASE-2026-1234567");
}

static void
test_format_node_and_prefix(void **state)
{
	struct caseid_fmt f;

	(void)state;
	fmt(&f, "KLACHT", "MX1", false);
	check_format(&f, 2026, 42, "KLACHT-2026-MX1-000042");
	fmt(&f, NULL, NULL, false);
	check_format(&f, 2026, 42, "CASE-2026-000042");
}

static void
test_format_too_small(void **state)
{
	struct caseid_fmt f;
	char out[10];
	char exact[sizeof("CASE-2026-000123")];
	char check[sizeof("CASE-2026-000123")];

	(void)state;
	fmt(&f, "CASE", "", false);
	assert_int_equal(caseid_format(&f, 2026, 123, out, sizeof(out)), -1);
	assert_int_equal(caseid_format(&f, 2026, 123, exact, sizeof(exact)), 0);
	assert_string_equal(exact, "CASE-2026-000123");
	/* no room for "-C" */
	fmt(&f, "CASE", "", true);
	assert_int_equal(caseid_format(&f, 2026, 123, check, sizeof(check)), -1);
}

static void
test_check_char_roundtrip(void **state)
{
	struct caseid_fmt f;
	char out[CASEID_MAX], bad[CASEID_MAX];
	size_t n;

	(void)state;
	fmt(&f, "CASE", "N2", true);
	for (unsigned long long seq = 1; seq < 5000; seq += 37) {
		assert_int_equal(caseid_format(&f, 2026, seq, out, sizeof(out)), 0);
		n = strlen(out);
		assert_true(n > 2 && out[n - 2] == '-');
		check_parse(&f, out, 0, 2026, seq);
		/* any other check character is rejected */
		strcpy(bad, out);
		bad[n - 1] = bad[n - 1] == 'Z' ? '0' : (bad[n - 1] == '9' ? 'A' : bad[n - 1] + 1);
		check_parse(&f, bad, -2, 0, 0);
	}
	/* a missing check character is a wrong one */
	check_parse(&f, "CASE-2026-N2-000123", -2, 0, 0);
}

static void
test_check_char_detects_swaps(void **state)
{
	struct caseid_fmt f;
	char a[CASEID_MAX], b[CASEID_MAX];

	(void)state;
	fmt(&f, "CASE", "", true);
	assert_int_equal(caseid_format(&f, 2026, 123456, a, sizeof(a)), 0);
	assert_int_equal(caseid_format(&f, 2026, 124356, b, sizeof(b)), 0);
	/* two adjacent digits swapped: Luhn gives another check character */
	assert_true(a[strlen(a) - 1] != b[strlen(b) - 1]);
}

static void
test_parse(void **state)
{
	struct caseid_fmt f;

	(void)state;
	fmt(&f, "CASE", "", false);
	check_parse(&f, "CASE-2026-000123", 0, 2026, 123);
	check_parse(&f, "case-2026-000123", 0, 2026, 123);
	check_parse(&f, "CASE-2026-12345678", 0, 2026, 12345678);
	check_parse(&f, "CASE-26-000123", -1, 0, 0);
	check_parse(&f, "CASE-2026-12345", -1, 0, 0);	/* fewer than six digits */
	check_parse(&f, "CASE-2026-000123x", -1, 0, 0);
	check_parse(&f, " CASE-2026-000123", -1, 0, 0);
	check_parse(&f, "TICKET-2026-000123", -1, 0, 0);
	check_parse(&f, "", -1, 0, 0);
	/* a node in the ID that the format does not have */
	check_parse(&f, "CASE-2026-MX1-000123", -1, 0, 0);
	fmt(&f, "CASE", "MX1", false);
	check_parse(&f, "CASE-2026-MX1-000123", 0, 2026, 123);
	check_parse(&f, "case-2026-mx1-000123", 0, 2026, 123);
	check_parse(&f, "CASE-2026-000123", -1, 0, 0);
}

static void
test_find(void **state)
{
	struct caseid_fmt f;

	(void)state;
	fmt(&f, "CASE", "", false);
	check_find(&f, "Re: [CASE-2026-000123] Klacht", "CASE-2026-000123");
	check_find(&f, "AW: WG: case-2026-000777 bitte", "CASE-2026-000777");
	check_find(&f, "zie CASE-2026-000123.", "CASE-2026-000123");
	check_find(&f, "CASE-2026-000123", "CASE-2026-000123");
	/* word boundaries on both sides */
	check_find(&f, "XCASE-2026-000123", NULL);
	check_find(&f, "MYCASE-2026-000123", NULL);
	check_find(&f, "CASE-2026-0001234x", NULL);
	check_find(&f, "A-CASE-2026-000123", NULL);
	/* too short, or not ours */
	check_find(&f, "CASE-2026-12345", NULL);
	check_find(&f, "TCK-204518 en SR-2026-000123", NULL);
	check_find(&f, "", NULL);
	/* the first of two */
	check_find(&f, "CASE-2026-000001 en CASE-2026-000002", "CASE-2026-000001");
	/* the length limit is honoured */
	check_find(&f, "CASE-2026-00012", NULL);
}

static void
test_find_bad_check(void **state)
{
	struct caseid_fmt f;
	char good[CASEID_MAX], text[200], out[CASEID_MAX];
	bool bad = false;
	size_t n;

	(void)state;
	fmt(&f, "CASE", "", true);
	assert_int_equal(caseid_format(&f, 2026, 4711, good, sizeof(good)), 0);
	n = strlen(good);
	/* a wrong one is skipped and reported; a good one later is still found */
	snprintf(text, sizeof(text), "Re: CASE-2026-004711-%c en %s",
	    good[n - 1] == 'A' ? 'B' : 'A', good);
	assert_int_equal(caseid_find(&f, text, strlen(text), out, sizeof(out), &bad), 1);
	assert_string_equal(out, good);
	assert_true(bad);
	/* only a wrong one */
	snprintf(text, sizeof(text), "Re: CASE-2026-004711-%c", good[n - 1] == 'A' ? 'B' : 'A');
	bad = false;
	assert_int_equal(caseid_find(&f, text, strlen(text), out, sizeof(out), &bad), 0);
	assert_true(bad);
	/* a good one alone clears the flag */
	bad = true;
	assert_int_equal(caseid_find(&f, good, n, out, sizeof(out), &bad), 1);
	assert_false(bad);
}

static void
test_find_respects_len(void **state)
{
	struct caseid_fmt f;
	char out[CASEID_MAX];
	const char *s = "CASE-2026-000123";

	(void)state;
	fmt(&f, "CASE", "", false);
	/* cut inside the sequence: no ID in the first 14 bytes */
	assert_int_equal(caseid_find(&f, s, 14, out, sizeof(out), NULL), 0);
	assert_int_equal(caseid_find(&f, s, strlen(s), out, sizeof(out), NULL), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_plain),
		cmocka_unit_test(test_format_node_and_prefix),
		cmocka_unit_test(test_format_too_small),
		cmocka_unit_test(test_check_char_roundtrip),
		cmocka_unit_test(test_check_char_detects_swaps),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_find_bad_check),
		cmocka_unit_test(test_find_respects_len),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
