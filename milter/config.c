/*
 * config.c - typed configuration keys, parsing and checking.
 *
 * Every key lives in one table: its name, its type, where it goes in struct
 * config, its default and one line of documentation.  The parser, the -n
 * check, the dump and the man page all follow this table.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

enum ktype {
	KT_STRING,	/* any non-empty text */
	KT_LIST,	/* repeatable; each line adds one value */
	KT_UINT,	/* decimal unsigned */
	KT_OCTAL,	/* file mode */
	KT_SIZE,	/* bytes, with optional k/K/m/M suffix */
	KT_BOOL,	/* yes/no/true/false/1/0 */
	KT_ACTION,	/* reject | flag | quarantine */
};

struct key {
	const char *name;
	enum ktype type;
	size_t off;
	const char *def;	/* default as the file would say it; NULL = none */
	const char *doc;
};

#define O(f) offsetof(struct config, f)
static const struct key keys[] = {
	{ "Socket", KT_STRING, O(socket), "local:/run/complaint-milter/complaint-milter.sock",
	  "libmilter socket: local:PATH (unix), inet:PORT@HOST or inet6:PORT@HOST" },
	{ "SocketMode", KT_OCTAL, O(socket_mode), "0660",
	  "permissions of a unix socket" },
	{ "SocketGroup", KT_STRING, O(socket_group), "",
	  "group of a unix socket (e.g. postfix); empty keeps the daemon's group" },
	{ "Recipient", KT_LIST, O(recipients), NULL,
	  "a complaints address (repeatable); case-insensitive, +detail is ignored" },
	{ "IncompleteAction", KT_ACTION, O(incomplete_action), "reject",
	  "new complaint lacking required data: reject (550 during SMTP), flag, quarantine" },
	{ "Database", KT_STRING, O(database), "/var/lib/complaint-milter/cases.sqlite",
	  "SQLite database of cases" },
	{ "DatabaseBusyTimeout", KT_UINT, O(busy_timeout_ms), "5000",
	  "milliseconds to wait for a locked database before answering 4xx" },
	{ "RulesDir", KT_STRING, O(rules_dir), "/etc/complaint-milter/rules",
	  "directory of *.rules files" },
	{ "CaseIdPrefix", KT_STRING, O(case_id_prefix), "CASE",
	  "letters before the year in case IDs (A-Z, 1-10 characters)" },
	{ "CaseIdNode", KT_STRING, O(case_id_node), "",
	  "optional node component (1-4 letters/digits) so several hosts never clash" },
	{ "CaseIdCheckChar", KT_BOOL, O(case_id_check), "no",
	  "append and verify a check character on case IDs" },
	{ "UserID", KT_STRING, O(user_id), "",
	  "user[:group] to run as after opening the socket; required when started as root" },
	{ "PidFile", KT_STRING, O(pid_file), "",
	  "write the daemon's pid here" },
	{ "SyslogFacility", KT_STRING, O(syslog_facility), "mail",
	  "syslog facility (mail, daemon, local0..local7)" },
	{ "MaxScanSize", KT_SIZE, O(max_scan_size), "256k",
	  "bytes of decoded text examined per message" },
	{ "ReplyFrom", KT_STRING, O(reply_from), "Complaints <complaints@example.com>",
	  "From of acknowledgements: display name and complaints address" },
	{ "ReplyTransport", KT_STRING, O(reply_transport), "sendmail:/usr/sbin/sendmail",
	  "how replies leave: smtp:HOST:PORT or sendmail:PATH" },
	{ "ReplyLanguageFallback", KT_STRING, O(reply_language_fallback), "en",
	  "reply language when the complaint's is unknown (nl, en, de, fr)" },
	{ "HolidayCountry", KT_STRING, O(holiday_country), "NL",
	  "public holidays skipped in working-day deadlines (NL, BE, DE, FR, GB, none)" },
	{ "HolidaysDir", KT_STRING, O(holidays_dir), "/etc/complaint-milter/holidays",
	  "holiday rules COUNTRY.holidays and closing.days (format: conf/holidays/README.md)" },
	{ "ReplyRateLimit", KT_UINT, O(reply_rate_limit), "5",
	  "at most this many replies per customer address per ReplyRatePeriod (0: none)" },
	{ "ReplyRatePeriod", KT_UINT, O(reply_rate_period), "86400",
	  "seconds over which ReplyRateLimit counts replies" },
	{ "ReplyRetryBase", KT_UINT, O(reply_retry_base), "60",
	  "seconds before the first retry of a failed submission; doubles, at most 1 hour" },
	{ "TemplatesDir", KT_STRING, O(templates_dir), "/etc/complaint-milter/templates",
	  "reply templates, one directory per language" },
	{ "Staff", KT_LIST, O(staff), NULL,
	  "staff address or @domain (repeatable): their tagged mail is recorded on the case" },
};
#undef O
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *
action_name(enum incomplete_action a)
{
	return a == INCOMPLETE_FLAG ? "flag" :
	    a == INCOMPLETE_QUARANTINE ? "quarantine" : "reject";
}

