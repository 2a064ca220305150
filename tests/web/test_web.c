/* test_web.c -- joinedreview-web's modules without a network or a database:
 * escaping, the accounts file, sessions and form tokens, the sign-in pause,
 * the worklist's bands, a stream officer's cut of a review, the
 * configuration's checks. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts.h"
#include "bands.h"
#include "cut.h"
#include "html.h"
#include "jr_cunit.h"
#include "sessions.h"
#include "throttle.h"
#include "webcfg.h"

/* ---- html ------------------------------------------------------------- */

static void test_escaping(void)
{
    jr_html_t h;
    jr_html_init(&h, 1024);
    jr_html_text(&h, "<script>alert(\"x\")</script> & 'y'");
    CU_ASSERT_STRING_EQUAL(h.data, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; "
                                   "&#39;y&#39;");
    jr_html_clear(&h);
    jr_html_raw(&h, "<a href=\"");
    jr_html_attr(&h, "\" onmouseover=\"x");
    jr_html_raw(&h, "\">");
    CU_ASSERT_STRING_EQUAL(h.data, "<a href=\"&quot; onmouseover=&quot;x\">");
    jr_html_clear(&h);
    jr_html_text(&h, "plain text, no change");
    CU_ASSERT_STRING_EQUAL(h.data, "plain text, no change");
    jr_html_clear(&h);
}

static void test_page_ceiling(void)
{
    jr_html_t h;
    jr_html_init(&h, 16);
    jr_html_raw(&h, "0123456789");
    CU_ASSERT_FALSE(h.failed);
    jr_html_text(&h, "<<<<");
    CU_ASSERT_TRUE(h.failed);
    CU_ASSERT_TRUE(h.len < 16); /* never past the ceiling; the server sends a 500 instead */
    jr_html_clear(&h);
}

static void test_nhs_and_dates(void)
{
    char out[24];
    CU_ASSERT_STRING_EQUAL(jr_html_nhs("9434765919", out), "943 476 5919");
    CU_ASSERT_STRING_EQUAL(jr_html_nhs("12", out), "12");
    CU_ASSERT_STRING_EQUAL(jr_html_date("2026-10-01", out), "1 October 2026");
    CU_ASSERT_STRING_EQUAL(jr_html_date("2026-02-30", out), "2026-02-30");
}

static void test_layout(void)
{
    jr_html_t h;
    jr_html_init(&h, 65536);
    jr_html_who_t who = {
        .account = "pri<ya", .role = "review scheduler for SC", .csrf = "ab", .nav_worklist = true};
    jr_html_begin(&h, "Worklist", &who, NULL, 60);
    jr_html_end(&h);
    CU_ASSERT_PTR_NOT_NULL(strstr(h.data, "<html lang=\"en-GB\">"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h.data, "<strong>pri&lt;ya</strong>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h.data, "<script src=\"/static/refresh.js\" defer></script>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h.data, "data-refresh=\"60\""));
    CU_ASSERT_PTR_NULL(strstr(h.data, "<script>")); /* no inline script */
    jr_html_clear(&h);
}

/* ---- accounts --------------------------------------------------------- */

#define HASH "$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo"

