/* limits.h — per-customer ordering limits (issue 16 item 8; limits.c): how many VPS, how many
 * vCPUs, MiB of memory and GiB of disk in total, and which plans a customer may order or resize
 * to. An admin sets them (PATCH /customers/{id}/limits, api_limits.c); orders (vps_create_tx,
 * also the billing module's create) and resizes (resize.c, also its change package) are checked
 * inside their own write transaction (BEGIN IMMEDIATE), so two concurrent orders cannot both
 * pass a limit. No limits row: no limit at all. */
#ifndef XVPS_PANEL_LIMITS_H
#define XVPS_PANEL_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIMIT_VALUE_MAX 1000000000LL /* the largest limit an admin may set, any unit */
#define LIMIT_PLANS_MAX 1000         /* the most plans one list may name */

/* A customer's limits: -1 = none (unlimited); all_plans false: only customer_plans. */
typedef struct customer_limits {
	int64_t max_vps, max_vcpus, max_memory_mib, max_disk_gib;
	bool all_plans;
} customer_limits;

/* What a customer's live VPS (every state but "deleting") hold, or would hold. */
typedef struct limits_usage {
	int64_t vps, vcpus, memory_mib, disk_gib;
} limits_usage;

/* Why a request was refused: limit names the limit ("vps", "vcpus", "memory_mib", "disk_gib",
 * "plans"); allowed, used (now) and requested (the total the request would make) in its unit.
 * For "plans", requested is the plan's id and allowed/used are 0. limit NULL: no refusal. */
typedef struct limit_refusal {
	const char *limit;
	int64_t allowed, used, requested;
	int64_t customer_id; /* whose limit (limits_check_plan sets it) */
} limit_refusal;

/* Pure: checks after (what the customer would hold) against l, given used (what it holds now).
 * A limit refuses only a total that grows (after > used) beyond it, so a customer above a
 * lowered limit may still shrink or keep what it has. Checked in the order vps, vcpus,
 * memory_mib, disk_gib; true when allowed, else false with *why the first limit passed. */
bool limits_check(const customer_limits *l, const limits_usage *used, const limits_usage *after,
                  limit_refusal *why);

/* Formats a refusal as the sentence of its problem's detail and of the audit line. */
void limit_refusal_text(const limit_refusal *why, char *out, size_t size);

/* The HTTP status of a refusal: 403 for a plan not offered to the customer, 409 for a total
 * (deleting a VPS, or an admin raising the limit, makes the same request valid). */
int limit_refusal_status(const limit_refusal *why);

/* Database side (inside the caller's transaction when it decides): the customer's limits (none
 * when it has no row), 0 or -1. */
int limits_load(int64_t customer_id, customer_limits *l);
/* What customer_id's live VPS hold, leaving out except_vps (0: none). 0 or -1. */
int limits_usage_of(int64_t customer_id, int64_t except_vps, limits_usage *u);
/* 1 when customer_id may order plan_id (all plans, or the plan is on its list), 0 when not,
 * -1 on a database error. */
int limits_plan_allowed(int64_t customer_id, int64_t plan_id);

/* The whole check of an order (plan_id new VPS) or a resize (vps_id to plan_id) for
 * customer_id: 0 allowed, 1 refused with *why filled, -1 database error. vps_id 0: an order. */
int limits_check_plan(int64_t customer_id, int64_t vps_id, int64_t plan_id, limit_refusal *why);

#endif
