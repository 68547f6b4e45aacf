/**
 * Fits view: fit a law (MPL or LRA) to the selected curves, list and delete fits, and for
 * one fit show the fitted curve over the observed points, the residuals, the parameters
 * with standard errors, and per-curve and leave-one-out metrics. The server answers a fit with its
 * main fit and computes leave-one-out in the background: while it is pending the view says so and
 * polls GET /fits/{id} about every second, then shows the metrics (or why they failed).
 *
 * Held-out validation: any stored curve the fit did not use can be overlaid (observed points and the
 * fit's prediction for its schedule, marked "held out"), with its metrics from GET /predict?fit=&curve=,
 * and a table puts each curve's in-sample error beside its held-out error (a training curve's held-out
 * error is its leave-one-out fold). The chosen held-out curves are the URL's `heldOut=4,5`. A curve
 * of the fit that was deleted since is marked as such; the fit itself stays shown.
 */
import './fits.css';
import { api, ApiError, fitProcedure, followJob, normalizeFit, toApiError, type Curve, type CurveMetric, type Fit, type Metric, type MetricSet, type Prediction } from '../api.js';
import { Chart, bandOf, color, type SeriesInput } from '../charts.js';
import { store, fitLabel } from '../state.js';
import { h, setContent, emptyState, loadingState, errorState, fmtNum, fmtLossInterval, toast } from '../ui.js';
import { loadCurve } from './curves.js';
import { LAW_IDS, LAW_INFO, type LawId } from '../../laws/ids.js';
import { updateViewQuery, viewName, viewQuery } from '../url-state.js';


/** The laws offered, in the registry's order (src/laws/ids.ts). */
const LAWS = LAW_IDS.map((id) => ({ id, ...LAW_INFO[id] }));

/** Linear interpolation of (xs, ys) at x (xs ascending). */
function interp(xs: number[], ys: number[], x: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  if (x <= xs[0]!) return ys[0]!;
  if (x >= xs[hi]!) return ys[hi]!;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const t = (x - xs[lo]!) / (xs[hi]! - xs[lo]!);
  return ys[lo]! + t * (ys[hi]! - ys[lo]!);
}

function metricsTable(set: MetricSet, testId: string): HTMLElement {
  const row = (name: string, m: { r2: number; mae: number; rmse: number; predE: number; worstE: number }, cls = '') =>
    h('tr', { class: cls }, h('td', {}, name), h('td', {}, fmtNum(m.r2, 4)), h('td', {}, fmtNum(m.mae, 3)), h('td', {}, fmtNum(m.rmse, 3)), h('td', {}, fmtNum(m.predE, 3)), h('td', {}, fmtNum(m.worstE, 3)));
  return h(
    'table',
    { class: 'data', 'data-testid': testId },
    h('thead', {}, h('tr', {}, h('th', {}, 'curve'), h('th', {}, 'R²'), h('th', {}, 'MAE'), h('th', {}, 'RMSE'), h('th', { title: 'mean relative error' }, 'PredE'), h('th', { title: 'worst relative error' }, 'WorstE'))),
    h('tbody', {}, ...set.perCurve.map((m) => row(m.name ?? store.curveName(m.curveId), m)), row('mean', set.mean, 'mean')),
  );
}

function paramTable(f: Fit): HTMLElement {
  return h(
    'table',
    { class: 'data', 'data-testid': 'param-table' },
    h('thead', {}, h('tr', {}, h('th', {}, 'name'), h('th', {}, 'value'), h('th', {}, '± stderr'), h('th', {}, 'bounds'))),
    h('tbody', {}, ...f.params.map((p) => h('tr', {}, h('td', {}, p.name), h('td', {}, fmtNum(p.value, 5)), h('td', {}, p.stderr === null || p.stderr === undefined ? '—' : fmtNum(p.stderr, 3)), h('td', { class: 'muted' }, p.min !== undefined ? `[${fmtNum(p.min, 2)}, ${fmtNum(p.max, 2)}]` : '')))),
  );
}

