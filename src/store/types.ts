/**
 * The storage interface: one async repository per resource (curves, fits, schedules, jobs).
 * Repositories take and return domain values; a missing row is `undefined` (or `false` for a
 * write that found nothing), never an HTTP error. src/store/sqlite/ and src/store/postgres/ implement it.
 */
import type { PointColumns } from '../curves/points.js';
import type { LawId } from '../laws/law.js';
import type { IntervalBasis } from '../predict/interval-basis.js';

export interface CurveSummary {
  id: number;
  name: string;
  createdAt: string;
  meta: Record<string, unknown>;
  schedule: string | null;
  warmupSteps: number | null;
  /** The schedule planned for the whole run (a spec), for forecasts of a live run; null when none or when `schedule` is the plan. */
  plannedSchedule: string | null;
  pointCount: number;
  firstStep: number;
  lastStep: number;
}

export interface Curve extends CurveSummary {
  points: PointColumns;
}

export interface NewCurve {
  name: string;
  meta?: Record<string, unknown>;
  schedule?: string | null;
  warmupSteps?: number | null;
  plannedSchedule?: string | null;
  points: PointColumns;
}

/** One forecast of a live run's final loss, kept to show how it moved as points arrived. */
export interface CurveForecastEntry {
  /** What predicted it: `fit:ID`, or `law:ID` with ` with:1,2` for the other curves of the fit. */
  source: string;
  createdAt: string;
  pointCount: number;
  lastStep: number;
  finalStep: number;
  /** null where not finite. */
  finalLoss: number | null;
  lower: number | null;
  upper: number | null;
}

/**
 * How an append changes a curve's points, decided inside the store's write transaction from the
 * points as stored: the new points, or undefined to write nothing. It may throw to refuse the batch.
 */
export type PointsUpdate = (current: Curve) => PointColumns | undefined;

export interface StoredFit {
  id: number;
  law: LawId;
  createdAt: string;
  curveIds: number[];
  options: Record<string, unknown>;
  params: number[];
  maxLr: number;
  maxSteps: number;
  report: Record<string, unknown>;
}

/**
 * A fit to store. `intervalBasis`: what its prediction intervals need (src/predict/interval-basis.ts),
 * kept apart from the fit as read (StoredFit: lists and GET /fits/{id} never carry its KBs); absent
 * or null for none (rebuilt from the fit's curves when first needed).
 */
export type NewFit = Omit<StoredFit, 'id' | 'createdAt'> & { intervalBasis?: IntervalBasis | null };

export interface StoredSchedule {
  id: number;
  createdAt: string;
  spec: string;
  totalSteps: number;
  peakLr: number;
  source: Record<string, unknown>;
}

export type NewSchedule = Omit<StoredSchedule, 'id' | 'createdAt'>;

/** A job's lifecycle: queued, running, then done, failed or cancelled (a cancelled job keeps the cancel's reason as its error). */
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** A job (kind 'optimize' or 'fit'): status, progress, best loss so far (optimize), and the result or error. */
export interface StoredJob {
  id: number;
  kind: string;
  status: JobStatus;
  progress: number;
  bestLoss: number | null;
  request: Record<string, unknown>;
  /** The stored result (without per-step lrs), when done. */
  result: Record<string, unknown> | null;
  error: string | null;
  scheduleId: number | null;
  /** Starts of its work not given back by a clean stop (see JobsRepository.markRunning and requeue). */
  attempts: number;
  createdAt: string;
  updatedAt: string;
}

