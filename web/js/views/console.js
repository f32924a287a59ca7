// views/console.js — #/vps/<id>/console: a single-use token from POST /vps/<id>/console, then
// noVNC (Debian's, served by xvpsd at /novnc/) on the panel's own origin. #console-status says
// "connecting", "connected" or "disconnected: <reason>".
import { h, set, pageHeader } from '../dom.js';
import { api, seg, ApiError, getVpsOrNotFound } from '../api.js';

let rfbModule = null;
function loadRfb() {
  if (!rfbModule) rfbModule = import('/novnc/core/rfb.js').catch((e) => { rfbModule = null; throw e; });
  return rfbModule;
}

const MAX_PASTE = 4096; // bytes; the console server drops longer clipboard texts

export async function consoleView(ctx) {
  const { main, scope } = ctx;
  const id = ctx.params[0];
  const vps = await getVpsOrNotFound(ctx, id);
  if (!vps || !scope.alive) return;
  document.title = `Console · ${vps.hostname} · xvps`;

  const status = h('span', { id: 'console-status', class: 'console-status', role: 'status', 'aria-live': 'polite' });
  const name = h('span', { id: 'console-name', class: 'muted' });
  const screen = h('div', { id: 'console-screen', class: 'console-screen', 'aria-label': `console of ${vps.hostname}` });
  const reconnectBtn = h('button', { type: 'button', id: 'console-reconnect', class: 'btn btn-small', onclick: () => connect() }, 'Reconnect');
  const fit = h('input', { type: 'checkbox', id: 'console-fit', checked: true });
  const fullBtn = h('button', { type: 'button', class: 'btn btn-small', id: 'console-fullscreen', onclick: () => screen.requestFullscreen && screen.requestFullscreen().catch(() => {}) }, 'Full screen');
  const pasteText = h('textarea', { id: 'console-paste', rows: 2, spellcheck: 'false', placeholder: 'Text to type into the console (at most 4 KiB)' });
  const pasteMsg = h('div', { class: 'field-error', dataset: { field: 'paste' }, 'aria-live': 'polite' });
  const pasteBtn = h('button', { type: 'button', id: 'console-paste-send', class: 'btn btn-small', onclick: paste }, 'Type it');

  main.append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: ctx.isAdmin ? '#/admin/vps' : '#/vps' }, ctx.isAdmin ? 'All servers' : 'My servers'), ' / ',
      h('a', { href: `#/vps/${encodeURIComponent(id)}` }, vps.hostname), ' / ', h('span', null, 'Console')),
    pageHeader(['Console: ', h('span', { class: 'console-host' }, vps.hostname)]),
    h('div', { class: 'console-bar' },
      h('span', { class: 'console-state' }, 'Status: ', status), name,
      h('span', { class: 'toolbar-gap' }),
      h('label', { class: 'check', for: 'console-fit', title: 'Shrink a screen larger than the window' }, fit, ' Fit to window'),
      fullBtn, reconnectBtn),
    screen,
    h('details', { class: 'paste' },
      h('summary', null, 'Paste text'),
      h('p', { class: 'muted small' }, 'The text is typed into the console as keystrokes (no control characters but newline and tab).'),
      h('div', { class: 'inline-form' }, h('label', { for: 'console-paste', class: 'sr-only' }, 'Text to type'), pasteText, pasteBtn),
      pasteMsg),
    h('p', { class: 'muted small' }, 'Click the screen to type into it. The console session is yours alone; its link works once and expires in 60 seconds.'));

  let rfb = null;
  let everConnected = false;
  let failure = null;

  function setStatus(text, state) {
    status.textContent = text;
    status.dataset.state = state;
    reconnectBtn.hidden = state !== 'disconnected';
    pasteBtn.disabled = state !== 'connected';
  }

  function teardown() {
    if (rfb) {
      const r = rfb;
      rfb = null;
      try { r.disconnect(); } catch { /* already closed */ }
    }
    screen.replaceChildren();
  }
  scope.onDispose(teardown);

  async function connect() {
    teardown();
    everConnected = false;
    failure = null;
    set(name);
    setStatus('connecting', 'connecting');
    let ticket;
    let RFB;
    try {
      [ticket, { default: RFB }] = await Promise.all([api.post(`/vps/${seg(id)}/console`, undefined), loadRfb()]);
    } catch (e) {
      if (!scope.alive) return;
      const why = e instanceof ApiError ? e.detail : 'the console viewer (noVNC) could not be loaded';
      setStatus(`disconnected: ${why}`, 'disconnected');
      return;
    }
    if (!scope.alive) return;
    if (!ticket || typeof ticket.url !== 'string' || !ticket.url.startsWith('/')) {
      setStatus('disconnected: the panel gave no console address', 'disconnected');
      return;
    }
    const url = location.origin.replace(/^http/, 'ws') + ticket.url;
    try {
      rfb = new RFB(screen, url, { shared: true });
    } catch (e) {
      setStatus(`disconnected: ${e.message || e}`, 'disconnected');
      return;
    }
    const mine = rfb;
    rfb.focusOnClick = true;
    rfb.addEventListener('connect', () => {
      if (mine !== rfb) return;
      everConnected = true;
      setStatus('connected', 'connected');
      applyScale();
      rfb.focus();
    });
    rfb.addEventListener('securityfailure', (e) => {
      failure = (e.detail && e.detail.reason) || 'the console refused the session';
    });
    rfb.addEventListener('desktopname', (e) => {
      set(name, '· ', String((e.detail && e.detail.name) || ''));
    });
    rfb.addEventListener('disconnect', (e) => {
      if (mine !== rfb) return;
      const clean = e.detail && e.detail.clean;
      const why = failure || (everConnected
        ? (clean ? 'the console was closed' : 'the connection was lost')
        : 'the panel refused the console connection or the server is not running');
      setStatus(`disconnected: ${why}`, 'disconnected');
      rfb = null; // disconnected for good; a reconnect makes a new one (and needs a new token)
    });
  }

  // "Fit to window" only ever shrinks: a text console drawn 1:1 stays crisp, and a screen
  // larger than the window (or a phone) is scaled down to fit.
  function applyScale() {
    if (!rfb) return;
    const canvas = screen.querySelector('canvas');
    const big = canvas && (canvas.width > screen.clientWidth || canvas.height > screen.clientHeight);
    const want = fit.checked && !!big;
    if (rfb.scaleViewport !== want) rfb.scaleViewport = want;
  }
  fit.addEventListener('change', applyScale);
  if (typeof ResizeObserver === 'function') {
    const ro = new ResizeObserver(() => applyScale());
    ro.observe(screen);
    scope.onDispose(() => ro.disconnect());
  }

  function paste() {
    pasteMsg.textContent = '';
    const text = pasteText.value;
    if (!rfb || !text) return;
    if (new TextEncoder().encode(text).length > MAX_PASTE) {
      pasteMsg.textContent = `That is more than ${MAX_PASTE} bytes; the console would drop it. Paste it in parts.`;
      return;
    }
    rfb.clipboardPasteFrom(text);
    pasteText.value = '';
    rfb.focus();
  }

  await connect();
}
