/* app.c -- see app.h. */
#include "app.h"

const unsigned jr_app_codes[JR_APP_CODES] = {200, 303, 304, 400, 401, 403, 404,
                                             405, 413, 415, 429, 500, 503};

void jr_app_count(jr_app_t *app, unsigned status)
{
    size_t i = 0;
    while (i < JR_APP_CODES && jr_app_codes[i] != status) {
        i++;
    }
    atomic_fetch_add_explicit(&app->requests[i], 1, memory_order_relaxed);
}