function leaveOneOutSection(f: Fit): HTMLElement {
  const state = f.leaveOneOutState;
  if (f.leaveOneOut) return metricsTable(f.leaveOneOut, 'loo-table');
  if (state?.status === 'pending') return h('div', { 'data-testid': 'loo-pending' }, loadingState('leave-one-out: computing…'));
  if (state?.status === 'failed') return h('p', { class: 'state error', 'data-testid': 'loo-failed' }, `leave-one-out failed: ${state.error ?? 'unknown error'}`);
  return h('p', { class: 'muted' }, 'Not computed (needs at least two curves).');
}

/** Curve ids from a URL list ("4,5"): positive integers, in order, no repeats. */
function idList(text: string | null): number[] {
  const ids = (text ?? '').split(',').map((t) => Number(t.trim())).filter((n) => Number.isInteger(n) && n > 0);
  return [...new Set(ids)];
}

/** One curve's row of the train vs held-out table. */
interface ErrorRow {
  id: number;
  name: string;
  role: 'train' | 'held-out' | 'missing';
  inSample?: Metric | CurveMetric;
  heldOut?: Metric | CurveMetric;
  /** Where the held-out error comes from. */
  heldOutSource?: string;
}

/** Each curve's in-sample error next to its error when not fitted on (leave-one-out for the fit's curves, the fit itself for held-out ones). */
function errorTable(rows: ErrorRow[]): HTMLElement {
  const cell = (m: Metric | CurveMetric | undefined, key: 'rmse' | 'predE' | 'r2', digits: number) => h('td', {}, m ? fmtNum(m[key], digits) : '—');
  return h(
    'table',
    { class: 'data', 'data-testid': 'heldout-table' },
    h(
      'thead',
      {},
      h('tr', {}, h('th', { rowspan: 2 }, 'curve'), h('th', { rowspan: 2 }, 'role'), h('th', { colspan: 2, class: 'group' }, 'in-sample'), h('th', { colspan: 3, class: 'group' }, 'held out'), h('th', { rowspan: 2 }, 'held-out source')),
      h('tr', {}, h('th', {}, 'RMSE'), h('th', { title: 'mean relative error' }, 'PredE'), h('th', {}, 'RMSE'), h('th', { title: 'mean relative error' }, 'PredE'), h('th', {}, 'R²')),
    ),
    h(
      'tbody',
      {},
      ...rows.map((r) =>
        h(
          'tr',
          {
            class: `role-${r.role}`,
            'data-testid': 'heldout-row',
            dataset: { curve: String(r.id), role: r.role, ...(r.heldOut ? { rmse: String(r.heldOut.rmse), r2: String(r.heldOut.r2), prede: String(r.heldOut.predE), mae: String(r.heldOut.mae) } : {}), ...(r.inSample ? { trainRmse: String(r.inSample.rmse) } : {}) },
          },
          h('td', {}, r.name),
          h('td', {}, h('span', { class: `role-tag ${r.role}` }, r.role === 'held-out' ? 'held out' : r.role === 'missing' ? 'train (deleted)' : 'train')),
          cell(r.inSample, 'rmse', 3),
          cell(r.inSample, 'predE', 3),
          cell(r.heldOut, 'rmse', 3),
          cell(r.heldOut, 'predE', 3),
          cell(r.heldOut, 'r2', 4),
          h('td', { class: 'muted' }, r.heldOutSource ?? ''),
        ),
      ),
    ),
  );
}

/** The Fits view: elements and state as fields, one method per concern (see CurvesView). */
class FitsView {
  readonly el: HTMLElement;
  private law: LawId = LAW_IDS[0];
  private fit: Fit | null = null;
  private fitError: unknown = null;
  private looTimer: ReturnType<typeof setTimeout> | undefined;
  private detailToken = 0;
  private chartToken = 0;
  private readonly predCache = new Map<string, Promise<Prediction>>();
  /** Stored curves not used by the fit, overlaid as held out (URL `heldOut=`). */
  private heldOut: number[] = [];
  /** What the train vs held-out table last showed besides the fit (redrawn when leave-one-out completes). */
  private lastErrors: [number[], Map<number, Metric>, number[]] | null = null;

