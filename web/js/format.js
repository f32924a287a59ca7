// format.js — numbers, sizes and times for display.
import { h } from './dom.js';

export function mib(m) {
  if (typeof m !== 'number') return '—';
  if (m >= 1024 && m % 1024 === 0) return `${m / 1024} GiB`;
  return `${m} MiB`;
}

export function bytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${units[i]}`;
}

export function bitrate(bitsPerSecond) {
  if (typeof bitsPerSecond !== 'number' || !Number.isFinite(bitsPerSecond)) return '—';
  const units = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s'];
  let i = 0;
  let v = bitsPerSecond;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${v.toFixed(i === 0 || v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function count(n) {
  if (typeof n !== 'number') return '—';
  if (n >= Number.MAX_SAFE_INTEGER) return '2⁵³ or more';
  return n.toLocaleString('en');
}

export function mbit(n, zero = 'unlimited') {
  if (typeof n !== 'number') return '—';
  return n === 0 ? zero : `${n} Mbit/s`;
}

const pad = (n) => String(n).padStart(2, '0');

/** "2026-11-25 10:43:14" in the browser's time zone. */
export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "09:51:30" today, "11-24 09:51" this year, else the full time. */
export function shortTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const now = new Date();
  if (d.toDateString() === now.toDateString()) return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (d.getFullYear() === now.getFullYear()) return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return time(iso);
}

/** A <time> element: local time as text, the API's UTC value as datetime and title. */
export function timeEl(iso, { short = false } = {}) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: iso }, short ? shortTime(iso) : time(iso));
}

export function ago(iso) {
  if (!iso) return '';
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(s)) return '';
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function planSummary(o) {
  const parts = [];
  if (typeof o.vcpus === 'number') parts.push(`${o.vcpus} vCPU${o.vcpus === 1 ? '' : 's'}`);
  if (typeof o.memory_mib === 'number') parts.push(`${mib(o.memory_mib)} RAM`);
  if (typeof o.disk_gib === 'number') parts.push(`${o.disk_gib} GiB disk`);
  return parts.join(' · ');
}

const JOB_KINDS = {
  'vps.create': 'Create', 'vps.start': 'Start', 'vps.shutdown': 'Shut down',
  'vps.reboot': 'Reboot', 'vps.poweroff': 'Force power-off', 'vps.reinstall': 'Reinstall',
  'vps.delete': 'Delete', 'vps.update': 'Apply plan', 'vps.network': 'Network update',
  'template.import': 'Template import',
  'vps.rescue': 'Rescue mode', 'vps.unrescue': 'Leave rescue mode',
};

export function jobKind(kind) {
  return JOB_KINDS[kind] || String(kind || 'job');
}

/** A duration in microseconds as text: "850 µs", "12.4 ms", "3.21 s", "2 min 05 s"; null: "…". */
export function duration(us) {
  if (us === null || us === undefined) return '…';
  if (us < 1000) return `${us} µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(1)} ms`;
  if (us < 60e6) return `${(us / 1e6).toFixed(2)} s`;
  const s = Math.round(us / 1e6);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}
