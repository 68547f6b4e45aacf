/**
 * Typed client for the lrcast API. Every failure becomes an ApiError carrying the
 * problem+json `detail` and `field`, so views can say what happened and where.
 */
import type {
  CurveBody,
  CurveMetricsBody,
  CurveSummaryBody,
  FitBody,
  FitParamBody,
  JobBody,
  MetricsBody,
  OptimizeRequestBody,
  OptimizeResultBody,
  PointBody,
  PredictionBody,
  SampledScheduleBody,
} from '../routes/contracts/index.js';

// The answers' types derive from the API contracts (src/routes/contracts, type-only: nothing of the
// server enters the bundle); the dashboard's own shapes (a normalized fit, string job ids) build on them.
export type CurveSummary = CurveSummaryBody;
export type CurvePoint = PointBody;
export type Curve = CurveBody;
export type Series = SampledScheduleBody;

export type FitParam = FitParamBody;
export type Metric = MetricsBody;
export type CurveMetric = CurveMetricsBody;
export interface MetricSet { perCurve: CurveMetric[]; mean: Metric }
/**
 * Where a fit's leave-one-out metrics stand: the server answers with the main fit and computes them
 * in the background (poll GET /fits/{id} while pending).
 */
export interface LeaveOneOutState { status: 'pending' | 'done' | 'failed'; error?: string }
/** A fit as the views use it (see normalizeFit): the API's fit with its metrics flattened. */
export interface Fit extends Omit<FitBody, 'metrics' | 'leaveOneOut' | 'options' | 'points' | 'text'> {
  metrics: MetricSet;
  /** The leave-one-out metrics once done (else null). */
  leaveOneOut: MetricSet | null;
  /** Null when leave-one-out is not computed (one curve, or switched off). */
  leaveOneOutState: LeaveOneOutState | null;
}
export type FitSummary = Partial<Fit> & { id: number; law: string; curveIds: number[]; createdAt?: string };

/**
 * A prediction. The contract's `loss` values are null where the loss is not finite (steps before any
 * lr was applied, or params that do not suit the schedule: the answer's warnings say so); the views
 * ask for finite steps only and read them as numbers.
 */
export type Prediction = Omit<PredictionBody, 'loss' | 'final'> & {
  loss: number[];
  /** With `interval`: the interval's bounds at the final step (null where not finite). */
  final: { step: number; loss: number; lower?: number | null; upper?: number | null };
};

/** The prediction interval's level the views ask for (README: Prediction intervals). */
export const INTERVAL_LEVEL = 0.8;

/** One earlier forecast's predicted final loss (a forecast's `history`, oldest first). */
export interface ForecastHistory {
  createdAt: string;
  pointCount: number;
  lastStep: number;
  finalStep: number;
  finalLoss: number | null;
  lower?: number | null;
  upper?: number | null;
}
/**
 * The forecast of the rest of a live run (GET /curves/{id}/forecast, and the `forecast` event; see
 * src/routes/contracts/live.ts): `steps`/`loss` from the last logged step to the end of the plan, with
 * `interval` the `lower`/`upper` arrays and final bounds.
 */
export interface Forecast {
  curve: number;
  source: string;
  fit?: number;
  law?: string;
  params: Record<string, number>;
  plan: string;
  totalSteps: number;
  lastStep: number;
  pointCount: number;
  steps: number[];
  loss: (number | null)[];
  level?: number;
  lower?: (number | null)[];
  upper?: (number | null)[];
  final: { step: number; loss: number | null; lower?: number | null; upper?: number | null };
  history: ForecastHistory[];
  warnings: string[];
}
/** A `points` event of GET /curves/{id}/events. */
export interface PointsEvent { added: number; unchanged: number; pointCount: number; lastStep: number }

/** The optimize form always names a stored fit. */
export type OptimizeRequest = Omit<OptimizeRequestBody, 'fit' | 'law' | 'params'> & { fit: number };
/** A baseline in an optimize result: the server may give a final loss or a whole curve. */
export interface Baseline { schedule: string; loss: number | number[] | { steps: number[]; loss: number[] } }
/** `lrs` is absent from an async result of over 100,000 steps (`lrsOmitted` says so). */
export type OptimizeResult = Omit<OptimizeResultBody, 'baselines' | 'lrs'> & { baselines: Record<string, Baseline>; lrs?: number[]; lrsOmitted?: string };
/** A stored schedule in GET /schedules; `source` is the request that made it (fit, space, predictedFinalLoss, ...). */
export interface StoredScheduleSummary {
  id: number;
  spec: string;
  totalSteps: number;
  peakLr: number;
  createdAt: string;
  source: { fit?: number; law?: string; space?: string; predictedFinalLoss?: number; [key: string]: unknown };
}
/** A job; the dashboard keeps job ids as strings (they only go into URLs). */
export type Job = Omit<JobBody, 'id' | 'result' | 'error'> & {
  id: string;
  /** The job's error (a string), or the dashboard's own while following it. */
  error?: unknown;
  /** The optimization result (kind optimize) or the stored fit (kind fit). */
  result?: OptimizeResult;
};

