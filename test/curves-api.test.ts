/** Curves API on a real SQLite file: fixture round trips, every bad input, nothing stored on rejection. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, fixtures, fixtureCsv } from './helpers.js';
import { parseCurveCsv } from '../src/curves/csv.js';
import { MAX_TOTAL_STEPS } from '../src/schedule/spec.js';

let ctx: Awaited<ReturnType<typeof testApp>>;
const postCsv = (url: string, payload: string) => ctx.app.inject({ method: 'POST', url, headers: { 'content-type': 'text/csv' }, payload });
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
    const res = await postCsv(`/curves?name=${encodeURIComponent(entry.name)}&schedule=${encodeURIComponent(entry.schedule)}`, csv);
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
  const res = await postCsv(`/curves?name=rebuilt&warmupSteps=2160`, fixtureCsv(entry));
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

test('text/plain is answered 415 like any type other than JSON and CSV, and stores nothing', async () => {
  const before = await curveCount();
  const bodies = ['step,lr,loss\n1,1e-4,5\n', JSON.stringify(good)];
  for (const type of ['text/plain', 'text/plain; charset=utf-8', 'application/octet-stream']) {
    for (const payload of bodies) {
      const res = await ctx.app.inject({ method: 'POST', url: '/curves?name=x', headers: { 'content-type': type }, payload });
      assert.equal(res.statusCode, 415, `${type}: ${res.body}`);
      assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
      assert.equal(res.json().field, 'content-type');
      assert.match(res.json().detail, /send application\/json or text\/csv/);
    }
  }
  assert.equal(await curveCount(), before);
});

test(`a step at or beyond ${MAX_TOTAL_STEPS} is rejected when the schedule is rebuilt from logged lrs, and stores nothing`, async () => {
  const before = await curveCount();
  const far = (step: number, lr: number | null = 1e-4) => ({
    name: 'far',
    points: [{ step: 1, loss: 5, lr: 1e-4 }, { step: 2, loss: 4.5, lr: 1e-4 }, lr === null ? { step, loss: 4 } : { step, loss: 4, lr }],
  });
  for (const step of [1e15, 50_000_000, MAX_TOTAL_STEPS]) {
    for (const payload of [far(step), far(step, null)]) {
      const res = await ctx.app.inject({ method: 'POST', url: '/curves', payload });
      assert.equal(res.statusCode, 400, `step ${step}: ${res.body}`);
      assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
      assert.equal(res.json().field, 'points[2].step', res.body);
      assert.match(res.json().detail, new RegExp(`limit of ${MAX_TOTAL_STEPS}`));
    }
  }
  const csv = await postCsv('/curves?name=far', 'step,lr,loss\n1,1e-4,5\n1000000000000000,1e-4,4\n');
  assert.equal(csv.statusCode, 400, csv.body);
  assert.equal(csv.json().field, 'points[1].step');
  assert.equal(await curveCount(), before);

  // The last step the limit allows is accepted.
  const last = await ctx.app.inject({ method: 'POST', url: '/curves', payload: far(MAX_TOTAL_STEPS - 1) });
  assert.equal(last.statusCode, 201, last.body);
  assert.equal(last.json().lastStep, MAX_TOTAL_STEPS - 1);
  assert.equal((await ctx.app.inject({ method: 'DELETE', url: `/curves/${last.json().id}` })).statusCode, 204);
});

test('with a schedule spec, a step beyond the schedule is rejected naming schedule (JSON and CSV), and stores nothing', async () => {
  const before = await curveCount();
  const schedule = 'constant:peak=1e-4,total=100';
  for (const step of [100, 1e15]) {
    const json = await ctx.app.inject({
      method: 'POST',
      url: '/curves',
      payload: { name: 'beyond', schedule, points: [{ step: 1, loss: 5, lr: 1e-4 }, { step, loss: 4, lr: 1e-4 }] },
    });
    assert.equal(json.statusCode, 400, json.body);
    assert.equal(json.json().field, 'schedule');
    assert.match(json.json().detail, /beyond the schedule, which has 100 steps/);
    const csv = await postCsv(`/curves?name=beyond&schedule=${encodeURIComponent(schedule)}`, `step,lr,loss\n1,1e-4,5\n${step},1e-4,4\n`);
    assert.equal(csv.statusCode, 400, csv.body);
    assert.equal(csv.json().field, 'schedule');
  }
  assert.equal(await curveCount(), before);
});

test('warmupSteps must end by the first logged lr, and is rejected beside a schedule spec; nothing stored', async () => {
  const before = await curveCount();
  const points = [{ step: 10, loss: 6 }, { step: 100, loss: 5, lr: 1e-4 }, { step: 200, loss: 4, lr: 5e-5 }];
  const post = (payload: object) => ctx.app.inject({ method: 'POST', url: '/curves', payload });
  for (const warmupSteps of [500, 102]) {
    const res = await post({ name: 'late-warmup', warmupSteps, points });
    assert.equal(res.statusCode, 400, `warmupSteps ${warmupSteps}: ${res.body}`);
    assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
    assert.equal(res.json().field, 'warmupSteps');
    assert.match(res.json().detail, /first logged lr .*step 100.*at most 101/);
  }
  const csv = await postCsv('/curves?name=late-warmup&warmupSteps=500', 'step,lr,loss\n100,1e-4,5\n200,5e-5,4\n');
  assert.equal(csv.statusCode, 400, csv.body);
  assert.equal(csv.json().field, 'warmupSteps');

  for (const res of [
    await post({ ...good, warmupSteps: 0 }),
    await post({ ...good, warmupSteps: 1 }),
    await postCsv(`/curves?name=x&warmupSteps=1&schedule=${encodeURIComponent(good.schedule)}`, 'step,loss\n1,3\n'),
  ]) {
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().field, 'warmupSteps');
    assert.match(res.json().detail, /schedule spec carries its own warmup/);
  }
  assert.equal(await curveCount(), before);

  // A warmup that reaches the first logged lr exactly at its step is accepted and continuous.
  const ok = await post({ name: 'warmup-to-first-lr', warmupSteps: 101, points });
  assert.equal(ok.statusCode, 201, ok.body);
  const sched = (await ctx.app.inject({ method: 'GET', url: `/curves/${ok.json().id}/schedule?every=1` })).json();
  assert.equal(sched.lrs[0], 0);
  assert.ok(Math.abs(sched.lrs[50] - 5e-5) < 1e-18);
  assert.equal(sched.lrs[100], 1e-4);
  assert.ok(sched.lrs[99] < sched.lrs[100]);
});

test('more than 2,000,000 points is rejected', async () => {
  const before = await curveCount();
  const rows = new Array(2_000_001);
  for (let i = 0; i < rows.length; i++) rows[i] = `${i},1`;
  const res = await postCsv('/curves?name=big&schedule=constant:peak=1,total=3000000', 'step,loss\n' + rows.join('\n'));
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

test('expr schedules: GET /schedules/expand answers the values, 400 naming schedule.f for bad ones; curves and predict take them too', async () => {
  const spec = 'expr:total=24000,warmup=2160,peak=3e-4,f=peak*(1-(s-warmup)/(total-warmup))^2';
  const res = await ctx.app.inject({ method: 'GET', url: '/schedules/expand?schedule=' + encodeURIComponent(spec) + '&every=6000' });
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(body.schedule, 'expr:peak=0.0003,total=24000,warmup=2160,f=peak*(1-(s-warmup)/(total-warmup))^2');
  assert.equal(body.total, 24000);
  assert.deepEqual(body.steps, [0, 6000, 12000, 18000, 23999]);
  const f = (s: number) => 3e-4 * (1 - (s - 2160) / (24000 - 2160)) ** 2;
  assert.equal(body.lrs[0], 0);
  for (let i = 1; i < body.steps.length; i++) assert.ok(Math.abs(body.lrs[i] - f(body.steps[i])) <= 1e-15 * f(body.steps[i]), `step ${body.steps[i]}`);

  const expand = (s: string) => ctx.app.inject({ method: 'GET', url: '/schedules/expand?schedule=' + encodeURIComponent(s) });
  for (const bad of [
    'expr:total=10,peak=1,f=peak*(',
    'expr:total=10,peak=1,f=1 - s/4',
    'expr:total=10,peak=1,f=import({}, {override: true})',
    'expr:total=10,peak=1,f=cos.constructor("return process")()',
  ]) {
    const r = await expand(bad);
    assert.equal(r.statusCode, 400, bad);
    assert.match(r.headers['content-type'] as string, /application\/problem\+json/);
    assert.equal(r.json().field, 'schedule.f', bad);
  }
  assert.match((await expand('expr:total=10,peak=1,f=1 - s/4')).json().detail, /lr=-0\.25 at step 5/);

  // A curve uploaded with an expr spec: its logged lrs are checked against it, 400 on schedule.f when it is bad.
  const points = [0, 100, 200, 300].map((step) => ({ step, loss: 4 - step / 1000, lr: step < 100 ? (1e-3 * step) / 99 : 1e-3 * (1 - (step - 100) / 300) }));
  const created = await ctx.app.inject({ method: 'POST', url: '/curves', payload: { name: 'expr-run', schedule: 'expr:total=400,warmup=100,peak=1e-3,f=peak*(1-(s-warmup)/(total-warmup))', points } });
  assert.equal(created.statusCode, 201, created.body);
  const sched = (await ctx.app.inject({ method: 'GET', url: `/curves/${created.json().id}/schedule?every=100` })).json();
  assert.deepEqual(sched.steps, [0, 100, 200, 300, 399]);
  const refused = await ctx.app.inject({ method: 'POST', url: '/curves', payload: { name: 'expr-bad', schedule: 'expr:total=400,peak=1e-3,f=peak - s', points } });
  assert.equal(refused.statusCode, 400);
  assert.equal(refused.json().field, 'schedule.f');

  // Predict with given mpl params under an expr schedule equals the same schedule written as cosine.
  const params = '2.6514477,0.60115152,0.45295811,437.9464276,2.13245612,0.59785199,0.65523644';
  const predict = (s: string) => ctx.app.inject({ method: 'GET', url: `/predict?law=mpl&params=${params}&steps=12000,23999&schedule=${encodeURIComponent(s)}` });
  const viaExpr = await predict('expr:total=24000,warmup=2160,peak=3e-4,final=3e-5,f=final + 0.5*(peak-final)*(1+cos(pi*(s-warmup)/(total-warmup)))');
  const viaCosine = await predict('cosine:peak=3e-4,warmup=2160,total=24000,final=3e-5');
  assert.equal(viaExpr.statusCode, 200, viaExpr.body);
  assert.match(viaExpr.json().schedule, /^expr:peak=0\.0003,total=24000,warmup=2160,final=0\.00003,f=final/);
  const a = viaExpr.json().loss as number[];
  const b = viaCosine.json().loss as number[];
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-9, `${a[i]} vs ${b[i]}`);
  const badPredict = await predict('expr:total=24000,peak=3e-4,f=peak*(1 - s/1000)');
  assert.equal(badPredict.statusCode, 400);
  assert.equal(badPredict.json().field, 'schedule.f');
});
