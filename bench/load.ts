/**
 * Load benchmark (issue 12): the real server in a child process on loopback, driven by autocannon.
 *
 *   npm run bench:load [-- --duration 10] [-- --only curves-page,health-under-heavy-work]
 *
 * Scenarios, each at 10 and 50 connections, each with a light /health probe running beside it:
 *   - predict-new:    GET /predict with a new 24,000-step schedule on every request (nothing cached);
 *   - predict-cached: GET /predict with one 24,000-step schedule over and over;
 *   - curves-page:    GET /curves?limit=20.
 * Then /health alone while the heaviest /predict the service allows and a 2,000,000-step schedule
 * search run. Targets (a 2-core machine): zero errors and zero 5xx everywhere; /health p99 under 50 ms
 * throughout; predict-new at least 150 req/s, predict-cached at least 1,000 req/s.
 *
 * The server runs with LRCAST_RATE_LIMIT=0: this measures the service's capacity, not the per-client
 * limit (with it, one loopback client would get 429s by design). Every run is bounded by --duration.
 */
import autocannon, { type Result } from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectPath } from '../src/paths.js';
import { freePort } from '../test/multiprocess-helpers.js';

const MPL_25M = '3.04045406,0.52468604,0.50786857,363.78751622,2.06560812,0.58279013,0.64142257';
const duration = Number(argument('duration', '10'));
/** Scenario names to run (all when empty): predict-new, predict-cached, curves-page, health-under-heavy-work. */
const only = argument('only', '').split(',').filter(Boolean);
const wanted = (scenario: string) => only.length === 0 || only.includes(scenario);
const HEALTH_P99_TARGET_MS = 50;

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

/** The service on a fresh database with the demo curves; resolves once /health answers. */
async function startServer(port: number, dbDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', projectPath('src', 'server.ts')], {
    cwd: projectPath(),
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LRCAST_DB: join(dbDir, 'load.sqlite'), LRCAST_SEED: '1', LRCAST_RATE_LIMIT: '0', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`the server exited (code ${exited}) before answering /health`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error('the server did not answer /health within 60 s');
}

function run(options: autocannon.Options): Promise<Result> {
  return new Promise((resolve, reject) => {
    autocannon({ duration, ...options }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** What the /health probe measured. */
interface Probe {
  p50: number;
  p99: number;
  max: number;
  errors: number;
  fiveXx: number;
  requests: number;
}

/**
 * A light /health probe (`rate` req/s on one connection) for as long as the scenario beside it, in its
 * own process (bench/load-probe.ts), so that the load generator's busy event loop does not add to it.
 */
function healthProbe(base: string, rate = 20): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', projectPath('bench', 'load-probe.ts'), `${base}/health`, String(duration), String(rate)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (chunk) => (out += chunk));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`the /health probe exited with ${code}`))));
  });
}

interface Row {
  scenario: string;
  connections: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  fiveXx: number;
  non2xx: number;
  healthP99: number;
}

function row(scenario: string, connections: number, result: Result, health: Probe): Row {
  return {
    scenario,
    connections,
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + health.errors,
    fiveXx: result['5xx'] + health.fiveXx,
    non2xx: result.non2xx,
    healthP99: health.p99,
  };
}

/** GET /predict on a new 24,000-step WSD schedule each request (its decay start moves by one step). */
function newSchedulePredicts(base: string, connections: number): Promise<Result> {
  let counter = 0;
  return run({
    url: base,
    connections,
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => {
          const decayStart = 14_000 + (counter++ % 8_000);
          request.path = `/predict?law=mpl&params=${MPL_25M}&schedule=wsd:peak=3e-4,warmup=2160,total=24000,decayStart=${decayStart},final=3e-5`;
          return request;
        },
      },
    ],
  });
}

const cachedPredictPath = `/predict?law=mpl&params=${MPL_25M}&schedule=cosine:peak=3e-4,warmup=2160,total=24000,final=3e-5`;

async function scenarios(base: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const connections of [10, 50]) {
    const cases: [string, () => Promise<Result>][] = [
      ['predict-new', () => newSchedulePredicts(base, connections)],
      ['predict-cached', () => run({ url: base + cachedPredictPath, connections })],
      ['curves-page', () => run({ url: `${base}/curves?limit=20`, connections })],
    ];
    for (const [scenario, load] of cases.filter(([name]) => wanted(name))) {
      const [result, health] = await Promise.all([load(), healthProbe(base)]);
      rows.push(row(scenario, connections, result, health));
      console.error(`  ${scenario} @${connections}: ${result.requests.average.toFixed(0)} req/s, /health p99 ${health.p99} ms`);
    }
  }
  return rows;
}

