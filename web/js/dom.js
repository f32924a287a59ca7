// dom.js — builds DOM nodes. Text always goes in as text nodes or textContent: nothing here
// (or anywhere in the UI) parses a string as HTML.

const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'indeterminate']);

/**
 * h('a', {href: '#/vps', class: 'link', onclick: fn, dataset: {id: '1'}}, 'text', node, [...])
 * Attributes with null, undefined or false values are left out; true sets an empty attribute.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = String(v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (PROPS.has(k)) el[k] = v;
      else if (k === 'style' || k === 'innerHTML' || k === 'outerHTML' || k === 'srcdoc') {
        throw new Error(`h(): ${k} is not allowed`);
      } else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces el's children (text stays text). */
export function set(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

const KNOWN_STATES = new Set([
  'running', 'stopped', 'provisioning', 'suspended', 'error', 'deleting',
  'queued', 'done', 'failed', 'active', 'releasing',
]);

/** A state badge: its text is exactly the state word; colour from a fixed list of classes. */
export function badge(state, props = {}) {
  const s = state === null || state === undefined ? 'unknown' : String(state);
  const cls = KNOWN_STATES.has(s) ? s : 'unknown';
  return h('span', { ...props, class: `badge badge-${cls}${props.class ? ' ' + props.class : ''}` }, s);
}

export function updateBadge(el, state) {
  const s = state === null || state === undefined ? 'unknown' : String(state);
  const cls = KNOWN_STATES.has(s) ? s : 'unknown';
  for (const c of Array.from(el.classList)) if (c.startsWith('badge-')) el.classList.remove(c);
  el.classList.add('badge', `badge-${cls}`);
  if (el.textContent !== s) el.textContent = s;
}

/** A heading row: h1 (focus target after navigation) plus optional actions. */
export function pageHeader(title, ...actions) {
  actions = actions.filter(Boolean);
  return h('div', { class: 'page-header' },
    h('h1', { tabindex: '-1', class: 'page-title' }, title),
    actions.length ? h('div', { class: 'page-actions' }, actions) : null);
}

export function card(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', { class: 'card-title' }, title) : null, children);
}

/** A table in a scrolling wrapper; head = [label | {label, class}]. */
export function table(head, props = {}) {
  const tbody = h('tbody');
  const t = h('table', { class: 'table', ...props },
    h('thead', null, h('tr', null, head.map((c) => {
      const o = typeof c === 'string' ? { label: c } : c;
      return h('th', { scope: 'col', class: o.class }, o.label);
    }))),
    tbody);
  return { wrap: h('div', { class: 'table-wrap' }, t), table: t, tbody };
}

export function emptyRow(tbody, cols, text) {
  tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: String(cols) }, text)));
}
