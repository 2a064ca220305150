/* assets.h -- the stylesheet and the refresh script, served from memory.
 * Their text is web/static/ (style.css, refresh.js), built into the program (embed_assets.cmake),
 * so the service reads no files at run time to serve them. */
#ifndef JR_ASSETS_H
#define JR_ASSETS_H

#include <stddef.h>

/* The asset at path ("/static/style.css"): its bytes (static storage), length
 * and Content-Type; NULL when there is none. */
const char *jr_assets_find(const char *path, size_t *len, const char **type);

#endif
