/** Curves API on a real SQLite file: fixture round trips, every bad input, nothing stored on rejection. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, fixtures, fixtureCsv } from './helpers.js';
import { parseCurveCsv } from '../src/curves/csv.js';

let ctx: Awaited<ReturnType<typeof testApp>>;
before(async () => {
  ctx = await testApp();
});
after(async () => ctx.close());

async function curveCount(): Promise<number> {
  const res = await ctx.app.inject({ method: 'GET', url: '/curves?limit=1' });
  return res.json().total;
}

test('every fixture round-trips through CSV upload and CSV/JSON read-back', async () => {
  for (const entry of fixtures) {
    const csv = fixtureCsv(entry);
    const res = await ctx.app.inject({
      method: 'POST',
      url: `/curves?name=${encodeURIComponent(entry.name)}&schedule=${encodeURIComponent(entry.schedule)}`,
      headers: { 'content-type': 'text/csv' },
      payload: csv,
    });
    assert.equal(res.statusCode, 201, res.body);
    const created = res.json();
    const original = parseCurveCsv(csv);
    assert.equal(created.pointCount, original.steps.length);
    assert.equal(created.firstStep, original.steps[0]);
    assert.equal(created.schedule, entry.schedule);

    const back = await ctx.app.inject({ method: 'GET', url: `/curves/${created.id}?format=csv` });
    assert.equal(back.statusCode, 200);
    assert.match(back.headers['content-type'] as string, /text\/csv/);
    // Same float64 values (JS may print 9.9e-05 as 0.000099: same number, other notation).
    const reparsed = parseCurveCsv(back.body);
    assert.deepEqual(reparsed, original, `${entry.name}: CSV read-back differs`);

    const json = (await ctx.app.inject({ method: 'GET', url: `/curves/${created.id}` })).json();
    assert.equal(json.points.length, original.steps.length);
    json.points.forEach((p: { step: number; loss: number; lr: number }, i: number) => {
      assert.equal(p.step, original.steps[i]);
      assert.equal(p.loss, original.losses[i]);
      assert.equal(p.lr, original.lrs![i]);
    });
  }
});

test('every fixture round-trips through JSON upload', async () => {
  for (const entry of fixtures) {
    const original = parseCurveCsv(fixtureCsv(entry));
    const points = Array.from(original.steps, (step, i) => ({ step, loss: original.losses[i]!, lr: original.lrs![i]! }));
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/curves',
      payload: { name: entry.name, schedule: entry.schedule, meta: entry.meta, points },
    });
    assert.equal(res.statusCode, 201, res.body);
    const back = (await ctx.app.inject({ method: 'GET', url: `/curves/${res.json().id}` })).json();
    assert.deepEqual(back.points, points);
    assert.deepEqual(back.meta, entry.meta);
  }
});

test('a curve without a spec gets its schedule rebuilt from logged lr values with warmup', async () => {
  const entry = fixtures.find((f) => f.name === '100M/cosine_24000')!;
  const res = await ctx.app.inject({
    method: 'POST',
    url: `/curves?name=rebuilt&warmupSteps=2160`,
    headers: { 'content-type': 'text/csv' },
    payload: fixtureCsv(entry),
  });
  assert.equal(res.statusCode, 201, res.body);
  const sched = (await ctx.app.inject({ method: 'GET', url: `/curves/${res.json().id}/schedule?every=1` })).json();
  assert.equal(sched.lrs[0], 0);
  assert.equal(sched.lrs[2159], 3e-4);
  // Between logged steps 128 apart a cosine is linear to about 2e-5 relative (its curvature bounds the chord error).
  const exact = (s: number) => 3e-5 + 0.5 * (3e-4 - 3e-5) * (1 + Math.cos((Math.PI * (s - 2160)) / (24000 - 2160)));
  for (let s = 2200; s < sched.total; s += 37) assert.ok(Math.abs(sched.lrs[s] - exact(s)) < 5e-5 * 3e-4, `step ${s}`);
});

test('a dense curve of 34,000 points (one per step) reads back identical', async () => {
  const n = 34_000;
  // Synthetic (not a real curve): exercises storage exactness with full-precision floats.
  const points = Array.from({ length: n }, (_, step) => ({ step, loss: 3 + 7 / Math.sqrt(step + 1) + Math.sin(step) * 1e-3, lr: 1e-3 * (1 - step / n) + 1e-9 }));
  const res = await ctx.app.inject({ method: 'POST', url: '/curves', payload: { name: 'dense', points } });
  assert.equal(res.statusCode, 201, res.body);
  const back = (await ctx.app.inject({ method: 'GET', url: `/curves/${res.json().id}` })).json();
  assert.deepEqual(back.points, points);
});

const good = { name: 'ok', schedule: 'constant:peak=1e-3,total=100', points: [{ step: 1, loss: 3 }, { step: 2, loss: 2.9 }] };

test('bad JSON uploads answer 400 problem+json naming the field, and store nothing', async () => {
  const before = await curveCount();
  const cases: [unknown, string][] = [
    [{ ...good, name: '' }, 'name'],
    [{ ...good, name: undefined }, 'name'],
    [{ ...good, points: [] }, 'points'],
    [{ ...good, points: 'x' }, 'points'],
    [{ ...good, points: [{ step: 1, loss: 'abc' }] }, 'points[0].loss'],
    [{ ...good, points: [{ step: 1, loss: -1 }] }, 'points[0].loss'],
    [{ ...good, points: [{ step: 1, loss: 0 }] }, 'points[0].loss'],
    [{ ...good, points: [{ step: 1.5, loss: 1 }] }, 'points[0].step'],
    [{ ...good, points: [{ step: -1, loss: 1 }] }, 'points[0].step'],
    [{ ...good, points: [{ step: 'a', loss: 1 }] }, 'points[0].step'],
    [{ ...good, points: [{ step: 1, loss: 1 }, { step: 1, loss: 1 }] }, 'points[1].step'],
    [{ ...good, points: [{ step: 2, loss: 1 }, { step: 1, loss: 1 }] }, 'points[1].step'],
    [{ ...good, points: [{ step: 1, loss: 1, lr: -1e-4 }] }, 'points[0].lr'],
    [{ ...good, points: [{ step: 1, loss: 1, lr: '1e-3' }] }, 'points[0].lr'],
    [{ ...good, schedule: undefined }, 'schedule'],
    [{ ...good, schedule: 'cosine:peak=1' }, 'schedule.total'],
    [{ ...good, schedule: 'constant:peak=1e-3,total=2' }, 'schedule'],
    [{ ...good, points: [{ step: 1, loss: 1, lr: 2e-3 }] }, 'schedule'],
    [{ ...good, warmupSteps: -3 }, 'warmupSteps'],
    [{ ...good, meta: [1] }, 'meta'],
  ];
  for (const [payload, field] of cases) {
    const res = await ctx.app.inject({ method: 'POST', url: '/curves', payload: payload as object });
    assert.equal(res.statusCode, 400, `${JSON.stringify(payload).slice(0, 120)}: ${res.body}`);
    assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
    const problem = res.json();
    assert.equal(problem.status, 400);
    assert.equal(problem.field, field, `${JSON.stringify(payload).slice(0, 120)}: ${res.body}`);
    assert.ok(problem.title && problem.detail);
  }
  assert.equal(await curveCount(), before);
});

test('bad CSV uploads, bad content types and over-large bodies are rejected and store nothing', async () => {
  const before = await curveCount();
  const post = (payload: string, type = 'text/csv', url = '/curves?name=x&schedule=constant:peak=1,total=100') =>
    ctx.app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload });
  const csvCases: [string, string][] = [
    ['', 'body'],
    ['a,b\n1,2\n', 'header'],
    ['step,loss\n1,abc\n', 'points[0].loss'],
    ['step,loss\n1,nan\n', 'points[0].loss'],
    ['step,loss\n1,inf\n', 'points[0].loss'],
    ['step,loss,lr\n1,2,-0.1\n', 'points[0].lr'],
    ['step,loss\n1,2\n3,2\n2,2\n', 'points[2].step'],
    ['step,loss\n', 'points'],
  ];
  for (const [payload, field] of csvCases) {
    const res = await post(payload);
    assert.equal(res.statusCode, 400, payload);
    assert.equal(res.json().field, field, `${payload}: ${res.body}`);
  }
  const noLr = await post('step,loss\n1,2\n', 'text/csv', '/curves?name=x');
  assert.equal(noLr.statusCode, 400);
  assert.equal(noLr.json().field, 'schedule');

  const xml = await post('<a/>', 'application/xml');
  assert.equal(xml.statusCode, 415);
  assert.match(xml.headers['content-type'] as string, /problem\+json/);

  const huge = await post('step,loss\n' + '1,2\n'.repeat(17 * 1024 * 1024));
  assert.equal(huge.statusCode, 413);
  assert.match(huge.headers['content-type'] as string, /problem\+json/);

  const broken = await post('{"name": ', 'application/json', '/curves');
  assert.equal(broken.statusCode, 400);
  assert.equal(await curveCount(), before);
});

test('more than 2,000,000 points is rejected', async () => {
  const before = await curveCount();
  const rows = new Array(2_000_001);
  for (let i = 0; i < rows.length; i++) rows[i] = `${i},1`;
  const res = await ctx.app.inject({
    method: 'POST',
    url: '/curves?name=big&schedule=constant:peak=1,total=3000000',
    headers: { 'content-type': 'text/csv' },
    payload: 'step,loss\n' + rows.join('\n'),
  });
  assert.equal(res.statusCode, 400);
  assert.equal(res.json().field, 'points');
  assert.equal(await curveCount(), before);
});

test('list is paged; unknown ids answer 404; delete removes', async () => {
  const page = (await ctx.app.inject({ method: 'GET', url: '/curves?limit=2&offset=1' })).json();
  assert.equal(page.items.length, 2);
  assert.equal(page.limit, 2);
  assert.equal(page.offset, 1);
  assert.equal(page.items[0].points, undefined);
  for (const url of ['/curves/999999', '/curves/999999?format=csv', '/curves/999999/schedule']) {
    const res = await ctx.app.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 404, url);
    assert.match(res.headers['content-type'] as string, /problem\+json/);
  }
  const bad = await ctx.app.inject({ method: 'GET', url: '/curves/abc' });
  assert.equal(bad.statusCode, 400);
  const id = page.items[0].id;
  assert.equal((await ctx.app.inject({ method: 'DELETE', url: `/curves/${id}` })).statusCode, 204);
  assert.equal((await ctx.app.inject({ method: 'GET', url: `/curves/${id}` })).statusCode, 404);
  assert.equal((await ctx.app.inject({ method: 'DELETE', url: `/curves/${id}` })).statusCode, 404);
});

test('GET /schedules/expand returns every N-th step plus the last, and 400 on bad specs', async () => {
  const res = await ctx.app.inject({ method: 'GET', url: '/schedules/expand?schedule=' + encodeURIComponent('cosine:peak=1,total=10,warmup=3') + '&every=4' });
  assert.equal(res.statusCode, 200);
  const body = res.json();
  assert.deepEqual(body.steps, [0, 4, 8, 9]);
  assert.equal(body.lrs[0], 0);
  const bad = await ctx.app.inject({ method: 'GET', url: '/schedules/expand?schedule=' + encodeURIComponent('wsd:peak=1,total=10,decayStart=11,final=0.1') });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().field, 'schedule.decayStart');
  const missing = await ctx.app.inject({ method: 'GET', url: '/schedules/expand' });
  assert.equal(missing.statusCode, 400);
  assert.equal(missing.json().field, 'schedule');
});
