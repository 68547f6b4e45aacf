/**
 * Dashboard entry: mounts the five views, hash routing between them, first data load, and the
 * shared URL state: `curves=1,2,3` (selection) and `fit=ID` ride in every view's query and in the
 * tab links, so a reload or a pasted link restores them (a view's own keys, e.g. What-if's `s=`
 * or its charts' log axes `log=`, stay with that view).
 */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { store } from './state.js';
import { syncLogAxes } from './charts.js';
import { h, setContent } from './ui.js';
import { updateViewQuery, viewName, viewQuery } from './url-state.js';
import { curvesView, curvesLoadError } from './views/curves.js';
import { fitsView } from './views/fits.js';
import { whatifView } from './views/whatif.js';
import { optimizeView } from './views/optimize.js';
import { liveView } from './views/live.js';

type ViewId = 'curves' | 'fits' | 'whatif' | 'optimize' | 'live';
const app = document.getElementById('app')!;
const views: Record<ViewId, { el: HTMLElement; show: () => void; hide?: () => void }> = {
  curves: curvesView(),
  fits: fitsView(),
  whatif: whatifView(),
  optimize: optimizeView(),
  live: liveView(),
};
app.replaceChildren(...Object.values(views).map((v) => v.el));

/** The shared keys as the store has them. */
function sharedState(): { curves: string | null; fit: number | null } {
  // An empty selection is written as `curves=none`, so a reload keeps it empty (no key: the first-run default).
  return { curves: [...store.selected].sort((a, b) => a - b).join(',') || 'none', fit: store.currentFit };
}

/** Ids from a `curves=1,2,3` value (positive integers only; `none` is no id). */
const idList = (text: string | null) => (text ?? '').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);

/** Once the first load has applied the URL's state, store changes are written back to it. */
let urlReady = false;

/** Write the shared keys into the current hash (no history entry) and into the tab links. */
function writeShared(): void {
  if (!urlReady) return;
  const shared = sharedState();
  updateViewQuery(shared);
  const query = new URLSearchParams();
  if (shared.curves) query.set('curves', shared.curves);
  if (shared.fit !== null) query.set('fit', String(shared.fit));
  const text = query.toString().replace(/%2C/g, ',');
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#tabs a')) a.href = `#/${a.dataset.view}${text ? `?${text}` : ''}`;
}

/** Apply a pasted or edited link's shared keys to the store (those it names; the rest stay). */
function readShared(): void {
  const query = viewQuery();
  if (query.has('curves') && store.curvesLoaded) {
    const known = new Set(store.curves.map((c) => c.id));
    const ids = idList(query.get('curves')).filter((id) => known.has(id));
    const now = [...store.selected].sort((a, b) => a - b).join(',');
    if (ids.sort((a, b) => a - b).join(',') !== now) store.setSelected(ids);
  }
  const fit = Number(query.get('fit'));
  if (query.has('fit') && Number.isInteger(fit) && store.fits.some((f) => f.id === fit)) store.setFit(fit);
}

/** Show the view named by the URL hash (#/curves by default; a query after `?` is the view's own, e.g. #/live?curve=3&fit=1). */
function route(): void {
  const id = viewName() as ViewId;
  const current: ViewId = id in views ? id : 'curves';
  for (const [key, v] of Object.entries(views)) {
    if (key !== current && !v.el.hidden) v.hide?.();
    v.el.hidden = key !== current;
  }
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#tabs a')) a.classList.toggle('active', a.dataset.view === current);
  document.body.dataset.view = current;
  if (urlReady) {
    readShared();
    writeShared();
  }
  views[current].show();
  // The view's charts take the URL's `log=` (or write theirs into it).
  syncLogAxes();
}
window.addEventListener('hashchange', route);
route();

const serverStatus = document.getElementById('server-status')!;
/** The header's curve count, kept current (uploads and deletes reload the list). */
function renderCount(): void {
  const n = store.curves.length;
  setContent(serverStatus, h('span', { class: 'dot ok' }), h('span', { 'data-testid': 'curve-count' }, `${n} curve${n === 1 ? '' : 's'}`));
}

async function boot(): Promise<void> {
  // The state a reload or pasted link asks for, read before the store's first changes rewrite the URL.
  const asked = viewQuery();
  try {
    await store.loadCurves();
    renderCount();
    store.on('curves', renderCount);
    const known = new Set(store.curves.map((c) => c.id));
    if (asked.has('curves')) store.setSelected(idList(asked.get('curves')).filter((id) => known.has(id)));
    else if (!store.selected.size) store.setSelected(store.defaultSelection());
  } catch (err) {
    curvesLoadError(views.curves.el, err);
    setContent(serverStatus, h('span', { class: 'dot err' }), 'server unreachable');
  }
  await store.loadFits();
  const fit = Number(asked.get('fit'));
  if (asked.has('fit') && Number.isInteger(fit) && store.fits.some((f) => f.id === fit)) store.setFit(fit);
  urlReady = true;
  writeShared();
  for (const topic of ['selection', 'fit', 'fits'] as const) store.on(topic, writeShared);
  document.body.dataset.ready = '1';
}
void boot();
