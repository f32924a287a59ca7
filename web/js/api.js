// api.js — the only place that talks to the REST API (/api/v1). Cookie session plus the
// X-CSRF-Token header on every unsafe method; the token comes from POST /session and is kept
// in sessionStorage (per tab), because GET /me does not hand it out again.

const BASE = '/api/v1';
const CSRF_KEY = 'xvps.csrf';

/** An API answer that was not 2xx: the RFC 9457 problem, or a transport failure (status 0). */
export class ApiError extends Error {
  constructor(status, problem) {
    const p = problem && typeof problem === 'object' ? problem : {};
    const detail = typeof p.detail === 'string' && p.detail ? p.detail
      : typeof p.title === 'string' && p.title ? p.title
        : status ? `the panel answered ${status}` : 'the panel cannot be reached';
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
    this.title = typeof p.title === 'string' ? p.title : '';
    this.field = typeof p.field === 'string' && p.field ? p.field : null;
    /** A customer limit that refused the request (issue 16 item 8): {limit, allowed, used, requested}, or null. */
    this.limit = typeof p.limit === 'string' ? { limit: p.limit, allowed: p.allowed, used: p.used, requested: p.requested } : null;
  }

  /** True for the CSRF refusal (this tab holds no or a stale token). */
  get isCsrf() {
    return this.status === 403 && /csrf/i.test(this.detail);
  }
}

let unauthorizedHandler = null;
let csrfHandler = null;

/** fn(err) runs when a request (other than the login itself) answers 401. */
export function onUnauthorized(fn) { unauthorizedHandler = fn; }
/** fn(err) runs when an unsafe request is refused for a missing or stale CSRF token. */
export function onCsrfRefused(fn) { csrfHandler = fn; }

export function csrfToken() {
  try { return sessionStorage.getItem(CSRF_KEY); } catch { return null; }
}

export function setCsrfToken(token) {
  try {
    if (token) sessionStorage.setItem(CSRF_KEY, token);
    else sessionStorage.removeItem(CSRF_KEY);
  } catch { /* storage disabled: unsafe requests will be refused and say so */ }
}

function buildUrl(path, query) {
  let url = BASE + path;
  if (query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
    }
    const s = qs.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  return url;
}

/** One request. Resolves {data, total, status}; rejects with ApiError. */
export async function request(method, path, { body, query } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  const unsafe = method !== 'GET' && method !== 'HEAD';
  if (unsafe) {
    const t = csrfToken();
    if (t) headers['X-CSRF-Token'] = t;
  }
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(buildUrl(path, query), init);
  } catch {
    throw new ApiError(0, { detail: 'the panel cannot be reached; check the connection and try again' });
  }
  let data = null;
  if (resp.status !== 204) {
    const text = await resp.text().catch(() => '');
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
  }
  if (!resp.ok) {
    const err = new ApiError(resp.status, data);
    if (resp.status === 401 && !path.startsWith('/session') && !path.startsWith('/password-reset') && unauthorizedHandler) unauthorizedHandler(err);
    if (unsafe && err.isCsrf && csrfHandler) csrfHandler(err);
    throw err;
  }
  const total = resp.headers.get('X-Total-Count');
  return { data, total: total === null ? null : Number(total), status: resp.status };
}

/** Encodes one path segment (ids are strings; addresses contain ':' and '/'). */
export const seg = (s) => encodeURIComponent(String(s));

export const api = {
  get: (path, query) => request('GET', path, { query }).then((r) => r.data),
  /** A list with its X-Total-Count: {items, total}. */
  list: (path, query) => request('GET', path, { query }).then((r) => ({
    items: Array.isArray(r.data) ? r.data : [],
    total: r.total ?? (Array.isArray(r.data) ? r.data.length : 0),
  })),
  post: (path, body) => request('POST', path, { body }).then((r) => r.data),
  patch: (path, body) => request('PATCH', path, { body }).then((r) => r.data),
  put: (path, body) => request('PUT', path, { body }).then((r) => r.data),
  del: (path) => request('DELETE', path).then((r) => r.data),
};

/** The VPS of a #/vps/<id>… page (GET /vps/{id}); null, with the not-found view shown, when the
 * API answers 404 (another customer's VPS answers 404 too, never 403). Other errors throw. */
export async function getVpsOrNotFound(ctx, id) {
  try {
    return await api.get(`/vps/${seg(id)}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) { ctx.notFound(); return null; }
    throw e;
  }
}

/** Every page of a list (the API caps a page at 1000). */
export async function listAll(path, query = {}, max = 10000) {
  const out = [];
  let total = 0;
  for (let offset = 0; offset < max; offset += 1000) {
    const page = await api.list(path, { ...query, limit: 1000, offset });
    out.push(...page.items);
    total = page.total;
    if (page.items.length < 1000 || out.length >= total) break;
  }
  return { items: out, total };
}

/** POST /session: the user, or {totp_required, challenge} when a TOTP code is asked next. */
export async function login(username, password) {
  const data = await api.post('/session', { username, password });
  if (data && data.totp_required) return { totp_required: true, challenge: data.challenge };
  setCsrfToken(data && data.csrf_token);
  return data.user;
}

/** POST /session/totp: the login's second step with a code or a recovery code. */
export async function loginTotp(challenge, code) {
  const data = await api.post('/session/totp', { challenge, code });
  setCsrfToken(data && data.csrf_token);
  return data.user;
}

export async function logout() {
  try {
    await api.del('/session');
  } finally {
    setCsrfToken(null);
  }
}

/** GET /me; also takes a csrf_token from it should the panel ever send one there. */
export async function me() {
  const u = await api.get('/me');
  if (u && typeof u.csrf_token === 'string' && u.csrf_token) setCsrfToken(u.csrf_token);
  return u;
}
