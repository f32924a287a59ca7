// views/vps-usage.js — the VPS page's "Usage" card: this billing period's traffic, CPU and running
// time (the VPS's `usage_period`), its traffic quota as a progress bar when the plan has one (the
// VPS's `quota`; null or absent when unmetered), the 95th percentile of 5-minute bandwidth, and
// graphs of CPU and traffic from GET /vps/{id}/usage (hourly over the period, 5-minute over the
// last 24 h) drawn by Chart.js (Debian's libjs-chart.js, served by xvpsd at /vendor/chart.js/).
// Numbers stay as the API sends them (integers in base units) until they are formatted; every
// value goes in as text. Without Chart.js the card still shows its numbers and says why the
// graphs are missing.
import { h, set, card } from '../dom.js';
import { api, seg } from '../api.js';
import { bytes, bitrate, time, shortTime } from '../format.js';

const CHART_JS = '/vendor/chart.js/chart.esm.js';
const SERIES_REFRESH_MS = 60000; // the series change once per sweep at most; hourly buckets rarely
const DAY_MS = 24 * 3600 * 1000;
const STEP_S = { '5m': 300, '1h': 3600, '1d': 86400 };

// The guest's view: rx is what the VPS received ("in"), tx what it sent ("out").
const QUOTA_DIRECTION = { out: 'outbound: what it sent', in: 'inbound: what it received', both: 'inbound and outbound' };
const QUOTA_STATE = {
  ok: 'within quota',
  notice_80: '80 % notice sent',
  notice_100: 'quota reached, notice sent',
  throttled: 'over quota: throttled',
  suspended: 'over quota: suspended',
};

let chartModule = null; // the import() promise, shared by every page
function loadChartJs() {
  if (!chartModule) {
    chartModule = import(CHART_JS).then((m) => {
      m.Chart.register(...m.registerables);
      return m;
    });
    chartModule.catch(() => { chartModule = null; }); // try again on the next page
  }
  return chartModule;
}

/** "12.3 h" / "41 min" / "20 s" from whole seconds. */
function duration(s) {
  if (typeof s !== 'number' || !Number.isFinite(s)) return '—';
  if (s >= 3600) return `${(s / 3600).toFixed(s >= 36000 ? 0 : 1)} h`;
  if (s >= 60) return `${Math.floor(s / 60)} min`;
  return `${s} s`;
}

/** CPU nanoseconds as seconds ("1,234.5 s"), one decimal. */
function cpuSeconds(ns) {
  if (typeof ns !== 'number' || !Number.isFinite(ns)) return '—';
  return `${(ns / 1e9).toLocaleString('en', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} s`;
}

const cssVar = (name, fallback) =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;

/** A point's label on the x axis: local time, with the date for hourly buckets. */
function label(iso, step) {
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, '0');
  if (step === '5m') return `${p(d.getHours())}:${p(d.getMinutes())}`;
  return `${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:00`;
}

