/* metering_json.c — the "net" and "cpu" objects of a VPS as the API and /metrics show them,
 * read from the totals metering.c keeps (vps_net, vps_cpu). Reads only; never asks the agent. */
#include <stdio.h>

#include "api.h"
#include "metering.h"
#include "store.h"

json_object *metering_vps_json(int64_t vps_id)
{
	sqlite3_stmt *st = db_stmt("SELECT rx_bytes, tx_bytes, rx_packets, tx_packets, sampled_at "
	                           "FROM vps_net WHERE vps_id=?");
	json_object *o = json_object_new_object();
	int64_t v[METERING_N_COUNTERS] = {0}, sampled_at = 0;

	if (st) {
		sqlite3_bind_int64(st, 1, vps_id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			for (int i = 0; i < METERING_N_COUNTERS; i++)
				v[i] = sqlite3_column_int64(st, i);
			sampled_at = sqlite3_column_int64(st, 4);
		}
		sqlite3_reset(st);
	}
	for (int i = 0; i < METERING_N_COUNTERS; i++)
		json_object_object_add(o, metering_counter_keys[i], json_object_new_int64(v[i]));
	json_object_object_add(o, "sampled_at", json_time(sampled_at));
	return o;
}

json_object *metering_vps_cpu_json(int64_t vps_id)
{
	sqlite3_stmt *st = db_stmt("SELECT cpu_ns, sampled_at FROM vps_cpu WHERE vps_id=?");
	json_object *o = json_object_new_object();
	int64_t ns = 0, sampled_at = 0;
	char txt[METERING_SECONDS_MAX];

	if (st) {
		sqlite3_bind_int64(st, 1, vps_id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			ns = sqlite3_column_int64(st, 0);
			sampled_at = sqlite3_column_int64(st, 1);
		}
		sqlite3_reset(st);
	}
	if (ns < 0)
		ns = 0;
	metering_ns_to_seconds(ns, txt, sizeof(txt));
	/* Serialised as txt: the exact decimal of the integer nanoseconds, not %.17g noise. */
	json_object_object_add(o, "seconds", json_object_new_double_s((double)ns / 1e9, txt));
	json_object_object_add(o, "sampled_at", json_time(sampled_at));
	return o;
}

void metering_ns_to_seconds(int64_t ns, char *out, size_t size)
{
	char frac[sizeof("000000000")];
	int len;

	if (ns < 0)
		ns = 0;
	snprintf(frac, sizeof(frac), "%09lld", (long long)(ns % 1000000000));
	for (len = 9; len > 1 && frac[len - 1] == '0'; len--)
		;
	frac[len] = '\0';
	snprintf(out, size, "%lld.%s", (long long)(ns / 1000000000), frac);
}
