import { defineConfig } from 'vitest/config';

// Unit and property tests run in parallel; integration, cluster and interop
// tests start real processes and pick their own loopback ports.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
