/* http_static.c — the pure rules of xvpsd's static files (http_internal.h): which request paths
 * may name a file under a static root (web/ or noVNC's directory), and the Content-Type of a
 * file by its extension (JavaScript as text/javascript, which ES modules need). */
#include <string.h>
#include <strings.h>

#include "http_internal.h"

bool static_path_ok(const char *path)
{
	size_t len = strlen(path);

	if (len == 0 || len > 512 || path[0] != '/')
		return false;
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == '\\')
			return false;
	/* Every segment: no "", ".", ".." or hidden name (a trailing "/" means index.html). */
	for (const char *seg = path + 1;;) {
		size_t n = strcspn(seg, "/");

		if (seg[0] == '.')
			return false;
		if (n == 0 && seg[0] == '/')
			return false;
		if (seg[n] == '\0')
			break;
		seg += n + 1;
	}
	return true;
}

const char *static_content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
	        {".html", "text/html; charset=utf-8"},
	        {".js", "text/javascript; charset=utf-8"},
	        {".mjs", "text/javascript; charset=utf-8"},
	        {".css", "text/css; charset=utf-8"},
	        {".json", "application/json"},
	        {".map", "application/json"},
	        {".svg", "image/svg+xml"},
	        {".png", "image/png"},
	        {".jpg", "image/jpeg"},
	        {".jpeg", "image/jpeg"},
	        {".gif", "image/gif"},
	        {".webp", "image/webp"},
	        {".ico", "image/x-icon"},
	        {".woff", "font/woff"},
	        {".woff2", "font/woff2"},
	        {".ttf", "font/ttf"},
	        {".otf", "font/otf"},
	        {".mp3", "audio/mpeg"},
	        {".oga", "audio/ogg"},
	        {".ogg", "audio/ogg"},
	        {".txt", "text/plain; charset=utf-8"},
	        {".wasm", "application/wasm"},
	};
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');

	if (dot)
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}