  // ---- create ----
  private readonly lawHost = h(
    'div',
    { class: 'law-choice', role: 'radiogroup' },
    ...LAWS.map((l) =>
      h(
        'label',
        { class: 'radio' },
        h('input', { type: 'radio', name: 'law', value: l.id, checked: l.id === this.law, 'data-testid': `law-${l.id}`, onchange: () => (this.law = l.id) }),
        h('span', {}, h('strong', {}, l.title), h('small', {}, l.hint)),
      ),
    ),
  );
  private readonly selHost = h('div', { class: 'chips', 'data-testid': 'fit-selection' });
  private readonly createBtn = h('button', { class: 'primary', 'data-testid': 'create-fit', onclick: () => void this.create() }, 'Fit selected curves');
  private readonly createStatus = h('div', { 'data-testid': 'fit-status' });
  private readonly listHost = h('div', { class: 'fit-list', 'data-testid': 'fit-list' });

  // ---- detail ----
  private readonly detailHead = h('div', { class: 'fit-head' });
  private readonly curvePick = h('select', { 'aria-label': 'curve shown', onchange: () => void this.renderCharts() });
  private readonly fitChart = new Chart({ height: 300, yLabel: 'loss', sync: 'fit', emptyText: 'Select a fit to see its curves.' }, 'fit-chart');
  private readonly residChart = new Chart({ height: 150, yLabel: 'observed − fit', sync: 'fit', zeroLine: true, emptyText: 'Residuals appear here.' }, 'resid-chart');
  private readonly chartStatus = h('div', { class: 'plot-status' });
  /** Each shown curve's predicted final loss with its interval. */
  private readonly finals = h('ul', { class: 'notes fit-finals', 'data-testid': 'fit-finals' });
  private readonly tables = h('div', { class: 'fit-tables' });
  /** Checkboxes of the stored curves the fit did not use. */
  private readonly heldOutPick = h('div', { class: 'heldout-pick chips', 'data-testid': 'heldout-pick' });
  /** Train vs held-out error per curve. */
  private readonly errorHost = h('div', { class: 'heldout-errors', 'data-testid': 'heldout-errors' });

  constructor() {
    store.on('selection', () => this.renderSelection());
    store.on('curves', () => (this.renderSelection(), this.renderList(), this.fit && (this.renderHeldOutPick(this.fit), void this.renderCharts())));
    store.on('fits', () => (this.renderList(), void this.renderDetail()));
    store.on('fit', () => (this.renderList(), void this.renderDetail()));
    this.el = this.layout();
    this.renderSelection();
    this.renderList();
  }

  show(): void {
    // A link's `heldOut=` wins; a tab switch (no key) keeps the curves ticked before, written back.
    if (viewName() === 'fits') {
      const query = viewQuery();
      if (query.has('heldOut')) this.heldOut = idList(query.get('heldOut'));
      else if (this.heldOut.length) updateViewQuery({ heldOut: this.heldOut.join(',') });
    }
    this.renderSelection();
    this.renderList();
    void this.renderDetail();
  }

  private layout(): HTMLElement {
    const detail = h(
      'div',
      { class: 'card', 'data-testid': 'fit-detail' },
      this.detailHead,
      h('header', {}, h('h3', {}, 'Fitted curve over observed points'), h('span', { class: 'spacer' }), this.curvePick, this.chartStatus),
      this.fitChart.el,
      this.finals,
      h('div', { class: 'heldout' }, h('h3', {}, 'Held-out curves'), h('p', { class: 'muted small' }, 'Stored curves this fit did not use: tick one to overlay its observed points and the fit’s prediction for its schedule.'), this.heldOutPick),
      h('h3', {}, 'Residuals'),
      this.residChart.el,
      h('div', { class: 'heldout-errors-wrap' }, h('h3', {}, 'Train vs held-out error'), this.errorHost),
      this.tables,
    );
    const newFit = h(
      'div',
      { class: 'card' },
      h('header', {}, h('h2', {}, 'New fit')),
      h('div', { class: 'row' }, h('span', { class: 'label' }, 'Curves'), h('span', { class: 'spacer' }), h('a', { href: '#/curves', class: 'small-link' }, 'change selection')),
      this.selHost,
      h('span', { class: 'label' }, 'Law'),
      this.lawHost,
      h('div', { class: 'row' }, this.createBtn),
      this.createStatus,
    );
    return h(
      'section',
      { class: 'view', id: 'view-fits' },
      h('aside', { class: 'panel' }, newFit, h('div', { class: 'card grow' }, h('header', {}, h('h2', {}, 'Fits')), this.listHost)),
      h('div', { class: 'content' }, detail),
    );
  }

