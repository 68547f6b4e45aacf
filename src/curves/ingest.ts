/**
 * Ingest: turn an upload (JSON points or CSV columns) into a validated curve and store it.
 * All checks run before the single write transaction, so nothing is stored from a rejected request.
 */
import { badRequest, quote } from '../errors.js';
import type { CurveSummary, CurvesRepository, NewCurve } from '../store/types.js';
import { MAX_POINTS, validatePoints, type PointColumns } from './points.js';
import { checkScheduleNotAllZero, curveSchedule } from './schedule.js';
import { checkPlannedSchedule } from './plan.js';

export interface CurveUpload {
  name?: unknown;
  schedule?: unknown;
  warmupSteps?: unknown;
  /** A live run's planned schedule (a spec for the whole run), when `schedule` is not given. */
  plannedSchedule?: unknown;
  meta?: unknown;
}

/** JSON `points: [{step, loss, lr?}]` to columns; every value must be a JSON number. */
export function pointsFromJson(points: unknown): PointColumns {
  if (!Array.isArray(points)) throw badRequest('points must be an array of {step, loss, lr?}', 'points');
  if (points.length > MAX_POINTS) throw badRequest(`${points.length} points is over the limit of ${MAX_POINTS}`, 'points');
  const n = points.length;
  const steps = new Float64Array(n);
  const losses = new Float64Array(n);
  let lrs: Float64Array | null = null;
  for (let i = 0; i < n; i++) {
    const p = points[i] as Record<string, unknown> | null;
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw badRequest('each point must be an object {step, loss, lr?}', `points[${i}]`);
    for (const key of ['step', 'loss'] as const) {
      if (typeof p[key] !== 'number') throw badRequest(`${key} must be a number, got ${quote(p[key] ?? null)}`, `points[${i}].${key}`);
    }
    steps[i] = p.step as number;
    losses[i] = p.loss as number;
    if (p.lr !== undefined && p.lr !== null) {
      if (typeof p.lr !== 'number') throw badRequest(`lr must be a number, got ${quote(p.lr)}`, `points[${i}].lr`);
      if (!lrs) lrs = new Float64Array(n).fill(NaN);
      lrs[i] = p.lr;
    }
  }
  return { steps, losses, lrs };
}

/** `meta` limits: nesting depth (objects and arrays) and size of its JSON text, in bytes (UTF-8). */
export const MAX_META_DEPTH = 16;
export const MAX_META_BYTES = 16 * 1024;

/** Depth first without recursion, so a hostile nesting cannot overflow the stack. */
function metaDepth(meta: object): number {
  const stack: [unknown, number][] = [[meta, 1]];
  let deepest = 0;
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > deepest) deepest = depth;
    if (deepest > MAX_META_DEPTH) return deepest;
    for (const child of Object.values(value)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return deepest;
}

function checkMeta(meta: object): void {
  if (metaDepth(meta) > MAX_META_DEPTH) {
    throw badRequest(`meta is nested deeper than the limit of ${MAX_META_DEPTH} levels of objects and arrays`, 'meta');
  }
  const bytes = Buffer.byteLength(JSON.stringify(meta), 'utf8');
  if (bytes > MAX_META_BYTES) {
    throw badRequest(`meta is ${bytes} bytes as JSON, over the limit of ${MAX_META_BYTES} bytes (16 KiB)`, 'meta');
  }
}

function checkUpload(upload: CurveUpload) {
  if (typeof upload.name !== 'string' || upload.name.trim() === '') throw badRequest('name is required (a non-empty string)', 'name');
  if (upload.name.length > 200) throw badRequest('name is longer than 200 characters', 'name');
  if (upload.schedule !== undefined && upload.schedule !== null && typeof upload.schedule !== 'string') {
    throw badRequest('schedule must be a schedule spec string', 'schedule');
  }
  // A number: a JSON body is not coerced ("0x10" or " " are no steps) and a query's text is already one (the route's schema).
  let warmupSteps: number | null = null;
  if (upload.warmupSteps !== undefined && upload.warmupSteps !== null) {
    if (typeof upload.warmupSteps !== 'number' || !Number.isInteger(upload.warmupSteps) || upload.warmupSteps < 0) {
      throw badRequest(`warmupSteps must be a non-negative integer, got ${quote(upload.warmupSteps)}`, 'warmupSteps');
    }
    warmupSteps = upload.warmupSteps + 0; // -0 is 0
  }
  const meta = upload.meta ?? {};
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw badRequest('meta must be a JSON object', 'meta');
  checkMeta(meta);
  const schedule = typeof upload.schedule === 'string' && upload.schedule.trim() !== '' ? upload.schedule.trim() : null;
  if (schedule !== null && warmupSteps !== null) {
    throw badRequest('warmupSteps applies only to schedules rebuilt from lr values: the schedule spec carries its own warmup (its `warmup` key)', 'warmupSteps');
  }
  let plannedSchedule: string | null = null;
  if (upload.plannedSchedule !== undefined && upload.plannedSchedule !== null) {
    if (schedule !== null) throw badRequest('plannedSchedule applies only without schedule: the schedule spec is the plan of the whole run already', 'plannedSchedule');
    plannedSchedule = checkPlannedSchedule(upload.plannedSchedule);
  }
  return { name: upload.name.trim(), schedule, warmupSteps, plannedSchedule, meta: meta as Record<string, unknown> };
}

/** Validate an upload completely: the curve to store (400 naming the field otherwise). */
export function prepareCurve(upload: CurveUpload, points: PointColumns): NewCurve {
  const head = checkUpload(upload);
  validatePoints(points);
  // throws 400 when spec and points disagree, or when the lr is 0 at every step
  checkScheduleNotAllZero(curveSchedule(points, head.schedule, head.warmupSteps), head.schedule !== null);
  return { ...head, points };
}

/** Validate an upload completely, then store it in one transaction. */
export function ingestCurve(curves: CurvesRepository, upload: CurveUpload, points: PointColumns): Promise<CurveSummary> {
  return curves.insert(prepareCurve(upload, points));
}
