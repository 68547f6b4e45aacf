/** Fitting loss-curve laws: public API. */
export { fitLaw, fitMain, leaveOneOutFold, attachLeaveOneOut, wantsLeaveOneOut, boundsOf, FIT_DEFAULTS, type FitProgress } from './fit-law.js';
export { FitInputError, inapplicableOption } from './options.js';
export { evaluateMetrics, type EvaluateOptions } from './evaluate.js';
export { formatReport, leaveOneOutStatusText, type LeaveOneOutStatus } from './report.js';
export { DEFAULT_MAX_POINTS, prepareCurve, usablePoints } from './prepare.js';
export { HUBER_DELTA, huber } from './objective.js';
export type { FitCurve, FitOptions, FitRequest, FitReport, ParamEstimate, CurveFitMetrics, LeaveOneOutResult } from './types.js';
