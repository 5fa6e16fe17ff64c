import type { JobState, JobView } from './ipc';

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

const STATE_RANK: Record<JobState, number> = { queued: 0, uploading: 1, uploaded: 2, failed: 2 };

/** How far a job has got; jobs only move forward through their states. */
function progressKey(job: JobView): [number, number] {
  return [STATE_RANK[job.state], job.bytesDone];
}

/**
 * Folds a `list_jobs` snapshot into jobs already known from events. Events
 * can arrive while the snapshot is in flight, so for a job present in both the
 * further-along copy wins rather than whichever arrived last.
 */
export function mergeSnapshot(jobs: readonly JobView[], snapshot: readonly JobView[]): JobView[] {
  const known = new Map(jobs.map((j) => [j.id, j]));
  const fresher = snapshot.filter((s) => {
    const mine = known.get(s.id);
    if (!mine) return true;
    const [sr, sb] = progressKey(s);
    const [mr, mb] = progressKey(mine);
    return sr > mr || (sr === mr && sb > mb);
  });
  return upsertJobs(jobs, fresher);
}
