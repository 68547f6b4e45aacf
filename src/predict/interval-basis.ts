/**
 * The interval basis of a fit: everything a prediction interval needs from the fit, as plain JSON
 * (about 3.5 KB per fitted curve) to store beside the fit's params. Built once when the fit is made, from the fit
 * request (its curves and options) and its report; a prediction then needs no curve data.
 *
 *   - params, the law and its options;
 *   - covariance (P x P): the params' block-sandwich covariance (interval-covariance.ts);
 *   - domain: the longest fitted schedule, the largest lr, each curve's peak lr and the footprint of
 *     the fitted points (interval-domain.ts).
 *
 * Cost: one Jacobian of the fit's points plus a few hundred footprint points: median 35-50 ms over the
 * transfer benchmark's fits, up to about 0.2 s (bench/results/intervals.md).
 */
import type { FitReport, FitRequest } from '../fit/types.js';
import { getLaw, lawOptionsOf, type LawId } from '../laws/index.js';
import { DEFAULT_BLOCKS, parameterCovariance } from './interval-covariance.js';
import { fitDomainOf, type FitDomain } from './interval-domain.js';

export interface IntervalBasis {
  law: LawId;
  params: number[];
  /** The law's options as the fit set them (lra: lambda); absent for a law without options. */
  lawOptions?: Record<string, unknown>;
  /** P x P covariance of the params (their own units). */
  covariance: number[][];
  /** Residual blocks per curve of the covariance (0: plain Laplace). */
  blocks: number;
  domain: FitDomain;
}

/** The interval basis of the fit `report` made for `request` (its params, as the report gives them). */
export function intervalBasisOf(request: FitRequest, report: Pick<FitReport, 'params'>, blocks: number = DEFAULT_BLOCKS): IntervalBasis {
  const params = report.params.map((p) => p.value);
  const law = getLaw(request.law);
  const { covariance } = parameterCovariance(request, params, blocks);
  const lawOptions = lawOptionsOf(law, (request.options ?? {}) as Record<string, unknown>);
  return {
    law: request.law,
    params,
    ...(lawOptions ? { lawOptions } : {}),
    covariance,
    blocks,
    domain: fitDomainOf(request.curves, request.options?.fromStep ?? 0),
  };
}
