/**
 * Optimize view: run the schedule optimizer as a job, follow its event stream with a progress
 * bar, then show the optimized schedule against the baselines (each named by its spec), the
 * predicted curves with the 80% band of the optimized one, the improvement as an absolute loss
 * delta and a relative % (the API's `improvement`, README of the dashboard: "Improvement"),
 * download links (exact spec), and the list of past optimized schedules with "open in What-if".
 * The form's settings live in the URL (`#/optimize?total=…&peak=…`), so a reload or a link restores them,
 * and so does the search's job (`job=ID`): its result when done, its progress while it runs.
 */
import { api, everyFor, followJob, toApiError, ApiError, INTERVAL_LEVEL, type Baseline, type Job, type OptimizeRequest, type OptimizeResult, type StoredScheduleSummary } from '../api.js';
import { Chart, valueAt, type SeriesInput } from '../charts.js';
import { store } from '../state.js';
import { updateViewQuery, viewName, viewQuery } from '../url-state.js';
import { h, setContent, emptyState, loadingState, errorState, fmtLoss, fmtNum, fmtInterval, field, markField, toast, firstRunSteps } from '../ui.js';
import { fitPicker, numberInput } from '../widgets.js';
import { deltaText, gain, gainClass, relativeText } from '../improvement.js';

const COLORS: Record<string, string> = { optimized: '#2563eb', cosine: '#dc2626', wsd: '#059669', linear: '#d97706', constant: '#64748b' };
const DASH: Record<string, number[]> = { cosine: [6, 4], wsd: [2, 3], linear: [8, 3, 2, 3], constant: [1, 3] };
/** Past schedules shown per page. */
const HISTORY_PAGE = 8;

/** The answer's fields of prediction intervals and relative improvements (contract of issue 13/14; absent on older servers). */
interface IntervalFields {
  predictedFinalInterval?: { level: number; lower: number | null; upper: number | null };
  curve: OptimizeResult['curve'] & { lower?: (number | null)[]; upper?: (number | null)[] };
  improvement: OptimizeResult['improvement'] & { vsCosineRelative?: number; vsBestBaselineRelative?: number };
  familySchedule?: string;
}
type Result = Omit<OptimizeResult, 'curve' | 'improvement'> & IntervalFields;
type BaselineWithInterval = Baseline & { lower?: number | null; upper?: number | null };

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

/** A number of a spec rounded for reading (4 significant digits; integers as they are). */
const roundToken = (t: string) => {
  const v = Number(t);
  return Number.isFinite(v) && !Number.isInteger(v) ? String(Number(v.toPrecision(4))) : t;
};

/**
 * A spec as people read it: numbers rounded, and a long piecewise spec (the optimizer's) as its
 * knot count with the first and last knots. Display only: downloads and links keep the exact spec.
 */
export function readableSpec(spec: string): string {
  const rounded = spec.replace(/-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/gi, roundToken);
  if (!rounded.startsWith('piecewise:')) return rounded;
  const knots = rounded.slice('piecewise:'.length).split(';');
  if (knots.length <= 8) return rounded;
  return `piecewise, ${knots.length} knots: ${knots.slice(0, 3).join('; ')}; … ${knots.slice(-2).join('; ')}`;
}

/** The backend warning of an answer as users read it (no package names or paths): "GPU backend not installed; using wasm". */
export function readableWarning(w: string): string {
  const m = /^TF\.js backend (\S+) \((.*)\)$/s.exec(w);
  if (!m) return w;
  const missing = /node-gpu unavailable/.test(m[2]!) && /cannot find|not found|ERR_MODULE_NOT_FOUND|not installed/i.test(m[2]!);
  return `GPU backend ${missing ? 'not installed' : 'unavailable'}; using ${m[1]}`;
}

/** `#/whatif?fit=ID&s=<spec>&s=<spec>`: What-if comparing these schedules under the fit. */
export function whatifLink(fit: number | undefined, specs: string[]): string {
  const query = new URLSearchParams();
  if (fit !== undefined) query.set('fit', String(fit));
  for (const s of specs) query.append('s', s);
  return `#/whatif?${query.toString()}`;
}

