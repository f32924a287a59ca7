// views/order.js — #/admin/order?customer=ID: order a VPS for a customer, then follow its
// create job in #job-status until done or failed.
import { h, append, pageHeader, card } from '../dom.js';
import { api, listAll } from '../api.js';
import { buildForm, onSubmit } from '../forms.js';
import { watchJob } from '../jobs.js';
import { planSummary, mbit } from '../format.js';
import { money } from '../money.js';
import { loadSettings } from '../billing.js';

export async function orderView(ctx) {
  const { main, scope, query } = ctx;
  const [customers, plans, templates, settings] = await Promise.all([listAll('/customers'), listAll('/plans'), listAll('/templates'), loadSettings()]);
  if (!scope.alive) return;
  const want = query.get('customer') || '';
  const form = buildForm({
    id: 'order-form', submitLabel: 'Order server',
    fields: [
      { name: 'customer', label: 'Customer', type: 'select', value: want,
        options: [{ value: '', label: 'Choose a customer…' }, ...customers.items.map((c) => ({ value: c.id, label: `${c.username}${c.suspended ? ' (suspended)' : ''}` }))] },
      { name: 'hostname', label: 'Hostname', placeholder: 'web1.example.net', hint: 'Lower case, RFC 1123, unique among live servers.' },
      { name: 'plan', label: 'Plan', type: 'select', value: plans.items[0] ? plans.items[0].id : '',
        options: plans.items.map((p) => ({ value: p.id, label: `${p.name} — ${planSummary(p)}, ${mbit(p.net_mbit)}, ${money(p.price_month_cents, settings.currency, settings.currency_exponent)}/month` })) },
      { name: 'template', label: 'Template', type: 'select', value: templates.items[0] ? templates.items[0].id : '',
        options: templates.items.map((t) => ({ value: t.id, label: `${t.name} (${t.os}, ${t.boot})` })) },
      { name: 'ssh_keys', label: 'SSH public keys', type: 'textarea', parse: 'lines', optional: true, wide: true, rows: 3,
        placeholder: 'ssh-ed25519 AAAA… user@host', hint: 'One per line; they reach the server at first boot.' },
    ],
  });
  const jobStatus = h('div', { id: 'job-status', class: 'job-status', role: 'status', 'aria-live': 'polite', hidden: true });
  const result = h('p', { id: 'order-result', class: 'order-result', hidden: true });
  const missing = [];
  if (!customers.items.length) missing.push(h('a', { href: '#/admin/customers' }, 'a customer'));
  if (!plans.items.length) missing.push(h('a', { href: '#/admin/plans' }, 'a plan'));
  if (!templates.items.length) missing.push(h('a', { href: '#/admin/templates' }, 'a template'));

  append(main, [pageHeader('Order a server'),
    missing.length ? h('p', { class: 'callout' }, 'Before ordering, create ', missing.flatMap((m, i) => (i ? [', ', m] : [m])), '.') : null,
    card(null, form, jobStatus, result)]);

  onSubmit(form, (body) => api.post('/vps', body), (r) => {
    const v = r.vps;
    form.elements.namedItem('hostname').value = '';
    result.replaceChildren('Ordered ', h('a', { href: `#/vps/${encodeURIComponent(v.id)}` }, v.hostname),
      ` (${[...(v.ipv4 || []), ...(v.ipv6 || [])].join(', ') || 'no addresses'}).`);
    result.hidden = false;
    watchJob(scope, jobStatus, r.job, { label: `Create ${v.hostname}` });
  });
}
