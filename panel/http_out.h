/* http_out.h — one outgoing HTTP request with a JSON body through libcurl (http_out.c): the
 * panel's calls to other services (the PowerDNS API, rdns.c; quota and billing webhooks,
 * quota_notify.c). http and https only, no signals, a whole-request timeout. */
#ifndef XVPS_PANEL_HTTP_OUT_H
#define XVPS_PANEL_HTTP_OUT_H

#include <curl/curl.h>
#include <stddef.h>

/* The answer's body, chunk by chunk (libcurl's CURLOPT_WRITEFUNCTION): returns size * n to go
 * on. */
typedef size_t (*http_out_sink)(char *buf, size_t size, size_t n, void *arg);

/* Sends body to url with method (NULL: POST) and the NULL-terminated header lines headers (in
 * that order), within timeout_s seconds; the answer's body goes to sink(arg) (NULL: dropped).
 * Returns -1 when libcurl could not start (curl_easy_init), else 0 with *cc (libcurl's result)
 * and *status (the HTTP status when *cc is CURLE_OK, else 0). */
int http_out_json(const char *url, const char *method, const char *const headers[],
                  const char *body, long timeout_s, http_out_sink sink, void *arg, CURLcode *cc,
                  long *status);

#endif
