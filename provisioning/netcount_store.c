/* netcount_store.c — persistence of the traffic counters (netcount.c): writes every
 * accumulator to <state_dir>/counters.json atomically and reads it back at start. Never
 * writes anything but that one file, and never accepts a file it cannot fully check (a bad
 * entry refuses the whole file rather than resetting or inventing a counter). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/jsonutil.h"
#include "../common/util.h"
#include "../common/validate.h"
#include "net.h"
#include "netcount_internal.h"

/* Appends s (no escaping: names are validated) at *at. */
static char *put_str(char *at, const char *s)
{
	size_t n = strlen(s);

	memcpy(at, s, n);
	return at + n;
}

/* Appends v in decimal at *at: no printf, which was most of a sweep's own CPU with 1,000 vifs
 * (13 numbers each; issue 17 item 5). */
static char *put_u64(char *at, uint64_t v)
{
	char t[20];
	size_t n = 0;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*at++ = t[--n];
	return at;
}

static char *put_int(char *at, int v)
{
	if (v < 0) {
		*at++ = '-';
		return put_u64(at, (uint64_t)0 - (uint64_t)(int64_t)v);
	}
	return put_u64(at, (uint64_t)v);
}

/* Writes every accumulator to counters.json atomically. Caller holds ctx->lock. */
int netcount_persist(net_ctx *ctx, char err[NET_ERRLEN])
{
	/* Names and vifnames are validated ([a-z0-9-]) and shorter than their buffers (32 and 16
	 * bytes), so nothing needs JSON escaping. One entry is at most ~420 bytes (9 numbers of <=
	 * 20 digits, an int, two names, keys). */
	size_t cap = 64 + ctx->n_counters * 512;
	char path[NETCOUNT_PATH_LEN], *buf = malloc(cap), *at;
	int rc;

	if (!buf) {
		snprintf(err, NET_ERRLEN, "Out of memory while saving the traffic counters.");
		return -ENOMEM;
	}
	at = buf + snprintf(buf, cap, "{\"version\":%d,\"counters\":[", COUNTERS_VERSION);
	for (size_t i = 0; i < ctx->n_counters; i++) {
		const net_counter *c = &ctx->counters[i];

		at = put_str(at, i ? ",\n{\"name\":\"" : "\n{\"name\":\"");
		at = put_str(at, c->name);
		at = put_str(at, "\",\"vifname\":\"");
		at = put_str(at, c->vifname);
		at = put_str(at, "\",\"ifindex\":");
		at = put_int(at, c->ifindex);
		at = put_str(at, c->present ? ",\"present\":true,\"raw\":["
		                            : ",\"present\":false,\"raw\":[");
		for (int k = 0; k < 4; k++) {
			at = put_u64(at, c->raw[k]);
			*at++ = k < 3 ? ',' : ']';
		}
		at = put_str(at, ",\"rx_bytes\":");
		at = put_u64(at, c->rx_bytes);
		at = put_str(at, ",\"tx_bytes\":");
		at = put_u64(at, c->tx_bytes);
		at = put_str(at, ",\"rx_packets\":");
		at = put_u64(at, c->rx_packets);
		at = put_str(at, ",\"tx_packets\":");
		at = put_u64(at, c->tx_packets);
		*at++ = '}';
	}
	at = put_str(at, "]}\n");
	if (!netcount_path(ctx, path)) {
		free(buf);
		snprintf(err, NET_ERRLEN, "The state directory path is too long.");
		return -ENAMETOOLONG;
	}
	rc = write_file_atomic(path, buf, (size_t)(at - buf), 0600);
	free(buf);
	if (rc != 0)
		snprintf(err, NET_ERRLEN, "Cannot write %s: %s.", path, strerror(-rc));
	return rc;
}

/* A non-negative JSON integer field. */
static bool get_u64(json_object *obj, const char *key, uint64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0)
		return false;
	*out = json_object_get_uint64(v);
	return true;
}

