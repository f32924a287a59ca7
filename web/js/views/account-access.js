// views/account-access.js — #/account's sessions (GET /sessions, revoke one) and API keys
// (create with scopes and an optional expiry, the token shown once; list; revoke).
import { h, set, table, emptyRow } from '../dom.js';
import { api, seg } from '../api.js';
import { buildForm, onSubmit } from '../forms.js';
import { confirmDialog, notice, banner } from '../ui.js';
import { timeEl } from '../format.js';

export function sessionsCard(ctx) {
  const t = table(['Started', 'Last seen', 'Address', { label: 'Browser', class: 'hide-sm' }, { label: 'Actions', class: 'actions' }], { id: 'session-list' });
  const load = async () => {
    const list = await api.get('/sessions');
    if (!ctx.scope.alive) return;
    t.tbody.replaceChildren();
    if (!list.length) emptyRow(t.tbody, 5, 'No browser sessions.');
    for (const s of list) {
      t.tbody.append(h('tr', { class: 'session-row', dataset: { id: String(s.id), current: String(!!s.current) } },
        h('td', null, timeEl(s.created_at), s.current ? h('span', { class: 'badge badge-running' }, ' this one') : null),
        h('td', null, timeEl(s.last_seen_at)),
        h('td', null, s.ip || '—'),
        h('td', { class: 'hide-sm' }, s.user_agent || '—'),
        h('td', { class: 'actions' }, h('button', { type: 'button', class: 'btn btn-small btn-danger-outline', onclick: () => revoke(s) }, s.current ? 'Log out' : 'Revoke'))));
    }
  };
  async function revoke(s) {
    if (!(await confirmDialog({ title: 'Revoke this session?', text: s.current ? 'This is the session you are using: you will be logged out.' : 'That browser will be logged out at once.', confirmLabel: 'Revoke' }))) return;
    try {
      await api.del(`/sessions/${seg(s.id)}`);
      notice('Session revoked.');
      await load();
    } catch (e) { banner(e.detail || String(e)); }
  }
  return { card: h('section', { class: 'card', id: 'sessions-card' }, h('h2', { class: 'card-title' }, 'Sessions'), t.wrap), load };
}

export function apiKeysCard(ctx) {
  const t = table(['Name', 'Scopes', { label: 'Created', class: 'hide-sm' }, 'Last used', 'Expires', { label: 'Actions', class: 'actions' }], { id: 'apikey-list' });
  const scopes = ctx.isAdmin ? ['read-only', 'vps', 'billing', 'admin'] : ['read-only', 'vps'];
  const shown = h('div', { id: 'apikey-shown', hidden: true });
  const fields = [
    { name: 'name', label: 'Name' },
    ...scopes.map((s) => ({ name: `scope-${s}`, label: `Scope ${s}`, type: 'checkbox', value: s !== 'billing', skip: true })),
    { name: 'expires_at', label: 'Expires on (optional)', type: 'date', optional: true, skip: true, hint: 'Empty: never.' },
  ];
  const form = buildForm({ id: 'apikey-form', submitLabel: 'Create API key', fields });
  const load = async () => {
    const list = await api.get('/api-keys');
    if (!ctx.scope.alive) return;
    t.tbody.replaceChildren();
    if (!list.length) emptyRow(t.tbody, 6, 'No API keys.');
    for (const k of list) {
      t.tbody.append(h('tr', { class: 'apikey-row', dataset: { id: String(k.id) } },
        h('td', { class: 'name' }, k.name),
        h('td', null, (k.scopes || []).join(', ')),
        h('td', { class: 'hide-sm' }, timeEl(k.created_at)),
        h('td', null, k.last_used_at ? timeEl(k.last_used_at) : 'never'),
        h('td', null, k.expires_at ? timeEl(k.expires_at) : 'never'),
        h('td', { class: 'actions' }, h('button', { type: 'button', class: 'btn btn-small btn-danger-outline', onclick: () => revoke(k) }, 'Revoke'))));
    }
  };
  async function revoke(k) {
    if (!(await confirmDialog({ title: `Revoke API key ${k.name}?`, text: 'Programs using it stop working at once.', confirmLabel: 'Revoke' }))) return;
    try {
      await api.del(`/api-keys/${seg(k.id)}`);
      notice('API key revoked.');
      await load();
    } catch (e) { banner(e.detail || String(e)); }
  }
  onSubmit(form, (body) => {
    const out = { name: body.name, scopes: scopes.filter((s) => form.elements.namedItem(`scope-${s}`).checked) };
    const exp = form.elements.namedItem('expires_at').value;
    if (exp) out.expires_at = `${exp}T00:00:00Z`;
    return api.post('/api-keys', out);
  }, async (k) => {
    form.reset();
    set(shown, h('p', null, 'The key, shown only now — copy it:'), h('p', null, h('code', { id: 'apikey-token' }, k.token)));
    shown.hidden = false;
    await load();
  });
  load();
  return h('section', { class: 'card', id: 'apikeys-card' }, h('h2', { class: 'card-title' }, 'API keys'), t.wrap,
    h('details', { class: 'create' }, h('summary', null, 'New API key'), form), shown);
}
