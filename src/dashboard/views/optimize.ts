/**
 * Optimize view: run the schedule optimizer as a job, follow its event stream with a
 * progress bar, then show the optimized schedule against the baselines, the predicted
 * curves, the improvement, and download links (JSON, CSV, PyTorch).
 */
import { api, everyFor, followJob, toApiError, ApiError, type Baseline, type Job, type OptimizeRequest, type OptimizeResult } from '../api.js';
import { Chart, valueAt, type SeriesInput } from '../charts.js';
import { store } from '../state.js';
import { h, setContent, emptyState, loadingState, errorState, fmtLoss, fmtPct, fmtNum, field, markField, toast } from '../ui.js';
import { fitPicker, numberInput } from '../widgets.js';

const COLORS: Record<string, string> = { optimized: '#2563eb', cosine: '#dc2626', wsd: '#059669', linear: '#d97706', constant: '#64748b' };
const DASH: Record<string, number[]> = { cosine: [6, 4], wsd: [2, 3], linear: [8, 3, 2, 3], constant: [1, 3] };

/** Final loss of a baseline, whatever shape the server gave it. */
function baselineFinal(b: Baseline): number {
  if (typeof b.loss === 'number') return b.loss;
  if (Array.isArray(b.loss)) return b.loss[b.loss.length - 1] ?? NaN;
  return b.loss.loss[b.loss.loss.length - 1] ?? NaN;
}

/** Series of the optimized lrs, thinned to every `every` steps (the last step kept). */
function thinLrs(lrs: number[], every: number): { steps: number[]; values: number[] } {
  const steps: number[] = [];
  const values: number[] = [];
  for (let s = 0; s < lrs.length; s += every) steps.push(s), values.push(lrs[s]!);
  if (lrs.length && steps[steps.length - 1] !== lrs.length - 1) steps.push(lrs.length - 1), values.push(lrs[lrs.length - 1]!);
  return { steps, values };
}

/** The Optimize view: elements and state as fields, one method per concern (see CurvesView). */
class OptimizeView {
  readonly el: HTMLElement;
  private currentJob = '';

  // ---- form ----
  private readonly fitSel = fitPicker('optimize-fit');
  private readonly inputs = {
    totalSteps: numberInput('totalSteps', 24000),
    peakLr: numberInput('peakLr', '3e-4'),
    warmupSteps: numberInput('warmupSteps', 2160),
    minLr: numberInput('minLr', '', { placeholder: 'default' }),
    finalLr: numberInput('finalLr', '', { placeholder: 'free' }),
    pieces: numberInput('pieces', 12),
    restarts: numberInput('restarts', '', { placeholder: 'default' }),
    budget: numberInput('budgetMs', 5, { 'data-testid': 'budget' }),
  };
  private readonly space = h('select', { name: 'space', 'data-field': 'space' }, h('option', { value: 'free' }, 'free (every step)'), h('option', { value: 'piecewise' }, 'piecewise'), h('option', { value: 'wsd' }, 'WSD family'));
  private readonly monotone = h('input', { type: 'checkbox', name: 'monotone', 'data-field': 'monotone', checked: true });
  private readonly runBtn = h('button', { class: 'primary', type: 'submit', 'data-testid': 'run-optimize' }, 'Optimize schedule');
  private readonly form: HTMLFormElement;

  // ---- progress ----
  private readonly bar = h('progress', { max: 1, value: 0, 'data-testid': 'optimize-progress', dataset: { events: '0', max: '0' } });
  private readonly barText = h('span', { class: 'progress-text', 'data-testid': 'optimize-progress-text' }, 'idle');
  private readonly cancelBtn = h('button', { class: 'secondary small', hidden: true, 'data-testid': 'cancel-optimize', onclick: () => void api.cancelJob(this.currentJob).catch((err) => toast(toApiError(err).describe(), 'error')) }, 'Cancel');
  private readonly progressBox = h('div', { class: 'progress-box', hidden: true }, this.bar, this.barText, this.cancelBtn);
  private readonly runStatus = h('div', {});

