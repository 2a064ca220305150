/* mapping.h -- one funding stream's export format as one table of data.
 *
 * A mapping says which columns of a stream's CSV export carry which part of
 * an event, and how the stream's own words map onto the joined-up review:
 * record types onto kinds of event, native codes onto topics, author words
 * onto roles, priority words onto priorities. Adapters differ only by this
 * table: adding a stream is a new file, not new code.
 *
 * The file is INI (read with inih):
 *
 *   [stream]      code = SC, name = Social Care, date_format = YYYY-MM-DD
 *                 (or DD/MM/YYYY), encoding = the export's text encoding,
 *                 an iconv name (UTF-8 when not given; WINDOWS-1252 for
 *                 what Excel saves as "CSV"); a byte-order mark at the
 *                 start of a file (UTF-8, UTF-16) wins over it;
 *                 amounts = pence (whole pence, sent as they are: the
 *                 default) or pounds ("£1,234.56", "1234.5": made whole
 *                 pence exactly, never through floating point)
 *   [columns]     field = the export's column name, for the fields below
 *   [kinds]       record-type word = ENROLMENT | CONTRIBUTION | REVIEW_HELD |
 *                 PLAN_REVISION | PREFERENCES | BUDGET
 *   [topics]      native code = a topic name of the wire contract (HEALTH ...)
 *   [roles]       native author word = PERSON | CARER | COUNCIL |
 *                 STREAM_OFFICER | PROVIDER | ADVOCATE
 *   [priorities]  native priority word = RED | AMBER | GREEN | NOT_GIVEN
 *   [ways]        native word for how the person wants their review =
 *                 WAY_FORMAT_FIRST | WAY_MEETING | WAY_WITH_OTHERS
 *   [needs]       native word for what they need to take part = a Need of
 *                 the wire contract (NEED_LARGE_PRINT, NEED_EASY_READ,
 *                 NEED_BSL_INTERPRETER, ...); a needs cell lists several,
 *                 separated by ';' or ','
 *
 * A cell of who to involve lists up to 8 names or roles separated by ';'.
 *
 * Words are matched without regard to case or surrounding spaces. A word the
 * table does not name is not guessed: the row is refused with the reason.
 * An unknown section or key, a duplicate word, or a value that is not a
 * name of the contract is an error when the table is loaded.
 *
 * Each stream's table is adapters/<stream>/mapping.ini; the six are compiled
 * into the adapter (jr_mapping_builtin()) and a council can load its own
 * file instead (jr_mapping_load()).
 *
 * No network; jr_mapping_load() reads one file. */
#ifndef JR_MAPPING_H
#define JR_MAPPING_H

#include <stdbool.h>
#include <stddef.h>

/* The parts of an event a column can carry: the [columns] keys. */
typedef enum {
    JR_FIELD_KIND,            /* record type, through [kinds] (required) */
    JR_FIELD_KEY,             /* the row's own reference, shown in its id */
    JR_FIELD_DATE,            /* when it happened (required) */
    JR_FIELD_NHS,             /* NHS number */
    JR_FIELD_NINO,            /* National Insurance number */
    JR_FIELD_LOCAL,           /* the stream's own client id */
    JR_FIELD_CODE,            /* native code, through [topics] */
    JR_FIELD_ROLE,            /* author's role word, through [roles] */
    JR_FIELD_AUTHOR,          /* author's name */
    JR_FIELD_WORKING,         /* what is working */
    JR_FIELD_NOT_WORKING,     /* what is not working */
    JR_FIELD_PRIORITY,        /* priority word, through [priorities] */
    JR_FIELD_NO_CHANGE,       /* Y/N: nothing has changed */
    JR_FIELD_STARTED_ON,      /* enrolment: date the stream started */
    JR_FIELD_ENDED_ON,        /* enrolment: date it stopped */
    JR_FIELD_LAST_REVIEW_ON,  /* enrolment: the stream's own last review */
    JR_FIELD_AWARD_ENDS_ON,   /* enrolment: the award's end date */
    JR_FIELD_INTERVAL_DAYS,   /* enrolment: review interval in days */
    JR_FIELD_REFERENCE,       /* enrolment: the stream's reference */
    JR_FIELD_HELD_ON,         /* review held: the date (else the row's date) */
    JR_FIELD_REVISE_BY,       /* plan revision: by when */
    JR_FIELD_REVISED_BY,      /* plan revision: by whom */
    JR_FIELD_APPROVAL_NEEDED, /* plan revision: Y/N */
    JR_FIELD_APPROVER,        /* plan revision: who approves */
    JR_FIELD_KNOWN_AS,        /* enrolment: the name the stream knows the person by */
    JR_FIELD_GROUP_KEY,       /* enrolment: the scheme, service or place */
    JR_FIELD_WAY,             /* preferences: the way, through [ways] */
    JR_FIELD_WHERE,           /* preferences: where */
    JR_FIELD_INVOLVE,         /* preferences: who to involve, ';'-separated */
    JR_FIELD_NEEDS,           /* preferences: needs, through [needs] */
    JR_FIELD_LANGUAGE,        /* preferences: the language, with another-language need */
    JR_FIELD_CALLED,          /* preferences: the name they want to be called */
    JR_FIELD_PERIOD_START,    /* budget: the period's first day */
    JR_FIELD_PERIOD_END,      /* budget: its last day */
    JR_FIELD_ALLOCATED,       /* budget: the amount allocated */
    JR_FIELD_SPENT,           /* budget: the amount spent */
    JR_FIELD_COUNT
} jr_field_t;

