/*
 * fuzz_config.c - libFuzzer harness: bytes as a configuration file.
 *
 * The input is written to a private file and loaded with config_load(); a
 * configuration that loads is dumped (as complaint-milter -K would print
 * it) and asked about a few recipients.  A refused one must say why.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];
static FILE *devnull;

static void
cleanup(void)
{
	unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cf;
	char err[1024];
	FILE *fp;

	if (path[0] == '\0') {
		int fd;

		snprintf(path, sizeof(path), "/tmp/cm-fuzz-conf.XXXXXX");
		if ((fd = mkstemp(path)) < 0)
			abort();
		close(fd);
		atexit(cleanup);
		if ((devnull = fopen("/dev/null", "w")) == NULL)
			abort();
	}
	if ((fp = fopen(path, "wb")) == NULL)
		abort();
	if (size && fwrite(data, 1, size, fp) != size)
		abort();
	fclose(fp);
	err[0] = '\0';
	cf = config_load(path, err, sizeof(err));
	if (cf == NULL) {
		if (err[0] == '\0')
			abort();
		return 0;
	}
	config_dump(cf, devnull);
	(void)config_is_recipient(cf, "<complaints@example.com>");
	(void)config_is_recipient(cf, "Complaints+NL@Example.COM");
	(void)config_is_recipient(cf, "");
	config_unref(cf);
	return 0;
}
