import { describe, expect, it } from 'vitest';
import type { LinkView } from './ipc';
import { MAX_LIFETIME_SECONDS, prependLink, resolveLifetime } from './links';

describe('resolveLifetime', () => {
  it.each([
    ['1h', 3600],
    ['1d', 86_400],
    ['7d', 604_800],
  ] as const)('preset %s → %d s', (choice, seconds) => {
    // The custom fields are ignored, even when they hold nonsense.
    expect(resolveLifetime(choice, -4, 'hours')).toEqual({ ok: true, seconds });
  });

  it('turns a custom amount of hours or days into seconds', () => {
    expect(resolveLifetime('custom', 12, 'hours')).toEqual({ ok: true, seconds: 43_200 });
    expect(resolveLifetime('custom', 1.5, 'hours')).toEqual({ ok: true, seconds: 5400 });
    expect(resolveLifetime('custom', 30, 'days')).toEqual({ ok: true, seconds: 2_592_000 });
  });

  it('accepts exactly 365 days and nothing longer', () => {
    expect(resolveLifetime('custom', 365, 'days')).toEqual({ ok: true, seconds: MAX_LIFETIME_SECONDS });
    expect(resolveLifetime('custom', 365 * 24, 'hours')).toEqual({ ok: true, seconds: MAX_LIFETIME_SECONDS });
    expect(resolveLifetime('custom', 366, 'days')).toEqual({ ok: false, error: 'A link can last at most 365 days.' });
    expect(resolveLifetime('custom', 365 * 24 + 1, 'hours').ok).toBe(false);
  });

  it('rejects zero, negative, empty and not-a-number amounts', () => {
    expect(resolveLifetime('custom', 0, 'days')).toEqual({ ok: false, error: 'The lifetime must be more than zero.' });
    expect(resolveLifetime('custom', -1, 'hours').ok).toBe(false);
    // Less than half a second rounds to no lifetime at all.
    expect(resolveLifetime('custom', 0.0001, 'hours').ok).toBe(false);
    expect(resolveLifetime('custom', null, 'days')).toEqual({ ok: false, error: 'Enter how long the link should work.' });
    expect(resolveLifetime('custom', Number.NaN, 'days').ok).toBe(false);
    expect(resolveLifetime('custom', Number.POSITIVE_INFINITY, 'days').ok).toBe(false);
  });
});

describe('prependLink', () => {
  const link = (id: string): LinkView => ({
    id,
    jobId: 'j',
    kind: 'stream',
    url: `https://x/${id}`,
    expiresAt: 2,
    createdAt: 1,
    revokedAt: null,
    deploying: false,
  });

  it('puts the new link first without duplicating it', () => {
    expect(prependLink([link('a'), link('b')], link('c')).map((l) => l.id)).toEqual(['c', 'a', 'b']);
    expect(prependLink([link('a'), link('b')], link('b')).map((l) => l.id)).toEqual(['b', 'a']);
  });
});
