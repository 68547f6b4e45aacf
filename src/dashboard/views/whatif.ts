/**
 * What-if view: pick a fit, build a schedule (a family and its parameters, or piecewise
 * knots dragged on the lr chart) and watch its predicted loss update live next to the
 * cosine and WSD baselines, with the final-loss numbers.
 */
import type uPlot from 'uplot';
import { api, ApiError, everyFor, toApiError, type Prediction } from '../api.js';
import { Chart, bandOf, valueAt, type SeriesInput } from '../charts.js';
import { store } from '../state.js';
import { h, setContent, emptyState, errorState, fmtLoss, fmtInterval, fmtPct, field, markField } from '../ui.js';
import { fitPicker, numberInput } from '../widgets.js';
import {
  DEFAULT_STATE, FAMILIES, WSD_SHAPES, ScheduleError, formatSpec, parseSpec, runShape, cosineBaseline, wsdBaseline, knotsFrom, num, type ScheduleState, type Family,
} from '../schedule.js';

const YOURS = '#2563eb';
const COSINE = '#dc2626';
const WSD = '#059669';

interface Line { spec: string; steps: number[]; lrs: number[]; pred: Prediction }

/** The form rows shown for each family. */
const VISIBLE: Record<Family, string[]> = {
  constant: ['total', 'peak', 'warmup'],
  cosine: ['total', 'peak', 'warmup', 'final'],
  linear: ['total', 'peak', 'warmup', 'final'],
  wsd: ['total', 'peak', 'warmup', 'decayStart', 'final', 'shape'],
  step: ['total', 'peak', 'warmup', 'at', 'to'],
  piecewise: [],
  expr: ['total', 'peak', 'warmup', 'consts', 'f'],
};

/** The expanded schedule `spec` and its predicted loss under `fit`, with its 80% interval where the fit has one. */
async function line(spec: string, fit: number, total: number, signal?: AbortSignal): Promise<Line> {
  const every = everyFor(total, 1500);
  const [exp, pred] = await Promise.all([api.expand(spec, every, signal), api.predictWithInterval({ fit, schedule: spec, every }, signal)]);
  return { spec, steps: exp.steps, lrs: exp.lrs, pred };
}

/** Pointer position within the plot's overlay. */
function overPos(over: HTMLElement, e: MouseEvent): readonly [number, number] {
  const r = over.getBoundingClientRect();
  return [e.clientX - r.left, e.clientY - r.top] as const;
}

/** The What-if view: elements and state as fields, one method per concern (see CurvesView). */
class WhatifView {
  readonly el: HTMLElement;
  private state: ScheduleState = { ...DEFAULT_STATE };
  private lastYours: Line | null = null;
  private controller: AbortController | null = null;
  private readonly baseCache = new Map<string, Promise<Line>>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastRun = 0;
  private updateToken = 0;
  /** Index of the knot being dragged on the lr chart. */
  private dragging: number | null = null;

  // ---- form ----
  private readonly familySel: HTMLSelectElement = h('select', { 'data-testid': 'family', 'data-field': 'family', onchange: () => this.changeFamily(this.familySel.value as Family) }, ...FAMILIES.map((f) => h('option', { value: f }, f)));
  private readonly inputs = {
    total: numberInput('total', this.state.total),
    peak: numberInput('peak', this.state.peak),
    warmup: numberInput('warmup', this.state.warmup),
    final: numberInput('final', this.state.final),
    decayStart: numberInput('decayStart', this.state.decayStart),
    at: numberInput('at', this.state.at, { inputmode: 'text' }),
    to: numberInput('to', this.state.to, { inputmode: 'text' }),
    consts: numberInput('consts', this.state.consts, { inputmode: 'text', class: 'mono', placeholder: 'final=3e-5' }),
    f: numberInput('f', this.state.f, { inputmode: 'text', class: 'mono', 'data-testid': 'expr-f', 'aria-label': 'f(s)' }),
  };
  private readonly shapeSel = h('select', { name: 'shape', 'data-field': 'shape' }, ...WSD_SHAPES.map((s) => h('option', { value: s }, s)));
  private readonly rows: Record<string, HTMLElement> = {
    total: field('Total steps', this.inputs.total),
    peak: field('Peak lr', this.inputs.peak),
    warmup: field('Warmup steps', this.inputs.warmup),
    decayStart: field('Decay start (step)', this.inputs.decayStart),
    final: field('Final lr', this.inputs.final),
    shape: field('Decay shape', this.shapeSel),
    at: field('Drop at steps', this.inputs.at, 'separated by ;'),
    to: field('Drop to lrs', this.inputs.to, 'separated by ;'),
    consts: field('Constants', this.inputs.consts, 'name=value, separated by , (usable in f)'),
    f: field('f(s) from step warmup on', this.inputs.f, 's, the keys above, pi, e; + - * / ^, min, max, exp, log, cos, sqrt, a ? b : c …'),
  };
  private readonly knotHelp = h(
    'div',
    { class: 'knot-help' },
    h('p', {}, 'Drag the knots on the learning-rate chart. Double-click the chart to add a knot, double-click a knot to remove it.'),
    h('button', { class: 'secondary', type: 'button', onclick: () => this.resetKnots() }, 'Reset knots to cosine'),
  );
  private readonly specIn = h('textarea', { class: 'mono', rows: 3, 'data-testid': 'spec', 'data-field': 'schedule', spellcheck: 'false', 'aria-label': 'schedule spec' });
  private readonly form = h(
    'form',
    { class: 'schedule-form', onsubmit: (e: Event) => e.preventDefault() },
    field('Family', this.familySel),
    ...Object.values(this.rows),
    this.knotHelp,
    field('Spec', this.specIn, 'edit and press Enter to apply'),
  );

