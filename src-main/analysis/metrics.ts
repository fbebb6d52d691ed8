/** Area under the ROC curve (Mann–Whitney U, ties counted half); NaN if a class is missing. */
export function auroc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]] === scores[order[i]]) j++;
    const averageRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (positive[order[k]]) {
      positives++;
      rankSum += averageRank;
    }
    i = j + 1;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * AUROC over very many values (every pixel of every test image) in constant memory: scores are
 * counted in fine bins over [0, max); when a larger score arrives, neighbouring bins merge and the
 * range doubles, so no range needs to be known in advance.
 */
export class HistogramAuroc {
  private readonly positive: Float64Array;
  private readonly negative: Float64Array;
  private max: number;

  constructor(initialMax: number, bins = 1 << 16) {
    this.positive = new Float64Array(bins);
    this.negative = new Float64Array(bins);
    this.max = initialMax > 0 ? initialMax : 1;
  }

  add(scores: ArrayLike<number>, isPositive: (index: number) => boolean): void {
    let top = 0;
    for (let i = 0; i < scores.length; i++) if (scores[i] > top) top = scores[i];
    while (top >= this.max) this.doubleRange();
    const scale = this.positive.length / this.max;
    for (let i = 0; i < scores.length; i++) {
      const bin = Math.max(0, Math.floor(scores[i] * scale));
      if (isPositive(i)) this.positive[bin]++;
      else this.negative[bin]++;
    }
  }

  private doubleRange(): void {
    for (const counts of [this.positive, this.negative]) {
      const half = counts.length / 2;
      for (let b = 0; b < half; b++) counts[b] = counts[2 * b] + counts[2 * b + 1];
      counts.fill(0, half);
    }
    this.max *= 2;
  }

  value(): number {
    let negativesBelow = 0;
    let area = 0;
    let totalPositive = 0;
    let totalNegative = 0;
    for (let b = 0; b < this.positive.length; b++) {
      area += this.positive[b] * (negativesBelow + this.negative[b] / 2);
      negativesBelow += this.negative[b];
      totalPositive += this.positive[b];
      totalNegative += this.negative[b];
    }
    return totalPositive && totalNegative ? area / (totalPositive * totalNegative) : NaN;
  }
}

export interface OperatingPoint {
  threshold: number;
  precision: number;
  recall: number;
  f1: number;
}

/** The threshold (a score value; score ≥ threshold is positive) with the highest F1. */
export function bestF1(scores: ArrayLike<number>, positive: ArrayLike<boolean>): OperatingPoint {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let totalPositive = 0;
  for (let i = 0; i < positive.length; i++) if (positive[i]) totalPositive++;
  let best: OperatingPoint = { threshold: Infinity, precision: 0, recall: 0, f1: 0 };
  let truePositive = 0;
  for (let i = 0; i < order.length; i++) {
    if (positive[order[i]]) truePositive++;
    if (i + 1 < order.length && scores[order[i + 1]] === scores[order[i]]) continue;
    const precision = truePositive / (i + 1);
    const recall = totalPositive ? truePositive / totalPositive : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    if (f1 > best.f1) best = { threshold: scores[order[i]], precision, recall, f1 };
  }
  return best;
}

export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return NaN;
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  return sorted[lower] + (sorted[Math.min(lower + 1, sorted.length - 1)] - sorted[lower]) * (position - lower);
}