static int
parse_size(const char *v, size_t *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	if (!isdigit((unsigned char)*v))
		return -1;
	n = strtoull(v, &end, 10);
	if (errno)
		return -1;
	if (*end == 'k' || *end == 'K') {
		n *= 1024;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		n *= 1024 * 1024;
		end++;
	}
	if (*end != '\0' || n == 0 || n > (1ULL << 31))
		return -1;
	*out = (size_t)n;
	return 0;
}

static int
parse_bool(const char *v, bool *out)
{
	if (str_ieq(v, "yes") || str_ieq(v, "true") || strcmp(v, "1") == 0 || str_ieq(v, "on"))
		*out = true;
	else if (str_ieq(v, "no") || str_ieq(v, "false") || strcmp(v, "0") == 0 || str_ieq(v, "off"))
		*out = false;
	else
		return -1;
	return 0;
}

/* Lower-case an address and drop <>; used for Recipient and Staff. */
static void
addr_lower(char *s)
{
	size_t n;

	if (*s == '<')
		memmove(s, s + 1, strlen(s));
	n = strlen(s);
	if (n && s[n - 1] == '>')
		s[n - 1] = '\0';
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static const char *
key_set(struct config *cf, const struct key *k, const char *v)
{
	void *p = (char *)cf + k->off;
	char *end;
	unsigned long n;

	switch (k->type) {
	case KT_STRING: {
		char *copy = strdup(v);

		if (copy == NULL)
			return "out of memory";
		free(*(char **)p);
		*(char **)p = copy;
		return NULL;
	}
	case KT_LIST: {
		char tmp[512];

		if (strlen(v) >= sizeof(tmp))
			return "value too long";
		strcpy(tmp, v);
		addr_lower(tmp);
		if (*tmp == '\0')
			return "empty value";
		if (k->off == offsetof(struct config, recipients) && strchr(tmp, '@') == NULL)
			return "a recipient must be an address (local@domain)";
		return sl_add((strlist *)p, tmp) < 0 ? "out of memory" : NULL;
	}
	case KT_UINT:
		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno || *end || !isdigit((unsigned char)*v) || n > 100000000UL)
			return "expected a whole number";
		*(unsigned *)p = (unsigned)n;
		return NULL;
	case KT_OCTAL:
		errno = 0;
		n = strtoul(v, &end, 8);
		if (errno || *end || !isdigit((unsigned char)*v) || n > 0777)
			return "expected an octal file mode such as 0660";
		*(unsigned *)p = (unsigned)n;
		return NULL;
	case KT_SIZE:
		return parse_size(v, (size_t *)p) < 0 ? "expected a size such as 262144, 256k or 1M" : NULL;
	case KT_BOOL:
		return parse_bool(v, (bool *)p) < 0 ? "expected yes or no" : NULL;
	case KT_ACTION:
		if (str_ieq(v, "reject"))
			*(enum incomplete_action *)p = INCOMPLETE_REJECT;
		else if (str_ieq(v, "flag"))
			*(enum incomplete_action *)p = INCOMPLETE_FLAG;
		else if (str_ieq(v, "quarantine"))
			*(enum incomplete_action *)p = INCOMPLETE_QUARANTINE;
		else
			return "expected reject, flag or quarantine";
		return NULL;
	}
	return "internal error: unknown key type";
}

