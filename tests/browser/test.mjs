// tests/browser/test.mjs — the browser cases of `make test-browser` (started by run.sh, which
// seeds the panel and passes everything in the environment). playwright-core drives Debian's
// chromium, headless. Every case prints `PASS n name (what it saw)` or `FAIL n name: reason`;
// the benchmark prints `bench: name value unit` lines and asserts nothing. Exits 1 when any
// case fails. Screenshots of every page go to $XVPS_SHOTS. The cases:
//  1 a wrong password shows #login-error          6 console tokens: single use, expiry, user
//  2 alice sees exactly her VPS in #vps-list         binding, no/made-up token; all audited
//  3 reboot (confirm dialog), #job-status done,    7 markup (names, a failed login's name,
//    shutdown/start: #vps-state changes              routes) renders as text, never as HTML
//  4 the console canvas shows the boot text and    8 CSRF and cross-origin websockets from a
//    the login prompt (pixel statistics of a         page on another loopback port change
//    screenshot); "root" + Enter changes it          nothing
//  5 bob's URL to alice's VPS: #not-found          9 a malformed RFB client is dropped,
//                                                    another console keeps working
//                                                 10 admin pages: no script error, no CSP
//                                                    violation; security headers
// 11 alice's usage card: this period's numbers equal GET /vps/{id}/usage's total and the VPS's
//    usage_period, the quota (or "unmetered"), the CPU and traffic graphs drawn by Chart.js
//    (/vendor/chart.js/, security headers) in both ranges, no script error or CSP violation; an
//    admin suspends bob's VPS with a reason (markup in it) and bob's page shows it as text
// 12 an admin resizes a VPS from its page: the plans listed, a smaller disk not selectable,
//    Cancel changes nothing, the job done, the new plan and what waits for the reboot shown
// 13 billing: the provider set and alice invoiced through the API; alice's #/billing shows her
//    balance and running cost as the API has them, the invoice and its CSV; its printable page
//    the provider's name and address (markup as text), the lines and total; Print calls
//    window.print(); print media hides the chrome and prints one A4 width (a PDF, 595 × 842 pt);
//    web/js/money.js on 0- and 3-decimal currencies, signs, 2^53 − 1 and refused input
// 14 an admin records a payment on alice's billing page (a zero one refused at its field): the
//    balance moves by exactly the amount, in the API, the admin's page and alice's
// 15 an admin issues a credit note from the invoice page (one larger than the invoice refused):
//    the API and the page show it, the balance moves by it, the status filter finds it
// 16 accounts: TOTP enrolment reading the secret from the page (QR drawn by qrcode-generator
//    from /vendor/qrcode-generator/), the code computed here with node's crypto, the two-step
//    login (a wrong code refused), a password change (a wrong current one refused), an API key
//    made in the UI, the reset link from an SMTP sink run here (used once), a recovery code
// 17 guest settings: alice's Settings card (a bad hostname at its field; hostname and an SSH key
//    saved, "next boot" and what waits shown; a generated root password shown once, in neither
//    the VPS JSON, the seed nor the audit log, its hash in the seed); Reboot now applies them;
//    an admin sets a pool's DNS resolvers on #/admin/pools (a bad one refused)
// 18 reverse DNS: alice names her VPS's address in its Reverse DNS card (a bad name refused at
//    its field), sees it kept unpublished (no PowerDNS in this suite; unchecked, so no lookup
//    leaves the machine), clears it; the API and the audit log agree
// 20 rescue mode: a customer boots its VPS into rescue from its page (the Rescue card, confirm,
//    the job), the card and the API say so, the rescue copy exists; leaving it removes the copy
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';

const env = (k) => {
  const v = process.env[k];
  if (v === undefined || v === '') throw new Error(`test.mjs: ${k} is not set (run tests/browser/run.sh)`);
  return v;
};
const URL0 = env('XVPS_URL');
const SHOTS = env('XVPS_SHOTS');
const ADMIN_PW = env('XVPS_ADMIN_PASSWORD');
const ALICE = { username: 'alice', password: env('XVPS_ALICE_PW'), vps: env('XVPS_ALICE_VPS') };
const BOB = { username: 'bob', password: env('XVPS_BOB_PW'), vps: env('XVPS_BOB_VPS') };
const BENCH_PW = env('XVPS_BENCH_PW');
const BENCH = new Map(); // user -> [vps ids]: 5 users with 4 VPS each (xvpsd allows 4 consoles per user)
for (const uv of env('XVPS_BENCH_VPS').split(/\s+/)) {
  const [u, v] = uv.split(':');
  BENCH.set(u, [...(BENCH.get(u) || []), v]);
}
const PANEL_PID = Number(env('XVPS_PANEL_PID'));
const AGENT_PID = Number(env('XVPS_AGENT_PID'));
const STATE = env('XVPS_STATE');
const TOKEN_TTL = Number(process.env.XVPS_CONSOLE_TOKEN_TTL || 60);
const BUILD_NOTE = `${process.env.XVPS_BUILD_NAME || '?'} build`;
const WAIT = 10000; // ms for one element to appear
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- results ------------------------------------------------------------------------------
const results = [];
class Fail extends Error {}
function check(cond, msg) {
  if (!cond) throw new Fail(msg);
}
async function runCase(n, name, fn, limitMs = 45000) {
  const t0 = Date.now();
  let timer;
  try {
    const note = await Promise.race([
      fn(),
      new Promise((_, rej) => { timer = setTimeout(() => rej(new Fail(`the case took longer than ${limitMs / 1000} s`)), limitMs); }),
    ]);
    results.push({ n, ok: true });
    console.log(`PASS ${n} ${name}${note ? ` (${note})` : ''} [${((Date.now() - t0) / 1000).toFixed(1)} s]`);
  } catch (e) {
    results.push({ n, ok: false });
    const why = e instanceof Fail ? e.message : `${e.name}: ${String(e.message).split('\n')[0]}`;
    console.log(`FAIL ${n} ${name}: ${why} [${((Date.now() - t0) / 1000).toFixed(1)} s]`);
  } finally {
    clearTimeout(timer);
  }
}

// ---- the REST API from node (admin checks) --------------------------------------------------
class Api {
  constructor(base) { this.base = base; this.cookie = ''; this.csrf = ''; }
  async login(username, password) {
    const r = await fetch(`${this.base}/api/v1/session`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }),
    });
    if (r.status !== 201) throw new Fail(`login of ${username} through the API answered ${r.status}`);
    const all = typeof r.headers.getSetCookie === 'function' ? r.headers.getSetCookie() : (r.headers.get('set-cookie') || '').split(/,(?=\s*\w+=)/);
    const sc = all.map((c) => c.trim()).find((c) => c.startsWith('xvps_session='));
    if (!sc) throw new Fail(`login of ${username}: no xvps_session cookie`);
    this.cookie = sc.split(';')[0];
    this.csrf = (await r.json()).csrf_token;
    return this;
  }
  async req(method, p, body) {
    const headers = { Cookie: this.cookie };
    if (method !== 'GET') headers['X-CSRF-Token'] = this.csrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(`${this.base}/api/v1${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = text; }
    return { status: r.status, data, total: Number(r.headers.get('X-Total-Count')) };
  }
  get(p) { return this.req('GET', p); }
  post(p, b) { return this.req('POST', p, b); }
  patch(p, b) { return this.req('PATCH', p, b); }
}
const admin = new Api(URL0);

/** Audit entries (newest first, as the API answers) after entry id `after`, as strings. */
async function auditSince(after) {
  const r = await admin.get('/audit?limit=200');
  check(r.status === 200, `GET /audit answered ${r.status}`);
  return r.data.filter((a) => Number(a.id) > after).map((a) => ({ ...a, str: JSON.stringify(a) }));
}
async function lastAuditId() {
  const r = await admin.get('/audit?limit=200');
  return r.status === 200 && r.data.length ? Math.max(...r.data.map((a) => Number(a.id))) : 0;
}

// ---- screenshots and PNG pixels ------------------------------------------------------------
let shotNo = 0;
async function shot(pageOrLocator, name) {
  shotNo++;
  const file = path.join(SHOTS, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  try {
    if (typeof pageOrLocator.screenshot === 'function' && pageOrLocator.url) {
      return await pageOrLocator.screenshot({ path: file, fullPage: true });
    }
    return await pageOrLocator.screenshot({ path: file });
  } catch (e) {
    console.log(`note: screenshot ${file} failed: ${e.message.split('\n')[0]}`);
    return null;
  }
}

/** Decodes an 8-bit, non-interlaced RGB/RGBA PNG (what chromium's screenshots are). */
function decodePng(buf) {
  check(buf.readUInt32BE(0) === 0x89504e47, 'not a PNG');
  let off = 8;
  let w = 0, h = 0, depth = 0, ctype = 0, interlace = 0;
  const idat = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      w = data.readUInt32BE(0); h = data.readUInt32BE(4);
      depth = data[8]; ctype = data[9]; interlace = data[12];
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  check(depth === 8 && (ctype === 2 || ctype === 6) && interlace === 0, `unsupported PNG (depth ${depth}, type ${ctype})`);
  const bpp = ctype === 6 ? 4 : 3;
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = w * bpp;
  const out = Buffer.alloc(w * h * 4);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? line[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
      let v = line[i];
      if (f === 1) v += a;
      else if (f === 2) v += b;
      else if (f === 3) v += (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      line[i] = v & 0xff;
    }
    for (let x = 0; x < w; x++) {
      out[(y * w + x) * 4] = line[x * bpp];
      out[(y * w + x) * 4 + 1] = line[x * bpp + 1];
      out[(y * w + x) * 4 + 2] = line[x * bpp + 2];
      out[(y * w + x) * 4 + 3] = bpp === 4 ? line[x * bpp + 3] : 255;
    }
    prev = line;
  }
  return { w, h, data: out };
}

/**
 * Pixel statistics of a text screen of `rows` lines and `cols` columns: the background (the
 * most frequent colour), the foreground pixels (far from it), and per text row the number of
 * foreground pixels and how many columns the row's text reaches (its rightmost fg pixel).
 */
function screenStats(img, rows = 25, cols = 80) {
  const { w, h, data } = img;
  const freq = new Map();
  for (let i = 0; i < w * h * 4; i += 16) {
    const k = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    freq.set(k, (freq.get(k) || 0) + 1);
  }
  let bg = 0, best = -1;
  for (const [k, c] of freq) if (c > best) { best = c; bg = k; }
  const br = bg >> 16, bgg = (bg >> 8) & 255, bb = bg & 255;
  const isFg = (i) => Math.abs(data[i] - br) + Math.abs(data[i + 1] - bgg) + Math.abs(data[i + 2] - bb) > 96;
  const band = h / rows, colW = w / cols;
  const rowFg = new Array(rows).fill(0), rowExt = new Array(rows).fill(0);
  let fg = 0;
  for (let y = 0; y < h; y++) {
    const r = Math.min(rows - 1, Math.floor(y / band));
    for (let x = 0; x < w; x++) {
      if (!isFg((y * w + x) * 4)) continue;
      fg++;
      rowFg[r]++;
      rowExt[r] = Math.max(rowExt[r], Math.ceil((x + 1) / colW));
    }
  }
  // A row counts as text when it holds at least a few characters' worth of pixels.
  const textRows = rowFg.map((c, i) => (c >= 8 ? i : -1)).filter((i) => i >= 0);
  return { w, h, bg: `#${bg.toString(16).padStart(6, '0')}`, fg, fgShare: fg / (w * h), rowFg, rowExt, textRows };
}
function diffPixels(a, b, y0 = 0, y1 = a.h) {
  if (a.w !== b.w || a.h !== b.h) return a.w * a.h;
  let n = 0;
  for (let y = Math.floor(y0); y < Math.min(a.h, Math.ceil(y1)); y++) {
    for (let x = 0; x < a.w; x++) {
      const i = (y * a.w + x) * 4;
      if (Math.abs(a.data[i] - b.data[i]) + Math.abs(a.data[i + 1] - b.data[i + 1]) + Math.abs(a.data[i + 2] - b.data[i + 2]) > 48) n++;
    }
  }
  return n;
}

// ---- /proc ----------------------------------------------------------------------------------
const CLK_TCK = (() => { try { return Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100; } catch { return 100; } })();
function procSample(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
    const kb = (k) => Number((status.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) || [0, 0])[1]);
    return { pid, ticks: Number(f[11]) + Number(f[12]), rssKiB: kb('VmRSS'), threads: kb('Threads') };
  } catch {
    return null;
  }
}
/** The xvps-console processes of this run (their socket lives under our state dir). */
function consolePids() {
  const pids = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/comm`, 'latin1').trim() !== 'xvps-console') continue;
      if (fs.readFileSync(`/proc/${d}/cmdline`, 'latin1').includes(STATE)) pids.push(Number(d));
    } catch { /* gone */ }
  }
  return pids;
}
function sampleAll() {
  const cons = consolePids().map(procSample).filter(Boolean);
  return {
    at: process.hrtime.bigint(),
    panel: procSample(PANEL_PID),
    agent: procSample(AGENT_PID),
    consoles: cons,
    consoleTicks: cons.reduce((s, p) => s + p.ticks, 0),
    consoleRss: cons.reduce((s, p) => s + p.rssKiB, 0),
  };
}
function cpuPct(a, b, key) {
  const secs = Number(b.at - a.at) / 1e9;
  const ta = key === 'consoles' ? a.consoleTicks : (a[key] ? a[key].ticks : 0);
  const tb = key === 'consoles' ? b.consoleTicks : (b[key] ? b[key].ticks : 0);
  return ((tb - ta) / CLK_TCK / secs * 100).toFixed(1);
}

// ---- browser helpers ------------------------------------------------------------------------
const browser = await chromium.launch({
  executablePath: process.env.XVPS_CHROMIUM || '/usr/bin/chromium', headless: true, args: ['--no-sandbox'],
});
const pageProblems = new WeakMap(); // page -> [uncaught errors and CSP violations]
async function newPage(ctx) {
  const page = await ctx.newPage();
  const probs = [];
  pageProblems.set(page, probs);
  page.on('pageerror', (e) => probs.push(`uncaught: ${String(e.message).split('\n')[0]}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) probs.push(`CSP: ${m.text().slice(0, 200)}`);
  });
  page.setDefaultTimeout(WAIT);
  return page;
}
async function newContext() {
  return browser.newContext({ viewport: { width: 1280, height: 1000 } });
}
async function waitVisible(page, sel, what) {
  try {
    await page.waitForSelector(sel, { state: 'visible', timeout: WAIT });
  } catch {
    throw new Fail(`${sel} (${what}) did not show within ${WAIT / 1000} s on ${page.url()}`);
  }
}
async function openApp(page, hash = '#/login') {
  // A new hash on the app's page is a same-document navigation (no response to check).
  const same = page.url().startsWith(`${URL0}/`) && !page.url().startsWith(`${URL0}/healthz`);
  const r = await page.goto(`${URL0}/${hash}`);
  if (!same || r) check(r && r.ok(), `GET / answered ${r ? r.status() : 'nothing'}: the web UI is not served`);
  await sleep(100);
}
/** Logs in through the UI's form; resolves when the app has left #/login. */
async function uiLogin(page, user, password) {
  await openApp(page, '#/login');
  await waitVisible(page, '#login-form', 'the login form');
  await page.fill('#username', user);
  await page.fill('#password', password);
  await page.click('#login-submit');
  try {
    await page.waitForFunction(() => !location.hash.startsWith('#/login'), null, { timeout: WAIT });
  } catch {
    const err = await page.textContent('#login-error').catch(() => null);
    throw new Fail(`${user} did not get past the login page${err ? ` (#login-error: "${err}")` : ''}`);
  }
}
/** A context logged in through the API inside the page (not the UI): returns {ctx, page, csrf}. */
async function apiSession(user, password) {
  const ctx = await newContext();
  const page = await newPage(ctx);
  await page.goto(`${URL0}/`); // the app's page: CSP connect-src 'self' (the API's own answers allow nothing)
  const r = await page.evaluate(async ([u, p]) => {
    const res = await fetch('/api/v1/session', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: u, password: p }) });
    return { status: res.status, body: await res.json().catch(() => null) };
  }, [user, password]);
  check(r.status === 201, `in-page login of ${user} answered ${r.status}`);
  return { ctx, page, csrf: r.body.csrf_token };
}
/** POST /vps/<id>/console from inside the page (cookie + CSRF token): {status, body}. */
function consoleToken(page, csrf, vpsId) {
  return page.evaluate(async ([c, id]) => {
    const res = await fetch(`/api/v1/vps/${id}/console`, { method: 'POST', headers: { 'X-CSRF-Token': c } });
    return { status: res.status, body: await res.json().catch(() => null) };
  }, [csrf, vpsId]);
}
/**
 * Opens a WebSocket from the page to path (relative to the page's origin unless absolute) and
 * reports {opened, firstBytes, code, reason, error}: when it opens, waits for the server's first
 * message (the RFB version from the console server), then closes it.
 */
