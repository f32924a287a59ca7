/* xl_cpu.c — the xl driver's CPU time per domain, read through libxenstat (one node snapshot
 * for all names; the hv_ops cpu_times of driver.h), and hv_xl_set_xenstat for tests. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xenctrl.h>
#include <xenstat.h>

#include "driver.h"
#include "xl_internal.h"

static void *xs_init(void)
{
	return xenstat_init();
}

static void xs_uninit(void *h)
{
	xenstat_uninit(h);
}

/* XENSTAT_VCPU: domain names and CPU time come with every node; no network or disk stats. */
static void *xs_get_node(void *h)
{
	return xenstat_get_node(h, XENSTAT_VCPU);
}

static void xs_free_node(void *node)
{
	xenstat_free_node(node);
}

static unsigned xs_num_domains(void *node)
{
	return xenstat_node_num_domains(node);
}

static void *xs_domain_by_index(void *node, unsigned i)
{
	return xenstat_node_domain_by_index(node, i);
}

static const char *xs_domain_name(void *dom)
{
	return xenstat_domain_name(dom);
}

static unsigned long long xs_domain_cpu_ns(void *dom)
{
	return xenstat_domain_cpu_ns(dom);
}

/* libxenstat's "shutdown" leaves a crashed domain out (xentop shows a crashed one "---c--",
 * seen on the appliance: the watcher then never settled a guest's crash): both count here. */
static unsigned xs_domain_shutdown(void *dom)
{
	return xenstat_domain_shutdown(dom) || xenstat_domain_crashed(dom);
}

static unsigned xs_domain_id(void *dom)
{
	return xenstat_domain_id(dom);
}

/* One libxenctrl handle for the process, opened on first use; callers hold xs_lock. */
static xc_interface *xc_handle;

static int xs_sched_get(unsigned domid, int credit2, int *weight, int *cap)
{
	if (!xc_handle) {
		errno = 0;
		xc_handle = xc_interface_open(NULL, NULL, 0);
		if (!xc_handle)
			return errno ? -errno : -EIO;
	}
	if (credit2) {
		struct xen_domctl_sched_credit2 s;

		if (xc_sched_credit2_domain_get(xc_handle, domid, &s) != 0)
			return errno ? -errno : -EIO;
		*weight = s.weight;
		*cap = s.cap;
	} else {
		struct xen_domctl_sched_credit s;

		if (xc_sched_credit_domain_get(xc_handle, domid, &s) != 0)
			return errno ? -errno : -EIO;
		*weight = s.weight;
		*cap = s.cap;
	}
	return 0;
}

const hv_xenstat_ops xl_xenstat_real = {
        .init = xs_init,
        .uninit = xs_uninit,
        .get_node = xs_get_node,
        .free_node = xs_free_node,
        .num_domains = xs_num_domains,
        .domain_by_index = xs_domain_by_index,
        .domain_name = xs_domain_name,
        .domain_cpu_ns = xs_domain_cpu_ns,
        .domain_shutdown = xs_domain_shutdown,
        .domain_id = xs_domain_id,
        .sched_get = xs_sched_get,
};

/* qsort_r order of an index into a name array (ctx): by name. */
static int cmp_idx(const void *a, const void *b, void *ctx)
{
	const char *const *names = ctx;

	return strcmp(names[*(const size_t *)a], names[*(const size_t *)b]);
}

