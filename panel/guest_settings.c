/* guest_settings.c — the guest settings of one VPS (guest_settings.h; issue 16 item 2). */
#include "guest_settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "jobs.h"
#include "store.h"

#define HOSTNAME_CHARS 256

typedef struct guest_now {
	char state[VPS_STATE_MAX];
	char hostname[HOSTNAME_CHARS];
	char pending[GUEST_PENDING_MAX];
	char *keys; /* the ssh_keys column (heap) */
	uint32_t serial;
} guest_now;

/* 0 found, 1 absent, -1 database error. */
static int load_now(int64_t vps_id, guest_now *g)
{
	sqlite3_stmt *st =
	        db_stmt("SELECT state, hostname, COALESCE(ssh_keys, '[]'), "
	                "COALESCE(guest_pending, ''), password_serial FROM vps WHERE id=?");
	int r;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, vps_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		db_col_text(st, 0, g->state, sizeof(g->state));
		db_col_text(st, 1, g->hostname, sizeof(g->hostname));
		g->keys = strdup((const char *)sqlite3_column_text(st, 2));
		db_col_text(st, 3, g->pending, sizeof(g->pending));
		g->serial = (uint32_t)sqlite3_column_int64(st, 4);
		if (!g->keys)
			r = SQLITE_NOMEM;
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? 1 : -1;
}

/* Adds word to the space-separated list (once). */
static void add_word(char *list, size_t len, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += wl)
		if ((p == list || p[-1] == ' ') && (p[wl] == ' ' || p[wl] == '\0'))
			return;
	if (strlen(list) + wl + 2 > len)
		return;
	if (list[0])
		strcat(list, " ");
	strcat(list, word);
}

static int apply_tx(int64_t vps_id, const guest_change *c, int64_t actor, guest_now *g,
                    int64_t *job_out, char *what, const char **detail, const char **field)
{
	bool change_host, change_keys;
	sqlite3_stmt *st;
	int r = load_now(vps_id, g);

	if (r != 0) {
		*detail = r > 0 ? "VPS not found" : "database error";
		return r > 0 ? 404 : 500;
	}
	r = vps_change_gate(
	        vps_id, g->state,
	        "the VPS is suspended; its settings cannot change until it is unsuspended",
	        "a job is queued or running on the VPS; change its settings when that job is done",
	        detail);
	if (r != 0)
		return r;
	change_host = c->hostname && strcmp(c->hostname, g->hostname) != 0;
	change_keys = c->ssh_keys_json && strcmp(c->ssh_keys_json, g->keys) != 0;
	if (change_host) {
		st = db_stmt("SELECT 1 FROM vps WHERE hostname=?1 AND id<>?2");
		if (!st) {
			*detail = "database error";
			return 500;
		}
		sqlite3_bind_text(st, 1, c->hostname, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, vps_id);
		r = sqlite3_step(st);
		sqlite3_reset(st);
		if (r != SQLITE_DONE) {
			*field = r == SQLITE_ROW ? "hostname" : NULL;
			*detail = r == SQLITE_ROW ? "another VPS has this hostname"
			                          : "database error";
			return r == SQLITE_ROW ? 409 : 500;
		}
		add_word(what, GUEST_PENDING_MAX, "hostname");
	}
	if (change_keys)
		add_word(what, GUEST_PENDING_MAX, "ssh_keys");
	if (c->password_hash)
		add_word(what, GUEST_PENDING_MAX, "root_password");
	if (!what[0])
		return 0; /* nothing differs: no job */
	for (char *w = what, *sp; *w; w = sp ? sp + 1 : w + strlen(w)) {
		char word[24];

		sp = strchr(w, ' ');
		snprintf(word, sizeof(word), "%.*s", (int)(sp ? (size_t)(sp - w) : strlen(w)), w);
		add_word(g->pending, sizeof(g->pending), word);
		if (!sp)
			break;
	}
	st = db_stmt("UPDATE vps SET hostname=COALESCE(?1, hostname), "
	             "ssh_keys=COALESCE(?2, ssh_keys), "
	             "root_password_hash=COALESCE(?3, root_password_hash), "
	             "password_serial=password_serial + (?3 IS NOT NULL), guest_pending=?4 "
	             "WHERE id=?5");
	if (!st) {
		*detail = "database error";
		return 500;
	}
	if (change_host)
		sqlite3_bind_text(st, 1, c->hostname, -1, SQLITE_TRANSIENT);
	if (change_keys)
		sqlite3_bind_text(st, 2, c->ssh_keys_json, -1, SQLITE_TRANSIENT);
	if (c->password_hash)
		sqlite3_bind_text(st, 3, c->password_hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, g->pending, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, vps_id);
	if (!db_step_done(st) || (*job_out = job_enqueue("vps.update", vps_id, actor)) <= 0) {
		*job_out = 0;
		*detail = "database error";
		return 500;
	}
	if (c->password_hash)
		g->serial++;
	return 0;
}

