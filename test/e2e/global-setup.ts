import { buildApp } from './harness.ts';

/** One production build for all end-to-end test files. */
export default async function setup(): Promise<void> {
  await buildApp();
}