/* Parses one counters.json entry into *c. Returns NULL or why it is invalid. */
static const char *parse_entry(json_object *e, net_counter *c)
{
	json_object *v;
	const char *name;
	uint64_t u;

	memset(c, 0, sizeof(*c));
	if (!json_object_is_type(e, json_type_object))
		return "an entry is not an object";
	if (!json_object_object_get_ex(e, "name", &v) || !json_object_is_type(v, json_type_string))
		return "an entry has no name";
	name = json_object_get_string(v);
	if (!valid_domain_name(name, NULL) || !net_vifname_of(name, c->vifname) ||
	    !sfmt(c->name, sizeof(c->name), "%s", name))
		return "an entry has an invalid name";
	if (!json_object_object_get_ex(e, "vifname", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), c->vifname) != 0)
		return "an entry's vifname does not match its name";
	if (!get_u64(e, "ifindex", &u) || u > INT_MAX)
		return "an entry has an invalid ifindex";
	c->ifindex = (int)u;
	if (!json_object_object_get_ex(e, "present", &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return "an entry has no present flag";
	c->present = json_object_get_boolean(v);
	if (!json_object_object_get_ex(e, "raw", &v) || !json_object_is_type(v, json_type_array) ||
	    json_object_array_length(v) != 4)
		return "an entry's raw values are not an array of 4";
	for (size_t k = 0; k < 4; k++) {
		json_object *r = json_object_array_get_idx(v, k);
		if (!json_object_is_type(r, json_type_int) || json_object_get_int64(r) < 0)
			return "an entry has a negative or non-integer raw value";
		c->raw[k] = json_object_get_uint64(r);
	}
	if (!get_u64(e, "rx_bytes", &c->rx_bytes) || !get_u64(e, "tx_bytes", &c->tx_bytes) ||
	    !get_u64(e, "rx_packets", &c->rx_packets) || !get_u64(e, "tx_packets", &c->tx_packets))
		return "an entry has a missing or negative total";
	return NULL;
}

/* Parses counters.json text into a sorted heap array. Returns NULL or why it is corrupt. */
static const char *parse_counters(const char *data, size_t len, net_counter **out, size_t *n_out)
{
	json_object *root = json_parse_strict(data, len, NULL), *v, *arr;
	const char *why = NULL;
	net_counter *cs = NULL;
	size_t n = 0;

	*out = NULL;
	*n_out = 0;
	if (!root)
		return "not valid JSON";
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "version", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) != COUNTERS_VERSION ||
	    !json_object_object_get_ex(root, "counters", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		why = "not a version 1 counters object";
		goto out;
	}
	n = json_object_array_length(arr);
	if (n > 0 && !(cs = calloc(n, sizeof(*cs)))) {
		why = "out of memory";
		goto out;
	}
	for (size_t i = 0; i < n && !why; i++)
		why = parse_entry(json_object_array_get_idx(arr, i), &cs[i]);
	if (!why && n > 1) {
		qsort(cs, n, sizeof(*cs), netcount_cmp);
		for (size_t i = 1; i < n && !why; i++)
			if (strcmp(cs[i - 1].name, cs[i].name) == 0)
				why = "a domain appears twice";
	}
out:
	json_object_put(root);
	if (why) {
		free(cs);
		return why;
	}
	*out = cs;
	*n_out = n;
	return NULL;
}

/* Loads counters.json into ctx. A missing file is an empty start; a corrupt one is logged,
 * kept aside as counters.json.corrupt, and counting starts empty. */
int netcount_load(net_ctx *ctx, char err[NET_ERRLEN])
{
	char path[NETCOUNT_PATH_LEN], aside[NETCOUNT_PATH_LEN + sizeof(".corrupt")];
	char *data = NULL;
	size_t len = 0;
	const char *why;
	int rc;

	if (!netcount_path(ctx, path)) {
		snprintf(err, NET_ERRLEN, "The state directory path is too long.");
		return -ENAMETOOLONG;
	}
	rc = read_file(path, COUNTERS_MAX_SIZE, &data, &len);
	if (rc == -ENOENT)
		return 0;
	if (rc != 0 && rc != -EFBIG) {
		snprintf(err, NET_ERRLEN, "Cannot read %s: %s.", path, strerror(-rc));
		return rc;
	}
	why = rc == -EFBIG ? "too large"
	                   : parse_counters(data, len, &ctx->counters, &ctx->n_counters);
	free(data);
	if (why) {
		snprintf(aside, sizeof(aside), "%s.corrupt", path);
		log_warn("%s is corrupt (%s); traffic counters start from zero, the file is kept "
		         "as %s",
		         path, why, aside);
		if (rename(path, aside) != 0)
			log_warn("cannot rename %s to %s: %s", path, aside, strerror(errno));
	}
	return 0;
}
