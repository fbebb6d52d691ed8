/** A window of the source image, in source pixels. */
export interface Tile {
  x: number;
  y: number;
  width: number;
  height: number;
}

function starts(length: number, tile: number, overlap: number): number[] {
  if (length <= tile) return [0];
  const step = tile - overlap;
  const count = Math.ceil((length - tile) / step) + 1;
  // Spread the tiles evenly so that the last one ends exactly at the border.
  return Array.from({ length: count }, (_, i) => Math.round((i * (length - tile)) / (count - 1)));
}

/**
 * Covers a width×height image with tileWidth×tileHeight windows overlapping by at least `overlap`
 * pixels, their corners on multiples of `align` (so they line up with a network's feature grid
 * when width and height are multiples of it). Along a side shorter than the tile, the single tile
 * is the tile size (padded by edge pixels).
 */
export function planTiles(width: number, height: number, tileWidth: number, tileHeight: number, overlap: number, align = 1): Tile[] {
  if (!(overlap >= 0 && overlap < Math.min(tileWidth, tileHeight))) throw new RangeError(`overlap ${overlap} must be smaller than the tile`);
  const snap = (v: number, last: number): number => (v === last ? v : Math.round(v / align) * align);
  const tiles: Tile[] = [];
  for (const y of starts(height, tileHeight, overlap)) {
    for (const x of starts(width, tileWidth, overlap)) {
      tiles.push({ x: snap(x, width - tileWidth), y: snap(y, height - tileHeight), width: tileWidth, height: tileHeight });
    }
  }
  return tiles;
}

/** Weight of a tile pixel: 1 inside, ramping down towards edges that overlap another tile. */
function rampWeight(position: number, size: number, start: number, total: number, ramp: number): number {
  let w = 1;
  if (start > 0) w = Math.min(w, (position + 0.5) / ramp);
  if (start + size < total) w = Math.min(w, (size - position - 0.5) / ramp);
  return Math.max(w, 1e-3);
}

/**
 * Stitches per-pixel maps computed on tiles (each tile.width×tile.height, row-major) into one
 * width×height map. Overlaps are blended with linear ramps, so there are no seams.
 */
export function stitchTiles(maps: Float32Array[], tiles: Tile[], width: number, height: number, overlap: number): Float32Array {
  const sum = new Float32Array(width * height);
  const weight = new Float32Array(width * height);
  const ramp = Math.max(1, overlap);
  tiles.forEach((tile, t) => {
    const map = maps[t];
    const rows = Math.min(tile.height, height - tile.y);
    const cols = Math.min(tile.width, width - tile.x);
    const wx = Float32Array.from({ length: cols }, (_, c) => rampWeight(c, tile.width, tile.x, width, ramp));
    for (let r = 0; r < rows; r++) {
      const wy = rampWeight(r, tile.height, tile.y, height, ramp);
      const src = r * tile.width;
      const dst = (tile.y + r) * width + tile.x;
      for (let c = 0; c < cols; c++) {
        const w = wy * wx[c];
        sum[dst + c] += map[src + c] * w;
        weight[dst + c] += w;
      }
    }
  });
  for (let i = 0; i < sum.length; i++) sum[i] /= weight[i];
  return sum;
}
