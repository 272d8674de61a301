// Group by a swept parameter: mean ± std and n per group of the final metric (table), the
// differences between its levels (Welch's interval, and the paired one by seed with its sign-flip
// p-value), the published figures of the experiment file beside the groups, and the per-epoch
// curves of each group with ± std bands and the published figures as dashed lines.
import * as api from './api.js';
import { h, fill } from './dom.js';
import { num, meanStd, failure } from './format.js';
import { curves, color } from './charts.js';

const label = (by, group) => (by.length ? by.map((k, i) => `${k}=${group[i] ?? '∅'}`).join(', ') : 'all runs');

/** Fills the group table in `tableEl` (final metric) and the group curves in `chartEl`. */
export async function groupView(tableEl, chartEl, state) {
  const by = state.groupBy ? [state.groupBy] : [];
  const filter = {};
  for (const [k, v] of Object.entries(state.paramFilter)) if (v !== '') filter[`param.${k}`] = v;
  let res;
  try {
    res = await api.groups(state.exp.id, {
      by: by.join(','),
      metric: state.curveMetric,
      final_metric: state.finalMetric,
      curves: state.curveMetric ? 1 : 0,
      ...filter,
    });
  } catch (e) {
    fill(tableEl, failure(e));
    fill(chartEl);
    return;
  }
  const colorOf = new Map(res.curves.map((c, i) => [JSON.stringify(c.group), color(i)]));
  fill(tableEl,
    h('table', { class: 'grid groups', id: 'group-table' },
      h('thead', {}, h('tr', {},
        h('th', {}, ''),
        by.map((k) => h('th', {}, k)),
        h('th', { class: 'num' }, 'runs'),
        h('th', { class: 'num' }, 'n'),
        h('th', { class: 'num' }, `${res.final_metric} (mean ± std)`),
        h('th', { class: 'num' }, 'min'),
        h('th', { class: 'num' }, 'max'),
      )),
      h('tbody', {}, res.final.map((g) =>
        h('tr', {},
          h('td', {}, h('span', { class: 'swatch', style: { background: colorOf.get(JSON.stringify(g.group)) || 'transparent' } })),
          g.group.map((v) => h('td', { class: 'param' }, v ?? '∅')),
          h('td', { class: 'num' }, g.runs),
          h('td', { class: 'num' }, g.n),
          h('td', { class: 'num mean-std', dataset: { mean: g.mean ?? '' } }, meanStd(g.mean, g.std)),
          h('td', { class: 'num' }, num(g.min)),
          h('td', { class: 'num' }, num(g.max)),
        ))),
    ),
    res.final.length ? null : h('p', { class: 'muted' }, 'No finished runs yet.'),
    referenceList(res, by),
    contrastTable(res),
  );
  const lines = res.curves.map((c) => ({
    label: `${label(by, c.group)} (n=${Math.max(...c.stats.map((s) => s.n))})`,
    xs: c.steps,
    ys: c.stats.map((s) => s.mean),
    std: c.stats.map((s) => s.std),
  }));
  curves(chartEl, lines, { xLabel: 'epoch', yLabel: `${res.metric} (mean ± std)`, rules: rules(res, colorOf) });
}

/**
 * The published figures on the curves: one dashed line for a figure for every group, one per
 * level otherwise, in its group's colour when exactly one group has the level.
 */
function rules(res, colorOf) {
  const out = [];
  for (const c of res.curve_references || []) {
    const r = c.reference;
    if (typeof r.published === 'number') {
      out.push({ value: r.published, label: `${r.metric} ${num(r.published)} (${r.source})`, color: '#444' });
      continue;
    }
    for (const [level, value] of Object.entries(r.published)) {
      const groups = c.rows.filter((row) => row.level === level && row.group).map((row) => JSON.stringify(row.group));
      const color = groups.length === 1 ? colorOf.get(groups[0]) || '#444' : '#444';
      out.push({ value, label: `${c.matched_by || r.by}=${level}: ${r.metric} ${num(value)} (${r.source})`, color });
    }
  }
  return out;
}

