// views/login.js — #/login: username and password, then (TOTP on) a second step asking for the
// authenticator's code or a recovery code; the API's detail shows in #login-error. A link leads
// to #/forgot (password reset by e-mail).
import { h, $ } from '../dom.js';
import { login, loginTotp, me, ApiError } from '../api.js';

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
      if (user && user.totp_required) { totpStep(user.challenge); return; }
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

  // The second step: a separate form (never a combined field), the challenge kept here only.
  function totpStep(challenge) {
    const err = h('p', { id: 'totp-error', class: 'login-error', role: 'alert', hidden: true });
    const btn = h('button', { type: 'submit', id: 'totp-submit', class: 'btn btn-primary btn-block' }, 'Verify');
    const f = h('form', { id: 'totp-form', class: 'login-form', novalidate: true, 'aria-describedby': 'totp-error' },
      h('p', null, 'Enter the 6-digit code from your authenticator app, or one of your recovery codes.'),
      h('div', { class: 'field' },
        h('label', { for: 'totp-code' }, 'Code'),
        h('input', { id: 'totp-code', name: 'code', autocomplete: 'one-time-code', inputmode: 'text', autocapitalize: 'off', spellcheck: 'false', required: true })),
      err, btn);
    f.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (btn.disabled) return;
      err.hidden = true;
      const code = $('#totp-code', f).value.trim();
      if (!code) { err.textContent = 'Enter the code.'; err.hidden = false; return; }
      btn.disabled = true;
      try {
        const user = await loginTotp(challenge, code);
        let full = user;
        try { full = { ...user, ...(await me()) }; } catch { /* the login answer is enough */ }
        ctx.loggedIn(full);
      } catch (e2) {
        err.textContent = e2 instanceof ApiError ? e2.detail : String(e2.message || e2);
        err.hidden = false;
        $('#totp-code', f).value = '';
        $('#totp-code', f).focus();
        if (e2 instanceof ApiError && e2.status === 401) { form.hidden = false; f.remove(); $('#password', form).value = ''; }
      } finally {
        btn.disabled = false;
      }
    });
    form.hidden = true;
    form.after(f);
    $('#totp-code', f).focus();
  }

  ctx.main.append(h('div', { class: 'login-page' },
    h('div', { class: 'login-card' },
      h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'xvps'),
      h('h1', { class: 'login-title' }, 'Log in to your servers'),
      form,
      h('p', { class: 'login-alt' }, h('a', { href: '#/forgot', id: 'forgot-link' }, 'Forgot your password?')))));
  // The view may be gone by the next frame (a route change or an automatic login): focus only if it is there.
  requestAnimationFrame(() => { const u = $('#username'); if (u) u.focus(); });
}
