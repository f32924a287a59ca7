/* test_agent.c — xvps-agent's socket server (provisioning/agent.c) over a real unix socket in a
 * mkdtemp() dir: an allowed peer is served, a malformed frame gets an error and the agent
 * keeps serving, bad requests are refused with the field named, another uid is turned away
 * without an answer, and stopping removes the socket. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/agent_proto.h"
#include "../../provisioning/agent.h"

static char tmp[64];
static char sock[108];
static hv_driver hv;
static st_driver st;
static vps_ctx ctx;
static agent *ag;
static bool opened;

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void start_agent(uid_t panel_uid)
{
	agent_config cfg = {0};
	char err[512];

	snprintf(cfg.sock_path, sizeof(cfg.sock_path), "%s", sock);
	cfg.panel_uid = panel_uid;
	cfg.recv_timeout_ms = 5000;
	cr_assert_eq(agent_start(&cfg, &ctx, &ag, err, sizeof(err)), 0, "%s", err);
}

static void setup(void)
{
	char err[1024], dir[128], abs[PATH_MAX];
	const char *g = getenv("XVPS_SIMGUEST");
	vps_err ve = {0};

	snprintf(tmp, sizeof(tmp), "/tmp/xvps-ag-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(sock, sizeof(sock), "%s/agent.sock", tmp);
	snprintf(dir, sizeof(dir), "%s/template-src", tmp);
	cr_assert_eq(hv_sim_open(&hv, tmp, err), 0, "%s", err);
	if (realpath(g && *g ? g : "build/asan/xvps-simguest", abs))
		hv_sim_set_guest_path(&hv, abs);
	cr_assert_eq(st_file_open(&st, tmp, dir, err), 0, "%s", err);
	snprintf(dir, sizeof(dir), "%s/xen", tmp);
	cr_assert_eq(vps_ctx_init(&ctx, &hv, &st, dir, "xvpsbr0", &ve), 0, "%s", ve.msg);
	opened = true;
}

static void teardown(void)
{
	char **names = NULL, err[HV_ERRLEN];
	size_t n = 0;

	if (ag)
		agent_stop(ag);
	ag = NULL;
	if (opened) {
		if (hv.ops->list(&hv, "", &names, &n, err) == 0) {
			for (size_t i = 0; i < n; i++) {
				hv.ops->forget(&hv, names[i], err);
				free(names[i]);
			}
			free(names);
		}
		hv.ops->dispose(&hv);
		st.ops->dispose(&st);
		opened = false;
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(agent, .init = setup, .fini = teardown, .timeout = 60);

static json_object *call(const char *req_text)
{
	json_object *req = json_tokener_parse(req_text), *resp = NULL;
	int rc;

	cr_assert_not_null(req, "bad test request %s", req_text);
	rc = agent_call(sock, req, 10000, &resp);
	json_object_put(req);
	cr_assert_eq(rc, 0, "agent_call: %s", strerror(-rc));
	return resp;
}

static bool is_ok(json_object *resp)
{
	json_object *v;

	return json_object_object_get_ex(resp, "ok", &v) && json_object_get_boolean(v);
}

static const char *str_at(json_object *o, const char *a, const char *b)
{
	json_object *v = o;

	if (a && !json_object_object_get_ex(v, a, &v))
		return NULL;
	if (b && !json_object_object_get_ex(v, b, &v))
		return NULL;
	return json_object_get_string(v);
}

static int connect_raw(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "%s", strerror(errno));
	return fd;
}

Test(agent, host_info_from_the_allowed_uid_works)
{
	json_object *r;
	struct stat sb;

	start_agent(getuid());
	cr_assert_eq(stat(sock, &sb), 0);
	cr_assert(S_ISSOCK(sb.st_mode));
	cr_assert_eq(sb.st_mode & 0777, 0660, "socket mode %o", sb.st_mode & 0777);
	r = call("{\"op\":\"host.info\"}");
	cr_assert(is_ok(r), "%s", json_object_to_json_string(r));
	cr_assert_str_eq(str_at(r, "result", "hypervisor"), "sim");
	cr_assert_str_eq(str_at(r, "result", "storage"), "file");
	cr_assert_str_eq(str_at(r, "result", "scheduler"), "sim");
	json_object_put(r);
}

Test(agent, malformed_frame_gets_an_error_and_the_agent_keeps_serving)
{
	const char junk[] = "{not json";
	uint32_t len = htonl(sizeof(junk) - 1);
	json_object *resp = NULL;
	int fd;

	start_agent(getuid());
	fd = connect_raw();
	cr_assert_eq(write(fd, &len, 4), 4);
	cr_assert_eq(write(fd, junk, sizeof(junk) - 1), (ssize_t)(sizeof(junk) - 1));
	cr_assert_eq(agent_recv(fd, 5000, &resp), 0, "no answer to a malformed frame");
	cr_assert_not(is_ok(resp));
	cr_assert_str_eq(str_at(resp, "code", NULL), "invalid");
	json_object_put(resp);
	close(fd);

	/* An absurd length prefix is answered too. */
	fd = connect_raw();
	len = htonl(0xfffffff0u);
	cr_assert_eq(write(fd, &len, 4), 4);
	resp = NULL;
	cr_assert_eq(agent_recv(fd, 5000, &resp), 0, "no answer to a bad length");
	cr_assert_not(is_ok(resp));
	json_object_put(resp);
	close(fd);

	resp = call("{\"op\":\"host.info\"}");
	cr_assert(is_ok(resp), "the agent stopped serving");
	json_object_put(resp);
}

