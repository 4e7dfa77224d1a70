/*
 * fuzz_rules.c - libFuzzer harness: bytes as a rules file.
 *
 * The input is written as the only NAME.rules file of a private directory
 * and loaded with rules_load(); a set that loads is then matched, every
 * class, against a fixed complaint text (pcre2's match limits keep a
 * pattern that backtracks from hanging: it must count as no match).
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rules *rs;
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
	if (rscan_init(&sc) == 0) {
		for (int rc = 0; rc < RC__COUNT; rc++) {
			size_t off = 0, len = sizeof(sample) - 1;

			while (off < len && rules_find(rs, (enum rule_class)rc, &sc, sample, len, off,
			    &m) == 1) {
				if (m.end < m.start || m.end > len)
					abort();
				off = m.end > off ? m.end : off + 1;
			}
		}
		rscan_free(&sc);
	}
	rules_unref(rs);
	return 0;
}
