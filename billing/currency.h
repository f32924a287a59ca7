/* currency.h — the ISO 4217 currencies xvps accepts (currency.c): the active codes of the
 * standard's list one (funds and precious metals left out) with their minor-unit exponents. An
 * installation has one currency (panel: the settings table's "currency"); every amount is an
 * integer in its minor units. Pure: no clock, no database. */
#ifndef XVPS_BILLING_CURRENCY_H
#define XVPS_BILLING_CURRENCY_H

#include <stdbool.h>

#define CURRENCY_DEFAULT "EUR"

/* True when code is an active ISO 4217 code of the built-in list (exactly three upper-case
 * letters, e.g. "EUR"); *exponent_out (may be NULL) gets its minor-unit exponent (0 for JPY, 2
 * for EUR, 3 for KWD, 4 for UYW). False for anything else (*exponent_out unchanged). */
bool currency_lookup(const char *code, int *exponent_out);

#endif
