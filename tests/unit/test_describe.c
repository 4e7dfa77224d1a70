/*
 * test_describe.c - unit tests of describe_words(): the customer's own words
 * about the problem, without greeting, labels, closing and signature.
 */
#include "unit.h"
#include "describe.h"

static struct rules *rs;

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

/* Words counted in body (one own part, or forwarded), with a high cap. */
static unsigned
words_in(const char *subject, const char *body, bool forwarded, unsigned max)
{
	struct textpart part = { (char *)body, strlen(body), forwarded, false };
	struct msgtext mt;
	struct doc d;
	struct rscan sc;
	unsigned n;

	memset(&mt, 0, sizeof(mt));
	mt.subject = (char *)subject;
	mt.parts = &part;
	mt.nparts = 1;
	assert_int_equal(rscan_init(&sc), 0);
	assert_int_equal(doc_build(&d, &mt, rs, &sc), 0);
	n = describe_words(&d, rs, &sc, max);
	doc_free(&d);
	rscan_free(&sc);
	return n;
}

static unsigned
words(const char *body)
{
	return words_in("", body, false, 1000);
}

/* Is body a description (at least DESCRIBE_MIN_WORDS words)? */
static bool
described(const char *body)
{
	return words_in("", body, false, DESCRIBE_MIN_WORDS) >= DESCRIBE_MIN_WORDS;
}

static void
test_plain_words(void **state)
{
	(void)state;
	assert_int_equal(words("De omvormer valt elke dag uit."), 6);
	/* numbers and punctuation alone are no words; accented letters are */
	assert_int_equal(words("Foutcode 2032 om 12.00 - ook bij hitte!"), 5);
	assert_int_equal(words("Défaut répété, l'onduleur s'arrête"), 4);
	assert_int_equal(words(""), 0);
	assert_int_equal(words("\n\n   \n"), 0);
}

static void
test_greeting(void **state)
{
	(void)state;
	assert_int_equal(words("Geachte heer/mevrouw,\n"), 0);
	assert_int_equal(words("Dear support team,\n"), 0);
	assert_int_equal(words("Sehr geehrte Damen und Herren,\n"), 0);
	assert_int_equal(words("Madame, Monsieur,\n"), 0);
	assert_int_equal(words("Bonjour,\n"), 0);
	/* the rest of a greeting line counts */
	assert_int_equal(words("Hallo, de omvormer is kapot.\n"), 4);
	assert_int_equal(words("Beste klantenservice,\nDe omvormer is kapot.\n"), 4);
}

static void
test_label_lines(void **state)
{
	(void)state;
	assert_int_equal(words("Model: SUN2000-5KTL-L1\nSerienummer: HV2150123456\n"
	    "Oplossingsidee: graag een vervangend toestel\n"), 0);
	assert_int_equal(words("Model omvormer: SE5000H\nTicket-Nr.: TCK-310077\n"), 0);
	/* a long value is a sentence, not a label */
	assert_int_equal(words("Probleem: de omvormer valt elke dag rond het middaguur uit.\n"), 10);
	/* a colon after a long clause is no label either */
	assert_int_equal(words("Ik heb het volgende probleem met de omvormer: hij piept\n"), 10);
}

static void
test_closing_cuts(void **state)
{
	(void)state;
	assert_int_equal(words("De omvormer is kapot.\n\nMet vriendelijke groet,\n"
	    "Jan de Vries, die hier nog veel meer woorden schrijft over zijn adres\n"), 4);
	assert_int_equal(words("It is broken.\nKind regards,\nPeter Jones of Jones Solar Limited, London\n"), 3);
	assert_int_equal(words("Es ist kaputt.\nMit freundlichen Grüßen\nHans Müller aus Berlin am Rhein\n"), 3);
	assert_int_equal(words("Il est cassé.\nCordialement,\nMarie Dupont, rue de la Paix à Paris\n"), 3);
	assert_int_equal(words("Kapot.\nGroeten, Kees en de rest van de familie hier\n"), 1);
	assert_int_equal(words("Kapot.\nMVG\nKees en de rest van de familie hier\n"), 1);
	/* a closing in the middle of a sentence is not one */
	assert_int_equal(words("Ik stuur de groeten aan de monteur.\n"), 7);
}

static void
test_signature(void **state)
{
	(void)state;
	/* what a phone adds ends the text too */
	assert_int_equal(words("Kapot.\n\nSent from my iPhone\n"), 1);
	assert_int_equal(words("Kapot.\nVerzonden vanaf mijn Samsung Galaxy smartphone\n"), 1);
	assert_int_equal(words("Kaputt.\nVon meinem iPhone gesendet\n"), 1);
	assert_int_equal(words("Cassé.\nEnvoyé de mon iPad\n"), 1);
	assert_int_equal(words("Het display is zwart.\n-- \nJan de Vries\nDorpsstraat 3 in Amsterdam\n"), 4);
}

static void
test_quoted_and_forward_header(void **state)
{
	(void)state;
	assert_int_equal(words("Nog steeds kapot.\n> Dit is de tekst van de vorige mail van ons\n"), 3);
	assert_int_equal(words("Zie hieronder.\n"
	    "---------- Forwarded message ---------\n"
	    "From: Klant met een lange naam <klant@example.nl>\n"
	    "Subject: de omvormer doet het helemaal niet meer\n"
	    "\n"
	    "De omvormer piept.\n"), 5);
	/* forwarded text counts as the customer's */
	assert_int_equal(words_in("Fwd: x", "De omvormer piept elke nacht.\n", true, 1000), 5);
	/* an Outlook reply's quoted block does not */
	assert_int_equal(words_in("RE: x", "Nog steeds kapot.\n\nFrom: Complaints\nSent: Tuesday\n"
	    "Subject: x\n\nWe have received your complaint and will look into it.\n", false, 1000), 3);
}

static void
test_short_and_long(void **state)
{
	(void)state;
	assert_false(described("Hallo,\n\nZie bijlage.\n\nGroet,\nJan\n"));
	assert_false(described("Model: SE5000H\nSerienummer: 7E123456-8C\n\nGroeten, Kees\n"));
	assert_false(described("Dear Sir or Madam,\n\nThe inverter shuts down every afternoon.\n\n"
	    "Best regards\nTom Baker, 12 High Street, Little Whinging, Surrey\n"));
	assert_true(described("Dear Sir or Madam,\n\nThe inverter shuts down every afternoon when it is hot.\n\n"
	    "Best regards\nTom\n"));
	assert_true(described("Geachte heer/mevrouw,\n\nSinds twee weken valt mijn omvormer elke middag uit "
	    "met foutcode 2032.\n\nModel: SUN2000-5KTL-L1\n\nMet vriendelijke groet,\nJan\n"));
	/* exactly the minimum */
	assert_true(described("een twee drie vier vijf zes zeven acht"));
	assert_false(described("een twee drie vier vijf zes zeven"));
}

static void
test_max_stops_early(void **state)
{
	(void)state;
	assert_int_equal(words_in("", "a b c d e f g h i j\nk l m n o p q r s t\n", false, 5), 10);
	assert_int_equal(words_in("", "a b c\nd e f\ng h i\n", false, 4), 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_words),
		cmocka_unit_test(test_greeting),
		cmocka_unit_test(test_label_lines),
		cmocka_unit_test(test_closing_cuts),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_quoted_and_forward_header),
		cmocka_unit_test(test_short_and_long),
		cmocka_unit_test(test_max_stops_early),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
