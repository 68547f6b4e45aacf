/**
 * The API contracts, written once: route schemas (request validation, OpenAPI summary, description,
 * tags, responses) per resource, and the named schemas that app.ts registers with `addSchema` so
 * routes refer to them as `{ $ref: 'Name#' }` and the OpenAPI document lists them under
 * components.schemas. The types below derive from the same objects (the dashboard imports them,
 * type-only).
 */
import type { Static } from './static.js';
import { Problem } from './common.js';
import { CurveCreated, CurveSummary, CurveUpload, Point, SampledSchedule, type Curve } from './curves.js';
import { CurveMetrics, Fit, FitOptions, Metrics, type FitParam } from './fits.js';
import { Prediction } from './predict.js';
import { Baseline, OptimizeRequest, OptimizeResult } from './optimize.js';
import { Job } from './jobs.js';
import type { StoredSchedule } from './schedules.js';
import type { Health } from './service.js';

/** Every named schema, in the order of the document's components.schemas. */
export const sharedSchemas = [
  Problem,
  Point,
  CurveUpload,
  CurveCreated,
  CurveSummary,
  SampledSchedule,
  FitOptions,
  Metrics,
  CurveMetrics,
  Fit,
  Prediction,
  OptimizeRequest,
  Baseline,
  OptimizeResult,
  Job,
] as const;

/** The named schemas by `$id`, for resolving `$ref: 'Name#'` in types. */
export type Refs = { [S in (typeof sharedSchemas)[number] as S['$id']]: S };

/** The type of the values a contract schema describes, its `$ref`s resolved. */
export type Of<S> = Static<S, Refs>;

export type ProblemBody = Of<typeof Problem>;
export type PointBody = Of<typeof Point>;
export type CurveUploadBody = Of<typeof CurveUpload>;
export type CurveCreatedBody = Of<typeof CurveCreated>;
export type CurveSummaryBody = Of<typeof CurveSummary>;
export type CurveBody = Of<typeof Curve>;
export type SampledScheduleBody = Of<typeof SampledSchedule>;
export type MetricsBody = Of<typeof Metrics>;
export type CurveMetricsBody = Of<typeof CurveMetrics>;
export type FitParamBody = Of<typeof FitParam>;
export type FitBody = Of<typeof Fit>;
export type PredictionBody = Of<typeof Prediction>;
export type OptimizeRequestBody = Of<typeof OptimizeRequest>;
export type OptimizeResultBody = Of<typeof OptimizeResult>;
export type BaselineBody = Of<typeof Baseline>;
export type JobBody = Of<typeof Job>;
export type StoredScheduleBody = Of<typeof StoredSchedule>;
export type HealthBody = Of<typeof Health>;

/** The request types of a route contract, for `app.get<Route<typeof contract>>(...)`: params, query and body as validated. */
export type Route<C> = (C extends { params: infer P } ? { Params: Of<P> } : {}) &
  (C extends { querystring: infer Q } ? { Querystring: Of<Q> } : {}) &
  (C extends { body: infer B } ? { Body: Of<B> } : {});
