/** Registry of the loss-curve laws by id. */
import { FIT_METHODS, type FitMethod, type Law, type LawOption } from './law.js';
import { LAW_IDS, type LawId } from './ids.js';
import { mplLaw } from './mpl/index.js';
import { lraLaw } from './lra.js';

export const LAWS: Readonly<Record<LawId, Law<any>>> = { mpl: mplLaw, lra: lraLaw };

export { LAW_IDS };

export function isLawId(id: unknown): id is LawId {
  return typeof id === 'string' && Object.prototype.hasOwnProperty.call(LAWS, id);
}

/** The law with this id; throws RangeError naming the known ids otherwise. */
export function getLaw(id: string): Law<any> {
  if (!isLawId(id)) throw new RangeError(`unknown law "${id}" (known: ${LAW_IDS.join(', ')})`);
  return LAWS[id];
}

export { mplLaw, predictMpl, predictMplDirect, predictMplWithJacobian } from './mpl/index.js';
export { lraLaw, predictLra } from './lra.js';
export { curveMetrics, meanMetrics, type CurveMetrics } from './metrics.js';
export { FIT_METHODS, lawOptionsOf, outOfDomain, type FitMethod, type Law, type LawFit, type LawId, type LawOption, type LawStart, type ParamSpec } from './law.js';

/** Every fit method of some law, in FIT_METHODS order. */
export const LAW_FIT_METHODS: readonly FitMethod[] = FIT_METHODS.filter((m) => LAW_IDS.some((id) => LAWS[id].fit.methods.includes(m)));

/** Every option of some law (by name, first declaration), in registry order. */
export const LAW_OPTIONS: readonly LawOption[] = LAW_IDS.flatMap((id) => LAWS[id].options).filter((o, i, all) => all.findIndex((x) => x.name === o.name) === i);

/** The ids of the laws that declare option `name`. */
export function lawsWithOption(name: string): LawId[] {
  return LAW_IDS.filter((id) => LAWS[id].options.some((o) => o.name === name));
}
