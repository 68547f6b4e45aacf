/**
 * How the default mpl fit procedure is chosen: every candidate procedure runs on the whole transfer
 * benchmark (bench/transfer-protocols.ts: the upstream protocol on 25M and 100M and 18 protocols on
 * the 124M runs), never on one protocol's test curves, and the rule below picks the default.
 *
 * Rule:
 *   1. eligible: overall mean PredE and overall mean |final error| both below those of `reference`
 *      (the published procedure);
 *   2. among the eligible, those with no group where a figure (PredE or |final|) is more than 5% above
 *      reference's (issue 10's condition); if there is none, every eligible one (the choice then says
 *      that no candidate meets every condition);
 *   3. of those, the lowest score = (PredE / PredE_ref + |final| / |final|_ref) / 2 overall.
 * lra is a different law: it is reported beside them, not a candidate for the mpl default.
 *
 * Run: npm run bench:fit-selection [-- --workers=N] [--candidates=a,b] [--protocols=x,y]
 *   (33 candidates on 20 protocols: about 11 minutes on 2 cores, 658 s in the committed run; longer
 *   when shared). bench/fit-selection-noise.ts then says how settled each group verdict is.
 *   --candidates / --protocols (substring match; `reference` is always kept as the baseline) run a
 *   subset while exploring: its tables go to stdout only; only a full run writes the figures that
 *   choose the default (bench/results/fit-selection.json and .md).
 * Candidates marked `procedure` are not fitLaw methods (bench/fit-selection-procedures.ts): measured
 * here, they would become a method in src/fit if chosen.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { projectPath } from '../src/paths.js';
import { GROUPS, PROTOCOLS, selectProtocols } from './transfer-protocols.js';
import { formatSummary, runTransfer, type Aggregate, type AggregateScope } from './transfer-run.js';
import type { TransferMethod } from './transfer-methods.js';

const REFERENCE_LABEL = 'reference';

/** The candidates, as fitLaw options (so each is reproducible through POST /fit). */
export const CANDIDATES: TransferMethod[] = [
  { label: REFERENCE_LABEL, law: 'mpl', options: { method: 'reference' } },
  { label: 'reference, relative units', law: 'mpl', options: { method: 'reference', units: 'relative' } },
  { label: 'adam 800 (old default)', law: 'mpl', options: { method: 'adam' } },
  { label: 'converged', law: 'mpl', options: { method: 'converged' } },
  // map weighs curves equally unless told otherwise; one candidate weighs every point the same.
  ...[0, 0.3, 1, 3, 10, 30, 100, 1000].map((w): TransferMethod => ({ label: `map w=${w}`, law: 'mpl', options: { method: 'map', priorWeight: w } })),
  { label: 'map w=1 points-w', law: 'mpl', options: { method: 'map', priorWeight: 1, curveWeighting: 'points' } },
  // Shrinking toward the reference procedure's own solution (run in relative units), and mixtures of
  // the reference and map (bench/fit-selection-procedures.ts).
  ...[1, 30, 300, 3000].map((k): TransferMethod => ({ label: `anchor k=${k}`, law: 'mpl', options: {}, procedure: `anchor k=${k}` })),
  { label: 'anchor L0/A/alpha width 0.01 k=30', law: 'mpl', options: {}, procedure: 'anchor L0/A/alpha width 0.01 k=30' },
  { label: 'freeze L0/A/alpha, map prior', law: 'mpl', options: {}, procedure: 'freeze L0/A/alpha, map prior' },
  ...['1e-4', '1e-3', '3e-3'].map((u): TransferMethod => ({ label: `reference, peak lr as ${u}`, law: 'mpl', options: {}, procedure: `reference, peak lr as ${u}` })),
  ...[1, 3, 10, 30, 100].map((w): TransferMethod => ({ label: `map, B held at the simplified start, w=${w}`, law: 'mpl', options: {}, procedure: `map, B held at the simplified start, w=${w}` })),
  ...['L0/A/alpha/B', 'alpha/B'].map((held): TransferMethod => ({ label: `map, ${held} held at the simplified start, w=3`, law: 'mpl', options: {}, procedure: `map, ${held} held at the simplified start, w=3` })),
  { label: 'blend t=0.75', law: 'mpl', options: {}, procedure: 'blend t=0.75' },
  ...[1, 10].map((w): TransferMethod => ({ label: `select by leave-one-out: reference or map w=${w}`, law: 'mpl', options: {}, procedure: `select by leave-one-out: reference or map w=${w}` })),
  { label: 'lra (other law)', law: 'lra', options: {} },
];