/* Fills out[] for every names[] entry equal to name (idx: indices sorted by name). */
static void assign_by_name(const char *const *names, const size_t *idx, size_t n, const char *name,
                           uint64_t v, uint64_t *out)
{
	size_t lo = 0, hi = n;

	while (lo < hi) { /* first index whose name is >= name */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(names[idx[mid]], name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && strcmp(names[idx[lo]], name) == 0; lo++)
		out[idx[lo]] = v;
}

/* A libxenstat node snapshot; the caller holds xs_lock. The handle is opened first when needed;
 * after a failed snapshot it is closed, for a fresh one next time. NULL with err set (may be
 * NULL) and *rc: -errno when the handle cannot be opened, -EIO when the snapshot failed. */
static void *snapshot(xl_priv *p, int *rc, char *err)
{
	void *node;

	if (!p->xs_handle) {
		errno = 0;
		p->xs_handle = p->xs->init();
		if (!p->xs_handle) {
			int e = errno ? errno : EIO;
			xl_set_err(err, "cannot open libxenstat: %s (is this host running Xen?)",
			           strerror(e));
			*rc = -e;
			return NULL;
		}
	}
	node = p->xs->get_node(p->xs_handle);
	if (!node) {
		int e = errno ? errno : EIO;
		xl_set_err(err, "libxenstat could not read the domains: %s", strerror(e));
		p->xs->uninit(p->xs_handle);
		p->xs_handle = NULL;
		*rc = -EIO;
	}
	return node;
}

int xl_cpu_times(hv_driver *d, const char *const *names, size_t n, uint64_t *cpu_ns_out, char *err)
{
	xl_priv *p = d->priv;
	size_t *idx = NULL;
	void *node;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		if (!xl_check_name(names[i], err))
			return -EINVAL;
		cpu_ns_out[i] = 0;
	}
	if (n == 0)
		return 0;
	idx = malloc(n * sizeof(*idx));
	if (!idx) {
		xl_set_err(err, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_idx, (void *)names);

	pthread_mutex_lock(&p->xs_lock);
	node = snapshot(p, &rc, err);
	if (!node)
		goto out;
	for (unsigned i = 0, nd = p->xs->num_domains(node); i < nd; i++) {
		void *dom = p->xs->domain_by_index(node, i);
		const char *name = dom ? p->xs->domain_name(dom) : NULL;

		if (name)
			assign_by_name(names, idx, n, name, p->xs->domain_cpu_ns(dom), cpu_ns_out);
	}
	p->xs->free_node(node);
out:
	pthread_mutex_unlock(&p->xs_lock);
	free(idx);
	return rc;
}

int xl_any_shutdown(hv_driver *d, const char *prefix)
{
	xl_priv *p = d->priv;
	size_t plen = prefix ? strlen(prefix) : 0;
	void *node;
	int rc = 0;

	if (!p->xs->domain_shutdown)
		return -ENOTSUP;
	pthread_mutex_lock(&p->xs_lock);
	node = snapshot(p, &rc, NULL);
	if (!node)
		goto out;
	for (unsigned i = 0, nd = p->xs->num_domains(node); i < nd && rc == 0; i++) {
		void *dom = p->xs->domain_by_index(node, i);
		const char *name = dom ? p->xs->domain_name(dom) : NULL;

		/* A domain without a name yet (being built) is left to the next round. */
		if (name && strncmp(name, prefix ? prefix : "", plen) == 0 &&
		    p->xs->domain_shutdown(dom))
			rc = 1;
	}
	p->xs->free_node(node);
out:
	pthread_mutex_unlock(&p->xs_lock);
	return rc;
}

int xl_sched_xc(hv_driver *d, const char *name, const char *sched, int *domid, int *weight,
                int *cap)
{
	xl_priv *p = d->priv;
	int credit2 = strcmp(sched, "credit2") == 0, rc = -ENOENT;
	void *node;

	if (!p->xs->domain_id || !p->xs->sched_get || (!credit2 && strcmp(sched, "credit") != 0))
		return -ENOTSUP;
	pthread_mutex_lock(&p->xs_lock);
	node = snapshot(p, &rc, NULL);
	if (!node)
		goto out;
	for (unsigned i = 0, nd = p->xs->num_domains(node); i < nd; i++) {
		void *dom = p->xs->domain_by_index(node, i);
		const char *dn = dom ? p->xs->domain_name(dom) : NULL;

		if (dn && strcmp(dn, name) == 0) {
			*domid = (int)p->xs->domain_id(dom);
			rc = p->xs->sched_get(p->xs->domain_id(dom), credit2, weight, cap);
			break;
		}
	}
	p->xs->free_node(node);
out:
	pthread_mutex_unlock(&p->xs_lock);
	return rc;
}

int hv_xl_set_xenstat(hv_driver *d, const hv_xenstat_ops *ops)
{
	xl_priv *p = d ? d->priv : NULL;

	if (!p || d->ops->cpu_times != xl_cpu_times)
		return -EINVAL;
	pthread_mutex_lock(&p->xs_lock);
	if (p->xs_handle)
		p->xs->uninit(p->xs_handle);
	p->xs_handle = NULL;
	p->xs = ops ? ops : &xl_xenstat_real;
	pthread_mutex_unlock(&p->xs_lock);
	return 0;
}
