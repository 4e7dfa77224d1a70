/*
 * test_doc.c - unit tests of doc_build(): which lines are the customer's own
 * text, quoted reply text, a forward (header) or a signature.
 */
#include "unit.h"
#include "doc.h"

static struct rules *rs;
static struct rscan sc;
static struct doc d;
static bool built;

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

static int
teardown_each(void **state)
{
	(void)state;
	if (built)
		doc_free(&d);
	built = false;
	return 0;
}

/* Build the doc of up to two parts (text2 NULL for one) under subject. */
static void
build2(const char *subject, const char *text1, bool fwd1, const char *text2, bool fwd2)
{
	struct textpart parts[2] = {
		{ (char *)text1, strlen(text1), fwd1, false },
		{ (char *)(text2 ? text2 : ""), text2 ? strlen(text2) : 0, fwd2, false },
	};
	struct msgtext mt;

	memset(&mt, 0, sizeof(mt));
	mt.subject = (char *)subject;
	mt.parts = parts;
	mt.nparts = text2 ? 2 : 1;
	if (built)
		doc_free(&d);
	assert_int_equal(doc_build(&d, &mt, rs, &sc), 0);
	built = true;
}

static void
build(const char *subject, const char *text)
{
	build2(subject, text, false, NULL, false);
}

/*
 * The kinds of the lines as one letter each: o own, f forwarded, q quoted,
 * h forward header, s signature.
 */
static const char *
kinds(void)
{
	static char buf[256];
	size_t i;

	for (i = 0; i < d.nlines && i + 1 < sizeof(buf); i++)
		buf[i] = "ofqhs"[d.lines[i].kind];
	buf[i] = '\0';
	return buf;
}

/* The text of line i as it stands in d.text ("" when blanked). */
static const char *
line(size_t i)
{
	static char buf[512];

	assert_true(i < d.nlines);
	snprintf(buf, sizeof(buf), "%.*s", (int)d.lines[i].len, d.text.s + d.lines[i].off);
	return buf;
}

static void
test_own_text(void **state)
{
	(void)state;
	build("Klacht", "Hallo,\n\nDe omvormer is kapot.\nGroet");
	assert_string_equal(kinds(), "oooo");
	assert_string_equal(line(2), "De omvormer is kapot.");
	assert_string_equal(d.text.s, "Hallo,\n\nDe omvormer is kapot.\nGroet\n\n");
}

static void
test_quoted_lines(void **state)
{
	(void)state;
	build("Re: Klacht", "Nog steeds kapot.\n> Serienummer: 123456789\n  >> oud\nEinde");
	assert_string_equal(kinds(), "oqqo");
	/* quoted lines are blanked but keep their place */
	assert_string_equal(line(1), "");
	assert_int_equal(d.lines[1].len, 0);
	assert_null(strstr(d.text.s, "123456789"));
	assert_string_equal(d.text.s, "Nog steeds kapot.\n\n\nEinde\n\n");
}

static void
test_reply_header(void **state)
{
	(void)state;
	build("Re: Klacht",
	    "De monteur is niet gekomen.\n"
	    "\n"
	    "On Tue, 17 Nov 2026 at 10:00, Complaints <complaints@example.com> wrote:\n"
	    "Dank voor uw klacht over de SE5000H.\n"
	    "> Serienummer: 123456789\n");
	assert_string_equal(kinds(), "ooqqq");
	assert_null(strstr(d.text.s, "SE5000H"));
	/* Dutch, German, French and Outlook's own line */
	build("x", "Tekst\nOp 17 nov. 2026 om 10:00 schreef Klachten <k@example.com>:\nSE5000H\n");
	assert_string_equal(kinds(), "oqq");
	build("x", "Text\nAm 17.11.2026 um 10:00 schrieb Service <s@example.de>:\nSE5000H\n");
	assert_string_equal(kinds(), "oqq");
	build("x", "Texte\nLe 17 nov. 2026 à 10:00, Service <s@example.fr> a écrit :\nSE5000H\n");
	assert_string_equal(kinds(), "oqq");
	build("RE: x", "Text\n-----Original Message-----\nFrom: a\nSent: b\n\nSE5000H\n");
	assert_string_equal(kinds(), "oqqqqq");
	assert_null(strstr(d.text.s, "SE5000H"));
}

static void
test_inline_forward(void **state)
{
	(void)state;
	build("Fwd: klacht",
	    "Zie hieronder.\n"
	    "\n"
	    "---------- Forwarded message ---------\n"
	    "From: Klant <klant@example.nl>\n"
	    "Date: Mon, 16 Nov 2026 at 18:04\n"
	    "Subject: omvormer\n"
	    "To: <info@zon.example.nl>\n"
	    "\n"
	    "De omvormer Primo 4.0-1 piept.\n"
	    "> oud citaat\n");
	assert_string_equal(kinds(), "oohhhhhffq");
	/* the forward header is blanked, the forwarded text is kept */
	assert_string_equal(line(3), "");
	assert_null(strstr(d.text.s, "klant@example.nl"));
	assert_string_equal(line(8), "De omvormer Primo 4.0-1 piept.");
	assert_int_equal(d.lines[8].kind, LINE_FORWARDED);
	/* Apple Mail and the Dutch wording */
	build("Fwd: x", "Begin forwarded message:\n\nFrom: a\nSubject: b\n\nTekst\n");
	assert_string_equal(kinds(), "hhhhff");
	build("x", "-------- Doorgestuurd bericht --------\nVan: a\nOnderwerp: b\nTekst\n");
	assert_string_equal(kinds(), "hhhf");
}

