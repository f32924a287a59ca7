/* rfbfilter.h — the gate in front of libvncserver: every byte a viewer sends passes this
 * allowlist parser of the client side of RFB 3.3/3.7/3.8 (RFC 6143) twice — in xvpsd's
 * WebSocket relay (panel/console_relay.c, which audits a refusal) and again in xvps-console's
 * relay threads (hypervisor/console/vncrelay.c) in front of libvncserver — and only whole,
 * valid messages pass. A viewer that sends anything else is dropped, which leaves
 * libvncserver's lesser-used paths (its WebSockets/TLS sniffing, file transfer, extended clipboard,
 * colour maps, scaling, ...) unreachable:
 * - handshake: "RFB 003.003|007|008\n", security type 1 (None), ClientInit;
 * - SetPixelFormat: true colour, 8/16/32 bpp, sane maxima and shifts;
 * - SetEncodings: at most RF_MAX_ENCODINGS; encodings outside a known-harmless list are
 *   rewritten to Raw (so e.g. the extended clipboard is never negotiated);
 * - FramebufferUpdateRequest: inside the screen, else the viewer is dropped;
 * - KeyEvent, PointerEvent: as they are;
 * - ClientCutText: up to cut_max (RF_CUT_MAX) bytes forwarded; longer (up to 1 MiB) skipped and
 * counted; longer still, or the extended (negative length) form, drops the viewer. Any other
 * message type drops the viewer. Pure: no I/O, no allocation.
 *
 * Return convention: rfb_filter_feed answers the bytes passed on, or -1 when the viewer must be
 * dropped. */
#ifndef XVPS_CONSOLE_RFBFILTER_H
#define XVPS_CONSOLE_RFBFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RF_MAX_ENCODINGS 128
#define RF_CUT_MAX       4096 /* clipboard bytes forwarded at most (longer: skipped) */
#define RF_MAX_SCREEN    4096 /* widest/tallest screen any xvps console serves (pixels) */
#define RF_MAX_CUT_SKIP  (1u << 20)
#define RF_MAX_MSG       (8 + 4096) /* the largest message forwarded (a full cut text) */

typedef struct rfb_filter {
	int state;         /* internal */
	int minor;         /* protocol minor version the viewer chose */
	int width, height; /* the screen, for FramebufferUpdateRequest bounds */
	size_t cut_max;    /* cut text bytes forwarded at most */
	uint8_t msg[RF_MAX_MSG];
	size_t len;    /* bytes of the current message collected */
	uint32_t skip; /* bytes of an oversized cut text still to discard */
	unsigned cuts_dropped;
	char why[160]; /* the reason, after rfb_filter_feed returned -1 */
} rfb_filter;

void rfb_filter_init(rfb_filter *f, int width, int height, size_t cut_max);

/* Consumes len bytes from the viewer. Whole valid messages are appended to out (outcap must
 * be at least len + RF_MAX_MSG); returns the number of bytes appended, or -1 when the viewer
 * must be dropped (f->why says why; nothing of the offending message was appended). */
long rfb_filter_feed(rfb_filter *f, const uint8_t *in, size_t len, uint8_t *out, size_t outcap);

#endif
