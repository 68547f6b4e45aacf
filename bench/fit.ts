/**
 * Fit benchmark (library level): wall time of the upstream 3-curve MPL fit (cosine_24000,
 * constant_24000, wsdcon_9) for 25M and 100M, without and with leave-one-curve-out, and the time
 * to predict a 72,000-step cosine schedule at ~500 steps; then through the HTTP API, the time to the
 * POST /fit answer and, with leave-one-out (computed in the background after the answer), the time
 * until GET /fits/{id} shows it done. Prints figures; asserts nothing.
 * Run: node --import tsx bench/fit.ts
 */
import { fitLaw, evaluateMetrics } from '../src/fit/index.js';
import { publishedSplit, PUBLISHED } from '../src/fixtures/luo2025.js';
import { meanMetrics } from '../src/laws/metrics.js';
import { predictMpl, predictMplDirect } from '../src/laws/mpl/index.js';
import { expandSchedule, evenSteps } from '../src/schedule/expand.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const size of ['25M', '100M'] as const) {
  const { train, test } = publishedSplit(size);
  // The default method (map), the published procedure (reference), early-stopped Adam and the converged fit.
  for (const method of ['map', 'reference', 'adam', 'converged'] as const) {
    const times: number[] = [];
    let report = fitLaw({ law: 'mpl', curves: train, options: { leaveOneOut: false, method } });
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      report = fitLaw({ law: 'mpl', curves: train, options: { leaveOneOut: false, method } });
      times.push(performance.now() - t0);
    }
    const t0 = performance.now();
    const withLoo = fitLaw({ law: 'mpl', curves: train, options: { method } });
    const looMs = performance.now() - t0;
    const m = meanMetrics(test.map((c) => evaluateMetrics('mpl', report.params.map((p) => p.value), c)));
    console.log(
      `${size} method ${method}: 3-curve mpl fit ${median(times).toFixed(0)} ms (median of 3; ${report.iterations} iterations, converged ${report.converged}); ` +
        `with leave-one-out ${looMs.toFixed(0)} ms; test mean R2 ${m.r2.toFixed(4)} PredE ${m.predE.toFixed(5)} WorstE ${m.worstE.toFixed(5)}; ` +
        `LOO PredE ${withLoo.leaveOneOut!.mean.predE.toFixed(5)}` +
        (method === 'reference'
          ? `; max relative deviation from the published params ${Math.max(...report.params.map((p, j) => Math.abs(p.value / PUBLISHED[size].params[j]! - 1))).toExponential(2)}`
          : ''),
    );
  }
}

const lrs = expandSchedule('cosine:peak=3e-4,warmup=2160,total=72000,final=3e-5');
const steps = evenSteps(lrs.length, 500).filter((s) => s > 0);
const params = [3.04045406, 0.52468604, 0.50786857, 363.78751622, 2.06560812, 0.58279013, 0.64142257];
const cold0 = performance.now();
predictMpl(lrs, steps, params);
const coldMs = performance.now() - cold0;
const warm: number[] = [];
for (let r = 0; r < 20; r++) {
  const t = performance.now();
  predictMpl(lrs, steps, params);
  warm.push(performance.now() - t);
}
const d0 = performance.now();
const direct = predictMplDirect(lrs, steps, params);
const directMs = performance.now() - d0;
const fast = predictMpl(lrs, steps, params);
let rel = 0;
for (let i = 0; i < fast.length; i++) rel = Math.max(rel, Math.abs(fast[i]! - direct[i]!) / direct[i]!);
console.log(
  `predict 72,000-step cosine at ${steps.length} steps: ${median(warm).toFixed(2)} ms warm (median of 20), ${coldMs.toFixed(1)} ms first call; ` +
    `direct sum ${directMs.toFixed(0)} ms; max relative difference ${rel.toExponential(2)}`,
);

// Through the HTTP API: POST /fit on the seeded demo curves and GET /predict, on a real server.
{
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { buildApp } = await import('../src/app.js');
  const dir = mkdtempSync(join(tmpdir(), 'lrcast-bench-fit-'));
  const app = await buildApp({ dbPath: join(dir, 'bench.sqlite'), seed: true });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  try {
    const list = (await (await fetch(`${base}/curves?limit=100`)).json()) as { items: { id: number; name: string }[] };
    const idOf = (name: string) => list.items.find((c) => c.name === name)!.id;
    for (const size of ['25M', '100M']) {
      const curveIds = ['cosine_24000', 'constant_24000', 'wsdcon_9'].map((n) => idOf(`${size}/${n}`));
      for (const leaveOneOut of [false, true]) {
        const times: number[] = [];
        const looTimes: number[] = [];
        let fitId = 0;
        for (let r = 0; r < (leaveOneOut ? 1 : 3); r++) {
          const t = performance.now();
          const res = await fetch(`${base}/fit`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ curveIds, law: 'mpl', options: { leaveOneOut } }),
          });
          fitId = ((await res.json()) as { id: number }).id;
          times.push(performance.now() - t);
          if (!leaveOneOut) continue;
          // The answer comes with the main fit; leave-one-out completes the stored fit in the background.
          for (;;) {
            const fit = (await (await fetch(`${base}/fits/${fitId}`)).json()) as { leaveOneOut: { status: string; error?: string } | null };
            if (fit.leaveOneOut?.status !== 'pending') {
              if (fit.leaveOneOut?.status !== 'done') throw new Error(`fit ${fitId}: leave-one-out ${JSON.stringify(fit.leaveOneOut)}`);
              break;
            }
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          looTimes.push(performance.now() - t);
        }
        console.log(
          `${size}: POST /fit (3 curves, mpl, leaveOneOut ${leaveOneOut}) answered in ${median(times).toFixed(0)} ms${times.length > 1 ? ' (median of 3)' : ''}` +
            (leaveOneOut ? `; leave-one-out done (GET /fits/{id}) ${median(looTimes).toFixed(0)} ms after the POST` : ''),
        );
        if (!leaveOneOut) {
          const url = `${base}/predict?fit=${fitId}&schedule=${encodeURIComponent('cosine:peak=3e-4,warmup=2160,total=72000,final=3e-5')}`;
          await fetch(url);
          const ts: number[] = [];
          for (let r = 0; r < 20; r++) {
            const t = performance.now();
            await (await fetch(url)).json();
            ts.push(performance.now() - t);
          }
          // A new schedule every call: its expansion and the law engine's preparation are not cached.
          const fresh: number[] = [];
          for (let r = 0; r < 20; r++) {
            const spec = `cosine:peak=3e-4,warmup=2160,total=72000,final=${(3e-5 + (r + 1) * 1e-9).toPrecision(6)}`;
            const t = performance.now();
            await (await fetch(`${base}/predict?fit=${fitId}&schedule=${encodeURIComponent(spec)}`)).json();
            fresh.push(performance.now() - t);
          }
          console.log(
            `${size}: GET /predict 72,000-step cosine at ~500 steps ${median(ts).toFixed(1)} ms the same schedule again, ` +
              `${median(fresh).toFixed(1)} ms a new schedule each call (medians of 20, HTTP round trip)`,
          );
        }
      }
    }
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
