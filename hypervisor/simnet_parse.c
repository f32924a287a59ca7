/* simnet_parse.c — the vif specs of the sim's networking (simnet.h): an xl.cfg "vif" entry
 * parsed into a simnet_vif and rendered back, the "vif" list of a config read with libxlutil.
 * Pure parsing and validation against common/validate.h: nothing here runs a command or
 * touches the host. */
#include "simnet.h"
#include "xlcfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libxlutil.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"

#define errf(err, ...) errfmt(err, HV_ERRLEN, __VA_ARGS__)

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

static bool all_digits(const char *s, size_t n, size_t max)
{
	if (n < 1 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* xl-network-configuration(5) rate: N{b,B,Kb,KB,Mb,MB,Gb,GB}/s, optionally @N{s,ms,us}. */
static bool rate_ok(const char *s)
{
	static const char *const units[] = {"Kb/s", "KB/s", "Mb/s", "MB/s",
	                                    "Gb/s", "GB/s", "b/s",  "B/s"};
	size_t d = strspn(s, "0123456789"), u;
	const char *p = s + d;

	if (!all_digits(s, d, 9))
		return false;
	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++)
		if (strncmp(p, units[u], strlen(units[u])) == 0)
			break;
	if (u == sizeof(units) / sizeof(units[0]))
		return false;
	p += strlen(units[u]);
	if (*p == '\0')
		return true;
	if (*p++ != '@')
		return false;
	d = strspn(p, "0123456789");
	if (!all_digits(p, d, 9))
		return false;
	p += d;
	return strcmp(p, "s") == 0 || strcmp(p, "ms") == 0 || strcmp(p, "us") == 0;
}

static int parse_ips(char *v, simnet_vif *out, char *err)
{
	char *save = NULL;

	for (char *tok = strtok_r(v, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		uint8_t b[16];

		if (out->n_ip4 + out->n_ip6 >= SIMNET_MAX_IPS) {
			errf(err, "vif ip=: at most %d addresses", SIMNET_MAX_IPS);
			return -EINVAL;
		}
		if (parse_ipv4(tok, b)) {
			inet_ntop(AF_INET, b, out->ip4[out->n_ip4++], sizeof(out->ip4[0]));
		} else if (parse_ipv6(tok, b)) {
			inet_ntop(AF_INET6, b, out->ip6[out->n_ip6++], sizeof(out->ip6[0]));
		} else {
			errf(err, "vif ip=: not an IPv4 or IPv6 address");
			return -EINVAL;
		}
	}
	if (out->n_ip4 + out->n_ip6 == 0) {
		errf(err, "vif ip= is empty");
		return -EINVAL;
	}
	return 0;
}

int simnet_parse_vif(const char *spec, simnet_vif *out, char *err)
{
	char buf[SIMNET_SPEC_MAX], *save = NULL;
	bool seen_ip = false;
	const char *why = NULL;

	memset(out, 0, sizeof(*out));
	if (!spec || !sfmt(buf, sizeof(buf), "%s", spec)) {
		errf(err, "vif spec missing or longer than %d bytes", SIMNET_SPEC_MAX - 1);
		return -EINVAL;
	}
	for (const char *c = buf; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f || strchr("\"'\\", *c)) {
			errf(err, "vif spec holds a quote, a backslash or a control character");
			return -EINVAL;
		}
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '='), *key, *val;
		char *dst = NULL;
		size_t dstlen = 0;

		if (!eq) {
			errf(err, "vif spec: \"key=value\" expected");
			return -EINVAL;
		}
		*eq = '\0';
		key = trim(tok);
		val = trim(eq + 1);
		if (strcmp(key, "ip") == 0) {
			int rc;
			if (seen_ip) {
				errf(err, "vif spec: ip= given twice");
				return -EINVAL;
			}
			seen_ip = true;
			rc = parse_ips(val, out, err);
			if (rc)
				return rc;
			continue;
		}
		if (strcmp(key, "vifname") == 0) {
			if (!valid_vifname(val, &why))
				goto bad;
			dst = out->vifname, dstlen = sizeof(out->vifname);
		} else if (strcmp(key, "mac") == 0) {
			if (!valid_xen_mac(val, &why))
				goto bad;
			dst = out->mac, dstlen = sizeof(out->mac);
		} else if (strcmp(key, "bridge") == 0) {
			if (!simnet_valid_bridge(val)) {
				why = "bridge: 1 to 15 characters of a-z 0-9 _ . -.";
				goto bad;
			}
			dst = out->bridge, dstlen = sizeof(out->bridge);
		} else if (strcmp(key, "rate") == 0) {
			if (strlen(val) >= sizeof(out->rate) || !rate_ok(val)) {
				why = "rate: N{b,B,Kb,KB,Mb,MB,Gb,GB}/s expected.";
				goto bad;
			}
			dst = out->rate, dstlen = sizeof(out->rate);
		} else {
			errf(err, "vif spec: unknown key (only mac, bridge, vifname, ip, rate)");
			return -EINVAL;
		}
		if (*dst) {
			errf(err, "vif spec: %s= given twice", key);
			return -EINVAL;
		}
		snprintf(dst, dstlen, "%s", val);
		continue;
	bad:
		errf(err, "vif spec: invalid %s= (%s)", key, why ? why : "refused");
		return -EINVAL;
	}
	if (!out->vifname[0] || !out->mac[0] || !out->bridge[0]) {
		errf(err, "vif spec: vifname=, mac= and bridge= are required");
		return -EINVAL;
	}
	return 0;
}