export function usageCard(scope, id) {
  const rangeEl = h('p', { id: 'usage-period-range', class: 'muted usage-range' }, 'Billing period: …');
  const periodEl = h('dl', { id: 'usage-period', class: 'facts usage-facts' });
  const quotaEl = h('div', { id: 'usage-quota', class: 'usage-quota' });
  const p95El = h('p', { id: 'usage-p95', class: 'muted usage-p95' }, '95th percentile (5-minute): …');
  const cpuCanvas = h('canvas', { id: 'usage-cpu-chart', role: 'img', 'aria-label': 'CPU use per interval' });
  const netCanvas = h('canvas', { id: 'usage-net-chart', role: 'img', 'aria-label': 'traffic per interval' });
  const chartNote = h('p', { id: 'usage-chart-note', class: 'muted usage-chart-note', role: 'status' }, 'Loading graphs…');
  const ranges = {
    period: h('button', { type: 'button', id: 'usage-range-period', class: 'btn btn-small', 'aria-pressed': 'true', onclick: () => choose('period') }, 'This period (hourly)'),
    day: h('button', { type: 'button', id: 'usage-range-day', class: 'btn btn-small', 'aria-pressed': 'false', onclick: () => choose('day') }, 'Last 24 h (5-minute)'),
  };
  const el = card('Usage',
    rangeEl, periodEl, quotaEl, p95El,
    h('div', { class: 'usage-ranges', role: 'group', 'aria-label': 'Graph range' }, ranges.period, ranges.day),
    h('div', { class: 'usage-charts' },
      h('figure', { class: 'usage-figure' }, h('figcaption', null, 'CPU (average % of the VPS\'s vCPUs)'),
        h('div', { class: 'chart-box' }, cpuCanvas)),
      h('figure', { class: 'usage-figure' }, h('figcaption', null, 'Traffic (average rate per interval)'),
        h('div', { class: 'chart-box' }, netCanvas))),
    chartNote);
  el.classList.add('grid-span', 'usage-card');
  el.id = 'usage-card';

  let vcpus = 1;
  let createdMs = 0; // the period's graph starts at the VPS's creation when that is later
  let range = 'period';
  const series = { period: null, day: null }; // the API's answers
  let charts = null; // {cpu, net} once Chart.js is loaded
  let loading = null;

  function update(v) {
    if (typeof v.vcpus === 'number' && v.vcpus > 0) vcpus = v.vcpus;
    if (v.created_at) createdMs = new Date(v.created_at).getTime() || 0;
    const u = v.usage_period;
    if (!u) {
      set(rangeEl, 'Billing period: the usage ledger cannot be read right now.');
      set(periodEl);
      delete periodEl.dataset.rxBytes;
    } else {
      set(rangeEl, 'Billing period ', h('time', { datetime: u.start, title: u.start }, time(u.start)),
        ' to ', h('time', { datetime: u.end, title: u.end }, time(u.end)));
      Object.assign(periodEl.dataset, {
        rxBytes: String(u.rx_bytes), txBytes: String(u.tx_bytes), cpuNs: String(u.cpu_ns), runningS: String(u.running_s),
      });
      set(periodEl,
        h('dt', null, 'Out (sent)'), h('dd', { id: 'usage-tx' }, bytes(u.tx_bytes)),
        h('dt', null, 'In (received)'), h('dd', { id: 'usage-rx' }, bytes(u.rx_bytes)),
        h('dt', null, 'CPU time'), h('dd', { id: 'usage-cpu' }, cpuSeconds(u.cpu_ns)),
        h('dt', null, 'Running'), h('dd', { id: 'usage-running' }, duration(u.running_s)));
    }
    renderQuota(v.quota);
  }

  function renderQuota(q) {
    if (!q) {
      quotaEl.dataset.state = 'none';
      set(quotaEl, h('p', { class: 'muted' }, 'No traffic quota: the plan is unmetered.'));
      return;
    }
    const pct = typeof q.percent === 'number' ? q.percent : 0;
    const state = typeof q.state === 'string' ? q.state : 'ok';
    quotaEl.dataset.state = state;
    quotaEl.dataset.percent = String(pct);
    const bar = h('progress', {
      id: 'usage-quota-bar', class: `quota-bar quota-${QUOTA_STATE[state] ? state : 'ok'}`,
      max: '100', 'aria-label': 'traffic quota used',
    });
    bar.value = Math.min(100, Math.max(0, pct));
    const rate = typeof q.over_quota_mbit === 'number' ? `${q.over_quota_mbit} Mbit/s` : 'a lower rate';
    // What happens at 100 % (or, once it happened, what is in force).
    const action = state === 'throttled' ? `the network is limited to ${rate}`
      : state === 'suspended' ? 'the server is stopped'
        : q.action === 'suspend' ? 'at 100 % the server is suspended' : `at 100 % the network is limited to ${rate}`;
    set(quotaEl,
      h('div', { class: 'quota-head' },
        h('span', null, 'Traffic quota, ', QUOTA_DIRECTION[q.direction] || String(q.direction)),
        h('span', { id: 'usage-quota-text', class: 'quota-numbers' }, `${bytes(q.used_bytes)} of ${bytes(q.included_bytes)} (${pct} %)`)),
      bar,
      h('p', { class: 'muted quota-state' },
        h('span', { id: 'usage-quota-state', class: `quota-state-${QUOTA_STATE[state] ? state : 'ok'}` }, QUOTA_STATE[state] || state),
        ` · ${action}`,
        q.period_end ? [' · the count starts again ', h('time', { datetime: q.period_end, title: q.period_end }, shortTime(q.period_end))] : null));
  }

  async function fetchSeries(which) {
    const query = which === 'day'
      ? { from: new Date(Date.now() - DAY_MS).toISOString().replace(/\.\d+Z$/, 'Z'), step: '5m' }
      : { step: '1h' }; // the default range is the billing period
    try {
      const r = await api.get(`/vps/${seg(id)}/usage`, query);
      if (!scope.alive) return;
      series[which] = r;
      if (which === 'period') showP95(r);
      if (which === range) draw();
    } catch (e) {
      if (scope.alive && which === range) set(chartNote, `The usage series cannot be read: ${e.detail || e.message}`);
    }
  }

  // The 95th percentile of the period's 5-minute bandwidth (what a 95th-percentile bill uses).
  function showP95(r) {
    const p = r.p95_5m_bps;
    if (!p) return;
    Object.assign(p95El.dataset, { rx: String(p.rx), tx: String(p.tx) });
    set(p95El, '95th percentile of 5-minute bandwidth this period: ',
      h('span', { id: 'usage-p95-tx' }, `out ${bitrate(p.tx)}`), ', ',
      h('span', { id: 'usage-p95-rx' }, `in ${bitrate(p.rx)}`));
  }

  function setupCharts(m) {
    const text = cssVar('--muted', '#5b6777');
    const grid = cssVar('--border', '#d9dfe7');
    const common = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      normalized: true,
      interaction: { mode: 'index', intersect: false },
      elements: { point: { radius: 0, hitRadius: 6 }, line: { borderWidth: 1.5, tension: 0 } },
      scales: {
        x: { offset: true, ticks: { color: text, maxRotation: 0, autoSkip: true, autoSkipPadding: 16, maxTicksLimit: 6 }, grid: { color: grid } },
        y: { beginAtZero: true, ticks: { color: text }, grid: { color: grid } },
      },
      plugins: { legend: { labels: { color: text, boxWidth: 14, boxHeight: 3 } } },
    };
    const cpu = new m.Chart(cpuCanvas, {
      type: 'line',
      data: { labels: [], datasets: [{ label: 'CPU %', data: [], borderColor: cssVar('--warn', '#8a5a00'), backgroundColor: cssVar('--warn', '#8a5a00') }] },
      options: {
        ...common,
        // Scaled to the data (at least 0..1 %): a mostly idle VPS still shows its shape.
        scales: { ...common.scales, y: { ...common.scales.y, suggestedMax: 1, ticks: { color: text, callback: (val) => `${val} %` } } },
        plugins: { ...common.plugins, tooltip: { callbacks: { label: (c) => `CPU ${c.parsed.y.toFixed(2)} % of ${vcpus} vCPU${vcpus === 1 ? '' : 's'}` } } },
      },
    });
    const net = new m.Chart(netCanvas, {
      type: 'line',
      data: {
        labels: [],
        datasets: [
          { label: 'Out (sent)', data: [], borderColor: cssVar('--ok', '#137333'), backgroundColor: cssVar('--ok', '#137333') },
          { label: 'In (received)', data: [], borderColor: cssVar('--primary', '#1d5fbf'), backgroundColor: cssVar('--primary', '#1d5fbf') },
        ],
      },
      options: {
        ...common,
        scales: { ...common.scales, y: { ...common.scales.y, suggestedMax: 1000, ticks: { color: text, callback: (val) => bitrate(val) } } },
        plugins: { ...common.plugins, tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${bitrate(c.parsed.y)}` } } },
      },
    });
    charts = { cpu, net };
    scope.onDispose(() => { cpu.destroy(); net.destroy(); charts = null; });
  }

  function draw() {
    const r = series[range];
    if (!r || !charts) return;
    const stepS = STEP_S[r.step] || 3600;
    const now = Date.now();
    // Buckets that start after now are still empty (the line stops at now). The period's graph
    // starts when the VPS was created if that was later (the last 24 h keep their fixed window).
    const since = range === 'period' ? createdMs : 0;
    const pts = (Array.isArray(r.points) ? r.points : []).filter((p) => {
      const t = new Date(p.t).getTime();
      return t <= now && t + stepS * 1000 > since;
    });
    const labels = pts.map((p) => label(p.t, r.step));
    charts.cpu.data.labels = labels;
    charts.cpu.data.datasets[0].data = pts.map((p) => (p.cpu_ns / (stepS * 1e9 * vcpus)) * 100);
    charts.net.data.labels = labels;
    charts.net.data.datasets[0].data = pts.map((p) => (p.tx_bytes * 8) / stepS);
    charts.net.data.datasets[1].data = pts.map((p) => (p.rx_bytes * 8) / stepS);
    // A line of one or two points draws (almost) nothing: show the points themselves then.
    for (const c of [charts.cpu, charts.net]) for (const d of c.data.datasets) d.pointRadius = pts.length < 3 ? 3 : 0;
    // update(), not update('none'): only a full update resolves the changed point radius again
    // (animation is off either way).
    charts.cpu.update();
    charts.net.update();
    for (const c of [cpuCanvas, netCanvas]) {
      c.dataset.points = String(pts.length);
      c.dataset.step = r.step;
    }
    const t = r.total || {};
    const unit = { '5m': ['five-minute interval', 'five-minute intervals'], '1h': ['hour', 'hours'], '1d': ['day', 'days'] }[r.step] || ['interval', 'intervals'];
    set(chartNote, `${pts.length} ${unit[pts.length === 1 ? 0 : 1]} from ${pts.length ? shortTime(pts[0].t) : shortTime(r.from)}: `,
      `${bytes(t.tx_bytes)} out, ${bytes(t.rx_bytes)} in, ${cpuSeconds(t.cpu_ns)} CPU`,
      range === 'day' && r.p95_5m_bps ? `; 95th percentile out ${bitrate(r.p95_5m_bps.tx)}, in ${bitrate(r.p95_5m_bps.rx)}.` : '.');
  }

  function choose(which) {
    range = which;
    for (const [k, b] of Object.entries(ranges)) b.setAttribute('aria-pressed', k === which ? 'true' : 'false');
    if (series[which]) draw();
    fetchSeries(which);
  }

  /** Loads Chart.js and the series (again every minute); call once the card is in the page. */
  function start() {
    if (loading) return;
    loading = loadChartJs()
      .then((m) => { if (scope.alive) { setupCharts(m); draw(); } })
      .catch(() => set(chartNote, 'The graphs need Chart.js (Debian\'s libjs-chart.js, served at /vendor/chart.js/); it did not load.'));
    scope.poll(() => Promise.all([fetchSeries('period'), range === 'day' ? fetchSeries('day') : null]),
      SERIES_REFRESH_MS, { immediate: true });
  }

  return { el, update, start };
}
