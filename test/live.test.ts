/** Live runs: appending points (idempotent, 409 on conflicts, atomic, any order), plans, forecasts and the event stream. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { testApp, fixtures, fixtureCsv, parseEvents } from './helpers.js';
import { parseCurveCsv } from '../src/curves/csv.js';
import { MAX_STREAMS_PER_CURVE } from '../src/routes/live.js';

let ctx: Awaited<ReturnType<typeof testApp>>;
/** The fit made by the forecast test, for the event stream's forecasts. */
let fitId: number;
before(async () => {
  ctx = await testApp();
});
after(async () => ctx.close());

const COSINE = 'cosine:peak=3e-4,warmup=2160,total=24000,final=3e-5';
const inject = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) => ctx.app.inject({ method, url, payload: payload as object });

/** The real 100M cosine run's points, as {step, loss, lr}. */
function cosinePoints() {
  const cols = parseCurveCsv(fixtureCsv(fixtures.find((f) => f.name === '100M/cosine_24000')!));
  return Array.from(cols.steps, (step, i) => ({ step, loss: cols.losses[i]!, lr: cols.lrs![i]! }));
}

async function upload(points: object[], extra: object = {}): Promise<number> {
  const res = await inject('POST', '/curves', { name: 'live', points, ...extra });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id;
}

const readPoints = async (id: number) => (await inject('GET', `/curves/${id}`)).json().points;

test('appending: idempotent for stored steps, 409 naming a conflicting step, atomic, any order', async () => {
  const all = cosinePoints();
  const id = await upload(all.slice(0, 10), { plannedSchedule: COSINE });

  const first = await inject('POST', `/curves/${id}/points`, { points: all.slice(10, 20) });
  assert.equal(first.statusCode, 200, first.body);
  assert.deepEqual(first.json(), { id, added: 10, unchanged: 0, pointCount: 20, firstStep: all[0]!.step, lastStep: all[19]!.step });

  // The same batch again (a client retrying after a timeout): nothing changes.
  const again = await inject('POST', `/curves/${id}/points`, { points: all.slice(15, 25) });
  assert.equal(again.statusCode, 200, again.body);
  assert.deepEqual([again.json().added, again.json().unchanged, again.json().pointCount], [5, 5, 25]);

  // A stored step with another loss: 409 naming it, and nothing of the batch is stored.
  const conflict = await inject('POST', `/curves/${id}/points`, { points: [all[30], { ...all[12]!, loss: all[12]!.loss + 0.1 }] });
  assert.equal(conflict.statusCode, 409, conflict.body);
  assert.match(conflict.headers['content-type'] as string, /application\/problem\+json/);
  assert.equal(conflict.json().field, 'points[1].step');
  assert.match(conflict.json().detail, new RegExp(`step ${all[12]!.step}`));
  assert.equal((await readPoints(id)).length, 25);

  // A bad point refuses the whole batch, naming it as sent.
  const bad = await inject('POST', `/curves/${id}/points`, { points: [all[40], all[41], { step: all[42]!.step, loss: -1 }] });
  assert.equal(bad.statusCode, 400, bad.body);
  assert.equal(bad.json().field, 'points[2].loss');
  assert.equal((await readPoints(id)).length, 25);

  // Out of order, across the stored points: stored sorted by step.
  const shuffled = [all[50], all[26], all[25], all[27]!];
  const late = await inject('POST', `/curves/${id}/points`, { points: shuffled });
  assert.equal(late.statusCode, 200, late.body);
  assert.equal(late.json().lastStep, all[50]!.step);
  assert.deepEqual(await readPoints(id), [...all.slice(0, 28), all[50]]);

  // CSV batches take the upload's columns.
  const csv = 'step,lr,loss\n' + all.slice(28, 31).map((p) => `${p.step},${p.lr},${p.loss}`).join('\n');
  const viaCsv = await ctx.app.inject({ method: 'POST', url: `/curves/${id}/points`, headers: { 'content-type': 'text/csv' }, payload: csv });
  assert.equal(viaCsv.statusCode, 200, viaCsv.body);
  assert.equal(viaCsv.json().added, 3);

  assert.equal((await inject('POST', '/curves/999999/points', { points: [all[0]] })).statusCode, 404);

  // A CSV upload takes the plan in its query, like its schedule; not both.
  const csvUpload = await ctx.app.inject({ method: 'POST', url: `/curves?name=csv&plannedSchedule=${encodeURIComponent(COSINE)}`, headers: { 'content-type': 'text/csv' }, payload: csv });
  assert.equal(csvUpload.statusCode, 201, csvUpload.body);
  assert.equal(csvUpload.json().plannedSchedule, COSINE);
  const both = await inject('POST', '/curves', { name: 'both', schedule: COSINE, plannedSchedule: COSINE, points: all.slice(0, 2) });
  assert.equal(both.json().field, 'plannedSchedule');
});