  // ---- results ----
  private readonly fitSel = fitPicker('whatif-fit');
  private readonly status = h('div', { class: 'plot-status', 'data-testid': 'whatif-status' });
  private readonly cards = h('div', { class: 'cards' });
  private readonly lossChart = new Chart({ height: 300, yLabel: 'predicted loss', sync: 'whatif', emptyText: 'Pick a fit to predict loss curves.' }, 'whatif-loss');
  private readonly lrChart = new Chart({ height: 190, yLabel: 'learning rate', sync: 'whatif', lrAxis: true, onCreate: (u) => this.attachKnotDrag(u) }, 'whatif-lr');
  private readonly warnings = h('ul', { class: 'notes' });

  constructor() {
    this.shapeSel.value = this.state.shape;
    this.bindForm();
    store.on('fit', () => this.schedule(true));
    store.on('fits', () => this.schedule(true));
    this.el = this.layout();
    this.syncForm();
  }

  show(): void {
    this.schedule(true);
  }

  private layout(): HTMLElement {
    return h(
      'section',
      { class: 'view', id: 'view-whatif' },
      h('aside', { class: 'panel' }, h('div', { class: 'card' }, h('header', {}, h('h2', {}, 'What-if')), field('Fit', this.fitSel), this.form)),
      h(
        'div',
        { class: 'content' },
        h('div', { class: 'card' }, this.cards, h('header', {}, h('h3', {}, 'Predicted loss'), this.status), this.lossChart.el, h('h3', {}, 'Learning-rate schedule'), this.lrChart.el, this.warnings),
      ),
    );
  }

  // ---- form ----
  private syncForm(): void {
    const { state } = this;
    this.familySel.value = state.family;
    for (const [k, el] of Object.entries(this.rows)) el.hidden = !VISIBLE[state.family].includes(k);
    this.knotHelp.hidden = state.family !== 'piecewise';
    for (const [k, el] of Object.entries(this.inputs)) if (document.activeElement !== el) el.value = (state as unknown as Record<string, string>)[k]!;
    this.shapeSel.value = state.shape;
    if (document.activeElement !== this.specIn) this.specIn.value = formatSpec(state);
  }

  private readForm(): void {
    for (const [k, el] of Object.entries(this.inputs)) (this.state as unknown as Record<string, string>)[k] = el.value;
    this.state.shape = this.shapeSel.value;
  }

  private bindForm(): void {
    this.form.addEventListener('input', (e) => {
      if (e.target === this.specIn || e.target === this.familySel) return;
      this.readForm();
      this.syncForm();
      this.schedule();
    });
    this.shapeSel.addEventListener('change', () => (this.readForm(), this.syncForm(), this.schedule()));
    this.specIn.addEventListener('keydown', (e) => this.onSpecKey(e));
  }

  /** Enter in the spec field: parse it into the state (or say why not). */
  private onSpecKey(e: KeyboardEvent): void {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    let next: ScheduleState;
    try {
      next = parseSpec(this.specIn.value, this.state);
    } catch (err) {
      if (!(err instanceof ScheduleError)) throw err;
      // The grammar's own message and key, as the server would answer (400, field = the key).
      const problem = new ApiError(400, err.message, err.key === 'schedule' ? 'schedule' : `schedule.${err.key}`, 'Bad Request');
      markField(this.form, problem);
      setContent(this.status, errorState(problem, 'Unreadable spec'));
      return;
    }
    this.state = next;
    this.specIn.blur();
    this.syncForm();
    this.schedule(true);
  }

