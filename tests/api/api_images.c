/* api_images.c — official cloud images as templates (issue 16 item 7) against a running xvpsd
 * ($XVPS_URL) and its agent (sim hypervisor, file storage) whose state is $XVPS_STATE: a small
 * qcow2 made here with qemu-img in the agent's import directory ($XVPS_STATE/template-src) is
 * imported by file (POST /templates, job template.import), a VPS ordered from it gets a
 * cloud-init NoCloud seed ($XVPS_STATE/seed/xvps-N.img, a FAT disk labelled cidata) that holds
 * its hostname, address and SSH key (read back with mtools' mtype); the same image is imported
 * by URL from a loopback HTTP server this test runs (http allowed through PUT /settings/images,
 * sha256 checked); bad input — an http URL while http is off, a scheme that is not https, a
 * file that is not qcow2/raw, a file outside the import directory, an image larger than its
 * disk_gib, a wrong sha256 — is refused with a clear error and leaves no template row and no
 * work file. Everything made here is deleted. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../common/runner.h"
#include "../../common/util.h"
#include "client.h"

/* A real ed25519 public key (the API decodes the blob: issue 16 item 2). */
#define KEY                                                                                        \
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO6Hz7UWPTdwTYvQZOwm7U4npq5QYEcEZy4OY/s+keSJ "        \
	"img@test"

static api_client admin;
static char plan[32], pool[32], cust_id[32], srcdir[512], u[9];

static void need_state(void)
{
	const char *state = getenv("XVPS_STATE");

	if (!state || !*state)
		cr_skip_test("$XVPS_STATE is not set (the agent's state is not on this machine)");
	snprintf(srcdir, sizeof(srcdir), "%s/template-src", state);
	cr_assert_eq(mkdir_p(srcdir, 0700), 0);
}

/* Runs argv (the runner, no shell); returns its stdout (heap) or fails the test. */
static char *run(const char *const argv[])
{
	runner r = runner_real();
	runner_result res;
	char *out;
	int rc;

	runner_result_init(&res);
	rc = runner_run(&r, argv, NULL, 0, 60000, &res);
	cr_assert(runner_ok(rc, &res), "%s %s failed: %d %s", argv[0], argv[1], rc,
	          res.err ? res.err : "");
	out = strdup(res.out);
	runner_result_dispose(&res);
	return out;
}

/* A qcow2 (or other fmt) image of vsize in the import dir; its path into out. */
static void make_image(const char *fmt, const char *vsize, const char *name, char out[600])
{
	snprintf(out, 600, "%s/%s-%s", srcdir, u, name);
	free(run((const char *const[]){"qemu-img", "create", "-q", "-f", fmt, out, vsize, NULL}));
}

static void setup(void)
{
	char id[32];

	fx_admin(&admin);
	fx_pool4(&admin, pool);
	uniq(u);
	api_resp *r = api_req(&admin, "POST", V1 "/plans",
	                      "{\"name\":\"img-%s\",\"vcpus\":1,\"memory_mib\":256,"
	                      "\"disk_gib\":2}",
	                      u);
	cr_assert_eq(r->status, 201, "POST /plans: %ld %s", r->status, r->body);
	snprintf(plan, sizeof(plan), "%s", jstr(r->json, "id"));
	api_resp_free(r);
	fx_customer(&admin, NULL, cust_id, NULL, NULL);
	(void)id;
}

static void teardown(void)
{
	char path[96];

	snprintf(path, sizeof(path), V1 "/plans/%s", plan);
	api_resp_free(api_req(&admin, "DELETE", path, NULL));
	snprintf(path, sizeof(path), V1 "/customers/%s", cust_id);
	api_resp_free(api_req(&admin, "DELETE", path, NULL));
	api_resp_free(api_req(&admin, "PUT", V1 "/settings/images",
	                      "{\"allow_http\":false,\"max_gib\":20}"));
	api_cleanup();
}

TestSuite(images, .init = setup, .fini = teardown, .timeout = 240);

/* The work files the agent keeps in the import directory (xvps-import-*), counted. */
static int work_files(void)
{
	DIR *d = opendir(srcdir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "xvps-import-", 12) == 0)
			n++;
	closedir(d);
	return n;
}

/* POST /templates as an import; returns the response (202 expected by the callers). */
static api_resp *import(const char *name, const char *source_json)
{
	return api_req(&admin, "POST", V1 "/templates",
	               "{\"name\":\"img-%s-%s\",\"os\":\"debian-12\",\"disk_gib\":1,"
	               "\"boot\":\"hvm\",\"seed\":\"nocloud\",%s}",
	               u, name, source_json);
}

