// router.js — hash routes (#/vps/3?x=y) and a Scope per rendered page: timers, polls and
// teardown hooks that die with the page, so nothing keeps polling after navigation.

export function parseHash(hash) {
  let s = (hash || '').replace(/^#/, '');
  if (!s.startsWith('/')) s = '/' + s;
  const q = s.indexOf('?');
  const path = (q >= 0 ? s.slice(0, q) : s).replace(/\/+$/, '') || '/';
  const query = new URLSearchParams(q >= 0 ? s.slice(q + 1) : '');
  return { path, query };
}

/** '#/admin/vps' + {customer: '2', q: ''} -> '#/admin/vps?customer=2' */
export function hashFor(path, query = {}) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') qs.set(k, v);
  const s = qs.toString();
  return `#${path}${s ? '?' + s : ''}`;
}

export class Scope {
  constructor() {
    this.alive = true;
    this.disposers = [];
  }

  onDispose(fn) {
    if (this.alive) this.disposers.push(fn);
    else fn();
  }

  timeout(fn, ms) {
    const id = setTimeout(() => { if (this.alive) fn(); }, ms);
    this.onDispose(() => clearTimeout(id));
    return id;
  }

  /**
   * Runs fn every ms milliseconds, the next run only after the previous one settled; skipped
   * while the tab is hidden (runs again at once when it shows). Returns a stop function.
   */
  poll(fn, ms, { immediate = false } = {}) {
    let timer = null;
    let stopped = false;
    let running = false;
    const run = async () => {
      timer = null;
      if (stopped || !this.alive) return;
      if (document.hidden) { schedule(); return; }
      running = true;
      try { await fn(); } catch (e) { console.warn('poll', e); }
      running = false;
      schedule();
    };
    const schedule = () => {
      if (!stopped && this.alive && !timer) timer = setTimeout(run, ms);
    };
    const onVis = () => {
      if (!document.hidden && timer && !running) { clearTimeout(timer); timer = null; run(); }
    };
    document.addEventListener('visibilitychange', onVis);
    const stop = () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVis);
    };
    this.onDispose(stop);
    if (immediate) run(); else schedule();
    return stop;
  }

  listen(target, type, fn, opts) {
    target.addEventListener(type, fn, opts);
    this.onDispose(() => target.removeEventListener(type, fn, opts));
  }

  dispose() {
    if (!this.alive) return;
    this.alive = false;
    for (const fn of this.disposers.splice(0).reverse()) {
      try { fn(); } catch (e) { console.warn('dispose', e); }
    }
  }
}

/**
 * routes: [{pattern: RegExp on the path, view, admin?, public?}]. resolve(path) -> {route, params}
 */
export function matchRoute(routes, path) {
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (m) return { route, params: m.slice(1).map((p) => decodeURIComponent(p)) };
  }
  return null;
}
