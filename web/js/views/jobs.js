// views/jobs.js — #/admin/jobs?vps=ID: every job with its state, newest first, refreshed every
// 2 s while one on the page is queued or running (every 10 s otherwise).
import { h, badge, table, emptyRow, pageHeader } from '../dom.js';
import { api } from '../api.js';
import { hashFor } from '../router.js';
import { timeEl, jobKind, duration } from '../format.js';
import { jobFinished } from '../jobs.js';
import { pager } from './pager.js';
import { banner } from '../ui.js';

const LIMIT = 50;

/**
 * The job's steps with their durations (issue 17 item 6): the total of the panel's steps as a
 * summary, and each step (the agent's sub-steps of a call indented under it) when opened.
 */
function stepsEl(j) {
  const steps = j.steps || [];
  if (steps.length === 0) return '—';
  const own = steps.filter((s) => s.source === 'panel');
  const total = own.reduce((a, s) => a + (s.duration_us || 0), 0);
  const list = h('ul', { class: 'job-steps-list small' });
  for (const s of steps) {
    list.append(h('li', { class: s.source === 'agent' ? 'job-substep' : 'job-step', dataset: { step: s.step, source: s.source } },
      h('span', { class: 'job-step-name' }, s.step), ' ', h('span', { class: 'job-step-time' }, duration(s.duration_us))));
  }
  return h('details', { class: 'job-steps' }, h('summary', null, own.some((s) => s.duration_us === null) ? `${duration(total)} so far` : duration(total)), list);
}

export async function jobsView(ctx) {
  const { main, scope, query } = ctx;
  let vps = query.get('vps') || '';
  let offset = Number(query.get('offset')) || 0;
  const t = table(['Job', 'Kind', 'State', 'Server', { label: 'Step', class: 'hide-md' }, 'Duration', 'Created', { label: 'Finished', class: 'hide-sm' }],
    { id: 'job-list' });
  const filter = h('input', { id: 'filter-vps', name: 'vps', value: vps, inputmode: 'numeric', placeholder: 'any', autocomplete: 'off' });
  const p = pager((o) => { offset = o; sync(); load().catch((e) => banner(e)); });
  main.append(pageHeader('Jobs'),
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); vps = filter.value.trim(); offset = 0; sync(); load().catch((e) => banner(e)); } },
      h('div', { class: 'field' }, h('label', { for: 'filter-vps' }, 'Server id'), filter),
      h('button', { type: 'submit', class: 'btn' }, 'Filter')),
    h('section', { class: 'card card-flush' }, t.wrap), p.el);

  const sync = () => history.replaceState(null, '', hashFor('/admin/jobs', { vps, offset: offset || '' }));
  let active = false;
  async function load() {
    const r = await api.list('/jobs', { vps, limit: LIMIT, offset });
    if (!scope.alive) return;
    t.tbody.replaceChildren();
    if (r.items.length === 0) emptyRow(t.tbody, 8, 'No jobs.');
    for (const j of r.items) {
      t.tbody.append(h('tr', { class: 'job-row', dataset: { id: String(j.id), state: j.state } },
        h('td', null, `#${j.id}`),
        h('td', null, jobKind(j.kind), h('span', { class: 'muted small' }, ` ${j.kind}`)),
        h('td', null, badge(j.state, { class: 'job' }), j.error ? h('div', { class: 'job-error small' }, j.error) : null),
        h('td', null, j.vps ? h('a', { href: `#/vps/${encodeURIComponent(j.vps)}` }, `#${j.vps}`) : '—'),
        h('td', { class: 'hide-md' }, j.step || '—'),
        h('td', null, stepsEl(j)),
        h('td', null, timeEl(j.created_at)),
        h('td', { class: 'hide-sm' }, timeEl(j.finished_at))));
    }
    active = r.items.some((j) => !jobFinished(j));
    p.update(offset, LIMIT, r.total, r.items.length);
  }
  await load();
  let ticks = 0;
  scope.poll(async () => { ticks++; if (active || ticks % 5 === 0) await load(); }, 2000);
}
