// The run page: configuration as YAML, metadata, final metrics, every learning curve, and the
// pictures (filters, reconstructions, samples, fantasies, … : every PNG artifact, by kind) with
// their epoch.
import * as api from './api.js';
import { h, fill, $, debounce } from './dom.js';
import { num, badge, duration, failure } from './format.js';
import { curves } from './charts.js';
import { indicate, liveWanted } from './live.js';

const id = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] || '');
// Kinds shown first, in this order; any other kind of PNG artifact follows in the order recorded.
const PICTURES = ['filters', 'reconstructions', 'samples', 'fantasies', 'outputs'];
const isPicture = (a) => a.path.toLowerCase().endsWith('.png');

function meta(run) {
  const rows = [
    ['experiment', h('a', { href: `/experiments/${run.experiment_id}` }, run.experiment)],
    ['status', badge(run.status)],
    ['trial', run.trial_index],
    ['seed', run.seed],
    ['config hash', h('code', {}, run.config_hash)],
    ['git commit', run.git_commit ? h('code', {}, run.git_commit) : '–'],
    ['host', run.host],
    ['created', run.created_at],
    ['started', run.started_at || '–'],
    ['finished', run.finished_at || '–'],
    ['duration', duration(run.started_at, run.finished_at)],
  ];
  if (run.error) rows.push(['error', h('span', { class: 'error' }, run.error)]);
  return h('table', { class: 'kv', id: 'run-meta' }, h('tbody', {}, rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v)))));
}

function metricsTable(run) {
  const keys = Object.keys(run.metrics).sort();
  return h('table', { class: 'kv' }, h('tbody', {}, keys.map((k) => h('tr', {}, h('th', {}, k), h('td', { class: 'num' }, num(run.metrics[k]))))));
}

function pictures(run) {
  const kinds = [...PICTURES];
  for (const a of run.artifacts) if (isPicture(a) && !kinds.includes(a.kind)) kinds.push(a.kind);
  const byKind = kinds.map((kind) => [kind, run.artifacts.filter((a) => a.kind === kind && isPicture(a))]).filter(([, list]) => list.length);
  const other = run.artifacts.filter((a) => !isPicture(a));
  return h('div', {},
    byKind.length ? null : h('p', { class: 'muted' }, 'This run recorded no pictures.'),
    byKind.map(([kind, list]) => h('div', { class: 'pictures' },
      h('h3', {}, kind),
      h('div', { class: 'gallery' }, list.map((a) => h('figure', {},
        h('a', { href: `/api/artifacts/${a.id}` }, h('img', { src: `/api/artifacts/${a.id}`, alt: `${kind} at epoch ${a.step ?? '?'}`, loading: 'lazy' })),
        h('figcaption', {}, a.step === null ? a.path : `epoch ${a.step}`,
          a.file ? h('div', { class: 'muted path' }, a.file) : null),
      ))),
    )),
    other.length ? h('div', {}, h('h3', {}, 'other artifacts'), h('ul', {}, other.map((a) =>
      h('li', {}, h('a', { href: `/api/artifacts/${a.id}` }, a.path), ` (${a.kind}${a.step === null ? '' : `, epoch ${a.step}`})`,
        a.file ? h('div', { class: 'muted' }, a.file) : null)))) : null,
  );
}

async function drawCurves(el, run) {
  const keys = Object.keys(run.metrics).sort();
  const series = keys.length ? await api.series([run.id], keys) : [];
  const multi = series.filter((s) => s.points.length > 1);
  fill(el, multi.length ? null : h('p', { class: 'muted' }, 'No curves yet.'));
  for (const s of multi) {
    const box = h('div', { class: 'curve' });
    el.appendChild(h('div', { class: 'card' }, h('h3', {}, s.key), box));
    curves(box, [{ label: s.key, xs: s.points.map((p) => p.step), ys: s.points.map((p) => p.value) }], { xLabel: 'epoch', yLabel: s.key, height: 200 });
  }
}

async function main() {
  const root = $('#main');
  const el = { meta: h('div'), metrics: h('div'), config: h('pre', { class: 'yaml', id: 'config' }), curves: h('div', { class: 'curves-grid', id: 'curves' }), pictures: h('div', { id: 'pictures' }) };
  async function load() {
    let run;
    try {
      run = await api.run(id);
    } catch (e) {
      fill(root, h('h1', {}, `Run ${id}`), failure(e));
      return null;
    }
    document.title = `run #${run.id} · ${run.experiment} · harmonium`;
    fill($('#crumbs'), h('a', { href: '/' }, 'experiments'), ' / ', h('a', { href: `/experiments/${run.experiment_id}` }, run.experiment), ' / ', h('span', {}, `run #${run.id}`));
    fill(el.meta, meta(run));
    fill(el.metrics, metricsTable(run));
    el.config.textContent = run.config_yaml;
    fill(el.pictures, pictures(run));
    await drawCurves(el.curves, run);
    return run;
  }
  fill(root,
    h('h1', {}, `Run #${id}`),
    h('div', { class: 'two' }, h('section', {}, h('h2', {}, 'Metadata'), el.meta), h('section', {}, h('h2', {}, 'Final metrics'), el.metrics)),
    h('section', {}, h('h2', {}, 'Learning curves'), el.curves),
    h('section', {}, h('h2', {}, 'Pictures'), el.pictures),
    h('section', {}, h('h2', {}, 'Configuration'), el.config),
  );
  const run = await load();
  document.body.dataset.ready = '1';
  if (run && liveWanted()) indicate(api.follow({ run: run.id }, { status: debounce(load, 500), metric: debounce(load, 2000) }));
}

main();
