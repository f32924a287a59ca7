/* jsonutil.c — strict JSON parsing (json-c 0.16 tokener, strict mode, depth limit, no trailing
 * garbage) and typed field access that names the offending field. Never coerces a value of the
 * wrong type ("1", 1.0, true) into the type asked for. */
#include "jsonutil.h"

#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Range details ("must be between 1 and 64") are formatted into this per-thread buffer:
 * err->detail stays valid until the same thread's next failed json_get_int call. */
static _Thread_local char range_detail[96];

/* RFC 8259 grammar check. json-c 0.16's strict mode still lets through single-quoted object
 * keys, Infinity/NaN, "1." and raw control characters inside strings; this scanner refuses
 * them. Called only after the tokener succeeded, so recursion depth is <= JSON_MAX_DEPTH. */
typedef struct jscan {
	const char *p, *end;
} jscan;

static void js_ws(jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static bool js_digit(const jscan *s)
{
	return s->p < s->end && *s->p >= '0' && *s->p <= '9';
}

static bool js_string(jscan *s)
{
	if (s->p >= s->end || *s->p != '"')
		return false;
	s->p++;
	while (s->p < s->end) {
		unsigned char c = (unsigned char)*s->p++;
		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (s->p >= s->end)
			return false;
		c = (unsigned char)*s->p++;
		if (c == 'u') {
			for (int i = 0; i < 4; i++, s->p++)
				if (s->p >= s->end || !isxdigit((unsigned char)*s->p))
					return false;
		} else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
			return false;
		}
	}
	return false;
}

static bool js_number(jscan *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (!js_digit(s))
		return false;
	if (*s->p == '0')
		s->p++;
	else
		while (js_digit(s))
			s->p++;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!js_digit(s))
			return false;
		while (js_digit(s))
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!js_digit(s))
			return false;
		while (js_digit(s))
			s->p++;
	}
	return true;
}

static bool js_literal(jscan *s, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
		return false;
	s->p += n;
	return true;
}

static bool js_value(jscan *s)
{
	js_ws(s);
	if (s->p >= s->end)
		return false;
	char c = *s->p;
	if (c == '"')
		return js_string(s);
	if (c == 't')
		return js_literal(s, "true");
	if (c == 'f')
		return js_literal(s, "false");
	if (c == 'n')
		return js_literal(s, "null");
	if (c == '[' || c == '{') {
		char close = c == '[' ? ']' : '}';
		s->p++;
		js_ws(s);
		if (s->p < s->end && *s->p == close) {
			s->p++;
			return true;
		}
		for (;;) {
			if (close == '}') {
				js_ws(s);
				if (!js_string(s))
					return false;
				js_ws(s);
				if (s->p >= s->end || *s->p++ != ':')
					return false;
			}
			if (!js_value(s))
				return false;
			js_ws(s);
			if (s->p >= s->end)
				return false;
			c = *s->p++;
			if (c == close)
				return true;
			if (c != ',')
				return false;
		}
	}
	return js_number(s);
}

static bool json_grammar_ok(const char *buf, size_t len)
{
	jscan s = {buf, buf + len};
	if (!js_value(&s))
		return false;
	js_ws(&s);
	return s.p == s.end;
}