int guest_settings_apply(int64_t vps_id, const guest_change *c, int64_t actor, int64_t *job_out,
                         uint32_t *serial_out, char what[GUEST_PENDING_MAX], const char **detail,
                         const char **field)
{
	guest_now g = {0};
	int status;

	*job_out = 0;
	*serial_out = 0;
	*detail = NULL;
	*field = NULL;
	what[0] = '\0';
	if (db_begin() != 0) {
		*detail = "database error";
		return 500;
	}
	status = apply_tx(vps_id, c, actor, &g, job_out, what, detail, field);
	free(g.keys);
	if (status != 0 || db_commit() != 0) {
		db_rollback();
		*job_out = 0;
		what[0] = '\0';
		if (status == 0) {
			*detail = "database error";
			status = 500;
		}
		return status;
	}
	*serial_out = g.serial;
	return 0;
}

bool guest_spec_add(json_object *spec, int64_t vps_id)
{
	sqlite3_stmt *st =
	        db_stmt("SELECT root_password_hash, password_serial FROM vps WHERE id=?");
	json_object *res = json_object_new_array();
	int r;

	if (!st) {
		json_object_put(res);
		return false;
	}
	sqlite3_bind_int64(st, 1, vps_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
	    sqlite3_column_int64(st, 1) > 0) {
		json_object_object_add(
		        spec, "root_password_hash",
		        json_object_new_string((const char *)sqlite3_column_text(st, 0)));
		json_object_object_add(spec, "password_serial",
		                       json_object_new_int64(sqlite3_column_int64(st, 1)));
	}
	sqlite3_reset(st);
	if (r != SQLITE_ROW) {
		json_object_put(res);
		return false;
	}
	/* The pools of the active addresses, in the spec's own address order. */
	st = db_stmt("SELECT pl.resolvers FROM ip_addresses a JOIN ip_pools pl ON pl.id=a.pool_id "
	             "WHERE a.vps_id=? AND a.state='active' AND pl.resolvers IS NOT NULL "
	             "ORDER BY pl.family, a.extra, a.pool_id, a.address");
	if (!st) {
		json_object_put(res);
		return false;
	}
	sqlite3_bind_int64(st, 1, vps_id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *list = json_tokener_parse((const char *)sqlite3_column_text(st, 0));
		size_t n = list && json_object_is_type(list, json_type_array)
		                   ? json_object_array_length(list)
		                   : 0;

		for (size_t i = 0; i < n && json_object_array_length(res) < GUEST_MAX_RESOLVERS;
		     i++) {
			const char *a = json_object_get_string(json_object_array_get_idx(list, i));
			bool dup = false;

			for (size_t j = 0; j < json_object_array_length(res) && !dup; j++)
				dup = strcmp(json_object_get_string(
				                     json_object_array_get_idx(res, j)),
				             a) == 0;
			if (!dup && a)
				json_object_array_add(res, json_object_new_string(a));
		}
		json_object_put(list);
	}
	sqlite3_reset(st);
	json_object_object_add(spec, "resolvers", res);
	return r == SQLITE_DONE;
}

void guest_pending_clear(int64_t vps_id)
{
	sqlite3_stmt *st = db_stmt("UPDATE vps SET guest_pending=NULL WHERE id=?");

	if (!st)
		return;
	sqlite3_bind_int64(st, 1, vps_id);
	db_step_done(st); /* logged */
}
