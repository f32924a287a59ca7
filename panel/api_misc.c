/* api_misc.c — /healthz and /metrics (Prometheus text format 0.0.4). /metrics reveals counts and
 * per-VPS traffic totals, and only to loopback clients or admins. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "agent_client.h"
#include "api.h"
#include "config.h"
#include "http.h"
#include "http_internal.h"
#include "metering.h"
#include "store.h"

void api_healthz(http_req *rq)
{
	sqlite3_stmt *st = db_stmt("SELECT 1");
	json_object *o;
	int r = st ? sqlite3_step(st) : SQLITE_ERROR;

	if (st)
		sqlite3_reset(st);
	if (r != SQLITE_ROW) {
		reply_problem(rq, 503, NULL, "the database does not answer", NULL);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("ok"));
	reply_json(rq, 200, o);
}

static void metric_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Counts rows per state of table ("vps" or "jobs") into counts[] in the order of states[]. */
static int count_states(const char *sql, const char *const states[], long long counts[])
{
	sqlite3_stmt *st = db_stmt(sql);
	int r;

	if (!st)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(st, 0);

		for (int i = 0; s && states[i]; i++)
			if (strcmp(s, states[i]) == 0)
				counts[i] = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : -1;
}

/* One live VPS's network totals (vps_net, guest's point of view) and CPU time (vps_cpu) for
 * /metrics. */
typedef struct net_row {
	int64_t id;
	char domain[VPS_DOMAIN_MAX];
	long long v[4]; /* rx_bytes, tx_bytes, rx_packets, tx_packets */
	int64_t cpu_ns;
} net_row;

static const struct {
	const char *name, *help;
} net_metrics[4] = {
        {"xvps_vps_network_receive_bytes_total", "Bytes received by the VPS (guest's view)."},
        {"xvps_vps_network_transmit_bytes_total", "Bytes sent by the VPS (guest's view)."},
        {"xvps_vps_network_receive_packets_total", "Packets received by the VPS (guest's view)."},
        {"xvps_vps_network_transmit_packets_total", "Packets sent by the VPS (guest's view)."},
};

/* Every live VPS with its totals (0 when never sampled), in one query. 0 or -1. */
static int load_net_rows(net_row **rows_out, size_t *n_out)
{
	sqlite3_stmt *st = db_stmt("SELECT v.id, v.domain, n.rx_bytes, n.tx_bytes, n.rx_packets, "
	                           "n.tx_packets, c.cpu_ns FROM vps v LEFT JOIN vps_net n ON "
	                           "n.vps_id=v.id LEFT JOIN vps_cpu c ON c.vps_id=v.id "
	                           "WHERE v.state!='deleting' ORDER BY v.id");
	net_row *rows = NULL;
	size_t n = 0, cap = 0;
	int r;

	*rows_out = NULL;
	*n_out = 0;
	if (!st)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *domain = (const char *)sqlite3_column_text(st, 1);

		if (n == cap) {
			net_row *grown = realloc(rows, (cap = cap ? cap * 2 : 64) * sizeof(*rows));

			if (!grown) {
				r = SQLITE_NOMEM;
				break;
			}
			rows = grown;
		}
		rows[n].id = sqlite3_column_int64(st, 0);
		/* Domains are "xvps-<id>" (api_vps.c): nothing to escape in a label value. */
		snprintf(rows[n].domain, sizeof(rows[n].domain), "%s", domain ? domain : "");
		for (int i = 0; i < 4; i++)
			rows[n].v[i] = sqlite3_column_int64(st, 2 + i); /* NULL reads as 0 */
		rows[n].cpu_ns = sqlite3_column_int64(st, 6);
		n++;
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		free(rows);
		return -1;
	}
	*rows_out = rows;
	*n_out = n;
	return 0;
}

/* Loopback clients (a local Prometheus, the operator's curl) and admins may read /metrics;
 * anyone else gets 403, since counts of VPS and logins are business information. */
