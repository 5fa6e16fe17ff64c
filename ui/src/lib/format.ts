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
 * the job itself says it is uploaded.
 */
export function percent(done: number, size: number): number {
  if (!(size > 0)) return 0;
  const ratio = Math.floor((done / size) * 100);
  return Math.min(100, Math.max(0, ratio));
}

export function jobPercent(job: Pick<JobView, 'state' | 'bytesDone' | 'size'>): number {
  return job.state === 'uploaded' ? 100 : percent(job.bytesDone, job.size);
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
