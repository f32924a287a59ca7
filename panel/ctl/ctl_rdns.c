/* ctl_rdns.c — xvpsctl rdns (ctl_rdns.h): a VPS's PTR records through GET /vps/{id}/rdns and
 * PUT / DELETE /vps/{id}/rdns/{address}. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../../common/validate.h"
#include "ctl_rdns.h"

#define RDNS_PATH_MAX 160 /* "/vps/<id>/rdns/<IPv6 address>" */

static const char *field(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return "-";
	return json_object_get_string(v);
}

static int usage_rdns(void)
{
	fprintf(stderr, "usage: xvpsctl rdns get VPS_ID | rdns set VPS_ID ADDRESS NAME | "
	                "rdns clear VPS_ID ADDRESS\n");
	return 2;
}

static int rdns_get(const ctl *c, long long id)
{
	char path[RDNS_PATH_MAX];
	json_object *resp = NULL, *recs = NULL, *pre = NULL;
	long status;

	snprintf(path, sizeof(path), "/vps/%lld/rdns", id);
	status = ctl_request(c, "GET", path, NULL, &resp);
	if (status != 200 || !json_object_object_get_ex(resp, "records", &recs)) {
		ctl_print_problem(status, resp);
		json_object_put(resp);
		return 1;
	}
	printf("%-40s %-40s %-9s %s\n", "ADDRESS", "NAME", "PUBLISHED", "ZONE");
	for (size_t k = 0; k < json_object_array_length(recs); k++) {
		json_object *r = json_object_array_get_idx(recs, k);

		printf("%-40s %-40s %-9s %s\n", field(r, "address"), field(r, "name"),
		       field(r, "published"), field(r, "zone"));
	}
	if (json_object_object_get_ex(resp, "prefixes", &pre))
		for (size_t k = 0; k < json_object_array_length(pre); k++)
			printf("routed prefix %s: any address inside may get a PTR\n",
			       json_object_get_string(json_object_array_get_idx(pre, k)));
	if (!json_object_get_boolean(json_object_object_get(resp, "publishing")))
		printf("PowerDNS is off (XVPS_PDNS_URL unset): PTRs are kept in the panel only\n");
	json_object_put(resp);
	return 0;
}

int rdns_cmd(const ctl *c, int argc, char **argv)
{
	long long id = 0;
	uint8_t a[16];
	char path[RDNS_PATH_MAX];
	json_object *resp = NULL;
	long status;

	if (argc < 2 || !parse_int_range(argv[1], 1, INT64_MAX, &id))
		return usage_rdns();
	if (!strcmp(argv[0], "get") && argc == 2)
		return rdns_get(c, id);
	if (argc < 3 || (!parse_ipv4(argv[2], a) && !parse_ipv6(argv[2], a)))
		return usage_rdns();
	snprintf(path, sizeof(path), "/vps/%lld/rdns/%s", id, argv[2]);
	if (!strcmp(argv[0], "set") && argc == 4) {
		json_object *body = json_object_new_object();

		json_object_object_add(body, "name", json_object_new_string(argv[3]));
		status = ctl_request(c, "PUT", path,
		                     json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN),
		                     &resp);
		json_object_put(body);
		if (status != 200) {
			ctl_print_problem(status, resp);
			json_object_put(resp);
			return 1;
		}
		printf("%s -> %s (%s)\n", field(resp, "address"), field(resp, "name"),
		       json_object_get_boolean(json_object_object_get(resp, "published"))
		               ? "published"
		               : "not published: PowerDNS is off");
		json_object_put(resp);
		return 0;
	}
	if (!strcmp(argv[0], "clear") && argc == 3) {
		status = ctl_request(c, "DELETE", path, NULL, &resp);
		if (status != 204) {
			ctl_print_problem(status, resp);
			json_object_put(resp);
			return 1;
		}
		printf("%s: PTR removed\n", argv[2]);
		return 0;
	}
	return usage_rdns();
}
