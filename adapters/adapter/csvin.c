/* csvin.c -- see csvin.h. */
#include "csvin.h"

#include <csv.h>
#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CARRY_MAX   8           /* bytes of a character cut by the end of a chunk */
#define KEEP_ARENA  (16 * 1024) /* a recycled row keeps at most this much room */
#define KEEP_FIELDS 256

static const char g_replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

typedef struct {
    size_t offset; /* into arena */
    size_t len;
} field_t;

struct jr_csvin_row {
    char *arena; /* every field's bytes, each followed by a NUL */
    size_t arena_len, arena_cap;
    field_t *fields;
    size_t n, cap;
    unsigned long line;
    char *bad; /* what was not text in the encoding, or NULL */
    bool bad_from_bom;
};

struct jr_csvin {
    char *encoding;  /* as given */
    char active[64]; /* the one in use, once started */
    bool from_bom;   /* active came from a byte-order mark */
    bool started;    /* the encoding is chosen and cd open */
    iconv_t cd;
    size_t unit; /* bytes of one code unit: what an undecodable sequence skips */
    unsigned char carry[CARRY_MAX];
    size_t ncarry; /* the first bytes before start, then a cut character */
    char *in;      /* carry + a slice of input: JR_CSVIN_CHUNK + CARRY_MAX */
    char *out;     /* decoded text: JR_CSVIN_CHUNK */
    size_t out_len;
    struct csv_parser parser;
    bool parser_ready;

    jr_csvin_row_t *building; /* the row libcsv is filling */
    jr_csvin_row_t **queue;   /* complete rows, oldest first from q_head */
    size_t q_head, q_len, q_cap;
    jr_csvin_row_t *current; /* the one jr_csvin_next() returned */
    jr_csvin_row_t **spare;  /* emptied rows for reuse */
    size_t n_spare, cap_spare;

    unsigned long line;         /* the line being fed (0 before the first) */
    bool at_line_start;         /* the next byte starts a line */
    unsigned long rec_newlines; /* line breaks inside the row's quoted fields */
    unsigned long records;      /* rows completed, the header included */
    int torn;
    bool failed;
    bool finished;
    char error[320];
};

/* ---- rows ------------------------------------------------------------------ */

static bool grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 8;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elem)
            return false;
        n *= 2;
    }
    void *p = realloc(*buf, n * elem);
    if (!p)
        return false;
    *buf = p;
    *cap = n;
    return true;
}

static void row_clear(jr_csvin_row_t *row)
{
    row->n = 0;
    row->arena_len = 0;
    row->line = 0;
    free(row->bad);
    row->bad = NULL;
    row->bad_from_bom = false;
    /* A very wide or long row does not keep its room for the next one. */
    if (row->arena_cap > KEEP_ARENA) {
        free(row->arena);
        row->arena = NULL;
        row->arena_cap = 0;
    }
    if (row->cap > KEEP_FIELDS) {
        free(row->fields);
        row->fields = NULL;
        row->cap = 0;
    }
}

void jr_csvin_row_destroy(jr_csvin_row_t **row_p)
{
    if (!row_p || !*row_p)
        return;
    jr_csvin_row_t *row = *row_p;
    free(row->arena);
    free(row->fields);
    free(row->bad);
    free(row);
    *row_p = NULL;
}

size_t jr_csvin_row_fields(const jr_csvin_row_t *row)
{
    return row->n;
}

const char *jr_csvin_row_field(const jr_csvin_row_t *row, size_t col, size_t *len)
{
    if (col >= row->n)
        return NULL;
    if (len)
        *len = row->fields[col].len;
    return row->arena + row->fields[col].offset;
}

unsigned long jr_csvin_row_line(const jr_csvin_row_t *row)
{
    return row->line;
}

const char *jr_csvin_row_bad_text(const jr_csvin_row_t *row, bool *from_bom)
{
    if (from_bom)
        *from_bom = row->bad_from_bom;
    return row->bad;
}

