// forms.js — forms built from a field list. Every input's name is the API field; a 422 (or a
// 409 naming a field) shows its detail in .field-error[data-field=<field>] next to the input.
// Browser validation is off (novalidate): the API is the one judge of what is valid.
import { h, $, $$ } from './dom.js';
import { ApiError } from './api.js';
import { banner, clearBanner } from './ui.js';
import { parseDecimal } from './money.js';

let uid = 0;

/**
 * One field. spec: {name, label, type: text|email|password|number|checkbox|select|textarea,
 * value, options: [{value, label}], hint, placeholder, min, max, step, autocomplete,
 * parse: int|decimal|lines|list|str|bool, scale (decimal: places, e.g. the currency's exponent;
 * the body gets the integer in units of 10^-scale, empty -> null), optional (left out when
 * empty), wide, readonly}
 */
export function field(spec, prefix = 'f') {
  const id = `${prefix}-${spec.name}-${++uid}`;
  const hintId = spec.hint ? `${id}-hint` : null;
  const errId = `${id}-err`;
  const describedBy = [hintId, errId].filter(Boolean).join(' ');
  const common = { id, name: spec.name, 'aria-describedby': describedBy };
  let input;
  if (spec.type === 'select') {
    input = h('select', common, (spec.options || []).map((o) =>
      h('option', { value: String(o.value), selected: String(o.value) === String(spec.value ?? '') }, o.label)));
  } else if (spec.type === 'textarea') {
    input = h('textarea', { ...common, rows: spec.rows || 3, placeholder: spec.placeholder, spellcheck: 'false' });
    input.value = spec.value ?? '';
  } else if (spec.type === 'checkbox') {
    input = h('input', { ...common, type: 'checkbox', checked: !!spec.value });
  } else {
    input = h('input', {
      ...common,
      type: spec.type || 'text',
      value: spec.value ?? '',
      placeholder: spec.placeholder,
      min: spec.min, max: spec.max, step: spec.step,
      inputmode: spec.type === 'number' ? 'numeric' : spec.parse === 'decimal' ? 'decimal' : undefined,
      autocomplete: spec.autocomplete || (spec.type === 'password' ? 'new-password' : 'off'),
      spellcheck: 'false',
      autocapitalize: 'off',
      readonly: spec.readonly,
    });
  }
  const error = h('div', { class: 'field-error', id: errId, dataset: { field: spec.name }, 'aria-live': 'polite' });
  const hint = spec.hint ? h('div', { class: 'hint', id: hintId }, spec.hint) : null;
  const cls = `field${spec.type === 'checkbox' ? ' field-check' : ''}${spec.wide ? ' field-wide' : ''}`;
  if (spec.type === 'checkbox') {
    return h('div', { class: cls }, h('label', { for: id }, input, ' ', spec.label), hint, error);
  }
  return h('div', { class: cls }, h('label', { for: id }, spec.label), input, hint, error);
}

