/** Where a row-major map is highest (the first such place). */
export function heatmapPeak(heatmap: ArrayLike<number>, width: number): { x: number; y: number } {
  let peak = 0;
  for (let p = 1; p < heatmap.length; p++) if (heatmap[p] > heatmap[peak]) peak = p;
  return { x: peak % width, y: Math.floor(peak / width) };
}
