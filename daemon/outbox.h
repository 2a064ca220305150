/* outbox.h -- committed publications handed to the feeds, and how far that
 * got.
 *
 * A batch or a due-check round commits its publications to the outbox in
 * its own transaction; only then are they handed to the feeds (publish.h),
 * and the last sequence number handed over is recorded in the database, so
 * that a crash between the commit and the hand-over is made good at the
 * next start: jr_outbox_republish() hands over what was committed after
 * it. Subscribers drop repeats by sequence number. */
#ifndef JR_OUTBOX_H
#define JR_OUTBOX_H

#include "daemon.h"

/* Hands pubs to the feeds in order, records how far it got (while
 * connected), and clears pubs. */
void jr_outbox_publish(jr_daemon_t *d, jr_publications_t *pubs);

/* At start-up, connected: hands over what was committed but not published
 * before the daemon stopped. */
void jr_outbox_republish(jr_daemon_t *d);

#endif
