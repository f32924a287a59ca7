// views/customer-billing.js — #/admin/customers/ID/billing: one customer's balance, a payment or
// credit to record, prepaid mode and thresholds, a final invoice now, its payments and invoices.
import { h, card, pageHeader, set } from '../dom.js';
import { api, seg, listAll, ApiError } from '../api.js';
import { buildForm, onSubmit } from '../forms.js';
import { banner, clearBanner, confirmDialog, notice } from '../ui.js';
import { balanceFacts, invoiceTable, paymentTable } from '../billing.js';
import { money, exponentOf, toInput } from '../money.js';

export async function customerBillingView(ctx) {
  const { main, scope, params } = ctx;
  const id = params[0];
  let cust;
  try {
    cust = await api.get(`/customers/${seg(id)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) { ctx.notFound('customer'); return; }
    throw e;
  }
  const path = `/customers/${seg(id)}`;
  let bal = await api.get(`${path}/balance`);
  if (!scope.alive) return;
  const e = exponentOf(bal.currency);
  const cur = bal.currency;

  const balanceBox = h('div', { id: 'balance' });
  const payForm = buildForm({
    id: 'payment-form',
    submitLabel: 'Record',
    fields: [
      { name: 'amount_cents', label: `Amount (${cur})`, parse: 'decimal', scale: e },
      { name: 'kind', label: 'Kind', type: 'select', value: 'payment',
        options: [{ value: 'payment', label: 'payment (money received)' }, { value: 'credit', label: 'credit (goodwill)' }] },
      { name: 'reference', label: 'Reference', optional: true, hint: 'e.g. the bank transfer\'s reference' },
      { name: 'note', label: 'Note', optional: true },
    ],
  });
  const prepaidForm = h('div', { id: 'prepaid-box' });
  const inv = invoiceTable({ id: 'customer-invoice-list' });
  const pay = paymentTable();
  const invoiceNow = h('button', { type: 'button', class: 'btn', id: 'btn-invoice-now', onclick: () => issueNow() }, 'Invoice now');

  main.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/admin/customers' }, '‹ Customers')),
    pageHeader(`Billing of ${cust.username}`, invoiceNow,
      h('a', { class: 'btn', href: `#/admin/invoices?customer=${encodeURIComponent(id)}` }, 'All its invoices')),
    h('div', { class: 'grid' },
      card('Balance', balanceBox),
      card('Record a payment or credit', payForm),
      card('Prepaid', prepaidForm)),
    h('section', { class: 'card card-flush' }, h('h2', { class: 'card-title card-title-pad' }, 'Invoices'), inv.wrap),
    h('section', { class: 'card card-flush' }, h('h2', { class: 'card-title card-title-pad' }, 'Payments and credits'), pay.wrap));

  function showBalance() {
    set(balanceBox, balanceFacts(bal));
    const f = buildForm({
      id: 'prepaid-form',
      submitLabel: 'Save',
      fields: [
        { name: 'prepaid', label: 'Prepaid (usage drawn down hourly)', type: 'checkbox', value: bal.prepaid },
        { name: 'low_balance_cents', label: `Low-balance notice below (${cur})`, parse: 'decimal', scale: e, value: toInput(bal.low_balance_cents, e) },
        { name: 'suspend_below_cents', label: `Suspend below (${cur})`, parse: 'decimal', scale: e, value: toInput(bal.suspend_below_cents, e), hint: '0 or negative.' },
      ],
    });
    onSubmit(f, (body) => {
      const diff = {};
      for (const [k, v] of Object.entries(body)) if (v !== bal[k]) diff[k] = v;
      return Object.keys(diff).length ? api.patch(`${path}/billing`, diff) : bal;
    }, async (b) => {
      bal = b;
      notice(`Prepaid settings of ${cust.username} saved.`);
      showBalance();
    });
    set(prepaidForm, f);
  }

  async function loadLists() {
    const [invoices, payments] = await Promise.all([
      listAll('/invoices', { customer: id }),
      api.list(`${path}/payments`, { limit: 100 }),
    ]);
    if (!scope.alive) return;
    inv.fill(invoices.items, 'No invoices yet.');
    pay.fill(payments.items);
  }

  async function reload() {
    bal = await api.get(`${path}/balance`);
    if (!scope.alive) return;
    showBalance();
    await loadLists();
  }

  onSubmit(payForm, (body) => api.post(`${path}/payments`, body), async (p) => {
    payForm.reset();
    notice(`${p.kind === 'credit' ? 'Credit' : 'Payment'} of ${money(p.amount_cents, p.currency || cur, e)} recorded for ${cust.username}.`);
    await reload();
  });

  async function issueNow() {
    clearBanner();
    if (!(await confirmDialog({
      title: `Invoice ${cust.username} now?`,
      text: 'Closes the open period now and issues its invoice (a final invoice). Issued invoices cannot be changed.',
      confirmLabel: 'Issue invoice', danger: false,
    }))) return;
    try {
      const i = await api.post(`${path}/invoices`, {});
      notice(`Invoice ${i.number} issued.`);
      await reload();
    } catch (err) { banner(err); }
  }

  showBalance();
  await loadLists();
}
