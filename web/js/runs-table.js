// The runs table: swept parameters and final metrics as columns, sortable (on the server),
// filterable by status and by any swept parameter, paged; statuses are updated live.
import * as api from './api.js';
import { h, fill, select, field } from './dom.js';
import { num, badge, STATUSES, failure } from './format.js';

const PAGE = 50;

/** Renders into `el`; `state` holds the experiment, the filter, the sort and the selection. */
export async function runsTable(el, state, onSelection) {
  const { exp } = state;
  const params = state.sweptKeys;
  const metrics = state.metricKeys;
  const q = {
    sort: state.sort,
    order: state.order,
    limit: PAGE,
    offset: state.offset,
    params: 'swept',
    status: state.status || undefined,
  };
  for (const [k, v] of Object.entries(state.paramFilter)) if (v !== '') q[`param.${k}`] = v;
  let page;
  try {
    page = await api.runsPage(exp.id, q);
  } catch (e) {
    fill(el, failure(e));
    return;
  }
  const rerender = () => runsTable(el, state, onSelection);
  const sortBy = (key) => () => {
    state.order = state.sort === key && state.order === 'asc' ? 'desc' : 'asc';
    state.sort = key;
    state.offset = 0;
    rerender();
  };
  const th = (label, key, cls) =>
    h('th', { class: `sortable ${cls || ''} ${state.sort === key ? `sorted ${state.order}` : ''}`, onclick: sortBy(key), title: `sort by ${label}` }, label);
  const filters = h('div', { class: 'controls' },
    field('status', select([['', 'any'], ...STATUSES], state.status, (v) => { state.status = v; state.offset = 0; rerender(); })),
    state.swept.filter((p) => p.key !== 'seed').map((p) =>
      field(p.key, select([['', 'any'], ...p.values], state.paramFilter[p.key] ?? '', (v) => { state.paramFilter[p.key] = v; state.offset = 0; rerender(); })),
    ),
    h('span', { class: 'grow' }),
    h('button', {
      onclick: () => { if (state.selected.size >= 2) location.href = `/compare?runs=${[...state.selected].join(',')}`; },
      disabled: state.selected.size < 2,
      title: 'tick two or more runs',
    }, `Compare selected (${state.selected.size})`),
  );
  const table = h('table', { class: 'grid runs', id: 'runs-table' },
    h('thead', {}, h('tr', {},
      h('th', {}, ''),
      th('run', 'id'),
      th('status', 'status'),
      th('seed', 'seed', 'num'),
      params.map((k) => th(k, `param:${k}`, 'param')),
      metrics.map((k) => th(k, `metric:${k}`, `num ${k === exp.metric ? 'key-metric' : ''}`)),
    )),
    h('tbody', {}, page.runs.map((r) =>
      h('tr', { dataset: { run: r.id } },
        h('td', {}, h('input', {
          type: 'checkbox',
          checked: state.selected.has(r.id),
          onchange: (e) => { e.target.checked ? state.selected.add(r.id) : state.selected.delete(r.id); onSelection(); rerender(); },
        })),
        h('td', {}, h('a', { href: `/runs/${r.id}` }, `#${r.id}`)),
        h('td', { class: 'status' }, badge(r.status)),
        h('td', { class: 'num' }, r.seed),
        params.map((k) => h('td', { class: 'param' }, r.params[k] ?? '–')),
        metrics.map((k) => h('td', { class: `num ${k === exp.metric ? 'key-metric' : ''}`, dataset: { metric: k } }, num(r.metrics[k]))),
      ))),
  );
  const last = Math.min(page.offset + page.runs.length, page.total);
  const pager = h('div', { class: 'pager' },
    h('button', { disabled: state.offset === 0, onclick: () => { state.offset = Math.max(0, state.offset - PAGE); rerender(); } }, '‹ previous'),
    h('span', {}, page.total ? `runs ${page.offset + 1}–${last} of ${page.total}` : 'no runs match'),
    h('button', { disabled: last >= page.total, onclick: () => { state.offset += PAGE; rerender(); } }, 'next ›'),
  );
  state.pageRuns = page.runs.map((r) => r.id);
  fill(el, filters, h('div', { class: 'scroll' }, table), pager);
}

/** Shows a new status in the row of that run, if it is on the page. */
export function updateStatus(el, runId, status) {
  const cell = el.querySelector(`tr[data-run="${Number(runId)}"] td.status`);
  if (cell) fill(cell, badge(status));
}
