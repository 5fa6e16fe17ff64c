import { afterEach, describe, expect, it, vi } from 'vitest';
import { makeJob } from '../test/fake-backend';
import { createCoalescer, drawnRange, filterJobs, groupBatches, listItems, summarize, windowTitle } from './queue';

afterEach(() => {
  vi.useRealTimers();
});

describe('the queue as a whole', () => {
  it('counts states and weighs progress by size over the jobs under way', () => {
    const jobs = [
      makeJob({ state: 'uploading', size: 1000, bytesDone: 500, rateBps: 100 }),
      makeJob({ state: 'uploading', size: 3000, bytesDone: 0, rateBps: 50 }),
      makeJob({ state: 'transcoding', size: 1000, bytesDone: 1000 }),
      makeJob({ state: 'ready', size: 9_999_999 }),
      makeJob({ state: 'failed', size: 9_999_999 }),
    ];
    const s = summarize(jobs);
    expect(s.counts.uploading).toBe(2);
    expect(s.counts.ready).toBe(1);
    expect(s.counts.paused).toBe(0);
    expect(s.total).toBe(5);
    expect(s.active).toBe(3);
    // 500 + 0 + 1000 of 5000 bytes; finished and failed jobs weigh nothing.
    expect(s.percent).toBe(30);
    expect(s.rateBps).toBe(150);
    expect(s.etaSeconds).toBe(Math.ceil(3500 / 150));
    expect(windowTitle(s)).toBe('Streamdrop — 30% · 2 uploading');
  });

  it('says nothing of progress when nothing is under way', () => {
    const s = summarize([makeJob({ state: 'ready' }), makeJob({ state: 'cancelled' })]);
    expect(s.percent).toBeNull();
    expect(s.etaSeconds).toBeNull();
    expect(windowTitle(s)).toBe('Streamdrop');
    expect(windowTitle(summarize([]))).toBe('Streamdrop');
  });

  it('names the busiest stage in the title and gives no ETA while nothing moves', () => {
    const s = summarize([makeJob({ state: 'transcoding' }), makeJob({ state: 'paused', bytesDone: 10 })]);
    expect(windowTitle(s)).toMatch(/^Streamdrop — \d+% · 1 transcoding$/);
    expect(s.etaSeconds).toBeNull();
  });
});

describe('filter and search', () => {
  const jobs = [
    makeJob({ fileName: 'C0001.MP4', relativePath: 'A001/PRIVATE/M4ROOT/CLIP/C0001.MP4', state: 'ready' }),
    makeJob({ fileName: 'Clíp #2.mov', relativePath: 'Clíp #2.mov', state: 'uploading' }),
    makeJob({ fileName: 'B003.mov', relativePath: 'B003.mov', state: 'failed' }),
  ];

  it('keeps one state, or everything under way', () => {
    expect(filterJobs(jobs, 'ready', '').map((j) => j.fileName)).toEqual(['C0001.MP4']);
    expect(filterJobs(jobs, 'active', '').map((j) => j.fileName)).toEqual(['Clíp #2.mov']);
    expect(filterJobs(jobs, 'all', '')).toHaveLength(3);
  });

  it('finds names and card paths regardless of case and accents, every word', () => {
    expect(filterJobs(jobs, 'all', 'clip').map((j) => j.fileName)).toEqual(['C0001.MP4', 'Clíp #2.mov']);
    expect(filterJobs(jobs, 'all', 'a001 c0001').map((j) => j.fileName)).toEqual(['C0001.MP4']);
    expect(filterJobs(jobs, 'all', '#2')).toHaveLength(1);
    expect(filterJobs(jobs, 'failed', 'clip')).toHaveLength(0);
  });
});

describe('batches', () => {
  it('groups a drop under its card with its size and progress', () => {
    const card = [
      makeJob({ batchId: 'b1', relativePath: 'A001/CLIP/C1.MP4', size: 100, state: 'uploading', bytesDone: 50 }),
      makeJob({ batchId: 'b1', relativePath: 'A001/CLIP/C2.MP4', size: 100 }),
    ];
    const loose = [
      makeJob({ batchId: 'b2', relativePath: 'x.mov' }),
      makeJob({ batchId: 'b2', relativePath: 'y.mov' }),
    ];
    const batches = groupBatches([...card, ...loose]);
    expect(batches.map((b) => [b.title, b.jobs.length, b.size])).toEqual([
      ['A001', 2, 200],
      ['2 files', 2, loose[0].size + loose[1].size],
    ]);
    expect(batches[0].summary.percent).toBe(25);
  });
});

describe('coalescing', () => {
  it('applies many updates as one, at most once per interval, newest copy of each job', () => {
    vi.useFakeTimers();
    const applied: string[][] = [];
    const coalescer = createCoalescer((jobs) => applied.push(jobs.map((j) => `${j.fileName}:${j.bytesDone}`)), 100);
    const a = makeJob({ fileName: 'a' });
    for (let i = 1; i <= 500; i++) coalescer.push({ ...a, bytesDone: i });
    coalescer.push(makeJob({ fileName: 'b' }));
    expect(applied).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(applied).toEqual([['a:500', 'b:0']]);
    coalescer.push({ ...a, bytesDone: 501 });
    coalescer.flush();
    expect(applied).toHaveLength(2);
    coalescer.push({ ...a, bytesDone: 502 });
    coalescer.dispose();
    vi.advanceTimersByTime(1000);
    expect(applied).toHaveLength(2);
  });
});

describe('drawing a long list', () => {
  it('lists a header per drop of several files, and the rows of unfolded drops', () => {
    const jobs = ['a', 'b'].flatMap((batchId) => [0, 1].map((position) => makeJob({ batchId, position })));
    const single = makeJob({ batchId: 'c', position: 0 });
    const items = listItems(groupBatches([...jobs, single]), new Set(['a']));
    expect(items.map((i) => (i.kind === 'header' ? `header ${i.batch.id}` : `row ${i.job.batchId}`))).toEqual(
      expect.arrayContaining(['header a', 'header b', 'row b', 'row b', 'row c']),
    );
    expect(items.filter((i) => i.kind === 'row' && i.job.batchId === 'a')).toHaveLength(0);
    expect(items.some((i) => i.kind === 'header' && i.batch.id === 'c')).toBe(false);
    expect(new Set(items.map((i) => i.key)).size).toBe(items.length);
  });

  it('draws only the lines that meet the band, standing for the others by their height', () => {
    const heights = Array.from({ length: 10_000 }, (_, i) => (i % 100 === 0 ? 30 : 70));
    const total = heights.reduce((a, b) => a + b, 0);
    const first = drawnRange(heights, 0, 1000);
    expect(first.start).toBe(0);
    expect(first.before).toBe(0);
    expect(first.end).toBeLessThan(20);
    const drawnHeight = heights.slice(first.start, first.end).reduce((a, b) => a + b, 0);
    expect(first.before + drawnHeight + first.after).toBe(total);
    expect(drawnHeight).toBeGreaterThanOrEqual(1000);

    const last = drawnRange(heights, total - 500, total + 1000);
    expect(last.end).toBe(10_000);
    expect(last.after).toBe(0);
    expect(last.end - last.start).toBeLessThan(12);
    expect(last.before + heights.slice(last.start).reduce((a, b) => a + b, 0)).toBe(total);

    const middle = drawnRange(heights, 350_000, 351_000);
    expect(middle.before).toBeLessThanOrEqual(350_000);
    expect(middle.before + heights[middle.start]).toBeGreaterThan(350_000);
    expect(drawnRange([], 0, 1000)).toEqual({ start: 0, end: 0, before: 0, after: 0 });
  });
});
