import { describe, expect, it } from 'vitest';
import { DEFAULT_PREFERENCES, fieldsOf, lifetimeChoiceOf, lifetimeLabel, preferencesOf } from './preferences';

describe('preferences form', () => {
  it('round-trips preferences through the fields, in MB/s and HH:MM', () => {
    const set = {
      uploadConcurrency: 4,
      bandwidthLimit: 2_500_000,
      limitDuring: { start: '09:00', end: '18:30' },
      linkLifetimeSecs: 7 * 86_400,
    };
    const fields = fieldsOf(set);
    expect(fields).toMatchObject({ limited: true, limitMegabytes: 2.5, workingHoursOnly: true, start: '09:00', end: '18:30' });
    expect(preferencesOf(fields)).toEqual(set);
    expect(preferencesOf(fieldsOf(DEFAULT_PREFERENCES))).toEqual(DEFAULT_PREFERENCES);
  });

  it('drops the hours with the limit, and the limit when unticked', () => {
    const fields = fieldsOf({ ...DEFAULT_PREFERENCES, bandwidthLimit: 1_000_000, limitDuring: { start: '08:00', end: '17:00' } });
    expect(preferencesOf({ ...fields, limited: false })).toEqual(DEFAULT_PREFERENCES);
    expect(preferencesOf({ ...fields, workingHoursOnly: false }).limitDuring).toBeNull();
  });

  it('names lifetimes the list lacks and starts the share panel on the preferred one', () => {
    expect(lifetimeLabel(86_400)).toBe('1 day');
    expect(lifetimeLabel(3 * 86_400)).toBe('3 days');
    expect(lifetimeLabel(3 * 3600)).toBe('3 hours');
    expect(lifetimeChoiceOf(7 * 86_400).choice).toBe('7d');
    expect(lifetimeChoiceOf(3 * 86_400)).toEqual({ choice: 'custom', customValue: 3, customUnit: 'days' });
    expect(lifetimeChoiceOf(5400)).toEqual({ choice: 'custom', customValue: 1.5, customUnit: 'hours' });
  });
});
