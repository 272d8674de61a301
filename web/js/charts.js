// Line charts on uPlot (web/vendor/uplot, MIT): overlaid curves with ± std bands (and published
// figures as dashed horizontal lines), and lines with error bars. Each drawn chart marks its
// container with data-chart-ready="1".
import uPlot from '../vendor/uplot/uPlot.esm.js';
import { h, fill } from './dom.js';

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
export const color = (i) => PALETTE[i % PALETTE.length];

function alpha(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${a})`;
}

function width(el) {
  return Math.max(320, Math.floor(el.clientWidth || el.parentElement?.clientWidth || 640) - 4);
}

/** Aligns series given as {xs, ys} on the union of their x values (missing points are null). */
function align(lines, fields) {
  const xs = [...new Set(lines.flatMap((l) => l.xs))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const cols = lines.map((l) =>
    fields.map((f) => {
      const col = new Array(xs.length).fill(null);
      if (l[f]) l.xs.forEach((x, i) => (col[index.get(x)] = l[f][i] ?? null));
      return col;
    }),
  );
  return { xs, cols };
}

function mark(el, n, rules = 0) {
  el.dataset.chartReady = '1';
  el.dataset.chartLines = String(n);
  el.dataset.referenceLines = String(rules);
}

/**
 * Draws each rule's label above its dashed line, at the right end of the plot; a label that
 * would overlap the one above it moves down (as the report's SVG does).
 */
function ruleLabels(rules, first) {
  return (u) => {
    const ctx = u.ctx;
    const px = devicePixelRatio;
    ctx.save();
    ctx.font = `${11 * px}px system-ui, sans-serif`;
    ctx.textAlign = 'right';
    const x = u.bbox.left + u.bbox.width - 4 * px;
    const shown = rules.map((r, i) => ({ r, y: u.valToPos(r.value, 'y', true) - 4 * px, i }))
      .filter((l) => u.series[first + l.i].show)
      .sort((a, b) => a.y - b.y);
    let last = -Infinity;
    for (const l of shown) {
      l.y = Math.max(l.y, last + 12 * px);
      last = l.y;
    }
    shown.forEach(({ r, y }) => {
      ctx.lineWidth = 3 * px;
      ctx.strokeStyle = '#fff';
      ctx.strokeText(r.label, x, y);
      ctx.fillStyle = r.color;
      ctx.fillText(r.label, x, y);
    });
    ctx.restore();
  };
}

/**
 * Overlaid curves. lines: [{label, xs, ys, std?}] (std draws a ± std band).
 * opts: {xLabel, yLabel, height, rules: [{value, label, color}] (dashed horizontal lines)}.
 */
export function curves(el, lines, opts = {}) {
  fill(el);
  el.classList.add('chart');
  if (!lines.length || lines.every((l) => !l.xs.length)) {
    el.appendChild(h('p', { class: 'muted' }, opts.empty || 'No points yet.'));
    mark(el, 0);
    return null;
  }
  const withBand = lines.map((l) => ({
    ...l,
    lo: l.std ? l.ys.map((y, i) => (y === null || l.std[i] === null ? null : y - l.std[i])) : null,
    hi: l.std ? l.ys.map((y, i) => (y === null || l.std[i] === null ? null : y + l.std[i])) : null,
  }));
  const { xs, cols } = align(withBand, ['ys', 'lo', 'hi']);
  const data = [xs];
  const series = [{ label: opts.xLabel || 'step' }];
  const bands = [];
  const hidden = [];
  withBand.forEach((l, i) => {
    const c = l.color || color(i);
    data.push(cols[i][0]);
    series.push({ label: l.label, stroke: c, width: 1.6, spanGaps: true, points: { show: xs.length < 40, size: 4 } });
    if (l.std) {
      const hiIdx = data.push(cols[i][2]) - 1;
      series.push({ label: `${l.label} + std`, stroke: alpha(c, 0.25), width: 0.5, spanGaps: true, points: { show: false } });
      const loIdx = data.push(cols[i][1]) - 1;
      series.push({ label: `${l.label} − std`, stroke: alpha(c, 0.25), width: 0.5, spanGaps: true, points: { show: false } });
      bands.push({ series: [hiIdx, loIdx], fill: alpha(c, 0.15) });
      hidden.push(hiIdx, loIdx);
    }
  });
  const rules = opts.rules || [];
  const firstRule = series.length;
  for (const r of rules) {
    data.push(xs.map(() => r.value));
    series.push({ label: r.label, stroke: r.color, width: 1.2, dash: [6, 4], points: { show: false } });
  }
  const u = new uPlot(
    {
      width: width(el),
      height: opts.height || 280,
      scales: { x: { time: false } },
      axes: [{ label: opts.xLabel || 'step' }, { label: opts.yLabel || '', size: 60 }],
      series,
      bands,
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      hooks: { draw: [ruleLabels(rules, firstRule)] },
    },
    data,
    el,
  );
  const rows = u.root.querySelectorAll('.u-legend .u-series');
  hidden.forEach((i) => rows[i] && (rows[i].style.display = 'none'));
  rules.forEach((_, i) => rows[firstRule + i]?.classList.add('reference-line'));
  mark(el, lines.length, rules.length);
  return u;
}

/**
 * Lines with error bars. xs: numbers, or labels when `categorical`; lines: [{label, ys, std, n}].
 * opts: {xLabel, yLabel, categorical, logX}.
 */
export function errorBars(el, xs, lines, opts = {}) {
  fill(el);
  el.classList.add('chart');
  if (!lines.length || !xs.length) {
    el.appendChild(h('p', { class: 'muted' }, opts.empty || 'Nothing to draw.'));
    mark(el, 0);
    return null;
  }
  const xv = opts.categorical ? xs.map((_, i) => i) : xs;
  let lo = Infinity;
  let hi = -Infinity;
  for (const l of lines) {
    l.ys.forEach((y, i) => {
      if (y === null) return;
      const s = l.std?.[i] || 0;
      lo = Math.min(lo, y - s);
      hi = Math.max(hi, y + s);
    });
  }
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  const pad = (hi - lo || Math.abs(hi) || 1) * 0.08;
  const drawBars = (u) => {
    const ctx = u.ctx;
    ctx.save();
    lines.forEach((l, li) => {
      if (!u.series[li + 1].show) return;
      ctx.strokeStyle = l.color || color(li);
      ctx.lineWidth = 1.5 * devicePixelRatio;
      l.ys.forEach((y, i) => {
        const s = l.std?.[i];
        if (y === null || s === null || s === undefined) return;
        const x = u.valToPos(xv[i], 'x', true);
        const y1 = u.valToPos(y - s, 'y', true);
        const y2 = u.valToPos(y + s, 'y', true);
        const w = 4 * devicePixelRatio;
        ctx.beginPath();
        ctx.moveTo(x, y1);
        ctx.lineTo(x, y2);
        ctx.moveTo(x - w, y1);
        ctx.lineTo(x + w, y1);
        ctx.moveTo(x - w, y2);
        ctx.lineTo(x + w, y2);
        ctx.stroke();
      });
    });
    ctx.restore();
  };
  const xAxis = { label: opts.xLabel || '' };
  if (opts.categorical) {
    xAxis.splits = () => xv;
    xAxis.values = (u, splits) => splits.map((i) => xs[i] ?? '');
  } else if (xs.length <= 12) {
    // Ticks at the swept values themselves.
    xAxis.splits = () => xv;
  }
  const u = new uPlot(
    {
      width: width(el),
      height: opts.height || 300,
      scales: {
        x: opts.categorical
          ? { time: false, range: [-0.5, xs.length - 0.5] }
          : { time: false, distr: opts.logX ? 3 : 1 },
        y: { range: () => [lo - pad, hi + pad] },
      },
      axes: [xAxis, { label: opts.yLabel || '', size: 60 }],
      series: [
        { label: opts.xLabel || 'x', value: (u, v) => (opts.categorical ? xs[v] ?? '' : v) },
        ...lines.map((l, i) => ({
          label: l.label,
          stroke: l.color || color(i),
          width: 2,
          spanGaps: true,
          points: { show: true, size: 7, fill: l.color || color(i) },
        })),
      ],
      hooks: { draw: [drawBars] },
    },
    [xv, ...lines.map((l) => l.ys)],
    el,
  );
  mark(el, lines.length);
  return u;
}
