/* metering.h — network and CPU counters of every live VPS (metering.c): a thread asks the agent
 * for "net.counters" and "cpu.times" every interval and stores the panel's monotonic totals in
 * vps_net and vps_cpu (agent values that go down are counted from zero again). Never changes
 * the host. Return convention: int functions return 0 on success, -1 on error (logged). */
#ifndef XVPS_PANEL_METERING_H
#define XVPS_PANEL_METERING_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#define METERING_SECONDS_MAX 32 /* metering_ns_to_seconds' output with its NUL */
#define METERING_N_COUNTERS  4  /* rx_bytes, tx_bytes, rx_packets, tx_packets */

/* The counters' JSON keys, in the column order of vps_net (metering.c). */
extern const char *const metering_counter_keys[METERING_N_COUNTERS];

int metering_start(int interval_s); /* 1..3600 s (XVPS_METER_INTERVAL); first sweep at once */
void metering_stop(void);           /* wakes and joins the thread (after an agent call ends) */
/* One sweep now: 0 when every live VPS's chunk was answered by both operations and stored,
 * else -1 (logged, rate-limited; what was answered is stored, the rest keeps its rows). */
int metering_tick(void);
/* One sweep of one VPS (domain "xvps-N"), whatever its state: the delete job calls it just
 * before the agent removes the domain and its counters, so the usage since the last sweep
 * reaches the ledger. 0, or -1 (logged: that usage is lost). */
int metering_sweep_vps(const char *domain);
int64_t metering_last_sweep(void);
/* Rolls up the usage ledger's closed buckets (billing_ledger_rollup with XVPS_BILLING_*; its
 * own transaction). Each successful sweep calls it. 0, or -1 (logged). */
int metering_rollup(void); /* unix time of the last complete sweep, 0: none yet */
/* {"rx_bytes","tx_bytes","rx_packets","tx_packets","sampled_at"|null} of a VPS (guest's
 * view); zeros and null when it was never sampled. New object. */
json_object *metering_vps_json(int64_t vps_id);
/* {"seconds": number, "sampled_at": time|null} of a VPS: CPU seconds (all vcpus) its domains
 * used since the VPS was created, the panel's monotonic total of the agent's "cpu.times"
 * (libxenstat on Xen) as of sampled_at; 0 and null until the first sample. New object. */
json_object *metering_vps_cpu_json(int64_t vps_id);
/* Nanoseconds as exact decimal seconds without trailing zeros ("12.5", "0.0", "3.000000001"),
 * for the VPS JSON and /metrics; negative counts as 0. out: at least METERING_SECONDS_MAX. */
void metering_ns_to_seconds(int64_t ns, char *out, size_t size);

#endif