  // ---- result ----
  private readonly cards = h('div', { class: 'cards', 'data-testid': 'optimize-result' });
  private readonly lrChart = new Chart({ height: 210, yLabel: 'learning rate', sync: 'opt', lrAxis: true, emptyText: 'The optimized schedule appears here.' }, 'opt-lr');
  private readonly lossChart = new Chart({ height: 260, yLabel: 'predicted loss', sync: 'opt', emptyText: 'Predicted loss curves appear here.' }, 'opt-loss');
  private readonly downloads = h('div', { class: 'downloads' });
  private readonly specBox = h('code', { class: 'spec-box', 'data-testid': 'optimized-spec' });
  private readonly resultStatus = h('div', { class: 'plot-status' });

  constructor() {
    this.form = this.buildForm();
    setContent(this.cards, emptyState('No optimized schedule yet.', 'Choose a fit and run length, then press “Optimize schedule”.'));
    this.el = this.layout();
  }

  show(): void {}

  private buildForm(): HTMLFormElement {
    const { inputs, space } = this;
    const piecesRow = field('Pieces', inputs.pieces);
    piecesRow.hidden = true;
    space.addEventListener('change', () => (piecesRow.hidden = space.value !== 'piecewise'));
    return h(
      'form',
      { class: 'optimize-form', onsubmit: (e: Event) => (e.preventDefault(), void this.run()) },
      field('Fit', this.fitSel),
      h('div', { class: 'grid2' }, field('Total steps', inputs.totalSteps), field('Peak lr', inputs.peakLr), field('Warmup steps', inputs.warmupSteps), field('Min lr', inputs.minLr), field('Final lr', inputs.finalLr), field('Restarts', inputs.restarts)),
      field('Search space', space),
      piecesRow,
      h('label', { class: 'check' }, this.monotone, ' monotone decay after warmup'),
      field('Time budget (s)', inputs.budget),
      h('div', { class: 'row' }, this.runBtn),
    );
  }

  private layout(): HTMLElement {
    const resultCard = h(
      'div',
      { class: 'card' },
      h('header', {}, h('h2', {}, 'Result'), this.resultStatus),
      this.cards,
      h('div', { class: 'result-foot' }, this.specBox, this.downloads),
      h('h3', {}, 'Learning-rate schedule'),
      this.lrChart.el,
      h('h3', {}, 'Predicted loss'),
      this.lossChart.el,
    );
    return h(
      'section',
      { class: 'view', id: 'view-optimize' },
      h('aside', { class: 'panel' }, h('div', { class: 'card' }, h('header', {}, h('h2', {}, 'Optimize a schedule')), this.form, this.progressBox, this.runStatus)),
      h('div', { class: 'content' }, resultCard),
    );
  }

  private readRequest(): OptimizeRequest {
    const { inputs } = this;
    const n = (el: HTMLInputElement) => (el.value.trim() === '' ? undefined : Number(el.value));
    const req: OptimizeRequest = {
      fit: Number(store.currentFit),
      totalSteps: n(inputs.totalSteps)!,
      peakLr: n(inputs.peakLr)!,
      warmupSteps: n(inputs.warmupSteps)!,
      minLr: n(inputs.minLr),
      finalLr: n(inputs.finalLr),
      space: this.space.value as OptimizeRequest['space'],
      monotone: this.monotone.checked,
      restarts: n(inputs.restarts),
      budgetMs: inputs.budget.value.trim() ? Math.round(Number(inputs.budget.value) * 1000) : undefined,
    };
    if (req.space === 'piecewise') req.pieces = n(inputs.pieces);
    for (const k of Object.keys(req) as (keyof OptimizeRequest)[]) if (req[k] === undefined) delete req[k];
    return req;
  }

  private setProgress(p: { progress?: number; bestLoss?: number | null; iteration?: number }): void {
    const { bar } = this;
    const raw = Number(p.progress ?? 0);
    const frac = raw > 1 ? raw / 100 : raw;
    bar.value = Math.max(Number(bar.value), Math.min(1, frac));
    bar.dataset.max = String(bar.value);
    this.barText.textContent = `${Math.round(Number(bar.value) * 100)}%${p.bestLoss !== undefined && p.bestLoss !== null ? ` · best final loss ${fmtLoss(p.bestLoss)}` : ''}${p.iteration !== undefined ? ` · iteration ${p.iteration}` : ''}`;
  }

