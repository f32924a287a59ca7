/* quota.c — the traffic quota ladder's arithmetic (quota.h): used and included bytes, percent,
 * and the ladder's next step. Pure: integers only, no clock, no database. */
#include <string.h>

#include "quota.h"

bool quota_direction_parse(const char *s, quota_direction *out)
{
	static const char *const names[] = {"out", "in", "both"};

	for (int i = 0; s && i < 3; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (quota_direction)i;
			return true;
		}
	return false;
}

bool quota_action_parse(const char *s, quota_action *out)
{
	if (s && strcmp(s, "throttle") == 0)
		*out = QUOTA_ACT_THROTTLE;
	else if (s && strcmp(s, "suspend") == 0)
		*out = QUOTA_ACT_SUSPEND;
	else
		return false;
	return true;
}

const char *quota_direction_name(quota_direction d)
{
	return d == QUOTA_DIR_IN ? "in" : d == QUOTA_DIR_BOTH ? "both" : "out";
}

const char *quota_action_name(quota_action a)
{
	return a == QUOTA_ACT_SUSPEND ? "suspend" : "throttle";
}

static int64_t nonneg(int64_t v)
{
	return v < 0 ? 0 : v;
}

int64_t quota_used_bytes(quota_direction d, int64_t rx_bytes, int64_t tx_bytes)
{
	int64_t sum;

	rx_bytes = nonneg(rx_bytes);
	tx_bytes = nonneg(tx_bytes);
	if (d == QUOTA_DIR_OUT)
		return tx_bytes;
	if (d == QUOTA_DIR_IN)
		return rx_bytes;
	return __builtin_add_overflow(rx_bytes, tx_bytes, &sum) ? INT64_MAX : sum;
}

int64_t quota_included_bytes(int64_t traffic_gib, int64_t extra_bytes)
{
	int64_t base, sum;

	if (traffic_gib <= 0)
		return 0;
	if (__builtin_mul_overflow(traffic_gib, QUOTA_GIB_BYTES, &base))
		return INT64_MAX;
	return __builtin_add_overflow(base, nonneg(extra_bytes), &sum) ? INT64_MAX : sum;
}

int64_t quota_percent(int64_t used_bytes, int64_t included_bytes)
{
	if (included_bytes <= 0 || used_bytes <= 0)
		return 0;
	return (int64_t)((__int128)used_bytes * 100 / included_bytes);
}

/* used >= pct % of included, exactly. */
static bool at_least_pct(int64_t used_bytes, int64_t included_bytes, int pct)
{
	return (__int128)used_bytes * 100 >= (__int128)included_bytes * pct;
}

quota_todo quota_step(quota_state st, bool same_period, int64_t used_bytes, int64_t included_bytes,
                      quota_state *st_out)
{
	quota_todo todo = {0};
	quota_state next = st;

	if (!same_period) {
		/* A new period: the old one's notices no longer count; its action ends. */
		todo.lift = st.acted;
		next = (quota_state){0};
	}
	if (included_bytes <= 0) {
		/* No quota (any more): only an action in force has something to undo. */
		todo.lift = todo.lift || next.acted;
		next.acted = false;
		*st_out = next;
		return todo;
	}
	used_bytes = nonneg(used_bytes);
	if (next.acted && used_bytes < included_bytes) {
		todo.lift = true; /* traffic added or the quota raised */
		next.acted = false;
	}
	if (!next.notified_80 && at_least_pct(used_bytes, included_bytes, QUOTA_NOTICE_PCT)) {
		todo.notice_80 = true;
		next.notified_80 = true;
	}
	if (used_bytes >= included_bytes) {
		if (!next.notified_100) {
			todo.notice_100 = true;
			next.notified_100 = true;
		}
		if (!next.acted) {
			todo.act = true;
			next.acted = true;
		}
	}
	*st_out = next;
	return todo;
}

const char *quota_state_name(const quota_state *st, quota_action a)
{
	if (st->acted)
		return a == QUOTA_ACT_SUSPEND ? "suspended" : "throttled";
	if (st->notified_100)
		return "notice_100";
	return st->notified_80 ? "notice_80" : "ok";
}
