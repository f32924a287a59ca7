/* vncsrc.h — xvps-console's source for HVM guests: the RFB server qemu runs for the domain on
 * 127.0.0.1:5900+N (docs/architecture.md §8), read with libvncclient. Its framebuffer IS the served
 * one (libvncserver's frameBuffer points at the client's), so an update from qemu is only a
 * rfbMarkRectAsModified; a resize in qemu becomes rfbNewFramebuffer (DesktopSize to viewers
 * that take it). Viewers' keys and pointer go to qemu as they are; clipboard text is typed as
 * key events (qemu ignores ClientCutText without a guest agent). Not thread-safe: everything
 * runs on xvps-console's main loop.
 *
 * Return convention: NULL or false on failure, with a sentence in err where the function takes
 * one. */
#ifndef XVPS_CONSOLE_VNCSRC_H
#define XVPS_CONSOLE_VNCSRC_H

#include <rfb/rfb.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "../../common/rfbfilter.h"

#define VNCSRC_MAX_DIM RF_MAX_SCREEN /* a larger framebuffer from qemu ends the console */

typedef struct vncsrc vncsrc;

/* Parses "vnc:127.0.0.1:PORT" or "vnc:[::1]:PORT" (loopback only; PORT 1..65535) into host and
 * port. Returns false for anything else: xvps-console never connects off the host. */
bool vncsrc_parse(const char *spec, char *host, size_t hostlen, int *port);

/* Connects to host:port, completes the RFB handshake (security None, as qemu's VNC without a
 * password offers on loopback) and creates the served screen s (rfbGetScreen, 32 bpp) of
 * qemu's size, sharing its framebuffer. *dims (width << 16 | height) is kept current for the
 * viewers' relays. Returns NULL with err filled on failure (nothing left open). */
vncsrc *vncsrc_open(const char *host, int port, const char *desktop, atomic_uint *dims,
                    rfbScreenInfoPtr *screen_out, char *err, size_t errlen);

/* The socket to poll for input from qemu. */
int vncsrc_fd(const vncsrc *v);

/* True when libvncclient has read bytes from qemu that no message has consumed yet (poll()
 * on the socket would not say so). */
bool vncsrc_pending(const vncsrc *v);

/* Handles every message qemu has sent (buffered or readable now), asking for the next
 * incremental update. Returns false when qemu closed the connection or sent something
 * libvncclient refused (the console then ends). */
bool vncsrc_pump(vncsrc *v);

/* A viewer's input, forwarded to qemu. */
void vncsrc_key(vncsrc *v, bool down, uint32_t keysym);
void vncsrc_pointer(vncsrc *v, int mask, int x, int y);
/* Types len bytes of Latin-1 clipboard text: CR, LF and CRLF become Return, TAB Tab, other
 * control characters are dropped; characters that need Shift on a US layout get it. Returns
 * the number of characters typed. */
size_t vncsrc_type(vncsrc *v, const char *text, size_t len);

/* Disconnects from qemu and frees the client; the screen stays the caller's (its framebuffer
 * is detached first, so rfbScreenCleanup never frees the client's memory). */
void vncsrc_close(vncsrc *v, rfbScreenInfoPtr s);

#endif
