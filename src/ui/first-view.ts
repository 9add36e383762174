/**
 * Settles once the view the page opened on has drawn what it shows, after that frame is painted.
 * The engine's start waits for it (at most a few seconds): compiling DuckDB's 34 MB module takes
 * the CPU, and on a reload the dashboard is drawn from the gold tables without it.
 */
let settle!: () => void;
export const firstView = new Promise<void>((resolve) => (settle = resolve));

export function firstViewDrawn(): void {
  requestAnimationFrame(() => setTimeout(settle, 0));
}
