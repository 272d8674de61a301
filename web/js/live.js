// The live indicator in the header, driven by an EventSource.
import { $ } from './dom.js';

/** Shows whether `es` is connected. */
export function indicate(es) {
  const el = $('#live');
  if (!el) return;
  const set = (on) => {
    el.textContent = on ? '● live' : '○ offline';
    el.className = `live ${on ? 'on' : 'off'}`;
  };
  es.addEventListener('ready', () => set(true));
  es.addEventListener('error', () => set(es.readyState === EventSource.OPEN));
}

/** Live updates are on unless the address says `?live=0` (a frozen snapshot, e.g. for screenshots). */
export const liveWanted = () => new URLSearchParams(location.search).get('live') !== '0';
