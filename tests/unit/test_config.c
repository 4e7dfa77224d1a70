/*
 * test_config.c - unit tests of the configuration: typed keys, defaults,
 * "file:line: message" errors, Recipient matching.
 */
#include "unit.h"
#include "config.h"

#include <unistd.h>

/* Write text to a new temporary file; the caller unlinks and frees the path. */
static char *
tmpconf(const char *text)
{
	char *path = strdup("/tmp/test_config.XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* Load text as a config file; must succeed. */
static struct config *
load_ok(const char *text)
{
	char err[512] = "";
	char *path = tmpconf(text);
	struct config *cf = config_load(path, err, sizeof(err));

	if (cf == NULL)
		fail_msg("config_load failed: %s", err);
	assert_string_equal(cf->path, path);
	unlink(path);
	free(path);
	return cf;
}

/* Load text as a config file; must fail with "PATH<want>" as the message. */
static void
load_fails(const char *text, const char *want)
{
	char err[512] = "";
	char expect[700];
	char *path = tmpconf(text);
	struct config *cf = config_load(path, err, sizeof(err));

	assert_null(cf);
	snprintf(expect, sizeof(expect), "%s%s", path, want);
	if (strncmp(err, expect, strlen(expect)) != 0)
		fail_msg("error \"%s\", expected it to start with \"%s\"", err, expect);
	unlink(path);
	free(path);
}

static void
test_defaults(void **state)
{
	struct config *cf = config_defaults();

	(void)state;
	assert_non_null(cf);
	assert_string_equal(cf->path, "");
	assert_string_equal(cf->socket, "local:/run/complaint-milter/complaint-milter.sock");
	assert_int_equal(cf->socket_mode, 0660);
	assert_string_equal(cf->socket_group, "");
	assert_int_equal(cf->recipients.n, 0);
	assert_int_equal(cf->incomplete_action, INCOMPLETE_REJECT);
	assert_string_equal(cf->rules_dir, "/etc/complaint-milter/rules");
	assert_string_equal(cf->case_id_prefix, "CASE");
	assert_string_equal(cf->case_id_node, "");
	assert_false(cf->case_id_check);
	assert_int_equal(cf->max_scan_size, 256 * 1024);
	assert_int_equal(cf->busy_timeout_ms, 5000);
	assert_string_equal(cf->reply_language_fallback, "en");
	assert_int_equal(cf->reply_rate_limit, 5);
	assert_int_equal(cf->staff.n, 0);
	config_unref(cf);
}

static void
test_typed_keys(void **state)
{
	struct config *cf;

	(void)state;
	cf = load_ok("# complaint-milter.conf\n"
	    "\n"
	    "Socket        inet:8891@127.0.0.1\n"
	    "socketmode    0600      # octal\n"
	    "SOCKETGROUP   postfix\n"
	    "IncompleteAction  Flag\n"
	    "MaxScanSize   64k\n"
	    "DatabaseBusyTimeout 250\n"
	    "CaseIdPrefix  KLACHT\n"
	    "CaseIdNode    MX2\n"
	    "CaseIdCheckChar yes\n"
	    "ReplyLanguageFallback nl\n"
	    "HolidayCountry be\n"
	    "ReplyRateLimit 0\n"
	    "\tStaff   @Example.COM\n"
	    "Staff   Boss@Example.com\n");
	assert_string_equal(cf->socket, "inet:8891@127.0.0.1");
	assert_int_equal(cf->socket_mode, 0600);
	assert_string_equal(cf->socket_group, "postfix");
	assert_int_equal(cf->incomplete_action, INCOMPLETE_FLAG);
	assert_int_equal(cf->max_scan_size, 64 * 1024);
	assert_int_equal(cf->busy_timeout_ms, 250);
	assert_string_equal(cf->case_id_prefix, "KLACHT");
	assert_string_equal(cf->case_id_node, "MX2");
	assert_true(cf->case_id_check);
	assert_string_equal(cf->reply_language_fallback, "nl");
	assert_int_equal(cf->reply_rate_limit, 0);
	/* lists keep their order and are lower case */
	assert_int_equal(cf->staff.n, 2);
	assert_string_equal(cf->staff.v[0], "@example.com");
	assert_string_equal(cf->staff.v[1], "boss@example.com");
	/* keys not in the file keep their defaults */
	assert_string_equal(cf->rules_dir, "/etc/complaint-milter/rules");
	config_unref(cf);
}

static void
test_sizes_and_bools(void **state)
{
	struct config *cf;

	(void)state;
	cf = load_ok("MaxScanSize 1M\nCaseIdCheckChar true\nIncompleteAction quarantine\n");
	assert_int_equal(cf->max_scan_size, 1024 * 1024);
	assert_true(cf->case_id_check);
	assert_int_equal(cf->incomplete_action, INCOMPLETE_QUARANTINE);
	config_unref(cf);
	cf = load_ok("MaxScanSize 4096\nCaseIdCheckChar off\nIncompleteAction REJECT\n");
	assert_int_equal(cf->max_scan_size, 4096);
	assert_false(cf->case_id_check);
	assert_int_equal(cf->incomplete_action, INCOMPLETE_REJECT);
	config_unref(cf);
	/* the last of a repeated scalar key wins */
	cf = load_ok("MaxScanSize 1k\nMaxScanSize 2k\n");
	assert_int_equal(cf->max_scan_size, 2048);
	config_unref(cf);
}

static void
test_errors_name_file_and_line(void **state)
{
	(void)state;
	load_fails("# comment\n\nNoSuchKey 1\n", ":3: unknown key \"NoSuchKey\"");
	load_fails("MaxScanSize 12q\n", ":1: MaxScanSize: expected a size");
	load_fails("Socket local:/x\nMaxScanSize 0\n", ":2: MaxScanSize: expected a size");
	load_fails("MaxScanSize -5\n", ":1: MaxScanSize: expected a size");
	load_fails("CaseIdCheckChar maybe\n", ":1: CaseIdCheckChar: expected yes or no");
	load_fails("\n\nIncompleteAction drop\n", ":3: IncompleteAction: expected reject, flag or quarantine");
	load_fails("SocketMode 0999\n", ":1: SocketMode: expected an octal file mode");
	load_fails("SocketMode 01777\n", ":1: SocketMode: expected an octal file mode");
	load_fails("DatabaseBusyTimeout soon\n", ":1: DatabaseBusyTimeout: expected a whole number");
	load_fails("ReplyRateLimit 5x\n", ":1: ReplyRateLimit: expected a whole number");
	load_fails("MaxScanSize\n", ":1: MaxScanSize: missing value");
	load_fails("Recipient complaints\n", ":1: Recipient: a recipient must be an address");
	load_fails("Recipient <>\n", ":1: Recipient: empty value");
}

static void
test_errors_of_meaning(void **state)
{
	(void)state;
	/* checks of a value's meaning name the key, not a line */
	load_fails("CaseIdPrefix case\n", ": CaseIdPrefix: must be upper-case letters A-Z");
	load_fails("CaseIdPrefix ABCDEFGHIJK\n", ": CaseIdPrefix: must be 1 to 10 letters");
	load_fails("CaseIdNode mx-1\n", ": CaseIdNode: must be");
	load_fails("ReplyLanguageFallback es\n", ": ReplyLanguageFallback: must be nl, en, de or fr");
	load_fails("HolidayCountry US\n", ": HolidayCountry: must be NL, BE, DE, FR, GB or none");
	load_fails("ReplyTransport pigeon\n", ": ReplyTransport: must be smtp:HOST:PORT or sendmail:/PATH");
	load_fails("Socket tcp:25\n", ": Socket: must be local:PATH");
}

static void
test_missing_file(void **state)
{
	char err[512] = "";

	(void)state;
	assert_null(config_load("/nonexistent/complaint-milter.conf", err, sizeof(err)));
	assert_string_equal(err, "/nonexistent/complaint-milter.conf: No such file or directory");
}

static void
test_recipient(void **state)
{
	struct config *cf;

	(void)state;
	cf = load_ok("Recipient <Complaints@Example.COM>\nRecipient klachten@example.nl\n");
	assert_int_equal(cf->recipients.n, 2);
	assert_string_equal(cf->recipients.v[0], "complaints@example.com");
	assert_true(config_is_recipient(cf, "complaints@example.com"));
	assert_true(config_is_recipient(cf, "<complaints@example.com>"));
	assert_true(config_is_recipient(cf, "COMPLAINTS@EXAMPLE.COM"));
	assert_true(config_is_recipient(cf, "Complaints+NL@example.com"));
	assert_true(config_is_recipient(cf, "<klachten+urgent+2@Example.NL>"));
	assert_false(config_is_recipient(cf, "complaints@example.org"));
	assert_false(config_is_recipient(cf, "other@example.com"));
	assert_false(config_is_recipient(cf, "complaintsx@example.com"));
	assert_false(config_is_recipient(cf, "complaints"));
	assert_false(config_is_recipient(cf, ""));
	config_unref(cf);
	/* no Recipient at all: nothing is a complaints address */
	cf = config_defaults();
	assert_false(config_is_recipient(cf, "complaints@example.com"));
	config_unref(cf);
}

static void
test_dump_reloads(void **state)
{
	struct config *a, *b;
	char *path = strdup("/tmp/test_config_dump.XXXXXX");
	char err[512] = "";
	FILE *fp;
	int fd;

	(void)state;
	a = load_ok("Recipient complaints@example.com\nMaxScanSize 8k\nIncompleteAction flag\n"
	    "CaseIdNode A1\nStaff @example.com\n");
	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	config_dump(a, fp);
	fclose(fp);
	b = config_load(path, err, sizeof(err));
	if (b == NULL)
		fail_msg("dump does not load: %s", err);
	assert_int_equal(b->max_scan_size, 8192);
	assert_int_equal(b->incomplete_action, INCOMPLETE_FLAG);
	assert_string_equal(b->case_id_node, "A1");
	assert_int_equal(b->socket_mode, a->socket_mode);
	assert_string_equal(b->socket, a->socket);
	assert_int_equal(b->recipients.n, 1);
	assert_int_equal(b->staff.n, 1);
	unlink(path);
	free(path);
	config_unref(a);
	config_unref(b);
}

static void
test_refcount(void **state)
{
	struct config *cf = config_defaults();

	(void)state;
	config_ref(cf);
	assert_int_equal(cf->refs, 2);
	config_unref(cf);
	assert_int_equal(cf->refs, 1);
	assert_string_equal(cf->case_id_prefix, "CASE");
	config_unref(cf);
	config_unref(NULL);
}

static void
test_describe(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(fp);
	config_describe(fp);
	fclose(fp);
	assert_non_null(strstr(buf, "MaxScanSize"));
	assert_non_null(strstr(buf, "Recipient"));
	assert_non_null(strstr(buf, "IncompleteAction"));
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_typed_keys),
		cmocka_unit_test(test_sizes_and_bools),
		cmocka_unit_test(test_errors_name_file_and_line),
		cmocka_unit_test(test_errors_of_meaning),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_recipient),
		cmocka_unit_test(test_dump_reloads),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
