/*
 * rules.c - load and compile rules/NAME.rules; match them.
 *
 * Each line "CLASS[:NAME] PATTERN" is compiled on its own first, so an error
 * names its file and line.  All rules of one class are then compiled again as
 * one alternation, each branch marked with (*MARK:n), so that a scan costs one
 * JIT pass per class however many rules the class has, and the mark says
 * which rule matched.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_MATCH_LIMIT	200000
#define RULES_DEPTH_LIMIT	5000
#define RULES_MAX_LINE		4096

static const struct {
	const char *name;
	bool anchored;
	bool required;
} class_info[RC__COUNT] = {
	[RC_TICKET_LABEL] = { "ticket.label", false, true },
	[RC_TICKET_VALUE] = { "ticket.value", true, true },
	[RC_TICKET_BARE] = { "ticket.bare", false, false },
	[RC_TICKET_REJECT] = { "ticket.reject", true, false },
	[RC_SERIAL_LABEL] = { "serial.label", false, true },
	[RC_SERIAL_VALUE] = { "serial.value", true, true },
	[RC_SERIAL_NONE] = { "value.none", true, false },
	[RC_SERIAL_REJECT] = { "serial.reject", true, false },
	[RC_LIST_SEP] = { "list.separator", true, false },
	[RC_FILLER] = { "label.filler", true, false },
	[RC_MODEL] = { "model", false, true },
	[RC_KIND_SERVICE] = { "kind.service", false, false },
	[RC_KIND_PRODUCT] = { "kind.product", false, false },
	[RC_SOLUTION_LABEL] = { "solution.label", false, false },
	[RC_GREETING] = { "text.greeting", true, false },
	[RC_CLOSING] = { "text.closing", true, false },
	[RC_REPLY_HEADER] = { "text.reply-header", true, false },
	[RC_FORWARD_HEADER] = { "text.forward-header", true, false },
	[RC_FORWARD_FIELD] = { "text.forward-field", true, false },
	[RC_LANG] = { "language", false, false },
	[RC_AUTO_SUBJECT] = { "auto.subject", false, false },
	[RC_AUTO_SENDER] = { "auto.sender", true, false },
	[RC_ESCALATE] = { "escalate", false, false },
	[RC_REPLY_PREFIX] = { "subject.reply-prefix", true, false },
	[RC_NEVER] = { "value.never", true, false },
};

struct rule {
	char *name;
	char *file;
	int line;
};

struct rclass {
	pcre2_code *re;		/* combined alternation, NULL when no rules */
	struct rule *rules;
	size_t n;
};

struct rules {
	int refs;
	struct rclass cls[RC__COUNT];
	pcre2_match_context *mctx;
	size_t total;
};

static const uint32_t COMPILE_OPTS = PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS |
    PCRE2_MULTILINE | PCRE2_MATCH_INVALID_UTF;

const char *
rules_class_name(enum rule_class rc)
{
	return rc < RC__COUNT ? class_info[rc].name : "?";
}

static int
class_lookup(const char *s, size_t n)
{
	for (int i = 0; i < RC__COUNT; i++)
		if (strlen(class_info[i].name) == n && strncasecmp(class_info[i].name, s, n) == 0)
			return i;
	return -1;
}

/* Growing source text of one class's combined pattern. */
struct csrc {
	strbuf pat;
	size_t cap;
};

static int
add_rule(struct rules *rs, struct csrc *src, int rc, const char *name,
    const char *file, int line, const char *pat)
{
	struct rclass *c = &rs->cls[rc];
	struct rule *nr;

	if (c->n == src->cap) {
		size_t cap = src->cap ? src->cap * 2 : 8;

		if ((nr = realloc(c->rules, cap * sizeof(*nr))) == NULL)
			return -1;
		c->rules = nr;
		src->cap = cap;
	}
	nr = &c->rules[c->n];
	nr->name = strdup(name);
	nr->file = strdup(file);
	nr->line = line;
	if (nr->name == NULL || nr->file == NULL) {
		free(nr->name);
		free(nr->file);
		return -1;
	}
	if ((c->n && sb_putc(&src->pat, '|') < 0) ||
	    sb_printf(&src->pat, "(?:(?:%s)(*MARK:%zu))", pat, c->n) < 0)
		return -1;
	c->n++;
	rs->total++;
	return 0;
}

