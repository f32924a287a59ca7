/* vncrelay.h — one thread per RFB viewer of xvps-console: it pumps bytes between the viewer's
 * socket (accepted on the listen socket) and one end of a socketpair whose other end
 * libvncserver serves, passing the viewer's side through rfb_filter. A viewer the filter
 * rejects is disconnected (both sockets shut down), and libvncserver then sees that client
 * leave; other viewers are untouched. Non-blocking both ways, one message of buffer each way,
 * so a stuck viewer never blocks the thread's other direction.
 *
 * Return convention: vncrelay_start answers NULL when the relay cannot start. */
#ifndef XVPS_CONSOLE_VNCRELAY_H
#define XVPS_CONSOLE_VNCRELAY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "../../common/rfbfilter.h"

typedef struct vncrelay {
	int vfd;     /* the viewer */
	int sfd;     /* our end of the socketpair (libvncserver holds the other) */
	int wake_fd; /* written (8 bytes, an eventfd count) when the thread ends; -1 = none */
	pthread_t thread;
	atomic_bool done; /* set when the thread is about to end */
	rfb_filter filter;
	const atomic_uint *dims; /* the screen, width << 16 | height (it changes on a resize) */
	unsigned id;
	struct vncrelay *next;
} vncrelay;

/* Starts a relay for viewer fd vfd; *server_fd_out gets the socket to hand to rfbNewClient.
 * dims (width << 16 | height, kept current by the caller) bounds FramebufferUpdateRequests.
 * Takes ownership of vfd (closed on failure too). Returns NULL on failure. */
vncrelay *vncrelay_start(int vfd, const atomic_uint *dims, size_t cut_max, int wake_fd, unsigned id,
                         int *server_fd_out);

/* Asks the thread to end (shuts both sockets down); vncrelay_join then waits and frees. */
void vncrelay_stop(vncrelay *r);
void vncrelay_join(vncrelay *r);

#endif
