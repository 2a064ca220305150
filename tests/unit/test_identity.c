/* test_identity.c -- linking NI numbers and stream-local ids to NHS numbers. */
#include "identity.h"

#include <stdio.h>
#include <string.h>

#include "jr_cunit.h"

#define ALICE "9434765919"
#define BOB   "9434765900"

static jr_link_t link_nino(const char *nino, const char *nhs)
{
    jr_link_t l = {.kind = JR_LINK_NINO};
    snprintf(l.value, sizeof l.value, "%s", nino);
    snprintf(l.nhs, sizeof l.nhs, "%s", nhs);
    return l;
}

static jr_link_t link_local(const char *stream, const char *local, const char *nhs)
{
    jr_link_t l = {.kind = JR_LINK_LOCAL};
    snprintf(l.stream, sizeof l.stream, "%s", stream);
    snprintf(l.value, sizeof l.value, "%s", local);
    snprintf(l.nhs, sizeof l.nhs, "%s", nhs);
    return l;
}

static void test_resolve_by_nhs(void)
{
    jr_identity_t *id = jr_identity_new();
    CU_ASSERT_PTR_NOT_NULL_FATAL(id);
    char nhs[JR_NHS_LEN + 1] = "";
    jr_ids_t ids = {.stream = "SC", .nhs = ALICE};
    CU_ASSERT_EQUAL(jr_identity_resolve(id, &ids, nhs), JR_RESOLVE_PERSON);
    CU_ASSERT_STRING_EQUAL(nhs, ALICE);
    /* Unlinked extra identifiers do not stand in the way. */
    jr_ids_t more = {.stream = "ATW", .nhs = ALICE, .nino = "AB123456C", .local = "W-1"};
    CU_ASSERT_EQUAL(jr_identity_resolve(id, &more, nhs), JR_RESOLVE_PERSON);
    CU_ASSERT_STRING_EQUAL(nhs, ALICE);
    jr_identity_destroy(&id);
    CU_ASSERT_PTR_NULL(id);
    jr_identity_destroy(&id);
    jr_identity_destroy(NULL);
}

static void test_resolve_by_linked_nino_and_local(void)
{
    jr_identity_t *id = jr_identity_new();
    jr_ids_t enrolment = {.stream = "ATW", .nhs = ALICE, .nino = "AB123456C", .local = "W-17"};
    jr_link_t links[2];
    size_t n = jr_identity_links_of(&enrolment, links);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(jr_identity_add(id, &links[i]), 0);

    char nhs[JR_NHS_LEN + 1] = "";
    jr_ids_t by_nino = {.stream = "ATW", .nino = "AB123456C"};
    CU_ASSERT_EQUAL(jr_identity_resolve(id, &by_nino, nhs), JR_RESOLVE_PERSON);
    CU_ASSERT_STRING_EQUAL(nhs, ALICE);

    /* An NI number is national: another stream's event finds her too. */
    strcpy(nhs, "");
    jr_ids_t other_stream = {.stream = "SP", .nino = "AB123456C"};
    CU_ASSERT_EQUAL(jr_identity_resolve(id, &other_stream, nhs), JR_RESOLVE_PERSON);
    CU_ASSERT_STRING_EQUAL(nhs, ALICE);

    strcpy(nhs, "");
    jr_ids_t by_local = {.stream = "ATW", .local = "W-17"};
    CU_ASSERT_EQUAL(jr_identity_resolve(id, &by_local, nhs), JR_RESOLVE_PERSON);
    CU_ASSERT_STRING_EQUAL(nhs, ALICE);

    /* Both linked, to the same person. */
    jr_ids_t both = {.stream = "ATW", .nino = "AB123456C", .local = "W-17"};
    CU_ASSERT_EQUAL(jr_identity_resolve(id, &both, nhs), JR_RESOLVE_PERSON);
    CU_ASSERT_STRING_EQUAL(nhs, ALICE);

    CU_ASSERT_STRING_EQUAL(jr_identity_lookup(id, JR_LINK_NINO, NULL, "AB123456C"), ALICE);
    CU_ASSERT_STRING_EQUAL(jr_identity_lookup(id, JR_LINK_NINO, "DFG", "AB123456C"), ALICE);
    CU_ASSERT_STRING_EQUAL(jr_identity_lookup(id, JR_LINK_LOCAL, "ATW", "W-17"), ALICE);
    CU_ASSERT_PTR_NULL(jr_identity_lookup(id, JR_LINK_LOCAL, "DFG", "W-17"));
    CU_ASSERT_PTR_NULL(jr_identity_lookup(id, JR_LINK_LOCAL, "ATW", "w-17"));
    jr_identity_destroy(&id);
}

