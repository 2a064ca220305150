/* jr_cunit.h -- the one main() every unit test shares.
 *
 * CUnit 2.1-3's CU_basic_run_tests() returns CUE_SUCCESS even when assertions
 * fail, so the exit status comes from the failure counts, read before the
 * registry is cleaned up. */
#ifndef JR_CUNIT_H
#define JR_CUNIT_H

#include <CUnit/Basic.h>
#include <stdlib.h>
#include <string.h>

/* Runs the suites (terminated by CU_SUITE_INFO_NULL); 0 when all pass. */
static inline int jr_cunit_run(CU_SuiteInfo *suites)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    if (CU_register_suites(suites) != CUE_SUCCESS) {
        CU_cleanup_registry();
        return 1;
    }
    /* JR_TEST_ONLY=text: only the tests whose names contain it run (the
     * others are inactive, not failed), for running one scenario by hand. */
    const char *only = getenv("JR_TEST_ONLY");
    for (CU_pSuite s = CU_get_registry()->pSuite; only != NULL && s != NULL; s = s->pNext) {
        for (CU_pTest t = s->pTest; t != NULL; t = t->pNext) {
            t->fActive = strstr(t->pName, only) != NULL ? CU_TRUE : CU_FALSE;
        }
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_ErrorCode rc = CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return rc == CUE_SUCCESS && failures == 0 ? 0 : 1;
}

#endif
