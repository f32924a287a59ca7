/* test_console.c — web consoles (issue 6), the parts without processes: the PSF loader (real
 * Debian fonts from console-setup-linux, corrupt ones), the libvterm renderer (pixels of a
 * known string), keysyms -> bytes, cut text sanitizing, the RFB allowlist filter and the xl
 * driver's console_source on a fake runner. End to end: test_console_e2e.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <rfb/keysym.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../../common/util.h"
#include "../../hypervisor/console/font.h"
#include "../../common/rfbfilter.h"
#include "../../hypervisor/console/term.h"
#include "../../hypervisor/driver.h"

#define FONT_PSF1 CFONT_DEFAULT_PATH
#define FONT_PSF2 "/usr/share/consolefonts/Lat15-Terminus20x10.psf.gz"

static char tmp[64];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static void mktmp(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/xvps-con-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

static void rmtmp(void)
{
	if (tmp[0])
		nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tmp[0] = '\0';
}

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f);
	cr_assert_eq(fwrite(p, 1, n, f), n);
	fclose(f);
}

static bool glyph_blank(const cfont *f, const uint8_t *g)
{
	for (int i = 0; i < f->height * f->rowbytes; i++)
		if (g[i])
			return false;
	return true;
}

/* ---- fonts --------------------------------------------------------------------------------- */

