/*
 * test_rules.c - unit tests of loading and matching rules/NAME.rules.
 */
#include "unit.h"
#include "rules.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static struct rules *shipped;

static int
setup(void **state)
{
	(void)state;
	return (shipped = unit_rules_load()) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	rules_unref(shipped);
	return 0;
}

/* A scratch rules directory under /tmp, removed by rmdir_all. */
static char *
mkdir_tmp(void)
{
	char *dir = strdup("/tmp/test_rules.XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

/* Copy one shipped rules file into dir. */
static void
copy_shipped(const char *dir, const char *name)
{
	char path[512], *buf;
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), "%s/%s", RULES_DIR, name);
	fp = fopen(path, "r");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	unit_put_file(dir, name, buf);
	free(buf);
}

/* Every shipped file into dir, so one more file can be added to a full set. */
static void
copy_all_shipped(const char *dir)
{
	DIR *d = opendir(RULES_DIR);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		if (n > 6 && strcmp(e->d_name + n - 6, ".rules") == 0)
			copy_shipped(dir, e->d_name);
	}
	closedir(d);
}

static void
rmdir_all(char *dir)
{
	unit_rmdir(dir);
	free(dir);
}

/* Load dir; must fail with an error that starts with "<dir>/<want>" (or "<dir><want>"). */
static void
load_fails(const char *dir, const char *want)
{
	char err[1024] = "", expect[1024];
	struct rules *rs = rules_load(dir, err, sizeof(err));

	assert_null(rs);
	snprintf(expect, sizeof(expect), "%s%s", dir, want);
	if (strncmp(err, expect, strlen(expect)) != 0)
		fail_msg("error \"%s\", expected it to start with \"%s\"", err, expect);
}

/* Find class rc in s from 0; returns the matched text in out ("" when none). */
static int
find(enum rule_class rc, const char *s, size_t off, char *out, size_t outsz, struct rmatch *mm)
{
	struct rscan sc;
	struct rmatch m;
	int r;

	assert_int_equal(rscan_init(&sc), 0);
	r = rules_find(shipped, rc, &sc, s, strlen(s), off, &m);
	assert_false(sc.limit_hit);
	rscan_free(&sc);
	out[0] = '\0';
	if (r == 1) {
		snprintf(out, outsz, "%.*s", (int)(m.end - m.start), s + m.start);
		if (mm)
			*mm = m;
	}
	return r;
}

static void
test_shipped_load(void **state)
{
	(void)state;
	assert_true(rules_count(shipped) > 50);
	for (int rc = 0; rc < RC__COUNT; rc++)
		assert_true(rules_has(shipped, (enum rule_class)rc));
	assert_string_equal(rules_class_name(RC_MODEL), "model");
	assert_string_equal(rules_class_name(RC_TICKET_LABEL), "ticket.label");
	assert_string_equal(rules_class_name(RC_SERIAL_NONE), "value.none");
	assert_string_equal(rules_class_name(RC__COUNT), "?");
}

static void
test_match_reports_rule(void **state)
{
	char got[128];
	struct rmatch m;

	(void)state;
	assert_int_equal(find(RC_MODEL, "Mijn SUN2000-5KTL-L1 valt uit", 0, got, sizeof(got), &m), 1);
	assert_string_equal(got, "SUN2000-5KTL-L1");
	assert_int_equal(m.start, 5);
	assert_string_equal(m.name, "huawei");
	assert_non_null(strstr(m.file, "models.rules"));
	assert_true(m.line > 0);
	assert_int_equal(find(RC_MODEL, "Symo 10.0-3-M", 0, got, sizeof(got), &m), 1);
	assert_string_equal(m.name, "fronius");
	assert_int_equal(find(RC_LANG, "Bonjour", 0, got, sizeof(got), &m), 1);
	assert_string_equal(m.name, "fr");
}

