/**
 * Time from page load to the first KPI chart, in headless Chromium against the production build
 * in .tmp/e2e-dist (build it first: `npx vite build --outDir .tmp/e2e-dist`).
 *
 *   npx tsx bench/app-first-chart.ts [events=100000]
 *
 * A fresh profile (empty OPFS): load the page, wait for the engine, type the number of events,
 * press Run pipeline, wait for "Run complete", open the Dashboard and wait for the first chart's
 * SVG. The time spent typing is left out. Then a reload with that lakehouse in place, to the
 * first chart again: start-up reads no table data, so it should cost about the engine's start.
 */
import { DIST, launchBrowser, serveStatic, waitForEngine } from '../test/e2e/harness.ts';

const events = Number(process.argv[2] ?? 100_000);
const server = await serveStatic(DIST);
const session = await launchBrowser();
const { page } = session;
try {
  await page.setViewportSize({ width: 1280, height: 800 });
  const firstChart = () => page.locator('[data-kpi] svg[role="img"]').first().waitFor({ timeout: 300_000 });

  const t0 = Date.now();
  await page.goto(server.url);
  await waitForEngine(page, 120_000);
  const engineReady = Date.now();
  await page.getByLabel('Events', { exact: true }).fill(String(events));
  const clicked = Date.now();
  await page.getByRole('button', { name: 'Run pipeline' }).click();
  await page.getByRole('heading', { name: 'Run complete' }).waitFor({ timeout: 900_000 });
  const runDone = Date.now();
  await page.getByRole('tab', { name: 'Dashboard' }).click();
  await firstChart();
  const chart = Date.now();

  const r0 = Date.now();
  await page.reload();
  await waitForEngine(page, 120_000);
  const r1 = Date.now();
  await firstChart();
  const r2 = Date.now();

  console.log(
    JSON.stringify(
      {
        events,
        pageLoadToEngineReadyMs: engineReady - t0,
        runMs: runDone - clicked,
        runCompleteToFirstChartMs: chart - runDone,
        pageLoadToFirstChartMs: chart - t0 - (clicked - engineReady),
        reloadToEngineReadyMs: r1 - r0,
        reloadToFirstChartMs: r2 - r0,
        errors: session.errors,
      },
      null,
      2,
    ),
  );
} finally {
  await session.close();
  await server.close();
}
