/* api_templates.c — /templates: OS images a VPS disk is cloned from (docs/openapi.yaml). Listing is
 * for every user; creating and deleting are admin-only and go through the agent synchronously,
 * so a template row exists exactly when the agent made its image: nothing is ever half-made. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "agent_client.h"
#include "api.h"
#include "api_images.h"
#include "audit.h"
#include "http.h"
#include "store.h"

#define TEMPLATE_COLS "id, name, os, disk_gib, boot, source, created_at, seed, state"

static json_object *template_from_row(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_id(sqlite3_column_int64(st, 0)));
	json_object_object_add(o, "name",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 1)));
	json_object_object_add(o, "os",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 2)));
	json_object_object_add(o, "disk_gib", json_object_new_int64(sqlite3_column_int64(st, 3)));
	json_object_object_add(o, "boot",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 4)));
	json_object_object_add(o, "source",
	                       json_str_or_null((const char *)sqlite3_column_text(st, 5)));
	json_object_object_add(o, "created_at", json_time(sqlite3_column_int64(st, 6)));
	json_object_object_add(o, "seed",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 7)));
	json_object_object_add(o, "state",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 8)));
	return o;
}

json_object *template_json(int64_t id)
{
	sqlite3_stmt *st = db_stmt("SELECT " TEMPLATE_COLS " FROM templates WHERE id=?");
	json_object *o = NULL;

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		o = template_from_row(st);
	sqlite3_reset(st);
	return o;
}

/* An image file name inside the agent's import directory: [A-Za-z0-9._-]{1,128}, no leading
 * dot (so never "." or ".." or a hidden file), never a path. */
static bool valid_source(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 128 || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

int template_agent_ensure(int64_t id, int64_t disk_gib, const char *source, agent_err *e)
{
	json_object *req;
	char name[TEMPLATE_NAME_MAX];
	int rc;

	snprintf(name, sizeof(name), "tpl-%lld", (long long)id);
	req = agent_request("template.ensure", name);
	json_object_object_add(req, "disk_gib", json_object_new_int64(disk_gib));
	if (source)
		json_object_object_add(req, "source", json_object_new_string(source));
	jobs_host_rdlock();
	rc = panel_agent_call(req, 0, NULL, e);
	jobs_host_unlock();
	json_object_put(req);
	return rc;
}

/* Answers an agent failure: its own validation verdicts as 422, the rest as 502/503. */
static void reply_agent_error(http_req *rq, const agent_err *e)
{
	if (e->rc == 1 && (strcmp(e->code, "invalid") == 0 || strcmp(e->code, "not_found") == 0)) {
		const char *field = e->field[0] ? e->field : "source";

		if (strcmp(field, "source") != 0 && strcmp(field, "disk_gib") != 0)
			field = "source";
		reply_problem(rq, 422, "Unprocessable Content", e->msg, field);
	} else if (e->rc == 1) {
		reply_problem(rq, 502, "Bad Gateway", e->msg, NULL);
	} else if (agent_unreachable(e->rc)) {
		reply_problem(rq, 503, "Service Unavailable", "the host agent is not reachable",
		              NULL);
	} else {
		reply_problem(rq, 502, "Bad Gateway", e->msg, NULL);
	}
}

void api_templates_list(http_req *rq)
{
	const api_page page = {
	        .count_sql = "SELECT count(*) FROM templates",
	        .rows_sql =
	                "SELECT " TEMPLATE_COLS " FROM templates ORDER BY id LIMIT ?1 OFFSET ?2",
	        .item_of_row = template_from_row,
	};

	api_reply_page(rq, &page);
}

void api_templates_get(http_req *rq)
{
	json_object *o;
	int64_t id;

	if (!parse_id(rq->params[0], &id) || !(o = template_json(id))) {
		reply_not_found(rq, "template");
		return;
	}
	reply_json(rq, 200, o);
}

void api_templates_create(http_req *rq)
{
	static const char *const fields[] = {"name", "os",  "disk_gib", "boot",   "source",
	                                     "seed", "url", "file",     "sha256", NULL};
	json_field_error e = {0};
	const char *name = NULL, *os = NULL, *boot = NULL, *source = NULL, *why = NULL,
	           *seed = NULL, *url = NULL, *file = NULL, *sha256 = NULL;
	int64_t disk_gib = 0, id;
	sqlite3_stmt *st;
	agent_err ae;
	json_object *o;
	char res[AUDIT_RESOURCE_MAX];
	int r;

	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "name", true, &name, &e) ||
	    !json_get_str(rq->json, "os", true, &os, &e) ||
	    !json_get_int(rq->json, "disk_gib", true, 1, 16384, &disk_gib, &e) ||
	    !json_get_str(rq->json, "boot", true, &boot, &e) ||
	    !json_get_str(rq->json, "source", false, &source, &e) ||
	    !json_get_str(rq->json, "seed", false, &seed, &e) ||
	    !json_get_str(rq->json, "url", false, &url, &e) ||
	    !json_get_str(rq->json, "file", false, &file, &e) ||
	    !json_get_str(rq->json, "sha256", false, &sha256, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	e.status = 422;
	if (!valid_label(name, &why)) {
		e.field = "name";
		e.detail = why ? why : "is not a valid name";
	} else if (!valid_label(os, &why)) {
		e.field = "os";
		e.detail = why ? why : "is not a valid OS label";
	} else if (strcmp(boot, "pvh") != 0 && strcmp(boot, "pv") != 0 &&
	           strcmp(boot, "hvm") != 0) {
		e.field = "boot";
		e.detail = "must be one of pvh, pv, hvm";
	} else if (seed && strcmp(seed, "xvps") != 0 && strcmp(seed, "nocloud") != 0) {
		e.field = "seed";
		e.detail = "must be xvps or nocloud";
	} else if (source && (url || file)) {
		e.field = "source";
		e.detail = "give one of source, url and file";
	} else if (source && !valid_source(source)) {
		e.field = "source";
		e.detail = "must be a file name of 1 to 128 characters [A-Za-z0-9._-], not "
		           "starting with a dot";
	}
	if (e.field) {
		reply_field_error(rq, &e);
		return;
	}
	if (url || file || sha256) { /* a cloud image, imported by a job (api_images.c) */
		const template_new t = {name,     os,  boot, seed ? seed : "nocloud",
		                        disk_gib, url, file, sha256};
		api_template_import(rq, &t);
		return;
	}

	st = db_stmt("INSERT INTO templates(name, os, disk_gib, boot, source, created_at, seed) "
	             "VALUES(?,?,?,?,?,?,?)");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, os, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, disk_gib);
	sqlite3_bind_text(st, 4, boot, -1, SQLITE_TRANSIENT);
	if (source)
		sqlite3_bind_text(st, 5, source, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, now_unix());
	sqlite3_bind_text(st, 7, seed ? seed : "xvps", -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		if (db_unique_violation())
			reply_problem(rq, 409, NULL, "a template with this name exists", "name");
		else
			reply_db_error(rq);
		return;
	}
	id = db_last_id();

	/* The row exists first so that the reconciler knows the name while the image is made. */
	if (template_agent_ensure(id, disk_gib, source, &ae) != 0) {
		if (!db_exec_id("DELETE FROM templates WHERE id=?", id))
			log_error("template %lld: removing the row after a failed ensure failed",
			          (long long)id);
		snprintf(res, sizeof(res), "template/%lld", (long long)id);
		audit(rq, "template.create.failed", res, ae.msg);
		reply_agent_error(rq, &ae);
		return;
	}
	snprintf(res, sizeof(res), "template/%lld", (long long)id);
	audit(rq, "template.create", res, name);
	o = template_json(id);
	if (!o) {
		reply_db_error(rq);
		return;
	}
	reply_json(rq, 201, o);
}

