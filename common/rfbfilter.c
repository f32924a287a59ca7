/* rfbfilter.c — allowlist parser of what an RFB viewer sends (rfbfilter.h). */
#include "rfbfilter.h"

#include <stdio.h>
#include <string.h>

enum { RF_VERSION, RF_SECTYPE, RF_INIT, RF_NORMAL };

enum {
	MSG_SET_PIXEL_FORMAT = 0,
	MSG_SET_ENCODINGS = 2,
	MSG_FB_UPDATE_REQUEST = 3,
	MSG_KEY = 4,
	MSG_POINTER = 5,
	MSG_CUT_TEXT = 6,
};

/* Encodings libvncserver may use with a viewer; everything else is rewritten to Raw. */
static bool encoding_ok(int32_t e)
{
	switch (e) {
	case 0:    /* Raw */
	case 1:    /* CopyRect */
	case 2:    /* RRE */
	case 4:    /* CoRRE */
	case 5:    /* Hextile */
	case 6:    /* Zlib */
	case 7:    /* Tight */
	case 15:   /* TRLE */
	case 16:   /* ZRLE */
	case -223: /* DesktopSize */
	case -224: /* LastRect */
	case -232: /* PointerPos */
	case -239: /* Cursor */
	case -240: /* XCursor */
		return true;
	default:
		/* JPEG quality and compression level pseudo-encodings */
		return (e >= -32 && e <= -23) || (e >= -256 && e <= -247);
	}
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

void rfb_filter_init(rfb_filter *f, int width, int height, size_t cut_max)
{
	memset(f, 0, sizeof(*f));
	f->state = RF_VERSION;
	f->width = width;
	f->height = height;
	f->cut_max = cut_max > RF_MAX_MSG - 8 ? RF_MAX_MSG - 8 : cut_max;
}

/* Records why the viewer is dropped; evaluates to -1. */
#define set_why(f, ...) snprintf((f)->why, sizeof((f)->why), __VA_ARGS__)
#define reject(f, ...)  (set_why(f, __VA_ARGS__), -1L)

/* Bytes the current message needs in total, judged from what is collected; 0 = invalid. */
static size_t needed(rfb_filter *f)
{
	switch (f->state) {
	case RF_VERSION:
		return 12;
	case RF_SECTYPE:
	case RF_INIT:
		return 1;
	default:
		break;
	}
	if (f->len == 0)
		return 1;
	switch (f->msg[0]) {
	case MSG_SET_PIXEL_FORMAT:
		return 20;
	case MSG_SET_ENCODINGS:
		if (f->len < 4)
			return 4;
		if (be16(f->msg + 2) > RF_MAX_ENCODINGS) {
			set_why(f, "SetEncodings with %u encodings (at most %u)", be16(f->msg + 2),
			        RF_MAX_ENCODINGS);
			return 0;
		}
		return 4 + 4 * (size_t)be16(f->msg + 2);
	case MSG_FB_UPDATE_REQUEST:
		return 10;
	case MSG_KEY:
		return 8;
	case MSG_POINTER:
		return 6;
	case MSG_CUT_TEXT:
		if (f->len < 8)
			return 8;
		if (be32(f->msg + 4) & 0x80000000u) {
			set_why(f, "extended ClientCutText (length 0x%08x) was not negotiated",
			        be32(f->msg + 4));
			return 0;
		}
		if (be32(f->msg + 4) > RF_MAX_CUT_SKIP) {
			set_why(f, "ClientCutText of %u bytes (more than %u)", be32(f->msg + 4),
			        RF_MAX_CUT_SKIP);
			return 0;
		}
		if (be32(f->msg + 4) > f->cut_max)
			return 8; /* the header alone: the text is skipped */
		return 8 + be32(f->msg + 4);
	default:
		set_why(f, "message type %u is not allowed", f->msg[0]);
		return 0;
	}
}

/* Each maximum must be 2^k - 1 and fit with its shift into bpp bits. */
static bool channel_ok(unsigned max, unsigned shift, unsigned bpp)
{
	unsigned k = 0;

	if (max == 0 || (max & (max + 1)) != 0)
		return false;
	while (max >> k)
		k++;
	return shift + k <= bpp;
}

/* Judges one complete message: appends it to out (returns its length), skips it (0), or -1. */
static long judge(rfb_filter *f, uint8_t *out)
{
	const uint8_t *m = f->msg;
	size_t n = f->len;

	switch (f->state) {
	case RF_VERSION:
		if (memcmp(m, "RFB 003.00", 10) != 0 || m[11] != '\n' ||
		    (m[10] != '3' && m[10] != '7' && m[10] != '8'))
			return reject(f, "bad ProtocolVersion");
		f->minor = m[10] - '0';
		f->state = f->minor >= 7 ? RF_SECTYPE : RF_INIT;
		break;
	case RF_SECTYPE:
		if (m[0] != 1)
			return reject(f, "security type %u chosen (only None is offered)", m[0]);
		f->state = RF_INIT;
		break;
	case RF_INIT:
		f->state = RF_NORMAL;
		break;
	default:
		switch (m[0]) {
		case MSG_SET_PIXEL_FORMAT: {
			unsigned bpp = m[4], depth = m[5];
			if ((bpp != 8 && bpp != 16 && bpp != 32) || depth == 0 || depth > bpp ||
			    m[6] > 1 || m[7] != 1 || !channel_ok(be16(m + 8), m[14], bpp) ||
			    !channel_ok(be16(m + 10), m[15], bpp) ||
			    !channel_ok(be16(m + 12), m[16], bpp))
				return reject(f, "SetPixelFormat %u bpp depth %u not allowed", bpp,
				              depth);
			break;
		}
		case MSG_SET_ENCODINGS:
			memcpy(out, m, n);
			for (size_t i = 4; i + 4 <= n; i += 4)
				if (!encoding_ok((int32_t)be32(m + i)))
					memset(out + i, 0, 4);
			return (long)n;
		case MSG_FB_UPDATE_REQUEST: {
			unsigned x = be16(m + 2), y = be16(m + 4), w = be16(m + 6), h = be16(m + 8);
			if (m[1] > 1 || x + w > (unsigned)f->width || y + h > (unsigned)f->height)
				return reject(f,
				              "FramebufferUpdateRequest outside the %ux%u screen",
				              (unsigned)f->width, (unsigned)f->height);
			break;
		}
		case MSG_CUT_TEXT:
			if (be32(m + 4) > f->cut_max) {
				f->skip = be32(m + 4);
				f->cuts_dropped++;
				return 0;
			}
			break;
		default:
			break;
		}
	}
	memcpy(out, m, n);
	return (long)n;
}

long rfb_filter_feed(rfb_filter *f, const uint8_t *in, size_t len, uint8_t *out, size_t outcap)
{
	size_t i = 0, o = 0;

	if (outcap < len + RF_MAX_MSG) {
		snprintf(f->why, sizeof(f->why), "filter output buffer too small");
		return -1;
	}
	while (i < len) {
		if (f->skip) {
			size_t take = len - i < f->skip ? len - i : f->skip;
			i += take;
			f->skip -= (uint32_t)take;
			continue;
		}
		size_t need = needed(f);
		if (need == 0)
			return -1;
		size_t take = need - f->len < len - i ? need - f->len : len - i;
		memcpy(f->msg + f->len, in + i, take);
		f->len += take;
		i += take;
		if (f->len < need)
			continue;
		size_t now = needed(f); /* the header may just have told the real length */
		if (now == 0)
			return -1;
		if (now != need)
			continue;
		long r = judge(f, out + o);
		if (r < 0)
			return -1;
		o += (size_t)r;
		f->len = 0;
	}
	return (long)o;
}
