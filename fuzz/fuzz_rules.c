/*
 * fuzz_rules.c - libFuzzer harness: bytes as a rules file.
 *
 * The input is written as the only NAME.rules file of a private directory
 * and loaded with rules_load(); a set that loads is then matched, every
 * class, against a fixed complaint text (pcre2's match limits keep a
 * pattern that backtracks from hanging: it must count as no match), and
 * every answer is compared with the same rules loaded without the
 * prefilter (CM_RULES_NO_PREFILTER): a difference is a crash.
 */
#include "rules.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64], path[128];

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static const char sample[] =
    "Dear Sir or Madam,\n\nOur inverter SUN2000-5KTL-L1 has stopped.\n"
    "Serial number: HV2150123456, ticket TCK-204518\n> quoted\n"
    "On Mon, 1 Jan 2026, Jan wrote:\nKind regards,\nJan \xff\xfe\n";

/*
 * pcre2 alone (plain: loaded with CM_RULES_NO_PREFILTER) must find what the
 * prefilter found (r, m): a difference aborts.  A match or depth limit hit
 * on either side makes the answers incomparable.
 */
static void
same_as_plain(struct rules *plain, enum rule_class rc, const char *s, size_t len, size_t off,
    int r, const struct rmatch *m, struct rscan *sc)
{
	struct rscan one;
	struct rmatch pm;
	int pr;

	if (rscan_init(&one) < 0)
		return;
	pr = rules_find(plain, rc, &one, s, len, off, &pm);
	if (!one.limit_hit && !sc->limit_hit &&
	    (pr != r || (r == 1 && (pm.start != m->start || pm.end != m->end))))
		abort();
	rscan_free(&one);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules *rs, *plain;
	struct rscan sc;
	struct rmatch m;
	char err[1024];
	FILE *fp;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/cm-fuzz-rules.XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof(path), "%s/fuzz.rules", dir);
		atexit(cleanup);
	}
	if ((fp = fopen(path, "wb")) == NULL)
		abort();
	if (size && fwrite(data, 1, size, fp) != size)
		abort();
	fclose(fp);
	rs = rules_load(dir, err, sizeof(err));
	if (rs == NULL) {
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
			abort();	/* a failed load always says why */
		return 0;
	}
	/* the same rules without the prefilter: every answer must be the same */
	setenv("CM_RULES_NO_PREFILTER", "1", 1);
	plain = rules_load(dir, err, sizeof(err));
	unsetenv("CM_RULES_NO_PREFILTER");
	if (plain == NULL)
		abort();	/* it loaded with the prefilter */
	if (rscan_init(&sc) == 0) {
		for (int rc = 0; rc < RC__COUNT; rc++) {
			size_t off = 0, len = sizeof(sample) - 1;

			for (;;) {
				int r = rules_find(rs, (enum rule_class)rc, &sc, sample, len, off, &m);

				same_as_plain(plain, (enum rule_class)rc, sample, len, off, r, &m, &sc);
				if (r != 1 || off >= len)
					break;
				if (m.end < m.start || m.end > len)
					abort();
				off = m.end > off ? m.end : off + 1;
			}
			/* windows shorter than the text the scan has cached */
			for (size_t we = 7; we < len; we += 23) {
				int r = rules_find(rs, (enum rule_class)rc, &sc, sample, we, we / 2, &m);

				same_as_plain(plain, (enum rule_class)rc, sample, we, we / 2, r, &m, &sc);
			}
		}
		rscan_free(&sc);
	}
	rules_unref(plain);
	rules_unref(rs);
	return 0;
}