  private renderSelection(): void {
    const ids = [...store.selected];
    this.createBtn.disabled = ids.length === 0;
    setContent(this.selHost, ids.length ? null : h('span', { class: 'muted' }, 'No curves selected: pick some in Curves (the list on its left).'), ...ids.map((id) => h('span', { class: 'chip' }, store.curveName(id))));
  }

  private renderList(): void {
    const listHost = this.listHost;
    if (!store.fitsLoaded) return setContent(listHost, loadingState('Loading fits…'));
    if (store.fitsError) return setContent(listHost, errorState(store.fitsError, 'Could not list fits'));
    if (!store.fits.length) return setContent(listHost, emptyState('No fits yet.', 'Select curves and press “Fit selected curves”.'));
    setContent(
      listHost,
      ...store.fits.map((f) =>
        h(
          'div',
          { class: `fit-row${f.id === store.currentFit ? ' selected' : ''}`, 'data-testid': 'fit-row', dataset: { id: String(f.id) }, onclick: () => store.setFit(f.id), onkeydown: (e: KeyboardEvent) => e.key === 'Enter' && store.setFit(f.id), role: 'button', tabindex: '0' },
          h('span', { class: 'fit-name' }, fitLabel(f)),
          h('span', { class: 'muted' }, f.metrics?.mean ? `R² ${fmtNum(f.metrics.mean.r2, 4)}` : ''),
          h('button', { class: 'icon danger', title: `delete fit #${f.id}`, onclick: (e: Event) => (e.stopPropagation(), void this.remove(f.id)) }, '×'),
        ),
      ),
    );
  }

  private async create(): Promise<void> {
    const ids = [...store.selected];
    if (!ids.length) return;
    const law = this.law;
    const status = this.createStatus;
    this.createBtn.disabled = true;
    const what = `Fitting ${law.toUpperCase()} to ${ids.length} curve${ids.length > 1 ? 's' : ''}`;
    setContent(status, loadingState(`${what}…`));
    let jobId = '';
    const cancelBtn = h('button', { class: 'secondary small', 'data-testid': 'cancel-fit', onclick: () => void api.cancelJob(jobId).catch((err) => toast(toApiError(err).describe(), 'error')) }, 'Cancel');
    const showProgress = (fraction: number) => setContent(status, loadingState(`${what}… ${Math.round(100 * fraction)}%`), cancelBtn);
    try {
      jobId = String((await api.startFit(ids, law)).jobId);
      showProgress(0);
      const created = normalizeFit(await followJob(jobId, (p) => showProgress(p.progress)));
      const looNote = created.leaveOneOutState?.status === 'pending' ? ' Leave-one-out follows in the background.' : '';
      setContent(status, h('div', { class: 'state ok' }, `Fit #${created.id} done in ${fmtNum(created.wallMs / 1000, 3)} s${created.converged ? '' : ' (not converged)'}.${looNote}`));
      this.fit = created;
      await store.loadFits();
      store.setFit(created.id);
      if (store.currentFit === created.id) void this.renderDetail();
    } catch (err) {
      const e = toApiError(err);
      if (e.detail === 'cancelled') setContent(status, h('div', { class: 'state' }, 'Fit cancelled; nothing was stored.'));
      else setContent(status, errorState(err, 'The fit failed'));
    } finally {
      this.createBtn.disabled = store.selected.size === 0;
    }
  }

