// Numbers, times and status badges.
import { h } from './dom.js';

/** A number with 4 significant digits, '–' when missing. */
export function num(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e6)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
}

/** "mean ± std" */
export function meanStd(mean, std) {
  return std === null || std === undefined ? num(mean) : `${num(mean)} ± ${num(std)}`;
}

/** "3 min ago" for an RFC 3339 time. */
export function ago(t) {
  if (!t) return '–';
  const s = (Date.now() - Date.parse(t)) / 1000;
  if (Number.isNaN(s)) return t;
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** Seconds between two RFC 3339 times, as "1 m 05 s". */
export function duration(a, b) {
  if (!a || !b) return '–';
  const s = Math.max(0, (Date.parse(b) - Date.parse(a)) / 1000);
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(Math.round(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} m`;
}

export const STATUSES = ['queued', 'running', 'finished', 'failed', 'killed'];

export const badge = (status) => h('span', { class: `badge ${STATUSES.includes(status) ? status : ''}` }, status);

/** Badges for a {status: count} map. */
export function counts(map) {
  return h('span', { class: 'counts' }, STATUSES.filter((s) => map[s]).map((s) => h('span', { class: `badge ${s}` }, `${map[s]} ${s}`)));
}

/** Reports a failure in `el`. */
export const failure = (err) => h('p', { class: 'error' }, String(err && err.message ? err.message : err));
