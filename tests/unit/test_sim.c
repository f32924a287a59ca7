/* test_sim.c — the `sim` hypervisor driver (hypervisor/sim.c) with real xvps-simguest
 * processes: create, info, console, reboot with a new domid, shutdown, destroy, persistence
 * across a reopen. Every guest is destroyed and reaped; files live under a mkdtemp() dir.
 * The simguest comes from $XVPS_SIMGUEST (default build/asan/xvps-simguest). */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../hypervisor/driver.h"

static char tmp[64];
static hv_driver hv;
static bool hv_opened;
static char err[HV_ERRLEN];

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static const char *guest_path(void)
{
	const char *p = getenv("XVPS_SIMGUEST");

	return p && *p ? p : "build/asan/xvps-simguest";
}

static void open_driver(void)
{
	char abs[PATH_MAX];

	cr_assert_eq(hv_sim_open(&hv, tmp, err), 0, "%s", err);
	hv_opened = true;
	cr_assert_not_null(realpath(guest_path(), abs));
	cr_assert_eq(hv_sim_set_guest_path(&hv, abs), 0);
}

static void close_driver(void)
{
	if (hv_opened)
		hv.ops->dispose(&hv);
	hv_opened = false;
}

static void setup(void)
{
	if (access(guest_path(), X_OK) != 0)
		cr_skip_test("no simguest at %s (set XVPS_SIMGUEST)", guest_path());
	snprintf(tmp, sizeof(tmp), "/tmp/xvps-sim-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	open_driver();
}

static void teardown(void)
{
	char **names = NULL;
	size_t n = 0;

	if (!tmp[0])
		return;
	if (!hv_opened && hv_sim_open(&hv, tmp, err) == 0)
		hv_opened = true;
	if (hv_opened && hv.ops->list(&hv, "", &names, &n, err) == 0) {
		for (size_t i = 0; i < n; i++) {
			hv.ops->forget(&hv, names[i], err);
			free(names[i]);
		}
		free(names);
	}
	close_driver();
	while (waitpid(-1, NULL, WNOHANG) > 0) /* guests of an earlier driver instance */
		;
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tmp[0] = '\0';
}

TestSuite(sim, .init = setup, .fini = teardown, .timeout = 60);

static void write_cfg(const char *name, const char *body, char *path_out, size_t len)
{
	FILE *f;

	snprintf(path_out, len, "%s/%s.cfg", tmp, name);
	f = fopen(path_out, "w");
	cr_assert_not_null(f);
	fputs(body, f);
	fclose(f);
}

static const char *CFG1 = "name = \"xvps-1\"\n"
                          "type = \"pvh\"\n"
                          "vcpus = 2\n"
                          "memory = 256\n"
                          "cpu_weight = 512\n"
                          "cap = 50\n";

static hv_domain_info info_of(const char *name)
{
	hv_domain_info i;

	cr_assert_eq(hv.ops->info(&hv, name, &i, err), 0, "%s", err);
	return i;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Reads from the console socket until needle shows up (or 5 s pass). */
static bool console_shows(const char *name, const char *needle)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char buf[65536];
	size_t len = 0;
	int fd;
	bool found = false;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/sim/%s.console", tmp, name);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	for (int tries = 0; tries < 50 && !found; tries++) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		if (poll(&pf, 1, 100) > 0) {
			ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
			if (r <= 0)
				break;
			len += (size_t)r;
			buf[len] = '\0';
			found = strstr(buf, needle) != NULL;
		}
	}
	close(fd);
	return found;
}

Test(sim, create_runs_a_guest_with_the_config_values)
{
	char cfg[256];
	hv_domain_info i;

	write_cfg("xvps-1", CFG1, cfg, sizeof(cfg));
	cr_assert_eq(hv.ops->create(&hv, "xvps-1", cfg, err), 0, "%s", err);
	i = info_of("xvps-1");
	cr_assert_eq(i.state, HV_RUNNING);
	cr_assert_eq(i.domid, 1, "first domid is 1");
	cr_assert_eq(i.vcpus, 2);
	cr_assert_eq(i.memory_mib, 256);
	cr_assert_eq(i.cpu_weight, 512);
	cr_assert_eq(i.cpu_cap_pct, 50);
	cr_assert(console_shows("xvps-1", "xvps-1 login: "), "no login prompt on the console");
	/* A second create of a running domain fails like xl does. */
	cr_assert_eq(hv.ops->create(&hv, "xvps-1", cfg, err), -EEXIST);
}