function wsProbe(page, wsPath, ms = 5000) {
  return page.evaluate(([p, limit]) => new Promise((resolve) => {
    const url = /^wss?:/.test(p) ? p : location.origin.replace(/^http/, 'ws') + p;
    const out = { opened: false, firstBytes: null, code: null, error: false };
    let ws;
    try { ws = new WebSocket(url); } catch (e) { resolve({ ...out, thrown: String(e) }); return; }
    ws.binaryType = 'arraybuffer';
    const done = () => { clearTimeout(t); resolve(out); };
    const t = setTimeout(() => { out.timeout = true; try { ws.close(); } catch { /* */ } resolve(out); }, limit);
    ws.onopen = () => { out.opened = true; };
    ws.onerror = () => { out.error = true; };
    ws.onmessage = (e) => {
      if (out.firstBytes === null) {
        out.firstBytes = typeof e.data === 'string' ? `text:${e.data}` : String.fromCharCode(...new Uint8Array(e.data).slice(0, 12));
        ws.close();
      }
    };
    ws.onclose = (e) => { out.code = e.code; out.reason = e.reason; done(); };
  }), [wsPath, ms]);
}

/**
 * A raw RFB 3.8 client over a websocket from the page: handshake (None security, shared),
 * ServerInit, then an 8 KiB ClientCutText (over the 4 KiB limit: to be dropped), a
 * FramebufferUpdateRequest far outside the screen, then garbage; reports what happened.
 */
function rawRfbAbuse(page, u) {
  return page.evaluate((u) => new Promise((resolve) => {
    const ws = new WebSocket(/^wss?:/.test(u) ? u : location.origin.replace(/^http/, 'ws') + u);
    ws.binaryType = 'arraybuffer';
    let buf = new Uint8Array(0), stage = 0;
    const out = { opened: false, closed: false };
    const send = (a) => ws.send(new Uint8Array(a));
    const t = setTimeout(() => resolve(out), 8000);
    ws.onopen = () => { out.opened = true; };
    ws.onclose = (e) => { out.closed = true; out.code = e.code; clearTimeout(t); setTimeout(() => resolve(out), 50); };
    ws.onmessage = (e) => {
      const n = new Uint8Array(buf.length + e.data.byteLength);
      n.set(buf); n.set(new Uint8Array(e.data), buf.length); buf = n;
      if (stage === 0 && buf.length >= 12) { out.version = String.fromCharCode(...buf.slice(0, 11)); send([...'RFB 003.008\n'].map((c) => c.charCodeAt(0))); buf = buf.slice(12); stage = 1; }
      if (stage === 1 && buf.length >= 1 && buf.length >= 1 + buf[0]) { out.security = Array.from(buf.slice(1, 1 + buf[0])); send([1]); buf = buf.slice(1 + buf[0]); stage = 2; }
      if (stage === 2 && buf.length >= 4) { out.securityResult = new DataView(buf.buffer).getUint32(0); send([1]); buf = buf.slice(4); stage = 3; }
      if (stage === 3 && buf.length >= 24) {
        const dv = new DataView(buf.buffer, buf.byteOffset);
        const nlen = dv.getUint32(20);
        if (buf.length < 24 + nlen) return;
        out.width = dv.getUint16(0); out.height = dv.getUint16(2);
        out.name = new TextDecoder().decode(buf.slice(24, 24 + nlen));
        buf = buf.slice(24 + nlen); stage = 4;
        const cut = new Uint8Array(8 + 8192);
        const cdv = new DataView(cut.buffer);
        cut[0] = 6; cdv.setUint32(4, 8192);
        cut.fill(0x61, 8); for (let i = 8 + 63; i < cut.length; i += 64) cut[i] = 0x0a; // "aaa…\n" lines
        send(cut);
        setTimeout(() => {
          if (ws.readyState !== 1) return;
          out.openAfterCut = true;
          const fur = new Uint8Array(10); const fdv = new DataView(fur.buffer);
          fur[0] = 3; fdv.setUint16(2, 60000); fdv.setUint16(4, 60000); fdv.setUint16(6, 60000); fdv.setUint16(8, 60000);
          send(fur);
          setTimeout(() => { if (ws.readyState === 1) { out.openAfterFur = true; send([0xfa, 0xff, 0xff, 0xff, 0xff]); } }, 1000);
        }, 1000);
      }
    };
  }), u);
}

// =============================================================================================
fs.mkdirSync(SHOTS, { recursive: true });
console.log(`browser: chromium ${browser.version()}, screenshots in ${SHOTS}`);
await admin.login('admin', ADMIN_PW);
const aliceVps0 = (await admin.get(`/vps/${ALICE.vps}`)).data;
const bobVps0 = (await admin.get(`/vps/${BOB.vps}`)).data;

let aliceCtx, alicePage; // the UI session of alice (cases 2-4, 9)
let consoleStats = null; // case 4's last screen, for case 9

await runCase(1, 'a wrong password shows #login-error', async () => {
  const ctx = await newContext();
  const page = await newPage(ctx);
  await openApp(page, '#/login');
  await waitVisible(page, '#login-form', 'the login form');
  await shot(page, 'login');
  await page.fill('#username', 'alice');
  await page.fill('#password', 'not-the-password');
  await page.click('#login-submit');
  await waitVisible(page, '#login-error', 'the login error');
  const text = (await page.textContent('#login-error')).trim();
  await shot(page, 'login-wrong-password');
  check(text.length > 0, '#login-error is empty');
  check(page.url().includes('#/login'), `the page left the login route: ${page.url()}`);
  const me = await page.evaluate(async () => (await fetch('/api/v1/me')).status);
  check(me === 401, `after the failed login GET /api/v1/me answered ${me}, not 401`);
  await ctx.close();
  return `"${text}"`;
});

await runCase(2, 'alice sees exactly her VPS in #vps-list', async () => {
  aliceCtx = await newContext();
  alicePage = await newPage(aliceCtx);
  await uiLogin(alicePage, 'alice', ALICE.password);
  if (!alicePage.url().includes('#/vps')) await openApp(alicePage, '#/vps');
  await waitVisible(alicePage, '#vps-list tr.vps-row', 'a row of the VPS list');
  await sleep(300);
  const rows = await alicePage.$$eval('#vps-list tr.vps-row', (trs) => trs.map((tr) => ({
    id: tr.dataset.id,
    hostname: (tr.querySelector('.hostname') || {}).textContent,
    state: (tr.querySelector('.state') || {}).textContent,
    ipv4: (tr.querySelector('.ipv4') || {}).textContent,
  })));
  await shot(alicePage, 'alice-vps-list');
  check(rows.length === 1, `#vps-list has ${rows.length} rows (${rows.map((r) => r.id).join(',')}), expected 1`);
  check(rows[0].id === String(ALICE.vps), `the row is VPS ${rows[0].id}, not alice's ${ALICE.vps}`);
  check(rows[0].hostname && rows[0].hostname.trim() === aliceVps0.hostname, `.hostname is "${rows[0].hostname}", not ${aliceVps0.hostname}`);
  check(/running/.test(rows[0].state || ''), `.state is "${rows[0].state}"`);
  check((rows[0].ipv4 || '').includes(aliceVps0.ipv4[0]), `.ipv4 "${rows[0].ipv4}" lacks ${aliceVps0.ipv4[0]}`);
  const body = await alicePage.textContent('body');
  check(!body.includes(bobVps0.hostname), `bob's hostname ${bobVps0.hostname} is on alice's page`);
  check(!body.includes(bobVps0.ipv4[0]), `bob's address ${bobVps0.ipv4[0]} is on alice's page`);
  return `row ${rows[0].id} ${rows[0].hostname.trim()} ${rows[0].ipv4.trim()}`;
});