/** The form fields and their URL keys. */
const URL_KEYS = { totalSteps: 'total', peakLr: 'peak', warmupSteps: 'warmup', minLr: 'minLr', finalLr: 'finalLr', pieces: 'pieces', restarts: 'restarts', budget: 'budget' } as const;

/** The Optimize view: elements and state as fields, one method per concern (see CurvesView). */
class OptimizeView {
  readonly el: HTMLElement;
  private currentJob = '';

  // ---- form ----
  // Only fits the server says it can optimize (`optimizable`: mpl, not lra, whose fits are a 400 there).
  private readonly fitSel = fitPicker('optimize-fit', { only: (f) => f.optimizable === true, noneText: 'no mpl fit yet: only mpl fits can be optimized' });
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
  private readonly piecesRow: HTMLElement;
  private readonly form: HTMLFormElement;

  // ---- progress ----
  private readonly bar = h('progress', { max: 1, value: 0, 'data-testid': 'optimize-progress', dataset: { events: '0', max: '0' } });
  private readonly barText = h('span', { class: 'progress-text', 'data-testid': 'optimize-progress-text' }, 'idle');
  private readonly cancelBtn = h('button', { class: 'secondary small', hidden: true, 'data-testid': 'cancel-optimize', onclick: () => void api.cancelJob(this.currentJob).catch((err) => toast(toApiError(err).describe(), 'error')) }, 'Cancel');
  private readonly progressBox = h('div', { class: 'progress-box', hidden: true }, this.bar, this.barText, this.cancelBtn);
  private readonly runStatus = h('div', {});

  // ---- result ----
  private readonly cards = h('div', { class: 'cards', 'data-testid': 'optimize-result' });
  private readonly baselineTable = h('div', { class: 'baseline-table' });
  private readonly lrChart = new Chart({ height: 210, yLabel: 'learning rate', sync: 'opt', lrAxis: true, emptyText: 'The optimized schedule appears here.' }, 'opt-lr');
  private readonly lossChart = new Chart({ height: 260, yLabel: 'predicted loss', sync: 'opt', emptyText: 'Predicted loss curves appear here.' }, 'opt-loss');
  private readonly downloads = h('div', { class: 'downloads' });
  private readonly specBox = h('code', { class: 'spec-box', 'data-testid': 'optimized-spec' });
  private readonly resultStatus = h('div', { class: 'plot-status' });

  // ---- past schedules ----
  private readonly history = h('div', { class: 'history', 'data-testid': 'schedule-history' });
  private historyOffset = 0;

  constructor() {
    this.piecesRow = field('Pieces', this.inputs.pieces);
    this.form = this.buildForm();
    this.emptyCards();
    this.el = this.layout();
    this.readUrl();
    store.on('fits', () => this.emptyCards());
  }

  show(): void {
    this.readUrl();
    // A reload or a pasted link naming another job than the one shown: show that one.
    const job = viewName() === 'optimize' ? viewQuery().get('job') : null;
    if (job && job !== this.currentJob) void this.restore(job);
    this.writeUrl();
    void this.loadHistory();
  }

  /** The empty result: the 1-2-3 when no mpl fit exists yet, else what to press (a result, a run or a note stays). */
  private emptyCards(): void {
    if (this.cards.dataset.state === 'result' || this.cards.dataset.state === 'running' || this.cards.dataset.state === 'note') return;
    const hasFit = store.fits.some((f) => f.optimizable === true);
    setContent(this.cards, hasFit || !store.fitsLoaded ? emptyState('No optimized schedule yet.', 'Choose a fit and run length, then press “Optimize schedule”.') : h('div', { class: 'grow' }, emptyState('No mpl fit yet: only mpl fits can be optimized.', 'Fit the mpl law in Fits first.'), firstRunSteps()));
  }