Test(agent, one_connection_serves_several_requests)
{
	json_object *req = json_tokener_parse("{\"op\":\"vps.status\",\"name\":\"xvps-3\"}");
	json_object *resp = NULL;
	int fd;

	start_agent(getuid());
	fd = connect_raw();
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(agent_send(fd, req), 0);
		cr_assert_eq(agent_recv(fd, 5000, &resp), 0);
		cr_assert(is_ok(resp));
		cr_assert_str_eq(str_at(resp, "result", "state"), "absent");
		json_object_put(resp);
	}
	json_object_put(req);
	close(fd);
}

Test(agent, unknown_op_and_unknown_field_are_refused)
{
	json_object *r;

	start_agent(getuid());
	r = call("{\"op\":\"host.format\"}");
	cr_assert_not(is_ok(r));
	cr_assert_str_eq(str_at(r, "code", NULL), "invalid");
	cr_assert_str_eq(str_at(r, "field", NULL), "op");
	json_object_put(r);

	r = call("{\"op\":\"vps.status\",\"name\":\"xvps-1\",\"force\":true}");
	cr_assert_not(is_ok(r));
	cr_assert_str_eq(str_at(r, "field", NULL), "force");
	json_object_put(r);

	r = call("{\"op\":\"vps.remove\",\"name\":\"../etc\"}");
	cr_assert_not(is_ok(r));
	cr_assert_str_eq(str_at(r, "field", NULL), "name");
	json_object_put(r);
}

Test(agent, ensure_with_a_bad_hostname_names_the_field_and_creates_nothing)
{
	json_object *r;

	start_agent(getuid());
	r = call("{\"op\":\"vps.ensure\",\"spec\":{\"name\":\"xvps-1\",\"hostname\":\"a,b\","
	         "\"type\":\"pvh\",\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":1,"
	         "\"template\":\"tpl-1\",\"mac\":\"00:16:3e:00:00:01\",\"vifname\":\"xvif1\","
	         "\"power\":\"running\"}}");
	cr_assert_not(is_ok(r));
	cr_assert_str_eq(str_at(r, "code", NULL), "invalid");
	cr_assert_str_eq(str_at(r, "field", NULL), "hostname");
	json_object_put(r);
	char p[256];
	snprintf(p, sizeof(p), "%s/disks/xvps-1.img", tmp);
	cr_assert_neq(access(p, F_OK), 0);
}

