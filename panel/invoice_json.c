/* invoice_json.c — invoices as the API shows them (invoice.h): JSON of a stored invoice or of a
 * draft, and the CSV export (RFC 4180). Reads only. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "invoice.h"
#include "store.h"

static const char *const kind_names[] = {"hours", "traffic_overage", "ipv4"};

static void add_line_fields(json_object *o, int64_t position, int64_t vps_id, const char *hostname,
                            const char *kind, int64_t plan_id, const char *description,
                            int64_t quantity, const char *unit, int64_t unit_price,
                            int64_t cap_cents, int64_t amount, int64_t from, int64_t to)
{
	json_object_object_add(o, "position", json_object_new_int64(position));
	json_object_object_add(o, "vps", json_id(vps_id));
	json_object_object_add(o, "hostname", json_object_new_string(hostname));
	json_object_object_add(o, "kind", json_object_new_string(kind));
	json_object_object_add(o, "plan", plan_id > 0 ? json_id(plan_id) : NULL);
	json_object_object_add(o, "description", json_object_new_string(description));
	json_object_object_add(o, "quantity", json_object_new_int64(quantity));
	json_object_object_add(o, "unit", json_object_new_string(unit));
	json_object_object_add(o, "unit_price_microcents", json_object_new_int64(unit_price));
	json_object_object_add(o, "cap_cents",
	                       cap_cents >= 0 ? json_object_new_int64(cap_cents) : NULL);
	json_object_object_add(o, "amount_cents", json_object_new_int64(amount));
	json_object_object_add(o, "from", json_time(from));
	json_object_object_add(o, "to", json_time(to));
}

json_object *invoice_draft_json(const invoice_draft *d)
{
	json_object *o = json_object_new_object(), *lines = json_object_new_array();
	char currency[INVOICE_CURRENCY_MAX], pname[256], paddr[1024], cname[128] = "",
	                                                              cmail[256] = "";
	sqlite3_stmt *st = db_stmt("SELECT username, email FROM users WHERE id=?");
	bool has_mail = false;

	billing_currency(currency);
	billing_setting("provider_name", pname, sizeof(pname));
	billing_setting("provider_address", paddr, sizeof(paddr));
	if (st) {
		sqlite3_bind_int64(st, 1, d->customer_id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			db_col_text(st, 0, cname, sizeof(cname));
			has_mail = sqlite3_column_type(st, 1) != SQLITE_NULL;
			db_col_text(st, 1, cmail, sizeof(cmail));
		}
		sqlite3_reset(st);
	}
	json_object_object_add(o, "id", NULL);
	json_object_object_add(o, "number", NULL);
	json_object_object_add(o, "status", json_object_new_string("draft"));
	json_object_object_add(o, "customer", json_id(d->customer_id));
	json_object_object_add(o, "customer_name", json_object_new_string(cname));
	json_object_object_add(o, "customer_email",
	                       has_mail ? json_object_new_string(cmail) : NULL);
	json_object_object_add(o, "currency", json_object_new_string(currency));
	json_object_object_add(o, "period_start", json_time(d->from));
	json_object_object_add(o, "period_end", json_time(d->to));
	json_object_object_add(o, "issued_at", NULL);
	json_object_object_add(o, "total_cents", json_object_new_int64(d->total_cents));
	json_object_object_add(o, "credited_cents", json_object_new_int64(0));
	json_object_object_add(o, "remaining_cents", json_object_new_int64(d->total_cents));
	json_object_object_add(o, "provider_name", json_object_new_string(pname));
	json_object_object_add(o, "provider_address", json_object_new_string(paddr));
	for (size_t i = 0; i < d->n; i++) {
		const invoice_line *l = &d->lines[i];
		json_object *lo = json_object_new_object();

		add_line_fields(lo, (int64_t)i + 1, l->vps_id, l->hostname, kind_names[l->r.kind],
		                l->r.plan_id, l->description, l->r.quantity,
		                l->r.kind == RATING_TRAFFIC ? "GiB" : "hour", l->r.unit_microcents,
		                l->r.cap_cents, l->r.amount_cents, l->r.from, l->r.to);
		json_object_array_add(lines, lo);
	}
	json_object_object_add(o, "lines", lines);
	json_object_object_add(o, "credit_notes", json_object_new_array());
	return o;
}

#define CREDIT_NOTE_COLS                                                                           \
	"id, number, invoice_id, customer_id, amount_cents, currency, reason, created_at"

static json_object *credit_note_json_row(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object();
	char text[256];

	json_object_object_add(o, "id", json_id(sqlite3_column_int64(st, 0)));
	db_col_text(st, 1, text, sizeof(text));
	json_object_object_add(o, "number", json_object_new_string(text));
	json_object_object_add(o, "invoice", json_id(sqlite3_column_int64(st, 2)));
	json_object_object_add(o, "customer", json_id(sqlite3_column_int64(st, 3)));
	json_object_object_add(o, "amount_cents",
	                       json_object_new_int64(sqlite3_column_int64(st, 4)));
	db_col_text(st, 5, text, sizeof(text));
	json_object_object_add(o, "currency", json_object_new_string(text));
	db_col_text(st, 6, text, sizeof(text));
	json_object_object_add(o, "reason", json_object_new_string(text));
	json_object_object_add(o, "created_at", json_time(sqlite3_column_int64(st, 7)));
	return o;
}

json_object *credit_note_json(int64_t id)
{
	sqlite3_stmt *st = db_stmt("SELECT " CREDIT_NOTE_COLS " FROM credit_notes WHERE id=?");
	json_object *o = NULL;

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		o = credit_note_json_row(st);
	sqlite3_reset(st);
	return o;
}

static bool add_lines(json_object *o, int64_t id)
{
	sqlite3_stmt *st =
	        db_stmt("SELECT position, vps_id, hostname, kind, plan_id, description, "
	                "quantity, unit, unit_price_microcents, cap_cents, amount_cents, "
	                "from_ts, to_ts FROM invoice_lines WHERE invoice_id=? "
	                "ORDER BY position");
	json_object *lines = json_object_new_array();
	int r;

	json_object_object_add(o, "lines", lines);
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *lo = json_object_new_object();
		char host[INVOICE_TEXT_MAX], kind[24], desc[INVOICE_TEXT_MAX], unit[8];

		db_col_text(st, 2, host, sizeof(host));
		db_col_text(st, 3, kind, sizeof(kind));
		db_col_text(st, 5, desc, sizeof(desc));
		db_col_text(st, 7, unit, sizeof(unit));
		add_line_fields(
		        lo, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), host, kind,
		        sqlite3_column_type(st, 4) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 4),
		        desc, sqlite3_column_int64(st, 6), unit, sqlite3_column_int64(st, 8),
		        sqlite3_column_type(st, 9) == SQLITE_NULL ? -1
		                                                  : sqlite3_column_int64(st, 9),
		        sqlite3_column_int64(st, 10), sqlite3_column_int64(st, 11),
		        sqlite3_column_int64(st, 12));
		json_object_array_add(lines, lo);
	}
	sqlite3_reset(st);
	return r == SQLITE_DONE;
}

static bool add_credit_notes(json_object *o, int64_t id)
{
	sqlite3_stmt *st = db_stmt("SELECT " CREDIT_NOTE_COLS
	                           " FROM credit_notes WHERE invoice_id=? ORDER BY id");
	json_object *arr = json_object_new_array();
	int r;

	json_object_object_add(o, "credit_notes", arr);
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		json_object_array_add(arr, credit_note_json_row(st));
	sqlite3_reset(st);
	return r == SQLITE_DONE;
}

json_object *invoice_json(int64_t id, bool full, bool *missing_out)
{
	sqlite3_stmt *st = db_stmt(
	        "SELECT i.id, i.number, i.customer_id, i.customer_name, i.customer_email, "
	        "i.currency, i.period_start, i.period_end, i.issued_at, i.total_cents, "
	        "i.provider_name, i.provider_address, (SELECT coalesce(sum(amount_cents), 0) "
	        "FROM credit_notes c WHERE c.invoice_id=i.id) FROM invoices i WHERE i.id=?");
	json_object *o;
	char text[1024];
	int r;

	if (missing_out)
		*missing_out = false;
	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		sqlite3_reset(st);
		if (missing_out)
			*missing_out = r == SQLITE_DONE;
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_id(sqlite3_column_int64(st, 0)));
	db_col_text(st, 1, text, sizeof(text));
	json_object_object_add(o, "number", json_object_new_string(text));
	json_object_object_add(o, "status", json_object_new_string("issued"));
	json_object_object_add(o, "customer", json_id(sqlite3_column_int64(st, 2)));
	db_col_text(st, 3, text, sizeof(text));
	json_object_object_add(o, "customer_name", json_object_new_string(text));
	db_col_text(st, 4, text, sizeof(text));
	json_object_object_add(
	        o, "customer_email",
	        sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL : json_object_new_string(text));
	db_col_text(st, 5, text, sizeof(text));
	json_object_object_add(o, "currency", json_object_new_string(text));
	json_object_object_add(o, "period_start", json_time(sqlite3_column_int64(st, 6)));
	json_object_object_add(o, "period_end", json_time(sqlite3_column_int64(st, 7)));
	json_object_object_add(o, "issued_at", json_time(sqlite3_column_int64(st, 8)));
	int64_t total = sqlite3_column_int64(st, 9), credited = sqlite3_column_int64(st, 12);
	json_object_object_add(o, "total_cents", json_object_new_int64(total));
	json_object_object_add(o, "credited_cents", json_object_new_int64(credited));
	json_object_object_add(o, "remaining_cents", json_object_new_int64(total - credited));
	db_col_text(st, 10, text, sizeof(text));
	json_object_object_add(o, "provider_name", json_object_new_string(text));
	db_col_text(st, 11, text, sizeof(text));
	json_object_object_add(o, "provider_address", json_object_new_string(text));
	sqlite3_reset(st);
	if (full && (!add_lines(o, id) || !add_credit_notes(o, id))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* ---- CSV ------------------------------------------------------------------------------------ */