await runCase(3, 'alice reboots her VPS (confirm dialog), sees #job-status done and #vps-state change', async () => {
  check(alicePage, 'no alice session (case 2 failed)');
  const page = alicePage;
  await openApp(page, `#/vps/${ALICE.vps}`);
  await waitVisible(page, '#vps-page, #vps-state', 'the VPS page');
  await page.waitForFunction(() => /running/.test((document.querySelector('#vps-state') || {}).textContent || ''), null, { timeout: WAIT })
    .catch(() => { throw new Fail('#vps-state never read "running" before the reboot'); });
  // Every text #vps-state shows from now on.
  await page.evaluate(() => {
    window.__states = [document.querySelector('#vps-state').textContent.trim()];
    const note = () => {
      const el = document.querySelector('#vps-state');
      const t = el ? el.textContent.trim() : '(gone)';
      if (window.__states[window.__states.length - 1] !== t) window.__states.push(t);
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await shot(page, 'alice-vps-page');
  const domid0 = (await admin.get(`/vps/${ALICE.vps}`)).data.domid;
  const jobs0 = (await admin.get(`/jobs?vps=${ALICE.vps}&limit=1`)).total;

  // Cancel first: nothing may happen.
  await page.click('#btn-reboot');
  await waitVisible(page, '#confirm-dialog', 'the confirm dialog');
  await shot(page, 'alice-reboot-confirm');
  await page.click('#confirm-cancel');
  await sleep(800);
  const jobs1 = (await admin.get(`/jobs?vps=${ALICE.vps}&limit=1`)).total;
  check(jobs1 === jobs0, `Cancel in the confirm dialog still queued a job (${jobs0} -> ${jobs1} jobs)`);

  await page.click('#btn-reboot');
  await waitVisible(page, '#confirm-dialog', 'the confirm dialog');
  await page.click('#confirm-ok');
  await waitVisible(page, '#job-status', 'the job progress');
  await page.waitForFunction(() => /\bdone\b/i.test(document.querySelector('#job-status').textContent), null, { timeout: 30000 })
    .catch(async () => { throw new Fail(`#job-status never read "done": "${(await page.textContent('#job-status')).trim()}"`); });
  const jobText = (await page.textContent('#job-status')).trim().replace(/\s+/g, ' ');
  const after = (await admin.get(`/vps/${ALICE.vps}`)).data;
  check(after.domid !== domid0 && after.state === 'running', `after the reboot the API says state ${after.state}, domid ${domid0} -> ${after.domid}`);
  await page.waitForFunction(() => /running/.test(document.querySelector('#vps-state').textContent), null, { timeout: 5000 })
    .catch(() => { throw new Fail('#vps-state does not read "running" after the reboot'); });
  await shot(page, 'alice-rebooted');
  const rebootStates = await page.evaluate(() => window.__states.slice());

  // A reboot leaves the API's state "running" throughout (only the domid changes); the state a
  // customer can watch change is a shutdown's: running -> stopped -> running again with Start.
  await page.click('#btn-shutdown');
  await waitVisible(page, '#confirm-dialog', 'the confirm dialog');
  await page.click('#confirm-ok');
  await page.waitForFunction(() => /stopped/.test(document.querySelector('#vps-state').textContent), null, { timeout: 30000 })
    .catch(async () => { throw new Fail(`#vps-state never read "stopped" after Shut down: "${(await page.textContent('#vps-state')).trim()}"`); });
  await shot(page, 'alice-stopped');
  await page.waitForFunction(() => !document.querySelector('#btn-start').disabled, null, { timeout: 10000 })
    .catch(() => { throw new Fail('#btn-start stayed disabled on a stopped VPS'); });
  await page.click('#btn-start');
  if (await page.isVisible('#confirm-dialog')) await page.click('#confirm-ok');
  await page.waitForFunction(() => /running/.test(document.querySelector('#vps-state').textContent), null, { timeout: 30000 })
    .catch(async () => { throw new Fail(`#vps-state never read "running" after Start: "${(await page.textContent('#vps-state')).trim()}"`); });
  await page.waitForFunction(() => /\bdone\b/i.test(document.querySelector('#job-status').textContent), null, { timeout: 30000 })
    .catch(() => { throw new Fail('#job-status never read "done" after Start'); });
  const states = await page.evaluate(() => window.__states.slice());
  check(states.includes('stopped') || states.some((s) => /stopped/.test(s)), `#vps-state went ${states.join(' -> ')}`);
  const probs = pageProblems.get(page);
  check(probs.length === 0, `page problems: ${probs.join('; ')}`);
  return `reboot: "${jobText}", domid ${domid0} -> ${after.domid}, #vps-state ${rebootStates.join(' -> ')}; then ${states.slice(rebootStates.length - 1).join(' -> ')}`;
});

await runCase(4, 'alice opens the console: boot text and login prompt in the canvas, typing reaches the guest', async () => {
  check(alicePage, 'no alice session (case 2 failed)');
  const page = alicePage;
  const vps = (await admin.get(`/vps/${ALICE.vps}`)).data;
  check(vps.state === 'running', `alice's VPS is ${vps.state}`);
  await openApp(page, `#/vps/${ALICE.vps}`);
  await waitVisible(page, '#btn-console', 'the console button');
  await page.waitForFunction(() => !document.querySelector('#btn-console').disabled, null, { timeout: WAIT });
  await page.click('#btn-console');
  await page.waitForFunction(() => location.hash.endsWith('/console'), null, { timeout: WAIT })
    .catch(() => { throw new Fail(`#btn-console did not lead to #/vps/${ALICE.vps}/console (${page.url()})`); });
  await waitVisible(page, '#console-screen', 'the console screen');
  try {
    await page.waitForFunction(() => (document.querySelector('#console-status') || {}).textContent === 'connected'
      || /^disconnected/.test((document.querySelector('#console-status') || {}).textContent || ''), null, { timeout: 15000 });
  } catch {
    throw new Fail(`#console-status stayed "${await page.textContent('#console-status').catch(() => '?')}" for 15 s`);
  }
  const status = await page.textContent('#console-status');
  if (status !== 'connected') {
    await shot(page, 'console-refused');
    throw new Fail(`#console-status: "${status}"`);
  }
  const canvas = page.locator('#console-screen canvas');
  check(await canvas.count() === 1, `#console-screen holds ${await canvas.count()} canvases`);
  // Wait until the guest's text is drawn and the screen has been still for 700 ms.
  let prev = null, img = null, stillSince = Date.now();
  const end = Date.now() + 15000;
  for (;;) {
    img = decodePng(await canvas.screenshot());
    if (prev && diffPixels(prev, img) === 0) {
      if (Date.now() - stillSince > 700 && screenStats(img).fg > 0) break;
    } else stillSince = Date.now();
    prev = img;
    check(Date.now() < end, 'the canvas never stopped changing or stayed empty for 15 s');
    await sleep(150);
  }
  await shot(canvas, 'console-boot-canvas');
  await shot(page, 'console-boot-page');
  const s = screenStats(img);
  const promptLen = `${vps.domain} login: `.length;
  const last = s.textRows[s.textRows.length - 1];
  const info = `${s.w}x${s.h} bg ${s.bg}, fg ${s.fg} px (${(s.fgShare * 100).toFixed(1)} %), ${s.textRows.length} text rows, last row ${last} reaches col ${s.rowExt[last]}`;
  // An empty screen (just a cursor) has at most one cell of foreground: a few hundred pixels.
  check(s.fgShare > 0.02, `only ${(s.fgShare * 100).toFixed(2)} % of the canvas is foreground — no boot text? (${info})`);
  check(s.textRows.length >= 8, `only ${s.textRows.length} rows hold text (a boot log has more) (${info})`);
  // The login prompt "<domain> login: " ends the screen: the last text row is short.
  // (columns are counted from the rightmost lit pixel: a cursor cell and scaling add one or two)
  check(s.rowExt[last] >= promptLen - 2 && s.rowExt[last] <= promptLen + 3,
    `the last text row reaches column ${s.rowExt[last]}, not the ${promptLen} of "${vps.domain} login: " (${info})`);
  // Some boot line above is long (the kernel's version line wraps at 80 columns).
  check(Math.max(...s.rowExt) >= 60, `no text row is longer than ${Math.max(...s.rowExt)} columns (${info})`);
  consoleStats = s;

  // Type "root" + Enter: the guest echoes it and asks for the password on the next line.
  await canvas.click();
  await page.keyboard.type('root', { delay: 30 });
  await page.keyboard.press('Enter');
  let img2 = null;
  const end2 = Date.now() + 8000;
  for (;;) {
    await sleep(200);
    img2 = decodePng(await canvas.screenshot());
    const s2 = screenStats(img2);
    const l2 = s2.textRows[s2.textRows.length - 1];
    if (s2.rowExt[l2] >= 8 && s2.rowExt[l2] <= 13 && s2.textRows.length >= 2) break; // "Password: "
    if (Date.now() > end2) break;
  }
  await shot(canvas, 'console-after-root-canvas');
  const s2 = screenStats(img2);
  const l2 = s2.textRows[s2.textRows.length - 1];
  const p2 = s2.textRows[s2.textRows.length - 2];
  const band = img.h / 25;
  const bottomDiff = diffPixels(img, img2, (last - 1) * band, img.h);
  const info2 = `bottom diff ${bottomDiff} px, last row ${l2} reaches col ${s2.rowExt[l2]}, the one before ${p2} col ${s2.rowExt[p2]}`;
  check(bottomDiff > 150, `typing "root" + Enter changed only ${bottomDiff} pixels in the bottom lines (${info2})`);
  check(s2.rowExt[p2] >= promptLen + 4 - 2 && s2.rowExt[p2] <= promptLen + 4 + 3,
    `the prompt row does not read "${vps.domain} login: root" (reaches col ${s2.rowExt[p2]}, expected ~${promptLen + 4}) (${info2})`);
  check(s2.rowExt[l2] >= 8 && s2.rowExt[l2] <= 13, `the last row is not "Password: " (reaches col ${s2.rowExt[l2]}) (${info2})`);
  const probs = pageProblems.get(page);
  check(probs.length === 0, `page problems: ${probs.join('; ')}`);
  return `${info}; ${info2}`;
}, 60000);

await runCase(5, "bob's direct URL to alice's VPS shows #not-found", async () => {
  const ctx = await newContext();
  const page = await newPage(ctx);
  await uiLogin(page, 'bob', BOB.password);
  await openApp(page, `#/vps/${ALICE.vps}`);
  await waitVisible(page, '#not-found', 'the not-found page');
  await shot(page, 'bob-alice-vps-not-found');
  const body = await page.textContent('body');
  check(!body.includes(aliceVps0.hostname), `alice's hostname ${aliceVps0.hostname} is on bob's page`);
  check(!body.includes(aliceVps0.ipv4[0]), `alice's address ${aliceVps0.ipv4[0]} is on bob's page`);
  check(await page.locator('#vps-page').count() === 0, '#vps-page rendered for bob');
  // The console route too.
  await openApp(page, `#/vps/${ALICE.vps}/console`);
  await waitVisible(page, '#not-found', 'the not-found page (console route)');
  check(await page.locator('#console-screen canvas').count() === 0, "a console canvas rendered for bob on alice's VPS");
  await shot(page, 'bob-alice-console-not-found');
  await ctx.close();
});

let aliceApi = null; // {ctx, page, csrf}: alice's session made in a page, not through the UI
await runCase(6, 'console tokens: single use, expiring, bound to the user; refusals audited', async () => {
  aliceApi = await apiSession('alice', ALICE.password);
  const { page, csrf } = aliceApi;
  const a0 = await lastAuditId();
  const notes = [];
  const t = await consoleToken(page, csrf, ALICE.vps);
  check(t.status === 201, `POST /vps/${ALICE.vps}/console answered ${t.status}: ${JSON.stringify(t.body)}`);
  check(typeof t.body.token === 'string' && /^[A-Za-z0-9_-]{43}$/.test(t.body.token), `token ${JSON.stringify(t.body.token)} is not 43 base64url chars`);
  check(t.body.url === `/console/ws?token=${t.body.token}`, `url is ${JSON.stringify(t.body.url)}`);
  const first = await wsProbe(page, t.body.url);
  check(first.opened, `the first use of a fresh token did not open (${JSON.stringify(first)})`);
  check(/^RFB 003\.00\d/.test(first.firstBytes || ''), `the console server's first bytes were ${JSON.stringify(first.firstBytes)}, not an RFB version`);
  const second = await wsProbe(page, t.body.url);
  check(!second.opened, `the same token opened a second time (${JSON.stringify(second)})`);
  notes.push(`reuse refused (close ${second.code})`);

  // Expired: wait the TTL out (run.sh sets XVPS_CONSOLE_TOKEN_TTL=3).
  const t2 = await consoleToken(page, csrf, ALICE.vps);
  check(t2.status === 201, `second POST console answered ${t2.status}`);
  const ea = String(t2.body.expires_at || '');
  const exp = Date.parse(/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d$/.test(ea) ? `${ea.replace(' ', 'T')}Z` : ea) - Date.now();
  check(Number.isFinite(exp), `expires_at ${JSON.stringify(ea)} is not a time`);
  check(exp <= (TOKEN_TTL + 2) * 1000, `the token expires in ${Math.round(exp / 1000)} s, not within XVPS_CONSOLE_TOKEN_TTL=${TOKEN_TTL} s (the TTL setting is not honoured)`);
  await sleep((TOKEN_TTL + 1) * 1000);
  const expired = await wsProbe(page, t2.body.url);
  check(!expired.opened, `an expired token (${TOKEN_TTL + 1} s old) opened (${JSON.stringify(expired)})`);
  notes.push('expired refused');

  // Without a token, with a made-up one.
  const none = await wsProbe(page, '/console/ws');
  check(!none.opened, 'a websocket without a token opened');
  const bogus = await wsProbe(page, `/console/ws?token=${'A'.repeat(43)}`);
  check(!bogus.opened, 'a made-up token opened');

  // Alice's token from bob's session: refused (and alice's own use of it later still fails:
  // a token is consumed by its first use, whoever tries).
  const bob = await apiSession('bob', BOB.password);
  const t3 = await consoleToken(page, csrf, ALICE.vps);
  const cross = await wsProbe(bob.page, t3.body.url);
  check(!cross.opened, "alice's token opened from bob's session");
  const bobsOwn = await consoleToken(bob.page, bob.csrf, ALICE.vps);
  check(bobsOwn.status === 404, `bob asking for a token for alice's VPS got ${bobsOwn.status}, not 404`);
  await bob.ctx.close();
  notes.push('other user refused, other VPS 404');

  // Each refusal is in the audit log.
  await sleep(300);
  const audit = await auditSince(a0);
  const refused = audit.filter((a) => a.action === 'console.refused');
  const opened = audit.filter((a) => a.action === 'console.open');
  for (const why of ['reused', 'expired', 'user']) {
    check(refused.some((a) => a.str.includes(why)), `no console.refused audit entry mentions "${why}" (have: ${refused.map((a) => JSON.stringify(a.detail)).join(', ') || 'none'})`);
  }
  check(refused.length >= 5, `only ${refused.length} console.refused audit entries for 5 refusals`);
  check(opened.length >= 1, 'no console.open audit entry for the first use');
  notes.push(`${refused.length} console.refused audited`);
  return notes.join(', ');
});

await runCase(7, 'markup in names, a login name and a route renders as text, never as HTML', async () => {
  const mark = (tag) => `<img src=x onerror="window.__xss='${tag}'">${tag}`;
  const accepted = []; // [what, hash, text that must show]
  const refusedNames = [];
  // Names the admin types: the seeded plan renamed, a new template, a customer's email (the API
  // validates them; whatever it accepts must show as text).
  const plan = await admin.patch(`/plans/${aliceVps0.plan}`, { name: mark('plan') });
  if (plan.status === 200) accepted.push(['plan', '#/admin/plans', mark('plan')], ['plan', `#/vps/${ALICE.vps}`, mark('plan')]);
  else refusedNames.push(`plan name ${plan.status}`);
  const tpl = await admin.post('/templates', { name: mark('tpl'), os: 'debian', disk_gib: 1, boot: 'pvh' });
  if (tpl.status === 201) accepted.push(['template', '#/admin/templates', mark('tpl')]);
  else refusedNames.push(`template name ${tpl.status}`);
  const email = `"<svg onload=window.__xss='cust'>"@example.com`;
  const e = await admin.patch(`/customers/${aliceVps0.customer}`, { email });
  if (e.status === 200) accepted.push(['customer email', '#/admin/customers', email]);
  else refusedNames.push(`email ${e.status}`);
  // What anyone can type: a login name. A failed login is audited with the name tried, so it
  // reaches the admin's audit page.
  const evilUser = `<img src=x onerror="window.__xss='login'">`;
  const lf = await fetch(`${URL0}/api/v1/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: evilUser, password: 'x-password-1' }) });
  check(lf.status === 401, `a login as ${evilUser} answered ${lf.status}`);
  const audited = (await admin.get('/audit?limit=20')).data.some((a) => Object.values(a).some((v) => typeof v === 'string' && v.includes(evilUser)));
  if (audited) accepted.push(['failed login name', '#/admin/audit', evilUser]);
  else refusedNames.push('the failed login name is not in the audit log');

  const ctx = await newContext();
  const page = await newPage(ctx);
  await uiLogin(page, 'admin', ADMIN_PW);
  const seen = [];
  const noMarkup = async (where) => {
    const bad = await page.evaluate(() => ({
      xss: window.__xss || null,
      els: document.querySelectorAll('img[src="x"], [onerror], [onload]').length,
    }));
    check(!bad.xss, `markup ran as script on ${where}: window.__xss = ${bad.xss}`);
    check(bad.els === 0, `${bad.els} elements from the markup were created on ${where}`);
  };
  for (const [what, hash, text] of accepted) {
    await openApp(page, hash);
    try {
      await page.waitForFunction((t) => document.body.textContent.includes(t), text, { timeout: WAIT });
    } catch {
      await shot(page, `markup-${what.replace(/\W+/g, '-')}-missing`);
      await noMarkup(hash); // rendered as HTML? say so
      throw new Fail(`${hash} does not show the ${what} ${JSON.stringify(text)} as text`);
    }
    await sleep(300);
    await shot(page, `markup-${what.replace(/\W+/g, '-')}`);
    await noMarkup(hash);
    seen.push(`${what} on ${hash}`);
  }
  // Markup in the route itself (a link someone is sent): no element, no script.
  for (const hash of [`#/vps/${encodeURIComponent(mark('route'))}`, `#/vps/${mark('route2')}/console`, `#/${mark('route3')}`]) {
    await openApp(page, hash);
    await waitVisible(page, '#not-found', `the not-found page for ${hash}`);
    await sleep(300);
    await noMarkup(hash);
  }
  await shot(page, 'markup-route-not-found');
  seen.push('3 routes with markup: #not-found');
  if (plan.status === 200) await admin.patch(`/plans/${aliceVps0.plan}`, { name: 'small' });
  if (e.status === 200) await admin.patch(`/customers/${aliceVps0.customer}`, { email: 'alice@example.com' });
  const probs = pageProblems.get(page);
  check(probs.length === 0, `page problems: ${probs.join('; ')}`);
  await ctx.close();
  return `as text: ${seen.join(', ')}${refusedNames.length ? `; refused by the API: ${refusedNames.join(', ')}` : ''}`;
});

await runCase(8, 'CSRF and cross-site websockets from another origin change nothing', async () => {
  check(aliceApi, 'no in-page alice session (case 6 failed early)');
  const { ctx, page, csrf } = aliceApi;
  // A tiny page on another loopback port: 127.0.0.1:<other> (same site, so the SameSite=Strict
  // cookie IS sent: only the CSRF token protects) and localhost:<other> (cross-site).
  const evilHtml = `<!doctype html><meta charset=utf-8><title>evil</title>
<iframe name=sink style="display:none"></iframe>
<form id=f method=POST enctype="text/plain" target=sink><input name='{"x":"' value='"}'></form>
<script>
const q = new URLSearchParams(location.search);
const panel = q.get('panel'), vps = q.get('vps'), ws = q.get('ws');
const act = panel + '/api/v1/vps/' + vps + '/actions/poweroff';
const out = {};
async function attempt(name, fn) { try { out[name] = await fn(); } catch (e) { out[name] = 'blocked: ' + e.name; } }
(async () => {
  document.getElementById('f').action = act;
  document.getElementById('f').submit();
  await attempt('no-cors no body', async () => { await fetch(act, { method: 'POST', mode: 'no-cors', credentials: 'include' }); return 'sent (opaque)'; });
  await attempt('no-cors form-urlencoded', async () => { await fetch(act, { method: 'POST', mode: 'no-cors', credentials: 'include', body: new URLSearchParams({ a: '1' }) }); return 'sent (opaque)'; });
  await attempt('no-cors text/plain json', async () => { await fetch(act, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'Content-Type': 'text/plain' }, body: '{}' }); return 'sent (opaque)'; });
  await attempt('cors json + guessed csrf', async () => { const r = await fetch(act, { method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': 'guess' }, body: '{}' }); return 'answered ' + r.status; });
  await attempt('cors read /me', async () => { const r = await fetch(panel + '/api/v1/me', { credentials: 'include' }); return 'read ' + r.status + ' ' + (await r.text()).slice(0, 80); });
  if (ws) await attempt('websocket', () => new Promise((res) => {
    const s = new WebSocket(panel.replace(/^http/, 'ws') + ws);
    let opened = false;
    s.onopen = () => { opened = true; };
    s.onclose = (e) => res(opened ? 'OPENED' : 'refused ' + e.code);
    setTimeout(() => res(opened ? 'OPENED' : 'no answer'), 5000);
  }));
  await new Promise((r) => setTimeout(r, 1000));
  window.__done = out;
})();
</script>`;
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(evilHtml);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const evilPort = server.address().port;
  try {
    const before = (await admin.get(`/vps/${ALICE.vps}`)).data;
    check(before.state === 'running', `alice's VPS is ${before.state} before the attack`);
    const jobs0 = (await admin.get(`/jobs?vps=${ALICE.vps}&limit=1`)).total;
    const a0 = await lastAuditId();
    const outcome = {};
    let wsMissing = null;
    for (const host of ['127.0.0.1', 'localhost']) {
      const tok = await consoleToken(page, csrf, ALICE.vps);
      if (tok.status !== 201) wsMissing = `no websocket tried: POST /vps/${ALICE.vps}/console answered ${tok.status}`;
      const evil = await newPage(ctx); // alice's context: her cookie is in this browser
      const q = new URLSearchParams({ panel: URL0, vps: ALICE.vps, ws: tok.status === 201 ? tok.body.url : '' });
      await evil.goto(`http://${host}:${evilPort}/evil.html?${q}`);
      await evil.waitForFunction(() => window.__done, null, { timeout: 15000 });
      outcome[host] = await evil.evaluate(() => window.__done);
      await shot(evil, `csrf-${host}`);
      await evil.close();
      const o = outcome[host];
      check(/^blocked/.test(o['cors json + guessed csrf']) || /answered 403/.test(o['cors json + guessed csrf']),
        `from ${host}: the CORS POST with a guessed CSRF token ${o['cors json + guessed csrf']}`);
      check(/^blocked/.test(o['cors read /me']), `from ${host}: the other origin could read the API: ${o['cors read /me']}`);
      check(o.websocket !== 'OPENED', `from ${host}: a websocket with a valid token opened from another origin`);
    }
    await sleep(1500);
    const after = (await admin.get(`/vps/${ALICE.vps}`)).data;
    const jobs1 = (await admin.get(`/jobs?vps=${ALICE.vps}&limit=1`)).total;
    check(after.state === 'running' && after.domid === before.domid,
      `the VPS changed: ${before.state}/domid ${before.domid} -> ${after.state}/domid ${after.domid}`);
    check(jobs1 === jobs0, `the attack queued ${jobs1 - jobs0} job(s) for alice's VPS`);
    const audit = await auditSince(a0);
    const poweroffs = audit.filter((a) => a.action === 'vps.poweroff');
    check(poweroffs.length === 0, `the audit log shows ${poweroffs.length} vps.poweroff`);
    check(!wsMissing, `the CSRF attempts changed nothing, but ${wsMissing}`);
    const origin = audit.filter((a) => a.action === 'console.refused' && a.str.includes('origin'));
    check(origin.length >= 1, `no console.refused "origin" audit entry for the cross-origin websockets (${audit.map((a) => a.action).join(', ')})`);
    return `VPS still ${after.state} domid ${after.domid}, no job; ws: ${outcome['127.0.0.1'].websocket} / ${outcome.localhost.websocket}`;
  } finally {
    server.close();
  }
});

await runCase(9, 'malformed RFB from one client is refused and harmless to another console', async () => {
  check(alicePage && consoleStats, 'no connected console from case 4');
  check(aliceApi, 'no in-page alice session');
  const page = alicePage;
  check(await page.textContent('#console-status') === 'connected', `alice's console page is "${await page.textContent('#console-status')}"`);
  const canvas = page.locator('#console-screen canvas');
  const before = decodePng(await canvas.screenshot());
  const tok = await consoleToken(aliceApi.page, aliceApi.csrf, ALICE.vps);
  check(tok.status === 201, `POST console answered ${tok.status}`);
  // A raw RFB 3.8 client: handshake (None security, shared), ServerInit, then an 8 KiB
  // ClientCutText (over the 4 KiB limit: dropped), then a FramebufferUpdateRequest far outside
  // the screen, then garbage: the server must drop this client.
  const r = await rawRfbAbuse(aliceApi.page, tok.body.url);
  check(r.opened, `the raw client's websocket did not open (${JSON.stringify(r)})`);
  check(/^RFB 003\.00\d/.test(r.version || ''), `no RFB version from the server (${JSON.stringify(r)})`);
  check(Array.isArray(r.security) && r.security.includes(1), `security types ${JSON.stringify(r.security)} lack None`);
  check(r.name !== undefined, `no ServerInit (${JSON.stringify(r)})`);
  const vps = (await admin.get(`/vps/${ALICE.vps}`)).data;
  check(/^[a-z0-9-]*$/.test(r.name), `the desktop name ${JSON.stringify(r.name)} is not sanitized to [a-z0-9-]`);
  check(r.closed, `the server kept a client that sent an out-of-bounds FramebufferUpdateRequest and garbage (${JSON.stringify(r)})`);
  await sleep(500);
  // The 8 KiB clipboard text was not typed into alice's console, and her console still works.
  const mid = decodePng(await canvas.screenshot());
  const changed = diffPixels(before, mid);
  check(changed === 0, `alice's console changed by ${changed} px after the oversized ClientCutText (was it typed?)`);
  check(await page.textContent('#console-status') === 'connected', `alice's console is now "${await page.textContent('#console-status')}"`);
  await canvas.click();
  await page.keyboard.press('Enter');
  let after = null;
  for (let i = 0; i < 20; i++) {
    await sleep(200);
    after = decodePng(await canvas.screenshot());
    if (diffPixels(mid, after) > 100) break;
  }
  await shot(canvas, 'console-after-malformed-client');
  check(diffPixels(mid, after) > 100, "Enter in alice's console no longer changes its screen after the malformed client");
  return `desktop name "${r.name}" ${r.width}x${r.height}, dropped after ${r.openAfterFur ? 'garbage' : r.openAfterCut ? 'the bad FramebufferUpdateRequest' : 'the oversized ClientCutText'} (close ${r.code})`;
});

await runCase(10, 'every admin page renders without script errors or CSP violations; security headers', async () => {
  const problems = [];
  const wants = {
    'content-security-policy': /default-src 'self'/, 'x-content-type-options': /nosniff/,
    'referrer-policy': /no-referrer/, 'x-frame-options': /DENY/i,
  };
  for (const p of ['/', '/js/app.js', '/novnc/core/rfb.js', '/novnc/core/util/logging.js']) {
    const r = await fetch(`${URL0}${p}`);
    if (r.status !== 200) { problems.push(`GET ${p} answered ${r.status}`); continue; }
    const type = r.headers.get('content-type') || '';
    if (p.endsWith('.js') && !/^(text|application)\/javascript/.test(type)) problems.push(`${p} has Content-Type ${type}`);
    for (const [k, re] of Object.entries(wants)) if (!re.test(r.headers.get(k) || '')) problems.push(`${p} has ${k}: ${JSON.stringify(r.headers.get(k))}`);
    const csp = r.headers.get('content-security-policy') || '';
    for (const d of ["script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"]) {
      if (!csp.includes(d)) problems.push(`${p}: the CSP lacks ${d}`);
    }
    if (/unsafe-inline|unsafe-eval/.test(csp)) problems.push(`${p}: the CSP allows unsafe-*: ${csp}`);
  }
  const ctx = await newContext();
  const page = await newPage(ctx);
  await uiLogin(page, 'admin', ADMIN_PW);
  const routes = ['#/admin/vps', '#/admin/order', '#/admin/customers', '#/admin/invoices', '#/admin/billing', '#/admin/plans', '#/admin/templates', '#/admin/pools', '#/admin/jobs', '#/admin/audit', `#/vps/${BOB.vps}`, '#/no/such/page'];
  for (const r of routes) {
    await openApp(page, r);
    await page.waitForFunction(() => {
      const m = document.querySelector('#main');
      return m && !m.querySelector('.loading, .spinner') && m.textContent.trim().length > 20;
    }, null, { timeout: WAIT }).catch(() => problems.push(`${r} still loading or empty after ${WAIT / 1000} s`));
    await sleep(250);
    await shot(page, `admin-${r.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '')}`);
    const nf = await page.locator('#not-found').count();
    if (r === '#/no/such/page') { if (nf !== 1) problems.push('an unknown route does not show #not-found'); }
    else if (nf !== 0) problems.push(`${r} shows #not-found for the admin`);
    if (r === `#/vps/${BOB.vps}` && !(await page.textContent('body')).includes(bobVps0.hostname)) problems.push("the admin's page of bob's VPS lacks its hostname");
    if (r === '#/admin/jobs') {
      // Issue 17 item 6: each job's steps and durations, the agent's sub-steps under them.
      const steps = await page.evaluate(() => {
        const d = document.querySelector('#job-list .job-steps');
        if (!d) return null;
        return { summary: d.querySelector('summary').textContent, items: [...d.querySelectorAll('li')].map((li) => `${li.dataset.source}:${li.dataset.step}`) };
      });
      if (!steps) problems.push('the job list shows no job steps');
      else if (!/^\d+(\.\d+)? (µs|ms|s)$|min/.test(steps.summary)) problems.push(`a job's duration reads "${steps.summary}"`);
      else if (!steps.items.includes('panel:ensure') && !steps.items.some((x) => x.startsWith('panel:'))) problems.push(`a job's steps: ${steps.items.join(' ')}`);
      const create = await page.evaluate(() => [...document.querySelectorAll('#job-list .job-steps')].map((d) => [...d.querySelectorAll('li')].map((li) => `${li.dataset.source}:${li.dataset.step}`).join(' ')).find((x) => x.includes('panel:ensure')));
      if (!create || !/panel:ensure agent:storage agent:seed agent:config agent:netfilter agent:domain\.create/.test(create)) problems.push(`no create job shows the agent's sub-steps (${create})`);
    }
  }
  problems.push(...pageProblems.get(page));
  await ctx.close();
  check(problems.length === 0, problems.join('; '));
  return `${routes.length} pages, headers of 4 static files`;
}, 90000);

// ---- case 11: the usage card and the suspension reason ---------------------------------------
/** format.js's bytes(), to hold the card's text against the API's numbers. */
function fmtBytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}
/** A usage chart in the page: its Chart.js instance (the module the page imported) and pixels. */
function chartState(page, sel) {
  return page.evaluate(async (s) => {
    const canvas = document.querySelector(s);
    if (!canvas) return { error: `no ${s}` };
    const { Chart } = await import('/vendor/chart.js/chart.esm.js');
    const chart = Chart.getChart(canvas);
    if (!chart) return { error: `${s} has no Chart.js instance` };
    const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let lit = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) lit++;
    return {
      w: canvas.width, h: canvas.height, lit, step: canvas.dataset.step, points: Number(canvas.dataset.points),
      datasets: chart.data.datasets.map((x) => ({ label: x.label, n: x.data.length, max: Math.max(0, ...x.data) })),
    };
  }, sel);
}

await runCase(11, 'the usage card matches GET /vps/{id}/usage, Chart.js draws both graphs, a suspension shows its reason', async () => {
  // Chart.js is served by xvpsd with the static files' headers (and ES modules' type).
  const wants = {
    'content-security-policy': /default-src 'self'/, 'x-content-type-options': /nosniff/,
    'referrer-policy': /no-referrer/, 'x-frame-options': /DENY/i,
  };
  for (const p of ['/vendor/chart.js/chart.esm.js', '/vendor/chart.js/chunks/helpers.segment.js']) {
    const r = await fetch(`${URL0}${p}`);
    check(r.status === 200, `GET ${p} answered ${r.status} (is libjs-chart.js installed? XVPS_CHARTJS_DIR)`);
    check(/^text\/javascript/.test(r.headers.get('content-type') || ''), `${p} has Content-Type ${r.headers.get('content-type')}`);
    for (const [k, re] of Object.entries(wants)) check(re.test(r.headers.get(k) || ''), `${p} has ${k}: ${JSON.stringify(r.headers.get(k))}`);
    check(!/unsafe-inline|unsafe-eval/.test(r.headers.get('content-security-policy')), `${p}: the CSP allows unsafe-*`);
  }
  const missing = await fetch(`${URL0}/vendor/chart.js/no-such-file.js`);
  check(missing.status === 404, `a missing file under /vendor/chart.js/ answered ${missing.status}`);

  const aliceNode = await new Api(URL0).login(ALICE.username, ALICE.password);
  const ctx = await newContext();
  const page = await newPage(ctx);
  await uiLogin(page, ALICE.username, ALICE.password);
  await openApp(page, `#/vps/${ALICE.vps}`);
  await waitVisible(page, '#usage-period dd', 'the usage card');
  try {
    await page.waitForFunction(() => ['#usage-cpu-chart', '#usage-net-chart'].every((s) => {
      const c = document.querySelector(s);
      return c && c.dataset.step === '1h' && Number(c.dataset.points) > 0;
    }), null, { timeout: WAIT });
  } catch {
    throw new Fail(`the graphs were not drawn (note: "${await page.textContent('#usage-chart-note').catch(() => '?')}")`);
  }

  // The card's numbers are the API's: the period's sums (usage_period) and the hourly series'
  // total over the period agree, and the card shows them. A sweep may land between the reads
  // (every 10 s; the page polls every 2 s): read until all three agree.
  let seen = null;
  for (let i = 0; i < 8 && !seen; i++) {
    const series = await aliceNode.get(`/vps/${ALICE.vps}/usage?step=1h`);
    check(series.status === 200, `GET /vps/${ALICE.vps}/usage answered ${series.status}`);
    const vps = await aliceNode.get(`/vps/${ALICE.vps}`);
    const up = vps.data.usage_period;
    check(up, 'alice\'s VPS has no usage_period');
    const ui = await page.evaluate(() => ({ ...document.querySelector('#usage-period').dataset }));
    const t = series.data.total;
    const same = ['rx_bytes', 'tx_bytes', 'cpu_ns', 'running_s'].every((k) => t[k] === up[k]);
    const uiSame = Number(ui.rxBytes) === up.rx_bytes && Number(ui.txBytes) === up.tx_bytes &&
      Number(ui.cpuNs) === up.cpu_ns && Number(ui.runningS) === up.running_s;
    if (same && uiSame) seen = { up, t, p95: series.data.p95_5m_bps, quota: vps.data.quota };
    else await sleep(1500);
  }
  check(seen, 'the card, usage_period and the series\' total never agreed in 12 s');
  const text = async (s) => (await page.textContent(s)).trim();
  check(await text('#usage-tx') === fmtBytes(seen.up.tx_bytes), `#usage-tx shows "${await text('#usage-tx')}" for ${seen.up.tx_bytes} bytes`);
  check(await text('#usage-rx') === fmtBytes(seen.up.rx_bytes), `#usage-rx shows "${await text('#usage-rx')}" for ${seen.up.rx_bytes} bytes`);
  check(seen.up.cpu_ns > 0 && seen.up.running_s > 0, `alice's running VPS has no CPU or running time this period: ${JSON.stringify(seen.up)}`);
  const p95 = await page.evaluate(() => ({ ...document.querySelector('#usage-p95').dataset }));
  check(p95.rx !== undefined && p95.tx !== undefined, '#usage-p95 shows no 95th percentile');

  // The quota: a bar when the VPS has one, "unmetered" when not (the seeded plan has none).
  const quotaState = await page.getAttribute('#usage-quota', 'data-state');
  if (seen.quota) {
    check(quotaState === seen.quota.state, `#usage-quota's state is ${quotaState}, the API's ${seen.quota.state}`);
    const bar = await page.evaluate(() => document.querySelector('#usage-quota-bar')?.value);
    check(bar === Math.min(100, seen.quota.percent), `the quota bar is at ${bar}, the API says ${seen.quota.percent} %`);
  } else {
    check(quotaState === 'none' && /unmetered/.test(await text('#usage-quota')), `#usage-quota (${quotaState}) does not say the plan is unmetered`);
  }

  // Both graphs: a Chart.js instance each, a point per hour of the period up to now, pixels drawn.
  const hourly = {};
  for (const s of ['#usage-cpu-chart', '#usage-net-chart']) {
    const c = await chartState(page, s);
    check(!c.error, c.error);
    check(c.w > 100 && c.h > 100 && c.lit > 500, `${s} is ${c.w}x${c.h} with ${c.lit} pixels drawn`);
    check(c.datasets.every((d) => d.n === c.points && d.n > 0), `${s}: datasets ${JSON.stringify(c.datasets)} for ${c.points} points`);
    hourly[s] = c;
  }
  check(hourly['#usage-cpu-chart'].datasets[0].max > 0, 'the hourly CPU graph is flat zero for a running VPS');
  check(hourly['#usage-net-chart'].datasets.map((d) => d.label).join(',') === 'Out (sent),In (received)',
    `the traffic graph's series are ${hourly['#usage-net-chart'].datasets.map((d) => d.label)}`);
  await sleep(300);
  await shot(page, 'alice-usage-period');
  await shot(page.locator('#usage-card'), 'alice-usage-card');

  // The last 24 h in 5-minute buckets.
  await page.click('#usage-range-day');
  try {
    await page.waitForFunction(() => document.querySelector('#usage-cpu-chart').dataset.step === '5m' &&
      document.querySelector('#usage-net-chart').dataset.step === '5m', null, { timeout: WAIT });
  } catch {
    throw new Fail(`the 5-minute graphs did not show (note: "${await text('#usage-chart-note')}")`);
  }
  const day = await chartState(page, '#usage-cpu-chart');
  check(!day.error && day.points >= 1 && day.points <= 289 && day.datasets[0].max > 0,
    `the 5-minute CPU graph: ${JSON.stringify(day)}`);
  await sleep(300);
  await shot(page.locator('#usage-card'), 'alice-usage-day');

  // A VPS over its quota and throttled: its `quota` as the API documents it, put into the page's
  // GET /vps/{id} answers by request routing (so this holds whether or not the plan has a quota).
  const GIB = 2 ** 30;
  const fake = {
    included_bytes: 10 * GIB, used_bytes: 11 * GIB + GIB / 2, percent: 115, direction: 'out',
    period_start: seen.up.start, period_end: seen.up.end, action: 'throttle', state: 'throttled', over_quota_mbit: 10,
  };
  const vpsUrl = `${URL0}/api/v1/vps/${ALICE.vps}`;
  await page.route(vpsUrl, async (route) => {
    const resp = await route.fetch();
    const body = await resp.json();
    await route.fulfill({ response: resp, json: { ...body, quota: fake } });
  });
  try {
    await page.waitForFunction(() => document.querySelector('#usage-quota').dataset.state === 'throttled', null, { timeout: WAIT });
  } catch {
    throw new Fail(`#usage-quota did not show the quota (state ${await page.getAttribute('#usage-quota', 'data-state')})`);
  }
  const bar = await page.evaluate(() => document.querySelector('#usage-quota-bar').value);
  check(bar === 100, `the quota bar of a VPS at 115 % is at ${bar}`);
  const qText = await text('#usage-quota-text');
  check(qText === `${fmtBytes(fake.used_bytes)} of ${fmtBytes(fake.included_bytes)} (115 %)`, `#usage-quota-text shows "${qText}"`);
  const qState = await text('#usage-quota-state');
  check(/throttled/.test(qState) && /10 Mbit\/s/.test(await text('#usage-quota')), `#usage-quota says "${await text('#usage-quota')}"`);
  // The traffic graph's rates and directions: the last 5-minute bucket given 37.5 MB sent (tx,
  // the guest's view) and 75 MB received is drawn as 1 Mbit/s "Out (sent)", 2 Mbit/s "In".
  const usageGlob = `${URL0}/api/v1/vps/${ALICE.vps}/usage?*`;
  await page.route(usageGlob, async (route) => {
    const resp = await route.fetch();
    const body = await resp.json();
    if (body.step === '5m') {
      const now = Date.now();
      const last = body.points.filter((pt) => new Date(pt.t).getTime() <= now).at(-1);
      Object.assign(last, { tx_bytes: 37500000, rx_bytes: 75000000 });
    }
    await route.fulfill({ response: resp, json: body });
  });
  await page.click('#usage-range-period');
  await page.click('#usage-range-day');
  let rates = null;
  for (let i = 0; i < 20 && !rates; i++) {
    const c = await chartState(page, '#usage-net-chart');
    if (!c.error && c.datasets[0].max > 0) rates = c;
    else await sleep(250);
  }
  check(rates, 'the traffic graph did not draw the routed 5-minute traffic');
  check(rates.datasets[0].label === 'Out (sent)' && rates.datasets[0].max === 1e6 &&
    rates.datasets[1].label === 'In (received)' && rates.datasets[1].max === 2e6,
    `the traffic graph drew ${JSON.stringify(rates.datasets)} for 37.5 MB sent and 75 MB received in 5 min`);
  await sleep(300);
  await shot(page.locator('#usage-card'), 'alice-usage-quota-throttled');
  await page.unroute(usageGlob);
  await page.unroute(vpsUrl);
  const probs = [...pageProblems.get(page)];
  await ctx.close();
  check(probs.length === 0, `alice's VPS page: ${probs.join('; ')}`);

  // An admin suspends bob's VPS with a reason; bob's page shows why (as text).
  const reason = 'unpaid invoice <b id="inj">#42</b> & co';
  const sus = await admin.post(`/vps/${BOB.vps}/actions/suspend`, { reason });
  check(sus.status === 202, `suspending bob's VPS answered ${sus.status}: ${JSON.stringify(sus.data)}`);
  const bctx = await newContext();
  const bpage = await newPage(bctx);
  let shown = '';
  try {
    await uiLogin(bpage, BOB.username, BOB.password);
    await openApp(bpage, `#/vps/${BOB.vps}`);
    await waitVisible(bpage, '#suspension-reason', 'the suspension reason');
    shown = (await bpage.textContent('#suspension-reason')).trim();
    await sleep(300);
    await shot(bpage, 'bob-suspended');
    check(shown === reason, `#suspension-reason shows "${shown}", not "${reason}"`);
    check(await bpage.locator('#inj').count() === 0, 'the reason\'s markup became an element');
    check(/administrator/.test(await bpage.textContent('#suspension')), `#suspension says "${await bpage.textContent('#suspension')}"`);
    check(await bpage.textContent('#vps-state') === 'suspended', `bob's #vps-state is ${await bpage.textContent('#vps-state')}`);
    check(await bpage.isDisabled('#btn-start'), 'bob may press Start on his suspended VPS');
    check(pageProblems.get(bpage).length === 0, `bob's VPS page: ${pageProblems.get(bpage).join('; ')}`);
  } finally {
    // Lift it again, and wait for the VPS to run as it did before.
    const un = await admin.post(`/vps/${BOB.vps}/actions/unsuspend`, {});
    for (let i = 0; i < 100; i++) {
      const v = await admin.get(`/vps/${BOB.vps}`);
      if (v.data && v.data.state === 'running') break;
      await sleep(200);
    }
    if (un.status !== 202 && un.status !== 200) console.log(`note: unsuspending bob's VPS answered ${un.status}`);
  }
  await bpage.waitForSelector('#suspension', { state: 'hidden', timeout: WAIT })
    .catch(() => { throw new Fail('#suspension still shows after the unsuspend'); });
  await bctx.close();
  return `period ${seen.up.start}..${seen.up.end}: out ${seen.up.tx_bytes} B, in ${seen.up.rx_bytes} B, CPU ${seen.up.cpu_ns} ns, running ${seen.up.running_s} s; ` +
    `p95 out ${seen.p95.tx} in ${seen.p95.rx} bit/s; quota ${seen.quota ? `${seen.quota.percent} % ${seen.quota.state}` : 'none'}; ` +
    `graphs ${hourly['#usage-cpu-chart'].points} hourly and ${day.points} 5-minute points; bob's reason shown`;
}, 90000);

await runCase(12, 'an admin resizes a VPS from its page: plans listed, a smaller disk not selectable, the job, the plan and what waits for the reboot shown', async () => {
  const [vpsId] = BENCH.values().next().value;
  const u = Date.now().toString(36);
  const big = await admin.post('/plans', { name: `resize-big-${u}`, vcpus: 2, memory_mib: 1024, disk_gib: 3 });
  const tiny = await admin.post('/plans', { name: `resize-tiny-${u}`, vcpus: 1, memory_mib: 256, disk_gib: 1 });
  check(big.status === 201 && tiny.status === 201, `POST /plans answered ${big.status}, ${tiny.status}`);
  const ctx = await newContext();
  const page = await newPage(ctx);
  await uiLogin(page, 'admin', ADMIN_PW);
  await openApp(page, `#/vps/${vpsId}`);
  await waitVisible(page, '#resize-plan', 'the resize card');
  await page.waitForFunction(() => !document.querySelector('#btn-resize').disabled, null, { timeout: WAIT })
    .catch(() => { throw new Fail('#btn-resize stayed disabled on a running VPS'); });
  const opts = await page.evaluate(() => [...document.querySelectorAll('#resize-plan option')].map((o) => ({ v: o.value, t: o.textContent, d: o.disabled })));
  const tinyOpt = opts.find((o) => o.v === String(tiny.data.id));
  check(tinyOpt && tinyOpt.d && /smaller disk/.test(tinyOpt.t), `the 1 GiB plan's option: ${JSON.stringify(tinyOpt)}`);
  check(opts.some((o) => o.v === String(big.data.id) && !o.d), `no selectable option for the bigger plan: ${JSON.stringify(opts)}`);
  const jobs0 = (await admin.get(`/jobs?vps=${vpsId}&limit=1`)).total;
  await page.selectOption('#resize-plan', String(big.data.id));
  await page.click('#btn-resize');
  await waitVisible(page, '#confirm-dialog', 'the confirm dialog');
  await page.click('#confirm-cancel');
  await sleep(500);
  check((await admin.get(`/jobs?vps=${vpsId}&limit=1`)).total === jobs0, 'Cancel still queued a job');
  await page.click('#btn-resize');
  await waitVisible(page, '#confirm-dialog', 'the confirm dialog');
  await page.click('#confirm-ok');
  await waitVisible(page, '#job-status', 'the job progress');
  await page.waitForFunction(() => /\bdone\b/i.test(document.querySelector('#job-status').textContent), null, { timeout: 30000 })
    .catch(async () => { throw new Fail(`#job-status never read "done": "${(await page.textContent('#job-status')).trim()}"`); });
  const after = (await admin.get(`/vps/${vpsId}`)).data;
  check(String(after.plan) === String(big.data.id) && after.vcpus === 2 && after.memory_mib === 1024 && after.disk_gib === 3,
    `after the resize the API says plan ${after.plan}, ${after.vcpus} vCPUs, ${after.memory_mib} MiB, ${after.disk_gib} GiB`);
  // The domain was made when the largest plan had 1 vCPU and 512 MiB (its ceilings): both wait.
  check(after.pending && after.pending.memory_mib === 1024 && after.pending.vcpus === 2, `pending: ${JSON.stringify(after.pending)}`);
  await page.waitForFunction((name) => document.querySelector('#vps-plan').textContent.includes(name) &&
    /1 GiB RAM and 2 vCPUs wait for the next reboot/.test((document.querySelector('#vps-pending') || {}).textContent || ''),
  big.data.name, { timeout: WAIT })
    .catch(async () => { throw new Fail(`#vps-plan "${await page.textContent('#vps-plan')}", #vps-pending "${await page.textContent('#vps-pending').catch(() => '(none)')}"`); });
  await sleep(300);
  await shot(page, 'admin-vps-resized');
  const audits = await admin.get(`/audit?resource=vps/${vpsId}&limit=20`);
  check((audits.data || []).some((a) => a.action === 'vps.resize'), 'no vps.resize audit entry');
  const probs = pageProblems.get(page);
  await ctx.close();
  check(probs.length === 0, `page problems: ${probs.join('; ')}`);
  return `vps ${vpsId} to ${big.data.name}, pending ${JSON.stringify(after.pending)}`;
});

// ---- cases 13-15: billing (issue 14 item 6) -------------------------------------------------
/** money.js's money() for a two-decimal currency, written again to hold the pages' text against the API's integers. */
function fmtMoney(minor, cur) {
  const neg = minor < 0;
  const s = String(Math.abs(minor)).padStart(3, '0');
  const int = s.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg ? '−' : ''}${cur} ${int}.${s.slice(-2)}`;
}
const PROVIDER = { name: 'Example Hosting <b id="inj-provider">GmbH</b> & Co', address: 'Hauptstraße 1\n10115 Berlin\nGermany' };
let billingInvoice = null; // alice's invoice (case 13), for case 15
const aliceCustomer = String(aliceVps0.customer);

await runCase(13, "alice sees her balance, running cost and invoice; its printable page (A4) shows the provider's name", async () => {
  // Seed through the API: the provider on invoices, then alice's open period invoiced now.
  const st = await admin.patch('/settings', { provider_name: PROVIDER.name, provider_address: PROVIDER.address });
  check(st.status === 200, `PATCH /settings answered ${st.status}: ${JSON.stringify(st.data)}`);
  const cur = st.data.currency;
  check(st.data.currency_exponent === 2, `the test expects a two-decimal currency, the settings say ${JSON.stringify(st.data)}`);
  const made = await admin.post(`/customers/${aliceCustomer}/invoices`, {});
  check(made.status === 201, `POST /customers/${aliceCustomer}/invoices answered ${made.status}: ${JSON.stringify(made.data)}`);
  const inv = made.data;
  billingInvoice = inv;
  check(inv.total_cents > 0, `alice's invoice totals ${inv.total_cents} (the seeded plan has a price)`);

  const ctx = await newContext();
  const page = await newPage(ctx);
  await uiLogin(page, ALICE.username, ALICE.password);
  // The running cost grows by the started hour (the new period's first hour starts to count at
  // once): the page must show what the API said just before or just after it loaded.
  const bal0 = (await admin.get(`/customers/${aliceCustomer}/balance`)).data;
  await openApp(page, '#/billing');
  await waitVisible(page, `#invoice-list tr.invoice-row[data-id="${inv.id}"]`, "alice's invoice in #invoice-list");
  await waitVisible(page, '#balance-amount', 'the balance');
  const bal = (await admin.get(`/customers/${aliceCustomer}/balance`)).data;
  const text = async (sel) => ((await page.textContent(sel)) || '').trim();
  check(await text('#balance-amount') === fmtMoney(bal.balance_cents, cur), `#balance-amount shows "${await text('#balance-amount')}", the API ${fmtMoney(bal.balance_cents, cur)}`);
  check(bal.balance_cents === -inv.total_cents, `alice's balance ${bal.balance_cents} is not minus her invoice's ${inv.total_cents}`);
  const costs = [fmtMoney(bal0.running_cost_cents, cur), fmtMoney(bal.running_cost_cents, cur)];
  check(costs.includes(await text('#running-cost')), `#running-cost shows "${await text('#running-cost')}", the API ${costs.join(' then ')}`);
  await waitVisible(page, '#draft-lines', "the current period's draft lines");
  const row = page.locator(`#invoice-list tr.invoice-row[data-id="${inv.id}"]`);
  check((await row.locator('.number').textContent()).trim() === inv.number, `the row's number is not ${inv.number}`);
  check((await row.locator('.total').textContent()).trim() === fmtMoney(inv.total_cents, cur), `the row's total is not ${fmtMoney(inv.total_cents, cur)}`);
  const csvHref = await row.locator('.csv-link').getAttribute('href');
  check(csvHref === `/api/v1/invoices/${inv.id}?format=csv`, `the CSV link is ${csvHref}`);
  const csv = await page.evaluate(async (u) => { const r = await fetch(u); return { status: r.status, type: r.headers.get('content-type'), body: await r.text() }; }, csvHref);
  check(csv.status === 200 && /^text\/csv/.test(csv.type || '') && csv.body.startsWith('invoice,issued_at,') && csv.body.includes(inv.number),
    `alice's CSV link: ${csv.status} ${csv.type} ${csv.body.slice(0, 80)}`);
  check(!(await page.textContent('body')).includes(bobVps0.hostname), "bob's hostname is on alice's billing page");
  await sleep(300);
  await shot(page, 'alice-billing');

  // The printable page: provider name and address as text, lines, totals; Print calls window.print().
  await row.locator('.number a').click();
  await waitVisible(page, '#invoice-doc', 'the invoice page');
  check(await text('#provider-name') === PROVIDER.name, `#provider-name shows "${await text('#provider-name')}", not "${PROVIDER.name}"`);
  check(await page.locator('#inj-provider').count() === 0, "the provider name's markup became an element");
  const addr = await page.$eval('#provider-address', (e) => e.innerText);
  check(addr.trim() === PROVIDER.address, `#provider-address reads ${JSON.stringify(addr)}, not ${JSON.stringify(PROVIDER.address)}`);
  check(await text('#invoice-number') === inv.number, `#invoice-number is "${await text('#invoice-number')}"`);
  check(await text('#invoice-total') === fmtMoney(inv.total_cents, cur), `#invoice-total is "${await text('#invoice-total')}", not ${fmtMoney(inv.total_cents, cur)}`);
  const lines = await page.locator('#invoice-lines tr.line-row').count();
  check(lines === inv.lines.length, `the page shows ${lines} lines, the invoice has ${inv.lines.length}`);
  const amounts = await page.$$eval('#invoice-lines tr.line-row .amount', (tds) => tds.map((td) => td.textContent.trim()));
  check(JSON.stringify(amounts) === JSON.stringify(inv.lines.map((l) => fmtMoney(l.amount_cents, cur).slice(cur.length + 1))), `line amounts ${amounts.join(', ')}`);
  await page.evaluate(() => { window.__printed = 0; window.print = () => { window.__printed++; }; });
  await page.click('#btn-print');
  check(await page.evaluate(() => window.__printed) === 1, 'the Print button did not call window.print()');
  await shot(page, 'alice-invoice');
  await page.emulateMedia({ media: 'print' });
  const vis = await page.evaluate(() => ({
    topbar: getComputedStyle(document.querySelector('#topbar')).display,
    buttons: getComputedStyle(document.querySelector('#btn-print').closest('.no-print')).display,
    doc: getComputedStyle(document.querySelector('#invoice-doc')).display,
  }));
  check(vis.topbar === 'none' && vis.buttons === 'none' && vis.doc !== 'none', `print media: ${JSON.stringify(vis)}`);
  await shot(page, 'alice-invoice-print');
  const pdf = await page.pdf({ preferCSSPageSize: true, printBackground: true });
  const box = /\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/.exec(pdf.toString('latin1'));
  check(box && Math.abs(Number(box[1]) - 595.3) < 1.5 && Math.abs(Number(box[2]) - 841.9) < 1.5, `the printed page is ${box ? `${box[1]} × ${box[2]} pt` : 'of no size'}, not A4 (595 × 842 pt)`);
  const pdfPages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
  fs.writeFileSync(path.join(SHOTS, `${String(++shotNo).padStart(2, '0')}-alice-invoice.pdf`), pdf);
  await page.emulateMedia({ media: 'screen' });
  // The UI's money module on currencies with 0 and 3 decimal places, signs, big and refused input.
  const fmt = await page.evaluate(async () => {
    const m = await import('/js/money.js');
    return [m.money(123456, 'EUR'), m.money(-5, 'EUR'), m.money(1234, 'JPY'), m.money(1234, 'KWD'), m.money(Number.MAX_SAFE_INTEGER, 'EUR'),
      m.microMoney(13698630, 'EUR'), m.parseDecimal('12.34', 2), m.parseDecimal('0.1', 2), m.parseDecimal('-1', 2), m.parseDecimal('1.234', 2),
      m.parseDecimal('1e3', 2), m.parseDecimal('', 2), m.toInput(10000000, 8, 2), m.toInput(-100, 2)];
  });
  const want = ['EUR 1,234.56', '−EUR 0.05', 'JPY 1,234', 'KWD 1.234', 'EUR 90,071,992,547,409.91', 'EUR 0.1369863', 1234, 10, -100, '1.234', '1e3', null, '0.10', '-1.00'];
  check(JSON.stringify(fmt) === JSON.stringify(want), `money.js: ${JSON.stringify(fmt)}, not ${JSON.stringify(want)}`);
  check(pageProblems.get(page).length === 0, `alice's billing pages: ${pageProblems.get(page).join('; ')}`);
  await ctx.close();
  return `${inv.number}: ${inv.lines.length} line(s), ${fmtMoney(inv.total_cents, cur)}; balance ${fmtMoney(bal.balance_cents, cur)}; PDF ${box[1]}×${box[2]} pt, ${pdfPages} page(s)`;
});

