/* api_billing.c — /settings (admin), /customers/{id}/balance, /customers/{id}/billing and
 * /customers/{id}/payments (issue 14 items 1-3; docs/openapi.yaml, docs/billing.md). Money goes
 * through balance.c; this file validates and answers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../billing/currency.h"
#include "../common/util.h"
#include "api.h"
#include "api_billing.h"
#include "audit.h"
#include "balance.h"
#include "invoice.h"
#include "store.h"

#define PROVIDER_NAME_CHARS 200
#define PROVIDER_ADDR_CHARS 1000

bool billing_text_ok(const char *s, size_t max_chars, bool newlines, const char **why_out)
{
	size_t chars = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p < 0x20 && !(newlines && *p == '\n')) || *p == 0x7f) {
			*why_out = "must not contain control characters";
			return false;
		}
		if ((*p & 0xc0) != 0x80)
			chars++;
	}
	if (chars > max_chars) {
		*why_out = max_chars == 200    ? "is longer than 200 characters"
		           : max_chars == 1000 ? "is longer than 1000 characters"
		                               : "is too long";
		return false;
	}
	return true;
}

bool api_customer_visible(http_req *rq, int64_t *id_out)
{
	bool exists = false;

	if (!parse_id(rq->params[0], id_out) || (!rq->user.is_admin && rq->user.id != *id_out)) {
		reply_not_found(rq, "customer");
		return false;
	}
	if (!db_exists_id("SELECT 1 FROM users WHERE id=? AND role='customer'", *id_out, &exists)) {
		reply_db_error(rq);
		return false;
	}
	if (!exists) {
		reply_not_found(rq, "customer");
		return false;
	}
	return true;
}

/* ---- settings ------------------------------------------------------------------------------ */

static json_object *settings_json(void)
{
	json_object *o = json_object_new_object();
	char currency[INVOICE_CURRENCY_MAX], name[PROVIDER_NAME_CHARS * 4 + 1],
	        addr[PROVIDER_ADDR_CHARS * 4 + 1];
	int exp = 2;

	billing_currency(currency);
	currency_lookup(currency, &exp);
	billing_setting("provider_name", name, sizeof(name));
	billing_setting("provider_address", addr, sizeof(addr));
	json_object_object_add(o, "currency", json_object_new_string(currency));
	json_object_object_add(o, "currency_exponent", json_object_new_int(exp));
	json_object_object_add(o, "provider_name", json_object_new_string(name));
	json_object_object_add(o, "provider_address", json_object_new_string(addr));
	return o;
}

void api_settings_get(http_req *rq)
{
	reply_json(rq, 200, settings_json());
}

static bool put_setting(const char *name, const char *value)
{
	sqlite3_stmt *st = db_stmt("INSERT INTO settings(name, value) VALUES(?1,?2) "
	                           "ON CONFLICT(name) DO UPDATE SET value=?2");

	if (!st)
		return false;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
	return db_step_done(st);
}

void api_settings_patch(http_req *rq)
{
	static const char *const fields[] = {"currency", "provider_name", "provider_address", NULL};
	json_field_error e = {0};
	const char *currency = NULL, *name = NULL, *addr = NULL, *why = NULL;
	char old[INVOICE_CURRENCY_MAX];
	bool money = false;

	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "currency", false, &currency, &e) ||
	    !json_get_str(rq->json, "provider_name", false, &name, &e) ||
	    !json_get_str(rq->json, "provider_address", false, &addr, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	if (currency && !currency_lookup(currency, NULL)) {
		reply_field(rq, "currency", "must be an ISO 4217 currency code such as EUR or USD");
		return;
	}
	if (name && !billing_text_ok(name, PROVIDER_NAME_CHARS, false, &why)) {
		reply_field(rq, "provider_name", why);
		return;
	}
	if (addr && !billing_text_ok(addr, PROVIDER_ADDR_CHARS, true, &why)) {
		reply_field(rq, "provider_address", why);
		return;
	}
	if (db_begin() != 0) {
		reply_db_error(rq);
		return;
	}
	billing_currency(old);
	if (currency && strcmp(currency, old) != 0) {
		if (!db_exists_id("SELECT 1 WHERE ?1=?1 AND (EXISTS (SELECT 1 FROM invoices) OR "
		                  "EXISTS (SELECT 1 FROM payments) OR EXISTS (SELECT 1 FROM "
		                  "credit_notes) OR EXISTS (SELECT 1 FROM prepaid_debits))",
		                  0, &money))
			goto db_fail;
		if (money) {
			db_rollback();
			reply_problem(
			        rq, 409, NULL,
			        "the currency cannot change once invoices, credit notes, payments "
			        "or prepaid debits exist",
			        "currency");
			return;
		}
	}
	if ((currency && !put_setting("currency", currency)) ||
	    (name && !put_setting("provider_name", name)) ||
	    (addr && !put_setting("provider_address", addr)))
		goto db_fail;
	if (db_commit() != 0) {
		reply_db_error(rq);
		return;
	}
	audit(rq, "settings.update", "settings", currency ? currency : "");
	reply_json(rq, 200, settings_json());
	return;
db_fail:
	db_rollback();
	reply_db_error(rq);
}

/* ---- balance and prepaid ------------------------------------------------------------------- */

static void reply_balance(http_req *rq, int64_t id, int status)
{
	balance b;

	if (balance_load(id, now_unix(), true, &b) != 0) {
		reply_db_error(rq);
		return;
	}
	reply_json(rq, status, balance_json(&b));
}