/** The published figures of the final metric beside the groups' means, with the gap. */
function referenceList(res, by) {
  const refs = res.references || [];
  if (!refs.length && !res.reference_error) return null;
  const who = (c, row) => {
    if (row.group) return label(by, row.group);
    const key = c.matched_by || c.reference.by;
    return row.level === null ? '(no group)' : `${key}=${row.level} (no group)`;
  };
  return h('div', { id: 'reference-list', style: { marginTop: '12px' } },
    h('h3', {}, `Published ${res.final_metric}`),
    res.reference_error ? h('p', { class: 'error' }, res.reference_error) : null,
    refs.map((c) => h('div', { class: 'reference' },
      h('div', { class: 'small' }, c.reference.source, c.reference.by ? ` (by ${c.reference.by})` : ''),
      h('table', { class: 'grid references' },
        h('thead', {}, h('tr', {},
          h('th', {}, 'group'),
          h('th', { class: 'num' }, 'published'),
          h('th', { class: 'num' }, 'mean'),
          h('th', { class: 'num' }, 'gap'),
        )),
        h('tbody', {}, c.rows.map((row) => h('tr', {},
          h('td', {}, who(c, row)),
          h('td', { class: 'num', dataset: { published: row.published } }, num(row.published)),
          h('td', { class: 'num' }, meanStd(row.mean, row.std)),
          h('td', { class: 'num' }, row.gap === null ? '–' : `${row.gap >= 0 ? '+' : ''}${num(row.gap)}`),
        ))),
      ),
      c.note ? h('p', { class: 'muted small' }, c.note) : null,
    )),
  );
}

/**
 * Each level against the first: the difference of means with Welch's interval, the runs paired by
 * seed and the pooled sweep parameters (pairs, mean difference, paired t interval, sign-flip
 * p-value), and which interval applies.
 */
function contrastTable(res) {
  if (!res.contrasts.length) return null;
  const pct = `${Math.round(100 * res.level)}%`;
  const interval = (lo, hi) => (lo === null || lo === undefined ? '–' : `[${num(lo)}, ${num(hi)}]`);
  const mark = (yes, cell) => h('td', { class: 'num', title: yes ? 'the interval that applies' : null }, cell, yes ? ' ✓' : null);
  return h('div', { class: 'scroll', style: { marginTop: '12px' } }, h('table', { class: 'grid contrasts', id: 'contrast-table' },
    h('thead', {}, h('tr', {},
      h('th', {}, `${res.by[0]}: difference`),
      res.by.slice(1).map((k) => h('th', {}, k)),
      h('th', { class: 'num' }, 'a − b'),
      h('th', { class: 'num' }, `Welch ${pct}`),
      h('th', { class: 'num', title: 'a pair: two runs of the same seed and the same values of the sweep parameters the groups pool over' },
        `pairs (${['seed', ...(res.paired_on || [])].join(' × ')})`),
      h('th', { class: 'num' }, 'paired Δ'),
      h('th', { class: 'num' }, `paired ${pct}`),
      h('th', { class: 'num' }, 'sign-flip p'),
      h('th', {}, 'applies'),
    )),
    h('tbody', {}, res.contrasts.map((c) => {
      const p = c.paired;
      const paired = c.applies === 'paired';
      return h('tr', {},
        h('td', {}, `${c.a ?? '∅'} − ${c.b ?? '∅'}`),
        c.within.map((v) => h('td', { class: 'param' }, v ?? '∅')),
        h('td', { class: 'num' }, num(c.diff)),
        mark(!paired, interval(c.lo, c.hi)),
        h('td', { class: 'num' }, p ? p.n : 0),
        h('td', { class: 'num' }, p ? num(p.diff) : '–'),
        mark(paired, p ? interval(p.lo, p.hi) : '–'),
        h('td', { class: 'num', title: p && !p.p_exact ? 'Monte Carlo estimate (100,000 random sign flips)' : null },
          p ? `${p.p_exact ? '' : '≈ '}${num(p.p)}` : '–'),
        h('td', {}, paired ? 'paired' : `Welch (${c.why_welch})`),
      );
    })),
  ));
}

/** Overlaid curves of individual runs. */
export async function runCurves(chartEl, runIds, metric) {
  if (!runIds.length || !metric) {
    curves(chartEl, [], { empty: 'Tick runs in the table to draw their curves.' });
    return;
  }
  try {
    const series = await api.series(runIds, [metric]);
    curves(chartEl, series.map((s) => ({
      label: `#${s.run_id}`,
      xs: s.points.map((p) => p.step),
      ys: s.points.map((p) => p.value),
    })), { xLabel: 'epoch', yLabel: metric });
  } catch (e) {
    fill(chartEl, failure(e));
  }
}
