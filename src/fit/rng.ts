/** Seeded pseudo-random numbers (mulberry32) and Latin hypercube samples, for deterministic fits. */

export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` points of a Latin hypercube in [0,1)^dims: each axis stratified into `count` cells. */
export function latinHypercube(count: number, dims: number, random: () => number): number[][] {
  const columns: number[][] = [];
  for (let d = 0; d < dims; d++) {
    const cells = Array.from({ length: count }, (_, i) => (i + random()) / count);
    for (let i = count - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [cells[i], cells[j]] = [cells[j]!, cells[i]!];
    }
    columns.push(cells);
  }
  return Array.from({ length: count }, (_, i) => columns.map((col) => col[i]!));
}
