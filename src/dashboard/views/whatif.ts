/**
 * What-if view: pick a fit, build a schedule (a family and its parameters, or piecewise
 * knots dragged on the lr chart) and watch its predicted loss update live next to the
 * cosine and WSD baselines, with the final-loss numbers.
 */
import type uPlot from 'uplot';
import { api, everyFor, toApiError, type Prediction } from '../api.js';
import { Chart, valueAt, type SeriesInput } from '../charts.js';
import { store } from '../state.js';
import { h, setContent, emptyState, errorState, fmtLoss, fmtPct, field, markField } from '../ui.js';
import { fitPicker, numberInput } from '../widgets.js';
import {
  DEFAULT_STATE, FAMILIES, WSD_SHAPES, formatSpec, parseSpec, runShape, cosineBaseline, wsdBaseline, knotsFrom, num, type ScheduleState, type Family,
} from '../schedule.js';

const YOURS = '#2563eb';
const COSINE = '#dc2626';
const WSD = '#059669';

interface Line { spec: string; steps: number[]; lrs: number[]; pred: Prediction }

export function whatifView(): { el: HTMLElement; show: () => void } {
  let state: ScheduleState = { ...DEFAULT_STATE };
  let lastYours: Line | null = null;

  // ---- form ----
  const familySel = h('select', { 'data-testid': 'family', 'data-field': 'family', onchange: () => changeFamily(familySel.value as Family) }, ...FAMILIES.map((f) => h('option', { value: f }, f)));
  const inputs = {
    total: numberInput('total', state.total),
    peak: numberInput('peak', state.peak),
    warmup: numberInput('warmup', state.warmup),
    final: numberInput('final', state.final),
    decayStart: numberInput('decayStart', state.decayStart),
    at: numberInput('at', state.at, { inputmode: 'text' }),
    to: numberInput('to', state.to, { inputmode: 'text' }),
    consts: numberInput('consts', state.consts, { inputmode: 'text', class: 'mono', placeholder: 'final=3e-5' }),
    f: numberInput('f', state.f, { inputmode: 'text', class: 'mono', 'data-testid': 'expr-f', 'aria-label': 'f(s)' }),
  };
  const shapeSel = h('select', { name: 'shape', 'data-field': 'shape' }, ...WSD_SHAPES.map((s) => h('option', { value: s }, s)));
  shapeSel.value = state.shape;
  const rows: Record<string, HTMLElement> = {
    total: field('Total steps', inputs.total),
    peak: field('Peak lr', inputs.peak),
    warmup: field('Warmup steps', inputs.warmup),
    decayStart: field('Decay start (step)', inputs.decayStart),
    final: field('Final lr', inputs.final),
    shape: field('Decay shape', shapeSel),
    at: field('Drop at steps', inputs.at, 'separated by ;'),
    to: field('Drop to lrs', inputs.to, 'separated by ;'),
    consts: field('Constants', inputs.consts, 'name=value, separated by , (usable in f)'),
    f: field('f(s) from step warmup on', inputs.f, 's, the keys above, pi, e; + - * / ^, min, max, exp, log, cos, sqrt, a ? b : c …'),
  };
  const knotHelp = h(
    'div',
    { class: 'knot-help' },
    h('p', {}, 'Drag the knots on the learning-rate chart. Double-click the chart to add a knot, double-click a knot to remove it.'),
    h('button', { class: 'secondary', type: 'button', onclick: () => resetKnots() }, 'Reset knots to cosine'),
  );
  const specIn = h('textarea', { class: 'mono', rows: 3, 'data-testid': 'spec', 'data-field': 'schedule', spellcheck: 'false', 'aria-label': 'schedule spec' });
  const form = h(
    'form',
    { class: 'schedule-form', onsubmit: (e: Event) => e.preventDefault() },
    field('Family', familySel),
    ...Object.values(rows),
    knotHelp,
    field('Spec', specIn, 'edit and press Enter to apply'),
  );

  const VISIBLE: Record<Family, string[]> = {
    constant: ['total', 'peak', 'warmup'],
    cosine: ['total', 'peak', 'warmup', 'final'],
    linear: ['total', 'peak', 'warmup', 'final'],
    wsd: ['total', 'peak', 'warmup', 'decayStart', 'final', 'shape'],
    step: ['total', 'peak', 'warmup', 'at', 'to'],
    piecewise: [],
    expr: ['total', 'peak', 'warmup', 'consts', 'f'],
  };
  function syncForm() {
    familySel.value = state.family;
    for (const [k, el] of Object.entries(rows)) el.hidden = !VISIBLE[state.family].includes(k);
    knotHelp.hidden = state.family !== 'piecewise';
    for (const [k, el] of Object.entries(inputs)) if (document.activeElement !== el) el.value = (state as unknown as Record<string, string>)[k]!;
    shapeSel.value = state.shape;
    if (document.activeElement !== specIn) specIn.value = formatSpec(state);
  }
  function readForm() {
    for (const [k, el] of Object.entries(inputs)) (state as unknown as Record<string, string>)[k] = el.value;
    state.shape = shapeSel.value;
  }
  form.addEventListener('input', (e) => {
    if (e.target === specIn || e.target === familySel) return;
    readForm();
    syncForm();
    schedule();
  });
  shapeSel.addEventListener('change', () => (readForm(), syncForm(), schedule()));
  specIn.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    e.preventDefault();
    const next = parseSpec(specIn.value, state);
    if (!next) {
      setContent(status, errorState(new Error(`"${specIn.value}" is not family:key=value,… (families: ${FAMILIES.join(', ')})`), 'Unreadable spec'));
      return;
    }
    state = next;
    specIn.blur();
    syncForm();
    schedule(true);
  });

  function changeFamily(family: Family) {
    if (family === 'piecewise' && state.family !== 'piecewise') {
      const shape = runShape(state);
      state.knots = lastYours ? knotsFrom(lastYours.steps, lastYours.lrs, shape) : [];
      if (!state.knots.length) state.knots = [[0, 0], [Math.max(1, shape.warmup - 1), shape.peak], [shape.total - 1, shape.peak / 10]];
    }
    if (state.family === 'piecewise' && family !== 'piecewise') {
      const shape = runShape(state);
      Object.assign(state, { total: String(shape.total), peak: num(shape.peak), warmup: String(shape.warmup) });
    }
    state.family = family;
    syncForm();
    schedule(true);
  }

  function resetKnots() {
    const shape = runShape(state);
    const steps: number[] = [];
    const lrs: number[] = [];
    for (let k = 0; k <= 200; k++) {
      const s = Math.round(shape.warmup + ((shape.total - 1 - shape.warmup) * k) / 200);
      steps.push(s);
      lrs.push(shape.peak / 10 + 0.45 * shape.peak * (1 + Math.cos((Math.PI * (s - shape.warmup)) / (shape.total - shape.warmup))));
    }
    state.knots = knotsFrom(steps, lrs, shape);
    syncForm();
    schedule(true);
  }

  // ---- results ----
  const fitSel = fitPicker('whatif-fit');
  const status = h('div', { class: 'plot-status', 'data-testid': 'whatif-status' });
  const cards = h('div', { class: 'cards' });
  const lossChart = new Chart({ height: 300, yLabel: 'predicted loss', sync: 'whatif', emptyText: 'Pick a fit to predict loss curves.' }, 'whatif-loss');
  const lrChart = new Chart({ height: 190, yLabel: 'learning rate', sync: 'whatif', lrAxis: true, onCreate: attachKnotDrag }, 'whatif-lr');
  const warnings = h('ul', { class: 'notes' });

  let controller: AbortController | null = null;
  const baseCache = new Map<string, Promise<Line>>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastRun = 0;
  /** Recompute soon: debounced for typing, `now` skips the wait; while dragging, at most every 120 ms. */
  function schedule(now = false) {
    clearTimeout(timer);
    if (dragging !== null && Date.now() - lastRun > 120) now = true;
    timer = setTimeout(() => ((lastRun = Date.now()), void update()), now ? 0 : dragging !== null ? 120 : 140);
  }

  async function line(spec: string, fit: number, total: number, signal?: AbortSignal): Promise<Line> {
    const every = everyFor(total, 1500);
    const [exp, pred] = await Promise.all([api.expand(spec, every, signal), api.predict({ fit, schedule: spec, every }, signal)]);
    return { spec, steps: exp.steps, lrs: exp.lrs, pred };
  }
  function baseline(spec: string, fit: number, total: number): Promise<Line> {
    const key = `${fit}|${spec}`;
    if (!baseCache.has(key)) {
      const p = line(spec, fit, total);
      p.catch(() => baseCache.delete(key));
      baseCache.set(key, p);
    }
    return baseCache.get(key)!;
  }

  function knotSeries(): SeriesInput[] {
    if (state.family !== 'piecewise') return [];
    const steps = state.knots.map((k) => k[0]);
    const lrs = state.knots.map((k) => k[1]);
    return [{ label: 'knots', color: YOURS, steps, values: lrs, points: true, pointSize: 10 }];
  }

  /** Draw the lr chart from local state only (used while dragging, before the server answers). */
  function drawLrLocal() {
    if (state.family !== 'piecewise') return;
    const others = lrChart.current.filter((s) => s.label !== 'yours' && s.label !== 'knots');
    const steps = state.knots.map((k) => k[0]);
    const lrs = state.knots.map((k) => k[1]);
    lrChart.set([{ label: 'yours', color: YOURS, steps, values: lrs, width: 2.5 }, ...others, ...knotSeries()]);
  }

  let updateToken = 0;
  async function update() {
    const fit = store.currentFit;
    const spec = formatSpec(state);
    if (document.activeElement !== specIn) specIn.value = spec;
    const token = ++updateToken;
    controller?.abort();
    if (fit === null) {
      lossChart.set([], store.fitsError ? 'Fits are unavailable.' : 'Create a fit first (Fits tab), then come back.');
      setContent(cards, store.fitsError ? errorState(store.fitsError, 'Could not list fits') : emptyState('No fit to predict with.', 'Fit a law to some curves in the Fits tab.'));
      if (state.family === 'piecewise') drawLrLocal();
      else {
        // No fit: still show the schedule being built.
        const total = runShape(state).total;
        api.expand(spec, everyFor(total, 1500)).then(
          (exp) => {
            if (token !== updateToken) return;
            lrChart.set([{ label: 'yours', color: YOURS, steps: exp.steps, values: exp.lrs, width: 2.5 }]);
            setContent(status);
          },
          (err) => token === updateToken && setContent(status, errorState(err, 'This schedule is not valid')),
        );
      }
      return;
    }
    controller = new AbortController();
    const shape = runShape(state);
    const cos = cosineBaseline(shape);
    const wsd = wsdBaseline(shape);
    status.classList.add('busy');
    status.textContent = 'predicting…';
    try {
      const validShape = Number.isFinite(shape.total) && shape.total > 1 && shape.peak > 0;
      const [yours, cosine, wsdLine] = await Promise.all([
        line(spec, fit, shape.total, controller.signal),
        validShape ? baseline(cos, fit, shape.total).catch(() => null) : null,
        validShape ? baseline(wsd, fit, shape.total).catch(() => null) : null,
      ]);
      if (token !== updateToken) return;
      lastYours = yours;
      markField(form, null);
      status.classList.remove('busy');
      setContent(status, h('span', { class: 'muted' }, `fit #${fit} · ${yours.pred.steps.length} predicted points`));
      const loss: SeriesInput[] = [{ label: 'yours', color: YOURS, steps: yours.pred.steps, values: yours.pred.loss, width: 2.5 }];
      const lr: SeriesInput[] = [{ label: 'yours', color: YOURS, steps: yours.steps, values: yours.lrs, width: 2.5 }];
      if (cosine) {
        loss.push({ label: 'cosine', color: COSINE, steps: cosine.pred.steps, values: cosine.pred.loss, dash: [6, 4] });
        lr.push({ label: 'cosine', color: COSINE, steps: cosine.steps, values: cosine.lrs, dash: [6, 4] });
      }
      if (wsdLine) {
        loss.push({ label: 'WSD', color: WSD, steps: wsdLine.pred.steps, values: wsdLine.pred.loss, dash: [2, 3] });
        lr.push({ label: 'WSD', color: WSD, steps: wsdLine.steps, values: wsdLine.lrs, dash: [2, 3] });
      }
      if (state.family === 'piecewise') {
        lr[0] = { label: 'yours', color: YOURS, steps: state.knots.map((k) => k[0]), values: state.knots.map((k) => k[1]), width: 2.5 };
        if (!dragging) lr.push(...knotSeries());
      }
      lossChart.yCap = valueAt(yours.pred.steps, yours.pred.loss, Math.max(shape.warmup, shape.total * 0.15));
      lossChart.set(loss);
      if (!dragging) lrChart.set(lr);
      renderCards(yours, cosine, wsdLine);
      const warns = [...new Set([...yours.pred.warnings, ...(cosine?.pred.warnings ?? []), ...(wsdLine?.pred.warnings ?? [])])];
      setContent(warnings, ...warns.map((w) => h('li', {}, w)));
    } catch (err) {
      if ((err as Error).name === 'AbortError' || token !== updateToken) return;
      status.classList.remove('busy');
      markField(form, err);
      const e = toApiError(err);
      // The spec field names the schedule key at fault (schedule.peak -> the peak input).
      if (e.field?.startsWith('schedule.')) {
        const key = e.field.slice(9);
        // An expr constant's key has no input of its own: it is in the constants field.
        const target = state.family === 'expr' && !['total', 'peak', 'warmup', 'f'].includes(key) ? 'consts' : key;
        form.querySelector(`[data-field="${target}"]`)?.classList.add('invalid');
      }
      setContent(status, errorState(err, 'This schedule cannot be predicted'));
      setContent(cards, h('div', { class: 'card-num stale' }, h('span', {}, 'your final loss'), h('strong', {}, '—'), h('small', {}, 'fix the schedule')));
    }
  }

  function renderCards(yours: Line, cosine: Line | null, wsd: Line | null) {
    const y = yours.pred.final.loss;
    const best = Math.min(...[cosine, wsd].filter((x): x is Line => !!x).map((x) => x.pred.final.loss));
    const card = (label: string, value: number | undefined, cls: string, extra: Record<string, unknown> = {}, sub = '') =>
      h('div', { class: `card-num ${cls}`, ...extra }, h('span', {}, label), h('strong', {}, fmtLoss(value)), sub ? h('small', {}, sub) : null);
    const delta = Number.isFinite(best) ? (y - best) / best : NaN;
    setContent(
      cards,
      card('your final loss', y, 'yours', { 'data-testid': 'whatif-final', 'data-value': String(y), 'data-spec': yours.spec, 'data-step': String(yours.pred.final.step) }, `at step ${yours.pred.final.step.toLocaleString('en-US')}`),
      cosine ? card('cosine → peak/10', cosine.pred.final.loss, 'cosine', { 'data-testid': 'whatif-cosine', title: cosine.spec }) : null,
      wsd ? card('WSD, 20% linear cooldown', wsd.pred.final.loss, 'wsd', { 'data-testid': 'whatif-wsd', title: wsd.spec }) : null,
      Number.isFinite(delta) ? h('div', { class: `card-num ${delta < 0 ? 'better' : 'worse'}` }, h('span', {}, 'vs best baseline'), h('strong', {}, `${delta > 0 ? '+' : ''}${fmtPct(delta)}`), h('small', {}, delta < 0 ? 'lower is better: yours wins' : 'baseline is lower')) : null,
    );
  }

  // ---- knot dragging on the lr chart ----
  let dragging: number | null = null;
  function attachKnotDrag(u: uPlot) {
    const over = u.over;
    const knotAt = (x: number, y: number): number | null => {
      if (state.family !== 'piecewise') return null;
      let best: number | null = null;
      let bestD = 12;
      state.knots.forEach(([s, lr], i) => {
        const d = Math.hypot(u.valToPos(s, 'x') - x, u.valToPos(lr, 'y') - y);
        if (d < bestD) (bestD = d), (best = i);
      });
      return best;
    };
    const pos = (e: MouseEvent) => {
      const r = over.getBoundingClientRect();
      return [e.clientX - r.left, e.clientY - r.top] as const;
    };
    over.addEventListener('mousemove', (e) => (over.style.cursor = dragging !== null || knotAt(...pos(e)) !== null ? 'grab' : ''));
    over.addEventListener(
      'mousedown',
      (e) => {
        const i = knotAt(...pos(e));
        if (i === null) return;
        e.stopImmediatePropagation();
        e.preventDefault();
        dragging = i;
        const move = (ev: MouseEvent) => {
          const [x, y] = pos(ev);
          const k = state.knots;
          const prev = i > 0 ? k[i - 1]![0] + 1 : 0;
          const next = i < k.length - 1 ? k[i + 1]![0] - 1 : Number.MAX_SAFE_INTEGER;
          const step = i === 0 ? 0 : Math.min(next, Math.max(prev, Math.round(u.posToVal(x, 'x'))));
          const lr = Math.max(0, Number(u.posToVal(y, 'y').toPrecision(3)));
          k[i] = [step, lr];
          drawLrLocal();
          syncForm();
          schedule();
        };
        const up = () => {
          window.removeEventListener('mousemove', move);
          window.removeEventListener('mouseup', up);
          dragging = null;
          drawLrLocal();
          schedule(true);
        };
        window.addEventListener('mousemove', move);
        window.addEventListener('mouseup', up);
      },
      true,
    );
    over.addEventListener(
      'dblclick',
      (e) => {
        if (state.family !== 'piecewise') return;
        e.stopImmediatePropagation();
        const [x, y] = pos(e);
        const i = knotAt(x, y);
        if (i !== null) {
          if (i > 0 && i < state.knots.length - 1) state.knots.splice(i, 1);
        } else {
          const step = Math.round(u.posToVal(x, 'x'));
          const lr = Math.max(0, Number(u.posToVal(y, 'y').toPrecision(3)));
          const at = state.knots.findIndex((k) => k[0] > step);
          if (at > 0 && !state.knots.some((k) => k[0] === step)) state.knots.splice(at, 0, [step, lr]);
        }
        drawLrLocal();
        syncForm();
        schedule(true);
      },
      true,
    );
  }

  store.on('fit', () => schedule(true));
  store.on('fits', () => schedule(true));

  const el = h(
    'section',
    { class: 'view', id: 'view-whatif' },
    h('aside', { class: 'panel' }, h('div', { class: 'card' }, h('header', {}, h('h2', {}, 'What-if')), field('Fit', fitSel), form)),
    h(
      'div',
      { class: 'content' },
      h('div', { class: 'card' }, cards, h('header', {}, h('h3', {}, 'Predicted loss'), status), lossChart.el, h('h3', {}, 'Learning-rate schedule'), lrChart.el, warnings),
    ),
  );
  syncForm();
  return { el, show: () => schedule(true) };
}
