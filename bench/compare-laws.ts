/**
 * mpl vs lra fitted on the same 3 curves (cosine_24000, constant_24000, wsdcon_9) of each model
 * size: mean test metrics over the other six curves, side by side. Prints figures only.
 * Run: node --import tsx bench/compare-laws.ts
 */
import { fitLaw, evaluateMetrics } from '../src/fit/index.js';
import { publishedSplit, PUBLISHED } from '../src/fixtures/luo2025.js';
import { meanMetrics, type CurveMetrics } from '../src/laws/metrics.js';

const row = (label: string, m: CurveMetrics | { r2: number; mae: number; rmse: number; predE: number; worstE: number }, extra = '') =>
  `${label.padEnd(22)} R2 ${m.r2.toFixed(4)}  MAE ${m.mae.toFixed(5)}  RMSE ${m.rmse.toFixed(5)}  PredE ${m.predE.toFixed(5)}  WorstE ${m.worstE.toFixed(5)}${extra}`;

for (const size of ['25M', '100M'] as const) {
  const { train, test } = publishedSplit(size);
  console.log(`== ${size}: fit on ${train.map((c) => c.shortName).join(', ')}; test on ${test.length} curves`);
  for (const law of ['mpl', 'lra'] as const) {
    const report = fitLaw({ law, curves: train, options: { leaveOneOut: false } });
    const mean = meanMetrics(test.map((c) => evaluateMetrics(law, report.params.map((p) => p.value), c)));
    console.log(row(`${law} (fit here)`, mean, `  [fit ${report.wallMs.toFixed(0)} ms]`));
  }
  console.log(row('mpl (published table)', PUBLISHED[size].metrics));
}
