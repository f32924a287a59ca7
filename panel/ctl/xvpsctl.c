/* xvpsctl — the admin CLI over xvps's REST API v1 (docs/architecture.md §1): raw requests, job
 * waiting and bulk provisioning. It talks only HTTP(S) to xvpsd, never to the DB or the agent, and
 * authenticates with an API key (Authorization: Bearer), so it needs no CSRF token. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../common/validate.h"
#include "ctl.h"
#include "ctl_rdns.h"

#define CTL_URL_MAX      2048 /* base URL + "/api/v1" + path */
#define CTL_AUTH_MAX     512  /* "Authorization: Bearer <key>" */
#define CTL_PATH_MAX     128  /* "/jobs/<id>" */
#define CTL_HOSTNAME_MAX 300  /* a pattern with its "#" replaced (checked by valid_hostname) */
#define CTL_ID_MAX       32   /* an id as the API writes it */
#define CTL_METHOD_MAX   8    /* "DELETE" */
#define CTL_SECRET_MAX   1100 /* a password line with its newline and NUL */

typedef struct buf {
	char *data;
	size_t len;
} buf;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	buf *b = userdata;
	size_t n = size * nmemb;
	char *p = realloc(b->data, b->len + n + 1);
	if (!p)
		return 0;
	b->data = p;
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* ctl.h */
long ctl_request(const ctl *c, const char *method, const char *path, const char *body,
                 json_object **out)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	buf b = {0};
	long status = 0;
	char url[CTL_URL_MAX], auth[CTL_AUTH_MAX];

	*out = NULL;
	if (!h)
		return 0;
	snprintf(url, sizeof(url), "%s/api/v1%s", c->url, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
	hdrs = curl_slist_append(hdrs, auth);
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (body) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	CURLcode rc = curl_easy_perform(h);
	if (rc != CURLE_OK)
		fprintf(stderr, "xvpsctl: %s %s: %s\n", method, url, curl_easy_strerror(rc));
	else
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (b.data && b.len)
		*out = json_tokener_parse(b.data);
	free(b.data);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return status;
}

/* ctl.h */
void ctl_print_problem(long status, json_object *body)
{
	json_object *v;
	const char *title = "", *detail = "", *field = NULL;
	if (body && json_object_object_get_ex(body, "title", &v))
		title = json_object_get_string(v);
	if (body && json_object_object_get_ex(body, "detail", &v))
		detail = json_object_get_string(v);
	if (body && json_object_object_get_ex(body, "field", &v))
		field = json_object_get_string(v);
	if (field)
		fprintf(stderr, "xvpsctl: HTTP %ld %s: %s (field %s)\n", status, title, detail,
		        field);
	else
		fprintf(stderr, "xvpsctl: HTTP %ld %s: %s\n", status, title, detail);
}