void api_customer_balance(http_req *rq)
{
	int64_t id;

	if (api_customer_visible(rq, &id))
		reply_balance(rq, id, 200);
}

void api_customer_billing_patch(http_req *rq)
{
	static const char *const fields[] = {"prepaid", "low_balance_cents", "suspend_below_cents",
	                                     NULL};
	json_field_error e = {0};
	bool prepaid = false, has_pp, has_low, has_sb;
	int64_t id, low = 0, sb = 0;
	balance b;
	char res[AUDIT_RESOURCE_MAX], detail[AUDIT_DETAIL_MAX];
	int rc;

	if (!api_customer_visible(rq, &id))
		return;
	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_bool(rq->json, "prepaid", false, &prepaid, &e) ||
	    !json_get_int(rq->json, "low_balance_cents", false, -BALANCE_AMOUNT_MAX,
	                  BALANCE_AMOUNT_MAX, &low, &e) ||
	    !json_get_int(rq->json, "suspend_below_cents", false, -BALANCE_AMOUNT_MAX, 0, &sb,
	                  &e)) {
		reply_field_error(rq, &e);
		return;
	}
	has_pp = json_object_object_get(rq->json, "prepaid") != NULL;
	has_low = json_object_object_get(rq->json, "low_balance_cents") != NULL;
	has_sb = json_object_object_get(rq->json, "suspend_below_cents") != NULL;
	if (balance_load(id, now_unix(), false, &b) != 0) {
		reply_db_error(rq);
		return;
	}
	if ((has_low ? low : b.low_balance_cents) < (has_sb ? sb : b.suspend_below_cents)) {
		reply_field(rq, has_low ? "low_balance_cents" : "suspend_below_cents",
		            "low_balance_cents must not be below suspend_below_cents");
		return;
	}
	rc = balance_set_billing(id, has_pp ? &prepaid : NULL, has_low ? &low : NULL,
	                         has_sb ? &sb : NULL, now_unix());
	if (rc == -EINVAL) {
		reply_field(rq, "suspend_below_cents",
		            "must be at most 0 and at most low_balance_cents");
		return;
	}
	if (rc != 0) {
		reply_db_error(rq);
		return;
	}
	snprintf(res, sizeof(res), "customer/%lld", (long long)id);
	if (balance_load(id, now_unix(), false, &b) == 0)
		snprintf(detail, sizeof(detail), "prepaid %s, low %lld, suspend below %lld",
		         b.prepaid ? "on" : "off", (long long)b.low_balance_cents,
		         (long long)b.suspend_below_cents);
	else
		detail[0] = '\0';
	audit(rq, "customer.billing", res, detail);
	reply_balance(rq, id, 200);
}

/* ---- payments ------------------------------------------------------------------------------ */

void api_customer_payments_list(http_req *rq)
{
	int64_t id;

	if (!api_customer_visible(rq, &id))
		return;
	const api_page page = {
	        .count_sql = "SELECT count(*) FROM payments WHERE customer_id=?1",
	        .rows_sql = "SELECT id FROM payments WHERE customer_id=?1 ORDER BY id DESC "
	                    "LIMIT ?2 OFFSET ?3",
	        .args = {id},
	        .nargs = 1,
	        .item_of_id = payment_json,
	};
	api_reply_page(rq, &page);
}

void api_payment_create_for(http_req *rq, int64_t id)
{
	static const char *const fields[] = {"amount_cents", "kind", "reference", "note", NULL};
	json_field_error e = {0};
	const char *kind = "payment", *ref = NULL, *note = NULL, *why = NULL;
	int64_t amount = 0, pay = 0;
	char res[AUDIT_RESOURCE_MAX], detail[AUDIT_DETAIL_MAX];
	json_object *o;

	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_int(rq->json, "amount_cents", true, INT64_MIN, INT64_MAX, &amount, &e) ||
	    !json_get_str(rq->json, "kind", false, &kind, &e) ||
	    !json_get_str(rq->json, "reference", false, &ref, &e) ||
	    !json_get_str(rq->json, "note", false, &note, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	if (amount < 1 || amount > BALANCE_AMOUNT_MAX) {
		reply_field(rq, "amount_cents",
		            amount == 0 ? "must not be 0: a payment is at least 1 minor unit"
		                        : "must be between 1 and 1000000000000 (minor units)");
		return;
	}
	if (strcmp(kind, "payment") != 0 && strcmp(kind, "credit") != 0) {
		reply_field(rq, "kind", "must be payment or credit");
		return;
	}
	if (ref && !billing_text_ok(ref, BALANCE_REF_MAX, false, &why)) {
		reply_field(rq, "reference", why);
		return;
	}
	if (note && !billing_text_ok(note, BALANCE_TEXT_MAX, true, &why)) {
		reply_field(rq, "note", why);
		return;
	}
	if (balance_payment(id, kind, amount, ref, note, rq->user.id, rq->user.username, now_unix(),
	                    &pay) != 0 &&
	    pay == 0) {
		reply_db_error(rq);
		return;
	}
	snprintf(res, sizeof(res), "customer/%lld", (long long)id);
	snprintf(detail, sizeof(detail), "%s %lld", kind, (long long)amount);
	audit(rq, "customer.payment", res, detail);
	o = payment_json(pay);
	if (!o) {
		reply_db_error(rq);
		return;
	}
	reply_json(rq, 201, o);
}

void api_customer_payment_create(http_req *rq)
{
	int64_t id;

	if (api_customer_visible(rq, &id))
		api_payment_create_for(rq, id);
}
