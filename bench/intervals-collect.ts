/**
 * Collection step of the interval benchmark (bench/intervals.ts): fit one transfer protocol's fit
 * curves with a method (the default, map, unless told otherwise), keep what a stored fit keeps for
 * intervals (its IntervalBasis), and record every held-out point of every target curve (its usable
 * points, as the transfer benchmark scores them) with its log error ln(obs / pred) and the
 * interval's inputs: the parameter variance of ln(pred) and the covariates (shape distance for each
 * kappa of KAPPA_GRID, horizon, peak). Calibration (intervals-calibrate.ts) then works on these
 * records alone, without refitting.
 */
import { fitLaw } from '../src/fit/index.js';
import { usablePoints } from '../src/fit/prepare.js';
import type { FitOptions } from '../src/fit/types.js';
import { getLaw } from '../src/laws/index.js';
import { intervalBasisOf, type IntervalBasis } from '../src/predict/interval-basis.js';
import { extrapolation } from '../src/predict/interval-domain.js';
import { parameterVariance } from '../src/predict/interval.js';
import { loadRef } from './transfer-run.js';
import { refLabel, type TransferGroup, type TransferProtocol } from './transfer-protocols.js';

/** Values of kappa (the weight of the log lr-sum axis in the shape distance) recorded per point. */
export const KAPPA_GRID = [0.25, 0.5, 1, 2, 4, 8, 16] as const;

/** One target curve's held-out points, as columns. */
export interface TargetRecords {
  curve: string;
  steps: number[];
  observed: number[];
  predicted: number[];
  /** ln(observed / predicted). */
  logError: number[];
  /** Variance of ln(pred) from the params' covariance (g^T Cov g). */
  paramVar: number[];
  horizon: number[];
  /** Shape distance per KAPPA_GRID entry: shape[k][i]. */
  shape: number[][];
  peak: number;
  /** Wall time of the interval's inputs for this target (parameter variance and covariates), ms. */
  intervalMs: number;
}

export interface ProtocolRecords {
  protocol: string;
  group: TransferGroup;
  fitLabels: string[];
  fitWallS: number;
  /** Wall time of the interval basis (covariance and footprint), ms. */
  basisMs: number;
  basis: IntervalBasis;
  targets: TargetRecords[];
}

/** Fit the protocol's fit curves (as the transfer bench does) and record its targets' points. */
export function collectProtocol(protocol: TransferProtocol, law: 'mpl' | 'lra' = 'mpl', options: FitOptions = {}): ProtocolRecords {
  const curves = protocol.fit.map(loadRef);
  const started = performance.now();
  const request = { law, curves, options: { ...options, leaveOneOut: false } };
  const report = fitLaw(request);
  const fitWallS = (performance.now() - started) / 1000;
  const basisStarted = performance.now();
  const basis = intervalBasisOf(request, report);
  const basisMs = performance.now() - basisStarted;
  const lawImpl = getLaw(law);
  const targets = protocol.targets.map((ref): TargetRecords => {
    const curve = loadRef(ref);
    const { steps, loss } = usablePoints(curve);
    const t0 = performance.now();
    const { pred, variance } = parameterVariance(lawImpl, basis, curve.lrs, steps);
    const covariates = KAPPA_GRID.map((kappa) => extrapolation(basis.domain, curve.lrs, steps, kappa));
    const intervalMs = performance.now() - t0;
    return {
      curve: refLabel(ref),
      steps,
      observed: loss,
      predicted: Array.from(pred),
      logError: loss.map((y, i) => Math.log(y / pred[i]!)),
      paramVar: Array.from(variance),
      horizon: Array.from(covariates[0]!.horizon),
      shape: covariates.map((x) => Array.from(x.shape)),
      peak: covariates[0]!.peak,
      intervalMs,
    };
  });
  return { protocol: protocol.name, group: protocol.group, fitLabels: protocol.fit.map(refLabel), fitWallS, basisMs, basis, targets };
}
