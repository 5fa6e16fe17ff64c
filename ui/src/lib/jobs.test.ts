import { describe, expect, it } from 'vitest';
import type { JobAction, JobState, JobView, ProblemView, Remedy, Stage } from './ipc';
import {
  actionsFor,
  cancelNeedsConfirm,
  cancelTarget,
  compareNewestFirst,
  failureMessage,
  jobProblemReport,
  mergeSnapshot,
  progressFor,
  resumedNote,
  stateLabel,
  upsertJob,
  upsertJobs,
} from './jobs';

function job(id: string, createdAt: number, extra: Partial<JobView> = {}): JobView {
  return {
    id,
    fileName: `${id}.mp4`,
    relativePath: `${id}.mp4`,
    sourcePath: `/clips/${id}.mp4`,
    size: 100,
    state: 'queued',
    stage: 'upload',
    bytesDone: 0,
    bytesResumed: 0,
    rateBps: null,
    etaSeconds: null,
    transcodePercent: null,
    waiting: false,
    error: null,
    createdAt,
    batchId: `batch-${createdAt}`,
    position: 0,
    location: `s3://bucket/${id}.mp4`,
    uploadKey: `${id}.mp4`,
    sidecars: 0,
    connection: 'Local',
    ...extra,
  };
}

function problem(remedy: Remedy, extra: Partial<ProblemView> = {}): ProblemView {
  const code = ({ retry: 'storage-unreachable', 'add-again': 'file-changed', none: 'not-media' } as const)[remedy];
  return { code, message: `Something went wrong (${remedy}).`, params: {}, remedy, detail: null, ...extra };
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

  it('orders equal keys stably by id', () => {
    const jobs = upsertJobs([], [job('y', 5), job('x', 5), job('z', 5)]);
    expect(ids(jobs)).toEqual(['x', 'y', 'z']);
  });
});

describe('compareNewestFirst', () => {
  // One drop of three files, in the order they were dropped, whose ids
  // (random UUIDs in real life) sort the other way round.
  const drop = (batchId: string, createdAt: number, names: string[]) =>
    names.map((name, position) => job(name, createdAt, { batchId, position }));

  it('keeps one drop in the order its files were given, whatever their ids', () => {
    const batch = drop('b1', 10, ['zeta', 'mu', 'alpha']);
    const shuffled = [batch[2], batch[0], batch[1]];
    expect(ids(upsertJobs([], shuffled))).toEqual(['zeta', 'mu', 'alpha']);
    expect(ids([...shuffled].sort(compareNewestFirst))).toEqual(['zeta', 'mu', 'alpha']);
  });

  it('puts the newest drop first, each drop in its own order', () => {
    const older = drop('b-old', 10, ['o2', 'o1']);
    const newer = drop('b-new', 20, ['n9', 'n3', 'n5']);
    const sorted = [...older, ...newer].reverse().sort(compareNewestFirst);
    expect(ids(sorted)).toEqual(['n9', 'n3', 'n5', 'o2', 'o1']);
  });

  it('does not interleave two drops made in the same millisecond', () => {
    const a = drop('batch-a', 10, ['a-second', 'a-first']);
    const b = drop('batch-b', 10, ['b-z', 'b-y']);
    const sorted = [b[1], a[1], b[0], a[0]].sort(compareNewestFirst);
    expect(ids(sorted)).toEqual(['a-second', 'a-first', 'b-z', 'b-y']);
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
    ['cancelled', null, ['retry']],
  ])('%s at stage %s → %j', (state, stage, expected) => {
    expect(actionsFor({ state, stage, error: null })).toEqual(expected);
  });

  it.each<[Remedy, JobAction[]]>([
    ['retry', ['retry', 'cancel']],
    ['add-again', ['add-again', 'cancel']],
    ['none', ['cancel']],
  ])("offers a failed job what its problem's remedy %s allows: %j", (remedy, expected) => {
    expect(actionsFor({ state: 'failed', stage: 'upload', error: problem(remedy) })).toEqual(expected);
    expect(actionsFor({ state: 'failed', stage: 'transcode', error: problem(remedy) })).toEqual(expected);
  });

  it('still offers retry for a failure that carries no problem', () => {
    expect(actionsFor({ state: 'failed', stage: 'copy', error: null })).toEqual(['retry', 'cancel']);
  });

  it('keeps retry for cancelled jobs, whatever their last problem was', () => {
    expect(actionsFor({ state: 'cancelled', stage: null, error: problem('none') })).toEqual(['retry']);
  });

  it('does not offer pause for a queued job whose stage is unknown', () => {
    expect(actionsFor({ state: 'queued', stage: null, error: null })).toEqual(['cancel']);
  });

  it('offers nothing for a state it does not know', () => {
    expect(actionsFor({ state: 'archived' as JobState, stage: null, error: null })).toEqual([]);
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
    expect(stateLabel({ state, stage, waiting: false })).toBe(expected);
  });

  it('says Waiting for a transcode still in the transcoder queue', () => {
    expect(stateLabel({ state: 'transcoding', stage: 'transcode', waiting: true })).toBe('Waiting');
    // Only transcoding jobs wait in a queue of their own.
    expect(stateLabel({ state: 'queued', stage: 'transcode', waiting: true })).toBe('Queued · transcode');
  });
});

