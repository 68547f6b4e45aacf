/**
 * Development stand-in for the fit / predict / optimize routes, registered only for routes
 * the app does not have yet (hasRoute). It lets the dashboard be built and looked at before
 * those routes land; the e2e test never uses it (it tests the real routes).
 * The "law" is a toy: L = E + A (S1 + 0.05)^-alpha - B (peak - lr).
 */
import type { FastifyInstance } from 'fastify';
import { getCurveWithSchedule } from '../../src/store/curves.js';
import { expandSchedule, sampleSteps } from '../../src/schedule/expand.js';

type Params = [number, number, number, number];
const NAMES = ['E', 'A', 'alpha', 'B'];

function predict(lrs: Float64Array, steps: number[], p: Params): number[] {
  const [E, A, alpha, B] = p;
  let peak = 0;
  for (const lr of lrs) peak = Math.max(peak, lr);
  const cum = new Float64Array(lrs.length);
  let s = 0;
  for (let i = 0; i < lrs.length; i++) cum[i] = s += lrs[i]!;
  return steps.map((t) => E + A * (cum[Math.min(t, lrs.length - 1)]! + 0.05) ** -alpha - B * (peak - lrs[Math.min(t, lrs.length - 1)]!));
}

function metrics(obs: number[], pred: number[]) {
  const n = obs.length;
  const mean = obs.reduce((a, b) => a + b, 0) / n;
  let ssr = 0, sst = 0, mae = 0, rel = 0, worst = 0;
  obs.forEach((o, i) => {
    const r = o - pred[i]!;
    ssr += r * r;
    sst += (o - mean) ** 2;
    mae += Math.abs(r);
    rel += Math.abs(r) / o;
    worst = Math.max(worst, Math.abs(r) / o);
  });
  return { r2: 1 - ssr / sst, mae: mae / n, rmse: Math.sqrt(ssr / n), predE: rel / n, worstE: worst };
}