  private async remove(id: number): Promise<void> {
    if (!confirm(`Delete fit #${id}?`)) return;
    try {
      await api.deleteFit(id);
      toast(`Deleted fit #${id}.`);
      if (this.fit?.id === id) this.fit = null;
      await store.loadFits();
    } catch (err) {
      toast(toApiError(err).describe(), 'error');
    }
  }

  /** While the shown fit's leave-one-out is pending: GET /fits/{id} about every second until it is done or failed. */
  private followLeaveOneOut(id: number): void {
    clearTimeout(this.looTimer);
    this.looTimer = setTimeout(async () => {
      if (this.fit?.id !== id || store.currentFit !== id) return;
      let next: Fit;
      try {
        next = await api.getFit(id);
      } catch (err) {
        // Deleted meanwhile: stop; anything else (the network): try again.
        if (!(err instanceof ApiError && err.status === 404)) this.followLeaveOneOut(id);
        return;
      }
      if (this.fit?.id !== id || store.currentFit !== id) return;
      if (next.leaveOneOutState?.status === 'pending') return this.followLeaveOneOut(id);
      this.fit = next;
      this.renderSummary(next);
      // The leave-one-out column of the train vs held-out table fills in too.
      if (this.lastErrors) this.renderErrors(next, ...this.lastErrors);
    }, 1000);
  }

  /** The fit's header, stats, notes and tables (redrawn when its leave-one-out completes; the charts stay). */
  private renderSummary(f: Fit): void {
    const m = f.metrics.mean;
    const stat = (label: string, value: string, testId?: string) => h('div', { class: 'stat', 'data-testid': testId }, h('span', {}, label), h('strong', {}, value));
    const looStatus = f.leaveOneOutState?.status;
    const looMean = f.leaveOneOut ? fmtNum(f.leaveOneOut.mean.r2, 5) : looStatus === 'pending' ? 'computing…' : looStatus === 'failed' ? 'failed' : 'n/a';
    const procedure = fitProcedure(f as Fit & { options?: unknown });
    setContent(
      this.detailHead,
      h(
        'header',
        {},
        h('h2', {}, `Fit #${f.id} · ${f.law.toUpperCase()}`),
        h('span', { class: 'badge method', 'data-testid': 'fit-method' }, procedure.method),
        h('span', { class: `badge ${procedure.ranToStop ? (procedure.badge === 'converged' ? 'ok' : 'info') : 'warn'}`, 'data-testid': 'fit-stop', title: `stop rule: ${procedure.stopRule}`, dataset: { ranToStop: String(procedure.ranToStop) } }, procedure.badge),
      ),
      h('p', { class: 'muted small stop-rule', 'data-testid': 'fit-stop-rule' }, `${procedure.ranToStop ? 'Ran to its stop rule' : 'Did not reach its stop rule'}: ${procedure.stopRule}.`),
      h(
        'div',
        { class: 'stats' },
        stat('curves', String(f.curveIds.length)),
        stat('mean R²', fmtNum(m.r2, 5), 'fit-r2'),
        stat('mean MAE', fmtNum(m.mae, 3)),
        stat('LOO mean R²', looMean, 'loo-r2'),
        stat('objective', fmtNum(f.objective, 4)),
        stat('method', procedure.method),
        stat('iterations', String(f.iterations)),
        stat('time', `${fmtNum(f.wallMs / 1000, 3)} s`),
      ),
      f.notes.length ? h('ul', { class: 'notes' }, ...f.notes.map((n) => h('li', {}, n))) : null,
    );
    setContent(
      this.tables,
      h('div', {}, h('h3', {}, 'Parameters'), paramTable(f)),
      h('div', {}, h('h3', {}, 'Per-curve metrics (in-sample)'), metricsTable(f.metrics, 'metrics-table')),
      h('div', {}, h('h3', {}, 'Leave-one-out metrics'), leaveOneOutSection(f)),
    );
    if (looStatus === 'pending') this.followLeaveOneOut(f.id);
  }

