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

export function optimizeView(): { el: HTMLElement; show: () => void } {
  const fitSel = fitPicker('optimize-fit');
  const inputs = {
    totalSteps: numberInput('totalSteps', 24000),
    peakLr: numberInput('peakLr', '3e-4'),
    warmupSteps: numberInput('warmupSteps', 2160),
    minLr: numberInput('minLr', '', { placeholder: 'default' }),
    finalLr: numberInput('finalLr', '', { placeholder: 'free' }),
    pieces: numberInput('pieces', 12),
    restarts: numberInput('restarts', '', { placeholder: 'default' }),
    budget: numberInput('budgetMs', 5, { 'data-testid': 'budget' }),
  };
  const space = h('select', { name: 'space', 'data-field': 'space' }, h('option', { value: 'free' }, 'free (every step)'), h('option', { value: 'piecewise' }, 'piecewise'), h('option', { value: 'wsd' }, 'WSD family'));
  const monotone = h('input', { type: 'checkbox', name: 'monotone', 'data-field': 'monotone', checked: true });
  const piecesRow = field('Pieces', inputs.pieces);
  piecesRow.hidden = true;
  space.addEventListener('change', () => (piecesRow.hidden = space.value !== 'piecewise'));
  const runBtn = h('button', { class: 'primary', type: 'submit', 'data-testid': 'run-optimize' }, 'Optimize schedule');
  const form = h(
    'form',
    { class: 'optimize-form', onsubmit: (e: Event) => (e.preventDefault(), void run()) },
    field('Fit', fitSel),
    h('div', { class: 'grid2' }, field('Total steps', inputs.totalSteps), field('Peak lr', inputs.peakLr), field('Warmup steps', inputs.warmupSteps), field('Min lr', inputs.minLr), field('Final lr', inputs.finalLr), field('Restarts', inputs.restarts)),
    field('Search space', space),
    piecesRow,
    h('label', { class: 'check' }, monotone, ' monotone decay after warmup'),
    field('Time budget (s)', inputs.budget),
    h('div', { class: 'row' }, runBtn),
  );

  const bar = h('progress', { max: 1, value: 0, 'data-testid': 'optimize-progress', dataset: { events: '0', max: '0' } });
  const barText = h('span', { class: 'progress-text', 'data-testid': 'optimize-progress-text' }, 'idle');
  let currentJob = '';
  const cancelBtn = h('button', { class: 'secondary small', hidden: true, 'data-testid': 'cancel-optimize', onclick: () => void api.cancelJob(currentJob).catch((err) => toast(toApiError(err).describe(), 'error')) }, 'Cancel');
  const progressBox = h('div', { class: 'progress-box', hidden: true }, bar, barText, cancelBtn);
  const runStatus = h('div', {});

  const cards = h('div', { class: 'cards', 'data-testid': 'optimize-result' });
  const lrChart = new Chart({ height: 210, yLabel: 'learning rate', sync: 'opt', lrAxis: true, emptyText: 'The optimized schedule appears here.' }, 'opt-lr');
  const lossChart = new Chart({ height: 260, yLabel: 'predicted loss', sync: 'opt', emptyText: 'Predicted loss curves appear here.' }, 'opt-loss');
  const downloads = h('div', { class: 'downloads' });
  const specBox = h('code', { class: 'spec-box', 'data-testid': 'optimized-spec' });
  const resultStatus = h('div', { class: 'plot-status' });
  const resultCard = h(
    'div',
    { class: 'card' },
    h('header', {}, h('h2', {}, 'Result'), resultStatus),
    cards,
    h('div', { class: 'result-foot' }, specBox, downloads),
    h('h3', {}, 'Learning-rate schedule'),
    lrChart.el,
    h('h3', {}, 'Predicted loss'),
    lossChart.el,
  );
  setContent(cards, emptyState('No optimized schedule yet.', 'Choose a fit and run length, then press “Optimize schedule”.'));

  function readRequest(): OptimizeRequest {
    const n = (el: HTMLInputElement) => (el.value.trim() === '' ? undefined : Number(el.value));
    const req: OptimizeRequest = {
      fit: Number(store.currentFit),
      totalSteps: n(inputs.totalSteps)!,
      peakLr: n(inputs.peakLr)!,
      warmupSteps: n(inputs.warmupSteps)!,
      minLr: n(inputs.minLr),
      finalLr: n(inputs.finalLr),
      space: space.value as OptimizeRequest['space'],
      monotone: monotone.checked,
      restarts: n(inputs.restarts),
      budgetMs: inputs.budget.value.trim() ? Math.round(Number(inputs.budget.value) * 1000) : undefined,
    };
    if (req.space === 'piecewise') req.pieces = n(inputs.pieces);
    for (const k of Object.keys(req) as (keyof OptimizeRequest)[]) if (req[k] === undefined) delete req[k];
    return req;
  }

  function setProgress(p: { progress?: number; bestLoss?: number | null; iteration?: number }) {
    const raw = Number(p.progress ?? 0);
    const frac = raw > 1 ? raw / 100 : raw;
    bar.value = Math.max(Number(bar.value), Math.min(1, frac));
    bar.dataset.max = String(bar.value);
    barText.textContent = `${Math.round(Number(bar.value) * 100)}%${p.bestLoss !== undefined && p.bestLoss !== null ? ` · best final loss ${fmtLoss(p.bestLoss)}` : ''}${p.iteration !== undefined ? ` · iteration ${p.iteration}` : ''}`;
  }

  async function run() {
    if (store.currentFit === null) {
      setContent(runStatus, errorState(new ApiError(0, 'no fit chosen: create a fit in the Fits tab first', 'fit'), 'Cannot optimize yet'));
      return;
    }
    markField(form, null);
    runBtn.disabled = true;
    progressBox.hidden = false;
    bar.value = 0;
    bar.dataset.events = '0';
    bar.dataset.max = '0';
    bar.removeAttribute('data-state');
    barText.textContent = 'starting…';
    setContent(runStatus);
    const req = readRequest();
    let jobId: string;
    try {
      ({ jobId } = await api.startOptimize(req));
    } catch (err) {
      runBtn.disabled = false;
      progressBox.hidden = true;
      markField(form, err);
      setContent(runStatus, errorState(err, 'The optimizer did not start'));
      return;
    }
    bar.dataset.job = String(jobId);
    currentJob = String(jobId);
    cancelBtn.hidden = false;
    setContent(cards, loadingState(`Optimizing job ${jobId}: progress on the left; results appear here when it is done.`));
    const finish = (job: Partial<Job> & { result?: OptimizeResult }, ok: boolean) => {
      runBtn.disabled = false;
      cancelBtn.hidden = true;
      if (ok && job.result) {
        bar.value = 1;
        bar.dataset.state = 'done';
        barText.textContent = `done · predicted final loss ${fmtLoss(job.result.predictedFinalLoss)}`;
        void showResult(job.result, req);
      } else if (toApiError(job.error ?? '').detail === 'cancelled') {
        bar.dataset.state = 'failed';
        barText.textContent = 'cancelled';
        setContent(cards, emptyState('Cancelled: nothing was stored.', 'Press “Optimize schedule” to run again.'));
      } else {
        bar.dataset.state = 'failed';
        barText.textContent = 'failed';
        setContent(cards, emptyState('No result: the run failed.', 'See the error on the left.'));
        setContent(runStatus, errorState(toApiError(job.error ?? 'the job failed without a message'), 'The optimizer failed'));
      }
    };
    try {
      const result = await followJob(jobId, (p, via) => {
        if (via === 'stream') bar.dataset.events = String(Number(bar.dataset.events) + 1);
        setProgress(p);
      });
      finish({ result: result as unknown as OptimizeResult }, true);
    } catch (err) {
      finish({ error: err }, false);
    }
  }

  async function showResult(r: OptimizeResult, req: OptimizeRequest) {
    const entries = Object.entries(r.baselines ?? {});
    const finals = entries.map(([name, b]) => [name, baselineFinal(b)] as const);
    const bestBase = finals.reduce((a, b) => (b[1] < a[1] ? b : a), ['', Infinity] as readonly [string, number]);
    const num = (label: string, value: string, cls = '', sub = '', testId?: string) => h('div', { class: `card-num ${cls}`, 'data-testid': testId }, h('span', {}, label), h('strong', {}, value), sub ? h('small', {}, sub) : null);
    const better = (v: number) => (v > 0 ? 'better' : v < 0 ? 'worse' : '');
    const cosine = finals.find((f) => f[0] === 'cosine');
    const delta = (base: number) => {
      const d = r.predictedFinalLoss - base;
      return `${d <= 0 ? '−' : '+'}${Math.abs(d).toFixed(4)} loss`;
    };
    setContent(
      cards,
      num('optimized final loss', fmtLoss(r.predictedFinalLoss), 'yours', `fit #${req.fit} · ${req.totalSteps.toLocaleString('en-US')} steps`, 'optimized-final'),
      num('improvement vs cosine', fmtPct(r.improvement?.vsCosine), better(r.improvement?.vsCosine ?? 0), cosine ? `cosine ${fmtLoss(cosine[1])} · ${delta(cosine[1])}` : ''),
      num('vs best baseline', fmtPct(r.improvement?.vsBestBaseline), better(r.improvement?.vsBestBaseline ?? 0), bestBase[0] ? `${bestBase[0]} ${fmtLoss(bestBase[1])} · ${delta(bestBase[1])}` : ''),
      h('div', { class: 'card-num small' }, h('span', {}, 'search'), h('strong', {}, `${r.iterations ?? '—'} iterations`), h('small', {}, `${r.backend ?? ''} · ${fmtNum((r.wallMs ?? 0) / 1000)} s`)),
    );
    specBox.textContent = r.schedule;
    specBox.title = r.schedule;
    if (r.scheduleId !== undefined && r.scheduleId !== null) {
      setContent(
        downloads,
        ...(['json', 'csv', 'pytorch'] as const).map((f) =>
          h('a', { class: 'button secondary', href: api.scheduleDownload(r.scheduleId!, f), download: `schedule-${r.scheduleId}.${f === 'pytorch' ? 'py' : f}`, 'data-testid': `download-${f}` }, `Download ${f === 'pytorch' ? 'PyTorch' : f.toUpperCase()}`),
        ),
      );
    } else setContent(downloads, h('span', { class: 'muted' }, 'no stored schedule id: nothing to download'));
    if (r.warnings?.length) setContent(runStatus, h('ul', { class: 'notes' }, ...r.warnings.map((w) => h('li', {}, w))));

    // Charts: optimized lrs from the result; baseline schedules and curves from the API.
    const total = r.lrs?.length || req.totalSteps;
    const every = everyFor(total, 2000);
    const optSteps: number[] = [];
    const optLrs: number[] = [];
    for (let s = 0; s < (r.lrs?.length ?? 0); s += every) optSteps.push(s), optLrs.push(r.lrs[s]!);
    if (r.lrs?.length && optSteps[optSteps.length - 1] !== r.lrs.length - 1) optSteps.push(r.lrs.length - 1), optLrs.push(r.lrs[r.lrs.length - 1]!);
    const lr: SeriesInput[] = [{ label: 'optimized', color: COLORS.optimized!, steps: optSteps, values: optLrs, width: 2.5 }];
    const loss: SeriesInput[] = [{ label: 'optimized', color: COLORS.optimized!, steps: r.curve.steps, values: r.curve.loss, width: 2.5 }];
    lrChart.set(lr);
    lossChart.yCap = valueAt(r.curve.steps, r.curve.loss, Math.max(req.warmupSteps, total * 0.15));
    lossChart.set(loss);
    setContent(resultStatus, loadingState('Loading baseline curves…'));
    const results = await Promise.allSettled(
      entries.map(async ([name, b]) => {
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
    lrChart.set(lr);
    lossChart.set(loss);
    const failed = results.find((x) => x.status === 'rejected') as PromiseRejectedResult | undefined;
    setContent(resultStatus, failed ? errorState(failed.reason, 'Some baseline curves could not be drawn') : null);
  }

  const el = h(
    'section',
    { class: 'view', id: 'view-optimize' },
    h('aside', { class: 'panel' }, h('div', { class: 'card' }, h('header', {}, h('h2', {}, 'Optimize a schedule')), form, progressBox, runStatus)),
    h('div', { class: 'content' }, resultCard),
  );
  return { el, show: () => undefined };
}
