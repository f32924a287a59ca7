/* api_util.c — the helpers every REST handler shares: ids and times as the API writes them,
 * paging of collections, the "delete unless referenced" transaction and who may see which VPS.
 * Everything answers through reply_*(); nothing here talks to the agent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "api.h"
#include "http.h"
#include "store.h"

#define TIME_TEXT_MAX 32 /* format_rfc3339()'s out[32] */
#define ID_TEXT_MAX   24 /* "-9223372036854775808" and its NUL, with room */

bool parse_id(const char *s, int64_t *out)
{
	size_t len;
	long long v;
	char *end;

	if (!s)
		return false;
	len = strlen(s);
	if (len == 0 || len > 19 || s[0] < '1' || s[0] > '9')
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1)
		return false;
	*out = (int64_t)v;
	return true;
}

json_object *json_id(int64_t id)
{
	char buf[ID_TEXT_MAX];

	snprintf(buf, sizeof(buf), "%lld", (long long)id);
	return json_object_new_string(buf);
}

json_object *json_time(int64_t t)
{
	char buf[TIME_TEXT_MAX];

	if (t <= 0)
		return NULL;
	format_rfc3339(t, buf);
	return json_object_new_string(buf);
}

bool api_list_params(http_req *rq, int64_t *limit_out, int64_t *offset_out)
{
	const char *s;
	long long v;

	*limit_out = LIST_DEFAULT_LIMIT;
	*offset_out = 0;
	s = req_query(rq, "limit");
	if (s) {
		if (!parse_int_range(s, 1, LIST_MAX_LIMIT, &v)) {
			reply_problem(rq, 422, "Invalid query parameter",
			              "limit must be an integer from 1 to 1000", "limit");
			return false;
		}
		*limit_out = v;
	}
	s = req_query(rq, "offset");
	if (s) {
		if (!parse_int_range(s, 0, INT64_MAX, &v)) {
			reply_problem(rq, 422, "Invalid query parameter",
			              "offset must be a non-negative integer", "offset");
			return false;
		}
		*offset_out = v;
	}
	return true;
}

void api_total_header(http_req *rq, int64_t total)
{
	char buf[ID_TEXT_MAX];

	snprintf(buf, sizeof(buf), "%lld", (long long)total);
	reply_header(rq, "X-Total-Count", buf);
}

void api_reply_page(http_req *rq, const api_page *page)
{
	sqlite3_stmt *st;
	int64_t limit, offset, total = 0, *ids = NULL;
	json_object *arr;
	size_t n = 0;
	int a;

	if (!api_list_params(rq, &limit, &offset))
		return;
	st = db_stmt(page->count_sql);
	if (!st) {
		reply_db_error(rq);
		return;
	}
	for (a = 0; a < page->nargs; a++)
		sqlite3_bind_int64(st, a + 1, page->args[a]);
	if (sqlite3_step(st) == SQLITE_ROW)
		total = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	st = db_stmt(page->rows_sql);
	if (!st) {
		reply_db_error(rq);
		return;
	}
	for (a = 0; a < page->nargs; a++)
		sqlite3_bind_int64(st, a + 1, page->args[a]);
	sqlite3_bind_int64(st, page->nargs + 1, limit);
	sqlite3_bind_int64(st, page->nargs + 2, offset);
	if (page->item_of_row) {
		arr = json_object_new_array_ext((int)(limit < total ? limit : total));
		while (sqlite3_step(st) == SQLITE_ROW)
			json_object_array_add(arr, page->item_of_row(st));
		sqlite3_reset(st);
		goto out;
	}
	/* Builders with queries of their own run after the page was read. */
	ids = calloc((size_t)limit, sizeof(*ids));
	if (!ids) {
		sqlite3_reset(st);
		reply_db_error(rq);
		return;
	}
	while (n < (size_t)limit && sqlite3_step(st) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	arr = json_object_new_array_ext((int)n);
	for (size_t i = 0; i < n; i++) {
		json_object *o = page->item_of_id(ids[i]);

		if (o)
			json_object_array_add(arr, o);
	}
	free(ids);
out:
	api_total_header(rq, total);
	reply_json(rq, 200, arr);
}

bool api_delete_unless_used(http_req *rq, int64_t id, const char *used_sql, const char *in_use,
                            const char *delete_sql)
{
	bool used;

	if (db_begin() != 0) {
		reply_db_error(rq);
		return false;
	}
	if (!db_exists_id(used_sql, id, &used))
		goto db_fail;
	if (used) {
		db_rollback();
		reply_problem(rq, 409, NULL, in_use, NULL);
		return false;
	}
	if (!db_exec_id(delete_sql, id))
		goto db_fail;
	if (db_commit() != 0) {
		reply_db_error(rq);
		return false;
	}
	return true;
db_fail:
	db_rollback();
	reply_db_error(rq);
	return false;
}

int64_t api_owner(const http_req *rq)
{
	return rq->user.is_admin ? 0 : rq->user.id;
}

int api_vps_visible(const http_req *rq, int64_t id, char state[VPS_STATE_MAX], int64_t *plan_out)
{
	sqlite3_stmt *st = db_stmt("SELECT state, plan_id FROM vps WHERE id=?1 "
	                           "AND (?2=0 OR customer_id=?2)");
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, api_owner(rq));
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		db_col_text(st, 0, state, VPS_STATE_MAX);
		if (plan_out)
			*plan_out = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? -ENOENT : -EIO;
}
