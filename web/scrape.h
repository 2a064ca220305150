/* scrape.h -- reads the daemon's metrics from its loopback endpoint, so
 * that one scrape of joinedreview-web's /metrics has both.
 *
 * A plain HTTP/1.0 GET of /metrics from 127.0.0.1:PORT (the configuration
 * allows only loopback addresses), bounded in time and in size: a slow or
 * silent daemon costs the request timeout_ms at most, and an answer larger
 * than the buffer is dropped. */
#ifndef JR_SCRAPE_H
#define JR_SCRAPE_H

#include <stddef.h>

/* The body of GET /metrics from "HOST:PORT" into out (NUL-terminated).
 * Returns its length, or -1 when the daemon did not answer 200 in time or
 * the body does not fit in max bytes. */
int jr_scrape_get(const char *host_port, char *out, size_t max, int timeout_ms);

#endif
