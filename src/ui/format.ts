// Formatters made once: toLocaleString with options builds a new one per call, and the dashboard
// formats every cell of tables with tens of thousands of rows.
const int = new Intl.NumberFormat('en-US');
const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const threeDigits = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export function count(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : int.format(n);
}

/** "1 file", "12 files". */
export function files(n: number): string {
  return `${count(n)} file${n === 1 ? '' : 's'}`;
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : (v < 10 ? oneDecimal : whole).format(v)} ${units[u]}`;
}

/** A number for a chart label or table cell: integers in full, others to 3 significant digits. */
export function num(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v)) return int.format(v);
  const abs = Math.abs(v);
  return (abs >= 100 ? whole : threeDigits).format(v);
}

export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${oneDecimal.format(v * 100)} %`;
}

export function seconds(s: number): string {
  return s < 10 ? `${s.toFixed(1)} s` : s < 120 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** ms since the epoch as "2025-03-01 14:05:09 UTC". */
export function time(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
