/* console.h — internals of xvpsd's browser consoles (issue 6, Contract B), shared by console.c
 * (the token API and the websocket's checks), console_relay.c (console_relay.h) and the unit
 * tests. The pure helpers touch no connection, no database and no global state.
 * Return convention: bool functions answer whether the value is valid. */
#ifndef XVPS_PANEL_CONSOLE_H
#define XVPS_PANEL_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_MAX_PER_USER 4           /* relays one user may hold at once (else 429) */
#define CONSOLE_MAX_MSG      (64 * 1024) /* largest WebSocket message from a browser (else 1009) */
#define CONSOLE_TOKEN_BYTES  32
#define CONSOLE_TOKEN_CHARS  43 /* base64url of 32 bytes, no padding */
#define WS_ACCEPT_CHARS      28 /* base64 of a SHA-1 */

/* ---- pure helpers (console.c) -------------------------------------------------------------- */

/* True when key is a Sec-WebSocket-Key: the base64 (with padding) of exactly 16 bytes. */
bool ws_key_valid(const char *key);
/* Sec-WebSocket-Accept for key (RFC 6455 §4.2.2: base64(SHA-1(key + GUID))) into out, NUL
 * terminated. False (out = "") when key is not valid or the hash failed. */
bool ws_accept_key(const char *key, char out[WS_ACCEPT_CHARS + 1]);
/* True when the comma-separated header value (e.g. Connection: "keep-alive, Upgrade") holds
 * token, compared case-insensitively, surrounding blanks ignored. False for NULL. */
bool http_list_has_token(const char *value, const char *token);
/* True when the Origin header is the request's own origin: "http://" + Host ("https://" when
 * tls), host and port compared case-insensitively, the scheme's default port optional on
 * either side. False when either is missing or holds anything but a host[:port]. */
bool console_origin_ok(const char *origin, const char *host, bool tls);
/* True when token has the shape of a console token: 43 characters of [A-Za-z0-9_-]. */
bool console_token_shape_ok(const char *token);

#endif
