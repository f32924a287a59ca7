// views/not-found.js — an unknown route, an admin page for a customer, or a VPS the API
// answers 404 for (never telling apart "not yours" from "does not exist").
import { h } from '../dom.js';

export function notFoundView(ctx, what) {
  document.title = 'Not found · xvps';
  ctx.main.append(h('section', { id: 'not-found', class: 'not-found' },
    h('h1', { tabindex: '-1' }, 'Not found'),
    h('p', null, what || 'There is nothing here, or it is not yours to see.'),
    h('p', null, h('a', { href: '#/', class: 'btn' }, 'Back to your servers'))));
}
