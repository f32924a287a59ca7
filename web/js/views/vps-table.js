// views/vps-table.js — the VPS table shared by #/vps and #/admin/vps: rows
// tr.vps-row[data-id] with cells .hostname .state .ipv4 (.ipv6 .plan .customer .created).
// Refreshes update the cells in place, so keyboard focus on a row's link survives a poll.
import { h, set, badge, updateBadge, table, emptyRow } from '../dom.js';
import { planSummary, timeEl } from '../format.js';

function addrList(list) {
  if (!Array.isArray(list) || list.length === 0) return h('span', { class: 'muted' }, '—');
  return list.map((a, i) => [i ? h('br') : null, h('span', { class: 'addr' }, a)]);
}

function rowCells(v, opts) {
  const cells = [
    h('td', { class: 'hostname' }, h('a', { href: `#/vps/${encodeURIComponent(v.id)}` }, v.hostname)),
    h('td', { class: 'state' }, badge(v.state)),
    h('td', { class: 'ipv4' }, addrList(v.ipv4)),
    h('td', { class: 'ipv6 hide-sm' }, addrList(v.ipv6)),
    h('td', { class: 'plan hide-md' }, planSummary(v)),
  ];
  if (opts.customers) {
    const c = opts.customers.get(String(v.customer));
    cells.push(h('td', { class: 'customer' }, c ? c.username : `#${v.customer}`));
  }
  cells.push(h('td', { class: 'created hide-md' }, timeEl(v.created_at)));
  return cells;
}

export function vpsTable(opts = {}) {
  const head = [
    'Hostname', 'State', 'IPv4', { label: 'IPv6', class: 'hide-sm' }, { label: 'Size', class: 'hide-md' },
  ];
  if (opts.customers) head.push('Customer');
  head.push({ label: 'Created', class: 'hide-md' });
  const t = table(head, { id: 'vps-list', class: 'table table-hover' });
  t.cols = head.length;
  // A click anywhere on a row opens it (the hostname link is the keyboard way).
  t.tbody.addEventListener('click', (e) => {
    const row = e.target.closest('tr.vps-row');
    if (!row || e.target.closest('a, button, input, select')) return;
    if (window.getSelection && String(window.getSelection())) return;
    location.hash = `#/vps/${encodeURIComponent(row.dataset.id)}`;
  });
  return t;
}

/** Fills t.tbody with items; rows are kept and patched when the same ids come back. */
export function fillVpsTable(t, items, opts = {}, emptyText = 'No servers yet.') {
  const rows = Array.from(t.tbody.querySelectorAll('tr.vps-row'));
  const sameIds = rows.length === items.length && rows.every((r, i) => r.dataset.id === String(items[i].id));
  if (!sameIds) {
    t.tbody.replaceChildren();
    if (items.length === 0) { emptyRow(t.tbody, t.cols, emptyText); return; }
    for (const v of items) {
      t.tbody.append(h('tr', { class: 'vps-row', dataset: { id: String(v.id), state: v.state } }, rowCells(v, opts)));
    }
    return;
  }
  items.forEach((v, i) => {
    const row = rows[i];
    row.dataset.state = v.state;
    const link = row.querySelector('.hostname a');
    if (link.textContent !== v.hostname) link.textContent = v.hostname;
    updateBadge(row.querySelector('.state .badge'), v.state);
    set(row.querySelector('.ipv4'), addrList(v.ipv4));
    set(row.querySelector('.ipv6'), addrList(v.ipv6));
    row.querySelector('.plan').textContent = planSummary(v);
  });
}