int jr_csvin_row_column(const jr_csvin_row_t *header, const char *name)
{
    int found = -1;
    for (size_t i = 0; i < header->n; i++) {
        if (strcasecmp(jr_csvin_row_field(header, i, NULL), name) == 0) {
            if (found >= 0)
                return -2;
            found = (int)i;
        }
    }
    return found;
}

size_t jr_csvin_row_bytes(const jr_csvin_row_t *row)
{
    return sizeof *row + row->arena_cap + row->cap * sizeof(field_t) +
           (row->bad ? strlen(row->bad) + 1 : 0);
}

jr_csvin_row_t *jr_csvin_row_copy(const jr_csvin_row_t *row)
{
    jr_csvin_row_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->arena = malloc(row->arena_len ? row->arena_len : 1);
    c->fields = malloc((row->n ? row->n : 1) * sizeof(field_t));
    c->bad = row->bad ? strdup(row->bad) : NULL;
    if (!c->arena || !c->fields || (row->bad && !c->bad)) {
        jr_csvin_row_destroy(&c);
        return NULL;
    }
    memcpy(c->arena, row->arena, row->arena_len);
    memcpy(c->fields, row->fields, row->n * sizeof(field_t));
    c->arena_len = c->arena_cap = row->arena_len;
    c->n = c->cap = row->n;
    c->line = row->line;
    c->bad_from_bom = row->bad_from_bom;
    return c;
}

/* ---- the reader's state ---------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static int fail(jr_csvin_t *self, const char *fmt, ...)
{
    if (!self->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(self->error, sizeof self->error, fmt, ap);
        va_end(ap);
        self->failed = true;
    }
    return -1;
}

static unsigned long line_now(const jr_csvin_t *self)
{
    return self->line ? self->line : 1;
}

static jr_csvin_row_t *take_spare(jr_csvin_t *self)
{
    if (self->n_spare > 0)
        return self->spare[--self->n_spare];
    return calloc(1, sizeof(jr_csvin_row_t));
}

static void give_spare(jr_csvin_t *self, jr_csvin_row_t *row)
{
    row_clear(row);
    if (!grow((void **)&self->spare, &self->cap_spare, self->n_spare + 1, sizeof *self->spare)) {
        jr_csvin_row_destroy(&row);
        return;
    }
    self->spare[self->n_spare++] = row;
}

static bool push(jr_csvin_t *self, jr_csvin_row_t *row)
{
    if (self->q_head > 0 && self->q_head + self->q_len == self->q_cap) {
        memmove(self->queue, self->queue + self->q_head, self->q_len * sizeof *self->queue);
        self->q_head = 0;
    }
    if (!grow((void **)&self->queue, &self->q_cap, self->q_head + self->q_len + 1,
              sizeof *self->queue))
        return false;
    self->queue[self->q_head + self->q_len++] = row;
    return true;
}

/* ---- libcsv's callbacks ------------------------------------------------------------ */

