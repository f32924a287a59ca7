/* test_console_vnc.c — xvps-console's HVM mode (issue 6): the console of an HVM guest is qemu's
 * VNC server on 127.0.0.1:5900+N, relayed by xvps-console through libvncclient. A fake qemu —
 * libvncserver on 127.0.0.1 in this process, with a known pixel pattern, recording the key and
 * pointer events it receives — stands in for qemu; xvps-console ($XVPS_CONSOLE_BIN, default
 * xvps-console next to $XVPS_SIMGUEST, else build/asan/xvps-console) is the real program; the
 * viewer is libvncclient on the console's unix socket (and a raw socket for bad input).
 * Asserts pixels, events and process outcomes, not that code ran. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <rfb/keysym.h>
#include <rfb/rfb.h>
#include <rfb/rfbclient.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/runner.h"
#include "../../common/util.h"

/* ---- the fake qemu ----------------------------------------------------------------------- */

#define MAX_EVENTS 64

static struct {
	rfbScreenInfoPtr s;
	uint32_t *fb;
	int port;
	pthread_t th;
	bool running;
	atomic_bool stop;
	atomic_int resize_w, resize_h; /* set by a test, applied by the fake's thread */
	atomic_bool paint;             /* paints a block at (32, 16) in the fake's thread */
	atomic_int resized;            /* resizes applied */
	pthread_mutex_t mu;
	uint32_t keys[MAX_EVENTS]; /* keysym | 0x80000000 when down */
	int nkeys;
	int ptr_x, ptr_y, ptr_mask, nptr;
} Q = {.mu = PTHREAD_MUTEX_INITIALIZER};

static char dir[48], sock[96];
static pid_t con_pid;

static uint32_t pattern(int x, int y)
{
	rfbPixelFormat *f = &Q.s->serverFormat;
	return (uint32_t)((x * 7) & 255) << f->redShift |
	       (uint32_t)((y * 5) & 255) << f->greenShift |
	       (uint32_t)((x ^ y) & 255) << f->blueShift;
}

static uint32_t *new_fb(int w, int h)
{
	uint32_t *fb = malloc((size_t)w * (size_t)h * 4);
	cr_assert_not_null(fb);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			fb[(size_t)y * w + x] = pattern(x, y);
	return fb;
}

static void q_key(rfbBool down, rfbKeySym ks, rfbClientPtr cl)
{
	(void)cl;
	pthread_mutex_lock(&Q.mu);
	if (Q.nkeys < MAX_EVENTS)
		Q.keys[Q.nkeys++] = (uint32_t)ks | (down ? 0x80000000u : 0);
	pthread_mutex_unlock(&Q.mu);
}

static void q_ptr(int mask, int x, int y, rfbClientPtr cl)
{
	pthread_mutex_lock(&Q.mu);
	Q.ptr_x = x, Q.ptr_y = y, Q.ptr_mask = mask, Q.nptr++;
	pthread_mutex_unlock(&Q.mu);
	rfbDefaultPtrAddEvent(mask, x, y, cl);
}

static void *q_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&Q.stop)) {
		rfbProcessEvents(Q.s, 10000);
		int w = atomic_exchange(&Q.resize_w, 0), h = atomic_load(&Q.resize_h);
		if (w > 0) {
			uint32_t *old = Q.fb;
			Q.fb = new_fb(w, h);
			rfbNewFramebuffer(Q.s, (char *)Q.fb, w, h, 8, 3, 4);
			free(old);
			atomic_fetch_add(&Q.resized, 1);
		}
		if (atomic_exchange(&Q.paint, false)) {
			for (int y = 16; y < 48; y++)
				for (int x = 32; x < 96; x++)
					Q.fb[(size_t)y * Q.s->width + x] = 0x00ffffffu;
			rfbMarkRectAsModified(Q.s, 32, 16, 96, 48);
		}
	}
	return NULL;
}

static int free_tcp_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void quiet(const char *fmt, ...)
{
	(void)fmt;
}

static void q_start(int w, int h)
{
	rfbLog = quiet; /* libvncserver's per-client chatter */
	Q.s = rfbGetScreen(NULL, NULL, w, h, 8, 3, 4);
	cr_assert_not_null(Q.s);
	Q.fb = new_fb(w, h);
	Q.s->frameBuffer = (char *)Q.fb;
	Q.s->desktopName = "QEMU (xvps-9)";
	Q.port = free_tcp_port();
	Q.s->port = Q.port;
	Q.s->ipv6port = -1;
	Q.s->autoPort = FALSE;
	Q.s->listenInterface = htonl(INADDR_LOOPBACK);
	Q.s->httpDir = NULL;
	Q.s->alwaysShared = TRUE;
	Q.s->cursor = NULL; /* libvncserver would draw its default cursor into the pixels */
	Q.s->kbdAddEvent = q_key;
	Q.s->ptrAddEvent = q_ptr;
	rfbInitServer(Q.s);
	cr_assert_gt(Q.s->listenSock, -1, "fake qemu cannot listen on 127.0.0.1:%d", Q.port);
	atomic_store(&Q.stop, false);
	cr_assert_eq(pthread_create(&Q.th, NULL, q_main, NULL), 0);
	Q.running = true;
}

