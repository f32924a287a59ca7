/* sink.h — the API suite's SMTP sink: a minimal SMTP server (the RFC 5321 commands libcurl
 * sends) on $XVPS_SMTP_URL's loopback port that keeps every message it receives, for the suites
 * that check what xvpsd mails (api_account.c's reset link, api_quota.c's notices); plus the
 * socket helpers api_quota.c's webhook receiver uses too. */
#ifndef XVPS_API_SINK_H
#define XVPS_API_SINK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* Guards smtp_mail (and a suite's own receiver buffers). */
extern pthread_mutex_t sink_mu;
/* Every message received (header and body lines, LF-ended), concatenated; "" to forget them. */
extern char smtp_mail[32768];

/* A listening TCP socket on 127.0.0.1:port from url ("smtp://127.0.0.1:2525"), or -1. */
int sink_listen(const char *url);
/* Writes s to fd (a reply; errors ignored: the peer reads what it reads). */
void sink_say(int fd, const char *s);
/* Reads one CRLF-terminated line (without it) into out; false at EOF. */
bool sink_read_line(int fd, char *out, size_t size);
/* Starts the SMTP sink on $XVPS_SMTP_URL's port once per process; true when it is listening. */
bool smtp_sink_start(void);
/* True when buf (smtp_mail or a buffer under sink_mu) contains what. */
bool sink_has(const char *buf, const char *what);

#endif
