import { type Box, boxIou } from '../../common/box-metrics.ts';
import type { LevelSize } from './targets.ts';


export interface Detection {
  /** 1-based class. */
  classIndex: number;
  /** √(class probability × centreness), as FCOS ranks its boxes. */
  score: number;
  box: Box;
}

/** One level's head outputs for one image: class probabilities [C, h, w], distances in strides [4, h, w], centreness [h, w]. */
export interface LevelMaps {
  level: LevelSize;
  cls: Float32Array;
  box: Float32Array;
  ctr: Float32Array;
}

export interface DecodeOptions {
  numClasses: number;
  /** Positions whose class probability is below this are not decoded. */
  minProbability: number;
  /** Candidates kept per level before NMS. */
  topK: number;
  /** Network pixels per image pixel and where the network input's origin lies in the image. */
  scale: number;
  offsetX: number;
  offsetY: number;
  /** Image size the boxes are clipped to. */
  width: number;
  height: number;
}

/** Boxes of the head's outputs in image pixels, before NMS. */
export function decodeLevels(levels: LevelMaps[], options: DecodeOptions): Detection[] {
  const found: Detection[] = [];
  for (const { level, cls, box, ctr } of levels) {
    const plane = level.width * level.height;
    const candidates: Detection[] = [];
    for (let c = 0; c < options.numClasses; c++) {
      for (let p = 0; p < plane; p++) {
        const probability = cls[c * plane + p];
        if (probability < options.minProbability) continue;
        const s = level.stride;
        const px = ((p % level.width) + 0.5) * s;
        const py = (Math.floor(p / level.width) + 0.5) * s;
        const toImage = (v: number, offset: number, limit: number): number => Math.min(limit, Math.max(0, v / options.scale + offset));
        candidates.push({
          classIndex: c + 1,
          score: Math.sqrt(probability * ctr[p]),
          box: [
            toImage(px - box[p] * s, options.offsetX, options.width), toImage(py - box[plane + p] * s, options.offsetY, options.height),
            toImage(px + box[2 * plane + p] * s, options.offsetX, options.width), toImage(py + box[3 * plane + p] * s, options.offsetY, options.height),
          ],
        });
      }
    }
    candidates.sort((a, b) => b.score - a.score);
    for (const d of candidates.slice(0, options.topK)) if (d.box[2] > d.box[0] && d.box[3] > d.box[1]) found.push(d);
  }
  return found;
}

/** Greedy non-maximum suppression per class: highest score first, dropping same-class boxes that overlap it by more than `iou`. */
export function nonMaximumSuppression(detections: Detection[], iou: number, maxDetections: number): Detection[] {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) {
    if (kept.length >= maxDetections) break;
    if (kept.every((k) => k.classIndex !== d.classIndex || boxIou(k.box, d.box) <= iou)) kept.push(d);
  }
  return kept;
}
