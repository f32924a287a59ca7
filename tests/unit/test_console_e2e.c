/* test_console_e2e.c — web consoles end to end (issue 6): a sim guest (xvps-simguest), the
 * agent's console.open starting xvps-console on it, and a minimal RFB 3.8 viewer (below) that
 * finds the login prompt's glyphs in the framebuffer it receives, types "root" + Enter and sees
 * "Password:"; misbehaving viewers are dropped while the others go on; clipboard text is
 * sanitized and a long one dropped; a server is reused per domain run, replaced after a
 * reboot, exits with its domain, owns no IP socket, and goes when the agent stops. Programs:
 * $XVPS_SIMGUEST (default build/asan/xvps-simguest) and $XVPS_CONSOLE_BIN (default
 * xvps-console next to the simguest). */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <rfb/keysym.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../hypervisor/console/font.h"
#include "../../provisioning/agent.h"
#include "../../provisioning/console.h"

#define FG_GREY 0xaaaaaau /* Linux console grey as r<<16 | g<<8 | b */

static char tmp[64];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

/* True when cell (row, col) of fb (w pixels wide) shows glyph cp of f in fg on bg. */
static bool cell_is(const uint32_t *fb, int w, const cfont *f, int row, int col, uint32_t cp,
                    uint32_t fg, uint32_t bg)
{
	const uint8_t *g = cfont_glyph(f, cp);

	for (int y = 0; y < f->height; y++)
		for (int x = 0; x < f->width; x++) {
			bool on = g[y * f->rowbytes + x / 8] & (0x80 >> (x % 8));
			uint32_t px = fb[(size_t)(row * f->height + y) * w + col * f->width + x];
			if (px != (on ? fg : bg))
				return false;
		}
	return true;
}

static hv_driver hv;
static bool hv_on;
static cfont font;