/** How many jobs of a kind are in an unfinished status (queue depth). */
export interface UnfinishedCount {
  kind: string;
  status: 'queued' | 'running';
  count: number;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface CurvesRepository {
  /** Store one curve (all or nothing). */
  insert(curve: NewCurve): Promise<CurveSummary>;
  /** Store several curves in one transaction (all or nothing). */
  insertMany(curves: NewCurve[]): Promise<CurveSummary[]>;
  list(limit: number, offset: number): Promise<Page<CurveSummary>>;
  count(): Promise<number>;
  summary(id: number): Promise<CurveSummary | undefined>;
  /** The curve with its points (read back bit for bit). */
  get(id: number): Promise<Curve | undefined>;
  /** False when there was no such curve. */
  delete(id: number): Promise<boolean>;
  /**
   * Replace the curve's points with `update`'s answer, read and written in one transaction (so
   * concurrent appends cannot lose points); undefined when there is no such curve, else the curve as stored after.
   */
  updatePoints(id: number, update: PointsUpdate): Promise<Curve | undefined>;
  /** Set (or clear, null) the planned schedule. False when there was no such curve. */
  setPlannedSchedule(id: number, spec: string | null): Promise<boolean>;
  /** Keep a forecast; only the newest `keep` of the curve's with the same source stay. */
  addForecast(curveId: number, entry: Omit<CurveForecastEntry, 'createdAt'>, keep: number): Promise<void>;
  /** The newest `limit` forecasts of the curve from `source`, oldest first. */
  forecasts(curveId: number, source: string, limit: number): Promise<CurveForecastEntry[]>;
}

export interface FitsRepository {
  insert(fit: NewFit): Promise<StoredFit>;
  get(id: number): Promise<StoredFit | undefined>;
  /** Newest first. */
  list(limit: number, offset: number): Promise<Page<StoredFit>>;
  /** Replace a fit's report and nothing else. False, having written nothing, when the fit is gone. */
  updateReport(id: number, report: Record<string, unknown>): Promise<boolean>;
  /** Fits whose report says their leave-one-out metrics are still being computed (`leaveOneOut.status` 'pending'). */
  withPendingLeaveOneOut(): Promise<StoredFit[]>;
  /** The fit's interval basis: null when it has none (stored before intervals), undefined when the fit is gone. */
  intervalBasis(id: number): Promise<IntervalBasis | null | undefined>;
  /** Replace the fit's interval basis (null: none) and nothing else. False, having written nothing, when the fit is gone. */
  setIntervalBasis(id: number, basis: IntervalBasis | null): Promise<boolean>;
  /** False when there was no such fit. */
  delete(id: number): Promise<boolean>;
}

export interface SchedulesRepository {
  insert(schedule: NewSchedule): Promise<StoredSchedule>;
  get(id: number): Promise<StoredSchedule | undefined>;
  /** Newest first (GET /schedules: the dashboard's list of past optimized schedules). */
  list(limit: number, offset: number): Promise<Page<StoredSchedule>>;
}

export interface JobsRepository {
  /** A new job, queued. */
  insert(kind: string, request: Record<string, unknown>): Promise<StoredJob>;
  get(id: number): Promise<StoredJob | undefined>;
  /** The job's work starts: running, one more attempt. */
  markRunning(id: number): Promise<void>;
  updateProgress(id: number, progress: number, bestLoss: number | null): Promise<void>;
  markDone(id: number, result: Record<string, unknown>, bestLoss: number | null, scheduleId: number | null): Promise<void>;
  markFailed(id: number, error: string): Promise<void>;
  /** The job was cancelled; `reason` (e.g. 'cancelled') is kept as its error. */
  markCancelled(id: number, reason: string): Promise<void>;
  /**
   * The job waits again (queued, progress and best loss reset): its work was stopped, to be started
   * again. `giveBackAttempt`: the stop was the server's own (a clean shutdown), not the job's doing,
   * so the start it interrupted does not count against its retry.
   */
  requeue(id: number, giveBackAttempt: boolean): Promise<void>;
  /** Jobs left queued or running (by a previous process), oldest first. */
  unfinished(): Promise<StoredJob[]>;
  /** Queued and running jobs counted by kind and status (only the pairs that have any). */
  unfinishedCounts(): Promise<UnfinishedCount[]>;
}

/** A job event that crosses processes (the queue's, see JobQueue.listen). */
export interface QueueEvent {
  id: number;
  /** `queued`: a job of `kind` waits (wakes idle workers); the others as the job runner publishes them (`done` without its data: read the job). */
  type: 'queued' | 'progress' | 'done' | 'failed' | 'cancelled';
  kind?: string;
  data?: Record<string, unknown>;
  /** The process that published it (JobQueue.origin). */
  origin: string;
}

/** How a job's work ended, as stored by JobQueue.finish. */
export type JobOutcomeRecord =
  | { status: 'done'; result: Record<string, unknown>; bestLoss: number | null; scheduleId: number | null }
  | { status: 'failed'; error: string };

/**
 * A durable queue of jobs shared by every process on the store (PostgreSQL only: src/store/postgres/queue.ts).
 * The jobs repository's rows stay the jobs' truth; the queue delivers each start of a job's work to
 * one worker. Writes of a job's progress and outcome name its `owner` (the start that claimed it) and
 * store nothing once that start has lost the job (cancelled, or handed to another worker).
 */
export interface JobQueue {
  /** This process's name in published events. */
  readonly origin: string;
  /** Connect: the queue, and the listening for events of other processes (before any `listen` can hear them). */
  start(): Promise<void>;
  /** Store a queued job and its delivery (one transaction). */
  enqueue(kind: string, request: Record<string, unknown>): Promise<StoredJob>;
  /** Take deliveries of `kind`, `concurrency` at a time, handing each job id to `run` (resolved: the delivery is handled). */
  work(kind: string, concurrency: number, run: (jobId: number) => Promise<void>): Promise<void>;
  /** Start the work of a queued job as `owner` (running, one more attempt); undefined when it is not queued (ended, or taken). */
  claim(id: number, owner: string): Promise<StoredJob | undefined>;
  /** Renew the owner's heartbeat; false once the owner has lost the job. */
  heartbeat(id: number, owner: string): Promise<boolean>;
  /** Store the owner's progress and publish `data` (if any); false once the owner has lost the job. */
  progress(id: number, owner: string, progress: number, bestLoss: number | null, data: Record<string, unknown> | null): Promise<boolean>;
  /** Store the outcome and publish the end if `owner` still runs the job; false, having stored nothing, otherwise. */
  finish(id: number, owner: string, outcome: JobOutcomeRecord): Promise<boolean>;
  /** Cancel a queued or running job, whichever process runs it: the status it had, or undefined when it had ended. */
  cancel(id: number, reason: string): Promise<'queued' | 'running' | undefined>;
  /** A delivery of a job still queued, handed back untouched (taken while stopping): a new delivery replaces it. */
  redeliver(id: number): Promise<void>;
  /** Give the job back (a clean stop): queued again with a new delivery, the interrupted start given back. */
  release(id: number, owner: string): Promise<void>;
  /**
   * Jobs whose worker stopped renewing their heartbeat for `staleMs` (it died): queued again with a
   * new delivery, or failed with `reason(attempts)` once they have had `maxAttempts` starts.
   */
  sweep(staleMs: number, maxAttempts: number, reason: (attempts: number) => string): Promise<{ requeued: number[]; failed: number[] }>;
  /**
   * At the start of a process alone on the database (nothing else runs jobs): the jobs a previous
   * process left running (it crashed) are queued again, or failed with `interruptedTwice` once they
   * have had `maxAttempts` starts, and every queued job gets a delivery (a duplicate finds it taken).
   */
  recoverAlone(maxAttempts: number, interruptedTwice: string): Promise<{ resumed: number; failed: number }>;
  /** Listen to the job events of every process (this one's included); returns the unsubscribe function. */
  listen(listener: (event: QueueEvent) => void): () => void;
  close(): Promise<void>;
}

/** How to open a store (every engine). */
export interface StoreOptions {
  /** Largest size of the database in bytes; writes beyond it fail with StorageFullError. Unset or 0: no limit but the disk. */
  maxBytes?: number;
}

export interface Store {
  curves: CurvesRepository;
  fits: FitsRepository;
  schedules: SchedulesRepository;
  jobs: JobsRepository;
  /** The engine: SQLite (one process) or PostgreSQL (shared by processes). */
  engine: 'sqlite' | 'postgres';
  /** The durable job queue shared by the processes on this store (PostgreSQL); absent on SQLite. */
  queue?: JobQueue;
  close(): Promise<void>;
}
