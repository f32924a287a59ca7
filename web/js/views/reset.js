// views/reset.js — #/forgot: ask for a reset link by e-mail (the same answer for any address);
// #/reset?token=…: choose a new password with the link's token (single use, 15 minutes).
import { h, $ } from '../dom.js';
import { api } from '../api.js';
import { buildForm, onSubmit } from '../forms.js';

function page(ctx, title, ...children) {
  ctx.main.append(h('div', { class: 'login-page' },
    h('div', { class: 'login-card' },
      h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'xvps'),
      h('h1', { class: 'login-title', tabindex: '-1' }, title),
      children,
      h('p', { class: 'login-alt' }, h('a', { href: '#/login' }, 'Back to the login')))));
}

export function forgotView(ctx) {
  const done = h('p', { id: 'forgot-done', role: 'status', hidden: true },
    'If an account has this address, a link to reset its password is on its way. It works once, within 15 minutes.');
  const form = buildForm({ id: 'forgot-form', submitLabel: 'Send the link',
    fields: [{ name: 'email', label: 'E-mail address', type: 'email', autocomplete: 'email' }] });
  onSubmit(form, (body) => api.post('/password-reset', body), () => { form.hidden = true; done.hidden = false; });
  page(ctx, 'Reset your password', form, done);
  requestAnimationFrame(() => { const i = $('input', form); if (i) i.focus(); });
}

export function resetView(ctx) {
  const token = ctx.query.get('token') || '';
  const done = h('p', { id: 'reset-done', role: 'status', hidden: true },
    'Your password is set and every session of your account has ended. Log in with the new password.');
  const form = buildForm({ id: 'reset-form', submitLabel: 'Set the password',
    fields: [{ name: 'new_password', label: 'New password', type: 'password', hint: 'At least 8 characters, 5 of them different, not your user name.' }] });
  form.prepend(h('div', { class: 'form-error', role: 'alert', hidden: true }));
  onSubmit(form, (body) => api.post('/password-reset/confirm', { token, ...body }),
    () => { form.hidden = true; done.hidden = false; });
  page(ctx, 'Choose a new password', form, done);
  requestAnimationFrame(() => { const i = $('input', form); if (i) i.focus(); });
}
