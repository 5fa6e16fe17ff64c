// The preferences form: what the fields hold, and the preferences they stand
// for. Rust checks the ranges (set_preferences answers bad-preference, naming
// the field); this only converts units.
import { DAY_SECONDS, HOUR_SECONDS, LIFETIME_PRESETS, type LifetimeChoice, type LifetimeUnit } from './links';
import type { Preferences } from './ipc';

export const DEFAULT_PREFERENCES: Preferences = {
  uploadConcurrency: 2,
  bandwidthLimit: null,
  limitDuring: null,
  linkLifetimeSecs: DAY_SECONDS,
};

/** The fields as typed: a limit in MB/s (megabytes, as the CLI's MB), hours as HH:MM. */
export interface PreferenceFields {
  uploadConcurrency: number;
  limited: boolean;
  limitMegabytes: number;
  workingHoursOnly: boolean;
  start: string;
  end: string;
  linkLifetimeSecs: number;
}

export function fieldsOf(p: Preferences): PreferenceFields {
  return {
    uploadConcurrency: p.uploadConcurrency,
    limited: p.bandwidthLimit !== null,
    limitMegabytes: p.bandwidthLimit !== null ? Math.round(p.bandwidthLimit / 10_000) / 100 : 10,
    workingHoursOnly: p.limitDuring !== null,
    start: p.limitDuring?.start ?? '09:00',
    end: p.limitDuring?.end ?? '18:00',
    linkLifetimeSecs: p.linkLifetimeSecs,
  };
}

export function preferencesOf(f: PreferenceFields): Preferences {
  const limit = f.limited ? Math.round(Number(f.limitMegabytes) * 1_000_000) : null;
  return {
    uploadConcurrency: Math.round(Number(f.uploadConcurrency)),
    bandwidthLimit: limit,
    limitDuring: limit !== null && f.workingHoursOnly ? { start: f.start, end: f.end } : null,
    linkLifetimeSecs: f.linkLifetimeSecs,
  };
}

/** The lifetimes the settings offer for new links. */
export const LINK_LIFETIMES: readonly { seconds: number; label: string }[] = [
  { seconds: HOUR_SECONDS, label: '1 hour' },
  { seconds: 12 * HOUR_SECONDS, label: '12 hours' },
  { seconds: DAY_SECONDS, label: '1 day' },
  { seconds: 7 * DAY_SECONDS, label: '7 days' },
  { seconds: 30 * DAY_SECONDS, label: '30 days' },
];

/** A lifetime in words, for one the list does not offer (set with the CLI). */
export function lifetimeLabel(seconds: number): string {
  const offered = LINK_LIFETIMES.find((l) => l.seconds === seconds);
  if (offered) return offered.label;
  if (seconds % DAY_SECONDS === 0) return `${seconds / DAY_SECONDS} days`;
  if (seconds % HOUR_SECONDS === 0) return `${seconds / HOUR_SECONDS} hours`;
  return `${Math.round(seconds / 60)} minutes`;
}

/** How the share panel's lifetime choice starts for the preferred lifetime. */
export function lifetimeChoiceOf(seconds: number): { choice: LifetimeChoice; customValue: number; customUnit: LifetimeUnit } {
  const preset = LIFETIME_PRESETS.find((p) => p.seconds === seconds);
  if (preset) return { choice: preset.choice, customValue: 2, customUnit: 'days' };
  if (seconds % DAY_SECONDS === 0) return { choice: 'custom', customValue: seconds / DAY_SECONDS, customUnit: 'days' };
  return { choice: 'custom', customValue: Math.round((seconds / HOUR_SECONDS) * 100) / 100, customUnit: 'hours' };
}
