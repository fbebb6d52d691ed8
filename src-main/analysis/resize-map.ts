/**
 * Bilinear resize of a single-channel float map (align_corners=False, as PyTorch's
 * F.interpolate(mode="bilinear")): maps network-resolution scores back to image pixels.
 */
export function resizeMap(src: Float32Array, srcWidth: number, srcHeight: number, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  const sx = srcWidth / width;
  const sy = srcHeight / height;
  const x0 = new Int32Array(width);
  const x1 = new Int32Array(width);
  const fx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const pos = Math.max(0, (x + 0.5) * sx - 0.5);
    x0[x] = Math.min(srcWidth - 1, Math.floor(pos));
    x1[x] = Math.min(srcWidth - 1, x0[x] + 1);
    fx[x] = pos - x0[x];
  }
  for (let y = 0; y < height; y++) {
    const pos = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(srcHeight - 1, Math.floor(pos));
    const y1 = Math.min(srcHeight - 1, y0 + 1);
    const fy = pos - y0;
    const r0 = y0 * srcWidth;
    const r1 = y1 * srcWidth;
    const o = y * width;
    for (let x = 0; x < width; x++) {
      const top = src[r0 + x0[x]] + (src[r0 + x1[x]] - src[r0 + x0[x]]) * fx[x];
      const bottom = src[r1 + x0[x]] + (src[r1 + x1[x]] - src[r1 + x0[x]]) * fx[x];
      out[o + x] = top + (bottom - top) * fy;
    }
  }
  return out;
}

/** Nearest-neighbour resize of a per-cell class map (class indices must not blend) to image pixels. */
export function resizeClassMap(src: Uint8Array, srcWidth: number, srcHeight: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const columns = Int32Array.from({ length: width }, (_, x) => Math.min(srcWidth - 1, Math.floor(((x + 0.5) * srcWidth) / width)));
  for (let y = 0; y < height; y++) {
    const row = Math.min(srcHeight - 1, Math.floor(((y + 0.5) * srcHeight) / height)) * srcWidth;
    for (let x = 0; x < width; x++) out[y * width + x] = src[row + columns[x]];
  }
  return out;
}
