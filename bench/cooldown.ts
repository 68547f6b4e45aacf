/**
 * The cooldown planner on real runs (issue 13, part 3): on each 124M constant-lr run of
 * fixtures/schaipp-haegele-2025 (peaks 1e-4, 5e-4, 1e-3, 2e-3; 50,000 steps), the run so far is its
 * val log up to step 19,999 (40% of its steps: logged points to step 19,800), read like an upload.
 * MPL is fitted with the default method on:
 *   - `so-far`: that run so far alone;
 *   - `so-far+probes`: plus the two cooldown probes branched from the same run at step 10,000 (the
 *     15,000-step WSD runs with 10% and 20% linear cooldowns at that peak, finished by step 15,000,
 *     before now). No 15k runs exist at 1e-4, so that peak has no such row.
 * Then for every WSD run of the same peak (they resume the constant run, so they are its possible
 * futures), the plan (src/optimize/cooldown.ts, budget 50,000 steps) evaluates the cooldown that was
 * actually run: start = total - round(fraction x total), that length, its shape, final lr 0. The
 * prediction at the run's last val step is compared with the val loss observed there. Runs whose
 * cooldown started before now cannot be planned from now and are listed as skipped. Intervals come
 * from src/predict/interval.ts on the fit's interval basis (levels 0.8 and 0.95), as the route gives them.
 *
 * Run: npm run bench:cooldown (needs the script line `"bench:cooldown": "node --import tsx bench/cooldown.ts"`),
 * or node --import tsx bench/cooldown.ts. Writes the tables to stdout and bench/results/cooldown.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { projectPath } from '../src/paths.js';
import { fitLaw } from '../src/fit/index.js';
import type { FitCurve, FitReport, FitRequest } from '../src/fit/types.js';
import { intervalBasisOf } from '../src/predict/interval-basis.js';
import { planInterval } from '../src/optimize/cooldown-interval.js';
import { predictMpl } from '../src/laws/mpl/index.js';
import { load124mCurve, read124mManifest, type Run124m } from '../src/fixtures/schaipp-haegele.js';
import { planCooldown, type PlanOptions } from '../src/optimize/cooldown.js';
import { candidateLrs } from '../src/optimize/cooldown-eval.js';
import { exactPiecewiseSpec } from '../src/optimize/prefix.js';
import type { CooldownCandidate } from '../src/optimize/cooldown-grid.js';

const BUDGET = 50_000;
const SO_FAR_MAX_STEP = 19_999;
const PEAKS = [0.0001, 0.0005, 0.001, 0.002];
const LEVELS = [0.8, 0.95] as const;

/** The interval of the loss at one step of a whole run, at a level. */
type Interval = (lrs: Float64Array, step: number, level: number) => { lower: number; upper: number };

interface Variant {
  label: string;
  curves: FitCurve[];
}

interface Row {
  peak: number;
  variant: string;
  run: string;
  cooldown: string;
  step: number;
  predicted: number;
  observed: number;
  intervals: ({ lower: number; upper: number } | undefined)[];
  lrMismatch: number;
}

/** The constant run at `peak` and its WSD runs, from the manifest. */
function runsAt(peak: number): { constant: Run124m; wsd: Run124m[] } {
  const runs = read124mManifest().filter((r) => r.peakLr === peak);
  const constant = runs.find((r) => r.schedule === 'constant');
  if (!constant) throw new Error(`no constant run at peak ${peak}`);
  return { constant, wsd: runs.filter((r) => r.schedule === 'wsd').sort((a, b) => a.totalSteps - b.totalSteps || a.cooldownFraction! - b.cooldownFraction!) };
}

/** The fit curves of each variant (the 10k-branched probes only where they exist). */
function variants(soFar: FitCurve, wsd: Run124m[]): Variant[] {
  const probes = wsd.filter((r) => r.totalSteps === 15_000 && r.resumedFromStep === 10_000).map((r) => load124mCurve(r.name, 'val'));
  const out: Variant[] = [{ label: 'so-far', curves: [soFar] }];
  if (probes.length > 0) out.push({ label: `so-far+probes(${probes.map((p) => p.run.cooldownFraction).join(',')})`, curves: [soFar, ...probes] });
  return out;
}

/** The interval function of a fit (its basis, as the fit routes store it), or why there is none. */
function intervalOf(request: FitRequest, report: FitReport): Interval | string {
  try {
    const basis = intervalBasisOf(request, report);
    return (lrs, step, level) => planInterval({ basis, level })(lrs, step);
  } catch (error) {
    return `intervals unavailable: ${(error as Error).message}`;
  }
}

