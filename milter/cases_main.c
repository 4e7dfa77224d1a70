/*
 * cases_main.c - complaint-cases, the staff's tool: find and filter cases,
 * show one with its messages, events and deadlines, change its status,
 * set a new resolution date, list overdue work, count.
 *
 * complaint-cases [-c CONF] [--db PATH] [--json|--csv] [--today YYYY-MM-DD]
 *     COMMAND ...
 *
 *   list [FILTER...] [--sort received|case|due] [--limit N]
 *        [--offset N | --page N]
 *   overdue [FILTER...] [--limit N] [--offset N | --page N]
 *   show CASE-ID
 *   set-status CASE-ID STATUS [--note TEXT]
 *   extend CASE-ID --until YYYY-MM-DD --reason TEXT
 *   stats [FILTER...]
 *
 * FILTER: --status S[,S...] (or "open"), --kind K, --model M, --serial S,
 * --ticket T (normalised match; a trailing * matches a prefix), --from TEXT,
 * --since DATE, --until DATE (received), --language L, --overdue (list).
 *
 * Exit: 0 done (an empty list too), 1 no such case, 2 usage (bad option,
 * case ID, status or date), 3 refused (a transition the policy does not
 * allow, or a resolved or closed case extended), 4 database, configuration
 * or calendar error.
 *
 * Reading commands open the database read-only; set-status and extend
 * write one short BEGIN IMMEDIATE transaction each (store.c), waiting at
 * most DatabaseBusyTimeout for the milter.  --today is for reading only:
 * what is written always carries the clock's time.
 */
#include <ctype.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "calendar.h"
#include "caseid.h"
#include "cases.h"
#include "cases_out.h"
#include "config.h"
#include "json.h"
#include "lifecycle.h"
#include "store.h"

#define DEFAULT_CONF	"/etc/complaint-milter/complaint-milter.conf"
#define PAGE_SIZE	50

enum {
	EXIT_OK = 0,
	EXIT_NOTFOUND = 1,
	EXIT_USAGE = 2,
	EXIT_REFUSED = 3,
	EXIT_ERROR = 4,
};

/* Options; the bits say which command accepts which. */
enum opt {
	O_CONF, O_DB, O_JSON, O_CSV, O_TODAY, O_STATUS, O_KIND, O_MODEL, O_SERIAL, O_TICKET,
	O_FROM, O_SINCE, O_UNTIL, O_OVERDUE, O_LANGUAGE, O_SORT, O_LIMIT, O_OFFSET, O_PAGE,
	O_NOTE, O_REASON, O_HELP, O_NOPTS
};

#define B(o) (1u << (o))
#define GLOBAL (B(O_CONF) | B(O_DB) | B(O_HELP))
#define FILTERS (B(O_STATUS) | B(O_KIND) | B(O_MODEL) | B(O_SERIAL) | B(O_TICKET) | \
	B(O_FROM) | B(O_SINCE) | B(O_UNTIL) | B(O_LANGUAGE))
#define PAGING (B(O_LIMIT) | B(O_OFFSET) | B(O_PAGE))
#define FORMATS (B(O_JSON) | B(O_CSV))

struct args {
	const char *conf, *db, *today;
	const char *opt[O_NOPTS];	/* the value given, "" for a flag */
	char **pos;			/* COMMAND and its operands */
	int npos;
};

struct ctx {
	struct config *cf;
	struct calendar *cal;
	struct caseid_fmt idf;
	const char *db;
	struct ymd today;
	enum out_format fmt;
};

