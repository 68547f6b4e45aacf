/**
 * What-if view: pick a fit, build up to six schedules (a family and its parameters, or piecewise
 * knots dragged on the lr chart) and compare their predicted loss curves live, over the observed
 * curves, beside the Optimize view's baselines (GET /baselines: cosine, linear, the best WSD,
 * constant, each named by its spec). Differences are shown as the Optimize view shows them: the
 * absolute loss gain (baseline - other) and the relative one ((baseline - other) / baseline),
 * positive where the other is better. The API's warnings (beyond the fit's longest curve or highest
 * lr) are listed per schedule. The fit and the compared specs are the URL's `fit=` and repeated
 * `s=<spec>`: a reload or a pasted link restores them.
 */
import './whatif.css';
import type uPlot from 'uplot';
import { api, ApiError, everyFor, getBaselines, toApiError, type BaselineSet, type Curve, type Prediction } from '../api.js';
import { Chart, bandOf, valueAt, type SeriesInput } from '../charts.js';
import { store } from '../state.js';
import { h, setContent, emptyState, errorState, fmtLoss, fmtInterval, field, markField } from '../ui.js';
import { fitPicker, numberInput } from '../widgets.js';
import { viewName, viewQuery } from '../url-state.js';
import { deltaText, gain, gainClass, relativeText } from '../improvement.js';
import { loadCurve } from './curves.js';
import {
  DEFAULT_STATE, FAMILIES, WSD_SHAPES, ScheduleError, formatSpec, parseSpec, runShape, clampKnotLr, piecewiseRun, knotsFrom, num, type ScheduleState, type Family, type RunShape,
} from '../schedule.js';

