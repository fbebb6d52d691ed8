import type { ConfusionMatrix } from '../contract/contract.ts';

export type Box = [number, number, number, number];

export interface ScoredBox {
  image: number;
  score: number;
  box: Box;
}

export function boxIou(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

/**
 * Precision and recall after each detection, highest score first; a detection is a true positive
 * when it overlaps a not yet matched ground-truth box of its image by at least `iouThreshold`.
 */
export function precisionRecall(detections: ScoredBox[], truth: Map<number, Box[]>, iouThreshold = 0.5): { scores: number[]; precision: number[]; recall: number[]; total: number } {
  const total = [...truth.values()].reduce((a, boxes) => a + boxes.length, 0);
  const used = new Map([...truth].map(([image, boxes]) => [image, new Uint8Array(boxes.length)]));
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const precision: number[] = [];
  const recall: number[] = [];
  let tp = 0;
  sorted.forEach((d, k) => {
    const boxes = truth.get(d.image) ?? [];
    let best = -1;
    let bestIou = iouThreshold;
    boxes.forEach((b, i) => {
      const iou = boxIou(d.box, b);
      if (!used.get(d.image)![i] && iou >= bestIou) [best, bestIou] = [i, iou];
    });
    if (best >= 0) {
      used.get(d.image)![best] = 1;
      tp++;
    }
    precision.push(tp / (k + 1));
    recall.push(total ? tp / total : 0);
  });
  return { scores: sorted.map((d) => d.score), precision, recall, total };
}

/** VOC-style average precision (all points, precision made monotone) of scored detections against ground truth. */
export function averagePrecision(detections: ScoredBox[], truth: Map<number, Box[]>, iouThreshold = 0.5): number {
  const { precision, recall, total } = precisionRecall(detections, truth, iouThreshold);
  if (total === 0) return NaN;
  const monotone = precision.slice();
  for (let i = monotone.length - 2; i >= 0; i--) monotone[i] = Math.max(monotone[i], monotone[i + 1]);
  let ap = 0;
  let previousRecall = 0;
  recall.forEach((r, i) => {
    ap += (r - previousRecall) * monotone[i];
    previousRecall = r;
  });
  return ap;
}

/**
 * Found boxes at or above their class threshold against labelled boxes, matched greedily by score
 * at IoU ≥ `iouThreshold` whatever their classes: rows are true classes, columns predicted ones,
 * with "background" last for boxes nothing matched.
 */
export function boxConfusion(
  found: Map<string, ScoredBox[]>, truth: Map<string, Map<number, Box[]>>, classes: string[], thresholds: Record<string, number>, iouThreshold = 0.5,
): ConfusionMatrix {
  const background = classes.length;
  const counts = Array.from({ length: classes.length + 1 }, () => new Array<number>(classes.length + 1).fill(0));
  const images = new Map<number, { predicted: { cls: number; score: number; box: Box }[]; labelled: { cls: number; box: Box; matched: boolean }[] }>();
  const imageOf = (index: number) => images.get(index) ?? images.set(index, { predicted: [], labelled: [] }).get(index)!;
  classes.forEach((name, cls) => {
    for (const d of found.get(name) ?? []) if (d.score >= (thresholds[name] ?? Infinity)) imageOf(d.image).predicted.push({ cls, score: d.score, box: d.box });
    for (const [image, boxes] of truth.get(name) ?? []) for (const box of boxes) imageOf(image).labelled.push({ cls, box, matched: false });
  });
  for (const { predicted, labelled } of images.values()) {
    for (const p of predicted.sort((a, b) => b.score - a.score)) {
      let best: (typeof labelled)[number] | undefined;
      let bestIou = iouThreshold;
      for (const l of labelled) {
        const iou = l.matched ? 0 : boxIou(p.box, l.box);
        if (iou >= bestIou) [best, bestIou] = [l, iou];
      }
      if (best) best.matched = true;
      counts[best ? best.cls : background][p.cls]++;
    }
    for (const l of labelled) if (!l.matched) counts[l.cls][background]++;
  }
  return { labels: [...classes, 'background'], counts };
}
