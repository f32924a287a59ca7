/* spec.c — strict parsing and re-validation of VPS_SPEC inside xvps-agent. Every field is
 * checked with common/validate.h again; it must never accept a value just because xvpsd
 * already checked it, and never keep pointers into the request's JSON. */
#include "spec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../common/guestval.h"
#include "../common/validate.h"
#include "net.h"

static const char *const spec_fields[] = {
        "name",
        "hostname",
        "type",
        "vcpus",
        "memory_mib",
        "disk_gib",
        "template",
        "mac",
        "vifname",
        "ipv4",
        "ipv6",
        "gateway4",
        "gateway6",
        "cpu_weight",
        "cpu_cap_pct",
        "net_mbit",
        "power",
        "ssh_keys",
        "ipv6_routed",
        "throttle_mbit",
        "smtp_block",
        "on_crash",
        "max_vcpus",
        "max_memory_mib",
        "resolvers",
        "root_password_hash",
        "password_serial",
        "seed",
        "rescue",
        NULL,
};

static void set_err(json_field_error *err, const char *field, const char *detail)
{
	if (!err)
		return;
	err->field = field;
	err->detail = detail;
	err->status = 422;
}

const char *spec_type_name(xl_guest_type type)
{
	switch (type) {
	case XL_PVH:
		return "pvh";
	case XL_PV:
		return "pv";
	case XL_HVM:
		return "hvm";
	}
	return "pvh";
}

