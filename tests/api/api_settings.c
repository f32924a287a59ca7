/* api_settings.c — guest settings (issue 16 item 2) against a running xvpsd ($XVPS_URL) and its
 * sim agent: PATCH /vps/{id} {"hostname","ssh_keys"}, POST /vps/{id}/actions/reset-password
 * (generated and customer-set) and PATCH /ip-pools/{id} {"resolvers"}. Each change answers 202
 * with a vps.update job and "applies": "next_boot", shows "guest_pending" until the next boot,
 * and reaches the VPS's seed ($XVPS_STATE/seed/xvps-N.img, read when the agent is local): the
 * new hostname and keys, the resolvers, and a crypt(3) hash that verifies the password the
 * answer showed once (crypt_r) while the plaintext is in neither the seed nor the database.
 * Bad input (not an FQDN, keys that do not parse, a weak password, bad resolvers), a suspended
 * VPS (409) and another customer's VPS (404) change nothing; every attempt is audited. Every
 * test deletes the VPS it makes. */
#include <criterion/criterion.h>
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

#define ED25519                                                                                    \
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO6Hz7UWPTdwTYvQZOwm7U4npq5QYEcEZy4OY/s+keSJ "        \
	"ed25519@test"
#define RSA2048                                                                                    \
	"ssh-rsa "                                                                                 \
	"AAAAB3NzaC1yc2EAAAADAQABAAABAQCRXEZUNy2Gm5p5LF7CYSToc5fV1SpSjBZukJ2nFNIDjz0Z2WP73pUvDvWZ" \
	"3fvVt7T+kQUwCNheXZvMZkphwY/5EDm0b+wDD7BW038Djc/2vwqLRaBC5Sripl/"                          \
	"WUcouHNq0kttY4bsevlXY2skIEpdYC2QXOfC8g2WmzIyTD1PuaU114uXO13vNPkcWtJaZkcAY7c+"             \
	"Pl5i1aONdIX3wJC6qWEbNkFnoTiAPr1wj3Oi8TPDwVqNNX868pZOcEXU1IzHBGVt9WoV+"                    \
	"WnwVRXSvwt3ELu2Cx87zE2IHjtAD1cHVDa+zBVoIlxjmD8VuERIzACWziyH3HBGTplux+Ea9uSft "            \
	"rsab2048@test"
#define RSA1024                                                                                    \
	"ssh-rsa "                                                                                 \
	"AAAAB3NzaC1yc2EAAAADAQABAAAAgQC6Z4w6+34ZpvVwgf6apgnKjpSLnsAlvHPlBAZcWjQDPBwggpt/"         \
	"gj5erVaIDVbNP3B5muD3PH/"                                                                  \
	"Ta+Joo53Dkq3Ng1MmPsvNB1PRAMwqZD+Nly6aCZGBzTJEEttwZEGf57j7+"                               \
	"vlVkg5jUYpRNa5UAoQUuaPNh6UeFSwAbUkoVhyknQ== rsab1024@test"

static api_client admin, cust, other;
static char plan[32], tpl[32], pool[32], cust_id[32], other_id[32];

static void setup(void)
{
	fx_admin(&admin);
	fx_pool4(&admin, pool);
	fx_plan(&admin, NULL, plan);
	fx_template(&admin, tpl);
	fx_customer(&admin, &cust, cust_id, NULL, NULL);
	fx_customer(&admin, &other, other_id, NULL, NULL);
}

TestSuite(settings, .init = setup, .fini = api_cleanup, .timeout = 180);

static api_resp *patch(const api_client *c, const char *vps, const char *body)
{
	char path[96];

	snprintf(path, sizeof(path), V1 "/vps/%s", vps);
	return api_req(c, "PATCH", path, "%s", body);
}

static api_resp *reset_pw(const api_client *c, const char *vps, const char *body)
{
	char path[128];

	snprintf(path, sizeof(path), V1 "/vps/%s/actions/reset-password", vps);
	return api_req(c, "POST", path, body ? "%s" : NULL, body);
}

