/* balance.h — a customer's money (balance.c; issue 14 item 3; docs/billing.md): payments and
 * credits recorded by admins, credit notes, the prepaid hourly drawdown, the balance, and the
 * prepaid thresholds (a notice below low_balance_cents, suspension of every VPS of the customer
 * by "billing" below suspend_below_cents, lifted when the balance is back).
 *
 * balance = payments + credit notes - issued invoices - prepaid debits of ranges not invoiced
 * yet (an invoice replaces the drawdown of its range). All append-only rows; amounts in minor
 * units of the installation's currency.
 * Return convention: 0, or a negative errno named at each function (-EIO: database error). */
#ifndef XVPS_PANEL_BALANCE_H
#define XVPS_PANEL_BALANCE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#define BALANCE_AMOUNT_MAX  1000000000000LL /* one payment, one threshold: |x| <= this */
#define BALANCE_TEXT_MAX    1000            /* a payment's note */
#define BALANCE_REF_MAX     200             /* a payment's reference, a credit note's reason */
#define BALANCE_STATE_MAX   16
#define BALANCE_SUSPEND_WHY "prepaid balance below its threshold"

typedef struct balance {
	int64_t customer_id;
	int64_t payments, credit_notes, invoiced, drawn, balance;
	bool prepaid;
	int64_t low_balance_cents, suspend_below_cents;
	char state[BALANCE_STATE_MAX];                  /* "ok" | "low" | "suspended" */
	int64_t period_start, period_end, running_cost; /* the open range; 0s without history */
} balance;

/* The customer's balance at now (running: also rate the open range for running_cost). */
int balance_load(int64_t customer_id, int64_t now, bool running, balance *b);
json_object *balance_json(const balance *b);

/* Records a payment (kind "payment" or "credit", amount 1..BALANCE_AMOUNT_MAX), then checks the
 * thresholds (a payment may lift a billing suspension). *id_out the payment's id. */
int balance_payment(int64_t customer_id, const char *kind, int64_t amount, const char *reference,
                    const char *note, int64_t user_id, const char *username, int64_t now,
                    int64_t *id_out);
json_object *payment_json(int64_t id);

/* Issues a credit note of amount (<= 0: the invoice's remaining amount) on invoice_id.
 * -ENOENT (no invoice), -ERANGE (more than the remaining amount), -EALREADY (nothing remains). */
int credit_note_create(int64_t invoice_id, int64_t amount, const char *reason, int64_t user_id,
                       int64_t now, int64_t *id_out);

/* Sets the customer's prepaid fields (NULL pointers: unchanged), then checks the thresholds.
 * -EINVAL when suspend_below > 0 or low < suspend_below (nothing changed). */
int balance_set_billing(int64_t customer_id, const bool *prepaid, const int64_t *low,
                        const int64_t *suspend_below, int64_t now);

/* Applies the thresholds of one customer: suspends its VPS (by "billing") while a prepaid balance
 * is below suspend_below_cents, lifts them when it is not (or the customer is not prepaid any
 * more), records a billing notice on each change of state. */
int balance_check(int64_t customer_id, int64_t now);

/* The billing ticker's prepaid work: for every prepaid customer a debit of what its open range
 * rated so far beyond what was drawn already, then balance_check(); also checks customers whose
 * state is not "ok". *debited_out (may be NULL): debits written. */
int balance_prepaid_tick(int64_t now, int64_t *debited_out);

#endif
