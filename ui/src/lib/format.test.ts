import { describe, expect, it } from 'vitest';
import { formatBytes, jobPercent, percent } from './format';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1, '1 B'],
    [1023, '1023 B'],
    [1024, '1.0 KB'],
    [1536, '1.5 KB'],
    [12.3 * 1024 ** 2, '12.3 MB'],
    [1.5 * 1024 ** 3, '1.5 GB'],
    [2 * 1024 ** 4, '2.0 TB'],
  ])('%d bytes → %s', (bytes, expected) => {
    expect(formatBytes(bytes)).toBe(expected);
  });

  it('carries into the next unit instead of printing 1024.0', () => {
    expect(formatBytes(1024 * 1024 - 1)).toBe('1.0 MB');
    expect(formatBytes(1024 ** 3 - 1)).toBe('1.0 GB');
  });

  it('does not pretend to know the size of nonsense input', () => {
    expect(formatBytes(-1)).toBe('—');
    expect(formatBytes(Number.NaN)).toBe('—');
  });
});

describe('percent', () => {
  it('is the floored whole percent', () => {
    expect(percent(0, 200)).toBe(0);
    expect(percent(100, 200)).toBe(50);
    expect(percent(199, 200)).toBe(99);
    expect(percent(200, 200)).toBe(100);
  });

  it('is 0 for an empty file rather than dividing by zero', () => {
    expect(percent(0, 0)).toBe(0);
  });

  it('clamps counters that overshoot', () => {
    expect(percent(300, 200)).toBe(100);
    expect(percent(-5, 200)).toBe(0);
  });
});

describe('jobPercent', () => {
  it('reports an uploaded empty file as 100%', () => {
    expect(jobPercent({ state: 'uploaded', bytesDone: 0, size: 0 })).toBe(100);
  });

  it('reports an empty file still in flight as 0%', () => {
    expect(jobPercent({ state: 'uploading', bytesDone: 0, size: 0 })).toBe(0);
  });

  it('follows bytes while uploading', () => {
    expect(jobPercent({ state: 'uploading', bytesDone: 25, size: 100 })).toBe(25);
  });
});