Test(sim, cpu_time_grows_while_running)
{
	char cfg[256];
	hv_domain_info a, b;

	write_cfg("xvps-1", CFG1, cfg, sizeof(cfg));
	cr_assert_eq(hv.ops->create(&hv, "xvps-1", cfg, err), 0, "%s", err);
	a = info_of("xvps-1");
	sleep_ms(100);
	b = info_of("xvps-1");
	cr_assert_gt(b.cpu_ns, a.cpu_ns);
	/* 2 vcpus x 0.05 load: about 10 ms of CPU per 100 ms of wall time. */
	cr_assert_geq(b.cpu_ns - a.cpu_ns, 9000000ull);
	cr_assert_eq(hv.ops->shutdown(&hv, "xvps-1", 5, err), 0, "%s", err);
	a = info_of("xvps-1");
	sleep_ms(50);
	b = info_of("xvps-1");
	cr_assert_eq(a.cpu_ns, b.cpu_ns, "cpu time grows while stopped");
	cr_assert_geq(a.cpu_ns, 9000000ull, "cpu time lost at shutdown");
}

Test(sim, reboot_changes_the_domid)
{
	char cfg[256];
	hv_domain_info a, b;

	write_cfg("xvps-1", CFG1, cfg, sizeof(cfg));
	cr_assert_eq(hv.ops->create(&hv, "xvps-1", cfg, err), 0, "%s", err);
	a = info_of("xvps-1");
	cr_assert_eq(hv.ops->reboot(&hv, "xvps-1", err), 0, "%s", err);
	b = info_of("xvps-1");
	cr_assert_eq(b.state, HV_RUNNING);
	cr_assert_gt(b.domid, a.domid, "reboot kept domid %d", a.domid);
	cr_assert(console_shows("xvps-1", "Booting kernel"), "rebooted guest did not boot");
}

Test(sim, shutdown_stops_and_removes_the_console)
{
	char cfg[256], sock[256];
	hv_domain_info i;
	struct stat sb;

	write_cfg("xvps-1", CFG1, cfg, sizeof(cfg));
	cr_assert_eq(hv.ops->create(&hv, "xvps-1", cfg, err), 0, "%s", err);
	cr_assert_eq(hv.ops->shutdown(&hv, "xvps-1", 10, err), 0, "%s", err);
	i = info_of("xvps-1");
	cr_assert_eq(i.state, HV_STOPPED);
	cr_assert_eq(i.domid, -1);
	snprintf(sock, sizeof(sock), "%s/sim/xvps-1.console", tmp);
	cr_assert_neq(stat(sock, &sb), 0, "console socket left behind");
	/* Shutting down a stopped domain is fine; start again gets a fresh domid. */
	cr_assert_eq(hv.ops->shutdown(&hv, "xvps-1", 1, err), 0);
	cr_assert_eq(hv.ops->create(&hv, "xvps-1", cfg, err), 0, "%s", err);
	cr_assert_eq(info_of("xvps-1").domid, 2);
}

