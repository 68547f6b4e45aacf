/** Latin hypercube samples, for deterministic global starts of fits. */

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
