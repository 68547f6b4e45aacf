/**
 * Which fit options apply to which law and method. An option that the chosen fit would ignore is
 * refused instead (whoever set it meant something by it), and input a fit cannot use is reported
 * against the request field at fault: `FitInputError` carries that field (`options.lambda`,
 * `options.fromStep`, `curves[1]`).
 */
import { getLaw, LAW_IDS, LAWS, lawsWithOption, type FitMethod, type Law, type LawId } from '../laws/index.js';
import type { FitOptions } from './types.js';

export class FitInputError extends RangeError {
  /** The request field at fault: `options.<name>`, or `curves[i]` for the i-th curve. */
  readonly field: string;
  constructor(message: string, field: string) {
    super(message);
    this.name = 'FitInputError';
    this.field = field;
  }
}

/** Options only some fit methods use: a law without any of those methods refuses them. */
const METHOD_ONLY: readonly (readonly [keyof FitOptions, readonly FitMethod[]])[] = [
  ['adamIterations', ['adam']],
  ['adamLearningRate', ['adam']],
  ['adamSpace', ['adam']],
  ['priorWeight', ['map']],
];
const ADAM_ONLY = ['adamIterations', 'adamLearningRate', 'adamSpace'] as const;
/** Options of the global start + Levenberg-Marquardt refinement, which mpl's adam method does not run. */
const LM_ONLY = ['starts', 'seed', 'maxIterations'] as const;
/** Options of a global start that samples (a law whose start samples nothing, as lra's alpha grid, would ignore them). */
const SAMPLING = ['starts', 'seed'] as const;
/**
 * Options mpl's reference method does not use: it reproduces the published procedure with its own
 * fixed grid of starts, step sizes, iteration cap, Huber delta and summed objective over every raw
 * point, without bounds on the params (src/fit/reference.ts).
 */
const NOT_REFERENCE = [...LM_ONLY, ...ADAM_ONLY, 'priorWeight', 'curveWeighting', 'huberDelta', 'maxPoints', 'bounds'] as const;
/** Options mpl's map method does not use: it starts from the reference's simplified-model fit (no sampled starts) and runs LM. */
const NOT_MAP = ['starts', 'seed', ...ADAM_ONLY] as const;

/** The method a fit of `law` with `options` uses (a law with one method always uses it). */
export function methodOf(law: Law<any> | LawId, options: FitOptions, defaultMethod?: FitMethod): FitMethod {
  const { methods, defaultMethod: lawDefault } = (typeof law === 'string' ? getLaw(law) : law).fit;
  return methods.length === 1 ? methods[0]! : (options.method ?? defaultMethod ?? lawDefault);
}

/** The ids of the laws `applies` holds for, as "mpl" or "mpl, lra". */
function lawsWhere(applies: (law: Law<any>) => boolean): string {
  return LAW_IDS.filter((id) => applies(LAWS[id])).join(', ');
}

/**
 * The first option in `options` that a fit of `lawId` would ignore, as a FitInputError; undefined if
 * none. Read from the law's declaration: its options, its fit methods, whether its start samples.
 * `defaultMethod` overrides the law's default method.
 */
export function inapplicableOption(lawId: LawId, options: FitOptions, defaultMethod?: FitMethod): FitInputError | undefined {
  const law = getLaw(lawId);
  const given = (name: keyof FitOptions) => options[name] !== undefined;
  const refuse = (name: string, why: string) => new FitInputError(`options.${name} ${why}`, `options.${name}`);
  // Options of other laws (lra's lambda on an mpl fit).
  for (const id of LAW_IDS) {
    for (const option of LAWS[id].options) {
      const name = option.name as keyof FitOptions;
      if (given(name) && !law.options.some((o) => o.name === option.name)) return refuse(name, `applies to ${lawsWithOption(option.name).join(', ')} fits only (${option.description})`);
    }
  }
  // Options of the methods the law lacks (with one method, `method` itself).
  const methods = law.fit.methods;
  const lacked = [...(methods.length === 1 ? (['method'] as const) : []), ...METHOD_ONLY.filter(([, only]) => !only.some((m) => methods.includes(m))).map(([name]) => name)];
  const methodOption = lacked.find(given);
  if (methodOption) {
    const usedBy = methodOption === 'method' ? (l: Law<any>) => l.fit.methods.length > 1 : (l: Law<any>) => METHOD_ONLY.some(([name, only]) => name === methodOption && only.some((m) => l.fit.methods.includes(m)));
    return refuse(methodOption, `applies to ${lawsWhere(usedBy)} fits only (${law.fit.methodsNote ?? `${law.id} fits with method ${methods.join(', ')}`})`);
  }
  if (law.start.sampled.length === 0) {
    const sampling = SAMPLING.find(given);
    if (sampling) return refuse(sampling, `applies to ${lawsWhere((l) => l.start.sampled.length > 0)} fits only (${law.start.fixedNote ?? `${law.id} samples nothing at its start`})`);
  }
  const method = methodOf(law, options, defaultMethod);
  if (method === 'reference') {
    const name = NOT_REFERENCE.find(given);
    if (name) return refuse(name, 'is not used by method "reference", which reproduces the published procedure with its fixed constants (135-start grid, AdamW step sizes, at most 200 iterations, Huber delta 1e-3 summed over every raw point, no bounds)');
  } else if (method === 'map') {
    const name = NOT_MAP.find(given);
    if (name) return refuse(name, 'is not used by method "map" (a start from the reference\'s simplified model, then Levenberg-Marquardt under the prior: see priorWeight, maxIterations)');
    return undefined;
  }
  if (given('priorWeight')) return refuse('priorWeight', 'applies to method "map"');
  if (method === 'adam') {
    const name = LM_ONLY.find(given);
    if (name) return refuse(name, 'applies to method "converged" (global starts + Levenberg-Marquardt); method "adam" runs adamIterations steps from the reference initial guess');
  } else {
    const name = ADAM_ONLY.find(given);
    if (name) return refuse(name, 'applies to method "adam"');
  }
  return undefined;
}
