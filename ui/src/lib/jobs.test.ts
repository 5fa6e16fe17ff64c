import { describe, expect, it } from 'vitest';
import type { JobAction, JobState, JobView } from './ipc';
import { actionsFor, cancelNeedsConfirm, mergeSnapshot, upsertJob, upsertJobs } from './jobs';

function job(id: string, createdAt: number, extra: Partial<JobView> = {}): JobView {
  return {
    id,
    fileName: `${id}.mp4`,
    sourcePath: `/clips/${id}.mp4`,
    size: 100,
    state: 'queued',
    bytesDone: 0,
    rateBps: null,
    etaSeconds: null,
    error: null,
    createdAt,
    destination: `s3://bucket/${id}.mp4`,
    ...extra,
  };
}

const ids = (jobs: JobView[]) => jobs.map((j) => j.id);

describe('upsertJob', () => {
  it('inserts new jobs newest first', () => {
    let jobs: JobView[] = [];
    jobs = upsertJob(jobs, job('a', 1));
    jobs = upsertJob(jobs, job('c', 3));
    jobs = upsertJob(jobs, job('b', 2));
    expect(ids(jobs)).toEqual(['c', 'b', 'a']);
  });

  it('replaces an existing job in place without duplicating it', () => {
    const start = [job('b', 2), job('a', 1)];
    const next = upsertJob(start, job('a', 1, { state: 'uploading', bytesDone: 40 }));
    expect(ids(next)).toEqual(['b', 'a']);
    expect(next[1].state).toBe('uploading');
    expect(next[1].bytesDone).toBe(40);
  });

  it('does not mutate its input', () => {
    const start = [job('a', 1)];
    upsertJob(start, job('b', 2));
    expect(ids(start)).toEqual(['a']);
  });

  it('orders equal timestamps stably by id', () => {
    const jobs = upsertJobs([], [job('y', 5), job('x', 5), job('z', 5)]);
    expect(ids(jobs)).toEqual(['x', 'y', 'z']);
  });
});

describe('mergeSnapshot', () => {
  it('adds jobs only the snapshot knows about', () => {
    const merged = mergeSnapshot([job('new', 9)], [job('old', 1)]);
    expect(ids(merged)).toEqual(['new', 'old']);
  });

  it('keeps the event copy over a snapshot copy that looks further along', () => {
    // Paused then resumed while list_jobs was in flight: the snapshot was read
    // mid-upload, but the queued event is newer.
    const fromEvent = job('a', 1, { state: 'queued', bytesDone: 0 });
    const stale = job('a', 1, { state: 'uploading', bytesDone: 60 });
    expect(mergeSnapshot([fromEvent], [stale])).toEqual([fromEvent]);
  });

  it('keeps the event copy over a snapshot copy that is behind it', () => {
    const fromEvent = job('a', 1, { state: 'uploaded', bytesDone: 100 });
    const stale = job('a', 1, { state: 'uploading', bytesDone: 10 });
    expect(mergeSnapshot([fromEvent], [stale])).toEqual([fromEvent]);
  });

  it('merges known and unknown jobs in one pass, newest first, without duplicates', () => {
    const known = [job('b', 2, { state: 'cancelled' })];
    const merged = mergeSnapshot(known, [job('a', 1), job('b', 2, { state: 'failed' }), job('c', 3)]);
    expect(ids(merged)).toEqual(['c', 'b', 'a']);
    expect(merged[1].state).toBe('cancelled');
  });

  it('does not mutate its inputs', () => {
    const known = [job('a', 1)];
    const snapshot = [job('b', 2)];
    mergeSnapshot(known, snapshot);
    expect(ids(known)).toEqual(['a']);
    expect(ids(snapshot)).toEqual(['b']);
  });
});

describe('actionsFor', () => {
  it.each<[JobState, JobAction[]]>([
    ['queued', ['pause', 'cancel']],
    ['uploading', ['pause', 'cancel']],
    ['paused', ['resume', 'cancel']],
    ['uploaded', []],
    ['failed', ['retry', 'cancel']],
    ['cancelled', ['retry']],
  ])('%s → %j', (state, expected) => {
    expect(actionsFor(state)).toEqual(expected);
  });

  it('offers nothing for a state it does not know', () => {
    expect(actionsFor('archived' as JobState)).toEqual([]);
  });
});

describe('cancelNeedsConfirm', () => {
  it('asks only when sent bytes would be thrown away', () => {
    const states: JobState[] = ['queued', 'uploading', 'paused', 'uploaded', 'failed', 'cancelled'];
    expect(states.filter(cancelNeedsConfirm)).toEqual(['uploading', 'paused']);
  });
});
