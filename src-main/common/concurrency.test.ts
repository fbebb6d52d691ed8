import { describe, expect, it } from 'vitest';
import { forEachConcurrently } from './concurrency.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('forEachConcurrently', () => {
  it('visits every item once, never more than the limit at a time', async () => {
    const seen: number[] = [];
    let running = 0;
    let peak = 0;
    await forEachConcurrently([...Array(20).keys()], 3, async (item, index) => {
      expect(item).toBe(index);
      running++;
      peak = Math.max(peak, running);
      await tick(item % 4);
      seen.push(item);
      running--;
    });
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    expect(peak).toBe(3);
  });

  it('after a failure starts nothing new and rejects only once the calls in flight have finished', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const run = forEachConcurrently([...Array(20).keys()], 4, async (item) => {
      started.push(item);
      if (item === 1) {
        await tick(1);
        throw new Error('disk full');
      }
      await tick(20);
      finished.push(item);
    });
    await expect(run).rejects.toThrow('disk full');
    // Items 0, 2 and 3 were running when item 1 failed: they finished before the rejection.
    expect(started.sort((a, b) => a - b)).toEqual([0, 1, 2, 3]);
    expect(finished.sort((a, b) => a - b)).toEqual([0, 2, 3]);
  });
});
