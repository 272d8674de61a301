// Parallel coordinates: one vertical axis per swept parameter and one for the final metric; each
// run is a polyline coloured by its metric value. Drawn as SVG (text through textContent only).
import * as api from './api.js';
import { fill, h } from './dom.js';
import { num, failure } from './format.js';

const NS = 'http://www.w3.org/2000/svg';
const MAX_RUNS = 2000;

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

/** Blue (good) to red (bad) through grey. */
function ramp(t) {
  const a = [33, 102, 172];
  const b = [178, 24, 43];
  const c = a.map((v, i) => Math.round(v + (b[i] - v) * t));
  return `rgb(${c.join(',')})`;
}

/** An axis: position of a value in [0, 1], and tick labels. */
function axis(values, numeric) {
  if (numeric) {
    const nums = values.map(Number);
    const lo = Math.min(...nums);
    const hi = Math.max(...nums);
    const log = lo > 0 && hi / lo >= 20;
    const f = log ? Math.log : (v) => v;
    const span = f(hi) - f(lo) || 1;
    return { pos: (v) => (v === null || v === undefined ? null : (f(Number(v)) - f(lo)) / span), ticks: values.map((v) => [v, (f(Number(v)) - f(lo)) / span]) };
  }
  const idx = new Map(values.map((v, i) => [v, values.length === 1 ? 0.5 : i / (values.length - 1)]));
  return { pos: (v) => idx.get(v) ?? null, ticks: values.map((v) => [v, idx.get(v)]) };
}

export async function parcoords(el, state) {
  const metric = state.finalMetric;
  const params = state.swept.filter((p) => p.key !== 'seed');
  if (!params.length || !metric) {
    fill(el, h('p', { class: 'muted' }, 'No swept parameters to draw.'));
    return;
  }
  let page;
  try {
    page = await api.runsPage(state.exp.id, { params: 'swept', status: 'finished', sort: `metric:${metric}`, order: state.exp.goal === 'maximize' ? 'desc' : 'asc', limit: MAX_RUNS });
  } catch (e) {
    fill(el, failure(e));
    return;
  }
  const runs = page.runs.filter((r) => r.metrics[metric] !== undefined && r.metrics[metric] !== null);
  if (!runs.length) {
    fill(el, h('p', { class: 'muted' }, 'No finished runs yet.'));
    return;
  }
  const mv = runs.map((r) => r.metrics[metric]);
  const mlo = Math.min(...mv);
  const mhi = Math.max(...mv);
  const maximize = state.exp.goal === 'maximize';
  const axes = params.map((p) => ({ key: p.key, ...axis(p.values, p.numeric), get: (r) => r.params[p.key] }));
  const mTicks = [mlo, (mlo + mhi) / 2, mhi];
  axes.push({ key: metric, pos: (v) => (v - mlo) / (mhi - mlo || 1), ticks: mTicks.map((v) => [num(v), (v - mlo) / (mhi - mlo || 1)]), get: (r) => r.metrics[metric] });
  const W = Math.max(480, el.clientWidth || 900);
  const H = 320;
  const top = 28;
  const bottom = 20;
  const left = 60;
  const right = 80;
  const xAt = (i) => left + (i * (W - left - right)) / Math.max(1, axes.length - 1);
  const yAt = (t) => top + (1 - t) * (H - top - bottom);
  const root = svg('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'parcoords' });
  const lines = svg('g', { 'fill-opacity': 0, 'stroke-opacity': runs.length > 200 ? 0.25 : 0.7 });
  // Best runs last, so they are drawn on top.
  const order = runs.map((r, i) => i).sort((a, b) => (maximize ? mv[a] - mv[b] : mv[b] - mv[a]));
  for (const i of order) {
    const r = runs[i];
    const pts = axes.map((a, k) => {
      const t = a.pos(a.get(r));
      return t === null ? null : `${xAt(k).toFixed(1)},${yAt(t).toFixed(1)}`;
    });
    if (pts.includes(null)) continue;
    const t = (mv[i] - mlo) / (mhi - mlo || 1);
    const line = svg('polyline', { points: pts.join(' '), stroke: ramp(maximize ? 1 - t : t), 'stroke-width': 1.2, fill: 'none' });
    line.appendChild(svg('title', {}, `#${r.id}: ${metric} ${num(mv[i])}`));
    lines.appendChild(line);
  }
  root.appendChild(lines);
  axes.forEach((a, k) => {
    const x = xAt(k);
    const g = svg('g', { class: 'axis' });
    g.appendChild(svg('line', { x1: x, x2: x, y1: yAt(0), y2: yAt(1), stroke: '#333' }));
    g.appendChild(svg('text', { x, y: 14, 'text-anchor': 'middle', class: 'axis-title' }, a.key));
    for (const [label, t] of a.ticks) {
      g.appendChild(svg('line', { x1: x - 3, x2: x + 3, y1: yAt(t), y2: yAt(t), stroke: '#333' }));
      g.appendChild(svg('text', { x: x + 6, y: yAt(t) + 4, class: 'tick' }, String(label)));
    }
    root.appendChild(g);
  });
  fill(el, root, h('p', { class: 'muted small' },
    `${runs.length} finished runs${page.total > MAX_RUNS ? ` (the ${MAX_RUNS} best of ${page.total})` : ''}; colour: ${metric}, blue is better.`));
  el.dataset.chartReady = '1';
}
