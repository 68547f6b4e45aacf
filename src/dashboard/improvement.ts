/**
 * One definition of "how much better" for the What-if and Optimize views, the API's `improvement`:
 * improvement = reference loss − this loss, relative = improvement / reference loss; positive means
 * this schedule is predicted lower (better). Both views write it the same way: "1.36% lower" and
 * "−0.0451 loss" (this − reference).
 */

/** The improvement of `loss` over `reference`: absolute and relative (positive: `loss` is lower). */
export function gain(reference: number, loss: number): { abs: number; rel: number } {
  return { abs: reference - loss, rel: (reference - loss) / reference };
}

/** "1.36% lower" / "0.50% higher" from a relative improvement; '—' when there is none. */
export function relativeText(rel: number | undefined): string {
  if (rel === undefined || !Number.isFinite(rel)) return '—';
  return rel === 0 ? 'equal' : `${Math.abs(rel * 100).toFixed(2)}% ${rel > 0 ? 'lower' : 'higher'}`;
}

/** The loss difference this − reference from an improvement ("−0.0451 loss"); '—' when not finite. */
export function deltaText(improvement: number): string {
  if (!Number.isFinite(improvement)) return '—';
  const size = Math.abs(improvement);
  const digits = size < 5e-5 && size !== 0 ? size.toExponential(1) : size.toFixed(4);
  return `${improvement > 0 ? '−' : improvement < 0 ? '+' : '±'}${digits} loss`;
}

/** The class of a card or cell by the improvement's sign. */
export function gainClass(improvement: number): string {
  return improvement > 0 ? 'better' : improvement < 0 ? 'worse' : '';
}
