import type { JobState, JobView } from './ipc';

/** States of a job still on its way to ready. */
const ACTIVE: ReadonlySet<JobState> = new Set(['queued', 'uploading', 'paused', 'copying', 'transcoding']);

export function isActive(job: Pick<JobView, 'state'>): boolean {
  return ACTIVE.has(job.state);
}

/** The queue as a whole: what the summary bar and the window title say. */
export interface QueueSummary {
  /** Jobs per state (every state present, 0 when none). */
  counts: Record<JobState, number>;
  total: number;
  /** Jobs not yet ready, failed or cancelled. */
  active: number;
  /** Bytes of the active jobs sent, as a whole percent; null when none is active. */
  percent: number | null;
  /** Upload speed summed over the jobs uploading now, bytes per second. */
  rateBps: number;
  /** Seconds until every active job's bytes are sent at that speed; null when nothing moves. */
  etaSeconds: number | null;
}

const STATES: readonly JobState[] = ['queued', 'uploading', 'paused', 'copying', 'transcoding', 'ready', 'failed', 'cancelled'];

/** Bytes of `job` sent: once past the upload stage, all of them. */
function sentBytes(job: JobView): number {
  if (job.state === 'copying' || job.state === 'transcoding') return job.size;
  if (job.state === 'queued' && job.stage !== null && job.stage !== 'upload') return job.size;
  return Math.min(job.bytesDone, job.size);
}

export function summarize(jobs: readonly JobView[]): QueueSummary {
  const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<JobState, number>;
  let active = 0;
  let size = 0;
  let sent = 0;
  let rateBps = 0;
  for (const job of jobs) {
    counts[job.state] = (counts[job.state] ?? 0) + 1;
    if (!isActive(job)) continue;
    active += 1;
    size += job.size;
    sent += sentBytes(job);
    if (job.state === 'uploading') rateBps += job.rateBps ?? 0;
  }
  const percent = active === 0 ? null : size === 0 ? 0 : Math.floor((sent / size) * 100);
  const etaSeconds = active > 0 && rateBps > 0 ? Math.ceil((size - sent) / rateBps) : null;
  return { counts, total: jobs.length, active, percent, rateBps, etaSeconds };
}

/** The busiest thing going on, for the title: "3 uploading", else "2 transcoding", … */
function leading(summary: QueueSummary): string {
  for (const state of ['uploading', 'copying', 'transcoding', 'queued', 'paused'] as const) {
    const n = summary.counts[state];
    if (n > 0) return `${n} ${state}`;
  }
  return '';
}

/** "Streamdrop — 42% · 3 uploading" while work is under way, else "Streamdrop". */
export function windowTitle(summary: QueueSummary): string {
  if (summary.active === 0 || summary.percent === null) return 'Streamdrop';
  return `Streamdrop — ${summary.percent}% · ${leading(summary)}`;
}

/** What the list shows: every job, those still under way, or one state. */
export type StateFilter = 'all' | 'active' | JobState;

export const STATE_FILTERS: readonly { value: StateFilter; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'active', label: 'In progress' },
  { value: 'ready', label: 'Ready' },
  { value: 'failed', label: 'Failed' },
  { value: 'paused', label: 'Paused' },
  { value: 'cancelled', label: 'Cancelled' },
];

/**
 * The jobs the filter and the search keep, in their order. The search matches
 * the file name and the path on its card, ignoring case and accents
 * (`clip` finds `Clíp`).
 */
export function filterJobs(jobs: readonly JobView[], filter: StateFilter, search: string): JobView[] {
  const words = fold(search).split(/\s+/).filter(Boolean);
  return jobs.filter((job) => {
    if (filter === 'active' ? !isActive(job) : filter !== 'all' && job.state !== filter) return false;
    if (words.length === 0) return true;
    const text = fold(job.relativePath || job.fileName);
    return words.every((w) => text.includes(w));
  });
}

function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** One drop's jobs, listed under one header. */
export interface Batch {
  id: string;
  /** The card or folder dropped ("A001", "DCIM"), else "3 files". */
  title: string;
  jobs: JobView[];
  size: number;
  summary: QueueSummary;
}

