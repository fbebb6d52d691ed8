import type { AnnotationDocument, VectorShape } from './document.ts';

/**
 * A change to an annotation document. Each one has an exact inverse, so the history keeps only
 * what changed: a brush stroke is the rectangle it touched (before or after), never a mask copy.
 */
export type Edit =
  | { type: 'add'; shapes: VectorShape[] }
  | { type: 'remove'; keys: string[] }
  | { type: 'replace'; shape: VectorShape }
  /** Sets a rectangle [x0, y0, x1, y1) of one class's mask to `pixels` (row-major, 0/1). */
  | { type: 'pixels'; classIndex: number; rect: [number, number, number, number]; pixels: Uint8Array }
  | { type: 'good'; good: { id?: number } | null }
  | { type: 'batch'; edits: Edit[] };

/**
 * Applies an edit and returns the new document and the edit that undoes it. Shape lists and the
 * mask map are new objects; pixel buffers are edited in place (a copy of a 10 MP mask per stroke
 * would cost 10 MB), and the inverse restores exactly the pixels the edit replaced.
 */
export function perform(doc: AnnotationDocument, edit: Edit): { doc: AnnotationDocument; inverse: Edit } {
  switch (edit.type) {
    case 'add':
      return { doc: { ...doc, shapes: [...doc.shapes, ...edit.shapes] }, inverse: { type: 'remove', keys: edit.shapes.map((s) => s.key) } };
    case 'remove': {
      const removed = doc.shapes.filter((s) => edit.keys.includes(s.key));
      const kept = doc.shapes.filter((s) => !edit.keys.includes(s.key));
      // Re-adding puts them back at the end: drawing order among shapes carries no meaning.
      return { doc: { ...doc, shapes: kept }, inverse: { type: 'add', shapes: removed } };
    }
    case 'replace': {
      const previous = doc.shapes.find((s) => s.key === edit.shape.key);
      if (!previous) return { doc, inverse: { type: 'batch', edits: [] } };
      return { doc: { ...doc, shapes: doc.shapes.map((s) => (s.key === edit.shape.key ? edit.shape : s)) }, inverse: { type: 'replace', shape: previous } };
    }
    case 'pixels': {
      const masks = new Map(doc.masks);
      const mask = masks.get(edit.classIndex) ?? { data: new Uint8Array(doc.width * doc.height) };
      masks.set(edit.classIndex, mask);
      const before = readRect(mask.data, doc.width, edit.rect);
      writeRect(mask.data, doc.width, edit.rect, edit.pixels);
      return { doc: { ...doc, masks }, inverse: { type: 'pixels', classIndex: edit.classIndex, rect: edit.rect, pixels: before } };
    }
    case 'good':
      return { doc: { ...doc, good: edit.good }, inverse: { type: 'good', good: doc.good } };
    case 'batch': {
      let current = doc;
      const inverses: Edit[] = [];
      for (const e of edit.edits) {
        const done = perform(current, e);
        current = done.doc;
        inverses.unshift(done.inverse);
      }
      return { doc: current, inverse: { type: 'batch', edits: inverses } };
    }
  }
}

/** The pixels of a rectangle of a mask, row-major. */
export function readRect(data: Uint8Array, width: number, [x0, y0, x1, y1]: [number, number, number, number]): Uint8Array {
  const out = new Uint8Array(Math.max(0, x1 - x0) * Math.max(0, y1 - y0));
  for (let y = y0; y < y1; y++) out.set(data.subarray(y * width + x0, y * width + x1), (y - y0) * (x1 - x0));
  return out;
}

function writeRect(data: Uint8Array, width: number, [x0, y0, x1, y1]: [number, number, number, number], pixels: Uint8Array): void {
  for (let y = y0; y < y1; y++) data.set(pixels.subarray((y - y0) * (x1 - x0), (y - y0 + 1) * (x1 - x0)), y * width + x0);
}

/** The bounding rectangle of a mask's set pixels (empty rectangle when none). */
export function setPixelsRect(data: Uint8Array, width: number, height: number): [number, number, number, number] {
  let x0 = width, y0 = height, x1 = 0, y1 = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!data[y * width + x]) continue;
      if (x < x0) x0 = x;
      if (x >= x1) x1 = x + 1;
      if (y < y0) y0 = y;
      if (y >= y1) y1 = y + 1;
    }
  }
  return x1 > x0 ? [x0, y0, x1, y1] : [0, 0, 0, 0];
}

/** The pixels each bytes of an edit's history entry holds (for the history's memory bound). */
function sizeOf(edit: Edit): number {
  if (edit.type === 'pixels') return edit.pixels.length;
  if (edit.type === 'batch') return edit.edits.reduce((n, e) => n + sizeOf(e), 0);
  return 64;
}

/**
 * Undo and redo as inverse edits: undo applies the inverse of the last edit and keeps that
 * inverse's own inverse for redo. Bounded by count and by the pixels the entries hold.
 */
export class EditHistory {
  private past: Edit[] = [];
  private future: Edit[] = [];

  constructor(private readonly limit = 100, private readonly maxPixels = 64 * 2 ** 20) {}

  /** Applies `edit` and remembers how to undo it; anything undone before is forgotten. */
  apply(doc: AnnotationDocument, edit: Edit): AnnotationDocument {
    const done = perform(doc, edit);
    this.past.push(done.inverse);
    this.future = [];
    this.trim();
    return done.doc;
  }

  /** Remembers an edit already applied (a brush stroke painted as the pointer moved) by its inverse. */
  record(inverse: Edit): void {
    this.past.push(inverse);
    this.future = [];
    this.trim();
  }

  undo(doc: AnnotationDocument): AnnotationDocument {
    return this.step(doc, this.past, this.future);
  }

  redo(doc: AnnotationDocument): AnnotationDocument {
    return this.step(doc, this.future, this.past);
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  clear(): void {
    this.past = [];
    this.future = [];
  }

  private step(doc: AnnotationDocument, from: Edit[], to: Edit[]): AnnotationDocument {
    const edit = from.pop();
    if (!edit) return doc;
    const done = perform(doc, edit);
    to.push(done.inverse);
    return done.doc;
  }

  private trim(): void {
    while (this.past.length > this.limit || (this.past.length > 1 && this.past.reduce((n, e) => n + sizeOf(e), 0) > this.maxPixels)) this.past.shift();
  }
}
