// views/vps-resize.js — the Resize card of the VPS page (POST /vps/{id}/actions/resize, issue 16
// item 1): the plans to move to, a plan whose disk is smaller than the server's shown but not
// selectable (a disk is never shrunk), a confirmation, then the job. Admins see every plan,
// customers the plans offered to them (issue 16 item 8); a refusal by a customer limit is named
// in #resize-limit.
// What the running server takes only at its next boot is shown by pendingText().
import { h, set, card } from '../dom.js';
import { api, seg, ApiError } from '../api.js';
import { planSummary, mib } from '../format.js';
import { banner, clearBanner, confirmDialog } from '../ui.js';
import { limitSentence } from '../limits.js';

/** "1 GiB RAM and 2 vCPUs wait for the next reboot" for a VPS's `pending`, or null. */
export function pendingText(p) {
  if (!p) return null;
  const parts = [];
  if (typeof p.memory_mib === 'number') parts.push(`${mib(p.memory_mib)} RAM`);
  if (typeof p.vcpus === 'number') parts.push(`${p.vcpus} vCPU${p.vcpus === 1 ? '' : 's'}`);
  return parts.length ? `${parts.join(' and ')} ${parts.length > 1 ? 'wait' : 'waits'} for the next reboot` : null;
}

export function resizeCard(vps, plans, { follow, render }) {
  const select = h('select', { id: 'resize-plan', name: 'plan' });
  const slot = h('div', { class: 'field-error', dataset: { field: 'plan' } });
  const btn = h('button', { type: 'button', id: 'btn-resize', class: 'btn', onclick: go }, 'Resize…');
  const limitErr = h('p', { id: 'resize-limit', class: 'callout callout-limit', role: 'alert', hidden: true });
  const el = card('Resize',
    h('p', { class: 'muted' }, 'Moves the server to another plan. Memory and vCPUs change while it runs where Xen allows it, otherwise at its next reboot; the disk grows at once and its filesystem at the next boot; a smaller disk is not possible.'),
    h('div', { class: 'inline-form' },
      h('div', { class: 'field' }, h('label', { for: 'resize-plan' }, 'Plan'), select, slot),
      btn),
    limitErr);

  function fill(v) {
    const keep = select.value;
    set(select, plans.map((p) => {
      const smaller = p.disk_gib < v.disk_gib;
      const current = String(p.id) === String(v.plan);
      return h('option', { value: String(p.id), disabled: smaller, selected: keep ? keep === String(p.id) : current },
        `${p.name} — ${planSummary(p)}${current ? ' (current)' : smaller ? ' (smaller disk)' : ''}`);
    }));
  }

  async function go() {
    const plan = plans.find((p) => String(p.id) === select.value);
    clearBanner();
    slot.textContent = '';
    limitErr.hidden = true;
    if (!plan) return;
    if (String(plan.id) === String(vps.plan)) { slot.textContent = 'The server is on this plan already.'; return; }
    if (!(await confirmDialog({
      title: `Resize ${vps.hostname}?`,
      text: `${vps.hostname} moves to ${plan.name} (${planSummary(plan)}). Its disk is never made smaller.`,
      confirmLabel: 'Resize',
    }))) return;
    btn.disabled = true;
    try {
      const r = await api.post(`/vps/${seg(vps.id)}/actions/resize`, { plan: String(plan.id) });
      if (r.job) follow(r.job, `Resize to ${plan.name}`);
      render(r.vps || vps);
    } catch (e) {
      if (e instanceof ApiError && e.limit) {
        limitErr.textContent = limitSentence(e.limit);
        limitErr.dataset.limit = e.limit.limit;
        limitErr.hidden = false;
      } else if (e instanceof ApiError && e.field === 'plan') slot.textContent = e.detail; else banner(e);
      render(vps);
    }
  }

  function update(v, disabled) {
    vps = v;
    fill(v);
    btn.disabled = disabled || plans.length < 2;
  }
  return { el, update };
}
