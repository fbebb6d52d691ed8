import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../test-support/fixtures.ts';
import { RotatingLog } from './log-file.ts';

describe('station log', () => {
  it('appends lines and rotates past its size, keeping a bounded number of files', () => {
    const dir = tempDir();
    try {
      const log = new RotatingLog(dir.path, 200, 3);
      log.write('error', 'main', 'first\nwith a second line');
      expect(readFileSync(log.file, 'utf8')).toMatch(/^\S+Z ERROR \[main\] first\n {4}with a second line\n$/);
      for (let i = 0; i < 20; i++) log.write('info', 'jobs', `entry ${i} ${'x'.repeat(40)}`);
      expect(readdirSync(dir.path).sort()).toEqual(['argus.1.log', 'argus.2.log', 'argus.log']);
      expect(readFileSync(log.file, 'utf8')).toMatch(/entry 19/);
      expect(readFileSync(log.file, 'utf8').length).toBeLessThanOrEqual(200);
      expect(RotatingLog.describe(new Error('boom'))).toMatch(/^Error: boom\n\s+at /);
    } finally {
      dir.cleanup();
    }
  });
});
