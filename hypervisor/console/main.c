/* main.c — xvps-console: serves one domain's console as RFB (libvncserver) on a unix socket,
 * for xvpsd's WebSocket relay (docs/architecture.md §1). A text console (--source unix: the sim
 * guest's console socket, or pty: the pty xenconsoled gives a Xen PV/PVH domain) is rendered with
 * libvterm and a PSF console font into a 32-bpp framebuffer, and the viewers' keys and
 * clipboard text are typed into it. An HVM guest's console (--source vnc: qemu's VNC server on
 * 127.0.0.1, vncsrc.h) is relayed through libvncclient: qemu's framebuffer is served as it
 * is, keys and pointer go back to qemu, clipboard text is typed as keys. It never listens on a
 * network address: port = ipv6port = -1, no HTTP, and each viewer accepted on the unix socket
 * reaches libvncserver only through its relay thread's RFB allowlist (vncrelay.h,
 * rfbfilter.h); endpoints.c opens the source and the listen socket. It exits when the source closes
 * (the domain stopped), after --idle seconds without viewers, or on SIGTERM/SIGINT/SIGHUP, and
 * removes its socket.
 *
 * Usage: xvps-console --name NAME --source unix:PATH|pty:/dev/pts/N|vnc:127.0.0.1:PORT
 *                     --listen SOCKPATH
 *                     [--uid UID] [--font PSF] [--idle SECONDS] */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <rfb/keysym.h>
#include <rfb/rfb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../common/validate.h"
#include "endpoints.h"
#include "font.h"
#include "vncrelay.h"
#include "term.h"
#include "vncsrc.h"

#define MAX_VIEWERS  16
#define OUTQ_SIZE    65536
#define READ_BUDGET  (256 * 1024) /* source bytes per loop turn, so viewers get their turn */
#define DEFAULT_IDLE 300

typedef struct opts {
	const char *name, *source, *listen, *font;
	uid_t uid;
	int idle_s;
} opts;

static struct {
	int src;
	char outq[OUTQ_SIZE];
	size_t outq_len;
	unsigned outq_dropped;
	term *t;
	vncsrc *vnc;      /* the HVM mode: qemu's VNC server is the source (t stays NULL) */
	atomic_uint dims; /* the served screen, width << 16 | height, for the relays' filters */
} g = {.src = -1};

/* ---- libvncserver's log: its info lines (per-client statistics, ...) are dropped, its
 * errors kept but rate limited (a viewer must not be able to flood our log) ---------------- */

static void rfb_log_info(const char *fmt, ...)
{
	(void)fmt;
}

static void rfb_log_err(const char *fmt, ...)
{
	static time_t window;
	static int lines;
	char buf[512];
	time_t now = time(NULL);
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (strstr(buf, "TCP_NODELAY"))
		return; /* every unix-socket client: expected (docs/architecture.md §1) */
	if (now - window >= 60) {
		window = now;
		lines = 0;
	}
	if (++lines > 20)
		return;
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_warn("libvncserver: %s%s", buf, lines == 20 ? " (more suppressed for a minute)" : "");
}

/* ---- the source: bytes to the guest are queued and written without blocking --------------- */

static void src_flush(void)
{
	while (g.outq_len) {
		ssize_t w = write(g.src, g.outq, g.outq_len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return; /* EAGAIN: poll says when; an error shows as EOF on read */
		}
		memmove(g.outq, g.outq + w, g.outq_len - (size_t)w);
		g.outq_len -= (size_t)w;
	}
}

static void to_guest(const char *bytes, size_t len, void *user)
{
	(void)user;
	if (len > OUTQ_SIZE - g.outq_len) {
		if (g.outq_dropped++ % 100 == 0)
			log_warn("the guest does not read its console: %zu input bytes dropped",
			         len);
		return;
	}
	memcpy(g.outq + g.outq_len, bytes, len);
	g.outq_len += len;
	src_flush();
}

/* ---- viewers ------------------------------------------------------------------------------ */

static enum rfbNewClientAction on_new_client(rfbClientPtr cl);

static void on_client_gone(rfbClientPtr cl)
{
	free(cl->clientData);
	cl->clientData = NULL;
}

static enum rfbNewClientAction on_new_client(rfbClientPtr cl)
{
	cl->clientData = calloc(1, sizeof(unsigned));
	if (!cl->clientData)
		return RFB_CLIENT_REFUSE;
	cl->clientGoneHook = on_client_gone;
	return RFB_CLIENT_ACCEPT;
}