  private buildForm(): HTMLFormElement {
    const { inputs, space } = this;
    this.piecesRow.hidden = true;
    space.addEventListener('change', () => (this.piecesRow.hidden = space.value !== 'piecewise'));
    const form = h(
      'form',
      { class: 'optimize-form', onsubmit: (e: Event) => (e.preventDefault(), void this.run()) },
      field('Fit', this.fitSel, 'mpl fits, newest first'),
      h('div', { class: 'grid2' }, field('Total steps', inputs.totalSteps), field('Peak lr', inputs.peakLr), field('Warmup steps', inputs.warmupSteps), field('Min lr', inputs.minLr), field('Final lr', inputs.finalLr), field('Restarts', inputs.restarts)),
      field('Search space', space),
      this.piecesRow,
      h('label', { class: 'check' }, this.monotone, ' monotone decay after warmup'),
      field('Time budget (s)', inputs.budget),
      h('div', { class: 'row' }, this.runBtn),
    );
    form.addEventListener('input', () => this.writeUrl());
    form.addEventListener('change', () => this.writeUrl());
    return form;
  }

  /** Restore the form from the URL's keys (those present). */
  private readUrl(): void {
    if (viewName() !== 'optimize') return;
    const q = viewQuery();
    for (const [name, key] of Object.entries(URL_KEYS)) {
      const v = q.get(key);
      if (v !== null) this.inputs[name as keyof typeof URL_KEYS].value = v;
    }
    const space = q.get('space');
    if (space && [...this.space.options].some((o) => o.value === space)) this.space.value = space;
    this.piecesRow.hidden = this.space.value !== 'piecewise';
    if (q.has('monotone')) this.monotone.checked = q.get('monotone') !== '0';
  }

  /** Write the form's settings and the job shown (`job=`) into the URL (only while this view shows). */
  private writeUrl(): void {
    if (viewName() !== 'optimize') return;
    const changes: Record<string, string | null> = { space: this.space.value, monotone: this.monotone.checked ? '1' : '0', job: this.currentJob || null };
    for (const [name, key] of Object.entries(URL_KEYS)) changes[key] = this.inputs[name as keyof typeof URL_KEYS].value.trim() || null;
    if (this.space.value !== 'piecewise') changes.pieces = null;
    updateViewQuery(changes);
  }

  private layout(): HTMLElement {
    const resultCard = h(
      'div',
      { class: 'card' },
      h('header', {}, h('h2', {}, 'Result'), this.resultStatus),
      this.cards,
      h('div', { class: 'result-foot' }, this.specBox, this.downloads),
      this.baselineTable,
      h('h3', {}, 'Learning-rate schedule'),
      this.lrChart.el,
      h('h3', {}, 'Predicted loss'),
      this.lossChart.el,
    );
    const historyCard = h('div', { class: 'card' }, h('header', {}, h('h2', {}, 'Past optimized schedules')), this.history);
    return h(
      'section',
      { class: 'view', id: 'view-optimize' },
      h('aside', { class: 'panel' }, h('div', { class: 'card' }, h('header', {}, h('h2', {}, 'Optimize a schedule')), this.form, this.progressBox, this.runStatus)),
      h('div', { class: 'content' }, resultCard, historyCard),
    );
  }

  /** The fit the picker shows (only mpl fits are offered), or null. */
  private chosenFit(): number | null {
    const id = Number(this.fitSel.value);
    return Number.isInteger(id) && id > 0 ? id : null;
  }

