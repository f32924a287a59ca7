/* test_jsonutil.c — strict JSON parsing and typed field access (common/jsonutil.c): depth
 * limit, trailing garbage, unknown fields named, wrong types refused; json_load_file on files
 * in a temporary directory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../../common/jsonutil.h"
#include "../../common/util.h"

static json_object *parse(const char *s, bool *deep)
{
	return json_parse_strict(s, strlen(s), deep);
}

static char *nested_arrays(int depth)
{
	char *s = malloc((size_t)depth * 2 + 1);
	for (int i = 0; i < depth; i++) {
		s[i] = '[';
		s[depth * 2 - 1 - i] = ']';
	}
	s[depth * 2] = '\0';
	return s;
}

Test(jsonutil, accepts_depth_32)
{
	char *s = nested_arrays(32);
	bool deep = true;
	json_object *o = parse(s, &deep);
	cr_assert_not_null(o);
	cr_assert(!deep);
	json_object_put(o);
	free(s);
}

Test(jsonutil, rejects_depth_33_as_too_deep)
{
	char *s = nested_arrays(33);
	bool deep = false;
	json_object *o = parse(s, &deep);
	cr_assert_null(o);
	cr_assert(deep);
	free(s);
}

Test(jsonutil, rejects_trailing_garbage)
{
	bool deep = true;
	cr_assert_null(parse("{\"a\":1} x", &deep));
	cr_assert(!deep);
	cr_assert_null(parse("{\"a\":1}{}", NULL));
	cr_assert_null(parse("[1] [2]", NULL));
	cr_assert_null(parse("1 2", NULL));
}

Test(jsonutil, accepts_trailing_whitespace_and_scalars)
{
	json_object *o = parse("{\"a\":1}\r\n \t", NULL);
	cr_assert_not_null(o);
	json_object_put(o);
	o = parse("123", NULL);
	cr_assert_not_null(o);
	cr_assert_eq(json_object_get_int(o), 123);
	json_object_put(o);
}

Test(jsonutil, rejects_malformed_and_non_strict_json)
{
	cr_assert_null(parse("{\"a\":1,}", NULL));
	cr_assert_null(parse("{'a':1}", NULL));
	cr_assert_null(parse("{a:1}", NULL));
	cr_assert_null(parse("{\"a\":1", NULL));
	cr_assert_null(parse("", NULL));
	cr_assert_null(parse("   ", NULL));
	cr_assert_null(parse("[1,2,]", NULL));
	cr_assert_null(parse("{\"a\":tru}", NULL));
	cr_assert_null(parse("[Infinity]", NULL));
	cr_assert_null(parse("[NaN]", NULL));
	cr_assert_null(parse("[1.]", NULL));
	cr_assert_null(parse("[01]", NULL));
	cr_assert_null(parse("[\"a\tb\"]", NULL), "raw control character in a string");
	cr_assert_null(parse("[\"\\x\"]", NULL), "bad escape");
	cr_assert_null(json_parse_strict("{\"a\":1}\0", 8, NULL), "embedded NUL after value");
}

Test(jsonutil, names_the_unknown_field)
{
	json_object *o = parse("{\"name\":\"x\",\"bogus\":1}", NULL);
	static const char *const allowed[] = {"name", "vcpus", NULL};
	json_field_error err = {0};
	cr_assert(!json_only_fields(o, allowed, &err));
	cr_assert_str_eq(err.field, "bogus");
	cr_assert_eq(err.status, 422);
	json_object_put(o);

	o = parse("{\"name\":\"x\",\"vcpus\":1}", NULL);
	cr_assert(json_only_fields(o, allowed, &err));
	json_object_put(o);
}

Test(jsonutil, only_fields_rejects_non_object)
{
	json_object *o = parse("[1]", NULL);
	static const char *const allowed[] = {"a", NULL};
	json_field_error err = {0};
	cr_assert(!json_only_fields(o, allowed, &err));
	json_object_put(o);
}

Test(jsonutil, int_getter_rejects_wrong_types)
{
	json_object *o = parse("{\"d\":1.0,\"s\":\"1\",\"b\":true,\"n\":null,\"i\":4}", NULL);
	json_field_error err = {0};
	int64_t v = -1;
	cr_assert(!json_get_int(o, "d", true, 1, 64, &v, &err));
	cr_assert_str_eq(err.field, "d");
	cr_assert(!json_get_int(o, "s", true, 1, 64, &v, &err));
	cr_assert_str_eq(err.field, "s");
	cr_assert(!json_get_int(o, "b", true, 1, 64, &v, &err));
	cr_assert(!json_get_int(o, "n", true, 1, 64, &v, &err), "null for a required field");
	cr_assert_str_eq(err.field, "n");
	cr_assert(json_get_int(o, "n", false, 1, 64, &v, &err), "null for an optional field");
	cr_assert_eq(v, -1);
	cr_assert(json_get_int(o, "i", true, 1, 64, &v, &err));
	cr_assert_eq(v, 4);
	json_object_put(o);
}

Test(jsonutil, int_getter_names_the_range)
{
	json_object *o = parse("{\"vcpus\":65,\"big\":99999999999999999999}", NULL);
	json_field_error err = {0};
	int64_t v = 0;
	cr_assert(!json_get_int(o, "vcpus", true, 1, 64, &v, &err));
	cr_assert_str_eq(err.field, "vcpus");
	cr_assert(strstr(err.detail, "must be between 1 and 64") != NULL, "%s", err.detail);
	cr_assert(!json_get_int(o, "big", true, 0, INT64_MAX, &v, &err));
	cr_assert_str_eq(err.field, "big");
	json_object_put(o);
}

Test(jsonutil, missing_required_field_is_named)
{
	json_object *o = parse("{}", NULL);
	json_field_error err = {0};
	const char *s = "preset";
	cr_assert(!json_get_str(o, "hostname", true, &s, &err));
	cr_assert_str_eq(err.field, "hostname");
	cr_assert(json_get_str(o, "hostname", false, &s, &err));
	cr_assert_str_eq(s, "preset");
	json_object_put(o);
}

Test(jsonutil, string_and_bool_getters_check_types)
{
	json_object *o = parse("{\"s\":\"hi\",\"n\":5,\"b\":false,\"bs\":\"true\"}", NULL);
	json_field_error err = {0};
	const char *s = NULL;
	bool b = true;
	cr_assert(json_get_str(o, "s", true, &s, &err));
	cr_assert_str_eq(s, "hi");
	cr_assert(!json_get_str(o, "n", true, &s, &err));
	cr_assert_str_eq(err.field, "n");
	cr_assert(json_get_bool(o, "b", true, &b, &err));
	cr_assert(!b);
	cr_assert(!json_get_bool(o, "bs", true, &b, &err));
	cr_assert_str_eq(err.field, "bs");
	json_object_put(o);
}

Test(jsonutil, string_getter_rejects_embedded_nul)
{
	json_object *o = parse("{\"s\":\"a\\u0000b\"}", NULL);
	cr_assert_not_null(o);
	json_field_error err = {0};
	const char *s = NULL;
	cr_assert(!json_get_str(o, "s", true, &s, &err));
	json_object_put(o);
}

Test(jsonutil, str_array_getter_checks_items_and_count)
{
	json_object *o = parse("{\"a\":[\"x\",\"y\"],\"m\":[\"x\",1],\"s\":\"x\"}", NULL);
	json_field_error err = {0};
	json_object *arr = NULL;
	cr_assert(json_get_str_array(o, "a", true, 2, &arr, &err));
	cr_assert_eq(json_object_array_length(arr), 2);
	cr_assert(!json_get_str_array(o, "a", true, 1, &arr, &err), "too many items");
	cr_assert(!json_get_str_array(o, "m", true, 5, &arr, &err));
	cr_assert_str_eq(err.field, "m");
	cr_assert(!json_get_str_array(o, "s", true, 5, &arr, &err));
	json_object_put(o);
}

Test(jsonutil, compact_does_not_escape_slashes)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "p", json_object_new_string("/a/b"));
	json_object_object_add(o, "n", json_str_or_null(NULL));
	cr_assert_str_eq(json_compact(o), "{\"p\":\"/a/b\",\"n\":null}");
	json_object_put(o);
}

Test(jsonutil, load_file_answers_the_object_or_why_not)
{
	char dir[] = "/tmp/xvps-jsonutil-XXXXXX", path[64];
	json_object *o = NULL;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.json", dir);
	cr_assert_eq(json_load_file(path, 1024, json_type_object, &o), -ENOENT);
	cr_assert_null(o);
	cr_assert_eq(write_file_atomic(path, "{\"domid\": 3}", 12, 0600), 0);
	cr_assert_eq(json_load_file(path, 1024, json_type_object, &o), 0);
	cr_assert_eq(json_object_get_int(json_object_object_get(o, "domid")), 3);
	json_object_put(o);
	cr_assert_eq(json_load_file(path, 1024, json_type_array, &o), -EPROTO);
	cr_assert_null(o);
	cr_assert_eq(json_load_file(path, 4, json_type_object, &o), -EFBIG);
	cr_assert_eq(write_file_atomic(path, "{not json", 9, 0600), 0);
	cr_assert_eq(json_load_file(path, 1024, json_type_object, &o), -EPROTO);
	unlink(path);
	rmdir(dir);
}

/* format_rfc3339() computes the civil date itself (issue 17): the same text as gmtime_r +
 * strftime over the years 1000..9999 (strftime does not pad %Y below 1000; the writer does),
 * leap days and negative times included. */
