/**
 * Protocols of the transfer benchmark (bench/transfer.ts): each fits on some curves and predicts
 * others. Plain data (curve references, no arrays) so a protocol can be posted to a worker thread.
 *
 * Curves:
 *   - `{ set: 'luo2025', size, file }`: a 25M/100M fixture of fixtures/mpl-luo2025 with its spec'd
 *     schedule (src/fixtures/luo2025.ts), for the published upstream protocol.
 *   - `{ set: '124m', run, log, maxStep? }`: a 124M run of fixtures/schaipp-haegele-2025, read like an
 *     upload (parseCurveCsv + scheduleFromLoggedLrs from its logged lrs, no spec, no warmupSteps);
 *     `maxStep` keeps only the rows up to that step (the file a user would have uploaded then).
 *
 * 124M choices (from its manifest): constant runs exist at peaks 1e-4, 5e-4, 1e-3, 2e-3 (50,000 steps);
 * WSD (linear cooldown of 10..90% of the run) at 5e-4, 1e-3, 2e-3 for 15k/25k/35k/50k steps and at
 * 1e-4 for 25k/50k (20% sqrt cooldown at 25k/50k only); cosine to 0 (25k/50k) and to 10% (25k/50k,
 * plus 15k/35k at 1e-3 and 2e-3). The 5e-3 cosine run diverged (val loss 4.9 -> 7.5) and is not used.
 * The per-peak families (cooldown, cosine-to-wsd, horizon) run at every one of the four usable peaks.
 * (Until 2026-12-02 they skipped 1e-4, whose runs this comment had missed in the manifest.) Fits use
 * the clean val logs (every 200 steps) except in the noisy-train group, which fits the train logs (one
 * batch every 50 steps); every protocol is scored on val logs.
 */
import { publishedSplit } from '../src/fixtures/luo2025.js';
import type { Log124m } from '../src/fixtures/schaipp-haegele.js';

export type CurveRef =
  | { set: 'luo2025'; size: '25M' | '100M'; file: string }
  | { set: '124m'; run: string; log: Log124m; maxStep?: number };

export type TransferGroup = 'upstream' | 'cooldown' | 'cosine-to-wsd' | 'horizon' | 'noisy-train' | 'cross-peak';

export const GROUPS: readonly TransferGroup[] = ['upstream', 'cooldown', 'cosine-to-wsd', 'horizon', 'noisy-train', 'cross-peak'];

export interface TransferProtocol {
  name: string;
  group: TransferGroup;
  /** What it asks, in a line. */
  description: string;
  fit: CurveRef[];
  /** Scored curves (val logs for the 124M runs). */
  targets: CurveRef[];
}

/** A short label of a curve reference (for tables). */
export function refLabel(ref: CurveRef): string {
  if (ref.set === 'luo2025') return `${ref.size}/${ref.file}`;
  return `${ref.run}.${ref.log}${ref.maxStep !== undefined ? `[<=${ref.maxStep}]` : ''}`;
}

const val = (run: string, maxStep?: number): CurveRef => ({ set: '124m', run, log: 'val', ...(maxStep !== undefined ? { maxStep } : {}) });
const train = (run: string): CurveRef => ({ set: '124m', run, log: 'train' });

/** Run names of the 124M manifest. `lr` as written in the file names (0.0005, 0.001, 0.002). */
const stable = (lr: string) => `stable-124m_lr${lr}_50000`;
const wsd = (fraction: number, lr: string, steps: number, shape: 'linear' | 'sqrt' = 'linear') => `ann124-${fraction}_lr${lr}_${steps}_${shape}`;
const cosZero = (lr: string, steps: number) => `cos-zero-124m_lr${lr}_${steps}`;
const cos10 = (lr: string, steps: number) => `cos-10-124m_lr${lr}_${steps}`;

function upstream(size: '25M' | '100M'): TransferProtocol {
  const { train: fit, test } = publishedSplit(size);
  return {
    name: `upstream-${size}`,
    group: 'upstream',
    description: `published MPL protocol on ${size}: fit cosine_24000, constant_24000, wsdcon_9; predict the other six`,
    fit: fit.map((c) => ({ set: 'luo2025', size, file: c.shortName })),
    targets: test.map((c) => ({ set: 'luo2025', size, file: c.shortName })),
  };
}

/** Constant run + the 20% linear WSD run (50k) -> other cooldown fractions, the sqrt shape, other horizons. */
function cooldown(lr: string, log: Log124m = 'val'): Pick<TransferProtocol, 'fit' | 'targets'> {
  const ref = log === 'val' ? (r: string) => val(r) : train;
  // At peak 1e-4 the runs stop at 25k and 50k steps: the 60% cooldown target is the 25k run there.
  const sixty = lr === '0.0001' ? wsd(0.6, lr, 25000) : wsd(0.6, lr, 35000);
  return {
    fit: [ref(stable(lr)), ref(wsd(0.2, lr, 50000))],
    targets: [
      val(wsd(0.1, lr, 50000)),
      val(wsd(0.4, lr, 50000)),
      val(wsd(0.8, lr, 50000)),
      val(wsd(0.2, lr, 50000, 'sqrt')),
      val(wsd(0.2, lr, 25000)),
      val(sixty),
    ],
  };
}

/** Peak lr -> the WSD/constant targets that a cosine fit at that peak predicts. */
function wsdTargets(lr: string): CurveRef[] {
  return [val(stable(lr)), val(wsd(0.2, lr, 50000)), val(wsd(0.2, lr, 50000, 'sqrt')), val(wsd(0.6, lr, 50000)), val(wsd(0.9, lr, 50000)), val(wsd(0.1, lr, 25000))];
}

