/* test_timers.c -- the loop's timers: one-shot timers fire once per arming,
 * and armings made by handlers wait for the loop's next turn. No sockets:
 * zmq_timers_* need none. */
#include "timers.h"

#include "jr_cunit.h"

typedef struct {
    jr_timers_t *t;
    int self;   /* the timer this counter's handler belongs to */
    int other;  /* a timer its handler arms, -1: none */
    int rounds; /* how many times the handler arms its own timer at 0 */
    int fired;
} counter_t;

static void count(void *arg)
{
    counter_t *c = arg;
    c->fired++;
    if (c->fired < c->rounds) {
        jr_timers_arm(c->t, c->self, 0); /* another round, at the next turn */
    }
    if (c->other >= 0) {
        jr_timers_arm(c->t, c->other, 60000);
    }
}

static void test_a_one_shot_fires_once_per_arming(void)
{
    jr_timers_t *t = jr_timers_new();
    counter_t c = {t, -1, -1, 0, 0};
    c.self = jr_timers_once(t, count, &c);
    CU_ASSERT_FALSE(jr_timers_armed(t, c.self));
    CU_ASSERT_EQUAL(jr_timers_timeout(t), -1);
    jr_timers_arm(t, c.self, 60000);
    long wait = jr_timers_timeout(t);
    CU_ASSERT(wait > 59000 && wait <= 60000);
    jr_timers_arm(t, c.self, 0); /* moves the firing: now */
    CU_ASSERT_EQUAL(jr_timers_timeout(t), 0);
    jr_timers_execute(t);
    CU_ASSERT_EQUAL(c.fired, 1);
    CU_ASSERT_FALSE(jr_timers_armed(t, c.self));
    CU_ASSERT_EQUAL(jr_timers_timeout(t), -1);
    jr_timers_execute(t);
    CU_ASSERT_EQUAL(c.fired, 1);
    jr_timers_destroy(&t);
    CU_ASSERT_PTR_NULL(t);
}

/* libzmq alone would run a timer of interval 0 again and again within one
 * zmq_timers_execute(); here each round waits for the next turn. */
static void test_a_round_armed_at_zero_waits_for_the_next_turn(void)
{
    jr_timers_t *t = jr_timers_new();
    counter_t c = {t, -1, -1, 3, 0};
    c.self = jr_timers_once(t, count, &c);
    jr_timers_arm(t, c.self, 0);
    jr_timers_execute(t);
    CU_ASSERT_EQUAL(c.fired, 1);
    CU_ASSERT_TRUE(jr_timers_armed(t, c.self));
    CU_ASSERT_EQUAL(jr_timers_timeout(t), 0);
    jr_timers_execute(t);
    CU_ASSERT_EQUAL(c.fired, 2);
    jr_timers_execute(t);
    CU_ASSERT_EQUAL(c.fired, 3);
    CU_ASSERT_FALSE(jr_timers_armed(t, c.self));
    jr_timers_execute(t);
    CU_ASSERT_EQUAL(c.fired, 3);
    CU_ASSERT_EQUAL(jr_timers_timeout(t), -1);
    jr_timers_destroy(&t);
}

/* Two timers due in one turn; the first one's handler arms the second for
 * later: that arming stands, and the second does not fire now. */
static void test_an_arming_by_a_handler_replaces_one_not_fired(void)
{
    jr_timers_t *t = jr_timers_new();
    counter_t second = {t, -1, -1, 0, 0};
    second.self = jr_timers_once(t, count, &second);
    counter_t first = {t, -1, second.self, 0, 0};
    first.self = jr_timers_once(t, count, &first);
    jr_timers_arm(t, first.self, 0);
    jr_timers_arm(t, second.self, 0);
    jr_timers_execute(t);
    CU_ASSERT_EQUAL(first.fired, 1);
    CU_ASSERT_EQUAL(second.fired, 0);
    CU_ASSERT_TRUE(jr_timers_armed(t, second.self));
    long wait = jr_timers_timeout(t);
    CU_ASSERT(wait > 59000 && wait <= 60000);
    jr_timers_destroy(&t);
}

static void test_a_periodic_timer_waits_its_interval(void)
{
    jr_timers_t *t = jr_timers_new();
    counter_t c = {t, -1, -1, 0, 0};
    c.self = jr_timers_every(t, 5000, count, &c);
    long wait = jr_timers_timeout(t);
    CU_ASSERT(wait > 4000 && wait <= 5000);
    jr_timers_execute(t);
    CU_ASSERT_EQUAL(c.fired, 0);
    for (int i = 1; i < JR_TIMERS_MAX; i++) {
        CU_ASSERT(jr_timers_once(t, count, &c) == i);
    }
    CU_ASSERT_EQUAL(jr_timers_once(t, count, &c), -1); /* full */
    jr_timers_destroy(&t);
}

int main(void)
{
    CU_TestInfo tests[] = {
        {"a one-shot fires once per arming", test_a_one_shot_fires_once_per_arming},
        {"a round armed at 0 waits for the next turn",
         test_a_round_armed_at_zero_waits_for_the_next_turn},
        {"an arming by a handler replaces one not fired",
         test_an_arming_by_a_handler_replaces_one_not_fired},
        {"a periodic timer waits its interval", test_a_periodic_timer_waits_its_interval},
        CU_TEST_INFO_NULL,
    };
    CU_SuiteInfo suites[] = {{"timers", NULL, NULL, NULL, NULL, tests}, CU_SUITE_INFO_NULL};
    return jr_cunit_run(suites);
}
