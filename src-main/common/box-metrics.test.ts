import { describe, expect, it } from 'vitest';
import { type Box, boxConfusion, type ScoredBox } from './box-metrics.ts';

const truthOf = (entries: [number, Box[]][]): Map<number, Box[]> => new Map(entries);

describe('boxConfusion', () => {
  it('counts matches across classes, misses in the background column and extra boxes in the background row', () => {
    const found = new Map<string, ScoredBox[]>([
      ['scratch', [
        { image: 0, score: 0.9, box: [0, 0, 10, 10] }, // right class
        { image: 1, score: 0.8, box: [50, 50, 60, 60] }, // no box there: background row
        { image: 1, score: 0.1, box: [0, 0, 10, 10] }, // under the class threshold: ignored
      ]],
      ['dent', [
        { image: 0, score: 0.7, box: [20, 20, 30, 30] }, // on a scratch: confused
      ]],
    ]);
    const truth = new Map([
      ['scratch', truthOf([[0, [[0, 0, 10, 10], [21, 21, 30, 30]]], [1, [[0, 0, 10, 10]]]])],
      ['dent', truthOf([[2, [[5, 5, 9, 9]]]])],
    ]);
    const m = boxConfusion(found, truth, ['scratch', 'dent'], { scratch: 0.5, dent: 0.5 });
    expect(m.labels).toEqual(['scratch', 'dent', 'background']);
    expect(m.counts).toEqual([
      [1, 1, 1], // scratch: one found as scratch, one as dent, one missed (image 1)
      [0, 0, 1], // dent: missed
      [1, 0, 0], // a scratch found where nothing is labelled
    ]);
  });

  it('matches each labelled box once, highest score first', () => {
    const found = new Map<string, ScoredBox[]>([['a', [{ image: 0, score: 0.6, box: [0, 0, 10, 10] }, { image: 0, score: 0.9, box: [1, 1, 10, 10] }]]]);
    const m = boxConfusion(found, new Map([['a', truthOf([[0, [[0, 0, 10, 10]]]])]]), ['a'], { a: 0 });
    expect(m.counts).toEqual([[1, 0], [1, 0]]);
  });
});
