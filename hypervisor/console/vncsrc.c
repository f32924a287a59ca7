/* vncsrc.c — an HVM guest's qemu VNC server as xvps-console's source (vncsrc.h). */
#include "vncsrc.h"

#include <errno.h>
#include <rfb/keysym.h>
#include <rfb/rfbclient.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/util.h"
#include "../../common/validate.h"

struct vncsrc {
	rfbClient *c;
	rfbScreenInfoPtr s;
	atomic_uint *dims;
	char *fb; /* shared by c->frameBuffer and s->frameBuffer */
	bool failed;
};

static int tag; /* rfbClientGetClientData key */

bool vncsrc_parse(const char *spec, char *host, size_t hostlen, int *port)
{
	const char *h, *p;
	long long n;

	if (strncmp(spec, "vnc:", 4) != 0)
		return false;
	h = spec + 4;
	if (strncmp(h, "127.0.0.1:", 10) == 0) {
		p = h + 10;
		if (!sfmt(host, hostlen, "127.0.0.1"))
			return false;
	} else if (strncmp(h, "[::1]:", 6) == 0) {
		p = h + 6;
		if (!sfmt(host, hostlen, "::1"))
			return false;
	} else {
		return false;
	}
	if (strlen(p) > 5 || p[0] == '+' || p[0] == '-' || p[0] == '0' ||
	    !parse_int_range(p, 1, 65535, &n))
		return false;
	*port = (int)n;
	return true;
}

/* libvncclient asks for a framebuffer at connect and on every resize: allocate it, serve it. */
static rfbBool on_malloc(rfbClient *c)
{
	vncsrc *v = rfbClientGetClientData(c, &tag);
	char *fb, *old = v->fb;

	if (c->width <= 0 || c->height <= 0 || c->width > VNCSRC_MAX_DIM ||
	    c->height > VNCSRC_MAX_DIM) {
		log_error("qemu asks for a %dx%d framebuffer: refused (at most %dx%d)", c->width,
		          c->height, VNCSRC_MAX_DIM, VNCSRC_MAX_DIM);
		v->failed = true;
		return FALSE;
	}
	if (old && c->width == v->s->width && c->height == v->s->height) {
		c->frameBuffer = (uint8_t *)old; /* a DesktopSize that changes nothing: keep it */
		return TRUE;
	}
	fb = calloc((size_t)c->width * (size_t)c->height, 4);
	if (!fb) {
		v->failed = true;
		return FALSE;
	}
	c->frameBuffer = (uint8_t *)fb;
	v->fb = fb;
	rfbNewFramebuffer(v->s, fb, c->width, c->height, 8, 3, 4);
	atomic_store(v->dims, (unsigned)c->width << 16 | (unsigned)c->height);
	free(old);
	return TRUE;
}

static void on_update(rfbClient *c, int x, int y, int w, int h)
{
	vncsrc *v = rfbClientGetClientData(c, &tag);

	rfbMarkRectAsModified(v->s, x, y, x + w, y + h);
}

/* qemu's clipboard (ServerCutText) is not passed on: viewers get pixels only. */
static void on_cut(rfbClient *c, const char *text, int len)
{
	(void)c, (void)text, (void)len;
}

static void client_log(const char *fmt, ...)
{
	(void)fmt; /* libvncclient's chatter ("VNC server supports protocol ...") */
}

static void client_err(const char *fmt, ...)
{
	char buf[256];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_warn("libvncclient: %s", buf);
}

