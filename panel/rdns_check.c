/* rdns_check.c — what a PTR's name must be (rdns.h): a valid FQDN, and, unless the admin
 * setting rdns_unchecked allows it, a name that resolves forward to the address. The forward
 * lookup uses libc's resolver (res_nquery, libresolv) on a private resolver state per call, so
 * that XVPS_RDNS_RESOLVER (IPv4 host:port) can point it at one nameserver (the tests' own
 * pdns_server); unset, /etc/resolv.conf decides. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/validate.h"
#include "rdns.h"

#define ANSWER_MAX 4096

bool rdns_name_ok(const char *name, char out[RDNS_NAME_MAX], const char **why)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0) {
		*why = "must be a fully qualified domain name";
		return false;
	}
	if (len >= RDNS_NAME_MAX - 2) {
		*why = "must be at most 253 characters long";
		return false;
	}
	memcpy(out, name, len + 1);
	if (out[len - 1] == '.')
		out[--len] = '\0';
	if (!valid_hostname(out, why))
		return false;
	if (!strchr(out, '.')) {
		*why = "must be a fully qualified domain name (at least two labels)";
		return false;
	}
	if (strspn(strrchr(out, '.') + 1, "0123456789") == strlen(strrchr(out, '.') + 1)) {
		*why = "must be a domain name, not an address (its last label is numeric)";
		return false;
	}
	return true;
}

/* Points st at XVPS_RDNS_RESOLVER when set. False when it is set but not IPv4 host:port. */
static bool use_resolver(res_state st)
{
	const char *v = getenv("XVPS_RDNS_RESOLVER");
	char host[INET_ADDRSTRLEN];
	const char *colon;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	long port;
	char *end = NULL;

	if (!v || !*v)
		return true;
	colon = strrchr(v, ':');
	if (!colon || (size_t)(colon - v) >= sizeof(host))
		return false;
	memcpy(host, v, (size_t)(colon - v));
	host[colon - v] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535 || inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return false;
	sin.sin_port = htons((uint16_t)port);
	st->nsaddr_list[0] = sin;
	st->nscount = 1;
	return true;
}

int rdns_forward_check(int family, const uint8_t addr[16], const char *name, char *err,
                       size_t err_len)
{
	struct __res_state st;
	unsigned char *ans = malloc(ANSWER_MAX);
	int type = family == 4 ? ns_t_a : ns_t_aaaa, want_len = family == 4 ? 4 : 16;
	const char *rr_name = family == 4 ? "A" : "AAAA";
	int n, count, found = 0, rc;
	ns_msg msg;

	if (!ans) {
		snprintf(err, err_len, "out of memory");
		return -EAGAIN;
	}
	memset(&st, 0, sizeof(st));
	if (res_ninit(&st) != 0) {
		free(ans);
		snprintf(err, err_len, "the resolver could not be initialised");
		return -EAGAIN;
	}
	if (!use_resolver(&st)) {
		res_nclose(&st);
		free(ans);
		snprintf(err, err_len, "XVPS_RDNS_RESOLVER is not an IPv4 host:port");
		return -EAGAIN;
	}
	st.retrans = 2;
	st.retry = 2;
	n = res_nquery(&st, name, ns_c_in, type, ans, ANSWER_MAX);
	if (n < 0) {
		int h = st.res_h_errno;

		res_nclose(&st);
		free(ans);
		if (h == HOST_NOT_FOUND || h == NO_DATA) {
			snprintf(err, err_len,
			         "%s has no %s record (it must resolve to the address)", name,
			         rr_name);
			return -ENOENT;
		}
		snprintf(err, err_len, "the resolver gave no answer for %s (%s)", name,
		         h == TRY_AGAIN ? "timeout or server failure" : "refused");
		return -EAGAIN;
	}
	res_nclose(&st);
	rc = ns_initparse(ans, n, &msg);
	count = rc == 0 ? ns_msg_count(msg, ns_s_an) : 0;
	for (int i = 0; i < count && !found; i++) {
		ns_rr rr;

		if (ns_parserr(&msg, ns_s_an, i, &rr) != 0)
			break;
		if ((int)ns_rr_type(rr) == type && ns_rr_rdlen(rr) == want_len &&
		    memcmp(ns_rr_rdata(rr), addr, (size_t)want_len) == 0)
			found = 1;
	}
	free(ans);
	if (found)
		return 0;
	{
		char text[INET6_ADDRSTRLEN];

		inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, text, sizeof(text));
		snprintf(err, err_len, "%s does not resolve to %s (no matching %s record)", name,
		         text, rr_name);
	}
	return -ENOENT;
}