Test(console, loads_debians_psf1_with_its_unicode_table)
{
	cfont f;
	char err[300];

	cr_assert_eq(cfont_load(FONT_PSF1, &f, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(f.width, 8);
	cr_assert_eq(f.height, 16);
	cr_assert_eq(f.nglyphs, 256);
	cr_assert_gt(f.nmap, 200, "Unicode table has %zu entries", f.nmap);
	cr_assert(glyph_blank(&f, cfont_glyph(&f, ' ')));
	cr_assert_not(glyph_blank(&f, cfont_glyph(&f, 'A')));
	cr_assert_neq(cfont_glyph(&f, 'A'), cfont_glyph(&f, 'B'));
	cr_assert_neq(cfont_glyph(&f, 0xE9), cfont_glyph(&f, 'e'), "e-acute has its own glyph");
	/* a code point the font lacks shows the replacement glyph, never out of bounds */
	cr_assert_eq(cfont_glyph(&f, 0x4E2D), cfont_glyph(&f, 0x10FFFF));
	cfont_free(&f);
}

Test(console, loads_debians_psf2_ten_pixels_wide)
{
	cfont f;
	char err[300];

	cr_assert_eq(cfont_load(FONT_PSF2, &f, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(f.width, 10);
	cr_assert_eq(f.height, 20);
	cr_assert_eq(f.rowbytes, 2);
	cr_assert_gt(f.nmap, 200);
	cr_assert_not(glyph_blank(&f, cfont_glyph(&f, 'W')));
	cfont_free(&f);
}

Test(console, refuses_corrupt_and_missing_files, .init = mktmp, .fini = rmtmp)
{
	static const uint8_t bad_magic[64] = {0x12, 0x34};
	uint8_t psf1[4 + 100] = {0x36, 0x04, 0x00, 16}; /* 256 glyphs need 4096 bytes */
	uint8_t psf2[32] = {0x72, 0xb5, 0x4a, 0x86, 0, 0, 0, 0, 32}; /* no glyphs follow */
	uint8_t psf1tab[4 + 4096 + 2] = {0x36, 0x04, 0x02, 16};      /* table cut short */
	char path[128], err[300];
	cfont f;

	psf2[16] = 0x00, psf2[17] = 0x01;           /* 256 glyphs */
	psf2[20] = 16, psf2[24] = 16, psf2[28] = 8; /* 16 bytes, 8x16 */
	cr_assert_eq(cfont_parse(bad_magic, sizeof(bad_magic), &f, err, sizeof(err)), -EPROTO);
	cr_assert_eq(cfont_parse(psf1, sizeof(psf1), &f, err, sizeof(err)), -EPROTO);
	cr_assert(strstr(err, "truncated"), "%s", err);
	cr_assert_eq(cfont_parse(psf2, sizeof(psf2), &f, err, sizeof(err)), -EPROTO);
	cr_assert_eq(cfont_parse(psf1tab, sizeof(psf1tab), &f, err, sizeof(err)), -EPROTO);
	psf2[28] = 40; /* 40 pixels wide: refused */
	cr_assert_eq(cfont_parse(psf2, sizeof(psf2), &f, err, sizeof(err)), -EPROTO);

	snprintf(path, sizeof(path), "%s/bad.psf.gz", tmp);
	gzFile gz = gzopen(path, "wb");
	cr_assert_not_null(gz);
	gzwrite(gz, psf1, sizeof(psf1));
	gzclose(gz);
	cr_assert_eq(cfont_load(path, &f, err, sizeof(err)), -EPROTO);
	cr_assert(strstr(err, path), "%s", err);
	/* a gzip stream cut in the middle */
	char *data = NULL;
	size_t len = 0;
	cr_assert_eq(read_file(FONT_PSF1, 1 << 20, &data, &len), 0);
	write_bytes(path, data, len / 2);
	free(data);
	cr_assert_neq(cfont_load(path, &f, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/none.psf.gz", tmp);
	cr_assert_eq(cfont_load(path, &f, err, sizeof(err)), -ENOENT);
	cr_assert_eq(cfont_builtin(&f), 0);
	cr_assert_not(glyph_blank(&f, cfont_glyph(&f, 'A')));
	cr_assert(glyph_blank(&f, cfont_glyph(&f, ' ')));
	cfont_free(&f);
}

/* ---- terminal: rendering, keys, cut text ------------------------------------------------------
 */

static char outbuf[256];
static size_t outlen;

static void capture(const char *b, size_t n, void *user)
{
	(void)user;
	cr_assert_lt(outlen + n, sizeof(outbuf));
	memcpy(outbuf + outlen, b, n);
	outlen += n;
}

static const term_pixfmt FMT = {16, 8, 0};
#define PX(r, g, b) ((uint32_t)(r) << 16 | (uint32_t)(g) << 8 | (uint32_t)(b))
#define FG_GREY     PX(0xaa, 0xaa, 0xaa)

/* True when cell (row, col) of fb shows glyph cp in fg on bg. */
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

Test(console, renders_text_colours_and_the_cursor_into_pixels)
{
	cfont f;
	char err[300], row[200];
	int x1, y1, x2, y2;

	cr_assert_eq(cfont_load(FONT_PSF1, &f, err, sizeof(err)), 0, "%s", err);
	int w = TERM_COLS * f.width, h = TERM_ROWS * f.height;
	uint32_t *fb = calloc((size_t)w * h, 4);
	term *t = term_new(TERM_COLS, TERM_ROWS, &f, fb, FMT, capture, NULL);
	cr_assert_not_null(t);
	cr_assert_eq(term_width(t), 640);
	cr_assert_eq(term_height(t), 400);
	cr_assert(term_render(t, &x1, &y1, &x2, &y2));
	cr_assert_eq(x2 - x1, 640, "the first render covers the screen");
	cr_assert_not(term_render(t, &x1, &y1, &x2, &y2), "nothing changed since");

	static const char text[] = "Hello \xc3\xa9\r\n\x1b[1;31mRed\x1b[0m \x1b[7mX\x1b[0m";
	term_feed(t, text, sizeof(text) - 1);
	cr_assert(term_render(t, &x1, &y1, &x2, &y2));
	cr_assert_eq(y1, 0);
	cr_assert_eq(y2, 32, "rows 0 and 1 changed, got %d..%d", y1, y2);
	term_row_text(t, 0, row, sizeof(row));
	cr_assert_str_eq(row, "Hello \xc3\xa9");
	const char *hello = "Hello ";
	for (int c = 0; hello[c]; c++)
		cr_assert(cell_is(fb, w, &f, 0, c, (uint8_t)hello[c], FG_GREY, 0), "cell 0,%d", c);
	cr_assert(cell_is(fb, w, &f, 0, 6, 0xE9, FG_GREY, 0));
	cr_assert_not(cell_is(fb, w, &f, 0, 6, 'e', FG_GREY, 0));
	/* bold red is bright red (Linux console), reverse video swaps */
	cr_assert(cell_is(fb, w, &f, 1, 0, 'R', PX(0xff, 0x55, 0x55), 0));
	cr_assert(cell_is(fb, w, &f, 1, 4, 'X', 0, FG_GREY));
	/* the cursor (after "X") is a block: an inverted blank */
	cr_assert(cell_is(fb, w, &f, 1, 5, ' ', 0, FG_GREY));
	cr_assert(cell_is(fb, w, &f, 1, 6, ' ', FG_GREY, 0));
	cr_assert(cell_is(fb, w, &f, 10, 40, ' ', FG_GREY, 0));
	term_feed(t, "\x1b[?25l", 6); /* cursor hidden */
	cr_assert(term_render(t, &x1, &y1, &x2, &y2));
	cr_assert(cell_is(fb, w, &f, 1, 5, ' ', FG_GREY, 0));
	/* a terminal query is answered towards the guest */
	outlen = 0;
	term_feed(t, "\x1b[c", 3);
	cr_assert_gt(outlen, 3);
	cr_assert_eq(memcmp(outbuf, "\x1b[?", 3), 0);
	term_free(t);
	free(fb);
	cfont_free(&f);
}

static const char *key(term *t, uint32_t ks, unsigned mods)
{
	outlen = 0;
	term_key(t, ks, mods);
	outbuf[outlen] = '\0';
	return outbuf;
}

Test(console, keysyms_become_terminal_bytes)
{
	cfont f;
	uint32_t fb[8 * 16];

	cr_assert_eq(cfont_builtin(&f), 0);
	term *t = term_new(1, 1, &f, fb, FMT, capture, NULL);
	cr_assert_not_null(t);
	cr_assert_str_eq(key(t, 'a', 0), "a");
	cr_assert_str_eq(key(t, 'A', TERM_MOD_SHF), "A");
	cr_assert_str_eq(key(t, XK_Return, 0), "\r");
	cr_assert_str_eq(key(t, XK_KP_Enter, 0), "\r");
	cr_assert_str_eq(key(t, XK_BackSpace, 0), "\x7f");
	cr_assert_str_eq(key(t, XK_Tab, 0), "\t");
	cr_assert_str_eq(key(t, XK_Escape, 0), "\x1b");
	cr_assert_str_eq(key(t, XK_Up, 0), "\x1b[A");
	cr_assert_str_eq(key(t, XK_Down, 0), "\x1b[B");
	cr_assert_str_eq(key(t, XK_Right, 0), "\x1b[C");
	cr_assert_str_eq(key(t, XK_Left, 0), "\x1b[D");
	cr_assert_str_eq(key(t, XK_Delete, 0), "\x1b[3~");
	cr_assert_str_eq(key(t, XK_F1, 0), "\x1bOP");
	cr_assert_str_eq(key(t, 'c', TERM_MOD_CTL), "\x03");
	cr_assert_str_eq(key(t, 'C', TERM_MOD_CTL | TERM_MOD_SHF), "\x03");
	cr_assert_str_eq(key(t, 'd', TERM_MOD_CTL), "\x04");
	cr_assert_str_eq(key(t, '[', TERM_MOD_CTL), "\x1b");
	cr_assert_str_eq(key(t, 'x', TERM_MOD_ALT), "\x1bx");
	cr_assert_str_eq(key(t, XK_KP_5, 0), "5");
	cr_assert_str_eq(key(t, 0xe9, 0), "\xc3\xa9");           /* Latin-1 keysym */
	cr_assert_str_eq(key(t, 0x010020ac, 0), "\xe2\x82\xac"); /* Unicode keysym: euro */
	cr_assert_not(term_key(t, XK_Shift_L, 0));
	cr_assert_not(term_key(t, 0x0100d800, 0), "a surrogate is no character");
	cr_assert_not(term_key(t, 0x9f, 0), "a C1 control is no key");
	term_feed(t, "\x1b[?1h", 5); /* application cursor keys (DECCKM) */
	cr_assert_str_eq(key(t, XK_Up, 0), "\x1bOA");
	term_free(t);
	cfont_free(&f);
}

Test(console, cut_text_is_stripped_of_controls_and_typed_as_utf8)
{
	char out[2 * CUT_MAX + 1];
	const char in[] = "ls\x1b[31m -l\x07\r\n\tx\ny\x7f\x85\xe9\x00z";

	size_t n = cut_sanitize(in, sizeof(in) - 1, out, sizeof(out));
	cr_assert_str_eq(out, "ls[31m -l\r\tx\ry\xc3\xa9z");
	cr_assert_eq(n, strlen(out));
	/* the worst case (all Latin-1) fits the documented bound */
	char big[CUT_MAX];
	memset(big, 0xff, sizeof(big));
	cr_assert_eq(cut_sanitize(big, sizeof(big), out, sizeof(out)), 2 * CUT_MAX);
}

/* ---- the RFB allowlist ------------------------------------------------------------------ */

static uint8_t fout[65536];

static long feed(rfb_filter *f, const void *p, size_t n)
{
	return rfb_filter_feed(f, p, n, fout, sizeof(fout));
}

static void handshake(rfb_filter *f)
{
	rfb_filter_init(f, 640, 400, CUT_MAX);
	cr_assert_eq(feed(f, "RFB 003.008\n\x01\x01", 14), 14);
}

Test(console, passes_a_normal_session_whole_or_byte_by_byte)
{
	static const uint8_t s[] = {
	        'R', 'F', 'B', ' ', '0', '0', '3', '.', '0', '0', '8', '\n', 1, 0,
	        /* SetPixelFormat 32 bpp depth 24, true colour, 255/255/255 at 16/8/0 */
	        0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0,
	        /* SetEncodings: Tight, Raw */
	        2, 0, 0, 2, 0, 0, 0, 7, 0, 0, 0, 0,
	        /* FramebufferUpdateRequest of the whole 640x400 screen */
	        3, 0, 0, 0, 0, 0, 2, 128, 1, 144,
	        /* KeyEvent 'a' down, PointerEvent, ClientCutText "hi" */
	        4, 1, 0, 0, 0, 0, 0, 'a', 5, 0, 0, 10, 0, 10, 6, 0, 0, 0, 0, 0, 0, 2, 'h', 'i'};
	rfb_filter f;
	size_t got = 0;

	rfb_filter_init(&f, 640, 400, CUT_MAX);
	cr_assert_eq(feed(&f, s, sizeof(s)), (long)sizeof(s));
	cr_assert_eq(memcmp(fout, s, sizeof(s)), 0);
	rfb_filter_init(&f, 640, 400, CUT_MAX);
	uint8_t all[sizeof(s)];
	for (size_t i = 0; i < sizeof(s); i++) {
		long k = feed(&f, s + i, 1);
		cr_assert_geq(k, 0, "%s", f.why);
		memcpy(all + got, fout, (size_t)k);
		got += (size_t)k;
	}
	cr_assert_eq(got, sizeof(s));
	cr_assert_eq(memcmp(all, s, sizeof(s)), 0);
}

Test(console, drops_bad_handshakes_and_unknown_messages)
{
	rfb_filter f;

	rfb_filter_init(&f, 640, 400, CUT_MAX);
	cr_assert_eq(feed(&f, "GET / HTTP/1.1\r\n", 16), -1, "no WebSocket sniffing");
	rfb_filter_init(&f, 640, 400, CUT_MAX);
	cr_assert_eq(feed(&f, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00", 12), -1);
	rfb_filter_init(&f, 640, 400, CUT_MAX);
	cr_assert_eq(feed(&f, "RFB 003.889\n", 12), -1);
	rfb_filter_init(&f, 640, 400, CUT_MAX);
	cr_assert_eq(feed(&f, "RFB 003.008\n\x02", 13), -1, "VNC auth is never offered");
	handshake(&f);
	cr_assert_eq(feed(&f, "\x07\x00\x00\x00", 4), -1, "file transfer");
	cr_assert(strstr(f.why, "type 7"), "%s", f.why);
	handshake(&f);
	cr_assert_eq(feed(&f, "\xff\x00", 2), -1, "QEMU messages");
	handshake(&f);
	/* colour-map mode, then an impossible channel */
	cr_assert_eq(feed(&f,
	                  "\x00\x00\x00\x00\x08\x08\x00\x00\x00\x07\x00\x07\x00\x03\x00\x03"
	                  "\x06\x00\x00\x00",
	                  20),
	             -1);
	handshake(&f);
	cr_assert_eq(feed(&f,
	                  "\x00\x00\x00\x00\x20\x18\x00\x01\x00\xff\x00\xff\x00\xff\x1c\x08"
	                  "\x00\x00\x00\x00",
	                  20),
	             -1, "red at bit 28..35 of 32");
	handshake(&f);
	cr_assert_eq(feed(&f, "\x02\x00\x01\x00", 4), -1, "256 encodings");
}

Test(console, update_requests_must_stay_inside_the_screen)
{
	rfb_filter f;

	handshake(&f);
	cr_assert_eq(feed(&f, "\x03\x01\x00\x00\x00\x00\x02\x80\x01\x90", 10), 10);
	cr_assert_eq(feed(&f, "\x03\x01\x02\x7f\x01\x8f\x00\x01\x00\x01", 10), 10, "last pixel");
	cr_assert_eq(feed(&f, "\x03\x00\x00\x00\x00\x00\x02\x81\x01\x90", 10), -1, "641 wide");
	cr_assert(strstr(f.why, "640x400"), "%s", f.why);
	handshake(&f);
	cr_assert_eq(feed(&f, "\x03\x00\xff\xff\xff\xff\x00\x02\x00\x02", 10), -1);
	handshake(&f);
	cr_assert_eq(feed(&f, "\x03\x00\x00\x00\x01\x90\x00\x01\x00\x01", 10), -1, "row 400");
}

Test(console, cut_text_over_4k_is_skipped_and_huge_drops_the_viewer)
{
	rfb_filter f;
	uint8_t big[8 + 5000];

	handshake(&f);
	memcpy(big, "\x06\x00\x00\x00\x00\x00\x13\x88", 8); /* 5000 bytes */
	memset(big + 8, 'x', 5000);
	cr_assert_eq(feed(&f, big, 3000), 0);
	cr_assert_eq(feed(&f, big + 3000, sizeof(big) - 3000), 0);
	cr_assert_eq(f.cuts_dropped, 1);
	cr_assert_eq(feed(&f, "\x04\x01\x00\x00\x00\x00\x00\x62", 8), 8, "the viewer goes on");
	cr_assert_eq(feed(&f, "\x06\x00\x00\x00\x00\x00\x10\x00", 8), 0, "4096 bytes pass");
	memset(big, 'y', 4096);
	cr_assert_eq(feed(&f, big, 4096), 8 + 4096);
	cr_assert_eq(feed(&f, "\x06\x00\x00\x00\x00\x10\x00\x01", 8), -1, "1 MiB + 1");
	handshake(&f);
	cr_assert_eq(feed(&f, "\x06\x00\x00\x00\xff\xff\xff\xfc", 8), -1, "extended clipboard");
}

Test(console, set_encodings_loses_what_is_not_on_the_list)
{
	/* Tight, ExtendedClipboard (0xc0a1e5ce), xvp (-309), QEMU key (-258), LastRect (-224) */
	static const uint8_t in[] = {2,    0,    0,    5,    0,    0,    0,    7,
	                             0xc0, 0xa1, 0xe5, 0xce, 0xff, 0xff, 0xfe, 0xcb,
	                             0xff, 0xff, 0xfe, 0xfe, 0xff, 0xff, 0xff, 0x20};
	rfb_filter f;

	handshake(&f);
	cr_assert_eq(feed(&f, in, sizeof(in)), (long)sizeof(in));
	cr_assert_eq(memcmp(fout, in, 8), 0);
	for (int i = 8; i < 20; i++)
		cr_assert_eq(fout[i], 0, "byte %d rewritten to Raw", i);
	cr_assert_eq(memcmp(fout + 20, in + 20, 4), 0);
}

/* ---- xl's console_source on a fake runner --------------------------------------------------- */

typedef struct fake {
	const char *out[4];
	int status[4];
	int n, next;
	char calls[4][128];
} fake;

static int fake_run(void *ctx, const char *const argv[], const char *in, size_t in_len, int ms,
                    runner_result *res)
{
	fake *f = ctx;
	char *line = runner_argv_str(argv);

	(void)in, (void)in_len, (void)ms;
	runner_result_init(res);
	if (f->next < 4)
		snprintf(f->calls[f->next], sizeof(f->calls[0]), "%s", line);
	free(line);
	res->out = strdup(f->next < f->n ? f->out[f->next] : "");
	res->out_len = strlen(res->out);
	res->err = strdup(f->next < f->n && f->status[f->next] ? "does not exist" : "");
	res->exit_status = f->next < f->n ? f->status[f->next] : 99;
	f->next++;
	return 0;
}

static int xl_source(fake *f, const char *name, char *out, size_t len)
{
	hv_driver d;
	char err[HV_ERRLEN];

	cr_assert_eq(hv_xl_open(&d, (runner){.run = fake_run, .ctx = f}, err), 0);
	int rc = d.ops->console_source(&d, name, out, len, err);
	d.ops->dispose(&d);
	return rc;
}

#define PV_JSON "[{\"domid\": 5, \"config\": {\"c_info\": {\"type\": \"pv\"}}}]"

Test(console, xl_reads_the_pty_from_xenstore)
{
	fake f = {.out = {"5\n", PV_JSON, "/dev/pts/3\n"}, .n = 3};
	char out[64];

	cr_assert_eq(xl_source(&f, "xvps-7", out, sizeof(out)), 0);
	cr_assert_str_eq(out, "pty:/dev/pts/3");
	cr_assert_str_eq(f.calls[0], "xl domid xvps-7");
	cr_assert_str_eq(f.calls[1], "xl list -l xvps-7");
	cr_assert_str_eq(f.calls[2], "xenstore-read /local/domain/5/console/tty");
}

Test(console, xl_refuses_what_is_not_a_pts_path)
{
	static const char *const bad[] = {"/dev/sda\n",  "/dev/pts/3/../../sda\n", "\n",
	                                  "/dev/pts/\n", "/dev/pts/1234567\n",     "/dev/pts/-1\n"};
	char out[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fake f = {.out = {"5\n", PV_JSON, bad[i]}, .n = 3};
		cr_assert_eq(xl_source(&f, "xvps-7", out, sizeof(out)), -EPROTO, "%s", bad[i]);
	}
	fake absent = {.out = {""}, .status = {1}, .n = 1};
	cr_assert_eq(xl_source(&absent, "xvps-7", out, sizeof(out)), -ESRCH);
	fake nokey = {.out = {"5\n", PV_JSON, ""}, .status = {0, 0, 1}, .n = 3};
	cr_assert_eq(xl_source(&nokey, "xvps-7", out, sizeof(out)), -ENOENT);
	fake none = {.n = 0};
	cr_assert_eq(xl_source(&none, "xvps-7;reboot", out, sizeof(out)), -EINVAL);
	cr_assert_eq(none.next, 0, "nothing ran for a bad name");
}