/** The top folder of a job's path on its card, if it came in a folder. */
function cardOf(job: JobView): string | null {
  const path = job.relativePath;
  if (!path) return null;
  const slash = path.indexOf('/');
  return slash > 0 ? path.slice(0, slash) : null;
}

/** Consecutive jobs of one batch (the list is sorted by batch), each batch with its figures. */
export function groupBatches(jobs: readonly JobView[]): Batch[] {
  const batches: Batch[] = [];
  for (const job of jobs) {
    const last = batches[batches.length - 1];
    if (last && last.id === job.batchId) last.jobs.push(job);
    else batches.push({ id: job.batchId, title: '', jobs: [job], size: 0, summary: summarize([]) });
  }
  for (const batch of batches) {
    batch.size = batch.jobs.reduce((n, j) => n + j.size, 0);
    batch.summary = summarize(batch.jobs);
    const cards = [...new Set(batch.jobs.map(cardOf))];
    const n = batch.jobs.length;
    batch.title =
      cards.length === 1 && cards[0] !== null
        ? cards[0]
        : cards.every((c) => c !== null)
          ? cards.join(', ')
          : `${n} ${n === 1 ? 'file' : 'files'}`;
  }
  return batches;
}

/**
 * How often the window applies job updates: ten times a second. Tests of
 * other behaviour set it to 0 (a flush as soon as the events are in).
 */
export const UPDATE_INTERVAL = { ms: 100 };

/**
 * Applies job updates at most every `intervalMs`, all that came in since the
 * last time at once: a card of 300 clips sends far more progress events than
 * a person can read, and sorting the list for each would stall the window.
 * Only the newest copy of each job is kept.
 */
export function createCoalescer(apply: (jobs: JobView[]) => void, intervalMs = 100) {
  let waiting = new Map<string, JobView>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    timer = null;
    if (waiting.size === 0) return;
    const batch = [...waiting.values()];
    waiting = new Map();
    apply(batch);
  };
  return {
    push(job: JobView) {
      waiting.set(job.id, job);
      if (timer === null) timer = setTimeout(flush, intervalMs);
    },
    /** Applies what waits now (before a command's own result, or on teardown). */
    flush() {
      if (timer !== null) clearTimeout(timer);
      flush();
    },
    dispose() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      waiting = new Map();
    },
  };
}

/** One line of the list: a drop's header, or a job's row. `key` is unique across both. */
export type ListItem =
  | { kind: 'header'; key: string; batch: Batch }
  | { kind: 'row'; key: string; job: JobView };

/** The list's lines in order: a header for each drop of more than one file, and the rows of unfolded drops. */
export function listItems(batches: readonly Batch[], collapsed: ReadonlySet<string>): ListItem[] {
  const items: ListItem[] = [];
  for (const batch of batches) {
    if (batch.jobs.length > 1) items.push({ kind: 'header', key: `b:${batch.id}`, batch });
    if (collapsed.has(batch.id)) continue;
    for (const job of batch.jobs) items.push({ kind: 'row', key: `j:${job.id}`, job });
  }
  return items;
}

/** Which lines to draw: `start` to `end` (exclusive), with the height of those above and below them. */
export interface DrawnRange {
  start: number;
  end: number;
  before: number;
  after: number;
}

/**
 * The lines of a list of `heights` (px, in order) that meet the band from
 * `top` to `bottom` (px from the list's top edge), so only those are in the
 * DOM and 10,000 jobs cost what a screenful does. Linear in the lines: a
 * sum of 10,000 numbers takes microseconds, and no index has to be kept in step.
 */
export function drawnRange(heights: readonly number[], top: number, bottom: number): DrawnRange {
  let y = 0;
  let start = heights.length;
  let before = 0;
  for (let i = 0; i < heights.length; i++) {
    if (y + heights[i] > top) {
      start = i;
      before = y;
      break;
    }
    y += heights[i];
  }
  if (start === heights.length) before = y;
  let end = start;
  y = before;
  while (end < heights.length && y < bottom) y += heights[end++];
  let after = 0;
  for (let i = end; i < heights.length; i++) after += heights[i];
  return { start, end, before, after };
}