static void on_field(void *s, size_t len, void *data)
{
    jr_csvin_t *self = data;
    jr_csvin_row_t *row = self->building;
    if (self->failed)
        return;
    if (row->n >= JR_CSVIN_MAX_FIELDS) {
        fail(self, "line %lu: a row has more than %d fields", line_now(self), JR_CSVIN_MAX_FIELDS);
        return;
    }
    if (row->arena_len + len + 1 > JR_CSVIN_MAX_ROW_BYTES) {
        fail(self, "line %lu: a row longer than %d bytes", line_now(self), JR_CSVIN_MAX_ROW_BYTES);
        return;
    }
    if (!grow((void **)&row->arena, &row->arena_cap, row->arena_len + len + 1, 1) ||
        !grow((void **)&row->fields, &row->cap, row->n + 1, sizeof(field_t))) {
        fail(self, "line %lu: out of memory", line_now(self));
        return;
    }
    if (len)
        memcpy(row->arena + row->arena_len, s, len);
    row->arena[row->arena_len + len] = '\0';
    row->fields[row->n++] = (field_t){row->arena_len, len};
    row->arena_len += len + 1;
    for (const char *p = s, *end = p + len; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
        self->rec_newlines++;
}

static void on_record(int term, void *data)
{
    jr_csvin_t *self = data;
    jr_csvin_row_t *row = self->building;
    if (self->failed)
        return;
    /* A line holding only spaces comes through as one empty field: it is a
     * blank line, not a row. */
    if (row->n == 1 && row->fields[0].len == 0) {
        row_clear(row);
        self->rec_newlines = 0;
        return;
    }
    row->line = line_now(self) - self->rec_newlines;
    /* libcsv passes -1 for a row that only the end of the file ended. */
    if (term == -1)
        self->torn = JR_CSVIN_TORN_LINE;
    jr_csvin_row_t *next = take_spare(self);
    if (!next || !push(self, row)) {
        if (next)
            give_spare(self, next);
        fail(self, "line %lu: out of memory", line_now(self));
        return;
    }
    self->building = next;
    self->rec_newlines = 0;
    self->records++;
}

/* ---- decoding and parsing ------------------------------------------------------------ */

/* Feeds decoded text to libcsv a line at a time, so that a row's end is
 * known to lie on the line being fed; its first line follows from the line
 * breaks inside it. */
static int parse(jr_csvin_t *self, const char *text, size_t len)
{
    size_t pos = 0;
    while (pos < len && !self->failed) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t piece = nl ? (size_t)(nl - (text + pos)) + 1 : len - pos;
        if (self->at_line_start) {
            self->line++;
            self->at_line_start = false;
        }
        if (csv_parse(&self->parser, text + pos, piece, on_field, on_record, self) != piece &&
            !self->failed)
            return fail(self,
                        "line %lu: not well-formed CSV (%s): a quote inside an unquoted field, "
                        "text after a closing quote, or a quoted field that never ends",
                        line_now(self), csv_strerror(csv_error(&self->parser)));
        if (self->failed)
            return -1;
        /* libcsv holds the field it is reading: an unterminated quote would
         * otherwise take in the rest of the file. */
        if (self->parser.entry_pos > JR_CSVIN_MAX_ROW_BYTES)
            return fail(self,
                        "line %lu: a field longer than %d bytes (a quoted field that never "
                        "ends?)",
                        line_now(self), JR_CSVIN_MAX_ROW_BYTES);
        if (nl)
            self->at_line_start = true;
        pos += piece;
    }
    return self->failed ? -1 : 0;
}

static int flush(jr_csvin_t *self)
{
    int rc = parse(self, self->out, self->out_len);
    self->out_len = 0;
    return rc;
}

/* The row being read holds `n` bytes that are not text in the encoding. */
static void note_bad(jr_csvin_t *self, const unsigned char *bytes, size_t n)
{
    jr_csvin_row_t *row = self->building;
    if (row->bad)
        return; /* the first says enough */
    char hex[40] = "";
    for (size_t i = 0; i < n && i < 4; i++)
        snprintf(hex + strlen(hex), sizeof hex - strlen(hex), "%s0x%02X", i ? " " : "", bytes[i]);
    char text[200];
    snprintf(text, sizeof text, "line %lu has bytes that are not %s text (%s)",
             self->at_line_start ? self->line + 1 : line_now(self), self->active, hex);
    row->bad = strdup(text);
    row->bad_from_bom = self->from_bom;
}

/* Decodes in[0..n) into out, parsing as out fills. With !final, a character
 * cut by the end of the slice is kept for the next one. */
static int decode(jr_csvin_t *self, char *in, size_t n, bool final)
{
    char *ip = in;
    size_t il = n;
    while (il > 0) {
        char *op = self->out + self->out_len;
        size_t ol = JR_CSVIN_CHUNK - self->out_len;
        size_t r = iconv(self->cd, &ip, &il, &op, &ol);
        self->out_len = (size_t)(op - self->out);
        if (r != (size_t)-1)
            break;
        if (errno == E2BIG) {
            if (flush(self) != 0)
                return -1;
            continue;
        }
        if (errno == EINVAL && !final && il <= CARRY_MAX) {
            memcpy(self->carry, ip, il);
            self->ncarry = il;
            break;
        }
        if (errno != EILSEQ && errno != EINVAL)
            return fail(self, "line %lu: cannot decode %s: %s", line_now(self), self->active,
                        strerror(errno));
        /* Not text in this encoding (or a character the end of the file
         * cut): one code unit becomes U+FFFD, and the row says so. */
        size_t skip = errno == EINVAL ? il : (self->unit < il ? self->unit : il);
        if (flush(self) != 0)
            return -1;
        note_bad(self, (const unsigned char *)ip, skip);
        memcpy(self->out, g_replacement, sizeof g_replacement - 1);
        self->out_len = sizeof g_replacement - 1;
        ip += skip;
        il -= skip;
    }
    return flush(self);
}

