// views/order-self.js — #/order: a customer orders a server for itself (issue 16 item 8): the
// plans offered to it with their prices (GET /plans is filtered for customers), its limits and
// what it uses, the order form, a refusal naming the limit (#order-limit), then the create job.
import { h, card, pageHeader, table, emptyRow, set } from '../dom.js';
import { api, seg, listAll, ApiError } from '../api.js';
import { buildForm, readForm, clearErrors, showError } from '../forms.js';
import { watchJob } from '../jobs.js';
import { planSummary, mbit } from '../format.js';
import { money, microDecimal, exponentOf } from '../money.js';
import { clearBanner } from '../ui.js';
import { limitSentence, limitFacts } from '../limits.js';

export async function orderSelfView(ctx) {
  const { main, scope, session } = ctx;
  if (ctx.isAdmin) { ctx.navigate('#/admin/order', { replace: true }); return; }
  const me = seg(session.user.id);
  const [plans, templates, bal] = await Promise.all([listAll('/plans'), listAll('/templates'),
    api.get(`/customers/${me}/balance`).catch(() => null)]);
  if (!scope.alive) return;
  const cur = bal ? bal.currency : '';
  const exp = exponentOf(cur);

  const limitsBox = h('div', { id: 'order-limits' });
  async function loadLimits() {
    const lim = await api.get(`/customers/${me}/limits`).catch(() => null);
    if (scope.alive && lim) set(limitsBox, limitFacts(lim));
  }

  const t = table(['Plan', 'Size', { label: 'Traffic', class: 'hide-sm' }, { label: 'Network', class: 'hide-sm' }, 'Per month', { label: 'Per hour', class: 'hide-md' }],
    { id: 'order-plans' });
  if (plans.items.length === 0) emptyRow(t.tbody, 6, 'No plans are offered to your account. Ask your provider.');
  for (const p of plans.items) {
    t.tbody.append(h('tr', { class: 'plan-row', dataset: { id: String(p.id) } },
      h('td', { class: 'plan-name' }, p.name),
      h('td', null, planSummary(p)),
      h('td', { class: 'hide-sm' }, p.traffic_gib ? `${p.traffic_gib} GiB` : 'unmetered'),
      h('td', { class: 'hide-sm' }, mbit(p.net_mbit)),
      h('td', { class: 'plan-price' }, money(p.price_month_cents, cur, exp)),
      h('td', { class: 'hide-md' }, `${cur} ${microDecimal(p.effective_price_hour_microcents, exp)}`.trim())));
  }

  const form = buildForm({
    id: 'order-form', submitLabel: 'Order server',
    fields: [
      { name: 'hostname', label: 'Hostname', placeholder: 'web1.example.net', hint: 'Lower case, RFC 1123, unique among live servers.' },
      { name: 'plan', label: 'Plan', type: 'select', value: plans.items[0] ? plans.items[0].id : '',
        options: plans.items.map((p) => ({ value: p.id, label: `${p.name} — ${planSummary(p)}, ${money(p.price_month_cents, cur, exp)}/month` })) },
      { name: 'template', label: 'Template', type: 'select', value: templates.items[0] ? templates.items[0].id : '',
        options: templates.items.map((x) => ({ value: x.id, label: `${x.name} (${x.os}, ${x.boot})` })) },
      { name: 'ssh_keys', label: 'SSH public keys', type: 'textarea', parse: 'lines', optional: true, wide: true, rows: 3,
        placeholder: 'ssh-ed25519 AAAA… user@host', hint: 'One per line; they reach the server at first boot.' },
    ],
  });
  const limitErr = h('p', { id: 'order-limit', class: 'callout callout-limit', role: 'alert', hidden: true });
  const jobStatus = h('div', { id: 'job-status', class: 'job-status', role: 'status', 'aria-live': 'polite', hidden: true });
  const result = h('p', { id: 'order-result', class: 'order-result', hidden: true });

  main.append(pageHeader('Order a server'),
    card('Plans offered to you', t.wrap),
    card('Your limits', limitsBox),
    card('New server', limitErr, form, jobStatus, result));
  await loadLimits();

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const btn = form.querySelector('button[type=submit]');
    if (btn.disabled) return;
    clearErrors(form);
    clearBanner();
    limitErr.hidden = true;
    btn.disabled = true;
    try {
      const r = await api.post('/vps', readForm(form));
      const v = r.vps;
      form.elements.namedItem('hostname').value = '';
      result.replaceChildren('Ordered ', h('a', { href: `#/vps/${encodeURIComponent(v.id)}` }, v.hostname),
        ` (${[...(v.ipv4 || []), ...(v.ipv6 || [])].join(', ') || 'no addresses'}).`);
      result.hidden = false;
      watchJob(scope, jobStatus, r.job, { label: `Create ${v.hostname}` });
      await loadLimits();
    } catch (err) {
      if (err instanceof ApiError && err.limit) {
        limitErr.textContent = limitSentence(err.limit);
        limitErr.dataset.limit = err.limit.limit;
        limitErr.hidden = false;
      } else if (err instanceof ApiError) showError(form, err);
      else throw err;
    } finally {
      btn.disabled = false;
    }
  });
}