await runCase(14, "an admin records a payment on alice's billing page; her balance changes by it", async () => {
  const before = (await admin.get(`/customers/${aliceCustomer}/balance`)).data;
  const paysBefore = (await admin.get(`/customers/${aliceCustomer}/payments`)).total;
  const cur = before.currency;
  const ctx = await newContext();
  const page = await newPage(ctx);
  await uiLogin(page, 'admin', ADMIN_PW);
  await openApp(page, '#/admin/customers');
  await waitVisible(page, `#customer-list tr.customer-row[data-id="${aliceCustomer}"] .billing-link`, "alice's Billing link");
  await page.click(`#customer-list tr.customer-row[data-id="${aliceCustomer}"] .billing-link`);
  await waitVisible(page, '#payment-form', 'the payment form');
  const text = async (sel) => ((await page.textContent(sel)) || '').trim();
  check(await text('#balance-amount') === fmtMoney(before.balance_cents, cur), `#balance-amount shows "${await text('#balance-amount')}" before, the API ${fmtMoney(before.balance_cents, cur)}`);

  // A zero payment is refused at its field, and nothing is recorded.
  await page.fill('#payment-form [name="amount_cents"]', '0');
  await page.click('#payment-form button[type="submit"]');
  await page.waitForFunction(() => (document.querySelector('#payment-form .field-error[data-field="amount_cents"]') || {}).textContent, null, { timeout: WAIT })
    .catch(() => { throw new Fail('a zero payment shows no error at its amount field'); });
  check((await admin.get(`/customers/${aliceCustomer}/payments`)).total === paysBefore, 'a zero payment was recorded');

  const ref = `SEPA <i id="inj-ref">4711</i>`;
  await page.fill('#payment-form [name="amount_cents"]', '12.34');
  await page.fill('#payment-form [name="reference"]', ref);
  await page.click('#payment-form button[type="submit"]');
  const want = fmtMoney(before.balance_cents + 1234, cur);
  await page.waitForFunction((w) => (document.querySelector('#balance-amount') || {}).textContent === w, want, { timeout: WAIT })
    .catch(async () => { throw new Fail(`#balance-amount shows "${await text('#balance-amount')}" after the payment, not ${want}`); });
  const after = (await admin.get(`/customers/${aliceCustomer}/balance`)).data;
  check(after.balance_cents === before.balance_cents + 1234, `the API's balance went from ${before.balance_cents} to ${after.balance_cents}, not by 1234`);
  check(after.payments_cents === before.payments_cents + 1234, `payments_cents went from ${before.payments_cents} to ${after.payments_cents}`);
  const pays = await admin.get(`/customers/${aliceCustomer}/payments`);
  check(pays.total === paysBefore + 1 && pays.data[0].amount_cents === 1234 && pays.data[0].reference === ref && pays.data[0].kind === 'payment',
    `the payments after: ${JSON.stringify(pays.data.slice(0, 2))}`);
  const row = page.locator(`#payment-list tr.payment-row[data-id="${pays.data[0].id}"]`);
  await row.waitFor({ state: 'visible', timeout: WAIT }).catch(() => { throw new Fail('the new payment is not in #payment-list'); });
  check((await row.locator('.detail').first().textContent()).trim() === ref, 'the reference is not shown as typed');
  check(await page.locator('#inj-ref').count() === 0, "the reference's markup became an element");
  await sleep(300);
  await shot(page, 'admin-payment');
  // The customer sees it too.
  const actx = await newContext();
  const apage = await newPage(actx);
  await uiLogin(apage, ALICE.username, ALICE.password);
  await openApp(apage, '#/billing');
  await waitVisible(apage, '#balance-amount', "alice's balance");
  const seen = (await apage.textContent('#balance-amount')).trim();
  check(seen === want, `alice's #balance-amount shows "${seen}", not ${want}`);
  await actx.close();
  check(pageProblems.get(page).length === 0, `the admin's pages: ${pageProblems.get(page).join('; ')}`);
  await ctx.close();
  return `${fmtMoney(before.balance_cents, cur)} + ${fmtMoney(1234, cur)} = ${want}; a zero payment refused`;
});

