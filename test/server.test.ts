/** The real server process, started as `npm start` starts it, with PORT and LRCAST_DB set. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectPath } from '../src/paths.js';
import { tempDir, fixtures, fixtureCsv } from './helpers.js';

async function startServer(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', projectPath('src', 'server.ts')], {
    cwd: projectPath(),
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  return { base, stop, log: () => output };
}

test('a running server seeds the demo curves, takes uploads and rejects bad input', async () => {
  const { dir, cleanup } = tempDir();
  const db = join(dir, 'data', 'lrcast.sqlite');
  const server = await startServer({ LRCAST_DB: db });
  try {
    const list = await (await fetch(`${server.base}/curves?limit=100`)).json();
    assert.equal(list.total, 18);
    assert.deepEqual(list.items.map((c: { name: string }) => c.name).sort(), fixtures.map((f) => f.name).sort());

    const entry = fixtures[0]!;
    const upload = await fetch(`${server.base}/curves?name=mine&schedule=${encodeURIComponent(entry.schedule)}`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: fixtureCsv(entry),
    });
    assert.equal(upload.status, 201);
    const { id } = await upload.json();
    const back = await (await fetch(`${server.base}/curves/${id}?format=csv`)).text();
    assert.equal(back.trim().split('\n').length, fixtureCsv(entry).trim().split('\n').length);

    const bad = await fetch(`${server.base}/curves`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bad', schedule: entry.schedule, points: [{ step: 3000, loss: -1 }] }),
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal((await bad.json()).field, 'points[0].loss');
    assert.equal((await (await fetch(`${server.base}/curves?limit=1`)).json()).total, 19);
  } finally {
    await server.stop();
  }

  // Restart on the same file: nothing re-seeded, nothing lost.
  const again = await startServer({ LRCAST_DB: db, LRCAST_TOKEN: 'tok' });
  try {
    assert.equal((await (await fetch(`${again.base}/curves?limit=1`)).json()).total, 19);
    const denied = await fetch(`${again.base}/curves/1`, { method: 'DELETE' });
    assert.equal(denied.status, 401);
  } finally {
    await again.stop();
    cleanup();
  }
});

test('over real HTTP, synchronous fits and schedule searches answer, and a fit whose client leaves stops', async () => {
  const { dir, cleanup } = tempDir();
  const server = await startServer({ LRCAST_DB: join(dir, 'lrcast.sqlite') });
  const post = (path: string, body: unknown, signal?: AbortSignal) =>
    fetch(`${server.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
  try {
    const list = await (await fetch(`${server.base}/curves?limit=100`)).json();
    const idOf = (name: string) => list.items.find((c: { name: string }) => c.name === name).id;
    const curveIds = ['25M/cosine_24000', '25M/constant_24000', '25M/wsdcon_9'].map(idOf);

    // (Node emits the request's 'close' once its body is read: it must not be taken for a client leaving.)
    const fit = await post('/fit', { curveIds, law: 'lra' });
    assert.equal(fit.status, 201, await fit.clone().text());
    const params = (await fit.json()).params.map((p: { value: number }) => p.value);
    assert.equal(params.length, 4);
    const search = await post('/optimize-schedule', {
      law: 'mpl',
      params: [3.04045406, 0.52468604, 0.50786857, 363.78751622, 2.06560812, 0.58279013, 0.64142257],
      totalSteps: 24000,
      peakLr: 3e-4,
      warmupSteps: 2160,
      space: 'wsd',
    });
    assert.equal(search.status, 200, await search.clone().text());
    assert.ok((await search.json()).predictedFinalLoss < 3.3);

    // A long fit whose client goes away stops: nothing is stored and the next fit is not held up.
    const leaving = new AbortController();
    const abandoned = post('/fit', { curveIds, law: 'mpl', options: { method: 'adam', adamIterations: 100000 } }, leaving.signal).catch((e: Error) => e.name);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    leaving.abort();
    assert.equal(await abandoned, 'AbortError');
    const searchLeaving = new AbortController();
    const abandonedSearch = post('/optimize-schedule', { law: 'mpl', params: [3.04045406, 0.52468604, 0.50786857, 363.78751622, 2.06560812, 0.58279013, 0.64142257], totalSteps: 24000, peakLr: 3e-4, warmupSteps: 2160, budgetMs: 120_000, restarts: 64 }, searchLeaving.signal).catch((e: Error) => e.name);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    searchLeaving.abort();
    assert.equal(await abandonedSearch, 'AbortError');
    const next = await post('/fit', { curveIds, law: 'lra', options: { leaveOneOut: false } });
    assert.equal(next.status, 201);
    assert.equal((await (await fetch(`${server.base}/fits`)).json()).total, 2);
    // Neither abandoned request is logged as a server error.
    assert.doesNotMatch(server.log(), /"level":50/);
  } finally {
    await server.stop();
    cleanup();
  }
});