/** A form: fields in a responsive grid, then the submit button (and extra buttons). */
export function buildForm({ id, fields, submitLabel = 'Save', extra = [], prefix, className = '' }) {
  const form = h('form', { id, class: `form ${className}`.trim(), novalidate: true },
    h('div', { class: 'form-grid' }, fields.map((f) => field(f, prefix || id || 'f'))),
    h('div', { class: 'form-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel), extra));
  form.xvpsFields = fields;
  return form;
}

/** Reads the form into an API body following each field's parse rule. */
export function readForm(form, fields = form.xvpsFields) {
  const out = {};
  for (const f of fields) {
    if (f.readonly || f.skip) continue;
    const el = form.elements.namedItem(f.name);
    if (!el) continue;
    if (f.type === 'checkbox') { out[f.name] = el.checked; continue; }
    const raw = String(el.value ?? '').trim();
    const parse = f.parse || (f.type === 'number' ? 'int' : 'str');
    if (raw === '' && f.optional) continue;
    if (parse === 'int') {
      // Not a number: sent as typed, so the API names the field.
      out[f.name] = raw === '' ? null : /^-?\d+$/.test(raw) ? Number(raw) : raw;
    } else if (parse === 'decimal') {
      out[f.name] = parseDecimal(raw, f.scale ?? 2);
    } else if (parse === 'lines') {
      out[f.name] = raw.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
    } else if (parse === 'list') {
      out[f.name] = raw.split(/[\s,]+/).filter(Boolean);
    } else if (parse === 'bool') {
      out[f.name] = raw === 'true';
    } else {
      out[f.name] = raw;
    }
  }
  return out;
}

export function clearErrors(form) {
  for (const el of $$('.field-error', form)) el.textContent = '';
  for (const el of $$('[aria-invalid]', form)) el.removeAttribute('aria-invalid');
  const fe = $('.form-error', form);
  if (fe) { fe.textContent = ''; fe.hidden = true; }
}

/**
 * Shows err at the field it names when the form has that field; else in the form's own
 * .form-error (dialogs) or the page banner. Returns true when shown at a field.
 */
export function showError(form, err) {
  if (err instanceof ApiError && err.field) {
    const slot = $$('.field-error', form).find((e) => e.dataset.field === err.field);
    if (slot) {
      slot.textContent = err.detail;
      const input = form.elements.namedItem(err.field);
      if (input && input.setAttribute) {
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      }
      return true;
    }
  }
  const fe = $('.form-error', form);
  const text = err instanceof ApiError && err.field ? `${err.field}: ${err.detail}` : (err.detail || err.message);
  if (fe) { fe.textContent = text; fe.hidden = false; } else banner(text);
  return false;
}

/**
 * Wires submit: clears old errors, disables the submit button while fn(body) runs, shows any
 * ApiError. fn's return value is passed to onDone.
 */
export function onSubmit(form, fn, onDone) {
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const btn = $('button[type=submit]', form);
    if (btn && btn.disabled) return;
    clearErrors(form);
    clearBanner();
    if (btn) btn.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      const r = await fn(readForm(form));
      if (onDone) await onDone(r);
    } catch (err) {
      if (err instanceof ApiError) showError(form, err);
      else { console.error(err); banner(String(err.message || err)); }
    } finally {
      if (btn) btn.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });
}

/**
 * A modal form (edit a customer, a plan …). onSubmit(body) may throw an ApiError, which shows
 * in the dialog. Resolves the onSubmit result, or null when cancelled.
 */
export function formDialog({ title, fields, submitLabel = 'Save', onSubmit: submit, id = 'form-dialog' }) {
  const old = document.getElementById(id);
  if (old) old.remove();
  const form = buildForm({ id: `${id}-form`, fields, submitLabel, prefix: id,
    extra: [h('button', { type: 'button', class: 'btn', 'data-cancel': '' }, 'Cancel')] });
  form.prepend(h('div', { class: 'form-error', role: 'alert', hidden: true }));
  const dlg = h('dialog', { id, class: 'dialog form-dialog', 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title` }, title), form);
  document.body.append(dlg);
  const opener = document.activeElement;
  return new Promise((resolve) => {
    let result = null;
    $('[data-cancel]', form).addEventListener('click', () => dlg.close());
    dlg.addEventListener('close', () => {
      dlg.remove();
      if (opener && document.contains(opener)) opener.focus();
      resolve(result);
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const btn = $('button[type=submit]', form);
      clearErrors(form);
      btn.disabled = true;
      try {
        result = (await submit(readForm(form))) ?? true;
        dlg.close();
      } catch (err) {
        if (err instanceof ApiError) showError(form, err);
        else showError(form, { detail: String(err.message || err) });
      } finally {
        btn.disabled = false;
      }
    });
    dlg.showModal();
    const first = $('input:not([type=hidden]), select, textarea', form);
    if (first) first.focus();
  });
}

/** Only the members of body that differ from orig (for PATCH). */
export function changed(body, orig) {
  const out = {};
  for (const [k, v] of Object.entries(body)) if (JSON.stringify(v) !== JSON.stringify(orig[k])) out[k] = v;
  return out;
}
