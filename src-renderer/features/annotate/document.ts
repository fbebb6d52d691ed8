import type { Annotation } from '../../../src-main/contract/contract.ts';
import { decodeRuns, encodeRuns, insidePolygon, type Point } from '../../../src-main/common/geometry.ts';

/** A vector annotation on the canvas; `id` is the stored id (absent until first saved). */
export type VectorShape =
  | { key: string; id?: number; shape: 'box'; classIndex: number; box: [number, number, number, number] }
  | { key: string; id?: number; shape: 'polygon'; classIndex: number; points: Point[] };

/** Everything drawn on one image: vector shapes, one pixel mask per class, or the "good" mark. */
export interface AnnotationDocument {
  width: number;
  height: number;
  shapes: VectorShape[];
  /** Pixel masks by class index (1 = painted), with the stored id of each. */
  masks: Map<number, { id?: number; data: Uint8Array }>;
  good: { id?: number } | null;
  /** The whole-image classes (classification; several for multi-label), kept as they are by the region tools. */
  imageClasses: { id?: number; classIndex: number }[];
}

let counter = 0;
export const newKey = (): string => `s${++counter}`;

export function fromAnnotations(width: number, height: number, annotations: Annotation[]): AnnotationDocument {
  const doc: AnnotationDocument = { width, height, shapes: [], masks: new Map(), good: null, imageClasses: [] };
  for (const a of annotations) {
    if (a.shape === 'good') doc.good = { id: a.id };
    else if (a.shape === 'class') doc.imageClasses.push({ id: a.id, classIndex: a.classIndex });
    else if (a.shape === 'box') doc.shapes.push({ key: newKey(), id: a.id, shape: 'box', classIndex: a.classIndex, box: a.box });
    else if (a.shape === 'polygon') doc.shapes.push({ key: newKey(), id: a.id, shape: 'polygon', classIndex: a.classIndex, points: a.points });
    else {
      const data = decodeRuns(a.runs, width * height);
      const existing = doc.masks.get(a.classIndex);
      // Two stored masks of one class (an import and a drawing) merge into one editable layer.
      if (existing) existing.data.forEach((v, i) => (existing.data[i] = v | data[i]));
      else doc.masks.set(a.classIndex, { id: a.id, data });
    }
  }
  return doc;
}

export function toAnnotations(doc: AnnotationDocument): Annotation[] {
  if (doc.good) return [{ id: doc.good.id, shape: 'good' }];
  const out: Annotation[] = doc.shapes.map((s) => (s.shape === 'box'
    ? { id: s.id, shape: 'box', classIndex: s.classIndex, box: s.box }
    : { id: s.id, shape: 'polygon', classIndex: s.classIndex, points: s.points }));
  for (const [classIndex, mask] of doc.masks) if (mask.data.includes(1)) out.push({ id: mask.id, shape: 'mask', classIndex, runs: encodeRuns(mask.data) });
  for (const c of doc.imageClasses) out.push({ id: c.id, shape: 'class', classIndex: c.classIndex });
  return out;
}

/** A copy for the undo history (masks copied, shapes shared: they are replaced, never mutated). */
export function snapshot(doc: AnnotationDocument): AnnotationDocument {
  return { ...doc, shapes: [...doc.shapes], masks: new Map([...doc.masks].map(([c, m]) => [c, { id: m.id, data: m.data.slice() }])) };
}

/** Stored ids from a save, matched back onto the document's annotations in order. */
export function adoptIds(doc: AnnotationDocument, saved: Annotation[]): void {
  const boxesAndPolygons = saved.filter((a) => a.shape === 'box' || a.shape === 'polygon');
  doc.shapes.forEach((s, i) => (s.id = boxesAndPolygons[i]?.id));
  const imageClasses = saved.filter((a) => a.shape === 'class');
  doc.imageClasses.forEach((c, i) => (c.id = imageClasses[i]?.id));
  for (const a of saved) {
    if (a.shape === 'mask') {
      const mask = doc.masks.get(a.classIndex);
      if (mask) mask.id = a.id;
    }
    if (a.shape === 'good' && doc.good) doc.good.id = a.id;
  }
}

/** The topmost vector shape under a point (image pixels). */
export function shapeAt(doc: AnnotationDocument, [x, y]: Point): VectorShape | undefined {
  for (let i = doc.shapes.length - 1; i >= 0; i--) {
    const s = doc.shapes[i];
    if (s.shape === 'box' && x >= s.box[0] && x <= s.box[2] && y >= s.box[1] && y <= s.box[3]) return s;
    if (s.shape === 'polygon' && insidePolygon(s.points, x, y)) return s;
  }
  return undefined;
}

export function moveShape(s: VectorShape, dx: number, dy: number): VectorShape {
  return s.shape === 'box'
    ? { ...s, box: [s.box[0] + dx, s.box[1] + dy, s.box[2] + dx, s.box[3] + dy] }
    : { ...s, points: s.points.map(([x, y]) => [x + dx, y + dy] as Point) };
}