/* A 202 with a vps.update job and "applies": "next_boot"; waits for the job. */
static void accepted(api_resp *r)
{
	char job[32];

	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	cr_assert_str_eq(jstr(jget(r->json, "job"), "kind"), "vps.update", "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "applies"), "next_boot", "%s", r->body);
	snprintf(job, sizeof(job), "%s", jstr(jget(r->json, "job"), "id"));
	cr_assert(wait_job(&admin, job, 60), "job %s did not finish", job);
}

/* True when "guest_pending" of the VPS holds word (NULL: is null). */
static bool pending_has(const char *vps, const char *word)
{
	api_resp *r = vps_get_ok(&admin, vps);
	json_object *p = jget(r->json, "guest_pending");
	bool has = false;

	if (!word)
		has = jis_null(r->json, "guest_pending");
	else
		for (size_t i = 0; p && i < json_object_array_length(p); i++)
			has |= strcmp(json_object_get_string(json_object_array_get_idx(p, i)),
			              word) == 0;
	api_resp_free(r);
	return has;
}

/* The whole file (NUL-terminated, *len bytes) or NULL when absent. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	cr_assert_not_null(buf);
	*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

/* The VPS's seed text when the agent's state dir is local ($XVPS_STATE/sim exists), else NULL. */
static char *seed_of(const char *vps)
{
	const char *state = getenv("XVPS_STATE");
	char path[512];
	size_t n;
	char *s;

	if (!state || !*state)
		return NULL;
	snprintf(path, sizeof(path), "%s/sim", state);
	FILE *probe = fopen(path, "r");
	if (!probe)
		return NULL;
	fclose(probe);
	snprintf(path, sizeof(path), "%s/seed/xvps-%s.img", state, vps);
	s = slurp(path, &n);
	cr_assert_not_null(s, "no seed at %s", path);
	return s;
}

/* The value of key's first line in a seed text into out; false when absent. */
static bool seed_value(const char *seed, const char *key, char *out, size_t len)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "\n%s=", key);
	p = strstr(seed, k);
	if (!p)
		return false;
	p += strlen(k);
	snprintf(out, len, "%.*s", (int)strcspn(p, "\n"), p);
	return true;
}

static bool file_has(const char *path, const char *needle)
{
	size_t n = 0;
	char *s = slurp(path, &n);
	bool has = s && memmem(s, n, needle, strlen(needle)) != NULL;

	free(s);
	return has;
}

Test(settings, hostname_and_keys_reach_the_seed_at_the_next_boot)
{
	char vps[32], host[64], body[4096], u[9], v[256];
	api_resp *r;
	char *seed;

	fx_vps(&cust, plan, tpl, NULL, vps);
	uniq(u);
	snprintf(host, sizeof(host), "set-%s.example.com", u);
	snprintf(body, sizeof(body), "{\"hostname\":\"%s\",\"ssh_keys\":[\"%s\",\"%s\"]}", host,
	         ED25519, RSA2048);
	r = patch(&cust, vps, body);
	accepted(r);
	cr_assert_str_eq(jstr(jget(r->json, "vps"), "hostname"), host, "%s", r->body);
	api_resp_free(r);
	cr_assert(pending_has(vps, "hostname") && pending_has(vps, "ssh_keys"));
	r = vps_get_ok(&admin, vps);
	cr_assert_eq(json_object_array_length(jget(r->json, "ssh_keys")), 2, "%s", r->body);
	api_resp_free(r);
	seed = seed_of(vps);
	if (seed) {
		cr_assert(seed_value(seed, "hostname", v, sizeof(v)) && !strcmp(v, host), "%s",
		          seed);
		cr_assert(strstr(seed, "\nssh_key=" ED25519 "\n"), "%s", seed);
		cr_assert(strstr(seed, "\nssh_key=" RSA2048 "\n"), "%s", seed);
		free(seed);
	}
	/* The same again: nothing to do, 200 and no job. */
	r = patch(&cust, vps, body);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_assert(jis_null(r->json, "job"), "%s", r->body);
	api_resp_free(r);
	/* Keys replaced by one: the other is gone. */
	r = patch(&cust, vps, "{\"ssh_keys\":[\"" ED25519 "\"]}");
	accepted(r);
	api_resp_free(r);
	seed = seed_of(vps);
	if (seed) {
		cr_assert(!strstr(seed, RSA2048), "a replaced key stayed in the seed");
		free(seed);
	}
	vps_action_done(&admin, vps, "reboot", NULL);
	cr_assert(pending_has(vps, NULL), "the reboot applied the settings");
	cr_assert_eq(vps_audit_count(&admin, "vps.settings", vps, host), 1);
	cr_assert_eq(vps_audit_count(&admin, "vps.settings", vps, NULL), 2);
	fx_vps_delete(&cust, vps);
}

