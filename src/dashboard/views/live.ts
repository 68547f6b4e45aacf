/**
 * Live view: follow a run as it trains. Pick a curve (a live run: one with a planned schedule) and a
 * fit; see the loss observed so far, the forecast of the rest of the run under its plan with its 80%
 * band, the lr logged so far and the plan, the predicted final loss with its interval, and how that
 * prediction moved as points came (the forecast's `history`). Follows GET /curves/{id}/events (points
 * and forecasts as they happen); with a token stored (an EventSource cannot send Authorization) or
 * when the stream cannot be had, polls the forecast every few seconds instead.
 */
import { api, canStream, everyFor, INTERVAL_LEVEL, type Curve, type Forecast, type PointsEvent } from '../api.js';
import { Chart, valueAt, type SeriesInput } from '../charts.js';
import { store } from '../state.js';
import { updateViewQuery, viewQuery } from '../url-state.js';
import { h, setContent, emptyState, errorState, fmtLoss, fmtInterval, fmtInt, field } from '../ui.js';
import { fitPicker } from '../widgets.js';

const OBSERVED = '#475569';
const FORECAST = '#2563eb';
const PLAN = '#d97706';
/** Poll period when the event stream is not used. */
const POLL_MS = 3000;

/** `#/live?curve=ID&fit=ID` -> the ids (NaN where absent). */
function hashParams(): { curve: number; fit: number } {
  const p = viewQuery();
  return { curve: Number(p.get('curve') ?? NaN), fit: Number(p.get('fit') ?? NaN) };
}

class LiveView {
  readonly el: HTMLElement;
  private curveId: number | null = null;
  private curve: Curve | null = null;
  private forecast: Forecast | null = null;
  private source: EventSource | null = null;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private visible = false;
  /** Bumped on each (re)connection: answers of older ones are dropped. */
  private generation = 0;
  private planSpec = '';
  private plan: { steps: number[]; lrs: number[] } | null = null;
  private curveTimer: ReturnType<typeof setTimeout> | undefined;

  private readonly curveSel = h('select', { 'data-testid': 'live-curve', 'data-field': 'curve', onchange: () => this.pick(Number(this.curveSel.value) || null) });
  private readonly fitSel = fitPicker('live-fit');
  private readonly conn = h('div', { class: 'live-conn muted', 'data-testid': 'live-conn' });
  private readonly status = h('div', { class: 'plot-status', 'data-testid': 'live-status' });
  private readonly cards = h('div', { class: 'cards', 'data-testid': 'live-cards' });
  private readonly lossChart = new Chart({ height: 300, yLabel: 'loss', sync: 'live', emptyText: 'Pick a live run and a fit.' }, 'live-loss');
  private readonly lrChart = new Chart({ height: 170, yLabel: 'learning rate', sync: 'live', lrAxis: true, emptyText: 'No schedule yet.' }, 'live-lr');
  private readonly historyChart = new Chart({ height: 170, yLabel: 'predicted final loss', xLabel: 'last logged step', emptyText: 'No forecast yet.' }, 'live-history');
  private readonly historyList = h('ol', { class: 'live-history-list', 'data-testid': 'live-history' });
  private readonly warnings = h('ul', { class: 'notes' });
  private readonly info = h('div', { class: 'live-info muted', 'data-testid': 'live-info' });

  constructor() {
    store.on('curves', () => this.renderCurveOptions());
    store.on('fit', () => this.visible && this.connect());
    store.on('fits', () => this.visible && !this.source && !this.pollTimer && this.connect());
    this.el = this.layout();
    this.renderCurveOptions();
  }