await runCase(15, "an admin issues a credit note on alice's invoice from its page", async () => {
  let inv = billingInvoice;
  if (!inv) { // case 13 failed before invoicing: make one here
    const made = await admin.post(`/customers/${aliceCustomer}/invoices`, {});
    check(made.status === 201, `POST /customers/${aliceCustomer}/invoices answered ${made.status}`);
    inv = made.data;
  }
  check(inv.total_cents >= 2, `the invoice's total ${inv.total_cents} leaves no partial credit note`);
  const cur = inv.currency;
  const balBefore = (await admin.get(`/customers/${aliceCustomer}/balance`)).data;
  const ctx = await newContext();
  const page = await newPage(ctx);
  await uiLogin(page, 'admin', ADMIN_PW);
  await openApp(page, `#/admin/invoices?customer=${aliceCustomer}`);
  await waitVisible(page, `#admin-invoice-list tr.invoice-row[data-id="${inv.id}"]`, "alice's invoice in the admin's list");
  await page.click(`#admin-invoice-list tr.invoice-row[data-id="${inv.id}"] .number a`);
  await waitVisible(page, '#btn-credit-note', 'the credit note button');
  await page.click('#btn-credit-note');
  await waitVisible(page, '#credit-note-dialog', 'the credit note dialog');
  // More than the invoice: refused at the amount, nothing made.
  const tooMuch = (inv.total_cents + 100) / 100;
  await page.fill('#credit-note-dialog [name="amount_cents"]', tooMuch.toFixed(2));
  await page.fill('#credit-note-dialog [name="reason"]', 'too much');
  await page.click('#credit-note-dialog button[type="submit"]');
  await page.waitForFunction(() => (document.querySelector('#credit-note-dialog .field-error[data-field="amount_cents"]') || {}).textContent, null, { timeout: WAIT })
    .catch(() => { throw new Fail('a credit note larger than the invoice shows no error at its amount'); });
  check(((await admin.get(`/invoices/${inv.id}`)).data.credit_notes || []).length === 0, 'a too-large credit note was made');
  // Half of it (rounded down), with a reason holding markup.
  const part = Math.floor(inv.total_cents / 2);
  const reason = 'downtime <b id="inj-cn">2 h</b> & more';
  await page.fill('#credit-note-dialog [name="amount_cents"]', `${Math.floor(part / 100)}.${String(part % 100).padStart(2, '0')}`);
  await page.fill('#credit-note-dialog [name="reason"]', reason);
  await page.click('#credit-note-dialog button[type="submit"]');
  await waitVisible(page, '#credit-notes li.credit-note', 'the credit note on the invoice page');
  const after = (await admin.get(`/invoices/${inv.id}`)).data;
  check(after.credit_notes.length === 1 && after.credit_notes[0].amount_cents === part && after.credit_notes[0].reason === reason,
    `the invoice's credit notes: ${JSON.stringify(after.credit_notes)}`);
  check(after.credited_cents === part && after.remaining_cents === inv.total_cents - part, `credited ${after.credited_cents}, remaining ${after.remaining_cents}`);
  check(after.total_cents === inv.total_cents, 'the invoice total changed');
  const cn = after.credit_notes[0];
  check((await page.textContent('#credit-notes .cn-number')).trim() === cn.number, `the page shows credit note "${await page.textContent('#credit-notes .cn-number')}", not ${cn.number}`);
  check((await page.textContent('#credit-notes .cn-reason')).trim() === reason, 'the reason is not shown as typed');
  check(await page.locator('#inj-cn').count() === 0, "the reason's markup became an element");
  check((await page.textContent('#invoice-remaining')).trim() === fmtMoney(after.remaining_cents, cur), `#invoice-remaining is "${await page.textContent('#invoice-remaining')}"`);
  check((await page.textContent('#invoice-state')).trim() === 'part credited', `#invoice-state is "${await page.textContent('#invoice-state')}"`);
  const balAfter = (await admin.get(`/customers/${aliceCustomer}/balance`)).data;
  check(balAfter.balance_cents === balBefore.balance_cents + part, `the balance went from ${balBefore.balance_cents} to ${balAfter.balance_cents}, not by ${part}`);
  await sleep(300);
  await shot(page, 'admin-credit-note');
  // The admin's list filtered by status finds it.
  await openApp(page, `#/admin/invoices?customer=${aliceCustomer}&status=${encodeURIComponent('part credited')}`);
  await waitVisible(page, `#admin-invoice-list tr.invoice-row[data-id="${inv.id}"]`, 'the invoice under the "part credited" filter');
  await openApp(page, `#/admin/invoices?customer=${aliceCustomer}&status=credited`);
  await waitVisible(page, '#admin-invoice-list tr.empty', 'an empty list under the "credited" filter');
  await shot(page, 'admin-invoices');
  check(pageProblems.get(page).length === 0, `the admin's pages: ${pageProblems.get(page).join('; ')}`);
  await ctx.close();
  return `${cn.number}: ${fmtMoney(part, cur)} of ${fmtMoney(inv.total_cents, cur)}; a larger one refused`;
});

