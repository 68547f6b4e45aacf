/**
 * GET /schedules: the stored (optimized) schedules, newest first, without their per-step lrs, paged
 * by limit/offset like /curves (the dashboard's list of past optimized schedules).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testApp } from './helpers.js';

/** Published 100M mpl params (Luo et al. 2025). */
const P100 = [2.6514477, 0.60115152, 0.45295811, 437.9464276, 2.13245612, 0.59785199, 0.65523644];

test('GET /schedules lists the stored schedules newest first, paged, without lrs', async () => {
  const ctx = await testApp();
  try {
    const list = async (query = '') => {
      const res = await ctx.app.inject({ method: 'GET', url: `/schedules${query}` });
      return { status: res.statusCode, body: res.json() };
    };
    assert.deepEqual((await list()).body, { items: [], total: 0, limit: 100, offset: 0 });

    const made: { scheduleId: number; schedule: string }[] = [];
    for (const totalSteps of [4000, 6000, 8000]) {
      const res = await ctx.app.inject({ method: 'POST', url: '/optimize-schedule', payload: { law: 'mpl', params: P100, totalSteps, peakLr: 3e-4, warmupSteps: 400, space: 'wsd', budgetMs: 400 } });
      assert.equal(res.statusCode, 200, res.body);
      made.push(res.json());
    }

    const all = await list();
    assert.equal(all.status, 200);
    assert.equal(all.body.total, 3);
    assert.deepEqual(all.body.items.map((s: { id: number }) => s.id), made.map((m) => m.scheduleId).reverse(), 'newest first');
    for (const item of all.body.items) {
      assert.equal(item.lrs, undefined, 'no per-step lrs in the list');
      const one = (await ctx.app.inject({ method: 'GET', url: `/schedules/${item.id}` })).json();
      const { lrs, ...head } = one;
      assert.deepEqual(item, head, 'each item is GET /schedules/{id} without lrs');
      assert.equal(lrs.length, item.totalSteps);
      assert.equal(item.source.space, 'wsd');
      assert.equal(typeof item.source.predictedFinalLoss, 'number');
    }
    assert.equal(all.body.items[0].spec, made[2]!.schedule);

    const page = await list('?limit=1&offset=1');
    assert.equal(page.body.total, 3);
    assert.deepEqual(page.body.items.map((s: { id: number }) => s.id), [made[1]!.scheduleId]);
    assert.deepEqual([page.body.limit, page.body.offset], [1, 1]);
    assert.deepEqual((await list('?offset=5')).body.items, []);

    for (const bad of ['?limit=0', '?limit=1001', '?offset=-1', '?limit=abc']) {
      const res = await ctx.app.inject({ method: 'GET', url: `/schedules${bad}` });
      assert.equal(res.statusCode, 400, bad);
      assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
      assert.match(res.json().field ?? res.json().detail, /limit|offset/, bad);
    }
  } finally {
    await ctx.close();
  }
});