Test(sim, destroy_kills_the_guest_and_tolerates_absence)
{
	char cfg[256], path[64];
	hv_domain_info i;
	pid_t pid;
	FILE *f;

	write_cfg("xvps-1", CFG1, cfg, sizeof(cfg));
	cr_assert_eq(hv.ops->create(&hv, "xvps-1", cfg, err), 0, "%s", err);
	/* Find the guest's pid in the state file to prove it is gone afterwards. */
	snprintf(cfg, sizeof(cfg), "%s/sim/xvps-1.json", tmp);
	f = fopen(cfg, "r");
	cr_assert_not_null(f);
	char buf[1024] = "";
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	char *p = strstr(buf, "\"pid\":");
	cr_assert_not_null(p);
	pid = (pid_t)atoi(p + 6);
	cr_assert_gt(pid, 1);
	cr_assert_eq(hv.ops->destroy(&hv, "xvps-1", err), 0, "%s", err);
	i = info_of("xvps-1");
	cr_assert_eq(i.state, HV_STOPPED);
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	cr_assert_neq(access(path, F_OK), 0, "guest process %d still exists", (int)pid);
	cr_assert_eq(hv.ops->destroy(&hv, "xvps-9", err), 0, "destroying absent must succeed");
}

Test(sim, state_survives_a_reopen_of_the_driver)
{
	char cfg[256];
	hv_domain_info a, b;

	write_cfg("xvps-1", CFG1, cfg, sizeof(cfg));
	cr_assert_eq(hv.ops->create(&hv, "xvps-1", cfg, err), 0, "%s", err);
	a = info_of("xvps-1");
	close_driver();
	open_driver();
	b = info_of("xvps-1");
	cr_assert_eq(b.state, HV_RUNNING);
	cr_assert_eq(b.domid, a.domid);
	cr_assert_eq(b.cpu_weight, 512);
	cr_assert_geq(b.cpu_ns, a.cpu_ns);
	/* The new instance can still stop a guest it did not spawn, and domids keep growing. */
	cr_assert_eq(hv.ops->reboot(&hv, "xvps-1", err), 0, "%s", err);
	cr_assert_gt(info_of("xvps-1").domid, a.domid);
	cr_assert_eq(hv.ops->destroy(&hv, "xvps-1", err), 0, "%s", err);
	cr_assert_eq(info_of("xvps-1").state, HV_STOPPED);
}

Test(sim, set_sched_records_and_validates)
{
	char cfg[256];
	hv_domain_info i;

	write_cfg("xvps-1", CFG1, cfg, sizeof(cfg));
	cr_assert_eq(hv.ops->create(&hv, "xvps-1", cfg, err), 0, "%s", err);
	cr_assert_eq(hv.ops->set_sched(&hv, "xvps-1", 1000, 200, err), 0, "%s", err);
	i = info_of("xvps-1");
	cr_assert_eq(i.cpu_weight, 1000);
	cr_assert_eq(i.cpu_cap_pct, 200);
	cr_assert_eq(hv.ops->set_sched(&hv, "xvps-1", 1000, 201, err), -ERANGE);
	cr_assert_eq(hv.ops->set_sched(&hv, "xvps-1", 0, 0, err), -ERANGE);
	cr_assert_eq(hv.ops->set_sched(&hv, "xvps-1", 65536, 0, err), -ERANGE);
	cr_assert_eq(hv.ops->set_sched(&hv, "xvps-9", 256, 0, err), -ESRCH);
	i = info_of("xvps-1");
	cr_assert_eq(i.cpu_weight, 1000, "a rejected call changed the weight");
}