static void q_stop(void)
{
	if (!Q.running)
		return;
	atomic_store(&Q.stop, true);
	pthread_join(Q.th, NULL);
	rfbShutdownServer(Q.s, TRUE);
	rfbScreenCleanup(Q.s);
	free(Q.fb);
	Q.fb = NULL;
	Q.running = false;
}

/* ---- xvps-console ------------------------------------------------------------------------- */

static void console_bin(char *out, size_t len)
{
	const char *b = getenv("XVPS_CONSOLE_BIN"), *g = getenv("XVPS_SIMGUEST");
	char tmp[PATH_MAX];

	if (b && *b) {
		cr_assert_not_null(realpath(b, out));
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s", g && *g ? g : "build/asan/xvps-simguest");
	char *slash = strrchr(tmp, '/');
	cr_assert_not_null(slash);
	snprintf(slash, sizeof(tmp) - (size_t)(slash - tmp), "/xvps-console");
	cr_assert(strlen(tmp) < len);
	memcpy(out, tmp, strlen(tmp) + 1);
}

static pid_t spawn_console(const char *source)
{
	char bin[PATH_MAX];
	pid_t pid = 0;

	console_bin(bin, sizeof(bin));
	const char *argv[] = {bin,        "--name", "xvps-9", "--source", source,
	                      "--listen", sock,     "--idle", "30",       NULL};
	cr_assert_eq(runner_spawn_detached(bin, argv, &pid), 0);
	return pid;
}

/* Waits up to ms for pid to exit; its exit status, or -1 when it is still running. */
static int wait_exit(pid_t pid, int ms)
{
	int st;
	for (int i = 0; i < ms / 20; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(20000);
	}
	return -1;
}

static void wait_socket(void)
{
	struct stat st;
	for (int i = 0; i < 250; i++) {
		if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return;
		cr_assert_eq(waitpid(con_pid, NULL, WNOHANG), 0, "xvps-console exited early");
		usleep(20000);
	}
	cr_assert_fail("no console socket at %s", sock);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/xvps-vnc-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/xvps-9.sock", dir);
	con_pid = 0;
	memset(Q.keys, 0, sizeof(Q.keys));
	Q.nkeys = Q.nptr = 0;
}

static void teardown(void)
{
	if (con_pid > 0) {
		kill(con_pid, SIGTERM);
		if (wait_exit(con_pid, 5000) < 0) {
			kill(con_pid, SIGKILL);
			waitpid(con_pid, NULL, 0);
		}
	}
	q_stop();
	unlink(sock);
	rmdir(dir);
}

#define VNC .init = setup, .fini = teardown, .timeout = 60

/* ---- the viewer (libvncclient on the unix socket) ---------------------------------------- */

static rfbClient *v_open(void)
{
	rfbClient *c = rfbGetClient(8, 3, 4);

	cr_assert_not_null(c);
	c->format.redShift = Q.s->serverFormat.redShift;
	c->format.greenShift = Q.s->serverFormat.greenShift;
	c->format.blueShift = Q.s->serverFormat.blueShift;
	c->canHandleNewFBSize = TRUE;
	c->appData.encodingsString = "copyrect hextile raw"; /* lossless: pixels are compared */
	c->appData.enableJPEG = FALSE;
	free(c->serverHost);
	c->serverHost = strdup(sock); /* a path: libvncclient connects to the unix socket */
	c->serverPort = 0;
	cr_assert(rfbInitClient(c, NULL, NULL), "the viewer cannot connect to %s", sock);
	return c;
}

static void v_close(rfbClient *c)
{
	free(c->frameBuffer);
	c->frameBuffer = NULL;
	rfbClientCleanup(c);
}

/* True when the viewer's framebuffer equals fake qemu's (size and pixels). Racy reads of
 * Q.fb are fine: a mismatch only makes the caller pump again. */
static bool v_matches(rfbClient *c)
{
	if (!Q.fb || c->width != Q.s->width || c->height != Q.s->height || !c->frameBuffer)
		return false;
	return memcmp(c->frameBuffer, Q.fb, (size_t)c->width * c->height * 4) == 0;
}

/* Pumps the viewer until pred holds or ms pass. */
static bool v_until(rfbClient *c, bool (*pred)(rfbClient *), int ms)
{
	uint64_t end = now_mono_ns() / 1000000u + (uint64_t)ms;

	while (!pred(c)) {
		if (now_mono_ns() / 1000000u >= end)
			return false;
		int w = WaitForMessage(c, 50000);
		if (w < 0 || (w > 0 && !HandleRFBServerMessage(c)))
			return false;
		if (w == 0) /* quiet: ask for everything (libvncclient's default framebuffer
		             * allocator starts from zeros after each DesktopSize) */
			SendFramebufferUpdateRequest(c, 0, 0, c->width, c->height, FALSE);
	}
	return true;
}

static bool keys_seen(int n, int ms)
{
	for (int i = 0; i < ms / 20; i++) {
		pthread_mutex_lock(&Q.mu);
		int k = Q.nkeys;
		pthread_mutex_unlock(&Q.mu);
		if (k >= n)
			return true;
		usleep(20000);
	}
	return false;
}

static void start_all(int w, int h)
{
	char src[64];

	q_start(w, h);
	snprintf(src, sizeof(src), "vnc:127.0.0.1:%d", Q.port);
	con_pid = spawn_console(src);
	wait_socket();
}

Test(console_vnc, relays_qemus_framebuffer_keys_pointer_and_typed_clipboard, VNC)
{
	start_all(640, 400);
	rfbClient *c = v_open();

	cr_assert_eq(c->width, 640);
	cr_assert_eq(c->height, 400);
	cr_assert_str_eq(c->desktopName, "xvps-9", "the desktop name is the domain's, not qemu's");
	cr_assert(v_until(c, v_matches, 10000), "the viewer never showed qemu's framebuffer");

	/* qemu paints: the change reaches the viewer as an incremental update. */
	atomic_store(&Q.paint, true);
	usleep(100000);
	cr_assert(v_until(c, v_matches, 10000), "qemu's update never reached the viewer");
	cr_assert_eq(((uint32_t *)c->frameBuffer)[20 * 640 + 40], 0x00ffffffu);

	SendKeyEvent(c, 'a', TRUE);
	SendKeyEvent(c, 'a', FALSE);
	cr_assert(keys_seen(2, 5000), "qemu got no key");
	cr_assert_eq(Q.keys[0], 'a' | 0x80000000u);
	cr_assert_eq(Q.keys[1], 'a');

	SendPointerEvent(c, 10, 20, 1);
	for (int i = 0; i < 250 && Q.nptr == 0; i++)
		usleep(20000);
	pthread_mutex_lock(&Q.mu);
	cr_assert_eq(Q.ptr_x, 10);
	cr_assert_eq(Q.ptr_y, 20);
	cr_assert_eq(Q.ptr_mask, 1);
	pthread_mutex_unlock(&Q.mu);

	/* Clipboard text is typed: Shift for 'H', Return for the newline, \x01 dropped. */
	Q.nkeys = 0;
	SendClientCutText(c, "Hi\x01\r\n", 5);
	cr_assert(keys_seen(8, 5000), "the clipboard text was not typed (%d keys)", Q.nkeys);
	const uint32_t want[] = {XK_Shift_L | 0x80000000u,
	                         'H' | 0x80000000u,
	                         'H',
	                         XK_Shift_L,
	                         'i' | 0x80000000u,
	                         'i',
	                         XK_Return | 0x80000000u,
	                         XK_Return};
	usleep(200000);
	cr_assert_eq(Q.nkeys, 8, "exactly the typed keys reach qemu");
	for (size_t i = 0; i < 8; i++)
		cr_assert_eq(Q.keys[i], want[i], "key event %zu: %#x", i, Q.keys[i]);
	v_close(c);
}

Test(console_vnc, a_resize_in_qemu_reaches_the_viewer, VNC)
{
	atomic_store(&Q.resized, 0);
	start_all(640, 400);
	rfbClient *c = v_open();

	cr_assert(v_until(c, v_matches, 10000));
	atomic_store(&Q.resize_h, 600);
	atomic_store(&Q.resize_w, 800);
	for (int i = 0; i < 250 && atomic_load(&Q.resized) == 0; i++)
		usleep(20000); /* until the fake has resized */
	cr_assert(v_until(c, v_matches, 15000), "the viewer did not follow qemu to 800x600 (%dx%d)",
	          c->width, c->height);
	cr_assert_eq(c->width, 800);
	/* The filter in front of the server follows the new size: a request for the new bottom
	 * right corner is served, not refused. */
	SendFramebufferUpdateRequest(c, 700, 500, 100, 100, FALSE);
	cr_assert(v_until(c, v_matches, 5000));
	cr_assert_eq(wait_exit(con_pid, 100), -1, "the console is still running");
	v_close(c);
}

static int raw_connect(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint8_t b[64], n;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", sock);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cr_assert_eq(recv(fd, b, 12, MSG_WAITALL), 12);
	cr_assert_eq(send(fd, "RFB 003.008\n", 12, MSG_NOSIGNAL), 12);
	cr_assert_eq(recv(fd, &n, 1, MSG_WAITALL), 1);
	cr_assert_eq(recv(fd, b, n, MSG_WAITALL), n);
	cr_assert_eq(send(fd, "\x01", 1, MSG_NOSIGNAL), 1);
	cr_assert_eq(recv(fd, b, 4, MSG_WAITALL), 4);
	cr_assert_eq(send(fd, "\x01", 1, MSG_NOSIGNAL), 1);
	cr_assert_eq(recv(fd, b, 24, MSG_WAITALL), 24);
	uint32_t len = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23];
	cr_assert_lt(len, sizeof(b));
	cr_assert_eq(recv(fd, b, len, MSG_WAITALL), (ssize_t)len);
	return fd;
}