/** The cooldown a WSD run actually ran, as a plan candidate (decay start = total - round(fraction x total)). */
function actualCooldown(run: Run124m): CooldownCandidate {
  const length = Math.round(run.cooldownFraction! * run.totalSteps);
  const start = run.totalSteps - length;
  return { start, length, end: run.totalSteps, shape: run.cooldownShape!, finalFraction: 0 };
}

/** Largest relative difference between the candidate's lrs and the run's logged lrs at its logged val steps. */
function lrMismatch(lrs: Float64Array, target: FitCurve & { run: Run124m }): number {
  const logged = load124mCurve(target.run.name, 'val').lrs;
  let worst = 0;
  for (const s of target.steps) if (s < lrs.length) worst = Math.max(worst, Math.abs(lrs[s]! - logged[s]!) / target.run.peakLr);
  return worst;
}

/** One row per plannable WSD run: the plan's prediction of the cooldown it ran against its last val loss. */
function scoreTargets(peak: number, variant: Variant, soFar: FitCurve, params: number[], wsd: Run124m[], interval: Interval | string): { rows: Row[]; skipped: string[] } {
  const prefix = exactPiecewiseSpec(soFar.lrs);
  const now = soFar.lrs.length;
  const rows: Row[] = [];
  const skipped: string[] = [];
  for (const run of wsd) {
    const c = actualCooldown(run);
    if (c.start < now || c.end > BUDGET) {
      skipped.push(run.name.replace(/^ann124-/, '').replace(/_lr[0-9.]+_/, '@'));
      continue;
    }
    const plan = planCooldown({ params, totalSteps: BUDGET, prefix, grid: { starts: [c.start], lengths: [c.length], shapes: [c.shape], finalFractions: [0] } });
    const entry = plan.grid.find((e) => e.start === c.start && e.length === c.length && e.shape === c.shape)!;
    const target = load124mCurve(run.name, 'val');
    const step = target.steps[target.steps.length - 1]!;
    const lrs = candidateLrs(soFar.lrs, entry);
    const predicted = step === c.end - 1 ? entry.loss : predictMpl(lrs, [step], params)[0]!;
    const intervals = typeof interval === 'string' ? [] : LEVELS.map((level) => interval(lrs, step, level));
    rows.push({ peak, variant: variant.label, run: run.name, cooldown: `${c.start}-${c.end} ${c.shape}`, step, predicted, observed: target.loss[target.loss.length - 1]!, intervals, lrMismatch: lrMismatch(lrs, target) });
  }
  return { rows, skipped };
}

/** The default-grid plan of the run so far, in a line. */
function defaultPlanLine(soFar: FitCurve, params: number[], options: PlanOptions): string {
  const plan = planCooldown({ params, totalSteps: BUDGET, prefix: exactPiecewiseSpec(soFar.lrs) }, options);
  const b = plan.best;
  const range = b.lower !== undefined ? ` [${b.lower.toFixed(4)}, ${b.upper!.toFixed(4)}]` : '';
  return (
    `default grid: ${plan.grid.length} candidates, ${(plan.work / 1e6).toFixed(2)}M terms, ${plan.wallMs.toFixed(0)} ms; best: cooldown ${b.start}-${b.end} ${b.shape} to ${b.finalFraction} x lr, ` +
    `predicted ${b.loss.toFixed(4)}${range}; gain vs cool down now (${plan.references.coolDownNow.start}-${plan.references.coolDownNow.end}) ${plan.gain.vsCoolDownNow.toFixed(4)}, ` +
    `vs 20% cooldown at the budget ${plan.gain.vsContinueToBudget.toFixed(4)}`
  );
}

/** The 50,000-step runs ordered by observed and by predicted final loss (fraction and shape), best first. */
function rankLine(rows: Row[]): string {
  const full = rows.filter((r) => r.run.includes(`_${BUDGET}_`));
  const label = (r: Row) => r.run.replace(/^ann124-/, '').replace(/_lr[0-9.]+_\d+_/, ' ');
  const order = (key: (r: Row) => number) => [...full].sort((a, b) => key(a) - key(b)).map(label).join(' < ');
  return `${BUDGET}-step runs, observed order: ${order((r) => r.observed)}; predicted order: ${order((r) => r.predicted)}`;
}

const fmtInterval = (i: { lower: number; upper: number } | undefined, observed: number) =>
  i ? `[${i.lower.toFixed(4)}, ${i.upper.toFixed(4)}] ${observed >= i.lower && observed <= i.upper ? 'yes' : 'no'}` : 'n/a';

