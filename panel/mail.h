/* mail.h — one e-mail through the SMTP smarthost (mail.c; libcurl's SMTP client): the sender
 * the quota notices (quota_notify.c) and the password reset links (api_reset.c) share.
 * XVPS_SMTP_URL (smtp:// or smtps://) and XVPS_SMTP_FROM (required with it); off when unset.
 * Return convention: 0, or -1 with err filled. */
#ifndef XVPS_PANEL_MAIL_H
#define XVPS_PANEL_MAIL_H

#include <stdbool.h>
#include <stddef.h>

#define MAIL_TIMEOUT_S 20 /* one SMTP attempt, connect included */

/* Reads and checks XVPS_SMTP_URL / XVPS_SMTP_FROM (idempotent; the first call decides). -1 on a
 * bad setting (xvpsd refuses to start). */
int mail_init(void);
bool mail_on(void);
/* True when s is safe in a header (no CR, LF or other controls) and not empty. */
bool mail_header_safe(const char *s);
/* True when addr can be a recipient: header-safe, one '@', no '<', '>' or space. */
bool mail_address_ok(const char *addr);
/* Sends a text/plain UTF-8 message to addr; msgid_tag makes the Message-ID
 * <xvps-<tag>@xvps>. Blocks up to MAIL_TIMEOUT_S: never call it inside a transaction. */
int mail_send(const char *addr, const char *subject, const char *body, const char *msgid_tag,
              char *err, size_t err_len);

#endif
