// views/customers.js — #/admin/customers: list, create, edit (email, password, suspended),
// suspend/unsuspend, delete; links to each customer's billing and limits pages.
import { h, badge, card, table, emptyRow, pageHeader } from '../dom.js';
import { api, seg, listAll } from '../api.js';
import { buildForm, onSubmit, formDialog, changed } from '../forms.js';
import { banner, clearBanner, confirmDialog, notice } from '../ui.js';
import { timeEl } from '../format.js';

const CREATE_FIELDS = [
  { name: 'username', label: 'Username', autocomplete: 'off' },
  { name: 'email', label: 'Email', type: 'email' },
  { name: 'password', label: 'Password', type: 'password', hint: 'The customer logs in with it; it is never shown again.' },
  { name: 'suspended', label: 'Suspended', type: 'checkbox' },
];

export async function customersView(ctx) {
  const { main, scope } = ctx;
  const t = table(['Username', 'Email', 'Status', { label: 'Servers', class: 'hide-sm' }, { label: 'Created', class: 'hide-md' }, { label: 'Actions', class: 'actions' }],
    { id: 'customer-list' });
  const form = buildForm({ id: 'customer-form', fields: CREATE_FIELDS, submitLabel: 'Create customer' });
  main.append(pageHeader('Customers'),
    h('section', { class: 'card card-flush' }, t.wrap),
    h('details', { class: 'card create', open: true },
      h('summary', { class: 'card-title' }, 'New customer'), form));

  async function load() {
    const [{ items }, vps] = await Promise.all([listAll('/customers'), listAll('/vps').catch(() => ({ items: [] }))]);
    if (!scope.alive) return;
    const counts = new Map();
    for (const v of vps.items) counts.set(String(v.customer), (counts.get(String(v.customer)) || 0) + 1);
    t.tbody.replaceChildren();
    if (items.length === 0) emptyRow(t.tbody, 6, 'No customers yet.');
    for (const c of items) {
      const n = counts.get(String(c.id)) || 0;
      t.tbody.append(h('tr', { class: 'customer-row', dataset: { id: String(c.id) } },
        h('td', { class: 'username' }, c.username),
        h('td', { class: 'email' }, c.email),
        h('td', null, c.suspended ? badge('suspended') : badge('active')),
        h('td', { class: 'hide-sm' }, h('a', { href: `#/admin/vps?customer=${encodeURIComponent(c.id)}` }, String(n))),
        h('td', { class: 'hide-md' }, timeEl(c.created_at)),
        h('td', { class: 'actions' },
          h('a', { class: 'btn btn-small', href: `#/admin/order?customer=${encodeURIComponent(c.id)}` }, 'Order'),
          h('a', { class: 'btn btn-small billing-link', href: `#/admin/customers/${encodeURIComponent(c.id)}/billing` }, 'Billing'),
          h('a', { class: 'btn btn-small limits-link', href: `#/admin/customers/${encodeURIComponent(c.id)}/limits` }, 'Limits'),
          h('button', { type: 'button', class: 'btn btn-small', onclick: () => edit(c) }, 'Edit'),
          h('button', { type: 'button', class: 'btn btn-small', onclick: () => toggle(c) }, c.suspended ? 'Unsuspend' : 'Suspend'),
          h('button', { type: 'button', class: 'btn btn-small btn-danger-outline', onclick: () => remove(c, n) }, 'Delete'))));
    }
  }

  onSubmit(form, (body) => api.post('/customers', body), async (c) => {
    form.reset();
    notice(`Customer ${c.username} created.`);
    await load();
  });

  async function edit(c) {
    const saved = await formDialog({
      title: `Edit ${c.username}`,
      fields: [
        { name: 'email', label: 'Email', type: 'email', value: c.email },
        { name: 'password', label: 'New password', type: 'password', optional: true, hint: 'Leave empty to keep the current one.' },
        { name: 'suspended', label: 'Suspended', type: 'checkbox', value: c.suspended },
      ],
      onSubmit: (body) => {
        const diff = changed(body, c);
        return Object.keys(diff).length ? api.patch(`/customers/${seg(c.id)}`, diff) : c;
      },
    });
    if (saved) { notice(`${c.username} saved.`); await load(); }
  }

  async function toggle(c) {
    clearBanner();
    if (!c.suspended && !(await confirmDialog({
      title: `Suspend ${c.username}?`,
      text: `${c.username} can no longer log in or use the API until unsuspended.`,
      confirmLabel: 'Suspend',
    }))) return;
    try {
      await api.patch(`/customers/${seg(c.id)}`, { suspended: !c.suspended });
      notice(`${c.username} ${c.suspended ? 'unsuspended' : 'suspended'}.`);
      await load();
    } catch (e) { banner(e); }
  }

  async function remove(c, n) {
    clearBanner();
    if (n > 0) { banner(`${c.username} still has ${n} server${n === 1 ? '' : 's'}; delete them first.`); return; }
    if (!(await confirmDialog({ title: `Delete ${c.username}?`, text: 'The account and its API keys go for good.', confirmLabel: 'Delete customer' }))) return;
    try {
      await api.del(`/customers/${seg(c.id)}`);
      notice(`${c.username} deleted.`);
      await load();
    } catch (e) { banner(e); }
  }

  await load();
}
