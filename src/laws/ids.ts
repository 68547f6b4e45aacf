/**
 * The ids of the loss-curve laws, in the order they are offered. A module of its own (no evaluator
 * code) so that the dashboard's bundle can import it; the registry (./index.ts) maps every id to its law.
 */
export const LAW_IDS = ['mpl', 'lra'] as const;

export type LawId = (typeof LAW_IDS)[number];
