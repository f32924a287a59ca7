// views/audit.js — #/admin/audit?resource=vps/ID: the audit log, newest first, 50 a page.
import { h, table, emptyRow, pageHeader } from '../dom.js';
import { api } from '../api.js';
import { hashFor } from '../router.js';
import { timeEl } from '../format.js';
import { pager } from './pager.js';
import { banner } from '../ui.js';

const LIMIT = 50;

function resourceLink(res) {
  const m = /^vps\/(\d+)$/.exec(res || '');
  if (m) return h('a', { href: `#/vps/${m[1]}` }, res);
  return res || '—';
}

export async function auditView(ctx) {
  const { main, scope, query } = ctx;
  let resource = query.get('resource') || '';
  let offset = Number(query.get('offset')) || 0;
  const t = table(['Time', 'User', { label: 'Address', class: 'hide-sm' }, 'Action', 'Resource', { label: 'Detail', class: 'hide-sm' }],
    { id: 'audit-list', class: 'table table-compact' });
  const filter = h('input', { id: 'filter-resource', name: 'resource', value: resource, placeholder: 'vps/12, user/3 …', autocomplete: 'off', spellcheck: 'false' });
  const p = pager((o) => { offset = o; sync(); load().catch((e) => banner(e)); });
  main.append(pageHeader('Audit log'),
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); resource = filter.value.trim(); offset = 0; sync(); load().catch((e) => banner(e)); } },
      h('div', { class: 'field' }, h('label', { for: 'filter-resource' }, 'Resource'), filter),
      h('button', { type: 'submit', class: 'btn' }, 'Filter')),
    h('section', { class: 'card card-flush' }, t.wrap), p.el);
  const sync = () => history.replaceState(null, '', hashFor('/admin/audit', { resource, offset: offset || '' }));

  async function load() {
    const r = await api.list('/audit', { resource, limit: LIMIT, offset });
    if (!scope.alive) return;
    t.tbody.replaceChildren();
    if (r.items.length === 0) emptyRow(t.tbody, 6, 'Nothing logged.');
    for (const a of r.items) {
      t.tbody.append(h('tr', { class: 'audit-row', dataset: { id: String(a.id) } },
        h('td', { class: 'nowrap' }, timeEl(a.at)),
        h('td', null, a.user || '—'),
        h('td', { class: 'hide-sm' }, h('span', { class: 'addr' }, a.ip || '—')),
        h('td', null, h('code', null, a.action)),
        h('td', null, resourceLink(a.resource)),
        h('td', { class: 'hide-sm detail' }, a.detail ?? '')));
    }
    p.update(offset, LIMIT, r.total, r.items.length);
  }
  await load();
}
