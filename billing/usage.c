/* usage.c — the ledger's pure arithmetic (ledger.h): usage sums, steps, bucket grouping, the
 * 95th percentile and bit rates. Integers only, no SQL, no clock, nothing of the panel's. */
#include <stdlib.h>
#include <string.h>

#include "ledger.h"

static const char *const gran_names[] = {"5m", "1h", "1d", "period"};

static int64_t add_sat(int64_t a, int64_t b)
{
	int64_t s;

	return __builtin_add_overflow(a, b, &s) ? INT64_MAX : s;
}

int64_t *billing_usage_field(billing_usage *u, int i)
{
	int64_t *f[BILLING_USAGE_N] = {&u->cpu_ns,     &u->rx_bytes,  &u->tx_bytes,  &u->rx_packets,
	                               &u->tx_packets, &u->running_s, &u->disk_gib_s};

	return f[i];
}

void billing_usage_add(billing_usage *acc, const billing_usage *u)
{
	billing_usage v = *u;

	for (int i = 0; i < BILLING_USAGE_N; i++)
		*billing_usage_field(acc, i) =
		        add_sat(*billing_usage_field(acc, i), *billing_usage_field(&v, i));
}

bool billing_step_parse(const char *s, billing_gran *out)
{
	for (int g = BILLING_G_5M; s && g <= BILLING_G_1D; g++)
		if (strcmp(s, gran_names[g]) == 0) {
			*out = (billing_gran)g;
			return true;
		}
	return false;
}

const char *billing_gran_name(billing_gran g)
{
	return gran_names[g];
}

int64_t billing_gran_step_s(billing_gran g)
{
	switch (g) {
	case BILLING_G_5M:
		return BILLING_STEP_5M_S;
	case BILLING_G_1H:
		return BILLING_STEP_1H_S;
	case BILLING_G_1D:
		return BILLING_STEP_1D_S;
	default:
		return 0;
	}
}

size_t billing_group(const billing_item *items, size_t n, int64_t step_s, int utc_offset_min,
                     billing_row *rows)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		int64_t b = billing_bucket_start(items[i].t, step_s, utc_offset_min);

		if (k == 0 || rows[k - 1].vps_id != items[i].vps_id ||
		    rows[k - 1].bucket_start != b) {
			memset(&rows[k], 0, sizeof(rows[k]));
			rows[k].vps_id = items[i].vps_id;
			rows[k].customer_id = items[i].customer_id;
			rows[k].bucket_start = b;
			k++;
		}
		billing_usage_add(&rows[k - 1].u, &items[i].u);
	}
	return k;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int64_t billing_p95(int64_t *v, size_t n)
{
	size_t rank;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_i64);
	rank = (n * 95 + 99) / 100; /* ceil(0.95 n), 1-based */
	return v[rank - 1];
}

int64_t billing_bps(int64_t bytes, int64_t step_s)
{
	int64_t bits;

	if (bytes <= 0 || step_s <= 0)
		return 0;
	if (__builtin_mul_overflow(bytes, 8, &bits))
		return INT64_MAX / step_s;
	return bits / step_s;
}
