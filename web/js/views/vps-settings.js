// views/vps-settings.js — the Settings card of the VPS page (issue 16 item 2): the guest's
// hostname and root's SSH keys (PATCH /vps/{id}), and a root password reset
// (POST /vps/{id}/actions/reset-password): a password xvps makes, shown here once, or one the
// customer types. Every change reaches the server through its seed and applies at its NEXT
// BOOT: the card says so, lists what waits (the VPS's guest_pending) and offers a reboot.
import { h, set, card } from '../dom.js';
import { api, seg, ApiError } from '../api.js';
import { banner, clearBanner, confirmDialog } from '../ui.js';

const PENDING_NAMES = { hostname: 'hostname', ssh_keys: 'SSH keys', root_password: 'root password' };

/** "hostname and root password wait for the next boot" for a VPS's guest_pending, or null. */
export function guestPendingText(list) {
  if (!Array.isArray(list) || list.length === 0) return null;
  const names = list.map((w) => PENDING_NAMES[w] || w);
  const text = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names[0];
  return `${text} ${names.length > 1 ? 'wait' : 'waits'} for the next boot`;
}

/** The card; follow(job, label) shows a job, render(vps) re-renders the page, reboot() asks for
 * a reboot (the page's own button flow, with its confirmation). */
export function settingsCard(vps, { follow, render, reboot }) {
  const hostInput = h('input', { id: 'settings-hostname', name: 'hostname', type: 'text', autocomplete: 'off', spellcheck: 'false', value: vps.hostname });
  const hostSlot = h('div', { id: 'settings-hostname-error', class: 'field-error', dataset: { field: 'hostname' } });
  const keysInput = h('textarea', { id: 'settings-keys', name: 'ssh_keys', rows: 4, spellcheck: 'false', placeholder: 'ssh-ed25519 AAAA… you@laptop' });
  const keysSlot = h('div', { id: 'settings-keys-error', class: 'field-error', dataset: { field: 'ssh_keys' } });
  const saveBtn = h('button', { type: 'button', id: 'btn-settings-save', class: 'btn btn-primary', onclick: save }, 'Save');

  const pwMode = h('select', { id: 'settings-pw-mode', name: 'mode', onchange: () => { pwInput.hidden = pwMode.value !== 'own'; } },
    h('option', { value: 'generate' }, 'Generate a new password'),
    h('option', { value: 'own' }, 'Set my own password'));
  const pwInput = h('input', { id: 'settings-password', name: 'password', type: 'password', autocomplete: 'new-password', hidden: true, placeholder: 'at least 12 characters' });
  const pwSlot = h('div', { id: 'settings-password-error', class: 'field-error', dataset: { field: 'password' } });
  const pwBtn = h('button', { type: 'button', id: 'btn-reset-password', class: 'btn', onclick: resetPassword }, 'Reset root password…');
  // The generated password, shown once until the page is left.
  const shown = h('div', { id: 'settings-password-shown', class: 'callout', role: 'status', hidden: true });

  const pendingEl = h('span', { id: 'settings-pending' });
  const rebootBtn = h('button', { type: 'button', id: 'btn-settings-reboot', class: 'btn', onclick: () => reboot() }, 'Reboot now');
  const pendingBox = h('div', { id: 'settings-pending-box', class: 'callout', role: 'status', hidden: true },
    pendingEl, '. ', rebootBtn);

  const el = card('Settings',
    h('p', { class: 'muted', id: 'settings-next-boot' },
      'Changes here are written to the server\'s seed and take effect at its next boot (a reboot from here or from inside the server).'),
    pendingBox,
    h('div', { class: 'field' }, h('label', { for: 'settings-hostname' }, 'Hostname (fully qualified)'), hostInput, hostSlot),
    h('div', { class: 'field' }, h('label', { for: 'settings-keys' }, 'Root\'s SSH keys, one per line (replace the current ones)'), keysInput, keysSlot),
    h('div', { class: 'toolbar' }, saveBtn),
    h('h3', { class: 'mini' }, 'Root password'),
    h('p', { class: 'muted' }, 'The new password is set when the server next boots; until then the old one works.'),
    h('div', { class: 'inline-form' },
      h('div', { class: 'field' }, h('label', { for: 'settings-pw-mode' }, 'Password'), pwMode, pwInput, pwSlot),
      pwBtn),
    shown);

  let keysShown = null; // the keys last put into the textarea (kept while the user edits)
  function update(v, disabled) {
    vps = v;
    if (document.activeElement !== hostInput && hostInput.dataset.dirty !== '1') hostInput.value = v.hostname;
    const keys = Array.isArray(v.ssh_keys) ? v.ssh_keys.join('\n') : '';
    if (keysShown === null || (keysInput.value === keysShown && document.activeElement !== keysInput)) {
      keysInput.value = keys;
      keysShown = keys;
    }
    const pending = guestPendingText(v.guest_pending);
    pendingBox.hidden = !pending;
    pendingEl.textContent = pending || '';
    rebootBtn.disabled = disabled || v.state !== 'running';
    saveBtn.disabled = disabled;
    pwBtn.disabled = disabled;
  }
  hostInput.addEventListener('input', () => { hostInput.dataset.dirty = '1'; });

  function fieldError(e) {
    const slots = { hostname: hostSlot, ssh_keys: keysSlot, password: pwSlot };
    if (e instanceof ApiError && slots[e.field]) slots[e.field].textContent = e.detail;
    else banner(e);
  }

  async function save() {
    clearBanner();
    hostSlot.textContent = '';
    keysSlot.textContent = '';
    const body = {};
    const host = hostInput.value.trim();
    if (host !== vps.hostname) body.hostname = host;
    const keys = keysInput.value.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const now = Array.isArray(vps.ssh_keys) ? vps.ssh_keys : [];
    if (keys.length !== now.length || keys.some((k, i) => k !== now[i])) body.ssh_keys = keys;
    if (Object.keys(body).length === 0) { hostSlot.textContent = 'Nothing changed.'; return; }
    saveBtn.disabled = true;
    try {
      const r = await api.patch(`/vps/${seg(vps.id)}`, body);
      hostInput.dataset.dirty = '';
      keysShown = null;
      if (r.job) follow(r.job, 'Settings (applied at the next boot)');
      render(r.vps || vps);
    } catch (e) {
      fieldError(e);
      render(vps);
    }
  }

  async function resetPassword() {
    clearBanner();
    pwSlot.textContent = '';
    const own = pwMode.value === 'own';
    if (own && pwInput.value.length === 0) { pwSlot.textContent = 'Type the new password.'; return; }
    if (!(await confirmDialog({
      title: `Reset the root password of ${vps.hostname}?`,
      text: `${own ? 'Your password' : 'A new password'} becomes root's password when ${vps.hostname} next boots. ${own ? '' : 'It is shown once, here, after this step: copy it then.'}`,
      confirmLabel: 'Reset password', danger: false,
    }))) return;
    pwBtn.disabled = true;
    try {
      const r = await api.post(`/vps/${seg(vps.id)}/actions/reset-password`, own ? { password: pwInput.value } : {});
      pwInput.value = '';
      if (r.password) {
        set(shown, h('strong', null, 'New root password: '), h('code', { id: 'settings-password-value' }, r.password),
          h('br'), 'Shown this once: copy it now. It applies at the next boot of the server.');
      } else {
        set(shown, 'Your password applies at the next boot of the server.');
      }
      shown.hidden = false;
      if (r.job) follow(r.job, 'Root password reset (applied at the next boot)');
      render(r.vps || vps);
    } catch (e) {
      fieldError(e);
      render(vps);
    }
  }

  return { el, update };
}
