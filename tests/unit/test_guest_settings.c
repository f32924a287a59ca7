/* test_guest_settings.c — a VPS's guest settings in the panel (issue 16 item 2):
 * guest_password.c (generated passwords, the rules for a customer's, the crypt(3) hash checked
 * back with crypt_r) and guest_settings.c against a real SQLite store in a mkdtemp() directory:
 * a change writes the row and one vps.update job, sets guest_pending and bumps the password
 * serial; refusals (job running, suspended, deleting, hostname taken, unknown VPS) change
 * nothing; the spec carries hash, serial and the pools' resolvers and the agent's own
 * spec_parse accepts it. No agent: rows only. */
#include <criterion/criterion.h>
#include <crypt.h>
#include <string.h>

#include "../../common/guestval.h"
#include "../../panel/config.h"
#include "../../panel/guest_password.h"
#include "../../panel/guest_settings.h"
#include "../../panel/store.h"
#include "../../panel/vps_spec.h"
#include "../../provisioning/spec.h"
#include "panel_testdb.h"

__attribute__((weak)) xvps_app *g_app;

static char tmp[64];

static void setup(void)
{
	testdb_open(tmp, sizeof(tmp), "guestset");
	exec_sql("INSERT INTO users(id, username, password_hash, role, created_at) "
	         "VALUES(1, 'alice', 'x', 'customer', 0), (2, 'admin', 'x', 'admin', 0);"
	         "INSERT INTO plans(id, name, vcpus, memory_mib, disk_gib, created_at) VALUES"
	         "(1, 'small', 1, 512, 10, 0);"
	         "INSERT INTO templates(id, name, os, disk_gib, boot, created_at) "
	         "VALUES(1, 't', 'debian', 2, 'pvh', 0);"
	         "INSERT INTO vps(id, hostname, customer_id, plan_id, template_id, domain, "
	         "vifname, mac, state, created_at) VALUES"
	         "(1, 'a.example.com', 1, 1, 1, 'xvps-1', 'xvif1', '00:16:3e:00:00:01', 'running', "
	         "0),"
	         "(2, 'b.example.com', 1, 1, 1, 'xvps-2', 'xvif2', '00:16:3e:00:00:02', 'stopped', "
	         "0),"
	         "(3, 'c.example.com', 1, 1, 1, 'xvps-3', 'xvif3', '00:16:3e:00:00:03', "
	         "'deleting', 0);"
	         "INSERT INTO ip_pools(id, family, cidr, gateway, reserved, created_at, resolvers) "
	         "VALUES(1, 4, '192.0.2.0/24', '192.0.2.1', '[]', 0, "
	         "'[\"192.0.2.53\",\"192.0.2.54\"]'),"
	         "(2, 6, '2001:db8::/64', '2001:db8::1', '[]', 0, "
	         "'[\"2001:db8::53\",\"192.0.2.53\"]');"
	         "INSERT INTO ip_addresses(pool_id, address, vps_id) VALUES"
	         "(1, '192.0.2.10', 1), (2, '2001:db8::10', 1);");
}

static void teardown(void)
{
	testdb_close(tmp);
}

TestSuite(guest_settings, .init = setup, .fini = teardown);

Test(guest_password, generated_passwords)
{
	char a[GUEST_PW_GEN_LEN + 1], b[GUEST_PW_GEN_LEN + 1];
	const char *why = NULL;

	cr_assert_eq(guest_password_generate(a), 0);
	cr_assert_eq(guest_password_generate(b), 0);
	cr_assert_eq(strlen(a), GUEST_PW_GEN_LEN);
	cr_assert_str_neq(a, b, "two generated passwords are equal");
	cr_assert_eq(strspn(a, "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"),
	             GUEST_PW_GEN_LEN, "a look-alike or foreign character in %s", a);
	/* Almost surely three classes; the length alone makes it strong. */
	(void)why;
}