  private async renderDetail(): Promise<void> {
    const token = ++this.detailToken;
    const id = store.currentFit;
    if (id === null) return this.clearDetail();
    if (this.fit?.id !== id) {
      setContent(this.detailHead, loadingState(`Loading fit #${id}…`));
      try {
        this.fit = await api.getFit(id);
        this.fitError = null;
      } catch (err) {
        this.fit = null;
        this.fitError = err;
      }
      if (token !== this.detailToken) return;
    }
    const f = this.fit;
    if (!f) {
      setContent(this.detailHead, errorState(this.fitError, `Could not load fit #${id}`));
      return;
    }
    this.renderSummary(f);
    this.curvePick.hidden = false;
    setContent(this.curvePick, h('option', { value: 'all' }, 'all curves'), ...f.curveIds.map((cid) => h('option', { value: String(cid) }, `${this.curveLabel(f, cid)}${this.isDeleted(cid) ? ' (deleted)' : ''}`)));
    this.renderHeldOutPick(f);
    await this.renderCharts();
  }

  /** No fit chosen: an empty detail pane. */
  private clearDetail(): void {
    this.fit = null;
    setContent(this.detailHead, emptyState('No fit selected.', store.fits.length ? 'Pick one in the list.' : 'Create a fit from selected curves on the left.'));
    this.fitChart.set([]);
    this.residChart.set([]);
    setContent(this.finals);
    setContent(this.tables);
    setContent(this.curvePick);
    setContent(this.heldOutPick);
    setContent(this.errorHost);
    this.curvePick.hidden = true;
  }

  /** Whether curve `id` is no longer stored (known once the curve list is loaded). */
  private isDeleted(id: number): boolean {
    return store.curvesLoaded && !store.curves.some((c) => c.id === id);
  }

  /** A curve's name: the stored one, else the name the fit's metrics kept (a deleted curve). */
  private curveLabel(f: Fit, id: number): string {
    const stored = store.curves.find((c) => c.id === id);
    if (stored) return stored.name;
    return f.metrics.perCurve.find((m) => m.curveId === id)?.name ?? `curve ${id}`;
  }

  /** The held-out curves in effect for `f`: those chosen, still stored and not the fit's own. */
  private heldOutFor(f: Fit): number[] {
    return this.heldOut.filter((id) => !f.curveIds.includes(id) && !this.isDeleted(id));
  }

  /** A checkbox per stored curve the fit did not use; ticking one overlays it (and writes `heldOut=`). */
  private renderHeldOutPick(f: Fit): void {
    const others = store.curves.filter((c) => !f.curveIds.includes(c.id));
    if (!others.length) {
      setContent(this.heldOutPick, h('span', { class: 'muted' }, 'Every stored curve is used by this fit: upload another run to validate on.'));
      return;
    }
    const chosen = new Set(this.heldOutFor(f));
    setContent(
      this.heldOutPick,
      ...others.map((c) =>
        h(
          'label',
          { class: `heldout-choice${chosen.has(c.id) ? ' on' : ''}`, title: c.schedule ?? '' },
          h('input', { type: 'checkbox', checked: chosen.has(c.id), 'data-testid': 'heldout-check', dataset: { curve: String(c.id) }, onchange: (e: Event) => this.toggleHeldOut(c.id, (e.target as HTMLInputElement).checked) }),
          c.name,
        ),
      ),
    );
  }

  private toggleHeldOut(id: number, on: boolean): void {
    this.heldOut = on ? [...this.heldOut.filter((x) => x !== id), id] : this.heldOut.filter((x) => x !== id);
    if (viewName() === 'fits') updateViewQuery({ heldOut: this.heldOut.join(',') });
    if (this.fit) this.renderHeldOutPick(this.fit);
    void this.renderCharts();
  }

