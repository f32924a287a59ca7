// views/vps-page.js — #/vps/<id>: state (polled every 2 s) and why it is suspended, plan,
// addresses, traffic, this period's usage with graphs, reverse DNS (vps-rdns.js), power buttons
// with confirmation, resize (vps-resize.js) and what waits for the next reboot, guest settings
// (vps-settings.js), rescue mode (vps-rescue.js), reinstall (type the hostname), recent jobs;
// admin extras below.
import { h, set, badge, updateBadge, card, pageHeader } from '../dom.js';
import { api, seg, listAll, ApiError, getVpsOrNotFound } from '../api.js';
import { planSummary, timeEl, jobKind, mbit } from '../format.js';
import { banner, clearBanner, confirmDialog, notice } from '../ui.js';
import { watchJob, jobFinished } from '../jobs.js';
import { trafficCard } from './vps-traffic.js';
import { usageCard } from './vps-usage.js';
import { recentJobs } from './vps-jobs.js';
import { adminSections } from './vps-admin.js';
import { resizeCard, pendingText } from './vps-resize.js';
import { rdnsCard } from './vps-rdns.js';
import { settingsCard, guestPendingText } from './vps-settings.js';
import { rescueCard } from './vps-rescue.js';

const ACTIONS = {
  start: { label: 'Start', cls: 'btn-primary' },
  shutdown: {
    label: 'Shut down', confirm: 'Shut down',
    text: (v) => `${v.hostname} is asked to shut down cleanly. Its services stop until you start it again.`,
  },
  reboot: {
    label: 'Reboot', confirm: 'Reboot',
    text: (v) => `${v.hostname} restarts. Open connections drop for a moment.`,
  },
  poweroff: {
    label: 'Force power-off', cls: 'btn-danger-outline', confirm: 'Power off now',
    text: (v) => `${v.hostname} stops at once, like pulling the plug. Anything not yet written to its disk is lost.`,
  },
};

/** Which buttons a state allows (the API has the last word; these avoid pointless clicks). A
 * suspended VPS cannot be started, rebooted or reinstalled by anyone (409 naming the reason):
 * an admin unsuspends it (the admin section's button), which restores its power state. */
function allowed(state) {
  switch (state) {
    case 'running': return { shutdown: true, reboot: true, poweroff: true, console: true, reinstall: true, resize: true, delete: true };
    case 'stopped': return { start: true, reinstall: true, resize: true, delete: true };
    case 'error': return { start: true, shutdown: true, reboot: true, poweroff: true, reinstall: true, resize: true, delete: true };
    case 'suspended': return { poweroff: true, delete: true };
    default: return {}; // provisioning, deleting
  }
}

function addrItems(list, family) {
  if (!Array.isArray(list) || list.length === 0) return h('li', { class: 'muted' }, `no IPv${family} address`);
  return list.map((a) => h('li', null, h('span', { class: 'addr' }, a)));
}

