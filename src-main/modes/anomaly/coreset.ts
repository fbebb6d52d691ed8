import { seededRandom } from '../../model/init.ts';
import { projectionMatrix } from './patch-features.ts';

/**
 * Greedy k-center coreset (as PatchCore): repeatedly takes the point farthest from everything
 * chosen so far, so the bank covers every kind of good patch, rare ones included. Distances for
 * the selection use a random projection to `selectionDim` dimensions (cost O(N·selectionDim) per
 * pick); the chosen points keep their full features. Returns the indices of the chosen points.
 * With `alreadyChosen`, the first that many points are an existing bank and `count` more are picked
 * from the rest, each farthest from the bank and the picks before it.
 */
export function greedyCoreset(points: Float32Array, dim: number, count: number, seed: number, selectionDim = 64, alreadyChosen = 0): Int32Array {
  const n = points.length / dim;
  if (count >= n - alreadyChosen) return Int32Array.from({ length: n - alreadyChosen }, (_, i) => alreadyChosen + i);
  const projection = projectionMatrix(dim, selectionDim, seed);
  const reduced = new Float32Array(n * selectionDim);
  for (let i = 0; i < n; i++) {
    const p = i * dim;
    for (let k = 0; k < selectionDim; k++) {
      let s = 0;
      const w = k * dim;
      for (let d = 0; d < dim; d++) s += projection[w + d] * points[p + d];
      reduced[i * selectionDim + k] = s;
    }
  }
  const minDistance = new Float32Array(n).fill(Infinity);
  const chosen = new Int32Array(count);
  let next = Math.floor(seededRandom(seed + 1)() * n);
  // Points [0, alreadyChosen) are a bank being extended: every pick is the point farthest from it and from the picks so far.
  for (let c = -alreadyChosen; c < count; c++) {
    if (c < 0) next = alreadyChosen + c;
    else chosen[c] = next;
    const q = next * selectionDim;
    let farthest = 0;
    let farthestDistance = -1;
    for (let i = alreadyChosen; i < n; i++) {
      let s = 0;
      const p = i * selectionDim;
      for (let k = 0; k < selectionDim; k++) {
        const diff = reduced[p + k] - reduced[q + k];
        s += diff * diff;
      }
      if (s < minDistance[i]) minDistance[i] = s;
      if (minDistance[i] > farthestDistance) {
        farthestDistance = minDistance[i];
        farthest = i;
      }
    }
    next = farthest;
  }
  return chosen;
}