static void test_accounts_parse(void)
{
    jr_streams_t *streams = jr_streams_new_default();
    static const char text[] = "# comment\n"
                               "\n"
                               "priya scheduler SC,SP " HASH "\n"
                               "adam\tstream-officer ATW " HASH "\r\n"
                               "dora data-officer SP " HASH "\n"
                               "ana analyst - " HASH "\n";
    jr_accounts_t *a = NULL;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(jr_accounts_parse(text, strlen(text), streams, &a, err, sizeof err), 0);
    CU_ASSERT_EQUAL(jr_accounts_count(a), 4);
    const jr_account_t *p = jr_accounts_find(a, "priya");
    CU_ASSERT_EQUAL(p->role, JR_ACCOUNT_SCHEDULER);
    CU_ASSERT_EQUAL(p->n_leads, 2);
    CU_ASSERT_STRING_EQUAL(p->leads[1], "SP");
    CU_ASSERT_STRING_EQUAL(jr_accounts_find(a, "adam")->stream, "ATW");
    CU_ASSERT_EQUAL(jr_accounts_find(a, "ana")->role, JR_ACCOUNT_ANALYST);
    char words[128];
    jr_accounts_describe(p, words, sizeof words);
    CU_ASSERT_STRING_EQUAL(words, "review scheduler for SC/SP");
    jr_accounts_destroy(&a);

    static const struct {
        const char *text, *why;
    } bad[] = {
        {"priya scheduler SC\n", "line 1: wants NAME ROLE SCOPE HASH"},
        {"x scheduler SC $2y$10$bcrypthash\n", "line 1: the hash is not an argon2id string"},
        {"x boss SC " HASH "\n", "line 1: the role is scheduler"},
        {"x scheduler XX " HASH "\n", "line 1: no funding stream 'XX'"},
        {"x stream-officer SC,SP " HASH "\n", "line 1: a stream-officer names one funding"},
        {"x analyst SC " HASH "\n", "line 1: an analyst's scope is '-'"},
        {"x/y analyst - " HASH "\n", "line 1: a name is 1 to 64"},
        {"x analyst - " HASH "\nx analyst - " HASH "\n", "line 2: a second account named 'x'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a = NULL;
        CU_ASSERT_EQUAL(
            jr_accounts_parse(bad[i].text, strlen(bad[i].text), streams, &a, err, sizeof err), -1);
        CU_ASSERT_PTR_NULL(a);
        if (strncmp(err, bad[i].why, strlen(bad[i].why)) != 0) {
            fprintf(stderr, "\n  %s -> %s\n", bad[i].text, err);
            CU_FAIL("wrong reason");
        }
    }
    jr_streams_destroy(&streams);
}

static void test_accounts_file_is_a_secret(void)
{
    jr_streams_t *streams = jr_streams_new_default();
    char path[] = "/tmp/jr-accounts-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    jr_accounts_t *a = jr_accounts_new();
    jr_account_t acc = {.name = "ana", .role = JR_ACCOUNT_ANALYST, .hash = HASH};
    char err[512];
    CU_ASSERT_EQUAL(jr_accounts_put(a, &acc), 0);
    CU_ASSERT_EQUAL(jr_accounts_save(a, path, err, sizeof err), 0);
    jr_accounts_destroy(&a);
    struct stat st;
    CU_ASSERT_EQUAL(stat(path, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
    CU_ASSERT_EQUAL(jr_accounts_load(path, streams, false, &a, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(jr_accounts_at(a, 0)->name, "ana");
    jr_accounts_destroy(&a);
    chmod(path, 0644);
    CU_ASSERT_EQUAL(jr_accounts_load(path, streams, false, &a, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "chmod 600"));
    unlink(path);
    CU_ASSERT_EQUAL(jr_accounts_load(path, streams, true, &a, err, sizeof err), 0);
    CU_ASSERT_EQUAL(jr_accounts_count(a), 0);
    jr_accounts_destroy(&a);
    jr_streams_destroy(&streams);
}

/* ---- sessions and tokens ------------------------------------------------ */

static void test_sessions(void)
{
    jr_sessions_t *s = jr_sessions_new(2, 1000, 5000);
    jr_account_t a = {.name = "priya", .role = JR_ACCOUNT_SCHEDULER, .hash = HASH};
    jr_session_t one, two, three, got;
    CU_ASSERT_EQUAL(jr_sessions_open(s, &a, 0, &one), 0);
    CU_ASSERT_EQUAL(strlen(one.id), JR_SESSION_ID_LEN);
    CU_ASSERT_EQUAL(one.account.hash[0], '\0'); /* the hash stays out of sessions */
    CU_ASSERT_EQUAL(jr_sessions_get(s, one.id, 500, &got), 0);
    CU_ASSERT_STRING_EQUAL(got.account.name, "priya");
    CU_ASSERT_TRUE(jr_sessions_csrf_ok(&got, one.csrf));
    CU_ASSERT_FALSE(jr_sessions_csrf_ok(&got, "00"));
    CU_ASSERT_FALSE(jr_sessions_csrf_ok(&got, NULL));
    /* idle: 1000 ms after the last use it has ended */
    CU_ASSERT_EQUAL(jr_sessions_get(s, one.id, 1499, &got), 0);
    CU_ASSERT_EQUAL(jr_sessions_get(s, one.id, 2499, &got), -1);
    /* the table holds two: a third takes the least recently used place */
    CU_ASSERT_EQUAL(jr_sessions_open(s, &a, 3000, &one), 0);
    CU_ASSERT_EQUAL(jr_sessions_open(s, &a, 3100, &two), 0);
    CU_ASSERT_EQUAL(jr_sessions_get(s, one.id, 3200, &got), 0);
    CU_ASSERT_EQUAL(jr_sessions_open(s, &a, 3300, &three), 0);
    CU_ASSERT_EQUAL(jr_sessions_get(s, two.id, 3400, &got), -1);
    CU_ASSERT_EQUAL(jr_sessions_get(s, one.id, 3400, &got), 0);
    CU_ASSERT_EQUAL(jr_sessions_count(s, 3400), 2);
    /* at most max_age after sign-in, however busy */
    for (int64_t t = 3500; t < 8000; t += 500) {
        jr_sessions_get(s, one.id, t, &got);
    }
    CU_ASSERT_EQUAL(jr_sessions_get(s, one.id, 8000, &got), -1);
    jr_sessions_close(s, three.id);
    CU_ASSERT_EQUAL(jr_sessions_get(s, three.id, 3500, &got), -1);
    CU_ASSERT_EQUAL(jr_sessions_get(s, "not hex", 3500, &got), -1);
    jr_sessions_destroy(&s);
    CU_ASSERT_PTR_NULL(s);
}

static void test_login_tokens(void)
{
    jr_sessions_t *s = jr_sessions_new(4, 1000, 5000), *other = jr_sessions_new(4, 1000, 5000);
    char t[JR_SESSION_LOGIN_LEN + 1], u[JR_SESSION_LOGIN_LEN + 1];
    jr_sessions_login_token(s, 10000, t);
    CU_ASSERT_EQUAL(strlen(t), JR_SESSION_LOGIN_LEN);
    CU_ASSERT_TRUE(jr_sessions_login_token_ok(s, t, t, 10001));
    CU_ASSERT_FALSE(jr_sessions_login_token_ok(s, t, NULL, 10001)); /* no cookie */
    jr_sessions_login_token(s, 10000, u);
    CU_ASSERT_FALSE(jr_sessions_login_token_ok(s, t, u, 10001));     /* form and cookie differ */
    CU_ASSERT_FALSE(jr_sessions_login_token_ok(other, t, t, 10001)); /* another key */
    CU_ASSERT_FALSE(jr_sessions_login_token_ok(s, t, t, 10000 + JR_SESSION_LOGIN_TTL_MS));
    t[20] = t[20] == 'a' ? 'b' : 'a'; /* forged */
    CU_ASSERT_FALSE(jr_sessions_login_token_ok(s, t, t, 10001));
    jr_sessions_destroy(&s);
    jr_sessions_destroy(&other);
}

static void test_throttle(void)
{
    jr_throttle_t *t = jr_throttle_new(2, 3, 1000, 5000);
    CU_ASSERT_EQUAL(jr_throttle_wait_ms(t, "account:a", 0), 0);
    jr_throttle_failed(t, "account:a", 0);
    jr_throttle_failed(t, "account:a", 10);
    CU_ASSERT_EQUAL(jr_throttle_wait_ms(t, "account:a", 20), 0);
    jr_throttle_failed(t, "account:a", 100); /* the third: a pause of 1 s */
    CU_ASSERT_EQUAL(jr_throttle_wait_ms(t, "account:a", 100), 1000);
    CU_ASSERT_EQUAL(jr_throttle_wait_ms(t, "account:a", 1100), 0);
    jr_throttle_failed(t, "account:a", 1100); /* doubled */
    CU_ASSERT_EQUAL(jr_throttle_wait_ms(t, "account:a", 1100), 2000);
    for (int i = 0; i < 5; i++) {
        jr_throttle_failed(t, "account:a", 4000);
    }
    CU_ASSERT_EQUAL(jr_throttle_wait_ms(t, "account:a", 4000), 5000); /* capped */
    jr_throttle_cleared(t, "account:a");
    CU_ASSERT_EQUAL(jr_throttle_wait_ms(t, "account:a", 4000), 0);
    /* two entries: a third key takes the place of the stalest */
    jr_throttle_failed(t, "address:1", 10);
    jr_throttle_failed(t, "address:2", 20);
    jr_throttle_failed(t, "address:3", 30);
    jr_throttle_failed(t, "address:2", 40);
    jr_throttle_failed(t, "address:2", 50);
    CU_ASSERT_EQUAL(jr_throttle_wait_ms(t, "address:2", 50), 1000);
    jr_throttle_destroy(&t);
}

/* ---- bands -------------------------------------------------------------- */

static jr_day_t day(const char *s)
{
    jr_day_t d = JR_DAY_NONE;
    jr_text_parse_date(s, &d);
    return d;
}

static void test_bands(void)
{
    jr_day_t today = day("2026-11-20");
    static const struct {
        const char *review_on;
        jr_band_t band;
    } cases[] = {
        {"2024-11-19", JR_BAND_OVER_24_MONTHS},  {"2024-11-20", JR_BAND_OVER_12_MONTHS},
        {"2025-11-19", JR_BAND_OVER_12_MONTHS},  {"2025-11-20", JR_BAND_UP_TO_12_MONTHS},
        {"2026-05-19", JR_BAND_UP_TO_12_MONTHS}, {"2026-05-20", JR_BAND_UP_TO_6_MONTHS},
        {"2026-10-22", JR_BAND_UP_TO_6_MONTHS},  {"2026-10-23", JR_BAND_UP_TO_4_WEEKS},
        {"2026-11-19", JR_BAND_UP_TO_4_WEEKS},   {"2026-11-20", JR_BAND_DUE_TODAY},
        {"2026-11-21", JR_BAND_WITHIN_7_DAYS},   {"2026-11-27", JR_BAND_WITHIN_7_DAYS},
        {"2026-11-28", JR_BAND_WITHIN_28_DAYS},  {"2026-12-18", JR_BAND_WITHIN_28_DAYS},
        {"2026-12-19", JR_BAND_WITHIN_56_DAYS},  {"2027-01-15", JR_BAND_WITHIN_56_DAYS},
        {"2027-01-16", JR_BAND_LATER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (jr_bands_of(day(cases[i].review_on), today) != cases[i].band) {
            fprintf(stderr, "\n  %s: band %d, not %d\n", cases[i].review_on,
                    (int)jr_bands_of(day(cases[i].review_on), today), (int)cases[i].band);
            CU_FAIL("wrong band");
        }
    }
    /* calendar months, clamped to the month's end */
    CU_ASSERT_EQUAL(jr_bands_add_months(day("2026-08-31"), -6), day("2026-02-28"));
    CU_ASSERT_EQUAL(jr_bands_add_months(day("2024-02-29"), 12), day("2025-02-28"));
    jr_day_t first, last;
    jr_bands_range(JR_BAND_UP_TO_4_WEEKS, today, &first, &last);
    CU_ASSERT_EQUAL(first, day("2026-10-23"));
    CU_ASSERT_EQUAL(last, day("2026-11-19"));
    jr_bands_range(JR_BAND_OVER_24_MONTHS, today, &first, &last);
    CU_ASSERT_EQUAL(first, JR_DAY_NONE);
    CU_ASSERT_EQUAL(jr_bands_from_key("overdue-4w"), JR_BAND_UP_TO_4_WEEKS);
    CU_ASSERT_EQUAL(jr_bands_from_key("soon"), -1);
}

/* ---- the stream officer's cut ------------------------------------------- */

#define T(x) JOINEDREVIEW__V1__TOPIC__##x

typedef struct {
    Joinedreview__V1__ConsolidatedReview r;
    Joinedreview__V1__Area areas[9], *area_p[9];
    Joinedreview__V1__Statement st[6], *st_p[6];
    Joinedreview__V1__PriorityView pv[2], *pv_p[2];
    Joinedreview__V1__StreamCompleteness comp[2], *comp_p[2];
} review_t;

/* Area 8 holds HOUSING (a carer's), EQUIPMENT and TRANSPORT; area 4 HEALTH;
 * area 3 INCOME; area 2 FAMILY. Area 8 is in conflict: the carer's red on
 * HOUSING against green on EQUIPMENT. Enrolled in ATW and SC. */
static void make_review(review_t *v)
{
    memset(v, 0, sizeof *v);
    joinedreview__v1__consolidated_review__init(&v->r);
    static const struct {
        int topic, area;
        const char *working;
    } st[6] = {
        {T(HOUSING), 8, "the ramp is too steep"}, {T(EQUIPMENT), 8, "desk in place"},
        {T(TRANSPORT), 8, "taxi fares funded"},   {T(HEALTH), 4, "spasms at night"},
        {T(INCOME), 3, "receives PIP"},           {T(FAMILY), 2, "a short break"},
    };
    for (int a = 0; a < 9; a++) {
        joinedreview__v1__area__init(&v->areas[a]);
        v->areas[a].has_number = 1;
        v->areas[a].number = (uint32_t)(a + 1);
        v->area_p[a] = &v->areas[a];
    }
    for (int i = 0; i < 6; i++) {
        joinedreview__v1__statement__init(&v->st[i]);
        v->st[i].has_topic = 1;
        v->st[i].topic = st[i].topic;
        v->st[i].working = (char *)st[i].working;
        v->st_p[i] = &v->st[i];
    }
    v->areas[7].statements = &v->st_p[0];
    v->areas[7].n_statements = 3;
    v->areas[3].statements = &v->st_p[3];
    v->areas[3].n_statements = 1;
    v->areas[2].statements = &v->st_p[4];
    v->areas[2].n_statements = 1;
    v->areas[1].statements = &v->st_p[5];
    v->areas[1].n_statements = 1;
    v->areas[7].has_priority = v->areas[7].has_conflict = 1;
    v->areas[7].priority = JOINEDREVIEW__V1__PRIORITY__RED;
    v->areas[7].conflict = 1;
    for (int i = 0; i < 2; i++) {
        joinedreview__v1__priority_view__init(&v->pv[i]);
        v->pv[i].has_topic = v->pv[i].has_priority = 1;
        v->pv_p[i] = &v->pv[i];
    }
    v->pv[0].topic = T(HOUSING);
    v->pv[0].priority = JOINEDREVIEW__V1__PRIORITY__RED;
    v->pv[1].topic = T(EQUIPMENT);
    v->pv[1].priority = JOINEDREVIEW__V1__PRIORITY__GREEN;
    v->areas[7].conflict_views = v->pv_p;
    v->areas[7].n_conflict_views = 2;
    v->areas[3].has_priority = 1;
    v->areas[3].priority = JOINEDREVIEW__V1__PRIORITY__AMBER;
    v->r.areas = v->area_p;
    v->r.n_areas = 9;
    static const char *const codes[2] = {"ATW", "SC"};
    for (int i = 0; i < 2; i++) {
        joinedreview__v1__stream_completeness__init(&v->comp[i]);
        v->comp[i].stream = (char *)codes[i];
        v->comp_p[i] = &v->comp[i];
    }
    v->r.completeness = v->comp_p;
    v->r.n_completeness = 2;
    v->r.nhs_number = "9434765919";
}

static void test_stream_officer_cut(void)
{
    jr_streams_t *streams = jr_streams_new_default();
    review_t v;
    make_review(&v);
    jr_cut_scope_t scope;
    CU_ASSERT_EQUAL(jr_cut_scope_stream(&scope, streams, "NOPE"), -1);
    CU_ASSERT_EQUAL_FATAL(jr_cut_scope_stream(&scope, streams, "ATW"), 0);
    /* How the person wants their review, a group review's place, a budget. */
    Joinedreview__V1__ReviewPreferences prefs = JOINEDREVIEW__V1__REVIEW_PREFERENCES__INIT;
    Joinedreview__V1__StreamBudget budget = JOINEDREVIEW__V1__STREAM_BUDGET__INIT;
    Joinedreview__V1__StreamBudget *budgets[1] = {&budget};
    prefs.has_way = 1;
    prefs.way = JOINEDREVIEW__V1__REVIEW_WAY__WAY_WITH_OTHERS;
    v.r.preferences = &prefs;
    v.r.called = "Dan";
    v.r.group_key = "Rosewood Court";
    v.r.budgets = budgets;
    v.r.n_budgets = 1;
    jr_cut_t cut;
    CU_ASSERT_EQUAL_FATAL(jr_cut_build(&cut, &v.r, &scope), 0);
    /* A stream's cut has the preferences and the name, never the budgets
     * or another stream's place. */
    CU_ASSERT_PTR_EQUAL(cut.preferences, &prefs);
    CU_ASSERT_STRING_EQUAL(cut.called, "Dan");
    CU_ASSERT_PTR_NULL(cut.group_key);
    CU_ASSERT_PTR_NULL(cut.budgets);
    CU_ASSERT_EQUAL(cut.n_budgets, 0);
    /* ATW: EDUCATION, EMPLOYMENT, EQUIPMENT, TRANSPORT, SUPPORT + INCOME, INFORMATION */
    CU_ASSERT_TRUE(cut.areas[0].shown);  /* SUPPORT */
    CU_ASSERT_FALSE(cut.areas[1].shown); /* FAMILY, CHOICES_RISKS */
    CU_ASSERT_TRUE(cut.areas[2].shown);  /* INCOME */
    CU_ASSERT_FALSE(cut.areas[3].shown); /* HEALTH, SAFETY */
    CU_ASSERT_TRUE(cut.areas[4].shown);
    CU_ASSERT_FALSE(cut.areas[5].shown);
    CU_ASSERT_FALSE(cut.areas[6].shown);
    CU_ASSERT_TRUE(cut.areas[7].shown);
    CU_ASSERT_FALSE(cut.areas[8].shown); /* anything else */
    CU_ASSERT_EQUAL(cut.areas[1].n_statements, 0);
    CU_ASSERT_EQUAL(cut.areas[3].n_statements, 0);
    CU_ASSERT_EQUAL(cut.areas[3].priority, 0); /* another area's priority is not shown */
    CU_ASSERT_EQUAL_FATAL(cut.areas[7].n_statements, 2);
    CU_ASSERT_STRING_EQUAL(cut.areas[7].statements[0]->working, "desk in place");
    CU_ASSERT_STRING_EQUAL(cut.areas[7].statements[1]->working, "taxi fares funded");
    CU_ASSERT_EQUAL(cut.areas[7].priority, JOINEDREVIEW__V1__PRIORITY__RED);
    CU_ASSERT_TRUE(cut.areas[7].conflict);
    CU_ASSERT_EQUAL_FATAL(cut.areas[7].n_views, 1);
    CU_ASSERT_EQUAL(cut.areas[7].views[0]->topic, T(EQUIPMENT));
    CU_ASSERT_TRUE(cut.areas[7].views_withheld);
    CU_ASSERT_EQUAL_FATAL(cut.areas[2].n_statements, 1);
    CU_ASSERT_EQUAL_FATAL(cut.n_completeness, 1);
    CU_ASSERT_STRING_EQUAL(cut.completeness[0]->stream, "ATW");
    /* Nothing outside the cut anywhere in it. */
    for (int a = 0; a < 9; a++) {
        for (size_t s = 0; s < cut.areas[a].n_statements; s++) {
            CU_ASSERT_TRUE((scope.topics & JR_TOPIC_BIT(cut.areas[a].statements[s]->topic)) != 0);
        }
    }
    jr_cut_clear(&cut);

    jr_cut_scope_whole(&scope);
    CU_ASSERT_EQUAL_FATAL(jr_cut_build(&cut, &v.r, &scope), 0);
    CU_ASSERT_EQUAL(cut.areas[7].n_statements, 3);
    CU_ASSERT_EQUAL(cut.areas[7].n_views, 2);
    CU_ASSERT_FALSE(cut.areas[7].views_withheld);
    CU_ASSERT_EQUAL(cut.areas[3].priority, JOINEDREVIEW__V1__PRIORITY__AMBER);
    CU_ASSERT_EQUAL(cut.n_completeness, 2);
    CU_ASSERT_TRUE(cut.areas[8].shown);
    CU_ASSERT_STRING_EQUAL(cut.group_key, "Rosewood Court");
    CU_ASSERT_EQUAL(cut.n_budgets, 1);
    jr_cut_clear(&cut);
    jr_streams_destroy(&streams);
}

/* ---- configuration ------------------------------------------------------ */

static void test_config(void)
{
    jr_webcfg_t *c = jr_webcfg_new();
    char err[256];
    CU_ASSERT_EQUAL(c->port, 8443);
    CU_ASSERT_EQUAL(c->post_max_bytes, 4096);
    CU_ASSERT_EQUAL(jr_webcfg_override(c, "web.accounts_file=/x", err, sizeof err), 0);
    /* TLS unless plaintext development, which needs a loopback address */
    CU_ASSERT_EQUAL(jr_webcfg_check(c, err, sizeof err), -1);
    CU_ASSERT_EQUAL(jr_webcfg_override(c, "web.plaintext_development=true", err, sizeof err), 0);
    CU_ASSERT_EQUAL(jr_webcfg_check(c, err, sizeof err), 0);
    CU_ASSERT_EQUAL(jr_webcfg_override(c, "web.listen_address=0.0.0.0", err, sizeof err), 0);
    CU_ASSERT_EQUAL(jr_webcfg_check(c, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "loopback"));
    CU_ASSERT_EQUAL(jr_webcfg_override(c, "web.listen_address=example", err, sizeof err), -1);
    CU_ASSERT_EQUAL(jr_webcfg_override(c, "web.nope=1", err, sizeof err), -1);
    CU_ASSERT_STRING_EQUAL(err, "--set web.nope=1: unknown key 'nope' in [web]");
    CU_ASSERT_EQUAL(jr_webcfg_override(c, "web.daemon_metrics=10.0.0.1:9560", err, sizeof err), -1);
    CU_ASSERT_EQUAL(jr_webcfg_override(c, "web.daemon_metrics=127.0.0.1:9560", err, sizeof err), 0);
    CU_ASSERT_EQUAL(jr_webcfg_override(c, "web.post_max_bytes=100", err, sizeof err), -1);
    CU_ASSERT_TRUE(jr_webcfg_is_loopback("127.0.0.1"));
    CU_ASSERT_TRUE(jr_webcfg_is_loopback("::1"));
    CU_ASSERT_FALSE(jr_webcfg_is_loopback("192.0.2.1"));
    jr_webcfg_destroy(&c);
}

int main(void)
{
    if (sodium_init() < 0) {
        return 1;
    }
    CU_TestInfo html[] = {{"escaping", test_escaping},
                          {"page ceiling", test_page_ceiling},
                          {"NHS numbers and dates", test_nhs_and_dates},
                          {"layout", test_layout},
                          CU_TEST_INFO_NULL};
    CU_TestInfo accounts[] = {{"accounts file parsing", test_accounts_parse},
                              {"accounts file is a secret", test_accounts_file_is_a_secret},
                              CU_TEST_INFO_NULL};
    CU_TestInfo sessions[] = {{"sessions", test_sessions},
                              {"sign-in form tokens", test_login_tokens},
                              {"pause after failures", test_throttle},
                              CU_TEST_INFO_NULL};
    CU_TestInfo rules[] = {{"worklist bands", test_bands},
                           {"stream officer's cut", test_stream_officer_cut},
                           {"configuration", test_config},
                           CU_TEST_INFO_NULL};
    CU_SuiteInfo suites[] = {{"html", NULL, NULL, NULL, NULL, html},
                             {"accounts", NULL, NULL, NULL, NULL, accounts},
                             {"sessions", NULL, NULL, NULL, NULL, sessions},
                             {"rules", NULL, NULL, NULL, NULL, rules},
                             CU_SUITE_INFO_NULL};
    return jr_cunit_run(suites);
}
