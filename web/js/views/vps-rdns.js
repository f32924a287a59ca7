// views/vps-rdns.js — the Reverse DNS card of the VPS page (issue 16 item 4): one row per
// address of the server with its PTR name (GET /vps/{id}/rdns), Save (PUT
// /vps/{id}/rdns/{address}) and Clear (DELETE), whether PowerDNS published it, and for each
// routed /64 a row to name any address inside it. A name that is not a valid FQDN or does not
// resolve to the address is refused by the API at its field; PowerDNS down or refusing: a banner.
import { h, set, card } from '../dom.js';
import { api, seg, ApiError } from '../api.js';
import { banner, clearBanner } from '../ui.js';

export function rdnsCard(scope, vpsId) {
  const note = h('p', { id: 'rdns-note', class: 'muted' });
  const rows = h('tbody', { id: 'rdns-rows' });
  const extra = h('div', { id: 'rdns-prefixes' });
  const el = card('Reverse DNS', note,
    h('div', { class: 'table-wrap' },
      h('table', { class: 'table', id: 'rdns-table' },
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, 'Address'), h('th', { scope: 'col' }, 'Name (PTR)'),
          h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, ''))),
        rows)),
    extra);
  el.id = 'rdns-card';
  el.classList.add('grid-span'); // the table needs the page's width

  // Addresses go into the path as they are (colons included); anything else is no address.
  const isAddr = (a) => /^[0-9a-fA-F:.]{2,45}$/.test(a);
  const path = (addr) => `/vps/${seg(vpsId)}/rdns/${addr}`;

  async function save(addr, input, slot) {
    clearBanner();
    slot.textContent = '';
    const name = input.value.trim();
    if (!isAddr(addr)) { slot.textContent = 'Enter an IPv6 address inside the prefix.'; return; }
    if (!name) { slot.textContent = 'Enter a name, or use Clear.'; return; }
    try {
      await api.put(path(addr), { name });
      await refresh();
    } catch (e) {
      if (e instanceof ApiError && (e.field === 'name' || e.status === 404)) slot.textContent = e.detail;
      else banner(e);
    }
  }

  async function clear(addr, slot) {
    clearBanner();
    slot.textContent = '';
    try {
      await api.del(path(addr));
      await refresh();
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) slot.textContent = e.detail; else banner(e);
    }
  }

  function row(r, i) {
    const input = h('input', { type: 'text', id: `rdns-name-${i}`, class: 'rdns-name', value: r.name || '',
      placeholder: 'host.example.net', autocomplete: 'off', spellcheck: 'false', 'aria-label': `PTR name of ${r.address}` });
    const slot = h('div', { class: 'field-error', dataset: { field: 'name' } });
    const status = r.name ? (r.published ? 'published' : 'not published') : '—';
    return h('tr', { dataset: { address: r.address } },
      h('td', null, h('span', { class: 'addr' }, r.address),
        r.within ? h('div', { class: 'muted' }, `in ${r.within}`) : null),
      h('td', null, input, slot),
      h('td', { class: 'rdns-status' }, status, r.name && r.zone ? h('div', { class: 'muted' }, r.zone) : null),
      h('td', null,
        h('button', { type: 'button', class: 'btn rdns-save', onclick: () => save(r.address, input, slot) }, 'Save'),
        ' ',
        r.name ? h('button', { type: 'button', class: 'btn btn-danger-outline rdns-clear', onclick: () => clear(r.address, slot) }, 'Clear') : null));
  }

  function prefixForm(prefix, i) {
    const addr = h('input', { type: 'text', id: `rdns-new-address-${i}`, class: 'rdns-new-address', placeholder: `an address in ${prefix}`, autocomplete: 'off', spellcheck: 'false' });
    const name = h('input', { type: 'text', id: `rdns-new-name-${i}`, class: 'rdns-new-name', placeholder: 'host.example.net', autocomplete: 'off', spellcheck: 'false' });
    const slot = h('div', { class: 'field-error' });
    return h('div', { class: 'inline-form' },
      h('div', { class: 'field' }, h('label', { for: `rdns-new-address-${i}` }, `Address in ${prefix}`), addr),
      h('div', { class: 'field' }, h('label', { for: `rdns-new-name-${i}` }, 'Name'), name, slot),
      h('button', { type: 'button', class: 'btn', onclick: () => save(addr.value.trim(), name, slot) }, 'Add'));
  }

  async function refresh() {
    let r;
    try {
      r = await api.get(`/vps/${seg(vpsId)}/rdns`);
    } catch (e) {
      if (scope.alive) set(note, 'Reverse DNS could not be loaded.');
      return;
    }
    if (!scope.alive) return;
    set(note, r.publishing
      ? 'A name must resolve (A or AAAA) to its address before it can be set here.'
      : 'PowerDNS is not configured: names are kept by the panel but not published in DNS.');
    const recs = Array.isArray(r.records) ? r.records : [];
    set(rows, recs.length ? recs.map(row) : h('tr', { class: 'empty' }, h('td', { colspan: '4' }, 'No address yet.')));
    set(extra, (r.prefixes || []).map(prefixForm));
  }

  return { el, refresh };
}
