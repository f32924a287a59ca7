/* billing_tick.c — the billing ticker (billing_tick.h). */
#include <stdint.h>

#include "../common/util.h"
#include "balance.h"
#include "billing_tick.h"
#include "invoice.h"
#include "store.h"
#include "ticker.h"

#define BILLING_LOG_EVERY_S 300 /* a failing tick is logged at most this often */

static int64_t last_log;

int billing_tick_run(int64_t now)
{
	int64_t issued = 0, debited = 0;
	int rc = invoice_close_due(now, &issued);

	/* the prepaid work runs even when a close failed: its customers may be others */
	if (balance_prepaid_tick(now, &debited) != 0)
		rc = -1;
	db_release();
	if (rc != 0) {
		if (now - last_log >= BILLING_LOG_EVERY_S) {
			log_error("billing: tick failed (%d); retried at the next", rc);
			last_log = now;
		}
		return -1;
	}
	if (issued > 0)
		log_info("billing: %lld invoice(s) issued", (long long)issued);
	return 0;
}

static void tick(void)
{
	billing_tick_run(now_unix());
}

static ticker billing_ticker = TICKER_INIT("billing", tick);

int billing_tick_start(int interval_s)
{
	return ticker_start(&billing_ticker, interval_s);
}

void billing_tick_stop(void)
{
	ticker_stop(&billing_ticker);
}