static unsigned mod_bit(rfbKeySym ks)
{
	switch (ks) {
	case XK_Control_L:
	case XK_Control_R:
		return TERM_MOD_CTL;
	case XK_Alt_L:
	case XK_Alt_R:
	case XK_Meta_L:
	case XK_Meta_R:
		return TERM_MOD_ALT;
	case XK_Shift_L:
	case XK_Shift_R:
		return TERM_MOD_SHF;
	default:
		return 0;
	}
}

static void on_key(rfbBool down, rfbKeySym ks, rfbClientPtr cl)
{
	unsigned *mods = cl->clientData, bit = mod_bit(ks);

	if (!mods)
		return;
	if (g.vnc) { /* qemu keeps its own modifier state */
		vncsrc_key(g.vnc, down, (uint32_t)ks);
		return;
	}
	if (bit) {
		*mods = down ? (*mods | bit) : (*mods & ~bit);
		return;
	}
	if (down)
		term_key(g.t, (uint32_t)ks, *mods);
}

static void on_cut(char *text, int len, rfbClientPtr cl)
{
	char out[2 * CUT_MAX + 1];
	size_t n;

	(void)cl;
	if (len < 0 || len > CUT_MAX) { /* the relay's filter already drops these */
		log_warn("clipboard text of %d bytes dropped", len);
		return;
	}
	if (g.vnc) {
		vncsrc_type(g.vnc, text, (size_t)len);
		return;
	}
	n = cut_sanitize(text, (size_t)len, out, sizeof(out));
	to_guest(out, n, NULL);
}

static void on_pointer(int mask, int x, int y, rfbClientPtr cl)
{
	(void)cl;
	if (g.vnc) /* a text console has no mouse */
		vncsrc_pointer(g.vnc, mask, x, y);
}

/* Accepts one viewer: relay thread + libvncserver client on the socketpair's other end. */
static void accept_viewer(rfbScreenInfoPtr s, int lfd, vncrelay **relays, int *n_relays, int wake)
{
	static unsigned next_id;
	int vfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), sfd = -1;
	vncrelay *r;

	if (vfd < 0)
		return;
	if (*n_relays >= MAX_VIEWERS) {
		log_warn("refusing a viewer: %d are connected already", *n_relays);
		close(vfd);
		return;
	}
	r = vncrelay_start(vfd, &g.dims, CUT_MAX, wake, ++next_id, &sfd);
	if (!r) {
		log_warn("refusing a viewer: cannot start its relay");
		return;
	}
	r->next = *relays;
	*relays = r;
	(*n_relays)++;
	if (sfd >= FD_SETSIZE || !rfbNewClient(s, sfd)) { /* libvncserver uses select() */
		if (sfd >= FD_SETSIZE)
			close(sfd);
		vncrelay_stop(r);
		return;
	}
	log_info("viewer %u connected (%d now)", r->id, *n_relays);
}

static void join_done(vncrelay **relays, int *n_relays)
{
	for (vncrelay **pp = relays; *pp;) {
		vncrelay *r = *pp;
		if (atomic_load(&r->done)) {
			*pp = r->next;
			vncrelay_join(r);
			(*n_relays)--;
		} else {
			pp = &r->next;
		}
	}
}

/* ---- main ---------------------------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: xvps-console --name NAME "
	                "--source unix:PATH|pty:/dev/pts/N|vnc:127.0.0.1:PORT "
	                "--listen SOCKPATH [--uid UID] [--font PSF] [--idle SECONDS]\n");
}

static bool parse_opts(int argc, char **argv, opts *o)
{
	long long v;

	memset(o, 0, sizeof(*o));
	o->uid = geteuid();
	o->idle_s = DEFAULT_IDLE;
	o->font = CFONT_DEFAULT_PATH;
	if ((argc - 1) % 2 != 0)
		return false;
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *val = argv[i + 1];
		if (strcmp(k, "--name") == 0) {
			o->name = val;
		} else if (strcmp(k, "--source") == 0) {
			o->source = val;
		} else if (strcmp(k, "--listen") == 0) {
			o->listen = val;
		} else if (strcmp(k, "--font") == 0 && val[0] == '/') {
			o->font = val;
		} else if (strcmp(k, "--uid") == 0 && parse_int_range(val, 0, 4294967294LL, &v)) {
			o->uid = (uid_t)v;
		} else if (strcmp(k, "--idle") == 0 && parse_int_range(val, 1, 86400, &v)) {
			o->idle_s = (int)v;
		} else {
			return false;
		}
	}
	return o->name && o->source && o->listen;
}

/* The desktop name: the domain name reduced to [a-z0-9-] (it is one already when valid). */
static void desktop_name(const char *name, char *out, size_t cap)
{
	size_t n = 0;

	for (; *name && n + 1 < cap; name++)
		if ((*name >= 'a' && *name <= 'z') || (*name >= '0' && *name <= '9') ||
		    *name == '-')
			out[n++] = *name;
	out[n] = '\0';
}

