/* test_xl_cpu.c — the xl driver's CPU time per domain (hypervisor/xl_cpu.c) through a fake
 * libxenstat table (hv_xl_set_xenstat), and the real libxenstat failing cleanly on a host
 * without Xen. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../hypervisor/driver.h"
#include "xl_fake.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- cpu_times through a fake libxenstat table (hv_xenstat_ops) ---------------------------- */

typedef struct fake_xs_dom {
	const char *name; /* NULL: xenstore had no name */
	unsigned long long cpu_ns;
} fake_xs_dom;

static struct {
	const fake_xs_dom *doms;
	unsigned n;
	int init_errno;  /* init fails with this errno (0: succeeds) */
	bool node_fails; /* get_node returns NULL */
	int inits, uninits, nodes, frees;
	int handle; /* what the fake handle points at */
} fxs;

static void *fxs_init(void)
{
	fxs.inits++;
	if (fxs.init_errno) {
		errno = fxs.init_errno;
		return NULL;
	}
	return &fxs.handle;
}

static void fxs_uninit(void *h)
{
	cr_assert_eq(h, &fxs.handle);
	fxs.uninits++;
}

static void *fxs_get_node(void *h)
{
	cr_assert_eq(h, &fxs.handle);
	if (fxs.node_fails) {
		errno = EIO;
		return NULL;
	}
	fxs.nodes++;
	return &fxs;
}

static void fxs_free_node(void *node)
{
	cr_assert_eq(node, (void *)&fxs);
	fxs.frees++;
}

static unsigned fxs_num_domains(void *node)
{
	return fxs.n;
}

static void *fxs_domain_by_index(void *node, unsigned i)
{
	return i < fxs.n ? (void *)&fxs.doms[i] : NULL;
}

static const char *fxs_domain_name(void *dom)
{
	return ((const fake_xs_dom *)dom)->name;
}

static unsigned long long fxs_domain_cpu_ns(void *dom)
{
	return ((const fake_xs_dom *)dom)->cpu_ns;
}

static const hv_xenstat_ops fake_xenstat = {
        .init = fxs_init,
        .uninit = fxs_uninit,
        .get_node = fxs_get_node,
        .free_node = fxs_free_node,
        .num_domains = fxs_num_domains,
        .domain_by_index = fxs_domain_by_index,
        .domain_name = fxs_domain_name,
        .domain_cpu_ns = fxs_domain_cpu_ns,
};

static hv_driver open_xenstat(fake *f, const fake_xs_dom *doms, unsigned n)
{
	memset(&fxs, 0, sizeof(fxs));
	fxs.doms = doms;
	fxs.n = n;
	hv_driver d = xlf_open(f, NULL, 0);
	cr_assert_eq(hv_xl_set_xenstat(&d, &fake_xenstat), 0);
	return d;
}

Test(xl, cpu_times_match_names_in_one_xenstat_snapshot)
{
	static const fake_xs_dom doms[] = {{"Domain-0", 999},
	                                   {"xvps-12", 7000000000ULL},
	                                   {NULL, 5},
	                                   {"xvps-3", 42},
	                                   {"xvps-300", 1}};
	const char *names[] = {"xvps-3", "xvps-4", "xvps-12", "xvps-3"};
	uint64_t ns[4] = {1, 1, 1, 1};
	char err[HV_ERRLEN] = "";
	fake f;
	hv_driver d = open_xenstat(&f, doms, N(doms));

	cr_assert_eq(d.ops->cpu_times(&d, names, 4, ns, err), 0, "%s", err);
	cr_assert_eq(ns[0], 42);
	cr_assert_eq(ns[1], 0, "a domain that is not running reads 0");
	cr_assert_eq(ns[2], 7000000000ULL);
	cr_assert_eq(ns[3], 42, "a name asked twice gets its value twice");
	cr_assert_eq(fxs.inits, 1);
	cr_assert_eq(fxs.nodes, 1, "one snapshot for all names");
	cr_assert_eq(fxs.frees, 1);

	/* The handle stays open: a second call takes a new snapshot only. */
	cr_assert_eq(d.ops->cpu_times(&d, names, 1, ns, err), 0, "%s", err);
	cr_assert_eq(fxs.inits, 1);
	cr_assert_eq(fxs.nodes, 2);
	cr_assert_eq(fxs.uninits, 0);
	fake_assert_calls(&f, (const char *[]){NULL}); /* no xl command */
	d.ops->dispose(&d);
	cr_assert_eq(fxs.uninits, 1, "dispose closes the handle");
}