/** An API failure: HTTP status plus the problem details the server sent (or a network message). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly field?: string,
    readonly title?: string,
  ) {
    super(detail);
    this.name = 'ApiError';
  }
  /** One line for the UI: "400 Bad Request — invalid schedule: … (field: schedule)". */
  describe(): string {
    const head = this.status ? `${this.status}${this.title ? ' ' + this.title : ''}` : 'Network error';
    return `${head}: ${this.detail}${this.field ? ` (field: ${this.field})` : ''}`;
  }
}

/** Turn a problem+json (or any) error value from a job or response into an ApiError. */
export function toApiError(value: unknown, status = 0): ApiError {
  if (value instanceof ApiError) return value;
  if (value && typeof value === 'object') {
    const p = value as { status?: number; detail?: string; title?: string; field?: string; message?: string };
    return new ApiError(p.status ?? status, p.detail ?? p.message ?? p.title ?? JSON.stringify(value), p.field, p.title);
  }
  if (value instanceof Error) return new ApiError(status, value.message);
  return new ApiError(status, String(value));
}

type Raw = Record<string, any>;
/** One per-curve metric row, flat (`{curveId, name, r2, …}`) whether the server nests it or not. */
function flatMetric(m: Raw): CurveMetric {
  const inner = m.metrics && typeof m.metrics === 'object' ? m.metrics : m;
  return { ...inner, curveId: m.curveId ?? m.id, name: m.name };
}
function metricSet(raw: Raw | null | undefined): MetricSet | null {
  if (!raw) return null;
  const rows: Raw[] = raw.perCurve ?? raw.curves ?? [];
  return { perCurve: rows.map(flatMetric), mean: raw.mean };
}
/**
 * A fit as the views use it: `metrics.perCurve` / `leaveOneOut.perCurve`, also from a report's `curves` + `mean`;
 * `leaveOneOut` as `{status: pending | done | failed, …}` or metrics alone (done).
 */
export function normalizeFit(raw: Raw): Fit {
  const metrics = metricSet(raw.metrics ?? (raw.curves ? { curves: raw.curves, mean: raw.mean } : null)) ?? { perCurve: [], mean: {} as Metric };
  const loo: Raw | null = raw.leaveOneOut ?? null;
  const looMetrics = loo && (loo.perCurve || loo.curves) && loo.mean ? metricSet(loo) : null;
  const leaveOneOutState: LeaveOneOutState | null = loo
    ? { status: loo.status ?? (looMetrics ? 'done' : 'pending'), ...(loo.error !== undefined ? { error: String(loo.error) } : {}) }
    : null;
  return { ...raw, metrics, leaveOneOut: looMetrics, leaveOneOutState, notes: raw.notes ?? [] } as Fit;
}

/**
 * The bearer token for a service started with LRCAST_TOKEN or LRCAST_READ_TOKEN: asked for on the
 * first 401 and kept in this browser's localStorage (never in URLs, so never in logs).
 */
const TOKEN_KEY = 'lrcast.token';
const storedToken = () => localStorage.getItem(TOKEN_KEY) ?? '';

/** Ask for a token after a 401; true when one was given (the request is then retried once). */
function askForToken(detail: string): boolean {
  const token = window.prompt(`This lrcast needs a token (${detail}). Token:`, '')?.trim();
  if (!token) return false;
  localStorage.setItem(TOKEN_KEY, token);
  return true;
}

async function request<T>(method: string, url: string, body?: unknown, init: RequestInit = {}, retried = false): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const sentToken = storedToken();
  if (sentToken) headers.authorization = `Bearer ${sentToken}`;
  let payload: BodyInit | undefined;
  if (typeof body === 'string') {
    headers['content-type'] = 'text/csv';
    payload = body;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: payload, ...init });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, `could not reach the server (${(err as Error).message})`);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = undefined;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  // Requests sent before the token was given retry with it without asking again.
  const tokenGiven = () => storedToken() !== sentToken || askForToken(toApiError(data ?? text, 401).detail);
  if (res.status === 401 && !retried && tokenGiven()) return request<T>(method, url, body, init, true);
  if (!res.ok) {
    if (data && typeof data === 'object') throw toApiError(data, res.status);
    throw new ApiError(res.status, text.slice(0, 300) || res.statusText);
  }
  return data as T;
}

