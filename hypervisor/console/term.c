/* term.c — libvterm screen -> 32-bit framebuffer, keys -> terminal bytes (term.h). */
#include "term.h"

#include <rfb/keysym.h>
#include <stdlib.h>
#include <string.h>
#include <vterm.h>

struct term {
	VTerm *vt;
	VTermScreen *vs;
	const cfont *font;
	uint32_t *fb;
	int cols, rows, w, h;
	term_pixfmt fmt;
	term_out_fn out;
	void *user;
	bool dirty;
	int dx1, dy1, dx2, dy2; /* dirty cells [dx1,dx2) x [dy1,dy2) */
	VTermPos cursor;
	bool cursor_visible;
	uint32_t deffg, defbg;
};

/* The Linux console's VGA palette (drivers/tty/vt/vt.c default_red/grn/blu). */
static const uint8_t vga[16][3] = {
        {0x00, 0x00, 0x00}, {0xaa, 0x00, 0x00}, {0x00, 0xaa, 0x00}, {0xaa, 0x55, 0x00},
        {0x00, 0x00, 0xaa}, {0xaa, 0x00, 0xaa}, {0x00, 0xaa, 0xaa}, {0xaa, 0xaa, 0xaa},
        {0x55, 0x55, 0x55}, {0xff, 0x55, 0x55}, {0x55, 0xff, 0x55}, {0xff, 0xff, 0x55},
        {0x55, 0x55, 0xff}, {0xff, 0x55, 0xff}, {0x55, 0xff, 0xff}, {0xff, 0xff, 0xff},
};

static uint32_t pack(const term *t, uint8_t r, uint8_t g, uint8_t b)
{
	return (uint32_t)r << t->fmt.rshift | (uint32_t)g << t->fmt.gshift |
	       (uint32_t)b << t->fmt.bshift;
}

static void mark(term *t, int r1, int c1, int r2, int c2)
{
	r1 = r1 < 0 ? 0 : r1;
	c1 = c1 < 0 ? 0 : c1;
	r2 = r2 > t->rows ? t->rows : r2;
	c2 = c2 > t->cols ? t->cols : c2;
	if (r1 >= r2 || c1 >= c2)
		return;
	if (!t->dirty) {
		t->dx1 = c1, t->dy1 = r1, t->dx2 = c2, t->dy2 = r2;
		t->dirty = true;
		return;
	}
	t->dx1 = c1 < t->dx1 ? c1 : t->dx1;
	t->dy1 = r1 < t->dy1 ? r1 : t->dy1;
	t->dx2 = c2 > t->dx2 ? c2 : t->dx2;
	t->dy2 = r2 > t->dy2 ? r2 : t->dy2;
}

static int cb_damage(VTermRect r, void *user)
{
	mark(user, r.start_row, r.start_col, r.end_row, r.end_col);
	return 1;
}

static int cb_movecursor(VTermPos pos, VTermPos old, int visible, void *user)
{
	term *t = user;

	mark(t, old.row, old.col, old.row + 1, old.col + 1);
	mark(t, pos.row, pos.col, pos.row + 1, pos.col + 1);
	t->cursor = pos;
	return 1;
}

static int cb_settermprop(VTermProp prop, VTermValue *val, void *user)
{
	term *t = user;

	if (prop == VTERM_PROP_CURSORVISIBLE) {
		t->cursor_visible = val->boolean;
		mark(t, t->cursor.row, t->cursor.col, t->cursor.row + 1, t->cursor.col + 1);
	}
	return 1;
}

static void cb_output(const char *s, size_t len, void *user)
{
	term *t = user;

	if (t->out)
		t->out(s, len, t->user);
}

static const VTermScreenCallbacks callbacks = {
        .damage = cb_damage,
        .movecursor = cb_movecursor,
        .settermprop = cb_settermprop,
};

term *term_new(int cols, int rows, const cfont *font, uint32_t *fb, term_pixfmt fmt,
               term_out_fn out, void *user)
{
	term *t;
	VTermState *st;
	VTermColor fg, bg;

	if (cols < 1 || cols > 256 || rows < 1 || rows > 256 || !font || !fb)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->vt = vterm_new(rows, cols);
	if (!t->vt) {
		free(t);
		return NULL;
	}
	t->font = font;
	t->fb = fb;
	t->cols = cols;
	t->rows = rows;
	t->w = cols * font->width;
	t->h = rows * font->height;
	t->fmt = fmt;
	t->out = out;
	t->user = user;
	t->cursor_visible = true;
	vterm_set_utf8(t->vt, 1);
	vterm_output_set_callback(t->vt, cb_output, t);
	t->vs = vterm_obtain_screen(t->vt);
	st = vterm_obtain_state(t->vt);
	for (int i = 0; i < 16; i++) {
		VTermColor c;
		vterm_color_rgb(&c, vga[i][0], vga[i][1], vga[i][2]);
		vterm_state_set_palette_color(st, i, &c);
	}
	vterm_color_rgb(&fg, vga[7][0], vga[7][1], vga[7][2]);
	vterm_color_rgb(&bg, 0, 0, 0);
	vterm_state_set_default_colors(st, &fg, &bg);
	vterm_state_set_bold_highbright(st, 1);
	t->deffg = pack(t, vga[7][0], vga[7][1], vga[7][2]);
	t->defbg = pack(t, 0, 0, 0);
	vterm_screen_set_callbacks(t->vs, &callbacks, t);
	vterm_screen_enable_altscreen(t->vs, 1);
	vterm_screen_reset(t->vs, 1);
	mark(t, 0, 0, rows, cols);
	return t;
}

