/** The real fixture curves (fixtures/manifest.json) as FitCurves, for tests and benchmarks. */
import { readFileSync } from 'node:fs';
import { projectPath } from '../paths.js';
import { expandSchedule } from '../schedule/expand.js';
import { parseCurveCsv } from '../curves/csv.js';
import { readManifest } from '../store/seed.js';
import type { FitCurve } from './types.js';

export interface FixtureCurve extends FitCurve {
  schedule: string;
  modelSize: string;
  split: 'train' | 'test';
  /** File name without folder or extension, e.g. `cosine_24000`. */
  shortName: string;
}

/** Every fixture curve with its per-step schedule; `modelSize` filters (e.g. '25M'). */
export function loadFixtureCurves(modelSize?: string): FixtureCurve[] {
  const out: FixtureCurve[] = [];
  for (const entry of readManifest().curves) {
    const meta = entry.meta as { modelSize: string; split: 'train' | 'test' };
    if (modelSize && meta.modelSize !== modelSize) continue;
    const points = parseCurveCsv(readFileSync(projectPath('fixtures', entry.file), 'utf8'));
    out.push({
      id: entry.name,
      name: entry.name,
      lrs: expandSchedule(entry.schedule),
      steps: Array.from(points.steps),
      loss: Array.from(points.losses),
      schedule: entry.schedule,
      modelSize: meta.modelSize,
      split: meta.split,
      shortName: entry.file.replace(/^.*\//, '').replace(/\.csv$/, ''),
    });
  }
  return out;
}

/** Train and test curves of the published protocol for one model size. */
export function publishedSplit(modelSize: string): { train: FixtureCurve[]; test: FixtureCurve[] } {
  const curves = loadFixtureCurves(modelSize);
  return { train: curves.filter((c) => c.split === 'train'), test: curves.filter((c) => c.split === 'test') };
}

/** Published MPL params [L0, A, alpha, B, C, beta, gamma] and mean test metrics (fixtures/README.md). */
export const PUBLISHED = {
  '25M': {
    params: [3.04045406, 0.52468604, 0.50786857, 363.78751622, 2.06560812, 0.58279013, 0.64142257],
    metrics: { r2: 0.9988, mae: 0.00376, rmse: 0.00465, predE: 0.0011, worstE: 0.00409 },
  },
  '100M': {
    params: [2.6514477, 0.60115152, 0.45295811, 437.9464276, 2.13245612, 0.59785199, 0.65523644],
    metrics: { r2: 0.9983, mae: 0.00435, rmse: 0.00592, predE: 0.00142, worstE: 0.00583 },
  },
} as const;