  /** The prediction of fit `f` for curve `cid` (cached) with the curve's points. */
  private async predicted(f: Fit, cid: number): Promise<{ cid: number; pred: Prediction; curve: Curve }> {
    const key = `${f.id}:${cid}`;
    if (!this.predCache.has(key)) {
      const p = api.predictWithInterval({ fit: f.id, curve: cid });
      p.catch(() => this.predCache.delete(key));
      this.predCache.set(key, p);
    }
    const [pred, curve] = await Promise.all([this.predCache.get(key)!, loadCurve(cid)]);
    return { cid, pred, curve };
  }

  /**
   * The fit over its curves (those still stored) and over the chosen held-out curves, the residuals,
   * the predicted finals, and the train vs held-out table. A deleted curve of the fit is marked, not
   * an error: the fit's params and stored metrics stay shown.
   */
  private async renderCharts(): Promise<void> {
    const f = this.fit;
    if (!f) return;
    const token = ++this.chartToken;
    const picked = this.curvePick.value && this.curvePick.value !== 'all' ? [Number(this.curvePick.value)] : f.curveIds;
    const train = picked.filter((cid) => !this.isDeleted(cid));
    const missing = f.curveIds.filter((cid) => this.isDeleted(cid));
    const heldOut = this.heldOutFor(f);
    setContent(this.chartStatus, loadingState('Predicting…'));
    const settle = <T,>(p: Promise<T>) => p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));
    const [trained, held] = await Promise.all([
      Promise.all(train.map((cid) => settle(this.predicted(f, cid)))),
      Promise.all(heldOut.map((cid) => settle(this.heldOutPrediction(f, cid)))),
    ]);
    if (token !== this.chartToken) return;
    const fitSeries: SeriesInput[] = [];
    const residSeries: SeriesInput[] = [];
    const finals: HTMLElement[] = [];
    const failures: { cid: number; error: unknown }[] = [];
    trained.forEach((r, k) => {
      const cid = train[k]!;
      if (!r.ok) {
        // Deleted meanwhile (404 naming the curve): marked like the known deleted ones.
        if (r.error instanceof ApiError && r.error.status === 404) missing.push(cid);
        else failures.push({ cid, error: r.error });
        return;
      }
      const { pred, curve } = r.value;
      const i = f.curveIds.indexOf(cid);
      const steps = curve.points.map((p) => p.step);
      const observed = curve.points.map((p) => p.loss);
      fitSeries.push({ label: `${curve.name} observed`, color: `${color(i)}66`, steps, values: observed, points: true });
      fitSeries.push({ label: `${curve.name} fit`, color: color(i), steps: pred.steps, values: pred.loss, width: 2, band: bandOf(pred) });
      residSeries.push({ label: curve.name, color: color(i), steps, values: steps.map((s, j) => observed[j]! - interp(pred.steps, pred.loss, s)) });
      finals.push(
        h(
          'li',
          { 'data-testid': 'fit-final', dataset: { curve: String(curve.id), value: String(pred.final.loss) } },
          `${curve.name}: predicted final loss ${fmtLossInterval(pred.final.loss, pred.interval?.level, pred.final.lower, pred.final.upper)} at step ${pred.final.step.toLocaleString('en-US')}`,
        ),
      );
    });
    const heldMetrics = new Map<number, Metric>();
    held.forEach((r, k) => {
      const cid = heldOut[k]!;
      if (!r.ok) return failures.push({ cid, error: r.error });
      const { pred, name } = r.value;
      const i = f.curveIds.length + k;
      const obs = pred.observed!;
      // "held out" first: a compact legend cuts long labels at the end.
      const marker = `held out · ${name}`;
      fitSeries.push({ label: `${marker} observed`, color: `${color(i)}88`, steps: obs.steps, values: obs.loss, points: true, pointSize: 5 });
      fitSeries.push({ label: `${marker} predicted`, color: color(i), steps: pred.steps, values: pred.loss, width: 2, dash: [7, 4], band: bandOf(pred) });
      residSeries.push({ label: marker, color: color(i), steps: obs.steps, values: obs.steps.map((s, j) => obs.loss[j]! - interp(pred.steps, pred.loss, s)), dash: [7, 4] });
      if (pred.metrics) heldMetrics.set(cid, pred.metrics);
      const m = pred.metrics;
      finals.push(
        h(
          'li',
          { class: 'held-out', 'data-testid': 'heldout-final', dataset: { curve: String(cid), value: String(pred.final.loss), ...(m ? { r2: String(m.r2), rmse: String(m.rmse), prede: String(m.predE), mae: String(m.mae) } : {}) } },
          h('span', { class: 'role-tag held-out' }, 'held out'),
          ` ${name}: predicted final loss ${fmtLossInterval(pred.final.loss, pred.interval?.level, pred.final.lower, pred.final.upper)} at step ${pred.final.step.toLocaleString('en-US')}`,
          m ? ` · R² ${fmtNum(m.r2, 4)}, RMSE ${fmtNum(m.rmse, 3)}, PredE ${fmtNum(m.predE, 3)} over ${m.points} points` : '',
        ),
      );
    });
    for (const cid of missing) {
      finals.push(h('li', { class: 'missing', 'data-testid': 'fit-missing', dataset: { curve: String(cid) } }, `${this.curveLabel(f, cid)} (curve #${cid}) was deleted: the fit’s params and its stored metrics are kept, its points can no longer be drawn.`));
    }
    if (fitSeries.length) {
      this.fitChart.set(fitSeries);
      this.residChart.set(residSeries);
    } else {
      const why = missing.length ? 'The curves of this fit were deleted: see the parameters and stored metrics below.' : 'The prediction for these curves failed.';
      this.fitChart.set([], why);
      this.residChart.set([]);
    }
    setContent(this.finals, ...finals);
    this.el.querySelector('[data-testid="fit-detail"]')?.setAttribute('data-missing', missing.join(','));
    this.renderErrors(f, heldOut, heldMetrics, missing);
    setContent(
      this.chartStatus,
      ...failures.map(({ cid, error }) => errorState(error, `Prediction for ${this.curveLabel(f, cid)} failed`)),
    );
  }

  /** The train vs held-out table: the fit's curves (in-sample, and leave-one-out where computed), then the held-out ones. */
  private renderErrors(f: Fit, heldOut: number[], heldMetrics: Map<number, Metric>, missing: number[]): void {
    this.lastErrors = [heldOut, heldMetrics, missing];
    const loo = f.leaveOneOut;
    const looNote = f.leaveOneOutState?.status === 'pending' ? 'leave-one-out: computing…' : f.curveIds.length < 2 ? 'needs 2+ curves to leave one out' : 'leave-one-out not computed';
    const rows: ErrorRow[] = f.curveIds.map((id) => {
      const fold = loo?.perCurve.find((m) => m.curveId === id);
      return {
        id,
        name: this.curveLabel(f, id),
        role: missing.includes(id) ? 'missing' : 'train',
        inSample: f.metrics.perCurve.find((m) => m.curveId === id),
        heldOut: fold,
        heldOutSource: fold ? 'fit without it (leave-one-out)' : looNote,
      };
    });
    for (const id of heldOut) {
      rows.push({ id, name: this.curveLabel(f, id), role: 'held-out', heldOut: heldMetrics.get(id), heldOutSource: heldMetrics.has(id) ? `this fit (#${f.id}), not fitted on it` : 'prediction failed' });
    }
    setContent(this.errorHost, errorTable(rows));
  }

  /** The fit's prediction for a held-out curve's schedule at its logged steps, with its metrics against them (GET /predict?fit=&curve=). */
  private async heldOutPrediction(f: Fit, cid: number): Promise<{ pred: Prediction; name: string }> {
    const key = `${f.id}:${cid}:held`;
    if (!this.predCache.has(key)) {
      const p = api.predictWithInterval({ fit: f.id, curve: cid });
      p.catch(() => this.predCache.delete(key));
      this.predCache.set(key, p);
    }
    return { pred: await this.predCache.get(key)!, name: this.curveLabel(f, cid) };
  }
}

export function fitsView(): { el: HTMLElement; show: () => void } {
  const view = new FitsView();
  return { el: view.el, show: () => view.show() };
}
