// Building DOM nodes without HTML strings: every text goes through textContent, so a name such as
// "<script>" is shown as text, never parsed.

/** h('td', {class: 'num', dataset: {run: 3}, onclick: f}, 'text', childNode, [more]) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style') Object.assign(el.style, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'href') el.setAttribute('href', safeHref(v));
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Only same-site paths are linked. */
function safeHref(v) {
  const s = String(v);
  return s.startsWith('/') && !s.startsWith('//') ? s : '#';
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** A <select> with `options` ([value, label] or value) and `selected`. */
export function select(options, selected, onchange, attrs = {}) {
  const s = h('select', { ...attrs, onchange: (e) => onchange(e.target.value) });
  for (const o of options) {
    const [value, label] = Array.isArray(o) ? o : [o, o];
    const opt = h('option', { value }, label);
    if (String(value) === String(selected)) opt.selected = true;
    s.appendChild(opt);
  }
  return s;
}

/** A labelled control. */
export const field = (label, control) => h('label', { class: 'field' }, h('span', {}, label), control);

/** Calls `f` at most once per `ms`, with the latest arguments. */
export function debounce(f, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => f(...args), ms);
  };
}
