/* test_seed_nocloud.c — the cloud-init NoCloud seed (provisioning/seed_nocloud.c): the three
 * documents equal the golden files under tests/golden/nocloud/ byte for byte, parse back with a
 * strict YAML reader (libyaml: one document, no anchors, aliases or tags, no duplicate keys)
 * into exactly the spec's values, the instance-id follows the content, hostile characters stay
 * inside their scalars, and the cidata disk built through the real runner with mtools holds the
 * files (read back with `mtype`, its label with `mlabel -s`); an unchanged seed is left alone,
 * a changed one is renamed over it, nothing temporary stays behind. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "../../common/runner.h"
#include "../../common/util.h"
#include "../../provisioning/seed_nocloud.h"
#include "agent_fixture.h"
#include "sim_fixture.h"

static char tmp[64];

static void mk_tmp(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/xvps-nocloud-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

static void rm_tmp(void)
{
	simfx_rmtree(tmp);
}

TestSuite(nocloud, .init = mk_tmp, .fini = rm_tmp, .timeout = 60);

#define KEY1                                                                                       \
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGVzdGs alice@laptop"
#define HASH1                                                                                      \
	"$6$abcdefgh$"                                                                             \
	"cZzxIUonXD0dUgU4ec5guMcfBig8c0EwiNdEDLWokZpYKRMdFUEBPUuB67QPsPSg7nf9TiP7W7xC4wGBpmDqi1"
#define KEY2 "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7testtesttesttest"

static const char full_json[] =
        "{\"name\":\"xvps-12\",\"hostname\":\"web1.example.com\",\"type\":\"hvm\","
        "\"vcpus\":1,\"memory_mib\":512,\"disk_gib\":2,\"template\":\"tpl-1\","
        "\"mac\":\"00:16:3e:00:00:0c\",\"vifname\":\"xvif12\","
        "\"ipv4\":[\"192.0.2.10\",\"192.0.2.11\"],\"ipv6\":[\"2001:DB8:0:0::10\"],"
        "\"ipv6_routed\":[\"2001:db8:1:2::/64\"],\"gateway4\":\"192.0.2.1\","
        "\"gateway6\":\"fe80::1\",\"power\":\"stopped\",\"seed\":\"nocloud\","
        "\"ssh_keys\":[\"" KEY1 "\",\"" KEY2 "\"],"
        "\"resolvers\":[\"192.0.2.53\",\"2001:DB8::53\"],"
        "\"root_password_hash\":\"" HASH1 "\",\"password_serial\":3}";

/* ---- a strict YAML reader: the document as json-c (every scalar a string) ------------------ */

typedef struct yreader {
	yaml_parser_t p;
	const char *why;
} yreader;

static json_object *ynode(yreader *r, yaml_event_t *ev);

/* The next node; NULL with r->why on anything this seed never writes. */
static json_object *ynext(yreader *r)
{
	yaml_event_t ev;
	json_object *o;

	if (!yaml_parser_parse(&r->p, &ev)) {
		r->why = r->p.problem ? r->p.problem : "parse error";
		return NULL;
	}
	o = ynode(r, &ev);
	yaml_event_delete(&ev);
	return o;
}