const q = (params: Record<string, string | number | boolean | undefined>) =>
  Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
    .join('&');

export const api = {
  listCurves: () => request<{ items: CurveSummary[]; total: number }>('GET', '/curves?limit=1000'),
  getCurve: (id: number) => request<Curve>('GET', `/curves/${id}`),
  curveSchedule: (id: number, every?: number) => request<Series>('GET', `/curves/${id}/schedule?${q({ every })}`),
  /** A curve as JSON (`points`, `name`, `schedule` or `warmupSteps`, `meta` tags). */
  uploadCurve: (body: Record<string, unknown>) => request<{ id: number; name: string; pointCount: number }>('POST', '/curves', body),
  deleteCurve: (id: number) => request<void>('DELETE', `/curves/${id}`),
  expand: (schedule: string, every?: number, signal?: AbortSignal) =>
    request<Series & { schedule: string }>('GET', `/schedules/expand?${q({ schedule, every })}`, undefined, { signal }),

  listFits: async () => {
    const res = await request<{ items: Raw[] }>('GET', '/fits?limit=1000');
    return { items: res.items.map((f) => normalizeFit(f) as FitSummary) };
  },
  getFit: async (id: number) => normalizeFit(await request<Raw>('GET', `/fits/${id}`)),
  createFit: async (curveIds: number[], law: string) => normalizeFit(await request<Raw>('POST', '/fit', { curveIds, law })),
  /** Start a fit as a job (POST /fit?async=1); follow it with `followJob`, read it with `normalizeFit`. */
  startFit: (curveIds: number[], law: string) => request<{ jobId: number }>('POST', '/fit?async=1', { curveIds, law }),
  deleteFit: (id: number) => request<void>('DELETE', `/fits/${id}`),
  predict: (params: { fit: number; schedule?: string; curve?: number; every?: number; interval?: number }, signal?: AbortSignal) =>
    request<Prediction>('GET', `/predict?${q(params)}`, undefined, { signal }),
  /**
   * A prediction with its interval at `level` (lower/upper beside loss); where the interval cannot be
   * had (a 409: an old fit whose curves were deleted; a 400 naming `interval`: a server without them)
   * the prediction alone, so the curve is still drawn.
   */
  predictWithInterval: async (params: { fit: number; schedule?: string; curve?: number; every?: number }, signal?: AbortSignal, level = INTERVAL_LEVEL): Promise<Prediction> => {
    try {
      return await api.predict({ ...params, interval: level }, signal);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 409 || (err.status === 400 && err.field === 'interval'))) return api.predict(params, signal);
      throw err;
    }
  },

  /** The forecast of a live run's rest under its plan, with a stored fit (and its interval at `interval`). */
  forecast: (id: number, params: { fit: number; interval?: number; points?: number }, signal?: AbortSignal) =>
    request<Forecast>('GET', `/curves/${id}/forecast?${q(params)}`, undefined, { signal }),

  startOptimize: (body: OptimizeRequest) => request<{ jobId: string }>('POST', '/optimize-schedule?async=1', body),
  getJob: (id: string) => request<Job>('GET', `/jobs/${encodeURIComponent(id)}`),
  cancelJob: (id: string) => request<Job>('DELETE', `/jobs/${encodeURIComponent(id)}`),
  scheduleDownload: (id: number | string, format: 'json' | 'csv' | 'pytorch') => `/schedules/${id}?format=${format}`,
  /** A stored schedule with its `source` (the request that made it: fit, space, ...) and its lrs. */
  getSchedule: (id: number) => request<StoredScheduleSummary & { lrs: number[] }>('GET', `/schedules/${id}?format=json`),
  /** The stored (optimized) schedules, newest first, without their lrs. */
  listSchedules: (limit = 20, offset = 0) => request<{ items: StoredScheduleSummary[]; total: number }>('GET', `/schedules?${q({ limit, offset })}`),
};

/** A job's progress: the fraction done, and for an optimization the best loss and iteration so far. */
export interface JobProgress {
  progress: number;
  bestLoss?: number | null;
  iteration?: number;
}

/**
 * Follow a job to its end: progress from its event stream (`via` 'stream'), or by polling GET
 * /jobs/{id} where streams are unavailable or drop ('poll'); resolves with the result (the `done`
 * event's data or the job's `result`), rejects with the job's error as an ApiError when it failed or
 * was cancelled (a cancelled job's error is its reason: `cancelled`).
 */
