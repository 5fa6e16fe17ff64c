import { percent, wholePercent } from './format';
import type { JobAction, JobState, JobView, Remedy, Stage } from './ipc';

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Newest drop first, and within one drop the files in the order they were
 * given (`createdAt` is the batch's time, shared by all its files). Two
 * batches with the same time stay apart by batch id, and id breaks any
 * remaining tie so equal keys don't reshuffle rows.
 */
export function compareNewestFirst(a: JobView, b: JobView): number {
  if (a.createdAt !== b.createdAt) return b.createdAt - a.createdAt;
  if (a.batchId !== b.batchId) return compareText(a.batchId, b.batchId);
  if (a.position !== b.position) return a.position - b.position;
  return compareText(a.id, b.id);
}

/** Returns a new list with `job` inserted or replacing the entry with its id. */
export function upsertJob(jobs: readonly JobView[], job: JobView): JobView[] {
  const next = jobs.filter((j) => j.id !== job.id);
  next.push(job);
  return next.sort(compareNewestFirst);
}

/**
 * `jobs` with `incoming` replacing the copies of the same ids (the last copy
 * of an id wins), sorted once: one pass whatever the number of updates.
 */
export function upsertJobs(jobs: readonly JobView[], incoming: readonly JobView[]): JobView[] {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  for (const job of incoming) byId.set(job.id, job);
  return [...byId.values()].sort(compareNewestFirst);
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
 * What a failed job offers follows its problem: retrying a file that changed
 * would only fail again (it must be read anew, "Add again"), and nothing helps
 * a file that is not a video, so it can only be cleared away.
 */
const FAILED_ACTIONS: Record<Remedy, readonly JobAction[]> = {
  retry: ['retry', 'cancel'],
  'add-again': ['add-again', 'cancel'],
  none: ['cancel'],
};

/**
 * Pausing keeps what was sent, so it only exists for the upload stage: a job
 * queued for the copy or transcode stage can be cancelled but not paused.
 */
export function actionsFor(job: Pick<JobView, 'state' | 'stage' | 'error'>): readonly JobAction[] {
  if (job.state === 'failed') {
    // A failure without a problem predates remedies; retry was always allowed.
    return FAILED_ACTIONS[job.error?.remedy ?? 'retry'] ?? ACTIONS.failed;
  }
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
 * does not read as "not uploaded yet": "Queued · transcode". A transcode
 * still in the transcoder's own queue reads "Waiting": nothing is being
 * converted yet, and a cloud transcoder's queue can take minutes.
 */
export function stateLabel(job: Pick<JobView, 'state' | 'stage' | 'waiting'>): string {
  if (job.state === 'transcoding' && job.waiting) return 'Waiting';
  const label = STATE_LABELS[job.state] ?? job.state;
  if (job.state === 'queued' && job.stage && job.stage !== 'upload') {
    return `${label} · ${STAGE_NAMES[job.stage]}`;
  }
  return label;
}

/**
 * The sentence a failed row shows: the problem's own message, which already
 * says what happened and what to do. Only a failure that carries no problem
 * gets a stand-in, naming the stage a retry starts again from.
 */
export function failureMessage(job: Pick<JobView, 'stage' | 'error'>): string {
  const message = job.error?.message.trim();
  if (message) return message;
  const stage = STAGE_NAMES[job.stage ?? 'upload'] ?? 'upload';
  return `The ${stage} stopped without saying why. Retry it; if it fails again, copy the details into a bug report.`;
}

/**
 * What "Copy details" puts on the clipboard for a failed job: everything a
 * bug report needs, one fact a line.
 */
export function jobProblemReport(job: Pick<JobView, 'fileName' | 'stage' | 'error'>): string {
  return [
    `File: ${job.fileName}`,
    `Stage: ${STAGE_NAMES[job.stage ?? 'upload'] ?? 'upload'}`,
    `Problem: ${failureMessage(job)}`,
    `Code: ${job.error?.code ?? 'unknown'}`,
    `Details: ${job.error?.detail?.trim() || 'none recorded'}`,
  ].join('\n');
}

/**
 * "Resumed — 61% was already sent" for an upload that picked up where an
 * earlier run (before a restart or a pause) left off, so a bar that starts
 * far along, or a low rate for the whole file, does not look wrong.
 */
export function resumedNote(job: Pick<JobView, 'state' | 'bytesResumed' | 'size'>): string | null {
  if (job.state !== 'uploading' && job.state !== 'paused') return null;
  if (!(job.bytesResumed > 0) || !(job.size > 0)) return null;
  const share = percent(job.bytesResumed, job.size);
  return share < 1 ? 'Resumed — less than 1% was already sent' : `Resumed — ${share}% was already sent`;
}

/**
 * What a row's progress bar shows. `percent` null means indeterminate: the
 * stage is running but has nothing to measure (a copy, a transcode still in
 * the transcoder's queue, or a transcoder that has not reported yet).
 * `finishing`: every byte is sent and the storage is putting the parts
 * together, which can take a while for a large file with no bytes moving.
 */
export type Progress =
  | { stage: 'upload'; percent: number; frozen: boolean; finishing: boolean }
  | { stage: 'copy'; percent: null }
  | { stage: 'transcode'; percent: number | null; waiting: boolean };

export function progressFor(
  job: Pick<JobView, 'state' | 'bytesDone' | 'size' | 'transcodePercent' | 'waiting'>,
): Progress | null {
  switch (job.state) {
    case 'uploading':
      return {
        stage: 'upload',
        percent: percent(job.bytesDone, job.size),
        frozen: false,
        // An empty file has nothing to measure (see `percent`), so nothing to finish either.
        finishing: job.size > 0 && job.bytesDone >= job.size,
      };
    case 'paused':
      // A pause drops live progress, so a paused job may report 0 bytes: then
      // there is nothing honest to draw and the badge alone says "Paused".
      return job.bytesDone > 0
        ? { stage: 'upload', percent: percent(job.bytesDone, job.size), frozen: true, finishing: false }
        : null;
    case 'copying':
      return { stage: 'copy', percent: null };
    case 'transcoding':
      return job.waiting
        ? { stage: 'transcode', percent: null, waiting: true }
        : { stage: 'transcode', percent: wholePercent(job.transcodePercent), waiting: false };
    default:
      return null;
  }
}
