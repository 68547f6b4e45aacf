/**
 * Scoring and aggregation of the transfer benchmark, importable by other scripts (e.g. one that
 * compares candidate fit procedures): `runTransfer(methods, protocols, { workers })` fits every
 * method on every protocol's fit curves (on worker threads), scores the prediction of each target
 * curve, and returns the results object that bench/transfer.ts prints and saves.
 *
 * Per target curve: PredE and WorstE (evaluateMetrics: mean and max |pred - obs| / obs over its
 * logged points) and the relative error of the final loss, (pred - obs) / obs at its last logged
 * step. Per protocol x method: the mean of each over the targets. Per group (and overall, and overall
 * without cross-peak): the mean over protocols, each protocol weighing the same.
 */
import { fitLaw, evaluateMetrics } from '../src/fit/index.js';
import { loadFixtureCurves, type FixtureCurve } from '../src/fixtures/luo2025.js';
import { load124mCurve } from '../src/fixtures/schaipp-haegele.js';
import type { FitCurve } from '../src/fit/types.js';
import { getLaw, lawOptionsOf as lawOptionsFor } from '../src/laws/index.js';
import { WorkerPool } from '../src/workers/pool.js';
import type { TransferMethod } from './transfer-methods.js';
import { BENCH_PROCEDURES } from './fit-selection-procedures.js';
import { GROUPS, refLabel, type CurveRef, type TransferGroup, type TransferProtocol } from './transfer-protocols.js';

// ---------------------------------------------------------------------------------------------
// Curves
// ---------------------------------------------------------------------------------------------

const fixtureCache = new Map<string, FixtureCurve[]>();
const curveCache = new Map<string, FitCurve>();

/** The curve a reference names (cached per thread). */
export function loadRef(ref: CurveRef): FitCurve {
  const key = refLabel(ref);
  let curve = curveCache.get(key);
  if (curve) return curve;
  if (ref.set === 'luo2025') {
    let list = fixtureCache.get(ref.size);
    if (!list) fixtureCache.set(ref.size, (list = loadFixtureCurves(ref.size)));
    curve = list.find((c) => c.shortName === ref.file);
    if (!curve) throw new RangeError(`no ${ref.size} fixture ${ref.file}`);
  } else {
    curve = load124mCurve(ref.run, ref.log, ref.maxStep !== undefined ? { maxStep: ref.maxStep } : {});
  }
  curveCache.set(key, curve);
  return curve;
}

// ---------------------------------------------------------------------------------------------
// One fit and its scores
// ---------------------------------------------------------------------------------------------

export interface TargetScore {
  curve: string;
  points: number;
  predE: number;
  worstE: number;
  finalStep: number;
  finalObserved: number;
  finalPredicted: number;
  /** (pred - obs) / obs at the last logged step. */
  finalError: number;
}

export interface TaskOutcome {
  protocol: string;
  method: string;
  /** Set when the fit (or a prediction) threw; the scores are then absent. */
  error?: { name: string; message: string; field?: string };
  fitWallS: number;
  evalWallS: number;
  params?: { name: string; value: number }[];
  converged?: boolean;
  targets?: TargetScore[];
}

function lawOptionsOf(method: TransferMethod): Record<string, unknown> | undefined {
  return lawOptionsFor(getLaw(method.law), method.options as Record<string, unknown>);
}

