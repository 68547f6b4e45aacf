/**
 * GET /schedules/:id?format=json|csv|pytorch: a stored (optimized) schedule as its spec with the
 * per-step lrs, as `step,lr` CSV, or as a Python snippet for torch.optim.lr_scheduler.LambdaLR.
 * GET /schedules: the stored schedules, newest first, without their lrs (paged like /curves).
 */
import type { FastifyInstance } from 'fastify';
import * as contract from './contracts/schedules.js';
import type { Route } from './contracts/index.js';
import type { StoredSchedule } from '../store/types.js';
import { found } from '../errors.js';
import { expandSchedule } from '../schedule/expand.js';
import { parseSchedule } from '../schedule/spec.js';


/** Python source defining `lr_lambda(step)` (multiplier of the peak lr) from the spec's knots. */
export function pytorchSnippet(schedule: StoredSchedule): string {
  const spec = parseSchedule(schedule.spec);
  if (spec.family !== 'piecewise') throw new Error('stored schedules are piecewise specs');
  const peak = schedule.peakLr;
  const knots = spec.knots.join(', ');
  const multipliers = spec.values.map((v) => (v === peak ? '1.0' : String(v / peak))).join(', ');
  return `# lrcast schedule #${schedule.id}: ${schedule.totalSteps} steps, piecewise linear, peak lr ${peak}
# ${schedule.spec.length > 200 ? schedule.spec.slice(0, 200) + '...' : schedule.spec}
#
#   optimizer = torch.optim.AdamW(model.parameters(), lr=PEAK_LR)
#   scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
#   # ... then scheduler.step() after every optimizer.step()
import bisect

import torch

PEAK_LR = ${peak}
TOTAL_STEPS = ${schedule.totalSteps}
# lr(step) / PEAK_LR at the knots; linear in between (as lrcast's piecewise schedules).
KNOTS = [${knots}]
MULTIPLIERS = [${multipliers}]


def lr_lambda(step: int) -> float:
    if step <= KNOTS[0]:
        return MULTIPLIERS[0]
    if step >= KNOTS[-1]:
        return MULTIPLIERS[-1]
    i = bisect.bisect_right(KNOTS, step) - 1
    s0, s1 = KNOTS[i], KNOTS[i + 1]
    m0, m1 = MULTIPLIERS[i], MULTIPLIERS[i + 1]
    return m0 + (m1 - m0) * (step - s0) / (s1 - s0)


def make_scheduler(optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
`;
}

export default async function scheduleExportRoutes(app: FastifyInstance) {
  app.get<Route<typeof contract.listSchedules>>('/schedules', { schema: contract.listSchedules }, async (request) => {
    const { limit, offset } = request.query;
    const { items, total } = await app.store.schedules.list(limit, offset);
    return { items, total, limit, offset };
  });

  app.get<Route<typeof contract.exportSchedule>>(
    '/schedules/:id',
    { schema: contract.exportSchedule },
    async (request, reply) => {
      const schedule = found(await app.store.schedules.get(request.params.id), 'schedule', request.params.id);
      const format = request.query.format ?? 'json';
      if (format === 'pytorch') {
        return reply
          .type('text/x-python; charset=utf-8')
          .header('content-disposition', `attachment; filename="lrcast_schedule_${schedule.id}.py"`)
          .send(pytorchSnippet(schedule));
      }
      const lrs = expandSchedule(schedule.spec);
      if (format === 'csv') {
        const lines = ['step,lr'];
        for (let s = 0; s < lrs.length; s++) lines.push(`${s},${lrs[s]}`);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="lrcast_schedule_${schedule.id}.csv"`)
          .send(lines.join('\n') + '\n');
      }
      return {
        id: schedule.id,
        spec: schedule.spec,
        totalSteps: schedule.totalSteps,
        peakLr: schedule.peakLr,
        createdAt: schedule.createdAt,
        source: schedule.source,
        lrs: Array.from(lrs),
      };
    },
  );
}
