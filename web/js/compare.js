// Compare two or more runs: configuration side by side (differences highlighted), final metrics,
// and overlaid curves.
import * as api from './api.js';
import { h, fill, $, select, field } from './dom.js';
import { num, badge, failure } from './format.js';
import { curves } from './charts.js';

const ids = (new URLSearchParams(location.search).get('runs') || '').split(',').map((s) => s.trim()).filter(Boolean);

/** Flattens a config object into dotted keys. */
function flatten(v, prefix = '', out = {}) {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out[prefix] = v === undefined ? '' : JSON.stringify(v);
  }
  return out;
}

async function main() {
  const root = $('#main');
  fill($('#crumbs'), h('a', { href: '/' }, 'experiments'), ' / ', h('span', {}, 'compare'));
  if (ids.length < 2) {
    fill(root, h('h1', {}, 'Compare runs'), h('p', { class: 'muted' }, 'Give two or more runs: /compare?runs=1,2'));
    return;
  }
  let runs;
  try {
    runs = await Promise.all(ids.map((i) => api.run(i)));
  } catch (e) {
    fill(root, h('h1', {}, 'Compare runs'), failure(e));
    return;
  }
  const flat = runs.map((r) => flatten(r.config));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const differs = (k) => new Set(flat.map((f) => f[k] ?? '')).size > 1;
  let onlyDiff = true;
  const configEl = h('div', {});
  const head = () => h('thead', {}, h('tr', {}, h('th', {}, ''), runs.map((r) => h('th', {}, h('a', { href: `/runs/${r.id}` }, `#${r.id}`), ' ', badge(r.status)))));
  const drawConfig = () => fill(configEl,
    h('label', { class: 'field' }, h('input', { type: 'checkbox', checked: onlyDiff, onchange: (e) => { onlyDiff = e.target.checked; drawConfig(); } }), h('span', {}, 'only differences')),
    h('table', { class: 'grid compare', id: 'config-diff' }, head(), h('tbody', {},
      h('tr', {}, h('th', {}, 'experiment'), runs.map((r) => h('td', {}, r.experiment))),
      h('tr', {}, h('th', {}, 'seed'), runs.map((r) => h('td', {}, r.seed))),
      h('tr', {}, h('th', {}, 'config hash'), runs.map((r) => h('td', {}, h('code', {}, r.config_hash.slice(0, 12))))),
      keys.filter((k) => !onlyDiff || differs(k)).map((k) => h('tr', { class: differs(k) ? 'diff' : '' }, h('th', {}, k), flat.map((f) => h('td', {}, f[k] ?? '–')))),
    )));
  drawConfig();
  const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].sort();
  const metricsEl = h('table', { class: 'grid compare' }, head(), h('tbody', {}, metricKeys.map((k) =>
    h('tr', {}, h('th', {}, k), runs.map((r) => h('td', { class: 'num' }, num(r.metrics[k])))))));
  const chart = h('div', { id: 'compare-chart' });
  const controls = h('div', { class: 'controls' });
  const series = await api.series(runs.map((r) => r.id), metricKeys).catch(() => []);
  const curveKeys = [...new Set(series.filter((s) => s.points.length > 1).map((s) => s.key))];
  let metric = curveKeys.find((k) => k.includes('valid')) || curveKeys[0] || '';
  const draw = () => {
    fill(controls, field('metric', select(curveKeys, metric, (v) => { metric = v; draw(); })));
    curves(chart, series.filter((s) => s.key === metric).map((s) => ({ label: `#${s.run_id}`, xs: s.points.map((p) => p.step), ys: s.points.map((p) => p.value) })), { xLabel: 'epoch', yLabel: metric });
  };
  fill(root,
    h('h1', {}, `Compare ${runs.length} runs`),
    h('section', {}, h('h2', {}, 'Learning curves'), controls, chart),
    h('div', { class: 'two' }, h('section', {}, h('h2', {}, 'Configuration'), configEl), h('section', {}, h('h2', {}, 'Final metrics'), metricsEl)),
  );
  draw();
  document.body.dataset.ready = '1';
}

main();
