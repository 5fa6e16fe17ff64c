// The share panel of ready jobs: lifetime, create_link per kind, clipboard
// through Rust's copy_text (and the fallback when it is refused), the job's
// existing links, and what local links can and cannot do.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import App from './App.svelte';
import type { LinkKind, LinkView } from './lib/ipc';
import { LOCAL_STATUS, fakeBackend, makeJob, makeLink, resetBackend, settle } from './test/fake-backend';

const DAY = 86_400_000;
/** Stands for Rust's copy_text: what the backend was asked to put on the clipboard. */
let writeText: ReturnType<typeof vi.fn<(text: string) => Promise<void>>>;
/** The webview's own clipboard API, which WebKitGTK refuses after an await: must stay unused. */
let webClipboard: ReturnType<typeof vi.fn<(text: string) => Promise<void>>>;

beforeEach(() => {
  writeText = vi.fn<(text: string) => Promise<void>>(() => Promise.resolve());
  webClipboard = vi.fn<(text: string) => Promise<void>>(() => Promise.resolve());
  Object.defineProperty(navigator, 'clipboard', { value: { writeText: webClipboard }, configurable: true });
});

afterEach(async () => {
  await resetBackend(cleanup);
  Reflect.deleteProperty(navigator, 'clipboard');
});

async function click(el: HTMLElement): Promise<void> {
  await fireEvent.click(el);
  await settle();
}

/** A ready job with its share panel open; create_link answers with a fresh link. */
async function openShare(existing: LinkView[] = [], overrides: Record<string, (args: unknown) => unknown> = {}) {
  const job = makeJob({ fileName: 'D001.mov', state: 'ready' });
  let made = 0;
  const backend = fakeBackend({
    list_jobs: () => [job],
    list_links: () => existing,
    copy_text: (args) => writeText((args as { text: string }).text),
    create_link: (args) => {
      const { jobId, kind, expiresInSeconds } = args as { jobId: string; kind: LinkKind; expiresInSeconds: number };
      made += 1;
      return makeLink({
        id: `new-${made}`,
        jobId,
        kind,
        url: `https://d111111abcdef8.cloudfront.net/${kind}/${made}?Signature=S`,
        createdAt: Date.now(),
        expiresAt: Date.now() + expiresInSeconds * 1000,
      });
    },
    ...overrides,
  });
  render(App);
  await settle();
  await click(screen.getByRole('button', { name: 'Share D001.mov' }));
  return { job, backend, panel: screen.getByTestId('share-panel') };
}

const createCalls = (backend: ReturnType<typeof fakeBackend>) =>
  backend.calls.filter((c) => c.cmd === 'create_link').map((c) => c.args);

const makeButtons = () => ['stream', 'poster', 'original'].map((k) => screen.getByTestId(`share-copy-${k}`) as HTMLButtonElement);

async function setCustom(value: string, unit?: 'hours' | 'days') {
  await click(screen.getByRole('radio', { name: 'Custom' }));
  await fireEvent.input(screen.getByRole('spinbutton', { name: 'Custom lifetime' }), { target: { value } });
  if (unit) await fireEvent.change(screen.getByRole('combobox', { name: 'Custom lifetime unit' }), { target: { value: unit } });
  await settle();
}

