// views/account.js — #/account: one's own password, TOTP two-factor (enrolment with a QR code
// drawn from the otpauth:// URI by Debian's qrcode-generator, served by xvpsd at
// /vendor/qrcode-generator/; the recovery codes shown once), and for admins the account
// settings (require TOTP for admins). Sessions and API keys are account-access.js.
import { h, set, card, $ } from '../dom.js';
import { api, me } from '../api.js';
import { buildForm, onSubmit } from '../forms.js';
import { notice } from '../ui.js';
import { sessionsCard, apiKeysCard } from './account-access.js';

const QR_JS = '/vendor/qrcode-generator/qrcode.js';
let qrLoading = null;

/** Loads qrcode-generator once (a classic script defining the global qrcode). */
function loadQr() {
  if (window.qrcode) return Promise.resolve(window.qrcode);
  if (!qrLoading) {
    qrLoading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = QR_JS;
      s.onload = () => (window.qrcode ? resolve(window.qrcode) : reject(new Error('no qrcode')));
      s.onerror = () => { qrLoading = null; reject(new Error('qrcode-generator did not load')); };
      document.head.append(s);
    });
  }
  return qrLoading;
}

/** The QR code of text on a canvas (modules of 4 px, a 4-module quiet zone). */
async function qrCanvas(text) {
  const qrcode = await loadQr();
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  const px = 4;
  const size = (n + 8) * px;
  const c = h('canvas', { id: 'totp-qr', width: String(size), height: String(size), role: 'img',
    'aria-label': 'QR code of the two-factor secret for an authenticator app' });
  const g = c.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, size, size);
  g.fillStyle = '#000';
  for (let r = 0; r < n; r++) for (let col = 0; col < n; col++) if (qr.isDark(r, col)) g.fillRect((col + 4) * px, (r + 4) * px, px, px);
  return c;
}

function passwordCard(onChanged) {
  const form = buildForm({ id: 'password-form', submitLabel: 'Change password', fields: [
    { name: 'current_password', label: 'Current password', type: 'password', autocomplete: 'current-password' },
    { name: 'new_password', label: 'New password', type: 'password', hint: 'At least 8 characters, 5 of them different, not your user name.' },
  ] });
  onSubmit(form, (body) => api.post('/account/password', body), async () => {
    form.reset();
    notice('Password changed; your other sessions ended.');
    await onChanged();
  });
  return card('Password', form);
}

function totpCard(ctx, user, rerender) {
  const body = h('div', { id: 'totp-card-body' });
  const c = card('Two-factor authentication', body);
  if (user.totp_enabled) {
    const form = buildForm({ id: 'totp-disable-form', submitLabel: 'Turn two-factor off', fields: [
      { name: 'code', label: 'Current code or a recovery code', autocomplete: 'one-time-code' }] });
    onSubmit(form, (b) => api.post('/account/totp/disable', b), async () => { notice('Two-factor is off.'); await rerender(); });
    set(body, h('p', { id: 'totp-status' }, 'Two-factor is on: logging in asks for a code from your authenticator app.'), form);
    return c;
  }
  const start = h('button', { type: 'button', id: 'totp-start', class: 'btn btn-primary' }, 'Set up two-factor');
  set(body, h('p', { id: 'totp-status' }, 'Two-factor is off.'), start);
  start.addEventListener('click', async () => {
    start.disabled = true;
    try {
      const e = await api.post('/account/totp');
      const qrSlot = h('div', { class: 'totp-qr' });
      const confirm = buildForm({ id: 'totp-confirm-form', submitLabel: 'Turn two-factor on', fields: [
        { name: 'code', label: 'Code shown by the app', autocomplete: 'one-time-code' }] });
      onSubmit(confirm, (b) => api.post('/account/totp/confirm', b), async (r) => {
        if (ctx.session.user) { ctx.session.user.totp_enabled = true; ctx.session.user.totp_required = false; }
        set(body, h('p', { id: 'totp-status' }, 'Two-factor is on.'),
          h('p', null, 'Recovery codes — each works once, instead of a code, should the app be lost. They are shown only now: keep them somewhere safe.'),
          h('ul', { id: 'recovery-codes', class: 'recovery-codes' }, r.recovery_codes.map((x) => h('li', null, h('code', null, x)))),
          h('button', { type: 'button', class: 'btn', id: 'totp-done', onclick: rerender }, 'I have kept them'));
      });
      set(body,
        h('p', null, 'Scan this QR code with an authenticator app (or type the secret), then enter the code it shows.'),
        qrSlot,
        h('p', null, 'Secret: ', h('code', { id: 'totp-secret' }, e.secret)),
        confirm);
      try { qrSlot.append(await qrCanvas(e.otpauth_uri)); } catch { qrSlot.append(h('p', { class: 'hint' }, 'The QR code did not load (Debian\'s node-qrcode-generator); type the secret instead.')); }
    } finally {
      start.disabled = false;
    }
  });
  return c;
}

function settingsCard() {
  const form = buildForm({ id: 'settings-form', submitLabel: 'Save', fields: [
    { name: 'require_admin_totp', label: 'Admins must use two-factor (an admin without it is sent to set it up first)', type: 'checkbox' }] });
  api.get('/settings/accounts').then((s) => { form.elements.namedItem('require_admin_totp').checked = !!s.require_admin_totp; });
  onSubmit(form, (b) => api.put('/settings/accounts', b), () => notice('Settings saved.'));
  return card('Account settings', form);
}

export async function accountView(ctx) {
  const { main } = ctx;
  const sessions = sessionsCard(ctx);
  const render = async () => {
    const user = await me();
    if (!ctx.scope.alive) return;
    Object.assign(ctx.session.user, { totp_enabled: user.totp_enabled, totp_required: user.totp_required });
    main.replaceChildren(...[
      h('div', { class: 'page-header' }, h('h1', { tabindex: '-1', class: 'page-title' }, 'Account')),
      user.totp_required ? h('p', { class: 'banner-inline', id: 'totp-required', role: 'alert' },
        'Admins must use two-factor authentication here: set it up before anything else.') : null,
      passwordCard(sessions.load),
      totpCard(ctx, user, render),
      sessions.card,
      user.totp_required ? null : apiKeysCard(ctx),
      ctx.isAdmin && !user.totp_required ? settingsCard() : null].filter(Boolean));
    await sessions.load();
  };
  await render();
  const first = $('#main input');
  if (first && ctx.session.user.totp_required) first.focus();
}
