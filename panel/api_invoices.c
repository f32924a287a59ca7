/* api_invoices.c — /invoices, /invoices/{id}, its credit notes, and a customer's final invoice
 * and draft (issue 14 item 2; docs/openapi.yaml, docs/billing.md). Issued invoices are never
 * changed: PATCH and DELETE answer 409; a credit note corrects one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "api.h"
#include "api_billing.h"
#include "audit.h"
#include "balance.h"
#include "invoice.h"
#include "store.h"

static json_object *invoice_item(int64_t id)
{
	return invoice_json(id, false, NULL);
}

void api_invoices_list(http_req *rq)
{
	const char *c = req_query(rq, "customer");
	int64_t customer = api_owner(rq);

	if (c && rq->user.is_admin && !parse_id(c, &customer)) {
		reply_problem(rq, 422, "Invalid query parameter", "customer must be a customer id",
		              "customer");
		return;
	}
	const api_page page = {
	        .count_sql = "SELECT count(*) FROM invoices WHERE ?1=0 OR customer_id=?1",
	        .rows_sql = "SELECT id FROM invoices WHERE ?1=0 OR customer_id=?1 "
	                    "ORDER BY issued_at DESC, id DESC LIMIT ?2 OFFSET ?3",
	        .args = {customer},
	        .nargs = 1,
	        .item_of_id = invoice_item,
	};
	api_reply_page(rq, &page);
}

/* The invoice of path parameter 0 when rq may see it; false after answering 404/500. */
static bool invoice_visible(http_req *rq, int64_t *id_out)
{
	bool found = false;
	sqlite3_stmt *st;

	if (!parse_id(rq->params[0], id_out)) {
		reply_not_found(rq, "invoice");
		return false;
	}
	st = db_stmt("SELECT 1 FROM invoices WHERE id=?1 AND (?2=0 OR customer_id=?2)");
	if (!st) {
		reply_db_error(rq);
		return false;
	}
	sqlite3_bind_int64(st, 1, *id_out);
	sqlite3_bind_int64(st, 2, api_owner(rq));
	found = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (!found)
		reply_not_found(rq, "invoice");
	return found;
}

void api_invoices_get(http_req *rq)
{
	const char *fmt = req_query(rq, "format"), *accept = req_header(rq, "Accept");
	bool csv;
	int64_t id;

	if (fmt && strcmp(fmt, "csv") != 0 && strcmp(fmt, "json") != 0) {
		reply_problem(rq, 422, "Invalid query parameter", "format must be json or csv",
		              "format");
		return;
	}
	if (!invoice_visible(rq, &id))
		return;
	csv = fmt ? strcmp(fmt, "csv") == 0 : (accept && strstr(accept, "text/csv") != NULL);
	if (csv) {
		char *body = NULL, number[INVOICE_NUMBER_MAX], disp[INVOICE_NUMBER_MAX + 48];
		size_t len = 0;

		if (invoice_csv(id, &body, &len, number) != 0) {
			reply_db_error(rq);
			return;
		}
		snprintf(disp, sizeof(disp), "attachment; filename=\"%s.csv\"", number);
		reply_raw(rq, 200, "text/csv; charset=utf-8", body, len);
		reply_header(rq, "Content-Disposition", disp);
		return;
	}
	json_object *o = invoice_json(id, true, NULL);
	if (!o) {
		reply_db_error(rq);
		return;
	}
	reply_json(rq, 200, o);
}

void api_invoices_change(http_req *rq)
{
	int64_t id;

	if (!invoice_visible(rq, &id))
		return;
	reply_problem(rq, 409, NULL,
	              "an issued invoice cannot be changed or deleted; issue a credit note "
	              "(POST /invoices/{id}/credit-notes)",
	              NULL);
}

