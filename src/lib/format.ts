/** Formatting shared by views: relative dates, byte sizes, counts. */

const UNITS: [string, number][] = [
  ["y", 365 * 24 * 3600_000],
  ["mo", 30 * 24 * 3600_000],
  ["d", 24 * 3600_000],
  ["h", 3600_000],
  ["m", 60_000],
];

/** "just now", "5m ago", "2h ago", "3d ago"; future dates (clock skew) read as "just now". */
export function relativeTime(thenMs: number, nowMs: number): string {
  const diff = nowMs - thenMs;
  if (diff < 60_000) return "just now";
  for (const [unit, ms] of UNITS) {
    if (diff >= ms) return `${Math.floor(diff / ms)}${unit} ago`;
  }
  return "just now";
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1024;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[i]}`;
}

export const formatCount = (n: number) => n.toLocaleString("en-US");

/** "1 page", "2 pages", "1,204 chunks". */
export const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;

/** A learning rate as people write it: 2e-4, 0.01. */
export const formatRate = (x: number) => (x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential() : String(x));
