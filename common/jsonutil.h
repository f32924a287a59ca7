/* jsonutil.h — strict JSON handling on top of json-c, shared by xvpsd and xvps-agent:
 * parsing with a depth limit, rejecting unknown fields, typed field access that names the
 * offending field. Never trusts the input's shape.
 *
 * Return convention: parsers answer a new reference or NULL, checks true or false with the
 * failing field in *err, json_load_file 0 or a negative errno. */
#ifndef XVPS_JSONUTIL_H
#define XVPS_JSONUTIL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 32

/* Parses exactly one JSON value from buf[0..len) (no trailing garbage except whitespace),
 * with nesting depth <= JSON_MAX_DEPTH. Returns a new reference or NULL; on NULL,
 * *too_deep_out (when not NULL) tells whether the depth limit was the cause. */
json_object *json_parse_strict(const char *buf, size_t len, bool *too_deep_out);

/* Reads the file at path (at most max_bytes, read_file) and parses it as JSON of the given
 * type (json_type_object, json_type_array, ...). Returns 0 and a new reference in *out, the
 * -errno of reading (-ENOENT: no such file, -EFBIG: larger than max_bytes), or -EPROTO when
 * it is not JSON of that type; *out is NULL on error. For state files xvps wrote itself. */
int json_load_file(const char *path, size_t max_bytes, json_type type, json_object **out);

/* Outcome of a field check: the field that failed and why (static strings or pointers into
 * the allowed list; valid as long as the object and list are). */
typedef struct json_field_error {
	const char *field;
	const char *detail;
	int status; /* HTTP status the API should answer: 422 */
} json_field_error;

/* Checks that obj is an object and that every key is in allowed (NULL-terminated).
 * Returns false and fills *err naming the first unknown key. */
bool json_only_fields(json_object *obj, const char *const allowed[], json_field_error *err);

/* Typed getters. Each returns true when the value is present and of the right type (and in
 * range); on false it fills *err (field, detail). When the key is absent and required is false
 * they return true and leave *out untouched (callers preset defaults). A JSON null counts as
 * absent for optional fields and as a type error for required ones. Integers must be JSON
 * integers (not 1.0, not "1"). Strings are returned as pointers owned by obj. */
bool json_get_str(json_object *obj, const char *key, bool required, const char **out,
                  json_field_error *err);
bool json_get_int(json_object *obj, const char *key, bool required, int64_t min, int64_t max,
                  int64_t *out, json_field_error *err);
bool json_get_bool(json_object *obj, const char *key, bool required, bool *out,
                   json_field_error *err);
/* An array of strings, at most max_items; *out is the array object (owned by obj). */
bool json_get_str_array(json_object *obj, const char *key, bool required, size_t max_items,
                        json_object **out, json_field_error *err);

/* Builds a JSON string from a value that may be NULL (-> JSON null). */
json_object *json_str_or_null(const char *s);

/* Serializes without slash escaping, compact. The string is owned by obj. */
const char *json_compact(json_object *obj);

#endif
