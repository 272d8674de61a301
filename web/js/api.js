// The JSON API (documented in web/API.md).

export class ApiError extends Error {}

/** GET a JSON document; an error answer becomes an ApiError with the server's message. */
export async function get(path, params) {
  const url = params ? `${path}?${query(params)}` : path;
  const r = await fetch(url, { headers: { Accept: 'application/json' } });
  const body = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError((body && body.error) || `${r.status} ${r.statusText}`);
  return body;
}

/** Query text from an object (arrays repeat the key; null/undefined/'' are left out). */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    for (const item of Array.isArray(v) ? v : [v]) q.append(k, item);
  }
  return q.toString();
}

export const experiments = () => get('/api/experiments');
export const experiment = (id) => get(`/api/experiments/${encodeURIComponent(id)}`);
export const runsPage = (id, params) => get(`/api/experiments/${encodeURIComponent(id)}/runs`, params);
export const groups = (id, params) => get(`/api/experiments/${encodeURIComponent(id)}/groups`, params);
export const run = (id) => get(`/api/runs/${encodeURIComponent(id)}`);
export const runs = (ids) => get('/api/runs', { ids: ids.join(',') });
export const series = (runIds, keys, maxPoints = 500) =>
  get('/api/series', { runs: runIds.join(','), keys: keys.join(','), max_points: maxPoints });

/** Follows live events; `handlers` maps event names (status, metric) to functions of the data. */
export function follow(params, handlers) {
  const es = new EventSource(`/api/events?${query(params)}`);
  for (const [name, f] of Object.entries(handlers)) {
    es.addEventListener(name, (e) => f(JSON.parse(e.data)));
  }
  return es;
}
