/* settings.h -- the configuration in force while joinedreviewd runs: the
 * secrets it names, the connection cap the open-files limit allows, what a
 * SIGHUP reload changes at once, and the allow-list the catch-up thread
 * judges by. Loading the configuration itself is options.h's. */
#ifndef JR_SETTINGS_H
#define JR_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon.h"
#include "share.h"

/* The key pair and the allow-list (security = curve) and the pseudonym key:
 * files named in the configuration (under systemd, credentials). 0, or -1
 * when one is missing or refused (logged). */
int jr_settings_load_secrets(jr_daemon_t *d);

/* Raises the soft limit of open files to the hard one (systemd starts
 * services at 1,024) and returns the connection cap that limit allows:
 * daemon.max_connections, lowered so that clients can never take the
 * descriptors the database sessions need. */
size_t jr_settings_connection_cap(const jr_daemon_t *d);

/* SIGHUP: reads the configuration again and applies what can change at
 * once (streams, log level, the connection cap, the bound on rejected rows,
 * the allow-list); the rest waits for a restart and is named in the log.
 * A subscriber whose rights went is cut off. */
void jr_settings_reload(jr_daemon_t *d);

/* The catch-up hook (catchup.h): the feeds user_id may read, by the
 * allow-list in force; all of them in plaintext development mode. arg is
 * the daemon. Called on the catch-up thread. */
unsigned jr_settings_rights(void *arg, const char *user_id);

/* The catch-up hook for a key with one stream's records: that stream's
 * share under the streams and allow-list in force (a reload swaps both
 * under the same lock). Called on the catch-up thread. */
bool jr_settings_records(void *arg, const char *user_id, jr_share_scope_t *scope);

#endif
