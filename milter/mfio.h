/*
 * mfio.h - every libmilter call the filter makes, behind one wrapper.
 *
 * In daemon mode the wrappers call smfi_*().  In test mode (complaint-milter
 * -t FILE) there is no MTA: the wrappers print each edit and reply to stdout
 * in a stable, greppable form, and the private pointer is kept here.
 */
#ifndef CM_MFIO_H
#define CM_MFIO_H

#include <libmilter/mfapi.h>
#include <stdio.h>

#define MF_REPLY_LINES 16

void mf_set_test_mode(FILE *out);
int mf_test_mode(void);

void *mf_getpriv(SMFICTX *ctx);
int mf_setpriv(SMFICTX *ctx, void *priv);
/* Macro value or NULL; test mode answers from mf_test_macro(). */
const char *mf_getsymval(SMFICTX *ctx, const char *sym);
void mf_test_macro(const char *sym, const char *value);

int mf_chgheader(SMFICTX *ctx, const char *name, int idx, const char *value);
int mf_addheader(SMFICTX *ctx, const char *name, const char *value);
int mf_quarantine(SMFICTX *ctx, const char *reason);
/* Multi-line reply: lines[0..n); n <= MF_REPLY_LINES. */
int mf_setmlreply(SMFICTX *ctx, const char *rcode, const char *xcode,
    const char *const *lines, int n);

#endif