static json_object *ynode(yreader *r, yaml_event_t *ev)
{
	json_object *o = NULL;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor ||
		    (ev->data.scalar.tag && !ev->data.scalar.plain_implicit &&
		     !ev->data.scalar.quoted_implicit)) {
			r->why = "anchor or tag on a scalar";
			return NULL;
		}
		return json_object_new_string_len((const char *)ev->data.scalar.value,
		                                  (int)ev->data.scalar.length);
	case YAML_SEQUENCE_START_EVENT:
		if (ev->data.sequence_start.anchor) {
			r->why = "anchor on a sequence";
			return NULL;
		}
		o = json_object_new_array();
		for (;;) {
			yaml_event_t e;
			json_object *c;

			if (!yaml_parser_parse(&r->p, &e)) {
				r->why = "parse error in a sequence";
				json_object_put(o);
				return NULL;
			}
			if (e.type == YAML_SEQUENCE_END_EVENT) {
				yaml_event_delete(&e);
				return o;
			}
			c = ynode(r, &e);
			yaml_event_delete(&e);
			if (!c) {
				json_object_put(o);
				return NULL;
			}
			json_object_array_add(o, c);
		}
	case YAML_MAPPING_START_EVENT:
		if (ev->data.mapping_start.anchor) {
			r->why = "anchor on a mapping";
			return NULL;
		}
		o = json_object_new_object();
		for (;;) {
			yaml_event_t e;
			char *key;
			json_object *v;

			if (!yaml_parser_parse(&r->p, &e)) {
				r->why = "parse error in a mapping";
				json_object_put(o);
				return NULL;
			}
			if (e.type == YAML_MAPPING_END_EVENT) {
				yaml_event_delete(&e);
				return o;
			}
			if (e.type != YAML_SCALAR_EVENT) {
				yaml_event_delete(&e);
				r->why = "a key that is not a scalar";
				json_object_put(o);
				return NULL;
			}
			key = strndup((const char *)e.data.scalar.value, e.data.scalar.length);
			yaml_event_delete(&e);
			if (json_object_object_get_ex(o, key, NULL)) {
				free(key);
				r->why = "a duplicate key";
				json_object_put(o);
				return NULL;
			}
			v = ynext(r);
			if (!v) {
				free(key);
				json_object_put(o);
				return NULL;
			}
			json_object_object_add(o, key, v);
			free(key);
		}
	case YAML_ALIAS_EVENT:
		r->why = "an alias";
		return NULL;
	default:
		r->why = "an unexpected event";
		return NULL;
	}
}

/* Parses text as exactly one YAML document; NULL (and why) when it is not that strictly. */
static json_object *yaml_strict(const char *text, const char **why)
{
	yreader r = {.why = NULL};
	yaml_event_t ev;
	json_object *doc = NULL;
	int stage = 0; /* 0 stream start, 1 document start, 2 root, 3 document end, 4 stream end */

	cr_assert(yaml_parser_initialize(&r.p));
	yaml_parser_set_input_string(&r.p, (const unsigned char *)text, strlen(text));
	while (!r.why && stage < 5) {
		if (stage == 2) {
			doc = ynext(&r);
			stage = 3;
			continue;
		}
		if (!yaml_parser_parse(&r.p, &ev)) {
			r.why = r.p.problem ? r.p.problem : "parse error";
			break;
		}
		if ((stage == 0 && ev.type != YAML_STREAM_START_EVENT) ||
		    (stage == 1 && ev.type != YAML_DOCUMENT_START_EVENT) ||
		    (stage == 3 && ev.type != YAML_DOCUMENT_END_EVENT) ||
		    (stage == 4 && ev.type != YAML_STREAM_END_EVENT))
			r.why = "not exactly one document";
		if (stage == 1 && ev.type == YAML_DOCUMENT_START_EVENT &&
		    (ev.data.document_start.version_directive ||
		     ev.data.document_start.tag_directives.start))
			r.why = "a directive";
		yaml_event_delete(&ev);
		stage++;
	}
	yaml_parser_delete(&r.p);
	if (r.why) {
		json_object_put(doc);
		*why = r.why;
		return NULL;
	}
	return doc;
}

/* The string at a path of keys and indexes ("ethernets", "eth0", "addresses", "0"). */
static const char *at(json_object *o, const char *const path[])
{
	for (size_t i = 0; path[i] && o; i++) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t)atoi(path[i]));
		else if (!json_object_object_get_ex(o, path[i], &o))
			o = NULL;
	}
	return o && json_object_is_type(o, json_type_string) ? json_object_get_string(o) : NULL;
}

#define AT(o, ...) at((o), (const char *const[]){__VA_ARGS__, NULL})

