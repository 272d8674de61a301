// The experiments page: name, description, counts by status, best value, last activity.
import * as api from './api.js';
import { h, fill, $ } from './dom.js';
import { num, ago, counts, failure } from './format.js';

async function load() {
  const main = $('#main');
  try {
    const exps = await api.experiments();
    if (!exps.length) {
      fill(main, h('h1', {}, 'Experiments'), h('p', { class: 'muted' }, 'No experiments yet: run one with `harmonium run experiments/quickstart.yaml`.'));
    } else {
      fill(
        main,
        h('h1', {}, 'Experiments'),
        h('table', { class: 'grid', id: 'experiments' },
          h('thead', {}, h('tr', {}, ['Experiment', 'Description', 'Runs', 'Metric', 'Best', 'Last activity'].map((t) => h('th', {}, t)))),
          h('tbody', {}, exps.map((e) =>
            h('tr', { dataset: { experiment: e.id } },
              h('td', {}, h('a', { href: `/experiments/${e.id}`, class: 'name' }, e.name)),
              h('td', { class: 'desc' }, e.description),
              h('td', {}, counts(e.counts)),
              h('td', {}, e.metric ? `${e.metric} (${e.goal || 'minimize'})` : '–'),
              h('td', { class: 'num' }, num(e.best)),
              h('td', { title: e.last_activity || '' }, ago(e.last_activity)),
            ))),
        ),
      );
    }
    document.body.dataset.ready = '1';
  } catch (e) {
    fill(main, failure(e));
  }
}

load();
setInterval(load, 15000);