// ---- case 16: accounts (TOTP enrolment and login, password change, reset link, API keys) ----
/** RFC 6238 (HMAC-SHA1, 30 s, 6 digits) of a base32 secret at unix time t, with node's crypto. */
function totpCode(b32, t) {
  const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of b32.replace(/=+$/, '')) bits += alpha.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
  const mac = crypto.createHmac('sha1', key).update(msg).digest();
  const o = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}
/** A one-shot SMTP sink on 127.0.0.1:port (xvpsd's XVPS_SMTP_URL): resolves the messages. */
function smtpSink(port) {
  const mails = [];
  const server = net.createServer((sock) => {
    let buf = '', data = false, msg = '';
    sock.write('220 sink ESMTP\r\n');
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      let i;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (data) {
          if (line === '.') { data = false; mails.push(msg); msg = ''; sock.write('250 kept\r\n'); } else msg += line + '\n';
        } else if (/^DATA/i.test(line)) { data = true; sock.write('354 go on\r\n'); } else if (/^QUIT/i.test(line)) { sock.end('221 bye\r\n'); } else sock.write('250 ok\r\n');
      }
    });
    sock.on('error', () => {});
  });
  server.listen(port, '127.0.0.1');
  return { mails, close: () => server.close() };
}

await runCase(16, 'accounts: TOTP enrolment from the QR page and a two-step login, password change, a reset link by e-mail (single use), an API key', async () => {
  const u = `carol${Date.now().toString(36)}`;
  const pw0 = 'carol pass 0001';
  const c = await admin.post('/customers', { username: u, email: `${u}@example.com`, password: pw0 });
  check(c.status === 201, `POST /customers answered ${c.status}`);
  const sink = smtpSink(Number(env('XVPS_SMTP_PORT')));
  const ctx = await newContext();
  const page = await newPage(ctx);
  try {
    await uiLogin(page, u, pw0);
    await openApp(page, '#/account');
    await waitVisible(page, '#totp-start', 'the two-factor set-up button');
    await page.click('#totp-start');
    await waitVisible(page, '#totp-secret', 'the TOTP secret');
    await waitVisible(page, '#totp-qr', 'the QR code canvas');
    const dark = await page.evaluate(() => {
      const cv = document.querySelector('#totp-qr');
      const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++;
      return { n, total: d.length / 4 };
    });
    check(dark.n > dark.total / 5 && dark.n < dark.total * 0.7, `the QR canvas does not look drawn (${dark.n} of ${dark.total} pixels dark)`);
    const secret = (await page.textContent('#totp-secret')).trim();
    check(/^[A-Z2-7]{32}$/.test(secret), `the secret on the page is "${secret}"`);
    const now = Date.now() / 1000;
    await page.fill('#totp-confirm-form input[name=code]', totpCode(secret, now));
    await page.click('#totp-confirm-form button[type=submit]');
    await waitVisible(page, '#recovery-codes', 'the recovery codes');
    const codes = await page.$$eval('#recovery-codes li', (li) => li.map((x) => x.textContent.trim()));
    check(codes.length === 10, `${codes.length} recovery codes shown`);
    await shot(page, 'account-totp-on');
    check(!/\bnull\b|undefined/.test(await page.textContent('#main')), 'the account page shows "null" or "undefined"');

    // Log out, log in: the code is a second step.
    await page.click('#logout');
    await page.waitForFunction(() => location.hash.startsWith('#/login'));
    await page.fill('#username', u);
    await page.fill('#password', pw0);
    await page.click('#login-submit');
    await waitVisible(page, '#totp-form', 'the second login step');
    check(!(await page.isVisible('#password')), 'the password field still shows in the second step');
    await page.fill('#totp-code', '000000');
    await page.click('#totp-submit');
    await waitVisible(page, '#totp-error', 'the wrong code error');
    await page.fill('#totp-code', totpCode(secret, now + 30));
    await page.click('#totp-submit');
    await page.waitForFunction(() => !location.hash.startsWith('#/login'), null, { timeout: WAIT })
      .catch(() => { throw new Fail('the right code did not log in'); });

    // Sessions and password change.
    await openApp(page, '#/account');
    await waitVisible(page, '#session-list tr[data-current="true"]', 'the current session row');
    await page.fill('#password-form input[name=current_password]', 'not the password');
    await page.fill('#password-form input[name=new_password]', 'carol pass 0002');
    await page.click('#password-form button[type=submit]');
    await page.waitForFunction(() => [...document.querySelectorAll('#password-form .field-error')].some((e) => e.dataset.field === 'current_password' && e.textContent.trim()))
      .catch(() => { throw new Fail('a wrong current password showed no field error'); });
    await page.fill('#password-form input[name=current_password]', pw0);
    await page.click('#password-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#password-form input[name=current_password]').value === '')
      .catch(() => { throw new Fail('the password change did not finish'); });

    // An API key from the UI: the token shown once, listed.
    await page.click('#apikeys-card summary');
    await page.fill('#apikey-form input[name=name]', 'ui-key');
    await page.click('#apikey-form button[type=submit]');
    await waitVisible(page, '#apikey-token', 'the new API key');
    check(/^xvps_[0-9a-f]{64}$/.test((await page.textContent('#apikey-token')).trim()), 'the key shown is not a key');
    await waitVisible(page, '#apikey-list .apikey-row', 'the key in the list');

    // The reset link: asked from the login page, read from the SMTP sink, used once.
    await page.click('#logout');
    await page.waitForFunction(() => location.hash.startsWith('#/login'));
    await page.click('#forgot-link');
    await waitVisible(page, '#forgot-form', 'the reset form');
    await page.fill('#forgot-form input[name=email]', `${u}@example.com`);
    await page.click('#forgot-form button[type=submit]');
    await waitVisible(page, '#forgot-done', 'the "link sent" answer');
    let link = null;
    for (let i = 0; i < 100 && !link; i++) {
      const m = sink.mails.map((x) => /(http:\/\/\S+#\/reset\?token=[0-9a-f]{64})/.exec(x)).find(Boolean);
      if (m) link = m[1]; else await sleep(100);
    }
    check(link, 'no reset e-mail reached the SMTP sink');
    check(link.startsWith(URL0), `the link ${link} is not on ${URL0}`);
    await page.goto(link);
    await waitVisible(page, '#reset-form', 'the new password form');
    await page.fill('#reset-form input[name=new_password]', 'carol pass 0003');
    await page.click('#reset-form button[type=submit]');
    await waitVisible(page, '#reset-done', 'the reset done message');
    await page.goto(`${URL0}/#/login`);
    await page.reload();
    await page.goto(link);
    await page.reload();
    await waitVisible(page, '#reset-form', 'the form again');
    await page.fill('#reset-form input[name=new_password]', 'carol pass 0004');
    await page.click('#reset-form button[type=submit]');
    await waitVisible(page, '#reset-form .form-error', 'the reused link error');
    const used = await page.textContent('#reset-form .form-error');
    check(/already used/.test(used), `the reused link said "${used}"`);

    // The new password and a recovery code log in.
    await openApp(page, '#/login');
    await page.fill('#username', u);
    await page.fill('#password', 'carol pass 0003');
    await page.click('#login-submit');
    await waitVisible(page, '#totp-form', 'the second login step');
    await page.fill('#totp-code', codes[0]);
    await page.click('#totp-submit');
    await page.waitForFunction(() => !location.hash.startsWith('#/login'), null, { timeout: WAIT })
      .catch(() => { throw new Fail('the recovery code did not log in'); });
    const probs = pageProblems.get(page);
    check(probs.length === 0, `page problems: ${probs.join('; ')}`);
    const audits = await admin.get(`/audit?resource=user/${c.data.id}&limit=100`);
    const acts = new Set((audits.data || []).map((a) => a.action));
    for (const a of ['totp.enable', 'login.totp_failed', 'password.change.refused', 'password.change', 'password.reset', 'password.reset.refused', 'totp.recovery_used']) {
      check(acts.has(a), `no ${a} audit entry (have ${[...acts].join(', ')})`);
    }
    return `secret ${secret.slice(0, 4)}…, 10 recovery codes, reset link ${link.length} chars`;
  } finally {
    sink.close();
    await ctx.close();
  }
}, 60000);

// ---- case 17: guest settings (issue 16 item 2) ---------------------------------------------
await runCase(17, 'alice changes her VPS\'s hostname and keys and resets its root password from the Settings card; next boot said, pending shown until the reboot', async () => {
  const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO6Hz7UWPTdwTYvQZOwm7U4npq5QYEcEZy4OY/s+keSJ alice@browser';
  const ctx = await newContext();
  const page = await newPage(ctx);
  try {
    await uiLogin(page, ALICE.username, ALICE.password);
    await openApp(page, `#/vps/${ALICE.vps}`);
    await waitVisible(page, '#settings-hostname', 'the Settings card');
    check(/next boot/.test(await page.textContent('#settings-next-boot')), 'the card does not say the next boot');
    await page.waitForFunction(() => !document.querySelector('#btn-settings-save').disabled, null, { timeout: WAIT })
      .catch(() => { throw new Fail('#btn-settings-save stayed disabled'); });
    // A name that is not fully qualified: the field error, nothing changed.
    const before = (await admin.get(`/vps/${ALICE.vps}`)).data;
    await page.fill('#settings-hostname', 'not-qualified');
    await page.click('#btn-settings-save');
    await page.waitForFunction(() => document.querySelector('#settings-hostname-error').textContent.length > 0, null, { timeout: WAIT })
      .catch(() => { throw new Fail('no field error for a bad hostname'); });
    check((await admin.get(`/vps/${ALICE.vps}`)).data.hostname === before.hostname, 'a refused hostname changed the VPS');
    // A good one and a key: the job, then what waits for the next boot.
    const host = `alice-${Date.now().toString(36)}.example.net`;
    await page.fill('#settings-hostname', host);
    await page.fill('#settings-keys', KEY);
    await page.click('#btn-settings-save');
    await waitVisible(page, '#job-status', 'the job progress');
    await page.waitForFunction(() => /hostname and SSH keys wait for the next boot/.test((document.querySelector('#settings-pending') || {}).textContent || ''), null, { timeout: 30000 })
      .catch(async () => { throw new Fail(`#settings-pending "${await page.textContent('#settings-pending').catch(() => '(none)')}"`); });
    const mid = (await admin.get(`/vps/${ALICE.vps}`)).data;
    check(mid.hostname === host && mid.ssh_keys.length === 1 && mid.ssh_keys[0] === KEY, `the API has ${mid.hostname}, ${JSON.stringify(mid.ssh_keys)}`);
    check(JSON.stringify(mid.guest_pending) === '["hostname","ssh_keys"]', `guest_pending ${JSON.stringify(mid.guest_pending)}`);
    check((await page.textContent('#vps-hostname')).trim() === host, 'the page header kept the old hostname');
    // A generated root password: shown once on the page, never in the VPS or the seed.
    await page.waitForFunction(() => !document.querySelector('#btn-reset-password').disabled, null, { timeout: 30000 });
    await page.click('#btn-reset-password');
    await waitVisible(page, '#confirm-dialog', 'the confirm dialog');
    await page.click('#confirm-ok');
    await waitVisible(page, '#settings-password-value', 'the new password');
    const pw = (await page.textContent('#settings-password-value')).trim();
    check(/^[A-Za-z0-9]{20}$/.test(pw), `the shown password "${pw}"`);
    check(/next boot/.test(await page.textContent('#settings-password-shown')), 'the password note does not say the next boot');
    await page.waitForFunction(() => /root password wait/.test((document.querySelector('#settings-pending') || {}).textContent || '') &&
      !/running|queued/.test(document.querySelector('#job-status').textContent), null, { timeout: 30000 })
      .catch(async () => { throw new Fail(`#settings-pending "${await page.textContent('#settings-pending')}"`); });
    const after = (await admin.get(`/vps/${ALICE.vps}`)).data;
    check(after.password_serial === mid.password_serial + 1, `password_serial ${mid.password_serial} -> ${after.password_serial}`);
    check(!JSON.stringify(after).includes(pw), 'the password is in the VPS JSON');
    const seedFile = path.join(STATE, 'seed', `${after.domain}.img`);
    const seed = fs.readFileSync(seedFile).toString('latin1').replace(/\0+$/, '');
    check(seed.startsWith('XVPS-SEED 2\n') && seed.includes(`\nhostname=${host}\n`) && seed.includes(`\nssh_key=${KEY}\n`) &&
      /\nroot_password_hash=\$(y|6)\$[^\n]+\npassword_serial=\d+\n/.test(seed), `the seed: ${seed.slice(0, 400)}`);
    check(!seed.includes(pw), 'the plaintext password is in the seed');
    await shot(page, 'alice-vps-settings');
    // Reboot now (from the card): the settings apply, nothing waits any more.
    await page.click('#btn-settings-reboot');
    await waitVisible(page, '#confirm-dialog', 'the reboot confirm dialog');
    await page.click('#confirm-ok');
    await page.waitForFunction(() => document.querySelector('#settings-pending-box').hidden, null, { timeout: 30000 })
      .catch(async () => { throw new Fail(`after the reboot #settings-pending still says "${await page.textContent('#settings-pending')}"`); });
    const done = (await admin.get(`/vps/${ALICE.vps}`)).data;
    check(done.guest_pending === null, `guest_pending after the reboot: ${JSON.stringify(done.guest_pending)}`);
    const audits = await admin.get(`/audit?resource=vps/${ALICE.vps}&limit=50`);
    const acts = (audits.data || []).map((a) => a.action);
    for (const a of ['vps.settings', 'vps.settings.refused', 'vps.password.reset']) check(acts.includes(a), `no ${a} audit entry`);
    check(!JSON.stringify(audits.data).includes(pw), 'the password is in the audit log');
    const probs = pageProblems.get(page);
    check(probs.length === 0, `page problems: ${probs.join('; ')}`);
    // An admin sets the DNS resolvers of alice's pool on #/admin/pools (a bad one refused).
    const actx = await newContext();
    const apage = await newPage(actx);
    try {
      await uiLogin(apage, 'admin', ADMIN_PW);
      await openApp(apage, '#/admin/pools');
      await waitVisible(apage, '#pool-list .pool-row', 'the pool list');
      const pools = (await admin.get('/ip-pools')).data;
      const pool = pools.find((pl) => pl.family === 4 && done.ipv4.length && pl.cidr.startsWith(done.ipv4[0].split('.').slice(0, 3).join('.')));
      check(pool, `no pool for ${JSON.stringify(done.ipv4)}`);
      const row = apage.locator(`#pool-list .pool-row[data-id="${pool.id}"]`);
      await row.getByRole('button', { name: 'Resolvers…' }).click();
      await waitVisible(apage, '#resolvers-dialog', 'the resolvers dialog');
      await apage.fill('#resolvers-dialog textarea', '192.0.2.53 not-an-address');
      await apage.click('#resolvers-dialog button[type=submit]');
      await apage.waitForFunction(() => /resolvers|address/i.test(document.querySelector('#resolvers-dialog').textContent) &&
        [...document.querySelectorAll('#resolvers-dialog .form-error, #resolvers-dialog .field-error')].some((e) => e.textContent.trim()), null, { timeout: WAIT })
        .catch(() => { throw new Fail('no error for a bad resolver'); });
      await apage.fill('#resolvers-dialog textarea', '192.0.2.53 2001:DB8::53');
      await apage.click('#resolvers-dialog button[type=submit]');
      await apage.waitForFunction((id) => (document.querySelector(`#pool-list .pool-row[data-id="${id}"] .resolvers`) || {}).textContent === '192.0.2.53 2001:db8::53',
        String(pool.id), { timeout: WAIT })
        .catch(async () => { throw new Fail(`the row shows "${await row.locator('.resolvers').textContent()}"`); });
      check(JSON.stringify((await admin.get(`/ip-pools/${pool.id}`)).data.resolvers) === '["192.0.2.53","2001:db8::53"]', 'the API lacks the resolvers');
      await shot(apage, 'admin-pool-resolvers');
      check(pageProblems.get(apage).length === 0, `admin page problems: ${pageProblems.get(apage).join('; ')}`);
      check((await admin.patch(`/ip-pools/${pool.id}`, { resolvers: [] })).status === 200, 'resetting the resolvers');
    } finally {
      await actx.close();
    }
    return `${host}, 1 key, serial ${after.password_serial}, applied by the reboot; pool resolvers set in the UI`;
  } finally {
    await ctx.close();
  }
}, 60000);

// ---- case 18: reverse DNS (issue 16 item 4) -------------------------------------------------
await runCase(18, "reverse DNS: alice names her VPS's address on its page (a bad name refused at its field), sees it kept unpublished (no PowerDNS here), clears it; all audited", async () => {
  const u = Date.now().toString(36);
  // Unchecked: the forward check would ask the system's resolver, and tests talk only to loopback.
  const st = await admin.req('PUT', '/settings/rdns', { zones: [], unchecked: true });
  check(st.status === 200 && st.data.publishing === false, `PUT /settings/rdns answered ${st.status} ${JSON.stringify(st.data)}`);
  const ctx = await newContext();
  try {
    const r0 = await admin.get(`/vps/${ALICE.vps}/rdns`);
    check(r0.status === 200 && r0.data.records.length > 0, `GET rdns answered ${r0.status} ${JSON.stringify(r0.data)}`);
    const addr = r0.data.records[0].address;
    const page = await newPage(ctx);
    await uiLogin(page, ALICE.username, ALICE.password);
    await openApp(page, `#/vps/${ALICE.vps}`);
    const row = `#rdns-rows tr[data-address="${addr}"]`;
    await waitVisible(page, row, 'the reverse DNS row of the address');
    check(/not configured/.test(await page.textContent('#rdns-note')), `#rdns-note: ${await page.textContent('#rdns-note')}`);
    await page.fill(`${row} .rdns-name`, 'not a name');
    await page.click(`${row} .rdns-save`);
    await page.waitForFunction((sel) => (document.querySelector(`${sel} .field-error`) || {}).textContent, row, { timeout: WAIT })
      .catch(() => { throw new Fail('a bad name showed no field error'); });
    check((await admin.get(`/vps/${ALICE.vps}/rdns`)).data.records[0].name === null, 'a refused name was stored');
    const name = `alice-${u}.example.net`;
    await page.fill(`${row} .rdns-name`, name);
    await page.click(`${row} .rdns-save`);
    await page.waitForFunction((sel) => /not published/.test(document.querySelector(`${sel} .rdns-status`).textContent) &&
      document.querySelector(`${sel} .rdns-clear`), row, { timeout: WAIT })
      .catch(async () => { throw new Fail(`the row never showed "not published": ${await page.textContent(row)}`); });
    const r1 = (await admin.get(`/vps/${ALICE.vps}/rdns`)).data.records.find((x) => x.address === addr);
    check(r1 && r1.name === name && r1.published === false, `the API has ${JSON.stringify(r1)}`);
    check(await page.inputValue(`${row} .rdns-name`) === name, 'the input lost the name');
    await shot(page, 'alice-vps-rdns');
    await page.click(`${row} .rdns-clear`);
    await page.waitForFunction((sel) => !document.querySelector(`${sel} .rdns-clear`), row, { timeout: WAIT })
      .catch(() => { throw new Fail('Clear did not clear the row'); });
    const r2 = (await admin.get(`/vps/${ALICE.vps}/rdns`)).data.records.find((x) => x.address === addr);
    check(r2 && r2.name === null, `after Clear the API has ${JSON.stringify(r2)}`);
    const audits = await admin.get(`/audit?resource=vps/${ALICE.vps}&limit=50`);
    const acts = new Set((audits.data || []).map((a) => a.action));
    for (const a of ['vps.rdns.refused', 'vps.rdns.set', 'vps.rdns.delete']) check(acts.has(a), `no ${a} audit entry`);
    const probs = pageProblems.get(page);
    check(probs.length === 0, `page problems: ${probs.join('; ')}`);
    return `${addr} -> ${name}, cleared`;
  } finally {
    await admin.req('PUT', '/settings/rdns', { zones: [], unchecked: false });
    await ctx.close();
  }
});

// ---- case 19: customers order for themselves (issue 16 item 8) ---------------------------------
await runCase(19, 'an admin sets a customer\'s limits on its page; the customer orders from the UI, hits a limit and sees it named, resizes, deletes', async () => {
  const u = Date.now().toString(36);
  const small = await admin.post('/plans', { name: `self-s-${u}`, vcpus: 1, memory_mib: 256, disk_gib: 2, price_month_cents: 1234 });
  const big = await admin.post('/plans', { name: `self-b-${u}`, vcpus: 2, memory_mib: 512, disk_gib: 3, price_month_cents: 2345 });
  check(small.status === 201 && big.status === 201, `POST /plans answered ${small.status}, ${big.status}`);
  const pw = `carol-${u}-long-password`;
  const cust = await admin.post('/customers', { username: `carol${u}`, email: `carol${u}@example.com`, password: pw });
  check(cust.status === 201, `POST /customers answered ${cust.status}`);
  const cid = cust.data.id;
  const cur = (await admin.get('/settings')).data.currency;
  const ctx = await newContext();
  const page = await newPage(ctx);
  let vpsId = null;
  try {
    // The admin sets carol's limits on her limits page (from the customer list).
    const actx = await newContext();
    const apage = await newPage(actx);
    try {
      await uiLogin(apage, 'admin', ADMIN_PW);
      await openApp(apage, '#/admin/customers');
      await apage.click(`#customer-list tr[data-id="${cid}"] a.limits-link`);
      await waitVisible(apage, '#limits-form', 'the limits form');
      await apage.fill('#limits-form [name="max_vps"]', '1');
      await apage.fill('#limits-form [name="max_vcpus"]', '2');
      await apage.uncheck('#limits-all-plans');
      await apage.check(`#limits-plans input[value="${small.data.id}"]`);
      await apage.check(`#limits-plans input[value="${big.data.id}"]`);
      await apage.click('#limits-form button[type=submit]');
      await apage.waitForFunction(() => /saved/.test(document.body.textContent), null, { timeout: WAIT })
        .catch(() => { throw new Fail('the limits page never said "saved"'); });
      await shot(apage, 'admin-customer-limits');
      const aprobs = pageProblems.get(apage);
      check(aprobs.length === 0, `admin page problems: ${aprobs.join('; ')}`);
    } finally {
      await actx.close();
    }
    const lim = (await admin.get(`/customers/${cid}/limits`)).data;
    check(lim.max_vps === 1 && lim.max_vcpus === 2 && lim.max_memory_mib === null && Array.isArray(lim.plans) && lim.plans.length === 2,
      `the limits page saved ${JSON.stringify(lim)}`);
    await uiLogin(page, `carol${u}`, pw);
    await page.click('#nav a[href="#/order"]');
    await waitVisible(page, '#order-plans', 'the plans offered');
    const rows = await page.evaluate(() => [...document.querySelectorAll('#order-plans .plan-row')].map((r) => ({ id: r.dataset.id, name: r.querySelector('.plan-name').textContent, price: r.querySelector('.plan-price').textContent })));
    check(rows.length === 2 && rows.every((r) => [String(small.data.id), String(big.data.id)].includes(r.id)), `the order page lists ${JSON.stringify(rows)}, not just the two plans offered`);
    const rs = rows.find((r) => r.id === String(small.data.id));
    check(rs.price === fmtMoney(1234, cur), `the small plan's price reads "${rs.price}", not "${fmtMoney(1234, cur)}"`);
    await waitVisible(page, '#order-limits [data-limit="vps"]', 'the limits');
    const vpsFact = await page.textContent('#order-limits [data-limit="vps"]');
    check(/0 servers of 1 server/.test(vpsFact), `the servers limit reads "${vpsFact}"`);
    await shot(page, 'customer-order');
    // The first order.
    const host = `self-${u}.example.net`;
    await page.fill('#order-form [name="hostname"]', host);
    await page.selectOption('#order-form [name="plan"]', String(small.data.id));
    await page.click('#order-form button[type=submit]');
    await waitVisible(page, '#order-result a', 'the ordered server');
    vpsId = (await page.getAttribute('#order-result a', 'href')).split('/').pop();
    await page.waitForFunction(() => /\bdone\b/i.test(document.querySelector('#job-status').textContent), null, { timeout: 30000 })
      .catch(async () => { throw new Fail(`#job-status never read "done": "${(await page.textContent('#job-status')).trim()}"`); });
    // The second: over max_vps, named on the page; nothing made.
    await page.fill('#order-form [name="hostname"]', `self2-${u}.example.net`);
    await page.click('#order-form button[type=submit]');
    await waitVisible(page, '#order-limit', 'the refusal naming the limit');
    const lt = await page.textContent('#order-limit');
    check(await page.getAttribute('#order-limit', 'data-limit') === 'vps' && /Servers limit reached/.test(lt) && /1 server in all/.test(lt) && /would make 2 servers/.test(lt),
      `#order-limit reads "${lt}"`);
    await shot(page, 'customer-order-limit');
    const mine = await admin.get(`/vps?customer=${cid}`);
    check(mine.total === 1, `carol holds ${mine.total} servers after the refused order`);
    const audits = await admin.get(`/audit?resource=customer/${cid}&limit=20`);
    check((audits.data || []).some((a) => a.action === 'vps.create.refused' && /limit vps/.test(a.detail)), 'no vps.create.refused audit entry naming the limit');
    // Resize to the big plan (2 vCPUs: exactly the limit) from the server's page.
    await openApp(page, `#/vps/${vpsId}`);
    await waitVisible(page, '#resize-plan', 'the resize card');
    await page.waitForFunction(() => !document.querySelector('#btn-resize').disabled, null, { timeout: WAIT })
      .catch(() => { throw new Fail('#btn-resize stayed disabled on a running VPS'); });
    const opts = await page.evaluate(() => [...document.querySelectorAll('#resize-plan option')].map((o) => o.value));
    check(opts.length === 2, `the resize card offers ${JSON.stringify(opts)}, not the two plans offered`);
    await page.selectOption('#resize-plan', String(big.data.id));
    await page.click('#btn-resize');
    await waitVisible(page, '#confirm-dialog', 'the confirm dialog');
    await page.click('#confirm-ok');
    await page.waitForFunction(() => /\bdone\b/i.test(document.querySelector('#job-status').textContent), null, { timeout: 30000 })
      .catch(async () => { throw new Fail(`the resize job never read "done": "${(await page.textContent('#job-status')).trim()}"`); });
    const after = (await admin.get(`/vps/${vpsId}`)).data;
    check(String(after.plan) === String(big.data.id) && after.vcpus === 2, `after the resize: plan ${after.plan}, ${after.vcpus} vCPUs`);
    // Delete, confirmed by typing the hostname.
    await page.waitForFunction(() => !document.querySelector('#btn-delete').disabled, null, { timeout: WAIT })
      .catch(() => { throw new Fail('#btn-delete stayed disabled'); });
    await page.click('#btn-delete');
    await waitVisible(page, '#confirm-input', 'the typed confirmation');
    check(await page.isDisabled('#confirm-ok'), 'Delete is possible before the hostname is typed');
    await page.fill('#confirm-input', host);
    await page.click('#confirm-ok');
    await page.waitForFunction(() => location.hash === '#/vps', null, { timeout: 30000 })
      .catch(async () => {
        await shot(page, 'customer-delete-stuck');
        throw new Fail(`the page did not go back to #/vps after the delete (${page.url()}; #job-status "${(await page.textContent('#job-status').catch(() => '')).trim()}")`);
      });
    check((await admin.get(`/vps/${vpsId}`)).status === 404, 'the server is still there after the delete');
    vpsId = null;
    const probs = pageProblems.get(page);
    check(probs.length === 0, `page problems: ${probs.join('; ')}`);
    return `ordered, refused (limit vps), resized to ${big.data.name}, deleted`;
  } finally {
    await ctx.close();
    if (vpsId) await admin.req('DELETE', `/vps/${vpsId}`);
    for (let i = 0; i < 50 && (await admin.get(`/vps?customer=${cid}`)).total > 0; i++) await sleep(200);
    await admin.req('DELETE', `/customers/${cid}`);
    await admin.req('DELETE', `/plans/${small.data.id}`);
    await admin.req('DELETE', `/plans/${big.data.id}`);
  }
}, 90000);

// ---- case 20: rescue mode (issue 16 item 3) ---------------------------------------------------
await runCase(20, 'a customer boots a VPS into rescue mode from its page, sees it, and leaves it', async () => {
  // The last bench user's last VPS (no other case changes it). The sim agent's rescue system is
  // a 1 MiB file in its template import directory, written here and removed at the end.
  const user = [...BENCH.keys()].pop();
  const vpsId = BENCH.get(user).slice(-1)[0];
  const src = path.join(STATE, 'template-src', 'rescue.img');
  const imported = path.join(STATE, 'templates', 'rescue.img');
  const copy = path.join(STATE, 'disks', `rescue-xvps-${vpsId}.img`);
  fs.mkdirSync(path.dirname(src), { recursive: true, mode: 0o700 });
  fs.writeFileSync(src, Buffer.alloc(1 << 20));
  const ctx = await newContext();
  try {
    const page = await newPage(ctx);
    await uiLogin(page, user, BENCH_PW);
    await openApp(page, `#/vps/${vpsId}`);
    await waitVisible(page, '#rescue-card', 'the rescue card');
    check(/Not in rescue mode/.test(await page.textContent('#rescue-status')), `#rescue-status: ${await page.textContent('#rescue-status')}`);
    const domid0 = (await admin.get(`/vps/${vpsId}`)).data.domid;
    const toggle = async (want, label) => {
      await page.waitForFunction(() => !document.querySelector('#btn-rescue').disabled, null, { timeout: 30000 })
        .catch(() => { throw new Fail('#btn-rescue stayed disabled'); });
      await page.click('#btn-rescue');
      await waitVisible(page, '#confirm-dialog', 'the confirm dialog');
      await page.click('#confirm-ok');
      await waitVisible(page, '#job-status', 'the job progress');
      await page.waitForFunction((l) => document.querySelector('#job-status').textContent.includes(l) &&
        /\bdone\b/i.test(document.querySelector('#job-status').textContent), label, { timeout: 60000 })
        .catch(async () => { throw new Fail(`#job-status never read "${label} … done": "${(await page.textContent('#job-status')).trim()}"`); });
      await page.waitForFunction((w) => (w ? /In rescue mode/ : /Not in rescue mode/).test(document.querySelector('#rescue-status').textContent), want, { timeout: WAIT })
        .catch(async () => { throw new Fail(`#rescue-status: "${await page.textContent('#rescue-status')}"`); });
      const v = (await admin.get(`/vps/${vpsId}`)).data;
      check(v.rescue === want && v.state === 'running', `the API says rescue ${v.rescue}, state ${v.state}`);
      return v;
    };
    const inRescue = await toggle(true, 'Rescue mode');
    check(inRescue.domid !== domid0, 'entering rescue did not restart the VPS');
    check(fs.existsSync(copy), `no rescue copy ${copy}`);
    check(/Leave rescue mode/.test(await page.textContent('#btn-rescue')), `#btn-rescue: ${await page.textContent('#btn-rescue')}`);
    await shot(page, 'vps-rescue-on');
    const normal = await toggle(false, 'Leave rescue mode');
    check(normal.domid !== inRescue.domid, 'leaving rescue did not restart the VPS');
    check(!fs.existsSync(copy), 'the rescue copy is still there');
    await shot(page, 'vps-rescue-off');
    const audits = await admin.get(`/audit?resource=vps/${vpsId}&limit=20`);
    const acts = new Set((audits.data || []).map((a) => a.action));
    check(acts.has('vps.rescue') && acts.has('vps.unrescue'), `audit: ${[...acts].join(', ')}`);
    const probs = pageProblems.get(page);
    check(probs.length === 0, `page problems: ${probs.join('; ')}`);
    return `${user}'s vps ${vpsId}: domid ${domid0} → ${inRescue.domid} (rescue) → ${normal.domid}`;
  } finally {
    await ctx.close();
    fs.rmSync(src, { force: true });
    fs.rmSync(imported, { force: true });
  }
}, 120000);

// ---- benchmark (asserts nothing) ------------------------------------------------------------
/**
 * Opens consoles one after the other in the page (a fresh token each, then noVNC's RFB) and
 * times each from the POST to the RFB 'connect' event and to the first framebuffer drawn on the
 * canvas (a pixel with alpha > 0). Keeps them open in window.__rfbs.
 */
function openConsoles(page, csrf, ids) {
  return page.evaluate(async ([c, list]) => {
    const one = async (id) => {
      const div = document.createElement('div');
      div.style.cssText = 'width:640px;height:400px;display:inline-block;overflow:hidden';
      document.body.append(div);
      const t0 = performance.now();
      const res = await fetch(`/api/v1/vps/${id}/console`, { method: 'POST', headers: { 'X-CSRF-Token': c } });
      if (res.status !== 201) return { id, error: `POST ${res.status}` };
      const { url } = await res.json();
      const tPost = performance.now() - t0;
      const rfb = new window.__RFB(div, location.origin.replace(/^http/, 'ws') + url, { shared: true });
      (window.__rfbs = window.__rfbs || []).push(rfb);
      return new Promise((resolve) => {
        let tConnect = null;
        const fail = setTimeout(() => resolve({ id, error: 'no frame within 20 s', tPost, tConnect }), 20000);
        rfb.addEventListener('disconnect', (e) => { clearTimeout(fail); resolve({ id, error: `disconnected (clean: ${e.detail.clean})`, tPost, tConnect }); });
        rfb.addEventListener('connect', () => {
          tConnect = performance.now() - t0;
          const cv = div.querySelector('canvas');
          const g = cv.getContext('2d', { willReadFrequently: true });
          const poll = () => {
            const d = g.getImageData(0, 0, cv.width, cv.height).data;
            for (let i = 3; i < d.length; i += 64) {
              if (d[i] !== 0) { clearTimeout(fail); resolve({ id, tPost, tConnect, tFrame: performance.now() - t0 }); return; }
            }
            setTimeout(poll, 4);
          };
          poll();
        });
      });
    };
    const out = [];
    for (const id of list) out.push(await one(id));
    return out;
  }, [csrf, ids]);
}
const closeConsoles = (page) => page.evaluate(() => {
  for (const r of window.__rfbs || []) r.disconnect();
  window.__rfbs = [];
  document.body.replaceChildren();
});

async function bench() {
  const a0 = await lastAuditId();
  const users = [];
  for (const [u, ids] of BENCH) {
    const sess = await apiSession(u, BENCH_PW);
    const ok = await sess.page.evaluate(async () => {
      document.body.replaceChildren();
      try { window.__RFB = (await import('/novnc/core/rfb.js')).default; return 'ok'; } catch (e) { return String(e); }
    });
    if (ok !== 'ok') { console.log(`bench: skipped: noVNC not loadable (${ok})`); return; }
    users.push({ u, ids, ...sess });
  }
  const fmt = (x) => (x === undefined || x === null ? '-' : x.toFixed(0));
  const med = (a) => { const s = a.slice().sort((x, y) => x - y); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
  const first = users[0];

  // Cold: the first console of a VPS (the agent starts its xvps-console); warm: it runs already.
  const [cold] = await openConsoles(first.page, first.csrf, [first.ids[0]]);
  await closeConsoles(first.page);
  if (cold.error) { console.log(`bench: skipped: the first console failed (${cold.error})`); return; }
  console.log(`bench: console_first_frame_cold ${fmt(cold.tFrame)} ms (POST ${fmt(cold.tPost)} ms, RFB connect ${fmt(cold.tConnect)} ms; its xvps-console not yet running; ${BUILD_NOTE})`);
  const warm = [];
  for (let i = 0; i < 5; i++) {
    await sleep(300); // the relay of the one before is released
    warm.push((await openConsoles(first.page, first.csrf, [first.ids[0]]))[0]);
    await closeConsoles(first.page);
  }
  const wf = warm.filter((w) => !w.error);
  console.log(`bench: console_first_frame_warm ${fmt(med(wf.map((w) => w.tFrame)))} ms (median of ${wf.length} of 5; POST ${fmt(med(wf.map((w) => w.tPost)))} ms, connect ${fmt(med(wf.map((w) => w.tConnect)))} ms; same VPS again)`);
  await sleep(500);

  // 20 consoles: 5 users at once, each opening its 4 one after the other (19 cold, 1 warm).
  const s0 = sampleAll();
  const t0 = Date.now();
  const all = (await Promise.all(users.map((x) => openConsoles(x.page, x.csrf, x.ids)))).flat();
  const openMs = Date.now() - t0;
  const s1 = sampleAll();
  const good = all.filter((a) => !a.error);
  const bad = all.filter((a) => a.error);
  console.log(`bench: consoles_20_opened ${good.length} of ${all.length} in ${openMs} ms${bad.length ? ` (failed: ${bad.map((b) => `vps ${b.id}: ${b.error}`).join('; ')})` : ''}`);
  if (good.length) {
    console.log(`bench: consoles_20_first_frame median ${fmt(med(good.map((g) => g.tFrame)))} ms, max ${fmt(Math.max(...good.map((g) => g.tFrame)))} ms (POST to first frame, 5 users in parallel)`);
  }
  console.log(`bench: consoles_20_open_cpu xvpsd ${cpuPct(s0, s1, 'panel')} %, agent ${cpuPct(s0, s1, 'agent')} %, xvps-console (all) ${cpuPct(s0, s1, 'consoles')} % of one CPU over the ${(Number(s1.at - s0.at) / 1e9).toFixed(1)} s of opening`);
  await sleep(5000);
  const s2 = sampleAll();
  console.log(`bench: consoles_20_idle_cpu xvpsd ${cpuPct(s1, s2, 'panel')} %, agent ${cpuPct(s1, s2, 'agent')} %, xvps-console (all) ${cpuPct(s1, s2, 'consoles')} % over 5 s`);
  // Keystrokes: Enter into every console every 250 ms for 5 s (each makes its guest print a line).
  const s3a = sampleAll();
  await Promise.all(users.map((x) => x.page.evaluate(async () => {
    for (let i = 0; i < 20; i++) {
      for (const r of window.__rfbs) r.sendKey(0xff0d, 'Enter');
      await new Promise((res) => setTimeout(res, 250));
    }
  })));
  const s3 = sampleAll();
  console.log(`bench: consoles_20_typing_cpu xvpsd ${cpuPct(s3a, s3, 'panel')} %, agent ${cpuPct(s3a, s3, 'agent')} %, xvps-console (all) ${cpuPct(s3a, s3, 'consoles')} % (Enter into each console every 250 ms, 5 s)`);
  const mib = (x) => (x ? `${(x.rssKiB / 1024).toFixed(1)} MiB` : '-');
  console.log(`bench: consoles_20_rss xvpsd ${mib(s3.panel)} (${s3.panel ? s3.panel.threads : '-'} threads), agent ${mib(s3.agent)}, xvps-console ${s3.consoles.length} processes ${(s3.consoleRss / 1024).toFixed(1)} MiB in all (${s3.consoles.length ? (s3.consoleRss / 1024 / s3.consoles.length).toFixed(1) : '-'} MiB each); before: xvpsd ${mib(s0.panel)} (${s0.panel ? s0.panel.threads : '-'} threads), ${s0.consoles.length} xvps-console; ${BUILD_NOTE}`);
  for (const x of users) { await closeConsoles(x.page); await x.ctx.close(); }
  const refused = (await auditSince(a0)).filter((a) => a.action === 'console.refused');
  if (refused.length) console.log(`bench: console_refusals ${refused.length} (${refused.map((a) => a.detail).join(', ')})`);
}
try {
  await Promise.race([bench(), sleep(90000).then(() => console.log('bench: stopped after 90 s'))]);
} catch (e) {
  console.log(`bench: failed: ${String(e.message).split('\n')[0]}`);
}

await browser.close();
const failed = results.filter((r) => !r.ok).map((r) => r.n);
console.log(failed.length ? `browser: ${failed.length} of ${results.length} cases FAILED: ${failed.join(', ')}` : `browser: all ${results.length} cases passed`);
process.exit(failed.length ? 1 : 0);
