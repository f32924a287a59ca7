// views/login.js — #/login: username and password; the API's detail shows in #login-error.
import { h, $ } from '../dom.js';
import { login, me, ApiError } from '../api.js';

export function loginView(ctx) {
  const error = h('p', { id: 'login-error', class: 'login-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', id: 'login-submit', class: 'btn btn-primary btn-block' }, 'Log in');
  const form = h('form', { id: 'login-form', class: 'login-form', novalidate: true, 'aria-describedby': 'login-error' },
    h('div', { class: 'field' },
      h('label', { for: 'username' }, 'Username'),
      h('input', { id: 'username', name: 'username', autocomplete: 'username', autocapitalize: 'off', spellcheck: 'false', required: true })),
    h('div', { class: 'field' },
      h('label', { for: 'password' }, 'Password'),
      h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    error,
    submit);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (submit.disabled) return;
    error.hidden = true;
    error.textContent = '';
    const username = $('#username', form).value.trim();
    const password = $('#password', form).value;
    if (!username || !password) {
      error.textContent = 'Enter your username and password.';
      error.hidden = false;
      (username ? $('#password', form) : $('#username', form)).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Logging in…';
    try {
      const user = await login(username, password);
      let full = user;
      try { full = { ...user, ...(await me()) }; } catch { /* the login answer is enough */ }
      ctx.loggedIn(full);
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.detail : String(err.message || err);
      error.hidden = false;
      const pw = $('#password', form);
      pw.value = '';
      pw.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Log in';
    }
  });

  ctx.main.append(h('div', { class: 'login-page' },
    h('div', { class: 'login-card' },
      h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'xvps'),
      h('h1', { class: 'login-title' }, 'Log in to your servers'),
      form)));
  requestAnimationFrame(() => $('#username').focus());
}
