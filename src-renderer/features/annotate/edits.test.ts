import { describe, expect, it } from 'vitest';
import { fromAnnotations, toAnnotations } from './document.ts';
import { EditHistory, perform, readRect, setPixelsRect } from './edits.ts';

const blank = () => fromAnnotations(8, 6, []);
const box = (key: string, x: number) => ({ key, shape: 'box' as const, classIndex: 1, box: [x, 1, x + 2, 3] as [number, number, number, number] });

describe('annotation edits', () => {
  it('every edit has an exact inverse, and the document before it is left as it was', () => {
    const start = blank();
    const added = perform(start, { type: 'add', shapes: [box('a', 1), box('b', 4)] });
    expect(start.shapes).toEqual([]);
    expect(added.doc.shapes.map((s) => s.key)).toEqual(['a', 'b']);
    const moved = perform(added.doc, { type: 'replace', shape: box('a', 3) });
    expect(moved.doc.shapes[0].shape === 'box' && moved.doc.shapes[0].box).toEqual([3, 1, 5, 3]);
    expect(perform(moved.doc, moved.inverse).doc.shapes).toEqual(added.doc.shapes);
    expect(perform(added.doc, added.inverse).doc.shapes).toEqual([]);
  });

  it('a brush stroke is recorded as the rectangle it touched, and undo restores those pixels exactly', () => {
    const history = new EditHistory();
    let doc = blank();
    const rect: [number, number, number, number] = [2, 1, 5, 3];
    doc = history.apply(doc, { type: 'pixels', classIndex: 1, rect, pixels: new Uint8Array(6).fill(1) });
    expect(setPixelsRect(doc.masks.get(1)!.data, 8, 6)).toEqual(rect);
    const second: [number, number, number, number] = [4, 2, 7, 4];
    doc = history.apply(doc, { type: 'pixels', classIndex: 1, rect: second, pixels: new Uint8Array(6).fill(1) });
    expect(Array.from(readRect(doc.masks.get(1)!.data, 8, [2, 1, 7, 4]))).toEqual([1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1]);
    doc = history.undo(doc);
    expect(setPixelsRect(doc.masks.get(1)!.data, 8, 6)).toEqual(rect);
    doc = history.undo(doc);
    expect(doc.masks.get(1)!.data.includes(1)).toBe(false);
    expect(history.canUndo).toBe(false);
    doc = history.redo(history.redo(doc));
    expect(setPixelsRect(doc.masks.get(1)!.data, 8, 6)).toEqual([2, 1, 7, 4]);
    expect(toAnnotations(doc)).toMatchObject([{ shape: 'mask', classIndex: 1 }]);
  });

  it('marking good is one step that undo takes back whole; a new edit forgets what was undone', () => {
    const history = new EditHistory();
    let doc = history.apply(blank(), { type: 'add', shapes: [box('a', 1)] });
    doc = history.apply(doc, { type: 'batch', edits: [{ type: 'remove', keys: ['a'] }, { type: 'good', good: {} }] });
    expect(toAnnotations(doc)).toEqual([{ id: undefined, shape: 'good' }]);
    doc = history.undo(doc);
    expect(doc.good).toBeNull();
    expect(doc.shapes.map((s) => s.key)).toEqual(['a']);
    history.apply(doc, { type: 'add', shapes: [box('b', 4)] });
    expect(history.canRedo).toBe(false);
  });

  it('keeps the history within its bounds', () => {
    const history = new EditHistory(3);
    let doc = blank();
    for (let i = 0; i < 5; i++) doc = history.apply(doc, { type: 'add', shapes: [box(`s${i}`, i)] });
    for (let i = 0; i < 5; i++) doc = history.undo(doc);
    expect(doc.shapes.map((s) => s.key)).toEqual(['s0', 's1']);
  });
});
