// views/admin-invoices.js — #/admin/invoices?customer=ID&status=S: every customer's issued
// invoices, newest first. The customer filter is the API's (?customer=); the status filter
// (open, part credited, credited) is applied here, over at most 10,000 invoices, because
// GET /invoices has no status parameter.
import { h, pageHeader } from '../dom.js';
import { api, listAll } from '../api.js';
import { hashFor } from '../router.js';
import { banner } from '../ui.js';
import { invoiceTable, invoiceState } from '../billing.js';
import { pager } from './pager.js';

const LIMIT = 50;
const STATUSES = [['', 'any'], ['issued', 'open (nothing credited)'], ['part credited', 'part credited'], ['credited', 'credited in full']];

export async function adminInvoicesView(ctx) {
  const { main, scope, query } = ctx;
  let customer = query.get('customer') || '';
  let status = query.get('status') || '';
  let offset = Number(query.get('offset')) || 0;
  const customers = (await listAll('/customers')).items;
  if (!scope.alive) return;
  const t = invoiceTable({ id: 'admin-invoice-list', customerColumn: true });
  const custSel = h('select', { id: 'filter-customer', name: 'customer' },
    h('option', { value: '' }, 'all customers'),
    customers.map((c) => h('option', { value: String(c.id), selected: String(c.id) === customer }, c.username)));
  const statusSel = h('select', { id: 'filter-status', name: 'status' },
    STATUSES.map(([v, l]) => h('option', { value: v, selected: v === status }, l)));
  const summary = h('p', { class: 'muted summary', 'aria-live': 'polite' });
  const p = pager((o) => { offset = o; sync(); load().catch((e) => banner(e)); });
  const names = new Map(customers.map((c) => [String(c.id), c.username]));
  main.append(pageHeader('Invoices'),
    h('form', { class: 'filters', role: 'search', id: 'invoice-filters', onsubmit: (e) => {
      e.preventDefault();
      customer = custSel.value;
      status = statusSel.value;
      offset = 0;
      sync();
      load().catch((err) => banner(err));
    } },
    h('div', { class: 'field' }, h('label', { for: 'filter-customer' }, 'Customer'), custSel),
    h('div', { class: 'field' }, h('label', { for: 'filter-status' }, 'Status'), statusSel),
    h('button', { type: 'submit', class: 'btn' }, 'Filter')),
    summary,
    h('section', { class: 'card card-flush' }, t.wrap), p.el);
  const sync = () => history.replaceState(null, '', hashFor('/admin/invoices', { customer, status, offset: offset || '' }));

  async function load() {
    let items;
    let total;
    if (status) {
      const all = await listAll('/invoices', { customer });
      const hit = all.items.filter((i) => invoiceState(i) === status);
      total = hit.length;
      items = hit.slice(offset, offset + LIMIT);
    } else {
      const r = await api.list('/invoices', { customer, limit: LIMIT, offset });
      items = r.items;
      total = r.total;
    }
    if (!scope.alive) return;
    for (const i of items) if (!i.customer_name) i.customer_name = names.get(String(i.customer));
    t.fill(items, customer || status ? 'No invoice matches.' : 'No invoices issued yet.');
    summary.textContent = `${total} invoice${total === 1 ? '' : 's'}`;
    p.update(offset, LIMIT, total, items.length);
  }
  await load();
}