typedef struct buf {
	char *p;
	size_t len, cap;
	bool oom;
} buf;

static void put(buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *np;

		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* One field, quoted when it holds a comma, quote, CR or LF (RFC 4180); then sep. A field that
 * starts with = + - @ is prefixed with a quote mark so spreadsheets do not run it as a formula. */
static void field(buf *b, const char *s, const char *sep)
{
	bool quote = strpbrk(s, ",\"\r\n") != NULL;
	bool formula = s[0] && strchr("=+-@", s[0]) && !(s[0] == '-' && s[1] >= '0' && s[1] <= '9');

	if (quote)
		put(b, "\"", 1);
	if (formula)
		put(b, "'", 1);
	for (const char *p = s; *p; p++) {
		put(b, p, 1);
		if (*p == '"')
			put(b, "\"", 1);
	}
	if (quote)
		put(b, "\"", 1);
	put(b, sep, strlen(sep));
}

static void field_int(buf *b, int64_t v, const char *sep)
{
	char t[32];

	snprintf(t, sizeof(t), "%lld", (long long)v);
	field(b, t, sep);
}

static const char *str_of(json_object *o, const char *k)
{
	json_object *v = json_object_object_get(o, k);

	return v && !json_object_is_type(v, json_type_null) ? json_object_get_string(v) : "";
}

int invoice_csv(int64_t id, char **csv_out, size_t *len_out, char number[INVOICE_NUMBER_MAX])
{
	bool missing = false;
	json_object *inv = invoice_json(id, true, &missing), *lines, *cns;
	buf b = {0};
	char head[6][INVOICE_TEXT_MAX];

	*csv_out = NULL;
	if (!inv)
		return missing ? -ENOENT : -EIO;
	snprintf(number, INVOICE_NUMBER_MAX, "%s", str_of(inv, "number"));
	snprintf(head[0], sizeof(head[0]), "%s", str_of(inv, "number"));
	snprintf(head[1], sizeof(head[1]), "%s", str_of(inv, "issued_at"));
	snprintf(head[2], sizeof(head[2]), "%s", str_of(inv, "period_start"));
	snprintf(head[3], sizeof(head[3]), "%s", str_of(inv, "period_end"));
	snprintf(head[4], sizeof(head[4]), "%s", str_of(inv, "currency"));
	put(&b,
	    "invoice,issued_at,period_start,period_end,currency,position,vps,hostname,kind,"
	    "description,quantity,unit,unit_price_microcents,amount_cents\r\n",
	    strlen("invoice,issued_at,period_start,period_end,currency,position,vps,hostname,kind,"
	           "description,quantity,unit,unit_price_microcents,amount_cents\r\n"));
	lines = json_object_object_get(inv, "lines");
	for (size_t i = 0; i < json_object_array_length(lines); i++) {
		json_object *l = json_object_array_get_idx(lines, i);

		for (int h = 0; h < 5; h++)
			field(&b, head[h], ",");
		field(&b, str_of(l, "position"), ",");
		field(&b, str_of(l, "vps"), ",");
		field(&b, str_of(l, "hostname"), ",");
		field(&b, str_of(l, "kind"), ",");
		field(&b, str_of(l, "description"), ",");
		field(&b, str_of(l, "quantity"), ",");
		field(&b, str_of(l, "unit"), ",");
		field(&b, str_of(l, "unit_price_microcents"), ",");
		field(&b, str_of(l, "amount_cents"), "\r\n");
	}
	for (int h = 0; h < 5; h++)
		field(&b, head[h], ",");
	put(&b, ",,,total,,,,,", strlen(",,,total,,,,,"));
	field(&b, str_of(inv, "total_cents"), "\r\n");
	cns = json_object_object_get(inv, "credit_notes");
	for (size_t i = 0; i < json_object_array_length(cns); i++) {
		json_object *c = json_object_array_get_idx(cns, i);

		for (int h = 0; h < 5; h++)
			field(&b, h == 1 ? str_of(c, "created_at") : head[h], ",");
		put(&b, ",,,credit_note,", strlen(",,,credit_note,"));
		char desc[INVOICE_TEXT_MAX * 2];
		snprintf(desc, sizeof(desc), "%s: %s", str_of(c, "number"), str_of(c, "reason"));
		field(&b, desc, ",,,,");
		field_int(&b, -json_object_get_int64(json_object_object_get(c, "amount_cents")),
		          "\r\n");
	}
	json_object_put(inv);
	if (b.oom || !b.p) {
		free(b.p);
		return -ENOMEM;
	}
	*csv_out = b.p;
	*len_out = b.len;
	return 0;
}