Test(util_time, rfc3339_matches_gmtime)
{
	static const int64_t fixed[] = {
	        0,         -1,           86399,      86400,          951782400,
	        951868799, 4107542399LL, 1709164800, -30610224000LL, 253402300799LL,
	        1798675200};
	char mine[32], want[32];
	struct tm tm;
	uint64_t x = 88172645463325252ULL;

	for (int i = 0; i < 200000; i++) {
		int64_t t;
		time_t tt;

		if (i < (int)(sizeof(fixed) / sizeof(fixed[0]))) {
			t = fixed[i];
		} else {
			x ^= x << 13; /* xorshift64: reproducible */
			x ^= x >> 7;
			x ^= x << 17;
			t = (int64_t)(x % (253402300799ULL + 30610224001ULL)) - 30610224000LL;
		}
		tt = (time_t)t;
		cr_assert_not_null(gmtime_r(&tt, &tm));
		cr_assert_neq(strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm), 0);
		format_rfc3339(t, mine);
		cr_assert_str_eq(mine, want, "t=%lld", (long long)t);
	}
	format_rfc3339(253402300800LL, mine);
	cr_assert_str_eq(mine, "1970-01-01T00:00:00Z");
	format_rfc3339(-62167219200LL, mine);
	cr_assert_str_eq(mine, "0000-01-01T00:00:00Z");
}
