/** A box in network pixels ([x1, y1, x2, y2], edges) with its 1-based class. */
export interface LabelledBox {
  box: [number, number, number, number];
  classIndex: number;
}

export interface LevelSize {
  stride: number;
  width: number;
  height: number;
}

/** Dense training targets of a batch, laid out as the flattened head outputs ([N, K, P], levels in order, row-major). */
export interface DetectionTargetArrays {
  cls: Float32Array;
  box: Float32Array;
  ctr: Float32Array;
  positive: Float32Array;
  /** Totals over the batch: positive positions and the sum of their centreness targets. */
  positives: number;
  centreness: number;
}

/** Positions lie inside a box's centre region of this many strides (FCOS centre sampling). */
const CENTRE_RADIUS = 1.5;
/** A fallback position that lies outside its (thin) box still regresses at least this far, in pixels. */
const MIN_DISTANCE = 0.5;

export function positionCount(levels: LevelSize[]): number {
  return levels.reduce((a, l) => a + l.width * l.height, 0);
}

export function emptyTargets(batch: number, numClasses: number, levels: LevelSize[]): DetectionTargetArrays {
  const p = positionCount(levels);
  return {
    cls: new Float32Array(batch * numClasses * p), box: new Float32Array(batch * 4 * p).fill(1), ctr: new Float32Array(batch * p),
    positive: new Float32Array(batch * p), positives: 0, centreness: 0,
  };
}

/**
 * FCOS target assignment for one image of a batch. Level k (stride s) takes the boxes whose
 * largest distance from the position is in (4s, 8s] (the finest level from 0, the coarsest to ∞),
 * so the ranges follow the strides, not a fixed image size. A position is positive when it lies
 * in a box's centre region (1.5 strides around its centre); between several boxes it takes the
 * smallest. A box that wins no position (tiny or thin, or crowded out) still gets the free position
 * nearest its centre, so that every labelled defect is learnt.
 */
export function assignTargets(boxes: LabelledBox[], levels: LevelSize[], numClasses: number, out: DetectionTargetArrays, batchIndex: number): void {
  const total = positionCount(levels);
  const owner = new Int32Array(total).fill(-1);
  const ownerArea = new Float64Array(total).fill(Infinity);
  const areaOf = (b: LabelledBox): number => (b.box[2] - b.box[0]) * (b.box[3] - b.box[1]);
  let offset = 0;
  levels.forEach((level, k) => {
    const s = level.stride;
    const lo = k === 0 ? 0 : 4 * s;
    const hi = k === levels.length - 1 ? Infinity : 8 * s;
    boxes.forEach((b, index) => {
      const [x1, y1, x2, y2] = b.box;
      const cx = (x1 + x2) / 2;
      const cy = (y1 + y2) / 2;
      const rx1 = Math.max(x1, cx - CENTRE_RADIUS * s);
      const rx2 = Math.min(x2, cx + CENTRE_RADIUS * s);
      const ry1 = Math.max(y1, cy - CENTRE_RADIUS * s);
      const ry2 = Math.min(y2, cy + CENTRE_RADIUS * s);
      const j0 = Math.max(0, Math.ceil(rx1 / s - 0.5));
      const j1 = Math.min(level.width - 1, Math.floor(rx2 / s - 0.5));
      const i0 = Math.max(0, Math.ceil(ry1 / s - 0.5));
      const i1 = Math.min(level.height - 1, Math.floor(ry2 / s - 0.5));
      for (let i = i0; i <= i1; i++) {
        for (let j = j0; j <= j1; j++) {
          const px = (j + 0.5) * s;
          const py = (i + 0.5) * s;
          if (px <= rx1 || px >= rx2 || py <= ry1 || py >= ry2) continue;
          const reach = Math.max(px - x1, py - y1, x2 - px, y2 - py);
          if (reach <= lo || reach > hi) continue;
          const p = offset + i * level.width + j;
          if (areaOf(b) < ownerArea[p]) [owner[p], ownerArea[p]] = [index, areaOf(b)];
        }
      }
    });
    offset += level.width * level.height;
  });

  const won = new Set(owner);
  boxes.forEach((b, index) => {
    if (won.has(index)) return;
    const p = nearestFreePosition(b, levels, owner);
    if (p >= 0) [owner[p], ownerArea[p]] = [index, areaOf(b)];
  });

  offset = 0;
  for (const level of levels) {
    for (let i = 0; i < level.height; i++) {
      for (let j = 0; j < level.width; j++) {
        const p = offset + i * level.width + j;
        if (owner[p] < 0) continue;
        const b = boxes[owner[p]];
        const px = (j + 0.5) * level.stride;
        const py = (i + 0.5) * level.stride;
        const d = [px - b.box[0], py - b.box[1], b.box[2] - px, b.box[3] - py].map((v) => Math.max(MIN_DISTANCE, v));
        const centreness = Math.sqrt((Math.min(d[0], d[2]) / Math.max(d[0], d[2])) * (Math.min(d[1], d[3]) / Math.max(d[1], d[3])));
        out.cls[(batchIndex * numClasses + b.classIndex - 1) * total + p] = 1;
        for (let c = 0; c < 4; c++) out.box[(batchIndex * 4 + c) * total + p] = d[c] / level.stride;
        out.ctr[batchIndex * total + p] = centreness;
        out.positive[batchIndex * total + p] = 1;
        out.positives++;
        out.centreness += centreness;
      }
    }
    offset += level.width * level.height;
  }
}

/**
 * For a box that won no position: the free position nearest its centre among those inside it (any
 * level), else the free position of the finest level nearest its centre; -1 when every one is taken.
 */
function nearestFreePosition(b: LabelledBox, levels: LevelSize[], owner: Int32Array): number {
  const [x1, y1, x2, y2] = b.box;
  const cx = (x1 + x2) / 2;
  const cy = (y1 + y2) / 2;
  const nearest = (offset: number, level: LevelSize, j0: number, j1: number, i0: number, i1: number, inside: boolean): { p: number; distance: number } => {
    const s = level.stride;
    let found = { p: -1, distance: Infinity };
    for (let i = Math.max(0, i0); i <= Math.min(level.height - 1, i1); i++) {
      for (let j = Math.max(0, j0); j <= Math.min(level.width - 1, j1); j++) {
        const px = (j + 0.5) * s;
        const py = (i + 0.5) * s;
        const p = offset + i * level.width + j;
        if (owner[p] >= 0 || (inside && (px <= x1 || px >= x2 || py <= y1 || py >= y2))) continue;
        const distance = Math.hypot(px - cx, py - cy);
        if (distance < found.distance) found = { p, distance };
      }
    }
    return found;
  };
  let best = { p: -1, distance: Infinity };
  let offset = 0;
  for (const level of levels) {
    const s = level.stride;
    const within = nearest(offset, level, Math.ceil(x1 / s - 0.5), Math.floor(x2 / s - 0.5), Math.ceil(y1 / s - 0.5), Math.floor(y2 / s - 0.5), true);
    if (within.distance < best.distance) best = within;
    offset += level.width * level.height;
  }
  return best.p >= 0 ? best.p : nearest(0, levels[0], 0, levels[0].width - 1, 0, levels[0].height - 1, false).p;
}
