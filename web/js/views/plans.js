// views/plans.js — #/admin/plans: list, create, edit (PATCH of the changed fields only), delete.
import { h, card, table, emptyRow, pageHeader } from '../dom.js';
import { api, seg, listAll } from '../api.js';
import { buildForm, onSubmit, formDialog, changed } from '../forms.js';
import { banner, clearBanner, confirmDialog, notice } from '../ui.js';
import { mib, mbit } from '../format.js';
import { money, microMoney, toInput } from '../money.js';
import { loadSettings } from '../billing.js';

/** The price fields (issue 14): decimal amounts in the installation's currency. */
function priceFields(p, cur) {
  const v = (k, d) => (p[k] !== undefined ? p[k] : d);
  const e = cur.exponent;
  const c = cur.code;
  return [
    { name: 'price_month_cents', label: `Price per month (${c})`, parse: 'decimal', scale: e, value: toInput(v('price_month_cents', 0), e), hint: 'The cap of a month\'s hours.' },
    { name: 'price_hour_microcents', label: `Price per hour (${c})`, parse: 'decimal', scale: e + 6, value: toInput(v('price_hour_microcents', null), e + 6, e),
      hint: p.effective_price_hour_microcents !== undefined ? `Empty = monthly ÷ 730 (now ${microMoney(p.effective_price_hour_microcents, c, e)}).` : 'Empty = monthly ÷ 730.' },
    { name: 'included_traffic_gib', label: 'Included traffic (GiB/period)', type: 'number', min: 0, value: v('included_traffic_gib', null) ?? '', hint: 'Empty = the plan\'s traffic.' },
    { name: 'overage_gib_microcents', label: `Overage per GiB (${c})`, parse: 'decimal', scale: e + 6, value: toInput(v('overage_gib_microcents', 0), e + 6, e), hint: 'Per started GiB over the included traffic; 0 = none.' },
    { name: 'ipv4_month_cents', label: `Extra IPv4 per month (${c})`, parse: 'decimal', scale: e, value: toInput(v('ipv4_month_cents', 0), e), hint: 'Each address beyond the first, by the hour.' },
  ];
}

function planFields(p = {}, cur = { code: 'EUR', exponent: 2 }) {
  const v = (k, d) => (p[k] !== undefined ? p[k] : d);
  return [
    { name: 'name', label: 'Name', value: v('name', '') },
    { name: 'vcpus', label: 'vCPUs', type: 'number', min: 1, max: 64, value: v('vcpus', 1) },
    { name: 'memory_mib', label: 'Memory (MiB)', type: 'number', min: 128, max: 1048576, step: 128, value: v('memory_mib', 1024) },
    { name: 'disk_gib', label: 'Disk (GiB)', type: 'number', min: 1, max: 16384, value: v('disk_gib', 20) },
    { name: 'traffic_gib', label: 'Traffic (GiB/month)', type: 'number', min: 0, value: v('traffic_gib', 0), hint: '0 = unmetered' },
    { name: 'cpu_weight', label: 'CPU weight', type: 'number', min: 1, max: 65535, value: v('cpu_weight', 256), hint: 'Share against other VPS; 256 is the default.' },
    { name: 'cpu_cap_pct', label: 'CPU cap (%)', type: 'number', min: 0, value: v('cpu_cap_pct', 0), hint: '0 = no cap; at most vCPUs × 100.' },
    { name: 'net_mbit', label: 'Network (Mbit/s)', type: 'number', min: 0, max: 100000, value: v('net_mbit', 0), hint: '0 = unlimited' },
    ...priceFields(p, cur),
    { name: 'smtp_block', label: 'Block outbound SMTP (port 25)', type: 'checkbox', value: v('smtp_block', false) },
  ];
}