  private layout(): HTMLElement {
    return h(
      'section',
      { class: 'view', id: 'view-live', 'data-testid': 'live-view' },
      h(
        'aside',
        { class: 'panel' },
        h(
          'div',
          { class: 'card' },
          h('header', {}, h('h2', {}, 'Live run')),
          field('Run', this.curveSel, 'curves with a planned schedule first'),
          field('Fit', this.fitSel),
          h('button', { class: 'secondary', type: 'button', onclick: () => void store.loadCurves() }, 'Refresh run list'),
          this.conn,
          this.info,
        ),
      ),
      h(
        'div',
        { class: 'content' },
        h(
          'div',
          { class: 'card' },
          this.cards,
          h('header', {}, h('h3', {}, 'Loss: observed and forecast'), this.status),
          this.lossChart.el,
          h('h3', {}, 'Learning rate: logged and planned'),
          this.lrChart.el,
          h('h3', {}, 'Predicted final loss, forecast by forecast'),
          this.historyChart.el,
          this.historyList,
          this.warnings,
        ),
      ),
    );
  }

  show(): void {
    this.visible = true;
    const { curve, fit } = hashParams();
    if (Number.isInteger(fit) && fit > 0 && store.fits.some((f) => f.id === fit)) store.setFit(fit);
    if (Number.isInteger(curve) && curve > 0) this.curveId = curve;
    // Runs uploaded since the page loaded: list them.
    void store.loadCurves().catch(() => undefined);
    this.renderCurveOptions();
    this.connect();
  }

  hide(): void {
    this.visible = false;
    this.disconnect();
  }

  /** Live runs (a plan) first, newest first; then the other curves. */
  private renderCurveOptions(): void {
    const live = store.curves.filter((c) => c.plannedSchedule).sort((a, b) => b.id - a.id);
    const other = store.curves.filter((c) => !c.plannedSchedule);
    if (!store.curves.length) {
      setContent(this.curveSel, h('option', { value: '' }, store.curvesLoaded ? 'no curves yet' : 'loading curves…'));
      this.curveSel.disabled = true;
      return;
    }
    this.curveSel.disabled = false;
    const opt = (c: (typeof store.curves)[number]) => h('option', { value: String(c.id) }, `#${c.id} ${c.name}`);
    setContent(
      this.curveSel,
      h('option', { value: '' }, 'pick a run…'),
      live.length ? h('optgroup', { label: 'live runs (planned schedule)' }, ...live.map(opt)) : null,
      other.length ? h('optgroup', { label: 'other curves' }, ...other.map(opt)) : null,
    );
    if (this.curveId === null && live.length) this.curveId = live[0]!.id;
    const had = this.curveId !== null && store.curves.some((c) => c.id === this.curveId);
    this.curveSel.value = had ? String(this.curveId) : '';
    if (this.visible && had && !this.source && !this.pollTimer) this.connect();
  }

  private pick(id: number | null): void {
    this.curveId = id;
    this.connect();
  }

  /** The run and fit into the URL (`#/live?curve=ID&fit=ID`), keeping the shared keys (e.g. `curves`). */
  private syncHash(): void {
    if (!this.visible) return;
    updateViewQuery({ curve: this.curveId, fit: store.currentFit });
  }

  private disconnect(): void {
    this.generation++;
    this.source?.close();
    this.source = null;
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
    clearTimeout(this.curveTimer);
  }

  /** (Re)start following the picked run with the current fit. */
  private connect(): void {
    this.disconnect();
    if (!this.visible) return;
    this.syncHash();
    const id = this.curveId;
    const fit = store.currentFit;
    this.forecast = null;
    this.el.dataset.curve = id === null ? '' : String(id);
    this.el.dataset.fit = fit === null ? '' : String(fit);
    if (id === null) {
      this.curve = null;
      this.lossChart.set([], 'Pick a live run.');
      this.lrChart.set([]);
      this.historyChart.set([]);
      setContent(this.cards, emptyState('No run picked.', 'Live runs are curves uploaded with a plannedSchedule (README: Live runs).'));
      setContent(this.historyList);
      setContent(this.conn);
      return;
    }
    const gen = this.generation;
    void this.loadCurve(id, gen);
    if (fit === null) {
      setContent(this.cards, store.fitsError ? errorState(store.fitsError, 'Could not list fits') : emptyState('No fit to forecast with.', 'Fit a law to some curves in the Fits tab.'));
      this.setConn('no fit: observed points only');
      return;
    }
    this.status.classList.add('busy');
    this.status.textContent = 'forecasting…';
    if (canStream()) this.stream(id, fit, gen);
    else this.startPolling(id, fit, gen, 'polling every 3 s (a token is stored: event streams cannot send it)');
  }

