/**
 * What every space's search needs (spaces/*.ts): the law's float64 evaluation and the search's
 * score, the baselines, the time budget and the search's deadline, progress reports, cancellation,
 * the TF.js backend and the objectives on it, and a `stage` that runs one batched Adam search with
 * all of those applied.
 *
 * Time: `budgetMs` covers the whole call. The float64 evaluations cost about 0.15 us per step each
 * (33 for the baselines, a few for the answer): milliseconds at 24,000 steps, seconds at millions.
 * The baselines come first, and the search stops early enough to leave room for the answer's; when
 * the baselines alone use up the budget, the search gets one iteration per stage and a warning.
 */
import { predictMpl } from '../laws/mpl/index.js';
import { initBackend, backendNotes } from './backend.js';
import { FinalLossObjective, riseCharge } from './objective.js';
import { adamSearch, type AdamResult, type SpaceBatch } from './search.js';
import { computeBaselines, BASELINE_EVALUATIONS, type Baselines } from './baselines.js';
import type { SearchRequest } from './request.js';
import type { Problem } from './spaces/common.js';
import type { AnswerIntervalSource } from './answer-interval.js';

export interface OptimizeProgress {
  progress: number;
  bestLoss: number;
  iteration: number;
}

/** The caller's hooks into a search. */
export interface OptimizeOptions {
  onProgress?(p: OptimizeProgress): void;
  signal?: AbortSignal;
  /** Seed of the random restarts (default 1). */
  seed?: number;
  /** A stored fit's interval basis and a level: the answer gets prediction intervals (answer-interval.ts). */
  interval?: AnswerIntervalSource;
}

/** Float64 evaluations of the answer after the search (export and thinning), room kept for them. */
const ANSWER_EVALUATIONS = 4;
/**
 * With an interval, the answer's 5 law evaluations with the Jacobian (answer-interval.ts), in units of
 * one float64 evaluation: a Jacobian pass over the run costs about 2 of them.
 */
const INTERVAL_EVALUATIONS = 10;

/** One Adam stage: its iteration cap, deadline, share of the progress bar and patience. */
export interface StageOptions {
  /** `coarse` groups the warmup's terms (fast, 1e-5 close); `fine` keeps every term (exact). */
  objective: 'coarse' | 'fine';
  maxIterations: number;
  /** The stage's own deadline (the search's deadline caps it). */
  deadline: number;
  progressFrom: number;
  progressTo: number;
  patience?: number;
}

export class SearchContext {
  readonly problem: Problem;
  readonly seed: number;
  readonly signal?: AbortSignal;
  readonly bestBaseline: number;
  /** The answer's interval source, when asked for. */
  readonly interval?: AnswerIntervalSource;
  readonly warnings: string[] = [];
  /** Adam iterations of every stage so far. */
  iterations = 0;
  private bestSoFar: number;
  private readonly objectives = new Map<StageOptions['objective'], FinalLossObjective>();

  private constructor(
    readonly req: SearchRequest,
    readonly backend: string,
    readonly baselines: Baselines,
    /** performance.now() at the start of the call. */
    readonly t0: number,
    /** performance.now() when the search starts (after the baselines), and its deadline. */
    private readonly searchStart: number,
    readonly deadline: number,
    private readonly hooks: OptimizeOptions,
  ) {
    this.problem = req.problem;
    this.seed = hooks.seed ?? 1;
    this.signal = hooks.signal;
    this.interval = hooks.interval;
    this.bestBaseline = Math.min(baselines.cosine.loss, baselines.linear.loss, baselines.wsd.loss, baselines.constant.loss);
    this.bestSoFar = this.bestBaseline;
  }

  /** Load the backend and compute the baselines; the search's deadline leaves room for the answer. */
  static async create(req: SearchRequest, hooks: OptimizeOptions, t0: number): Promise<SearchContext> {
    const backend = await initBackend();
    const notes = backendNotes();
    const baselineStart = performance.now();
    const baselines = computeBaselines({ ...req, fixedLrs: req.problem.fixedPrefix ? req.problem.prefix : undefined });
    const baselineMs = performance.now() - baselineStart;
    // The search ends early enough for the answer's float64 evaluations (each about one baseline's).
    const searchStart = performance.now();
    const answerEvaluations = ANSWER_EVALUATIONS + (hooks.interval ? INTERVAL_EVALUATIONS : 0);
    const deadline = t0 + req.budgetMs - (answerEvaluations * baselineMs) / BASELINE_EVALUATIONS;
    const ctx = new SearchContext(req, backend, baselines, t0, searchStart, deadline, hooks);
    if (notes.length > 0 && backend !== 'node-gpu') ctx.warn(`TF.js backend ${backend} (${notes.join('; ')})`);
    if (deadline - searchStart < req.budgetMs / 2) {
      ctx.warn(
        `the float64 baselines over ${req.totalSteps} steps took ${baselineMs.toFixed(0)} ms of the ${req.budgetMs} ms budget, leaving the search ${Math.max(0, deadline - searchStart).toFixed(0)} ms: raise budgetMs for runs this long`,
      );
    }
    return ctx;
  }

  /** The time `fraction` of the way from the search's start to its deadline. */
  searchAt(fraction: number): number {
    return this.searchStart + (this.deadline - this.searchStart) * fraction;
  }

  /** Whether the search is past its deadline, or within `marginMs` of it. */
  pastDeadline(marginMs = 0): boolean {
    return performance.now() >= this.deadline - marginMs;
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  /** The law's final-step loss in float64. */
  evaluate(lrs: Float64Array): number {
    return predictMpl(lrs, [lrs.length - 1], this.req.params)[0]!;
  }

  /** What the search minimizes, in float64: the law's loss, plus the rise charge when not monotone. */
  score(lrs: Float64Array): number {
    const loss = this.evaluate(lrs);
    return this.req.monotone ? loss : loss + riseCharge(lrs, this.problem.prefix.length, this.req.params[3]!);
  }

  /** Publish progress (clamped to [0, 1]) with the best loss seen so far (the best baseline at first). */
  report(progress: number, iteration: number, loss: number): void {
    if (Number.isFinite(loss) && loss < this.bestSoFar) this.bestSoFar = loss;
    this.hooks.onProgress?.({ progress: Math.min(1, Math.max(0, progress)), bestLoss: this.bestSoFar, iteration });
  }

  /** The objective of a stage kind, built on first use. */
  private objective(kind: StageOptions['objective']): FinalLossObjective {
    let objective = this.objectives.get(kind);
    if (!objective) {
      objective = new FinalLossObjective({ ...this.req, fixedLrs: this.problem.prefix, chargeRises: !this.req.monotone }, kind === 'coarse' ? 1.2 : 1);
      this.objectives.set(kind, objective);
    }
    return objective;
  }

  /** Run one batched Adam search on `batch` (disposed after), counting its iterations and reporting progress. */
  async stage(batch: SpaceBatch, options: StageOptions): Promise<AdamResult> {
    const { maxIterations, progressFrom, progressTo } = options;
    const base = this.iterations;
    try {
      const result = await adamSearch(this.objective(options.objective), batch, {
        maxIterations,
        patience: options.patience,
        deadline: Math.min(this.deadline, options.deadline),
        signal: this.signal,
        onReport: (it, loss) => this.report(progressFrom + ((progressTo - progressFrom) * it) / maxIterations, base + it, loss),
      });
      this.iterations += result.iterations;
      return result;
    } finally {
      batch.dispose?.();
    }
  }

  /** Release the objectives' tensors. */
  dispose(): void {
    for (const objective of this.objectives.values()) objective.dispose();
    this.objectives.clear();
  }
}