static void
test_caseless_and_utf(void **state)
{
	char got[128];

	(void)state;
	assert_int_equal(find(RC_MODEL, "de sun2000-5ktl-l1", 0, got, sizeof(got), NULL), 1);
	assert_string_equal(got, "sun2000-5ktl-l1");
	/* UTF-8 in patterns and subjects; \b and \w know letters beyond ASCII */
	assert_int_equal(find(RC_SERIAL_LABEL, "NUMÉRO DE SÉRIE : 28123456", 0, got, sizeof(got), NULL), 1);
	assert_string_equal(got, "NUMÉRO DE SÉRIE");
	assert_int_equal(find(RC_KIND_SERVICE, "Beschwerde über den Service", 0, got, sizeof(got), NULL), 1);
	/* invalid UTF-8 in the subject is tolerated */
	assert_int_equal(find(RC_MODEL, "\xff\xfe SE5000H \xc3", 0, got, sizeof(got), NULL), 1);
	assert_string_equal(got, "SE5000H");
}

static void
test_anchored_classes(void **state)
{
	char got[128];

	(void)state;
	/* anchored: only at off */
	assert_int_equal(find(RC_TICKET_VALUE, "nr 4821307", 0, got, sizeof(got), NULL), 0);
	assert_int_equal(find(RC_TICKET_VALUE, "nr 4821307", 3, got, sizeof(got), NULL), 1);
	assert_string_equal(got, "4821307");
	/* \K drops a leading '#' */
	assert_int_equal(find(RC_TICKET_VALUE, "#4821307", 0, got, sizeof(got), NULL), 1);
	assert_string_equal(got, "4821307");
	/* searched: anywhere from off */
	assert_int_equal(find(RC_TICKET_BARE, "zie TCK-204518 graag", 0, got, sizeof(got), NULL), 1);
	assert_string_equal(got, "TCK-204518");
	assert_int_equal(find(RC_TICKET_BARE, "zie TCK-204518 graag", 6, got, sizeof(got), NULL), 0);
	/* multiline: ^ and $ are line starts and ends */
	assert_int_equal(find(RC_CLOSING, "Met vriendelijke groet,\nJan", 0, got, sizeof(got), NULL), 1);
	assert_string_equal(got, "Met vriendelijke groet,");
	/* an offset past the end finds nothing */
	assert_int_equal(find(RC_MODEL, "SE5000H", 99, got, sizeof(got), NULL), 0);
}

static void
test_value_classes(void **state)
{
	char got[128];

	(void)state;
	assert_int_equal(find(RC_NEVER, "06-12345678", 0, got, sizeof(got), NULL), 1);
	assert_int_equal(find(RC_NEVER, "+31 20 123 4567", 0, got, sizeof(got), NULL), 1);
	assert_int_equal(find(RC_NEVER, "NL91ABNA0417164300", 0, got, sizeof(got), NULL), 1);
	assert_int_equal(find(RC_NEVER, "NL123456789B01", 0, got, sizeof(got), NULL), 1);
	assert_int_equal(find(RC_NEVER, "HV2150123456", 0, got, sizeof(got), NULL), 0);
	assert_int_equal(find(RC_SERIAL_NONE, "onbekend", 0, got, sizeof(got), NULL), 1);
	assert_int_equal(find(RC_SERIAL_NONE, "unknown", 0, got, sizeof(got), NULL), 1);
	assert_int_equal(find(RC_SERIAL_NONE, "onbekende", 0, got, sizeof(got), NULL), 0);
	assert_int_equal(find(RC_SERIAL_REJECT, "12-10-2026", 0, got, sizeof(got), NULL), 1);
	assert_int_equal(find(RC_SERIAL_REJECT, "2026-11-02", 0, got, sizeof(got), NULL), 1);
	assert_int_equal(find(RC_SERIAL_REJECT, "1012 AB", 0, got, sizeof(got), NULL), 1);
	assert_int_equal(find(RC_LIST_SEP, " en 123", 0, got, sizeof(got), NULL), 1);
	assert_string_equal(got, " en ");
	assert_int_equal(find(RC_LIST_SEP, ", und 123", 0, got, sizeof(got), NULL), 1);
	assert_string_equal(got, ", und ");
	assert_int_equal(find(RC_REPLY_PREFIX, "AW: WG: x", 0, got, sizeof(got), NULL), 1);
	assert_string_equal(got, "AW: ");
}

static void
test_bad_regex_names_file_and_line(void **state)
{
	char *dir = mkdir_tmp();

	(void)state;
	copy_all_shipped(dir);
	unit_put_file(dir, "zz-site.rules", "# a site's own rules\n\nmodel:acme   \\bACME-\\d+(\n");
	load_fails(dir, "/zz-site.rules:3: missing closing parenthesis");
	rmdir_all(dir);
}

