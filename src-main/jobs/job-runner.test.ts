import { describe, expect, it } from 'vitest';
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
});
