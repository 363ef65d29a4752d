import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 600_000,
    // e2e suites start real servers and real clients; keep them from starving each other on small CI machines
    maxWorkers: 2,
  },
});