vncsrc *vncsrc_open(const char *host, int port, const char *desktop, atomic_uint *dims,
                    rfbScreenInfoPtr *screen_out, char *err, size_t errlen)
{
	vncsrc *v = calloc(1, sizeof(*v));
	rfbClient *c;

	*screen_out = NULL;
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	v->dims = dims;
	/* The served screen first: the client asks qemu for the server's pixel format, so the
	 * one framebuffer needs no conversion. The size is qemu's, set in on_malloc. */
	v->s = rfbGetScreen(NULL, NULL, 64, 64, 8, 3, 4);
	c = rfbGetClient(8, 3, 4);
	if (!v->s || !c) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	v->s->desktopName = desktop;
	v->s->cursor = NULL; /* never drawn into qemu's pixels; qemu shows the guest's pointer */
	rfbClientLog = client_log;
	rfbClientErr = client_err;
	c->format.redShift = v->s->serverFormat.redShift;
	c->format.greenShift = v->s->serverFormat.greenShift;
	c->format.blueShift = v->s->serverFormat.blueShift;
	c->format.bigEndian = v->s->serverFormat.bigEndian;
	c->canHandleNewFBSize = TRUE;
	c->MallocFrameBuffer = on_malloc;
	c->GotFrameBufferUpdate = on_update;
	c->GotXCutText = on_cut;
	c->GetPassword = NULL;
	/* The decoders libvncclient runs on qemu's bytes: few, simple ones. */
	c->appData.encodingsString = "copyrect hextile zlib raw";
	c->appData.shareDesktop = TRUE;
	c->connectTimeout = 5;
	c->readTimeout = 10;
	free(c->serverHost); /* rfbGetClient's "" */
	c->serverHost = strdup(host);
	c->serverPort = port;
	rfbClientSetClientData(c, &tag, v);
	v->c = c;
	if (!c->serverHost) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (!rfbInitClient(c, NULL, NULL)) { /* cleans c up itself on failure */
		v->c = NULL;
		snprintf(err, errlen, "cannot open the VNC server at %s port %d%s", host, port,
		         v->failed ? ": framebuffer refused" : "");
		goto fail;
	}
	*screen_out = v->s;
	return v;
fail:
	if (v->c)
		rfbClientCleanup(v->c);
	if (v->s) {
		v->s->frameBuffer = NULL;
		rfbScreenCleanup(v->s);
	}
	free(v->fb);
	free(v);
	return NULL;
}

int vncsrc_fd(const vncsrc *v)
{
	return v->c->sock;
}

bool vncsrc_pending(const vncsrc *v)
{
	return v->c->buffered > 0;
}

bool vncsrc_pump(vncsrc *v)
{
	int budget = 64, w;

	while (budget-- > 0 && (w = WaitForMessage(v->c, 0)) != 0) {
		if (w < 0 || !HandleRFBServerMessage(v->c) || v->failed)
			return false;
	}
	return true;
}

void vncsrc_key(vncsrc *v, bool down, uint32_t keysym)
{
	SendKeyEvent(v->c, keysym, down ? TRUE : FALSE);
}

void vncsrc_pointer(vncsrc *v, int mask, int x, int y)
{
	SendPointerEvent(v->c, x, y, mask);
}

static bool needs_shift(unsigned ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch < 0x80 && strchr("~!@#$%^&*()_+{}|:\"<>?", (int)ch));
}

size_t vncsrc_type(vncsrc *v, const char *text, size_t len)
{
	size_t typed = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned ch = (unsigned char)text[i];
		uint32_t ks;
		bool shift;

		if (ch == '\r' || ch == '\n') {
			if (ch == '\r' && i + 1 < len && text[i + 1] == '\n')
				i++;
			ks = XK_Return;
		} else if (ch == '\t') {
			ks = XK_Tab;
		} else if (ch < 0x20 || (ch >= 0x7f && ch < 0xa0)) {
			continue;
		} else {
			ks = ch; /* Latin-1 keysyms are the characters' codes */
		}
		shift = needs_shift(ch);
		if (shift)
			SendKeyEvent(v->c, XK_Shift_L, TRUE);
		SendKeyEvent(v->c, ks, TRUE);
		SendKeyEvent(v->c, ks, FALSE);
		if (shift)
			SendKeyEvent(v->c, XK_Shift_L, FALSE);
		typed++;
	}
	return typed;
}

void vncsrc_close(vncsrc *v, rfbScreenInfoPtr s)
{
	if (!v)
		return;
	if (s && s->frameBuffer == v->fb)
		s->frameBuffer = NULL;
	if (v->c) {
		v->c->frameBuffer = NULL;
		rfbClientCleanup(v->c);
	}
	free(v->fb);
	free(v);
}
