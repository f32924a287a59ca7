/* font.c — PSF1/PSF2 console fonts (font.h). Formats as in kbd's psf.h: PSF1 = 4-byte header
 * (0x36 0x04, mode, height), 256 or 512 glyphs 8 pixels wide, then for a font with a Unicode
 * table one list of little-endian uint16 per glyph ending with 0xFFFF (0xFFFE starts sequences,
 * which are skipped). PSF2 = 32-byte little-endian header (magic 72 b5 4a 86, version,
 * headersize, flags, length, charsize, height, width), glyphs at headersize, then per glyph
 * UTF-8 code points ending with 0xFF (0xFE starts sequences). */
#include "font.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void ferr(char *err, size_t errlen, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void ferr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int map_cmp(const void *a, const void *b)
{
	const cfont_map *x = a, *y = b;

	if (x->cp != y->cp)
		return x->cp < y->cp ? -1 : 1;
	return x->glyph < y->glyph ? -1 : x->glyph > y->glyph;
}

/* Appends one (cp, glyph) pair; the array grows by doubling, bounded by the table size. */
static int map_add(cfont *f, size_t *cap, uint32_t cp, uint32_t glyph)
{
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0; /* not a scalar value: ignored */
	if (f->nmap == *cap) {
		size_t ncap = *cap ? *cap * 2 : 512;
		cfont_map *m = realloc(f->map, ncap * sizeof(*m));
		if (!m)
			return -ENOMEM;
		f->map = m;
		*cap = ncap;
	}
	f->map[f->nmap++] = (cfont_map){cp, glyph};
	return 0;
}

/* Finds the glyph of cp in the sorted table. */
static bool map_find(const cfont *f, uint32_t cp, uint32_t *glyph)
{
	size_t lo = 0, hi = f->nmap;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->map[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < f->nmap && f->map[lo].cp == cp) {
		*glyph = f->map[lo].glyph;
		return true;
	}
	return false;
}

/* Sorts the table, keeps one glyph per code point, and picks the glyph for a missing code
 * point: U+FFFD, else '?', else glyph 0. */
static void map_finish(cfont *f)
{
	size_t out = 0;

	if (f->map) {
		qsort(f->map, f->nmap, sizeof(*f->map), map_cmp);
		for (size_t i = 0; i < f->nmap; i++)
			if (out == 0 || f->map[out - 1].cp != f->map[i].cp)
				f->map[out++] = f->map[i];
		f->nmap = out;
		if (!map_find(f, 0xFFFD, &f->missing) && !map_find(f, '?', &f->missing))
			f->missing = 0;
	} else {
		f->missing = f->nglyphs > '?' ? '?' : 0;
	}
}

