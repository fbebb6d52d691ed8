import { describe, expect, it, vi } from 'vitest';
import type { JobContext } from './job-runner.ts';
import { JobRunner } from './job-runner.ts';

describe('job runner', () => {
  it('forgets the oldest finished jobs beyond 200 but never a running one', async () => {
    const runner = new JobRunner();
    let release!: () => void;
    const running = runner.start('watch', () => new Promise<void>((r) => (release = r)));
    const ids: string[] = [];
    for (let i = 0; i < 205; i++) {
      const job = runner.start('inspect', async () => i);
      ids.push(job.id);
      await runner.wait(job.id);
    }
    expect(() => runner.get(ids[0])).toThrow(/No job/);
    expect(() => runner.get(ids[4])).toThrow(/No job/);
    expect(runner.get(ids[5])).toMatchObject({ state: 'succeeded', result: 5 });
    expect(runner.get(running.id).state).toBe('running');
    release();
    await runner.wait(running.id);
    expect(runner.get(running.id).state).toBe('succeeded');
  });

  it('estimates the time the current phase still needs from its pace so far', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const runner = new JobRunner();
      let ctx!: JobContext;
      let release!: () => void;
      const job = runner.start('inspect', (c) => ((ctx = c), new Promise<void>((r) => (release = r))));
      ctx.progress('inspecting', 0, 100);
      expect(runner.get(job.id).etaSeconds).toBeNull();
      vi.advanceTimersByTime(10_000);
      ctx.progress('inspecting', 20, 100);
      expect(runner.get(job.id).etaSeconds).toBeCloseTo(40, 6); // 20 in 10 s: 80 more take 40 s
      // A new phase starts its own pace.
      ctx.progress('writing', 0, 10);
      vi.advanceTimersByTime(1_000);
      ctx.progress('writing', 5, 10);
      expect(runner.get(job.id).etaSeconds).toBeCloseTo(1, 6);
      release();
      await runner.wait(job.id);
    } finally {
      vi.useRealTimers();
    }
  });
});