export function followJob(jobId: string, onProgress: (p: JobProgress, via: 'stream' | 'poll') => void): Promise<Raw> {
  return new Promise((resolve, reject) => {
    let finished = false;
    let source: EventSource | null = null;
    // Polled progress is the stored copy (written at most every 200 ms): never show it going back.
    let shown = 0;
    const report = (p: Partial<JobProgress>, via: 'stream' | 'poll') => {
      shown = Math.max(shown, Number(p.progress ?? 0));
      onProgress({ ...p, progress: shown }, via);
    };
    const end = (ok: boolean, value: unknown) => {
      if (finished) return;
      finished = true;
      source?.close();
      if (ok) resolve(value as Raw);
      else reject(toApiError(value));
    };
    const poll = async () => {
      while (!finished) {
        try {
          const job = await api.getJob(jobId);
          report({ progress: job.progress, bestLoss: job.bestLoss }, 'poll');
          if (job.status === 'done') return end(true, job.result);
          if (job.status === 'failed' || job.status === 'cancelled') return end(false, job.error ?? job.status);
        } catch (err) {
          return end(false, err);
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    // An EventSource cannot send the Authorization header: with a token, follow by polling.
    if (typeof EventSource === 'undefined' || storedToken()) return void poll();
    source = new EventSource(`/jobs/${encodeURIComponent(jobId)}/events`);
    const data = (e: Event) => {
      try {
        return JSON.parse((e as MessageEvent).data);
      } catch {
        return {};
      }
    };
    source.addEventListener('progress', (e) => report(data(e), 'stream'));
    source.addEventListener('done', (e) => end(true, data(e)));
    source.addEventListener('failed', (e) => end(false, data(e).error ?? 'the job failed'));
    source.addEventListener('cancelled', (e) => end(false, data(e).error ?? 'cancelled'));
    source.onerror = () => {
      if (finished) return;
      source?.close();
      source = null;
      void poll();
    };
  });
}

/** Whether server-sent events can be followed here: not without EventSource, nor with a token (no Authorization header). */
export function canStream(): boolean {
  return typeof EventSource !== 'undefined' && !storedToken();
}

/** How many steps to skip so a schedule of `total` steps gives about `target` points. */
export function everyFor(total: number, target = 2000): number {
  return Math.max(1, Math.ceil(total / target));
}

// ---- appended for the Fits and What-if views (issue 14) ----

/** One of the reference schedules (GET /baselines, the optimize answer's `baselines`): named by its spec. */
export interface NamedBaseline { schedule: string; loss: number }
/** The optimize answer's baseline set for a fit and run shape (GET /baselines). */
export interface BaselineSet {
  fit: number;
  totalSteps: number;
  peakLr: number;
  warmupSteps: number;
  baselines: { cosine: NamedBaseline; linear: NamedBaseline; wsd: NamedBaseline; constant: NamedBaseline };
}
/** GET /baselines: the same cosine / linear / best WSD / constant the Optimize view's answer compares with. */
export function getBaselines(params: { fit: number; totalSteps: number; peakLr: number; warmupSteps: number }, signal?: AbortSignal): Promise<BaselineSet> {
  return request<BaselineSet>('GET', `/baselines?${q(params)}`, undefined, { signal });
}

/** How a fit was made and whether it ran to its stop rule (the fit report's `options.method` and `converged`). */
export interface FitProcedure {
  /** The law and method, e.g. "mpl · map" (lra has no method option). */
  method: string;
  /** True when the procedure ended by its own stop rule (the contract's `converged`). */
  ranToStop: boolean;
  /** The badge: what ending by the stop rule means for this method ("converged" only where it is an optimum). */
  badge: string;
  /** What that stop rule is, in words. */
  stopRule: string;
}
export function fitProcedure(f: { law: string; converged: boolean; options?: unknown }): FitProcedure {
  const given = (f.options ?? {}) as { method?: string; adamIterations?: number };
  // mpl's default method is map (FitOptions.method); lra has none.
  const method = f.law === 'mpl' ? (given.method ?? 'map') : '';
  const name = method ? `${f.law} · ${method}` : f.law;
  if (method === 'adam') {
    const budget = `${given.adamIterations ?? 800} Adam steps`;
    return { method: name, ranToStop: f.converged, badge: f.converged ? 'early-stopped (ran its budget)' : 'stopped early: non-finite', stopRule: `a fixed budget of ${budget}: early stopping by design, not the optimum of the objective` };
  }
  if (method === 'reference') {
    return { method: name, ranToStop: f.converged, badge: f.converged ? 'stopped by its rule' : 'did not reach its stop rule', stopRule: 'the reference AdamW rule: at most 200 iterations, stop after 20 without a new minimum' };
  }
  return { method: name, ranToStop: f.converged, badge: f.converged ? 'converged' : 'not converged', stopRule: 'the Levenberg-Marquardt convergence test' };
}