void ctl_print_json(json_object *o)
{
	if (o)
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
		                                               JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Polls GET /jobs/{id} until done or failed, at most timeout_s. Returns 0 when done. */
int ctl_wait_job(const ctl *c, const char *job_id, int timeout_s)
{
	char path[CTL_PATH_MAX];
	/* A long poll (GET /jobs/{id}?wait=): each request answers when the job is finished, or
	 * after 30 s with it still running; the pause below only spaces out errors' retries. */
	uint64_t until = now_mono_ms() + (uint64_t)timeout_s * 1000u;
	snprintf(path, sizeof(path), "/jobs/%s?wait=30", job_id);
	while (now_mono_ms() < until) {
		json_object *j = NULL, *st, *err;
		long status = ctl_request(c, "GET", path, NULL, &j);
		if (status != 200) {
			ctl_print_problem(status, j);
			json_object_put(j);
			return -1;
		}
		const char *s = json_object_object_get_ex(j, "state", &st)
		                        ? json_object_get_string(st)
		                        : "";
		if (!strcmp(s, "done")) {
			json_object_put(j);
			return 0;
		}
		if (!strcmp(s, "failed")) {
			fprintf(stderr, "xvpsctl: job %s failed: %s\n", job_id,
			        json_object_object_get_ex(j, "error", &err)
			                ? json_object_get_string(err)
			                : "unknown error");
			json_object_put(j);
			return -1;
		}
		json_object_put(j);
		struct timespec ts = {0, 200 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "xvpsctl: job %s still running after %d s\n", job_id, timeout_s);
	return -1;
}

static const char *opt(int argc, char **argv, const char *name)
{
	for (int i = 0; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return NULL;
}

/* bulk-create: HOSTNAME pattern with '#' replaced by 1..count ("web#.example.net"). Each VPS is
 * ordered through POST /vps; with --wait the command waits for every job. A hostname the
 * API refuses stops the run: what was ordered before stays (each order is its own job). */
static int bulk_create(const ctl *c, int argc, char **argv)
{
	const char *pattern = opt(argc, argv, "--hostname"), *plan = opt(argc, argv, "--plan"),
	           *tpl = opt(argc, argv, "--template"), *cust = opt(argc, argv, "--customer"),
	           *count_s = opt(argc, argv, "--count");
	bool wait = false;
	long long count = 0;
	for (int i = 0; i < argc; i++)
		if (!strcmp(argv[i], "--wait"))
			wait = true;
	if (!pattern || !plan || !tpl || !cust || !count_s ||
	    !parse_int_range(count_s, 1, 1000, &count) || !strchr(pattern, '#')) {
		fprintf(stderr,
		        "usage: xvpsctl bulk-create --hostname 'web#.example.net' --plan ID "
		        "--template ID --customer ID --count 1..1000 [--wait]\n");
		return 2;
	}
	char(*jobs)[CTL_ID_MAX] = calloc((size_t)count, sizeof(*jobs));
	int failed = 0;
	if (!jobs)
		return 1;
	for (long long n = 1; n <= count; n++) {
		char host[CTL_HOSTNAME_MAX], num[CTL_ID_MAX];
		const char *hash = strchr(pattern, '#');
		snprintf(num, sizeof(num), "%lld", n);
		snprintf(host, sizeof(host), "%.*s%s%s", (int)(hash - pattern), pattern, num,
		         hash + 1);
		const char *why = NULL;
		if (!valid_hostname(host, &why)) {
			fprintf(stderr, "xvpsctl: %s: %s\n", host, why);
			failed++;
			break;
		}
		json_object *req = json_object_new_object(), *resp = NULL, *job, *id;
		json_object_object_add(req, "hostname", json_object_new_string(host));
		json_object_object_add(req, "plan", json_object_new_string(plan));
		json_object_object_add(req, "template", json_object_new_string(tpl));
		json_object_object_add(req, "customer", json_object_new_string(cust));
		long status =
		        ctl_request(c, "POST", "/vps", json_object_to_json_string(req), &resp);
		json_object_put(req);
		if (status != 202) {
			ctl_print_problem(status, resp);
			json_object_put(resp);
			failed++;
			break;
		}
		if (json_object_object_get_ex(resp, "job", &job) &&
		    json_object_object_get_ex(job, "id", &id))
			snprintf(jobs[n - 1], sizeof(jobs[0]), "%s", json_object_get_string(id));
		printf("ordered %s (job %s)\n", host, jobs[n - 1]);
		json_object_put(resp);
	}
	for (long long n = 0; wait && n < count; n++)
		if (jobs[n][0] && ctl_wait_job(c, jobs[n], 600) != 0)
			failed++;
	free(jobs);
	return failed ? 1 : 0;
}

/* resize VPS_ID PLAN_ID [--wait]: POST /vps/{id}/actions/resize {"plan"} (issue 16 item 1);
 * prints the job (or that the VPS is on that plan already), waits for it with --wait. */
static int resize_cmd(const ctl *c, int argc, char **argv)
{
	long long id = 0, plan = 0;
	bool wait = argc == 3 && !strcmp(argv[2], "--wait");
	if ((argc != 2 && !wait) || !parse_int_range(argv[0], 1, INT64_MAX, &id) ||
	    !parse_int_range(argv[1], 1, INT64_MAX, &plan)) {
		fprintf(stderr, "usage: xvpsctl resize VPS_ID PLAN_ID [--wait]\n");
		return 2;
	}
	char path[CTL_PATH_MAX], body[64], job_id[CTL_ID_MAX] = "";
	snprintf(path, sizeof(path), "/vps/%lld/actions/resize", id);
	snprintf(body, sizeof(body), "{\"plan\":\"%lld\"}", plan);
	json_object *resp = NULL, *job = NULL, *jid = NULL;
	long status = ctl_request(c, "POST", path, body, &resp);
	if (status != 200 && status != 202) {
		ctl_print_problem(status, resp);
		json_object_put(resp);
		return 1;
	}
	if (json_object_object_get_ex(resp, "job", &job) && job &&
	    json_object_object_get_ex(job, "id", &jid))
		snprintf(job_id, sizeof(job_id), "%s", json_object_get_string(jid));
	json_object_put(resp);
	if (!job_id[0]) {
		printf("vps %lld is on plan %lld already\n", id, plan);
		return 0;
	}
	printf("resizing vps %lld to plan %lld (job %s)\n", id, plan, job_id);
	return wait && ctl_wait_job(c, job_id, 600) != 0 ? 1 : 0;
}

/* Reads one line of stdin into out (without its newline), echo off when stdin is a terminal;
 * false at EOF or when the line does not fit. */
bool ctl_read_secret(const char *prompt, char *out, size_t size)
{
	bool tty = isatty(STDIN_FILENO);
	struct termios old, quiet;
	bool ok;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	ok = fgets(out, (int)size, stdin) != NULL;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (!ok)
		return false;
	size_t n = strlen(out);
	if (n && out[n - 1] == '\n')
		out[--n] = '\0';
	else if (n == size - 1)
		return false; /* longer than the buffer */
	return true;
}

/* passwd: POST /account/password with the current and the new password read from stdin (two
 * lines; prompted without echo on a terminal), never from the command line (issue 16 item 5). */
static int passwd_cmd(const ctl *c, int argc, char **argv)
{
	char cur[CTL_SECRET_MAX], nw[CTL_SECRET_MAX];
	(void)argv;
	if (argc != 0) {
		fprintf(stderr, "usage: xvpsctl passwd   (current and new password on stdin)\n");
		return 2;
	}
	if (!ctl_read_secret("current password: ", cur, sizeof(cur)) ||
	    !ctl_read_secret("new password: ", nw, sizeof(nw))) {
		fprintf(stderr,
		        "xvpsctl: passwd needs two lines on stdin (at most %d bytes each)\n",
		        CTL_SECRET_MAX - 2);
		return 2;
	}
	json_object *body = json_object_new_object(), *resp = NULL;
	json_object_object_add(body, "current_password", json_object_new_string(cur));
	json_object_object_add(body, "new_password", json_object_new_string(nw));
	long status = ctl_request(c, "POST", "/account/password", json_object_to_json_string(body),
	                          &resp);
	json_object_put(body);
	explicit_bzero(cur, sizeof(cur));
	explicit_bzero(nw, sizeof(nw));
	if (status != 204) {
		ctl_print_problem(status, resp);
		json_object_put(resp);
		return 1;
	}
	json_object_put(resp);
	printf("password changed; every session of this user ended (API keys keep working)\n");
	return 0;
}

static const char *jfield(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return "-";
	return json_object_get_string(v);
}

/* sessions [list] | sessions revoke ID: GET /sessions as a table, DELETE /sessions/{id}. */
static int sessions_cmd(const ctl *c, int argc, char **argv)
{
	long long id = 0;
	if (argc == 2 && !strcmp(argv[0], "revoke") &&
	    parse_int_range(argv[1], 1, INT64_MAX, &id)) {
		char path[CTL_PATH_MAX];
		json_object *resp = NULL;
		snprintf(path, sizeof(path), "/sessions/%lld", id);
		long status = ctl_request(c, "DELETE", path, NULL, &resp);
		if (status != 204) {
			ctl_print_problem(status, resp);
			json_object_put(resp);
			return 1;
		}
		printf("session %lld revoked\n", id);
		return 0;
	}
	if (argc > 1 || (argc == 1 && strcmp(argv[0], "list") != 0)) {
		fprintf(stderr, "usage: xvpsctl sessions [list] | sessions revoke SESSION_ID\n");
		return 2;
	}
	json_object *resp = NULL;
	long status = ctl_request(c, "GET", "/sessions", NULL, &resp);
	if (status != 200 || !json_object_is_type(resp, json_type_array)) {
		ctl_print_problem(status, resp);
		json_object_put(resp);
		return 1;
	}
	printf("%-8s %-20s %-20s %-39s %s\n", "ID", "CREATED", "LAST SEEN", "IP", "USER AGENT");
	for (size_t k = 0; k < json_object_array_length(resp); k++) {
		json_object *s = json_object_array_get_idx(resp, k), *cur = NULL;
		bool is_cur = json_object_object_get_ex(s, "current", &cur) &&
		              json_object_get_boolean(cur);
		printf("%-8s %-20s %-20s %-39s %.60s%s\n", jfield(s, "id"), jfield(s, "created_at"),
		       jfield(s, "last_seen_at"), jfield(s, "ip"), jfield(s, "user_agent"),
		       is_cur ? " (current)" : "");
	}
	json_object_put(resp);
	return 0;
}

/* GET /api/v1PATH into file (written as FILE.part, 0600, renamed when complete). 0 or 1. */
static int download(const ctl *c, const char *path, const char *file)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char url[CTL_URL_MAX], auth[CTL_AUTH_MAX], part[CTL_URL_MAX];
	long status = 0;
	FILE *f;
	int fd;

	if (!h || snprintf(part, sizeof(part), "%s.part", file) >= (int)sizeof(part))
		return 1;
	unlink(part);
	fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!f) {
		fprintf(stderr, "xvpsctl: cannot create %s: %s\n", part, strerror(errno));
		curl_easy_cleanup(h);
		return 1;
	}
	snprintf(url, sizeof(url), "%s/api/v1%s", c->url, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
	hdrs = curl_slist_append(hdrs, auth);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	if (c->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	CURLcode rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 || rc != CURLE_OK ||
	    status != 200 || rename(part, file) != 0) {
		fprintf(stderr, "xvpsctl: GET %s to %s failed: %s (HTTP %ld)\n", url, file,
		        curl_easy_strerror(rc), status);
		unlink(part);
		return 1;
	}
	return 0;
}

/* backup [--out FILE]: POST /backups (the panel writes it in its backup directory), then with
 * --out downloads it to FILE. */
static int backup_cmd(const ctl *c, int argc, char **argv)
{
	const char *out = NULL;
	json_object *resp = NULL, *name;
	char path[CTL_PATH_MAX];
	long status;
	int rc = 0;

	if (argc == 2 && !strcmp(argv[0], "--out"))
		out = argv[1];
	else if (argc != 0) {
		fprintf(stderr, "usage: xvpsctl backup [--out FILE]\n");
		return 2;
	}
	status = ctl_request(c, "POST", "/backups", NULL, &resp);
	if (status != 201 || !json_object_object_get_ex(resp, "name", &name)) {
		ctl_print_problem(status, resp);
		json_object_put(resp);
		return 1;
	}
	if (out) {
		snprintf(path, sizeof(path), "/backups/%s", json_object_get_string(name));
		rc = download(c, path, out);
		if (rc == 0)
			fprintf(stderr, "xvpsctl: saved %s as %s\n", json_object_get_string(name),
			        out);
	}
	ctl_print_json(resp);
	json_object_put(resp);
	return rc;
}

static void usage(void)
{
	fputs("usage: xvpsctl [--url URL] [--insecure] COMMAND ...\n"
	      "  get PATH                 GET /api/v1PATH, e.g. get /vps\n"
	      "  post PATH [JSON]         POST with a JSON body\n"
	      "  patch PATH JSON          PATCH with a JSON body\n"
	      "  delete PATH              DELETE\n"
	      "  wait JOB_ID [SECONDS]    wait until a job is done (exit 1 when it failed)\n"
	      "  bulk-create --hostname 'web#.example.net' --plan ID --template ID\n"
	      "              --customer ID --count N [--wait]\n"
	      "  template import --name N --os OS --disk-gib G --boot pvh|pv|hvm\n"
	      "              (--url URL [--sha256 HEX] | --file PATH) [--seed xvps|nocloud] "
	      "[--wait]\n"
	      "  resize VPS_ID PLAN_ID [--wait]   change a VPS's plan (up, or down to a plan\n"
	      "              whose disk is not smaller)\n"
	      "  hostname VPS_ID FQDN [--wait]      the guest's hostname (next boot)\n"
	      "  ssh-keys VPS_ID [FILE] [--wait]    replace root's SSH keys with FILE's (or\n"
	      "              stdin's) authorized_keys lines (next boot)\n"
	      "  reset-password VPS_ID [--stdin] [--wait]  a new root password, made by xvps and\n"
	      "              printed once (or read from stdin); applied at the next boot\n"
	      "  rescue VPS_ID [--wait]   boot a VPS into the rescue image; its disk is xvdb\n"
	      "  unrescue VPS_ID [--wait] boot it from its own disk again\n"
	      "  passwd                   change this user's password (current and new one on\n"
	      "              stdin, two lines; every session of the user ends)\n"
	      "  sessions [list]          this user's sessions; sessions revoke SESSION_ID\n"
	      "  rdns get VPS_ID | rdns set VPS_ID ADDRESS NAME | rdns clear VPS_ID ADDRESS\n"
	      "              a VPS's reverse DNS (PTR) records\n"
	      "  customer limits get ID   a customer's ordering limits and what it uses\n"
	      "  customer limits set ID [--max-vps N] [--max-vcpus N] [--max-memory-mib N]\n"
	      "              [--max-disk-gib N] [--plans all|ID,ID...]   (N: 0.., or none)\n"
	      "  backup [--out FILE]      back the panel's database up now (in its backup\n"
	      "              directory; --out also downloads it to FILE). Restore: xvpsd "
	      "--restore\n"
	      "environment: XVPS_URL (default http://127.0.0.1:8080), XVPS_TOKEN (an API key from\n"
	      "POST /api/v1/api-keys; required)\n",
	      stderr);
}

int main(int argc, char **argv)
{
	ctl c = {.url = getenv("XVPS_URL"), .token = getenv("XVPS_TOKEN")};
	int i = 1;
	if (!c.url)
		c.url = "http://127.0.0.1:8080";
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--url") && i + 1 < argc)
			c.url = argv[++i];
		else if (!strcmp(argv[i], "--insecure"))
			c.insecure = true;
		else {
			usage();
			return 2;
		}
	}
	if (i >= argc) {
		usage();
		return 2;
	}
	if (!c.token || !*c.token) {
		fputs("xvpsctl: set XVPS_TOKEN to an API key (POST /api/v1/api-keys)\n", stderr);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const char *cmd = argv[i++];
	int rc = 0;
	if (!strcmp(cmd, "get") || !strcmp(cmd, "post") || !strcmp(cmd, "patch") ||
	    !strcmp(cmd, "delete")) {
		if (i >= argc || argv[i][0] != '/') {
			usage();
			rc = 2;
			goto out;
		}
		char method[CTL_METHOD_MAX];
		size_t k = 0;
		for (; cmd[k] && k < sizeof(method) - 1; k++)
			method[k] = (char)(cmd[k] - 'a' + 'A');
		method[k] = '\0';
		const char *body = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(cmd, "post") && !body)
			body = "{}";
		json_object *resp = NULL;
		long status = ctl_request(&c, method, argv[i], body, &resp);
		if (status >= 200 && status < 300)
			ctl_print_json(resp);
		else {
			ctl_print_problem(status, resp);
			rc = 1;
		}
		json_object_put(resp);
	} else if (!strcmp(cmd, "wait") && i < argc) {
		long long secs = 600;
		if (i + 1 < argc && !parse_int_range(argv[i + 1], 1, 86400, &secs)) {
			usage();
			rc = 2;
			goto out;
		}
		rc = ctl_wait_job(&c, argv[i], (int)secs) == 0 ? 0 : 1;
	} else if (!strcmp(cmd, "bulk-create")) {
		rc = bulk_create(&c, argc - i, argv + i);
	} else if (!strcmp(cmd, "backup")) {
		rc = backup_cmd(&c, argc - i, argv + i);
	} else if (!strcmp(cmd, "template")) {
		rc = ctl_template_cmd(&c, argc - i, argv + i);
	} else if (!strcmp(cmd, "resize")) {
		rc = resize_cmd(&c, argc - i, argv + i);
	} else if (!strcmp(cmd, "hostname") || !strcmp(cmd, "ssh-keys") ||
	           !strcmp(cmd, "reset-password")) {
		rc = ctl_settings_cmd(&c, cmd, argc - i, argv + i); /* ctl_settings.c */
	} else if (!strcmp(cmd, "rescue") || !strcmp(cmd, "unrescue")) {
		rc = ctl_rescue_cmd(&c, cmd, argc - i, argv + i);
	} else if (!strcmp(cmd, "passwd")) {
		rc = passwd_cmd(&c, argc - i, argv + i);
	} else if (!strcmp(cmd, "customer")) {
		rc = ctl_customer_cmd(&c, argc - i, argv + i);
	} else if (!strcmp(cmd, "sessions")) {
		rc = sessions_cmd(&c, argc - i, argv + i);
	} else if (!strcmp(cmd, "rdns")) {
		rc = rdns_cmd(&c, argc - i, argv + i);
	} else {
		usage();
		rc = 2;
	}
out:
	curl_global_cleanup();
	return rc;
}