static bool raw_closed(int fd, int ms)
{
	char b[65536];
	for (int i = 0; i < ms / 50; i++) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (poll(&pf, 1, 50) > 0 && recv(fd, b, sizeof(b), MSG_DONTWAIT) == 0)
			return true;
	}
	return false;
}

Test(console_vnc, bad_viewers_are_dropped_and_others_go_on, VNC)
{
	start_all(640, 400);
	rfbClient *c = v_open();
	cr_assert(v_until(c, v_matches, 10000));

	int bad = raw_connect();
	cr_assert_eq(send(bad, "\x63junk", 5, MSG_NOSIGNAL), 5); /* message type 99 */
	cr_assert(raw_closed(bad, 5000), "an unknown message type must drop the viewer");
	close(bad);

	bad = raw_connect(); /* a FramebufferUpdateRequest far outside the screen */
	cr_assert_eq(send(bad, "\x03\x00\x00\x00\x00\x00\xff\xff\xff\xff", 10, MSG_NOSIGNAL), 10);
	cr_assert(raw_closed(bad, 5000), "an oversized framebuffer request must drop the viewer");
	close(bad);

	atomic_store(&Q.paint, true);
	usleep(100000);
	cr_assert(v_until(c, v_matches, 10000), "the good viewer stopped getting updates");
	Q.nkeys = 0;
	SendKeyEvent(c, 'z', TRUE);
	cr_assert(keys_seen(1, 5000));
	cr_assert_eq(Q.keys[0], 'z' | 0x80000000u);
	v_close(c);
}

