// views/invoice.js — #/invoices/ID: an issued invoice as a printable A4 page (print CSS in
// app.css hides everything but .invoice-doc): the provider's name and address (the invoice's
// own copy, from the settings when it was issued), the customer, the lines, the totals and the
// credit notes; a Print button (window.print()) and the CSV. Admins issue credit notes here.
import { h, pageHeader } from '../dom.js';
import { api, seg, ApiError } from '../api.js';
import { formDialog } from '../forms.js';
import { notice } from '../ui.js';
import { linesTable, csvUrl, day, period, invoiceState } from '../billing.js';
import { money, exponentOf } from '../money.js';

export async function invoiceView(ctx) {
  const { main, scope, params } = ctx;
  const id = params[0];
  let inv;
  try {
    inv = await api.get(`/invoices/${seg(id)}`);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 422)) { ctx.notFound('invoice'); return; }
    throw e;
  }
  if (!scope.alive) return;
  const e = exponentOf(inv.currency);
  const m = (v) => money(v, inv.currency, e);
  const back = ctx.isAdmin ? h('a', { href: `#/admin/customers/${encodeURIComponent(inv.customer)}/billing` }, `‹ Billing of ${inv.customer_name}`)
    : h('a', { href: '#/billing' }, '‹ Billing');
  const creditBtn = ctx.isAdmin && inv.remaining_cents > 0
    ? h('button', { type: 'button', class: 'btn', id: 'btn-credit-note', onclick: () => creditNote() }, 'Issue credit note') : null;

  main.append(
    h('div', { class: 'no-print' },
      h('p', { class: 'crumbs' }, back),
      pageHeader(`Invoice ${inv.number}`,
        h('button', { type: 'button', class: 'btn btn-primary', id: 'btn-print', onclick: () => window.print() }, 'Print'),
        h('a', { class: 'btn', id: 'invoice-csv', href: csvUrl(inv.id), download: `${inv.number}.csv` }, 'Download CSV'),
        creditBtn)),
    doc(inv, m, e));

  async function creditNote() {
    const made = await formDialog({
      title: `Credit note on ${inv.number}`,
      id: 'credit-note-dialog',
      submitLabel: 'Issue credit note',
      fields: [
        { name: 'amount_cents', label: `Amount (${inv.currency})`, parse: 'decimal', scale: e, optional: true,
          hint: `Empty = all that remains (${m(inv.remaining_cents)}).` },
        { name: 'reason', label: 'Reason', wide: true, hint: 'Printed on the credit note (1–200 characters).' },
      ],
      onSubmit: (body) => api.post(`/invoices/${seg(inv.id)}/credit-notes`, body),
    });
    if (made) {
      notice(`Credit note ${made.number} issued.`);
      ctx.navigate(`#/invoices/${encodeURIComponent(inv.id)}`, { replace: true });
    }
  }
}

function doc(inv, m, e) {
  const notes = Array.isArray(inv.credit_notes) ? inv.credit_notes : [];
  return h('article', { class: 'invoice-doc card', id: 'invoice-doc', dataset: { id: String(inv.id) } },
    h('header', { class: 'invoice-top' },
      h('div', { class: 'invoice-provider' },
        h('div', { class: 'provider-name', id: 'provider-name' }, inv.provider_name || 'Provider name not set'),
        h('div', { class: 'provider-address', id: 'provider-address' }, inv.provider_address || '')),
      h('div', { class: 'invoice-title' },
        h('h2', null, 'Invoice'),
        h('dl', { class: 'facts invoice-meta' },
          h('dt', null, 'Number'), h('dd', { id: 'invoice-number' }, inv.number),
          h('dt', null, 'Issued'), h('dd', null, day(inv.issued_at)),
          h('dt', null, 'Period'), h('dd', null, period(inv.period_start, inv.period_end)),
          h('dt', null, 'Currency'), h('dd', null, inv.currency),
          h('dt', null, 'Status'), h('dd', { id: 'invoice-state' }, invoiceState(inv))))),
    h('section', { class: 'invoice-to' },
      h('div', { class: 'muted small' }, 'Bill to'),
      h('div', { class: 'customer-name', id: 'invoice-customer' }, inv.customer_name),
      inv.customer_email ? h('div', null, inv.customer_email) : null),
    linesTable(inv).wrap,
    h('dl', { class: 'invoice-totals', id: 'invoice-totals' },
      h('dt', null, 'Total'), h('dd', { id: 'invoice-total' }, m(inv.total_cents)),
      inv.credited_cents ? [h('dt', null, 'Credited'), h('dd', { id: 'invoice-credited' }, `−${m(inv.credited_cents)}`)] : null,
      inv.credited_cents ? [h('dt', { class: 'due' }, 'Remaining'), h('dd', { class: 'due', id: 'invoice-remaining' }, m(inv.remaining_cents))] : null),
    notes.length ? h('section', { class: 'invoice-credit-notes', id: 'credit-notes' },
      h('h3', { class: 'mini' }, 'Credit notes'),
      h('ul', { class: 'plain-list' }, notes.map((n) => h('li', { class: 'credit-note', dataset: { id: String(n.id) } },
        h('strong', { class: 'cn-number' }, n.number), ` of ${day(n.created_at)}: `,
        h('span', { class: 'cn-amount' }, `−${money(n.amount_cents, n.currency || inv.currency, e)}`), ' — ',
        h('span', { class: 'cn-reason' }, n.reason))))) : null,
    h('footer', { class: 'invoice-foot muted small' },
      `Amounts in ${inv.currency}; each line rounded once (half up). Issued invoices never change: corrections are credit notes.`));
}