Test(settings, bad_hostnames_and_keys_change_nothing)
{
	const char *bad[] = {
	        "{\"hostname\":\"vps1\"}",                    /* not fully qualified */
	        "{\"hostname\":\"Vps1.example.com\"}",        /* upper case */
	        "{\"hostname\":\"vps1.example.com;reboot\"}", /* not a name */
	        "{\"hostname\":\"vps1.example.123\"}",        /* numeric TLD */
	        "{\"hostname\":7}",
	        "{\"ssh_keys\":[\"" RSA1024 "\"]}",
	        "{\"ssh_keys\":[\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3dGVzdGtleXRlc3Rr x\"]}",
	        "{\"ssh_keys\":[\"ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIO6Hz7UWPTdwTYvQZOwm7U4npq5QYEcE"
	        "Zy4OY/s+keSJ\"]}",
	        "{\"ssh_keys\":[\"ssh-dss AAAAB3NzaC1kc3MAAACBAP1\"]}",
	        "{\"ssh_keys\":[\"" ED25519 "\",\"" ED25519 "\"]}",
	        "{\"ssh_keys\":\"" ED25519 "\"}",
	        "{}",
	        "{\"hostname\":\"a.example.com\",\"mtu\":9000}",
	};
	const char *field[] = {"hostname", "hostname", "hostname", "hostname", "hostname",
	                       "ssh_keys", "ssh_keys", "ssh_keys", "ssh_keys", "ssh_keys",
	                       "ssh_keys", "hostname", NULL};
	char vps[32], before[256];
	api_resp *r;

	fx_vps(&cust, plan, tpl, NULL, vps);
	r = vps_get_ok(&admin, vps);
	snprintf(before, sizeof(before), "%s", jstr(r->json, "hostname"));
	api_resp_free(r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = patch(&cust, vps, bad[i]);
		cr_assert_eq(r->status, 422, "%s: %ld %s", bad[i], r->status, r->body);
		if (field[i])
			assert_problem(r, 422, field[i]);
		api_resp_free(r);
	}
	/* another VPS's hostname: 409 */
	{
		char vps2[32], body[300];

		fx_vps(&cust, plan, tpl, NULL, vps2);
		r = vps_get_ok(&admin, vps2);
		snprintf(body, sizeof(body), "{\"hostname\":\"%s\"}", jstr(r->json, "hostname"));
		api_resp_free(r);
		r = patch(&cust, vps, body);
		assert_problem(r, 409, "hostname");
		api_resp_free(r);
		fx_vps_delete(&cust, vps2);
	}
	/* another customer's VPS: 404 */
	r = patch(&other, vps, "{\"hostname\":\"x1.example.com\"}");
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	/* suspended: 409 */
	vps_action_done(&admin, vps, "suspend", "{\"reason\":\"unpaid\"}");
	r = patch(&cust, vps, "{\"hostname\":\"x2.example.com\"}");
	assert_problem(r, 409, NULL);
	cr_assert(strstr(jstr(r->json, "detail"), "suspended"), "%s", r->body);
	api_resp_free(r);
	r = reset_pw(&cust, vps, NULL);
	assert_problem(r, 409, NULL);
	api_resp_free(r);
	vps_action_done(&admin, vps, "unsuspend", NULL);

	r = vps_get_ok(&admin, vps);
	cr_assert_str_eq(jstr(r->json, "hostname"), before);
	cr_assert(jis_null(r->json, "guest_pending"), "%s", r->body);
	cr_assert_eq(jint(r->json, "password_serial"), 0);
	api_resp_free(r);
	cr_assert_eq(vps_audit_count(&admin, "vps.settings", vps, NULL), 0);
	cr_assert_geq(vps_audit_count(&admin, "vps.settings.refused", vps, NULL), 16);
	cr_assert_eq(vps_audit_count(&admin, "vps.password.reset.refused", vps, "suspended"), 1);
	fx_vps_delete(&cust, vps);
}