/** Fit `method` on the protocol's fit curves and score every target (never throws for a failing fit). */
export function runTask(protocol: TransferProtocol, method: TransferMethod): TaskOutcome {
  const out: TaskOutcome = { protocol: protocol.name, method: method.label, fitWallS: 0, evalWallS: 0 };
  const fitCurves = protocol.fit.map(loadRef);
  const started = performance.now();
  try {
    const law = getLaw(method.law);
    let params: number[];
    if (method.procedure !== undefined) {
      const procedure = BENCH_PROCEDURES[method.procedure];
      if (!procedure) throw new RangeError(`no bench procedure ${method.procedure}`);
      params = procedure(fitCurves);
    } else {
      const report = fitLaw({ law: method.law, curves: fitCurves, options: { ...method.options, leaveOneOut: false } });
      out.converged = report.converged;
      params = report.params.map((p) => p.value);
    }
    out.fitWallS = (performance.now() - started) / 1000;
    out.params = law.params.map((p, j) => ({ name: p.name, value: params[j]! }));
    const lawOptions = lawOptionsOf(method);
    const evalStarted = performance.now();
    out.targets = protocol.targets.map((ref) => {
      const curve = loadRef(ref);
      const metrics = evaluateMetrics(law, params, curve, { lawOptions });
      const last = curve.steps.length - 1;
      const finalStep = curve.steps[last]!;
      const finalObserved = curve.loss[last]!;
      const finalPredicted = law.predict(curve.lrs, [finalStep], params, lawOptions)[0]!;
      return {
        curve: refLabel(ref),
        points: metrics.points,
        predE: metrics.predE,
        worstE: metrics.worstE,
        finalStep,
        finalObserved,
        finalPredicted,
        finalError: (finalPredicted - finalObserved) / finalObserved,
      };
    });
    out.evalWallS = (performance.now() - evalStarted) / 1000;
  } catch (error) {
    const e = error as Error & { field?: string };
    if (!out.fitWallS) out.fitWallS = (performance.now() - started) / 1000;
    out.error = { name: e.name, message: e.message, ...(e.field ? { field: e.field } : {}) };
    delete out.targets;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Method availability
// ---------------------------------------------------------------------------------------------


/** A small synthetic WSD curve (2,000 steps, a point every 50) for the availability probe. */
function probeCurve(): FitCurve {
  const total = 2000;
  const lrs = new Float64Array(total);
  for (let s = 0; s < total; s++) lrs[s] = s < 100 ? (1e-3 * (s + 1)) / 100 : s < 1600 ? 1e-3 : (1e-3 * (total - s)) / 400;
  const steps = Array.from({ length: 38 }, (_, i) => 100 + 50 * i);
  const loss = Array.from(getLaw('mpl').predict(lrs, steps, [3, 0.5, 0.5, 300, 2, 0.5, 0.5]));
  return { id: 'probe', name: 'probe', lrs, steps, loss };
}

/** Why `method` cannot run (undefined: it can): a tiny probe fit that throws makes it unavailable. */
export function probeMethod(method: TransferMethod): string | undefined {
  if (method.procedure !== undefined) return BENCH_PROCEDURES[method.procedure] ? undefined : `no bench procedure ${method.procedure}`;
  try {
    fitLaw({ law: method.law, curves: [probeCurve()], options: { ...method.options, leaveOneOut: false } });
    return undefined;
  } catch (error) {
    return `fitLaw refuses it: ${(error as Error).message}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Aggregation
// ---------------------------------------------------------------------------------------------

export interface ProtocolRow {
  group: TransferGroup;
  protocol: string;
  method: string;
  /** False when the method is unavailable or its fit failed on this protocol. */
  ok: boolean;
  error?: string;
  predE: number;
  worstE: number;
  absFinalError: number;
  signedFinalError: number;
  fitWallS: number;
  evalWallS: number;
  targets: TargetScore[];
  params?: { name: string; value: number }[];
  converged?: boolean;
}

export type AggregateScope = TransferGroup | 'overall' | 'overall without cross-peak';

export interface Aggregate {
  scope: AggregateScope;
  method: string;
  /** Protocols scored / protocols in the scope (they differ when a fit failed). */
  protocols: number;
  of: number;
  predE: number;
  worstE: number;
  absFinalError: number;
  signedFinalError: number;
}

export interface MethodStatus {
  label: string;
  law: 'mpl' | 'lra';
  options: TransferMethod['options'];
  available: boolean;
  unavailableReason?: string;
}

export interface TransferResults {
  startedAt: string;
  wallS: number;
  workers: number;
  node: string;
  methods: MethodStatus[];
  protocols: (TransferProtocol & { fitLabels: string[]; targetLabels: string[]; wallS: number })[];
  rows: ProtocolRow[];
  aggregates: Aggregate[];
}

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN);

function rowOf(protocol: TransferProtocol, method: MethodStatus, outcome: TaskOutcome | undefined): ProtocolRow {
  const base = { group: protocol.group, protocol: protocol.name, method: method.label, fitWallS: outcome?.fitWallS ?? 0, evalWallS: outcome?.evalWallS ?? 0 };
  if (!method.available || !outcome || outcome.error || !outcome.targets) {
    const error = !method.available ? `unavailable: ${method.unavailableReason}` : outcome?.error ? `${outcome.error.name}: ${outcome.error.message}` : 'not run';
    return { ...base, ok: false, error, predE: NaN, worstE: NaN, absFinalError: NaN, signedFinalError: NaN, targets: [] };
  }
  const t = outcome.targets;
  return {
    ...base,
    ok: true,
    predE: mean(t.map((x) => x.predE)),
    worstE: mean(t.map((x) => x.worstE)),
    absFinalError: mean(t.map((x) => Math.abs(x.finalError))),
    signedFinalError: mean(t.map((x) => x.finalError)),
    targets: t,
    ...(outcome.params ? { params: outcome.params } : {}),
    ...(outcome.converged !== undefined ? { converged: outcome.converged } : {}),
  };
}

/** Aggregates per group, overall and overall without cross-peak, for each method (mean over protocols). */
export function aggregate(rows: ProtocolRow[], methods: MethodStatus[]): Aggregate[] {
  const scopes: { scope: AggregateScope; keep: (r: ProtocolRow) => boolean }[] = [
    ...GROUPS.map((g) => ({ scope: g as AggregateScope, keep: (r: ProtocolRow) => r.group === g })),
    { scope: 'overall', keep: () => true },
    { scope: 'overall without cross-peak', keep: (r) => r.group !== 'cross-peak' },
  ];
  const out: Aggregate[] = [];
  for (const { scope, keep } of scopes) {
    for (const m of methods) {
      const all = rows.filter((r) => r.method === m.label && keep(r));
      if (all.length === 0) continue;
      const ok = all.filter((r) => r.ok);
      out.push({
        scope,
        method: m.label,
        protocols: ok.length,
        of: all.length,
        predE: mean(ok.map((r) => r.predE)),
        worstE: mean(ok.map((r) => r.worstE)),
        absFinalError: mean(ok.map((r) => r.absFinalError)),
        signedFinalError: mean(ok.map((r) => r.signedFinalError)),
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------

interface WorkerTask {
  protocol: TransferProtocol;
  method: TransferMethod;
}
type WorkerDone = { id: number; ok: true; outcome: TaskOutcome };

export interface RunTransferOptions {
  /** Worker threads (default 2); 0 runs every fit on the calling thread. */
  workers?: number;
  /** Called as each fit finishes (for progress output). */
  onTask?: (outcome: TaskOutcome, done: number, total: number) => void;
}

/** Fit every available method on every protocol and score it; see the file comment. */
export async function runTransfer(methods: TransferMethod[], protocols: TransferProtocol[], options: RunTransferOptions = {}): Promise<TransferResults> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const workers = options.workers ?? 2;
  // Every referenced curve must exist before any fit starts.
  for (const p of protocols) for (const ref of [...p.fit, ...p.targets]) loadRef(ref);
  const statuses: MethodStatus[] = methods.map((m) => {
    const reason = probeMethod(m);
    return { label: m.label, law: m.law, options: m.options, available: !reason, ...(reason ? { unavailableReason: reason } : {}) };
  });
  const tasks: WorkerTask[] = [];
  for (const protocol of protocols) for (const [i, method] of methods.entries()) if (statuses[i]!.available) tasks.push({ protocol, method });

  const outcomes = new Map<string, TaskOutcome>();
  const key = (protocol: string, method: string) => `${protocol}\u0000${method}`;
  let done = 0;
  const record = (outcome: TaskOutcome) => {
    outcomes.set(key(outcome.protocol, outcome.method), outcome);
    options.onTask?.(outcome, ++done, tasks.length);
  };
  if (workers <= 0) {
    for (const t of tasks) record(runTask(t.protocol, t.method));
  } else {
    const pool = new WorkerPool<WorkerTask, WorkerDone, never>({
      entry: new URL('./transfer-worker.ts', import.meta.url),
      name: 'transfer',
      size: workers,
      decodeError: (f) => Object.assign(new Error(f.message), { name: f.name }),
    });
    try {
      await Promise.all(
        tasks.map((t) =>
          pool.run(t).then(
            (reply) => record(reply.outcome),
            (error: Error) =>
              record({ protocol: t.protocol.name, method: t.method.label, fitWallS: 0, evalWallS: 0, error: { name: error.name, message: error.message } }),
          ),
        ),
      );
    } finally {
      await pool.close();
    }
  }

  // A method whose fits all failed with an options.method refusal is unavailable rather than failing.
  for (const s of statuses) {
    if (!s.available) continue;
    const mine = protocols.map((p) => outcomes.get(key(p.name, s.label)));
    const refusals = mine.filter((o) => o?.error?.field === 'options.method');
    if (refusals.length > 0 && refusals.length === mine.length) {
      s.available = false;
      s.unavailableReason = `fitLaw refuses it: ${refusals[0]!.error!.message}`;
    }
  }

  const rows: ProtocolRow[] = [];
  for (const p of protocols) for (const s of statuses) rows.push(rowOf(p, s, outcomes.get(key(p.name, s.label))));
  return {
    startedAt,
    wallS: (performance.now() - started) / 1000,
    workers,
    node: process.version,
    methods: statuses,
    protocols: protocols.map((p) => ({
      ...p,
      fitLabels: p.fit.map(refLabel),
      targetLabels: p.targets.map(refLabel),
      wallS: rows.filter((r) => r.protocol === p.name).reduce((t, r) => t + r.fitWallS + r.evalWallS, 0),
    })),
    rows,
    aggregates: aggregate(rows, statuses),
  };
}

// ---------------------------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------------------------

const f5 = (v: number) => (Number.isFinite(v) ? v.toFixed(5) : 'n/a');
const signed5 = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(5)}` : 'n/a');

/** The compact summary: one row per scope, PredE and mean |final error| per method. */
export function formatSummary(results: TransferResults): string {
  const methods = results.methods;
  const head = `| scope | ${methods.map((m) => `${m.label}${m.available ? '' : ' (unavailable)'}`).join(' | ')} |`;
  const lines = [head, `| --- | ${methods.map(() => '---').join(' | ')} |`];
  const scopes = [...new Set(results.aggregates.map((a) => a.scope))];
  // Cross-peak last among the groups, then overall rows: the hardest group is read separately.
  const order = (s: AggregateScope) => (s === 'overall' ? 2 : s === 'overall without cross-peak' ? 1 : s === 'cross-peak' ? 0.5 : 0);
  scopes.sort((a, b) => order(a) - order(b));
  for (const scope of scopes) {
    const cells = methods.map((m) => {
      const a = results.aggregates.find((x) => x.scope === scope && x.method === m.label);
      if (!m.available || !a || a.protocols === 0) return 'n/a';
      const partial = a.protocols < a.of ? ` (${a.protocols}/${a.of})` : '';
      return `${f5(a.predE)} / ${f5(a.absFinalError)}${partial}`;
    });
    lines.push(`| ${scope} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export function formatMarkdown(results: TransferResults): string {
  const out: string[] = [];
  out.push('# Transfer benchmark');
  out.push('');
  out.push(`Run ${results.startedAt}, ${results.wallS.toFixed(1)} s wall on ${results.workers} worker thread(s), Node ${results.node}.`);
  out.push('');
  out.push('Methods:');
  for (const m of results.methods) {
    out.push(`- ${m.label}: ${m.law} ${JSON.stringify(m.options)}${m.available ? '' : ` - UNAVAILABLE (${m.unavailableReason})`}`);
  }
  out.push('');
  out.push('## Protocols');
  out.push('');
  out.push('| group | protocol | fit on | predict (scored on val logs) | wall s (all methods) |');
  out.push('| --- | --- | --- | --- | --- |');
  for (const p of results.protocols) {
    out.push(`| ${p.group} | ${p.name} | ${p.fitLabels.join(', ')} | ${p.targetLabels.join(', ')} | ${p.wallS.toFixed(1)} |`);
  }
  out.push('');
  out.push('## Per protocol');
  out.push('');
  out.push('Means over the target curves. PredE / WorstE: mean / max |pred - obs| / obs over a target\'s points; final err: (pred - obs) / obs at its last logged step.');
  out.push('');
  out.push('| group | protocol | method | PredE | WorstE | mean abs final err | signed mean final err | fit wall s |');
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results.rows) {
    if (!r.ok) {
      out.push(`| ${r.group} | ${r.protocol} | ${r.method} | ${r.error?.startsWith('unavailable') ? 'unavailable' : 'failed'} | | | | ${r.fitWallS ? r.fitWallS.toFixed(1) : ''} |`);
      continue;
    }
    out.push(`| ${r.group} | ${r.protocol} | ${r.method} | ${f5(r.predE)} | ${f5(r.worstE)} | ${f5(r.absFinalError)} | ${signed5(r.signedFinalError)} | ${r.fitWallS.toFixed(1)} |`);
  }
  const failures = results.rows.filter((r) => !r.ok && !r.error?.startsWith('unavailable'));
  if (failures.length) {
    out.push('');
    out.push('Failed fits:');
    for (const r of failures) out.push(`- ${r.protocol} x ${r.method}: ${r.error}`);
  }
  out.push('');
  out.push('## Aggregates');
  out.push('');
  out.push('Means over the protocols of each scope (each protocol weighs the same). `overall` excludes nothing; cross-peak (fit at one peak lr, predict another) is the hardest and is also left out of `overall without cross-peak`.');
  out.push('');
  out.push('| scope | method | protocols | PredE | WorstE | mean abs final err | signed mean final err |');
  out.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const a of results.aggregates) {
    const m = results.methods.find((x) => x.label === a.method)!;
    if (!m.available) {
      out.push(`| ${a.scope} | ${a.method} | unavailable | | | | |`);
      continue;
    }
    out.push(`| ${a.scope} | ${a.method} | ${a.protocols}/${a.of} | ${f5(a.predE)} | ${f5(a.worstE)} | ${f5(a.absFinalError)} | ${signed5(a.signedFinalError)} |`);
  }
  out.push('');
  out.push('## Summary (PredE / mean abs final err)');
  out.push('');
  out.push(formatSummary(results));
  out.push('');
  return out.join('\n');
}