/* "UTF-16" and "UTF-32" without a byte-order mark: Windows' order. */
static const char *resolve(const char *encoding)
{
    if (strcasecmp(encoding, "UTF-16") == 0 || strcasecmp(encoding, "UTF16") == 0)
        return "UTF-16LE";
    if (strcasecmp(encoding, "UTF-32") == 0 || strcasecmp(encoding, "UTF32") == 0)
        return "UTF-32LE";
    return encoding;
}

bool jr_csvin_encoding_known(const char *encoding)
{
    if (!encoding || !*encoding)
        return false;
    iconv_t cd = iconv_open("UTF-8", resolve(encoding));
    if (cd == (iconv_t)-1)
        return false;
    iconv_close(cd);
    return true;
}

/* Bytes of one code unit of `encoding`: those of a line feed in it. */
static size_t unit_of(const char *encoding)
{
    iconv_t cd = iconv_open(encoding, "UTF-8");
    if (cd == (iconv_t)-1)
        return 1;
    char nl[] = "\n", out[16];
    char *ip = nl, *op = out;
    size_t il = 1, ol = sizeof out;
    size_t r = iconv(cd, &ip, &il, &op, &ol);
    iconv_close(cd);
    size_t n = sizeof out - ol;
    return r == (size_t)-1 || n == 0 ? 1 : n;
}

/* Chooses the encoding from the first bytes (in carry) and drops a
 * byte-order mark. */
static int start(jr_csvin_t *self)
{
    const unsigned char *c = self->carry;
    size_t bom = 0;
    const char *name = resolve(self->encoding);
    if (self->ncarry >= 3 && c[0] == 0xEF && c[1] == 0xBB && c[2] == 0xBF) {
        name = "UTF-8";
        bom = 3;
    } else if (self->ncarry >= 2 && c[0] == 0xFF && c[1] == 0xFE) {
        name = "UTF-16LE";
        bom = 2;
    } else if (self->ncarry >= 2 && c[0] == 0xFE && c[1] == 0xFF) {
        name = "UTF-16BE";
        bom = 2;
    }
    snprintf(self->active, sizeof self->active, "%s", name);
    self->from_bom = bom > 0;
    self->cd = iconv_open("UTF-8", self->active);
    if (self->cd == (iconv_t)-1)
        return fail(self, "cannot decode %s: %s", self->active, strerror(errno));
    self->unit = unit_of(self->active);
    memmove(self->carry, self->carry + bom, self->ncarry - bom);
    self->ncarry -= bom;
    self->started = true;
    return 0;
}

/* ---- the reader --------------------------------------------------------------------- */