static pcre2_code *
compile(const char *pat, bool anchored, char *msg, size_t msglen, size_t *erroff)
{
	int errcode;
	PCRE2_SIZE off = 0;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    COMPILE_OPTS | (anchored ? PCRE2_ANCHORED : 0), &errcode, &off, NULL);

	if (re == NULL) {
		PCRE2_UCHAR buf[256];

		pcre2_get_error_message(errcode, buf, sizeof(buf));
		snprintf(msg, msglen, "%s", (char *)buf);
		*erroff = off;
	}
	return re;
}

static int
load_file(struct rules *rs, struct csrc *srcs, const char *path, const char *shown,
    char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char line[RULES_MAX_LINE];
	int lineno = 0;

	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", shown, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *p = line, *cls, *name = "", *pat, *colon;
		char msg[256];
		size_t erroff;
		pcre2_code *re;
		int rc;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			snprintf(err, errlen, "%s:%d: line longer than %d bytes", shown, lineno,
			    RULES_MAX_LINE - 2);
			goto fail;
		}
		line[strcspn(line, "\r\n")] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		cls = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		pat = p;
		/* trailing blanks are not part of the pattern */
		for (size_t n = strlen(pat); n && (pat[n - 1] == ' ' || pat[n - 1] == '\t'); n--)
			pat[n - 1] = '\0';
		if ((colon = strchr(cls, ':')) != NULL) {
			*colon = '\0';
			name = colon + 1;
		}
		if ((rc = class_lookup(cls, strlen(cls))) < 0) {
			snprintf(err, errlen, "%s:%d: unknown rule class \"%s\"", shown, lineno, cls);
			goto fail;
		}
		if (*pat == '\0') {
			snprintf(err, errlen, "%s:%d: %s: missing pattern", shown, lineno, cls);
			goto fail;
		}
		if (rc == RC_LANG && *name == '\0') {
			snprintf(err, errlen, "%s:%d: language rules need a name (language:nl)",
			    shown, lineno);
			goto fail;
		}
		re = compile(pat, class_info[rc].anchored, msg, sizeof(msg), &erroff);
		if (re == NULL) {
			snprintf(err, errlen, "%s:%d: %s at offset %zu", shown, lineno, msg, erroff);
			goto fail;
		}
		pcre2_code_free(re);
		if (add_rule(rs, &srcs[rc], rc, name, shown, lineno, pat) < 0) {
			snprintf(err, errlen, "%s:%d: out of memory", shown, lineno);
			goto fail;
		}
	}
	fclose(fp);
	return 0;
fail:
	fclose(fp);
	return -1;
}

static int
rules_file_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 6 && strcmp(d->d_name + n - 6, ".rules") == 0;
}

