/* agent_proto.h — the wire protocol between xvpsd and xvps-agent over a unix stream socket.
 *
 * Framing: each message is a 4-byte big-endian length N (1..AGENT_MAX_MSG) followed by N bytes
 * of UTF-8 JSON (one object). One request, one response, then the client may send another.
 *
 * Requests  {"op": "<name>", ...fields}
 * Responses {"ok": true, "result": {...}}
 *        or {"ok": false, "error": "<english sentence>", "field": "<spec field or null>",
 *            "code": "invalid|not_found|conflict|host|busy"}
 *
 * Operations (the agent re-validates every field; see provisioning/spec.h):
 *   host.info      {}                          -> {"hypervisor","storage","scheduler","version"}
 *   vps.ensure     {"spec": VPS_SPEC}          -> VPS_STATUS   converge disk, config, sched, power
 *   vps.remove     {"name"}                    -> {"removed":true} destroy domain, remove config
 *                                                 and disk (removing what is absent is success)
 *   vps.power      {"name","action":"start|shutdown|reboot|poweroff","spec": VPS_SPEC}
 *                                              -> VPS_STATUS
 *   vps.reinstall  {"spec": VPS_SPEC}          -> VPS_STATUS   stop, new disk from template, start
 *   vps.status     {"name"}                    -> VPS_STATUS (state "absent" when unknown)
 *   template.ensure {"name":"tpl-N","disk_gib","source"(optional file name)} ->
 * {"name","size_bytes"} template.remove {"name"}                   -> {"removed":true} reconcile
 * {"known":["xvps-1",...], "templates":["tpl-1",...]}
 *                                              -> {"orphans":[{"kind","name","action"}]}
 *                 (kinds: domain, config, disk, seed, chain, ifb)
 *   template.fetch {"name":"tpl-N","url","sha256"?,"max_bytes","allow_http"?} -> {"name","bytes",
 *                  "sha256"}   download a cloud image into the import dir (template_import.h)
 *   template.import {"name":"tpl-N","disk_gib","file"?} -> {"name","size_bytes","format",
 *                  "virtual_bytes"}   qemu-img info/convert of the download (or file) into the
 *                  template's image
 *   vps.network    {"spec": VPS_SPEC}          -> VPS_STATUS   re-apply only firewall chains
 *                                                 and shaping (addresses, throttle changed)
 *   net.counters   {"names":["xvps-1",...]}    -> {"sampled_at": unix s, "domains": {"xvps-1":
 *                  {"vifname","present":bool,"rx_bytes","tx_bytes","rx_packets","tx_packets"}}}
 *                  one sysfs sweep; totals accumulated across vif re-creation; rx/tx from the
 *                  guest's point of view (rx = received by the VPS)
 *   cpu.times      {"names":["xvps-1",...]}    -> {"sampled_at": unix s, "cpu_ns": {"xvps-1": N}}
 *                  at most AGENT_CPU_TIMES_MAX_NAMES names (more: "invalid", field "names");
 *                  N = the domain's cumulative CPU time in ns (all vcpus) over all its runs:
 *                  every run the agent ended (stop, reboot, a guest's own poweroff/reboot/
 *                  crash, reinstall) is folded into a base kept in the agent's state
 *                  (provisioning/power.c) plus the current run's time (xl: libxenstat; sim:
 *                  its model). N never goes down while the agent's state directory lives (a
 *                  lower N means that state was lost; xvpsd then counts N from zero). One
 *                  snapshot for all names; a hypervisor failure is "host"
 *   vps.events     {"since": N}                -> {"next": N', "reset": bool, "events": [{"seq",
 *                  "name","event":"poweroff|reboot|crash|boot",
 *                  "action":"settling|stopped|restarted|failed","state":"running|stopped",
 *                  "domid":int|null,"at":unix s,"error"?, settling: "restart":bool,"cpu_ns",
 *                  "rx_bytes","tx_bytes","rx_packets","tx_packets"; outcome: "follows":seq}]}
 *                  guest-initiated power events the agent handled (power.h), seq >= N, oldest
 * first, at most 200 (call again with next); reset: N was ahead of the log or older than its oldest
 * kept event (some were lost). Also {"event":"boot","action":"started|failed"}: the agent
 * started a VPS whose desired state is running after a host boot (provisioning/desired.h)
 *
 * VPS_SPEC {"name":"xvps-N","hostname","type":"pvh|pv|hvm","vcpus","memory_mib","disk_gib",
 *           "template":"tpl-N","mac","vifname","ipv4":[..],"ipv6":[..],"gateway4"|null,
 *           "gateway6"|null,"cpu_weight","cpu_cap_pct","net_mbit","power":"running|stopped",
 *           "ssh_keys":[..], "ipv6_routed":["2001:db8:1:2::/64",..], "throttle_mbit": 0..100000
 *           (0 = not throttled), "smtp_block": bool, "on_crash": "restart|stop" (default
 *           restart: what the agent does when the guest crashes), "max_vcpus",
 *           "max_memory_mib" (optional, 0 = vcpus / memory_mib: the ceilings written as xl.cfg
 *           maxvcpus / maxmem, up to which a running domain is resized live; issue 16 item 1),
 *           "seed": "xvps|nocloud" (optional, default xvps: the seed disk's format; nocloud is
 *           a cloud-init NoCloud cidata disk, provisioning/seed_nocloud.h; issue 16 item 7),
 *           "rescue": bool (optional, default false; issue 16 item 3: the domain boots a copy
 *           of the rescue system as xvda with its own disk as xvdb, seed xvdc; provisioning/
 *           vps_rescue.c)}
 *           vifname must be "xvifN" for "xvps-N"
 * VPS_STATUS {"name","state":"running|stopped|absent","domid":int|null,"cpu_weight",
 *             "cpu_cap_pct","disk_bytes","config_path","cpu_ns",
 *             "net": {"enabled": bool (false: the agent manages no chains/qdiscs),
 *                     "rate_mbit": int (the vif's shaping while running; 0 = unlimited)},
 *             "pending"?: {"memory_mib": int|null, "vcpus": int|null}|null (the spec's sizes
 *             that wait for the domain's next boot, beyond its ceilings; null when none; only
 *             from an op that applied a spec, or when the domain is not running),
 *             "timings"?: [{"step": "storage|seed|config|netfilter|domain|domain.create|resize|
 *             sched|shaping|status", "us": int (microseconds, CLOCK_MONOTONIC)}] (vps.ensure and
 *             the ops built on it: how long each sub-step of this call took, in order; the
 *             panel keeps them as the job's agent steps, issue 17 item 6)}
 *
 * Return convention: 0 or a negative errno. */
#ifndef XVPS_AGENT_PROTO_H
#define XVPS_AGENT_PROTO_H

#include <json-c/json.h>
#include <stddef.h>

#define AGENT_MAX_MSG (1024u * 1024u)
/* Names per cpu.times request (xvpsd's metering sends at most this many per message). */
#define AGENT_CPU_TIMES_MAX_NAMES 500

/* Writes one framed message on fd (blocking, retries EINTR/short writes). 0 or -errno. */
int agent_send(int fd, json_object *msg);

/* Reads one framed message from fd with a timeout (milliseconds, <= 0: none). Returns 0 and a
 * new reference in *msg_out, -ETIMEDOUT, -EPROTO (bad length or JSON), -ECONNRESET on EOF, or
 * another -errno. */
int agent_recv(int fd, int timeout_ms, json_object **msg_out);

/* Client side: connects to the agent socket at path, sends req, waits up to timeout_ms for the
 * response. Returns 0 with *resp_out set (which may still say "ok": false), or -errno when the
 * agent could not be reached or answered garbage (-ECONNREFUSED / -ENOENT: agent not running). */
int agent_call(const char *sock_path, json_object *req, int timeout_ms, json_object **resp_out);

#endif
