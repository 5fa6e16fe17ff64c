import type { LinkKind, LinkView } from './ipc';

export const HOUR_SECONDS = 3600;
export const DAY_SECONDS = 24 * HOUR_SECONDS;
/** The longest lifetime a share link may be given. */
export const MAX_LIFETIME_SECONDS = 365 * DAY_SECONDS;

export type LifetimeChoice = '1h' | '1d' | '7d' | 'custom';
export type LifetimeUnit = 'hours' | 'days';

export const LIFETIME_PRESETS: readonly { choice: Exclude<LifetimeChoice, 'custom'>; label: string; seconds: number }[] = [
  { choice: '1h', label: '1 hour', seconds: HOUR_SECONDS },
  { choice: '1d', label: '1 day', seconds: DAY_SECONDS },
  { choice: '7d', label: '7 days', seconds: 7 * DAY_SECONDS },
];

const UNIT_SECONDS: Record<LifetimeUnit, number> = { hours: HOUR_SECONDS, days: DAY_SECONDS };

export type Lifetime = { ok: true; seconds: number } | { ok: false; error: string };

/**
 * The `expiresInSeconds` a lifetime choice stands for. A custom lifetime is a
 * number of hours or days (fractions allowed, e.g. 1.5 hours), more than zero
 * and at most 365 days; anything else explains what is wrong instead.
 */
export function resolveLifetime(
  choice: LifetimeChoice,
  customValue: number | null | undefined,
  customUnit: LifetimeUnit,
): Lifetime {
  const preset = LIFETIME_PRESETS.find((p) => p.choice === choice);
  if (preset) return { ok: true, seconds: preset.seconds };

  if (customValue == null || !Number.isFinite(customValue)) {
    return { ok: false, error: 'Enter how long the link should work.' };
  }
  const seconds = Math.round(customValue * (UNIT_SECONDS[customUnit] ?? DAY_SECONDS));
  if (!(customValue > 0) || seconds < 1) {
    return { ok: false, error: 'The lifetime must be more than zero.' };
  }
  if (seconds > MAX_LIFETIME_SECONDS) {
    return { ok: false, error: 'A link can last at most 365 days.' };
  }
  return { ok: true, seconds };
}

export const LINK_KINDS: readonly LinkKind[] = ['stream', 'poster', 'original'];

/** "stream link", "poster link", "original file link" (previews are the player's, never listed). */
export const LINK_NAMES: Record<LinkView['kind'], string> = {
  stream: 'stream link',
  poster: 'poster link',
  original: 'original file link',
  preview: 'preview link',
};

/** Short names for the list of existing links. */
export const LINK_KIND_LABELS: Record<LinkView['kind'], string> = {
  stream: 'Stream',
  poster: 'Poster',
  original: 'Original file',
  preview: 'Preview',
};

/** Puts a just-created link first, replacing an entry with the same id. */
export function prependLink(links: readonly LinkView[], link: LinkView): LinkView[] {
  return [link, ...links.filter((l) => l.id !== link.id)];
}
