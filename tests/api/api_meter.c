/* api_meter.c — network and CPU metering through the API, against a running xvpsd ($XVPS_URL):
 * every VPS object carries "net" (integer counters, "sampled_at" null or a time) and "cpu"
 * ({"seconds": number, "sampled_at"}), /metrics has the four per-VPS counter series, the CPU
 * seconds series and the last sweep's time, a deleted VPS's series go, and a running VPS's
 * cpu.seconds grows from one sweep to the next. When
 * xvpsd's metering thread has sampled a VPS, "sampled_at" becomes a time: that check asks the
 * agent ($XVPS_STATE/agent.sock) whether it knows "net.counters" first, and skips with the
 * reason when it does not (an agent without it answers "unknown operation"). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../common/agent_proto.h"
#include "client.h"

static const char *const counters[] = {"rx_bytes", "tx_bytes", "rx_packets", "tx_packets", NULL};
static const char *const series[] = {
        "xvps_vps_network_receive_bytes_total", "xvps_vps_network_transmit_bytes_total",
        "xvps_vps_network_receive_packets_total", "xvps_vps_network_transmit_packets_total", NULL};

static api_client admin, cust;
static char plan[32], tpl[32], pool[32], cust_id[32];

static void setup(void)
{
	fx_admin(&admin);
	fx_pool4(&admin, pool);
	fx_plan(&admin, NULL, plan);
	fx_template(&admin, tpl);
	fx_customer(&admin, &cust, cust_id, NULL, NULL);
}

TestSuite(meter, .init = setup, .fini = api_cleanup, .timeout = 120);

/* Asserts the "net" member of a VPS object; returns it. */
static json_object *assert_net(json_object *vps, const char *body)
{
	json_object *net = jget(vps, "net"), *v;

	cr_assert(net && json_object_is_type(net, json_type_object), "no \"net\" object: %s", body);
	for (int i = 0; counters[i]; i++) {
		cr_assert(json_object_object_get_ex(net, counters[i], &v) &&
		                  json_object_is_type(v, json_type_int),
		          "net.%s is not an integer: %s", counters[i], body);
		cr_assert_geq(json_object_get_int64(v), 0, "net.%s: %s", counters[i], body);
	}
	cr_assert(json_object_object_get_ex(net, "sampled_at", &v), "no net.sampled_at: %s", body);
	cr_assert(!v || json_object_is_type(v, json_type_string), "net.sampled_at: %s", body);
	return net;
}

static api_resp *get_metrics(void)
{
	api_resp *r = api_req(NULL, "GET", "/metrics", NULL);

	cr_assert_eq(r->status, 200, "/metrics: %ld %s", r->status, r->body);
	return r;
}

