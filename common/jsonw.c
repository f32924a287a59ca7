/* jsonw.c — the JSON writer of jsonw.h: one buffer, grown by doubling; strings escaped as
 * json-c 0.16 escapes them with JSON_C_TO_STRING_NOSLASHESCAPE. */
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "jsonw.h"
#include "util.h"

void jw_init(jw *w, size_t cap_hint)
{
	memset(w, 0, sizeof(*w));
	w->cap = cap_hint < 64 ? 64 : cap_hint;
	w->buf = malloc(w->cap);
	if (!w->buf) {
		w->oom = true;
		return;
	}
	w->buf[0] = '\0';
	w->first[0] = true;
}

void jw_free(jw *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
	w->oom = true;
}

char *jw_take(jw *w, size_t *len_out)
{
	char *s = w->buf;

	if (w->oom || w->depth != 0) {
		jw_free(w);
		return NULL;
	}
	*len_out = w->len;
	memset(w, 0, sizeof(*w));
	w->oom = true;
	return s;
}

static bool reserve(jw *w, size_t more)
{
	size_t cap;
	char *nb;

	if (w->oom)
		return false;
	if (w->len + more + 1 <= w->cap)
		return true;
	cap = w->cap;
	while (cap < w->len + more + 1)
		cap *= 2;
	nb = realloc(w->buf, cap);
	if (!nb) {
		free(w->buf);
		w->buf = NULL;
		w->oom = true;
		return false;
	}
	w->buf = nb;
	w->cap = cap;
	return true;
}

static void put(jw *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void putc1(jw *w, char c)
{
	if (!reserve(w, 1))
		return;
	w->buf[w->len++] = c;
	w->buf[w->len] = '\0';
}

/* Before any value: the comma between array elements (a member's comma came with its key). */
static void value_start(jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth])
		putc1(w, ',');
	w->first[w->depth] = false;
}

static void open_(jw *w, char c)
{
	value_start(w);
	putc1(w, c);
	if (w->depth >= JW_MAX_DEPTH) {
		jw_free(w); /* deeper than the API ever writes: a bug, fail the whole answer */
		return;
	}
	w->first[++w->depth] = true;
}

static void close_(jw *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	putc1(w, c);
}

void jw_obj_begin(jw *w)
{
	open_(w, '{');
}

void jw_obj_end(jw *w)
{
	close_(w, '}');
}

void jw_arr_begin(jw *w)
{
	open_(w, '[');
}

void jw_arr_end(jw *w)
{
	close_(w, ']');
}

static void escaped(jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0, i;

	putc1(w, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *e = NULL;
		char u[7];

		switch (c) {
		case '"':
			e = "\\\"";
			break;
		case '\\':
			e = "\\\\";
			break;
		case '\b':
			e = "\\b";
			break;
		case '\f':
			e = "\\f";
			break;
		case '\n':
			e = "\\n";
			break;
		case '\r':
			e = "\\r";
			break;
		case '\t':
			e = "\\t";
			break;
		default:
			if (c >= 0x20)
				continue;
			u[0] = '\\';
			u[1] = 'u';
			u[2] = '0';
			u[3] = '0';
			u[4] = hex[c >> 4];
			u[5] = hex[c & 15];
			u[6] = '\0';
			e = u;
		}
		put(w, s + run, i - run);
		put(w, e, strlen(e));
		run = i + 1;
	}
	put(w, s + run, n - run);
	putc1(w, '"');
}

void jw_key(jw *w, const char *key)
{
	if (!w->first[w->depth])
		putc1(w, ',');
	w->first[w->depth] = false;
	escaped(w, key, strlen(key));
	putc1(w, ':');
	w->after_key = true;
}

void jw_null(jw *w)
{
	jw_raw(w, "null");
}

void jw_bool(jw *w, bool v)
{
	jw_raw(w, v ? "true" : "false");
}

/* v in decimal into b[24] (no printf: it was a hot spot of the lists); returns the length. */
static size_t i64_text(int64_t v, char b[24])
{
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	char t[24];
	size_t n = 0, i;

	do {
		t[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		t[n++] = '-';
	for (i = 0; i < n; i++)
		b[i] = t[n - 1 - i];
	b[n] = '\0';
	return n;
}

void jw_int(jw *w, int64_t v)
{
	char b[24];
	size_t n = i64_text(v, b);

	value_start(w);
	put(w, b, n);
}

void jw_str_len(jw *w, const char *s, size_t len)
{
	value_start(w);
	escaped(w, s, len);
}

void jw_str(jw *w, const char *s)
{
	if (!s) {
		jw_null(w);
		return;
	}
	jw_str_len(w, s, strlen(s));
}

void jw_raw(jw *w, const char *json)
{
	value_start(w);
	put(w, json, strlen(json));
}

void jw_json(jw *w, json_object *o)
{
	jw_raw(w, o ? json_compact(o) : "null");
}

void jw_id(jw *w, int64_t id)
{
	char b[24];
	size_t n = i64_text(id, b);

	jw_str_len(w, b, n);
}

void jw_time(jw *w, int64_t t)
{
	char b[32];

	if (t <= 0) {
		jw_null(w);
		return;
	}
	format_rfc3339(t, b);
	jw_str(w, b);
}