static const struct {
	const char *name;
	int facility;
} facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

static int
facility_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (str_ieq(facilities[i].name, name))
			return facilities[i].facility;
	return -1;
}

int
config_syslog_facility(const struct config *cf)
{
	int f = facility_lookup(cf->syslog_facility);

	return f < 0 ? LOG_MAIL : f;
}

/* Checks that involve a value's meaning rather than its type. */
static const char *
config_validate(const struct config *cf, const char **key)
{
	const char *s;

	*key = "CaseIdPrefix";
	s = cf->case_id_prefix;
	if (strlen(s) < 1 || strlen(s) > 10)
		return "must be 1 to 10 letters";
	for (; *s; s++)
		if (!isupper((unsigned char)*s))
			return "must be upper-case letters A-Z";
	*key = "CaseIdNode";
	s = cf->case_id_node;
	if (strlen(s) > 4)
		return "must be at most 4 letters or digits";
	for (; *s; s++)
		if (!isupper((unsigned char)*s) && !isdigit((unsigned char)*s))
			return "must be upper-case letters or digits";
	*key = "ReplyLanguageFallback";
	s = cf->reply_language_fallback;
	if (strcmp(s, "nl") && strcmp(s, "en") && strcmp(s, "de") && strcmp(s, "fr"))
		return "must be nl, en, de or fr";
	*key = "HolidayCountry";
	s = cf->holiday_country;
	if (!str_ieq(s, "NL") && !str_ieq(s, "BE") && !str_ieq(s, "DE") &&
	    !str_ieq(s, "FR") && !str_ieq(s, "GB") && !str_ieq(s, "none"))
		return "must be NL, BE, DE, FR, GB or none";
	*key = "ReplyRatePeriod";
	if (cf->reply_rate_period == 0)
		return "must be at least 1 second";
	*key = "ReplyRetryBase";
	if (cf->reply_retry_base == 0 || cf->reply_retry_base > 3600)
		return "must be 1 to 3600 seconds";
	*key = "ReplyTransport";
	s = cf->reply_transport;
	if (strncmp(s, "smtp:", 5) && strncmp(s, "sendmail:/", 10))
		return "must be smtp:HOST:PORT or sendmail:/PATH";
	*key = "SyslogFacility";
	if (facility_lookup(cf->syslog_facility) < 0)
		return "must be mail, daemon, user or local0 to local7";
	*key = "Socket";
	s = cf->socket;
	if (strncmp(s, "local:", 6) && strncmp(s, "unix:", 5) &&
	    strncmp(s, "inet:", 5) && strncmp(s, "inet6:", 6) && s[0] != '/')
		return "must be local:PATH, unix:PATH, inet:PORT@HOST or inet6:PORT@HOST";
	*key = NULL;
	return NULL;
}

static struct config *
config_new(void)
{
	struct config *cf = calloc(1, sizeof(*cf));

	if (cf == NULL)
		return NULL;
	cf->refs = 1;
	sl_init(&cf->recipients);
	sl_init(&cf->staff);
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].def && key_set(cf, &keys[i], keys[i].def) != NULL) {
			config_unref(cf);
			return NULL;
		}
	}
	if ((cf->path = strdup("")) == NULL) {
		config_unref(cf);
		return NULL;
	}
	return cf;
}