static const struct option LONGOPTS[] = {
	{ "db", required_argument, NULL, O_DB },
	{ "json", no_argument, NULL, O_JSON },
	{ "csv", no_argument, NULL, O_CSV },
	{ "today", required_argument, NULL, O_TODAY },
	{ "status", required_argument, NULL, O_STATUS },
	{ "kind", required_argument, NULL, O_KIND },
	{ "model", required_argument, NULL, O_MODEL },
	{ "serial", required_argument, NULL, O_SERIAL },
	{ "ticket", required_argument, NULL, O_TICKET },
	{ "from", required_argument, NULL, O_FROM },
	{ "since", required_argument, NULL, O_SINCE },
	{ "until", required_argument, NULL, O_UNTIL },
	{ "overdue", no_argument, NULL, O_OVERDUE },
	{ "language", required_argument, NULL, O_LANGUAGE },
	{ "sort", required_argument, NULL, O_SORT },
	{ "limit", required_argument, NULL, O_LIMIT },
	{ "offset", required_argument, NULL, O_OFFSET },
	{ "page", required_argument, NULL, O_PAGE },
	{ "note", required_argument, NULL, O_NOTE },
	{ "reason", required_argument, NULL, O_REASON },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

static const char USAGE[] =
	"usage: complaint-cases [-c CONF] [--db PATH] [--json|--csv] [--today YYYY-MM-DD]\n"
	"                       COMMAND ...\n"
	"  list [FILTER...] [--sort received|case|due] [--limit N] [--offset N | --page N]\n"
	"  overdue [FILTER...] [--limit N] [--offset N | --page N]\n"
	"  show CASE-ID\n"
	"  set-status CASE-ID STATUS [--note TEXT]\n"
	"  extend CASE-ID --until YYYY-MM-DD --reason TEXT\n"
	"  stats [FILTER...]\n"
	"FILTER: --status S[,S...]|open  --kind service|product|unknown  --model M\n"
	"        --serial S  --ticket T  --from TEXT  --since DATE  --until DATE\n"
	"        --language nl|en|de|fr  --overdue (list only)\n"
	"STATUS: new incomplete acknowledged in-progress updated resolved escalated closed\n"
	"exit: 0 ok, 1 no such case, 2 usage, 3 refused, 4 database or configuration error\n";

static int
fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("complaint-cases: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* ---- commands and the options each takes ---- */

struct command;
typedef int (*cmd_fn)(struct ctx *, const struct args *);

struct command {
	const char *name;
	int operands;		/* positional arguments after the name */
	unsigned opts;		/* B() of the options it takes, besides GLOBAL */
	cmd_fn run;
};

static int cmd_list(struct ctx *, const struct args *);
static int cmd_overdue(struct ctx *, const struct args *);
static int cmd_show(struct ctx *, const struct args *);
static int cmd_set_status(struct ctx *, const struct args *);
static int cmd_extend(struct ctx *, const struct args *);
static int cmd_stats(struct ctx *, const struct args *);

static const struct command COMMANDS[] = {
	{ "list", 0, FORMATS | B(O_TODAY) | FILTERS | B(O_OVERDUE) | B(O_SORT) | PAGING, cmd_list },
	{ "overdue", 0, FORMATS | B(O_TODAY) | FILTERS | PAGING, cmd_overdue },
	{ "show", 1, B(O_JSON) | B(O_TODAY), cmd_show },
	{ "set-status", 2, B(O_JSON) | B(O_NOTE), cmd_set_status },
	{ "extend", 1, B(O_JSON) | B(O_UNTIL) | B(O_REASON), cmd_extend },
	{ "stats", 0, FORMATS | B(O_TODAY) | FILTERS, cmd_stats },
};

/* "-c", "--json": the option as typed. */
static const char *
opt_name(int o, char *buf, size_t n)
{
	if (o == O_CONF)
		return "-c";
	for (const struct option *lo = LONGOPTS; lo->name; lo++)
		if (lo->val == o) {
			snprintf(buf, n, "--%s", lo->name);
			return buf;
		}
	return "?";
}

static int
parse_args(int argc, char **argv, struct args *a)
{
	char name[32];
	int o;

	memset(a, 0, sizeof(*a));
	opterr = 0;
	while ((o = getopt_long(argc, argv, "c:h", LONGOPTS, NULL)) != -1) {
		if (o == 'c')
			o = O_CONF;
		else if (o == 'h')
			o = O_HELP;
		else if (o == '?' || o == ':')
			return fail(EXIT_USAGE, "%s: unknown option or missing value (try --help)",
			    argv[optind - 1]);
		if (a->opt[o] != NULL && o != O_HELP)
			return fail(EXIT_USAGE, "%s given twice", opt_name(o, name, sizeof(name)));
		a->opt[o] = optarg ? optarg : "";
	}
	a->conf = a->opt[O_CONF];
	a->db = a->opt[O_DB];
	a->today = a->opt[O_TODAY];
	a->pos = argv + optind;
	a->npos = argc - optind;
	return EXIT_OK;
}

static int
check_opts(const struct command *c, const struct args *a)
{
	char name[32];

	if (a->npos - 1 != c->operands)
		return fail(EXIT_USAGE, "%s takes %d operand%s (try --help)", c->name, c->operands,
		    c->operands == 1 ? "" : "s");
	for (int o = 0; o < O_NOPTS; o++)
		if (a->opt[o] && !((GLOBAL | c->opts) & B(o)))
			return fail(EXIT_USAGE, "%s does not take %s", c->name,
			    opt_name(o, name, sizeof(name)));
	if (a->opt[O_JSON] && a->opt[O_CSV])
		return fail(EXIT_USAGE, "--json or --csv, not both");
	return EXIT_OK;
}

/* ---- values ---- */

static int
parse_date(const char *opt, const char *v, struct ymd *out)
{
	if (ymd_parse(v, out) < 0)
		return fail(EXIT_USAGE, "--%s %s: not a date (YYYY-MM-DD)", opt, v);
	return EXIT_OK;
}

static int
parse_count(const char *opt, const char *v, long *out)
{
	char *end;

	*out = strtol(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end || *out > 100000000L)
		return fail(EXIT_USAGE, "--%s %s: expected a whole number", opt, v);
	return EXIT_OK;
}

/* "In_Progress" -> "in-progress"; the status, or -1. */
static int
status_of(const char *v)
{
	char s[24];
	size_t i;

	for (i = 0; v[i] && i + 1 < sizeof(s); i++)
		s[i] = v[i] == '_' ? '-' : (char)tolower((unsigned char)v[i]);
	s[i] = '\0';
	return v[i] ? -1 : case_status_parse(s);
}

/* --status new,acknowledged or open. */
static int
parse_statuses(const char *v, unsigned *mask)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", v);
	*mask = 0;
	for (char *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		int s = status_of(t);

		if (str_ieq(t, "open")) {
			for (int k = 0; k < CS_COUNT; k++)
				if (case_status_open((enum case_status)k))
					*mask |= 1u << k;
		} else if (s < 0)
			return fail(EXIT_USAGE, "--status %s: unknown status (%s)", t,
			    "new, incomplete, acknowledged, in-progress, updated, resolved, "
			    "escalated, closed, or open");
		else
			*mask |= 1u << s;
	}
	return *mask ? EXIT_OK : fail(EXIT_USAGE, "--status: no status given");
}

static int
parse_sort(const char *v, enum case_sort *out)
{
	if (strcmp(v, "received") == 0)
		*out = SORT_RECEIVED;
	else if (strcmp(v, "case") == 0)
		*out = SORT_CASE;
	else if (strcmp(v, "due") == 0)
		*out = SORT_DUE;
	else
		return fail(EXIT_USAGE, "--sort %s: expected received, case or due", v);
	return EXIT_OK;
}

static int
parse_paging(const struct args *a, struct case_filter *f)
{
	long page = 0;
	int rc = EXIT_OK;

	if (a->opt[O_OFFSET] && a->opt[O_PAGE])
		return fail(EXIT_USAGE, "--offset or --page, not both");
	if (a->opt[O_LIMIT] && (rc = parse_count("limit", a->opt[O_LIMIT], &f->limit)) != 0)
		return rc;
	if (a->opt[O_OFFSET] && (rc = parse_count("offset", a->opt[O_OFFSET], &f->offset)) != 0)
		return rc;
	if (a->opt[O_PAGE]) {
		if ((rc = parse_count("page", a->opt[O_PAGE], &page)) != 0)
			return rc;
		if (page < 1)
			return fail(EXIT_USAGE, "--page counts from 1");
		if (f->limit < 0)
			f->limit = PAGE_SIZE;
		f->offset = (page - 1) * f->limit;
	}
	return EXIT_OK;
}

static int
parse_filter(const struct args *a, struct case_filter *f)
{
	struct ymd d;
	int rc = EXIT_OK;
	const char *k = a->opt[O_KIND];

	case_filter_init(f);
	if (a->opt[O_STATUS] && (rc = parse_statuses(a->opt[O_STATUS], &f->statuses)) != 0)
		return rc;
	if (k && strcmp(k, "service") && strcmp(k, "product") && strcmp(k, "unknown"))
		return fail(EXIT_USAGE, "--kind %s: expected service, product or unknown", k);
	if ((a->opt[O_SINCE] && (rc = parse_date("since", a->opt[O_SINCE], &d)) != 0) ||
	    (a->opt[O_UNTIL] && (rc = parse_date("until", a->opt[O_UNTIL], &d)) != 0))
		return rc;
	f->kind = k;
	f->language = a->opt[O_LANGUAGE];
	f->model = a->opt[O_MODEL];
	f->serial = a->opt[O_SERIAL];
	f->ticket = a->opt[O_TICKET];
	f->from = a->opt[O_FROM];
	f->since = a->opt[O_SINCE];
	f->until = a->opt[O_UNTIL];
	f->overdue = a->opt[O_OVERDUE] != NULL;
	if (a->opt[O_SORT] && (rc = parse_sort(a->opt[O_SORT], &f->sort)) != 0)
		return rc;
	return parse_paging(a, f);
}

static bool
blank(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return *s == '\0';
}

/* ---- case IDs ---- */

/* "CASE-YYYY-NNNNNN" as this site writes them. */
static void
id_pattern(const struct caseid_fmt *f, char *buf, size_t n)
{
	snprintf(buf, n, "%s-YYYY-%s%sNNNNNN%s", f->prefix, f->node, *f->node ? "-" : "",
	    f->check ? "-C" : "");
}

/* A lenient reading (short number, a check character too many): the ID meant. */
static bool
guess_id(const struct caseid_fmt *f, const char *s, char *out, size_t n)
{
	size_t pl = strlen(f->prefix), nl = strlen(f->node);
	unsigned long long seq = 0;
	int year = 0, digits = 0;

	if (strncasecmp(s, f->prefix, pl) != 0 || s[pl] != '-')
		return false;
	s += pl + 1;
	for (int i = 0; i < 4; i++, s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		year = year * 10 + (*s - '0');
	}
	if (*s++ != '-' || (nl && (strncasecmp(s, f->node, nl) != 0 || s[nl] != '-')))
		return false;
	s += nl ? nl + 1 : 0;
	for (; isdigit((unsigned char)*s) && digits < 18; s++, digits++)
		seq = seq * 10 + (unsigned long long)(*s - '0');
	if (*s == '-' && isalnum((unsigned char)s[1]) && s[2] == '\0')
		s += 2;
	return digits > 0 && seq > 0 && *s == '\0' && caseid_format(f, year, seq, out, n) == 0;
}

/* The canonical ID typed as arg, or EXIT_USAGE with a hint. */
static int
parse_id(const struct caseid_fmt *f, const char *arg, char *out, size_t n)
{
	char want[64], guess[CASEID_MAX];
	unsigned long long seq;
	int year, r = caseid_parse(f, arg, &year, &seq);

	if (r == 0 && caseid_format(f, year, seq, out, n) == 0)
		return EXIT_OK;
	if (r == -2 && caseid_format(f, year, seq, guess, sizeof(guess)) == 0)
		return fail(EXIT_USAGE, "%s: check character %s: did you mean %s?", arg,
		    strncasecmp(arg, guess, strlen(guess) - 2) == 0 &&
		    strlen(arg) == strlen(guess) - 2 ? "missing" : "wrong", guess);
	id_pattern(f, want, sizeof(want));
	if (guess_id(f, arg, guess, sizeof(guess)))
		return fail(EXIT_USAGE, "%s: not a case ID (expected %s): did you mean %s?", arg,
		    want, guess);
	return fail(EXIT_USAGE, "%s: not a case ID (expected %s)", arg, want);
}

/* ---- output ---- */

static int
emit(strbuf *sb, int r)
{
	if (r < 0) {
		sb_free(sb);
		return fail(EXIT_ERROR, "out of memory");
	}
	if (sb->len && fwrite(sb->s, 1, sb->len, stdout) != sb->len)
		r = -1;
	sb_free(sb);
	if (fflush(stdout) != 0 || r < 0)
		return fail(EXIT_ERROR, "writing the output failed");
	return EXIT_OK;
}

/* ---- reading commands ---- */

static struct cases_db *
open_read(const struct ctx *c, int *rc)
{
	char err[1024];
	struct cases_db *db = cases_open(c->db, c->cf->busy_timeout_ms, err, sizeof(err));

	if (db == NULL)
		*rc = fail(EXIT_ERROR, "%s", err);
	return db;
}

static int
run_list(struct ctx *c, const struct args *a, bool overdue)
{
	struct case_filter f;
	struct case_list l;
	struct cases_db *db;
	strbuf sb;
	int rc;

	if ((rc = parse_filter(a, &f)) != EXIT_OK)
		return rc;
	if (overdue) {
		f.overdue = true;
		f.sort = SORT_OVERDUE;
	}
	if ((db = open_read(c, &rc)) == NULL)
		return rc;
	if (cases_list(db, &f, c->cal, c->today, &l) < 0) {
		rc = fail(EXIT_ERROR, "%s: %s", c->db, cases_errmsg(db));
		cases_close(db);
		return rc;
	}
	cases_close(db);
	sb_init(&sb);
	rc = emit(&sb, cases_out_list(&sb, &l, c->fmt, overdue, c->today));
	case_list_free(&l);
	return rc;
}

static int
cmd_list(struct ctx *c, const struct args *a)
{
	return run_list(c, a, false);
}

static int
cmd_overdue(struct ctx *c, const struct args *a)
{
	return run_list(c, a, true);
}

static int
cmd_show(struct ctx *c, const struct args *a)
{
	char id[CASEID_MAX];
	struct case_detail d;
	struct cases_db *db;
	strbuf sb;
	int rc, found;

	if ((rc = parse_id(&c->idf, a->pos[1], id, sizeof(id))) != EXIT_OK)
		return rc;
	if ((db = open_read(c, &rc)) == NULL)
		return rc;
	found = cases_show(db, id, c->cal, c->today, &d);
	if (found < 0)
		rc = fail(EXIT_ERROR, "%s: %s", c->db, cases_errmsg(db));
	cases_close(db);
	if (found <= 0)
		return found < 0 ? rc : fail(EXIT_NOTFOUND, "%s: no such case", id);
	sb_init(&sb);
	rc = emit(&sb, cases_out_show(&sb, &d, c->fmt, c->today));
	case_detail_free(&d);
	return rc;
}

static int
cmd_stats(struct ctx *c, const struct args *a)
{
	struct case_filter f;
	struct case_stats st;
	struct cases_db *db;
	strbuf sb;
	int rc;

	if ((rc = parse_filter(a, &f)) != EXIT_OK)
		return rc;
	if ((db = open_read(c, &rc)) == NULL)
		return rc;
	if (cases_stats(db, &f, c->cal, c->today, &st) < 0) {
		rc = fail(EXIT_ERROR, "%s: %s", c->db, cases_errmsg(db));
		cases_close(db);
		return rc;
	}
	cases_close(db);
	sb_init(&sb);
	rc = emit(&sb, cases_out_stats(&sb, &st, c->fmt, c->today));
	case_stats_free(&st);
	return rc;
}

/* ---- writing commands ---- */

/* Who makes the change: the user behind sudo, else the login of our uid. */
static const char *
actor(void)
{
	const char *s = getenv("SUDO_USER");
	struct passwd *pw;

	if (getuid() == 0 && s && *s)
		return s;
	if ((pw = getpwuid(getuid())) != NULL)
		return pw->pw_name;
	return NULL;
}

/*
 * The store for one write.  The read-only open first checks that the file
 * is there and its schema is ours (store_open would create or migrate).
 */
static struct store *
open_write(const struct ctx *c, int *rc)
{
	char err[1024];
	struct cases_db *db;
	struct store *st;

	if ((db = open_read(c, rc)) == NULL)
		return NULL;
	cases_close(db);
	if ((st = store_open(c->db, c->cf->busy_timeout_ms, err, sizeof(err))) == NULL)
		*rc = fail(EXIT_ERROR, "%s", err);
	return st;
}

/* The exit of a lifecycle op's rc; errors say why. */
static int
write_rc(struct store *st, const char *id, int r)
{
	if (r == 0)
		return fail(EXIT_NOTFOUND, "%s: no such case", id);
	if (r == STORE_REFUSED)
		return fail(EXIT_REFUSED, "%s", store_errmsg(st));
	if (r < 0)
		return fail(EXIT_ERROR, "%s", store_errmsg(st));
	return EXIT_OK;
}

static int
print_status(const struct ctx *c, const char *id, const struct life_result *lr)
{
	strbuf sb;
	int r;

	sb_init(&sb);
	if (c->fmt == OUT_JSON) {
		r = sb_puts(&sb, "{\"case_id\":") | json_string(&sb, id) |
		    sb_puts(&sb, ",\"from\":") | json_string(&sb, lr->from) |
		    sb_puts(&sb, ",\"to\":") | json_string(&sb, lr->to) |
		    sb_puts(&sb, ",\"update_by\":");
		r |= *lr->update_by ? json_string(&sb, lr->update_by) : sb_puts(&sb, "null");
		r |= sb_puts(&sb, "}\n");
	} else {
		r = sb_printf(&sb, "%s: %s -> %s", id, lr->from, lr->to);
		if (*lr->update_by)
			r |= sb_printf(&sb, " (next update due by %s)", lr->update_by);
		r |= sb_putc(&sb, '\n');
	}
	return emit(&sb, r);
}

static int
cmd_set_status(struct ctx *c, const struct args *a)
{
	char id[CASEID_MAX];
	struct life_result lr;
	struct store *st;
	int rc, to = status_of(a->pos[2]);

	if ((rc = parse_id(&c->idf, a->pos[1], id, sizeof(id))) != EXIT_OK)
		return rc;
	if (to < 0)
		return fail(EXIT_USAGE, "%s: unknown status (new, incomplete, acknowledged, "
		    "in-progress, updated, resolved, escalated, closed)", a->pos[2]);
	if ((st = open_write(c, &rc)) == NULL)
		return rc;
	rc = write_rc(st, id, store_set_status(st, id, case_status_name((enum case_status)to),
	    a->opt[O_NOTE], actor(), c->cal, 0, &lr));
	store_close(st);
	return rc == EXIT_OK ? print_status(c, id, &lr) : rc;
}

static int
print_extend(const struct ctx *c, const char *id, const struct life_result *lr)
{
	strbuf sb;
	int r;

	sb_init(&sb);
	if (c->fmt == OUT_JSON) {
		r = sb_puts(&sb, "{\"case_id\":") | json_string(&sb, id) | sb_puts(&sb, ",\"old\":");
		r |= *lr->old_date ? json_string(&sb, lr->old_date) : sb_puts(&sb, "null");
		r |= sb_puts(&sb, ",\"new\":") | json_string(&sb, lr->new_date) | sb_puts(&sb, "}\n");
	} else
		r = sb_printf(&sb, "%s: resolve by %s (was %s)\n", id, lr->new_date,
		    *lr->old_date ? lr->old_date : "not set");
	return emit(&sb, r);
}

static int
cmd_extend(struct ctx *c, const struct args *a)
{
	const char *until = a->opt[O_UNTIL], *reason = a->opt[O_REASON];
	char id[CASEID_MAX];
	struct life_result lr;
	struct store *st;
	struct ymd d;
	int rc;

	if ((rc = parse_id(&c->idf, a->pos[1], id, sizeof(id))) != EXIT_OK)
		return rc;
	if (until == NULL || reason == NULL || blank(reason))
		return fail(EXIT_USAGE, "extend needs --until YYYY-MM-DD and --reason TEXT"
		    " (the explanation given to the customer)");
	if ((rc = parse_date("until", until, &d)) != EXIT_OK)
		return rc;
	if (ymd_cmp(d, c->today) < 0)
		return fail(EXIT_USAGE, "--until %s is in the past", until);
	if ((st = open_write(c, &rc)) == NULL)
		return rc;
	rc = write_rc(st, id, store_extend(st, id, until, reason, actor(), c->cal, 0, &lr));
	store_close(st);
	return rc == EXIT_OK ? print_extend(c, id, &lr) : rc;
}

/* ---- main ---- */

static int
load_config(const struct args *a, struct ctx *c)
{
	const char *path = a->conf ? a->conf : DEFAULT_CONF;
	char err[1024];
	struct stat sb;

	if (a->conf == NULL && stat(DEFAULT_CONF, &sb) != 0)
		c->cf = config_defaults();	/* no configuration installed */
	else
		c->cf = config_load(path, err, sizeof(err));
	if (c->cf == NULL)
		return fail(EXIT_ERROR, "%s", a->conf || stat(path, &sb) == 0 ? err : "out of memory");
	caseid_fmt_init(&c->idf, c->cf->case_id_prefix, c->cf->case_id_node, c->cf->case_id_check);
	c->db = a->db ? a->db : c->cf->database;
	c->cal = calendar_load(c->cf->holidays_dir, c->cf->holiday_country, err, sizeof(err));
	if (c->cal == NULL)
		return fail(EXIT_ERROR, "working-day calendar: %s", err);
	return EXIT_OK;
}

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
		if (strcmp(COMMANDS[i].name, name) == 0)
			return &COMMANDS[i];
	return NULL;
}