  /** The progress bar back to zero for a new run. */
  private resetProgress(): void {
    const { bar } = this;
    this.progressBox.hidden = false;
    bar.value = 0;
    bar.dataset.events = '0';
    bar.dataset.max = '0';
    bar.removeAttribute('data-state');
    this.barText.textContent = 'starting…';
  }

  private async run(): Promise<void> {
    if (store.currentFit === null) {
      setContent(this.runStatus, errorState(new ApiError(0, 'no fit chosen: create a fit in the Fits tab first', 'fit'), 'Cannot optimize yet'));
      return;
    }
    markField(this.form, null);
    this.runBtn.disabled = true;
    this.resetProgress();
    setContent(this.runStatus);
    const req = this.readRequest();
    let jobId: string;
    try {
      ({ jobId } = await api.startOptimize(req));
    } catch (err) {
      this.runBtn.disabled = false;
      this.progressBox.hidden = true;
      markField(this.form, err);
      setContent(this.runStatus, errorState(err, 'The optimizer did not start'));
      return;
    }
    this.bar.dataset.job = String(jobId);
    this.currentJob = String(jobId);
    this.cancelBtn.hidden = false;
    setContent(this.cards, loadingState(`Optimizing job ${jobId}: progress on the left; results appear here when it is done.`));
    try {
      const result = await followJob(jobId, (p, via) => {
        if (via === 'stream') this.bar.dataset.events = String(Number(this.bar.dataset.events) + 1);
        this.setProgress(p);
      });
      this.finish({ result: result as unknown as OptimizeResult }, true, req);
    } catch (err) {
      this.finish({ error: err }, false, req);
    }
  }

  /** The job ended: done (show the result), cancelled or failed. */
  private finish(job: Partial<Job> & { result?: OptimizeResult }, ok: boolean, req: OptimizeRequest): void {
    const { bar, barText } = this;
    this.runBtn.disabled = false;
    this.cancelBtn.hidden = true;
    if (ok && job.result) {
      bar.value = 1;
      bar.dataset.state = 'done';
      barText.textContent = `done · predicted final loss ${fmtLoss(job.result.predictedFinalLoss)}`;
      void this.showResult(job.result, req);
    } else if (toApiError(job.error ?? '').detail === 'cancelled') {
      bar.dataset.state = 'cancelled';
      barText.textContent = 'cancelled';
      setContent(this.cards, emptyState('Cancelled: nothing was stored.', 'Press “Optimize schedule” to run again.'));
    } else {
      bar.dataset.state = 'failed';
      barText.textContent = 'failed';
      setContent(this.cards, emptyState('No result: the run failed.', 'See the error on the left.'));
      setContent(this.runStatus, errorState(toApiError(job.error ?? 'the job failed without a message'), 'The optimizer failed'));
    }
  }

  private async showResult(r: OptimizeResult, req: OptimizeRequest): Promise<void> {
    this.renderNumbers(r, req);
    this.specBox.textContent = r.schedule;
    this.specBox.title = r.schedule;
    if (r.scheduleId !== undefined && r.scheduleId !== null) {
      setContent(
        this.downloads,
        ...(['json', 'csv', 'pytorch'] as const).map((f) =>
          h('a', { class: 'button secondary', href: api.scheduleDownload(r.scheduleId!, f), download: `schedule-${r.scheduleId}.${f === 'pytorch' ? 'py' : f}`, 'data-testid': `download-${f}` }, `Download ${f === 'pytorch' ? 'PyTorch' : f.toUpperCase()}`),
        ),
      );
    } else setContent(this.downloads, h('span', { class: 'muted' }, 'no stored schedule id: nothing to download'));
    if (r.warnings.length) setContent(this.runStatus, h('ul', { class: 'notes' }, ...r.warnings.map((w) => h('li', {}, w))));
    await this.drawCharts(r, req);
  }