  private readRequest(fit: number): OptimizeRequest {
    const { inputs } = this;
    const n = (el: HTMLInputElement) => (el.value.trim() === '' ? undefined : Number(el.value));
    const req: OptimizeRequest = {
      fit,
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

  /**
   * Start the search with the 80% interval asked for; a server without optimize intervals (a 400
   * naming `interval`) is asked again without it, so the result still shows.
   */
  private async start(req: OptimizeRequest): Promise<{ jobId: string }> {
    try {
      return await api.startOptimize({ ...req, interval: INTERVAL_LEVEL } as OptimizeRequest);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400 && err.field === 'interval') return api.startOptimize(req);
      throw err;
    }
  }

  private async run(): Promise<void> {
    const fit = this.chosenFit();
    if (fit === null) {
      setContent(this.runStatus, errorState(new ApiError(0, 'no mpl fit chosen: fit the mpl law in the Fits tab first', 'fit'), 'Cannot optimize yet'));
      return;
    }
    markField(this.form, null);
    this.runBtn.disabled = true;
    this.resetProgress();
    setContent(this.runStatus);
    const req = this.readRequest(fit);
    let jobId: string;
    try {
      ({ jobId } = await this.start(req));
    } catch (err) {
      this.runBtn.disabled = false;
      this.progressBox.hidden = true;
      markField(this.form, err);
      setContent(this.runStatus, errorState(err, 'The optimizer did not start'));
      return;
    }
    await this.follow(String(jobId), req);
  }

  /**
   * Follow job `jobId` (one started here, or one still running that the URL names) until it ends, then
   * show how it ended; `req` is the request it ran with (for a restored job, `requestOf` its result).
   * A job replaced meanwhile (a newer run, another link) is let go.
   */
  private async follow(jobId: string, req?: OptimizeRequest): Promise<void> {
    this.bar.dataset.job = jobId;
    this.currentJob = jobId;
    this.writeUrl();
    this.runBtn.disabled = true;
    this.cancelBtn.hidden = false;
    this.cards.dataset.state = 'running';
    setContent(this.cards, loadingState(`Optimizing job ${jobId}: progress on the left; results appear here when it is done.`));
    try {
      const result = (await followJob(jobId, (p, via) => {
        if (jobId !== this.currentJob) return;
        if (via === 'stream') this.bar.dataset.events = String(Number(this.bar.dataset.events) + 1);
        this.setProgress(p);
      })) as unknown as OptimizeResult;
      const ran = req ?? (await this.requestOf(result));
      if (jobId === this.currentJob) this.finish({ result }, true, ran);
    } catch (err) {
      if (jobId === this.currentJob) this.finish({ error: err }, false);
    }
  }

  /**
   * Show the job the URL names (`job=`, after a reload or from a link): its result when done, its
   * progress while queued or running; a job that failed, was cancelled or is not here (deleted, or
   * another database) leaves a short note and `job=` is dropped.
   */
  private async restore(jobId: string): Promise<void> {
    this.currentJob = jobId;
    this.bar.dataset.job = jobId;
    this.cards.dataset.state = 'running';
    setContent(this.cards, loadingState(`Loading optimization job ${jobId}…`));
    let job: Job;
    try {
      job = await api.getJob(jobId);
    } catch (err) {
      if (jobId !== this.currentJob) return;
      const e = toApiError(err);
      // 400: not a job id at all.
      if (e.status === 404 || e.status === 400) return this.dropJob(`Optimization job ${jobId} was not found (deleted, or made with another database).`);
      // Anything else (the server unreachable): say so, and keep `job=` so a reload tries again.
      this.cards.dataset.state = '';
      setContent(this.cards, errorState(e, `Could not load optimization job ${jobId}`));
      return;
    }
    if (jobId !== this.currentJob) return;
    if (job.kind !== 'optimize') return this.dropJob(`Job ${jobId} is not an optimization.`);
    if (job.status === 'failed') return this.dropJob(`Optimization job ${jobId} failed${job.error ? `: ${toApiError(job.error).detail}` : ''}.`);
    if (job.status === 'cancelled') return this.dropJob(`Optimization job ${jobId} was cancelled: nothing was stored.`);
    this.resetProgress();
    if (job.status === 'done' && job.result) {
      const req = await this.requestOf(job.result);
      if (jobId === this.currentJob) this.finish({ result: job.result }, true, req);
      return;
    }
    this.setProgress(job);
    await this.follow(jobId);
  }

  /** A job the URL named has no result to show: a short note in the result card, and `job=` out of the URL. */
  private dropJob(note: string): void {
    this.currentJob = '';
    delete this.bar.dataset.job;
    this.progressBox.hidden = true;
    this.runBtn.disabled = false;
    this.cards.dataset.state = 'note';
    setContent(this.cards, h('div', { class: 'grow', 'data-testid': 'optimize-job-note' }, emptyState(note, 'Press “Optimize schedule” to run a new search.')));
    this.writeUrl();
  }

  /**
   * The request a restored job ran with, to draw its result as it was drawn: the fit and run length from
   * its stored schedule (the form may have changed since the run, and the fit list may not be loaded
   * yet); the warmup, which only sets the loss chart's y cap, from the form.
   */
  private async requestOf(r: OptimizeResult): Promise<OptimizeRequest> {
    const form = this.readRequest(this.chosenFit() ?? store.currentFit ?? 0);
    if (r.scheduleId === undefined || r.scheduleId === null) return form;
    try {
      const stored = await api.getSchedule(r.scheduleId);
      return { ...form, fit: typeof stored.source.fit === 'number' ? stored.source.fit : form.fit, totalSteps: stored.totalSteps };
    } catch {
      return form;
    }
  }

  /** The job ended: done (show the result, drawn for `req`), cancelled or failed. */
  private finish(job: Partial<Job> & { result?: OptimizeResult }, ok: boolean, req?: OptimizeRequest): void {
    const { bar, barText } = this;
    this.runBtn.disabled = false;
    this.cancelBtn.hidden = true;
    if (ok && job.result && req) {
      bar.value = 1;
      bar.dataset.state = 'done';
      barText.textContent = `done · predicted final loss ${fmtLoss(job.result.predictedFinalLoss)}`;
      this.cards.dataset.state = 'result';
      void this.showResult(job.result as unknown as Result, req);
      this.historyOffset = 0;
      void this.loadHistory();
      return;
    }
    this.cards.dataset.state = '';
    if (toApiError(job.error ?? '').detail === 'cancelled') {
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

  private async showResult(r: Result, req: OptimizeRequest): Promise<void> {
    this.renderNumbers(r, req);
    this.renderBaselines(r);
    // The family form when the answer has one (space wsd), rounded for reading; the exact spec stays in the title, the copy button and the downloads.
    const shown = r.familySchedule ?? r.schedule;
    this.specBox.textContent = readableSpec(shown);
    this.specBox.title = r.schedule;
    this.specBox.dataset.spec = r.schedule;
    if (r.familySchedule) this.specBox.dataset.family = r.familySchedule;
    else delete this.specBox.dataset.family;
    // The clipboard API needs a secure context (https or localhost): elsewhere the spec is offered in a prompt to copy by hand.
    const copySpec = () =>
      navigator.clipboard
        ? navigator.clipboard.writeText(r.schedule).then(() => toast('Exact spec copied.'), () => window.prompt('The exact spec:', r.schedule))
        : window.prompt('The exact spec:', r.schedule);
    const copy = h('button', { type: 'button', class: 'secondary small', title: 'copy the exact spec', onclick: () => void copySpec() }, 'Copy spec');
    const open = h('a', { class: 'button secondary', href: whatifLink(req.fit, [shown, r.baselines.cosine?.schedule].filter((s): s is string => !!s)), 'data-testid': 'open-whatif' }, 'Open in What-if');
    const links =
      r.scheduleId !== undefined && r.scheduleId !== null
        ? (['json', 'csv', 'pytorch'] as const).map((f) =>
            h('a', { class: 'button secondary', href: api.scheduleDownload(r.scheduleId!, f), download: `schedule-${r.scheduleId}.${f === 'pytorch' ? 'py' : f}`, 'data-testid': `download-${f}` }, `Download ${f === 'pytorch' ? 'PyTorch' : f.toUpperCase()}`),
          )
        : [h('span', { class: 'muted' }, 'no stored schedule id: nothing to download')];
    setContent(this.downloads, copy, open, ...links);
    if (r.warnings.length) setContent(this.runStatus, h('ul', { class: 'notes', 'data-testid': 'optimize-warnings' }, ...r.warnings.map((w) => h('li', {}, readableWarning(w)))));
    await this.drawCharts(r, req);
  }

  /**
   * The result's number cards: final loss (with its 80% interval), improvement vs cosine and vs the
   * best baseline (absolute loss delta and relative %, both from the API's `improvement`), search stats.
   */
  private renderNumbers(r: Result, req: OptimizeRequest): void {
    const finals = Object.entries(r.baselines).map(([name, b]) => [name, baselineFinal(b), b.schedule] as const);
    const best = finals.reduce((a, b) => (b[1] < a[1] ? b : a), ['', Infinity, ''] as readonly [string, number, string]);
    const cosine = finals.find((f) => f[0] === 'cosine');
    const iv = r.predictedFinalInterval;
    const num = (cls: string, testId: string, ...children: (HTMLElement | null)[]) => h('div', { class: `card-num ${cls}`, 'data-testid': testId }, ...children);
    const improvementCard = (label: string, testId: string, abs: number, rel: number | undefined, base: readonly [string, number, string] | undefined) =>
      num(
        gainClass(abs),
        testId,
        h('span', {}, label),
        h('strong', { dataset: { value: String(rel ?? '') } }, relativeText(rel)),
        h('small', { class: 'abs', dataset: { value: String(abs) } }, deltaText(abs)),
        base ? h('small', { class: 'base', title: base[2] }, `${base[0]} ${fmtLoss(base[1])}: ${readableSpec(base[2])}`) : null,
      );
    setContent(
      this.cards,
      num(
        'yours',
        'optimized-final',
        h('span', {}, 'optimized final loss'),
        h('strong', { dataset: { value: String(r.predictedFinalLoss) } }, fmtLoss(r.predictedFinalLoss)),
        iv ? h('small', { class: 'interval', 'data-testid': 'optimized-interval', dataset: { lower: String(iv.lower), upper: String(iv.upper) } }, fmtInterval(iv.level, iv.lower, iv.upper)) : null,
        h('small', {}, `fit #${req.fit} · ${req.totalSteps.toLocaleString('en-US')} steps`),
      ),
      improvementCard('vs cosine', 'improvement-cosine', r.improvement.vsCosine, r.improvement.vsCosineRelative, cosine),
      improvementCard('vs best baseline', 'improvement-best', r.improvement.vsBestBaseline, r.improvement.vsBestBaselineRelative, best[0] ? best : undefined),
      h('div', { class: 'card-num small' }, h('span', {}, 'search'), h('strong', {}, `${r.iterations} iterations`), h('small', {}, `${r.backend} · ${fmtNum(r.wallMs / 1000)} s`)),
    );
  }

  /** The baselines, each named by its spec, with final loss, 80% interval and the optimized schedule's gain over it. */
  private renderBaselines(r: Result): void {
    const rows = Object.entries(r.baselines as Record<string, BaselineWithInterval>).map(([name, b]) => {
      const loss = baselineFinal(b);
      const vs = gain(loss, r.predictedFinalLoss);
      return h(
        'tr',
        { dataset: { baseline: name } },
        h('td', {}, h('span', { class: 'swatch', style: `background:${COLORS[name] ?? '#94a3b8'}` }), ` ${name}`),
        h('td', { class: 'spec', title: b.schedule }, h('code', {}, readableSpec(b.schedule))),
        h('td', { dataset: { value: String(loss) } }, fmtLoss(loss)),
        h('td', {}, fmtInterval(undefined, b.lower, b.upper) || '—'),
        // How much lower the optimized schedule is than this baseline (src/dashboard/improvement.ts, as in What-if).
        h('td', { class: gainClass(vs.abs) }, `${relativeText(vs.rel)} (${deltaText(vs.abs)})`),
      );
    });
    setContent(
      this.baselineTable,
      h(
        'table',
        { class: 'data', 'data-testid': 'baseline-table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'baseline'), h('th', { class: 'spec' }, 'spec'), h('th', {}, 'final loss'), h('th', {}, `${Math.round(INTERVAL_LEVEL * 100)}% interval`), h('th', {}, 'optimized − baseline'))),
        h('tbody', {}, ...rows),
      ),
    );
  }

  /** Charts: optimized lrs from the result (and its 80% band from curve.lower/upper); baseline schedules and curves from the API. */
  private async drawCharts(r: Result, req: OptimizeRequest): Promise<void> {
    const total = req.totalSteps;
    const every = everyFor(total, 2000);
    // Results of schedules over 100,000 steps leave their lrs out (lrsOmitted): the server samples the spec then.
    const opt = r.lrs ? thinLrs(r.lrs, every) : await api.expand(r.schedule, every).then((e) => ({ steps: e.steps, values: e.lrs })).catch(() => ({ steps: [], values: [] }));
    const lr: SeriesInput[] = [{ label: 'optimized', color: COLORS.optimized!, steps: opt.steps, values: opt.values, width: 2.5 }];
    const band = r.curve.lower && r.curve.upper && r.predictedFinalInterval ? { lower: r.curve.lower, upper: r.curve.upper, label: `${Math.round(r.predictedFinalInterval.level * 100)}%` } : undefined;
    const loss: SeriesInput[] = [{ label: 'optimized', color: COLORS.optimized!, steps: r.curve.steps, values: r.curve.loss, width: 2.5, band }];
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

  // ---- past schedules ----

  /** The stored schedules, newest first, a page at a time, each with "open in What-if" and downloads. */
  private async loadHistory(): Promise<void> {
    let page: { items: StoredScheduleSummary[]; total: number };
    try {
      page = await api.listSchedules(HISTORY_PAGE, this.historyOffset);
    } catch (err) {
      setContent(this.history, errorState(err, 'Could not list the stored schedules'));
      return;
    }
    this.history.dataset.total = String(page.total);
    if (!page.total) {
      setContent(this.history, emptyState('No stored schedules yet.', 'Every optimization you run is stored here.'));
      return;
    }
    const rows = page.items.map((s) => {
      const fit = typeof s.source.fit === 'number' ? s.source.fit : undefined;
      return h(
        'tr',
        { 'data-testid': 'schedule-row', dataset: { id: String(s.id) } },
        h('td', {}, `#${s.id}`),
        h('td', {}, new Date(s.createdAt).toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'short' })),
        h('td', {}, fit !== undefined ? `fit #${fit}` : String(s.source.law ?? '')),
        h('td', {}, String(s.source.space ?? '')),
        h('td', {}, s.totalSteps.toLocaleString('en-US')),
        h('td', {}, fmtLoss(typeof s.source.predictedFinalLoss === 'number' ? s.source.predictedFinalLoss : null)),
        h(
          'td',
          { class: 'actions' },
          h('a', { href: whatifLink(fit, [s.spec]), 'data-testid': 'history-whatif' }, 'open in What-if'),
          ' · ',
          h('a', { href: api.scheduleDownload(s.id, 'csv'), download: `schedule-${s.id}.csv` }, 'CSV'),
          ' · ',
          h('a', { href: api.scheduleDownload(s.id, 'pytorch'), download: `schedule-${s.id}.py` }, 'PyTorch'),
        ),
      );
    });
    const pager = h(
      'div',
      { class: 'row' },
      h('span', { class: 'muted' }, `${this.historyOffset + 1}–${this.historyOffset + page.items.length} of ${page.total}`),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'secondary small', disabled: this.historyOffset === 0, onclick: () => ((this.historyOffset = Math.max(0, this.historyOffset - HISTORY_PAGE)), void this.loadHistory()) }, 'newer'),
      h('button', { type: 'button', class: 'secondary small', disabled: this.historyOffset + HISTORY_PAGE >= page.total, onclick: () => ((this.historyOffset += HISTORY_PAGE), void this.loadHistory()) }, 'older'),
    );
    setContent(
      this.history,
      h('div', { class: 'table-scroll' }, h('table', { class: 'data' }, h('thead', {}, h('tr', {}, h('th', {}, 'id'), h('th', {}, 'created'), h('th', {}, 'from'), h('th', {}, 'space'), h('th', {}, 'steps'), h('th', {}, 'predicted final'), h('th', {}, ''))), h('tbody', {}, ...rows))),
      pager,
    );
  }
}

export function optimizeView(): { el: HTMLElement; show: () => void } {
  const view = new OptimizeView();
  return { el: view.el, show: () => view.show() };
}
