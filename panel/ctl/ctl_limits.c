/* ctl_limits.c — xvpsctl customer limits get|set (issue 16 item 8): GET and PATCH
 * /customers/{id}/limits. Values are checked here only for their form (a number or "none");
 * the API decides what is in range and answers the problem, printed as it is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/validate.h"
#include "ctl.h"

#define CTL_LIMITS_PATH_MAX 96 /* "/customers/<id>/limits" */

static int usage(void)
{
	fprintf(stderr, "usage: xvpsctl customer limits get CUSTOMER_ID\n"
	                "       xvpsctl customer limits set CUSTOMER_ID [--max-vps N] "
	                "[--max-vcpus N]\n"
	                "               [--max-memory-mib N] [--max-disk-gib N] "
	                "[--plans all|ID,ID...]\n"
	                "       N: 0..1000000000, or none (no limit)\n");
	return 2;
}

/* --plans all -> null; "1,2" -> ["1","2"]. False on a malformed list. */
static bool plans_value(const char *v, json_object **out)
{
	char *copy, *save = NULL;
	bool ok = true;

	*out = NULL;
	if (!strcmp(v, "all"))
		return true;
	*out = json_object_new_array();
	copy = strdup(v);
	if (!copy)
		return false;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		long long id;

		if (!parse_int_range(t, 1, INT64_MAX, &id)) {
			ok = false;
			break;
		}
		json_object_array_add(*out, json_object_new_string(t));
	}
	free(copy);
	return ok && json_object_array_length(*out) > 0;
}

static int limits_set(const ctl *c, const char *path, int argc, char **argv)
{
	static const char *const opts[][2] = {
	        {"--max-vps", "max_vps"},
	        {"--max-vcpus", "max_vcpus"},
	        {"--max-memory-mib", "max_memory_mib"},
	        {"--max-disk-gib", "max_disk_gib"},
	};
	json_object *body = json_object_new_object(), *resp = NULL;
	int rc = 0;

	for (int i = 0; i < argc; i += 2) {
		const char *name = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool known = false;

		if (!v) {
			rc = usage();
			goto out;
		}
		for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
			long long n;

			if (strcmp(name, opts[k][0]) != 0)
				continue;
			known = true;
			if (!strcmp(v, "none"))
				json_object_object_add(body, opts[k][1], NULL);
			else if (parse_int_range(v, 0, 1000000000, &n))
				json_object_object_add(body, opts[k][1], json_object_new_int64(n));
			else
				known = false;
		}
		if (!strcmp(name, "--plans")) {
			json_object *plans;

			known = plans_value(v, &plans);
			if (known)
				json_object_object_add(body, "plans", plans);
			else
				json_object_put(plans);
		}
		if (!known) {
			fprintf(stderr, "xvpsctl: bad option or value: %s %s\n", name, v);
			rc = usage();
			goto out;
		}
	}
	if (json_object_object_length(body) == 0) {
		rc = usage();
		goto out;
	}
	long status = ctl_request(c, "PATCH", path, json_object_to_json_string(body), &resp);
	if (status != 200) {
		ctl_print_problem(status, resp);
		rc = 1;
	} else
		ctl_print_json(resp);
out:
	json_object_put(resp);
	json_object_put(body);
	return rc;
}

int ctl_customer_cmd(const ctl *c, int argc, char **argv)
{
	char path[CTL_LIMITS_PATH_MAX];
	long long id;

	if (argc < 3 || strcmp(argv[0], "limits") != 0 ||
	    !parse_int_range(argv[2], 1, INT64_MAX, &id))
		return usage();
	snprintf(path, sizeof(path), "/customers/%lld/limits", id);
	if (!strcmp(argv[1], "get") && argc == 3) {
		json_object *resp = NULL;
		long status = ctl_request(c, "GET", path, NULL, &resp);
		int rc = 0;

		if (status != 200) {
			ctl_print_problem(status, resp);
			rc = 1;
		} else
			ctl_print_json(resp);
		json_object_put(resp);
		return rc;
	}
	if (!strcmp(argv[1], "set"))
		return limits_set(c, path, argc - 3, argv + 3);
	return usage();
}
