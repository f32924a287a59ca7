// views/vps-traffic.js — the VPS's traffic: totals since creation (the API's `net`) and the
// rate between the panel's samples while this page is open, as a small SVG sparkline.
import { h, set, card } from '../dom.js';
import { bytes, bitrate, count, ago } from '../format.js';

const SVG = 'http://www.w3.org/2000/svg';
const KEEP = 60; // samples (10 min at the default 10 s sweep)

function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

export function trafficCard() {
  const totals = h('dl', { class: 'facts facts-2' });
  const rate = h('p', { class: 'rate muted' }, 'Rate: waiting for two samples…');
  const chart = svg('svg', { viewBox: '0 0 300 60', class: 'spark', role: 'img', 'aria-label': 'traffic rate while this page is open' });
  const rxLine = svg('polyline', { class: 'spark-rx', points: '' });
  const txLine = svg('polyline', { class: 'spark-tx', points: '' });
  chart.append(svg('line', { x1: 0, y1: 59.5, x2: 300, y2: 59.5, class: 'spark-axis' }), rxLine, txLine);
  const legend = h('p', { class: 'legend' },
    h('span', { class: 'key key-rx' }, 'received'), ' ', h('span', { class: 'key key-tx' }, 'sent'));
  const el = card('Traffic', totals, rate, chart, legend);

  const samples = []; // {t, rx, tx}
  function draw() {
    const rates = [];
    for (let i = 1; i < samples.length; i++) {
      const dt = (samples[i].t - samples[i - 1].t) / 1000;
      if (dt <= 0) continue;
      rates.push({ rx: Math.max(0, samples[i].rx - samples[i - 1].rx) * 8 / dt, tx: Math.max(0, samples[i].tx - samples[i - 1].tx) * 8 / dt });
    }
    if (rates.length === 0) return;
    const max = Math.max(1, ...rates.map((r) => Math.max(r.rx, r.tx)));
    const step = rates.length > 1 ? 300 / (rates.length - 1) : 300;
    const pts = (k) => rates.map((r, i) => `${(i * step).toFixed(1)},${(58 - (r[k] / max) * 54).toFixed(1)}`).join(' ');
    rxLine.setAttribute('points', rates.length > 1 ? pts('rx') : `0,${58 - (rates[0].rx / max) * 54} 300,${58 - (rates[0].rx / max) * 54}`);
    txLine.setAttribute('points', rates.length > 1 ? pts('tx') : `0,${58 - (rates[0].tx / max) * 54} 300,${58 - (rates[0].tx / max) * 54}`);
    const last = rates[rates.length - 1];
    rate.textContent = max <= 1 ? 'Now: idle' : `Now: ${bitrate(last.rx)} in, ${bitrate(last.tx)} out (chart peak ${bitrate(max)})`;
  }

  function update(net) {
    if (!net) return;
    set(totals,
      h('dt', null, 'Received'), h('dd', null, bytes(net.rx_bytes), h('span', { class: 'muted' }, ` · ${count(net.rx_packets)} packets`)),
      h('dt', null, 'Sent'), h('dd', null, bytes(net.tx_bytes), h('span', { class: 'muted' }, ` · ${count(net.tx_packets)} packets`)),
      h('dt', null, 'Measured'), h('dd', null, net.sampled_at ? ago(net.sampled_at) : 'not yet'));
    if (!net.sampled_at) return;
    const t = new Date(net.sampled_at).getTime();
    if (samples.length && samples[samples.length - 1].t === t) return;
    samples.push({ t, rx: net.rx_bytes, tx: net.tx_bytes });
    if (samples.length > KEEP) samples.shift();
    draw();
  }
  return { el, update };
}