const flag = (name: string) => process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const list = (value: string | undefined) => (value ? value.split(',').map((s) => s.trim()).filter(Boolean) : []);
for (const arg of process.argv.slice(2)) {
  if (!/^--(workers|candidates|protocols)=/.test(arg)) {
    console.error(`unknown argument ${arg}; usage: bench/fit-selection.ts [--workers=N] [--candidates=a,b] [--protocols=x,y]`);
    process.exit(2);
  }
}
const candidateFilter = list(flag('candidates'));
const protocolFilter = list(flag('protocols'));
const subset = candidateFilter.length > 0 || protocolFilter.length > 0;
const candidates = CANDIDATES.filter((c) => c.label === REFERENCE_LABEL || candidateFilter.length === 0 || candidateFilter.some((f) => c.label.includes(f)));
const protocols = selectProtocols(protocolFilter, PROTOCOLS);
const results = await runTransfer(candidates, protocols, {
  workers: Number(flag('workers') ?? 2),
  onTask: (o, done, total) => console.error(`[${done}/${total}] ${o.protocol} x ${o.method}: ${o.error ? `FAILED ${o.error.message}` : `${o.fitWallS.toFixed(1)} s`}`),
});

const agg = (scope: AggregateScope, method: string): Aggregate | undefined => results.aggregates.find((a) => a.scope === scope && a.method === method);
const ref = (scope: AggregateScope) => agg(scope, REFERENCE_LABEL)!;

interface Verdict {
  label: string;
  score: number;
  eligible: boolean;
  why: string[];
  /** Groups where it is more than 5% worse than reference. */
  losses?: string[];
}
// Candidates for the default of the reference's law (the other law is shown beside them).
const referenceLaw = CANDIDATES.find((c) => c.label === REFERENCE_LABEL)!.law;
const verdicts: Verdict[] = candidates.filter((c) => c.law === referenceLaw).map((c) => {
  const why: string[] = [];
  const overall = agg('overall', c.label);
  if (!overall || overall.protocols < overall.of) return { label: c.label, score: NaN, eligible: false, why: ['a fit failed'] };
  if (!(overall.predE < ref('overall').predE)) why.push(`overall PredE ${overall.predE.toFixed(5)} >= reference ${ref('overall').predE.toFixed(5)}`);
  if (!(overall.absFinalError < ref('overall').absFinalError)) why.push(`overall |final| ${overall.absFinalError.toFixed(5)} >= reference ${ref('overall').absFinalError.toFixed(5)}`);
  const eligible = c.label !== REFERENCE_LABEL && why.length === 0;
  const losses: string[] = [];
  for (const group of GROUPS) {
    const mine = agg(group, c.label);
    if (!mine) continue;
    if (mine.predE > 1.05 * ref(group).predE) losses.push(`${group} PredE +${((mine.predE / ref(group).predE - 1) * 100).toFixed(1)}%`);
    if (mine.absFinalError > 1.05 * ref(group).absFinalError) losses.push(`${group} |final| +${((mine.absFinalError / ref(group).absFinalError - 1) * 100).toFixed(1)}%`);
  }
  const score = (overall.predE / ref('overall').predE + overall.absFinalError / ref('overall').absFinalError) / 2;
  return { label: c.label, score, eligible, why, losses };
});
const eligible = verdicts.filter((v) => v.eligible);
const lossFree = eligible.filter((v) => (v.losses ?? []).length === 0);
const chosen = (lossFree.length > 0 ? lossFree : eligible).sort((a, b) => a.score - b.score)[0];

const lines = [
  '# Fit selection on the transfer benchmark',
  '',
  `Run ${results.startedAt}, ${results.wallS.toFixed(0)} s on ${results.workers} worker thread(s). Rule: see bench/fit-selection.ts.${subset ? ` SUBSET (candidates: ${candidateFilter.join(', ') || 'all'}; protocols: ${protocolFilter.join(', ') || 'all'}): not the figures that choose the default.` : ''}`,
  '',
  '## PredE / mean |final error| per scope',
  '',
  formatSummary(results),
  '',
  '## Verdicts (score: mean of the overall PredE and |final| ratios to reference; lower is better)',
  '',
  '| candidate | score | beats reference overall | groups more than 5% worse than reference |',
  '| --- | --- | --- | --- |',
  ...verdicts.map((v) => `| ${v.label} | ${v.score.toFixed(3)} | ${v.eligible ? 'yes' : `no: ${v.why.join('; ')}`} | ${(v.losses ?? []).join('; ') || 'none'} |`),
  '',
  chosen
    ? `Chosen: **${chosen.label}** (score ${chosen.score.toFixed(3)}); groups more than 5% worse than reference: ${(chosen.losses ?? []).join('; ') || 'none'}.${lossFree.length === 0 ? ' No candidate beats reference overall without losing more than 5% on some group: none meets every condition of issue 10, and the lowest score is kept.' : ''}`
    : 'No candidate beats reference overall: the default stays as it is.',
  '',
];
const markdown = lines.join('\n');
console.log(markdown);
if (!subset) {
  mkdirSync(projectPath('bench', 'results'), { recursive: true });
  writeFileSync(projectPath('bench', 'results', 'fit-selection.md'), markdown);
  writeFileSync(projectPath('bench', 'results', 'fit-selection.json'), JSON.stringify({ ...results, verdicts, chosen: chosen?.label ?? null }, null, 1) + '\n');
}
