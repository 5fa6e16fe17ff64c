import type { JobView } from './ipc';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

/** Binary (1024) steps with familiar labels: 1023 B, 12.3 MB, 1.5 GB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1024) return `${Math.floor(bytes)} B`;

  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  // 1023.96 KB would print as "1024.0 KB"; carry into the next unit instead.
  if (Number(value.toFixed(1)) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}

/**
 * Whole percent of `done` out of `size`, floored so 100% only shows when every
 * byte is sent. An empty file has nothing to measure, so it reads 0% until
 * the job itself moves past the upload stage.
 */
export function percent(done: number, size: number): number {
  if (!(size > 0)) return 0;
  const ratio = Math.floor((done / size) * 100);
  return Math.min(100, Math.max(0, ratio));
}

/**
 * A percentage reported by someone else (the transcoder) as a whole number in
 * 0–100, floored like `percent`; null when there is none to show.
 */
export function wholePercent(value: number | null | undefined): number | null {
  if (value == null || !Number.isFinite(value)) return null;
  return Math.min(100, Math.max(0, Math.floor(value)));
}

/** "12.4 MB/s"; empty when there is no rate to show (null, undefined, nonsense). */
export function formatRate(bps: number | null | undefined): string {
  if (bps == null || !Number.isFinite(bps) || bps < 0) return '';
  return `${formatBytes(bps)}/s`;
}

/**
 * A time left such as "59 s", "1 min 1 s" or "1 h 2 min": two units at most,
 * since seconds stop mattering once hours are involved. Empty when unknown.
 */
export function formatEta(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return '';
  const total = Math.round(seconds);
  if (total < 60) return `${total} s`;
  if (total < 3600) {
    const min = Math.floor(total / 60);
    const sec = total % 60;
    return sec > 0 ? `${min} min ${sec} s` : `${min} min`;
  }
  const h = Math.floor(total / 3600);
  const min = Math.floor((total % 3600) / 60);
  return min > 0 ? `${h} h ${min} min` : `${h} h`;
}

/** The line under an upload's progress bar: "12.4 MB/s · 1 min 20 s left". */
export function rateAndEta(job: Pick<JobView, 'rateBps' | 'etaSeconds'>): string {
  const rate = formatRate(job.rateBps);
  const eta = formatEta(job.etaSeconds);
  return [rate, eta && `${eta} left`].filter(Boolean).join(' · ');
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/**
 * How long a link has left, from `now` (both Unix ms): "expires in 6 days",
 * "expires in 3 hours", "expires in less than a minute", or "expired".
 * Rounded to the nearest unit, and a unit that rounds up to the next one
 * moves there (59.6 minutes reads "1 hour"), so a link made for 7 days still
 * reads "7 days" a moment later.
 */
export function formatExpiry(expiresAt: number, now: number): string {
  const left = expiresAt - now;
  if (!Number.isFinite(left)) return '';
  if (left <= 0) return 'expired';
  const minutes = Math.round(left / MINUTE);
  if (minutes < 1) return 'expires in less than a minute';
  if (minutes < 60) return `expires in ${plural(minutes, 'minute')}`;
  const hours = Math.round(left / HOUR);
  if (hours < 24) return `expires in ${plural(hours, 'hour')}`;
  return `expires in ${plural(Math.round(left / DAY), 'day')}`;
}