  private changeFamily(family: Family): void {
    const { state } = this;
    if (family === 'piecewise' && state.family !== 'piecewise') {
      const shape = runShape(state);
      state.knots = this.lastYours ? knotsFrom(this.lastYours.steps, this.lastYours.lrs, shape) : [];
      if (!state.knots.length) state.knots = [[0, 0], [Math.max(1, shape.warmup - 1), shape.peak], [shape.total - 1, shape.peak / 10]];
    }
    if (state.family === 'piecewise' && family !== 'piecewise') {
      const shape = runShape(state);
      Object.assign(state, { total: String(shape.total), peak: num(shape.peak), warmup: String(shape.warmup) });
    }
    state.family = family;
    this.syncForm();
    this.schedule(true);
  }

  private resetKnots(): void {
    const shape = runShape(this.state);
    const steps: number[] = [];
    const lrs: number[] = [];
    for (let k = 0; k <= 200; k++) {
      const s = Math.round(shape.warmup + ((shape.total - 1 - shape.warmup) * k) / 200);
      steps.push(s);
      lrs.push(shape.peak / 10 + 0.45 * shape.peak * (1 + Math.cos((Math.PI * (s - shape.warmup)) / (shape.total - shape.warmup))));
    }
    this.state.knots = knotsFrom(steps, lrs, shape);
    this.syncForm();
    this.schedule(true);
  }

  // ---- results ----
  /** Recompute soon: debounced for typing, `now` skips the wait; while dragging, at most every 120 ms. */
  private schedule(now = false): void {
    clearTimeout(this.timer);
    if (this.dragging !== null && Date.now() - this.lastRun > 120) now = true;
    this.timer = setTimeout(() => ((this.lastRun = Date.now()), void this.update()), now ? 0 : this.dragging !== null ? 120 : 140);
  }

  private baseline(spec: string, fit: number, total: number): Promise<Line> {
    const key = `${fit}|${spec}`;
    if (!this.baseCache.has(key)) {
      const p = line(spec, fit, total);
      p.catch(() => this.baseCache.delete(key));
      this.baseCache.set(key, p);
    }
    return this.baseCache.get(key)!;
  }

  private knotSeries(): SeriesInput[] {
    if (this.state.family !== 'piecewise') return [];
    const steps = this.state.knots.map((k) => k[0]);
    const lrs = this.state.knots.map((k) => k[1]);
    return [{ label: 'knots', color: YOURS, steps, values: lrs, points: true, pointSize: 10 }];
  }

  /** Draw the lr chart from local state only (used while dragging, before the server answers). */
  private drawLrLocal(): void {
    if (this.state.family !== 'piecewise') return;
    const others = this.lrChart.current.filter((s) => s.label !== 'yours' && s.label !== 'knots');
    const steps = this.state.knots.map((k) => k[0]);
    const lrs = this.state.knots.map((k) => k[1]);
    this.lrChart.set([{ label: 'yours', color: YOURS, steps, values: lrs, width: 2.5 }, ...others, ...this.knotSeries()]);
  }

  private async update(): Promise<void> {
    const fit = store.currentFit;
    const spec = formatSpec(this.state);
    if (document.activeElement !== this.specIn) this.specIn.value = spec;
    const token = ++this.updateToken;
    this.controller?.abort();
    if (fit === null) return this.showNoFit(spec, token);
    const controller = (this.controller = new AbortController());
    const shape = runShape(this.state);
    const cos = cosineBaseline(shape);
    const wsd = wsdBaseline(shape);
    this.status.classList.add('busy');
    this.status.textContent = 'predicting…';
    try {
      const validShape = Number.isFinite(shape.total) && shape.total > 1 && shape.peak > 0;
      const [yours, cosine, wsdLine] = await Promise.all([
        line(spec, fit, shape.total, controller.signal),
        validShape ? this.baseline(cos, fit, shape.total).catch(() => null) : null,
        validShape ? this.baseline(wsd, fit, shape.total).catch(() => null) : null,
      ]);
      if (token !== this.updateToken) return;
      this.lastYours = yours;
      markField(this.form, null);
      this.status.classList.remove('busy');
      setContent(this.status, h('span', { class: 'muted' }, `fit #${fit} · ${yours.pred.steps.length} predicted points`));
      this.drawLines(yours, cosine, wsdLine, shape);
      this.renderCards(yours, cosine, wsdLine);
      const warns = [...new Set([...yours.pred.warnings, ...(cosine?.pred.warnings ?? []), ...(wsdLine?.pred.warnings ?? [])])];
      setContent(this.warnings, ...warns.map((w) => h('li', {}, w)));
    } catch (err) {
      if ((err as Error).name === 'AbortError' || token !== this.updateToken) return;
      this.showPredictError(err);
    }
  }

