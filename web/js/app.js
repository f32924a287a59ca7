// app.js — boots the panel: who is logged in (GET /me), the top bar, and the hash router.
import { me, logout, onUnauthorized, onCsrfRefused, csrfToken, setCsrfToken } from './api.js';
import { h, set, $ } from './dom.js';
import { parseHash, matchRoute, Scope } from './router.js';
import { banner, clearBanner, closeDialogs } from './ui.js';
import { loginView } from './views/login.js';
import { notFoundView } from './views/not-found.js';
import { vpsListView } from './views/vps-list.js';
import { vpsPageView } from './views/vps-page.js';
import { consoleView } from './views/console.js';
import { customersView } from './views/customers.js';
import { plansView } from './views/plans.js';
import { templatesView } from './views/templates.js';
import { poolsView } from './views/pools.js';
import { adminVpsView } from './views/admin-vps.js';
import { orderView } from './views/order.js';
import { orderSelfView } from './views/order-self.js';
import { customerLimitsView } from './views/customer-limits.js';
import { jobsView } from './views/jobs.js';
import { auditView } from './views/audit.js';
import { billingView } from './views/billing.js';
import { invoiceView } from './views/invoice.js';
import { adminInvoicesView } from './views/admin-invoices.js';
import { adminBillingView } from './views/admin-billing.js';
import { customerBillingView } from './views/customer-billing.js';
import { accountView } from './views/account.js';
import { forgotView, resetView } from './views/reset.js';

const routes = [
  { pattern: /^\/login$/, view: loginView, public: true, title: 'Log in' },
  { pattern: /^\/forgot$/, view: forgotView, public: true, title: 'Reset your password' },
  { pattern: /^\/reset$/, view: resetView, public: true, title: 'Choose a new password' },
  { pattern: /^\/account$/, view: accountView, title: 'Account', nav: '/account' },
  { pattern: /^\/vps$/, view: vpsListView, title: 'Servers', nav: '/vps' },
  { pattern: /^\/vps\/([^/]+)$/, view: vpsPageView, title: 'Server' },
  { pattern: /^\/vps\/([^/]+)\/console$/, view: consoleView, title: 'Console', wide: true },
  { pattern: /^\/order$/, view: orderSelfView, title: 'Order a server', nav: '/order' },
  { pattern: /^\/billing$/, view: billingView, title: 'Billing', nav: '/billing' },
  { pattern: /^\/invoices\/([^/]+)$/, view: invoiceView, title: 'Invoice', nav: (admin) => (admin ? '/admin/invoices' : '/billing') },
  { pattern: /^\/admin\/vps$/, view: adminVpsView, admin: true, title: 'All servers', nav: '/admin/vps' },
  { pattern: /^\/admin\/order$/, view: orderView, admin: true, title: 'Order a server', nav: '/admin/order' },
  { pattern: /^\/admin\/customers$/, view: customersView, admin: true, title: 'Customers', nav: '/admin/customers' },
  { pattern: /^\/admin\/customers\/([^/]+)\/limits$/, view: customerLimitsView, admin: true, title: 'Customer limits', nav: '/admin/customers' },
  { pattern: /^\/admin\/customers\/([^/]+)\/billing$/, view: customerBillingView, admin: true, title: 'Customer billing', nav: '/admin/customers' },
  { pattern: /^\/admin\/invoices$/, view: adminInvoicesView, admin: true, title: 'Invoices', nav: '/admin/invoices' },
  { pattern: /^\/admin\/billing$/, view: adminBillingView, admin: true, title: 'Billing', nav: '/admin/billing' },
  { pattern: /^\/admin\/plans$/, view: plansView, admin: true, title: 'Plans', nav: '/admin/plans' },
  { pattern: /^\/admin\/templates$/, view: templatesView, admin: true, title: 'Templates', nav: '/admin/templates' },
  { pattern: /^\/admin\/pools$/, view: poolsView, admin: true, title: 'IP pools', nav: '/admin/pools' },
  { pattern: /^\/admin\/jobs$/, view: jobsView, admin: true, title: 'Jobs', nav: '/admin/jobs' },
  { pattern: /^\/admin\/audit$/, view: auditView, admin: true, title: 'Audit log', nav: '/admin/audit' },
];

const NAV = {
  customer: [['/vps', 'My servers'], ['/order', 'Order'], ['/billing', 'Billing'], ['/account', 'Account']],
  admin: [
    ['/admin/vps', 'Servers'], ['/admin/order', 'Order'], ['/admin/customers', 'Customers'],
    ['/admin/invoices', 'Invoices'], ['/admin/billing', 'Billing'], ['/admin/plans', 'Plans'], ['/admin/templates', 'Templates'], ['/admin/pools', 'IP pools'],
    ['/admin/jobs', 'Jobs'], ['/admin/audit', 'Audit log'], ['/account', 'Account'],
  ],
};

