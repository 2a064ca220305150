/* nhs.h -- person identifiers: NHS number and National Insurance number.
 *
 * NHS number: 10 digits, the last a modulus-11 check digit over the first
 * nine with weights 10 down to 2: check = 11 - (sum mod 11); 11 becomes 0,
 * and 10 means the number is invalid. Spaces (and hyphens, as some systems
 * print "943-476-5919") between digits are accepted and removed.
 *
 * Numbers whose ten digits are all the same (0000000000, 1111111111, ...
 * 9999999999) pass the check digit, and back offices write them for "not
 * known": they are refused, or unrelated people would merge into one review.
 *
 * Pure: no I/O. */
#ifndef JR_NHS_H
#define JR_NHS_H

#include <stdbool.h>

#define JR_NHS_LEN  10
#define JR_NINO_LEN 9

typedef enum {
    JR_NHS_OK = 0,
    JR_NHS_BAD_LENGTH = -1,    /* not 10 digits once spaces are removed */
    JR_NHS_BAD_CHARACTER = -2, /* something other than digits, spaces, hyphens */
    JR_NHS_BAD_CHECK_DIGIT = -3,
    JR_NHS_PLACEHOLDER = -4, /* all ten digits the same: "not known" in a back office */
} jr_nhs_status_t;

/* Normalises `in` into out (10 digits + NUL) when valid. `out` is written
 * only on JR_NHS_OK. */
jr_nhs_status_t jr_nhs_normalise(const char *in, char out[JR_NHS_LEN + 1]);

/* A short English phrase for a status ("the check digit is wrong"). */
const char *jr_nhs_status_text(jr_nhs_status_t st);

/* National Insurance number: two letters, six digits, one suffix letter A-D
 * (spaces allowed; lower case accepted). The first letter is not D, F, I, Q,
 * U or V; the second is not D, F, I, O, Q, U or V. Normalised to upper case
 * without spaces. Returns true and writes `out` when valid. */
bool jr_nhs_nino_normalise(const char *in, char out[JR_NINO_LEN + 1]);

#endif
