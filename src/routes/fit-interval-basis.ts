/**
 * The interval basis of stored fits, as /predict needs it (src/predict/interval-basis.ts): stored
 * with every fit made since intervals exist; for a fit stored before, rebuilt from its curves and
 * options the first time an interval is asked for, on the fit pool (35-200 ms of a worker, never the
 * event loop), then stored. A fit whose curves are gone cannot have one: 409 naming `fit`.
 *
 * The fits routes own the fit pool; they hand this service to the predict routes through
 * `provideIntervalBases` (keyed by the app's store, one per app), since route plugins do not see each
 * other's decorations.
 */
import { withLrSchedule } from '../curves/schedule.js';
import { HttpProblem, NotFoundError } from '../errors.js';
import { FitInputError, type FitCurve } from '../fit/index.js';
import type { IntervalBasis } from '../predict/interval-basis.js';
import type { Curve, Store, StoredFit } from '../store/types.js';
import type { FitPool } from '../workers/fit-pool.js';

/** A stored curve as a fit takes it (its per-step schedule, its points). */
export function fitCurveOf(id: number, stored: Curve): FitCurve {
  const curve = withLrSchedule(stored);
  return { id, name: curve.name, lrs: curve.lrSchedule, steps: Array.from(curve.points.steps), loss: Array.from(curve.points.losses) };
}

export class IntervalBases {
  /** Rebuilds in progress by fit id: concurrent requests for one old fit share one. */
  private readonly rebuilding = new Map<number, Promise<IntervalBasis>>();

  constructor(
    private readonly store: Store,
    private readonly fitPool: FitPool,
  ) {}

  /** The interval basis of `fit`: stored, or rebuilt and stored (see the file comment). */
  async of(fit: StoredFit): Promise<IntervalBasis> {
    const stored = await this.store.fits.intervalBasis(fit.id);
    if (stored === undefined) throw new NotFoundError('fit', fit.id, 'fit');
    if (stored) return stored;
    let pending = this.rebuilding.get(fit.id);
    if (!pending) {
      pending = this.rebuild(fit).finally(() => this.rebuilding.delete(fit.id));
      this.rebuilding.set(fit.id, pending);
    }
    return pending;
  }

  private async rebuild(fit: StoredFit): Promise<IntervalBasis> {
    const curves: FitCurve[] = [];
    const missing: number[] = [];
    for (const id of fit.curveIds) {
      const stored = await this.store.curves.get(id);
      if (stored) curves.push(fitCurveOf(id, stored));
      else missing.push(id);
    }
    const before = `fit ${fit.id} was stored before fits kept what prediction intervals need, and it cannot be rebuilt`;
    const refit = 'fit the law again on stored curves (POST /fit) for intervals';
    if (fit.curveIds.length === 0) throw new HttpProblem(409, `${before}: the fit names no curves; ${refit}`, 'fit');
    if (missing.length > 0) {
      throw new HttpProblem(409, `${before}: its curve(s) ${missing.join(', ')} were deleted; ${refit}`, 'fit', { missingCurveIds: missing });
    }
    let basis: IntervalBasis;
    try {
      basis = await this.fitPool.intervalBasis({ law: fit.law, curves, options: fit.options }, fit.params);
    } catch (error) {
      if (error instanceof FitInputError || error instanceof RangeError) throw new HttpProblem(409, `${before} from its curves: ${error.message}; ${refit}`, 'fit');
      throw error;
    }
    await this.store.fits.setIntervalBasis(fit.id, basis);
    return basis;
  }
}

const services = new WeakMap<Store, IntervalBases>();

/** Make `bases` the service of the app whose store is `store` (the fits routes do, on registration). */
export function provideIntervalBases(store: Store, bases: IntervalBases): void {
  services.set(store, bases);
}

/** The service of the app whose store is `store`; throws when the fits routes were not registered first. */
export function intervalBasesOf(store: Store): IntervalBases {
  const bases = services.get(store);
  if (!bases) throw new Error('the fits routes must be registered before the predict routes (they provide the interval bases)');
  return bases;
}