static size_t len_at(json_object *o, const char *const path[])
{
	for (size_t i = 0; path[i] && o; i++) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, (size_t)atoi(path[i]));
		else if (!json_object_object_get_ex(o, path[i], &o))
			o = NULL;
	}
	return o && json_object_is_type(o, json_type_array) ? json_object_array_length(o) : 99;
}

#define LEN(o, ...) len_at((o), (const char *const[]){__VA_ARGS__, NULL})

static json_object *strict(const char *text)
{
	const char *why = NULL;
	json_object *o = yaml_strict(text, &why);

	cr_assert_not_null(o, "not one strict YAML document (%s):\n%s", why, text);
	return o;
}

static void assert_golden(const char *have, const char *golden_path)
{
	char *want = NULL;
	size_t len = 0;

	cr_assert_eq(read_file(golden_path, 1 << 20, &want, &len), 0,
	             "cannot read %s (run from the repository root)", golden_path);
	cr_assert_str_eq(have, want, "%s differs:\n%s", golden_path, have);
	free(want);
}

/* ---- the documents -------------------------------------------------------------------------- */

Test(nocloud, documents_match_golden_files)
{
	vps_spec spec;
	nocloud_seed s;
	char err[SEED_ERRLEN] = "";

	agfx_spec(&spec, full_json);
	cr_assert(spec.seed_nocloud);
	cr_assert_eq(nocloud_render(&spec, &s, err), 0, "%s", err);
	assert_golden(s.meta_data, "tests/golden/nocloud/meta-data");
	assert_golden(s.user_data, "tests/golden/nocloud/user-data");
	assert_golden(s.network_config, "tests/golden/nocloud/network-config");
	nocloud_dispose(&s);
	spec_dispose(&spec);
}

