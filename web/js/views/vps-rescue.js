// views/vps-rescue.js — the Rescue card of the VPS page (issue 16 item 3): POST
// /vps/{id}/actions/rescue boots the server from a small rescue system with its own disk as the
// second disk (/dev/xvdb), reachable on the console (root is logged in there) and over SSH with
// the server's keys; POST /vps/{id}/actions/unrescue boots it from its own disk again. Both
// restart the server after a confirmation; the card says which mode it is in.
import { h, set, card } from '../dom.js';
import { api, seg } from '../api.js';
import { banner, clearBanner, confirmDialog } from '../ui.js';

export function rescueCard(vps, { follow, render }) {
  const status = h('p', { id: 'rescue-status', class: 'rescue-status', role: 'status' });
  const help = h('p', { class: 'muted' });
  const btn = h('button', { type: 'button', id: 'btn-rescue', class: 'btn', onclick: go });
  const el = card('Rescue', status, help, h('div', { class: 'inline-form' }, btn));
  el.id = 'rescue-card';

  async function go() {
    const on = !vps.rescue;
    clearBanner();
    if (!(await confirmDialog(on ? {
      title: `Boot ${vps.hostname} into rescue mode?`,
      text: `${vps.hostname} restarts into a rescue system. Its own disk is not started; you find it there as /dev/xvdb.`,
      confirmLabel: 'Restart into rescue',
    } : {
      title: `Leave rescue mode on ${vps.hostname}?`,
      text: `${vps.hostname} restarts from its own disk. What you wrote to the rescue system itself is discarded; changes on /dev/xvdb stay.`,
      confirmLabel: 'Restart normally',
    }))) return;
    btn.disabled = true;
    try {
      const r = await api.post(`/vps/${seg(vps.id)}/actions/${on ? 'rescue' : 'unrescue'}`);
      if (r.job) follow(r.job, on ? 'Rescue mode' : 'Leave rescue mode');
      render(r.vps || vps);
    } catch (e) {
      banner(e);
      render(vps);
    }
  }

  function update(v, disabled) {
    vps = v;
    el.classList.toggle('card-rescue', !!v.rescue);
    if (v.rescue) {
      set(status, h('strong', null, 'In rescue mode.'), ' The server runs the rescue system; its own disk is /dev/xvdb.');
      set(help, 'Log in on the console (root is logged in there) or over SSH as root with the server\'s keys. ',
        h('code', null, 'fsck -f /dev/xvdb'), ' checks its filesystem, ', h('code', null, 'xvps-chroot'),
        ' opens a shell inside it. Leaving rescue mode restarts the server from its own disk.');
      btn.textContent = 'Leave rescue mode…';
    } else {
      set(status, 'Not in rescue mode.');
      set(help, 'When the server no longer boots or you are locked out, restart it into a rescue system with its disk attached as /dev/xvdb, repair it, then leave rescue mode.');
      btn.textContent = 'Boot into rescue…';
    }
    btn.disabled = disabled;
  }
  return { el, update };
}
