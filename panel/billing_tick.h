/* billing_tick.h — the billing ticker (billing_tick.c; issue 14 items 2-3): every
 * XVPS_BILLING_INTERVAL seconds it closes the billing ranges that ended (invoice_close_due:
 * invoices issued) and then draws prepaid customers' running cost and applies their thresholds
 * (balance_prepaid_tick).
 * Return convention: 0, or -1 (logged). */
#ifndef XVPS_PANEL_BILLING_TICK_H
#define XVPS_PANEL_BILLING_TICK_H

#include <stdint.h>

#define BILLING_INTERVAL_DEFAULT_S 300

/* One tick at now (unix s): closes due ranges, then the prepaid work. 0 or -1 (logged). */
int billing_tick_run(int64_t now);
int billing_tick_start(int interval_s); /* 1..3600 s; the first tick at once */
void billing_tick_stop(void);

#endif
