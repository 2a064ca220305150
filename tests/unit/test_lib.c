/* test_lib.c -- what every program shares: the configuration table engine,
 * key files, the string map and the clock. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "clock.h"
#include "jr_cunit.h"
#include "keyfile.h"
#include "strmap.h"

static char g_dir[256];

static int setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/jr-test-lib-XXXXXX");
    return mkdtemp(g_dir) == NULL;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

/* ---- the configuration table ---- */

typedef struct {
    char *name;
    char code[8];
    int count;
    unsigned days;
    long long bytes;
    bool on;
    int pair[2];
} conf_t;

static int parse_pair(const jr_cfg_key_t *k, void *field, const char *value, char *err,
                      size_t errlen)
{
    int *p = field;
    if (sscanf(value, "%d-%d", &p[0], &p[1]) != 2) {
        snprintf(err, errlen, "'%s' is two numbers, as 3-4", k->key);
        return -1;
    }
    return 0;
}

static int check_not_x(const char *value, char *err, size_t errlen)
{
    if (strcmp(value, "x") == 0) {
        snprintf(err, errlen, "not x");
        return -1;
    }
    return 0;
}

#define O(f) offsetof(conf_t, f)
static const jr_cfg_key_t g_keys[] = {
    {.key = "name",
     .type = JR_CFG_STRING,
     .offset = O(name),
     .def = "anon",
     .help = "a name",
     .check = check_not_x},
    {.key = "code",
     .type = JR_CFG_CHARS,
     .offset = O(code),
     .def = "SC",
     .max = 8,
     .help = "a code"},
    {.key = "count",
     .type = JR_CFG_INT,
     .offset = O(count),
     .def = "3",
     .min = 1,
     .max = 10,
     .help = "a count",
     .when = JR_CFG_ON_RESTART},
    {.key = "days",
     .type = JR_CFG_UINT,
     .offset = O(days),
     .def = "7",
     .min = 0,
     .max = 365,
     .help = "days"},
    {.key = "bytes",
     .type = JR_CFG_LLONG,
     .offset = O(bytes),
     .def = "4294967296",
     .min = 1,
     .max = 8589934592LL,
     .help = "bytes"},
    {.key = "on", .type = JR_CFG_BOOL, .offset = O(on), .def = "yes", .help = "on"},
    {.key = "pair",
     .type = JR_CFG_CUSTOM,
     .offset = O(pair),
     .def = "1-2",
     .help = "a pair",
     .parse = parse_pair,
     .type_name = "pair",
     .size = sizeof(int[2])},
};
#define N_KEYS (sizeof g_keys / sizeof *g_keys)