const session = { user: null };
let scope = null;
let nextAfterLogin = null;
let booted = false;

const isAdmin = () => session.user && session.user.role === 'admin';
const homeHash = () => (isAdmin() ? '#/admin/vps' : '#/vps');

function renderChrome(activeNav) {
  const bar = $('#topbar');
  if (!session.user) { bar.hidden = true; return; }
  bar.hidden = false;
  const links = NAV[isAdmin() ? 'admin' : 'customer'];
  set($('#nav'), h('ul', null, links.map(([path, label]) =>
    h('li', null, h('a', { href: `#${path}`, 'aria-current': path === activeNav ? 'page' : null }, label)))));
  set($('#whoami'), h('span', { class: 'who-name' }, session.user.username),
    ' ', h('span', { class: `role role-${isAdmin() ? 'admin' : 'customer'}` }, isAdmin() ? 'admin' : 'customer'));
}

function navigate(hash, { replace = false } = {}) {
  if (location.hash === hash) { route(); return; }
  if (replace) { history.replaceState(null, '', hash); route(); } else location.hash = hash;
}

function route() {
  const { path, query } = parseHash(location.hash);
  if (scope) scope.dispose();
  closeDialogs();
  clearBanner();
  scope = new Scope();
  const main = $('#main');
  main.replaceChildren();
  main.classList.remove('wide');

  if (path === '/') { navigate(session.user ? homeHash() : '#/login', { replace: true }); return; }
  const m = matchRoute(routes, path);
  if (m && !m.route.public && !session.user) {
    nextAfterLogin = location.hash;
    navigate('#/login', { replace: true });
    return;
  }
  if (m && m.route.public && session.user) { navigate(homeHash(), { replace: true }); return; }
  // An admin who must enrol TOTP first (require_admin_totp) sees only the account page.
  if (session.user && session.user.totp_required && path !== '/account') {
    navigate('#/account', { replace: true });
    return;
  }

  const ctx = {
    main, scope, query, session, navigate, isAdmin: isAdmin(),
    params: m ? m.params : [],
    loggedIn: (user) => {
      session.user = user;
      const next = nextAfterLogin;
      nextAfterLogin = null;
      navigate(next && next !== '#/login' ? next : homeHash(), { replace: true });
    },
    notFound: (what) => { main.replaceChildren(); notFoundView(ctx, what); },
  };
  if (!m || (m.route.admin && !isAdmin())) {
    renderChrome(null);
    document.title = 'Not found · xvps';
    notFoundView(ctx);
    return;
  }
  if (m.route.wide) main.classList.add('wide');
  const nav = typeof m.route.nav === 'function' ? m.route.nav(isAdmin()) : m.route.nav;
  renderChrome(nav || (m.route.view === vpsPageView || m.route.view === consoleView
    ? (isAdmin() ? '/admin/vps' : '/vps') : null));
  document.title = `${m.route.title} · xvps`;
  const mine = scope;
  const focusHeading = booted && !m.route.public;
  Promise.resolve(m.route.view(ctx)).then(() => {
    // Move focus to the new page's heading for keyboard and screen reader users, unless the
    // user already moved it (not on the first load).
    const a = document.activeElement;
    if (focusHeading && mine.alive && (!a || a === document.body || !document.contains(a))) {
      const h1 = $('#main h1');
      if (h1) h1.focus({ preventScroll: true });
    }
  }).catch((e) => {
    if (!mine.alive) return;
    console.error(e);
    if (e && e.status === 404) { ctx.notFound(); return; }
    if (e && e.status === 401) return; // the handler below sends us to the login page
    banner(e && (e.detail || e.message) ? e.detail || e.message : String(e));
  });
}

function endSession(message) {
  session.user = null;
  setCsrfToken(null);
  const { path } = parseHash(location.hash);
  if (path !== '/login') nextAfterLogin = location.hash;
  navigate('#/login', { replace: true });
  if (message) banner(message, 'info');
}

async function boot() {
  let noToken = false;
  $('#logout').addEventListener('click', async () => {
    try { await logout(); } catch { /* the session is gone either way */ }
    nextAfterLogin = null;
    endSession(null);
  });
  $('#banner-close').addEventListener('click', clearBanner);
  $('#skip-link').addEventListener('click', (e) => { e.preventDefault(); $('#main').focus(); });
  onUnauthorized(() => { if (session.user) endSession('Your session has ended. Please log in again.'); });
  onCsrfRefused(() => banner('This tab\'s session is out of date (it was replaced by a login elsewhere). Log out and log in again.'));

  try {
    const u = await me();
    // Without the CSRF token (a new tab, or storage cleared) this tab could only read:
    // ask for a fresh login instead of failing on the first button.
    if (csrfToken()) session.user = u;
    else noToken = true;
  } catch {
    session.user = null;
  }
  window.addEventListener('hashchange', route);
  route();
  if (noToken) banner('Please log in again in this tab.', 'info');
  booted = true;
}

boot();