/* PSF1 Unicode table: uint16 LE per entry, 0xFFFF ends a glyph, 0xFFFE starts sequences. */
static int psf1_table(cfont *f, const uint8_t *p, size_t len, char *err, size_t errlen)
{
	size_t cap = 0, off = 0;

	for (uint32_t g = 0; g < f->nglyphs; g++) {
		bool seq = false;
		for (;;) {
			if (off + 2 > len) {
				ferr(err, errlen, "PSF1 Unicode table ends inside glyph %u", g);
				return -EPROTO;
			}
			uint32_t v = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8;
			off += 2;
			if (v == 0xFFFF)
				break;
			if (v == 0xFFFE)
				seq = true;
			else if (!seq && map_add(f, &cap, v, g) != 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* Decodes one UTF-8 scalar at p (n bytes left). Returns its length or 0 when invalid. */
static size_t utf8_dec(const uint8_t *p, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t v, min;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xE0) == 0xC0)
		len = 2, v = p[0] & 0x1F, min = 0x80;
	else if ((p[0] & 0xF0) == 0xE0)
		len = 3, v = p[0] & 0x0F, min = 0x800;
	else if ((p[0] & 0xF8) == 0xF0)
		len = 4, v = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF)
		return 0;
	*cp = v;
	return len;
}

/* PSF2 Unicode table: UTF-8 per entry, 0xFF ends a glyph, 0xFE starts sequences. */
static int psf2_table(cfont *f, const uint8_t *p, size_t len, char *err, size_t errlen)
{
	size_t cap = 0, off = 0;

	for (uint32_t g = 0; g < f->nglyphs; g++) {
		bool seq = false;
		for (;;) {
			if (off >= len) {
				ferr(err, errlen, "PSF2 Unicode table ends inside glyph %u", g);
				return -EPROTO;
			}
			if (p[off] == 0xFF) {
				off++;
				break;
			}
			if (p[off] == 0xFE) {
				seq = true;
				off++;
				continue;
			}
			uint32_t cp;
			size_t n = utf8_dec(p + off, len - off, &cp);
			if (n == 0) {
				ferr(err, errlen, "PSF2 Unicode table has bad UTF-8 at glyph %u",
				     g);
				return -EPROTO;
			}
			off += n;
			if (!seq && map_add(f, &cap, cp, g) != 0)
				return -ENOMEM;
		}
	}
	return 0;
}

int cfont_parse(const uint8_t *data, size_t len, cfont *f, char *err, size_t errlen)
{
	size_t gbytes, start;
	bool table;
	int rc;

	memset(f, 0, sizeof(*f));
	if (len >= 4 && data[0] == 0x36 && data[1] == 0x04) {
		uint8_t mode = data[2];
		if (mode > 0x07 || data[3] == 0 || data[3] > CFONT_MAX_HEIGHT) {
			ferr(err, errlen, "PSF1 header: mode 0x%02x height %u not supported", mode,
			     data[3]);
			return -EPROTO;
		}
		f->width = 8;
		f->height = data[3];
		f->rowbytes = 1;
		f->nglyphs = (mode & 0x01) ? 512 : 256;
		start = 4;
		table = (mode & 0x06) != 0;
	} else if (len >= 32 && le32(data) == 0x864ab572u) {
		uint32_t hdr = le32(data + 8), flags = le32(data + 12), n = le32(data + 16);
		uint32_t charsize = le32(data + 20), h = le32(data + 24), w = le32(data + 28);
		if (le32(data + 4) != 0 || hdr < 32 || hdr > len || n == 0 ||
		    n > CFONT_MAX_GLYPHS || h == 0 || h > CFONT_MAX_HEIGHT || w == 0 ||
		    w > CFONT_MAX_WIDTH || charsize != h * ((w + 7) / 8)) {
			ferr(err, errlen,
			     "PSF2 header: version %u, header %u, %u glyphs of %ux%u (%u bytes) "
			     "not supported",
			     le32(data + 4), hdr, n, w, h, charsize);
			return -EPROTO;
		}
		f->width = (int)w;
		f->height = (int)h;
		f->rowbytes = (int)((w + 7) / 8);
		f->nglyphs = n;
		start = hdr;
		table = (flags & 1u) != 0;
	} else {
		ferr(err, errlen, "not a PSF1 or PSF2 font (bad magic)");
		return -EPROTO;
	}
	gbytes = (size_t)f->nglyphs * (size_t)f->height * (size_t)f->rowbytes;
	if (start > len || gbytes > len - start) {
		ferr(err, errlen, "font file is truncated: %zu glyph bytes, %zu present", gbytes,
		     len - (start > len ? len : start));
		return -EPROTO;
	}
	f->glyphs = malloc(gbytes);
	if (!f->glyphs)
		return -ENOMEM;
	memcpy(f->glyphs, data + start, gbytes);
	if (table) {
		const uint8_t *t = data + start + gbytes;
		size_t tlen = len - start - gbytes;
		rc = data[0] == 0x36 ? psf1_table(f, t, tlen, err, errlen)
		                     : psf2_table(f, t, tlen, err, errlen);
		if (rc) {
			cfont_free(f);
			return rc;
		}
	}
	map_finish(f);
	return 0;
}

int cfont_load(const char *path, cfont *f, char *err, size_t errlen)
{
	gzFile gz;
	uint8_t *buf;
	size_t len = 0;
	int n, rc;

	memset(f, 0, sizeof(*f));
	gz = gzopen(path, "rb"); /* reads plain files as they are */
	if (!gz) {
		rc = errno ? -errno : -ENOMEM;
		ferr(err, errlen, "cannot open %s: %s", path, strerror(-rc));
		return rc;
	}
	buf = malloc(CFONT_MAX_FILE + 1);
	if (!buf) {
		gzclose(gz);
		return -ENOMEM;
	}
	while (len <= CFONT_MAX_FILE &&
	       (n = gzread(gz, buf + len, (unsigned)(CFONT_MAX_FILE + 1 - len))) > 0)
		len += (size_t)n;
	if (len > CFONT_MAX_FILE) {
		ferr(err, errlen, "%s: larger than %u bytes", path, CFONT_MAX_FILE);
		rc = -EFBIG;
	} else if (n < 0) {
		int zerr;
		ferr(err, errlen, "%s: %s", path, gzerror(gz, &zerr));
		rc = -EPROTO;
	} else {
		char why[200] = "";
		rc = cfont_parse(buf, len, f, why, sizeof(why));
		if (rc)
			ferr(err, errlen, "%s: %s", path, why);
	}
	gzclose(gz);
	free(buf);
	return rc;
}

int cfont_builtin(cfont *f)
{
	memset(f, 0, sizeof(*f));
	f->width = 8;
	f->height = 16;
	f->rowbytes = 1;
	f->nglyphs = 128;
	f->glyphs = calloc(128, 16);
	if (!f->glyphs)
		return -ENOMEM;
	for (int c = 0x21; c < 0x7f; c++) {
		uint8_t *g = f->glyphs + c * 16;
		g[3] = g[12] = 0x7E;
		for (int y = 4; y < 12; y++)
			g[y] = 0x42;
	}
	f->missing = '?';
	f->builtin = true;
	return 0;
}

const uint8_t *cfont_glyph(const cfont *f, uint32_t cp)
{
	uint32_t g = f->missing;

	if (f->map)
		map_find(f, cp, &g);
	else if (cp < f->nglyphs)
		g = cp;
	if (g >= f->nglyphs)
		g = 0;
	return f->glyphs + (size_t)g * (size_t)f->height * (size_t)f->rowbytes;
}

void cfont_free(cfont *f)
{
	free(f->glyphs);
	free(f->map);
	memset(f, 0, sizeof(*f));
}