/* Asserts that hash (from the seed) verifies pw. */
static void hash_verifies(const char *hash, const char *pw)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *h;

	cr_assert_not_null(cd);
	cr_assert(!strncmp(hash, "$y$", 3) || !strncmp(hash, "$6$", 3), "%s", hash);
	h = crypt_r(pw, hash, cd);
	cr_assert(h && !strcmp(h, hash), "the seed's hash does not verify the password");
	free(cd);
}

Test(settings, root_password_reset_generated_and_chosen)
{
	char vps[32], pw[64], hash[200], serial[16], path[512];
	const char *state = getenv("XVPS_STATE");
	api_resp *r;
	char *seed;

	fx_vps(&cust, plan, tpl, NULL, vps);
	r = reset_pw(&cust, vps, NULL);
	accepted(r);
	cr_assert_eq(jint(r->json, "password_serial"), 1, "%s", r->body);
	snprintf(pw, sizeof(pw), "%s", jstr(r->json, "password"));
	cr_assert_eq(strlen(pw), 20, "%s", r->body);
	api_resp_free(r);
	cr_assert(pending_has(vps, "root_password"));
	seed = seed_of(vps);
	if (seed) {
		cr_assert(!strncmp(seed, "XVPS-SEED 2\n", 12), "%s", seed);
		cr_assert(seed_value(seed, "root_password_hash", hash, sizeof(hash)), "%s", seed);
		cr_assert(seed_value(seed, "password_serial", serial, sizeof(serial)) &&
		                  !strcmp(serial, "1"),
		          "%s", seed);
		hash_verifies(hash, pw);
		cr_assert(!strstr(seed, pw), "the plaintext is in the seed");
		free(seed);
		snprintf(path, sizeof(path), "%s/xvps.db", state);
		cr_assert(!file_has(path, pw), "the plaintext is in the database");
		snprintf(path, sizeof(path), "%s/xvps.db-wal", state);
		cr_assert(!file_has(path, pw), "the plaintext is in the database's WAL");
	}
	/* The VPS JSON shows the serial, never a password or hash. */
	r = vps_get_ok(&admin, vps);
	cr_assert_eq(jint(r->json, "password_serial"), 1);
	cr_assert(!strstr(r->body, pw) && !strstr(r->body, "$y$") && !strstr(r->body, "$6$"), "%s",
	          r->body);
	api_resp_free(r);

	/* Chosen by the customer: weak ones refused, a good one accepted and not echoed. */
	const char *weak[] = {"{\"password\":\"short1A\"}",
	                      "{\"password\":\"alllowercaseletters\"}",
	                      "{\"password\":\"aA1aA1aA1aA1aA1\"}", "{\"password\":12345678901234}",
	                      "{\"pass\":\"Correct-Horse-42\"}"};
	for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
		r = reset_pw(&cust, vps, weak[i]);
		cr_assert_eq(r->status, 422, "%s: %ld %s", weak[i], r->status, r->body);
		api_resp_free(r);
	}
	r = reset_pw(&cust, vps, "{\"password\":\"Correct-Horse-42\"}");
	accepted(r);
	cr_assert(jis_null(r->json, "password"), "a chosen password is echoed: %s", r->body);
	cr_assert_eq(jint(r->json, "password_serial"), 2, "%s", r->body);
	api_resp_free(r);
	seed = seed_of(vps);
	if (seed) {
		cr_assert(seed_value(seed, "root_password_hash", hash, sizeof(hash)));
		hash_verifies(hash, "Correct-Horse-42");
		cr_assert(seed_value(seed, "password_serial", serial, sizeof(serial)) &&
		          !strcmp(serial, "2"));
		free(seed);
	}
	r = reset_pw(&other, vps, NULL);
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	cr_assert_eq(vps_audit_count(&admin, "vps.password.reset", vps, "generated"), 1);
	cr_assert_eq(vps_audit_count(&admin, "vps.password.reset", vps, "set by the caller"), 1);
	cr_assert_geq(vps_audit_count(&admin, "vps.password.reset.refused", vps, NULL), 6);
	cr_assert_eq(vps_audit_count(&admin, "vps.password.reset", vps, pw), 0,
	             "the password in the audit");
	cr_assert_eq(vps_audit_count(&admin, "vps.password.reset.refused", vps, "Correct"), 0);
	vps_action_done(&admin, vps, "reboot", NULL);
	cr_assert(pending_has(vps, NULL));
	fx_vps_delete(&cust, vps);
}

