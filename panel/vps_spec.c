/* vps_spec.c — the VPS_SPEC (common/agent_proto.h) of a VPS, built from the database for the
 * job engine (jobs.c), and the second step of releasing addresses: a row in state 'releasing'
 * is left out of every spec, and deleted (its address free again) only after the agent applied
 * a spec built without it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "audit.h"
#include "guest_settings.h"
#include "ipam.h"
#include "store.h"
#include "vps_spec.h"

static void add_str(json_object *o, const char *key, const unsigned char *s)
{
	json_object_object_add(o, key, json_object_new_string(s ? (const char *)s : ""));
}

/* The live resize ceilings (issue 16 item 1): the largest vcpus and memory_mib over the plans
 * the host offers, so that a domain can grow to any plan without a reboot where Xen allows it
 * (hypervisor/xlcfg.h). A plan added later reaches a domain at its next boot. */
static bool spec_ceilings(json_object *spec)
{
	sqlite3_stmt *st = db_stmt("SELECT max(vcpus), max(memory_mib) FROM plans");
	bool ok;

	if (!st)
		return false;
	ok = sqlite3_step(st) == SQLITE_ROW;
	if (ok) {
		json_object_object_add(spec, "max_vcpus",
		                       json_object_new_int64(sqlite3_column_int64(st, 0)));
		json_object_object_add(spec, "max_memory_mib",
		                       json_object_new_int64(sqlite3_column_int64(st, 1)));
	}
	sqlite3_reset(st);
	return ok;
}

/* The VPS's own columns into spec; false when the VPS does not exist or the database failed. */
static bool spec_base(json_object *spec, int64_t vps_id, const char *power)
{
	sqlite3_stmt *st =
	        db_stmt("SELECT v.domain, v.hostname, t.boot, p.vcpus, p.memory_mib, p.disk_gib, "
	                "v.template_id, v.mac, v.vifname, p.cpu_weight, p.cpu_cap_pct, p.net_mbit, "
	                "v.ssh_keys, v.throttle_mbit, p.smtp_block, p.on_crash, t.seed, v.rescue "
	                "FROM vps v "
	                "JOIN plans p ON "
	                "p.id=v.plan_id "
	                "JOIN templates t ON t.id=v.template_id WHERE v.id=?");
	const unsigned char *k;
	json_object *keys;
	char tpl[TEMPLATE_NAME_MAX];

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, vps_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return false;
	}
	add_str(spec, "name", sqlite3_column_text(st, 0));
	add_str(spec, "hostname", sqlite3_column_text(st, 1));
	add_str(spec, "type", sqlite3_column_text(st, 2));
	json_object_object_add(spec, "vcpus", json_object_new_int64(sqlite3_column_int64(st, 3)));
	json_object_object_add(spec, "memory_mib",
	                       json_object_new_int64(sqlite3_column_int64(st, 4)));
	json_object_object_add(spec, "disk_gib",
	                       json_object_new_int64(sqlite3_column_int64(st, 5)));
	snprintf(tpl, sizeof(tpl), "tpl-%lld", (long long)sqlite3_column_int64(st, 6));
	json_object_object_add(spec, "template", json_object_new_string(tpl));
	add_str(spec, "mac", sqlite3_column_text(st, 7));
	add_str(spec, "vifname", sqlite3_column_text(st, 8));
	json_object_object_add(spec, "cpu_weight",
	                       json_object_new_int64(sqlite3_column_int64(st, 9)));
	json_object_object_add(spec, "cpu_cap_pct",
	                       json_object_new_int64(sqlite3_column_int64(st, 10)));
	json_object_object_add(spec, "net_mbit",
	                       json_object_new_int64(sqlite3_column_int64(st, 11)));
	json_object_object_add(spec, "power", json_object_new_string(power));
	k = sqlite3_column_text(st, 12);
	keys = json_tokener_parse(k ? (const char *)k : "[]");
	if (!keys || !json_object_is_type(keys, json_type_array)) {
		json_object_put(keys);
		keys = json_object_new_array();
	}
	json_object_object_add(spec, "ssh_keys", keys);
	json_object_object_add(spec, "throttle_mbit",
	                       json_object_new_int64(sqlite3_column_int64(st, 13)));
	json_object_object_add(spec, "smtp_block",
	                       json_object_new_boolean(sqlite3_column_int(st, 14) != 0));
	add_str(spec, "on_crash", sqlite3_column_text(st, 15));
	add_str(spec, "seed", sqlite3_column_text(st, 16)); /* xvps | nocloud (issue 16 item 7) */
	json_object_object_add(spec, "rescue",              /* issue 16 item 3 */
	                       json_object_new_boolean(sqlite3_column_int(st, 17) != 0));
	sqlite3_reset(st);
	return spec_ceilings(spec);
}

