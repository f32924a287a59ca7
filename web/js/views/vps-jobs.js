// views/vps-jobs.js — the last jobs of one VPS (GET /jobs?vps=ID), refreshed every 10 s and
// whenever a job the page follows changes.
import { h, badge, card, table, emptyRow } from '../dom.js';
import { api } from '../api.js';
import { timeEl, jobKind } from '../format.js';

export function recentJobs(scope, vpsId) {
  const t = table(['Job', 'State', 'Started', { label: 'Finished', class: 'hide-sm' }], { class: 'table table-compact', id: 'vps-jobs' });
  const el = card('Recent jobs', t.wrap);
  let inflight = null;

  async function load() {
    const { items } = await api.list('/jobs', { vps: vpsId, limit: 8 });
    if (!scope.alive) return items;
    t.tbody.replaceChildren();
    if (items.length === 0) emptyRow(t.tbody, 4, 'No jobs yet.');
    for (const j of items) {
      t.tbody.append(h('tr', { dataset: { id: String(j.id) } },
        h('td', null, jobKind(j.kind), j.state === 'failed' && j.error ? h('div', { class: 'job-error small' }, j.error) : null),
        h('td', null, badge(j.state, { class: 'job' })),
        h('td', null, timeEl(j.started_at || j.created_at, { short: true })),
        h('td', { class: 'hide-sm' }, timeEl(j.finished_at, { short: true }))));
    }
    return items;
  }

  function refresh() {
    if (!inflight) inflight = load().catch(() => []).finally(() => { inflight = null; });
    return inflight;
  }
  scope.poll(refresh, 10000);
  return { el, refresh };
}
