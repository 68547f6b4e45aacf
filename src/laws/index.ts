/** Registry of the loss-curve laws by id. */
import type { Law, LawId } from './law.js';
import { mplLaw } from './mpl.js';
import { lraLaw } from './lra.js';

export const LAWS: Readonly<Record<LawId, Law<any>>> = { mpl: mplLaw, lra: lraLaw };

export const LAW_IDS = Object.keys(LAWS) as LawId[];

export function isLawId(id: unknown): id is LawId {
  return typeof id === 'string' && Object.prototype.hasOwnProperty.call(LAWS, id);
}

/** The law with this id; throws RangeError naming the known ids otherwise. */
export function getLaw(id: string): Law<any> {
  if (!isLawId(id)) throw new RangeError(`unknown law "${id}" (known: ${LAW_IDS.join(', ')})`);
  return LAWS[id];
}

export { mplLaw, predictMpl, predictMplDirect, predictMplWithJacobian } from './mpl.js';
export { lraLaw, predictLra } from './lra.js';
export { curveMetrics, meanMetrics, type CurveMetrics } from './metrics.js';
export { outOfDomain, type Law, type LawId, type ParamSpec } from './law.js';
