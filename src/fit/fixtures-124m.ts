/**
 * The 124M runs of Schaipp, Hägele et al. (fixtures/schaipp-haegele-2025/, see its README) as
 * FitCurves, read the way a user's upload is: the CSV through parseCurveCsv, the per-step schedule
 * rebuilt from the logged `lr` column by scheduleFromLoggedLrs (no spec, no warmupSteps). So a
 * benchmark on these curves sees exactly the schedules an upload of the same file would get.
 */
import { readFileSync } from 'node:fs';
import { projectPath } from '../paths.js';
import { parseCurveCsv } from '../curves/csv.js';
import { scheduleFromLoggedLrs } from '../curves/schedule.js';
import type { FitCurve } from './types.js';

export const RUNS_124M_DIR = 'schaipp-haegele-2025';

/** One run of fixtures/schaipp-haegele-2025/manifest.json. */
export interface Run124m {
  name: string;
  /** The public JSON log it was made from. */
  source: string;
  schedule: 'wsd' | 'cosine' | 'constant';
  peakLr: number;
  totalSteps: number;
  warmupSteps: number;
  /** WSD: fraction of the run spent in the cooldown (else null). */
  cooldownFraction: number | null;
  /** WSD: 'linear' or 'sqrt' (1 - sqrt) cooldown (else null). */
  cooldownShape: 'linear' | 'sqrt' | null;
  /** Cosine: the final lr (else null). */
  finalLr: number | null;
  /** WSD: the step at which the cooldown run resumed the constant run (null: trained from scratch). */
  resumedFromStep: number | null;
  trainPoints: number;
  valPoints: number;
  firstStep: number;
  lastStep: number;
}

/** Which log of a run: `train` (one batch every 50 steps, noisy) or `val` (32 batches every 200 steps). */
export type Log124m = 'train' | 'val';

export interface Curve124m extends FitCurve {
  run: Run124m;
  log: Log124m;
}

let manifestCache: Run124m[] | undefined;

/** Every run of the manifest, in its order. */
export function read124mManifest(): Run124m[] {
  manifestCache ??= JSON.parse(readFileSync(projectPath('fixtures', RUNS_124M_DIR, 'manifest.json'), 'utf8')) as Run124m[];
  return manifestCache;
}

/** The manifest entry of run `name`; throws for an unknown name. */
export function run124m(name: string): Run124m {
  const run = read124mManifest().find((r) => r.name === name);
  if (!run) throw new RangeError(`no 124M run named ${name} in fixtures/${RUNS_124M_DIR}/manifest.json`);
  return run;
}

/**
 * Run `name`'s train or val log as a FitCurve (id `NAME.log`), with the per-step schedule rebuilt
 * from its logged lrs: exact at logged steps, linear between them, the first logged lr held from
 * step 0 (no warmupSteps, as an upload without that field), so the schedule ends at the last logged
 * step. `maxStep` keeps only the rows up to that step, as if the file had been uploaded then (the
 * schedule is rebuilt from those rows only; id and name get a `[<=maxStep]` suffix).
 */
export function load124mCurve(name: string, log: Log124m = 'val', options: { maxStep?: number } = {}): Curve124m {
  const run = run124m(name);
  let points = parseCurveCsv(readFileSync(projectPath('fixtures', RUNS_124M_DIR, `${name}.${log}.csv`), 'utf8'));
  const { maxStep } = options;
  let suffix = '';
  if (maxStep !== undefined) {
    const keep = points.steps.findIndex((s) => s > maxStep);
    if (keep === 0) throw new RangeError(`${name}.${log} has no rows at or before step ${maxStep}`);
    if (keep > 0) points = { steps: points.steps.slice(0, keep), losses: points.losses.slice(0, keep), lrs: points.lrs?.slice(0, keep) ?? null };
    suffix = `[<=${maxStep}]`;
  }
  return {
    id: `${name}.${log}${suffix}`,
    name: `${name}.${log}${suffix}`,
    lrs: scheduleFromLoggedLrs(points),
    steps: Array.from(points.steps),
    loss: Array.from(points.losses),
    run,
    log,
  };
}