/* The active addresses: "ipv4", "ipv6" (single addresses), "ipv6_routed" ("net/64") and the
 * gateways of the first pool of each family (primary addresses first). false on a DB error. */
static bool spec_addresses(json_object *spec, int64_t vps_id)
{
	sqlite3_stmt *st =
	        db_stmt("SELECT a.address, pl.family, pl.gateway, a.prefix_len FROM ip_addresses a "
	                "JOIN ip_pools pl ON pl.id=a.pool_id WHERE a.vps_id=? AND a.state='active' "
	                "ORDER BY pl.family, a.extra, a.pool_id, a.address");
	json_object *v4 = json_object_new_array(), *v6 = json_object_new_array(),
	            *routed = json_object_new_array(), *gw4 = NULL, *gw6 = NULL;
	int r = SQLITE_ERROR;

	if (st) {
		sqlite3_bind_int64(st, 1, vps_id);
		while ((r = sqlite3_step(st)) == SQLITE_ROW) {
			const char *addr = (const char *)sqlite3_column_text(st, 0);
			int family = sqlite3_column_int(st, 1);
			const char *gw = (const char *)sqlite3_column_text(st, 2);
			int plen = sqlite3_column_type(st, 3) == SQLITE_NULL
			                   ? 0
			                   : sqlite3_column_int(st, 3);
			char text[IPAM_ADDR_MAX];

			if (!addr)
				continue;
			ipam_format_assigned(addr, plen, text);
			json_object_array_add(family == 4 ? v4
			                      : plen      ? routed
			                                  : v6,
			                      json_object_new_string(text));
			if (family == 4 && !gw4 && gw)
				gw4 = json_object_new_string(gw);
			else if (family == 6 && !gw6 && gw)
				gw6 = json_object_new_string(gw);
		}
		sqlite3_reset(st);
	}
	json_object_object_add(spec, "ipv4", v4);
	json_object_object_add(spec, "ipv6", v6);
	json_object_object_add(spec, "ipv6_routed", routed);
	json_object_object_add(spec, "gateway4", gw4);
	json_object_object_add(spec, "gateway6", gw6);
	return r == SQLITE_DONE;
}

json_object *job_build_spec(int64_t vps_id, const char *power)
{
	json_object *spec = json_object_new_object();

	if (!spec_base(spec, vps_id, power) || !spec_addresses(spec, vps_id) ||
	    !guest_spec_add(spec, vps_id)) {
		json_object_put(spec);
		return NULL;
	}
	return spec;
}

json_object *job_build_spec_release(int64_t vps_id, const char *power, spec_release *rel)
{
	memset(rel, 0, sizeof(*rel));
	rel->vps_id = vps_id;
	/* First the releasing rows, then the spec: every row noted here is left out of it. */
	if (ipam_releasing(vps_id, &rel->rowids, &rel->n) != 0)
		return NULL;
	return job_build_spec(vps_id, power);
}

void spec_release_free(spec_release *rel)
{
	free(rel->rowids);
	rel->rowids = NULL;
	rel->n = 0;
}

void spec_release_done(spec_release *rel)
{
	int n = 0;

	if (rel->n > 0) {
		if (db_begin() != 0 || (n = ipam_forget(rel->vps_id, rel->rowids, rel->n)) < 0 ||
		    db_commit() != 0) {
			db_rollback();
			log_error("vps %lld: forgetting released addresses failed (they stay "
			          "releasing until the next network change)",
			          (long long)rel->vps_id);
		} else if (n > 0) {
			char res[AUDIT_RESOURCE_MAX], detail[AUDIT_DETAIL_MAX];

			snprintf(res, sizeof(res), "vps/%lld", (long long)rel->vps_id);
			snprintf(detail, sizeof(detail), "%d address(es) free again", n);
			audit_system("vps.addresses.released", res, detail);
		}
	}
	spec_release_free(rel);
}