static void test_park(void)
{
    jr_identity_t *id = jr_identity_new();
    CU_ASSERT_EQUAL(jr_identity_add(id, &(jr_link_t){0}), -1);
    jr_link_t l = link_local("ATW", "W-17", ALICE);
    CU_ASSERT_EQUAL(jr_identity_add(id, &l), 0);

    char nhs[JR_NHS_LEN + 1] = "untouched";
    jr_ids_t unknown_nino = {.stream = "ATW", .nino = "JG103759A"};
    CU_ASSERT_EQUAL(jr_identity_resolve(id, &unknown_nino, nhs), JR_RESOLVE_PARK);
    /* A local id is scoped to its stream. */
    jr_ids_t other_stream = {.stream = "DFG", .local = "W-17"};
    CU_ASSERT_EQUAL(jr_identity_resolve(id, &other_stream, nhs), JR_RESOLVE_PARK);
    jr_ids_t nothing = {.stream = "ATW"};
    CU_ASSERT_EQUAL(jr_identity_resolve(id, &nothing, nhs), JR_RESOLVE_PARK);
    jr_ids_t empty = {.stream = "ATW", .nhs = "", .nino = "", .local = ""};
    CU_ASSERT_EQUAL(jr_identity_resolve(id, &empty, nhs), JR_RESOLVE_PARK);
    CU_ASSERT_STRING_EQUAL(nhs, "untouched");
    jr_identity_destroy(&id);
}

static void test_conflict(void)
{
    jr_identity_t *id = jr_identity_new();
    jr_link_t nino = link_nino("AB123456C", ALICE);
    jr_link_t local = link_local("ATW", "W-99", BOB);
    CU_ASSERT_EQUAL(jr_identity_add(id, &nino), 0);
    CU_ASSERT_EQUAL(jr_identity_add(id, &local), 0);

    char nhs[JR_NHS_LEN + 1] = "untouched";
    /* The NI number belongs to Alice, the event says Bob. */
    jr_ids_t a = {.stream = "ATW", .nhs = BOB, .nino = "AB123456C"};
    CU_ASSERT_EQUAL(jr_identity_resolve(id, &a, nhs), JR_RESOLVE_CONFLICT);
    /* The local id belongs to Bob, the event says Alice. */
    jr_ids_t b = {.stream = "ATW", .nhs = ALICE, .local = "W-99"};
    CU_ASSERT_EQUAL(jr_identity_resolve(id, &b, nhs), JR_RESOLVE_CONFLICT);
    /* No NHS number; the two identifiers point at different people. */
    jr_ids_t c = {.stream = "ATW", .nino = "AB123456C", .local = "W-99"};
    CU_ASSERT_EQUAL(jr_identity_resolve(id, &c, nhs), JR_RESOLVE_CONFLICT);
    CU_ASSERT_STRING_EQUAL(nhs, "untouched");
    /* One linked, one not: the linked one names the person. */
    jr_ids_t d = {.stream = "ATW", .nino = "JG103759A", .local = "W-99"};
    CU_ASSERT_EQUAL(jr_identity_resolve(id, &d, nhs), JR_RESOLVE_PERSON);
    CU_ASSERT_STRING_EQUAL(nhs, BOB);
    jr_identity_destroy(&id);
}