static void
test_outlook_header_block(void **state)
{
	static const char *text =
	    "Graag actie.\n"
	    "\n"
	    "Van: Jan <jan@example.nl>\n"
	    "Verzonden: maandag 16 november 2026 17:45\n"
	    "Aan: info@example.nl\n"
	    "Onderwerp: klacht\n"
	    "\n"
	    "Serienummer: 28999001\n";

	(void)state;
	/* under a reply Subject the block and all after it are quoted */
	build("Antw: klacht", text);
	assert_string_equal(kinds(), "ooqqqqqq");
	assert_null(strstr(d.text.s, "28999001"));
	/* under a forward Subject it is a forward header and forwarded text */
	build("FW: klacht", text);
	assert_string_equal(kinds(), "oohhhhff");
	assert_non_null(strstr(d.text.s, "28999001"));
	/* without prefix: a reply */
	build("klacht", text);
	assert_string_equal(kinds(), "ooqqqqqq");
	/* "-----Original Message-----" before the block of a forward */
	build("WG: Reklamation", "-----Ursprüngliche Nachricht-----\nVon: a\nGesendet: b\n\nText\n");
	assert_string_equal(kinds(), "hhhff");
	/* GMX writes the date first */
	build("AW: Reklamation", "Immer noch kaputt.\n\nGesendet: Dienstag, 17. November 2026\n"
	    "Von: Service <s@example.com>\nBetreff: x\n\nSE5000H\n");
	assert_string_equal(kinds(), "ooqqqqq");
	build("WG: Reklamation", "-------- Original-Nachricht --------\nGesendet: Montag\nVon: a\n\nText\n");
	assert_string_equal(kinds(), "hhhff");
	/* Outlook for Mac: "Date:" after "From:" */
	build("Re: klacht", "Kapot.\nVan: Klachten <k@example.com>\nDatum: dinsdag\n\nSE5000H\n");
	assert_string_equal(kinds(), "oqqqq");
	/* the customer's own "Datum:" and "Van:" lines are no header block */
	build("klacht", "Datum: 12 oktober 2026\nVan: Jan de Vries\nDe omvormer SE5000H valt uit.\n");
	assert_string_equal(kinds(), "ooo");
	/* a From: line alone is the customer's own text */
	build("Re: klacht", "Van: Jan de Vries\nMijn omvormer is kapot.\n");
	assert_string_equal(kinds(), "oo");
}

static void
test_signature(void **state)
{
	(void)state;
	build("x", "De omvormer is kapot.\n-- \nJan de Vries\nIBAN NL91ABNA0417164300\n");
	assert_string_equal(kinds(), "osss");
	assert_null(strstr(d.text.s, "IBAN"));
	/* "--" without the blank too, but not "---" */
	build("x", "Tekst\n--\nJan\n");
	assert_string_equal(kinds(), "oss");
	build("x", "Tekst\n---\nmeer tekst\n");
	assert_string_equal(kinds(), "ooo");
}

static void
test_forwarded_part(void **state)
{
	(void)state;
	build2("Fwd: klacht", "Hieronder de klacht.\n", false,
	    "De omvormer piept.\n> citaat\n-- \nsig\n", true);
	/* part 1: own line; part 2: forwarded, quoted, signature */
	assert_string_equal(kinds(), "ofqss");
	assert_int_equal(d.lines[0].part, 0);
	assert_int_equal(d.lines[1].part, 1);
	/* parts never run together: an empty line separates them */
	assert_string_equal(d.text.s, "Hieronder de klacht.\n\nDe omvormer piept.\n\n\n\n\n");
}

static void
test_offsets(void **state)
{
	size_t newlines = 0;

	(void)state;
	build2("x", "a\n> b\nc", false, "d\n-- \ne", false);
	for (size_t i = 0; i < d.text.len; i++)
		if (d.text.s[i] == '\n')
			newlines++;
	/* one '\n' per line, one more per part */
	assert_int_equal(newlines, d.nlines + 2);
	for (size_t i = 0; i < d.nlines; i++) {
		assert_true(d.lines[i].off + d.lines[i].len < d.text.len);
		assert_int_equal(d.text.s[d.lines[i].off + d.lines[i].len], '\n');
	}
	assert_string_equal(line(2), "c");
	assert_string_equal(line(3), "d");
}

static void
test_empty(void **state)
{
	struct msgtext mt;

	(void)state;
	memset(&mt, 0, sizeof(mt));
	assert_int_equal(doc_build(&d, &mt, rs, &sc), 0);
	built = true;
	assert_int_equal(d.nlines, 0);
	assert_non_null(d.text.s);
	assert_string_equal(d.text.s, "");
}

int
main(void)
{
#define T(f) cmocka_unit_test_teardown(f, teardown_each)
	const struct CMUnitTest tests[] = {
		T(test_own_text),
		T(test_quoted_lines),
		T(test_reply_header),
		T(test_inline_forward),
		T(test_outlook_header_block),
		T(test_signature),
		T(test_forwarded_part),
		T(test_offsets),
		T(test_empty),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
