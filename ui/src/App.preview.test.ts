// The HLS preview player of ready jobs. hls.js is replaced by a fake that
// records what the player asks of it and lets a test raise its events.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import App from './App.svelte';
import type { JobState, JobView } from './lib/ipc';
import { NO_HLS_SUPPORT } from './lib/preview';
import { deferred, fakeBackend, makeJob, resetBackend, settle } from './test/fake-backend';

const fake = vi.hoisted(() => {
  type Listener = (event: string, data: unknown) => void;

  class FakeHls {
    static instances: FakeHls[] = [];
    static supported = true;
    static isSupported = () => FakeHls.supported;
    static Events = { ERROR: 'hlsError', MANIFEST_PARSED: 'hlsManifestParsed' };
    static ErrorTypes = { NETWORK_ERROR: 'networkError', MEDIA_ERROR: 'mediaError' };

    listeners = new Map<string, Listener[]>();
    loadSource = vi.fn();
    attachMedia = vi.fn();
    recoverMediaError = vi.fn();
    destroy = vi.fn();

    constructor(public config: Record<string, unknown> = {}) {
      FakeHls.instances.push(this);
    }

    on(event: string, listener: Listener) {
      this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    }

    /** What hls.js does when it raises an event. */
    trigger(event: string, data: unknown) {
      for (const listener of this.listeners.get(event) ?? []) listener(event, data);
    }
  }

  return { FakeHls };
});

vi.mock('hls.js', () => ({ default: fake.FakeHls }));

const { FakeHls } = fake;
const URL_A = 'http://127.0.0.1:40123/jobs/a/master.m3u8?Expires=1&Signature=S';
const URL_B = 'https://d111111abcdef8.cloudfront.net/jobs/b/master.m3u8?Policy=P&Signature=S&Key-Pair-Id=K';

/** jsdom has no scrollIntoView; a stand-in records where the player asked to be scrolled. */
let scrollIntoView: ReturnType<typeof vi.fn<(this: Element, arg?: boolean | ScrollIntoViewOptions) => void>>;

beforeEach(() => {
  FakeHls.instances = [];
  FakeHls.supported = true;
  scrollIntoView = vi.fn();
  Object.defineProperty(Element.prototype, 'scrollIntoView', { value: scrollIntoView, configurable: true, writable: true });
});

afterEach(async () => {
  await resetBackend(cleanup);
  vi.restoreAllMocks();
  Reflect.deleteProperty(Element.prototype, 'scrollIntoView');
});

/**
 * Stands in for HTMLMediaElement.play (jsdom has none), recording whether the
 * video was muted when asked: unmuted autoplay is refused by webviews.
 */
function stubPlay(result: () => Promise<void> = () => Promise.resolve()) {
  const mutedWhenAsked: boolean[] = [];
  const play = vi.spyOn(HTMLMediaElement.prototype, 'play').mockImplementation(function (this: HTMLMediaElement) {
    mutedWhenAsked.push(this.muted);
    return result();
  });
  return { play, mutedWhenAsked };
}

function row(id: string): HTMLElement {
  const found = screen.queryAllByTestId('job-row').find((r) => r.dataset.jobId === id);
  if (!found) throw new Error(`no row for job ${id}`);
  return found;
}

async function click(el: HTMLElement): Promise<void> {
  await fireEvent.click(el);
  await settle();
}

/** Renders the app with `jobs`; preview_url answers from `urls` by job id (a function is called). */
async function renderWith(jobs: JobView[], urls: Record<string, unknown> = {}) {
  const backend = fakeBackend({
    list_jobs: () => jobs,
    preview_url: (args) => {
      const answer = urls[(args as { jobId: string }).jobId];
      return typeof answer === 'function' ? answer() : (answer ?? URL_A);
    },
  });
  render(App);
  await settle();
  return backend;
}

const previewCalls = (backend: ReturnType<typeof fakeBackend>) =>
  backend.calls.filter((c) => c.cmd === 'preview_url').map((c) => c.args);

const fatal403 = {
  type: 'networkError',
  details: 'manifestLoadError',
  fatal: true,
  response: { code: 403, text: 'Forbidden' },
};

