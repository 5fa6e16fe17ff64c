// Startup: the window paints while the backend is still starting (the OS
// keychain may be waiting to be unlocked), says what it waits for when that
// takes a while, and comes to life on app-ready.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, within } from '@testing-library/svelte';
import { emit } from '@tauri-apps/api/event';
import { tick } from 'svelte';
import App from './App.svelte';
import type { AppStatus } from './lib/ipc';
import {
  LOCAL_STATUS,
  STARTING_STATUS,
  deferred,
  fakeBackend,
  makeJob,
  makeProblem,
  resetBackend,
  settle,
} from './test/fake-backend';

// Captured before any test fakes timers: a real macrotask lets every pending
// promise chain (listen, invoke replies) run whatever the fake clock says.
const realSetTimeout = globalThis.setTimeout;

async function flush(): Promise<void> {
  await new Promise((resolve) => realSetTimeout(resolve, 0));
  await tick();
}

/** Only the app's own timers are faked; promises and Svelte's scheduling stay real. */
function fakeClock() {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
}

afterEach(async () => {
  vi.useRealTimers();
  await resetBackend(cleanup);
});

const KEYCHAIN = 'Waiting for the keychain — if your system asks you to unlock it, answer to continue.';

const statusLine = () => screen.getByTestId('app-status').textContent;
const chooseButton = () => screen.getByRole('button', { name: 'Choose files…' }) as HTMLButtonElement;
const count = (backend: ReturnType<typeof fakeBackend>, cmd: string) => backend.commands().filter((c) => c === cmd).length;

/**
 * Gives `listen` the round trip it has in the real app (mockIPC registers
 * listeners at once), so asking before listening would miss the event.
 */
function slowListen() {
  const internals = (window as unknown as { __TAURI_INTERNALS__: { invoke: (cmd: string, ...rest: unknown[]) => Promise<unknown> } })
    .__TAURI_INTERNALS__;
  const invoke = internals.invoke;
  internals.invoke = async (cmd, ...rest) => {
    if (cmd === 'plugin:event|listen') await new Promise((resolve) => realSetTimeout(resolve, 0));
    return invoke(cmd, ...rest);
  };
}

async function appReady(status: AppStatus = LOCAL_STATUS): Promise<void> {
  await emit('app-ready', status);
  await flush();
}

