/* template_import.c — the job template.import (issue 16 item 7; jobs.h): a template whose
 * image comes from a vendor's cloud image, by URL or by a file on the host. Steps, each an
 * agent call recorded on the job row: `download` (template.fetch, URL only: libcurl into the
 * agent's import directory, size-limited by the setting images.max_gib, http only when
 * images.allow_http), `convert` (template.import: qemu-img info and convert into the
 * template's image), then the template turns `ready`. A failure takes everything back
 * (`rollback`: template.remove, which also removes the agent's work files, and the template
 * row), so nothing is left behind; the job fails with the agent's sentence. It never runs a
 * host command itself. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "agent_client.h"
#include "api.h"
#include "audit.h"
#include "jobs.h"
#include "store.h"

#define GIB_BYTES (1024ll * 1024ll * 1024ll)

int64_t job_enqueue_template_import(int64_t template_id, int64_t user_id)
{
	int64_t job = job_enqueue("template.import", 0, user_id);
	sqlite3_stmt *st;

	if (job <= 0)
		return -1;
	st = db_stmt("UPDATE jobs SET template_id=? WHERE id=?");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, template_id);
	sqlite3_bind_int64(st, 2, job);
	return db_step_done(st) ? job : -1;
}

typedef struct tpl_row {
	int64_t id, disk_gib;
	char state[16];
	char *url, *file, *sha256;
} tpl_row;

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? strdup((const char *)t) : NULL;
}

static void tpl_row_free(tpl_row *t)
{
	free(t->url);
	free(t->file);
	free(t->sha256);
}

/* The job's template; -ENOENT when the job or its template is gone, -EIO on a DB error. */
static int load(int64_t job_id, tpl_row *t)
{
	sqlite3_stmt *st = db_stmt("SELECT t.id, t.disk_gib, t.state, t.import_url, t.import_file, "
	                           "t.import_sha256 FROM jobs j JOIN templates t ON "
	                           "t.id=j.template_id WHERE j.id=?");
	int r;

	memset(t, 0, sizeof(*t));
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, job_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		t->id = sqlite3_column_int64(st, 0);
		t->disk_gib = sqlite3_column_int64(st, 1);
		db_col_text(st, 2, t->state, sizeof(t->state));
		t->url = col_dup(st, 3);
		t->file = col_dup(st, 4);
		t->sha256 = col_dup(st, 5);
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? -ENOENT : -EIO;
}

static int call(json_object *req, json_object **res, agent_err *e)
{
	int rc;

	jobs_host_rdlock();
	rc = panel_agent_call(req, 31, res, e); /* retried 1+2+4+8+16 s while the agent is away */
	jobs_host_unlock();
	json_object_put(req);
	return rc;
}

/* Takes back the agent's work and the template row, then fails the job with why. */
static void rollback(int64_t job_id, const tpl_row *t, const char *name, const char *why)
{
	agent_err e;
	char res[AUDIT_RESOURCE_MAX];

	job_set_step(job_id, "rollback");
	if (call(agent_request("template.remove", name), NULL, &e) != 0)
		log_error("template %s: removing a failed import failed: %s", name, e.msg);
	if (!db_exec_id("DELETE FROM templates WHERE id=? AND state='importing'", t->id))
		log_error("template %lld: removing the row of a failed import failed",
		          (long long)t->id);
	snprintf(res, sizeof(res), "template/%lld", (long long)t->id);
	audit_system("template.import.failed", res, why);
	job_finish(job_id, "template.import", 0, why);
}

void template_import_run(int64_t job_id)
{
	char name[TEMPLATE_NAME_MAX], v[64], res[AUDIT_RESOURCE_MAX], detail[160];
	json_object *req, *out = NULL, *f;
	agent_err e;
	tpl_row t;
	int rc = load(job_id, &t);

	if (rc == -ENOENT) {
		job_finish(job_id, "template.import", 0, "the template no longer exists");
		return;
	}
	if (rc) {
		job_requeue(job_id);
		return;
	}
	if (strcmp(t.state, "ready") == 0) { /* finished before a crash */
		job_finish(job_id, "template.import", 0, NULL);
		tpl_row_free(&t);
		return;
	}
	snprintf(name, sizeof(name), "tpl-%lld", (long long)t.id);
	if (t.url) {
		long long max_gib = 20;

		job_set_step(job_id, "download");
		req = agent_request("template.fetch", name);
		json_object_object_add(req, "url", json_object_new_string(t.url));
		if (t.sha256)
			json_object_object_add(req, "sha256", json_object_new_string(t.sha256));
		if (setting_get("images.max_gib", "20", v, sizeof(v)))
			max_gib = atoll(v) > 0 ? atoll(v) : 20;
		json_object_object_add(req, "max_bytes",
		                       json_object_new_int64(max_gib * GIB_BYTES));
		setting_get("images.allow_http", "false", v, sizeof(v));
		json_object_object_add(req, "allow_http",
		                       json_object_new_boolean(strcmp(v, "true") == 0));
		if (call(req, NULL, &e) != 0) {
			if (agent_unreachable(e.rc) && jobs_stopping()) {
				job_requeue(job_id);
			} else {
				rollback(job_id, &t, name, e.msg);
			}
			tpl_row_free(&t);
			return;
		}
	}
	job_set_step(job_id, "convert");
	req = agent_request("template.import", name);
	json_object_object_add(req, "disk_gib", json_object_new_int64(t.disk_gib));
	if (t.file)
		json_object_object_add(req, "file", json_object_new_string(t.file));
	if (call(req, &out, &e) != 0) {
		if (agent_unreachable(e.rc) && jobs_stopping())
			job_requeue(job_id);
		else
			rollback(job_id, &t, name, e.msg);
		tpl_row_free(&t);
		return;
	}
	snprintf(detail, sizeof(detail), "%s, %lld bytes",
	         json_object_object_get_ex(out, "format", &f) ? json_object_get_string(f) : "?",
	         json_object_object_get_ex(out, "virtual_bytes", &f)
	                 ? (long long)json_object_get_int64(f)
	                 : 0ll);
	json_object_put(out);
	if (!db_exec_id("UPDATE templates SET state='ready' WHERE id=?", t.id)) {
		job_requeue(job_id); /* the image exists; the next run marks it ready */
		tpl_row_free(&t);
		return;
	}
	snprintf(res, sizeof(res), "template/%lld", (long long)t.id);
	audit_system("template.import", res, detail);
	job_finish(job_id, "template.import", 0, NULL);
	tpl_row_free(&t);
}