/** The 25k-step runs (and the constant run's first 25k steps) -> the 50k-step runs of the same schedules. */
function horizon(lr: string): Pick<TransferProtocol, 'fit' | 'targets'> {
  return {
    fit: [val(stable(lr), 25000), val(wsd(0.2, lr, 25000)), val(wsd(0.2, lr, 25000, 'sqrt')), val(cosZero(lr, 25000))],
    targets: [val(stable(lr)), val(wsd(0.2, lr, 50000)), val(wsd(0.2, lr, 50000, 'sqrt')), val(cosZero(lr, 50000))],
  };
}

/** Targets of a cross-peak protocol at peak `lr`. */
function peakTargets(lr: string): CurveRef[] {
  return [val(stable(lr)), val(wsd(0.2, lr, 50000)), val(wsd(0.4, lr, 50000)), val(cosZero(lr, 50000)), val(wsd(0.2, lr, 25000))];
}

export const PROTOCOLS: TransferProtocol[] = [
  upstream('25M'),
  upstream('100M'),

  ...(['0.0001', '0.0005', '0.001', '0.002'] as const).map((lr) => ({
    name: `cooldown-lr${lr}`,
    group: 'cooldown' as const,
    description: `peak ${lr}: constant + 20% linear WSD (50k) -> cooldowns of 10/40/80%, sqrt shape, 25k and ${lr === '0.0001' ? '25k (60%)' : '35k'} horizons`,
    ...cooldown(lr),
  })),

  {
    name: 'cosine-to-wsd-lr0.0001',
    group: 'cosine-to-wsd',
    description: 'peak 0.0001: cosine to zero + cosine to 10% (50k) -> constant and WSD runs',
    fit: [val(cosZero('0.0001', 50000)), val(cos10('0.0001', 50000))],
    targets: wsdTargets('0.0001'),
  },
  {
    name: 'cosine-to-wsd-lr0.0005',
    group: 'cosine-to-wsd',
    description: 'peak 0.0005: cosine-to-zero (50k) -> constant and WSD runs',
    fit: [val(cosZero('0.0005', 50000))],
    targets: wsdTargets('0.0005'),
  },
  {
    name: 'cosine-to-wsd-lr0.001',
    group: 'cosine-to-wsd',
    description: 'peak 0.001: cosine to zero + cosine to 10% (50k) -> constant and WSD runs',
    fit: [val(cosZero('0.001', 50000)), val(cos10('0.001', 50000))],
    targets: wsdTargets('0.001'),
  },
  {
    name: 'cosine-to-wsd-lr0.002',
    group: 'cosine-to-wsd',
    description: 'peak 0.002: cosine to 10% at 25k and 50k -> constant and WSD runs',
    fit: [val(cos10('0.002', 25000)), val(cos10('0.002', 50000))],
    targets: wsdTargets('0.002'),
  },

  ...(['0.0001', '0.0005', '0.001', '0.002'] as const).map((lr) => ({
    name: `horizon-lr${lr}`,
    group: 'horizon' as const,
    description: `peak ${lr}: constant (first 25k steps), 20% WSD linear and sqrt, cosine to zero, all at 25k -> the same schedules at 50k`,
    ...horizon(lr),
  })),

  ...(['0.001', '0.002'] as const).map((lr) => ({
    name: `noisy-cooldown-lr${lr}`,
    group: 'noisy-train' as const,
    description: `as cooldown-lr${lr}, fitted on the train logs (one batch every 50 steps), scored on val logs`,
    ...cooldown(lr, 'train'),
  })),
  {
    name: 'noisy-cosine-to-wsd-lr0.001',
    group: 'noisy-train',
    description: 'as cosine-to-wsd-lr0.001, fitted on the train logs, scored on val logs',
    fit: [train(cosZero('0.001', 50000)), train(cos10('0.001', 50000))],
    targets: wsdTargets('0.001'),
  },

  {
    name: 'cross-peak-0.001-to-0.002',
    group: 'cross-peak',
    description: 'constant + 20% WSD (50k) at peak 0.001 -> runs at peak 0.002 (extrapolation up)',
    fit: [val(stable('0.001')), val(wsd(0.2, '0.001', 50000))],
    targets: peakTargets('0.002'),
  },
  {
    name: 'cross-peak-0.001-to-0.0005',
    group: 'cross-peak',
    description: 'constant + 20% WSD (50k) at peak 0.001 -> runs at peak 0.0005 (extrapolation down)',
    fit: [val(stable('0.001')), val(wsd(0.2, '0.001', 50000))],
    targets: peakTargets('0.0005'),
  },
  {
    name: 'cross-peak-0.0005+0.002-to-0.001',
    group: 'cross-peak',
    description: 'constant + 20% WSD (50k) at peaks 0.0005 and 0.002 -> runs at peak 0.001 (interpolation)',
    fit: [val(stable('0.0005')), val(wsd(0.2, '0.0005', 50000)), val(stable('0.002')), val(wsd(0.2, '0.002', 50000))],
    targets: peakTargets('0.001'),
  },
];

/** Protocols whose name contains one of `filters` (all when empty). */
export function selectProtocols(filters: string[], protocols: TransferProtocol[] = PROTOCOLS): TransferProtocol[] {
  if (filters.length === 0) return protocols;
  return protocols.filter((p) => filters.some((f) => p.name.includes(f) || p.group === f));
}