Test(console_vnc, qemu_going_away_ends_the_console_and_its_socket, VNC)
{
	start_all(640, 400);
	q_stop();
	cr_assert_eq(wait_exit(con_pid, 10000), 0, "xvps-console must exit 0 when qemu goes");
	con_pid = 0;
	struct stat st;
	cr_assert_neq(stat(sock, &st), 0, "the socket must be gone");
}

Test(console_vnc, refuses_off_host_sources_an_absent_server_and_a_huge_framebuffer, VNC)
{
	const char *bad[] = {"vnc:192.0.2.1:5900",  "vnc:localhost:5900", "vnc:127.0.0.1:0",
	                     "vnc:127.0.0.1:70000", "vnc:127.0.0.1:",     "vnc:127.0.0.1:59x"};
	struct stat st;
	char src[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pid_t p = spawn_console(bad[i]);
		cr_assert_neq(wait_exit(p, 5000), 0, "%s must be refused", bad[i]);
		cr_assert_neq(stat(sock, &st), 0, "%s: no socket", bad[i]);
	}
	snprintf(src, sizeof(src), "vnc:127.0.0.1:%d", free_tcp_port()); /* nobody listens */
	pid_t p = spawn_console(src);
	cr_assert_gt(wait_exit(p, 10000), 0, "an absent VNC server is an error");

	q_start(4100, 16); /* wider than VNCSRC_MAX_DIM */
	snprintf(src, sizeof(src), "vnc:127.0.0.1:%d", Q.port);
	p = spawn_console(src);
	cr_assert_gt(wait_exit(p, 10000), 0, "a framebuffer over 4096 pixels wide is refused");
	cr_assert_neq(stat(sock, &st), 0);
}