void api_templates_delete(http_req *rq)
{
	json_object *o, *req;
	int64_t id;
	agent_err ae;
	bool used;
	char name[TEMPLATE_NAME_MAX], res[AUDIT_RESOURCE_MAX];

	if (!parse_id(rq->params[0], &id) || !(o = template_json(id))) {
		reply_not_found(rq, "template");
		return;
	}
	json_object_put(o);
	if (!db_exists_id("SELECT 1 FROM templates WHERE id=? AND state='importing'", id, &used)) {
		reply_db_error(rq);
		return;
	}
	if (used) {
		reply_problem(rq, 409, NULL, "the template's image is being imported", NULL);
		return;
	}
	if (!db_exists_id("SELECT 1 FROM vps WHERE template_id=? LIMIT 1", id, &used)) {
		reply_db_error(rq);
		return;
	}
	if (used) {
		reply_problem(rq, 409, NULL, "the template is in use by a VPS", NULL);
		return;
	}
	snprintf(name, sizeof(name), "tpl-%lld", (long long)id);
	req = agent_request("template.remove", name);
	jobs_host_rdlock();
	int rc = panel_agent_call(req, 0, NULL, &ae);
	jobs_host_unlock();
	json_object_put(req);
	if (rc != 0) {
		reply_agent_error(rq, &ae);
		return;
	}
	/* A VPS created meanwhile would hold the row through its foreign key: then 409. */
	if (!db_exec_id("DELETE FROM templates WHERE id=?", id)) {
		if ((sqlite3_extended_errcode(db()) & 0xff) == SQLITE_CONSTRAINT)
			reply_problem(rq, 409, NULL, "the template is in use by a VPS", NULL);
		else
			reply_db_error(rq);
		return;
	}
	snprintf(res, sizeof(res), "template/%lld", (long long)id);
	audit(rq, "template.delete", res, name);
	reply_empty(rq, 204);
}
