// Pretrained-vs-random panel: a final metric against a chosen x parameter (e.g. labelled-set
// size, depth), one line per value of the line parameter (`init` by default), ± std error bars.
import * as api from './api.js';
import { fill } from './dom.js';
import { failure } from './format.js';
import { errorBars } from './charts.js';

export async function panel(el, state) {
  const { panelX: x, panelLine: line, finalMetric: metric } = state;
  if (!x) {
    errorBars(el, [], [], { empty: 'This experiment sweeps no parameter to put on the x axis.' });
    return;
  }
  const by = line && line !== x ? [line, x] : [x];
  const filter = {};
  for (const [k, v] of Object.entries(state.paramFilter)) if (v !== '' && k !== x && k !== line) filter[`param.${k}`] = v;
  let res;
  try {
    res = await api.groups(state.exp.id, { by: by.join(','), final_metric: metric, metric, ...filter });
  } catch (e) {
    fill(el, failure(e));
    return;
  }
  const xi = by.length - 1;
  const xParam = state.swept.find((p) => p.key === x);
  const numeric = xParam ? xParam.numeric : false;
  const xsText = [...new Set(res.final.map((g) => g.group[xi] ?? '∅'))];
  if (numeric) xsText.sort((a, b) => Number(a) - Number(b));
  const xs = numeric ? xsText.map(Number) : xsText;
  const lineValues = by.length === 2 ? [...new Set(res.final.map((g) => g.group[0] ?? '∅'))] : [null];
  const lines = lineValues.map((lv) => {
    const rows = res.final.filter((g) => by.length === 1 || (g.group[0] ?? '∅') === lv);
    const at = (xv) => rows.find((g) => (g.group[xi] ?? '∅') === xv);
    return {
      label: lv === null ? metric : `${line}=${lv}`,
      ys: xsText.map((xv) => at(xv)?.mean ?? null),
      std: xsText.map((xv) => at(xv)?.std ?? null),
    };
  });
  const positive = numeric && xs.every((v) => v > 0);
  errorBars(el, xs, lines, {
    xLabel: x,
    yLabel: `${metric} (mean ± std)`,
    categorical: !numeric,
    logX: positive && xs.length > 2 && Math.max(...xs) / Math.min(...xs) >= 20,
    empty: 'No finished runs yet.',
  });
}