function table(rows: Row[]): string[] {
  const lines = [
    '| peak | fit | run | cooldown (start-end shape) | step | predicted | observed | error | rel. error | 80% interval, inside | 95% interval, inside |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const err = r.predicted - r.observed;
    lines.push(
      `| ${r.peak} | ${r.variant} | ${r.run} | ${r.cooldown} | ${r.step} | ${r.predicted.toFixed(4)} | ${r.observed.toFixed(4)} | ${err >= 0 ? '+' : ''}${err.toFixed(4)} | ${((100 * err) / r.observed).toFixed(2)}% | ${fmtInterval(r.intervals[0], r.observed)} | ${fmtInterval(r.intervals[1], r.observed)} |`,
    );
  }
  return lines;
}

/** One summary line: mean and max |relative error|, mean signed error and coverage of `sel`. */
function summaryLine(label: string, peak: string, sel: Row[]): string {
  const rel = sel.map((r) => (r.predicted - r.observed) / r.observed);
  const inside = (k: number) => {
    const have = sel.filter((r) => r.intervals[k]);
    return have.length === 0 ? 'n/a' : `${have.filter((r) => r.observed >= r.intervals[k]!.lower && r.observed <= r.intervals[k]!.upper).length}/${have.length}`;
  };
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  return `| ${label} | ${peak} | ${sel.length} | ${pct(rel.reduce((a, v) => a + Math.abs(v), 0) / rel.length)} | ${pct(Math.max(...rel.map(Math.abs)))} | ${pct(rel.reduce((a, v) => a + v, 0) / rel.length)} | ${inside(0)} | ${inside(1)} |`;
}

/** Mean |relative error| and coverage per fit variant, per peak and over all peaks. */
function summary(rows: Row[]): string[] {
  const lines = ['| fit | peak | runs | mean abs. rel. error | max abs. rel. error | mean signed rel. error | inside 80% | inside 95% |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const kind of ['so-far', 'so-far+probes']) {
    const sel = rows.filter((r) => r.variant === kind || r.variant.startsWith(`${kind}(`));
    if (sel.length === 0) continue;
    for (const peak of PEAKS) {
      const at = sel.filter((r) => r.peak === peak);
      if (at.length > 0) lines.push(summaryLine(kind, String(peak), at));
    }
    lines.push(summaryLine(kind, 'all', sel));
  }
  return lines;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const rows: Row[] = [];
  const notes: string[] = [];
  for (const peak of PEAKS) {
    const { constant, wsd } = runsAt(peak);
    const soFar = load124mCurve(constant.name, 'val', { maxStep: SO_FAR_MAX_STEP });
    for (const variant of variants(soFar, wsd)) {
      const request: FitRequest = { law: 'mpl', curves: variant.curves, options: { leaveOneOut: false } };
      const fitStart = performance.now();
      const report = fitLaw(request);
      const params = report.params.map((p) => p.value);
      const interval = intervalOf(request, report);
      const { rows: scored, skipped } = scoreTargets(peak, variant, soFar, params, wsd, interval);
      rows.push(...scored);
      const plan = defaultPlanLine(soFar, params, typeof interval === 'string' ? {} : { interval: (lrs, step) => interval(lrs, step, 0.8) });
      notes.push(`- peak ${peak}, ${variant.label} (fit ${((performance.now() - fitStart) / 1000).toFixed(1)} s with scoring): ${plan}`);
      if (typeof interval === 'string') notes.push(`  - ${interval}`);
      notes.push(`  - ${rankLine(scored)}`);
      notes.push(`  - not plannable from step ${soFar.lrs.length} (their cooldown started earlier): ${skipped.join(', ') || 'none'}`);
      console.error(`peak ${peak} ${variant.label}: ${scored.length} runs scored`);
    }
  }
  const worstLr = Math.max(...rows.map((r) => r.lrMismatch));
  const md = [
    '# Cooldown planner on the 124M runs',
    '',
    `Run so far: each constant run's val log to step ${SO_FAR_MAX_STEP} (40% of 50,000 steps); budget ${BUDGET} steps. Predicted and observed val loss at each WSD run's last val step (the plan predicts the cooldown it ran). The candidates' lrs match the runs' logged lrs to ${worstLr.toExponential(1)} x peak at every logged val step.`,
    '',
    ...summary(rows),
    '',
    ...table(rows),
    '',
    ...notes,
    '',
    `Wall time: ${((performance.now() - t0) / 1000).toFixed(1)} s.`,
    '',
  ].join('\n');
  console.log(md);
  const out = projectPath('bench', 'results', 'cooldown.md');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, md);
  console.error(`wrote ${out}`);
}

await main();
