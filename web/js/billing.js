// billing.js — what the billing pages share: the settings, the balance facts, the invoice and
// payment tables (issue 14 item 6). Amounts stay integers in minor units (money.js formats them).
import { h, table, emptyRow } from './dom.js';
import { api, seg } from './api.js';
import { timeEl } from './format.js';
import { money, microDecimal, exponentOf } from './money.js';

/** GET /settings (admin): {currency, currency_exponent, provider_name, provider_address}. */
export function loadSettings() {
  return api.get('/settings');
}

/** The invoice CSV's URL (GET with the session cookie: a plain link downloads it). */
export const csvUrl = (id) => `/api/v1/invoices/${seg(id)}?format=csv`;

/** A date of a period bound: "2026-12-01" (UTC: periods are cut in the billing time zone). */
export function day(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toISOString().slice(0, 10);
}

export function period(start, end) {
  return `${day(start)} – ${day(end)}`;
}

/** The state of a balance as a badge-like label: ok, low, suspended (prepaid only). */
export function balanceState(b) {
  const s = b && typeof b.state === 'string' ? b.state : 'unknown';
  return h('span', { class: `badge badge-balance-${['ok', 'low', 'suspended'].includes(s) ? s : 'unknown'}`, id: 'balance-state' }, s);
}

/** The facts of GET /customers/{id}/balance as a <dl>; ids for the tests on the main numbers. */
export function balanceFacts(b) {
  const m = (v) => money(v, b.currency, exponentOf(b.currency));
  const row = (label, value, id, cls) => [h('dt', null, label), h('dd', { id, class: cls }, value)];
  return h('dl', { class: 'facts balance-facts' },
    row('Balance', m(b.balance_cents), 'balance-amount', `balance-amount${b.balance_cents < 0 ? ' negative' : ''}`),
    row('Account', b.prepaid ? ['prepaid ', balanceState(b)] : 'invoiced after each period', 'balance-mode'),
    b.prepaid ? row('Low-balance notice below', m(b.low_balance_cents), 'balance-low') : null,
    b.prepaid ? row('Servers suspended below', m(b.suspend_below_cents), 'balance-suspend') : null,
    row('This period', period(b.period_start, b.period_end), 'balance-period'),
    row('Running cost so far', m(b.running_cost_cents), 'running-cost'),
    row('Payments and credits', m(b.payments_cents), 'balance-payments', 'muted-dd'),
    row('Credit notes', m(b.credit_notes_cents), 'balance-credit-notes', 'muted-dd'),
    row('Invoiced', m(b.invoiced_cents), 'balance-invoiced', 'muted-dd'),
    b.prepaid || b.drawn_cents ? row('Drawn this period (prepaid)', m(b.drawn_cents), 'balance-drawn', 'muted-dd') : null);
}

/** "issued", "credited" (fully) or "part credited" for an issued invoice. */
export function invoiceState(inv) {
  if (inv.status !== 'issued') return inv.status || 'unknown';
  if (inv.credited_cents > 0 && inv.remaining_cents <= 0) return 'credited';
  if (inv.credited_cents > 0) return 'part credited';
  return 'issued';
}

/** An invoice table: rows link to #/invoices/ID and carry the CSV link. */
export function invoiceTable({ id = 'invoice-list', customerColumn = false } = {}) {
  const head = ['Number', customerColumn ? 'Customer' : null, 'Period', { label: 'Issued', class: 'hide-sm' },
    { label: 'Total', class: 'num' }, { label: 'Credited', class: 'num hide-md' }, 'Status', { label: 'CSV', class: 'actions' }].filter(Boolean);
  const t = table(head, { id });
  t.cols = head.length;
  t.fill = (items, empty) => {
    t.tbody.replaceChildren();
    if (items.length === 0) emptyRow(t.tbody, head.length, empty);
    for (const inv of items) {
      const m = (v) => money(v, inv.currency, exponentOf(inv.currency));
      t.tbody.append(h('tr', { class: 'invoice-row', dataset: { id: String(inv.id), customer: String(inv.customer) } },
        h('td', { class: 'number' }, h('a', { href: `#/invoices/${encodeURIComponent(inv.id)}` }, inv.number || '—')),
        customerColumn ? h('td', { class: 'customer' },
          h('a', { href: `#/admin/customers/${encodeURIComponent(inv.customer)}/billing` }, inv.customer_name || String(inv.customer))) : null,
        h('td', { class: 'nowrap' }, period(inv.period_start, inv.period_end)),
        h('td', { class: 'hide-sm' }, timeEl(inv.issued_at)),
        h('td', { class: 'num total' }, m(inv.total_cents)),
        h('td', { class: 'num hide-md' }, inv.credited_cents ? m(inv.credited_cents) : '—'),
        h('td', { class: 'state' }, invoiceState(inv)),
        h('td', { class: 'actions' }, h('a', { class: 'btn btn-small csv-link', href: csvUrl(inv.id), download: `${inv.number || 'invoice'}.csv` }, 'CSV'))));
    }
  };
  return t;
}

/** A payments table (GET /customers/{id}/payments). */
export function paymentTable(id = 'payment-list') {
  const t = table(['Date', 'Kind', { label: 'Amount', class: 'num' }, 'Reference', { label: 'Note', class: 'hide-sm' }, { label: 'By', class: 'hide-md' }], { id });
  t.fill = (items) => {
    t.tbody.replaceChildren();
    if (items.length === 0) emptyRow(t.tbody, 6, 'No payments recorded.');
    for (const p of items) {
      t.tbody.append(h('tr', { class: 'payment-row', dataset: { id: String(p.id) } },
        h('td', { class: 'nowrap' }, timeEl(p.created_at)),
        h('td', null, p.kind),
        h('td', { class: 'num amount' }, money(p.amount_cents, p.currency, exponentOf(p.currency))),
        h('td', { class: 'detail' }, p.reference || '—'),
        h('td', { class: 'hide-sm detail' }, p.note || '—'),
        h('td', { class: 'hide-md' }, p.by || '—')));
    }
  };
  return t;
}

/** The lines of an invoice (or a draft) as a table. */
export function linesTable(inv, id = 'invoice-lines') {
  const cur = inv.currency;
  const e = exponentOf(cur);
  const t = table([{ label: '#', class: 'num' }, 'Description', { label: 'Quantity', class: 'num' },
    { label: `Unit price (${cur})`, class: 'num' }, { label: `Amount (${cur})`, class: 'num' }], { id, class: 'table invoice-lines' });
  const lines = Array.isArray(inv.lines) ? inv.lines : [];
  if (lines.length === 0) emptyRow(t.tbody, 5, 'No lines.');
  for (const l of lines) {
    t.tbody.append(h('tr', { class: 'line-row', dataset: { kind: l.kind } },
      h('td', { class: 'num' }, String(l.position)),
      h('td', { class: 'description' }, l.description,
        l.from && l.to ? h('div', { class: 'line-span muted small' }, `${day(l.from)} – ${day(l.to)}`) : null,
        typeof l.cap_cents === 'number' ? h('div', { class: 'muted small' }, `capped at ${money(l.cap_cents, cur, e)}`) : null),
      h('td', { class: 'num nowrap' }, `${l.quantity} ${l.unit === 'hour' ? (l.quantity === 1 ? 'hour' : 'hours') : l.unit}`),
      h('td', { class: 'num' }, microDecimal(l.unit_price_microcents, e)),
      h('td', { class: 'num amount' }, money(l.amount_cents, null, e))));
  }
  return t;
}

/** Runs fn over items, at most n at a time; resolves the results in order. */
export async function mapLimit(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}