struct config *
config_defaults(void)
{
	return config_new();
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct config *cf;
	FILE *fp;
	char line[4096];
	int lineno = 0;
	const char *why, *key;

	if ((cf = config_new()) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	free(cf->path);
	if ((cf->path = strdup(path)) == NULL || (fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		config_unref(cf);
		return NULL;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *p, *name, *value;
		const struct key *k = NULL;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			goto fail;
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		str_trim(line);
		if (*line == '\0')
			continue;
		name = line;
		for (p = line; *p && !isspace((unsigned char)*p); p++)
			;
		if (*p)
			*p++ = '\0';
		value = str_trim(p);
		for (size_t i = 0; i < NKEYS; i++)
			if (str_ieq(keys[i].name, name))
				k = &keys[i];
		if (k == NULL) {
			snprintf(err, errlen, "%s:%d: unknown key \"%s\"", path, lineno, name);
			goto fail;
		}
		if (*value == '\0' && k->type != KT_STRING) {
			snprintf(err, errlen, "%s:%d: %s: missing value", path, lineno, k->name);
			goto fail;
		}
		if ((why = key_set(cf, k, value)) != NULL) {
			snprintf(err, errlen, "%s:%d: %s: %s", path, lineno, k->name, why);
			goto fail;
		}
	}
	fclose(fp);
	fp = NULL;
	if ((why = config_validate(cf, &key)) != NULL) {
		snprintf(err, errlen, "%s: %s: %s", path, key, why);
		config_unref(cf);
		return NULL;
	}
	return cf;
fail:
	fclose(fp);
	config_unref(cf);
	return NULL;
}

void
config_ref(struct config *cf)
{
	__atomic_add_fetch(&cf->refs, 1, __ATOMIC_ACQ_REL);
}

void
config_unref(struct config *cf)
{
	if (cf == NULL || __atomic_sub_fetch(&cf->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; i < NKEYS; i++) {
		void *p = (char *)cf + keys[i].off;

		if (keys[i].type == KT_STRING)
			free(*(char **)p);
		else if (keys[i].type == KT_LIST)
			sl_free((strlist *)p);
	}
	free(cf->path);
	free(cf);
}

bool
config_is_recipient(const struct config *cf, const char *addr)
{
	char a[512];
	char *at, *plus;

	if (strlen(addr) >= sizeof(a))
		return false;
	strcpy(a, addr);
	addr_lower(a);
	/* local+detail@domain is the same mailbox as local@domain */
	if ((at = strrchr(a, '@')) != NULL && (plus = memchr(a, '+', (size_t)(at - a))) != NULL)
		memmove(plus, at, strlen(at) + 1);
	for (size_t i = 0; i < cf->recipients.n; i++)
		if (strcmp(cf->recipients.v[i], a) == 0)
			return true;
	return false;
}

bool
config_is_staff(const struct config *cf, const char *addr)
{
	char a[512];
	const char *at;

	if (strlen(addr) >= sizeof(a))
		return false;
	strcpy(a, addr);
	addr_lower(a);
	if ((at = strrchr(a, '@')) == NULL)
		return false;
	for (size_t i = 0; i < cf->staff.n; i++) {
		const char *st = cf->staff.v[i];

		if (strcmp(st, a) == 0 || (st[0] == '@' && strcmp(st, at) == 0))
			return true;
	}
	return false;
}

static void
key_print(const struct config *cf, const struct key *k, FILE *fp)
{
	const void *p = (const char *)cf + k->off;

	switch (k->type) {
	case KT_STRING:
		fprintf(fp, "%s %s\n", k->name, *(char *const *)p);
		break;
	case KT_LIST:
		for (size_t i = 0; i < ((const strlist *)p)->n; i++)
			fprintf(fp, "%s %s\n", k->name, ((const strlist *)p)->v[i]);
		break;
	case KT_UINT:
		fprintf(fp, "%s %u\n", k->name, *(const unsigned *)p);
		break;
	case KT_OCTAL:
		fprintf(fp, "%s %04o\n", k->name, *(const unsigned *)p);
		break;
	case KT_SIZE:
		fprintf(fp, "%s %zu\n", k->name, *(const size_t *)p);
		break;
	case KT_BOOL:
		fprintf(fp, "%s %s\n", k->name, *(const bool *)p ? "yes" : "no");
		break;
	case KT_ACTION:
		fprintf(fp, "%s %s\n", k->name, action_name(*(const enum incomplete_action *)p));
		break;
	}
}

void
config_dump(const struct config *cf, FILE *fp)
{
	for (size_t i = 0; i < NKEYS; i++)
		key_print(cf, &keys[i], fp);
}

void
config_describe(FILE *fp)
{
	static const char *tname[] = {
		"string", "list", "integer", "octal mode", "size", "boolean", "action",
	};

	for (size_t i = 0; i < NKEYS; i++)
		fprintf(fp, "%-22s %-10s default %-8s %s\n", keys[i].name, tname[keys[i].type],
		    keys[i].def ? (*keys[i].def ? keys[i].def : "(empty)") : "(none)", keys[i].doc);
}
