/*
 * test_extract.c - unit tests of extract_fields(): tickets, models, serials
 * and their traps, kind, solution idea, language, case reference.
 */
#include "unit.h"
#include "extract.h"

static struct rules *rs;
static struct caseid_fmt idf;
static struct complaint c;

static int
setup(void **state)
{
	(void)state;
	if ((rs = unit_rules_load()) == NULL)
		return -1;
	caseid_fmt_init(&idf, "CASE", "", false);
	complaint_init(&c);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	complaint_free(&c);
	rules_unref(rs);
	return 0;
}

/* Extract from subject and one plain text part; the result is in c. */
static void
run(const char *subject, const char *body)
{
	struct textpart part = { (char *)body, strlen(body), false, false };
	struct msgtext mt;
	struct doc d;
	struct rscan sc;

	memset(&mt, 0, sizeof(mt));
	mt.subject = (char *)subject;
	mt.parts = &part;
	mt.nparts = 1;
	complaint_free(&c);
	assert_int_equal(rscan_init(&sc), 0);
	assert_int_equal(doc_build(&d, &mt, rs, &sc), 0);
	assert_int_equal(extract_fields(&c, subject, &d, rs, &sc, &idf), 0);
	assert_false(sc.limit_hit);
	doc_free(&d);
	rscan_free(&sc);
}

