/**
 * Optimizer benchmark: wall time and predicted final loss per space and TF.js backend, for the
 * published 100M and 25M multi-power-law fits (24,000 steps, peak 3e-4, 2,160 warmup steps).
 *
 *   node --import tsx bench/optimize.ts [--backend wasm,cpu] [--space free,piecewise,wsd] [--model 100M,25M]
 */
import { optimizeSchedule, initBackend, type SpaceName } from '../src/optimize/index.js';
import type { BackendName } from '../src/optimize/backend.js';

const MODELS: Record<string, { params: number[]; reference: number }> = {
  '100M': { params: [2.6514477, 0.60115152, 0.45295811, 437.9464276, 2.13245612, 0.59785199, 0.65523644], reference: 2.924683 },
  '25M': { params: [3.04045406, 0.52468604, 0.50786857, 363.78751622, 2.06560812, 0.58279013, 0.64142257], reference: 3.257954 },
};

function arg(name: string, fallback: string): string[] {
  const i = process.argv.indexOf(`--${name}`);
  return (i >= 0 ? process.argv[i + 1]! : fallback).split(',');
}

const backends = arg('backend', 'wasm') as BackendName[];
const spaces = arg('space', 'free,piecewise,wsd') as SpaceName[];
const models = arg('model', '100M,25M');

console.log('backend\tmodel\tspace\tloss\treference\tbest baseline\titerations\twall ms\tknots');
for (const wanted of backends) {
  const backend = await initBackend(wanted);
  for (const model of models) {
    const { params, reference } = MODELS[model]!;
    for (const space of spaces) {
      const result = await optimizeSchedule({ params, totalSteps: 24000, peakLr: 3e-4, warmupSteps: 2160, space });
      const b = result.baselines;
      const bestBaseline = Math.min(b.cosine.loss, b.linear.loss, b.wsd.loss, b.constant.loss);
      const knots = result.schedule.split(';').length;
      console.log(
        [backend, model, space, result.predictedFinalLoss.toFixed(6), reference.toFixed(6), bestBaseline.toFixed(6), result.iterations, result.wallMs.toFixed(0), knots].join('\t'),
      );
      if (result.warnings.length > 0) console.log(`  warnings: ${result.warnings.join(' | ')}`);
    }
  }
}