int main(int argc, char **argv)
{
	opts o;
	cfont font;
	char err[300], desk[64];
	uint32_t *fb = NULL;
	rfbScreenInfoPtr s = NULL;
	vncrelay *relays = NULL;
	int n_relays = 0, lfd = -1, sfd = -1, wake = -1, rc = 1;
	sigset_t mask;
	struct stat made;
	uint64_t idle_since;
	bool font_loaded = false;

	log_init("xvps-console");
	if (!parse_opts(argc, argv, &o)) {
		usage();
		return 2;
	}
	if (!valid_domain_name(o.name, NULL)) {
		log_error("--name must be a domain name xvps made (xvps-N)");
		return 2;
	}
	desktop_name(o.name, desk, sizeof(desk));
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL); /* before any thread: relays inherit the mask */
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (strncmp(o.source, "vnc:", 4) == 0) {
		char host[16];
		int port;
		if (!vncsrc_parse(o.source, host, sizeof(host), &port)) {
			log_error("--source vnc: must be vnc:127.0.0.1:PORT or vnc:[::1]:PORT");
			goto out;
		}
		if (sfd < 0 || wake < 0)
			goto out;
		g.vnc = vncsrc_open(host, port, desk, &g.dims, &s, err, sizeof(err));
		if (!g.vnc) {
			log_error("%s: %s", o.name, err);
			goto out;
		}
		g.src = vncsrc_fd(g.vnc);
	} else {
		if (cfont_load(o.font, &font, err, sizeof(err)) != 0) {
			log_warn("%s; using the built-in box font instead", err);
			if (cfont_builtin(&font) != 0)
				return 1;
		}
		font_loaded = true;
		fb = calloc((size_t)TERM_COLS * font.width * TERM_ROWS * font.height, 4);
		g.src = vncsrv_open_source(o.source);
		if (g.src < 0) {
			log_error("%s: cannot open the console source %s: %s", o.name, o.source,
			          strerror(-g.src));
			goto out;
		}
		s = rfbGetScreen(NULL, NULL, TERM_COLS * font.width, TERM_ROWS * font.height, 8, 3,
		                 4);
		if (!fb || sfd < 0 || wake < 0 || !s)
			goto out;
		g.t = term_new(TERM_COLS, TERM_ROWS, &font, fb,
		               (term_pixfmt){s->serverFormat.redShift, s->serverFormat.greenShift,
		                             s->serverFormat.blueShift},
		               to_guest, NULL);
		if (!g.t)
			goto out;
		s->frameBuffer = (char *)fb;
		atomic_store(&g.dims, (unsigned)s->width << 16 | (unsigned)s->height);
	}
	rfbLog = rfb_log_info;
	rfbErr = rfb_log_err;
	rfbMaxClientWait = 5000; /* a viewer that reads nothing stalls the others at most 5 s */
	s->desktopName = desk;
	s->port = s->ipv6port = -1; /* never a network listener */
	s->autoPort = FALSE;
	s->httpDir = NULL;
	s->alwaysShared = TRUE;
	s->deferUpdateTime = 0;
	s->kbdAddEvent = on_key;
	s->setXCutText = on_cut;
	s->ptrAddEvent = on_pointer;
	s->newClientHook = on_new_client;
	rfbInitServer(s);
	lfd = vncsrv_open_listen(o.listen, o.uid, &made);
	if (lfd < 0)
		goto out;
	log_info("%s: serving %s on %s (%dx%d, %s)", o.name, o.source, o.listen, s->width,
	         s->height,
	         g.vnc          ? "qemu's framebuffer"
	         : font.builtin ? "built-in font"
	                        : o.font);
	idle_since = now_mono_ns();

	for (;;) {
		struct pollfd pf[4 + MAX_VIEWERS];
		int n = 0, timeout = 1000;
		rfbClientIteratorPtr it;
		rfbClientPtr cl;

		pf[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
		pf[n++] = (struct pollfd){.fd = wake, .events = POLLIN};
		pf[n++] = (struct pollfd){.fd = lfd, .events = POLLIN};
		pf[n++] =
		        (struct pollfd){.fd = g.src, .events = POLLIN | (g.outq_len ? POLLOUT : 0)};
		if (g.vnc && vncsrc_pending(g.vnc))
			timeout = 0; /* libvncclient holds unread bytes: no poll wait */
		it = rfbGetClientIterator(s);
		while ((cl = rfbClientIteratorNext(it)) && n < (int)(sizeof(pf) / sizeof(pf[0])))
			if (cl->sock >= 0)
				pf[n++] = (struct pollfd){.fd = cl->sock, .events = POLLIN};
		rfbReleaseClientIterator(it);
		if (n_relays == 0) {
			uint64_t idle_ms = (now_mono_ns() - idle_since) / 1000000u;
			if (idle_ms >= (uint64_t)o.idle_s * 1000u) {
				log_info("%s: no viewer for %d s: exiting", o.name, o.idle_s);
				rc = 0;
				break;
			}
			timeout = (int)((uint64_t)o.idle_s * 1000u - idle_ms);
		}
		if (poll(pf, (nfds_t)n, timeout) < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			break;
		}
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				log_info("%s: signal %u: exiting", o.name, si.ssi_signo);
				rc = 0;
				break;
			}
		}
		if (pf[1].revents & POLLIN) {
			uint64_t cnt;
			if (read(wake, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
				log_warn("eventfd: %s", strerror(errno));
			join_done(&relays, &n_relays);
			if (n_relays == 0)
				idle_since = now_mono_ns();
		}
		if (g.vnc) {
			if (((pf[3].revents & (POLLIN | POLLHUP | POLLERR)) ||
			     vncsrc_pending(g.vnc)) &&
			    !vncsrc_pump(g.vnc)) {
				log_info("%s: qemu's VNC server closed (domain stopped): exiting",
				         o.name);
				rc = 0;
				break;
			}
		} else if (pf[3].revents & POLLOUT) {
			src_flush();
		}
		if (!g.vnc && (pf[3].revents & (POLLIN | POLLHUP | POLLERR))) {
			char buf[65536];
			size_t total = 0;
			bool closed = false;
			while (total < READ_BUDGET) {
				ssize_t r = read(g.src, buf, sizeof(buf));
				if (r > 0) {
					term_feed(g.t, buf, (size_t)r);
					total += (size_t)r;
					continue;
				}
				if (r < 0 && errno == EINTR)
					continue;
				closed = r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
				break;
			}
			if (closed) {
				log_info("%s: the console source closed (domain stopped): exiting",
				         o.name);
				rc = 0;
				break;
			}
		}
		int x1, y1, x2, y2;
		if (g.t && term_render(g.t, &x1, &y1, &x2, &y2))
			rfbMarkRectAsModified(s, x1, y1, x2, y2);
		if (pf[2].revents & POLLIN)
			accept_viewer(s, lfd, &relays, &n_relays, wake);
		rfbProcessEvents(s, 0);
	}

out:
	if (lfd >= 0) {
		struct stat now;
		close(lfd);
		/* Remove the socket only while it is still the one we made. */
		if (lstat(o.listen, &now) == 0 && now.st_ino == made.st_ino &&
		    now.st_dev == made.st_dev)
			unlink(o.listen);
	}
	for (vncrelay *r = relays; r; r = r->next)
		vncrelay_stop(r);
	while (relays) {
		vncrelay *r = relays;
		relays = r->next;
		vncrelay_join(r);
	}
	if (s)
		rfbShutdownServer(s, TRUE);
	if (g.vnc)
		vncsrc_close(g.vnc, s); /* closes g.src, qemu's socket; detaches its framebuffer */
	else if (g.src >= 0)
		close(g.src);
	if (s)
		rfbScreenCleanup(s);
	term_free(g.t);
	if (sfd >= 0)
		close(sfd);
	if (wake >= 0)
		close(wake);
	free(fb);
	if (font_loaded)
		cfont_free(&font);
	return rc;
}
