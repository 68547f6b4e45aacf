/** Dashboard entry: mounts the five views, hash routing between them, first data load. */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { store } from './state.js';
import { h, setContent } from './ui.js';
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

/** Show the view named by the URL hash (#/curves by default; a query after `?` is the view's own, e.g. #/live?curve=3&fit=1). */
function route(): void {
  const id = (location.hash.replace(/^#\/?/, '').split('?')[0] || 'curves') as ViewId;
  const current: ViewId = id in views ? id : 'curves';
  for (const [key, v] of Object.entries(views)) {
    if (key !== current && !v.el.hidden) v.hide?.();
    v.el.hidden = key !== current;
  }
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#tabs a')) a.classList.toggle('active', a.dataset.view === current);
  document.body.dataset.view = current;
  views[current].show();
}
window.addEventListener('hashchange', route);
route();

const serverStatus = document.getElementById('server-status')!;
async function boot(): Promise<void> {
  try {
    await store.loadCurves();
    if (!store.selected.size && store.curves.length) store.setSelected(store.curves.slice(0, 3).map((c) => c.id));
    setContent(serverStatus, h('span', { class: 'dot ok' }), `${store.curves.length} curves`);
  } catch (err) {
    curvesLoadError(views.curves.el, err);
    setContent(serverStatus, h('span', { class: 'dot err' }), 'server unreachable');
  }
  await store.loadFits();
  document.body.dataset.ready = '1';
}
void boot();
