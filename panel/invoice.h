/* invoice.h — invoices per customer per billing period (issue 14 item 2; docs/billing.md):
 * rating a customer's range from the plan history, the ledger and the address history
 * (invoice_rate.c, arithmetic in billing/rating.c), issuing it with a gap-free number and closing
 * the periods that ended (invoice_issue.c), and the JSON/CSV shapes (invoice_json.c).
 *
 * Ranges. A customer's invoices tile time: each covers [from, to) where from is the end of the
 * previous one (customer_billing.closed_through; the first starts at the billing period holding
 * the later of the customer's first plan stretch and billing_state 'since') and to is the end of
 * the billing period holding from (XVPS_BILLING_PERIOD: calendar months, or anniversaries of the
 * customer's creation day; XVPS_BILLING_UTC_OFFSET_MIN), or an earlier "now" for an admin's
 * final invoice. A range without a line is skipped (no invoice), and the next begins at its end.
 * Return convention: 0, or a negative errno named at each function (-EIO: database error,
 * logged). */
#ifndef XVPS_PANEL_INVOICE_H
#define XVPS_PANEL_INVOICE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../billing/period.h"
#include "../billing/rating.h"

#define INVOICE_TEXT_MAX     256 /* a hostname, a plan name, a line's description */
#define INVOICE_NUMBER_MAX   32  /* "XVPS-CN-2026-000001" with room */
#define INVOICE_SERIES       "XVPS"
#define CREDIT_NOTE_SERIES   "XVPS-CN"
#define INVOICE_CURRENCY_MAX 4

typedef struct invoice_line {
	rating_line r;
	int64_t vps_id;
	char hostname[INVOICE_TEXT_MAX];
	char description[INVOICE_TEXT_MAX];
} invoice_line;

/* A rated range of one customer, not stored. */
typedef struct invoice_draft {
	int64_t customer_id;
	int64_t from, to; /* the range; lines are rated up to min(to, the rating's now) */
	invoice_line *lines;
	size_t n;
	int64_t total_cents;
} invoice_draft;

/* The billing configuration in force (g_app's, or calendar months in UTC without one). */
billing_config invoice_billing_cfg(void);

/* The customer's open range at `now` ([*from_out, *to_out)), creating its customer_billing row
 * when missing. -ENOENT when the customer has no plan history at all (nothing to invoice). */
int invoice_open_range(int64_t customer_id, int64_t now, int64_t *from_out, int64_t *to_out);

/* The billing period holding now for a customer without plan history (its anniversary: its
 * creation day). 0 or -EIO. */
int invoice_period_now(int64_t customer_id, int64_t now, int64_t *from_out, int64_t *to_out);

/* Rates the customer's [from, to) up to min(to, now) into *d (invoice_draft_free() it). */
int invoice_rate(int64_t customer_id, int64_t from, int64_t to, int64_t now, invoice_draft *d);
void invoice_draft_free(invoice_draft *d);

/* The next number of series for year (INSERT ... ON CONFLICT DO UPDATE ... RETURNING), inside
 * the caller's transaction: gap-free because it commits or rolls back with the document. */
int invoice_next_number(const char *series, int64_t year, int64_t *seq_out);
/* The calendar year of t in the billing time zone. */
int64_t invoice_year(int64_t t);

/* Issues d (rated up to d->to) at issued_at in a transaction of its own: number, invoice, lines
 * and the customer's closed_through = d->to, after checking closed_through is still d->from.
 * A draft without lines only moves closed_through (*id_out 0). -EAGAIN when another issuer moved
 * closed_through first (nothing written), -EIO. */
int invoice_issue(const invoice_draft *d, int64_t issued_at, int64_t *id_out);

/* Closes every range of every customer that ended at or before now (the billing ticker).
 * *issued_out (may be NULL) gets the number of invoices issued. 0 or -EIO. */
int invoice_close_due(int64_t now, int64_t *issued_out);
/* Closes the customer's ranges that ended, then its open range at now (an admin's final
 * invoice): *id_out the invoice, -ENODATA when there is no line to invoice
 * (nothing written for the open range), -ENOENT without plan history. */
int invoice_close_now(int64_t customer_id, int64_t now, int64_t *id_out);

/* The stored invoice id as the API's object (lines and credit notes when full), NULL when it does
 * not exist or on a database error (*missing_out true for the first). */
json_object *invoice_json(int64_t id, bool full, bool *missing_out);
/* A draft as the API's object (status "draft", id and number null). */
json_object *invoice_draft_json(const invoice_draft *d);
/* The stored invoice id as CSV (RFC 4180, CRLF), heap *csv_out of *len_out bytes, and its number
 * into number. 0, -ENOENT, -EIO, -ENOMEM. */
int invoice_csv(int64_t id, char **csv_out, size_t *len_out, char number[INVOICE_NUMBER_MAX]);

/* A credit note as the API's object, NULL when missing or on a database error. */
json_object *credit_note_json(int64_t id);

/* The installation's currency (settings 'currency', "EUR" when unreadable). */
void billing_currency(char out[INVOICE_CURRENCY_MAX]);
/* A settings value into out ("" when missing). 0 or -EIO. */
int billing_setting(const char *name, char *out, size_t size);

#endif