export async function plansView(ctx) {
  const { main, scope } = ctx;
  const t = table(['Name', 'vCPUs', 'Memory', 'Disk', { label: 'Traffic', class: 'hide-md' }, { label: 'CPU weight / cap', class: 'hide-md' },
    { label: 'Network', class: 'hide-sm' }, { label: 'SMTP', class: 'hide-md' }, { label: 'Price', class: 'num' }, { label: 'Actions', class: 'actions' }],
  { id: 'plan-list' });
  const cur = await loadSettings().then((st) => ({ code: st.currency, exponent: st.currency_exponent }));
  const form = buildForm({ id: 'plan-form', fields: planFields({}, cur), submitLabel: 'Create plan' });
  main.append(pageHeader('Plans'),
    h('section', { class: 'card card-flush' }, t.wrap),
    h('details', { class: 'card create', open: true }, h('summary', { class: 'card-title' }, 'New plan'), form));

  async function load() {
    const { items } = await listAll('/plans');
    if (!scope.alive) return;
    t.tbody.replaceChildren();
    if (items.length === 0) emptyRow(t.tbody, 10, 'No plans yet. Customers need one to get a server.');
    for (const p of items) {
      t.tbody.append(h('tr', { class: 'plan-row', dataset: { id: String(p.id) } },
        h('td', { class: 'name' }, p.name),
        h('td', null, String(p.vcpus)),
        h('td', null, mib(p.memory_mib)),
        h('td', null, `${p.disk_gib} GiB`),
        h('td', { class: 'hide-md' }, p.traffic_gib ? `${p.traffic_gib} GiB` : 'unmetered'),
        h('td', { class: 'hide-md' }, `${p.cpu_weight} / ${p.cpu_cap_pct ? `${p.cpu_cap_pct} %` : 'none'}`),
        h('td', { class: 'hide-sm' }, mbit(p.net_mbit)),
        h('td', { class: 'hide-md' }, p.smtp_block ? 'blocked' : 'open'),
        h('td', { class: 'num price' },
          h('div', { class: 'price-month' }, `${money(p.price_month_cents, cur.code, cur.exponent)}/month`),
          h('div', { class: 'price-hour muted small' }, `${microMoney(p.effective_price_hour_microcents ?? p.price_hour_microcents, cur.code, cur.exponent)}/h`),
          p.overage_gib_microcents ? h('div', { class: 'muted small' }, `over ${p.included_traffic_gib ?? p.traffic_gib} GiB: ${microMoney(p.overage_gib_microcents, cur.code, cur.exponent)}/GiB`) : null,
          p.ipv4_month_cents ? h('div', { class: 'muted small' }, `extra IPv4: ${money(p.ipv4_month_cents, cur.code, cur.exponent)}/month`) : null),
        h('td', { class: 'actions' },
          h('button', { type: 'button', class: 'btn btn-small', onclick: () => edit(p) }, 'Edit'),
          h('button', { type: 'button', class: 'btn btn-small btn-danger-outline', onclick: () => remove(p) }, 'Delete'))));
    }
  }

  onSubmit(form, (body) => api.post('/plans', body), async (p) => {
    form.reset();
    notice(`Plan ${p.name} created.`);
    await load();
  });

  async function edit(p) {
    const saved = await formDialog({
      title: `Edit plan ${p.name}`,
      fields: planFields(p, cur),
      onSubmit: (body) => {
        const diff = changed(body, p);
        return Object.keys(diff).length ? api.patch(`/plans/${seg(p.id)}`, diff) : p;
      },
    });
    if (saved) { notice(`Plan ${p.name} saved; running servers on it get the change through jobs.`); await load(); }
  }

  async function remove(p) {
    clearBanner();
    if (!(await confirmDialog({ title: `Delete plan ${p.name}?`, text: 'Only a plan no server uses can be deleted.', confirmLabel: 'Delete plan' }))) return;
    try {
      await api.del(`/plans/${seg(p.id)}`);
      notice(`Plan ${p.name} deleted.`);
      await load();
    } catch (e) { banner(e); }
  }

  await load();
}
