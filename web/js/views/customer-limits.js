// views/customer-limits.js — #/admin/customers/ID/limits: the limits an admin sets on one
// customer (issue 16 item 8; PATCH /customers/{id}/limits): how many servers, vCPUs, MiB of
// memory and GiB of disk in all (empty: no limit) and which plans it may order (all, or the
// ones ticked), next to what it uses now.
import { h, card, pageHeader, set } from '../dom.js';
import { api, seg, listAll, ApiError } from '../api.js';
import { buildForm, readForm, clearErrors, showError } from '../forms.js';
import { clearBanner, notice } from '../ui.js';
import { planSummary } from '../format.js';
import { limitFacts } from '../limits.js';

const NUMBERS = [
  ['max_vps', 'Servers'], ['max_vcpus', 'vCPUs in all'], ['max_memory_mib', 'Memory in all (MiB)'], ['max_disk_gib', 'Disk in all (GiB)'],
];

export async function customerLimitsView(ctx) {
  const { main, scope, params } = ctx;
  const id = params[0];
  const path = `/customers/${seg(id)}`;
  let cust;
  try {
    cust = await api.get(path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) { ctx.notFound('customer'); return; }
    throw e;
  }
  const [lim, plans] = await Promise.all([api.get(`${path}/limits`), listAll('/plans')]);
  if (!scope.alive) return;

  const usedBox = h('div', { id: 'limits-used' }, limitFacts(lim));
  const form = buildForm({
    id: 'limits-form', submitLabel: 'Save limits',
    fields: NUMBERS.map(([name, label]) => ({
      name, label, type: 'number', min: 0, optional: true, value: lim[name] ?? '', hint: 'Empty: no limit.',
    })),
  });
  const all = h('input', { type: 'checkbox', id: 'limits-all-plans', checked: !Array.isArray(lim.plans) });
  const offered = new Set((lim.plans || []).map(String));
  const boxes = plans.items.map((p) => h('label', { class: 'check-row' },
    h('input', { type: 'checkbox', name: 'limit-plan', value: String(p.id), checked: offered.has(String(p.id)) }),
    ` ${p.name} — ${planSummary(p)}`));
  const list = h('div', { id: 'limits-plans', class: 'check-list', hidden: all.checked }, boxes);
  all.addEventListener('change', () => { list.hidden = all.checked; });
  const plansField = h('fieldset', { class: 'field field-wide' },
    h('legend', null, 'Plans it may order and resize to'),
    h('label', { for: 'limits-all-plans' }, all, ' All plans'), list,
    h('div', { class: 'field-error', dataset: { field: 'plans' } }));
  form.querySelector('.form-grid').append(plansField);

  main.append(pageHeader(`Limits of ${cust.username}`),
    h('p', { class: 'muted' }, 'Orders and resizes beyond these are refused with the limit named; what the customer holds already stays.'),
    card('In use', usedBox), card('Limits', form));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const btn = form.querySelector('button[type=submit]');
    clearErrors(form);
    clearBanner();
    const body = readForm(form);
    for (const [name] of NUMBERS) if (!(name in body)) body[name] = null;
    body.plans = all.checked ? null : [...list.querySelectorAll('input:checked')].map((i) => i.value);
    btn.disabled = true;
    try {
      const saved = await api.patch(`${path}/limits`, body);
      set(usedBox, limitFacts(saved));
      notice(`Limits of ${cust.username} saved.`);
    } catch (err) {
      if (err instanceof ApiError) showError(form, err); else throw err;
    } finally {
      btn.disabled = false;
    }
  });
}