Test(xl, cpu_times_report_an_init_failure_and_retry_it)
{
	static const fake_xs_dom doms[] = {{"xvps-1", 5}};
	const char *names[] = {"xvps-1"};
	uint64_t ns[1] = {9};
	char err[HV_ERRLEN] = "";
	fake f;
	hv_driver d = open_xenstat(&f, doms, N(doms));

	fxs.init_errno = ENOENT;
	cr_assert_eq(d.ops->cpu_times(&d, names, 1, ns, err), -ENOENT);
	cr_assert(strstr(err, "cannot open libxenstat: No such file or directory"), "%s", err);
	cr_assert_eq(ns[0], 0);
	cr_assert_eq(fxs.nodes, 0);
	fxs.init_errno = 0;
	cr_assert_eq(d.ops->cpu_times(&d, names, 1, ns, err), 0, "%s", err);
	cr_assert_eq(ns[0], 5);
	cr_assert_eq(fxs.inits, 2, "opened again on the next call");
	d.ops->dispose(&d);
}

Test(xl, cpu_times_reopen_the_handle_after_a_failed_snapshot)
{
	static const fake_xs_dom doms[] = {{"xvps-1", 5}};
	const char *names[] = {"xvps-1"};
	uint64_t ns[1] = {0};
	char err[HV_ERRLEN] = "";
	fake f;
	hv_driver d = open_xenstat(&f, doms, N(doms));

	fxs.node_fails = true;
	cr_assert_eq(d.ops->cpu_times(&d, names, 1, ns, err), -EIO);
	cr_assert(strstr(err, "libxenstat could not read the domains"), "%s", err);
	cr_assert_eq(fxs.uninits, 1, "the failed handle is closed");
	fxs.node_fails = false;
	cr_assert_eq(d.ops->cpu_times(&d, names, 1, ns, err), 0, "%s", err);
	cr_assert_eq(ns[0], 5);
	cr_assert_eq(fxs.inits, 2);
	d.ops->dispose(&d);
	cr_assert_eq(fxs.uninits, 2);
}

Test(xl, cpu_times_refuse_foreign_names_without_opening_libxenstat)
{
	const char *names[] = {"xvps-1", "Domain-0"};
	uint64_t ns[2];
	char err[HV_ERRLEN] = "";
	fake f;
	hv_driver d = open_xenstat(&f, NULL, 0);

	cr_assert_eq(d.ops->cpu_times(&d, names, 2, ns, err), -EINVAL);
	cr_assert_eq(fxs.inits, 0);
	cr_assert_eq(d.ops->cpu_times(&d, names, 0, ns, err), 0, "no names, nothing to do");
	cr_assert_eq(fxs.inits, 0);
	d.ops->dispose(&d);
}

/* The real libxenstat on this host: without Xen, xenstat_init fails; that must be a clean
 * error, not a crash (on a Xen host the call succeeds and xvps-1 reads 0 unless it runs). */
Test(xl, cpu_times_with_the_real_libxenstat_fail_cleanly_without_xen)
{
	const char *names[] = {"xvps-1"};
	uint64_t ns[1] = {7};
	char err[HV_ERRLEN] = "";
	fake f;
	hv_driver d = xlf_open(&f, NULL, 0);
	int rc;

	cr_assert_eq(hv_xl_set_xenstat(&d, NULL), 0);
	rc = d.ops->cpu_times(&d, names, 1, ns, err);
	if (access("/proc/xen/privcmd", F_OK) != 0 && access("/dev/xen/privcmd", F_OK) != 0) {
		cr_assert_lt(rc, 0, "libxenstat opened without Xen?");
		cr_assert(strncmp(err, "cannot open libxenstat: ", 24) == 0, "%s", err);
	} else if (rc == 0) {
		cr_assert_eq(ns[0], 0, "xvps-1 is not running here");
	}
	cr_assert_eq(hv_xl_set_xenstat(&(hv_driver){0}, NULL), -EINVAL);
	d.ops->dispose(&d);
}

/* ---- the power watcher's listing: libxenstat first, `xl list` only when needed ------------- */

typedef struct fake_sd_dom {
	fake_xs_dom d; /* first: the fake's domain pointer is this struct */
	unsigned shutdown;
} fake_sd_dom;

static unsigned fxs_domain_shutdown(void *dom)
{
	return ((const fake_sd_dom *)dom)->shutdown;
}

static const fake_sd_dom *sd_doms;

static void *fxs_sd_domain_by_index(void *node, unsigned i)
{
	return i < fxs.n ? (void *)&sd_doms[i] : NULL;
}

static const hv_xenstat_ops fake_xenstat_sd = {
        .init = fxs_init,
        .uninit = fxs_uninit,
        .get_node = fxs_get_node,
        .free_node = fxs_free_node,
        .num_domains = fxs_num_domains,
        .domain_by_index = fxs_sd_domain_by_index,
        .domain_name = fxs_domain_name,
        .domain_cpu_ns = fxs_domain_cpu_ns,
        .domain_shutdown = fxs_domain_shutdown,
};

