/* quota_usage.h — the running per-period traffic sums the quota ladder reads (quota_usage.c).
 * Return convention: 0 on success, -EIO on a database error (logged, rolled back). */
#ifndef XVPS_PANEL_QUOTA_USAGE_H
#define XVPS_PANEL_QUOTA_USAGE_H

#include <stdint.h>

#include "../billing/period.h"

/* Adds the usage_samples rows written since the last call to each VPS's quota_usage row (rx/tx
 * bytes of the period holding the sample's t_end, per cfg), in its own transaction; the first
 * call seeds every VPS's sums from the ledger's current period at now (unix s). The caller
 * holds the quota lock. 0 or -EIO. */
int quota_usage_feed(billing_config cfg, int64_t now);

#endif
