/* quota_notify.h — delivery of the quota ladder's notices (quota_notify.c): an e-mail to the
 * VPS's customer through an SMTP smarthost (libcurl's SMTP; XVPS_SMTP_URL, XVPS_SMTP_FROM) and a
 * JSON webhook signed with HMAC-SHA256 (XVPS_WEBHOOK_URL, XVPS_WEBHOOK_SECRET), each off when its
 * URL is unset. A thread of its own sends what quota_notices marks 'pending', so delivery never
 * blocks a metering sweep; each attempt's outcome is written on the notice row.
 * Return convention: 0, or -1 (logged). */
#ifndef XVPS_PANEL_QUOTA_NOTIFY_H
#define XVPS_PANEL_QUOTA_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUOTA_NOTIFY_TRIES     5  /* attempts per channel before a notice is marked 'failed' */
#define QUOTA_NOTIFY_RETRY_S   30 /* the thread looks for pending notices at least this often */
#define QUOTA_NOTIFY_TIMEOUT_S 20 /* one SMTP or webhook attempt, connect included */
#define QUOTA_NOTIFY_SIG_MAX   72 /* "sha256=" + 64 hex digits + NUL, with room */

/* Reads XVPS_SMTP_URL (smtp:// or smtps://), XVPS_SMTP_FROM (required with it),
 * XVPS_WEBHOOK_URL (http:// or https://) and XVPS_WEBHOOK_SECRET (required with it) and starts
 * the delivery thread. -1 on a bad setting (xvpsd refuses to start) or when the thread cannot
 * start. With neither URL set it starts nothing and returns 0. */
int quota_notify_start(void);
void quota_notify_stop(void); /* wakes and joins the thread */
void quota_notify_wake(void); /* a notice was committed */
bool quota_notify_email_on(void);
bool quota_notify_webhook_on(void);

/* "sha256=" + lowercase hex of HMAC-SHA256(key = secret, body) into out (QUOTA_NOTIFY_SIG_MAX):
 * the X-Xvps-Signature header of a webhook (libsodium's crypto_auth_hmacsha256). */
void quota_notify_signature(const char *secret, const char *body, size_t body_len, char *out);

#endif