/* The value of the sample line that starts with prefix ("name{labels} "), or -1 when absent. */
static long long sample(const char *text, const char *prefix)
{
	const char *p = text;
	size_t n = strlen(prefix);

	while (p && *p) {
		if (strncmp(p, prefix, n) == 0)
			return atoll(p + n);
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return -1;
}

Test(meter, vps_objects_have_net_and_metrics_have_its_series)
{
	char vps[32], path[96], line[160], type[96];
	api_resp *r;
	bool listed = false;

	fx_vps(&cust, plan, tpl, NULL, vps);
	snprintf(path, sizeof(path), V1 "/vps/%s", vps);
	r = api_req(&cust, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "GET %s: %ld %s", path, r->status, r->body);
	assert_net(r->json, r->body);
	api_resp_free(r);

	r = api_req(&cust, "GET", V1 "/vps?limit=1000", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(json_object_is_type(r->json, json_type_array), "%s", r->body);
	for (size_t i = 0; i < json_object_array_length(r->json); i++) {
		json_object *o = json_object_array_get_idx(r->json, i);

		assert_net(o, r->body);
		listed = listed || strcmp(jstr(o, "id"), vps) == 0;
	}
	cr_assert(listed, "VPS %s not in the list: %s", vps, r->body);
	api_resp_free(r);

	r = get_metrics();
	for (int i = 0; series[i]; i++) {
		snprintf(type, sizeof(type), "# TYPE %s counter\n", series[i]);
		cr_assert_not_null(strstr(r->body, type), "no \"%s\" in /metrics", type);
		snprintf(line, sizeof(line), "%s{domain=\"xvps-%s\",vps=\"%s\"} ", series[i], vps,
		         vps);
		cr_assert_geq(sample(r->body, line), 0, "no \"%s\" sample in /metrics:\n%s", line,
		              r->body);
	}
	cr_assert_not_null(strstr(r->body, "# TYPE xvps_meter_last_sweep_timestamp_seconds gauge"));
	cr_assert_geq(sample(r->body, "xvps_meter_last_sweep_timestamp_seconds "), 0, "%s",
	              r->body);
	api_resp_free(r);

	fx_vps_delete(&cust, vps);
	r = get_metrics();
	snprintf(line, sizeof(line), "{domain=\"xvps-%s\",vps=\"%s\"}", vps, vps);
	cr_assert_null(strstr(r->body, line), "a deleted VPS keeps its series:\n%s", r->body);
	api_resp_free(r);
}

/* Asks the agent for net.counters of name. Returns 1 when it answers, 0 with why set when the
 * check cannot run (no socket known, no such operation yet). */
static int agent_knows_net_counters(const char *name, char *why, size_t why_len)
{
	const char *state = getenv("XVPS_STATE"), *sock_env = getenv("XVPS_AGENT_SOCK");
	json_object *req, *resp = NULL, *ok, *err;
	char sock[600];
	int rc, known = 0;

	if (sock_env && *sock_env)
		snprintf(sock, sizeof(sock), "%s", sock_env);
	else if (state && *state)
		snprintf(sock, sizeof(sock), "%s/agent.sock", state);
	else {
		snprintf(why, why_len, "neither XVPS_AGENT_SOCK nor XVPS_STATE is set");
		return 0;
	}
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("net.counters"));
	json_object_object_add(req, "names", json_object_new_array());
	json_object_array_add(json_object_object_get(req, "names"), json_object_new_string(name));
	rc = agent_call(sock, req, 10000, &resp);
	json_object_put(req);
	if (rc != 0) {
		snprintf(why, why_len, "the agent at %s does not answer (%d)", sock, rc);
	} else if (json_object_object_get_ex(resp, "ok", &ok) && json_object_get_boolean(ok)) {
		known = 1;
	} else {
		json_object_object_get_ex(resp, "error", &err);
		snprintf(why, why_len, "the agent refuses net.counters: %s",
		         err ? json_object_get_string(err) : json_object_to_json_string(resp));
		cr_assert(err && strstr(json_object_get_string(err), "unknown operation"),
		          "net.counters refused for another reason: %s",
		          json_object_to_json_string(resp));
	}
	json_object_put(resp);
	return known;
}

Test(meter, the_panel_samples_every_live_vps)
{
	const char *iv = getenv("XVPS_METER_INTERVAL");
	int interval = iv && atoi(iv) > 0 ? atoi(iv) : 10;
	char vps[32], name[48], path[96], why[1024];
	const char *sampled = NULL;
	api_resp *r = NULL;
	long long swept;

	fx_vps(&cust, plan, tpl, NULL, vps);
	snprintf(name, sizeof(name), "xvps-%s", vps);
	if (!agent_knows_net_counters(name, why, sizeof(why))) {
		fx_vps_delete(&cust, vps);
		printf("meter: skipping the sampling check: %s\n", why);
		cr_skip_test("%s", why);
	}
	snprintf(path, sizeof(path), V1 "/vps/%s", vps);
	for (int i = 0; i < (2 * interval + 10) * 5; i++) {
		api_resp_free(r);
		r = api_req(&cust, "GET", path, NULL);
		cr_assert_eq(r->status, 200, "%s", r->body);
		sampled = jstr(assert_net(r->json, r->body), "sampled_at");
		if (sampled)
			break;
		usleep(200 * 1000);
	}
	cr_assert_not_null(sampled, "not sampled within %d s: %s", 2 * interval + 10, r->body);
	cr_assert(strlen(sampled) == 20 && sampled[10] == 'T' && sampled[19] == 'Z',
	          "sampled_at \"%s\" is not like created_at", sampled);
	api_resp_free(r);

	r = get_metrics();
	swept = sample(r->body, "xvps_meter_last_sweep_timestamp_seconds ");
	cr_assert_gt(swept, (long long)time(NULL) - 3 * interval - 30, "%s", r->body);
	api_resp_free(r);
	fx_vps_delete(&cust, vps);
}

/* Asserts the "cpu" member of a VPS object; returns its seconds (sampled_at in *sampled). */
static double assert_cpu(json_object *vps, const char *body, const char **sampled)
{
	json_object *cpu = jget(vps, "cpu"), *v;

	cr_assert(cpu && json_object_is_type(cpu, json_type_object), "no \"cpu\" object: %s", body);
	cr_assert(json_object_object_get_ex(cpu, "seconds", &v) &&
	                  (json_object_is_type(v, json_type_double) ||
	                   json_object_is_type(v, json_type_int)),
	          "cpu.seconds is not a number: %s", body);
	cr_assert_geq(json_object_get_double(v), 0.0, "cpu.seconds: %s", body);
	double secs = json_object_get_double(v);
	cr_assert(json_object_object_get_ex(cpu, "sampled_at", &v), "no cpu.sampled_at: %s", body);
	cr_assert(!v || json_object_is_type(v, json_type_string), "cpu.sampled_at: %s", body);
	*sampled = v ? json_object_get_string(v) : NULL;
	return secs;
}

/* The value of the sample line that starts with prefix, as a float; -1 when absent. */
static double sample_f(const char *text, const char *prefix)
{
	const char *p = strstr(text, prefix);

	while (p && p != text && p[-1] != '\n')
		p = strstr(p + 1, prefix);
	return p ? strtod(p + strlen(prefix), NULL) : -1;
}

Test(meter, a_running_vps_cpu_seconds_grow_between_sweeps)
{
	const char *iv = getenv("XVPS_METER_INTERVAL");
	int interval = iv && atoi(iv) > 0 ? atoi(iv) : 10;
	char vps[32], path[96], line[160], at1[32] = "";
	const char *sampled = NULL;
	double first = -1, now = -1, metric;
	api_resp *r = NULL;
	int i;

	fx_vps(&cust, plan, tpl, NULL, vps);
	snprintf(path, sizeof(path), V1 "/vps/%s", vps);
	/* Sampled once ... */
	for (i = 0; i < (2 * interval + 10) * 5; i++) {
		api_resp_free(r);
		r = api_req(&cust, "GET", path, NULL);
		cr_assert_eq(r->status, 200, "%s", r->body);
		first = assert_cpu(r->json, r->body, &sampled);
		if (sampled)
			break;
		usleep(200 * 1000);
	}
	cr_assert_not_null(sampled, "cpu not sampled within %d s: %s", 2 * interval + 10, r->body);
	cr_assert(strlen(sampled) == 20 && sampled[10] == 'T' && sampled[19] == 'Z',
	          "cpu.sampled_at \"%s\" is not like created_at", sampled);
	snprintf(at1, sizeof(at1), "%s", sampled);
	/* ... then the next sweep finds more CPU time used by the running guest. */
	for (i = 0; i < (2 * interval + 10) * 5; i++) {
		api_resp_free(r);
		r = api_req(&cust, "GET", path, NULL);
		cr_assert_eq(r->status, 200, "%s", r->body);
		now = assert_cpu(r->json, r->body, &sampled);
		if (now > first)
			break;
		usleep(200 * 1000);
	}
	cr_assert_gt(now, first, "cpu.seconds did not grow from %f within %d s: %s", first,
	             2 * interval + 10, r->body);
	cr_assert(sampled && strcmp(sampled, at1) >= 0, "cpu.sampled_at went back: %s", r->body);
	api_resp_free(r);

	r = get_metrics();
	cr_assert_not_null(strstr(r->body, "# TYPE xvps_vps_cpu_seconds_total counter\n"), "%s",
	                   r->body);
	snprintf(line, sizeof(line), "xvps_vps_cpu_seconds_total{domain=\"xvps-%s\",vps=\"%s\"} ",
	         vps, vps);
	metric = sample_f(r->body, line);
	cr_assert_geq(metric, now, "no or a lower \"%s\" sample (%f < %f):\n%s", line, metric, now,
	              r->body);
	api_resp_free(r);
	fx_vps_delete(&cust, vps);
	r = get_metrics();
	cr_assert_null(strstr(r->body, line), "a deleted VPS keeps its CPU series");
	api_resp_free(r);
}
