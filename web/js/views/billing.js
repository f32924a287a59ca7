// views/billing.js — #/billing, the customer's money: balance (and prepaid state), the current
// period's running cost with its draft lines, the issued invoices (each a printable page and a
// CSV), the payments. Refreshed every 60 s (the draft grows by the hour).
import { h, card, pageHeader, set } from '../dom.js';
import { api, seg, listAll } from '../api.js';
import { balanceFacts, invoiceTable, paymentTable, linesTable, period } from '../billing.js';
import { money, exponentOf } from '../money.js';

export async function billingView(ctx) {
  const { main, scope, session } = ctx;
  if (ctx.isAdmin) { ctx.navigate('#/admin/billing', { replace: true }); return; }
  const me = seg(session.user.id);
  const balanceBox = h('div', { id: 'balance' });
  const draftBox = h('div', { id: 'draft' });
  const inv = invoiceTable();
  const pay = paymentTable();
  main.append(pageHeader('Billing'),
    card('Balance', balanceBox),
    card('Current period', draftBox),
    h('section', { class: 'card card-flush' }, h('h2', { class: 'card-title card-title-pad' }, 'Invoices'), inv.wrap),
    h('section', { class: 'card card-flush' }, h('h2', { class: 'card-title card-title-pad' }, 'Payments and credits'), pay.wrap));

  async function load() {
    const [bal, draft, invoices, payments] = await Promise.all([
      api.get(`/customers/${me}/balance`),
      api.get(`/customers/${me}/draft-invoice`),
      listAll('/invoices'),
      api.list(`/customers/${me}/payments`, { limit: 50 }),
    ]);
    if (!scope.alive) return;
    set(balanceBox, balanceFacts(bal),
      bal.prepaid && bal.state !== 'ok'
        ? h('p', { class: `callout callout-${bal.state}`, id: 'balance-warning' },
          bal.state === 'suspended'
            ? 'Your servers are suspended until a payment brings the balance back above the limit.'
            : 'Your balance is low: please top it up before your servers are suspended.')
        : null);
    const e = exponentOf(draft.currency);
    set(draftBox,
      h('p', { class: 'draft-head' }, h('span', { class: 'muted' }, `${period(draft.period_start, draft.period_end)}: `),
        h('strong', { id: 'draft-total' }, money(draft.total_cents, draft.currency, e)),
        h('span', { class: 'muted' }, ' so far (a draft; the invoice is issued when the period closes)')),
      linesTable(draft, 'draft-lines').wrap);
    inv.fill(invoices.items, 'No invoices yet.');
    pay.fill(payments.items);
  }
  await load();
  scope.poll(load, 60000);
}