static void test_cfg_types_defaults_and_bounds(void)
{
    conf_t c = {0};
    char err[256];
    CU_ASSERT_EQUAL_FATAL(jr_cfg_defaults(g_keys, N_KEYS, &c, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(c.name, "anon");
    CU_ASSERT_STRING_EQUAL(c.code, "SC");
    CU_ASSERT_EQUAL(c.count, 3);
    CU_ASSERT_EQUAL(c.days, 7);
    CU_ASSERT_EQUAL(c.bytes, 4294967296LL);
    CU_ASSERT_TRUE(c.on);
    CU_ASSERT_EQUAL(c.pair[0], 1);
    CU_ASSERT_EQUAL(c.pair[1], 2);

    const jr_cfg_key_t *count = jr_cfg_find(g_keys, N_KEYS, "count");
    CU_ASSERT_PTR_NOT_NULL_FATAL(count);
    CU_ASSERT_PTR_NULL(jr_cfg_find(g_keys, N_KEYS, "nope"));
    CU_ASSERT_EQUAL(jr_cfg_set(count, &c, "11", err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "'count' must be a whole number from 1 to 10, not '11'");
    CU_ASSERT_EQUAL(jr_cfg_set(count, &c, "4x", err, sizeof err), -1);
    CU_ASSERT_EQUAL(jr_cfg_set(count, &c, "10", err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.count, 10);
    CU_ASSERT_EQUAL(jr_cfg_set(jr_cfg_find(g_keys, N_KEYS, "on"), &c, "maybe", err, sizeof err),
                    -1);
    CU_ASSERT_STRING_EQUAL(err, "'on' must be true or false, not 'maybe'");
    CU_ASSERT_EQUAL(jr_cfg_set(jr_cfg_find(g_keys, N_KEYS, "on"), &c, "0", err, sizeof err), 0);
    CU_ASSERT_FALSE(c.on);
    CU_ASSERT_EQUAL(
        jr_cfg_set(jr_cfg_find(g_keys, N_KEYS, "code"), &c, "TOOLONGX", err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "'code' is longer than 7 characters");
    CU_ASSERT_EQUAL(jr_cfg_set(jr_cfg_find(g_keys, N_KEYS, "name"), &c, "x", err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "not x");
    CU_ASSERT_STRING_EQUAL(c.name, "anon"); /* a refused value changes nothing */
    CU_ASSERT_EQUAL(jr_cfg_set(jr_cfg_find(g_keys, N_KEYS, "pair"), &c, "9", err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "'pair' is two numbers, as 3-4");
    jr_cfg_release(g_keys, N_KEYS, &c);
    CU_ASSERT_PTR_NULL(c.name);
}

static void test_cfg_same_and_take(void)
{
    conf_t a = {0}, b = {0};
    char err[256];
    jr_cfg_defaults(g_keys, N_KEYS, &a, err, sizeof err);
    jr_cfg_defaults(g_keys, N_KEYS, &b, err, sizeof err);
    for (size_t i = 0; i < N_KEYS; i++) {
        CU_ASSERT_TRUE(jr_cfg_same(&g_keys[i], &a, &b));
    }
    jr_cfg_set(&g_keys[0], &b, "someone", err, sizeof err);
    jr_cfg_set(&g_keys[6], &b, "5-6", err, sizeof err);
    CU_ASSERT_FALSE(jr_cfg_same(&g_keys[0], &a, &b));
    CU_ASSERT_FALSE(jr_cfg_same(&g_keys[6], &a, &b));
    jr_cfg_take(&g_keys[0], &a, &b);
    jr_cfg_take(&g_keys[6], &a, &b);
    CU_ASSERT_STRING_EQUAL(a.name, "someone");
    CU_ASSERT_STRING_EQUAL(b.name, "anon"); /* the old string goes with b */
    CU_ASSERT_EQUAL(a.pair[1], 6);
    jr_cfg_release(g_keys, N_KEYS, &a);
    jr_cfg_release(g_keys, N_KEYS, &b);
}

static int on_line(void *ctx, const char *section, const char *key, const char *value, char *err,
                   size_t errlen)
{
    if (strcmp(section, "s") != 0) {
        snprintf(err, errlen, "unknown section [%s]", section);
        return -1;
    }
    const jr_cfg_key_t *k = jr_cfg_find(g_keys, N_KEYS, key);
    if (k == NULL) {
        snprintf(err, errlen, "unknown key '%s'", key);
        return -1;
    }
    return jr_cfg_set(k, ctx, value, err, errlen);
}

static void test_cfg_file_and_overrides(void)
{
    char path[300], err[512];
    conf_t c = {0};
    jr_cfg_defaults(g_keys, N_KEYS, &c, err, sizeof err);
    snprintf(path, sizeof path, "%s/good.ini", g_dir);
    write_file(path, "; a comment\n[s]\ncount = 5\nname = Ada\n", 0644);
    CU_ASSERT_EQUAL(jr_cfg_read_file(path, on_line, &c, err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.count, 5);
    CU_ASSERT_STRING_EQUAL(c.name, "Ada");
    snprintf(path, sizeof path, "%s/bad.ini", g_dir);
    write_file(path, "[s]\ncount = 5\n\nsize = 9\n", 0644);
    CU_ASSERT_EQUAL(jr_cfg_read_file(path, on_line, &c, err, sizeof err), -1);
    char want[400];
    snprintf(want, sizeof want, "%s:4: unknown key 'size'", path);
    CU_ASSERT_STRING_EQUAL(err, want);
    write_file(path, "[s]\njust words\n", 0644);
    CU_ASSERT_EQUAL(jr_cfg_read_file(path, on_line, &c, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:2: not a 'key = value' line or [section]", path);
    CU_ASSERT_STRING_EQUAL(err, want);
    snprintf(path, sizeof path, "%s/missing.ini", g_dir);
    CU_ASSERT_EQUAL(jr_cfg_read_file(path, on_line, &c, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
    CU_ASSERT_STRING_EQUAL(err, want);

    char section[64], key[64];
    const char *value = NULL;
    CU_ASSERT_EQUAL(jr_cfg_split("stream.CPA.enabled=true", section, key, &value, err, sizeof err),
                    0);
    CU_ASSERT_STRING_EQUAL(section, "stream.CPA");
    CU_ASSERT_STRING_EQUAL(key, "enabled");
    CU_ASSERT_STRING_EQUAL(value, "true");
    CU_ASSERT_EQUAL(
        jr_cfg_split("daemon.database=host=/run dbname=x", section, key, &value, err, sizeof err),
        0);
    CU_ASSERT_STRING_EQUAL(value, "host=/run dbname=x");
    CU_ASSERT_EQUAL(jr_cfg_split("nodot=1", section, key, &value, err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "'nodot=1' is not section.key=value");
    jr_cfg_release(g_keys, N_KEYS, &c);
}

static void test_cfg_reference(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s/reference.txt", g_dir);
    FILE *f = fopen(path, "w+");
    jr_cfg_print(f, "s", g_keys, 3);
    rewind(f);
    char text[1024] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    CU_ASSERT_STRING_EQUAL(text, "s.name (string, default anon)\n    a name\n"
                                 "s.code (string, default SC)\n    a code\n"
                                 "s.count (integer, 1..10, default 3, on restart)\n    a count\n");
}

/* ---- key files ---- */

static void test_keyfile_read_and_refuse(void)
{
    char path[300], err[1200], pub[41], sec[41];
    const char *text = "# made by keygen\n"
                       "public-key = \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\n"
                       "secret-key = \"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6\"\n";
    snprintf(path, sizeof path, "%s/client.key", g_dir);
    write_file(path, text, 0600);
    CU_ASSERT_EQUAL(jr_keyfile_read(path, pub, sec, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(pub, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    CU_ASSERT_STRING_EQUAL(sec, "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6");
    chmod(path, 0644);
    CU_ASSERT_EQUAL(jr_keyfile_read(path, pub, sec, err, sizeof err), -1);
    char want[1400];
    snprintf(want, sizeof want,
             "%s is open to every user (mode 0644): a secret must be readable by its owner "
             "alone; run 'chmod 600 %s' (or pass it as a systemd credential)",
             path, path);
    CU_ASSERT_STRING_EQUAL(err, want);
    /* The public key alone may be read from a readable file. */
    CU_ASSERT_EQUAL(jr_keyfile_read(path, pub, NULL, err, sizeof err), 0);
    chmod(path, 0600);
    snprintf(path, sizeof path, "%s/public-only.key", g_dir);
    write_file(path, "public-key = \"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\"\n", 0600);
    CU_ASSERT_EQUAL(jr_keyfile_read(path, pub, sec, err, sizeof err), -1);
    snprintf(want, sizeof want,
             "%s: needs lines public-key = \"...\" and secret-key = \"...\" (40 Z85 characters "
             "each)",
             path);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT_TRUE(jr_keyfile_z85_ok("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"));
    CU_ASSERT_FALSE(jr_keyfile_z85_ok("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf"));
    CU_ASSERT_FALSE(jr_keyfile_z85_ok("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf,"));
    /* A server_key in a configuration: empty (no CURVE) or a key; else a
     * sentence that says where the key is. */
    CU_ASSERT_EQUAL(jr_keyfile_check_server_key("", err, sizeof err), 0);
    CU_ASSERT_EQUAL(
        jr_keyfile_check_server_key("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", err, sizeof err),
        0);
    CU_ASSERT_EQUAL(jr_keyfile_check_server_key("abc", err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err,
                           "'server_key' is not a public key (3 characters; a key is 40 of the "
                           "Z85 alphabet): copy the quoted value of the public-key line of "
                           "the daemon's server.pub");
    CU_ASSERT_EQUAL(
        jr_keyfile_check_server_key("rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf,", err, sizeof err),
        -1);

    uint8_t key[32];
    snprintf(path, sizeof path, "%s/pseudonym.key", g_dir);
    write_file(path, "too short", 0600);
    CU_ASSERT_EQUAL(jr_keyfile_read_bytes(path, key, sizeof key, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: needs at least 32 random bytes (head -c 32 /dev/urandom)",
             path);
    CU_ASSERT_STRING_EQUAL(err, want);
    write_file(path, "0123456789abcdef0123456789abcdef", 0640);
    CU_ASSERT_EQUAL(jr_keyfile_read_bytes(path, key, sizeof key, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "is open to its group (mode 0640)"));
}

static void test_keyfile_write_pair(void)
{
    char name[300], path[320], err[600], pub[41], sec[41];
    snprintf(name, sizeof name, "%s/made", g_dir);
    const char *p = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
    const char *s = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
    CU_ASSERT_EQUAL_FATAL(jr_keyfile_write_pair(name, p, s, err, sizeof err), 0);
    struct stat st;
    snprintf(path, sizeof path, "%s.key", name);
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
    CU_ASSERT_EQUAL(jr_keyfile_read(path, pub, sec, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(sec, s);
    snprintf(path, sizeof path, "%s.pub", name);
    CU_ASSERT_EQUAL(jr_keyfile_read(path, pub, NULL, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(pub, p);
    /* Never overwritten. */
    CU_ASSERT_EQUAL(jr_keyfile_write_pair(name, p, s, err, sizeof err), -1);
    char want[400];
    snprintf(want, sizeof want, "%s.key: File exists", name);
    CU_ASSERT_STRING_EQUAL(err, want);
}

/* ---- the string map and the clock ---- */

static void test_strmap(void)
{
    jr_strmap_t m = {0};
    bool added = false;
    CU_ASSERT_PTR_NULL(jr_strmap_get(&m, "a"));
    char key[32];
    for (size_t i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "k%zu", i);
        CU_ASSERT_EQUAL(jr_strmap_put(&m, key, i, &added), 0);
        CU_ASSERT_TRUE(added);
    }
    CU_ASSERT_EQUAL(m.n, 1000);
    CU_ASSERT_EQUAL(jr_strmap_put(&m, "k7", 99, &added), 0);
    CU_ASSERT_FALSE(added); /* present: the value stays */
    CU_ASSERT_EQUAL(*jr_strmap_get(&m, "k7"), 7);
    CU_ASSERT_EQUAL(*jr_strmap_get(&m, "k999"), 999);
    CU_ASSERT_PTR_NULL(jr_strmap_get(&m, "k1000"));
    CU_ASSERT(m.cap >= 2 * m.n);
    jr_strmap_clear(&m);
    CU_ASSERT_EQUAL(m.n, 0);
    CU_ASSERT_PTR_NULL(jr_strmap_get(&m, "k7"));
}

static void test_clock_fixed_day(void)
{
    jr_day_t day;
    CU_ASSERT_EQUAL_FATAL(jr_text_parse_date("2031-03-01", &day), 0);
    jr_clock_t fixed = {day}, real = {JR_DAY_NONE};
    CU_ASSERT_EQUAL(jr_clock_today(&fixed), day);
    int64_t now = jr_clock_now_ms(&fixed);
    CU_ASSERT_EQUAL(jr_text_day_of_ms(now), day);
    /* its last millisecond, whatever the clock's time of day */
    CU_ASSERT_EQUAL(now % 86400000, 86400000 - 1);
    CU_ASSERT_EQUAL(jr_clock_today(&real), jr_text_day_of_ms(jr_clock_wall_ms()));
    CU_ASSERT(jr_clock_mono_ms() > 0);
}

int main(void)
{
    CU_TestInfo cfg_tests[] = {
        {"types, defaults and bounds", test_cfg_types_defaults_and_bounds},
        {"same and take (reload)", test_cfg_same_and_take},
        {"files, lines and overrides", test_cfg_file_and_overrides},
        {"the reference", test_cfg_reference},
        CU_TEST_INFO_NULL,
    };
    CU_TestInfo key_tests[] = {
        {"read, and refused when others can read", test_keyfile_read_and_refuse},
        {"a pair written once, the secret owner-only", test_keyfile_write_pair},
        CU_TEST_INFO_NULL,
    };
    CU_TestInfo misc_tests[] = {
        {"string map", test_strmap},
        {"a fixed day moves now", test_clock_fixed_day},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {
        {"cfg", setup, NULL, NULL, NULL, cfg_tests},
        {"keyfile", setup, NULL, NULL, NULL, key_tests},
        {"strmap and clock", NULL, NULL, NULL, NULL, misc_tests},
        CU_SUITE_INFO_NULL,
    };
    return jr_cunit_run(suites);
}