  private setConn(text: string, mode = ''): void {
    this.conn.textContent = text;
    this.el.dataset.mode = mode;
  }

  private stream(id: number, fit: number, gen: number): void {
    const source = (this.source = new EventSource(`/curves/${id}/events?fit=${fit}&interval=${INTERVAL_LEVEL}`));
    this.setConn('connecting…', 'stream');
    const data = (e: Event): unknown => {
      try {
        return JSON.parse((e as MessageEvent).data);
      } catch {
        return null;
      }
    };
    source.onopen = () => gen === this.generation && this.setConn('following the run (event stream)', 'stream');
    source.addEventListener('points', (e) => {
      if (gen !== this.generation) return;
      const p = data(e) as PointsEvent | null;
      if (p) this.el.dataset.pointCount = String(p.pointCount);
      this.scheduleCurve(id, gen);
    });
    source.addEventListener('forecast', (e) => {
      if (gen !== this.generation) return;
      const f = data(e) as Forecast | null;
      if (f) this.showForecast(f);
    });
    source.addEventListener('forecast-failed', (e) => gen === this.generation && this.showError(data(e)));
    source.onerror = () => {
      if (gen !== this.generation) return;
      // Closed for good (e.g. 429, 404): poll instead; otherwise the browser reconnects by itself.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        this.source = null;
        this.startPolling(id, fit, gen, 'polling every 3 s (the event stream is unavailable)');
      } else this.setConn('stream dropped: reconnecting…', 'stream');
    };
  }

  private startPolling(id: number, fit: number, gen: number, why: string): void {
    this.setConn(why, 'poll');
    const tick = async () => {
      try {
        const f = await api.forecast(id, { fit, interval: INTERVAL_LEVEL });
        if (gen !== this.generation) return;
        const moved = !this.curve || f.lastStep !== this.curve.lastStep || f.pointCount !== this.curve.pointCount;
        this.showForecast(f);
        if (moved) this.scheduleCurve(id, gen, 0);
      } catch (err) {
        if (gen === this.generation) this.showError(err);
      }
    };
    void tick();
    this.pollTimer = setInterval(() => void tick(), POLL_MS);
  }

  /** Fetch the run's points soon (points events come in bursts). */
  private scheduleCurve(id: number, gen: number, ms = 150): void {
    clearTimeout(this.curveTimer);
    this.curveTimer = setTimeout(() => void this.loadCurve(id, gen), ms);
  }

  private async loadCurve(id: number, gen: number): Promise<void> {
    try {
      const curve = await api.getCurve(id);
      if (gen !== this.generation) return;
      this.curve = curve;
      this.el.dataset.observed = String(curve.points.length);
      if (!this.forecast) this.el.dataset.pointCount = String(curve.pointCount);
      await this.loadPlan(curve.plannedSchedule ?? curve.schedule ?? '');
      if (gen !== this.generation) return;
      if (this.forecast) this.renderCards(this.forecast);
      this.draw();
    } catch (err) {
      if (gen === this.generation) setContent(this.status, errorState(err, 'Could not read the run'));
    }
  }

  /** The planned schedule, expanded (kept while the spec is the same; whichever caller asks first fetches it). */
  private planLoad: Promise<void> = Promise.resolve();
  private loadPlan(spec: string): Promise<void> {
    if (spec === this.planSpec) return this.planLoad;
    this.planSpec = spec;
    this.plan = null;
    if (!spec) return (this.planLoad = Promise.resolve());
    const total = Number(/total=(\d+)/.exec(spec)?.[1] ?? 0) || (this.curve?.lastStep ?? 0) * 2;
    this.planLoad = api.expand(spec, everyFor(total, 1500)).then(
      (exp) => {
        if (spec === this.planSpec) this.plan = { steps: exp.steps, lrs: exp.lrs };
      },
      () => {
        if (spec === this.planSpec) this.plan = null;
      },
    );
    return this.planLoad;
  }

  private showForecast(f: Forecast): void {
    this.forecast = f;
    this.status.classList.remove('busy');
    setContent(this.status, h('span', { class: 'muted' }, `fit #${f.fit ?? '?'} · updated ${new Date().toLocaleTimeString()}`));
    this.el.dataset.pointCount = String(f.pointCount);
    this.el.dataset.lastStep = String(f.lastStep);
    this.el.dataset.history = String(f.history.length);
    if (f.plan !== this.planSpec || !this.plan) {
      const gen = this.generation;
      void this.loadPlan(f.plan).then(() => gen === this.generation && this.draw());
    }
    this.renderCards(f);
    this.renderHistory(f);
    setContent(this.warnings, ...f.warnings.map((w) => h('li', {}, w)));
    this.draw();
  }

  private showError(err: unknown): void {
    this.status.classList.remove('busy');
    setContent(this.status, errorState(err, 'No forecast'));
    if (!this.forecast) setContent(this.cards, h('div', { class: 'card-num stale', 'data-testid': 'live-final' }, h('span', {}, 'predicted final loss'), h('strong', {}, '—'), h('small', {}, 'see the error')));
  }

  private draw(): void {
    const c = this.curve;
    const f = this.forecast;
    const loss: SeriesInput[] = [];
    const lr: SeriesInput[] = [];
    if (c) {
      loss.push({ label: 'observed', color: OBSERVED, steps: c.points.map((p) => p.step), values: c.points.map((p) => p.loss), width: 1.8 });
      const logged = c.points.filter((p) => p.lr !== undefined && p.lr !== null);
      if (logged.length) lr.push({ label: 'logged', color: OBSERVED, steps: logged.map((p) => p.step), values: logged.map((p) => p.lr as number), width: 2 });
    }
    if (f) {
      const band = f.lower && f.upper ? { lower: f.lower, upper: f.upper, label: `${+((f.level ?? INTERVAL_LEVEL) * 100).toFixed(1)}%` } : undefined;
      loss.push({ label: 'forecast', color: FORECAST, steps: f.steps, values: f.loss, width: 2.2, dash: [6, 4], band });
    }
    if (this.plan) lr.push({ label: 'plan', color: PLAN, steps: this.plan.steps, values: this.plan.lrs, dash: [6, 4] });
    if (c && c.points.length) {
      const total = f?.totalSteps ?? c.lastStep;
      const steps = c.points.map((p) => p.step);
      this.lossChart.yCap = valueAt(steps, c.points.map((p) => p.loss), Math.max(steps[0]!, total * 0.1));
    }
    this.lossChart.set(loss, 'Pick a live run and a fit.');
    this.lrChart.set(lr, 'No schedule logged or planned.');
    this.renderInfo();
  }

  private renderInfo(): void {
    const c = this.curve;
    if (!c) return setContent(this.info);
    setContent(
      this.info,
      h('div', {}, `${fmtInt(c.pointCount)} points, steps ${fmtInt(c.firstStep)}–${fmtInt(c.lastStep)}`),
      h('div', { class: 'mono' }, c.plannedSchedule ? `plan: ${c.plannedSchedule}` : c.schedule ? `schedule: ${c.schedule}` : 'no plan: forecasts need one (PUT /curves/{id}/plan)'),
    );
  }

  private renderCards(f: Forecast): void {
    const range = fmtInterval(f.level, f.final.lower, f.final.upper);
    const first = f.history[0];
    const moved = first && first.finalLoss !== null && f.final.loss !== null && f.history.length > 1 ? f.final.loss - first.finalLoss : NaN;
    const done = f.totalSteps > 0 ? f.lastStep / f.totalSteps : NaN;
    setContent(
      this.cards,
      h(
        'div',
        { class: 'card-num yours', 'data-testid': 'live-final', 'data-value': String(f.final.loss), 'data-step': String(f.final.step) },
        h('span', {}, 'predicted final loss'),
        h('strong', {}, fmtLoss(f.final.loss)),
        range ? h('small', { class: 'interval', 'data-testid': 'live-final-interval', dataset: { lower: String(f.final.lower), upper: String(f.final.upper) } }, `(${range})`) : null,
        h('small', {}, `at step ${fmtInt(f.final.step)}`),
      ),
      h(
        'div',
        { class: 'card-num small', 'data-testid': 'live-progress', 'data-point-count': String(f.pointCount), 'data-last-step': String(f.lastStep) },
        h('span', {}, 'logged so far'),
        h('strong', {}, `step ${fmtInt(f.lastStep)}`),
        h('small', {}, `${fmtInt(f.pointCount)} points${Number.isFinite(done) ? ` · ${(done * 100).toFixed(1)}% of ${fmtInt(f.totalSteps)} steps` : ''}`),
        this.gapNote(f),
      ),
      Number.isFinite(moved)
        ? h(
            'div',
            { class: `card-num small ${moved <= 0 ? 'better' : 'worse'}`, 'data-testid': 'live-moved' },
            h('span', {}, `moved over ${f.history.length} forecasts`),
            h('strong', {}, `${moved > 0 ? '+' : ''}${moved.toFixed(4)}`),
            h('small', {}, `first ${fmtLoss(first!.finalLoss)} at step ${fmtInt(first!.lastStep)}`),
          )
        : null,
    );
  }

  /**
   * Forecast minus observed loss at the last logged step (when the curve read so far has that step): how
   * well the fit's prediction meets the run where it is. A large gap says the fit does not suit this run
   * (or the lrs before the first logged step are not what was run: give warmupSteps at upload).
   */
  private gapNote(f: Forecast): HTMLElement | null {
    const last = this.curve?.points.find((p) => p.step === f.lastStep);
    const start = f.steps[0] === f.lastStep ? f.loss[0] : null;
    if (!last || start === null || start === undefined) return null;
    const gap = start - last.loss;
    return h('small', { 'data-testid': 'live-gap', 'data-value': String(gap), title: 'forecast minus observed loss at the last logged step' }, `forecast − observed there: ${gap > 0 ? '+' : ''}${gap.toFixed(4)}`);
  }

  private renderHistory(f: Forecast): void {
    const hist = f.history;
    const finite = (v: number | null | undefined) => (v === null || v === undefined ? null : v);
    const hasBand = hist.some((x) => x.lower !== null && x.lower !== undefined && x.upper !== null && x.upper !== undefined);
    this.historyChart.set(
      hist.length
        ? [
            {
              label: 'predicted final',
              color: FORECAST,
              steps: hist.map((x) => x.lastStep),
              values: hist.map((x) => x.finalLoss),
              points: hist.length < 2,
              pointSize: 6,
              width: 2,
              band: hasBand ? { lower: hist.map((x) => finite(x.lower)), upper: hist.map((x) => finite(x.upper)), label: `${+((f.level ?? INTERVAL_LEVEL) * 100).toFixed(1)}%` } : undefined,
            },
          ]
        : [],
      'No forecast history yet.',
    );
    setContent(
      this.historyList,
      ...hist
        .slice()
        .reverse()
        .map((x) =>
          h(
            'li',
            { dataset: { lastStep: String(x.lastStep) } },
            `after step ${fmtInt(x.lastStep)} (${fmtInt(x.pointCount)} points): ${fmtLoss(x.finalLoss)}`,
            x.lower !== undefined && x.upper !== undefined && fmtInterval(f.level, x.lower, x.upper) ? ` (${fmtInterval(f.level, x.lower, x.upper)})` : '',
            h('small', { class: 'muted' }, ` · ${new Date(x.createdAt).toLocaleTimeString()}`),
          ),
        ),
    );
  }
}

export function liveView(): { el: HTMLElement; show: () => void; hide: () => void } {
  const view = new LiveView();
  return { el: view.el, show: () => view.show(), hide: () => view.hide() };
}
