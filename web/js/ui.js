// ui.js — the page-wide error banner, the short notices, and the confirmation dialog.
import { $ } from './dom.js';

/** Shows a message (string or ApiError) in the banner under the top bar. */
export function banner(msg, kind = 'error') {
  const el = $('#banner');
  if (!el) return;
  const text = typeof msg === 'string' ? msg : (msg && msg.detail) || (msg && msg.message) || String(msg);
  $('#banner-text').textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
}

export function clearBanner() {
  const el = $('#banner');
  if (el) { el.hidden = true; $('#banner-text').textContent = ''; }
}

let noticeTimer = null;
/** A short confirmation ("Plan saved") that fades after a few seconds. */
export function notice(text) {
  const el = $('#notice');
  if (!el) return;
  el.textContent = text;
  el.classList.add('show');
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { el.classList.remove('show'); el.textContent = ''; }, 4000);
}

/**
 * The confirmation dialog (#confirm-dialog). Resolves true when confirmed.
 * typeToConfirm: the user must type exactly this string into #confirm-input first.
 */
export function confirmDialog({ title, text, confirmLabel = 'Confirm', danger = true, typeToConfirm = null }) {
  const dlg = $('#confirm-dialog');
  const form = $('#confirm-form');
  const input = $('#confirm-input');
  const wrap = $('#confirm-input-wrap');
  const ok = $('#confirm-ok');
  const cancel = $('#confirm-cancel');
  $('#confirm-title').textContent = title;
  $('#confirm-text').textContent = text || '';
  ok.textContent = confirmLabel;
  ok.className = danger ? 'btn btn-danger' : 'btn btn-primary';
  input.value = '';
  wrap.hidden = !typeToConfirm;
  if (typeToConfirm) {
    $('#confirm-input-label').textContent = `Type ${typeToConfirm} to confirm`;
    input.setAttribute('aria-describedby', 'confirm-text');
  }
  const matches = () => !typeToConfirm || input.value.trim() === typeToConfirm;
  ok.disabled = !matches();

  return new Promise((resolve) => {
    const onInput = () => { ok.disabled = !matches(); };
    const onSubmit = (e) => {
      e.preventDefault();
      if (matches()) dlg.close('ok');
    };
    const onCancel = () => dlg.close('cancel');
    const onClose = () => {
      input.removeEventListener('input', onInput);
      form.removeEventListener('submit', onSubmit);
      cancel.removeEventListener('click', onCancel);
      dlg.removeEventListener('close', onClose);
      const yes = dlg.returnValue === 'ok';
      if (opener && document.contains(opener)) opener.focus();
      resolve(yes);
    };
    const opener = document.activeElement;
    input.addEventListener('input', onInput);
    form.addEventListener('submit', onSubmit);
    cancel.addEventListener('click', onCancel);
    dlg.addEventListener('close', onClose);
    dlg.returnValue = '';
    dlg.showModal();
    // The safe choice has the focus; with a text to type, the input has it.
    (typeToConfirm ? input : cancel).focus();
  });
}

/** Closes the confirmation dialog (used when the page changes under it). */
export function closeDialogs() {
  const dlg = $('#confirm-dialog');
  if (dlg && dlg.open) dlg.close('cancel');
  for (const d of document.querySelectorAll('dialog.form-dialog')) if (d.open) d.close('cancel');
}