export default async function mockApi(app: FastifyInstance) {
  const fits = new Map<number, Record<string, unknown> & { params: { value: number }[] }>();
  const jobs = new Map<string, Record<string, unknown>>();
  let nextFit = 1;
  let nextJob = 1;
  const P: Params = [3.05, 0.62, 0.42, 320];
  const missing = (method: 'GET' | 'POST' | 'DELETE', url: string) => !app.hasRoute({ method, url });
  const fitParams = (id: number) => fits.get(id)!.params.map((p) => p.value) as Params;
  const problem = (reply: any, status: number, detail: string, field?: string) =>
    reply.code(status).type('application/problem+json').send({ type: 'about:blank', title: 'Error', status, detail, field });

  if (missing('POST', '/fit')) {
    app.post('/fit', async (req: any, reply) => {
      const { curveIds, law } = req.body ?? {};
      if (!Array.isArray(curveIds) || !curveIds.length) return problem(reply, 400, 'curveIds must be a non-empty array', 'curveIds');
      await new Promise((r) => setTimeout(r, 600));
      const perCurve = curveIds.map((id: number, i: number) => {
        const c = getCurveWithSchedule(app.db, id, `curveIds[${i}]`);
        const steps = Array.from(c.points.steps);
        return { curveId: id, name: c.name, ...metrics(Array.from(c.points.losses), predict(c.lrSchedule, steps, P)) };
      });
      const mean = Object.fromEntries(['r2', 'mae', 'rmse', 'predE', 'worstE'].map((k) => [k, perCurve.reduce((a: number, m: any) => a + m[k], 0) / perCurve.length]));
      const id = nextFit++;
      const fit = {
        id, law: law ?? 'mpl', curveIds,
        params: NAMES.map((name, i) => ({ name, value: P[i]!, stderr: P[i]! * 0.01, min: 0, max: 1e4 })),
        objective: 0.0123, iterations: 42, wallMs: 610, converged: true,
        metrics: { perCurve, mean },
        leaveOneOut: curveIds.length > 1 ? { perCurve: perCurve.map((m: any) => ({ ...m, r2: m.r2 - 0.01 })), mean: { ...mean, r2: (mean.r2 as number) - 0.01 } } : null,
        notes: ['mock fit (dev only)'], createdAt: new Date().toISOString(),
      };
      fits.set(id, fit);
      return reply.code(201).send(fit);
    });
    app.get('/fits', async () => ({ items: [...fits.values()] }));
    app.get('/fits/:id', async (req: any, reply) => fits.get(Number(req.params.id)) ?? problem(reply, 404, `no fit with id ${req.params.id}`, 'id'));
    app.delete('/fits/:id', async (req: any, reply) => (fits.delete(Number(req.params.id)) ? reply.code(204).send() : problem(reply, 404, 'no such fit', 'id')));
  }

  if (missing('GET', '/predict')) {
    app.get('/predict', async (req: any, reply) => {
      const q = req.query;
      if (!fits.has(Number(q.fit))) return problem(reply, 404, `no fit with id ${q.fit}`, 'fit');
      let lrs: Float64Array;
      let steps: number[];
      if (q.curve) {
        const c = getCurveWithSchedule(app.db, Number(q.curve), 'curve');
        lrs = c.lrSchedule;
        steps = Array.from(c.points.steps);
      } else {
        lrs = expandSchedule(String(q.schedule ?? ''));
        steps = q.every ? sampleSteps(lrs.length, Number(q.every)) : sampleSteps(lrs.length, Math.ceil(lrs.length / 500));
      }
      const p = fitParams(Number(q.fit));
      const loss = predict(lrs, steps, p);
      const final = predict(lrs, [lrs.length - 1], p)[0]!;
      return { steps, loss, final: { step: lrs.length - 1, loss: final }, warnings: [] };
    });
  }

  if (missing('POST', '/optimize-schedule')) {
    app.post('/optimize-schedule', async (req: any, reply) => {
      const b = req.body ?? {};
      if (!fits.has(Number(b.fit))) return problem(reply, 404, `no fit with id ${b.fit}`, 'fit');
      const id = `job-${nextJob++}`;
      const job: Record<string, unknown> = { id, status: 'running', progress: 0, bestLoss: null };
      jobs.set(id, job);
      const p = fitParams(Number(b.fit));
      const { totalSteps: T, peakLr: peak, warmupSteps: W } = b;
      const final = (s: string) => { const l = expandSchedule(s); return predict(l, [l.length - 1], p)[0]!; };
      let i = 0;
      const timer = setInterval(() => {
        i++;
        job.progress = i / 20;
        job.bestLoss = 3.3 - i * 0.001;
        job.iteration = i * 10;
        if (i < 20) return;
        clearInterval(timer);
        const spec = `piecewise:0=0;${W - 1}=${peak};${Math.round(T * 0.7)}=${peak};${T - 1}=${peak / 30}`;
        const lrs = expandSchedule(spec);
        const every = Math.ceil(T / 1000);
        const steps = sampleSteps(T, every);
        const baselines = Object.fromEntries(
          [['cosine', `cosine:peak=${peak},total=${T},warmup=${W},final=${peak / 10}`], ['linear', `linear:peak=${peak},total=${T},warmup=${W},final=0`],
            ['wsd', `wsd:peak=${peak},total=${T},warmup=${W},decayStart=${Math.round(T * 0.8)},final=${peak / 10},shape=linear`], ['constant', `constant:peak=${peak},total=${T},warmup=${W}`]]
            .map(([k, s]) => [k, { schedule: s, loss: final(s!) }]),
        );
        const best = Math.min(...Object.values(baselines).map((x: any) => x.loss));
        const pf = final(spec);
        job.status = 'done';
        job.progress = 1;
        job.result = {
          schedule: spec, lrs: Array.from(lrs), predictedFinalLoss: pf, curve: { steps, loss: predict(lrs, steps, p) }, baselines,
          improvement: { vsCosine: (baselines.cosine.loss - pf) / baselines.cosine.loss, vsBestBaseline: (best - pf) / best },
          backend: 'mock', iterations: 200, wallMs: 2000, warnings: [], scheduleId: 1,
        };
      }, 100);
      return reply.code(202).send({ jobId: id });
    });
    app.get('/jobs/:id', async (req: any, reply) => jobs.get(req.params.id) ?? problem(reply, 404, 'no such job', 'id'));
    app.get('/jobs/:id/events', async (req: any, reply) => {
      const job = jobs.get(req.params.id);
      if (!job) return problem(reply, 404, 'no such job', 'id');
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      const timer = setInterval(() => {
        if (job.status === 'done') {
          reply.raw.write(`event: done\ndata: ${JSON.stringify(job.result)}\n\n`);
          clearInterval(timer);
          reply.raw.end();
        } else reply.raw.write(`event: progress\ndata: ${JSON.stringify({ progress: job.progress, bestLoss: job.bestLoss, iteration: job.iteration })}\n\n`);
      }, 150);
      req.raw.on('close', () => clearInterval(timer));
    });
    app.get('/schedules/:id', async (req: any, reply) => reply.type('text/plain').send(`mock schedule ${req.params.id} as ${req.query.format}`));
  }
}
