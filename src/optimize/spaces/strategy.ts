/**
 * One search strategy per schedule space (free.ts, piecewise.ts, wsd.ts), registered in index.ts.
 * A strategy gets the search context (../context.ts: the law, budget, progress, cancellation,
 * baselines) and returns its best candidate as exact per-step float64 lrs; ../answer.ts turns that
 * into the answer (spec export, curve, warnings).
 */
import type { SearchContext } from '../context.js';

export type SpaceName = 'free' | 'piecewise' | 'wsd';
export const SPACES: readonly SpaceName[] = ['free', 'piecewise', 'wsd'];

export interface Candidate {
  /** Per-step lrs of the whole run, prefix included. */
  lrs: Float64Array;
  /** The search's score: the law's final loss, plus the rise charge when not monotone. */
  loss: number;
  /** For `wsd`: the wsd-family spec the lrs expand from. */
  familySchedule?: string;
  /** For `wsd` after a fixed prefix: the wsd-family spec of the steps after it. */
  restSchedule?: string;
}

export interface Strategy {
  readonly space: SpaceName;
  /** Search the space within the context's budget; warnings go to `ctx.warn`. */
  search(ctx: SearchContext): Promise<Candidate>;
}