describe('startup', () => {
  it('paints at once while starting, and loads nothing yet', async () => {
    const backend = fakeBackend({ app_status: () => STARTING_STATUS, list_jobs: () => [makeJob()] });
    render(App);
    // Before any reply: the window is there already.
    expect(statusLine()).toBe('Starting…');
    expect(screen.getByTestId('drop-zone')).toBeTruthy();

    await flush();
    expect(statusLine()).toBe('Starting…');
    expect(screen.getByTestId('app-status').getAttribute('title')).toBe(`Data directory: ${LOCAL_STATUS.dataDir}`);
    expect(screen.getByTestId('jobs-loading').textContent).toBe('Loading…');
    expect(count(backend, 'app_status')).toBe(1);
    expect(count(backend, 'list_jobs')).toBe(0);
    // Nothing to hand files to yet.
    expect(chooseButton().disabled).toBe(true);
    // Too early to worry anyone.
    expect(screen.queryByTestId('app-starting')).toBeNull();
  });

  it('says what it waits for once starting takes longer than 1.5 s', async () => {
    fakeClock();
    fakeBackend({ app_status: () => STARTING_STATUS });
    render(App);
    await flush();

    await vi.advanceTimersByTimeAsync(1400);
    await flush();
    expect(screen.queryByTestId('app-starting')).toBeNull();

    await vi.advanceTimersByTimeAsync(100);
    await flush();
    const banner = screen.getByTestId('app-starting');
    expect(banner.textContent).toBe(KEYCHAIN);
    expect(banner.getAttribute('role')).toBe('status');
    expect(statusLine()).toBe('Starting…');
  });

  it('applies app-ready: status line, notes, the job list, and the banner goes', async () => {
    fakeClock();
    const job = makeJob({ fileName: 'E001.mov', state: 'ready' });
    const backend = fakeBackend({ app_status: () => STARTING_STATUS, list_jobs: () => [job] });
    render(App);
    await flush();
    await vi.advanceTimersByTimeAsync(1500);
    await flush();
    expect(screen.getByTestId('app-starting')).toBeTruthy();

    await appReady({ ...LOCAL_STATUS, notices: [makeProblem({ code: 'keychain-unavailable', message: 'The keychain could not be opened, so links made now stop working when Streamdrop quits.', remedy: 'none', detail: 'SS error: prompt dismissed' })] });

    expect(statusLine()).toBe('Local mode · storage at http://127.0.0.1:9000');
    expect(screen.queryByTestId('app-starting')).toBeNull();
    expect(screen.getByTestId('notice').textContent).toContain('links made now stop working when Streamdrop quits');
    expect(count(backend, 'list_jobs')).toBe(1);
    expect(screen.getAllByTestId('job-row').map((r) => r.dataset.jobId)).toEqual([job.id]);
    expect(chooseButton().disabled).toBe(false);
  });

  it('keeps showing Loading… while list_jobs has not answered', async () => {
    const snapshot = deferred<ReturnType<typeof makeJob>[]>();
    fakeBackend({ list_jobs: () => snapshot.promise });
    render(App);
    await flush();
    expect(statusLine()).toBe('Local mode · storage at http://127.0.0.1:9000');
    expect(screen.getByTestId('jobs-loading').textContent).toBe('Loading…');
    expect(screen.queryByTestId('jobs-empty')).toBeNull();

    snapshot.resolve([]);
    await flush();
    expect(screen.getByTestId('jobs-empty')).toBeTruthy();
  });

  it('loads at once when app_status is already ready, and never shows the banner', async () => {
    fakeClock();
    const backend = fakeBackend();
    render(App);
    await flush();
    expect(statusLine()).toBe('Local mode · storage at http://127.0.0.1:9000');
    expect(count(backend, 'list_jobs')).toBe(1);

    await vi.advanceTimersByTimeAsync(5000);
    await flush();
    expect(screen.queryByTestId('app-starting')).toBeNull();
    // No more asking once ready.
    expect(count(backend, 'app_status')).toBe(1);
  });

  it('listens before it asks: app-ready sent while app_status is answered is not lost', async () => {
    // The backend becomes ready right as the first app_status is asked: the
    // event goes out before the "starting" reply, which must not undo it.
    const backend = fakeBackend({
      app_status: () => {
        void emit('app-ready', LOCAL_STATUS);
        return STARTING_STATUS;
      },
    });
    slowListen();
    render(App);
    await flush();

    expect(statusLine()).toBe('Local mode · storage at http://127.0.0.1:9000');
    expect(count(backend, 'list_jobs')).toBe(1);
    expect(chooseButton().disabled).toBe(false);
  });

  it('applies the ready status once, however many times it is told', async () => {
    const reply = deferred<AppStatus>();
    const ready = { ...LOCAL_STATUS, notices: [makeProblem({ code: 'keychain-unavailable', message: 'The keychain could not be opened, so links made now stop working when Streamdrop quits.', remedy: 'none', detail: 'SS error: prompt dismissed' })] };
    const backend = fakeBackend({ app_status: () => reply.promise });
    render(App);
    await flush();

    await appReady(ready);
    reply.resolve(ready);
    await flush();
    await appReady(ready);

    expect(count(backend, 'list_jobs')).toBe(1);
    expect(screen.getAllByTestId('notice')).toHaveLength(1);
  });

  it('says why when the backend could not start, with the raw reason behind Details', async () => {
    fakeClock();
    const error = makeProblem({
      code: 'internal',
      message: 'Something went wrong inside Streamdrop. Retry; if it happens again, copy the details into a bug report.',
      detail: 'keyring: the secret service is not available',
    });
    const backend = fakeBackend({ app_status: () => ({ ...STARTING_STATUS, phase: 'failed', error }) });
    render(App);
    await flush();

    expect(statusLine()).toBe('Streamdrop could not start');
    const notice = screen.getByTestId('notice');
    expect(within(notice).getByTestId('notice-message').textContent?.trim()).toBe(error.message);
    expect(notice.textContent).not.toContain('secret service');
    expect(within(notice).getByTestId('notice-details-toggle')).toBeTruthy();
    expect(count(backend, 'list_jobs')).toBe(0);
    expect(screen.getByTestId('jobs-unavailable').textContent).toBe(
      'Uploads cannot be shown because Streamdrop did not start.',
    );
    expect(chooseButton().disabled).toBe(true);

    await vi.advanceTimersByTimeAsync(5000);
    await flush();
    expect(screen.queryByTestId('app-starting')).toBeNull();
    expect(screen.getAllByTestId('notice')).toHaveLength(1);
  });

  it('asks again while starting, so a start that fails later is not waited on forever', async () => {
    fakeClock();
    const error = makeProblem({ code: 'data-dir', message: 'Streamdrop could not write to its data folder (is the disk full?). Free some space, then retry.' });
    let answer: AppStatus = STARTING_STATUS;
    const backend = fakeBackend({ app_status: () => answer });
    render(App);
    await flush();
    await vi.advanceTimersByTimeAsync(2000);
    await flush();
    expect(count(backend, 'app_status')).toBe(2);
    expect(statusLine()).toBe('Starting…');

    answer = { ...STARTING_STATUS, phase: 'failed', error };
    await vi.advanceTimersByTimeAsync(2000);
    await flush();
    expect(statusLine()).toBe('Streamdrop could not start');
    expect(screen.getByTestId('notice-message').textContent?.trim()).toBe(error.message);
    expect(screen.queryByTestId('app-starting')).toBeNull();

    await vi.advanceTimersByTimeAsync(10_000);
    expect(count(backend, 'app_status')).toBe(3);
  });

  it('says so when the backend does not answer at all', async () => {
    fakeBackend({ app_status: () => Promise.reject('no such command') });
    render(App);
    await settle();
    expect(statusLine()).toBe('Streamdrop is not answering · no such command');
    expect(screen.getByTestId('jobs-unavailable').textContent).toBe(
      'Uploads cannot be shown because Streamdrop is not answering.',
    );
  });
});