  /** The result's number cards: final loss, improvement vs cosine and vs the best baseline, search stats. */
  private renderNumbers(r: OptimizeResult, req: OptimizeRequest): void {
    const finals = Object.entries(r.baselines).map(([name, b]) => [name, baselineFinal(b)] as const);
    const bestBase = finals.reduce((a, b) => (b[1] < a[1] ? b : a), ['', Infinity] as readonly [string, number]);
    const num = (label: string, value: string, cls = '', sub = '', testId?: string) => h('div', { class: `card-num ${cls}`, 'data-testid': testId }, h('span', {}, label), h('strong', {}, value), sub ? h('small', {}, sub) : null);
    const better = (v: number) => (v > 0 ? 'better' : v < 0 ? 'worse' : '');
    const cosine = finals.find((f) => f[0] === 'cosine');
    const delta = (base: number) => {
      const d = r.predictedFinalLoss - base;
      return `${d <= 0 ? '−' : '+'}${Math.abs(d).toFixed(4)} loss`;
    };
    setContent(
      this.cards,
      num('optimized final loss', fmtLoss(r.predictedFinalLoss), 'yours', `fit #${req.fit} · ${req.totalSteps.toLocaleString('en-US')} steps`, 'optimized-final'),
      num('improvement vs cosine', fmtPct(r.improvement.vsCosine), better(r.improvement.vsCosine), cosine ? `cosine ${fmtLoss(cosine[1])} · ${delta(cosine[1])}` : ''),
      num('vs best baseline', fmtPct(r.improvement.vsBestBaseline), better(r.improvement.vsBestBaseline), bestBase[0] ? `${bestBase[0]} ${fmtLoss(bestBase[1])} · ${delta(bestBase[1])}` : ''),
      h('div', { class: 'card-num small' }, h('span', {}, 'search'), h('strong', {}, `${r.iterations} iterations`), h('small', {}, `${r.backend} · ${fmtNum(r.wallMs / 1000)} s`)),
    );
  }

  /** Charts: optimized lrs from the result; baseline schedules and curves from the API. */
  private async drawCharts(r: OptimizeResult, req: OptimizeRequest): Promise<void> {
    const total = req.totalSteps;
    const every = everyFor(total, 2000);
    // Results of schedules over 100,000 steps leave their lrs out (lrsOmitted): the server samples the spec then.
    const opt = r.lrs ? thinLrs(r.lrs, every) : await api.expand(r.schedule, every).then((e) => ({ steps: e.steps, values: e.lrs })).catch(() => ({ steps: [], values: [] }));
    const lr: SeriesInput[] = [{ label: 'optimized', color: COLORS.optimized!, steps: opt.steps, values: opt.values, width: 2.5 }];
    const loss: SeriesInput[] = [{ label: 'optimized', color: COLORS.optimized!, steps: r.curve.steps, values: r.curve.loss, width: 2.5 }];
    this.lrChart.set(lr);
    this.lossChart.yCap = valueAt(r.curve.steps, r.curve.loss, Math.max(req.warmupSteps, total * 0.15));
    this.lossChart.set(loss);
    setContent(this.resultStatus, loadingState('Loading baseline curves…'));
    const results = await Promise.allSettled(
      Object.entries(r.baselines).map(async ([name, b]) => {
        const [exp, pred] = await Promise.all([api.expand(b.schedule, every), typeof b.loss === 'object' && !Array.isArray(b.loss) ? Promise.resolve(b.loss) : api.predict({ fit: req.fit, schedule: b.schedule, every })]);
        return { name, exp, pred };
      }),
    );
    for (const res of results) {
      if (res.status !== 'fulfilled') continue;
      const { name, exp, pred } = res.value;
      lr.push({ label: name, color: COLORS[name] ?? '#94a3b8', steps: exp.steps, values: exp.lrs, dash: DASH[name] });
      loss.push({ label: name, color: COLORS[name] ?? '#94a3b8', steps: pred.steps, values: pred.loss, dash: DASH[name] });
    }
    this.lrChart.set(lr);
    this.lossChart.set(loss);
    const failed = results.find((x) => x.status === 'rejected') as PromiseRejectedResult | undefined;
    setContent(this.resultStatus, failed ? errorState(failed.reason, 'Some baseline curves could not be drawn') : null);
  }
}

export function optimizeView(): { el: HTMLElement; show: () => void } {
  const view = new OptimizeView();
  return { el: view.el, show: () => view.show() };
}
