import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // The UI answers within a second on an idle machine; a loaded CI machine gets more time before
    // a poll fails (what a poll waits for must still come).
    expect: { poll: { timeout: 15_000 } },
  },
});