test('appended points must agree with a schedule spec, like an upload', async () => {
  const all = cosinePoints();
  const id = await upload(all.slice(0, 5), { schedule: COSINE });
  const wrongLr = await inject('POST', `/curves/${id}/points`, { points: [{ ...all[5]!, lr: 1e-3 }] });
  assert.equal(wrongLr.statusCode, 400, wrongLr.body);
  assert.equal(wrongLr.json().field, 'schedule');
  const beyond = await inject('POST', `/curves/${id}/points`, { points: [{ step: 24000, loss: 3 }] });
  assert.equal(beyond.statusCode, 400, beyond.body);
  // Its plan is the spec: no other plan may be set.
  assert.equal((await inject('PUT', `/curves/${id}/plan`, { schedule: COSINE })).statusCode, 409);
});

test('the forecast predicts the rest of the run under its plan, and its history moves as points arrive', async () => {
  const fitIds: number[] = [];
  for (const name of ['100M/constant_24000', '100M/wsdcon_9', '100M/wsd_20000_24000']) {
    const entry = fixtures.find((f) => f.name === name)!;
    const curve = await ctx.app.inject({ method: 'POST', url: `/curves?name=${name}&schedule=${encodeURIComponent(entry.schedule)}`, headers: { 'content-type': 'text/csv' }, payload: fixtureCsv(entry) });
    fitIds.push(curve.json().id);
  }
  const fit = await inject('POST', '/fit', { curveIds: fitIds, law: 'mpl', options: { leaveOneOut: false } });
  assert.equal(fit.statusCode, 201, fit.body);
  fitId = fit.json().id;

  const all = cosinePoints();
  const id = await upload(all.slice(0, 40)); // no plan yet
  const noPlan = await inject('GET', `/curves/${id}/forecast?fit=${fitId}`);
  assert.equal(noPlan.statusCode, 409, noPlan.body);
  assert.equal(noPlan.json().field, 'plannedSchedule');
  const badPlan = await inject('PUT', `/curves/${id}/plan`, { schedule: 'cosine:peak=3e-4' });
  assert.equal(badPlan.statusCode, 400, badPlan.body);
  assert.match(badPlan.json().field, /^schedule/);
  const plan = await inject('PUT', `/curves/${id}/plan`, { schedule: COSINE });
  assert.equal(plan.statusCode, 200, plan.body);
  assert.equal(plan.json().plannedSchedule, COSINE);

  const f1 = (await inject('GET', `/curves/${id}/forecast?fit=${fitId}&interval=0.8`)).json();
  assert.equal(f1.curve, id);
  assert.equal(f1.source, `fit:${fitId}`);
  assert.equal(f1.totalSteps, 24000);
  assert.equal(f1.lastStep, all[39]!.step);
  assert.equal(f1.steps[0], all[39]!.step);
  assert.equal(f1.steps.at(-1), 23999);
  assert.ok(f1.steps.length > 100 && f1.steps.length <= 200);
  assert.equal(f1.loss.length, f1.steps.length);
  assert.equal(f1.final.step, 23999);
  const observedFinal = all.at(-1)!.loss;
  // Fitted without any cosine run, the law predicts this one's end within about 6%.
  assert.ok(Math.abs(f1.final.loss - observedFinal) / observedFinal < 0.1, `final ${f1.final.loss} vs observed ${observedFinal}`);
  assert.ok(f1.lower.length === f1.steps.length && f1.final.lower < f1.final.loss && f1.final.loss < f1.final.upper, JSON.stringify(f1.final));
  assert.equal(f1.history.length, 1);
  // Uploaded without warmupSteps: the steps before the first logged one follow the plan's warmup, so the
  // forecast agrees with /predict for the plan (before, the first logged lr was held back to step 0: 0.157 lower).
  const planned = (await inject('GET', `/predict?fit=${fitId}&schedule=${encodeURIComponent(COSINE)}&steps=23999`)).json();
  assert.ok(Math.abs(f1.final.loss - planned.final.loss) < 2e-3, `forecast ${f1.final.loss} vs /predict ${planned.final.loss}`);

  // Asked again with no new points: the history keeps one entry. After new points: a second one.
  assert.equal((await inject('GET', `/curves/${id}/forecast?fit=${fitId}`)).json().history.length, 1);
  await inject('POST', `/curves/${id}/points`, { points: all.slice(40, 120) });
  const f2 = (await inject('GET', `/curves/${id}/forecast?fit=${fitId}&points=50`)).json();
  assert.ok(f2.steps.length <= 50);
  assert.equal(f2.history.length, 2);
  assert.equal(f2.history[1].lastStep, all[119]!.step);
  assert.equal(f2.history[1].finalLoss, f2.final.loss);
  assert.notEqual(f2.history[0].finalLoss, f2.history[1].finalLoss, 'the forecast moved with the new points');

  // law=: the run's own points so far fitted (with other curves), cheaply.
  const adHoc = await inject('GET', `/curves/${id}/forecast?law=mpl&with=${fitIds.join(',')}`);
  assert.equal(adHoc.statusCode, 200, adHoc.body);
  assert.equal(adHoc.json().source, `law:mpl with:${fitIds.join(',')}`);
  assert.ok(Math.abs(adHoc.json().final.loss - observedFinal) / observedFinal < 0.05, adHoc.body);
  assert.equal((await inject('GET', `/curves/${id}/forecast?law=mpl&with=999999`)).json().field, 'with[0]');
  assert.equal((await inject('GET', `/curves/${id}/forecast?fit=${fitId}&law=mpl`)).statusCode, 400);
});

