/* agent_main.c — xvps-agent's entry point: reads its configuration from the environment,
 * opens the hypervisor and storage drivers and the host network (net.h), serves the socket
 * until SIGTERM/SIGINT, then stops cleanly (socket removed, threads joined). The only place in
 * the agent that may exit. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/runner.h"
#include "../common/util.h"
#include "../common/validate.h"
#include "../hypervisor/driver.h"
#include "../hypervisor/sim_host.h"
#include "../hypervisor/simnet.h"
#include "agent.h"
#include "console.h"
#include "desired.h"
#include "net.h"
#include "power.h"
#include "storage.h"
#include "vps.h"

/* A configured path (XVPS_STATE, XVPS_TEMPLATE_DIR, a program): the drivers keep them in
 * 256-byte fields (storage.h, vps.h, the sim's guest path, console.c). */
#define AGENT_DIR_LEN 256

static const char *env_or(const char *key, const char *def)
{
	const char *v = getenv(key);

	return v && *v ? v : def;
}

/* Makes path absolute (creating it as a directory first when mkdir is true). */
static bool absolute(const char *path, bool mkdir, char *out, size_t outlen)
{
	char buf[PATH_MAX];

	if (mkdir && mkdir_p(path, 0700) != 0)
		return false;
	if (!realpath(path, buf))
		return false;
	return sfmt(out, outlen, "%s", buf);
}

/* Console servers (issue 6): xvps-console from XVPS_CONSOLE_BIN, else next to this program
 * (like xvps-simguest); their sockets in XVPS_CONSOLE_DIR, else $XVPS_STATE/console. Without
 * the program the agent runs on and console.open answers "host". */
static void console_setup(const char *state, uid_t panel_uid)
{
	char bin[AGENT_DIR_LEN] = "", err[AGENT_ERRLEN] = "", dir[AGENT_DIR_LEN];
	const char *v = getenv("XVPS_CONSOLE_BIN"), *d = getenv("XVPS_CONSOLE_DIR");
	ssize_t n;

	if (d && *d) {
		if (d[0] != '/' || strstr(d, "/../") || !sfmt(dir, sizeof(dir), "%s", d)) {
			log_warn("XVPS_CONSOLE_DIR must be an absolute path: web consoles are off");
			return;
		}
	} else if (!sfmt(dir, sizeof(dir), "%s/console", state)) {
		log_warn("XVPS_STATE too long for the console sockets: web consoles are off");
		return;
	}

	if (v && *v) {
		if (!absolute(v, false, bin, sizeof(bin))) {
			log_warn("XVPS_CONSOLE_BIN: cannot use %s: web consoles are off", v);
			return;
		}
	} else if ((n = readlink("/proc/self/exe", bin, sizeof(bin) - 1)) > 0) {
		bin[n] = '\0';
		char *slash = strrchr(bin, '/');
		if (!slash || !sfmt(slash, sizeof(bin) - (size_t)(slash - bin), "/xvps-console"))
			bin[0] = '\0';
	}
	if (consrv_init(bin, dir, panel_uid, err, sizeof(err)) != 0)
		log_warn("%s: web consoles are off", err);
	else
		log_info("console servers: %s, sockets in %s", bin, dir);
}

/* The start at boot (desired.h) runs beside the socket server: the panel is answered while the
 * domains that should run are created again. */
typedef struct boot_job {
	desired_ctx *desired;
	agent *a;
	int parallel;
} boot_job;

static void *boot_main(void *arg)
{
	boot_job *b = arg;
	desired_boot_result res;

	desired_boot_start(b->desired, b->parallel, agent_lock_domain, agent_unlock_domain, b->a,
	                   &res);
	return NULL;
}

