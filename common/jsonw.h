/* jsonw.h — a small JSON writer (issue 17 item 1): appends compact JSON to one growing buffer,
 * straight from the values (no json-c tree per object), with the very bytes json-c prints for
 * JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE (same escapes, no spaces). Commas are
 * the writer's business: call jw_key() before each member's value, nothing between array
 * elements. An allocation failure sticks (jw->oom) and every later call does nothing. */
#ifndef XVPS_JSONW_H
#define XVPS_JSONW_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JW_MAX_DEPTH 32

typedef struct jw {
	char *buf; /* NUL-terminated while !oom; the caller frees it (or takes it with jw_take) */
	size_t len, cap;
	bool oom;
	int depth;
	bool first[JW_MAX_DEPTH + 1]; /* no member or element yet at this depth */
	bool after_key;
} jw;

void jw_init(jw *w, size_t cap_hint);
void jw_free(jw *w);
/* The text (malloc'd, NUL-terminated) and its length; NULL after an allocation failure or with
 * an object or array still open. The writer is empty afterwards. */
char *jw_take(jw *w, size_t *len_out);

void jw_obj_begin(jw *w);
void jw_obj_end(jw *w);
void jw_arr_begin(jw *w);
void jw_arr_end(jw *w);
void jw_key(jw *w, const char *key); /* a member's name; its value comes next */

void jw_null(jw *w);
void jw_bool(jw *w, bool v);
void jw_int(jw *w, int64_t v);
void jw_str(jw *w, const char *s);                 /* NULL writes null */
void jw_str_len(jw *w, const char *s, size_t len); /* len bytes of s */
void jw_raw(jw *w, const char *json);              /* a JSON value already formatted */
void jw_json(jw *w, json_object *o);               /* o as json-c prints it (NULL: null) */
/* Helpers of the API's conventions: an id as a decimal string; a time as RFC 3339 UTC text,
 * null when t <= 0. */
void jw_id(jw *w, int64_t id);
void jw_time(jw *w, int64_t t);

#endif
