/*
 * filter.h - the libmilter adapter: callbacks -> pipeline -> case -> edits.
 *
 * The only module besides milter_main.c that knows libmilter (through
 * mfio.h).  Configuration and rules are shared read-only snapshots; reload
 * swaps them under a lock and messages in flight finish with the ones they
 * started with.
 */
#ifndef CM_FILTER_H
#define CM_FILTER_H

#include <libmilter/mfapi.h>
#include <stdbool.h>
#include "calendar.h"
#include "config.h"
#include "rules.h"
#include "store.h"

/*
 * Takes a reference to cf and rs and owns cal (freed when no message uses it
 * any more); w is used, not owned.
 */
void filter_init(struct config *cf, struct rules *rs, struct calendar *cal,
    struct store_writer *w);
/* Swap in new snapshots (takes references; owns cal). */
void filter_swap(struct config *cf, struct rules *rs, struct calendar *cal);
void filter_shutdown(void);
struct smfiDesc *filter_desc(void);

/*
 * Test mode: run the callbacks on a saved message as an MTA would, printing
 * every edit and reply.  Returns the final SMFIS_* status.
 */
int filter_test_file(const char *path, const char *envfrom, const strlist *rcpts);

#endif