Test(settings, pool_resolvers_reach_the_seed)
{
	char path[96], vps[32], v[64];
	api_resp *r;
	char *seed;

	snprintf(path, sizeof(path), V1 "/ip-pools/%s", pool);
	const char *bad[] = {"{\"resolvers\":[\"192.0.2.1\",\"192.0.2.2\",\"192.0.2.3\","
	                     "\"192.0.2.4\"]}",
	                     "{\"resolvers\":[\"192.0.2.1 options rotate\"]}",
	                     "{\"resolvers\":[\"dns.example.com\"]}",
	                     "{\"resolvers\":[\"192.0.2.1\",\"192.0.2.1\"]}",
	                     "{\"resolvers\":\"192.0.2.1\"}",
	                     "{\"gateway\":\"198.51.100.3\"}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = api_req(&admin, "PATCH", path, "%s", bad[i]);
		cr_assert_eq(r->status, 422, "%s: %ld %s", bad[i], r->status, r->body);
		api_resp_free(r);
	}
	r = api_req(&cust, "PATCH", path, "{\"resolvers\":[\"192.0.2.53\"]}");
	cr_assert_eq(r->status, 403, "a customer set resolvers: %ld", r->status);
	api_resp_free(r);
	r = api_req(&admin, "PATCH", path, "{\"resolvers\":[\"192.0.2.53\",\"2001:DB8:0::53\"]}");
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	json_object *res = jget(r->json, "resolvers");
	cr_assert_eq(json_object_array_length(res), 2, "%s", r->body);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(res, 1)), "2001:db8::53");
	api_resp_free(r);

	fx_vps(&cust, plan, tpl, NULL, vps); /* its create job writes the seed */
	seed = seed_of(vps);
	if (seed) {
		cr_assert(seed_value(seed, "resolver", v, sizeof(v)) && !strcmp(v, "192.0.2.53"),
		          "%s", seed);
		cr_assert(strstr(seed, "\nresolver=2001:db8::53\n"), "%s", seed);
		free(seed);
	}
	r = api_req(&admin, "PATCH", path, "{\"resolvers\":[]}");
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_assert_eq(json_object_array_length(jget(r->json, "resolvers")), 0);
	api_resp_free(r);
	r = api_req(&admin, "PATCH", V1 "/ip-pools/999999999", "{\"resolvers\":[]}");
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	fx_vps_delete(&cust, vps);
}
