/* api_vps_settings.c — the guest settings of a VPS (issue 16 item 2; docs/openapi.yaml):
 * PATCH /vps/{id} {"hostname", "ssh_keys"} and POST /vps/{id}/actions/reset-password
 * {"password"?} (owner or admin). Reads and checks the body (hostname: a lower-case FQDN; keys:
 * common/sshkey.h; a customer's password: guest_password_ok), hashes a password
 * (guest_password.h: the plaintext is answered once when xvps made it and never stored, logged
 * or sent to the agent), then guest_settings_apply() writes and queues the vps.update job that
 * re-writes the seed. Every change and every refusal is audited (vps.settings[.refused],
 * vps.password.reset[.refused]); a customer gets 404 for another customer's VPS. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../common/guestval.h"
#include "../common/jsonutil.h"
#include "../common/sshkey.h"
#include "api.h"
#include "audit.h"
#include "guest_password.h"
#include "guest_settings.h"
#include "http.h"
#include "jobs.h"

/* Audits action on vps/id with "(status): field detail". */
static void audit_refused(http_req *rq, const char *action, int64_t id, int status,
                          const char *field, const char *detail)
{
	char res[AUDIT_RESOURCE_MAX], why[AUDIT_DETAIL_MAX];

	snprintf(res, sizeof(res), "vps/%lld", (long long)id);
	snprintf(why, sizeof(why), "(%d): %s%s%s", status, field ? field : "", field ? " " : "",
	         detail ? detail : "refused");
	audit(rq, action, res, why);
}

/* The VPS of the path, visible to rq: true with *id; else answered (404 audited) and false. */
static bool settings_vps(http_req *rq, const char *refused, int64_t *id)
{
	char state[VPS_STATE_MAX];
	int rc;

	if (!parse_id(rq->params[0], id)) {
		reply_not_found(rq, "VPS");
		return false;
	}
	rc = api_vps_visible(rq, *id, state, NULL);
	if (rc == -ENOENT) {
		audit_refused(rq, refused, *id, 404, NULL, "VPS not found");
		reply_not_found(rq, "VPS");
		return false;
	}
	if (rc != 0) {
		reply_db_error(rq);
		return false;
	}
	return true;
}

/* A 422 naming field, audited. Returns false. */
static bool refuse_field(http_req *rq, const char *refused, int64_t id, const char *field,
                         const char *detail)
{
	audit_refused(rq, refused, id, 422, field, detail);
	reply_field(rq, field, detail);
	return false;
}

/* Checks "ssh_keys" (an array, possibly empty) into its compact JSON text (owned by keys). */
static bool read_keys(http_req *rq, int64_t id, json_object *keys, const char **json_out)
{
	size_t n = json_object_array_length(keys);

	for (size_t i = 0; i < n; i++) {
		const char *k = json_object_get_string(json_object_array_get_idx(keys, i));
		const char *why = NULL;
		char d[PROBLEM_DETAIL_MAX];

		if (!ssh_key_parse(k, NULL, &why)) {
			snprintf(d, sizeof(d), "key %zu: %s", i + 1, why ? why : "does not parse");
			return refuse_field(rq, "vps.settings.refused", id, "ssh_keys", d);
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(k, json_object_get_string(json_object_array_get_idx(keys, j))) ==
			    0)
				return refuse_field(rq, "vps.settings.refused", id, "ssh_keys",
				                    "holds the same key twice");
	}
	*json_out = json_compact(keys);
	return true;
}

/* Answers a settings change: 202 {"vps","job","applies","password_serial"[,"password"]}, or
 * 200 with job null when nothing differed; a refusal as its problem (audited). */
