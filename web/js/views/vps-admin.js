// views/vps-admin.js — admin-only parts of the VPS page: every address (primary, extra,
// releasing) with add/remove, and the throttle (PUT/DELETE /vps/{id}/throttle).
import { h, set, badge, card, table, emptyRow } from '../dom.js';
import { api, seg, listAll } from '../api.js';
import { buildForm, onSubmit } from '../forms.js';
import { banner, clearBanner, confirmDialog, notice } from '../ui.js';
import { mbit } from '../format.js';

export function adminSections(ctx, vps, { refresh, follow }) {
  const id = vps.id;
  let pools = [];

  // ---- addresses ----
  const t = table(['Address', 'Family', 'Pool', 'Kind', 'State', { label: '', class: 'actions' }], { id: 'vps-addresses', class: 'table table-compact' });
  const form = buildForm({
    id: 'address-form', submitLabel: 'Add address', className: 'form-inline',
    fields: [
      { name: 'family', label: 'Family', type: 'select', parse: 'int', value: '4', options: [{ value: 4, label: 'IPv4' }, { value: 6, label: 'IPv6' }] },
      { name: 'pool', label: 'Pool', type: 'select', optional: true, options: [{ value: '', label: 'any pool' }] },
      { name: 'address', label: 'Address', optional: true, placeholder: 'lowest free one', hint: 'Leave empty for the lowest free address.' },
    ],
  });
  const famEl = form.elements.namedItem('family');
  const poolEl = form.elements.namedItem('pool');
  function fillPools() {
    const fam = Number(famEl.value);
    const keep = poolEl.value;
    set(poolEl, h('option', { value: '' }, 'any pool'),
      pools.filter((p) => p.family === fam).map((p) =>
        h('option', { value: String(p.id), selected: String(p.id) === keep }, `${p.cidr} (${p.allocated}/${p.size >= Number.MAX_SAFE_INTEGER ? '∞' : p.size} used)`)));
  }
  famEl.addEventListener('change', fillPools);

  async function loadAddresses() {
    const { items } = await api.list(`/vps/${seg(id)}/addresses`);
    if (!ctx.scope.alive) return;
    t.tbody.replaceChildren();
    if (items.length === 0) emptyRow(t.tbody, 6, 'No addresses.');
    for (const a of items) {
      const shown = a.prefix_len ? `${a.address}/${a.prefix_len}` : a.address;
      const pool = pools.find((p) => String(p.id) === String(a.pool));
      t.tbody.append(h('tr', { dataset: { address: a.address } },
        h('td', null, h('span', { class: 'addr' }, shown)),
        h('td', null, `IPv${a.family}`),
        h('td', null, pool ? pool.cidr : `#${a.pool}`),
        h('td', null, a.extra ? 'extra' : 'primary'),
        h('td', null, badge(a.state)),
        h('td', { class: 'actions' }, a.extra
          ? h('button', { type: 'button', class: 'btn btn-small btn-danger-outline', onclick: () => removeAddress(a, shown) },
            a.state === 'releasing' ? 'Retry release' : 'Remove')
          : h('span', { class: 'muted small', title: 'A primary address stays until the server is deleted.' }, '—'))));
    }
  }

  async function removeAddress(a, shown) {
    clearBanner();
    if (!(await confirmDialog({
      title: `Remove ${shown}?`,
      text: `${shown} leaves ${vps.hostname} at once and is free for others once the network update is done.`,
      confirmLabel: 'Remove address',
    }))) return;
    try {
      const r = await api.del(`/vps/${seg(id)}/addresses/${seg(a.address)}`);
      follow(r.job, `Remove ${shown}`);
      await loadAddresses();
      refresh();
    } catch (e) { banner(e); }
  }

  onSubmit(form, (body) => api.post(`/vps/${seg(id)}/addresses`, body), async (r) => {
    const a = r.address || {};
    form.elements.namedItem('address').value = '';
    notice(`Added ${a.address || 'an address'}.`);
    follow(r.job, `Add ${a.address || 'address'}`);
    await loadAddresses();
    refresh();
  });

  // ---- throttle ----
  const now = h('p', { id: 'throttle-now' });
  const liftBtn = h('button', { type: 'button', class: 'btn', id: 'btn-throttle-lift', onclick: lift }, 'Lift throttle');
  const tform = buildForm({
    id: 'throttle-form', submitLabel: 'Set throttle', className: 'form-inline', extra: [liftBtn],
    fields: [{ name: 'mbit', label: 'Limit (Mbit/s)', type: 'number', min: 1, max: 100000, value: vps.throttle_mbit || '' }],
  });
  onSubmit(tform, (body) => api.put(`/vps/${seg(id)}/throttle`, body), (r) => {
    notice('Throttle set.');
    follow(r.job, 'Throttle');
    refresh();
  });
  async function lift() {
    clearBanner();
    try {
      const r = await api.del(`/vps/${seg(id)}/throttle`);
      notice('Throttle lifted.');
      follow(r.job, 'Lift throttle');
      refresh();
    } catch (e) { banner(e); }
  }

  const el = h('div', { class: 'admin-sections grid-span' },
    h('section', { class: 'card card-wide' }, h('h2', { class: 'card-title' }, 'Addresses (admin)'), t.wrap, h('h3', { class: 'mini' }, 'Add an extra address'), form),
    card('Throttle (admin)', h('p', { class: 'muted' }, 'Limits both directions below the plan\'s rate until lifted.'), now, tform));

  listAll('/ip-pools').then((r) => { pools = r.items; fillPools(); }).catch(() => {}).finally(() => loadAddresses().catch((e) => banner(e)));

  function update(v) {
    vps = v;
    now.textContent = v.throttle_mbit ? `Throttled to ${mbit(v.throttle_mbit)}.` : 'Not throttled.';
    liftBtn.disabled = !v.throttle_mbit;
  }
  return { el, update, reload: loadAddresses };
}