/* Kinds of event: the Envelope's body. */
typedef enum {
    JR_KIND_ENROLMENT = 1,
    JR_KIND_CONTRIBUTION,
    JR_KIND_REVIEW_HELD,
    JR_KIND_PLAN_REVISION,
    JR_KIND_PREFERENCES,
    JR_KIND_BUDGET,
} jr_kind_t;

/* How the export writes amounts of money. */
typedef enum {
    JR_AMOUNTS_PENCE = 0, /* whole pence, passed to the daemon as they are */
    JR_AMOUNTS_POUNDS,    /* pounds and pence, made whole pence */
} jr_amounts_t;

typedef enum {
    JR_DATES_ISO = 0, /* YYYY-MM-DD */
    JR_DATES_UK,      /* DD/MM/YYYY (day and month may have one digit) */
} jr_date_format_t;

/* The tables a word is looked up in. */
typedef enum {
    JR_TABLE_KINDS,
    JR_TABLE_TOPICS,
    JR_TABLE_ROLES,
    JR_TABLE_PRIORITIES,
    JR_TABLE_WAYS,
    JR_TABLE_NEEDS,
    JR_TABLE_COUNT
} jr_table_t;

typedef struct jr_mapping jr_mapping_t;

/* A built-in table: the text of adapters/<dir>/mapping.ini. */
typedef struct {
    const char *stream; /* upper-case directory name, e.g. "SC" */
    const char *path;   /* "adapters/sc/mapping.ini" */
    const char *text;
} jr_mapping_builtin_t;

/* The built-in text for a stream code (any case), or NULL. Static storage. */
const jr_mapping_builtin_t *jr_mapping_builtin(const char *stream);

/* All built-in tables, in the order they were compiled in; *n is their count. */
const jr_mapping_builtin_t *jr_mapping_builtins(size_t *n);

/* Parses a mapping from `text`; `origin` names it in messages (a path, or
 * "built-in adapters/sc/mapping.ini"). Both are copied. Caller owns the
 * result (jr_mapping_destroy()). NULL with a reason in why when the table is
 * not valid. */
jr_mapping_t *jr_mapping_parse(const char *text, const char *origin, char *why, size_t why_len);

/* Reads and parses the file at `path`. As jr_mapping_parse(). */
jr_mapping_t *jr_mapping_load(const char *path, char *why, size_t why_len);

/* Accepts NULL or a pointer to NULL; sets *self_p to NULL. */
void jr_mapping_destroy(jr_mapping_t **self_p);

/* The stream's code ("SC"), name, and where the table came from. Borrowed. */
const char *jr_mapping_stream(const jr_mapping_t *self);
const char *jr_mapping_name(const jr_mapping_t *self);
const char *jr_mapping_origin(const jr_mapping_t *self);
jr_date_format_t jr_mapping_date_format(const jr_mapping_t *self);
jr_amounts_t jr_mapping_amounts(const jr_mapping_t *self);

/* The export's encoding, an iconv name: [stream] encoding, or "UTF-8".
 * Borrowed. */
const char *jr_mapping_encoding(const jr_mapping_t *self);

/* The export's column name for `field`, or NULL when the stream's export has
 * no such column. Borrowed. */
const char *jr_mapping_column(const jr_mapping_t *self, jr_field_t field);

/* The [columns] key of a field ("nhs_number"). Static storage. */
const char *jr_mapping_field_name(jr_field_t field);

/* Looks `word` up in `table` (case and surrounding spaces ignored). Returns
 * true and writes the mapped value (a jr_kind_t, or the wire contract's
 * Topic, Role, Priority, ReviewWay or Need number) when the table names it. */
bool jr_mapping_lookup(const jr_mapping_t *self, jr_table_t table, const char *word, int *value);

/* The section name of a table ("topics"). Static storage. */
const char *jr_mapping_table_name(jr_table_t table);

/* Writes the table in INI form (for --print-mapping): the text it was parsed
 * from. Borrowed. */
const char *jr_mapping_text(const jr_mapping_t *self);

#endif
