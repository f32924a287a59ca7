/* api_billing.h — helpers the billing handlers share (api_billing.c, api_invoices.c). */
#ifndef XVPS_PANEL_API_BILLING_H
#define XVPS_PANEL_API_BILLING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

/* True when s has at most max_chars UTF-8 characters and no control characters ("\n" allowed
 * when newlines); else false with *why_out. */
bool billing_text_ok(const char *s, size_t max_chars, bool newlines, const char **why_out);
/* The customer of path parameter 0 when rq may see it (an admin: any customer; a customer:
 * itself). False after answering 404 (or 500). */
bool api_customer_visible(http_req *rq, int64_t *id_out);

#endif