/* Copies a required/optional string validated by check(); NULL check accepts anything. */
static int get_checked_str(json_object *obj, const char *key, bool required,
                           bool (*check)(const char *, const char **), char **out,
                           json_field_error *err)
{
	const char *s = NULL;
	const char *why = NULL;

	if (!json_get_str(obj, key, required, &s, err))
		return -EINVAL;
	if (!s)
		return 0;
	if (check && !check(s, &why)) {
		set_err(err, key, why ? why : "is not valid");
		return -EINVAL;
	}
	*out = strdup(s);
	if (!*out) {
		set_err(err, key, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static bool check_ipv4(const char *s, const char **why)
{
	if (parse_ipv4(s, NULL))
		return true;
	*why = "is not an IPv4 address";
	return false;
}

static bool check_ipv6(const char *s, const char **why)
{
	if (parse_ipv6(s, NULL))
		return true;
	*why = "is not an IPv6 address";
	return false;
}

/* "2001:db8:1:2::/64": an IPv6 network, prefix 48..64, host bits zero. */
static bool check_prefix6(const char *s, const char **why)
{
	int len = 0;

	if (!parse_cidr(6, s, NULL, &len, why))
		return false;
	if (len < 48 || len > 64) {
		*why = "is not an IPv6 network of length 48..64 (like 2001:db8:1:2::/64)";
		return false;
	}
	return true;
}

/* A DNS resolver: an IPv4 or IPv6 address. */
static bool check_resolver(const char *s, const char **why)
{
	if (parse_ipv4(s, NULL) || parse_ipv6(s, NULL))
		return true;
	*why = "holds an item that is not an IPv4 or IPv6 address";
	return false;
}

/* Copies an optional array of strings, each accepted by check(). */
static int get_str_list(json_object *obj, const char *key, size_t max_items,
                        bool (*check)(const char *, const char **), char ***list_out, size_t *n_out,
                        json_field_error *err)
{
	json_object *arr = NULL;
	size_t n, i;
	char **list;

	if (!json_get_str_array(obj, key, false, max_items, &arr, err))
		return -EINVAL;
	if (!arr)
		return 0;
	n = json_object_array_length(arr);
	if (n == 0)
		return 0;
	list = calloc(n, sizeof(*list));
	if (!list) {
		set_err(err, key, "out of memory");
		return -ENOMEM;
	}
	*list_out = list;
	for (i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(arr, i);
		const char *s = json_object_get_string(it);
		const char *why = NULL;

		if (!json_object_is_type(it, json_type_string) || !s) {
			set_err(err, key, "must be an array of strings");
			return -EINVAL;
		}
		if (!check(s, &why)) {
			set_err(err, key, why ? why : "holds an invalid item");
			return -EINVAL;
		}
		/* Duplicates would make two identical rules and config entries. */
		for (size_t j = 0; j < *n_out; j++) {
			if (strcmp(list[j], s) == 0) {
				set_err(err, key, "holds a duplicate item");
				return -EINVAL;
			}
		}
		list[i] = strdup(s);
		if (!list[i]) {
			set_err(err, key, "out of memory");
			return -ENOMEM;
		}
		*n_out = i + 1;
	}
	return 0;
}

int spec_parse(json_object *obj, vps_spec *out, json_field_error *err)
{
	const char *type = NULL, *power = NULL;
	int64_t v = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->cpu_weight = 256;
	if (!obj || !json_object_is_type(obj, json_type_object)) {
		set_err(err, "spec", "must be a JSON object");
		return -EINVAL;
	}
	if (!json_only_fields(obj, spec_fields, err)) {
		rc = -EINVAL;
		goto out;
	}

	rc = get_checked_str(obj, "name", true, valid_domain_name, &out->name, err);
	if (rc)
		goto out;
	rc = get_checked_str(obj, "hostname", true, valid_hostname, &out->hostname, err);
	if (rc)
		goto out;

	rc = -EINVAL;
	if (!json_get_str(obj, "type", true, &type, err))
		goto out;
	if (strcmp(type, "pvh") == 0) {
		out->type = XL_PVH;
	} else if (strcmp(type, "pv") == 0) {
		out->type = XL_PV;
	} else if (strcmp(type, "hvm") == 0) {
		out->type = XL_HVM;
	} else {
		set_err(err, "type", "must be one of pvh, pv, hvm");
		goto out;
	}

	if (!json_get_int(obj, "vcpus", true, 1, 64, &v, err))
		goto out;
	out->vcpus = (int)v;
	if (!json_get_int(obj, "memory_mib", true, 128, 1048576, &v, err))
		goto out;
	out->memory_mib = (uint64_t)v;
	if (!json_get_int(obj, "disk_gib", true, 1, 16384, &v, err))
		goto out;
	out->disk_gib = (uint64_t)v;
	/* The live resize ceilings (issue 16 item 1): absent or 0 = the spec's own values. */
	v = 0;
	if (!json_get_int(obj, "max_vcpus", false, 0, 64, &v, err))
		goto out;
	if (v != 0 && v < out->vcpus) {
		set_err(err, "max_vcpus", "must be 0 or at least vcpus");
		goto out;
	}
	out->max_vcpus = (int)v;
	v = 0;
	if (!json_get_int(obj, "max_memory_mib", false, 0, 1048576, &v, err))
		goto out;
	if (v != 0 && (uint64_t)v < out->memory_mib) {
		set_err(err, "max_memory_mib", "must be 0 or at least memory_mib");
		goto out;
	}
	out->max_memory_mib = (uint64_t)v;

	rc = get_checked_str(obj, "template", true, valid_template_name, &out->template_name, err);
	if (rc)
		goto out;
	rc = get_checked_str(obj, "mac", true, valid_xen_mac, &out->mac, err);
	if (rc)
		goto out;
	rc = get_checked_str(obj, "vifname", true, valid_vifname, &out->vifname, err);
	if (rc)
		goto out;
	{
		char own[16];

		if (!net_vifname_of(out->name, own) || strcmp(own, out->vifname) != 0) {
			set_err(err, "vifname", "is not this domain's vif name (xvps-N has xvifN)");
			rc = -EINVAL;
			goto out;
		}
	}

	rc = get_str_list(obj, "ipv4", SPEC_MAX_ADDRS, check_ipv4, &out->ipv4, &out->n_ipv4, err);
	if (rc)
		goto out;
	rc = get_str_list(obj, "ipv6", SPEC_MAX_ADDRS, check_ipv6, &out->ipv6, &out->n_ipv6, err);
	if (rc)
		goto out;
	rc = get_str_list(obj, "ipv6_routed", SPEC_MAX_ADDRS, check_prefix6, &out->ipv6_routed,
	                  &out->n_ipv6_routed, err);
	if (rc)
		goto out;
	rc = get_checked_str(obj, "gateway4", false, check_ipv4, &out->gateway4, err);
	if (rc)
		goto out;
	rc = get_checked_str(obj, "gateway6", false, check_ipv6, &out->gateway6, err);
	if (rc)
		goto out;

	rc = -EINVAL;
	v = out->cpu_weight;
	if (!json_get_int(obj, "cpu_weight", false, 1, 65535, &v, err))
		goto out;
	out->cpu_weight = (int)v;
	v = 0;
	if (!json_get_int(obj, "cpu_cap_pct", false, 0, 6400, &v, err))
		goto out;
	if (v > (int64_t)out->vcpus * 100) {
		set_err(err, "cpu_cap_pct", "must be at most vcpus x 100");
		goto out;
	}
	out->cpu_cap_pct = (int)v;
	v = 0;
	if (!json_get_int(obj, "net_mbit", false, 0, 100000, &v, err))
		goto out;
	out->net_mbit = (int)v;
	v = 0;
	if (!json_get_int(obj, "throttle_mbit", false, 0, 100000, &v, err))
		goto out;
	out->throttle_mbit = (int)v;
	if (!json_get_bool(obj, "smtp_block", false, &out->smtp_block, err))
		goto out;
	if (!json_get_bool(obj, "rescue", false, &out->rescue, err))
		goto out;
	const char *on_crash = NULL;
	if (!json_get_str(obj, "on_crash", false, &on_crash, err))
		goto out;
	out->crash_restart = true;
	if (on_crash && strcmp(on_crash, "stop") == 0) {
		out->crash_restart = false;
	} else if (on_crash && strcmp(on_crash, "restart") != 0) {
		set_err(err, "on_crash", "must be restart or stop");
		goto out;
	}
	const char *seed = NULL;
	if (!json_get_str(obj, "seed", false, &seed, err))
		goto out;
	if (seed && strcmp(seed, "nocloud") == 0) {
		out->seed_nocloud = true;
	} else if (seed && strcmp(seed, "xvps") != 0) {
		set_err(err, "seed", "must be xvps or nocloud");
		goto out;
	}

	if (!json_get_str(obj, "power", true, &power, err))
		goto out;
	if (strcmp(power, "running") == 0) {
		out->power_running = true;
	} else if (strcmp(power, "stopped") == 0) {
		out->power_running = false;
	} else {
		set_err(err, "power", "must be running or stopped");
		goto out;
	}

	rc = get_str_list(obj, "ssh_keys", SPEC_MAX_KEYS, valid_ssh_key, &out->ssh_keys,
	                  &out->n_ssh_keys, err);
	if (rc)
		goto out;
	/* Guest settings (issue 16 item 2). */
	rc = get_str_list(obj, "resolvers", SPEC_MAX_RESOLVERS, check_resolver, &out->resolvers,
	                  &out->n_resolvers, err);
	if (rc)
		goto out;
	rc = get_checked_str(obj, "root_password_hash", false, valid_crypt_hash,
	                     &out->root_password_hash, err);
	if (rc)
		goto out;
	rc = -EINVAL;
	v = 0;
	if (!json_get_int(obj, "password_serial", false, 0, UINT32_MAX, &v, err))
		goto out;
	out->password_serial = (uint32_t)v;
	if ((out->password_serial != 0) != (out->root_password_hash != NULL)) {
		set_err(err, "password_serial",
		        "must be 1..4294967295 with root_password_hash and 0 without one");
		goto out;
	}
	rc = 0;
out:
	if (rc)
		spec_dispose(out);
	return rc;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void spec_dispose(vps_spec *spec)
{
	if (!spec)
		return;
	free(spec->name);
	free(spec->hostname);
	free(spec->template_name);
	free(spec->mac);
	free(spec->vifname);
	free_list(spec->ipv4, spec->n_ipv4);
	free_list(spec->ipv6, spec->n_ipv6);
	free_list(spec->ipv6_routed, spec->n_ipv6_routed);
	free(spec->gateway4);
	free(spec->gateway6);
	free_list(spec->ssh_keys, spec->n_ssh_keys);
	free_list(spec->resolvers, spec->n_resolvers);
	free(spec->root_password_hash);
	memset(spec, 0, sizeof(*spec));
	spec->cpu_weight = 256;
}