  /** No fit to predict with: say so, and still show the schedule being built. */
  private showNoFit(spec: string, token: number): void {
    this.lossChart.set([], store.fitsError ? 'Fits are unavailable.' : 'Create a fit first (Fits tab), then come back.');
    setContent(this.cards, store.fitsError ? errorState(store.fitsError, 'Could not list fits') : emptyState('No fit to predict with.', 'Fit a law to some curves in the Fits tab.'));
    if (this.state.family === 'piecewise') return this.drawLrLocal();
    const total = runShape(this.state).total;
    api.expand(spec, everyFor(total, 1500)).then(
      (exp) => {
        if (token !== this.updateToken) return;
        this.lrChart.set([{ label: 'yours', color: YOURS, steps: exp.steps, values: exp.lrs, width: 2.5 }]);
        setContent(this.status);
      },
      (err) => token === this.updateToken && setContent(this.status, errorState(err, 'This schedule is not valid')),
    );
  }

  /** The loss and lr charts: yours and the baselines (the lr chart is left alone while a knot is dragged). */
  private drawLines(yours: Line, cosine: Line | null, wsdLine: Line | null, shape: ReturnType<typeof runShape>): void {
    const loss: SeriesInput[] = [{ label: 'yours', color: YOURS, steps: yours.pred.steps, values: yours.pred.loss, width: 2.5, band: bandOf(yours.pred) }];
    const lr: SeriesInput[] = [{ label: 'yours', color: YOURS, steps: yours.steps, values: yours.lrs, width: 2.5 }];
    if (cosine) {
      loss.push({ label: 'cosine', color: COSINE, steps: cosine.pred.steps, values: cosine.pred.loss, dash: [6, 4] });
      lr.push({ label: 'cosine', color: COSINE, steps: cosine.steps, values: cosine.lrs, dash: [6, 4] });
    }
    if (wsdLine) {
      loss.push({ label: 'WSD', color: WSD, steps: wsdLine.pred.steps, values: wsdLine.pred.loss, dash: [2, 3] });
      lr.push({ label: 'WSD', color: WSD, steps: wsdLine.steps, values: wsdLine.lrs, dash: [2, 3] });
    }
    if (this.state.family === 'piecewise') {
      lr[0] = { label: 'yours', color: YOURS, steps: this.state.knots.map((k) => k[0]), values: this.state.knots.map((k) => k[1]), width: 2.5 };
      if (!this.dragging) lr.push(...this.knotSeries());
    }
    this.lossChart.yCap = valueAt(yours.pred.steps, yours.pred.loss, Math.max(shape.warmup, shape.total * 0.15));
    this.lossChart.set(loss);
    if (!this.dragging) this.lrChart.set(lr);
  }

  private showPredictError(err: unknown): void {
    this.status.classList.remove('busy');
    markField(this.form, err);
    const e = toApiError(err);
    // The spec field names the schedule key at fault (schedule.peak -> the peak input).
    if (e.field?.startsWith('schedule.')) {
      const key = e.field.slice(9);
      // An expr constant's key has no input of its own: it is in the constants field.
      const target = this.state.family === 'expr' && !['total', 'peak', 'warmup', 'f'].includes(key) ? 'consts' : key;
      this.form.querySelector(`[data-field="${target}"]`)?.classList.add('invalid');
    }
    setContent(this.status, errorState(err, 'This schedule cannot be predicted'));
    setContent(this.cards, h('div', { class: 'card-num stale' }, h('span', {}, 'your final loss'), h('strong', {}, '—'), h('small', {}, 'fix the schedule')));
  }

