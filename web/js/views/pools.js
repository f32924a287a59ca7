// views/pools.js — #/admin/pools: IPv4/IPv6 pools with their use; create (incl. vps_prefix),
// delete; the DNS resolvers the pool's servers get through their seed (issue 16 item 2).
import { h, table, emptyRow, pageHeader } from '../dom.js';
import { api, seg, listAll } from '../api.js';
import { buildForm, onSubmit, formDialog } from '../forms.js';
import { banner, clearBanner, confirmDialog, notice } from '../ui.js';
import { count } from '../format.js';

const RESOLVERS_FIELD = { name: 'resolvers', label: 'DNS resolvers', type: 'textarea', parse: 'list', optional: true, wide: true,
  placeholder: '192.0.2.53 2001:db8::53', hint: 'Up to 3 IPv4 or IPv6 addresses; the pool\'s servers write them to /etc/resolv.conf at their next boot.' };

const FIELDS = [
  { name: 'family', label: 'Family', type: 'select', parse: 'int', value: '4', options: [{ value: 4, label: 'IPv4' }, { value: 6, label: 'IPv6' }] },
  { name: 'cidr', label: 'Network (CIDR)', placeholder: '198.51.100.0/24' },
  { name: 'gateway', label: 'Gateway', placeholder: '198.51.100.1' },
  { name: 'vps_prefix', label: 'Each server gets', type: 'select', parse: 'int', optional: true, value: '', options: [
    { value: '', label: 'one address (default)' }, { value: 32, label: 'one IPv4 address (/32)' },
    { value: 128, label: 'one IPv6 address (/128)' }, { value: 64, label: 'a routed IPv6 /64' }] },
  { name: 'reserved', label: 'Reserved addresses', type: 'textarea', parse: 'list', optional: true, wide: true,
    placeholder: '198.51.100.2 198.51.100.3', hint: 'Never handed out; separate them with spaces, commas or new lines.' },
  RESOLVERS_FIELD,
];

function usage(p) {
  const pct = p.size > 0 ? Math.min(100, (p.allocated / p.size) * 100) : 0;
  const meter = h('meter', { min: 0, max: 100, value: pct, low: 70, high: 90, optimum: 0, 'aria-label': 'in use' });
  const unit = p.vps_prefix === 64 ? '/64s' : 'addresses';
  return [meter, ' ', `${count(p.allocated)} of ${count(p.size)} ${unit}`];
}

export async function poolsView(ctx) {
  const { main, scope } = ctx;
  const t = table(['Network', 'Family', 'Gateway', 'Per server', 'In use', { label: 'Reserved', class: 'hide-md' }, 'DNS resolvers', { label: 'Actions', class: 'actions' }],
    { id: 'pool-list' });
  const form = buildForm({ id: 'pool-form', fields: FIELDS, submitLabel: 'Create pool' });
  main.append(pageHeader('IP pools'),
    h('section', { class: 'card card-flush' }, t.wrap),
    h('details', { class: 'card create', open: true }, h('summary', { class: 'card-title' }, 'New pool'), form));

  async function load() {
    const { items } = await listAll('/ip-pools');
    if (!scope.alive) return;
    t.tbody.replaceChildren();
    if (items.length === 0) emptyRow(t.tbody, 8, 'No pools yet. A server needs an address from each family that has a pool.');
    for (const p of items) {
      const res = Array.isArray(p.reserved) ? p.reserved : [];
      t.tbody.append(h('tr', { class: 'pool-row', dataset: { id: String(p.id) } },
        h('td', { class: 'cidr' }, h('span', { class: 'addr' }, p.cidr)),
        h('td', null, `IPv${p.family}`),
        h('td', null, h('span', { class: 'addr' }, p.gateway)),
        h('td', null, `/${p.vps_prefix}`),
        h('td', { class: 'usage' }, usage(p)),
        h('td', { class: 'hide-md', title: res.join(' ') }, res.length ? `${res.length}` : h('span', { class: 'muted' }, 'none')),
        h('td', { class: 'resolvers' }, Array.isArray(p.resolvers) && p.resolvers.length
          ? h('span', { class: 'addr' }, p.resolvers.join(' ')) : h('span', { class: 'muted' }, 'none')),
        h('td', { class: 'actions' },
          h('button', { type: 'button', class: 'btn btn-small', onclick: () => editResolvers(p) }, 'Resolvers…'), ' ',
          h('button', { type: 'button', class: 'btn btn-small btn-danger-outline', onclick: () => remove(p) }, 'Delete'))));
    }
  }

  onSubmit(form, (body) => api.post('/ip-pools', body), async (p) => {
    form.reset();
    notice(`Pool ${p.cidr} created.`);
    await load();
  });

  async function editResolvers(p) {
    const done = await formDialog({
      title: `DNS resolvers of ${p.cidr}`, id: 'resolvers-dialog', submitLabel: 'Save',
      fields: [{ ...RESOLVERS_FIELD, optional: false, value: (p.resolvers || []).join(' ') }],
      onSubmit: (body) => api.patch(`/ip-pools/${seg(p.id)}`, { resolvers: body.resolvers || [] }),
    });
    if (done) { notice(`Resolvers of ${p.cidr} saved; servers take them at their next start or reboot from the panel.`); await load(); }
  }

  async function remove(p) {
    clearBanner();
    if (!(await confirmDialog({ title: `Delete pool ${p.cidr}?`, text: 'Only a pool without allocated addresses can be deleted.', confirmLabel: 'Delete pool' }))) return;
    try {
      await api.del(`/ip-pools/${seg(p.id)}`);
      notice(`Pool ${p.cidr} deleted.`);
      await load();
    } catch (e) { banner(e); }
  }

  await load();
}
