/* agent_main.c — xvps-agent's entry point: reads its configuration from the environment,
 * opens the hypervisor and storage drivers, serves the socket until SIGTERM/SIGINT, then stops
 * cleanly (socket removed, threads joined). The only place in the agent that may exit. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/runner.h"
#include "../common/util.h"
#include "../common/validate.h"
#include "../hypervisor/driver.h"
#include "agent.h"
#include "storage.h"
#include "vps.h"

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

int main(void)
{
	char state[256], tpl_dir[256], cfg_dir[256], sock[108], err[1024] = "";
	char hverr[HV_ERRLEN] = "", sterr[ST_ERRLEN] = "";
	const char *hv_name, *st_name, *bridge, *v;
	hv_driver hv;
	st_driver st;
	vps_ctx vps;
	vps_err ve = {0};
	agent_config acfg;
	agent *a = NULL;
	sigset_t sigs;
	int sig = 0, rc;
	bool hv_open = false, st_open = false, park = false;

	log_init("xvps-agent");
	memset(&acfg, 0, sizeof(acfg));

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
		log_error("XVPS_AGENT_SOCK must be at most 107 bytes");
		return 1;
	}
	bridge = env_or("XVPS_BRIDGE", "xvpsbr0");
	hv_name = env_or("XVPS_HYPERVISOR", "sim");
	st_name = env_or("XVPS_STORAGE", "file");
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
			char guest[256];
			if (!absolute(v, false, guest, sizeof(guest)) ||
			    hv_sim_set_guest_path(&hv, guest) != 0) {
				snprintf(hverr, sizeof(hverr), "XVPS_SIMGUEST: cannot use %s", v);
				hv.ops->dispose(&hv);
				rc = -EINVAL;
			}
		}
	} else if (strcmp(hv_name, "xl") == 0) {
		rc = hv_xl_open(&hv, runner_real(), hverr);
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
		/* storage_lvm.c comes with the LVM issue; st_lvm_open is called here then. */
		snprintf(sterr, sizeof(sterr), "lvm storage driver not available in this build");
		rc = -ENOTSUP;
	} else {
		snprintf(sterr, sizeof(sterr), "XVPS_STORAGE must be file or lvm");
		rc = -EINVAL;
	}
	if (rc) {
		log_error("storage %s: %s", st_name, sterr);
		goto out;
	}
	st_open = true;

	rc = vps_ctx_init(&vps, &hv, &st, cfg_dir, bridge, &ve);
	if (rc) {
		log_error("%s", ve.msg);
		goto out;
	}
	/* sim guests parked at the last stop come back (new domids, like a host reboot). */
	park = strcmp(hv_name, "sim") == 0 && strcmp(env_or("XVPS_SIM_KEEP_GUESTS", "0"), "1");
	if (park && hv_sim_resume_all(&hv, hverr) != 0)
		log_warn("resuming sim guests: %s", hverr);
	rc = agent_start(&acfg, &vps, &a, err, sizeof(err));
	if (rc) {
		log_error("%s", err);
		goto out;
	}
	log_info("listening on %s (hypervisor %s, storage %s, state %s, panel uid %u)", sock,
	         hv_name, st_name, state, (unsigned)acfg.panel_uid);

	while (sigwait(&sigs, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
		;
	log_info("signal %d: stopping", sig);
	agent_stop(a);
	/* A stopped agent leaves no guest processes behind unless asked to. */
	if (park && hv_sim_park_all(&hv, hverr) != 0)
		log_warn("parking sim guests: %s", hverr);
	rc = 0;
out:
	if (st_open)
		st.ops->dispose(&st);
	if (hv_open)
		hv.ops->dispose(&hv);
	return rc ? 1 : 0;
}
