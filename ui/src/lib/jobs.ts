import { percent, wholePercent } from './format';
import type { JobAction, JobState, JobView, Stage } from './ipc';

/** Newest first; id breaks ties so equal timestamps don't reshuffle rows. */
export function compareNewestFirst(a: JobView, b: JobView): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Returns a new list with `job` inserted or replacing the entry with its id. */
export function upsertJob(jobs: readonly JobView[], job: JobView): JobView[] {
  const next = jobs.filter((j) => j.id !== job.id);
  next.push(job);
  return next.sort(compareNewestFirst);
}

export function upsertJobs(jobs: readonly JobView[], incoming: readonly JobView[]): JobView[] {
  return incoming.reduce<JobView[]>((acc, job) => upsertJob(acc, job), [...jobs]);
}

/**
 * Folds views that only describe a job as it was at some earlier moment (the
 * `list_jobs` snapshot, or the `accepted` list of an intake report) into the
 * jobs already known. Only jobs not seen yet are added: a copy that is already
 * here came from an event or a command result, and job states no longer only
 * move forward (paused → queued, failed → queued), so "further along" says
 * nothing about which copy is newer. Every change is also announced as an
 * event, in order, so a known copy that is behind is soon replaced anyway,
 * whereas letting the snapshot win could undo a newer event for good.
 */
export function mergeSnapshot(jobs: readonly JobView[], snapshot: readonly JobView[]): JobView[] {
  const known = new Set(jobs.map((j) => j.id));
  return upsertJobs(
    jobs,
    snapshot.filter((s) => !known.has(s.id)),
  );
}

/** Which actions the backend accepts in each state, in the order buttons show. */
const ACTIONS: Record<JobState, readonly JobAction[]> = {
  queued: ['pause', 'cancel'],
  uploading: ['pause', 'cancel'],
  paused: ['resume', 'cancel'],
  copying: ['cancel'],
  transcoding: ['cancel'],
  ready: [],
  failed: ['retry', 'cancel'],
  cancelled: ['retry'],
};

/**
 * Pausing keeps what was sent, so it only exists for the upload stage: a job
 * queued for the copy or transcode stage can be cancelled but not paused.
 */
export function actionsFor(job: Pick<JobView, 'state' | 'stage'>): readonly JobAction[] {
  const actions = ACTIONS[job.state] ?? [];
  if (job.state === 'queued' && job.stage !== 'upload') return actions.filter((a) => a !== 'pause');
  return actions;
}

/**
 * Cancelling throws away work in progress, so it is confirmed first when
 * there is some to lose: bytes sent (uploading, or paused with a partial
 * upload kept), or a copy or transcode under way.
 */
export function cancelNeedsConfirm(state: JobState): boolean {
  return state === 'uploading' || state === 'paused' || state === 'copying' || state === 'transcoding';
}

const STAGE_NAMES: Record<Stage, string> = {
  upload: 'upload',
  copy: 'copy',
  transcode: 'transcode',
};

/** "upload" for the states that belong to it, else the stage the job is at. */
function stageOf(job: Pick<JobView, 'state' | 'stage'>): Stage {
  if (job.state === 'copying') return 'copy';
  if (job.state === 'transcoding') return 'transcode';
  return job.stage ?? 'upload';
}

/** What a cancel would stop, for its question: "Cancel upload?", "Cancel transcode?". */
export function cancelTarget(job: Pick<JobView, 'state' | 'stage'>): string {
  return STAGE_NAMES[stageOf(job)] ?? 'upload';
}

const STATE_LABELS: Record<JobState, string> = {
  queued: 'Queued',
  uploading: 'Uploading',
  paused: 'Paused',
  copying: 'Copying',
  transcoding: 'Transcoding',
  ready: 'Ready',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/**
 * The badge text. A queued job waiting for a later stage says which, so it
 * does not read as "not uploaded yet": "Queued · transcode".
 */
export function stateLabel(job: Pick<JobView, 'state' | 'stage'>): string {
  const label = STATE_LABELS[job.state] ?? job.state;
  if (job.state === 'queued' && job.stage && job.stage !== 'upload') {
    return `${label} · ${STAGE_NAMES[job.stage]}`;
  }
  return label;
}

/** "Transcode failed: <error>", naming the stage a retry starts again from. */
export function failureText(job: Pick<JobView, 'stage' | 'error'>): string {
  const stage = STAGE_NAMES[job.stage ?? 'upload'] ?? 'upload';
  const head = `${stage[0].toUpperCase()}${stage.slice(1)} failed`;
  const detail = job.error?.trim();
  return detail ? `${head}: ${detail}` : head;
}

/**
 * What a row's progress bar shows. `percent` null means indeterminate: the
 * stage is running but has nothing to measure (a copy, or a transcoder that
 * has not reported yet).
 */
export type Progress =
  | { stage: 'upload'; percent: number; frozen: boolean }
  | { stage: 'copy'; percent: null }
  | { stage: 'transcode'; percent: number | null };

export function progressFor(
  job: Pick<JobView, 'state' | 'bytesDone' | 'size' | 'transcodePercent'>,
): Progress | null {
  switch (job.state) {
    case 'uploading':
      return { stage: 'upload', percent: percent(job.bytesDone, job.size), frozen: false };
    case 'paused':
      // A pause drops live progress, so a paused job may report 0 bytes: then
      // there is nothing honest to draw and the badge alone says "Paused".
      return job.bytesDone > 0 ? { stage: 'upload', percent: percent(job.bytesDone, job.size), frozen: true } : null;
    case 'copying':
      return { stage: 'copy', percent: null };
    case 'transcoding':
      return { stage: 'transcode', percent: wholePercent(job.transcodePercent) };
    default:
      return null;
  }
}