static void
test_unknown_class(void **state)
{
	char *dir = mkdir_tmp();

	(void)state;
	copy_all_shipped(dir);
	unit_put_file(dir, "zz-site.rules", "model:acme \\bACME-\\d+\nserial.lable  \\bSerie\\b\n");
	load_fails(dir, "/zz-site.rules:2: unknown rule class \"serial.lable\"");
	rmdir_all(dir);
}

static void
test_missing_required_class(void **state)
{
	char *dir = mkdir_tmp();

	(void)state;
	/* the catalog alone: no ticket.label, the first required class */
	copy_shipped(dir, "models.rules");
	load_fails(dir, ": no \"ticket.label\" rules");
	/* tickets too, but no serial.label */
	copy_shipped(dir, "tickets.rules");
	load_fails(dir, ": no \"serial.label\" rules");
	rmdir_all(dir);
}

static void
test_other_load_errors(void **state)
{
	char *dir = mkdir_tmp();
	char line[5000];

	(void)state;
	load_fails(dir, ": no *.rules files");
	copy_all_shipped(dir);
	unit_put_file(dir, "zz.rules", "language  \\bhola\\b\n");
	load_fails(dir, "/zz.rules:1: language rules need a name");
	unit_put_file(dir, "zz.rules", "\n  model:acme\n");
	load_fails(dir, "/zz.rules:2: model: missing pattern");
	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	memcpy(line, "model ", 6);
	unit_put_file(dir, "zz.rules", line);
	load_fails(dir, "/zz.rules:1: line longer than");
	/* two rules that compile alone but not as one alternation */
	unit_put_file(dir, "zz.rules", "model:a (?<n>ACME\\d+)\nmodel:b (?<n>EMCA\\d+)\n");
	load_fails(dir, ": model rules do not combine");
	/* files that do not end in .rules are ignored */
	unit_put_file(dir, "zz.rules", "# nothing\n");
	unit_put_file(dir, "README.md", "bogus.class  x\n");
	{
		char err[512] = "";
		struct rules *rs = rules_load(dir, err, sizeof(err));

		assert_non_null(rs);
		assert_int_equal(rules_count(rs), rules_count(shipped));
		rules_unref(rs);
	}
	rmdir_all(dir);
	{
		char err[512] = "";

		assert_null(rules_load("/nonexistent/rules", err, sizeof(err)));
		assert_string_equal(err, "/nonexistent/rules: No such file or directory");
	}
}

static void
test_site_catalog_replaces_models(void **state)
{
	char *dir = mkdir_tmp();
	char err[512] = "", *s = "Defect: ACME-7000 en SE5000H";
	struct rules *rs;
	struct rscan sc;
	struct rmatch m;

	(void)state;
	copy_all_shipped(dir);
	unit_put_file(dir, "models.rules", "# site catalog\nmodel:acme  \\bACME-\\d{4}\\b\n");
	rs = rules_load(dir, err, sizeof(err));
	assert_non_null(rs);
	assert_int_equal(rscan_init(&sc), 0);
	assert_int_equal(rules_find(rs, RC_MODEL, &sc, s, strlen(s), 0, &m), 1);
	assert_int_equal(m.start, 8);
	assert_string_equal(m.name, "acme");
	/* the shipped catalog is gone */
	assert_int_equal(rules_find(rs, RC_MODEL, &sc, s, strlen(s), m.end, &m), 0);
	rscan_free(&sc);
	rules_unref(rs);
	rmdir_all(dir);
}

static void
test_match_limit(void **state)
{
	char *dir = mkdir_tmp();
	char err[512] = "", s[64];
	struct rules *rs;
	struct rscan sc;
	struct rmatch m;

	(void)state;
	copy_all_shipped(dir);
	/* catastrophic backtracking: the limit stops it and says so */
	unit_put_file(dir, "zz.rules", "escalate   ^(?:a|aa)+$\n");
	rs = rules_load(dir, err, sizeof(err));
	assert_non_null(rs);
	memset(s, 'a', 60);
	s[60] = 'b';
	s[61] = '\0';
	assert_int_equal(rscan_init(&sc), 0);
	assert_false(sc.limit_hit);
	assert_int_equal(rules_find(rs, RC_ESCALATE, &sc, s, strlen(s), 0, &m), 0);
	assert_true(sc.limit_hit);
	rscan_free(&sc);
	rules_unref(rs);
	rmdir_all(dir);
}