describe('preview', () => {
  it('is offered for ready jobs only', async () => {
    const states: JobState[] = ['queued', 'uploading', 'paused', 'copying', 'transcoding', 'ready', 'failed', 'cancelled'];
    const jobs = states.map((state) => makeJob({ state }));
    await renderWith(jobs);

    const withPreview = jobs.filter((j) => within(row(j.id)).queryByTestId('job-action-preview'));
    const withShare = jobs.filter((j) => within(row(j.id)).queryByTestId('job-action-share'));
    expect(withPreview.map((j) => j.state)).toEqual(['ready']);
    expect(withShare.map((j) => j.state)).toEqual(['ready']);
  });

  it('asks for a signed URL and plays it with hls.js in the row', async () => {
    const job = makeJob({ fileName: 'C001.mov', state: 'ready' });
    const backend = await renderWith([job], { [job.id]: URL_A });
    expect(screen.queryByTestId('preview-player')).toBeNull();

    const button = screen.getByRole('button', { name: 'Preview C001.mov' });
    expect(button.getAttribute('aria-expanded')).toBe('false');
    await click(button);

    expect(previewCalls(backend)).toEqual([{ jobId: job.id }]);
    const player = within(row(job.id)).getByTestId('preview-player');
    const video = within(player).getByTestId('preview-video') as HTMLVideoElement;
    expect(video.tagName).toBe('VIDEO');
    expect(video.controls).toBe(true);
    expect(button.getAttribute('aria-expanded')).toBe('true');

    expect(FakeHls.instances).toHaveLength(1);
    const hls = FakeHls.instances[0];
    expect(hls.loadSource).toHaveBeenCalledWith(URL_A);
    expect(hls.attachMedia).toHaveBeenCalledTimes(1);
    expect(hls.attachMedia.mock.calls[0][0]).toBe(video);
    // hls.js's worker is shipped as a file of the app (CSP worker-src 'self').
    expect(hls.config.workerPath).toMatch(/hls\.worker.*\.js/);
    expect(video.src).toBe('');
    expect(within(player).queryByTestId('preview-error')).toBeNull();
  });

  it('shows a fatal hls.js error as a readable message and stops the player', async () => {
    const job = makeJob({ state: 'ready' });
    await renderWith([job]);
    await click(within(row(job.id)).getByTestId('job-action-preview'));
    const hls = FakeHls.instances[0];

    // Non-fatal errors are hls.js's to retry.
    hls.trigger('hlsError', { ...fatal403, fatal: false });
    await settle();
    expect(screen.queryByTestId('preview-error')).toBeNull();
    expect(hls.destroy).not.toHaveBeenCalled();

    hls.trigger('hlsError', fatal403);
    await settle();
    const message = screen.getByTestId('preview-error');
    expect(message.textContent).toBe('The link was refused (expired or not signed).');
    expect(message.closest('[role="alert"]')).toBeTruthy();
    expect(hls.destroy).toHaveBeenCalledTimes(1);
    // The video stays in place so a retry can reuse it.
    expect(screen.getByTestId('preview-video')).toBeTruthy();
  });

  it('tries to recover a fatal media error once before giving up', async () => {
    const job = makeJob({ state: 'ready' });
    await renderWith([job]);
    await click(within(row(job.id)).getByTestId('job-action-preview'));
    const hls = FakeHls.instances[0];
    const decode = { type: 'mediaError', details: 'bufferAppendError', fatal: true };

    hls.trigger('hlsError', decode);
    await settle();
    expect(hls.recoverMediaError).toHaveBeenCalledTimes(1);
    expect(screen.queryByTestId('preview-error')).toBeNull();

    hls.trigger('hlsError', decode);
    await settle();
    expect(hls.recoverMediaError).toHaveBeenCalledTimes(1);
    expect(screen.getByTestId('preview-error').textContent).toBe('The video could not be decoded.');
  });

  it('"Try again" asks for a fresh URL and starts a new player', async () => {
    const job = makeJob({ state: 'ready' });
    const backend = await renderWith([job]);
    await click(within(row(job.id)).getByTestId('job-action-preview'));
    FakeHls.instances[0].trigger('hlsError', fatal403);
    await settle();

    await click(screen.getByTestId('preview-retry'));

    expect(previewCalls(backend)).toEqual([{ jobId: job.id }, { jobId: job.id }]);
    expect(FakeHls.instances).toHaveLength(2);
    expect(FakeHls.instances[1].loadSource).toHaveBeenCalledWith(URL_A);
    expect(screen.queryByTestId('preview-error')).toBeNull();
  });

  it('shows why when preview_url is refused', async () => {
    const job = makeJob({ state: 'ready' });
    await renderWith([job], { [job.id]: () => Promise.reject('job is not ready') });
    await click(within(row(job.id)).getByTestId('job-action-preview'));

    expect(screen.getByTestId('preview-error').textContent).toBe('Could not get a preview link: job is not ready');
    expect(FakeHls.instances).toHaveLength(0);
  });

  it('closing destroys the hls.js instance and hands focus back', async () => {
    const job = makeJob({ fileName: 'C002.mov', state: 'ready' });
    await renderWith([job]);
    await click(screen.getByRole('button', { name: 'Preview C002.mov' }));
    const hls = FakeHls.instances[0];

    await click(screen.getByRole('button', { name: 'Close preview of C002.mov' }));

    expect(screen.queryByTestId('preview-player')).toBeNull();
    expect(hls.destroy).toHaveBeenCalledTimes(1);
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Preview C002.mov' }));
  });

  it('closes with Escape and with a second click on Preview', async () => {
    const job = makeJob({ fileName: 'C003.mov', state: 'ready' });
    await renderWith([job]);
    const button = screen.getByRole('button', { name: 'Preview C003.mov' });

    await click(button);
    await fireEvent.keyDown(screen.getByTestId('preview-video'), { key: 'Escape' });
    await settle();
    expect(screen.queryByTestId('preview-player')).toBeNull();
    expect(FakeHls.instances[0].destroy).toHaveBeenCalledTimes(1);

    await click(button);
    expect(screen.getByTestId('preview-player')).toBeTruthy();
    await click(button);
    expect(screen.queryByTestId('preview-player')).toBeNull();
    expect(FakeHls.instances[1].destroy).toHaveBeenCalledTimes(1);
  });

  it('plays one preview at a time', async () => {
    const a = makeJob({ state: 'ready' });
    const b = makeJob({ state: 'ready' });
    await renderWith([a, b], { [a.id]: URL_A, [b.id]: URL_B });

    await click(within(row(a.id)).getByTestId('job-action-preview'));
    await click(within(row(b.id)).getByTestId('job-action-preview'));

    expect(screen.getAllByTestId('preview-player')).toHaveLength(1);
    expect(within(row(b.id)).getByTestId('preview-player')).toBeTruthy();
    const [first, second] = FakeHls.instances;
    expect(first.destroy).toHaveBeenCalledTimes(1);
    expect(second.loadSource).toHaveBeenCalledWith(URL_B);
    expect(second.destroy).not.toHaveBeenCalled();
  });

  it('does not start hls.js when closed before the URL arrives', async () => {
    const job = makeJob({ state: 'ready' });
    const reply = deferred<string>();
    await renderWith([job], { [job.id]: () => reply.promise });

    await click(within(row(job.id)).getByTestId('job-action-preview'));
    await click(within(row(job.id)).getByTestId('preview-close'));
    reply.resolve(URL_A);
    await settle();

    expect(FakeHls.instances).toHaveLength(0);
  });

  it('falls back to built-in HLS playback where hls.js is unsupported (Safari)', async () => {
    FakeHls.supported = false;
    vi.spyOn(HTMLMediaElement.prototype, 'canPlayType').mockImplementation((type) =>
      type === 'application/vnd.apple.mpegurl' ? 'maybe' : '',
    );
    const load = vi.spyOn(HTMLMediaElement.prototype, 'load').mockImplementation(() => {});
    const job = makeJob({ state: 'ready' });
    await renderWith([job], { [job.id]: URL_B });

    await click(within(row(job.id)).getByTestId('job-action-preview'));

    const video = screen.getByTestId('preview-video') as HTMLVideoElement;
    expect(video.src).toBe(URL_B);
    expect(FakeHls.instances).toHaveLength(0);
    expect(screen.queryByTestId('preview-error')).toBeNull();

    await click(within(row(job.id)).getByTestId('preview-close'));
    // Unloaded, so the download stops with the panel.
    expect(video.hasAttribute('src')).toBe(false);
    expect(load).toHaveBeenCalled();
  });

  it('says so when neither hls.js nor built-in HLS can play', async () => {
    FakeHls.supported = false;
    const job = makeJob({ state: 'ready' });
    await renderWith([job]);

    await click(within(row(job.id)).getByTestId('job-action-preview'));

    expect(screen.getByTestId('preview-error').textContent).toBe(NO_HLS_SUPPORT);
    expect(FakeHls.instances).toHaveLength(0);
  });

  it('scrolls the player into view when it opens, moving no more than needed', async () => {
    const job = makeJob({ state: 'ready' });
    await renderWith([makeJob({ state: 'ready' }), job]);
    expect(scrollIntoView).not.toHaveBeenCalled();

    await click(within(row(job.id)).getByTestId('job-action-preview'));

    expect(scrollIntoView).toHaveBeenCalledTimes(1);
    expect(scrollIntoView.mock.calls[0][0]).toEqual({ block: 'nearest' });
    expect(scrollIntoView.mock.contexts[0]).toBe(within(row(job.id)).getByTestId('preview-player'));
  });

  it('starts playback, muted, as soon as hls.js has parsed the playlist', async () => {
    const { play, mutedWhenAsked } = stubPlay();
    const job = makeJob({ state: 'ready' });
    await renderWith([job]);
    await click(within(row(job.id)).getByTestId('job-action-preview'));
    const video = screen.getByTestId('preview-video') as HTMLVideoElement;
    expect(play).not.toHaveBeenCalled();

    FakeHls.instances[0].trigger('hlsManifestParsed', { levels: [] });
    await settle();

    expect(play).toHaveBeenCalledTimes(1);
    expect(play.mock.contexts[0]).toBe(video);
    expect(mutedWhenAsked).toEqual([true]);

    // Asked once per attempt: a later canplay (say, after the person paused) does not restart it.
    await fireEvent(video, new Event('canplay'));
    expect(play).toHaveBeenCalledTimes(1);
  });

  it('leaves the controls to the person when autoplay is refused', async () => {
    const { play } = stubPlay(() => Promise.reject(new DOMException('not allowed', 'NotAllowedError')));
    const job = makeJob({ state: 'ready' });
    await renderWith([job]);
    await click(within(row(job.id)).getByTestId('job-action-preview'));

    FakeHls.instances[0].trigger('hlsManifestParsed', { levels: [] });
    await settle();

    expect(play).toHaveBeenCalledTimes(1);
    expect(screen.queryByTestId('preview-error')).toBeNull();
    expect((screen.getByTestId('preview-video') as HTMLVideoElement).controls).toBe(true);
  });

  it('asks to play again after "Try again"', async () => {
    const { play } = stubPlay();
    const job = makeJob({ state: 'ready' });
    await renderWith([job]);
    await click(within(row(job.id)).getByTestId('job-action-preview'));
    FakeHls.instances[0].trigger('hlsManifestParsed', {});
    FakeHls.instances[0].trigger('hlsError', fatal403);
    await settle();

    await click(screen.getByTestId('preview-retry'));
    FakeHls.instances[1].trigger('hlsManifestParsed', {});
    await settle();

    expect(play).toHaveBeenCalledTimes(2);
  });

  it('starts a built-in HLS player once it can play', async () => {
    FakeHls.supported = false;
    vi.spyOn(HTMLMediaElement.prototype, 'canPlayType').mockImplementation((type) =>
      type === 'application/vnd.apple.mpegurl' ? 'maybe' : '',
    );
    vi.spyOn(HTMLMediaElement.prototype, 'load').mockImplementation(() => {});
    const { play, mutedWhenAsked } = stubPlay();
    const job = makeJob({ state: 'ready' });
    await renderWith([job]);
    await click(within(row(job.id)).getByTestId('job-action-preview'));

    await fireEvent(screen.getByTestId('preview-video'), new Event('canplay'));
    expect(play).toHaveBeenCalledTimes(1);
    expect(mutedWhenAsked).toEqual([true]);
  });

  it('rewinds a clip that has ended, so Play replays it', async () => {
    vi.spyOn(HTMLMediaElement.prototype, 'pause').mockImplementation(() => {});
    const job = makeJob({ state: 'ready' });
    await renderWith([job]);
    await click(within(row(job.id)).getByTestId('job-action-preview'));
    const video = screen.getByTestId('preview-video') as HTMLVideoElement;

    video.currentTime = 1.04;
    await fireEvent(video, new Event('ended'));

    expect(video.currentTime).toBe(0);
  });

  it('treats a clip stuck a frame before its end as ended', async () => {
    // MSE durations can exceed the media by a frame: the video waits for data
    // that never comes, neither paused nor ended, and Play would do nothing.
    const pause = vi.spyOn(HTMLMediaElement.prototype, 'pause').mockImplementation(() => {});
    const job = makeJob({ state: 'ready' });
    await renderWith([job]);
    await click(within(row(job.id)).getByTestId('job-action-preview'));
    const video = screen.getByTestId('preview-video') as HTMLVideoElement;
    const buffered = { length: 1, start: () => 0, end: () => 1.0 };
    Object.defineProperties(video, {
      duration: { value: 1.04, configurable: true },
      paused: { value: false, configurable: true },
      buffered: { value: buffered, configurable: true },
    });

    // Waiting mid-clip is ordinary buffering: left alone.
    video.currentTime = 0.5;
    await fireEvent(video, new Event('waiting'));
    expect(pause).not.toHaveBeenCalled();
    expect(video.currentTime).toBe(0.5);

    video.currentTime = 1.0;
    await fireEvent(video, new Event('waiting'));
    expect(pause).toHaveBeenCalledTimes(1);
    expect(video.currentTime).toBe(0);
  });
});