/* The list is exactly the NULL-terminated values, in order. */
static void
list_is(const char *what, const strlist *sl, ...)
{
	va_list ap;
	size_t i = 0;
	const char *want;
	char got[1024] = "";

	for (size_t k = 0; k < sl->n; k++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s[%s]", k ? " " : "", sl->v[k]);
	va_start(ap, sl);
	while ((want = va_arg(ap, const char *)) != NULL) {
		if (i >= sl->n || strcmp(sl->v[i], want) != 0) {
			va_end(ap);
			fail_msg("%s: value %zu should be \"%s\"; got %s", what, i, want, got);
		}
		i++;
	}
	va_end(ap);
	if (i != sl->n)
		fail_msg("%s: %zu values expected, got %s", what, i, got);
}

#define TICKETS(...) list_is("tickets", &c.tickets, __VA_ARGS__, NULL)
#define SERIALS(...) list_is("serials", &c.serials, __VA_ARGS__, NULL)
#define MODELS(...) list_is("models", &c.models, __VA_ARGS__, NULL)
#define NO_TICKETS() list_is("tickets", &c.tickets, NULL)
#define NO_SERIALS() list_is("serials", &c.serials, NULL)
#define NO_MODELS() list_is("models", &c.models, NULL)

/* body yields neither ticket nor serial. */
static void
no_values(const char *body)
{
	run("", body);
	if (c.tickets.n || c.serials.n)
		fail_msg("\"%s\" gave %zu tickets, %zu serials (first \"%s\")", body, c.tickets.n,
		    c.serials.n, c.tickets.n ? c.tickets.v[0] : c.serials.v[0]);
}

/* body yields exactly one serial, want. */
static void
one_serial(const char *body, const char *want)
{
	run("", body);
	SERIALS(want);
}

/* body yields exactly one model, want. */
static void
one_model(const char *body, const char *want)
{
	run("", body);
	MODELS(want);
}

/* ---- traps ---- */

static void
test_trap_phone_numbers(void **state)
{
	(void)state;
	no_values("Serienummer: 06-12345678\n");
	no_values("Ticketnummer: 06-12345678\n");
	no_values("Serienummer: 0612345678\n");
	no_values("Ticketnummer: +31 20 123 4567\n");
	no_values("Serial number: +31 (0)20 123 4567\n");
	no_values("Ticket number: 0031 20 1234567\n");
	no_values("Seriennummer: 020-1234567\n");
	no_values("Met vriendelijke groet,\nJan\nTel. 06-12345678\nTel +31 (0)20 123 4567\n");
}

static void
test_trap_dates(void **state)
{
	(void)state;
	no_values("Ticketnummer: 12-10-2026\n");
	no_values("Serienummer: 12.10.2026\n");
	no_values("Ticket number: 2026-11-02\n");
	no_values("Seriennummer: 1/2/26\n");
	no_values("Op 12-10-2026 heb ik gebeld over mijn omvormer.\n");
}

static void
test_trap_postal_iban_vat_kvk(void **state)
{
	(void)state;
	no_values("Serienummer: 1012 AB\n");
	no_values("Dorpsstraat 3, 1012 AB Amsterdam\n");
	no_values("Serienummer: NL91ABNA0417164300\n");
	no_values("Serienummer: NL123456789B01\n");
	no_values("KvK 12345678 | BTW NL123456789B01\nIBAN NL91ABNA0417164300\n");
	no_values("KvK-nummer: 12345678\n");
	/* a real serial after the traps is still found */
	one_serial("IBAN NL91ABNA0417164300\nSerienummer: A2201234567\n", "A2201234567");
}

static void
test_trap_order_numbers(void **state)
{
	(void)state;
	no_values("Bestelnummer: 4500012345\nOrder number: 4500012346\n"
	    "Auftragsnummer: 4500012347\nNuméro de commande : 4500012348\n"
	    "Ordernummer 2026-004411\nFactuurnummer: F2026-0042\n");
	run("", "Bestelnummer: 4500012345\nModel: X1-Boost-5.0\n");
	NO_TICKETS();
	NO_SERIALS();
	MODELS("X1-Boost-5.0");
}

static void
test_trap_log_lines(void **state)
{
	(void)state;
	run("", "Hieronder het logboek:\n\n"
	    "2026-11-01 12:02:03  E2032  PV1 381.1V  8.01A  4521W\n"
	    "2026-11-02 12:04:03  E2032  PV1 382.2V  8.02A  4521W\n"
	    "2026-11-03 12:06:03  E2032  PV1 390.10V  8.10A  4521W\n");
	NO_TICKETS();
	NO_SERIALS();
	NO_MODELS();
}

static void
test_trap_own_case_id(void **state)
{
	(void)state;
	run("", "Ticketnummer: CASE-2026-000123\n");
	NO_TICKETS();
	assert_non_null(c.case_ref);
	assert_string_equal(c.case_ref, "CASE-2026-000123");
	run("", "Serial number: CASE-2026-000124\n");
	NO_SERIALS();
	assert_string_equal(c.case_ref, "CASE-2026-000124");
	/* a ticket next to it is kept */
	run("", "Ticket numbers: CASE-2026-000123 and TCK-204518\n");
	TICKETS("TCK-204518");
}

/* ---- serials ---- */

static void
test_serial_labels(void **state)
{
	(void)state;
	one_serial("Serienummer: HV2150123456\n", "HV2150123456");
	one_serial("Serial number: 3005678901\n", "3005678901");
	one_serial("Serial No.: AB12345678\n", "AB12345678");
	one_serial("Serial#: 3005678901\n", "3005678901");
	one_serial("S/N: 7E1234568C\n", "7E1234568C");
	one_serial("SN 7E1234568C\n", "7E1234568C");
	one_serial("S.N.: 7E1234568C\n", "7E1234568C");
	one_serial("Seriennummer: 2811-2345-AB\n", "2811-2345-AB");
	one_serial("Seriennr.: 3005678901\n", "3005678901");
	one_serial("Numéro de série : H3UE10J1234567\n", "H3UE10J1234567");
	one_serial("N° de série : 28765432\n", "28765432");
	one_serial("No de série: 28123456\n", "28123456");
	/* without colon, and in a sentence */
	one_serial("Serienummer 3004123456\n", "3004123456");
	one_serial("Omvormer 1: STP 25000TL-30, serienummer 3010111222\n", "3010111222");
	one_serial("The serial number is 90421XYZ9876 according to the label.\n", "90421XYZ9876");
	one_serial("Meine Seriennummer lautet 2811 2345.\n", "28112345");
}

static void
test_serial_fillers(void **state)
{
	(void)state;
	one_serial("Serienummer omvormer: 3005678902\n", "3005678902");
	one_serial("Serial number of the inverter: 3005678901\n", "3005678901");
	one_serial("Seriennummer des Geräts: 3005678901\n", "3005678901");
	one_serial("Serienummer (omvormer): 3005678901\n", "3005678901");
	one_serial("Serial number (see label): 3005678901\n", "3005678901");
	one_serial("Serienummer van mijn omvormer is 3005678901.\n", "3005678901");
	one_serial("Serienummer van omvormer 2: 3005678903\n", "3005678903");
	one_serial("Serial number is: 3005678901\n", "3005678901");
	/* quotes and brackets around the value */
	one_serial("Serienummer \"HV2150123456\"\n", "HV2150123456");
	one_serial("Serienummer: “HV2150123456”\n", "HV2150123456");
	one_serial("Serial: <3005678901>\n", "3005678901");
	/* a filler never eats the value */
	one_serial("Serienummer (3005678904)\n", "3005678904");
}

static void
test_serial_normalised(void **state)
{
	(void)state;
	one_serial("s/n: hv2150654321\n", "HV2150654321");
	one_serial("Seriennummer: 2811 2345\n", "28112345");
	one_serial("S/N: HV2150 123 456\n", "HV2150123456");
	one_serial("Serial number: 3005 6789 01, thanks\n", "3005678901");
	/* groups stop at a word */
	one_serial("Serienummer: 2811 2345 sinds gisteren kapot\n", "28112345");
}

static void
test_serial_lists(void **state)
{
	(void)state;
	run("", "Serienummers: 121234567890 en 121234567891\n");
	SERIALS("121234567890", "121234567891");
	run("", "Serial numbers: 121234567890, 121234567891 and 121234567892\n");
	SERIALS("121234567890", "121234567891", "121234567892");
	run("", "Seriennummern: 2811 2345 und 2811 2346\n");
	SERIALS("28112345", "28112346");
	run("", "Numéros de série : 28112345, 28112346 et 28112347\n");
	SERIALS("28112345", "28112346", "28112347");
	run("", "Serienummers: A1234567; B1234567 / C1234567\n");
	SERIALS("A1234567", "B1234567", "C1234567");
}

static void
test_serial_list_lines(void **state)
{
	(void)state;
	run("", "Serienummers:\n- 482201234561\n* 482201234562\n• 482201234563\n\nGroet\n");
	SERIALS("482201234561", "482201234562", "482201234563");
	run("", "Serial numbers:\n1. 3005678901\n2) 3005678902\n");
	SERIALS("3005678901", "3005678902");
	/* one per line, under a label with values on its own line too */
	run("", "Serienummer: 3010111222\n3010111223\n3010111224\nSinds gisteren kapot.\n");
	SERIALS("3010111222", "3010111223", "3010111224");
	/* a blank line between label and list is allowed, a second one ends it */
	run("", "Serienummers:\n\n121234567890\n121234567891\n\n121234567892\n");
	SERIALS("121234567890", "121234567891");
	/* a line that is not only values ends the list */
	run("", "Serienummer:\n3010111222\nTel 06-12345678\n1012 AB Amsterdam\n");
	SERIALS("3010111222");
}

static void
test_serial_unknown(void **state)
{
	(void)state;
	no_values("Serienummer: onbekend\n");
	no_values("Serienummer: onbekend, sticker is onleesbaar\n");
	no_values("Serial number: unknown\n");
	no_values("Seriennummer: unbekannt\n");
	no_values("Numéro de série : inconnu\n");
	no_values("Serienummer: n.v.t.\n");
	no_values("Serienummer: zie foto\n");
	/* a later label still counts */
	run("", "Serienummer: onbekend\nS/N omvormer 2: 3010111223\n");
	SERIALS("3010111223");
}

static void
test_serial_dedup_and_order(void **state)
{
	(void)state;
	run("S/N 3010111999", "Serienummer: 3010111222\nSerienummer: 3010 111 222\nSN: 3010111223\n");
	SERIALS("3010111999", "3010111222", "3010111223");
}

/* ---- tickets ---- */

static void
test_ticket_labels(void **state)
{
	static const char *const bodies[] = {
		"Ticketnummer: 4821307\n", "ticket nr. 4821307\n", "Ticket #: 4821307\n",
		"Ticket #4821307\n", "ticket number: #4821307\n", "Ticket-Nr. 4821307\n",
		"Ticketnummer 4821307\n", "Ticket-Nummer: 4821307\n", "Ticket no 4821307\n",
		"Ticket: #4821307\n", "Support-Ticket 4821307\n", "numéro de ticket : 4821307\n",
		"n° de ticket 4821307\n", "Mon numéro de ticket est le 4821307.\n",
		"Meine Ticketnummer lautet 4821307.\n", "(ticketnummer: 4821307)\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		run("", bodies[i]);
		if (c.tickets.n != 1 || strcmp(c.tickets.v[0], "4821307") != 0)
			fail_msg("\"%s\": %zu tickets", bodies[i], c.tickets.n);
	}
}

static void
test_ticket_values(void **state)
{
	(void)state;
	run("", "Ticket-ID: SR-2026-4411\n");
	TICKETS("SR-2026-4411");
	/* fewer than four digits, or more than twenty characters: no ticket */
	run("", "Ticketnummer: AB-123\n");
	NO_TICKETS();
	run("", "Ticketnummer: 123456789012345678901\n");
	NO_TICKETS();
	run("", "Ticketnummer: onbekend\n");
	NO_TICKETS();
	run("", "I opened a ticket 3 weeks ago and a ticket on 12.10.2026.\n");
	NO_TICKETS();
	run("", "The ticket 2026 was never answered.\n");
	NO_TICKETS();
	run("", "Ticketnummer: 2026-4411\n");
	TICKETS("2026-4411");
}

static void
test_ticket_bare(void **state)
{
	(void)state;
	run("", "Ik heb al eerder gebeld, TCK-204518 en ook TCK-204520.\n");
	TICKETS("TCK-204518", "TCK-204520");
	/* without a label only the desk's own format */
	run("", "Ik heb al eerder gebeld, 4821307 en SR-2026-4411.\n");
	NO_TICKETS();
	run("", "xTCK-204518 TCK-12\n");
	NO_TICKETS();
}

static void
test_ticket_order_and_dedup(void **state)
{
	(void)state;
	run("Serviceklacht ticket TCK-000002",
	    "Ticketnummer: 4821307\nZie ook TCK-000001 en TCK-000002.\nTicketnummers: 4821307, 5521907\n");
	TICKETS("TCK-000002", "4821307", "TCK-000001", "5521907");
	run("", "Ticket number 4821307 and 4821308\n");
	TICKETS("4821307", "4821308");
}

/* ---- models ---- */

static void
test_models_catalog(void **state)
{
	static const char *const models[] = {
		"SB5.0-1AV-41", "STP 25000TL-30", "STP10.0-3AV-40", "Primo 4.0-1", "Symo 10.0-3-M",
		"SUN2000-5KTL-L1", "SUN2000-10KTL-M1", "SE5000H", "SE10K", "GW5000-EH", "GW10K-ET",
		"MIN 3000TL-X", "MOD 10KTL3-X", "SG5.0RS", "SH10RT", "X1-Boost-5.0",
		"X3-Hybrid-10.0", "IQ7+", "IQ8M", "PLENTICORE plus 10", "S6-GR1P5K",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
		char body[128];

		snprintf(body, sizeof(body), "Mijn omvormer (%s) valt uit.\n", models[i]);
		one_model(body, models[i]);
	}
}

static void
test_models_other_sizes(void **state)
{
	static const char *const models[] = {
		/* SMA */
		"SB3.0-1AV-41", "SB 3600TL-21", "STP 8.0-3AV-40", "SB2.5-1VL-40", "STP 15000TL-30",
		"Sunny Boy 4.0", "STP 50-40",
		/* Fronius */
		"Symo GEN24 10.0 Plus", "Primo GEN24 3.0 Plus", "Symo 5.0-3-M", "Primo 8.2-1",
		/* Huawei */
		"SUN2000-8KTL-M1", "SUN2000-3KTL-L1", "SUN2000-4.6KTL-L1", "SUN2000-12K-MB0",
		/* SolarEdge */
		"SE3680H", "SE7K", "SE17K", "SE5000H-RW000BEN4",
		/* GoodWe */
		"GW6000-EH", "GW8K-DT", "GW5048D-ES", "GW15K-ET",
		/* Growatt */
		"MIC 3000TL-X", "MID 15KTL3-X", "MIN 6000TL-XH", "MIN 2500TL-XE",
		/* Sungrow */
		"SG3.0RS", "SH5.0RT", "SH8.0RT-V112", "SG8.0RT",
		/* SolaX */
		"X1-Mini-3.0", "X3-MIC-10K", "X1-Hybrid-5.0-D", "X3-Hybrid-G4-8.0",
		/* Enphase */
		"IQ8+", "IQ7A", "IQ8HC", "IQ8AC", "IQ7PLUS-72-2-INT",
		/* Kostal */
		"PLENTICORE plus 5.5", "PIKO IQ 8.5", "PIKO MP plus 4.6-2",
		/* Solis */
		"S5-GR3P10K", "S6-GR1P3.6K", "S6-EH1P5K-L",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++) {
		char body[128];

		snprintf(body, sizeof(body), "Onze %s doet het niet meer.\n", models[i]);
		one_model(body, models[i]);
	}
}

static void
test_models_case_and_place(void **state)
{
	(void)state;
	one_model("mijn sun2000-5ktl-l1 is kapot\n", "sun2000-5ktl-l1");
	one_model("model: symo 10.0-3-m\n", "symo 10.0-3-m");
	one_model("Type: iq 7+\n", "iq 7+");
	/* in the Subject, deduplicated with the text whatever the case */
	run("Storing SE5000H", "Model: se5000h\n");
	MODELS("SE5000H");
	/* brand names and fragments alone are no model */
	run("", "Een SMA, een SE en een IQ van Enphase, versie 8.0, SB, GW.\n");
	NO_MODELS();
	/* quoted reply text is not looked at */
	run("Re: klacht", "Nog steeds kapot.\n> Model: SE10K\n");
	NO_MODELS();
}

static void
test_model_inside_serial(void **state)
{
	(void)state;
	run("", "S/N: SE7K-1234567\n");
	SERIALS("SE7K-1234567");
	NO_MODELS();
	run("", "Model: SE7K\nS/N: SE7K-1234567\n");
	MODELS("SE7K");
	SERIALS("SE7K-1234567");
	/* inside a ticket value neither */
	run("", "Ticketnummer: SH10RT-2026-1234\n");
	TICKETS("SH10RT-2026-1234");
	NO_MODELS();
}

/* ---- kind, solution, language, case reference ---- */

static void
kind_is(const char *subject, const char *body, enum complaint_kind want)
{
	run(subject, body);
	if (c.explicit_kind != want)
		fail_msg("\"%s\" / \"%s\": kind %s, expected %s", subject, body,
		    complaint_kind_name(c.explicit_kind), complaint_kind_name(want));
}

static void
test_explicit_kind(void **state)
{
	(void)state;
	kind_is("Serviceklacht", "", KIND_SERVICE);
	kind_is("", "Dit is een klacht over de service van jullie monteur.", KIND_SERVICE);
	kind_is("", "Klacht over jullie klantenservice", KIND_SERVICE);
	kind_is("Service complaint", "", KIND_SERVICE);
	kind_is("", "I want to complain about the service I received.", KIND_SERVICE);
	kind_is("Beschwerde über den Kundendienst", "", KIND_SERVICE);
	kind_is("", "Hiermit reiche ich eine Servicebeschwerde ein.", KIND_SERVICE);
	kind_is("Réclamation service", "", KIND_SERVICE);
	kind_is("", "Réclamation concernant votre service après-vente.", KIND_SERVICE);
	kind_is("Productklacht", "", KIND_PRODUCT);
	kind_is("", "Dit is een klacht over het product.", KIND_PRODUCT);
	kind_is("Product complaint", "", KIND_PRODUCT);
	kind_is("Produktreklamation", "", KIND_PRODUCT);
	kind_is("", "Beschwerde über das Produkt", KIND_PRODUCT);
	kind_is("Réclamation produit", "", KIND_PRODUCT);
	kind_is("Plainte concernant le produit", "", KIND_PRODUCT);
	/* not explicit */
	kind_is("Klacht", "Mijn omvormer SE5000H is kapot en de service is traag.", KIND_UNKNOWN);
	kind_is("Reklamation Wechselrichter", "", KIND_UNKNOWN);
	/* the Subject before the text; in one text the first statement */
	kind_is("Productklacht", "Ook een klacht over de service.", KIND_PRODUCT);
	kind_is("", "Een serviceklacht, eigenlijk ook een productklacht.", KIND_SERVICE);
	kind_is("", "Een productklacht, eigenlijk ook een serviceklacht.", KIND_PRODUCT);
}

static void
solution_is(const char *body, bool want)
{
	run("", body);
	if (c.solution_idea != want)
		fail_msg("\"%s\": solution_idea %d", body, c.solution_idea);
}

static void
test_solution_idea(void **state)
{
	(void)state;
	solution_is("Oplossingsidee: graag een vervangend toestel\n", true);
	solution_is("Idee voor een oplossing: controleer de firmware op afstand\n", true);
	solution_is("Suggested solution: send the engineer this week\n", true);
	solution_is("Proposed solution: replace the unit\n", true);
	solution_is("Lösungsvorschlag: Austausch des Geräts\n", true);
	solution_is("Lösungsidee:\nFirmware-Update aus der Ferne\n", true);
	solution_is("Idée de solution : remplacer l'onduleur\n", true);
	solution_is("Proposition de solution : remplacement sous garantie\n", true);
	solution_is("Oplossingsidee - nieuwe omvormer sturen\n", true);
	solution_is("Lösungsvorschlag Austausch des Geräts\n", true);
	/* a label without a real value */
	solution_is("Oplossingsidee: geen\n", false);
	solution_is("Solution idea: none\n", false);
	solution_is("Suggested solution: -\n", false);
	solution_is("Idée de solution : aucune\n", false);
	solution_is("Oplossingsidee: ?\n", false);
	solution_is("Oplossingsidee:\n", false);
	/* no label */
	solution_is("Do you have a suggested solution for this problem?\n", false);
	solution_is("Graag een nieuwe omvormer.\n", false);
	/* quoted */
	solution_is("> Oplossingsidee: graag een nieuwe\n", false);
}

static void
lang_is(const char *subject, const char *body, const char *want)
{
	run(subject, body);
	if (strcmp(c.language, want) != 0)
		fail_msg("\"%s\" / \"%s\": language \"%s\", expected \"%s\"", subject, body,
		    c.language, want);
}

static void
test_language_short_texts(void **state)
{
	(void)state;
	lang_is("", "Mijn omvormer is kapot.", "nl");
	lang_is("", "My inverter is broken.", "en");
	lang_is("", "Mein Wechselrichter ist kaputt.", "de");
	lang_is("", "Mon onduleur est en panne.", "fr");
	lang_is("Storing", "Omvormer geeft foutcode 301 sinds maandag.", "nl");
	lang_is("Error", "Inverter shows error 301 since Monday.", "en");
	lang_is("Fehler", "Der Wechselrichter zeigt Fehler 301.", "de");
	lang_is("Panne", "L'onduleur affiche l'erreur 301.", "fr");
	/* labels alone */
	lang_is("SE5000H", "Model: SE5000H\nSerial number: 12345678\n", "en");
	lang_is("SE5000H", "Modell: SE5000H\nSeriennummer: 12345678\n", "de");
	lang_is("SE5000H", "Modèle : SE5000H\nNuméro de série : 12345678\n", "fr");
	lang_is("SE5000H", "Type: SE5000H\nSerienummer: 12345678\n", "nl");
	/* the Subject counts too */
	lang_is("Wechselrichter defekt", "SE5000H", "de");
	lang_is("Onduleur en panne", "SE5000H", "fr");
	/* nothing to go by */
	lang_is("SE5000H", "12345678", "");
}

static void
test_case_ref(void **state)
{
	(void)state;
	run("Re: [CASE-2026-000123] Klacht over omvormer", "Hierbij het serienummer.");
	assert_string_equal(c.case_ref, "CASE-2026-000123");
	run("SV: RIF: Odp: TR: VS: Antw: AW: WG: Fwd: [case-2026-001234] x", "");
	assert_string_equal(c.case_ref, "CASE-2026-001234");
	run("Nog steeds geen reactie", "Mijn zaak heeft nummer CASE-2026-000789.");
	assert_string_equal(c.case_ref, "CASE-2026-000789");
	/* the Subject first */
	run("Re: CASE-2026-000001", "Zie ook CASE-2026-000002.");
	assert_string_equal(c.case_ref, "CASE-2026-000001");
	/* not in quoted text, not another prefix */
	run("Re: klacht", "Nieuwe klacht.\n\nOn Tue, 17 Nov 2026, Complaints <c@example.com> wrote:\n"
	    "> Your case CASE-2026-000999 has been closed.\n");
	assert_null(c.case_ref);
	run("Re: ZAAK-2026-000123", "");
	assert_null(c.case_ref);
}

static void
test_escalation(void **state)
{
	(void)state;
	/* escalation is looked for in follow-ups only: text naming a case */
	run("Re: [CASE-2026-000123] klacht", "Ik ben hier helemaal niet tevreden over.");
	assert_true(c.escalation);
	run("Escalation CASE-2026-000123", "");
	assert_true(c.escalation);
	run("", "CASE-2026-000123: Ich bin unzufrieden mit Ihrem Service.");
	assert_true(c.escalation);
	run("Re: [CASE-2026-000123]", "De omvormer is kapot.");
	assert_false(c.escalation);
	/* a new complaint has no case to escalate */
	run("", "Ik ben hier helemaal niet tevreden over.");
	assert_false(c.escalation);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trap_phone_numbers),
		cmocka_unit_test(test_trap_dates),
		cmocka_unit_test(test_trap_postal_iban_vat_kvk),
		cmocka_unit_test(test_trap_order_numbers),
		cmocka_unit_test(test_trap_log_lines),
		cmocka_unit_test(test_trap_own_case_id),
		cmocka_unit_test(test_serial_labels),
		cmocka_unit_test(test_serial_fillers),
		cmocka_unit_test(test_serial_normalised),
		cmocka_unit_test(test_serial_lists),
		cmocka_unit_test(test_serial_list_lines),
		cmocka_unit_test(test_serial_unknown),
		cmocka_unit_test(test_serial_dedup_and_order),
		cmocka_unit_test(test_ticket_labels),
		cmocka_unit_test(test_ticket_values),
		cmocka_unit_test(test_ticket_bare),
		cmocka_unit_test(test_ticket_order_and_dedup),
		cmocka_unit_test(test_models_catalog),
		cmocka_unit_test(test_models_other_sizes),
		cmocka_unit_test(test_models_case_and_place),
		cmocka_unit_test(test_model_inside_serial),
		cmocka_unit_test(test_explicit_kind),
		cmocka_unit_test(test_solution_idea),
		cmocka_unit_test(test_language_short_texts),
		cmocka_unit_test(test_case_ref),
		cmocka_unit_test(test_escalation),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
