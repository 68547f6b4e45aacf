/** Dashboard entry: mounts the four views, hash routing between them, first data load. */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { store } from './state.js';
import { h, setContent } from './ui.js';
import { curvesView, curvesLoadError } from './views/curves.js';
import { fitsView } from './views/fits.js';
import { whatifView } from './views/whatif.js';
import { optimizeView } from './views/optimize.js';

type ViewId = 'curves' | 'fits' | 'whatif' | 'optimize';
const app = document.getElementById('app')!;
const views: Record<ViewId, { el: HTMLElement; show: () => void }> = {
  curves: curvesView(),
  fits: fitsView(),
  whatif: whatifView(),
  optimize: optimizeView(),
};
app.replaceChildren(...Object.values(views).map((v) => v.el));

/** Show the view named by the URL hash (#/curves by default). */
function route(): void {
  const id = (location.hash.replace(/^#\/?/, '') || 'curves') as ViewId;
  const current: ViewId = id in views ? id : 'curves';
  for (const [key, v] of Object.entries(views)) v.el.hidden = key !== current;
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