Test(agent, template_and_ensure_stopped_round_trip)
{
	json_object *r;
	char p[256];

	start_agent(getuid());
	r = call("{\"op\":\"template.ensure\",\"name\":\"tpl-1\",\"disk_gib\":1}");
	cr_assert(is_ok(r), "%s", json_object_to_json_string(r));
	json_object_put(r);
	r = call("{\"op\":\"vps.ensure\",\"spec\":{\"name\":\"xvps-1\",\"hostname\":\"vm1\","
	         "\"type\":\"pvh\",\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":1,"
	         "\"template\":\"tpl-1\",\"mac\":\"00:16:3e:00:00:01\",\"vifname\":\"xvif1\","
	         "\"power\":\"stopped\"}}");
	cr_assert(is_ok(r), "%s", json_object_to_json_string(r));
	cr_assert_str_eq(str_at(r, "result", "state"), "stopped");
	json_object_put(r);
	snprintf(p, sizeof(p), "%s/disks/xvps-1.img", tmp);
	cr_assert_eq(access(p, F_OK), 0);
	r = call("{\"op\":\"vps.ensure\",\"spec\":{\"name\":\"xvps-2\",\"hostname\":\"vm2\","
	         "\"type\":\"pvh\",\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":1,"
	         "\"template\":\"tpl-5\",\"mac\":\"00:16:3e:00:00:02\",\"vifname\":\"xvif2\","
	         "\"power\":\"stopped\"}}");
	cr_assert_not(is_ok(r));
	cr_assert_str_eq(str_at(r, "code", NULL), "not_found");
	cr_assert_str_eq(str_at(r, "field", NULL), "template");
	json_object_put(r);
	r = call("{\"op\":\"reconcile\",\"known\":[\"xvps-1\"],\"templates\":[\"tpl-1\"]}");
	cr_assert(is_ok(r), "%s", json_object_to_json_string(r));
	json_object_put(r);
	r = call("{\"op\":\"vps.remove\",\"name\":\"xvps-1\"}");
	cr_assert(is_ok(r), "%s", json_object_to_json_string(r));
	json_object_put(r);
	cr_assert_neq(access(p, F_OK), 0, "disk left after vps.remove");
}

static int64_t cpu_ns_of(json_object *r, const char *name)
{
	json_object *res, *map, *v;

	cr_assert(json_object_object_get_ex(r, "result", &res) &&
	                  json_object_object_get_ex(res, "cpu_ns", &map) &&
	                  json_object_object_get_ex(map, name, &v) &&
	                  json_object_is_type(v, json_type_int),
	          "no cpu_ns.%s: %s", name, json_object_to_json_string(r));
	return json_object_get_int64(v);
}

Test(agent, cpu_times_validates_names_and_reads_the_driver)
{
	json_object *r, *req, *names, *v;
	char buf[64];
	int64_t first;

	start_agent(getuid());
	r = call("{\"op\":\"cpu.times\"}");
	cr_assert_not(is_ok(r));
	cr_assert_str_eq(str_at(r, "code", NULL), "invalid");
	cr_assert_str_eq(str_at(r, "field", NULL), "names");
	json_object_put(r);
	r = call("{\"op\":\"cpu.times\",\"names\":[\"xvps-1\"],\"all\":true}");
	cr_assert_not(is_ok(r));
	cr_assert_str_eq(str_at(r, "field", NULL), "all");
	json_object_put(r);
	r = call("{\"op\":\"cpu.times\",\"names\":[\"xvps-1\",\"Domain-0\"]}");
	cr_assert_not(is_ok(r));
	cr_assert_str_eq(str_at(r, "code", NULL), "invalid");
	cr_assert_str_eq(str_at(r, "field", NULL), "names");
	json_object_put(r);
	r = call("{\"op\":\"cpu.times\",\"names\":\"xvps-1\"}");
	cr_assert_not(is_ok(r));
	cr_assert_str_eq(str_at(r, "field", NULL), "names");
	json_object_put(r);

	/* At most 500 names per message. */
	for (int n = 500; n <= 501; n++) {
		req = json_object_new_object();
		names = json_object_new_array();
		json_object_object_add(req, "op", json_object_new_string("cpu.times"));
		for (int i = 1; i <= n; i++) {
			snprintf(buf, sizeof(buf), "xvps-%d", i);
			json_object_array_add(names, json_object_new_string(buf));
		}
		json_object_object_add(req, "names", names);
		r = NULL;
		cr_assert_eq(agent_call(sock, req, 10000, &r), 0);
		json_object_put(req);
		if (n == 500) {
			cr_assert(is_ok(r), "%s", json_object_to_json_string(r));
			cr_assert_eq(cpu_ns_of(r, "xvps-500"), 0, "an unknown domain reads 0");
		} else {
			cr_assert_not(is_ok(r), "501 names accepted");
			cr_assert_str_eq(str_at(r, "field", NULL), "names");
		}
		json_object_put(r);
	}

	/* A running domain's CPU time grows; a stopped one reads 0. */
	r = call("{\"op\":\"template.ensure\",\"name\":\"tpl-1\",\"disk_gib\":1}");
	cr_assert(is_ok(r), "%s", json_object_to_json_string(r));
	json_object_put(r);
	r = call("{\"op\":\"vps.ensure\",\"spec\":{\"name\":\"xvps-1\",\"hostname\":\"vm1\","
	         "\"type\":\"pvh\",\"vcpus\":2,\"memory_mib\":256,\"disk_gib\":1,"
	         "\"template\":\"tpl-1\",\"mac\":\"00:16:3e:00:00:01\",\"vifname\":\"xvif1\","
	         "\"power\":\"running\"}}");
	cr_assert(is_ok(r), "%s", json_object_to_json_string(r));
	json_object_put(r);
	r = call("{\"op\":\"cpu.times\",\"names\":[\"xvps-1\",\"xvps-2\"]}");
	cr_assert(is_ok(r), "%s", json_object_to_json_string(r));
	first = cpu_ns_of(r, "xvps-1");
	cr_assert_eq(cpu_ns_of(r, "xvps-2"), 0);
	cr_assert(
	        json_object_object_get_ex(json_object_object_get(r, "result"), "sampled_at", &v) &&
	        json_object_get_int64(v) > 1600000000);
	json_object_put(r);
	usleep(200 * 1000);
	r = call("{\"op\":\"cpu.times\",\"names\":[\"xvps-1\"]}");
	cr_assert(is_ok(r), "%s", json_object_to_json_string(r));
	cr_assert_gt(cpu_ns_of(r, "xvps-1"), first, "CPU time of a running domain does not grow");
	json_object_put(r);
	r = call("{\"op\":\"vps.power\",\"name\":\"xvps-1\",\"action\":\"poweroff\"}");
	cr_assert(is_ok(r), "%s", json_object_to_json_string(r));
	json_object_put(r);
	r = call("{\"op\":\"cpu.times\",\"names\":[\"xvps-1\"]}");
	cr_assert(is_ok(r), "%s", json_object_to_json_string(r));
	cr_assert_eq(cpu_ns_of(r, "xvps-1"), 0, "a stopped domain reads 0");
	json_object_put(r);
}