/* Polls a job until it ends (120 s at most); true when done, its error into err_out. Its own
 * loop, not wait_job(): a failure expected here is not logged as an error. */
static bool job_end(const char *job_id, char tpl_out[32], char err_out[512])
{
	struct timespec pause = {0, 100 * 1000 * 1000};
	char path[96];

	snprintf(path, sizeof(path), V1 "/jobs/%s", job_id);
	for (int i = 0; i < 1200; i++) {
		api_resp *j = api_req(&admin, "GET", path, NULL);
		const char *st = jstr(j->json, "state");

		cr_assert_eq(j->status, 200, "GET %s: %ld", path, j->status);
		if (st && (!strcmp(st, "done") || !strcmp(st, "failed"))) {
			bool done = !strcmp(st, "done");
			snprintf(err_out, 512, "%s",
			         jstr(j->json, "error") ? jstr(j->json, "error") : "");
			snprintf(tpl_out, 32, "%s",
			         jstr(j->json, "template") ? jstr(j->json, "template") : "");
			api_resp_free(j);
			return done;
		}
		api_resp_free(j);
		nanosleep(&pause, NULL);
	}
	cr_assert_fail("job %s did not end in 120 s", job_id);
	return false;
}

/* Waits for an import job; true when done. Writes the template id. */
static bool import_done(api_resp *r, char tpl[32], char err_out[512])
{
	json_object *job = jget(r->json, "job"), *tpl_o = jget(r->json, "template");
	char job_tpl[32];
	bool ok;

	cr_assert_eq(r->status, 202, "import: %ld %s", r->status, r->body);
	cr_assert_str_eq(jstr(job, "kind"), "template.import");
	cr_assert_str_eq(jstr(tpl_o, "state"), "importing");
	cr_assert_str_eq(jstr(tpl_o, "seed"), "nocloud");
	snprintf(tpl, 32, "%s", jstr(tpl_o, "id"));
	ok = job_end(jstr(job, "id"), job_tpl, err_out);
	cr_assert_str_eq(job_tpl, tpl, "the job names its template");
	return ok;
}

/* The import failed, with detail in its error, and left no row and no work file. */
static void assert_import_fails(api_resp *r, const char *detail)
{
	char tpl[32], err[512], path[96];

	cr_assert_not(import_done(r, tpl, err), "the import should fail (%s)", detail);
	cr_assert(strstr(err, detail) != NULL, "job error \"%s\" lacks \"%s\"", err, detail);
	snprintf(path, sizeof(path), V1 "/templates/%s", tpl);
	api_resp *g = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(g->status, 404, "a failed import leaves no template: %ld", g->status);
	api_resp_free(g);
	cr_assert_eq(work_files(), 0, "a failed import leaves no work file");
}

static void delete_template(const char *tpl)
{
	char path[96];

	snprintf(path, sizeof(path), V1 "/templates/%s", tpl);
	api_resp *r = api_req(&admin, "DELETE", path, NULL);
	cr_assert_eq(r->status, 204, "DELETE %s: %ld %s", path, r->status, r->body);
	api_resp_free(r);
}