/**
 * The heaviest /predict the service allows: the longest schedule at the densest sampling it accepts
 * (probed: `every` doubles from 1 until the answer is not a 400).
 */
async function heaviestPredictPath(base: string): Promise<string> {
  const schedule = 'cosine:peak=3e-4,warmup=2160,total=10000000,final=3e-5';
  for (let every = 1; every <= 10_000_000; every *= 2) {
    const path = `/predict?law=mpl&params=${MPL_25M}&schedule=${schedule}&every=${every}`;
    const res = await fetch(base + path);
    await res.arrayBuffer();
    if (res.status !== 400) return path;
  }
  throw new Error('no /predict of a 10,000,000-step schedule was accepted');
}

/** /health alone while the heaviest allowed /predict loops (2 at a time) and a 2M-step search runs. */
async function healthUnderHeavyWork(base: string): Promise<{ row: Row; heavyPath: string; heavyCount: number; heavyMs: number[]; searchStatus: number }> {
  const heavyPath = await heaviestPredictPath(base);
  const search = fetch(`${base}/optimize-schedule?async=1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ law: 'mpl', params: MPL_25M.split(',').map(Number), totalSteps: 2_000_000, peakLr: 3e-4, warmupSteps: 2160, budgetMs: duration * 1000 }),
  });
  const searchStatus = (await search).status;
  let stop = false;
  const heavyMs: number[] = [];
  // Each heavy request has its own final lr, so none is answered from the prediction cache.
  let variant = 0;
  const heavyLoop = async () => {
    while (!stop) {
      const t0 = performance.now();
      const res = await fetch(base + heavyPath.replace('final=3e-5', `final=${(3e-5 + ++variant * 1e-9).toPrecision(8)}`));
      await res.arrayBuffer();
      if (res.status >= 500) throw new Error(`heavy /predict answered ${res.status}`);
      heavyMs.push(performance.now() - t0);
    }
  };
  const loops = [heavyLoop(), heavyLoop()];
  const health = await healthProbe(base, 50);
  stop = true;
  await Promise.all(loops);
  const asRow: Row = { scenario: 'health-under-heavy-work', connections: 1, reqPerSec: health.requests / duration, p50: health.p50, p99: health.p99, errors: health.errors, fiveXx: health.fiveXx, non2xx: 0, healthP99: health.p99 };
  return { row: asRow, heavyPath, heavyCount: heavyMs.length, heavyMs, searchStatus };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)]!;
}

const TARGETS: Record<string, number> = { 'predict-new': 150, 'predict-cached': 1000 };

function report(rows: Row[]): boolean {
  console.log(`\n## bench:load (${duration} s per run, loopback)\n`);
  console.log('| scenario | connections | req/s | p50 ms | p99 ms | errors | 5xx | non-2xx | /health p99 ms | target |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  let ok = true;
  for (const r of rows) {
    const target = TARGETS[r.scenario];
    const met = r.errors === 0 && r.fiveXx === 0 && r.healthP99 < HEALTH_P99_TARGET_MS && (target === undefined || r.reqPerSec >= target);
    ok &&= met;
    const targetText = `${target ? `>= ${target} req/s, ` : ''}/health p99 < ${HEALTH_P99_TARGET_MS}: ${met ? 'met' : 'NOT met'}`;
    console.log(`| ${r.scenario} | ${r.connections} | ${r.reqPerSec.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.fiveXx} | ${r.non2xx} | ${r.healthP99} | ${targetText} |`);
  }
  return ok;
}

const port = await freePort();
const dbDir = mkdtempSync(join(tmpdir(), 'lrcast-load-'));
const base = `http://127.0.0.1:${port}`;
console.error(`bench:load: server on ${base}, ${duration} s per run`);
const server = await startServer(port, dbDir);
try {
  const rows = await scenarios(base);
  const heavy = wanted('health-under-heavy-work') ? await healthUnderHeavyWork(base) : undefined;
  if (heavy) rows.push(heavy.row);
  const allMet = report(rows);
  if (heavy) console.log(`\nheaviest allowed /predict: \`${heavy.heavyPath.replace(MPL_25M, '<25M params>')}\`: ${heavy.heavyCount} answered, median ${median(heavy.heavyMs).toFixed(0)} ms each; the 2,000,000-step search was accepted with ${heavy.searchStatus}.`);
  console.log(allMet ? '\nall targets met' : '\nsome targets NOT met (see the table)');
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  rmSync(dbDir, { recursive: true, force: true });
}