Test(guest_password, rules_for_a_customers_password)
{
	const char *why = NULL;

	cr_assert(guest_password_ok("Correct-Horse-42", &why), "%s", why);
	cr_assert(guest_password_ok("abcdef 123456", &why), "%s", why); /* lower, digit, space */
	cr_assert(!guest_password_ok("Short-1a", &why), "too short");
	cr_assert_not_null(why);
	cr_assert(!guest_password_ok("alllowercaseletters", &why), "one class");
	cr_assert(!guest_password_ok("lowercase12345", &why), "two classes");
	cr_assert(!guest_password_ok("aA1aA1aA1aA1aA1", &why), "3 distinct characters");
	cr_assert(!guest_password_ok("Tab\there-is-bad-1", &why), "control character");
	cr_assert(!guest_password_ok("Umlaut-\xc3\xa4-Passwort1", &why), "non-ASCII");
	char longpw[GUEST_PW_MAX + 2];
	memset(longpw, 'a', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	memcpy(longpw, "A1-", 3);
	cr_assert(!guest_password_ok(longpw, &why), "129 bytes");
}

Test(guest_password, hash_verifies_and_is_salted)
{
	char h1[GUEST_PW_HASH_MAX + 1], h2[GUEST_PW_HASH_MAX + 1];
	struct crypt_data cd;

	cr_assert_eq(guest_password_hash("Correct-Horse-42", h1, sizeof(h1)), 0);
	cr_assert_eq(guest_password_hash("Correct-Horse-42", h2, sizeof(h2)), 0);
	cr_assert(strncmp(h1, "$y$", 3) == 0 || strncmp(h1, "$6$", 3) == 0, "%s", h1);
	cr_assert(valid_crypt_hash(h1, NULL), "%s", h1);
	cr_assert_str_neq(h1, h2, "the same salt twice");
	memset(&cd, 0, sizeof(cd));
	cr_assert_str_eq(crypt_r("Correct-Horse-42", h1, &cd), h1, "crypt_r does not verify");
	memset(&cd, 0, sizeof(cd));
	const char *other = crypt_r("Correct-Horse-43", h1, &cd);
	cr_assert(!other || strcmp(other, h1) != 0, "another password verifies");
	cr_assert(!strstr(h1, "Correct"), "the plaintext in the hash");
	cr_assert_neq(guest_password_hash("x", h1, 10), 0, "a buffer too small");
}

static int apply(int64_t vps, const guest_change *c, int64_t *job, uint32_t *serial,
                 const char **field)
{
	char what[GUEST_PENDING_MAX];
	const char *detail = NULL;

	*field = NULL;
	return guest_settings_apply(vps, c, 2, job, serial, what, &detail, field);
}

Test(guest_settings, a_change_writes_the_row_and_one_job)
{
	guest_change c = {.hostname = "new.example.com",
	                  .ssh_keys_json = "[\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO6Hz7UWPTdw"
	                                   "TYvQZOwm7U4npq5QYEcEZy4OY/s+keSJ a\"]"};
	const char *field;
	uint32_t serial = 9;
	int64_t job = 0;

	cr_assert_eq(apply(1, &c, &job, &serial, &field), 0);
	cr_assert_gt(job, 0);
	cr_assert_eq(serial, 0);
	cr_assert_eq(query_int("SELECT count(*) FROM vps WHERE id=1 AND hostname='new.example.com' "
	                       "AND ssh_keys LIKE '[\"ssh-ed25519 %' AND "
	                       "guest_pending='hostname ssh_keys'"),
	             1);
	cr_assert_eq(query_int("SELECT count(*) FROM jobs WHERE vps_id=1 AND kind='vps.update' "
	                       "AND state='queued'"),
	             1);
	/* While that job is queued: 409, nothing changes. */
	guest_change pw = {.password_hash = "$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSI"};
	cr_assert_eq(apply(1, &pw, &job, &serial, &field), 409);
	cr_assert_eq(job, 0);
	cr_assert_eq(query_int("SELECT password_serial FROM vps WHERE id=1"), 0);
	exec_sql("UPDATE jobs SET state='done'");
	cr_assert_eq(apply(1, &pw, &job, &serial, &field), 0);
	cr_assert_eq(serial, 1);
	cr_assert_eq(query_int("SELECT count(*) FROM vps WHERE id=1 AND password_serial=1 AND "
	                       "guest_pending='hostname ssh_keys root_password'"),
	             1);
	exec_sql("UPDATE jobs SET state='done'");
	cr_assert_eq(apply(1, &pw, &job, &serial, &field), 0);
	cr_assert_eq(serial, 2, "every reset is a new serial");
	/* The same hostname and keys again: nothing to do, no job. */
	exec_sql("UPDATE jobs SET state='done'");
	int64_t jobs = query_int("SELECT count(*) FROM jobs");
	cr_assert_eq(apply(1, &c, &job, &serial, &field), 0);
	cr_assert_eq(job, 0);
	cr_assert_eq(query_int("SELECT count(*) FROM jobs"), jobs);
	guest_pending_clear(1);
	cr_assert_eq(query_int("SELECT guest_pending IS NULL FROM vps WHERE id=1"), 1);
}

Test(guest_settings, refusals_change_nothing)
{
	guest_change taken = {.hostname = "b.example.com"};
	const char *field;
	uint32_t serial;
	int64_t job = 0;

	cr_assert_eq(apply(1, &taken, &job, &serial, &field), 409);
	cr_assert_str_eq(field, "hostname");
	cr_assert_eq(apply(3, &(guest_change){.hostname = "x.example.com"}, &job, &serial, &field),
	             409, "being deleted");
	cr_assert_eq(apply(99, &(guest_change){.hostname = "x.example.com"}, &job, &serial, &field),
	             404);
	exec_sql("INSERT INTO vps_suspension(vps_id, suspended_by, reason, suspended_at, "
	         "power_before) VALUES(2, 'admin', 'abuse', 0, 'stopped')");
	cr_assert_eq(apply(2, &(guest_change){.hostname = "x.example.com"}, &job, &serial, &field),
	             409, "suspended");
	cr_assert_eq(query_int("SELECT count(*) FROM jobs"), 0);
	cr_assert_eq(query_int("SELECT count(*) FROM vps WHERE hostname='x.example.com'"), 0);
	cr_assert_eq(query_int("SELECT count(*) FROM vps WHERE guest_pending IS NOT NULL"), 0);
}

Test(guest_settings, the_spec_carries_hash_serial_resolvers_and_the_agent_takes_it)
{
	guest_change pw = {.password_hash =
	                           "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o7TNBOtylsCsg"};
	json_object *spec, *v;
	json_field_error fe = {0};
	const char *field;
	uint32_t serial;
	int64_t job;
	vps_spec parsed;

	spec = job_build_spec(1, "running");
	cr_assert_not_null(spec);
	cr_assert(!json_object_object_get_ex(spec, "root_password_hash", NULL), "no reset yet");
	json_object_put(spec);
	cr_assert_eq(apply(1, &pw, &job, &serial, &field), 0);
	spec = job_build_spec(1, "running");
	cr_assert_not_null(spec);
	cr_assert(json_object_object_get_ex(spec, "root_password_hash", &v));
	cr_assert_str_eq(json_object_get_string(v), pw.password_hash);
	cr_assert(json_object_object_get_ex(spec, "password_serial", &v));
	cr_assert_eq(json_object_get_int(v), 1);
	cr_assert(json_object_object_get_ex(spec, "resolvers", &v));
	/* IPv4 pool first, then the IPv6 pool's; the duplicate once; at most 3. */
	cr_assert_eq(json_object_array_length(v), 3);
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 0)), "192.0.2.53");
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 1)), "192.0.2.54");
	cr_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 2)), "2001:db8::53");
	cr_assert_eq(spec_parse(spec, &parsed, &fe), 0, "agent refused: %s %s",
	             fe.field ? fe.field : "", fe.detail ? fe.detail : "");
	cr_assert_eq(parsed.password_serial, 1);
	cr_assert_eq(parsed.n_resolvers, 3);
	spec_dispose(&parsed);
	json_object_put(spec);
}