Test(images, file_import_then_a_vps_gets_a_cidata_seed)
{
	char img[600], tpl[32], err[512], vps[32], path[600], *out;
	api_resp *r, *o;

	need_state();
	make_image("qcow2", "64M", "cloud.qcow2", img);
	char body[800];
	snprintf(body, sizeof(body), "\"file\":\"%s\"", img);
	r = import("file", body);
	cr_assert(import_done(r, tpl, err), "the import failed: %s", err);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/templates/%s", tpl);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_str_eq(jstr(r->json, "state"), "ready");
	cr_assert_str_eq(jstr(r->json, "boot"), "hvm");
	api_resp_free(r);
	cr_assert_eq(work_files(), 0, "the import's work files are gone");
	unlink(img);

	/* A VPS from it: its seed is a cidata disk with the hostname, address and key. */
	json_object *ord = json_object_new_object(), *keys = json_object_new_array();
	char host[64];
	snprintf(host, sizeof(host), "ci-%s.example.net", u);
	json_object_object_add(ord, "hostname", json_object_new_string(host));
	json_object_object_add(ord, "plan", json_object_new_string(plan));
	json_object_object_add(ord, "template", json_object_new_string(tpl));
	json_object_object_add(ord, "customer", json_object_new_string(cust_id));
	json_object_array_add(keys, json_object_new_string(KEY));
	json_object_object_add(ord, "ssh_keys", keys);
	const char *text = json_object_to_json_string(ord);
	o = api_raw(&admin, "POST", V1 "/vps", "application/json", text, strlen(text));
	json_object_put(ord);
	cr_assert_eq(o->status, 202, "order: %ld %s", o->status, o->body);
	snprintf(vps, sizeof(vps), "%s", jstr(jget(o->json, "vps"), "id"));
	cr_assert(wait_job(&admin, jstr(jget(o->json, "job"), "id"), 120), "the create job failed");
	api_resp_free(o);
	snprintf(path, sizeof(path), V1 "/vps/%s", vps);
	r = api_req(&admin, "GET", path, NULL);
	json_object *ipv4 = jget(r->json, "ipv4");
	const char *addr = ipv4 && json_object_array_length(ipv4) > 0
	                           ? json_object_get_string(json_object_array_get_idx(ipv4, 0))
	                           : NULL;
	cr_assert_not_null(addr, "the VPS has an IPv4 address: %s", r->body);
	char want_addr[64];
	snprintf(want_addr, sizeof(want_addr), "\"%s/32\"", addr);
	api_resp_free(r);

	snprintf(path, sizeof(path), "%s/seed/xvps-%s.img", getenv("XVPS_STATE"), vps);
	out = run((const char *const[]){"mlabel", "-i", path, "-s", "::", NULL});
	cr_assert(strcasestr(out, "cidata") != NULL, "label: %s", out);
	free(out);
	out = run((const char *const[]){"mtype", "-i", path, "::meta-data", NULL});
	cr_assert(strstr(out, host) != NULL, "meta-data: %s", out);
	free(out);
	out = run((const char *const[]){"mtype", "-i", path, "::user-data", NULL});
	cr_assert(strncmp(out, "#cloud-config\n", 14) == 0 && strstr(out, KEY) && strstr(out, host),
	          "user-data: %s", out);
	free(out);
	out = run((const char *const[]){"mtype", "-i", path, "::network-config", NULL});
	cr_assert(strstr(out, want_addr) != NULL && strstr(out, "version: 2"),
	          "network-config lacks %s: %s", want_addr, out);
	free(out);

	/* While a VPS uses it the template stays; then both go. */
	fx_vps_delete(&admin, vps);
	delete_template(tpl);
}

/* ---- a loopback HTTP server for the URL import -------------------------------------------- */

typedef struct web {
	int fd;
	char *body;
	size_t len;
	pthread_t t;
} web;

