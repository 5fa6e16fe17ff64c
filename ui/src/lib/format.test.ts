import { describe, expect, it } from 'vitest';
import { formatBytes, formatEta, formatExpiry, formatRate, percent, rateAndEta, wholePercent } from './format';

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

describe('wholePercent', () => {
  it('floors and clamps a reported percentage', () => {
    expect(wholePercent(0)).toBe(0);
    expect(wholePercent(42.9)).toBe(42);
    expect(wholePercent(100)).toBe(100);
    expect(wholePercent(104)).toBe(100);
    expect(wholePercent(-3)).toBe(0);
  });

  it('is null when there is nothing to show', () => {
    expect(wholePercent(null)).toBeNull();
    expect(wholePercent(undefined)).toBeNull();
    expect(wholePercent(Number.NaN)).toBeNull();
  });
});

describe('formatRate', () => {
  it.each([
    [0, '0 B/s'],
    [512, '512 B/s'],
    [1536, '1.5 KB/s'],
    [Math.round(12.4 * 1024 ** 2), '12.4 MB/s'],
  ])('%d B/s → %s', (bps, expected) => {
    expect(formatRate(bps)).toBe(expected);
  });

  it('is empty when there is no rate', () => {
    expect(formatRate(null)).toBe('');
    expect(formatRate(undefined)).toBe('');
    expect(formatRate(-1)).toBe('');
    expect(formatRate(Number.NaN)).toBe('');
  });
});

describe('formatEta', () => {
  it.each([
    [0, '0 s'],
    [1, '1 s'],
    [59, '59 s'],
    [59.4, '59 s'],
    [60, '1 min'],
    [61, '1 min 1 s'],
    [80, '1 min 20 s'],
    [3599, '59 min 59 s'],
    [3600, '1 h'],
    [3720, '1 h 2 min'],
    [3725, '1 h 2 min'],
    [26 * 3600 + 5 * 60, '26 h 5 min'],
  ])('%d s → %s', (seconds, expected) => {
    expect(formatEta(seconds)).toBe(expected);
  });

  it('rounds to whole seconds without printing 60 s', () => {
    expect(formatEta(59.6)).toBe('1 min');
  });

  it('is empty when the time left is unknown', () => {
    expect(formatEta(null)).toBe('');
    expect(formatEta(undefined)).toBe('');
    expect(formatEta(-5)).toBe('');
    expect(formatEta(Number.POSITIVE_INFINITY)).toBe('');
  });
});

describe('rateAndEta', () => {
  it('joins rate and time left', () => {
    expect(rateAndEta({ rateBps: Math.round(12.4 * 1024 ** 2), etaSeconds: 80 })).toBe(
      '12.4 MB/s · 1 min 20 s left',
    );
  });

  it('shows whichever half is known', () => {
    expect(rateAndEta({ rateBps: 2048, etaSeconds: null })).toBe('2.0 KB/s');
    expect(rateAndEta({ rateBps: null, etaSeconds: 59 })).toBe('59 s left');
    expect(rateAndEta({ rateBps: null, etaSeconds: null })).toBe('');
  });
});

describe('formatExpiry', () => {
  const NOW = 1_700_000_000_000;
  const SEC = 1000;
  const MIN = 60 * SEC;
  const HOUR = 60 * MIN;
  const DAY = 24 * HOUR;

  it.each([
    [7 * DAY, 'expires in 7 days'],
    // A fresh 7-day link a few seconds later still reads 7 days.
    [7 * DAY - 5 * SEC, 'expires in 7 days'],
    [6 * DAY + 2 * HOUR, 'expires in 6 days'],
    [DAY, 'expires in 1 day'],
    [23 * HOUR + 40 * MIN, 'expires in 1 day'],
    [5 * HOUR, 'expires in 5 hours'],
    [HOUR, 'expires in 1 hour'],
    [59 * MIN + 40 * SEC, 'expires in 1 hour'],
    [30 * MIN, 'expires in 30 minutes'],
    [MIN, 'expires in 1 minute'],
    [20 * SEC, 'expires in less than a minute'],
    [1, 'expires in less than a minute'],
  ])('%d ms left → %s', (left, expected) => {
    expect(formatExpiry(NOW + left, NOW)).toBe(expected);
  });

  it('says expired from the moment of expiry on', () => {
    expect(formatExpiry(NOW, NOW)).toBe('expired');
    expect(formatExpiry(NOW - DAY, NOW)).toBe('expired');
  });

  it('is empty for nonsense input', () => {
    expect(formatExpiry(Number.NaN, NOW)).toBe('');
  });
});