test('the event stream sends a points event after an append, and a forecast with fit=', async () => {
  await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  const address = ctx.app.server.address() as { port: number };
  const base = `http://127.0.0.1:${address.port}`;
  const all = cosinePoints();
  const id = await upload(all.slice(0, 30), { plannedSchedule: COSINE });

  const controller = new AbortController();
  const res = await fetch(`${base}/curves/${id}/events?fit=${fitId}`, { signal: controller.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type')!, /text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  /** Read the stream until `count` events named `name` have come. */
  const readUntil = async (name: string, count: number) => {
    while (parseEvents(text).filter((e) => e.event === name).length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
  };
  await readUntil('forecast', 1); // one at once
  const appended = await inject('POST', `/curves/${id}/points`, { points: all.slice(30, 35) });
  assert.equal(appended.statusCode, 200);
  await readUntil('forecast', 2); // refreshed after the points
  controller.abort();
  const events = parseEvents(text);
  assert.deepEqual(
    events.map((e) => e.event),
    ['forecast', 'points', 'forecast'],
  );
  assert.deepEqual(events[1]!.data, { added: 5, unchanged: 0, pointCount: 35, lastStep: all[34]!.step });
  assert.equal(events[0]!.data.lastStep, all[29]!.step);
  assert.equal(events[2]!.data.lastStep, all[34]!.step);
  assert.equal(events[2]!.data.history.length, 2);

  assert.equal((await fetch(`${base}/curves/999999/events`)).status, 404);
});

test('event streams are bounded per curve (429 beyond) and end when the server closes', async () => {
  const own = await testApp();
  try {
    await own.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = own.app.server.address() as { port: number };
    const made = await own.app.inject({ method: 'POST', url: '/curves', payload: { name: 'live', points: [{ step: 0, loss: 4, lr: 1e-3 }] } });
    const url = `http://127.0.0.1:${port}/curves/${made.json().id}/events`;
    const open = await Promise.all(Array.from({ length: MAX_STREAMS_PER_CURVE }, () => fetch(url)));
    assert.ok(open.every((r) => r.status === 200));
    const over = await fetch(url);
    assert.equal(over.status, 429);
    assert.match((await over.json()).detail, /event streams/);
    const ended = open.map(async (r) => {
      const reader = r.body!.getReader();
      while (!(await reader.read()).done);
    });
    await own.app.close();
    await Promise.all(ended); // every stream ended by the close
  } finally {
    await own.close();
  }
});