static void
test_refcount(void **state)
{
	(void)state;
	rules_ref(shipped);
	rules_unref(shipped);
	assert_true(rules_count(shipped) > 0);
	rules_unref(NULL);
}

/*
 * Without the JIT, texts declared valid (rscan_set_valid) are matched by a
 * twin compiled without PCRE2_MATCH_INVALID_UTF: the same answers, but no
 * UTF check of the rest of the text at every call.
 */
static void
test_declared_valid(void **state)
{
	static const char text[] = "Dear team, ticket number TCK-204518 and serial number "
	    "HV2150123456 of our SUN2000-5KTL-L1, caf\xc3\xa9 \xe2\x82\xac 5.\n";
	static const enum rule_class cls[] = { RC_TICKET_LABEL, RC_SERIAL_LABEL, RC_MODEL,
		RC_LANG, RC_TICKET_BARE };
	char err[512] = "", *copy;
	struct rules *nojit;
	struct rscan plain, valid;
	size_t len = sizeof(text) - 1;

	(void)state;
	setenv("CM_RULES_NO_JIT", "1", 1);
	nojit = rules_load(RULES_DIR, err, sizeof(err));
	unsetenv("CM_RULES_NO_JIT");
	assert_non_null(nojit);
	assert_int_equal(rscan_init(&plain), 0);
	assert_int_equal(rscan_init(&valid), 0);
	copy = strdup(text);
	assert_non_null(copy);
	/* invalid UTF-8 is refused; two texts at most */
	assert_int_equal(rscan_set_valid(&valid, "a\xff", 2), -1);
	assert_int_equal(rscan_set_valid(&valid, "\xed\xa0\x80", 3), -1);	/* a surrogate */
	assert_int_equal(rscan_set_valid(&valid, copy, len), 0);
	assert_int_equal(rscan_set_valid(&valid, "x", 1), 0);
	assert_int_equal(rscan_set_valid(&valid, "y", 1), -1);
	for (size_t k = 0; k < sizeof(cls) / sizeof(cls[0]); k++) {
		for (size_t off = 0; off < len; off += 7) {
			struct rmatch a, b, c;
			int ra = rules_find(nojit, cls[k], &plain, copy, len, off, &a);
			int rb = rules_find(nojit, cls[k], &valid, copy, len, off, &b);
			int rc = rules_find(shipped, cls[k], &plain, copy, len, off, &c);

			assert_int_equal(ra, rb);
			assert_int_equal(ra, rc);
			if (ra == 1)
				assert_true(a.start == b.start && a.end == b.end &&
				    a.start == c.start && a.end == c.end);
		}
	}
	assert_false(plain.limit_hit || valid.limit_hit);
	free(copy);
	rscan_free(&plain);
	rscan_free(&valid);
	rules_unref(nojit);
}

/*
 * The prefilter (byte pairs, hashed triples, candidate lists per text) must
 * give exactly the leftmost match pcre2 gives alone (CM_RULES_NO_PREFILTER):
 * on random texts made of the rules' own words, UTF-8 and invalid bytes,
 * scanned match after match as extract.c does, over whole texts and over
 * growing and shrinking windows of one text with one rscan (its cache).
 */
static const char *const pf_tokens[] = {
	"ticket", "Ticketnummer", "ticket nr.", "ticket #", "TCK-", "Vorgangsnummer",
	"meldingsnummer", "num\xc3\xa9ro de ticket", "n\xc2\xb0", "serienummer",
	"Seriennummer", "serial number", "S/N", "SN:", "no", "nr", "SB 5.0-1AV-41",
	"SUN2000-5KTL-L1", "Sunny Boy", "klacht over de service", "product complaint",
	"Beschwerde \xc3\xbc" "ber den Service", "r\xc3\xa9" "clamation du produit",
	"oplossing:", "idee voor", "suggestion:", "escaleren", "ombudsman", "het", "the",
	"und", "le", "Gr\xc3\xbc\xc3\x9f" "e", "\xc3\xa9t\xc3\xa9", "\xe2\x82\xac",
	"\xff", "\xc3", "\x80", " ", " ", " ", "\n", "\n\n", ":", "#", "-", ".", ",", "(",
	"0", "7", "12", "2026", "204518", "HV2150123456", "a", "S", "x_", "TCK", "ti", "se",
	"sn", "Snr", "es", "esc", "pas", "oplo", "\xc3\xbc" "ber den Service beschweren",
	"\xc3\x9c" "ber Ihren Kundendienst beschweren", "L\xc3\xb6sungsvorschlag:",
	"m\xc3\xa9" "content", "\xc3\xa9", "\xc3\xbc", "n\xc2\xba de s\xc3\xa9rie", "\xc2\xa0",
};