describe('failureMessage', () => {
  it("is the problem's own sentence", () => {
    const error = problem('retry', { message: 'Streamdrop could not reach the storage. Check the network connection, then retry.' });
    expect(failureMessage({ stage: 'upload', error })).toBe(
      'Streamdrop could not reach the storage. Check the network connection, then retry.',
    );
  });

  it('still says what stopped, and what to do, without a problem', () => {
    expect(failureMessage({ stage: 'transcode', error: null })).toBe(
      'The transcode stopped without saying why. Retry it; if it fails again, copy the details into a bug report.',
    );
    expect(failureMessage({ stage: null, error: problem('retry', { message: '  ' }) })).toMatch(/^The upload stopped/);
  });
});

describe('jobProblemReport', () => {
  it('has the file, stage, message, code and detail, one a line', () => {
    const error = problem('retry', { code: 'transcode-failed', message: 'ffmpeg could not convert B.mov.', detail: 'exit status 1\nmoov atom not found' });
    expect(jobProblemReport({ fileName: 'B.mov', stage: 'transcode', error })).toBe(
      [
        'File: B.mov',
        'Stage: transcode',
        'Problem: ffmpeg could not convert B.mov.',
        'Code: transcode-failed',
        'Details: exit status 1\nmoov atom not found',
      ].join('\n'),
    );
  });

  it('says when there is no detail', () => {
    expect(jobProblemReport({ fileName: 'C.mov', stage: 'upload', error: problem('none') })).toContain('Details: none recorded');
  });
});

describe('resumedNote', () => {
  const base = { size: 1000, bytesResumed: 610 };

  it('tells how much an earlier run had already sent', () => {
    expect(resumedNote({ ...base, state: 'uploading' })).toBe('Resumed — 61% was already sent');
    expect(resumedNote({ ...base, state: 'paused' })).toBe('Resumed — 61% was already sent');
    expect(resumedNote({ size: 1000, bytesResumed: 3, state: 'uploading' })).toBe('Resumed — less than 1% was already sent');
  });

  it('says nothing for a fresh upload or past the upload stage', () => {
    expect(resumedNote({ ...base, bytesResumed: 0, state: 'uploading' })).toBeNull();
    expect(resumedNote({ ...base, state: 'copying' })).toBeNull();
    expect(resumedNote({ ...base, state: 'queued' })).toBeNull();
    expect(resumedNote({ size: 0, bytesResumed: 5, state: 'uploading' })).toBeNull();
  });
});

describe('progressFor', () => {
  const base = { bytesDone: 0, size: 100, transcodePercent: null, waiting: false };

  it('follows bytes while uploading, an empty file reading 0%', () => {
    expect(progressFor({ ...base, state: 'uploading', bytesDone: 25 })).toEqual({
      stage: 'upload',
      percent: 25,
      frozen: false,
      finishing: false,
    });
    expect(progressFor({ ...base, state: 'uploading', size: 0 })).toEqual({
      stage: 'upload',
      percent: 0,
      frozen: false,
      finishing: false,
    });
  });

  it('is finishing once every byte is sent but the upload has not moved on', () => {
    expect(progressFor({ ...base, state: 'uploading', bytesDone: 100 })).toEqual({
      stage: 'upload',
      percent: 100,
      frozen: false,
      finishing: true,
    });
    expect(progressFor({ ...base, state: 'uploading', bytesDone: 99 })).toMatchObject({ finishing: false });
  });

  it('freezes a paused upload, and draws nothing when the pause dropped its progress', () => {
    expect(progressFor({ ...base, state: 'paused', bytesDone: 40 })).toEqual({
      stage: 'upload',
      percent: 40,
      frozen: true,
      finishing: false,
    });
    expect(progressFor({ ...base, state: 'paused' })).toBeNull();
  });

  it('is indeterminate while copying', () => {
    expect(progressFor({ ...base, state: 'copying', bytesDone: 100 })).toEqual({ stage: 'copy', percent: null });
  });

  it('shows the transcoder percentage, indeterminate until it reports one', () => {
    expect(progressFor({ ...base, state: 'transcoding', transcodePercent: 42.7 })).toEqual({
      stage: 'transcode',
      percent: 42,
      waiting: false,
    });
    expect(progressFor({ ...base, state: 'transcoding', transcodePercent: 0 })).toEqual({
      stage: 'transcode',
      percent: 0,
      waiting: false,
    });
    expect(progressFor({ ...base, state: 'transcoding' })).toEqual({ stage: 'transcode', percent: null, waiting: false });
  });

  it('is indeterminate while waiting in the transcoder queue, whatever percent is reported', () => {
    expect(progressFor({ ...base, state: 'transcoding', waiting: true, transcodePercent: 0 })).toEqual({
      stage: 'transcode',
      percent: null,
      waiting: true,
    });
  });

  it.each<JobState>(['queued', 'ready', 'failed', 'cancelled'])('draws no bar when %s', (state) => {
    expect(progressFor({ ...base, state, bytesDone: 100 })).toBeNull();
  });
});
