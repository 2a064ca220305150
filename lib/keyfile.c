/* keyfile.c -- see keyfile.h. */
#include "keyfile.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool jr_keyfile_z85_ok(const char *s)
{
    static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   ".-:+=^!/*?&<>()[]{}@%$#";
    if (s == NULL || strlen(s) != JR_KEY_Z85_LEN) {
        return false;
    }
    for (const char *c = s; *c; c++) {
        if (strchr(alphabet, *c) == NULL) {
            return false;
        }
    }
    return true;
}

int jr_keyfile_check_server_key(const char *value, char *err, size_t errlen)
{
    if (value[0] == '\0' || jr_keyfile_z85_ok(value)) {
        return 0;
    }
    snprintf(err, errlen,
             "'server_key' is not a public key (%zu characters; a key is %d of the Z85 "
             "alphabet): copy the quoted value of the public-key line of the daemon's server.pub",
             strlen(value), JR_KEY_Z85_LEN);
    return -1;
}

FILE *jr_keyfile_open_secret(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (f == NULL || fstat(fileno(f), &st) != 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        if (f != NULL) {
            fclose(f);
        }
        return NULL;
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        snprintf(err, errlen,
                 "%s is open to %s (mode %04o): a secret must be readable by its owner alone; "
                 "run 'chmod 600 %s' (or pass it as a systemd credential)",
                 path, (st.st_mode & S_IRWXO) ? "every user" : "its group",
                 (unsigned)(st.st_mode & 07777), path);
        fclose(f);
        return NULL;
    }
    return f;
}

typedef struct {
    char *pub;
    char *sec;
    int found; /* 1: public, 2: secret */
    char msg[120];
} keys_t;

static int on_key(void *user, const char *section, const char *key, const char *value)
{
    keys_t *k = user;
    (void)section;
    char v[64];
    size_t len = strlen(value);
    if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
        snprintf(v, sizeof v, "%.*s", (int)(len - 2), value + 1);
    } else {
        snprintf(v, sizeof v, "%s", value);
    }
    char *dest = strcmp(key, "public-key") == 0   ? k->pub
                 : strcmp(key, "secret-key") == 0 ? k->sec
                                                  : NULL;
    if (dest == NULL) {
        return 1; /* other metadata lines are allowed */
    }
    if (!jr_keyfile_z85_ok(v)) {
        snprintf(k->msg, sizeof k->msg, "%s must be 40 Z85 characters", key);
        return 0;
    }
    memcpy(dest, v, JR_KEY_Z85_LEN + 1);
    k->found |= dest == k->pub ? 1 : 2;
    return 1;
}

int jr_keyfile_read(const char *path, char public_key[JR_KEY_Z85_LEN + 1],
                    char secret_key[JR_KEY_Z85_LEN + 1], char *err, size_t errlen)
{
    char sec_buf[JR_KEY_Z85_LEN + 1];
    keys_t k = {.pub = public_key, .sec = secret_key ? secret_key : sec_buf};
    FILE *f = secret_key != NULL ? jr_keyfile_open_secret(path, err, errlen) : fopen(path, "rb");
    if (f == NULL) {
        if (secret_key == NULL) {
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        }
        return -1;
    }
    int rc = ini_parse_file(f, on_key, &k);
    fclose(f);
    if (rc != 0) {
        snprintf(err, errlen, "%s:%d: %s", path, rc, k.msg[0] ? k.msg : "not a key file");
        return -1;
    }
    if (!(k.found & 1) || (secret_key != NULL && !(k.found & 2))) {
        snprintf(err, errlen, "%s: needs lines public-key = \"...\"%s (40 Z85 characters each)",
                 path, secret_key ? " and secret-key = \"...\"" : "");
        return -1;
    }
    return 0;
}

int jr_keyfile_read_bytes(const char *path, uint8_t *out, size_t len, char *err, size_t errlen)
{
    FILE *f = jr_keyfile_open_secret(path, err, errlen);
    if (f == NULL) {
        return -1;
    }
    size_t got = fread(out, 1, len, f);
    fclose(f);
    if (got < len) {
        snprintf(err, errlen, "%s: needs at least %zu random bytes (head -c %zu /dev/urandom)",
                 path, len, len);
        return -1;
    }
    return 0;
}

static int write_new(const char *path, mode_t mode, const char *text, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t len = strlen(text);
    int rc = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0 ? 0 : -1;
    if (close(fd) != 0 || rc != 0) {
        snprintf(err, errlen, "writing %s failed", path);
        return -1;
    }
    return 0;
}

int jr_keyfile_write_pair(const char *name, const char *public_key, const char *secret_key,
                          char *err, size_t errlen)
{
    char path[4096], text[256];
    snprintf(path, sizeof path, "%s.key", name);
    snprintf(text, sizeof text,
             "# joinedreview CURVE key pair: SECRET, give it only to the program it names\n"
             "public-key = \"%s\"\nsecret-key = \"%s\"\n",
             public_key, secret_key);
    if (write_new(path, 0600, text, err, errlen) != 0) {
        return -1;
    }
    snprintf(path, sizeof path, "%s.pub", name);
    snprintf(text, sizeof text, "# joinedreview CURVE public key\npublic-key = \"%s\"\n",
             public_key);
    return write_new(path, 0644, text, err, errlen);
}