static uint32_t
pf_rand(uint32_t *st)
{
	*st ^= *st << 13;
	*st ^= *st >> 17;
	*st ^= *st << 5;
	return *st;
}

static void
pf_compare(struct rules *pf, struct rules *plain, struct rscan *sc, enum rule_class rc,
    const char *s, size_t len, size_t off)
{
	struct rscan one;
	struct rmatch a, b;
	int ra, rb;

	assert_int_equal(rscan_init(&one), 0);
	ra = rules_find(plain, rc, &one, s, len, off, &a);
	rscan_free(&one);
	rb = rules_find(pf, rc, sc, s, len, off, &b);
	if (ra != rb || (ra == 1 && (a.start != b.start || a.end != b.end)))
		fail_msg("%s at %zu of %zu: pcre2 %d [%zu,%zu), prefilter %d [%zu,%zu) in \"%.*s\"",
		    rules_class_name(rc), off, len, ra, ra == 1 ? a.start : 0, ra == 1 ? a.end : 0,
		    rb, rb == 1 ? b.start : 0, rb == 1 ? b.end : 0, (int)len, s);
}

/* rules_load(dir) with the prefilter off. */
static struct rules *
load_plain(const char *dir)
{
	char err[512] = "";
	struct rules *rs;

	setenv("CM_RULES_NO_PREFILTER", "1", 1);
	rs = rules_load(dir, err, sizeof(err));
	unsetenv("CM_RULES_NO_PREFILTER");
	if (rs == NULL)
		fail_msg("%s: %s", dir, err);
	return rs;
}

/* Random texts of tok[], every searched class: pf must answer as plain. */
static void
pf_run(struct rules *pf, struct rules *plain, const char *const *tok, size_t ntok, int rounds)
{
	static const enum rule_class cls[] = { RC_TICKET_LABEL, RC_TICKET_BARE,
		RC_SERIAL_LABEL, RC_MODEL, RC_KIND_SERVICE, RC_KIND_PRODUCT,
		RC_SOLUTION_LABEL, RC_LANG, RC_ESCALATE, RC_AUTO_SUBJECT };
	size_t ncls = sizeof(cls) / sizeof(cls[0]);
	char text[2048];
	uint32_t st = 0x9e3779b9u;

	for (int round = 0; round < rounds; round++) {
		size_t len = 0;
		struct rscan sc;

		while (len < sizeof(text) - 64 && len < 40 + (size_t)round * 6) {
			const char *t = tok[pf_rand(&st) % ntok];

			memcpy(text + len, t, strlen(t));
			len += strlen(t);
		}
		/* one rscan per text, as one message has: whole-text scans */
		assert_int_equal(rscan_init(&sc), 0);
		for (size_t k = 0; k < ncls; k++) {
			struct rmatch m;
			size_t off = 0;

			pf_compare(pf, plain, &sc, cls[k], text, len, off);
			while (off < len && rules_find(pf, cls[k], &sc, text, len, off, &m) == 1) {
				off = m.end > m.start ? m.end : m.start + 1;
				pf_compare(pf, plain, &sc, cls[k], text, len, off);
			}
		}
		/*
		 * windows of the same text, shorter than what the cache has seen
		 * (every window end in the shorter texts, then a random sample)
		 */
		for (size_t we = 1; we <= len; we += round < 100 ? 1 : 1 + pf_rand(&st) % 9)
			for (size_t k = 0; k < ncls; k++)
				pf_compare(pf, plain, &sc, cls[k], text, we, we > 12 ? we - 12 : 0);
		rscan_free(&sc);
		/* growing windows with a fresh rscan: the cache is extended */
		assert_int_equal(rscan_init(&sc), 0);
		for (size_t we = 1; we <= len; we += 1 + pf_rand(&st) % 5)
			for (size_t k = 0; k < ncls; k++)
				pf_compare(pf, plain, &sc, cls[k], text, we, we > 12 ? we - 12 : 0);
		rscan_free(&sc);
	}
}

