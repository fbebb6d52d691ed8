/** Deterministic PRNG (mulberry32) so freshly initialised layers are reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** torch.nn.init.kaiming_uniform_(w, a) for a conv weight [out, in, kh, kw]. */
export function kaimingUniform(dims: number[], a: number, random: () => number): Float32Array {
  const fanIn = dims.slice(1).reduce((x, y) => x * y, 1);
  const bound = Math.sqrt(6 / ((1 + a * a) * fanIn));
  const data = new Float32Array(dims.reduce((x, y) => x * y, 1));
  for (let i = 0; i < data.length; i++) data[i] = (random() * 2 - 1) * bound;
  return data;
}
