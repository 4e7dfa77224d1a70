/*
 * mfio.c - libmilter wrappers with a test mode that prints instead.
 */
#include "mfio.h"

#include <stdlib.h>
#include <string.h>

static FILE *test_out;		/* non-NULL: test mode */
static void *test_priv;
static struct {
	char sym[32];
	char *value;
} test_macros[16];

void
mf_set_test_mode(FILE *out)
{
	test_out = out;
}

int
mf_test_mode(void)
{
	return test_out != NULL;
}

void *
mf_getpriv(SMFICTX *ctx)
{
	return test_out ? test_priv : smfi_getpriv(ctx);
}

int
mf_setpriv(SMFICTX *ctx, void *priv)
{
	if (test_out) {
		test_priv = priv;
		return MI_SUCCESS;
	}
	return smfi_setpriv(ctx, priv);
}

void
mf_test_macro(const char *sym, const char *value)
{
	for (size_t i = 0; i < sizeof(test_macros) / sizeof(test_macros[0]); i++) {
		if (test_macros[i].sym[0] == '\0' || strcmp(test_macros[i].sym, sym) == 0) {
			snprintf(test_macros[i].sym, sizeof(test_macros[i].sym), "%s", sym);
			free(test_macros[i].value);
			test_macros[i].value = value ? strdup(value) : NULL;
			return;
		}
	}
}

const char *
mf_getsymval(SMFICTX *ctx, const char *sym)
{
	if (!test_out)
		return smfi_getsymval(ctx, (char *)sym);
	for (size_t i = 0; i < sizeof(test_macros) / sizeof(test_macros[0]); i++)
		if (strcmp(test_macros[i].sym, sym) == 0)
			return test_macros[i].value;
	return NULL;
}

int
mf_chgheader(SMFICTX *ctx, const char *name, int idx, const char *value)
{
	if (test_out) {
		if (value)
			fprintf(test_out, "chgheader %s[%d]: %s\n", name, idx, value);
		else
			fprintf(test_out, "delheader %s[%d]\n", name, idx);
		return MI_SUCCESS;
	}
	return smfi_chgheader(ctx, (char *)name, idx, (char *)value);
}

int
mf_addheader(SMFICTX *ctx, const char *name, const char *value)
{
	if (test_out) {
		fprintf(test_out, "addheader %s: %s\n", name, value);
		return MI_SUCCESS;
	}
	return smfi_addheader(ctx, (char *)name, (char *)value);
}

int
mf_quarantine(SMFICTX *ctx, const char *reason)
{
	if (test_out) {
		fprintf(test_out, "quarantine: %s\n", reason);
		return MI_SUCCESS;
	}
	return smfi_quarantine(ctx, (char *)reason);
}

/*
 * One reply line as the MTA must get it: Sendmail formats the text (a '%'
 * must be written "%%") and Postfix undoes that quoting (milter8.c), so a
 * '%' is doubled; CR and LF, which make libmilter refuse the reply, become
 * spaces.  Writes at most outsz - 1 bytes.
 */
static void
reply_line(const char *in, char *out, size_t outsz)
{
	size_t o = 0;

	for (; *in && o + 2 < outsz; in++) {
		if (*in == '%')
			out[o++] = '%';
		out[o++] = *in == '\r' || *in == '\n' ? ' ' : *in;
	}
	out[o] = '\0';
}

int
mf_setmlreply(SMFICTX *ctx, const char *rcode, const char *xcode,
    const char *const *lines, int n)
{
	const char *l[MF_REPLY_LINES + 1];
	char esc[MF_REPLY_LINES][512];	/* smfi_setmlreply copies them */

	if (n > MF_REPLY_LINES)
		n = MF_REPLY_LINES;
	for (int i = 0; i <= MF_REPLY_LINES; i++)
		l[i] = i < n ? lines[i] : NULL;
	if (test_out) {
		for (int i = 0; i < n; i++)
			fprintf(test_out, "reply %s%c%s %s\n", rcode, i + 1 < n ? '-' : ' ', xcode, l[i]);
		return MI_SUCCESS;
	}
	for (int i = 0; i < n; i++) {
		reply_line(lines[i], esc[i], sizeof(esc[i]));
		l[i] = esc[i];
	}
	/* smfi_setmlreply stops at the first NULL */
	return smfi_setmlreply(ctx, rcode, xcode, l[0], l[1], l[2], l[3], l[4], l[5], l[6],
	    l[7], l[8], l[9], l[10], l[11], l[12], l[13], l[14], l[15], (char *)NULL);
}