  private renderCards(yours: Line, cosine: Line | null, wsd: Line | null): void {
    const y = yours.pred.final.loss;
    const best = Math.min(...[cosine, wsd].filter((x): x is Line => !!x).map((x) => x.pred.final.loss));
    // The final loss, its interval under it ("80%: 3.1772–3.3676") where the answer has one.
    const range = (l: Line, testId?: string) => {
      const text = fmtInterval(l.pred.interval?.level, l.pred.final.lower, l.pred.final.upper);
      return text ? h('small', { class: 'interval', 'data-testid': testId, dataset: { lower: String(l.pred.final.lower), upper: String(l.pred.final.upper) } }, `(${text})`) : null;
    };
    const card = (label: string, l: Line, cls: string, extra: Record<string, unknown> = {}, sub = '', rangeId?: string) =>
      h('div', { class: `card-num ${cls}`, ...extra }, h('span', {}, label), h('strong', {}, fmtLoss(l.pred.final.loss)), range(l, rangeId), sub ? h('small', {}, sub) : null);
    const delta = Number.isFinite(best) ? (y - best) / best : NaN;
    setContent(
      this.cards,
      card('your final loss', yours, 'yours', { 'data-testid': 'whatif-final', 'data-value': String(y), 'data-spec': yours.spec, 'data-step': String(yours.pred.final.step) }, `at step ${yours.pred.final.step.toLocaleString('en-US')}`, 'whatif-final-interval'),
      cosine ? card('cosine → peak/10', cosine, 'cosine', { 'data-testid': 'whatif-cosine', title: cosine.spec }) : null,
      wsd ? card('WSD, 20% linear cooldown', wsd, 'wsd', { 'data-testid': 'whatif-wsd', title: wsd.spec }) : null,
      Number.isFinite(delta) ? h('div', { class: `card-num ${delta < 0 ? 'better' : 'worse'}` }, h('span', {}, 'vs best baseline'), h('strong', {}, `${delta > 0 ? '+' : ''}${fmtPct(delta)}`), h('small', {}, delta < 0 ? 'lower is better: yours wins' : 'baseline is lower')) : null,
    );
  }

  // ---- knot dragging on the lr chart ----
  /** The knot within 12 px of (x, y) on the plot, if any. */
  private knotAt(u: uPlot, x: number, y: number): number | null {
    if (this.state.family !== 'piecewise') return null;
    let best: number | null = null;
    let bestD = 12;
    this.state.knots.forEach(([s, lr], i) => {
      const d = Math.hypot(u.valToPos(s, 'x') - x, u.valToPos(lr, 'y') - y);
      if (d < bestD) (bestD = d), (best = i);
    });
    return best;
  }

  private attachKnotDrag(u: uPlot): void {
    const over = u.over;
    over.addEventListener('mousemove', (e) => (over.style.cursor = this.dragging !== null || this.knotAt(u, ...overPos(over, e)) !== null ? 'grab' : ''));
    over.addEventListener('mousedown', (e) => this.startDrag(u, e), true);
    over.addEventListener('dblclick', (e) => this.toggleKnot(u, e), true);
  }

  /** Mousedown on a knot: drag it (its step kept between its neighbours') until mouseup. */
  private startDrag(u: uPlot, e: MouseEvent): void {
    const i = this.knotAt(u, ...overPos(u.over, e));
    if (i === null) return;
    e.stopImmediatePropagation();
    e.preventDefault();
    this.dragging = i;
    const move = (ev: MouseEvent) => {
      const [x, y] = overPos(u.over, ev);
      const k = this.state.knots;
      const prev = i > 0 ? k[i - 1]![0] + 1 : 0;
      const next = i < k.length - 1 ? k[i + 1]![0] - 1 : Number.MAX_SAFE_INTEGER;
      const step = i === 0 ? 0 : Math.min(next, Math.max(prev, Math.round(u.posToVal(x, 'x'))));
      const lr = Math.max(0, Number(u.posToVal(y, 'y').toPrecision(3)));
      k[i] = [step, lr];
      this.drawLrLocal();
      this.syncForm();
      this.schedule();
    };
    const up = () => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
      this.dragging = null;
      this.drawLrLocal();
      this.schedule(true);
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  }

  /** Double-click: remove the knot under the pointer (not the ends), or add one there. */
  private toggleKnot(u: uPlot, e: MouseEvent): void {
    if (this.state.family !== 'piecewise') return;
    e.stopImmediatePropagation();
    const knots = this.state.knots;
    const [x, y] = overPos(u.over, e);
    const i = this.knotAt(u, x, y);
    if (i !== null) {
      if (i > 0 && i < knots.length - 1) knots.splice(i, 1);
    } else {
      const step = Math.round(u.posToVal(x, 'x'));
      const lr = Math.max(0, Number(u.posToVal(y, 'y').toPrecision(3)));
      const at = knots.findIndex((k) => k[0] > step);
      if (at > 0 && !knots.some((k) => k[0] === step)) knots.splice(at, 0, [step, lr]);
    }
    this.drawLrLocal();
    this.syncForm();
    this.schedule(true);
  }
}

export function whatifView(): { el: HTMLElement; show: () => void } {
  const view = new WhatifView();
  return { el: view.el, show: () => view.show() };
}