bool simnet_render_vif(const simnet_vif *vif, char *out, size_t outlen)
{
	size_t n;

	if (!sfmt(out, outlen, "mac=%s, bridge=%s, vifname=%s", vif->mac, vif->bridge,
	          vif->vifname))
		return false;
	for (size_t i = 0; i < vif->n_ip4 + vif->n_ip6; i++) {
		const char *a = i < vif->n_ip4 ? vif->ip4[i] : vif->ip6[i - vif->n_ip4];
		n = strlen(out);
		if (!sfmt(out + n, outlen - n, "%s%s", i ? " " : ", ip=", a))
			return false;
	}
	n = strlen(out);
	return !vif->rate[0] || sfmt(out + n, outlen - n, ", rate=%s", vif->rate);
}

int simnet_read_cfg(const char *cfg_path, simnet_vif vifs[SIMNET_MAX_VIFS], size_t *n_out,
                    char *err)
{
	XLU_Config *cfg = NULL;
	XLU_ConfigList *list = NULL;
	int rc, count = 0;

	*n_out = 0;
	rc = xlcfg_load(cfg_path, &cfg, err, HV_ERRLEN);
	if (rc)
		return rc;
	rc = xlu_cfg_get_list(cfg, "vif", &list, &count, 1);
	if (rc == ESRCH) { /* no vif: a domain without network */
		rc = 0;
		goto out;
	}
	if (rc || count < 0 || count > SIMNET_MAX_VIFS) {
		errf(err, "config %s: vif must be a list of at most %d strings", cfg_path,
		     SIMNET_MAX_VIFS);
		rc = -EINVAL;
		goto out;
	}
	for (int i = 0; i < count; i++) {
		const char *item = xlu_cfg_get_listitem(list, i);
		char why[HV_ERRLEN];

		if (!item || simnet_parse_vif(item, &vifs[i], why) != 0) {
			errf(err, "config %s, vif %d: %s", cfg_path, i,
			     item ? why : "not a string");
			rc = -EINVAL;
			goto out;
		}
		for (int j = 0; j < i; j++)
			if (strcmp(vifs[j].vifname, vifs[i].vifname) == 0) {
				errf(err, "config %s: vifname %s used twice", cfg_path,
				     vifs[i].vifname);
				rc = -EINVAL;
				goto out;
			}
	}
	*n_out = (size_t)count;
	rc = 0;
out:
	xlu_cfg_destroy(cfg);
	return rc;
}