describe('share panel', () => {
  it('opens from Share… on a ready row and loads its links', async () => {
    const { job, backend, panel } = await openShare();
    expect(panel.closest('[data-testid="job-row"]')?.getAttribute('data-job-id')).toBe(job.id);
    expect(backend.calls.filter((c) => c.cmd === 'list_links').map((c) => c.args)).toEqual([{ jobId: job.id }]);
    expect(within(panel).getByRole('button', { name: 'Copy stream link' })).toBeTruthy();
    expect(within(panel).getByRole('button', { name: 'Copy poster link' })).toBeTruthy();
    expect(within(panel).getByRole('button', { name: 'Copy original file link' })).toBeTruthy();
    expect(within(panel).getByTestId('share-links-empty').textContent).toBe('None yet.');
    // 1 day unless chosen otherwise.
    expect((screen.getByRole('radio', { name: '1 day' }) as HTMLInputElement).checked).toBe(true);
  });

  it('starts on the preferred lifetime, unless one was chosen here first', async () => {
    const { job, backend } = await openShare([], {
      get_preferences: () => ({ uploadConcurrency: 2, bandwidthLimit: null, limitDuring: null, linkLifetimeSecs: 3 * 86_400 }),
    });
    const custom = screen.getByRole('spinbutton', { name: 'Custom lifetime' }) as HTMLInputElement;
    expect((screen.getByRole('radio', { name: 'Custom' }) as HTMLInputElement).checked).toBe(true);
    expect(custom.value).toBe('3');
    await click(screen.getByTestId('share-copy-stream'));
    expect(createCalls(backend)).toEqual([{ jobId: job.id, kind: 'stream', expiresInSeconds: 3 * 86_400 }]);
  });

  it('says when a link will start to work while CloudFront still deploys the connection', async () => {
    let deploying = true;
    await openShare([], {
      create_link: (args) => {
        const { jobId, kind } = args as { jobId: string; kind: LinkKind };
        return makeLink({ jobId, kind, deploying });
      },
    });
    expect(screen.queryByTestId('share-deploying')).toBeNull();
    await click(screen.getByTestId('share-copy-stream'));
    expect(screen.getByTestId('share-deploying').textContent?.replace(/\s+/g, ' ').trim()).toBe(
      'CloudFront is still deploying this connection, so the link starts to work once it has, usually within 15 minutes. You can send it now.',
    );
    deploying = false;
    await click(screen.getByTestId('share-copy-poster'));
    expect(screen.queryByTestId('share-deploying')).toBeNull();
  });

  it('creates each kind of link and copies its URL', async () => {
    const { job, backend } = await openShare();

    for (const [i, kind] of (['stream', 'poster', 'original'] as const).entries()) {
      await click(screen.getByTestId(`share-copy-${kind}`));
      expect(createCalls(backend)[i]).toEqual({ jobId: job.id, kind, expiresInSeconds: 86_400 });
      expect(writeText).toHaveBeenLastCalledWith(`https://d111111abcdef8.cloudfront.net/${kind}/${i + 1}?Signature=S`);
    }
    expect(writeText).toHaveBeenCalledTimes(3);
    expect(backend.calls.filter((c) => c.cmd === 'copy_text')).toHaveLength(3);
    expect(webClipboard).not.toHaveBeenCalled();
    expect(screen.getByTestId('share-copied').textContent).toBe('Copied original file link');
    expect(screen.queryByTestId('share-fallback')).toBeNull();

    // Newest first, each with its expiry.
    const listed = screen.getAllByTestId('share-link');
    expect(listed.map((l) => l.dataset.kind)).toEqual(['original', 'poster', 'stream']);
    expect(within(listed[0]).getByTestId('share-link-expiry').textContent).toBe('expires in 1 day');
  });

  it.each([
    ['1 hour', 3600],
    ['1 day', 86_400],
    ['7 days', 604_800],
  ])('maps %s to expiresInSeconds %d', async (label, seconds) => {
    const { backend } = await openShare();
    await click(screen.getByRole('radio', { name: label }));
    await click(screen.getByTestId('share-copy-stream'));
    expect(createCalls(backend)).toEqual([expect.objectContaining({ kind: 'stream', expiresInSeconds: seconds })]);
  });

  it('maps a custom lifetime in hours or days', async () => {
    const { backend } = await openShare();

    await setCustom('12', 'hours');
    await click(screen.getByTestId('share-copy-poster'));
    await setCustom('30', 'days');
    await click(screen.getByTestId('share-copy-original'));

    expect(createCalls(backend)).toEqual([
      expect.objectContaining({ kind: 'poster', expiresInSeconds: 43_200 }),
      expect.objectContaining({ kind: 'original', expiresInSeconds: 2_592_000 }),
    ]);
  });

  it('disables the buttons while the custom lifetime is invalid', async () => {
    const { backend } = await openShare();

    await setCustom('0', 'days');
    expect(makeButtons().every((b) => b.disabled)).toBe(true);
    expect(screen.getByTestId('share-lifetime-error').textContent).toBe('The lifetime must be more than zero.');
    expect(screen.getByRole('spinbutton', { name: 'Custom lifetime' }).getAttribute('aria-invalid')).toBe('true');

    await setCustom('366');
    expect(makeButtons().every((b) => b.disabled)).toBe(true);
    expect(screen.getByTestId('share-lifetime-error').textContent).toBe('A link can last at most 365 days.');

    await setCustom('');
    expect(makeButtons().every((b) => b.disabled)).toBe(true);

    await setCustom('-2', 'hours');
    expect(makeButtons().every((b) => b.disabled)).toBe(true);

    await click(screen.getByTestId('share-copy-stream'));
    expect(createCalls(backend)).toEqual([]);

    await setCustom('365', 'days');
    expect(makeButtons().some((b) => b.disabled)).toBe(false);
    expect(screen.queryByTestId('share-lifetime-error')).toBeNull();

    // Back to a preset: the custom amount no longer matters.
    await setCustom('0');
    await click(screen.getByRole('radio', { name: '7 days' }));
    expect(makeButtons().some((b) => b.disabled)).toBe(false);
  });

  it('shows the URL in a selected read-only field when copy_text fails', async () => {
    writeText.mockRejectedValue('the clipboard is not available (no display)');
    await openShare();

    await click(screen.getByTestId('share-copy-stream'));

    expect(writeText).toHaveBeenCalledWith('https://d111111abcdef8.cloudfront.net/stream/1?Signature=S');
    const field = screen.getByTestId('share-fallback-url') as HTMLInputElement;
    expect(field.value).toBe('https://d111111abcdef8.cloudfront.net/stream/1?Signature=S');
    expect(field.readOnly).toBe(true);
    expect(document.activeElement).toBe(field);
    expect([field.selectionStart, field.selectionEnd]).toEqual([0, field.value.length]);
    expect(screen.getByTestId('share-fallback').textContent).toContain(
      'Streamdrop could not put the link on the clipboard. It is selected above: press Ctrl+C to copy it.',
    );
    expect(screen.queryByTestId('share-copied')).toBeNull();
    // The raw reason is of no use to the person here.
    expect(screen.getByTestId('share-panel').textContent).not.toContain('no display');
  });

  it('clears the fallback once a later copy works', async () => {
    writeText.mockRejectedValueOnce('refused');
    await openShare();
    await click(screen.getByTestId('share-copy-poster'));
    expect((screen.getByTestId('share-fallback-url') as HTMLInputElement).value).toBe(
      'https://d111111abcdef8.cloudfront.net/poster/1?Signature=S',
    );

    await click(screen.getByTestId('share-copy-stream'));
    expect(screen.queryByTestId('share-fallback')).toBeNull();
    expect(screen.getByTestId('share-copied').textContent).toBe('Copied stream link');
  });

  it('says in local mode that links only play on this computer while Streamdrop is open', async () => {
    await openShare();
    expect(screen.getByTestId('share-local-note').textContent).toBe(
      'Links made here play only on this computer, and only while Streamdrop is open. ' +
        'To send a link to someone else, add an AWS connection.',
    );
  });

  it('has no such note on an AWS connection', async () => {
    await openShare([], {
      app_status: () => ({ ...LOCAL_STATUS, mode: 'aws', connection: 'Production', s3Endpoint: '' }),
    });
    expect(screen.getByTestId('share-panel')).toBeTruthy();
    expect(screen.queryByTestId('share-local-note')).toBeNull();
  });

  it('lists existing links with their expiry, and copies one again', async () => {
    const now = Date.now();
    const existing = [
      makeLink({ jobId: 'x', kind: 'stream', expiresAt: now + 6 * DAY + 3_600_000, url: 'https://cdn.example/s?Sig=1' }),
      makeLink({ jobId: 'x', kind: 'original', expiresAt: now + 5 * 3_600_000, url: 'https://cdn.example/o?Sig=2' }),
      makeLink({ jobId: 'x', kind: 'poster', expiresAt: now - 60_000, url: 'https://cdn.example/p?Sig=3' }),
    ];
    await openShare(existing);

    const listed = screen.getAllByTestId('share-link');
    expect(listed.map((l) => [l.dataset.kind, within(l).getByTestId('share-link-expiry').textContent])).toEqual([
      ['stream', 'expires in 6 days'],
      ['original', 'expires in 5 hours'],
      ['poster', 'expired'],
    ]);
    expect(listed[0].textContent).toContain('Stream');
    expect(listed[1].textContent).toContain('Original file');
    expect((within(listed[2]).getByTestId('share-link-copy') as HTMLButtonElement).disabled).toBe(true);

    await click(within(listed[1]).getByTestId('share-link-copy'));
    expect(writeText).toHaveBeenCalledWith('https://cdn.example/o?Sig=2');
    expect(screen.getByTestId('share-copied').textContent).toBe('Copied original file link');
  });

  it('revokes a link after asking, and shows it revoked with nothing to copy', async () => {
    const now = Date.now();
    const sent = makeLink({ jobId: 'x', kind: 'stream', expiresAt: now + DAY, url: 'https://cdn.example/s?Sig=1' });
    const other = makeLink({ jobId: 'x', kind: 'poster', expiresAt: now + DAY, url: 'https://cdn.example/p?Sig=2' });
    const expired = makeLink({ jobId: 'x', kind: 'original', expiresAt: now - 1, url: 'https://cdn.example/o?Sig=3' });
    const { backend } = await openShare([sent, other, expired], {
      revoke_link: () => ({ ...sent, revokedAt: now }),
    });
    const row = (id: string) => screen.getAllByTestId('share-link').find((l) => l.dataset.linkId === id)!;
    expect(within(row(expired.id)).queryByTestId('share-link-revoke')).toBeNull();

    // Asked first; Keep changes nothing.
    await click(within(row(sent.id)).getByTestId('share-link-revoke'));
    expect(row(sent.id).textContent).toContain('It stops working for everyone who has it.');
    await click(within(row(sent.id)).getByTestId('share-link-revoke-keep'));
    expect(backend.commands()).not.toContain('revoke_link');

    await click(within(row(sent.id)).getByTestId('share-link-revoke'));
    await click(within(row(sent.id)).getByTestId('share-link-revoke-confirm'));
    expect(backend.calls.filter((c) => c.cmd === 'revoke_link').map((c) => c.args)).toEqual([{ linkId: sent.id }]);
    expect(row(sent.id).dataset.revoked).toBe('true');
    expect(within(row(sent.id)).getByTestId('share-link-expiry').textContent).toBe('revoked');
    expect((within(row(sent.id)).getByTestId('share-link-copy') as HTMLButtonElement).disabled).toBe(true);
    expect(within(row(sent.id)).queryByTestId('share-link-revoke')).toBeNull();
    expect(row(other.id).dataset.revoked).toBe('false');
  });

  it('says so when a revoke is refused, and the link stays as it was', async () => {
    const sent = makeLink({ jobId: 'x', kind: 'stream', expiresAt: Date.now() + DAY });
    await openShare([sent], {
      revoke_link: () =>
        Promise.reject({ code: 'storage-unreachable', message: 'Streamdrop could not reach the storage. Check the network connection, then retry.', params: {}, remedy: 'retry', detail: null }),
    });
    await click(screen.getByTestId('share-link-revoke'));
    await click(screen.getByTestId('share-link-revoke-confirm'));
    expect(screen.getByTestId('share-revoke-error').textContent).toBe(
      'Could not revoke the stream link: Streamdrop could not reach the storage. Check the network connection, then retry.',
    );
    expect(screen.getByTestId('share-link').dataset.revoked).toBe('false');
  });

  it('reports a refused create_link in the panel and copies nothing', async () => {
    await openShare([], { create_link: () => Promise.reject('the original is no longer stored') });
    await click(screen.getByTestId('share-copy-original'));

    expect(screen.getByTestId('share-error').textContent).toBe(
      'Could not create the original file link: the original is no longer stored',
    );
    expect(writeText).not.toHaveBeenCalled();
    expect(makeButtons().some((b) => b.disabled)).toBe(false);
  });

  it('reports a refused list_links but still creates links', async () => {
    await openShare([], { list_links: () => Promise.reject('store is locked') });
    expect(screen.getByTestId('share-links-error').textContent).toBe('Could not load existing links: store is locked');

    await click(screen.getByTestId('share-copy-stream'));
    expect(writeText).toHaveBeenCalledTimes(1);
    expect(screen.getAllByTestId('share-link')).toHaveLength(1);
  });

  it('closes from its close button', async () => {
    await openShare();
    await click(screen.getByRole('button', { name: 'Close sharing for D001.mov' }));
    expect(screen.queryByTestId('share-panel')).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Share D001.mov' }));
  });
});
