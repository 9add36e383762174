/** What the charts draw: one bar, dot or point each, with its tooltip. */

export interface Bar {
  label: string;
  value: number | null;
  /** a second value drawn as a tick beyond the bar, e.g. a p90 */
  marker?: number | null;
  /** drawn in the warning colour, with `note` beside it */
  highlight?: boolean;
  /** short text at the end of the bar */
  note?: string;
  tip: string;
}

export interface LinePoint {
  /** ms since the epoch (a UTC day) */
  x: number;
  y: number | null;
  /** the tooltip */
  tip: string;
}

export interface Dot {
  key: string;
  x: number;
  y: number;
  /** the tooltip, made when the dot is hovered: there may be thousands of dots */
  tip: () => string;
}