static void answer(http_req *rq, const char *action, int64_t id, const guest_change *c,
                   const char *generated)
{
	char refused[48], res[AUDIT_RESOURCE_MAX], text[AUDIT_DETAIL_MAX], what[GUEST_PENDING_MAX];
	const char *detail = NULL, *field = NULL;
	uint32_t serial = 0;
	int64_t job = 0;
	json_object *resp;
	int status;

	snprintf(refused, sizeof(refused), "%s.refused", action);
	status = guest_settings_apply(id, c, rq->user.id, &job, &serial, what, &detail, &field);
	if (status != 0) {
		audit_refused(rq, refused, id, status, field, detail);
		if (status == 404)
			reply_not_found(rq, "VPS");
		else if (status == 500)
			reply_db_error(rq);
		else
			reply_problem(rq, status, NULL, detail, field);
		return;
	}
	if (job > 0) {
		jobs_wake();
		snprintf(res, sizeof(res), "vps/%lld", (long long)id);
		if (c->password_hash)
			snprintf(text, sizeof(text), "root password %s, serial %u, job %lld",
			         generated ? "generated" : "set by the caller", (unsigned)serial,
			         (long long)job);
		else
			snprintf(text, sizeof(text), "%s%s%s, job %lld", what,
			         c->hostname && strstr(what, "hostname") ? " -> " : "",
			         c->hostname && strstr(what, "hostname") ? c->hostname : "",
			         (long long)job);
		audit(rq, action, res, text);
	}
	resp = json_object_new_object();
	json_object_object_add(resp, "vps", vps_json(id, 0));
	json_object_object_add(resp, "job", job > 0 ? job_json(job) : NULL);
	json_object_object_add(resp, "applies", json_object_new_string("next_boot"));
	json_object_object_add(resp, "password_serial", json_object_new_int64(serial));
	if (c->password_hash)
		json_object_object_add(resp, "password", json_str_or_null(generated));
	reply_json(rq, job > 0 ? 202 : 200, resp);
}

void api_vps_patch(http_req *rq)
{
	static const char *const fields[] = {"hostname", "ssh_keys", NULL};
	json_field_error e = {0};
	guest_change c = {0};
	json_object *keys = NULL;
	const char *why = NULL;
	int64_t id;

	if (!settings_vps(rq, "vps.settings.refused", &id))
		return;
	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "hostname", false, &c.hostname, &e) ||
	    !json_get_str_array(rq->json, "ssh_keys", false, GUEST_MAX_SSH_KEYS, &keys, &e)) {
		refuse_field(rq, "vps.settings.refused", id, e.field ? e.field : "body",
		             e.detail ? e.detail : "is invalid");
		return;
	}
	if (!c.hostname && !keys) {
		refuse_field(rq, "vps.settings.refused", id, "hostname",
		             "give hostname, ssh_keys or both");
		return;
	}
	if (c.hostname && !valid_fqdn(c.hostname, &why)) {
		refuse_field(rq, "vps.settings.refused", id, "hostname",
		             why ? why : "is not a fully qualified hostname");
		return;
	}
	if (keys && !read_keys(rq, id, keys, &c.ssh_keys_json))
		return;
	answer(rq, "vps.settings", id, &c, NULL);
}

void api_vps_reset_password(http_req *rq)
{
	static const char *const fields[] = {"password", NULL};
	char gen[GUEST_PW_GEN_LEN + 1], hash[GUEST_PW_HASH_MAX + 1];
	json_field_error e = {0};
	const char *pw = NULL, *why = NULL;
	guest_change c = {0};
	int64_t id;

	if (!settings_vps(rq, "vps.password.reset.refused", &id))
		return;
	if (rq->json && (!json_only_fields(rq->json, fields, &e) ||
	                 !json_get_str(rq->json, "password", false, &pw, &e))) {
		refuse_field(rq, "vps.password.reset.refused", id, e.field ? e.field : "body",
		             e.detail ? e.detail : "is invalid");
		return;
	}
	if (pw && !guest_password_ok(pw, &why)) {
		refuse_field(rq, "vps.password.reset.refused", id, "password", why);
		return;
	}
	if (!pw) {
		if (guest_password_generate(gen) != 0) {
			reply_db_error(rq);
			return;
		}
	}
	if (guest_password_hash(pw ? pw : gen, hash, sizeof(hash)) != 0) {
		explicit_bzero(gen, sizeof(gen));
		reply_problem(rq, 500, NULL, "the password could not be hashed", NULL);
		return;
	}
	c.password_hash = hash;
	answer(rq, "vps.password.reset", id, &c, pw ? NULL : gen);
	explicit_bzero(gen, sizeof(gen));
}