Test(sim, forget_and_list)
{
	char cfg[256], path[256];
	char **names = NULL;
	size_t n = 0;

	write_cfg("xvps-1", CFG1, cfg, sizeof(cfg));
	cr_assert_eq(hv.ops->create(&hv, "xvps-1", cfg, err), 0, "%s", err);
	cr_assert_eq(hv.ops->list(&hv, "xvps-", &names, &n, err), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(names[0], "xvps-1");
	free(names[0]);
	free(names);
	cr_assert_eq(hv.ops->forget(&hv, "xvps-1", err), 0, "%s", err);
	cr_assert_eq(info_of("xvps-1").state, HV_ABSENT);
	snprintf(path, sizeof(path), "%s/sim/xvps-1.json", tmp);
	cr_assert_neq(access(path, F_OK), 0, "state file left behind");
	cr_assert_eq(hv.ops->list(&hv, "xvps-", &names, &n, err), 0);
	cr_assert_eq(n, 0);
	free(names);
	cr_assert_eq(hv.ops->forget(&hv, "xvps-1", err), 0, "forgetting absent must succeed");
}

Test(sim, create_rejects_a_config_that_does_not_parse)
{
	char cfg[256];

	write_cfg("xvps-1", "name = \"xvps-1\nvcpus = = 2\n", cfg, sizeof(cfg));
	cr_assert_eq(hv.ops->create(&hv, "xvps-1", cfg, err), -EINVAL);
	cr_assert_eq(info_of("xvps-1").state, HV_ABSENT);
	write_cfg("xvps-2", CFG1, cfg, sizeof(cfg)); /* names xvps-1 */
	cr_assert_eq(hv.ops->create(&hv, "xvps-2", cfg, err), -EINVAL);
	cr_assert_eq(info_of("xvps-2").state, HV_ABSENT);
}

Test(sim, park_stops_guests_and_resume_starts_them_with_new_domids)
{
	char cfg[256];
	hv_domain_info a, b;

	write_cfg("xvps-1", CFG1, cfg, sizeof(cfg));
	cr_assert_eq(hv.ops->create(&hv, "xvps-1", cfg, err), 0, "%s", err);
	a = info_of("xvps-1");
	cr_assert_eq(hv_sim_park_all(&hv, err), 0, "%s", err);
	cr_assert_eq(info_of("xvps-1").state, HV_STOPPED, "park left the guest running");
	close_driver();
	open_driver();
	cr_assert_eq(hv_sim_resume_all(&hv, err), 0, "%s", err);
	b = info_of("xvps-1");
	cr_assert_eq(b.state, HV_RUNNING);
	cr_assert_gt(b.domid, a.domid);
	cr_assert_eq(b.cpu_weight, 512, "resume lost the scheduler shares");
	/* Resuming again does nothing: the mark is gone. */
	cr_assert_eq(hv_sim_resume_all(&hv, err), 0);
	cr_assert_eq(info_of("xvps-1").domid, b.domid);
}

Test(sim, cpu_times_grow_per_run_and_read_0_when_not_running)
{
	const char *names[] = {"xvps-1", "xvps-2"};
	uint64_t a[2] = {7, 7}, b[2] = {7, 7};
	char cfg[256];

	write_cfg("xvps-1", CFG1, cfg, sizeof(cfg));
	cr_assert_eq(hv.ops->create(&hv, "xvps-1", cfg, err), 0, "%s", err);
	cr_assert_eq(hv.ops->cpu_times(&hv, names, 2, a, err), 0, "%s", err);
	sleep_ms(100);
	cr_assert_eq(hv.ops->cpu_times(&hv, names, 2, b, err), 0, "%s", err);
	/* 2 vcpus x 0.05 load: about 10 ms of CPU per 100 ms of wall time. */
	cr_assert_geq(b[0] - a[0], 9000000ull, "%llu -> %llu", (unsigned long long)a[0],
	              (unsigned long long)b[0]);
	cr_assert_eq(a[1], 0, "an unknown domain reads 0");
	cr_assert_eq(b[1], 0);
	/* The same model as info(), for the current run. */
	cr_assert_leq(b[0], info_of("xvps-1").cpu_ns);

	/* A reboot is a new domain (like Xen): its CPU time starts again from 0. */
	cr_assert_eq(hv.ops->reboot(&hv, "xvps-1", err), 0, "%s", err);
	cr_assert_eq(hv.ops->cpu_times(&hv, names, 1, a, err), 0, "%s", err);
	cr_assert_lt(a[0], b[0], "CPU time did not restart at the reboot");
	cr_assert_eq(hv.ops->shutdown(&hv, "xvps-1", 5, err), 0, "%s", err);
	cr_assert_eq(hv.ops->cpu_times(&hv, names, 1, a, err), 0, "%s", err);
	cr_assert_eq(a[0], 0, "a stopped domain reads 0");
	cr_assert_eq(hv.ops->cpu_times(&hv, (const char *[]){"../x"}, 1, a, err), -EINVAL);
}
