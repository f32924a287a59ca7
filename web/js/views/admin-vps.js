// views/admin-vps.js — #/admin/vps?customer=ID&q=TEXT&state=S: every VPS, filtered by customer
// (the API's ?customer=), by text (hostname, address, domain, id) and by state, live every 5 s.
import { h, pageHeader } from '../dom.js';
import { listAll } from '../api.js';
import { hashFor } from '../router.js';
import { vpsTable, fillVpsTable } from './vps-table.js';

const STATES = ['provisioning', 'running', 'stopped', 'suspended', 'error', 'deleting'];

export async function adminVpsView(ctx) {
  const { main, scope, query } = ctx;
  const customers = new Map((await listAll('/customers')).items.map((c) => [String(c.id), c]));
  if (!scope.alive) return;
  let customer = query.get('customer') || '';
  let text = query.get('q') || '';
  let state = query.get('state') || '';

  const custSel = h('select', { id: 'filter-customer', name: 'customer' },
    h('option', { value: '' }, 'All customers'),
    Array.from(customers.values()).map((c) => h('option', { value: String(c.id), selected: String(c.id) === customer }, c.username)));
  const stateSel = h('select', { id: 'filter-state', name: 'state' },
    h('option', { value: '' }, 'Any state'), STATES.map((s) => h('option', { value: s, selected: s === state }, s)));
  const search = h('input', { id: 'filter-text', name: 'q', type: 'search', value: text, placeholder: 'hostname, address, xvps-N', autocomplete: 'off', spellcheck: 'false' });
  const summary = h('p', { class: 'muted summary', 'aria-live': 'polite' });
  const t = vpsTable({ customers });
  const orderLink = h('a', { class: 'btn btn-primary', href: hashFor('/admin/order', { customer }) }, 'Order a server');

  main.append(pageHeader('All servers', orderLink),
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() },
      h('div', { class: 'field' }, h('label', { for: 'filter-customer' }, 'Customer'), custSel),
      h('div', { class: 'field' }, h('label', { for: 'filter-state' }, 'State'), stateSel),
      h('div', { class: 'field field-grow' }, h('label', { for: 'filter-text' }, 'Search'), search)),
    summary,
    h('section', { class: 'card card-flush' }, t.wrap));

  let all = [];
  let total = 0;
  const matches = (v) => {
    if (state && v.state !== state) return false;
    if (!text) return true;
    const needle = text.toLowerCase();
    return [v.hostname, v.domain, String(v.id), ...(v.ipv4 || []), ...(v.ipv6 || [])]
      .some((s) => String(s || '').toLowerCase().includes(needle));
  };
  const show = () => {
    const items = all.filter(matches);
    summary.textContent = `${items.length} of ${total} server${total === 1 ? '' : 's'}`;
    fillVpsTable(t, items, { customers }, all.length ? 'No server matches.' : 'No servers yet.');
  };
  const load = async () => {
    const r = await listAll('/vps', { customer });
    if (!scope.alive) return;
    all = r.items;
    total = r.total;
    show();
  };
  // Filters live in the URL so a filtered view can be bookmarked, without re-rendering the page.
  const syncUrl = () => {
    history.replaceState(null, '', hashFor('/admin/vps', { customer, state, q: text }));
    orderLink.setAttribute('href', hashFor('/admin/order', { customer }));
  };
  custSel.addEventListener('change', async () => { customer = custSel.value; syncUrl(); await load(); });
  stateSel.addEventListener('change', () => { state = stateSel.value; syncUrl(); show(); });
  search.addEventListener('input', () => { text = search.value.trim(); syncUrl(); show(); });

  await load();
  scope.poll(load, 5000);
}
