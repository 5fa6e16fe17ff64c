import { describe, expect, it } from 'vitest';
import type { JobAction, JobState, JobView, Stage } from './ipc';
import {
  actionsFor,
  cancelNeedsConfirm,
  cancelTarget,
  failureText,
  mergeSnapshot,
  progressFor,
  stateLabel,
  upsertJob,
  upsertJobs,
} from './jobs';

function job(id: string, createdAt: number, extra: Partial<JobView> = {}): JobView {
  return {
    id,
    fileName: `${id}.mp4`,
    sourcePath: `/clips/${id}.mp4`,
    size: 100,
    state: 'queued',
    stage: 'upload',
    bytesDone: 0,
    rateBps: null,
    etaSeconds: null,
    transcodePercent: null,
    error: null,
    createdAt,
    destination: `s3://bucket/${id}.mp4`,
    connection: 'Local',
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
    const fromEvent = job('a', 1, { state: 'ready', stage: null, bytesDone: 100 });
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
  it.each<[JobState, Stage | null, JobAction[]]>([
    ['queued', 'upload', ['pause', 'cancel']],
    ['queued', 'copy', ['cancel']],
    ['queued', 'transcode', ['cancel']],
    ['uploading', 'upload', ['pause', 'cancel']],
    ['paused', 'upload', ['resume', 'cancel']],
    ['copying', 'copy', ['cancel']],
    ['transcoding', 'transcode', ['cancel']],
    ['ready', null, []],
    ['failed', 'upload', ['retry', 'cancel']],
    ['failed', 'transcode', ['retry', 'cancel']],
    ['cancelled', null, ['retry']],
  ])('%s at stage %s → %j', (state, stage, expected) => {
    expect(actionsFor({ state, stage })).toEqual(expected);
  });

  it('does not offer pause for a queued job whose stage is unknown', () => {
    expect(actionsFor({ state: 'queued', stage: null })).toEqual(['cancel']);
  });

  it('offers nothing for a state it does not know', () => {
    expect(actionsFor({ state: 'archived' as JobState, stage: null })).toEqual([]);
  });
});

describe('cancelNeedsConfirm', () => {
  it('asks only when work in progress would be thrown away', () => {
    const states: JobState[] = ['queued', 'uploading', 'paused', 'copying', 'transcoding', 'ready', 'failed', 'cancelled'];
    expect(states.filter(cancelNeedsConfirm)).toEqual(['uploading', 'paused', 'copying', 'transcoding']);
  });
});

describe('cancelTarget', () => {
  it('names the stage a cancel would stop', () => {
    expect(cancelTarget({ state: 'uploading', stage: 'upload' })).toBe('upload');
    expect(cancelTarget({ state: 'paused', stage: 'upload' })).toBe('upload');
    expect(cancelTarget({ state: 'copying', stage: 'copy' })).toBe('copy');
    expect(cancelTarget({ state: 'transcoding', stage: 'transcode' })).toBe('transcode');
    // The state wins over a stage that has not caught up.
    expect(cancelTarget({ state: 'transcoding', stage: null })).toBe('transcode');
  });
});

describe('stateLabel', () => {
  it.each<[JobState, Stage | null, string]>([
    ['queued', 'upload', 'Queued'],
    ['queued', null, 'Queued'],
    ['queued', 'copy', 'Queued · copy'],
    ['queued', 'transcode', 'Queued · transcode'],
    ['uploading', 'upload', 'Uploading'],
    ['paused', 'upload', 'Paused'],
    ['copying', 'copy', 'Copying'],
    ['transcoding', 'transcode', 'Transcoding'],
    ['ready', null, 'Ready'],
    ['failed', 'transcode', 'Failed'],
    ['cancelled', null, 'Cancelled'],
  ])('%s at stage %s → %s', (state, stage, expected) => {
    expect(stateLabel({ state, stage })).toBe(expected);
  });
});

describe('failureText', () => {
  it('names the stage that failed', () => {
    expect(failureText({ stage: 'upload', error: 'connection reset' })).toBe('Upload failed: connection reset');
    expect(failureText({ stage: 'copy', error: 'AccessDenied' })).toBe('Copy failed: AccessDenied');
    expect(failureText({ stage: 'transcode', error: 'no video stream' })).toBe('Transcode failed: no video stream');
  });

  it('still says what failed without an error message', () => {
    expect(failureText({ stage: 'transcode', error: null })).toBe('Transcode failed');
    expect(failureText({ stage: 'copy', error: '  ' })).toBe('Copy failed');
    expect(failureText({ stage: null, error: 'boom' })).toBe('Upload failed: boom');
  });
});

describe('progressFor', () => {
  const base = { bytesDone: 0, size: 100, transcodePercent: null };

  it('follows bytes while uploading, an empty file reading 0%', () => {
    expect(progressFor({ ...base, state: 'uploading', bytesDone: 25 })).toEqual({ stage: 'upload', percent: 25, frozen: false });
    expect(progressFor({ ...base, state: 'uploading', size: 0 })).toEqual({ stage: 'upload', percent: 0, frozen: false });
  });

  it('freezes a paused upload, and draws nothing when the pause dropped its progress', () => {
    expect(progressFor({ ...base, state: 'paused', bytesDone: 40 })).toEqual({ stage: 'upload', percent: 40, frozen: true });
    expect(progressFor({ ...base, state: 'paused' })).toBeNull();
  });

  it('is indeterminate while copying', () => {
    expect(progressFor({ ...base, state: 'copying', bytesDone: 100 })).toEqual({ stage: 'copy', percent: null });
  });

  it('shows the transcoder percentage, indeterminate until it reports one', () => {
    expect(progressFor({ ...base, state: 'transcoding', transcodePercent: 42.7 })).toEqual({ stage: 'transcode', percent: 42 });
    expect(progressFor({ ...base, state: 'transcoding', transcodePercent: 0 })).toEqual({ stage: 'transcode', percent: 0 });
    expect(progressFor({ ...base, state: 'transcoding' })).toEqual({ stage: 'transcode', percent: null });
  });

  it.each<JobState>(['queued', 'ready', 'failed', 'cancelled'])('draws no bar when %s', (state) => {
    expect(progressFor({ ...base, state, bytesDone: 100 })).toBeNull();
  });
});
