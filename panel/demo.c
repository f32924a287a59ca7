/* demo.c — XVPS_DEMO=1: seeds a plan, a template, an IPv4 and an IPv6 pool and a customer so
 * that a new user can order a VPS at once. Runs only while no plan exists; uses documentation
 * addresses only (RFC 5737, RFC 3849) and never prints the customer's password. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "agent_client.h"
#include "api.h"
#include "auth.h"
#include "config.h"
#include "store.h"

#define DEMO_PASSWORD_BYTES 16 /* random bytes of a generated demo password */

static int seed_plan(void)
{
	sqlite3_stmt *st = db_stmt("INSERT INTO plans(name, vcpus, memory_mib, disk_gib, "
	                           "traffic_gib, cpu_weight, cpu_cap_pct, net_mbit, "
	                           "price_month_cents, created_at) "
	                           "VALUES('demo-1', 1, 512, 10, 0, 256, 100, 100, 500, ?)");

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now_unix());
	return db_step_done(st) ? 0 : -1;
}

static int seed_pool(int family, const char *cidr, const char *gateway)
{
	sqlite3_stmt *st =
	        db_stmt("INSERT OR IGNORE INTO ip_pools(family, cidr, gateway, reserved, "
	                "created_at) VALUES(?, ?, ?, '[]', ?)");

	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, family);
	sqlite3_bind_text(st, 2, cidr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, gateway, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_unix());
	return db_step_done(st) ? 0 : -1;
}

/* The template row, then its image through the agent; the row goes again when that fails. */
static void seed_template(void)
{
	sqlite3_stmt *st = db_stmt("INSERT OR IGNORE INTO templates(name, os, disk_gib, boot, "
	                           "created_at) VALUES('debian-12', 'debian-12', 10, 'pvh', ?)");
	agent_err e;
	int64_t id;

	if (!st)
		return;
	sqlite3_bind_int64(st, 1, now_unix());
	if (!db_step_done(st) || sqlite3_changes(db()) == 0)
		return;
	id = db_last_id();
	if (template_agent_ensure(id, 10, NULL, &e) == 0) {
		log_info("demo: template debian-12 ready");
		return;
	}
	log_warn("demo: template debian-12 skipped: %s", e.msg);
	st = db_stmt("DELETE FROM templates WHERE id=?");
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		db_step_done(st);
	}
}

static int seed_customer(void)
{
	const char *env = getenv("XVPS_DEMO_PASSWORD");
	char generated[2 * DEMO_PASSWORD_BYTES + 1], path[CONFIG_FILE_MAX];
	const char *password = env;
	bool conflict = false;
	int64_t id;

	if (!password || !*password) {
		if (random_hex(generated, DEMO_PASSWORD_BYTES) != 0) {
			log_error("demo: no randomness for the demo password");
			return -1;
		}
		password = generated;
	}
	if (!valid_password(password, NULL)) {
		log_error("demo: XVPS_DEMO_PASSWORD is not an acceptable password");
		return -1;
	}
	id = auth_create_user("demo", "demo@example.org", password, "customer", &conflict);
	if (id < 0) {
		if (conflict) {
			log_info("demo: user demo exists already");
			return 0;
		}
		return -1;
	}
	if (password == generated) {
		const char *dir = g_app ? g_app->cfg.state_dir : "var";
		char line[sizeof(generated) + 1];
		int r;

		if (!sfmt(path, sizeof(path), "%s/demo-password", dir)) {
			log_error("demo: state directory path too long");
			return -1;
		}
		snprintf(line, sizeof(line), "%s\n", generated);
		r = write_file_atomic(path, line, strlen(line), 0600);
		if (r != 0) {
			log_error("demo: cannot write %s: %s", path, strerror(-r));
			return -1;
		}
		log_info("demo: customer demo, password in %s", path);
	} else {
		log_info("demo: customer demo, password from XVPS_DEMO_PASSWORD");
	}
	return 0;
}

int demo_seed(void)
{
	int64_t plans;

	if (!db_count("SELECT count(*) FROM plans", 0, &plans))
		return -1;
	if (plans > 0)
		return 0;
	log_info("demo: seeding a plan, a template, two pools and a customer");
	if (seed_plan() != 0 || seed_pool(4, "192.0.2.0/24", "192.0.2.1") != 0 ||
	    seed_pool(6, "2001:db8:100::/64", "2001:db8:100::1") != 0)
		return -1;
	seed_template();
	return seed_customer();
}
