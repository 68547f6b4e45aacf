/**
 * Schedule specs on the server: the grammar (grammar.ts, browser-safe) plus the check of an
 * `expr` spec's expression f (expr.ts, which loads mathjs). Every route and expandSchedule parse
 * with parseSchedule here; every problem is a ScheduleError naming the key that is wrong.
 */

import { compileExpr } from './expr.js';
import { exprNames, parseSpecText, type ScheduleSpec } from './grammar.js';

export * from './grammar.js';

/** Parse a schedule spec string; throws ScheduleError with the offending key. */
export function parseSchedule(input: string): ScheduleSpec {
  const spec = parseSpecText(input);
  if (spec.family === 'expr') compileExpr(spec.f, exprNames(spec)); // syntax and allowlist now; values when expanded
  return spec;
}