json_object *json_parse_strict(const char *buf, size_t len, bool *too_deep_out)
{
	if (too_deep_out)
		*too_deep_out = false;
	if (!buf || len == 0 || len > (size_t)INT32_MAX)
		return NULL;
	/* A tokener made with depth D accepts at most D nested containers. */
	json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *obj = json_tokener_parse_ex(tok, buf, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		/* Incomplete input (e.g. a bare number with nothing after it): tell the tokener
		 * the input ended by feeding an empty chunk, as json-c's own parser does. */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
	}
	if (!obj || jerr != json_tokener_success) {
		if (too_deep_out && jerr == json_tokener_error_depth)
			*too_deep_out = true;
		json_object_put(obj);
		json_tokener_free(tok);
		return NULL;
	}
	json_tokener_free(tok);
	/* The grammar check also refuses anything but whitespace after the value. */
	if (!json_grammar_ok(buf, len)) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

static bool fail(json_field_error *err, const char *field, const char *detail)
{
	if (err) {
		err->field = field;
		err->detail = detail;
		err->status = 422;
	}
	return false;
}

bool json_only_fields(json_object *obj, const char *const allowed[], json_field_error *err)
{
	if (!obj || !json_object_is_type(obj, json_type_object))
		return fail(err, NULL, "The body must be a JSON object.");
	json_object_object_foreach(obj, key, val)
	{
		(void)val;
		bool ok = false;
		for (size_t i = 0; allowed && allowed[i]; i++) {
			if (strcmp(key, allowed[i]) == 0) {
				ok = true;
				break;
			}
		}
		if (!ok)
			return fail(err, key, "Unknown field.");
	}
	return true;
}

/* Looks the key up. Returns 1 when present and non-null (*v set), 0 when absent/null and
 * optional, -1 after filling err. */
static int lookup(json_object *obj, const char *key, bool required, json_object **v,
                  json_field_error *err)
{
	if (!obj || !json_object_is_type(obj, json_type_object)) {
		fail(err, key, "The body must be a JSON object.");
		return -1;
	}
	json_object *val = NULL;
	bool present = json_object_object_get_ex(obj, key, &val);
	if (!present) {
		if (required) {
			fail(err, key, "This field is required.");
			return -1;
		}
		return 0;
	}
	if (!val) { /* JSON null */
		if (required) {
			fail(err, key, "This field must not be null.");
			return -1;
		}
		return 0;
	}
	*v = val;
	return 1;
}

bool json_get_str(json_object *obj, const char *key, bool required, const char **out,
                  json_field_error *err)
{
	json_object *v = NULL;
	int r = lookup(obj, key, required, &v, err);
	if (r <= 0)
		return r == 0;
	if (!json_object_is_type(v, json_type_string))
		return fail(err, key, "This field must be a string.");
	const char *s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return fail(err, key, "This field must not contain NUL characters.");
	*out = s;
	return true;
}

bool json_get_int(json_object *obj, const char *key, bool required, int64_t min, int64_t max,
                  int64_t *out, json_field_error *err)
{
	json_object *v = NULL;
	int r = lookup(obj, key, required, &v, err);
	if (r <= 0)
		return r == 0;
	if (!json_object_is_type(v, json_type_int))
		return fail(err, key, "This field must be an integer.");
	/* json-c keeps integers beyond int64 as uint64 (or saturates): both are out of range
	 * for every field xvps has. */
	errno = 0;
	int64_t n = json_object_get_int64(v);
	bool big = json_object_get_uint64(v) > (uint64_t)INT64_MAX && n == INT64_MAX;
	if (big || errno == ERANGE || n < min || n > max) {
		snprintf(range_detail, sizeof(range_detail),
		         "must be between %" PRId64 " and %" PRId64, min, max);
		return fail(err, key, range_detail);
	}
	*out = n;
	return true;
}

bool json_get_bool(json_object *obj, const char *key, bool required, bool *out,
                   json_field_error *err)
{
	json_object *v = NULL;
	int r = lookup(obj, key, required, &v, err);
	if (r <= 0)
		return r == 0;
	if (!json_object_is_type(v, json_type_boolean))
		return fail(err, key, "This field must be true or false.");
	*out = json_object_get_boolean(v) != 0;
	return true;
}

bool json_get_str_array(json_object *obj, const char *key, bool required, size_t max_items,
                        json_object **out, json_field_error *err)
{
	json_object *v = NULL;
	int r = lookup(obj, key, required, &v, err);
	if (r <= 0)
		return r == 0;
	if (!json_object_is_type(v, json_type_array))
		return fail(err, key, "This field must be an array of strings.");
	size_t n = json_object_array_length(v);
	if (n > max_items)
		return fail(err, key, "This array has too many items.");
	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(v, i);
		if (!it || !json_object_is_type(it, json_type_string))
			return fail(err, key, "This field must be an array of strings.");
		if ((size_t)json_object_get_string_len(it) != strlen(json_object_get_string(it)))
			return fail(err, key, "This field must not contain NUL characters.");
	}
	*out = v;
	return true;
}

json_object *json_str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

const char *json_compact(json_object *obj)
{
	return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
	                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
}

int json_load_file(const char *path, size_t max_bytes, json_type type, json_object **out)
{
	char *data = NULL;
	size_t len = 0;
	json_object *o;
	int rc;

	*out = NULL;
	rc = read_file(path, max_bytes, &data, &len);
	if (rc)
		return rc;
	o = json_tokener_parse(data);
	free(data);
	if (!o || !json_object_is_type(o, type)) {
		json_object_put(o);
		return -EPROTO;
	}
	*out = o;
	return 0;
}