struct rules *
rules_load(const char *dir, char *err, size_t errlen)
{
	struct rules *rs = calloc(1, sizeof(*rs));
	struct csrc srcs[RC__COUNT];
	struct dirent **names = NULL;
	int nfiles, i;
	char path[4096];

	memset(srcs, 0, sizeof(srcs));
	if (rs == NULL) {
		snprintf(err, errlen, "%s: out of memory", dir);
		return NULL;
	}
	rs->refs = 1;
	if ((nfiles = scandir(dir, &names, rules_file_filter, alphasort)) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	for (i = 0; i < nfiles; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (load_file(rs, srcs, path, path, err, errlen) < 0)
			break;
	}
	for (int j = 0; j < nfiles; j++)
		free(names[j]);
	free(names);
	if (i < nfiles)
		goto fail;
	if (nfiles == 0) {
		snprintf(err, errlen, "%s: no *.rules files", dir);
		goto fail;
	}
	for (int rc = 0; rc < RC__COUNT; rc++) {
		char msg[256];
		size_t erroff;

		if (rs->cls[rc].n == 0) {
			if (class_info[rc].required) {
				snprintf(err, errlen, "%s: no \"%s\" rules", dir, class_info[rc].name);
				goto fail;
			}
			continue;
		}
		rs->cls[rc].re = compile(srcs[rc].pat.s, class_info[rc].anchored, msg, sizeof(msg),
		    &erroff);
		if (rs->cls[rc].re == NULL) {
			/* each rule compiled alone, so it is the combination: a backreference */
			snprintf(err, errlen, "%s: %s rules do not combine (%s); "
			    "numbered backreferences are not allowed", dir, class_info[rc].name, msg);
			goto fail;
		}
		/*
		 * JIT failure is not fatal: the interpreter gives the same answers.
		 * CM_RULES_NO_JIT=1 turns it off for memcheck runs (valgrind cannot
		 * see that JIT code reads only initialised memory).
		 */
		if (getenv("CM_RULES_NO_JIT") == NULL)
			(void)pcre2_jit_compile(rs->cls[rc].re, PCRE2_JIT_COMPLETE);
	}
	if ((rs->mctx = pcre2_match_context_create(NULL)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", dir);
		goto fail;
	}
	pcre2_set_match_limit(rs->mctx, RULES_MATCH_LIMIT);
	pcre2_set_depth_limit(rs->mctx, RULES_DEPTH_LIMIT);
	for (int rc = 0; rc < RC__COUNT; rc++)
		sb_free(&srcs[rc].pat);
	return rs;
fail:
	for (int rc = 0; rc < RC__COUNT; rc++)
		sb_free(&srcs[rc].pat);
	rules_unref(rs);
	return NULL;
}

void
rules_ref(struct rules *rs)
{
	__atomic_add_fetch(&rs->refs, 1, __ATOMIC_ACQ_REL);
}

void
rules_unref(struct rules *rs)
{
	if (rs == NULL || __atomic_sub_fetch(&rs->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (int rc = 0; rc < RC__COUNT; rc++) {
		struct rclass *c = &rs->cls[rc];

		pcre2_code_free(c->re);
		for (size_t i = 0; i < c->n; i++) {
			free(c->rules[i].name);
			free(c->rules[i].file);
		}
		free(c->rules);
	}
	pcre2_match_context_free(rs->mctx);
	free(rs);
}

size_t
rules_count(const struct rules *rs)
{
	return rs->total;
}

bool
rules_has(const struct rules *rs, enum rule_class rc)
{
	return rs->cls[rc].re != NULL;
}

int
rscan_init(struct rscan *sc)
{
	sc->limit_hit = false;
	sc->md = pcre2_match_data_create(32, NULL);
	return sc->md ? 0 : -1;
}

void
rscan_free(struct rscan *sc)
{
	pcre2_match_data_free(sc->md);
	sc->md = NULL;
}

int
rules_find(const struct rules *rs, enum rule_class rc, struct rscan *sc,
    const char *s, size_t len, size_t off, struct rmatch *m)
{
	const struct rclass *c = &rs->cls[rc];
	PCRE2_SIZE *ov;
	PCRE2_SPTR mark;
	int r;

	if (c->re == NULL || off > len)
		return 0;
	r = pcre2_match(c->re, (PCRE2_SPTR)s, len, off, 0, sc->md, rs->mctx);
	if (r < 0) {
		if (r != PCRE2_ERROR_NOMATCH)
			sc->limit_hit = true;
		return 0;
	}
	ov = pcre2_get_ovector_pointer(sc->md);
	m->start = ov[0];
	m->end = ov[1];
	m->name = "";
	m->file = "";
	m->line = 0;
	mark = pcre2_get_mark(sc->md);
	if (mark != NULL) {
		size_t idx = strtoul((const char *)mark, NULL, 10);

		if (idx < c->n) {
			m->name = c->rules[idx].name;
			m->file = c->rules[idx].file;
			m->line = c->rules[idx].line;
		}
	}
	return 1;
}
