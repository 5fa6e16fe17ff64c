import type { JobAction, JobState, JobView } from './ipc';

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
  uploaded: [],
  failed: ['retry', 'cancel'],
  cancelled: ['retry'],
};

export function actionsFor(state: JobState): readonly JobAction[] {
  return ACTIONS[state] ?? [];
}

/**
 * Cancelling throws away bytes already sent, so it is confirmed first when
 * there are any to lose (uploading, or paused with a partial upload kept).
 */
export function cancelNeedsConfirm(state: JobState): boolean {
  return state === 'uploading' || state === 'paused';
}
