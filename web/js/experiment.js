// The experiment page: runs table, group by with mean ± std, overlaid learning curves, the
// pretrained-vs-random panel and parallel coordinates; refreshed live while a sweep runs.
import * as api from './api.js';
import { h, fill, $, select, field, debounce } from './dom.js';
import { counts, failure } from './format.js';
import { runsTable, updateStatus } from './runs-table.js';
import { groupView, runCurves } from './groups.js';
import { panel } from './panel.js';
import { parcoords } from './parcoords.js';
import { indicate, liveWanted } from './live.js';

const id = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] || '');

/** The per-epoch metric that goes with a summary metric: best_valid_error → valid_error. */
function curveMetricFor(metric, curveKeys) {
  if (!metric) return curveKeys[0] || '';
  if (curveKeys.includes(metric)) return metric;
  const base = metric.replace(/^(best|final|min|max)_/, '');
  return curveKeys.includes(base) ? base : curveKeys[0] || '';
}

function section(title, ...body) {
  return h('section', {}, h('h2', {}, title), ...body);
}

async function main() {
  const root = $('#main');
  let exp;
  try {
    exp = await api.experiment(id);
  } catch (e) {
    fill(root, h('h1', {}, 'Experiment'), failure(e));
    return;
  }
  document.title = `${exp.name} · harmonium`;
  fill($('#crumbs'), h('a', { href: '/' }, 'experiments'), ' / ', h('span', {}, exp.name));
  const nonSeed = exp.swept.filter((p) => p.key !== 'seed');
  const curveKeys = exp.metrics.filter((m) => m.points > 1).map((m) => m.key);
  const finalMetric = exp.metric || exp.metrics[0]?.key || '';
  const numericX = nonSeed.filter((p) => p.numeric);
  const lineDefault = nonSeed.some((p) => p.key === 'init') ? 'init' : '';
  const state = {
    exp,
    swept: exp.swept,
    sweptKeys: exp.swept.map((p) => p.key).filter((k) => k !== 'seed'),
    metricKeys: [finalMetric, ...exp.metrics.map((m) => m.key).filter((k) => k !== finalMetric)].filter(Boolean),
    sort: 'id',
    order: 'asc',
    offset: 0,
    status: '',
    paramFilter: {},
    selected: new Set(),
    groupBy: nonSeed[0]?.key || '',
    finalMetric,
    curveMetric: curveMetricFor(exp.metric, curveKeys),
    curveMode: 'groups',
    panelLine: lineDefault,
    panelX: (numericX.find((p) => p.key !== lineDefault) || nonSeed.find((p) => p.key !== lineDefault) || {}).key || '',
  };
  const el = {
    counts: h('div', { class: 'summary' }),
    runs: h('div', { id: 'runs' }),
    groupControls: h('div', { class: 'controls' }),
    groupTable: h('div', { id: 'groups' }),
    curveControls: h('div', { class: 'controls' }),
    curves: h('div', { id: 'curves-chart' }),
    panelControls: h('div', { class: 'controls' }),
    panel: h('div', { id: 'panel-chart' }),
    parcoords: h('div', { id: 'parcoords' }),
  };
  fill(root,
    h('h1', {}, exp.name),
    h('p', { class: 'desc' }, exp.description),
    el.counts,
    section('Runs', el.runs),
    h('div', { class: 'two' },
      section('Group by', el.groupControls, el.groupTable),
      section('Learning curves', el.curveControls, el.curves),
    ),
    section('Pretrained vs random', el.panelControls, el.panel),
    section('Parameters → metric', el.parcoords),
  );

  const metricOptions = exp.metrics.map((m) => m.key);
  const paramOptions = [['', '(none: all runs)'], ...nonSeed.map((p) => p.key)];
  const drawCurves = () =>
    state.curveMode === 'groups'
      ? groupView(el.groupTable, el.curves, state)
      : runCurves(el.curves, state.selected.size ? [...state.selected] : state.pageRuns.slice(0, 8), state.curveMetric);
  const drawGroups = () => groupView(el.groupTable, state.curveMode === 'groups' ? el.curves : h('div'), state);
  const renderControls = () => {
    fill(el.groupControls,
      field('group by', select(paramOptions, state.groupBy, (v) => { state.groupBy = v; refresh(); })),
      field('final metric', select(metricOptions, state.finalMetric, (v) => { state.finalMetric = v; refresh(); })),
    );
    fill(el.curveControls,
      field('metric', select(curveKeys.length ? curveKeys : metricOptions, state.curveMetric, (v) => { state.curveMetric = v; refresh(); })),
      field('show', select([['groups', 'groups (mean ± std)'], ['runs', 'selected runs']], state.curveMode, (v) => { state.curveMode = v; refresh(); })),
    );
    fill(el.panelControls,
      field('x', select(nonSeed.map((p) => p.key), state.panelX, (v) => { state.panelX = v; panel(el.panel, state); })),
      field('one line per', select([['', '(none)'], ...nonSeed.map((p) => p.key)], state.panelLine, (v) => { state.panelLine = v; panel(el.panel, state); })),
      field('metric', select(metricOptions, state.finalMetric, (v) => { state.finalMetric = v; refresh(); })),
      nonSeed.some((p) => p.key === 'init') ? null : h('span', { class: 'muted small' }, 'this experiment has no init parameter; pick the line parameter'),
    );
  };
  const refreshCounts = async () => {
    try {
      const fresh = await api.experiment(id);
      fill(el.counts, counts(fresh.counts));
    } catch (_) { /* shown elsewhere */ }
  };
  async function refresh() {
    renderControls();
    await runsTable(el.runs, state, () => state.curveMode === 'runs' && drawCurves());
    await Promise.all([state.curveMode === 'groups' ? drawCurves() : Promise.all([drawGroups(), drawCurves()]), panel(el.panel, state), parcoords(el.parcoords, state), refreshCounts()]);
  }
  await refresh();
  document.body.dataset.ready = '1';

  if (!liveWanted()) return;
  const later = debounce(refresh, 2000);
  const es = api.follow({ experiment: exp.id }, {
    // What changed between the first load and the feed starting is caught up here.
    ready: () => later(),
    status: (s) => { updateStatus(el.runs, s.run_id, s.status); later(); },
    metric: () => later(),
  });
  indicate(es);
}

main();
