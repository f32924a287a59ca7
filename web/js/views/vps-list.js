// views/vps-list.js — #/vps: the logged-in user's servers (an admin sees all), live every 5 s.
import { h, pageHeader } from '../dom.js';
import { listAll } from '../api.js';
import { vpsTable, fillVpsTable } from './vps-table.js';

export async function vpsListView(ctx) {
  const { main, scope } = ctx;
  const t = vpsTable();
  const summary = h('p', { class: 'muted summary', 'aria-live': 'polite' });
  main.append(
    pageHeader(ctx.isAdmin ? 'All servers' : 'My servers',
      h('a', { class: 'btn btn-primary', id: 'order-link', href: ctx.isAdmin ? '#/admin/order' : '#/order' }, 'Order a server')),
    summary,
    h('section', { class: 'card card-flush' }, t.wrap));

  const load = async () => {
    const { items, total } = await listAll('/vps');
    if (!scope.alive) return;
    const running = items.filter((v) => v.state === 'running').length;
    summary.textContent = total === 0 ? '' : `${total} server${total === 1 ? '' : 's'}, ${running} running`;
    fillVpsTable(t, items, {}, ctx.isAdmin
      ? 'No servers yet. Order one for a customer.'
      : 'You have no servers yet. Order one.');
  };
  await load();
  scope.poll(load, 5000);
}