void term_free(term *t)
{
	if (!t)
		return;
	vterm_free(t->vt);
	free(t);
}

int term_width(const term *t)
{
	return t->w;
}

int term_height(const term *t)
{
	return t->h;
}

void term_feed(term *t, const char *bytes, size_t len)
{
	vterm_input_write(t->vt, bytes, len);
	vterm_screen_flush_damage(t->vs);
}

static uint32_t color_px(const term *t, VTermColor c)
{
	if (VTERM_COLOR_IS_DEFAULT_FG(&c))
		return t->deffg;
	if (VTERM_COLOR_IS_DEFAULT_BG(&c))
		return t->defbg;
	vterm_screen_convert_color_to_rgb(t->vs, &c);
	return pack(t, c.rgb.red, c.rgb.green, c.rgb.blue);
}

static void draw_cell(term *t, int row, int col)
{
	VTermScreenCell cell;
	VTermPos pos = {.row = row, .col = col};
	const cfont *f = t->font;
	uint32_t fg, bg, cp = ' ';
	uint32_t *px = t->fb + (size_t)row * f->height * t->w + (size_t)col * f->width;
	const uint8_t *g;

	memset(&cell, 0, sizeof(cell));
	if (!vterm_screen_get_cell(t->vs, pos, &cell)) {
		fg = t->deffg;
		bg = t->defbg;
	} else {
		fg = color_px(t, cell.fg);
		bg = color_px(t, cell.bg);
		if (cell.chars[0] && cell.chars[0] <= 0x10FFFF)
			cp = cell.chars[0];
	}
	if (cell.attrs.reverse) {
		uint32_t x = fg;
		fg = bg, bg = x;
	}
	if (t->cursor_visible && row == t->cursor.row && col == t->cursor.col) {
		uint32_t x = fg;
		fg = bg, bg = x;
	}
	g = cfont_glyph(f, cp < 0x20 ? ' ' : cp);
	for (int y = 0; y < f->height; y++, px += t->w) {
		const uint8_t *bits = g + (size_t)y * f->rowbytes;
		bool under = cell.attrs.underline && y == f->height - 2;
		for (int x = 0; x < f->width; x++)
			px[x] = (under || (bits[x >> 3] & (0x80 >> (x & 7)))) ? fg : bg;
	}
}

bool term_render(term *t, int *x1, int *y1, int *x2, int *y2)
{
	if (!t->dirty)
		return false;
	for (int r = t->dy1; r < t->dy2; r++)
		for (int c = t->dx1; c < t->dx2; c++)
			draw_cell(t, r, c);
	*x1 = t->dx1 * t->font->width;
	*y1 = t->dy1 * t->font->height;
	*x2 = t->dx2 * t->font->width;
	*y2 = t->dy2 * t->font->height;
	t->dirty = false;
	return true;
}