Test(nocloud, documents_parse_back_to_the_spec)
{
	vps_spec spec;
	nocloud_seed s;
	char err[SEED_ERRLEN] = "";
	json_object *md, *ud, *nc;

	agfx_spec(&spec, full_json);
	cr_assert_eq(nocloud_render(&spec, &s, err), 0, "%s", err);
	md = strict(s.meta_data);
	ud = strict(s.user_data);
	nc = strict(s.network_config);

	cr_assert_str_eq(AT(md, "instance-id"), s.instance_id);
	cr_assert_eq(strncmp(s.instance_id, "xvps-12-", 8), 0);
	cr_assert_eq(strlen(s.instance_id), 8 + 16);
	cr_assert_str_eq(AT(md, "local-hostname"), "web1.example.com");

	cr_assert_eq(strncmp(s.user_data, "#cloud-config\n", 14), 0, "cloud-init's marker");
	cr_assert_str_eq(AT(ud, "hostname"), "web1");
	cr_assert_str_eq(AT(ud, "fqdn"), "web1.example.com");
	cr_assert_str_eq(AT(ud, "disable_root"), "false", "root gets the keys");
	cr_assert_str_eq(AT(ud, "users", "0"), "default");
	cr_assert_eq(LEN(ud, "ssh_authorized_keys"), 2);
	cr_assert_str_eq(AT(ud, "ssh_authorized_keys", "0"), KEY1);
	cr_assert_str_eq(AT(ud, "ssh_authorized_keys", "1"), KEY2);

	cr_assert_str_eq(AT(nc, "version"), "2");
	cr_assert_str_eq(AT(nc, "ethernets", "eth0", "match", "macaddress"), "00:16:3e:00:00:0c");
	cr_assert_str_eq(AT(nc, "ethernets", "eth0", "set-name"), "eth0");
	cr_assert_str_eq(AT(nc, "ethernets", "eth0", "dhcp4"), "false");
	cr_assert_eq(LEN(nc, "ethernets", "eth0", "addresses"), 4);
	cr_assert_str_eq(AT(nc, "ethernets", "eth0", "addresses", "0"), "192.0.2.10/32");
	cr_assert_str_eq(AT(nc, "ethernets", "eth0", "addresses", "1"), "192.0.2.11/32");
	cr_assert_str_eq(AT(nc, "ethernets", "eth0", "addresses", "2"), "2001:db8::10/128");
	cr_assert_str_eq(AT(nc, "ethernets", "eth0", "addresses", "3"), "2001:db8:1:2::1/128",
	                 "the routed /64's first address");
	cr_assert_eq(LEN(nc, "ethernets", "eth0", "routes"), 2);
	cr_assert_str_eq(AT(nc, "ethernets", "eth0", "routes", "0", "to"), "0.0.0.0/0");
	cr_assert_str_eq(AT(nc, "ethernets", "eth0", "routes", "0", "via"), "192.0.2.1");
	cr_assert_str_eq(AT(nc, "ethernets", "eth0", "routes", "0", "on-link"), "true");
	cr_assert_str_eq(AT(nc, "ethernets", "eth0", "routes", "1", "to"), "::/0");
	cr_assert_str_eq(AT(nc, "ethernets", "eth0", "routes", "1", "via"), "fe80::1");
	/* issue 16 item 2: the pool's resolvers, and the password reset once per serial */
	cr_assert_eq(LEN(nc, "ethernets", "eth0", "nameservers", "addresses"), 2);
	cr_assert_str_eq(AT(nc, "ethernets", "eth0", "nameservers", "addresses", "0"),
	                 "192.0.2.53");
	cr_assert_str_eq(AT(nc, "ethernets", "eth0", "nameservers", "addresses", "1"),
	                 "2001:db8::53");
	cr_assert_str_eq(AT(ud, "ssh_deletekeys"), "false", "host keys kept across instance-ids");
	cr_assert_eq(LEN(ud, "runcmd"), 1);
	cr_assert_eq(LEN(ud, "runcmd", "0"), 6);
	cr_assert_str_eq(AT(ud, "runcmd", "0", "0"), "sh");
	cr_assert_str_eq(AT(ud, "runcmd", "0", "1"), "-c");
	cr_assert_not_null(strstr(AT(ud, "runcmd", "0", "2"), "chpasswd -e"));
	cr_assert_null(strstr(AT(ud, "runcmd", "0", "2"), "$6$"), "the hash is not in the script");
	cr_assert_str_eq(AT(ud, "runcmd", "0", "4"), "3", "the serial");
	cr_assert_str_eq(AT(ud, "runcmd", "0", "5"), HASH1);
	json_object_put(md);
	json_object_put(ud);
	json_object_put(nc);
	nocloud_dispose(&s);
	spec_dispose(&spec);
}

Test(nocloud, minimal_spec_and_no_keys)
{
	vps_spec spec;
	nocloud_seed s;
	char err[SEED_ERRLEN] = "";
	json_object *ud, *nc;

	agfx_spec(&spec, "{\"name\":\"xvps-3\",\"hostname\":\"a\",\"type\":\"pv\",\"vcpus\":1,"
	                 "\"memory_mib\":128,\"disk_gib\":1,\"template\":\"tpl-1\","
	                 "\"mac\":\"00:16:3e:00:00:03\",\"vifname\":\"xvif3\","
	                 "\"power\":\"stopped\",\"seed\":\"nocloud\"}");
	cr_assert_eq(nocloud_render(&spec, &s, err), 0, "%s", err);
	ud = strict(s.user_data);
	nc = strict(s.network_config);
	cr_assert_str_eq(AT(ud, "hostname"), "a");
	cr_assert_str_eq(AT(ud, "fqdn"), "a");
	cr_assert_eq(LEN(ud, "ssh_authorized_keys"), 0);
	cr_assert_eq(LEN(nc, "ethernets", "eth0", "addresses"), 99, "no addresses key at all");
	cr_assert_eq(LEN(nc, "ethernets", "eth0", "routes"), 99, "no routes without gateways");
	json_object_put(ud);
	json_object_put(nc);
	nocloud_dispose(&s);
	spec_dispose(&spec);
}

