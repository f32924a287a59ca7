/* period.c — billing periods and bucket starts in integer unix seconds, UTC plus a fixed
 * offset (period.h says why a fixed offset). Never reads a clock, the TZ variable or a file. */
#include <string.h>

#include "period.h"

bool billing_offset_ok(int offset_min)
{
	return offset_min >= -BILLING_OFFSET_MAX_MIN && offset_min <= BILLING_OFFSET_MAX_MIN &&
	       offset_min % BILLING_OFFSET_STEP_MIN == 0;
}

bool billing_cycle_parse(const char *s, billing_cycle *out)
{
	if (!s)
		return false;
	if (strcmp(s, "month") == 0)
		*out = BILLING_CALENDAR_MONTH;
	else if (strcmp(s, "anniversary") == 0)
		*out = BILLING_ANNIVERSARY;
	else
		return false;
	return true;
}

const char *billing_cycle_name(billing_cycle c)
{
	return c == BILLING_ANNIVERSARY ? "anniversary" : "month";
}

/* Floor division for a positive divisor. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && a < 0) ? q - 1 : q;
}

int64_t billing_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;                                   /* 0..399 */
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
	return era * 146097 + doe - 719468;
}

void billing_civil_from_days(int64_t days, int64_t *y_out, int *m_out, int *d_out)
{
	int64_t z = days + 719468, era = floor_div(z, 146097), doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);

	*d_out = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m_out = m;
	*y_out = yoe + era * 400 + (m <= 2);
}

int billing_days_in_month(int64_t y, int m)
{
	static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : len[(m - 1) % 12];
}

/* n decimal digits at s into *v; false when one is not a digit. */
static bool digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

bool billing_parse_rfc3339(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	const char *p;
	int64_t t;

	if (!s || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return false;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > billing_days_in_month(y, mo) || h > 23 ||
	    mi > 59 || sec > 60)
		return false;
	if (sec == 60)
		sec = 59; /* a leap second: unix time has none */
	p = s + 19;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return false;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		sign = 0;
	} else if ((*p == '+' || *p == ' ' || *p == '-') && strlen(p) == 6 &&
	           digits(p + 1, 2, &oh) && p[3] == ':' && digits(p + 4, 2, &om) && oh <= 23 &&
	           om <= 59) {
		sign = *p == '-' ? -1 : 1;
	} else {
		return false;
	}
	t = billing_days_from_civil(y, mo, d) * BILLING_STEP_1D_S + h * 3600 + mi * 60 + sec;
	*out = t - sign * (oh * 3600 + om * 60);
	return true;
}

int64_t billing_bucket_start(int64_t t, int64_t step_s, int utc_offset_min)
{
	int64_t off = (int64_t)utc_offset_min * 60;

	return floor_div(t + off, step_s) * step_s - off;
}

/* Unix time of local midnight starting day d of month m of year y, d clamped to the month. */
static int64_t local_day_start(int64_t y, int m, int d, int64_t off_s)
{
	int last = billing_days_in_month(y, m);

	return billing_days_from_civil(y, m, d < last ? d : last) * BILLING_STEP_1D_S - off_s;
}

static void month_add(int64_t *y, int *m, int delta)
{
	int64_t idx = *y * 12 + (*m - 1) + delta;

	*y = floor_div(idx, 12);
	*m = (int)(idx - *y * 12) + 1;
}

int billing_period_of(const billing_config *cfg, int64_t anchor, int64_t t, int64_t *start_out,
                      int64_t *end_out)
{
	int64_t off_s, y, ay, start, ny;
	int m, d, am, ad = 1, nm;

	if (!billing_offset_ok(cfg->utc_offset_min))
		return -1;
	off_s = (int64_t)cfg->utc_offset_min * 60;
	billing_civil_from_days(floor_div(t + off_s, BILLING_STEP_1D_S), &y, &m, &d);
	if (cfg->cycle == BILLING_ANNIVERSARY)
		billing_civil_from_days(floor_div(anchor + off_s, BILLING_STEP_1D_S), &ay, &am,
		                        &ad);
	start = local_day_start(y, m, ad, off_s);
	if (t < start) { /* before this month's anniversary: the period began last month */
		month_add(&y, &m, -1);
		start = local_day_start(y, m, ad, off_s);
	}
	ny = y;
	nm = m;
	month_add(&ny, &nm, 1);
	*start_out = start;
	*end_out = local_day_start(ny, nm, ad, off_s);
	return 0;
}