Test(agent, rejects_a_peer_with_another_uid_without_answering)
{
	pid_t pid;
	int status = 0;

	if (geteuid() != 0) {
		/* Not root: make the allowed uid someone else; we are neither it nor root. */
		json_object *req = json_tokener_parse("{\"op\":\"host.info\"}"), *resp = NULL;
		start_agent(getuid() + 4242);
		cr_assert_neq(agent_call(sock, req, 5000, &resp), 0, "answered a foreign uid");
		cr_assert_null(resp);
		json_object_put(req);
		return;
	}
	start_agent(0);
	cr_assert_eq(chmod(sock, 0666), 0); /* let the file mode through: SO_PEERCRED decides */
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		json_object *req, *resp = NULL;
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		req = json_tokener_parse("{\"op\":\"host.info\"}");
		int rc = agent_call(sock, req, 5000, &resp);
		json_object_put(req);
		json_object_put(resp);
		_exit(rc != 0 && resp == NULL ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), 0, "a foreign uid got an answer (status %d)",
	             WEXITSTATUS(status));
}

Test(agent, stop_removes_the_socket)
{
	start_agent(getuid());
	int fd = connect_raw(); /* an idle connection must not keep stop waiting */
	agent_stop(ag);
	ag = NULL;
	cr_assert_neq(access(sock, F_OK), 0, "socket left after stop");
	close(fd);
}

Test(agent, replaces_a_stale_socket_but_not_a_regular_file)
{
	agent_config cfg = {0};
	char err[512];
	agent *a2 = NULL;
	FILE *f;

	start_agent(getuid());
	agent_stop(ag);
	ag = NULL;
	/* Leave a stale socket file behind like a crash would. */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	start_agent(getuid());
	agent_stop(ag);
	ag = NULL;

	f = fopen(sock, "w");
	cr_assert_not_null(f);
	fclose(f);
	snprintf(cfg.sock_path, sizeof(cfg.sock_path), "%s", sock);
	cfg.panel_uid = getuid();
	cr_assert_neq(agent_start(&cfg, &ctx, &a2, err, sizeof(err)), 0);
	cr_assert_null(a2);
	cr_assert_eq(access(sock, F_OK), 0, "a regular file was removed");
}