jr_csvin_t *jr_csvin_new(const char *encoding, char *why, size_t why_len)
{
    if (!encoding || !*encoding)
        encoding = "UTF-8";
    if (!jr_csvin_encoding_known(encoding)) {
        snprintf(why, why_len, "iconv does not know the encoding \"%s\" (iconv -l lists them)",
                 encoding);
        return NULL;
    }
    jr_csvin_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    self->cd = (iconv_t)-1;
    self->at_line_start = true;
    self->encoding = strdup(encoding);
    self->in = malloc(JR_CSVIN_CHUNK + CARRY_MAX);
    self->out = malloc(JR_CSVIN_CHUNK);
    self->building = calloc(1, sizeof *self->building);
    if (!self->encoding || !self->in || !self->out || !self->building ||
        csv_init(&self->parser, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        snprintf(why, why_len, "out of memory");
        jr_csvin_destroy(&self);
        return NULL;
    }
    self->parser_ready = true;
    return self;
}

void jr_csvin_destroy(jr_csvin_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    jr_csvin_t *self = *self_p;
    if (self->parser_ready)
        csv_free(&self->parser);
    if (self->cd != (iconv_t)-1)
        iconv_close(self->cd);
    for (size_t i = 0; i < self->q_len; i++)
        jr_csvin_row_destroy(&self->queue[self->q_head + i]);
    for (size_t i = 0; i < self->n_spare; i++)
        jr_csvin_row_destroy(&self->spare[i]);
    jr_csvin_row_destroy(&self->building);
    jr_csvin_row_destroy(&self->current);
    free(self->queue);
    free(self->spare);
    free(self->encoding);
    free(self->in);
    free(self->out);
    free(self);
    *self_p = NULL;
}

int jr_csvin_feed(jr_csvin_t *self, const void *data, size_t len)
{
    const char *p = data;
    if (self->failed || self->finished)
        return -1;
    while (len > 0) {
        if (!self->started) {
            /* Three bytes tell a byte-order mark. */
            while (len > 0 && self->ncarry < 3) {
                self->carry[self->ncarry++] = (unsigned char)*p++;
                len--;
            }
            if (self->ncarry < 3)
                return 0;
            if (start(self) != 0)
                return -1;
        }
        size_t slice = len < JR_CSVIN_CHUNK ? len : JR_CSVIN_CHUNK;
        size_t n = self->ncarry;
        memcpy(self->in, self->carry, n);
        memcpy(self->in + n, p, slice);
        self->ncarry = 0;
        p += slice;
        len -= slice;
        if (decode(self, self->in, n + slice, false) != 0)
            return -1;
    }
    /* Bytes kept for a byte-order mark or a cut character wait for more. */
    return 0;
}

int jr_csvin_finish(jr_csvin_t *self)
{
    if (self->failed)
        return -1;
    if (self->finished)
        return 0;
    self->finished = true;
    if (!self->started && start(self) != 0)
        return -1;
    if (self->ncarry > 0) {
        size_t n = self->ncarry;
        memcpy(self->in, self->carry, n);
        self->ncarry = 0;
        if (decode(self, self->in, n, true) != 0)
            return -1;
    }
    /* The end of a stateful encoding's shift sequence, if any. */
    char *op = self->out;
    size_t ol = JR_CSVIN_CHUNK;
    iconv(self->cd, NULL, NULL, &op, &ol);
    self->out_len = (size_t)(op - self->out);
    if (flush(self) != 0)
        return -1;
    /* With CSV_STRICT_FINI, libcsv fails only a quoted field left open. */
    if (csv_fini(&self->parser, on_field, on_record, self) != 0 && !self->failed) {
        self->torn = JR_CSVIN_TORN_QUOTE;
        return fail(self,
                    "line %lu: not well-formed CSV (%s): a quote inside an unquoted field, text "
                    "after a closing quote, or a quoted field that never ends",
                    line_now(self), csv_strerror(CSV_EPARSE));
    }
    if (self->failed)
        return -1;
    if (self->records == 0) {
        snprintf(self->error, sizeof self->error,
                 "the file is empty: a header row naming the columns is required");
        self->failed = true;
        return -1;
    }
    return 0;
}

const jr_csvin_row_t *jr_csvin_next(jr_csvin_t *self)
{
    if (self->current) {
        give_spare(self, self->current);
        self->current = NULL;
    }
    if (self->q_len == 0)
        return NULL;
    self->current = self->queue[self->q_head++];
    if (--self->q_len == 0)
        self->q_head = 0;
    return self->current;
}

const char *jr_csvin_error(const jr_csvin_t *self)
{
    return self->error;
}

int jr_csvin_torn(const jr_csvin_t *self)
{
    return self->torn;
}

const char *jr_csvin_encoding(const jr_csvin_t *self)
{
    return self->started ? self->active : resolve(self->encoding);
}
