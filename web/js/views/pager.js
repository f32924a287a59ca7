// views/pager.js — "1–50 of 123" with previous/next buttons for the API's limit/offset paging.
import { h, set } from '../dom.js';

export function pager(onChange) {
  const label = h('span', { class: 'pager-label', 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': 'Previous page' }, '‹ Previous');
  const next = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': 'Next page' }, 'Next ›');
  const el = h('div', { class: 'pager' }, label, prev, next);
  let state = { offset: 0, limit: 50, total: 0 };
  prev.addEventListener('click', () => onChange(Math.max(0, state.offset - state.limit)));
  next.addEventListener('click', () => onChange(state.offset + state.limit));
  function update(offset, limit, total, shown) {
    state = { offset, limit, total };
    set(label, total === 0 ? 'nothing' : `${offset + 1}–${offset + shown} of ${total}`);
    prev.disabled = offset <= 0;
    next.disabled = offset + shown >= total;
  }
  return { el, update };
}
