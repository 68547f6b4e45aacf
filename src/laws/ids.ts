/**
 * The ids of the loss-curve laws, in the order they are offered. A module of its own (no evaluator
 * code) so that the dashboard's bundle can import it; the registry (./index.ts) maps every id to its law.
 */
export const LAW_IDS = ['mpl', 'lra'] as const;

export type LawId = (typeof LAW_IDS)[number];

/** How the dashboard presents each law (the type asks for every id). */
export const LAW_INFO: Readonly<Record<LawId, { title: string; hint: string }>> = {
  mpl: { title: 'MPL — multi-power law', hint: 'Luo et al. 2025; the better predictor across schedules' },
  lra: { title: 'LRA — LR annealing law', hint: 'Tissue et al. 2024; fewer parameters' },
};