static size_t utf8_put(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* The control byte Ctrl+cp sends (as xterm and the Linux console), or -1 for none. */
static int ctrl_byte(uint32_t cp)
{
	if (cp >= 'a' && cp <= 'z')
		return (int)(cp - 0x60);
	if (cp >= '@' && cp <= '_')
		return (int)(cp - 0x40);
	if (cp == ' ' || cp == '2')
		return 0;
	if (cp >= '3' && cp <= '7')
		return (int)(cp - '3' + 0x1b);
	if (cp == '8' || cp == '?')
		return 0x7f;
	if (cp == '/')
		return 0x1f;
	return -1;
}

static VTermKey special_key(uint32_t ks, uint32_t *cp)
{
	*cp = 0;
	switch (ks) {
	case XK_Return:
		return VTERM_KEY_ENTER;
	case XK_KP_Enter:
		return VTERM_KEY_ENTER;
	case XK_Tab:
	case XK_ISO_Left_Tab:
		return VTERM_KEY_TAB;
	case XK_BackSpace:
		return VTERM_KEY_BACKSPACE;
	case XK_Escape:
		return VTERM_KEY_ESCAPE;
	case XK_Up:
	case XK_KP_Up:
		return VTERM_KEY_UP;
	case XK_Down:
	case XK_KP_Down:
		return VTERM_KEY_DOWN;
	case XK_Left:
	case XK_KP_Left:
		return VTERM_KEY_LEFT;
	case XK_Right:
	case XK_KP_Right:
		return VTERM_KEY_RIGHT;
	case XK_Insert:
	case XK_KP_Insert:
		return VTERM_KEY_INS;
	case XK_Delete:
	case XK_KP_Delete:
		return VTERM_KEY_DEL;
	case XK_Home:
	case XK_KP_Home:
		return VTERM_KEY_HOME;
	case XK_End:
	case XK_KP_End:
		return VTERM_KEY_END;
	case XK_Page_Up:
	case XK_KP_Page_Up:
		return VTERM_KEY_PAGEUP;
	case XK_Page_Down:
	case XK_KP_Page_Down:
		return VTERM_KEY_PAGEDOWN;
	case XK_KP_Multiply:
		*cp = '*';
		return VTERM_KEY_NONE;
	case XK_KP_Add:
		*cp = '+';
		return VTERM_KEY_NONE;
	case XK_KP_Subtract:
		*cp = '-';
		return VTERM_KEY_NONE;
	case XK_KP_Decimal:
		*cp = '.';
		return VTERM_KEY_NONE;
	case XK_KP_Divide:
		*cp = '/';
		return VTERM_KEY_NONE;
	default:
		break;
	}
	if (ks >= XK_F1 && ks <= XK_F12)
		return VTERM_KEY_FUNCTION(1 + (int)(ks - XK_F1));
	if (ks >= XK_KP_0 && ks <= XK_KP_9)
		*cp = '0' + (ks - XK_KP_0);
	else if ((ks >= 0x20 && ks <= 0x7e) || (ks >= 0xa0 && ks <= 0xff))
		*cp = ks; /* Latin-1 keysyms are their code points */
	else if (ks >= 0x01000020 && ks <= 0x0110FFFF)
		*cp = ks - 0x01000000; /* Unicode keysyms */
	if (*cp >= 0x7f && *cp < 0xa0)
		*cp = 0;
	if (*cp >= 0xD800 && *cp <= 0xDFFF)
		*cp = 0;
	return VTERM_KEY_NONE;
}

bool term_key(term *t, uint32_t keysym, unsigned mods)
{
	uint32_t cp;
	VTermKey key = special_key(keysym, &cp);
	char buf[8];
	size_t n = 0;

	if (key != VTERM_KEY_NONE) {
		VTermModifier m = VTERM_MOD_NONE;
		if (mods & TERM_MOD_SHF)
			m |= VTERM_MOD_SHIFT;
		if (mods & TERM_MOD_ALT)
			m |= VTERM_MOD_ALT;
		if (mods & TERM_MOD_CTL)
			m |= VTERM_MOD_CTRL;
		if (keysym == XK_ISO_Left_Tab)
			m |= VTERM_MOD_SHIFT;
		vterm_keyboard_key(t->vt, key, m);
		return true;
	}
	if (cp == 0)
		return false;
	if (mods & TERM_MOD_ALT)
		buf[n++] = 0x1b;
	int c = (mods & TERM_MOD_CTL) ? ctrl_byte(cp) : -1;
	if (c >= 0)
		buf[n++] = (char)c;
	else
		n += utf8_put(cp, buf + n);
	if (t->out)
		t->out(buf, n, t->user);
	return true;
}

size_t cut_sanitize(const char *in, size_t len, char *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < len && n + 3 <= cap; i++) {
		uint8_t c = (uint8_t)in[i];
		if (c == '\r') {
			out[n++] = '\r';
			if (i + 1 < len && in[i + 1] == '\n')
				i++;
		} else if (c == '\n') {
			out[n++] = '\r';
		} else if (c == '\t') {
			out[n++] = '\t';
		} else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) {
			continue;
		} else {
			n += utf8_put(c, out + n);
		}
	}
	if (n < cap)
		out[n] = '\0';
	return n;
}

size_t term_row_text(const term *t, int row, char *buf, size_t cap)
{
	size_t n = 0, keep = 0;

	if (cap == 0)
		return 0;
	for (int c = 0; row >= 0 && row < t->rows && c < t->cols; c++) {
		VTermScreenCell cell;
		VTermPos pos = {.row = row, .col = c};
		uint32_t cp = ' ';
		char u[4];
		if (vterm_screen_get_cell(t->vs, pos, &cell) && cell.chars[0] &&
		    cell.chars[0] <= 0x10FFFF)
			cp = cell.chars[0];
		size_t k = utf8_put(cp, u);
		if (n + k >= cap)
			break;
		memcpy(buf + n, u, k);
		n += k;
		if (cp != ' ')
			keep = n;
	}
	buf[keep] = '\0';
	return keep;
}
