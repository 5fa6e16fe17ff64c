import { describe, expect, it } from 'vitest';
import type { JobView } from './ipc';
import { mergeSnapshot, upsertJob, upsertJobs } from './jobs';

function job(id: string, createdAt: number, extra: Partial<JobView> = {}): JobView {
  return {
    id,
    fileName: `${id}.mp4`,
    sourcePath: `/clips/${id}.mp4`,
    size: 100,
    state: 'queued',
    bytesDone: 0,
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

  it('keeps an event copy that is further along than a stale snapshot', () => {
    const fromEvent = job('a', 1, { state: 'uploaded', bytesDone: 100 });
    const stale = job('a', 1, { state: 'uploading', bytesDone: 10 });
    expect(mergeSnapshot([fromEvent], [stale])).toEqual([fromEvent]);
  });

  it('takes the snapshot copy when it is further along', () => {
    const early = job('a', 1, { state: 'uploading', bytesDone: 10 });
    const later = job('a', 1, { state: 'uploading', bytesDone: 60 });
    expect(mergeSnapshot([early], [later])).toEqual([later]);
  });
});
