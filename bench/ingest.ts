/**
 * Ingest benchmark: upload a dense 34,000-point curve (one loss per step, as raw training logs
 * are) over HTTP as JSON and as CSV, read it back, and check it is identical.
 * Prints wall times; the target is under 1 s per upload. Run: npm run bench:ingest
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';

const N = 34_000;
const dir = mkdtempSync(join(tmpdir(), 'lrcast-bench-'));
const app = await buildApp({ dbPath: join(dir, 'bench.sqlite') });
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

// Synthetic dense curve (a power law with noise) only to measure transport and storage.
const points = Array.from({ length: N }, (_, step) => ({
  step,
  loss: 2.8 + 5 / Math.sqrt(step + 10) + 0.01 * Math.sin(step * 12.9898),
  lr: step < 2000 ? (3e-4 * step) / 1999 : 3e-4 * (1 - (step - 2000) / N),
}));
const csv = 'step,lr,loss\n' + points.map((p) => `${p.step},${p.lr},${p.loss}`).join('\n');

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  console.log(`${label.padEnd(36)} ${(performance.now() - t0).toFixed(1).padStart(8)} ms`);
  return out;
}

try {
  for (let round = 1; round <= 3; round++) {
    console.log(`round ${round}`);
    const json = await timed(`  POST /curves JSON (${N} points)`, async () => {
      const res = await fetch(`${base}/curves`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `dense-json-${round}`, points }),
      });
      return res.json();
    });
    const fromCsv = await timed(`  POST /curves CSV (${N} points)`, async () => {
      const res = await fetch(`${base}/curves?name=dense-csv-${round}`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv });
      return res.json();
    });
    const back = await timed('  GET /curves/:id (JSON read-back)', async () => (await fetch(`${base}/curves/${json.id}`)).json());
    await timed('  GET /curves/:id?format=csv', async () => (await fetch(`${base}/curves/${fromCsv.id}?format=csv`)).text());
    const same = back.points.length === N && back.points.every((p: { step: number; loss: number; lr: number }, i: number) => p.step === points[i]!.step && p.loss === points[i]!.loss && p.lr === points[i]!.lr);
    console.log(`  read-back identical: ${same}`);
  }
} finally {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
}