int main(void)
{
	char state[AGENT_DIR_LEN], tpl_dir[AGENT_DIR_LEN], cfg_dir[AGENT_DIR_LEN];
	char sock[AGENT_SOCK_PATH_LEN], err[AGENT_ERRLEN] = "";
	char hverr[HV_ERRLEN] = "", sterr[ST_ERRLEN] = "";
	char netdir[AGENT_DIR_LEN + sizeof("/net")], neterr[NET_ERRLEN] = "";
	const char *hv_name, *st_name, *bridge, *v, *net_mode, *netns, *prefix;
	hv_driver hv;
	net_ctx net;
	st_driver st;
	vps_ctx vps;
	vps_err ve = {0};
	agent_config acfg;
	agent *a = NULL;
	power_ctx *power = NULL;
	desired_ctx *desired = NULL;
	boot_job boot = {0};
	pthread_t boot_thread;
	bool boot_running = false;
	char perr[POWER_ERRLEN] = "";
	sigset_t sigs;
	int sig = 0, rc;
	bool hv_open = false, st_open = false, park = false, net_open = false, net_on;

	log_init("xvps-agent");
	memset(&acfg, 0, sizeof(acfg));
	/* First of all, while the process has one thread: the dev/test dom0 namespace. */
	netns = getenv("XVPS_NETNS");
	if (netns && *netns && sim_enter_netns(netns, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return 1;
	}

	if (!absolute(env_or("XVPS_STATE", "./var"), true, state, sizeof(state))) {
		log_error("XVPS_STATE: cannot use %s: %s", env_or("XVPS_STATE", "./var"),
		          strerror(errno));
		return 1;
	}
	if (!sfmt(tpl_dir, sizeof(tpl_dir), "%s/template-src", state) ||
	    !sfmt(cfg_dir, sizeof(cfg_dir), "%s/xen", state) ||
	    !sfmt(sock, sizeof(sock), "%s/agent.sock", state)) {
		log_error("XVPS_STATE path too long");
		return 1;
	}
	if ((v = getenv("XVPS_TEMPLATE_DIR")) && *v && !sfmt(tpl_dir, sizeof(tpl_dir), "%s", v)) {
		log_error("XVPS_TEMPLATE_DIR too long");
		return 1;
	}
	if ((v = getenv("XVPS_CONFIG_DIR")) && *v && !sfmt(cfg_dir, sizeof(cfg_dir), "%s", v)) {
		log_error("XVPS_CONFIG_DIR too long");
		return 1;
	}
	if ((v = getenv("XVPS_AGENT_SOCK")) && *v && !sfmt(sock, sizeof(sock), "%s", v)) {
		log_error("XVPS_AGENT_SOCK must be at most %d bytes", AGENT_SOCK_PATH_LEN - 1);
		return 1;
	}
	bridge = env_or("XVPS_BRIDGE", "xvpsbr0");
	hv_name = env_or("XVPS_HYPERVISOR", "sim");
	st_name = env_or("XVPS_STORAGE", "file");
	net_mode = env_or("XVPS_NET", "auto");
	if (strcmp(net_mode, "auto") != 0 && strcmp(net_mode, "on") != 0 &&
	    strcmp(net_mode, "off") != 0) {
		log_error("XVPS_NET must be auto, on or off");
		return 1;
	}
	net_on = strcmp(net_mode, "on") == 0 || (strcmp(net_mode, "auto") == 0 && geteuid() == 0);
	prefix = env_or("XVPS_SIM_NETNS_PREFIX", "");
	if (!simnet_valid_prefix(prefix)) {
		log_error("XVPS_SIM_NETNS_PREFIX must be at most 16 characters of a-z 0-9 -");
		return 1;
	}
	if (!sfmt(netdir, sizeof(netdir), "%s/net", state)) {
		log_error("XVPS_STATE path too long");
		return 1;
	}
	acfg.panel_uid = getuid();
	if ((v = getenv("XVPS_PANEL_UID")) && *v) {
		long long uid;
		if (!parse_int_range(v, 0, 4294967294LL, &uid)) {
			log_error("XVPS_PANEL_UID must be a numeric uid");
			return 1;
		}
		acfg.panel_uid = (uid_t)uid;
	}
	snprintf(acfg.sock_path, sizeof(acfg.sock_path), "%s", sock);
	if (!desired_parse_parallel(getenv("XVPS_BOOT_PARALLEL"), &boot.parallel)) {
		log_error("XVPS_BOOT_PARALLEL must be a whole number from 0 to %d",
		          BOOT_PARALLEL_MAX);
		return 1;
	}

	/* Signals are taken synchronously by sigwait below; every thread inherits this mask
	 * (and the sim driver resets it for the guests it spawns). */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (strcmp(hv_name, "sim") == 0) {
		rc = hv_sim_open(&hv, state, hverr);
		if (rc == 0 && (v = getenv("XVPS_SIMGUEST")) && *v) {
			char guest[AGENT_DIR_LEN];
			if (!absolute(v, false, guest, sizeof(guest)) ||
			    hv_sim_set_guest_path(&hv, guest) != 0) {
				snprintf(hverr, sizeof(hverr), "XVPS_SIMGUEST: cannot use %s", v);
				hv.ops->dispose(&hv);
				rc = -EINVAL;
			}
		}
	} else if (strcmp(hv_name, "xl") == 0) {
		rc = hv_xl_open(&hv, runner_real(), hverr);
		if (rc == 0) {
			/* `xl info` once now, while the host is quiet: the driver keeps the
			 * scheduler, which every VPS's scheduler shares need; on failure it asks
			 * again at first use. */
			char sched[16], serr[HV_ERRLEN];
			if (hv.ops->scheduler(&hv, sched, sizeof(sched), serr) == 0)
				log_info("xen scheduler: %s", sched);
			else
				log_warn("xen scheduler not known yet (asked again at first use): "
				         "%s",
				         serr);
		}
	} else {
		snprintf(hverr, sizeof(hverr), "XVPS_HYPERVISOR must be sim or xl");
		rc = -EINVAL;
	}
	if (rc) {
		log_error("hypervisor %s: %s", hv_name, hverr);
		goto out;
	}
	hv_open = true;

	if (strcmp(st_name, "file") == 0) {
		rc = st_file_open(&st, state, tpl_dir, sterr);
	} else if (strcmp(st_name, "lvm") == 0) {
		/* XVPS_LVM_VG and XVPS_LVM_THINPOOL name an existing VG and thin pool (LVM name
		 * rules); XVPS_LVM_HEADROOM_PCT (default 10, 0..90) of the pool stays free. */
		const char *vg = env_or("XVPS_LVM_VG", ""), *pool = env_or("XVPS_LVM_THINPOOL", "");
		const char *hr = env_or("XVPS_LVM_HEADROOM_PCT", "10"), *why = NULL;
		long long pct = 0;

		rc = -EINVAL;
		if (!*vg)
			snprintf(sterr, sizeof(sterr), "XVPS_LVM_VG must name the volume group");
		else if (!st_lvm_valid_name(vg, &why))
			snprintf(sterr, sizeof(sterr), "XVPS_LVM_VG: %s", why);
		else if (!*pool)
			snprintf(sterr, sizeof(sterr), "XVPS_LVM_THINPOOL must name the thin pool");
		else if (!st_lvm_valid_name(pool, &why))
			snprintf(sterr, sizeof(sterr), "XVPS_LVM_THINPOOL: %s", why);
		else if (!parse_int_range(hr, 0, ST_LVM_HEADROOM_MAX, &pct))
			snprintf(sterr, sizeof(sterr),
			         "XVPS_LVM_HEADROOM_PCT must be a whole number from 0 to %d",
			         ST_LVM_HEADROOM_MAX);
		else
			rc = st_lvm_open(&st, runner_real(), vg, pool, tpl_dir, sterr);
		if (rc == 0 && st_lvm_set_headroom(&st, (int)pct) != 0) {
			snprintf(sterr, sizeof(sterr), "XVPS_LVM_HEADROOM_PCT: cannot apply %lld",
			         pct);
			st.ops->dispose(&st);
			rc = -EINVAL;
		}
		if (rc == 0)
			log_info("storage lvm: thin pool %s/%s, %lld %% headroom", vg, pool, pct);
	} else {
		snprintf(sterr, sizeof(sterr), "XVPS_STORAGE must be file or lvm");
		rc = -EINVAL;
	}
	if (rc) {
		log_error("storage %s: %s", st_name, sterr);
		goto out;
	}
	st_open = true;

	/* Networking: firewall, shaping, counters (net.h); off is a successful no-op. */
	rc = net_ctx_init(&net, runner_real(), net_on, "/sys/class/net", netdir, neterr);
	if (rc) {
		log_error("network state %s: %s", netdir, neterr);
		goto out;
	}
	net_open = true;
	if (net_on && (rc = nf_base_ensure(&net, neterr)) != 0) {
		log_error("firewall base chains: %s", neterr);
		goto out;
	}
	if (net_on && strcmp(hv_name, "sim") == 0) {
		char warn[HV_ERRLEN];
		rc = sim_bridge_ensure(bridge, hverr, warn, sizeof(hverr));
		if (rc)
			log_error("%s", hverr);
		else if (warn[0])
			log_warn("%s", warn);
		if (rc == 0 && (rc = hv_sim_set_net(&hv, true, prefix)) != 0)
			log_error("sim networking: invalid namespace prefix");
		if (rc)
			goto out;
	}
	if (net_on && strcmp(hv_name, "sim") == 0)
		log_info("networking on: bridge %s, network namespace %s, sim guests in "
		         "namespaces %s<domain>",
		         bridge, netns && *netns ? netns : "of the agent", prefix);
	else if (net_on)
		log_info("networking on: bridge %s, network namespace %s", bridge,
		         netns && *netns ? netns : "of the agent");
	else
		log_info("networking off (%s): no firewall, shaping or sim vifs",
		         strcmp(net_mode, "off") == 0 ? "XVPS_NET=off" : "not root");

	rc = vps_ctx_init(&vps, &hv, &st, cfg_dir, bridge, &ve);
	if (rc == 0) /* seeds (the guests' xvdb) in $XVPS_STATE/seed */
		rc = vps_ctx_set_state_dir(&vps, state, &ve);
	if (rc) {
		log_error("%s", ve.msg);
		goto out;
	}
	vps.net = &net;
	vps.seed_block = strcmp(hv_name, "xl") == 0; /* issue 17 item 6: no losetup per create */
	if (vps.seed_block) {                        /* and its own hotplug script when installed */
		const char *sc = env_or("XVPS_SEED_SCRIPT", "/usr/lib/xvps/xvps-block-seed");

		if (sc[0] && access(sc, X_OK) == 0)
			snprintf(vps.seed_script, sizeof(vps.seed_script), "%s", sc);
		else if (sc[0])
			log_warn("XVPS_SEED_SCRIPT %s is not executable: Xen's block script "
			         "attaches "
			         "the seeds",
			         sc);
		/* and the vif's (issue 17 item 6): xvps-vif in place of Xen's vif-bridge */
		sc = env_or("XVPS_VIF_SCRIPT", "/usr/lib/xvps/xvps-vif");
		if (sc[0] && access(sc, X_OK) == 0)
			snprintf(vps.vif_script, sizeof(vps.vif_script), "%s", sc);
		else if (sc[0])
			log_warn("XVPS_VIF_SCRIPT %s is not executable: Xen's vif-bridge attaches "
			         "the vifs",
			         sc);
	}
	/* Cumulative CPU time and guest power events (power.h): every destroy folds its run. */
	rc = power_open(&vps, state, &power, perr);
	if (rc) {
		log_error("power state: %s", perr);
		goto out;
	}
	/* The desired power states a host boot restores (issue 16 item 6). */
	rc = desired_open(&vps, state, &desired, perr);
	if (rc) {
		log_error("desired state: %s", perr);
		goto out;
	}
	/* Every kept domain's firewall, before anything runs: running domains' vifs are hooked
	 * again (a new rules layout, or rules flushed while the agent was away). */
	if (net_on) {
		size_t fw_failed = 0, fw = desired_firewall_apply(desired, &fw_failed);
		if (fw || fw_failed)
			log_info("firewall: %zu domains applied, %zu failed", fw, fw_failed);
	}
	/* sim guests parked at the last stop come back (new domids, like a host reboot). */
	park = strcmp(hv_name, "sim") == 0 && strcmp(env_or("XVPS_SIM_KEEP_GUESTS", "0"), "1");
	if (park && hv_sim_resume_all(&hv, hverr) != 0)
		log_warn("resuming sim guests: %s", hverr);
	console_setup(state, acfg.panel_uid);
	rc = agent_start(&acfg, &vps, &a, err, sizeof(err));
	if (rc) {
		log_error("%s", err);
		goto out;
	}
	log_info("listening on %s (hypervisor %s, storage %s, state %s, panel uid %u)", sock,
	         hv_name, st_name, state, (unsigned)acfg.panel_uid);
	/* Guests that power off, reboot or crash by themselves, every POWER_WATCH_MS. */
	if (power_watch_start(power, agent_lock_domain, agent_unlock_domain, a, perr) != 0)
		log_warn("%s: guest power events are not handled", perr);
	/* Every VPS that should run and does not (after a host boot: all of them) is started,
	 * XVPS_BOOT_PARALLEL at a time in order of VPS id; 0: none. */
	boot.desired = desired;
	boot.a = a;
	if (boot.parallel > 0)
		boot_running = pthread_create(&boot_thread, NULL, boot_main, &boot) == 0;
	else
		log_info("boot: XVPS_BOOT_PARALLEL=0: no VPS is started at boot");

	while (sigwait(&sigs, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
		;
	log_info("signal %d: stopping", sig);
	if (boot_running) /* the starts under way end first */
		pthread_join(boot_thread, NULL);
	power_watch_stop(power);
	agent_stop(a);
	/* A stopped agent leaves no guest processes behind unless asked to. */
	if (park && hv_sim_park_all(&hv, hverr) != 0)
		log_warn("parking sim guests: %s", hverr);
	rc = 0;
out:
	power_close(power); /* after the park: parking folds the guests' runs */
	desired_close(desired);
	if (net_open)
		net_ctx_dispose(&net);
	if (st_open)
		st.ops->dispose(&st);
	if (hv_open)
		hv.ops->dispose(&hv);
	return rc ? 1 : 0;
}
