/** The multi-power law (Luo et al. 2025): see law.ts for the formula, evaluate.ts for the fast evaluator. */
export { mplLaw, MPL_PARAMS, MPL_START, type MplOptions } from './law.js';
export { cumulativeLr, predictMplDirect } from './direct.js';
export { mplSchedule, prepareMplSchedule, type MplSchedule } from './prepare.js';
export { seriesOrder } from './series.js';
export { evaluateMplPrepared, predictMpl, predictMplPrepared, predictMplWithJacobian } from './evaluate.js';