static void dom_setup(void)
{
	char cfg[128], err[HV_ERRLEN + 300], guest[PATH_MAX], bin[PATH_MAX + 16], sockdir[96];
	const char *g = getenv("XVPS_SIMGUEST"), *b = getenv("XVPS_CONSOLE_BIN");
	FILE *f;

	snprintf(tmp, sizeof(tmp), "/tmp/xvps-con-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	cr_assert_not_null(realpath(g && *g ? g : "build/asan/xvps-simguest", guest));
	if (b && *b) {
		cr_assert_not_null(realpath(b, bin));
	} else {
		snprintf(bin, sizeof(bin), "%s", guest);
		snprintf(strrchr(bin, '/'), sizeof(bin) - (size_t)(strrchr(bin, '/') - bin),
		         "/xvps-console");
	}
	cr_assert_eq(hv_sim_open(&hv, tmp, err), 0, "%s", err);
	hv_on = true;
	cr_assert_eq(hv_sim_set_guest_path(&hv, guest), 0);
	snprintf(cfg, sizeof(cfg), "%s/xvps-7.cfg", tmp);
	f = fopen(cfg, "w");
	cr_assert_not_null(f);
	fputs("name = \"xvps-7\"\nmemory = 128\n", f);
	fclose(f);
	cr_assert_eq(hv.ops->create(&hv, "xvps-7", cfg, err), 0, "%s", err);
	snprintf(sockdir, sizeof(sockdir), "%s/run/console", tmp); /* parents made too */
	cr_assert_eq(consrv_init(bin, sockdir, geteuid(), err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfont_load(CFONT_DEFAULT_PATH, &font, err, sizeof(err)), 0, "%s", err);
}

static void dom_teardown(void)
{
	char err[HV_ERRLEN];

	consrv_stop_all();
	if (hv_on) {
		hv.ops->forget(&hv, "xvps-7", err);
		hv.ops->dispose(&hv);
	}
	hv_on = false;
	cfont_free(&font);
	if (tmp[0])
		nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#define E2E .init = dom_setup, .fini = dom_teardown, .timeout = 60

static pid_t open_ok(char *sock, size_t len)
{
	vps_err e = {0};
	pid_t pid = 0;

	cr_assert_eq(consrv_open(&hv, "xvps-7", sock, len, &pid, &e), 0, "%s", e.msg);
	cr_assert_gt(pid, 0);
	return pid;
}

static uint64_t ms_now(void)
{
	return now_mono_ns() / 1000000u;
}

/* Reads n bytes within timeout_ms; false on EOF, error or timeout. */
static bool rx(int fd, void *buf, size_t n, int timeout_ms)
{
	uint64_t end = ms_now() + (uint64_t)timeout_ms;
	size_t got = 0;

	while (got < n) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		int left = (int)(end - ms_now());
		if (left <= 0 || poll(&pf, 1, left) <= 0)
			return false;
		ssize_t r = recv(fd, (char *)buf + got, n - got, 0);
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

static void tx(int fd, const void *p, size_t n)
{
	cr_assert_eq(send(fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* True when the peer closes within timeout_ms (whatever it sends before). */
static bool closes(int fd, int timeout_ms)
{
	uint64_t end = ms_now() + (uint64_t)timeout_ms;
	char b[4096];

	while (ms_now() < end) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (poll(&pf, 1, 100) > 0 && recv(fd, b, sizeof(b), 0) <= 0)
			return true;
	}
	return false;
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "%s", strerror(errno));
	return fd;
}

typedef struct viewer {
	int fd, w, h;
	char name[64];
	uint32_t *fb;
} viewer;

/* RFB 3.8, security None, shared; 32 bpp little-endian r<<16 g<<8 b; Raw only. */
static void v_open(viewer *v, const char *sock)
{
	uint8_t b[24], n;
	uint32_t len;

	memset(v, 0, sizeof(*v));
	v->fd = unix_connect(sock);
	cr_assert(rx(v->fd, b, 12, 5000));
	cr_assert_eq(memcmp(b, "RFB 003.008\n", 12), 0);
	tx(v->fd, "RFB 003.008\n", 12);
	cr_assert(rx(v->fd, &n, 1, 5000));
	cr_assert(n >= 1 && rx(v->fd, b, n, 5000) && b[0] == 1, "security None offered");
	tx(v->fd, "\x01", 1);
	cr_assert(rx(v->fd, b, 4, 5000) && memcmp(b, "\0\0\0\0", 4) == 0);
	tx(v->fd, "\x01", 1);
	cr_assert(rx(v->fd, b, 24, 5000));
	v->w = b[0] << 8 | b[1];
	v->h = b[2] << 8 | b[3];
	len = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23];
	cr_assert_lt(len, sizeof(v->name));
	cr_assert(rx(v->fd, v->name, len, 5000));
	v->fb = calloc((size_t)v->w * v->h, 4);
	tx(v->fd,
	   "\x00\x00\x00\x00\x20\x18\x00\x01\x00\xff\x00\xff\x00\xff\x10\x08\x00\x00\x00\x00", 20);
	tx(v->fd, "\x02\x00\x00\x01\x00\x00\x00\x00", 8);
}

static void v_close(viewer *v)
{
	close(v->fd);
	free(v->fb);
}

/* Requests an update and applies it; false on timeout or a closed connection. */
static bool v_update(viewer *v, bool incremental, int timeout_ms)
{
	uint8_t req[10] = {3, incremental, 0,          0,         0,
	                   0, v->w >> 8,   v->w & 255, v->h >> 8, v->h & 255};
	uint8_t t, hdr[12];

	tx(v->fd, req, sizeof(req));
	for (;;) {
		if (!rx(v->fd, &t, 1, timeout_ms))
			return false;
		if (t == 2) /* Bell */
			continue;
		cr_assert_eq(t, 0, "server message type %u", t);
		cr_assert(rx(v->fd, hdr, 3, 5000));
		for (int i = 0, n = hdr[1] << 8 | hdr[2]; i < n; i++) {
			cr_assert(rx(v->fd, hdr, 12, 5000));
			int x = hdr[0] << 8 | hdr[1], y = hdr[2] << 8 | hdr[3];
			int w = hdr[4] << 8 | hdr[5], h = hdr[6] << 8 | hdr[7];
			if (hdr[8] == 0xff) /* DesktopSize and other pseudo-rectangles */
				continue;
			cr_assert_eq(memcmp(hdr + 8, "\0\0\0\0", 4), 0, "Raw only");
			cr_assert(x + w <= v->w && y + h <= v->h);
			for (int r = 0; r < h; r++)
				cr_assert(rx(v->fd, v->fb + (size_t)(y + r) * v->w + x,
				             (size_t)w * 4, 5000));
		}
		return true;
	}
}

/* True when the framebuffer shows text (grey on black) somewhere. */
static bool v_shows(const viewer *v, const char *text)
{
	int n = (int)strlen(text);

	for (int r = 0; r < v->h / font.height; r++)
		for (int c = 0; c + n <= v->w / font.width; c++) {
			int k = 0;
			while (k < n &&
			       cell_is(v->fb, v->w, &font, r, c + k, (uint8_t)text[k], FG_GREY, 0))
				k++;
			if (k == n)
				return true;
		}
	return false;
}

static bool v_wait(viewer *v, const char *text, int timeout_ms)
{
	uint64_t end = ms_now() + (uint64_t)timeout_ms;

	while (!v_shows(v, text)) {
		int left = (int)(end - ms_now());
		if (left <= 0 || !v_update(v, true, left))
			return false;
	}
	return true;
}

static void v_key(viewer *v, uint32_t ks)
{
	uint8_t m[8] = {4, 1, 0, 0, ks >> 24, (ks >> 16) & 255, (ks >> 8) & 255, ks & 255};

	tx(v->fd, m, 8);
	m[1] = 0;
	tx(v->fd, m, 8);
}

static void v_type(viewer *v, const char *s)
{
	for (; *s; s++)
		v_key(v, *s == '\r' ? XK_Return : (uint8_t)*s);
}

Test(console, open_serves_the_login_prompt_and_types_keys, E2E)
{
	char sock[108], want[160];
	struct stat st;
	viewer v, v2;

	open_ok(sock, sizeof(sock));
	snprintf(want, sizeof(want), "%s/run/console/xvps-7.sock", tmp);
	cr_assert_str_eq(sock, want);
	cr_assert_eq(lstat(sock, &st), 0);
	cr_assert(S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0600 && st.st_uid == geteuid());
	snprintf(want, sizeof(want), "%s/run/console", tmp);
	cr_assert(stat(want, &st) == 0 && (st.st_mode & 0777) == 0711);

	uint64_t t0 = now_mono_ns();
	v_open(&v, sock);
	cr_assert(v_update(&v, false, 5000));
	cr_log_info("connect to first framebuffer update: %.1f ms", (now_mono_ns() - t0) / 1e6);
	cr_assert_str_eq(v.name, "xvps-7");
	cr_assert_eq(v.w, 640);
	cr_assert_eq(v.h, 400);
	cr_assert(v_wait(&v, "xvps-7 login:", 5000), "the login prompt is on the screen");
	cr_assert(v_shows(&v, "Debian GNU/Linux 12 xvps-7 hvc0"), "the boot text too");
	cr_assert_not(v_shows(&v, "Password:"));
	v_type(&v, "root\r");
	cr_assert(v_wait(&v, "login: root", 5000), "typed keys are echoed");
	cr_assert(v_wait(&v, "Password:", 5000), "Enter reached the guest");
	v_open(&v2, sock); /* a second viewer shares the screen */
	cr_assert(v_update(&v2, false, 5000));
	cr_assert(v_shows(&v2, "Password:"));
	v_close(&v2);
	v_close(&v);
}

Test(console, a_server_is_reused_and_replaced_after_a_reboot, E2E)
{
	char sock[108], err[HV_ERRLEN];
	pid_t a = open_ok(sock, sizeof(sock));

	cr_assert_eq(open_ok(sock, sizeof(sock)), a, "one server per domain run");
	cr_assert_eq(hv.ops->reboot(&hv, "xvps-7", err), 0, "%s", err);
	pid_t b = open_ok(sock, sizeof(sock));
	cr_assert_neq(b, a, "a new run (domid) gets a new server");
	cr_assert(kill(a, 0) != 0, "the old server is gone and reaped");
	viewer v;
	v_open(&v, sock);
	cr_assert(v_update(&v, false, 5000));
	cr_assert(v_wait(&v, "xvps-7 login:", 5000));
	v_close(&v);
}

Test(console, bad_viewers_are_dropped_and_the_others_go_on, E2E)
{
	char sock[108];
	viewer good, bad;

	open_ok(sock, sizeof(sock));
	v_open(&good, sock);
	cr_assert(v_update(&good, false, 5000));
	/* an update request outside the screen */
	v_open(&bad, sock);
	tx(bad.fd, "\x03\x00\x00\x00\x00\x00\x02\x81\x01\x90", 10);
	cr_assert(closes(bad.fd, 3000));
	v_close(&bad);
	/* a huge cut text, an unknown message, a WebSocket handshake instead of RFB */
	v_open(&bad, sock);
	tx(bad.fd, "\x06\x00\x00\x00\x7f\xff\xff\xff", 8);
	cr_assert(closes(bad.fd, 3000));
	v_close(&bad);
	v_open(&bad, sock);
	tx(bad.fd, "\x0b\x00\x00\x00\x00\x00\x00\x00", 8);
	cr_assert(closes(bad.fd, 3000));
	v_close(&bad);
	int fd = unix_connect(sock);
	tx(fd, "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", 38);
	cr_assert(closes(fd, 3000));
	close(fd);
	v_type(&good, "root\r");
	cr_assert(v_wait(&good, "Password:", 5000), "the good viewer still works");
	v_close(&good);
}

static void cut(viewer *v, const char *text, size_t n)
{
	uint8_t h[8] = {6, 0, 0, 0, n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255};

	tx(v->fd, h, 8);
	tx(v->fd, text, n);
}

Test(console, cut_text_is_sanitized_typed_and_over_4k_dropped, E2E)
{
	char sock[108], *big = malloc(5000);
	viewer v;

	open_ok(sock, sizeof(sock));
	v_open(&v, sock);
	cr_assert(v_update(&v, false, 5000));
	memset(big, 'q', 5000);
	cut(&v, big, 5000);
	cut(&v, "ro\x1b[2Jot\n", 9);
	cr_assert(v_wait(&v, "login: ro[2Jot", 5000), "controls stripped, the rest typed");
	cr_assert(v_wait(&v, "Password:", 5000), "\\n typed as Enter");
	cr_assert_not(v_shows(&v, "qqqq"), "the 5000-byte text was not typed");
	free(big);
	v_close(&v);
}

Test(console, no_network_socket_and_stop_all_ends_servers, E2E)
{
	char sock[108], path[64], link[64], line[512];
	pid_t pid = open_ok(sock, sizeof(sock));
	viewer v;
	int n = 0;

	v_open(&v, sock); /* a viewer and its relay thread are there too */
	cr_assert(v_update(&v, false, 5000));
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	for (int fd = 0; fd < 1024; fd++) {
		char fdp[96];
		unsigned long ino;
		snprintf(fdp, sizeof(fdp), "%s/%d", path, fd);
		ssize_t k = readlink(fdp, link, sizeof(link) - 1);
		if (k <= 0)
			continue;
		link[k] = '\0';
		if (sscanf(link, "socket:[%lu]", &ino) != 1)
			continue;
		n++;
		static const char *const nets[] = {"tcp", "tcp6", "udp", "udp6", "raw", "raw6"};
		for (size_t i = 0; i < 6; i++) {
			char np[64], want[32];
			snprintf(np, sizeof(np), "/proc/%d/net/%s", (int)pid, nets[i]);
			snprintf(want, sizeof(want), " %lu ", ino);
			FILE *f = fopen(np, "r");
			while (f && fgets(line, sizeof(line), f))
				cr_assert_null(strstr(line, want), "an IP socket: %s", line);
			if (f)
				fclose(f);
		}
	}
	cr_assert_geq(n, 3, "listen, source and viewer sockets seen (%d)", n);
	v_close(&v);
	consrv_stop_all();
	cr_assert(kill(pid, 0) != 0, "stopped and reaped");
	cr_assert(access(sock, F_OK) != 0, "its socket is gone");
}

Test(console, open_validates_and_refuses_a_stopped_domain, E2E)
{
	static const char *const bad[] = {"xvps-01", "../etc", "xvps-7;reboot", "", "XVPS-7"};
	char sock[108], src[256], err[HV_ERRLEN];
	vps_err e = {0};
	pid_t pid;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(consrv_open(&hv, bad[i], sock, sizeof(sock), &pid, &e), -EINVAL);
		cr_assert_str_eq(e.code, "invalid");
		cr_assert_str_eq(e.field, "name");
	}
	cr_assert_eq(consrv_open(&hv, "xvps-8", sock, sizeof(sock), &pid, &e), -ESRCH);
	cr_assert_str_eq(e.code, "conflict");
	cr_assert_str_eq(e.msg, "the domain is not running");
	cr_assert_eq(hv.ops->console_source(&hv, "xvps-7", src, sizeof(src), err), 0, "%s", err);
	cr_assert(strncmp(src, "unix:", 5) == 0 && strstr(src, "/sim/xvps-7.console"), "%s", src);
	cr_assert_eq(hv.ops->console_source(&hv, "xvps-8", src, sizeof(src), err), -ENOENT);
	cr_assert_eq(hv.ops->console_source(&hv, "../x", src, sizeof(src), err), -EINVAL);

	pid_t p = open_ok(sock, sizeof(sock));
	cr_assert_eq(hv.ops->destroy(&hv, "xvps-7", err), 0, "%s", err);
	for (int i = 0; i < 300 && kill(p, 0) == 0; i++) /* its source closed: it exits */
		usleep(10000);
	cr_assert(kill(p, 0) != 0, "the server of a stopped domain exits and is reaped");
	cr_assert_eq(consrv_open(&hv, "xvps-7", sock, sizeof(sock), &pid, &e), -ESRCH);
	cr_assert_str_eq(e.code, "conflict");
	consrv_stop_all();
	char cfg[128];
	snprintf(cfg, sizeof(cfg), "%s/xvps-7.cfg", tmp);
	cr_assert_eq(hv.ops->create(&hv, "xvps-7", cfg, err), 0, "%s", err);
	cr_assert_eq(consrv_open(&hv, "xvps-7", sock, sizeof(sock), &pid, &e), -ENOTSUP);
	cr_assert_str_eq(e.code, "host", "console servers off after stop_all");
}

Test(console, the_agent_dispatches_console_open_and_stops_servers, E2E)
{
	char dir[128], sock[108], err[512];
	st_driver st;
	vps_ctx ctx;
	vps_err ve = {0};
	agent_config cfg = {.panel_uid = geteuid(), .recv_timeout_ms = 5000};
	agent *a;
	json_object *r, *res, *v;

	snprintf(dir, sizeof(dir), "%s/template-src", tmp);
	cr_assert_eq(st_file_open(&st, tmp, dir, err), 0, "%s", err);
	snprintf(dir, sizeof(dir), "%s/xen", tmp);
	cr_assert_eq(vps_ctx_init(&ctx, &hv, &st, dir, "xvpsbr0", &ve), 0, "%s", ve.msg);
	snprintf(cfg.sock_path, sizeof(cfg.sock_path), "%s/agent.sock", tmp);
	cr_assert_eq(agent_start(&cfg, &ctx, &a, err, sizeof(err)), 0, "%s", err);

	json_object *req = json_tokener_parse("{\"op\":\"console.open\",\"name\":\"xvps-7\"}");
	r = agent_handle(a, req);
	json_object_put(req);
	cr_assert(json_object_object_get_ex(r, "result", &res), "%s", json_object_get_string(r));
	cr_assert(json_object_object_get_ex(res, "socket", &v));
	snprintf(sock, sizeof(sock), "%s", json_object_get_string(v));
	cr_assert(json_object_object_get_ex(res, "pid", &v));
	pid_t pid = json_object_get_int(v);
	cr_assert_gt(pid, 0);
	json_object_put(r);
	static const char *const bad[] = {"{\"op\":\"console.open\",\"name\":\"xvps-7\",\"x\":1}",
	                                  "{\"op\":\"console.open\",\"name\":\"<b>\"}",
	                                  "{\"op\":\"console.open\",\"name\":7}",
	                                  "{\"op\":\"console.open\"}"};
	for (size_t i = 0; i < 4; i++) {
		req = json_tokener_parse(bad[i]);
		r = agent_handle(a, req);
		json_object_put(req);
		cr_assert(json_object_object_get_ex(r, "code", &v), "%s", bad[i]);
		cr_assert_str_eq(json_object_get_string(v), "invalid", "%s", bad[i]);
		json_object_put(r);
	}
	agent_stop(a);
	cr_assert(kill(pid, 0) != 0, "agent_stop stops the console servers");
	cr_assert(access(sock, F_OK) != 0);
	st.ops->dispose(&st);
}
