import { configDefaults, defineConfig } from 'vitest/config';

// Vitest's default is one worker per core less one: on CI's two cores, one. The Node tests (the
// storage ones included) run two files at a time first; then the browser tests one at a time, as
// two at once beside them made timing-bound pages miss their waits (a Firefox private window, a
// run stopped between silver's commits). Projects of one group run together and must share their
// worker count.
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
          sequence: { groupOrder: 0 },
          maxWorkers: 2,
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
