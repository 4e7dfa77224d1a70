/*
 * config.h - the typed table of configuration keys and the parsed snapshot.
 *
 * The file format is opendkim.conf's: one "Key value" per line, '#' starts a
 * comment, keys are case-insensitive.  A struct config is immutable once
 * loaded; the milter swaps whole snapshots on reload (reference counted).
 */
#ifndef CM_CONFIG_H
#define CM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "complaint.h"
#include "util.h"

struct config {
	int refs;
	char *path;			/* file it came from, "" for defaults */

	/* milter */
	char *socket;			/* Socket */
	unsigned socket_mode;		/* SocketMode (octal) */
	char *socket_group;		/* SocketGroup */
	strlist recipients;		/* Recipient (repeatable), lower case */
	enum incomplete_action incomplete_action;	/* IncompleteAction */
	char *database;			/* Database */
	char *rules_dir;		/* RulesDir */
	char *case_id_prefix;		/* CaseIdPrefix */
	char *case_id_node;		/* CaseIdNode ("" = none) */
	bool case_id_check;		/* CaseIdCheckChar */
	char *user_id;			/* UserID ("" = stay) */
	char *syslog_facility;		/* SyslogFacility */
	size_t max_scan_size;		/* MaxScanSize (bytes of text) */
	unsigned busy_timeout_ms;	/* DatabaseBusyTimeout */
	char *pid_file;			/* PidFile */
	bool quarantine_hold;		/* not a key: derived */

	/* reply worker */
	char *reply_from;		/* ReplyFrom */
	char *reply_transport;		/* ReplyTransport */
	char *reply_language_fallback;	/* ReplyLanguageFallback */
	char *holiday_country;		/* HolidayCountry */
	char *holidays_dir;		/* HolidaysDir */
	unsigned reply_rate_limit;	/* ReplyRateLimit (per recipient per period) */
	unsigned reply_rate_period;	/* ReplyRatePeriod (seconds) */
	unsigned reply_retry_base;	/* ReplyRetryBase (seconds) */
	char *templates_dir;		/* TemplatesDir */

	/* staff */
	strlist staff;			/* Staff (repeatable): addresses or @domains */
};

/* Defaults only (what a missing file means). NULL on ENOMEM. */
struct config *config_defaults(void);
/*
 * Load path over the defaults.  On error returns NULL and writes
 * "file:line: message" to err.
 */
struct config *config_load(const char *path, char *err, size_t errlen);
void config_ref(struct config *cf);
void config_unref(struct config *cf);
/* Is addr (an envelope address, with or without <>) a complaints address? */
bool config_is_recipient(const struct config *cf, const char *addr);
/* The syslog facility (LOG_MAIL, ...) SyslogFacility names. */
int config_syslog_facility(const struct config *cf);
/* Is addr a Staff address (listed, or its @domain listed)? */
bool config_is_staff(const struct config *cf, const char *addr);
/* Print every key with its value, as a config file would say it. */
void config_dump(const struct config *cf, FILE *fp);
/* Print the documented key table (name, type, default, meaning). */
void config_describe(FILE *fp);

#endif
