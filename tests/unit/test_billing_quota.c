/* test_billing_quota.c — billing/quota.c: which bytes count per direction, included bytes with
 * extra traffic, exact percentages, and the ladder (80 %, 100 %, action, lift on extra traffic,
 * on a removed quota and on rollover; notices once per period). */
#include <criterion/criterion.h>

#include "../../billing/quota.h"

#define GIB QUOTA_GIB_BYTES

Test(billing_quota, direction_picks_guest_tx_rx_or_both)
{
	cr_assert_eq(quota_used_bytes(QUOTA_DIR_OUT, 5, 7), 7);
	cr_assert_eq(quota_used_bytes(QUOTA_DIR_IN, 5, 7), 5);
	cr_assert_eq(quota_used_bytes(QUOTA_DIR_BOTH, 5, 7), 12);
	cr_assert_eq(quota_used_bytes(QUOTA_DIR_BOTH, INT64_MAX, 7), INT64_MAX);
	cr_assert_eq(quota_used_bytes(QUOTA_DIR_OUT, 5, -1), 0);
}

Test(billing_quota, parses_names_and_rejects_others)
{
	quota_direction d = QUOTA_DIR_IN;
	quota_action a = QUOTA_ACT_SUSPEND;

	cr_assert(quota_direction_parse("both", &d) && d == QUOTA_DIR_BOTH);
	cr_assert(quota_direction_parse("out", &d) && d == QUOTA_DIR_OUT);
	cr_assert(!quota_direction_parse("OUT", &d) && d == QUOTA_DIR_OUT);
	cr_assert(!quota_direction_parse(NULL, &d));
	cr_assert(quota_action_parse("throttle", &a) && a == QUOTA_ACT_THROTTLE);
	cr_assert(!quota_action_parse("suspended", &a) && a == QUOTA_ACT_THROTTLE);
	cr_assert_str_eq(quota_direction_name(QUOTA_DIR_IN), "in");
	cr_assert_str_eq(quota_action_name(QUOTA_ACT_SUSPEND), "suspend");
}

Test(billing_quota, included_is_gib_plus_extra_and_zero_when_unmetered)
{
	cr_assert_eq(quota_included_bytes(10, 0), 10 * GIB);
	cr_assert_eq(quota_included_bytes(10, 5 * GIB), 15 * GIB);
	cr_assert_eq(quota_included_bytes(0, 5 * GIB), 0);
	cr_assert_eq(quota_included_bytes(-1, 0), 0);
	cr_assert_eq(quota_included_bytes(INT64_MAX, 0), INT64_MAX);
	cr_assert_eq(quota_included_bytes(QUOTA_TRAFFIC_GIB_MAX, INT64_MAX), INT64_MAX);
}

Test(billing_quota, percent_is_floored_and_exact_for_huge_values)
{
	cr_assert_eq(quota_percent(0, GIB), 0);
	cr_assert_eq(quota_percent(GIB / 2, GIB), 50);
	cr_assert_eq(quota_percent(GIB - 1, GIB), 99);
	cr_assert_eq(quota_percent(GIB, GIB), 100);
	cr_assert_eq(quota_percent(3 * GIB, GIB), 300);
	cr_assert_eq(quota_percent(5, 0), 0);
	/* used x 100 would overflow int64 */
	cr_assert_eq(quota_percent(INT64_MAX / 2, INT64_MAX), 49);
	cr_assert_eq(quota_percent(INT64_MAX, INT64_MAX), 100);
}

static quota_todo step(quota_state *st, bool same, int64_t used, int64_t incl)
{
	return quota_step(*st, same, used, incl, st);
}

Test(billing_quota, ladder_notice_80_then_100_then_act_once)
{
	quota_state st = {0};
	quota_todo t;

	t = step(&st, true, 79, 100); /* bytes: 79 % */
	cr_assert(!t.notice_80 && !t.notice_100 && !t.act && !t.lift);
	cr_assert_str_eq(quota_state_name(&st, QUOTA_ACT_THROTTLE), "ok");
	t = step(&st, true, 80, 100); /* exactly 80 % */
	cr_assert(t.notice_80 && !t.notice_100 && !t.act);
	cr_assert_str_eq(quota_state_name(&st, QUOTA_ACT_THROTTLE), "notice_80");
	t = step(&st, true, 99, 100);
	cr_assert(!t.notice_80 && !t.notice_100 && !t.act, "no notice twice");
	t = step(&st, true, 100, 100); /* exactly 100 % */
	cr_assert(!t.notice_80 && t.notice_100 && t.act);
	cr_assert_str_eq(quota_state_name(&st, QUOTA_ACT_THROTTLE), "throttled");
	cr_assert_str_eq(quota_state_name(&st, QUOTA_ACT_SUSPEND), "suspended");
	t = step(&st, true, 200, 100);
	cr_assert(!t.notice_80 && !t.notice_100 && !t.act && !t.lift, "nothing twice");
}

Test(billing_quota, jump_past_both_thresholds_gives_both_notices)
{
	quota_state st = {0};
	quota_todo t = step(&st, true, 5 * GIB, GIB);

	cr_assert(t.notice_80 && t.notice_100 && t.act && !t.lift);
}

Test(billing_quota, extra_traffic_lifts_and_recrossing_acts_without_new_notices)
{
	quota_state st = {0};
	quota_todo t;

	step(&st, true, GIB, GIB);
	cr_assert(st.acted);
	t = step(&st, true, GIB, quota_included_bytes(1, GIB)); /* 1 GiB added */
	cr_assert(t.lift && !t.act && !t.notice_80 && !t.notice_100);
	cr_assert_str_eq(quota_state_name(&st, QUOTA_ACT_THROTTLE), "notice_100");
	t = step(&st, true, 2 * GIB, quota_included_bytes(1, GIB));
	cr_assert(t.act && !t.lift && !t.notice_80 && !t.notice_100);
}

Test(billing_quota, rollover_lifts_and_starts_the_ladder_again)
{
	quota_state st = {0};
	quota_todo t;

	step(&st, true, 2 * GIB, GIB);
	t = step(&st, false, 0, GIB); /* the new period's first sweep */
	cr_assert(t.lift && !t.act && !t.notice_80 && !t.notice_100);
	cr_assert_str_eq(quota_state_name(&st, QUOTA_ACT_THROTTLE), "ok");
	t = step(&st, true, GIB * 9 / 10, GIB);
	cr_assert(t.notice_80, "the new period's notices are sent again");
	/* a rollover straight into an over-quota period: lift and act in the same step */
	st = (quota_state){.notified_80 = true, .notified_100 = true, .acted = true};
	t = step(&st, false, 2 * GIB, GIB);
	cr_assert(t.lift && t.notice_80 && t.notice_100 && t.act);
}

Test(billing_quota, removed_quota_lifts_and_stays_quiet)
{
	quota_state st = {0};
	quota_todo t;

	step(&st, true, 2 * GIB, GIB);
	t = step(&st, true, 2 * GIB, 0);
	cr_assert(t.lift && !t.act && !t.notice_80 && !t.notice_100);
	t = step(&st, true, 2 * GIB, 0);
	cr_assert(!t.lift && !t.act);
}