Test(nocloud, instance_id_follows_the_content)
{
	vps_spec spec;
	nocloud_seed a, b, c, d;
	char err[SEED_ERRLEN] = "";

	agfx_spec(&spec, full_json);
	cr_assert_eq(nocloud_render(&spec, &a, err), 0, "%s", err);
	cr_assert_eq(nocloud_render(&spec, &b, err), 0, "%s", err);
	cr_assert_str_eq(a.instance_id, b.instance_id, "the same spec, the same instance");
	free(spec.hostname);
	spec.hostname = strdup("web2.example.com");
	cr_assert_eq(nocloud_render(&spec, &c, err), 0, "%s", err);
	cr_assert_str_neq(a.instance_id, c.instance_id, "a new hostname is a new instance");
	spec.n_ssh_keys = 1;
	cr_assert_eq(nocloud_render(&spec, &d, err), 0, "%s", err);
	cr_assert_str_neq(c.instance_id, d.instance_id, "new keys are a new instance");
	spec.n_ssh_keys = 2;
	nocloud_dispose(&a);
	nocloud_dispose(&b);
	nocloud_dispose(&c);
	nocloud_dispose(&d);
	spec_dispose(&spec);
}

Test(nocloud, quotes_and_backslashes_stay_inside_the_key)
{
	vps_spec spec;
	nocloud_seed s;
	char err[SEED_ERRLEN] = "";
	static const char key[] = "ssh-ed25519 "
	                          "AAAAC3NzaC1lZDI1NTE5AAAAIGJ3dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGVzdGs"
	                          " a\"b\\c: #d\" - e";
	json_object *ud;

	agfx_spec(&spec, full_json);
	free(spec.ssh_keys[0]);
	spec.ssh_keys[0] = strdup(key);
	cr_assert_eq(nocloud_render(&spec, &s, err), 0, "%s", err);
	ud = strict(s.user_data);
	cr_assert_eq(LEN(ud, "ssh_authorized_keys"), 2);
	cr_assert_str_eq(AT(ud, "ssh_authorized_keys", "0"), key);
	json_object_put(ud);
	nocloud_dispose(&s);

	/* A newline never reaches a document. */
	free(spec.ssh_keys[0]);
	spec.ssh_keys[0] = strdup(KEY1 "\nhostname: evil");
	cr_assert_eq(nocloud_render(&spec, &s, err), -EINVAL);
	cr_assert(strstr(err, "ssh_keys") != NULL, "%s", err);
	cr_assert_null(s.user_data);
	spec_dispose(&spec);
}

Test(nocloud, refuses_bad_values)
{
	vps_spec spec;
	nocloud_seed s;
	char err[SEED_ERRLEN] = "";

	agfx_spec(&spec, full_json);
	free(spec.gateway4);
	spec.gateway4 = strdup("192.0.2.1\"\n");
	cr_assert_eq(nocloud_render(&spec, &s, err), -EINVAL);
	cr_assert(strstr(err, "gateway4") != NULL, "%s", err);
	free(spec.gateway4);
	spec.gateway4 = NULL;
	free(spec.hostname);
	spec.hostname = strdup("Bad_Host");
	cr_assert_eq(nocloud_render(&spec, &s, err), -EINVAL);
	cr_assert(strstr(err, "hostname") != NULL, "%s", err);
	spec_dispose(&spec);
}

Test(nocloud, spec_seed_kind_is_checked)
{
	vps_spec spec;
	json_field_error fe = {0};
	json_object *o = json_tokener_parse(
	        "{\"name\":\"xvps-3\",\"hostname\":\"a\",\"type\":\"pv\",\"vcpus\":1,"
	        "\"memory_mib\":128,\"disk_gib\":1,\"template\":\"tpl-1\","
	        "\"mac\":\"00:16:3e:00:00:03\",\"vifname\":\"xvif3\","
	        "\"power\":\"stopped\",\"seed\":\"iso\"}");

	cr_assert_eq(spec_parse(o, &spec, &fe), -EINVAL);
	cr_assert_str_eq(fe.field, "seed");
	json_object_put(o);
	agfx_spec(&spec, "{\"name\":\"xvps-3\",\"hostname\":\"a\",\"type\":\"pv\",\"vcpus\":1,"
	                 "\"memory_mib\":128,\"disk_gib\":1,\"template\":\"tpl-1\","
	                 "\"mac\":\"00:16:3e:00:00:03\",\"vifname\":\"xvif3\","
	                 "\"power\":\"stopped\"}");
	cr_assert_not(spec.seed_nocloud, "xvps is the default");
	spec_dispose(&spec);
}

