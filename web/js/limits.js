// limits.js — a customer's ordering limits (issue 16 item 8): what GET /customers/{id}/limits
// says as text, and the sentence for a request a limit refused (the problem's "limit",
// "allowed", "used", "requested" members, ApiError.limit).
import { h } from './dom.js';
import { mib } from './format.js';

const WHAT = {
  vps: { label: 'Servers', unit: (n) => `${n} server${n === 1 ? '' : 's'}` },
  vcpus: { label: 'vCPUs', unit: (n) => `${n} vCPU${n === 1 ? '' : 's'}` },
  memory_mib: { label: 'Memory', unit: (n) => mib(n) },
  disk_gib: { label: 'Disk', unit: (n) => `${n} GiB` },
};

/** "Your account may hold at most 4 vCPUs in all; it holds 2, this would make 6." */
export function limitSentence(l) {
  if (!l) return '';
  if (l.limit === 'plans') return 'This plan is not offered to your account (limit: plans). Choose another plan or ask your provider.';
  const w = WHAT[l.limit];
  if (!w) return `A limit of your account refuses this (limit: ${l.limit}).`;
  return `${w.label} limit reached: your account may hold ${w.unit(l.allowed)} in all; it holds ${w.unit(l.used)}, and this would make ${w.unit(l.requested)}. ` +
    'Delete a server or ask your provider to raise the limit.';
}

/** A <dl> of the limits next to what is used: "1 of 3", "2 of no limit". */
export function limitFacts(lim, id = 'limit-facts') {
  const row = (key, max, used) => [h('dt', null, WHAT[key].label),
    h('dd', { dataset: { limit: key } }, `${WHAT[key].unit(used)} of ${max === null || max === undefined ? 'no limit' : WHAT[key].unit(max)}`)];
  const u = lim.used || {};
  return h('dl', { class: 'facts', id },
    row('vps', lim.max_vps, u.vps), row('vcpus', lim.max_vcpus, u.vcpus),
    row('memory_mib', lim.max_memory_mib, u.memory_mib), row('disk_gib', lim.max_disk_gib, u.disk_gib),
    [h('dt', null, 'Plans'), h('dd', { dataset: { limit: 'plans' } }, Array.isArray(lim.plans) ? `${lim.plans.length} offered` : 'all')]);
}