/** At most this many schedules are compared at once. */
export const MAX_SCHEDULES = 6;
/** One colour per compared schedule, in order (the baselines are dashed in their own). */
const SCHEDULE_COLORS = ['#2563eb', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d'];
const BASELINE_COLORS: Record<BaselineName, string> = { cosine: '#dc2626', linear: '#64748b', wsd: '#059669', constant: '#a16207' };
const BASELINE_NAMES = ['cosine', 'linear', 'wsd', 'constant'] as const;
type BaselineName = (typeof BASELINE_NAMES)[number];

interface Line { spec: string; steps: number[]; lrs: number[]; pred: Prediction }
/** A compared schedule: its form state; `key` stays with it while others are added or removed. */
interface Entry { key: number; state: ScheduleState }
/** Where the observed curves drawn under the predictions come from. */
type ObservedSource = 'fit' | 'selected' | 'none';

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
async function line(spec: string, fit: number, total: number): Promise<Line> {
  const every = everyFor(total, 1500);
  const [exp, pred] = await Promise.all([api.expand(spec, every), api.predictWithInterval({ fit, schedule: spec, every })]);
  return { spec, steps: exp.steps, lrs: exp.lrs, pred };
}

/** Pointer position within the plot's overlay. */
function overPos(over: HTMLElement, e: MouseEvent): readonly [number, number] {
  const r = over.getBoundingClientRect();
  return [e.clientX - r.left, e.clientY - r.top] as const;
}

/** A run shape the baselines can be asked for (the optimize request's limits; the server judges the rest). */
function baselineShape(r: RunShape): RunShape | null {
  if (!(Number.isInteger(r.total) && r.total >= 2 && r.peak > 0 && r.peak <= 1 && Number.isInteger(r.warmup) && r.warmup >= 0)) return null;
  return { ...r, warmup: Math.min(r.warmup, r.total - 2) };
}


/** Write the compared specs (`s=`, repeated) and the fit into the hash query, keeping its other keys. */
function writeUrl(specs: string[], fit: number | null): void {
  if (viewName() !== 'whatif') return;
  const query = viewQuery();
  query.delete('s');
  for (const spec of specs) query.append('s', spec);
  if (fit !== null) query.set('fit', String(fit));
  const text = query.toString();
  const hash = `#/whatif${text ? `?${text}` : ''}`;
  if (location.hash !== hash) history.replaceState(null, '', hash);
}

/** The What-if view: elements and state as fields, one method per concern (see CurvesView). */
class WhatifView {
  readonly el: HTMLElement;
  private entries: Entry[] = [{ key: 1, state: { ...DEFAULT_STATE, knots: [] } }];
  private active = 0;
  private nextKey = 2;
  private observedSource: ObservedSource = 'fit';
  /** The fit named by the URL, until the fit list is there to choose it. */
  private pendingFit: number | null = null;
  /** Each schedule's last drawn line, by entry key (knots for a switch to piecewise follow it). */
  private readonly lastLines = new Map<number, Line>();
  private readonly lineCache = new Map<string, Promise<Line>>();
  private readonly baselineCache = new Map<string, Promise<BaselineSet>>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastRun = 0;
  private updateToken = 0;
  /** Index of the knot being dragged on the lr chart. */
  private dragging: number | null = null;

  /** The edited schedule's last drawn line. */
  private get lastYours(): Line | null {
    return this.lastLines.get(this.entries[this.active]!.key) ?? null;
  }

  /** The schedule being edited in the form. */
  private get state(): ScheduleState {
    return this.entries[this.active]!.state;
  }
  private set state(next: ScheduleState) {
    this.entries[this.active]!.state = next;
  }

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
  private readonly knotRun = h('p', { class: 'knot-run', 'data-testid': 'knot-run' });
  private readonly knotNote = h('p', { class: 'knot-note', 'data-testid': 'knot-note', role: 'status' });
  private readonly knotHelp = h(
    'div',
    { class: 'knot-help' },
    h('p', {}, 'Drag the knots on the learning-rate chart. Double-click the chart to add a knot, double-click a knot to remove it.'),
    this.knotRun,
    this.knotNote,
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

  // ---- compared schedules ----
  private readonly listHost = h('div', { class: 'compare-list', 'data-testid': 'compare-list' });
  private readonly addBtn = h('button', { class: 'secondary', type: 'button', 'data-testid': 'add-schedule', onclick: () => this.addSchedule() }, '+ Add schedule');
  private readonly observedSel = h(
    'select',
    { 'data-testid': 'observed-source', onchange: () => ((this.observedSource = this.observedSel.value as ObservedSource), this.schedule(true)) },
    h('option', { value: 'fit' }, 'the fit’s curves'),
    h('option', { value: 'selected' }, 'the selected curves'),
    h('option', { value: 'none' }, 'none'),
  );

  // ---- results ----
  private readonly fitSel = fitPicker('whatif-fit');
  private readonly status = h('div', { class: 'plot-status', 'data-testid': 'whatif-status' });
  private readonly cards = h('div', { class: 'cards', 'data-testid': 'whatif-cards' });
  private readonly baselineHost = h('div', { class: 'whatif-baselines', 'data-testid': 'whatif-baselines' });
  private readonly lossChart = new Chart({ height: 300, yLabel: 'predicted loss', sync: 'whatif', emptyText: 'Pick a fit to predict loss curves.' }, 'whatif-loss');
  private readonly lrChart = new Chart({ height: 190, yLabel: 'learning rate', sync: 'whatif', lrAxis: true, onCreate: (u) => this.attachKnotDrag(u) }, 'whatif-lr');
  private readonly warnings = h('ul', { class: 'notes', 'data-testid': 'whatif-warnings' });

  constructor() {
    this.shapeSel.value = this.state.shape;
    this.bindForm();
    store.on('fit', () => this.schedule(true));
    store.on('fits', () => {
      if (this.pendingFit !== null && store.fits.some((f) => f.id === this.pendingFit)) store.setFit(this.pendingFit);
      if (store.fitsLoaded) this.pendingFit = null;
      this.schedule(true);
    });
    store.on('selection', () => this.observedSource === 'selected' && this.schedule(true));
    this.el = this.layout();
    this.syncForm();
    this.renderList(new Map());
  }

  show(): void {
    if (viewName() === 'whatif') this.restoreFromUrl();
    this.schedule(true);
  }

  /** The URL's `s=` specs (when they differ from those shown) and `fit=`; a spec that does not parse is named and left out. */
  private restoreFromUrl(): void {
    const query = viewQuery();
    const fit = Number(query.get('fit'));
    if (Number.isInteger(fit) && fit > 0 && fit !== store.currentFit) {
      if (store.fits.some((f) => f.id === fit)) store.setFit(fit);
      else if (!store.fitsLoaded) this.pendingFit = fit;
    }
    const specs = query.getAll('s').slice(0, MAX_SCHEDULES);
    if (!specs.length || specs.join('\n') === this.entries.map((e) => formatSpec(e.state)).join('\n')) return;
    const entries: Entry[] = [];
    const bad: string[] = [];
    for (const text of specs) {
      try {
        const state = parseSpec(text, { ...DEFAULT_STATE, knots: [] });
        if (state.family === 'piecewise' && state.knots.length) Object.assign(state, piecewiseRun(state));
        entries.push({ key: this.nextKey++, state });
      } catch (err) {
        if (!(err instanceof ScheduleError)) throw err;
        bad.push(`${text.slice(0, 80)}: ${err.message}`);
      }
    }
    if (entries.length) {
      this.entries = entries;
      this.active = 0;
      this.syncForm();
    }
    setContent(this.knotNote);
    if (bad.length) setContent(this.status, errorState(new ApiError(400, `the link's schedule${bad.length > 1 ? 's' : ''} could not be read: ${bad.join('; ')}`, 's', 'Bad Request'), 'Unreadable schedule in the link'));
  }

  private layout(): HTMLElement {
    return h(
      'section',
      { class: 'view', id: 'view-whatif' },
      h(
        'aside',
        { class: 'panel' },
        h(
          'div',
          { class: 'card' },
          h('header', {}, h('h2', {}, 'What-if')),
          field('Fit', this.fitSel),
          h('div', { class: 'compare' }, h('div', { class: 'row' }, h('span', { class: 'label' }, 'Compared schedules'), h('span', { class: 'spacer' }), this.addBtn), this.listHost),
          h('p', { class: 'muted editing-note' }, 'The form edits the highlighted schedule.'),
          this.form,
          field('Observed curves', this.observedSel),
        ),
      ),
      h(
        'div',
        { class: 'content' },
        h(
          'div',
          { class: 'card' },
          this.cards,
          h('header', {}, h('h3', {}, 'Predicted loss'), this.status),
          this.lossChart.el,
          this.warnings,
          h('h3', {}, 'Learning-rate schedule'),
          this.lrChart.el,
          h('h3', {}, 'Baselines (the Optimize view’s set)'),
          this.baselineHost,
        ),
      ),
    );
  }

  // ---- compared schedules ----
  /** The list of compared schedules: colour, spec, final loss; click one to edit it, × to remove it. */
  private renderList(finals: Map<number, number>): void {
    this.addBtn.disabled = this.entries.length >= MAX_SCHEDULES;
    this.addBtn.title = this.addBtn.disabled ? `at most ${MAX_SCHEDULES} schedules` : 'compare another schedule (a copy of the one being edited)';
    setContent(
      this.listHost,
      ...this.entries.map((e, i) => {
        const spec = formatSpec(e.state);
        const loss = finals.get(e.key);
        return h(
          'div',
          {
            class: `compare-row${i === this.active ? ' active' : ''}`,
            role: 'button',
            tabindex: '0',
            'data-testid': 'compare-row',
            dataset: { index: String(i), spec },
            title: spec,
            onclick: () => this.activate(i),
            onkeydown: (ev: KeyboardEvent) => ev.key === 'Enter' && this.activate(i),
          },
          h('span', { class: 'swatch', style: `background:${SCHEDULE_COLORS[i % SCHEDULE_COLORS.length]}` }),
          h('strong', {}, `S${i + 1}`),
          h('span', { class: 'compare-spec mono' }, spec),
          h('span', { class: 'compare-loss' }, loss === undefined ? '' : fmtLoss(loss)),
          this.entries.length > 1
            ? h('button', { class: 'icon danger', type: 'button', title: `remove S${i + 1}`, 'data-testid': 'remove-schedule', onclick: (ev: Event) => (ev.stopPropagation(), this.removeSchedule(i)) }, '×')
            : null,
        );
      }),
    );
  }

  private activate(i: number): void {
    if (i === this.active) return;
    this.active = i;
    setContent(this.knotNote);
    markField(this.form, null);
    this.syncForm();
    this.schedule(true);
  }

  /** Compare one more schedule: a copy of the one being edited, which it then becomes. */
  addSchedule(from: ScheduleState = this.state): void {
    if (this.entries.length >= MAX_SCHEDULES) return;
    this.entries.push({ key: this.nextKey++, state: { ...from, knots: from.knots.map((k) => [k[0], k[1]] as [number, number]) } });
    this.active = this.entries.length - 1;
    this.syncForm();
    this.schedule(true);
  }

  private removeSchedule(i: number): void {
    if (this.entries.length <= 1) return;
    this.lastLines.delete(this.entries[i]!.key);
    this.entries.splice(i, 1);
    if (this.active >= this.entries.length || this.active === i) this.active = Math.max(0, Math.min(this.active, this.entries.length - 1));
    else if (this.active > i) this.active--;
    this.syncForm();
    this.schedule(true);
  }

  // ---- form ----
  private syncForm(): void {
    const { state } = this;
    this.familySel.value = state.family;
    for (const [k, el] of Object.entries(this.rows)) el.hidden = !VISIBLE[state.family].includes(k);
    this.knotHelp.hidden = state.family !== 'piecewise';
    const shape = runShape(state);
    this.knotRun.textContent = `Run: peak lr ${num(shape.peak)}, warmup ${shape.warmup} steps. Knots are capped at the peak; to raise it, set it in another family's form or type a spec.`;
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
    setContent(this.knotNote);
    if (next.family === 'piecewise' && next.knots.length) {
      // A typed piecewise spec defines its run: said out loud when that moves the peak.
      const run = piecewiseRun(next);
      if (Number(run.peak) !== runShape(this.state).peak) this.knotNote.textContent = `The spec's highest knot sets the run's peak lr to ${run.peak} (was ${num(runShape(this.state).peak)}), warmup ${run.warmup} steps.`;
      Object.assign(next, run);
    }
    this.state = next;
    this.specIn.blur();
    this.syncForm();
    this.schedule(true);
  }

  private changeFamily(family: Family): void {
    const { state } = this;
    setContent(this.knotNote);
    if (family === 'piecewise' && state.family !== 'piecewise') {
      const shape = runShape(state);
      state.knots = this.lastYours ? knotsFrom(this.lastYours.steps, this.lastYours.lrs, shape) : [];
      if (!state.knots.length) state.knots = [[0, 0], [Math.max(1, shape.warmup - 1), shape.peak], [shape.total - 1, shape.peak / 10]];
    }
    if (state.family === 'piecewise' && family !== 'piecewise') {
      // The knots set only the length: the peak and warmup stay the run's (knots never exceed the peak).
      state.total = String(runShape(state).total);
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
    setContent(this.knotNote);
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

  /** A spec's line under a fit, cached (a failed one is asked again next time). */
  private cachedLine(spec: string, fit: number, total: number): Promise<Line> {
    const key = `${fit}|${spec}`;
    let p = this.lineCache.get(key);
    if (!p) {
      p = line(spec, fit, total);
      p.catch(() => this.lineCache.delete(key));
      this.lineCache.set(key, p);
      if (this.lineCache.size > 200) this.lineCache.delete(this.lineCache.keys().next().value!);
    }
    return p;
  }

  /** The Optimize view's baselines for a run under a fit (GET /baselines), cached. */
  private baselines(fit: number, r: RunShape): Promise<BaselineSet> {
    const key = `${fit}|${r.total}|${r.peak}|${r.warmup}`;
    let p = this.baselineCache.get(key);
    if (!p) {
      p = getBaselines({ fit, totalSteps: r.total, peakLr: r.peak, warmupSteps: r.warmup });
      p.catch(() => this.baselineCache.delete(key));
      this.baselineCache.set(key, p);
      if (this.baselineCache.size > 50) this.baselineCache.delete(this.baselineCache.keys().next().value!);
    }
    return p;
  }

  private knotSeries(): SeriesInput[] {
    if (this.state.family !== 'piecewise') return [];
    const steps = this.state.knots.map((k) => k[0]);
    const lrs = this.state.knots.map((k) => k[1]);
    return [{ label: 'knots', color: SCHEDULE_COLORS[this.active % SCHEDULE_COLORS.length]!, steps, values: lrs, points: true, pointSize: 10 }];
  }

  private label(i: number): string {
    return `S${i + 1}`;
  }

  /** Draw the lr chart from local state only (used while dragging, before the server answers). */
  private drawLrLocal(): void {
    if (this.state.family !== 'piecewise') return;
    const mine = this.label(this.active);
    const colour = SCHEDULE_COLORS[this.active % SCHEDULE_COLORS.length]!;
    const steps = this.state.knots.map((k) => k[0]);
    const lrs = this.state.knots.map((k) => k[1]);
    const series = this.lrChart.current.filter((s) => s.label !== 'knots').map((s) => (s.label === mine ? { ...s, steps, values: lrs } : s));
    if (!series.some((s) => s.label === mine)) series.unshift({ label: mine, color: colour, steps, values: lrs, width: 2.5 });
    this.lrChart.set([...series, ...this.knotSeries()]);
  }

  private async update(): Promise<void> {
    const fit = store.currentFit;
    const specs = this.entries.map((e) => formatSpec(e.state));
    if (document.activeElement !== this.specIn) this.specIn.value = specs[this.active]!;
    writeUrl(specs, fit);
    const token = ++this.updateToken;
    if (fit === null) return this.showNoFit(specs[this.active]!, token);
    // Baselines exist for the fits the optimizer takes (the server's `optimizable`; an lra fit is a 400 there).
    const optimizable = store.fits.find((f) => f.id === fit)?.optimizable !== false;
    const shapes = this.entries.map((e) => (optimizable ? baselineShape(runShape(e.state)) : null));
    this.status.classList.add('busy');
    this.status.textContent = 'predicting…';
    const settle = <T,>(p: Promise<T>) => p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));
    const activeShape = shapes[this.active];
    const [lines, baseSets, observed] = await Promise.all([
      Promise.all(this.entries.map((e, i) => settle(this.cachedLine(specs[i]!, fit, runShape(e.state).total)))),
      Promise.all(shapes.map((s) => (s ? settle(this.baselines(fit, s)) : Promise.resolve(null)))),
      this.observedCurves(fit),
    ]);
    if (token !== this.updateToken) return;
    const activeBase = baseSets[this.active];
    const baseLines = activeBase?.ok && activeShape
      ? await Promise.all(BASELINE_NAMES.map((name) => settle(this.cachedLine(activeBase.value.baselines[name].schedule, fit, activeShape.total))))
      : [];
    if (token !== this.updateToken) return;

    const yours = lines[this.active]!;
    this.status.classList.remove('busy');
    lines.forEach((l, i) => l.ok && this.lastLines.set(this.entries[i]!.key, l.value));
    if (yours.ok) {
      markField(this.form, null);
      setContent(this.status, h('span', { class: 'muted' }, `fit #${fit} · ${this.entries.length} schedule${this.entries.length > 1 ? 's' : ''} · ${yours.value.pred.steps.length} predicted points each`));
    } else {
      this.showPredictError(yours.error);
    }
    const finals = new Map<number, number>();
    lines.forEach((l, i) => l.ok && finals.set(this.entries[i]!.key, l.value.pred.final.loss));
    this.renderList(finals);
    this.drawLines(lines.map((l) => (l.ok ? l.value : null)), baseLines.map((l) => (l.ok ? l.value : null)), observed, activeShape ?? runShape(this.state));
    this.renderCards(lines.map((l) => (l.ok ? l.value : l.error)), baseSets.map((b) => (b && b.ok ? b.value : null)));
    if (optimizable) this.renderBaselines(activeBase ?? null, lines[this.active]!.ok ? (lines[this.active] as { value: Line }).value : null);
    else setContent(this.baselineHost, h('p', { class: 'muted', 'data-testid': 'baselines-unavailable' }, 'Baselines are the Optimize view’s set, computed for the fits it can optimize; this fit’s law cannot be optimized (fit mpl for them).'));
    const warns: HTMLElement[] = [];
    lines.forEach((l, i) => {
      if (l.ok) for (const w of l.value.pred.warnings) warns.push(h('li', { 'data-testid': 'whatif-warning', dataset: { index: String(i) } }, `${this.label(i)}: ${w}`));
    });
    setContent(this.warnings, ...warns);
  }

  /** The observed curves drawn under the predictions: the fit's (still stored) or the selected ones. */
  private async observedCurves(fit: number): Promise<Curve[]> {
    const ids = this.observedSource === 'fit' ? (store.fits.find((f) => f.id === fit)?.curveIds ?? []) : this.observedSource === 'selected' ? [...store.selected] : [];
    const stored = ids.filter((id) => !store.curvesLoaded || store.curves.some((c) => c.id === id)).slice(0, 24);
    const curves = await Promise.all(stored.map((id) => loadCurve(id).catch(() => null)));
    return curves.filter((c): c is Curve => c !== null);
  }

  /** No fit to predict with: say so, and still show the schedule being built. */
  private showNoFit(spec: string, token: number): void {
    this.lossChart.set([], store.fitsError ? 'Fits are unavailable.' : 'Create a fit first (Fits tab), then come back.');
    setContent(this.cards, store.fitsError ? errorState(store.fitsError, 'Could not list fits') : emptyState('No fit to predict with.', 'Fit a law to some curves in the Fits tab.'));
    setContent(this.baselineHost);
    this.renderList(new Map());
    if (this.state.family === 'piecewise') return this.drawLrLocal();
    const total = runShape(this.state).total;
    api.expand(spec, everyFor(total, 1500)).then(
      (exp) => {
        if (token !== this.updateToken) return;
        this.lrChart.set([{ label: this.label(this.active), color: SCHEDULE_COLORS[this.active % SCHEDULE_COLORS.length]!, steps: exp.steps, values: exp.lrs, width: 2.5 }]);
        setContent(this.status);
      },
      (err) => token === this.updateToken && setContent(this.status, errorState(err, 'This schedule is not valid')),
    );
  }

  /** The loss and lr charts: observed curves, every compared schedule, the active schedule's baselines (the lr chart is left alone while a knot is dragged). */
  private drawLines(lines: (Line | null)[], baseLines: (Line | null)[], observed: Curve[], shape: RunShape): void {
    const loss: SeriesInput[] = [];
    const lr: SeriesInput[] = [];
    observed.forEach((c, k) => {
      const grey = ['#94a3b8', '#a8a29e', '#9ca3af', '#a1a1aa'][k % 4]!;
      loss.push({ label: `${c.name} (observed)`, color: `${grey}aa`, steps: c.points.map((p) => p.step), values: c.points.map((p) => p.loss), points: true });
    });
    lines.forEach((l, i) => {
      if (!l) return;
      const colour = SCHEDULE_COLORS[i % SCHEDULE_COLORS.length]!;
      const active = i === this.active;
      loss.push({ label: this.label(i), color: colour, steps: l.pred.steps, values: l.pred.loss, width: active ? 2.5 : 1.8, ...(active ? { band: bandOf(l.pred) } : {}) });
      if (active && this.state.family === 'piecewise') lr.push({ label: this.label(i), color: colour, steps: this.state.knots.map((k) => k[0]), values: this.state.knots.map((k) => k[1]), width: 2.5 });
      else lr.push({ label: this.label(i), color: colour, steps: l.steps, values: l.lrs, width: active ? 2.5 : 1.8 });
    });
    baseLines.forEach((l, k) => {
      if (!l) return;
      const name = BASELINE_NAMES[k]!;
      loss.push({ label: `${name} baseline`, color: BASELINE_COLORS[name], steps: l.pred.steps, values: l.pred.loss, dash: [6, 4], width: 1.2 });
      lr.push({ label: `${name} baseline`, color: BASELINE_COLORS[name], steps: l.steps, values: l.lrs, dash: [6, 4], width: 1.2 });
    });
    if (!this.dragging) lr.push(...this.knotSeries());
    const first = lines[this.active] ?? lines.find((l) => l);
    this.lossChart.yCap = first ? valueAt(first.pred.steps, first.pred.loss, Math.max(shape.warmup, shape.total * 0.15)) : NaN;
    this.lossChart.set(loss);
    if (!this.dragging) this.lrChart.set(lr);
  }

  private showPredictError(err: unknown): void {
    markField(this.form, err);
    const e = toApiError(err);
    // The spec field names the schedule key at fault (schedule.peak -> the peak input).
    if (e.field?.startsWith('schedule.')) {
      const key = e.field.slice(9);
      // An expr constant's key has no input of its own: it is in the constants field.
      const target = this.state.family === 'expr' && !['total', 'peak', 'warmup', 'f'].includes(key) ? 'consts' : key;
      this.form.querySelector(`[data-field="${target}"]`)?.classList.add('invalid');
    }
    setContent(this.status, errorState(err, `${this.label(this.active)} cannot be predicted`));
  }

  /**
   * One card per compared schedule: its final loss (and interval), its gain over S1 and over the best
   * baseline of its own run, absolute and relative as in the Optimize view. The edited schedule's card
   * is `whatif-final`.
   */
  private renderCards(results: (Line | unknown)[], baseSets: (BaselineSet | null)[]): void {
    const isLine = (v: unknown): v is Line => !!v && typeof v === 'object' && 'pred' in v && 'spec' in v;
    const ref = isLine(results[0]) ? results[0].pred.final.loss : NaN;
    const gainRow = (what: string, title: string, g: { abs: number; rel: number }, kind: string) =>
      h(
        'small',
        { class: `gain ${gainClass(g.abs)}`, title, dataset: { kind, abs: String(g.abs), rel: String(g.rel) }, 'data-testid': `gain-${kind}` },
        `${what}: ${relativeText(g.rel)} (${deltaText(g.abs)})`,
      );
    setContent(
      this.cards,
      ...results.map((r, i) => {
        const active = i === this.active;
        const colour = SCHEDULE_COLORS[i % SCHEDULE_COLORS.length]!;
        const base = { class: `card-num schedule${active ? ' yours' : ''}`, style: `border-left-color:${colour}`, 'data-testid': active ? 'whatif-final' : 'whatif-card', dataset: { index: String(i) } };
        if (!isLine(r)) {
          return h('div', { ...base, class: `${base.class} stale` }, h('span', {}, `${this.label(i)} final loss`), h('strong', {}, '—'), h('small', {}, toApiError(r).detail.slice(0, 120)));
        }
        const y = r.pred.final.loss;
        const range = fmtInterval(r.pred.interval?.level, r.pred.final.lower, r.pred.final.upper);
        const set = baseSets[i];
        let best: { name: BaselineName; loss: number } | null = null;
        if (set) for (const name of BASELINE_NAMES) if (!best || set.baselines[name].loss < best.loss) best = { name, loss: set.baselines[name].loss };
        const definition = 'relative = (reference − this) / reference, shown as “% lower” or “% higher”; loss = this − reference; as in the Optimize view';
        return h(
          'div',
          { ...base, dataset: { ...base.dataset, value: String(y), spec: r.spec, step: String(r.pred.final.step) }, title: r.spec },
          h('span', {}, `${this.label(i)} final loss${active ? ' (editing)' : ''}`),
          h('strong', {}, fmtLoss(y)),
          range ? h('small', { class: 'interval', 'data-testid': active ? 'whatif-final-interval' : undefined, dataset: { lower: String(r.pred.final.lower), upper: String(r.pred.final.upper) } }, `(${range})`) : null,
          h('small', {}, `at step ${r.pred.final.step.toLocaleString('en-US')}`),
          i > 0 && Number.isFinite(ref) ? gainRow('vs S1', definition, gain(ref, y), 'vs-s1') : null,
          best ? gainRow(`vs best baseline (${best.name})`, `${definition}; baseline ${set!.baselines[best.name].schedule}`, gain(best.loss, y), 'vs-best') : null,
        );
      }),
    );
  }

  /** The baselines of the edited schedule's run, each named by its spec, with the edited schedule's gain over each. */
  private renderBaselines(result: { ok: true; value: BaselineSet } | { ok: false; error: unknown } | null, yours: Line | null): void {
    if (!result) return setContent(this.baselineHost, h('p', { class: 'muted' }, 'No baselines for this schedule: its total steps, peak lr and warmup must make a valid run.'));
    if (!result.ok) {
      const e = toApiError(result.error);
      const why = e.status === 400 && e.field === 'fit' ? 'Baselines need an mpl fit (the Optimize view’s set is computed with the multi-power law).' : '';
      return setContent(this.baselineHost, why ? h('p', { class: 'muted', 'data-testid': 'baselines-unavailable' }, why) : errorState(result.error, 'Baselines unavailable'));
    }
    const set = result.value;
    const y = yours?.pred.final.loss;
    setContent(
      this.baselineHost,
      h('p', { class: 'muted small' }, `For ${this.label(this.active)}'s run: ${set.totalSteps.toLocaleString('en-US')} steps, peak lr ${num(set.peakLr)}, warmup ${set.warmupSteps} (GET /baselines, as in an Optimize answer), and how much lower or higher ${this.label(this.active)} is predicted, as in the Optimize view.`),
      h(
        'table',
        { class: 'data baselines-table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'baseline'), h('th', {}, 'final loss'), h('th', {}, `${this.label(this.active)} vs it`), h('th', {}, `loss (${this.label(this.active)} − it)`), h('th', {}, ''))),
        h(
          'tbody',
          {},
          ...BASELINE_NAMES.map((name) => {
            const b = set.baselines[name];
            const g = y !== undefined ? gain(b.loss, y) : null;
            return h(
              'tr',
              { 'data-testid': name === 'cosine' ? 'whatif-cosine' : name === 'wsd' ? 'whatif-wsd' : 'whatif-baseline', dataset: { name, spec: b.schedule, loss: String(b.loss), ...(g ? { abs: String(g.abs), rel: String(g.rel) } : {}) } },
              h('td', { class: 'baseline-name' }, h('span', { class: 'swatch', style: `background:${BASELINE_COLORS[name]}` }), h('code', { class: 'baseline-spec' }, b.schedule)),
              h('td', {}, fmtLoss(b.loss)),
              h('td', {}, g ? relativeText(g.rel) : '—'),
              h('td', {}, g ? deltaText(g.abs) : '—'),
              h('td', {}, h('button', { class: 'secondary small', type: 'button', disabled: this.entries.length >= MAX_SCHEDULES, title: 'compare it as a schedule', onclick: () => this.addSpec(b.schedule) }, '+ compare')),
            );
          }),
        ),
      ),
    );
  }

  /** Compare a spec (a baseline's) as one more schedule. */
  private addSpec(spec: string): void {
    try {
      this.addSchedule(parseSpec(spec, { ...DEFAULT_STATE, knots: [] }));
    } catch (err) {
      if (!(err instanceof ScheduleError)) throw err;
      setContent(this.status, errorState(new ApiError(400, err.message, 'schedule', 'Bad Request'), 'Unreadable spec'));
    }
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

  /** Say that a knot was held at the run's peak (or clear the note). */
  private noteClamp(clamped: boolean): void {
    this.knotNote.textContent = clamped ? `Held at the run's peak lr ${num(runShape(this.state).peak)}: a knot cannot go above the peak (set a higher peak in another family's form, or type a spec).` : '';
    this.knotNote.dataset.clamped = clamped ? '1' : '';
  }

  /** Mousedown on a knot: drag it (its step kept between its neighbours', its lr within [0, peak]) until mouseup. */
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
      const { lr, clamped } = clampKnotLr(u.posToVal(y, 'y'), this.state);
      this.noteClamp(clamped);
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

  /** Double-click: remove the knot under the pointer (not the ends), or add one there (its lr within [0, peak]). */
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
      const { lr, clamped } = clampKnotLr(u.posToVal(y, 'y'), this.state);
      this.noteClamp(clamped);
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
