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
