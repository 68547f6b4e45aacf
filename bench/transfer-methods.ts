/**
 * Fit methods compared by the transfer benchmark (bench/transfer.ts). Each runs as
 * `fitLaw({ law, curves, options: { ...options, leaveOneOut: false } })`; add an entry to compare
 * another procedure. A method whose probe fit throws (`probeMethod` in transfer-run.ts) is reported
 * as unavailable.
 */
import type { FitOptions } from '../src/fit/types.js';

export interface TransferMethod {
  label: string;
  law: 'mpl' | 'lra';
  options: FitOptions;
  /**
   * A candidate procedure that is not a fitLaw method (bench/fit-selection-procedures.ts, by name):
   * it replaces fitLaw for this method, `options` then only describe it.
   */
  procedure?: string;
}

export const METHODS: TransferMethod[] = [
  { label: 'mpl default (map)', law: 'mpl', options: {} },
  { label: 'mpl reference', law: 'mpl', options: { method: 'reference' } },
  { label: 'mpl adam', law: 'mpl', options: { method: 'adam' } },
  { label: 'mpl converged', law: 'mpl', options: { method: 'converged' } },
  { label: 'lra', law: 'lra', options: {} },
];

/** Methods whose label contains one of `filters` (all when empty). */
export function selectMethods(filters: string[], methods: TransferMethod[] = METHODS): TransferMethod[] {
  if (filters.length === 0) return methods;
  return methods.filter((m) => filters.some((f) => m.label.includes(f)));
}