static const char *const xl_list_one_shut =
        "Name                                        ID   Mem VCPUs\tState\tTime(s)\n"
        "Domain-0                                     0  1536     1     r-----     100.0\n"
        "xvps-3                                       7   512     1     ---s--       4.2\n";

Test(xl, preserved_runs_no_xl_list_while_libxenstat_shows_none_shut_down)
{
	static const fake_sd_dom doms[] = {
	        {{"Domain-0", 1}, 0}, {{"xvps-3", 2}, 0}, {{"other-1", 3}, 1}, {{NULL, 4}, 1}};
	fake f;
	char **names = NULL, err[HV_ERRLEN] = "";
	hv_shutdown_reason *reasons = NULL;
	size_t n = 9;

	memset(&fxs, 0, sizeof(fxs));
	sd_doms = doms;
	fxs.n = 4;
	hv_driver d = xlf_open(
	        &f, (const fake_step[]){{.out = xl_list_one_shut}, {.out = xl_list_one_shut}}, 2);
	cr_assert_eq(hv_xl_set_xenstat(&d, &fake_xenstat_sd), 0);
	/* A foreign domain and a nameless one are shut down: not ours, no xl list. */
	cr_assert_eq(d.ops->preserved(&d, "xvps-", &names, &reasons, &n, err), 0, "%s", err);
	cr_assert_eq(n, 0);
	cr_assert_null(names);
	cr_assert_eq(f.ncalls, 0, "xl ran %d times", f.ncalls);
	cr_assert_eq(fxs.nodes, 1);
	d.ops->dispose(&d);
}

Test(xl, preserved_lists_with_xl_when_one_of_ours_is_shut_down_or_libxenstat_fails)
{
	static const fake_sd_dom doms[] = {{{"Domain-0", 1}, 0}, {{"xvps-3", 2}, 1}};
	fake f;
	char **names = NULL, err[HV_ERRLEN] = "";
	hv_shutdown_reason *reasons = NULL;
	size_t n = 0;

	memset(&fxs, 0, sizeof(fxs));
	sd_doms = doms;
	fxs.n = 2;
	hv_driver d = xlf_open(
	        &f, (const fake_step[]){{.out = xl_list_one_shut}, {.out = xl_list_one_shut}}, 2);
	cr_assert_eq(hv_xl_set_xenstat(&d, &fake_xenstat_sd), 0);
	cr_assert_eq(d.ops->preserved(&d, "xvps-", &names, &reasons, &n, err), 0, "%s", err);
	cr_assert_eq(f.ncalls, 1);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(names[0], "xvps-3");
	cr_assert_eq(reasons[0], HV_SHUTDOWN_POWEROFF);
	free(names[0]);
	free(names);
	free(reasons);
	/* libxenstat cannot answer: xl list decides, as before. */
	fxs.node_fails = true;
	names = NULL;
	reasons = NULL;
	cr_assert_eq(d.ops->preserved(&d, "xvps-", &names, &reasons, &n, err), 0, "%s", err);
	cr_assert_eq(f.ncalls, 2);
	cr_assert_eq(n, 1);
	free(names[0]);
	free(names);
	free(reasons);
	fake_free_calls(&f);
	d.ops->dispose(&d);
}

/* A domain libxenstat shows shut down is read from `xl list NAME` alone: no `xl list -l` and
 * no scheduler read-back (the power watcher's re-check under the VPS lock, issue 13 item 3). */
Test(xl, info_of_a_shut_down_domain_is_one_xl_list)
{
	static const fake_sd_dom doms[] = {{{"Domain-0", 1}, 0}, {{"xvps-3", 2}, 1}};
	static const char *const row =
	        "Name                                        ID   Mem VCPUs\tState\tTime(s)\n"
	        "xvps-3                                       7   512     1     ---sc-       4.2\n";
	fake f;
	char err[HV_ERRLEN] = "";
	hv_domain_info info;

	memset(&fxs, 0, sizeof(fxs));
	sd_doms = doms;
	fxs.n = 2;
	hv_driver d = xlf_open(&f, (const fake_step[]){{.out = row}}, 1);
	cr_assert_eq(hv_xl_set_xenstat(&d, &fake_xenstat_sd), 0);
	cr_assert_eq(d.ops->info(&d, "xvps-3", &info, err), 0, "%s", err);
	cr_assert_eq(info.state, HV_SHUTDOWN);
	cr_assert_eq(info.shutdown, HV_SHUTDOWN_CRASH);
	cr_assert_eq(info.domid, 7);
	cr_assert_eq(info.cpu_ns, 4200000000ull);
	fake_assert_calls(&f, (const char *[]){"xl list xvps-3", NULL});
	fake_free_calls(&f);
	d.ops->dispose(&d);
}
