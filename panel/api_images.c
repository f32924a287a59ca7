/* api_images.c — official cloud images as templates (issue 16 item 7; docs/openapi.yaml):
 * POST /templates with "url" or "file" (called by api_templates_create) inserts the template
 * `importing` and queues the job template.import (template_import.c) in one transaction, and
 * answers 202 {"template","job"}; GET/PUT /settings/images hold the admin settings
 * images.allow_http (http:// URLs allowed; default false: https only) and images.max_gib (the
 * largest download, 1..1024 GiB, default 20). Every field is checked here and again by the
 * agent. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "api.h"
#include "api_images.h"
#include "audit.h"
#include "http.h"
#include "jobs.h"
#include "store.h"

#define URL_MAX  2048
#define FILE_MAX 1024

static bool allow_http(void)
{
	char v[16];

	return setting_get("images.allow_http", "false", v, sizeof(v)) && strcmp(v, "true") == 0;
}

static long long max_gib(void)
{
	char v[32];

	if (!setting_get("images.max_gib", "20", v, sizeof(v)) || atoll(v) < 1)
		return 20;
	return atoll(v);
}

/* The panel's check of a URL (the agent checks it again with libcurl's protocol list). */
static const char *url_problem(const char *u)
{
	size_t n = strlen(u);
	const char *host;

	if (n < 1 || n > URL_MAX)
		return "must be a URL of 1 to 2048 characters";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];
		if (c <= 0x20 || c >= 0x7f || strchr("\"'\\<>`", c))
			return "must be printable ASCII without spaces, quotes or backslashes";
	}
	if (strncmp(u, "https://", 8) == 0)
		host = u + 8;
	else if (strncmp(u, "http://", 7) == 0 && allow_http())
		host = u + 7;
	else if (strncmp(u, "http://", 7) == 0)
		return "must be an https:// URL (http:// is off: PUT /settings/images allow_http)";
	else
		return "must be an https:// URL";
	if (*host == '\0' || *host == '/' || *host == '@')
		return "has no host";
	return NULL;
}

/* An absolute host path of [A-Za-z0-9._+/-], no "." or ".." segment; the agent also requires
 * it inside its import directory and not a symlink. */
static const char *file_problem(const char *f)
{
	size_t n = strlen(f);

	if (n < 2 || n > FILE_MAX || f[0] != '/')
		return "must be an absolute path of at most 1024 characters";
	for (size_t i = 0; i < n; i++) {
		char c = f[i];
		if (!isalnum((unsigned char)c) && !strchr("._+/-", c))
			return "must hold only A-Z a-z 0-9 . _ + / -";
	}
	if (strstr(f, "/./") || strstr(f, "/../") || strstr(f, "//") ||
	    (n >= 2 && strcmp(f + n - 2, "/.") == 0) || (n >= 3 && strcmp(f + n - 3, "/..") == 0))
		return "must not hold . or .. segments";
	return NULL;
}

void api_template_import(http_req *rq, const template_new *t)
{
	char sha[65] = "", res[AUDIT_RESOURCE_MAX];
	json_field_error e = {.status = 422};
	const char *why = NULL;
	int64_t id, job;
	sqlite3_stmt *st;
	json_object *o, *tpl_o;

	if (t->url && t->file) {
		e.field = "url";
		e.detail = "give url or file, not both";
	} else if (t->url && (why = url_problem(t->url))) {
		e.field = "url";
		e.detail = why;
	} else if (t->file && (why = file_problem(t->file))) {
		e.field = "file";
		e.detail = why;
	} else if (t->sha256 && !t->url) {
		e.field = "sha256";
		e.detail = "only with url";
	} else if (t->sha256) {
		size_t n = strlen(t->sha256);
		for (size_t i = 0; i < n && i < 64; i++)
			sha[i] = (char)tolower((unsigned char)t->sha256[i]);
		if (n != 64 || strspn(sha, "0123456789abcdef") != 64) {
			e.field = "sha256";
			e.detail = "must be 64 hex digits";
		}
	}
	if (e.field) {
		reply_field_error(rq, &e);
		return;
	}
	if (db_begin() != 0) {
		reply_db_error(rq);
		return;
	}
	st = db_stmt("INSERT INTO templates(name, os, disk_gib, boot, seed, state, import_url, "
	             "import_file, import_sha256, created_at) "
	             "VALUES(?,?,?,?,?,'importing',?,?,?,?)");
	if (!st) {
		db_rollback();
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, t->os, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, t->disk_gib);
	sqlite3_bind_text(st, 4, t->boot, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, t->seed, -1, SQLITE_TRANSIENT);
	if (t->url)
		sqlite3_bind_text(st, 6, t->url, -1, SQLITE_TRANSIENT);
	if (t->file)
		sqlite3_bind_text(st, 7, t->file, -1, SQLITE_TRANSIENT);
	if (sha[0])
		sqlite3_bind_text(st, 8, sha, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 9, now_unix());
	if (!db_step_done(st)) {
		bool dup = db_unique_violation();
		db_rollback();
		if (dup)
			reply_problem(rq, 409, NULL, "a template with this name exists", "name");
		else
			reply_db_error(rq);
		return;
	}
	id = db_last_id();
	job = job_enqueue_template_import(id, rq->user.id);
	/* The answer's template is read before the commit: once the job runs, a failing import
	 * deletes the row (seen: a bad file refused before this handler read it back). */
	tpl_o = job > 0 ? template_json(id) : NULL;
	if (job <= 0 || !tpl_o || db_commit() != 0) {
		if (job <= 0 || !tpl_o)
			db_rollback();
		json_object_put(tpl_o);
		reply_db_error(rq);
		return;
	}
	jobs_wake();
	snprintf(res, sizeof(res), "template/%lld", (long long)id);
	audit(rq, "template.import", res, t->url ? t->url : t->file);
	o = json_object_new_object();
	json_object_object_add(o, "template", tpl_o);
	json_object_object_add(o, "job", job_json(job));
	reply_json(rq, 202, o);
}

/* ---- settings ------------------------------------------------------------------------------- */

static json_object *settings_json(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "allow_http", json_object_new_boolean(allow_http()));
	json_object_object_add(o, "max_gib", json_object_new_int64(max_gib()));
	return o;
}

void api_image_settings_get(http_req *rq)
{
	reply_json(rq, 200, settings_json());
}

void api_image_settings_put(http_req *rq)
{
	static const char *const fields[] = {"allow_http", "max_gib", NULL};
	json_field_error e = {0};
	bool http = false;
	int64_t gib = 0;
	char v[32], detail[64];

	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_bool(rq->json, "allow_http", true, &http, &e) ||
	    !json_get_int(rq->json, "max_gib", true, 1, 1024, &gib, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	snprintf(v, sizeof(v), "%lld", (long long)gib);
	if (db_begin() != 0) {
		reply_db_error(rq);
		return;
	}
	if (!setting_set("images.allow_http", http ? "true" : "false") ||
	    !setting_set("images.max_gib", v)) {
		db_rollback();
		reply_db_error(rq);
		return;
	}
	if (db_commit() != 0) {
		reply_db_error(rq);
		return;
	}
	snprintf(detail, sizeof(detail), "allow_http %s, max_gib %lld", http ? "true" : "false",
	         (long long)gib);
	audit(rq, "settings.images", "settings/images", detail);
	reply_json(rq, 200, settings_json());
}