static void
test_prefilter_same_answers(void **state)
{
	struct rules *plain = load_plain(RULES_DIR);

	(void)state;
	pf_run(shipped, plain, pf_tokens, sizeof(pf_tokens) / sizeof(pf_tokens[0]), 300);
	rules_unref(plain);
}

/*
 * Rules that tell case apart ((?-i), \p{Lu}) get triples probed in every
 * case; the answers stay pcre2's.
 */
static void
test_prefilter_case_sensitive(void **state)
{
	static const char *const tok[] = { "ESCalade", "escalade", "Escalade", "ESCALADE",
		"SNrX", "snrx", "SNRX", "SnRx", "Mad", "mad", "MAD", " ", "\n", "-", "x", "1" };
	char *dir = mkdir_tmp(), err[512] = "";
	struct rules *pf, *plain;

	(void)state;
	copy_all_shipped(dir);
	unit_put_file(dir, "zz-case.rules",
	    "escalate (?-i:ESC)alade\\b\n"
	    "serial.label \\bSNr(?-i:X)\\b\n"
	    "kind.service \\b\\p{Lu}ad\\b\n");
	pf = rules_load(dir, err, sizeof(err));
	if (pf == NULL)
		fail_msg("%s", err);
	plain = load_plain(dir);
	pf_run(pf, plain, tok, sizeof(tok) / sizeof(tok[0]), 120);
	rules_unref(pf);
	rules_unref(plain);
	rmdir_all(dir);
}

/*
 * Rules that can start after a word character, with a character of two or
 * three bytes, behind a lookbehind, with \B or \G: the prefilter's probes
 * (two contexts, lookbehinds left out, word starts) must still give
 * pcre2's answers.
 */
static void
test_prefilter_exotic(void **state)
{
	static const char *const tok[] = { "-x1", "a-x2", "25\xc2\xb0" "C", "\xc2\xb0" "C",
		"\xe2\x82\xac" "12", "x\xe2\x82\xac" "3", "#123", "a#123", "zz1", "azz2", "xfoo",
		"foo", "\xc3\xa9-x3", "\xc3\xa9\xc2\xb0" "C", "barq", "xbarq", " ", "\n", "x", "1", "#",
		"\xe2\x80\xa2 ", "ab" };
	char *dir = mkdir_tmp(), err[512] = "";
	struct rules *pf, *plain;

	(void)state;
	copy_all_shipped(dir);
	unit_put_file(dir, "zz-exotic.rules",
	    "escalate \\b-x\\d\n"
	    "escalate \xc2\xb0" "C\\b\n"
	    "ticket.label \xe2\x82\xac\\d+\n"
	    "kind.service (?<=#)\\d{3}\n"
	    "kind.product (?<!\\w)zz\\d\n"
	    "solution.label \\Bfoo\n"
	    "serial.label \\Gbarq\n");
	pf = rules_load(dir, err, sizeof(err));
	if (pf == NULL)
		fail_msg("%s", err);
	plain = load_plain(dir);
	pf_run(pf, plain, tok, sizeof(tok) / sizeof(tok[0]), 150);
	rules_unref(pf);
	rules_unref(plain);
	rmdir_all(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_load),
		cmocka_unit_test(test_match_reports_rule),
		cmocka_unit_test(test_caseless_and_utf),
		cmocka_unit_test(test_anchored_classes),
		cmocka_unit_test(test_value_classes),
		cmocka_unit_test(test_bad_regex_names_file_and_line),
		cmocka_unit_test(test_unknown_class),
		cmocka_unit_test(test_missing_required_class),
		cmocka_unit_test(test_other_load_errors),
		cmocka_unit_test(test_site_catalog_replaces_models),
		cmocka_unit_test(test_match_limit),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_declared_valid),
		cmocka_unit_test(test_prefilter_same_answers),
		cmocka_unit_test(test_prefilter_case_sensitive),
		cmocka_unit_test(test_prefilter_exotic),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
