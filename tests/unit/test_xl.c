/* test_xl.c — the xl hypervisor driver (hypervisor/xl.c) against a FAKE runner: each test scripts
 * the outputs xl 4.17 prints (files in tests/unit/data/xl/) and asserts the exact argv sequence the
 * driver ran and what it parsed (the fake runner: xl_fake.c; CPU time through libxenstat:
 * test_xl_cpu.c). No process is started; runs from the repository root. */
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

Test(xl, scheduler_reads_xen_scheduler_from_xl_info_once)
{
	static const fake_step steps[] = {{.out_file = "info-credit2.txt"}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char sched[16], err[HV_ERRLEN];
	cr_assert_eq(d.ops->scheduler(&d, sched, sizeof(sched), err), 0);
	cr_assert_str_eq(sched, "credit2");
	cr_assert_eq(d.ops->scheduler(&d, sched, sizeof(sched), err), 0, "cached");
	fake_assert_calls(&f, (const char *[]){"xl info", NULL});
	d.ops->dispose(&d);
}

Test(xl, scheduler_without_scheduler_line_is_an_error)
{
	static const fake_step steps[] = {{.out = "host                   : x\n"}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char sched[16], err[HV_ERRLEN];
	cr_assert_eq(d.ops->scheduler(&d, sched, sizeof(sched), err), -EPROTO);
	fake_assert_calls(&f, (const char *[]){"xl info", NULL});
	d.ops->dispose(&d);
}

Test(xl, create_runs_xl_create_with_the_config)
{
	static const fake_step steps[] = {{.out = ""}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	cr_assert_eq(d.ops->create(&d, "xvps-12", "/etc/xvps/domains/xvps-12.cfg", err), 0);
	fake_assert_calls(&f, (const char *[]){"xl create /etc/xvps/domains/xvps-12.cfg", NULL});
	d.ops->dispose(&d);
}

Test(xl, create_failure_reports_xl_stderr)
{
	static const fake_step steps[] = {
	        {.exit_status = 3, .err_file = "err-invalid-domain-xvps-9.txt"}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	cr_assert_eq(d.ops->create(&d, "xvps-12", "/etc/xvps/domains/xvps-12.cfg", err), -EIO);
	cr_assert(strstr(err, "exit 3") != NULL, "%s", err);
	fake_assert_calls(&f, (const char *[]){"xl create /etc/xvps/domains/xvps-12.cfg", NULL});
	d.ops->dispose(&d);
}

/* Seen on the appliance (Xen 4.17, no xenconsoled): the reason is on stderr's second line. */
Test(xl, create_failure_skips_the_parsing_config_line)
{
	static const fake_step steps[] = {
	        {.exit_status = 3,
	         .err = "Parsing config from /etc/xvps/domains/xvps-12.cfg\n"
	                "libxl: error: libxl_create.c:1976:console_xswait_callback: "
	                "domain 2 console tty: timed out\n"
	                "libxl: error: libxl_domain.c:1183:libxl__destroy_domid: "
	                "Domain 2:Non-existant domain\n"}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	cr_assert_eq(d.ops->create(&d, "xvps-12", "/etc/xvps/domains/xvps-12.cfg", err), -EIO);
	cr_assert(strstr(err, "exit 3") != NULL, "%s", err);
	cr_assert(strstr(err, "console tty: timed out") != NULL, "%s", err);
	cr_assert(strstr(err, "Parsing config") == NULL, "%s", err);
	fake_assert_calls(&f, (const char *[]){"xl create /etc/xvps/domains/xvps-12.cfg", NULL});
	d.ops->dispose(&d);
}

Test(xl, destroying_an_absent_domain_is_success)
{
	static const fake_step steps[] = {
	        {.exit_status = 1, .err_file = "err-invalid-domain-xvps-9.txt"}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	cr_assert_eq(d.ops->destroy(&d, "xvps-9", err), 0);
	fake_assert_calls(&f, (const char *[]){"xl destroy xvps-9", NULL});
	d.ops->dispose(&d);
}

Test(xl, destroy_failure_is_an_error)
{
	static const fake_step steps[] = {{.exit_status = 1, .out = "destroy failed (rc=-3)\n"}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	cr_assert_eq(d.ops->destroy(&d, "xvps-12", err), -EIO);
	cr_assert(strstr(err, "destroy failed") != NULL, "%s", err);
	fake_assert_calls(&f, (const char *[]){"xl destroy xvps-12", NULL});
	d.ops->dispose(&d);
}

/* on_poweroff "preserve": the shut-down domain stays until destroyed (its run folded then). */
Test(xl, shutdown_waits_for_the_guest_then_destroys_the_preserved_domain)
{
	static const fake_step steps[] = {
	        {.err_file = "shutdown-w-xvps-12.stderr.txt"},
	        {.out = ""},
	        {.exit_status = 1, .err_file = "err-domid-absent-xvps-12.txt"},
	};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	cr_assert_eq(d.ops->shutdown(&d, "xvps-12", 30, err), 0, "%s", err);
	fake_assert_calls(&f, (const char *[]){"xl shutdown -w -F xvps-12", "xl destroy xvps-12",
	                                       "xl domid xvps-12", NULL});
	d.ops->dispose(&d);
}

Test(xl, shutdown_timeout_destroys_the_domain)
{
	static const fake_step steps[] = {
	        {.timed_out = true},
	        {.out = ""},
	        {.exit_status = 1, .err_file = "err-domid-absent-xvps-12.txt"},
	};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	cr_assert_eq(d.ops->shutdown(&d, "xvps-12", 5, err), 0, "%s", err);
	fake_assert_calls(&f, (const char *[]){"xl shutdown -w -F xvps-12", "xl destroy xvps-12",
	                                       "xl domid xvps-12", NULL});
	d.ops->dispose(&d);
}

Test(xl, shutdown_of_an_absent_domain_is_success)
{
	static const fake_step steps[] = {
	        {.exit_status = 1, .err_file = "err-invalid-domain-xvps-9.txt"}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	cr_assert_eq(d.ops->shutdown(&d, "xvps-9", 5, err), 0);
	fake_assert_calls(&f, (const char *[]){"xl shutdown -w -F xvps-9", NULL});
	d.ops->dispose(&d);
}

/* on_reboot "preserve": the guest's reboot leaves the domain shut down ("---sr-"); the driver
 * destroys it (its run folded) and the caller creates it again. */
Test(xl, reboot_waits_for_the_preserved_domain_then_destroys_it)
{
	static const fake_step steps[] = {
	        {.out = "3\n"},
	        {.out = ""},
	        {.out_file = "list-l-xvps-12.json.txt"},
	        {.out_file = "list-xvps-12-shutdown-reboot.txt"},
	        {.out_file = "info-credit2.txt"},
	        {.out_file = "sched-credit2-xvps-12.txt"},
	        {.out = ""},
	        {.exit_status = 1, .err_file = "err-domid-absent-xvps-12.txt"},
	};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	cr_assert_eq(d.ops->reboot(&d, "xvps-12", err), 0, "%s", err);
	fake_assert_calls(&f, (const char *[]){"xl domid xvps-12", "xl reboot -F xvps-12",
	                                       "xl list -l xvps-12", "xl list xvps-12", "xl info",
	                                       "xl sched-credit2 -d xvps-12", "xl destroy xvps-12",
	                                       "xl domid xvps-12", NULL});
	d.ops->dispose(&d);
}

/* A guest that ignores the reboot request keeps running: after the wait it is destroyed. */
Test(xl, reboot_ignored_by_the_guest_destroys_the_domain)
{
	static const fake_step steps[] = {
	        {.out = "3\n"},
	        {.out = ""},
	        {.out_file = "list-l-xvps-12.json.txt"},
	        {.out_file = "list-xvps-12.txt"},
	        {.out_file = "info-credit2.txt"},
	        {.out_file = "sched-credit2-xvps-12.txt"},
	        {.out = ""},
	        {.exit_status = 1, .err_file = "err-domid-absent-xvps-12.txt"},
	};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	cr_assert_eq(hv_xl_set_reboot_wait(&d, 0), 0);
	cr_assert_eq(d.ops->reboot(&d, "xvps-12", err), 0, "%s", err);
	fake_assert_calls(&f, (const char *[]){"xl domid xvps-12", "xl reboot -F xvps-12",
	                                       "xl list -l xvps-12", "xl list xvps-12", "xl info",
	                                       "xl sched-credit2 -d xvps-12", "xl destroy xvps-12",
	                                       "xl domid xvps-12", NULL});
	d.ops->dispose(&d);
}

/* Gone when the driver looks (an old config whose on_reboot "restart" had xl tear it down):
 * nothing to destroy, the caller creates it. */
Test(xl, reboot_of_a_domain_gone_meanwhile_leaves_it_to_the_caller)
{
	static const fake_step steps[] = {
	        {.out = "3\n"},
	        {.out = ""},
	        {.exit_status = 1, .err_file = "err-invalid-domain-xvps-9.txt"},
	};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	cr_assert_eq(d.ops->reboot(&d, "xvps-12", err), 0, "%s", err);
	fake_assert_calls(&f, (const char *[]){"xl domid xvps-12", "xl reboot -F xvps-12",
	                                       "xl list -l xvps-12", NULL});
	d.ops->dispose(&d);
}

Test(xl, reboot_wait_is_only_for_xl_drivers)
{
	hv_driver d;
	fake f;
	cr_assert_eq(hv_xl_set_reboot_wait(NULL, 0), -EINVAL);
	d = xlf_open(&f, NULL, 0);
	cr_assert_eq(hv_xl_set_reboot_wait(&d, -1), -EINVAL);
	d.ops->dispose(&d);
}

Test(xl, reboot_of_an_absent_domain_is_enoent)
{
	static const fake_step steps[] = {
	        {.exit_status = 1, .err_file = "err-domid-absent-xvps-12.txt"}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	cr_assert_eq(d.ops->reboot(&d, "xvps-12", err), -ENOENT);
	fake_assert_calls(&f, (const char *[]){"xl domid xvps-12", NULL});
	d.ops->dispose(&d);
}

Test(xl, info_parses_list_long_table_and_scheduler)
{
	static const fake_step steps[] = {
	        {.out_file = "list-l-xvps-12.json.txt"},
	        {.out_file = "list-xvps-12.txt"},
	        {.out_file = "info-credit2.txt"},
	        {.out_file = "sched-credit2-xvps-12.txt"},
	};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	hv_domain_info info;
	cr_assert_eq(d.ops->info(&d, "xvps-12", &info, err), 0, "%s", err);
	cr_assert_eq(info.state, HV_RUNNING);
	cr_assert_eq(info.domid, 3);
	cr_assert_eq(info.vcpus, 2);
	cr_assert_eq(info.memory_mib, 1024);
	cr_assert_eq(info.cpu_ns, 41300000000ull);
	cr_assert_eq(info.cpu_weight, 256);
	cr_assert_eq(info.cpu_cap_pct, 150);
	fake_assert_calls(&f, (const char *[]){"xl list -l xvps-12", "xl list xvps-12", "xl info",
	                                       "xl sched-credit2 -d xvps-12", NULL});
	d.ops->dispose(&d);
}

/* Right after a reboot xl's monitor is still re-creating the domain: `xl list -l` prints an
 * empty array until libxl has its configuration again. */
Test(xl, info_waits_while_xl_list_long_shows_no_configuration)
{
	static const fake_step steps[] = {
	        {.out = "[\n]\n"},
	        {.out_file = "list-xvps-12.txt"},
	        {.out_file = "list-l-xvps-12.json.txt"},
	        {.out_file = "list-xvps-12.txt"},
	        {.out_file = "info-credit2.txt"},
	        {.out_file = "sched-credit2-xvps-12.txt"},
	};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	hv_domain_info info;
	cr_assert_eq(d.ops->info(&d, "xvps-12", &info, err), 0, "%s", err);
	cr_assert_eq(info.state, HV_RUNNING);
	cr_assert_eq(info.domid, 3);
	fake_assert_calls(&f, (const char *[]){"xl list -l xvps-12", "xl list xvps-12",
	                                       "xl list -l xvps-12", "xl list xvps-12", "xl info",
	                                       "xl sched-credit2 -d xvps-12", NULL});
	d.ops->dispose(&d);
}

Test(xl, info_of_an_unknown_domain_is_absent)
{
	static const fake_step steps[] = {
	        {.exit_status = 1, .err_file = "err-invalid-domain-xvps-9.txt"}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	hv_domain_info info;
	cr_assert_eq(d.ops->info(&d, "xvps-9", &info, err), 0);
	cr_assert_eq(info.state, HV_ABSENT);
	cr_assert_eq(info.domid, -1);
	fake_assert_calls(&f, (const char *[]){"xl list -l xvps-9", NULL});
	d.ops->dispose(&d);
}

Test(xl, info_with_garbage_json_is_eproto)
{
	static const fake_step steps[] = {{.out = "[{\"domid\": \"three\"}]\n"}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	hv_domain_info info;
	cr_assert_eq(d.ops->info(&d, "xvps-12", &info, err), -EPROTO);
	fake_assert_calls(&f, (const char *[]){"xl list -l xvps-12", NULL});
	d.ops->dispose(&d);
}

Test(xl, list_returns_domains_with_the_prefix)
{
	static const fake_step steps[] = {{.out_file = "list.txt"}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN], **names = NULL;
	size_t n = 0;
	cr_assert_eq(d.ops->list(&d, "xvps-", &names, &n, err), 0, "%s", err);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(names[0], "xvps-12");
	cr_assert_str_eq(names[1], "xvps-7");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	fake_assert_calls(&f, (const char *[]){"xl list", NULL});
	d.ops->dispose(&d);
}

Test(xl, set_sched_uses_credit2_and_reads_back)
{
	static const fake_step steps[] = {
	        {.out_file = "info-credit2.txt"},
	        {.out = ""},
	        {.out_file = "sched-credit2-xvps-12-after.txt"},
	};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	cr_assert_eq(d.ops->set_sched(&d, "xvps-12", 512, 200, err), 0, "%s", err);
	fake_assert_calls(&f,
	                  (const char *[]){"xl info", "xl sched-credit2 -d xvps-12 -w 512 -c 200",
	                                   "xl sched-credit2 -d xvps-12", NULL});
	d.ops->dispose(&d);
}

Test(xl, set_sched_uses_credit_on_a_credit_host)
{
	static const fake_step steps[] = {
	        {.out_file = "info-credit.txt"},
	        {.out = ""},
	        {.out_file = "sched-credit-xvps-12-after.txt"},
	};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	cr_assert_eq(d.ops->set_sched(&d, "xvps-12", 512, 200, err), 0, "%s", err);
	fake_assert_calls(&f,
	                  (const char *[]){"xl info", "xl sched-credit -d xvps-12 -w 512 -c 200",
	                                   "xl sched-credit -d xvps-12", NULL});
	d.ops->dispose(&d);
}

Test(xl, set_sched_detects_a_read_back_mismatch)
{
	static const fake_step steps[] = {
	        {.out_file = "info-credit2.txt"},
	        {.out = ""},
	        {.out_file = "sched-credit2-xvps-12.txt"}, /* still 256 / 150 */
	};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	cr_assert_eq(d.ops->set_sched(&d, "xvps-12", 512, 200, err), -EIO);
	cr_assert(strstr(err, "256") != NULL, "%s", err);
	fake_assert_calls(&f,
	                  (const char *[]){"xl info", "xl sched-credit2 -d xvps-12 -w 512 -c 200",
	                                   "xl sched-credit2 -d xvps-12", NULL});
	d.ops->dispose(&d);
}

Test(xl, refuses_foreign_names_and_bad_shares_without_running_anything)
{
	fake f;
	hv_driver d = xlf_open(&f, NULL, 0);
	char err[HV_ERRLEN];
	hv_domain_info info;
	cr_assert_eq(d.ops->destroy(&d, "Domain-0", err), -EINVAL);
	cr_assert_eq(d.ops->destroy(&d, "-f", err), -EINVAL);
	cr_assert_eq(d.ops->info(&d, "xvps-1;reboot", &info, err), -EINVAL);
	cr_assert_eq(d.ops->create(&d, "xvps-1", "relative.cfg", err), -EINVAL);
	cr_assert_eq(d.ops->set_sched(&d, "xvps-1", 0, 0, err), -EINVAL);
	cr_assert_eq(d.ops->set_sched(&d, "xvps-1", 256, -1, err), -EINVAL);
	fake_assert_calls(&f, (const char *[]){NULL});
	d.ops->dispose(&d);
}

/* ---- console_source: PV/PVH pty, HVM qemu VNC ------------------------------------------- */

static int console_of(fake *f, const fake_step *steps, size_t n, const char *name, char *src,
                      char *err)
{
	hv_driver d = xlf_open(f, steps, n);
	int rc = d.ops->console_source(&d, name, src, 64, err);
	d.ops->dispose(&d);
	return rc;
}

Test(xl, console_of_a_pvh_domain_is_its_xenconsoled_pty)
{
	static const fake_step steps[] = {
	        {.out = "3\n"}, {.out_file = "list-l-xvps-12.json.txt"}, {.out = "/dev/pts/4\n"}};
	fake f;
	char src[64] = "", err[HV_ERRLEN];
	cr_assert_eq(console_of(&f, steps, N(steps), "xvps-12", src, err), 0, "%s", err);
	cr_assert_str_eq(src, "pty:/dev/pts/4");
	fake_assert_calls(&f, (const char *[]){"xl domid xvps-12", "xl list -l xvps-12",
	                                       "xenstore-read /local/domain/3/console/tty", NULL});
}

Test(xl, console_of_an_hvm_domain_is_qemus_vnc_port_from_xenstore)
{
	static const fake_step steps[] = {
	        {.out = "9\n"}, {.out_file = "list-l-xvps-5-hvm.json.txt"}, {.out = "5931\n"}};
	fake f;
	char src[64] = "", err[HV_ERRLEN];
	cr_assert_eq(console_of(&f, steps, N(steps), "xvps-5", src, err), 0, "%s", err);
	cr_assert_str_eq(src, "vnc:127.0.0.1:5931");
	fake_assert_calls(&f,
	                  (const char *[]){"xl domid xvps-5", "xl list -l xvps-5",
	                                   "xenstore-read /local/domain/9/console/vnc-port", NULL});
}

Test(xl, console_of_an_hvm_domain_without_the_xenstore_key_uses_the_vncdisplay)
{
	static const fake_step steps[] = {{.out = "9\n"},
	                                  {.out_file = "list-l-xvps-5-hvm.json.txt"},
	                                  {.err_file = NULL, .exit_status = 1}};
	fake f;
	char src[64] = "", err[HV_ERRLEN];
	cr_assert_eq(console_of(&f, steps, N(steps), "xvps-5", src, err), 0, "%s", err);
	cr_assert_str_eq(src, "vnc:127.0.0.1:5907");
	for (size_t k = 0; k < f.ncalls; k++)
		free(f.calls[k]);
}

Test(xl, console_of_an_hvm_domain_refuses_a_non_loopback_vnc_and_a_bad_port)
{
	static const fake_step open_vnc[] = {
	        {.out = "9\n"},
	        {.out = "[{\"domid\": 9, \"config\": {\"c_info\": {\"type\": \"hvm\"}, \"b_info\": "
	                "{\"type.hvm\": {\"vnc\": {\"enable\": \"True\", \"listen\": \"0.0.0.0\", "
	                "\"display\": 7}}}}}]"}};
	static const fake_step bad_port[] = {
	        {.out = "9\n"}, {.out_file = "list-l-xvps-5-hvm.json.txt"}, {.out = "22\n"}};
	static const fake_step garbage[] = {{.out = "9\n"}, {.out = "{not json"}};
	fake f;
	char src[64] = "", err[HV_ERRLEN];
	cr_assert_eq(console_of(&f, open_vnc, N(open_vnc), "xvps-5", src, err), -ENOENT);
	cr_assert(strstr(err, "no VNC console on 127.0.0.1"), "%s", err);
	cr_assert_eq(f.ncalls, 2, "no xenstore read for a VNC that is not on loopback");
	for (size_t k = 0; k < f.ncalls; k++)
		free(f.calls[k]);
	cr_assert_eq(console_of(&f, bad_port, N(bad_port), "xvps-5", src, err), -EPROTO);
	cr_assert(strstr(err, "holds no VNC port"), "%s", err);
	for (size_t k = 0; k < f.ncalls; k++)
		free(f.calls[k]);
	cr_assert_eq(console_of(&f, garbage, N(garbage), "xvps-5", src, err), -EPROTO);
	for (size_t k = 0; k < f.ncalls; k++)
		free(f.calls[k]);
	cr_assert_str_eq(src, "", "nothing is written on failure");
}

/* ---- the outputs recorded on the appliance (tests/unit/data/xl/recorded/, SOURCE.txt) ------ */

#define REC "recorded/"

Test(xl, recorded_xl_info_gives_the_scheduler_of_either_boot)
{
	static const fake_step credit2[] = {{.out_file = REC "info.stdout.txt"}};
	static const fake_step credit[] = {{.out_file = REC "info-credit.stdout.txt"}};
	fake f;
	char sched[16], err[HV_ERRLEN];
	hv_driver d = xlf_open(&f, credit2, N(credit2));
	cr_assert_eq(d.ops->scheduler(&d, sched, sizeof(sched), err), 0, "%s", err);
	cr_assert_str_eq(sched, "credit2");
	d.ops->dispose(&d);
	fake_assert_calls(&f, (const char *[]){"xl info", NULL});
	d = xlf_open(&f, credit, N(credit));
	cr_assert_eq(d.ops->scheduler(&d, sched, sizeof(sched), err), 0, "%s", err);
	cr_assert_str_eq(sched, "credit");
	d.ops->dispose(&d);
	fake_assert_calls(&f, (const char *[]){"xl info", NULL});
}

Test(xl, recorded_xl_list_of_a_fresh_host_has_no_xvps_domain)
{
	static const fake_step steps[] = {{.out_file = REC "list.stdout.txt"}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN], **names = NULL;
	size_t n = 99;
	cr_assert_eq(d.ops->list(&d, "xvps-", &names, &n, err), 0, "%s", err);
	cr_assert_eq(n, 0, "Domain-0 is not ours");
	free(names);
	d.ops->dispose(&d);
	fake_assert_calls(&f, (const char *[]){"xl list", NULL});
}

Test(xl, recorded_absent_domain_errors_are_understood)
{
	/* xl destroy of an unknown name: rc 1, "… is an invalid domain identifier (rc=-6)". */
	static const fake_step destroy[] = {
	        {.exit_status = 1, .err_file = REC "destroy-nosuchdomain.stderr.txt"}};
	/* xl domid of an unknown name: rc 1, "Can't get domid …, maybe this domain does not
	 * exist." — a console asked for a domain that is gone is -ESRCH, not a host error. */
	static const fake_step domid[] = {
	        {.exit_status = 1, .err_file = REC "domid-nosuchdomain.stderr.txt"}};
	fake f;
	char err[HV_ERRLEN], src[64];
	hv_driver d = xlf_open(&f, destroy, N(destroy));
	cr_assert_eq(d.ops->destroy(&d, "xvps-9", err), 0, "%s", err);
	d.ops->dispose(&d);
	fake_assert_calls(&f, (const char *[]){"xl destroy xvps-9", NULL});
	d = xlf_open(&f, domid, N(domid));
	cr_assert_eq(d.ops->console_source(&d, "xvps-9", src, sizeof(src), err), -ESRCH, "%s", err);
	d.ops->dispose(&d);
	fake_assert_calls(&f, (const char *[]){"xl domid xvps-9", NULL});
}
