/**
 * Expanded schedules of recently used specs, shared read-only: the same spec gives the same array,
 * so the law engine's per-array preparation (src/laws/mpl/prepare.ts, `mplSchedule`) is reused too. A
 * dashboard that re-predicts one schedule under other params, or other steps, pays the expansion
 * and the preparation once. Least recently used first out, bounded by total steps held.
 */
import { expandSchedule } from './expand.js';
import { formatSchedule, type ScheduleSpec } from './spec.js';

/** At most this many steps over all cached schedules (about 80 bytes a step with the law engine's preparation). */
const MAX_CACHED_STEPS = 1_000_000;

const cache = new Map<string, Float64Array>();
let cachedSteps = 0;

/** The per-step lrs of `spec` (canonical form as the key). Callers must not modify the array. */
export function expandScheduleCached(spec: ScheduleSpec): Float64Array {
  const key = formatSchedule(spec);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // re-inserted: most recently used last
    cache.set(key, hit);
    return hit;
  }
  const lrs = expandSchedule(spec);
  if (lrs.length > MAX_CACHED_STEPS) return lrs;
  cache.set(key, lrs);
  cachedSteps += lrs.length;
  for (const [oldKey, old] of cache) {
    if (cachedSteps <= MAX_CACHED_STEPS) break;
    cache.delete(oldKey);
    cachedSteps -= old.length;
  }
  return lrs;
}
