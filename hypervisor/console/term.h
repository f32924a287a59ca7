/* term.h — the text screen of xvps-console: libvterm interprets what the guest prints, the
 * changed cells are drawn with a console font into a 32-bit framebuffer (Linux console
 * colours, a block cursor), and keys and pasted text become the bytes a terminal would send.
 * No I/O here: bytes for the guest go to the output callback.
 *
 * Return convention: term_new answers NULL when it cannot allocate; nothing else fails
 * (booleans say whether something was drawn or sent, sizes how many bytes were written). */
#ifndef XVPS_CONSOLE_TERM_H
#define XVPS_CONSOLE_TERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../common/rfbfilter.h"

#include "font.h"

#define TERM_COLS    80
#define TERM_ROWS    25
#define CUT_MAX      RF_CUT_MAX /* ClientCutText bytes accepted (longer ones are dropped) */
#define TERM_MOD_CTL 1u
#define TERM_MOD_ALT 2u
#define TERM_MOD_SHF 4u

typedef struct term term;

/* Bytes the terminal sends to the guest (keys, paste, answers to queries). */
typedef void (*term_out_fn)(const char *bytes, size_t len, void *user);

/* Pixel layout of the framebuffer: a 32-bit pixel is r << rshift | g << gshift | b << bshift. */
typedef struct term_pixfmt {
	int rshift, gshift, bshift;
} term_pixfmt;

/* A cols x rows terminal drawing into fb (cols * font->width by rows * font->height pixels,
 * row stride = width) with font (borrowed, must outlive the term). The whole screen starts
 * dirty. NULL when out of memory or the sizes are out of range (1..256 cells). */
term *term_new(int cols, int rows, const cfont *font, uint32_t *fb, term_pixfmt fmt,
               term_out_fn out, void *user);
void term_free(term *t);

int term_width(const term *t);  /* framebuffer pixels */
int term_height(const term *t); /* framebuffer pixels */

/* Feeds bytes printed by the guest. */
void term_feed(term *t, const char *bytes, size_t len);

/* Draws every changed cell (and the cursor) into the framebuffer. Returns true and the
 * changed pixel rectangle [x1,x2) x [y1,y2) when something changed. */
bool term_render(term *t, int *x1, int *y1, int *x2, int *y2);

/* An X11 keysym pressed with mods (TERM_MOD_*): printable characters (Latin-1 and Unicode
 * keysyms, as UTF-8), Enter = \r, BackSpace = 0x7f, Tab, Escape, arrows and the editing and
 * function keys as a terminal sends them (ESC [ A, or ESC O A in application cursor mode),
 * Ctrl+letter and Ctrl+[\]^_@ as control bytes, Alt as an ESC prefix. Modifier keys
 * themselves send nothing. Returns false for a keysym that sends nothing. */
bool term_key(term *t, uint32_t keysym, unsigned mods);

/* Sanitizes RFB cut text (ISO 8859-1 per RFC 6143) for typing: C0 and C1 control characters
 * and DEL are removed except \t and \n, \n becomes \r (as Enter), \r\n one \r, and the rest is
 * re-encoded as UTF-8 into out (cap >= 2 * len + 1). Returns the bytes written. */
size_t cut_sanitize(const char *in, size_t len, char *out, size_t cap);

/* The text of one row as UTF-8 (trailing blanks removed), for tests and logs. */
size_t term_row_text(const term *t, int row, char *buf, size_t cap);

#endif