export async function vpsPageView(ctx) {
  const { main, scope } = ctx;
  const id = ctx.params[0];
  let vps = await getVpsOrNotFound(ctx, id);
  if (!vps || !scope.alive) return;
  document.title = `${vps.hostname} · xvps`;

  const [templates, plans, customer] = await Promise.all([
    listAll('/templates').then((r) => r.items).catch(() => []),
    listAll('/plans').then((r) => r.items).catch(() => []), // a customer's: the plans offered to it
    ctx.isAdmin ? api.get(`/customers/${seg(vps.customer)}`).catch(() => null) : null,
  ]);
  const planOf = (pid) => plans.find((p) => String(p.id) === String(pid)) || null;
  if (!scope.alive) return;
  const tplName = (tid) => { const t = templates.find((x) => String(x.id) === String(tid)); return t ? t.name : `#${tid}`; };

  // ---- header and power buttons ----
  const stateEl = badge(vps.state, { id: 'vps-state', 'aria-live': 'polite' });
  const hostEl = h('span', { id: 'vps-hostname' }, vps.hostname);
  const buttons = {};
  for (const [action, a] of Object.entries(ACTIONS)) {
    buttons[action] = h('button', { type: 'button', id: `btn-${action}`, class: `btn ${a.cls || ''}`.trim(), onclick: () => power(action) }, a.label);
  }
  buttons.console = h('button', { type: 'button', id: 'btn-console', class: 'btn', onclick: () => ctx.navigate(`#/vps/${encodeURIComponent(id)}/console`) }, 'Console');
  const jobStatus = h('div', { id: 'job-status', class: 'job-status', role: 'status', 'aria-live': 'polite', hidden: true });

  const head = pageHeader([hostEl, ' ', stateEl]);
  const sub = h('p', { class: 'subtitle' });
  // Why the VPS is suspended (its `suspension`), shown only while it is.
  const suspReason = h('span', { id: 'suspension-reason' });
  const suspBy = h('span', { id: 'suspension-by' });
  const suspension = h('div', { id: 'suspension', class: 'callout suspension', role: 'status', hidden: true },
    h('strong', null, 'Suspended'), ' ', suspBy, ': ', suspReason);
  const crumbs = h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
    h('a', { href: ctx.isAdmin ? '#/admin/vps' : '#/vps' }, ctx.isAdmin ? 'All servers' : 'My servers'), ' / ', h('span', null, vps.hostname));

  // ---- overview, addresses ----
  const planEl = h('dd', { id: 'vps-plan' });
  const overview = h('dl', { class: 'facts' });
  const ipv4 = h('ul', { id: 'vps-ipv4', class: 'addr-list' });
  const ipv6 = h('ul', { id: 'vps-ipv6', class: 'addr-list' });
  const traffic = trafficCard(scope);
  const usage = usageCard(scope, id);
  const jobs = recentJobs(scope, id);
  const rdns = rdnsCard(scope, id);

  // ---- reinstall ----
  const tplSelect = h('select', { id: 'reinstall-template', name: 'template' },
    templates.map((t) => h('option', { value: String(t.id), selected: String(t.id) === String(vps.template) }, `${t.name} (${t.os}, ${t.boot})`)));
  const reinstallBtn = h('button', { type: 'button', id: 'btn-reinstall', class: 'btn btn-danger-outline', onclick: reinstall }, 'Reinstall…');
  const reinstallCard = card('Reinstall',
    h('p', { class: 'muted' }, 'Writes a fresh system from a template. Everything on the server\'s disk is erased; its addresses stay.'),
    h('div', { class: 'inline-form' },
      h('div', { class: 'field' }, h('label', { for: 'reinstall-template' }, 'Template'), tplSelect,
        h('div', { class: 'field-error', dataset: { field: 'template' } })),
      reinstallBtn));

  const deleteBtn = h('button', { type: 'button', id: 'btn-delete', class: 'btn btn-danger', onclick: remove }, 'Delete server…');
  const dangerCard = h('section', { class: 'card card-danger' }, h('h2', { class: 'card-title' }, 'Delete'),
    h('p', { class: 'muted' }, 'Deletes the server, its disk and its configuration and releases its addresses. This cannot be undone.'),
    deleteBtn);

  const resize = plans.length ? resizeCard(vps, plans, { follow: (j, l) => follow(j, l), render: (v) => render(v) }) : null;

  // Guest settings (issue 16 item 2): hostname, SSH keys, root password; applied at the next boot.
  const settings = settingsCard(vps, { follow: (j, l) => follow(j, l), render: (v) => render(v), reboot: () => power('reboot') });

  const rescue = rescueCard(vps, { follow: (j, l) => follow(j, l), render: (v) => render(v) });
  const admin = ctx.isAdmin ? adminSections(ctx, vps, { refresh: () => refresh(), follow: (j, l) => follow(j, l) }) : null;

  const page = h('div', { id: 'vps-page', dataset: { id: String(vps.id) } });
  main.append(page);
  page.append(crumbs, head, sub, suspension,
    h('div', { class: 'toolbar', role: 'group', 'aria-label': 'Power' },
      buttons.start, buttons.shutdown, buttons.reboot, buttons.poweroff, h('span', { class: 'toolbar-gap' }), buttons.console),
    jobStatus,
    h('div', { class: 'grid' },
      card('Overview', overview),
      card('Addresses', h('h3', { class: 'mini' }, 'IPv4'), ipv4, h('h3', { class: 'mini' }, 'IPv6'), ipv6),
      traffic.el,
      usage.el,
      rdns.el,
      jobs.el,
      resize ? resize.el : null,
      settings.el,
      rescue.el,
      reinstallCard,
      admin ? admin.el : null,
      dangerCard));

  let busy = false; // a job of ours is queued or running
  function render(v) {
    vps = v;
    hostEl.textContent = v.hostname;
    updateBadge(stateEl, v.state);
    const may = allowed(v.state);
    for (const k of ['start', 'shutdown', 'reboot', 'poweroff']) buttons[k].disabled = busy || !may[k];
    buttons.console.disabled = !may.console;
    reinstallBtn.disabled = busy || !may.reinstall || templates.length === 0;
    if (resize) resize.update(v, busy || !may.resize);
    settings.update(v, busy || !['running', 'stopped', 'error'].includes(v.state));
    rescue.update(v, busy || !(v.state === 'running' || v.state === 'stopped' || v.state === 'error'));
    const plan = planOf(v.plan);
    deleteBtn.disabled = busy || !may.delete;
    set(sub, v.domain, v.domid !== null && v.domid !== undefined ? ` · domid ${v.domid}` : '',
      v.rescue ? h('span', { id: 'vps-rescue-mark' }, ' · rescue mode') : '');
    set(planEl, plan ? [h('strong', null, plan.name), ' — '] : v.plan_name ? [h('strong', null, v.plan_name), ' — '] : null, planSummary(v));
    const pending = pendingText(v.pending);
    const rows = [
      ['Plan', planEl],
      pending ? ['Pending', h('span', { id: 'vps-pending' }, pending)] : null,
      guestPendingText(v.guest_pending) ? ['Settings', h('span', { id: 'vps-guest-pending' }, guestPendingText(v.guest_pending))] : null,
      ['Template', tplName(v.template)],
      ctx.isAdmin ? ['Customer', customer
        ? h('a', { href: `#/admin/vps?customer=${encodeURIComponent(v.customer)}` }, customer.username) : `#${v.customer}`] : null,
      ['CPU share', `weight ${v.cpu_weight ?? '—'}${v.cpu_cap_pct ? `, capped at ${v.cpu_cap_pct} %` : ', no cap'}`],
      ['Network', plan ? `plan ${mbit(plan.net_mbit)}${v.throttle_mbit ? `, throttled to ${mbit(v.throttle_mbit)}` : ''}`
        : v.throttle_mbit ? `throttled to ${mbit(v.throttle_mbit)}` : null],
      ['MAC', h('span', { class: 'addr' }, v.mac || '—')],
      ['Created', timeEl(v.created_at)],
    ].filter((r) => r && r[1] !== null);
    set(overview, rows.map(([k, val]) => [h('dt', null, k), val instanceof Node && val.tagName === 'DD' ? val : h('dd', null, val)]));
    set(ipv4, addrItems(v.ipv4, 4));
    set(ipv6, addrItems(v.ipv6, 6));
    traffic.update(v.net);
    usage.update(v);
    renderSuspension(v.suspension);
    if (admin) admin.update(v);
  }

  function renderSuspension(s) {
    suspension.hidden = !s;
    if (!s) return;
    const by = s.by === 'quota' ? 'for going over its traffic quota'
      : s.by === 'customer' ? 'with its customer account'
        : s.by === 'billing' ? 'because the prepaid balance is below its limit' : 'by an administrator';
    set(suspBy, by, s.at ? [' on ', timeEl(s.at)] : null,
      s.by === 'billing' && !ctx.isAdmin ? [' (', h('a', { href: '#/billing' }, 'top up your balance'), ')'] : null);
    suspReason.textContent = typeof s.reason === 'string' && s.reason ? s.reason : 'no reason given';
  }

  async function refresh() {
    try {
      const v = await api.get(`/vps/${seg(id)}`);
      if (scope.alive) render(v);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && scope.alive) {
        scope.dispose();
        // Seen deleting, now gone: the delete finished before its job's poll said so.
        if (vps.state === 'deleting') {
          notice(`${vps.hostname} was deleted.`);
          ctx.navigate(ctx.isAdmin ? '#/admin/vps' : '#/vps');
          return;
        }
        main.replaceChildren();
        ctx.notFound('This server does not exist (any more).');
      }
    }
  }

  function follow(job, label) {
    busy = !jobFinished(job);
    render(vps);
    watchJob(scope, jobStatus, job, {
      label,
      onEnd: (j) => {
        busy = false;
        if (j.kind === 'vps.delete' && j.state === 'done') {
          scope.dispose();
          notice(`${vps.hostname} was deleted.`);
          ctx.navigate(ctx.isAdmin ? '#/admin/vps' : '#/vps');
          return;
        }
        refresh();
        jobs.refresh();
      },
      onChange: () => jobs.refresh(),
    });
  }

  async function power(action) {
    const a = ACTIONS[action];
    clearBanner();
    if (a.confirm && !(await confirmDialog({ title: `${a.label} ${vps.hostname}?`, text: a.text(vps), confirmLabel: a.confirm }))) return;
    if (!scope.alive) return;
    buttons[action].disabled = true;
    try {
      const r = await api.post(`/vps/${seg(id)}/actions/${action}`);
      follow(r.job, a.label);
    } catch (e) {
      banner(e);
      render(vps);
    }
  }

  async function reinstall() {
    const tid = tplSelect.value;
    clearBanner();
    const slot = reinstallCard.querySelector('.field-error');
    slot.textContent = '';
    if (!(await confirmDialog({
      title: `Reinstall ${vps.hostname}?`,
      text: `${vps.hostname} is rebuilt from ${tplName(tid)}. Everything on its disk is erased.`,
      confirmLabel: 'Erase and reinstall', typeToConfirm: vps.hostname,
    }))) return;
    reinstallBtn.disabled = true;
    try {
      const r = await api.post(`/vps/${seg(id)}/actions/reinstall`, { template: tid });
      follow(r.job, `Reinstall with ${tplName(tid)}`);
    } catch (e) {
      if (e instanceof ApiError && e.field === 'template') slot.textContent = e.detail; else banner(e);
      render(vps);
    }
  }

  async function remove() {
    clearBanner();
    if (!(await confirmDialog({
      title: `Delete ${vps.hostname}?`,
      text: 'Its disk, configuration and addresses go for good.',
      confirmLabel: 'Delete for good', typeToConfirm: vps.hostname,
    }))) return;
    deleteBtn.disabled = true;
    try {
      const r = await api.del(`/vps/${seg(id)}`);
      vps = { ...vps, state: 'deleting' }; // as the API marked it: a 404 from now on means deleted
      follow(r.job, 'Delete');
    } catch (e) {
      banner(e);
      render(vps);
    }
  }

  render(vps);
  usage.start();
  rdns.refresh();
  scope.poll(refresh, 2000);
  // A job already under way (e.g. the create job, or one started in another tab) shows too.
  jobs.refresh().then((list) => {
    const pending = (list || []).find((j) => !jobFinished(j));
    if (pending && scope.alive && !jobStatus.dataset.job) follow(pending, jobKind(pending.kind));
  });
}
