/* font.h — console fonts for xvps-console: PC Screen Font files (PSF1 and PSF2, gzip or plain,
 * as Debian ships them in /usr/share/consolefonts) with their Unicode tables, and a crude
 * built-in fallback (boxes) for a host without any font file. Every length and count in a file
 * is checked against the file's size before it is used.
 *
 * Return convention: 0 or a negative errno, with a sentence in err. */
#ifndef XVPS_CONSOLE_FONT_H
#define XVPS_CONSOLE_FONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFONT_DEFAULT_PATH "/usr/share/consolefonts/Lat15-Fixed16.psf.gz"
#define CFONT_MAX_FILE     (4u << 20) /* decompressed bytes read from a font file at most */
#define CFONT_MAX_GLYPHS   65536u
#define CFONT_MAX_WIDTH    32
#define CFONT_MAX_HEIGHT   64

typedef struct cfont_map {
	uint32_t cp;    /* Unicode code point */
	uint32_t glyph; /* glyph index */
} cfont_map;

typedef struct cfont {
	int width, height; /* pixels of one glyph */
	int rowbytes;      /* bytes per glyph row: (width + 7) / 8, most significant bit left */
	uint32_t nglyphs;
	uint8_t *glyphs; /* nglyphs * height * rowbytes */
	cfont_map *map;  /* sorted by cp; NULL when the font has no Unicode table */
	size_t nmap;
	uint32_t missing; /* glyph shown for a code point the font lacks */
	bool builtin;
} cfont;

/* Parses a PSF1/PSF2 image in memory (already decompressed). Returns 0 or -errno
 * (-EPROTO for a malformed file) with a sentence in err. */
int cfont_parse(const uint8_t *data, size_t len, cfont *f, char *err, size_t errlen);

/* Reads path (gzip-compressed or not, at most CFONT_MAX_FILE bytes after decompression) and
 * parses it. Returns 0 or -errno with a sentence in err. */
int cfont_load(const char *path, cfont *f, char *err, size_t errlen);

/* The fallback: 8x16, printable ASCII drawn as hollow boxes, everything else blank. */
int cfont_builtin(cfont *f);

/* The glyph bitmap (height rows of rowbytes) for a code point; never NULL. */
const uint8_t *cfont_glyph(const cfont *f, uint32_t cp);

void cfont_free(cfont *f);

#endif
