import { spawnWorker } from './worker/spawn.ts';

/**
 * The page's entry: the lakehouse worker first, then the app. The worker starts DuckDB's module
 * (a fetch and a compile, then its own start-up) as soon as it runs, so it is started here,
 * before the app's bundle (Svelte, the views) is fetched and parsed, not after it.
 */
const spawned = spawnWorker();
void import('./main.ts').then((app) => app.start(spawned));