static void *web_main(void *p)
{
	web *w = p;

	for (;;) {
		int c = accept(w->fd, NULL, NULL);
		char buf[4096], hdr[160];
		size_t got = 0;

		if (c < 0)
			return NULL;
		while (got < sizeof(buf) - 1) {
			ssize_t n = read(c, buf + got, sizeof(buf) - 1 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
			buf[got] = '\0';
			if (strstr(buf, "\r\n\r\n"))
				break;
		}
		snprintf(hdr, sizeof(hdr),
		         "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		         w->len);
		if (write_full(c, hdr, strlen(hdr), true) == 0)
			write_full(c, w->body, w->len, true);
		close(c);
	}
}

/* The agent downloads from its own network namespace: with $XVPS_NETNS (make test as root)
 * the server's socket is made in that namespace (the harness made it; its loopback is raised),
 * by this thread only, which then returns to its own. */
static void web_socket(web *w)
{
	const char *ns = getenv("XVPS_NETNS");
	char path[128];
	int self, fd;

	if (!ns || !*ns) {
		w->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		return;
	}
	free(run((const char *const[]){"ip", "-n", ns, "link", "set", "lo", "up", NULL}));
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(self >= 0 && fd >= 0, "cannot open the network namespaces");
	cr_assert_eq(setns(fd, CLONE_NEWNET), 0, "setns %s", path);
	w->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_eq(setns(self, CLONE_NEWNET), 0, "setns back");
	close(fd);
	close(self);
}

static void web_start(web *w, const char *file, int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);

	cr_assert_eq(read_file(file, 64u << 20, &w->body, &w->len), 0);
	web_socket(w);
	cr_assert(w->fd >= 0);
	cr_assert_eq(bind(w->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(w->fd, 8), 0);
	cr_assert_eq(getsockname(w->fd, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	cr_assert_eq(pthread_create(&w->t, NULL, web_main, w), 0);
}

static void web_stop(web *w)
{
	shutdown(w->fd, SHUT_RDWR);
	close(w->fd);
	pthread_join(w->t, NULL);
	free(w->body);
}

Test(images, url_import_over_loopback_http_with_sha256)
{
	char img[600], tpl[32], err[512], body[800], *sum;
	int port = 0;
	web w = {0};
	api_resp *r;

	need_state();
	make_image("qcow2", "32M", "dl.qcow2", img);
	sum = run((const char *const[]){"sha256sum", img, NULL});
	sum[64] = '\0';
	web_start(&w, img, &port);
	unlink(img);

	/* http is off by default: refused at once, nothing made. */
	long long before = api_count(&admin, V1 "/templates");
	snprintf(body, sizeof(body), "\"url\":\"http://127.0.0.1:%d/dl.qcow2\"", port);
	r = import("url0", body);
	assert_problem(r, 422, "url");
	cr_assert(strstr(r->body, "https") != NULL, "%s", r->body);
	api_resp_free(r);
	cr_assert_eq(api_count(&admin, V1 "/templates"), before);

	r = api_req(&admin, "PUT", V1 "/settings/images", "{\"allow_http\":true,\"max_gib\":1}");
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_assert(json_object_get_boolean(jget(r->json, "allow_http")));
	api_resp_free(r);

	/* A wrong sha256: the download is refused and removed. */
	snprintf(body, sizeof(body),
	         "\"url\":\"http://127.0.0.1:%d/dl.qcow2\",\"sha256\":\"%064d\"", port, 0);
	r = import("url1", body);
	assert_import_fails(r, "sha256 mismatch");
	api_resp_free(r);

	snprintf(body, sizeof(body), "\"url\":\"http://127.0.0.1:%d/dl.qcow2\",\"sha256\":\"%s\"",
	         port, sum);
	r = import("url2", body);
	cr_assert(import_done(r, tpl, err), "the URL import failed: %s", err);
	api_resp_free(r);
	cr_assert_eq(work_files(), 0);
	delete_template(tpl);
	web_stop(&w);
	free(sum);
}

Test(images, bad_input_is_refused_and_leaves_nothing)
{
	char img[600], body[800];
	api_resp *r;
	long long before;

	need_state();
	before = api_count(&admin, V1 "/templates");
	r = import("b1", "\"url\":\"ftp://example.net/x.qcow2\"");
	assert_problem(r, 422, "url");
	api_resp_free(r);
	r = import("b2", "\"url\":\"https://example.net/x.qcow2\",\"file\":\"/x\"");
	assert_problem(r, 422, NULL);
	api_resp_free(r);
	r = import("b3", "\"file\":\"relative/x.qcow2\"");
	assert_problem(r, 422, "file");
	api_resp_free(r);
	r = import("b4", "\"file\":\"/tmp/../etc/shadow\"");
	assert_problem(r, 422, "file");
	api_resp_free(r);
	r = import("b5", "\"url\":\"https://example.net/x\",\"sha256\":\"abc\"");
	assert_problem(r, 422, "sha256");
	api_resp_free(r);
	r = api_req(&admin, "POST", V1 "/templates",
	            "{\"name\":\"img-%s-b6\",\"os\":\"x\",\"disk_gib\":1,\"boot\":\"hvm\","
	            "\"seed\":\"iso\",\"file\":\"/x\"}",
	            u);
	assert_problem(r, 422, "seed");
	api_resp_free(r);
	cr_assert_eq(api_count(&admin, V1 "/templates"), before, "no row from a refused request");

	/* Refused by the job: not qcow2/raw, outside the import dir, larger than disk_gib. */
	make_image("vmdk", "16M", "disk.vmdk", img);
	snprintf(body, sizeof(body), "\"file\":\"%s\"", img);
	r = import("j1", body);
	assert_import_fails(r, "not qcow2 or raw");
	api_resp_free(r);
	unlink(img);
	r = import("j2", "\"file\":\"/etc/hostname\"");
	assert_import_fails(r, "inside the template import directory");
	api_resp_free(r);
	make_image("qcow2", "2G", "big.qcow2", img);
	snprintf(body, sizeof(body), "\"file\":\"%s\"", img);
	r = import("j3", body);
	assert_import_fails(r, "does not fit in disk_gib");
	api_resp_free(r);
	unlink(img);
	cr_assert_eq(api_count(&admin, V1 "/templates"), before);
}