static void test_links_of(void)
{
    jr_link_t out[2];
    jr_ids_t full = {.stream = "ATW", .nhs = ALICE, .nino = "AB123456C", .local = "W-17"};
    CU_ASSERT_EQUAL_FATAL(jr_identity_links_of(&full, out), 2);
    CU_ASSERT_EQUAL(out[0].kind, JR_LINK_NINO);
    CU_ASSERT_STRING_EQUAL(out[0].stream, "");
    CU_ASSERT_STRING_EQUAL(out[0].value, "AB123456C");
    CU_ASSERT_STRING_EQUAL(out[0].nhs, ALICE);
    CU_ASSERT_EQUAL(out[1].kind, JR_LINK_LOCAL);
    CU_ASSERT_STRING_EQUAL(out[1].stream, "ATW");
    CU_ASSERT_STRING_EQUAL(out[1].value, "W-17");
    CU_ASSERT_STRING_EQUAL(out[1].nhs, ALICE);

    jr_ids_t local_only = {.stream = "DFG", .nhs = BOB, .local = "D/4"};
    CU_ASSERT_EQUAL_FATAL(jr_identity_links_of(&local_only, out), 1);
    CU_ASSERT_EQUAL(out[0].kind, JR_LINK_LOCAL);
    CU_ASSERT_STRING_EQUAL(out[0].value, "D/4");

    /* Only an enrolment naming the NHS number links anything. */
    jr_ids_t no_nhs = {.stream = "ATW", .nino = "AB123456C", .local = "W-17"};
    CU_ASSERT_EQUAL(jr_identity_links_of(&no_nhs, out), 0);
    jr_ids_t nhs_only = {.stream = "SC", .nhs = ALICE};
    CU_ASSERT_EQUAL(jr_identity_links_of(&nhs_only, out), 0);

    char too_long[JR_LOCAL_ID_MAX + 2];
    memset(too_long, 'x', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    jr_ids_t long_local = {.stream = "SC", .nhs = ALICE, .local = too_long};
    CU_ASSERT_EQUAL(jr_identity_links_of(&long_local, out), 0);
    too_long[JR_LOCAL_ID_MAX] = '\0'; /* exactly the maximum is fine */
    CU_ASSERT_EQUAL(jr_identity_links_of(&long_local, out), 1);
    CU_ASSERT_EQUAL(strlen(out[0].value), JR_LOCAL_ID_MAX);
}

static void test_add_conflicting_link(void)
{
    jr_identity_t *id = jr_identity_new();
    jr_link_t alice = link_nino("AB123456C", ALICE);
    jr_link_t bob = link_nino("AB123456C", BOB);
    CU_ASSERT_EQUAL(jr_identity_add(id, &alice), 0);
    CU_ASSERT_EQUAL(jr_identity_add(id, &alice), 0); /* again: no change */
    CU_ASSERT_EQUAL(jr_identity_add(id, &bob), 1);
    CU_ASSERT_STRING_EQUAL(jr_identity_lookup(id, JR_LINK_NINO, NULL, "AB123456C"), ALICE);

    /* The same local id in two streams is two different keys. */
    jr_link_t a = link_local("ATW", "42", ALICE);
    jr_link_t b = link_local("DFG", "42", BOB);
    CU_ASSERT_EQUAL(jr_identity_add(id, &a), 0);
    CU_ASSERT_EQUAL(jr_identity_add(id, &b), 0);
    jr_link_t c = link_local("DFG", "42", ALICE);
    CU_ASSERT_EQUAL(jr_identity_add(id, &c), 1);

    /* A NINO link's stream is ignored: it is one national key. */
    jr_link_t stream_named = link_nino("AB123456C", BOB);
    strcpy(stream_named.stream, "SP");
    CU_ASSERT_EQUAL(jr_identity_add(id, &stream_named), 1);

    /* Malformed links are refused. */
    jr_link_t bad_nhs = link_nino("JG103759A", "94347659");
    CU_ASSERT_EQUAL(jr_identity_add(id, &bad_nhs), -1);
    jr_link_t no_stream = link_local("", "7", ALICE);
    CU_ASSERT_EQUAL(jr_identity_add(id, &no_stream), -1);
    jr_link_t no_value = link_nino("", ALICE);
    CU_ASSERT_EQUAL(jr_identity_add(id, &no_value), -1);
    CU_ASSERT_PTR_NULL(jr_identity_lookup(id, JR_LINK_NINO, NULL, "JG103759A"));
    jr_identity_destroy(&id);
}

static void test_thousands_of_links(void)
{
    enum { COUNT = 5000 };
    jr_identity_t *id = jr_identity_new();
    char local[32], nhs[JR_NHS_LEN + 1];
    for (int i = 0; i < COUNT; i++) {
        snprintf(local, sizeof local, "client-%d", i);
        snprintf(nhs, sizeof nhs, "%010d", i);
        jr_link_t l = link_local(i % 2 ? "SP" : "ILF", local, nhs);
        CU_ASSERT_EQUAL(jr_identity_add(id, &l), 0);
    }
    int wrong = 0;
    for (int i = 0; i < COUNT; i++) {
        snprintf(local, sizeof local, "client-%d", i);
        snprintf(nhs, sizeof nhs, "%010d", i);
        const char *got = jr_identity_lookup(id, JR_LINK_LOCAL, i % 2 ? "SP" : "ILF", local);
        if (got == NULL || strcmp(got, nhs) != 0)
            wrong++;
        if (jr_identity_lookup(id, JR_LINK_LOCAL, i % 2 ? "ILF" : "SP", local) != NULL)
            wrong++;
    }
    CU_ASSERT_EQUAL(wrong, 0);
    jr_identity_destroy(&id);
}

static CU_TestInfo tests[] = {
    {"resolve by NHS number", test_resolve_by_nhs},
    {"resolve by linked NI number or local id", test_resolve_by_linked_nino_and_local},
    {"park unlinked identifiers", test_park},
    {"conflicting identifiers", test_conflict},
    {"links an enrolment creates", test_links_of},
    {"adding a conflicting link", test_add_conflicting_link},
    {"thousands of links", test_thousands_of_links},
    CU_TEST_INFO_NULL,
};

int main(void)
{
    CU_SuiteInfo suites[] = {
        {.pName = "identity", .pTests = tests},
        CU_SUITE_INFO_NULL,
    };
    return jr_cunit_run(suites);
}
