import { configDefaults, defineConfig } from 'vitest/config';

// Vitest's default is one worker per core less one: on CI's two cores, one. The Node-only tests
// run on both cores first; the storage and browser tests, whose servers and Chromium want the
// second core, then run one file at a time (vitest runs projects of one group order together,
// and they must share a worker count).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          maxWorkers: 2,
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/e2e/**', 'test/object-storage/**'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        // Lakehouses on S3 and Azure Blob: moto and Azurite on loopback, started for the run.
        test: {
          name: 'object-storage',
          sequence: { groupOrder: 1 },
          maxWorkers: 1,
          include: ['test/object-storage/**/*.test.ts'],
          globalSetup: ['test/object-storage/global-setup.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
          pool: 'forks',
        },
      },
      {
        // The production build in headless Chromium: see test/e2e/harness.ts.
        test: {
          name: 'e2e',
          sequence: { groupOrder: 1 },
          maxWorkers: 1,
          include: ['test/e2e/**/*.e2e.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
          pool: 'forks',
        },
      },
    ],
  },
});