void api_invoice_credit_note(http_req *rq)
{
	static const char *const fields[] = {"amount_cents", "reason", NULL};
	json_field_error e = {0};
	const char *reason = NULL, *why = NULL;
	int64_t id, amount = 0, cn = 0;
	bool has_amount;
	char res[AUDIT_RESOURCE_MAX], detail[AUDIT_DETAIL_MAX];
	json_object *o;
	int rc;

	if (!invoice_visible(rq, &id))
		return;
	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_int(rq->json, "amount_cents", false, INT64_MIN, INT64_MAX, &amount, &e) ||
	    !json_get_str(rq->json, "reason", true, &reason, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	has_amount = json_object_object_get(rq->json, "amount_cents") != NULL;
	if (has_amount && amount < 1) {
		reply_field(rq, "amount_cents", "must be at least 1 (minor units)");
		return;
	}
	if (!reason[0] || !billing_text_ok(reason, BALANCE_REF_MAX, false, &why)) {
		reply_field(rq, "reason", reason[0] ? why : "must not be empty");
		return;
	}
	rc = credit_note_create(id, has_amount ? amount : 0, reason, rq->user.id, now_unix(), &cn);
	if (rc == -ERANGE) {
		reply_field(rq, "amount_cents",
		            "is larger than the invoice's remaining amount (total less its credit "
		            "notes)");
		return;
	}
	if (rc == -EALREADY) {
		reply_problem(rq, 409, NULL, "the invoice is fully credited already", NULL);
		return;
	}
	if (rc == -ENOENT) {
		reply_not_found(rq, "invoice");
		return;
	}
	if (rc != 0 && cn == 0) {
		reply_db_error(rq);
		return;
	}
	o = credit_note_json(cn);
	if (!o) {
		reply_db_error(rq);
		return;
	}
	snprintf(res, sizeof(res), "invoice/%lld", (long long)id);
	snprintf(detail, sizeof(detail), "%s %lld",
	         json_object_get_string(json_object_object_get(o, "number")),
	         (long long)json_object_get_int64(json_object_object_get(o, "amount_cents")));
	audit(rq, "invoice.credit_note", res, detail);
	reply_json(rq, 201, o);
}

void api_customer_invoice_now(http_req *rq)
{
	int64_t id, inv = 0;
	char res[AUDIT_RESOURCE_MAX];
	json_object *o;
	int rc;

	if (!api_customer_visible(rq, &id))
		return;
	if (rq->json && !json_object_is_type(rq->json, json_type_object)) {
		reply_problem(rq, 400, NULL, "the body must be a JSON object", NULL);
		return;
	}
	if (rq->json && json_object_object_length(rq->json) > 0) {
		json_object_object_foreach(rq->json, k, v)
		{
			(void)v;
			reply_field(rq, k, "is not a field of this request");
			return;
		}
	}
	rc = invoice_close_now(id, now_unix(), &inv);
	if (rc == -ENODATA || rc == -ENOENT || rc == -EAGAIN) {
		reply_problem(rq, 409, NULL,
		              "nothing to invoice: the customer had no VPS in its open "
		              "billing period",
		              NULL);
		return;
	}
	if (rc != 0 || !(o = invoice_json(inv, true, NULL))) {
		reply_db_error(rq);
		return;
	}
	snprintf(res, sizeof(res), "invoice/%lld", (long long)inv);
	audit(rq, "invoice.issue", res,
	      json_object_get_string(json_object_object_get(o, "number")));
	reply_json(rq, 201, o);
}

void api_customer_draft_invoice(http_req *rq)
{
	int64_t id, from, to, now = now_unix();
	invoice_draft d;
	int rc;

	if (!api_customer_visible(rq, &id))
		return;
	rc = invoice_open_range(id, now, &from, &to);
	if (rc == -ENOENT) {
		memset(&d, 0, sizeof(d));
		d.customer_id = id;
		if (invoice_period_now(id, now, &d.from, &d.to) != 0) {
			reply_db_error(rq);
			return;
		}
		reply_json(rq, 200, invoice_draft_json(&d));
		return;
	}
	if (rc != 0 || invoice_rate(id, from, to, now, &d) != 0) {
		reply_db_error(rq);
		return;
	}
	reply_json(rq, 200, invoice_draft_json(&d));
	invoice_draft_free(&d);
}