static int
setup(const struct args *a, const struct command *cmd, struct ctx *c)
{
	int rc;

	if ((rc = check_opts(cmd, a)) != EXIT_OK)
		return rc;
	if (a->today && (rc = parse_date("today", a->today, &c->today)) != EXIT_OK)
		return rc;
	if (a->today == NULL)
		c->today = ymd_local(time(NULL));
	c->fmt = a->opt[O_JSON] ? OUT_JSON : a->opt[O_CSV] ? OUT_CSV : OUT_TABLE;
	return load_config(a, c);
}

int
main(int argc, char **argv)
{
	const struct command *cmd;
	struct ctx c;
	struct args a;
	int rc;

	memset(&c, 0, sizeof(c));
	if ((rc = parse_args(argc, argv, &a)) != EXIT_OK)
		return rc;
	if (a.opt[O_HELP] || (a.npos > 0 && strcmp(a.pos[0], "help") == 0)) {
		fputs(USAGE, stdout);
		return EXIT_OK;
	}
	if (a.npos == 0) {
		fputs(USAGE, stderr);
		return EXIT_USAGE;
	}
	if ((cmd = find_command(a.pos[0])) == NULL)
		return fail(EXIT_USAGE, "%s: unknown command (list, overdue, show, set-status,"
		    " extend, stats; try --help)", a.pos[0]);
	if ((rc = setup(&a, cmd, &c)) == EXIT_OK)
		rc = cmd->run(&c, &a);
	calendar_free(c.cal);
	config_unref(c.cf);
	return rc;
}