/* ---- the disk ------------------------------------------------------------------------------- */

/* Runs argv with the real runner; its stdout (heap) or fails the test. */
static char *run_out(const char *const argv[])
{
	runner r = runner_real();
	runner_result res;
	char *out;
	int rc;

	runner_result_init(&res);
	rc = runner_run(&r, argv, NULL, 0, 30000, &res);
	cr_assert(runner_ok(rc, &res), "%s failed: rc %d, %s", argv[0], rc, res.err ? res.err : "");
	out = strdup(res.out);
	runner_result_dispose(&res);
	return out;
}

Test(nocloud, cidata_disk_holds_the_documents)
{
	vps_spec spec;
	nocloud_seed s;
	runner r = runner_real();
	char err[SEED_ERRLEN] = "", path[512], dir[512];
	struct stat a, b, c;
	char *out;

	agfx_spec(&spec, full_json);
	cr_assert_eq(nocloud_render(&spec, &s, err), 0, "%s", err);
	cr_assert_eq(seed_write_kind(&r, tmp, &spec, err), 0, "%s", err);
	snprintf(path, sizeof(path), "%s/seed/xvps-12.img", tmp);
	cr_assert_eq(stat(path, &a), 0);
	cr_assert_eq(a.st_mode & 07777, 0600);

	out = run_out((const char *const[]){"mlabel", "-i", path, "-s", "::", NULL});
	cr_assert(strcasestr(out, "cidata") != NULL, "label: %s", out);
	free(out);
	out = run_out((const char *const[]){"mtype", "-i", path, "::meta-data", NULL});
	cr_assert_str_eq(out, s.meta_data);
	free(out);
	out = run_out((const char *const[]){"mtype", "-i", path, "::user-data", NULL});
	cr_assert_str_eq(out, s.user_data);
	free(out);
	out = run_out((const char *const[]){"mtype", "-i", path, "::network-config", NULL});
	cr_assert_str_eq(out, s.network_config);
	free(out);

	/* Unchanged: left alone. */
	cr_assert_eq(seed_write_kind(&r, tmp, &spec, err), 0, "%s", err);
	cr_assert_eq(stat(path, &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino);

	/* Changed: renamed over it, nothing temporary left. */
	free(spec.hostname);
	spec.hostname = strdup("web2.example.com");
	cr_assert_eq(seed_write_kind(&r, tmp, &spec, err), 0, "%s", err);
	cr_assert_eq(stat(path, &c), 0);
	cr_assert_neq(a.st_ino, c.st_ino);
	out = run_out((const char *const[]){"mtype", "-i", path, "::meta-data", NULL});
	cr_assert(strstr(out, "local-hostname: \"web2.example.com\"") != NULL, "%s", out);
	free(out);
	snprintf(dir, sizeof(dir), "%s/seed", tmp);
	cr_assert_eq(agfx_dir_entries(dir), 1, "only xvps-12.img in the seed dir");

	/* A failing tool leaves the previous seed and no temporary file. */
	free(spec.hostname);
	spec.hostname = strdup("web3.example.com");
	runner none = runner_real();
	cr_assert_eq(seed_write_kind(&none, "/proc/xvps-no-such-dir", &spec, err) < 0, true);
	cr_assert_eq(agfx_dir_entries(dir), 1);
	nocloud_dispose(&s);
	spec_dispose(&spec);
}
