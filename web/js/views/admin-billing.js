// views/admin-billing.js — #/admin/billing: the customers below their low-balance threshold
// (prepaid balances in state low or suspended) with every customer's balance, and the provider
// settings printed on invoices (name, address, currency).
// The API has no "balances of all customers" route: this page reads GET /customers/{id}/balance
// per customer, 6 at a time (fine for hundreds of customers, slow for many thousands).
import { h, card, table, emptyRow, pageHeader } from '../dom.js';
import { api, seg, listAll } from '../api.js';
import { buildForm, onSubmit, changed } from '../forms.js';
import { notice } from '../ui.js';
import { loadSettings, balanceState, mapLimit } from '../billing.js';
import { money, exponentOf } from '../money.js';

export async function adminBillingView(ctx) {
  const { main, scope } = ctx;
  let settings = await loadSettings();
  if (!scope.alive) return;
  const low = table(['Customer', 'State', { label: 'Balance', class: 'num' }, { label: 'Notice below', class: 'num hide-sm' },
    { label: 'Suspended below', class: 'num hide-sm' }, { label: 'Actions', class: 'actions' }], { id: 'low-balance-list' });
  const all = table(['Customer', 'Account', { label: 'Balance', class: 'num' }, { label: 'Running cost', class: 'num hide-sm' }, { label: 'Actions', class: 'actions' }],
    { id: 'balance-list' });
  const settingsBox = h('div', { id: 'settings-box' });
  main.append(pageHeader('Billing'),
    h('section', { class: 'card card-flush' }, h('h2', { class: 'card-title card-title-pad' }, 'Below their low-balance threshold'), low.wrap),
    card('Provider settings', settingsBox),
    h('section', { class: 'card card-flush' }, h('h2', { class: 'card-title card-title-pad' }, 'All balances'), all.wrap));

  function showSettings() {
    const f = buildForm({
      id: 'settings-form',
      fields: [
        { name: 'provider_name', label: 'Provider name', value: settings.provider_name, hint: 'Printed at the top of every invoice issued from now on.' },
        { name: 'currency', label: 'Currency (ISO 4217)', value: settings.currency, hint: `Now ${settings.currency} (${settings.currency_exponent} decimal places); changeable only before the first money record.` },
        { name: 'provider_address', label: 'Provider address', type: 'textarea', rows: 4, value: settings.provider_address, wide: true },
      ],
    });
    onSubmit(f, (body) => {
      if (body.currency) body.currency = body.currency.toUpperCase();
      const diff = changed(body, settings);
      return Object.keys(diff).length ? api.patch('/settings', diff) : settings;
    }, (s) => {
      settings = s;
      notice('Settings saved.');
      showSettings();
    });
    settingsBox.replaceChildren(f);
  }
  showSettings();

  const actions = (c) => h('td', { class: 'actions' },
    h('a', { class: 'btn btn-small', href: `#/admin/customers/${encodeURIComponent(c.id)}/billing` }, 'Billing'));

  async function load() {
    const customers = (await listAll('/customers')).items;
    const bals = await mapLimit(customers, 6, (c) => api.get(`/customers/${seg(c.id)}/balance`).catch(() => null));
    if (!scope.alive) return;
    low.tbody.replaceChildren();
    all.tbody.replaceChildren();
    let nLow = 0;
    customers.forEach((c, i) => {
      const b = bals[i];
      if (!b) return;
      const m = (v) => money(v, b.currency, exponentOf(b.currency));
      if (b.state === 'low' || b.state === 'suspended') {
        nLow++;
        low.tbody.append(h('tr', { class: 'low-row', dataset: { id: String(c.id) } },
          h('td', { class: 'username' }, c.username),
          h('td', null, balanceState(b)),
          h('td', { class: 'num balance' }, m(b.balance_cents)),
          h('td', { class: 'num hide-sm' }, m(b.low_balance_cents)),
          h('td', { class: 'num hide-sm' }, m(b.suspend_below_cents)),
          actions(c)));
      }
      all.tbody.append(h('tr', { class: 'balance-row', dataset: { id: String(c.id) } },
        h('td', { class: 'username' }, c.username),
        h('td', null, b.prepaid ? ['prepaid ', balanceState(b)] : 'invoiced'),
        h('td', { class: 'num balance' }, m(b.balance_cents)),
        h('td', { class: 'num hide-sm' }, m(b.running_cost_cents)),
        actions(c)));
    });
    if (nLow === 0) emptyRow(low.tbody, 6, 'No prepaid customer is below the threshold.');
    if (customers.length === 0) emptyRow(all.tbody, 5, 'No customers yet.');
  }
  await load();
  scope.poll(load, 60000);
}
