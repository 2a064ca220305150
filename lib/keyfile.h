/* keyfile.h -- CURVE key files and other secrets on disk.
 *
 * A key file is what `joinedreview keygen` writes: lines
 *   public-key = "<40 Z85 characters>"
 *   secret-key = "<40 Z85 characters>"      (the secret file only)
 * (quotes optional; other lines are comments or metadata). A file read for a
 * secret is refused when its group or other users have any access to it, as
 * ssh and PostgreSQL refuse theirs, with the chmod that fixes it. */
#ifndef JR_KEYFILE_H
#define JR_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JR_KEY_Z85_LEN 40

/* True when s is exactly 40 characters of the Z85 alphabet. */
bool jr_keyfile_z85_ok(const char *s);

/* A configuration check (lib/cfg.h) for a `server_key`: empty (no CURVE),
 * or a public key as jr_keyfile_z85_ok() says. 0, or -1 with a sentence in
 * err that says where the right value is found. */
int jr_keyfile_check_server_key(const char *value, char *err, size_t errlen);

/* Opens a file holding a secret for reading; NULL, with a sentence that
 * says how to fix it in err, when it cannot be opened or its group or other
 * users have any access. Caller closes the result. */
FILE *jr_keyfile_open_secret(const char *path, char *err, size_t errlen);

/* Reads a key file's public key, and its secret key when secret is not
 * NULL (the file then must pass jr_keyfile_open_secret). 0, or -1 with err. */
int jr_keyfile_read(const char *path, char public_key[JR_KEY_Z85_LEN + 1],
                    char secret_key[JR_KEY_Z85_LEN + 1], char *err, size_t errlen);

/* Reads at least `len` bytes of a secret (the pseudonym key, say) into out,
 * under the same rule. 0, or -1 with err. */
int jr_keyfile_read_bytes(const char *path, uint8_t *out, size_t len, char *err, size_t errlen);

/* Writes NAME.key (both keys, mode 0600, created exclusively) and NAME.pub
 * (the public key). 0, or -1 with err (nothing is overwritten). */
int jr_keyfile_write_pair(const char *name, const char *public_key, const char *secret_key,
                          char *err, size_t errlen);

#endif