void api_metrics(http_req *rq)
{
	static const char *const vps_states[] = {"provisioning", "running",  "stopped", "suspended",
	                                         "error",        "deleting", NULL};
	static const char *const job_states[] = {"queued", "running", "done", "failed", NULL};
	long long vps_n[sizeof(vps_states) / sizeof(vps_states[0]) - 1] = {0};
	long long job_n[sizeof(job_states) / sizeof(job_states[0]) - 1] = {0};
	xvps_metrics *m = &g_app->metrics;
	net_row *net = NULL;
	char *buf = NULL;
	size_t len = 0, n_net = 0;
	FILE *f;

	if (!ip_is_loopback(rq->ip) && !rq->user.is_admin) {
		reply_problem(rq, 403, NULL, "metrics are served to loopback clients and admins",
		              NULL);
		return;
	}
	if (count_states("SELECT CASE WHEN s.vps_id IS NOT NULL AND v.state!='deleting' "
	                 "THEN 'suspended' ELSE v.state END AS st, count(*) FROM vps v "
	                 "LEFT JOIN vps_suspension s ON s.vps_id=v.id GROUP BY st",
	                 vps_states, vps_n) ||
	    count_states("SELECT state, count(*) FROM jobs GROUP BY state", job_states, job_n) ||
	    load_net_rows(&net, &n_net)) {
		reply_problem(rq, 503, NULL, "the database does not answer", NULL);
		return;
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		free(net);
		reply_problem(rq, 500, NULL, "out of memory", NULL);
		return;
	}
	metric_head(f, "xvps_http_requests_total", "counter", "HTTP requests answered, by class.");
	fprintf(f, "xvps_http_requests_total{code=\"2xx\"} %llu\n",
	        (unsigned long long)atomic_load(&m->http_2xx));
	fprintf(f, "xvps_http_requests_total{code=\"4xx\"} %llu\n",
	        (unsigned long long)atomic_load(&m->http_4xx));
	fprintf(f, "xvps_http_requests_total{code=\"5xx\"} %llu\n",
	        (unsigned long long)atomic_load(&m->http_5xx));
	metric_head(f, "xvps_logins_total", "counter", "Login attempts, by result.");
	fprintf(f, "xvps_logins_total{result=\"ok\"} %llu\n",
	        (unsigned long long)atomic_load(&m->logins_ok));
	fprintf(f, "xvps_logins_total{result=\"failed\"} %llu\n",
	        (unsigned long long)atomic_load(&m->logins_failed));
	metric_head(f, "xvps_jobs_total", "counter", "Jobs finished since start, by result.");
	fprintf(f, "xvps_jobs_total{result=\"done\"} %llu\n",
	        (unsigned long long)atomic_load(&m->jobs_done));
	fprintf(f, "xvps_jobs_total{result=\"failed\"} %llu\n",
	        (unsigned long long)atomic_load(&m->jobs_failed));
	metric_head(f, "xvps_agent_errors_total", "counter",
	            "Calls to xvps-agent that failed in transport or were refused.");
	fprintf(f, "xvps_agent_errors_total %llu\n",
	        (unsigned long long)atomic_load(&m->agent_errors));
	metric_head(f, "xvps_vps", "gauge", "VPS in the database, by state.");
	for (int i = 0; vps_states[i]; i++)
		fprintf(f, "xvps_vps{state=\"%s\"} %lld\n", vps_states[i], vps_n[i]);
	metric_head(f, "xvps_jobs", "gauge", "Jobs in the database, by state.");
	for (int i = 0; job_states[i]; i++)
		fprintf(f, "xvps_jobs{state=\"%s\"} %lld\n", job_states[i], job_n[i]);
	metric_head(f, "xvps_uptime_seconds", "gauge", "Seconds since xvpsd started.");
	fprintf(f, "xvps_uptime_seconds %lld\n", (long long)(now_unix() - g_app->started_at));
	for (int k = 0; k < 4; k++) {
		metric_head(f, net_metrics[k].name, "counter", net_metrics[k].help);
		for (size_t i = 0; i < n_net; i++)
			fprintf(f, "%s{domain=\"%s\",vps=\"%lld\"} %lld\n", net_metrics[k].name,
			        net[i].domain, (long long)net[i].id, net[i].v[k]);
	}
	metric_head(f, "xvps_vps_cpu_seconds_total", "counter",
	            "CPU seconds used by the VPS's domain, all vcpus (hypervisor's accounting).");
	for (size_t i = 0; i < n_net; i++) {
		char secs[METERING_SECONDS_MAX];

		metering_ns_to_seconds(net[i].cpu_ns, secs, sizeof(secs));
		fprintf(f, "xvps_vps_cpu_seconds_total{domain=\"%s\",vps=\"%lld\"} %s\n",
		        net[i].domain, (long long)net[i].id, secs);
	}
	free(net);
	metric_head(f, "xvps_meter_last_sweep_timestamp_seconds", "gauge",
	            "Unix time of the last complete sweep of the VPS network counters and CPU "
	            "times (0: none since xvpsd started).");
	fprintf(f, "xvps_meter_last_sweep_timestamp_seconds %lld\n",
	        (long long)metering_last_sweep());
	if (fclose(f) != 0 || !buf) {
		free(buf);
		reply_problem(rq, 500, NULL, "out of memory", NULL);
		return;
	}
	reply_raw(rq, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
}
