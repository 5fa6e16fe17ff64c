import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { emit } from '@tauri-apps/api/event';
import App from './App.svelte';
import type { JobView } from './lib/ipc';
import { POSTER_DELAY_MS } from './lib/posters';
import { UPDATE_INTERVAL } from './lib/queue';
import { EMPTY_REPORT, fakeBackend, makeJob, resetBackend, settle } from './test/fake-backend';

afterEach(() => resetBackend(cleanup));

function shownNames(): string[] {
  return screen.queryAllByTestId('job-row').map((r) => r.querySelector('.name')?.textContent ?? '');
}

async function renderApp(): Promise<void> {
  render(App);
  await settle();
}

/** A card of `n` clips dropped at once: one batch, paths under the card. */
function card(n: number, overrides: Partial<JobView> = {}): JobView[] {
  return Array.from({ length: n }, (_, i) =>
    makeJob({
      batchId: 'card-a001',
      createdAt: 5000,
      position: i,
      fileName: `C${String(i + 1).padStart(4, '0')}.MP4`,
      relativePath: `A001/PRIVATE/M4ROOT/CLIP/C${String(i + 1).padStart(4, '0')}.MP4`,
      size: 1000,
      ...overrides,
    }),
  );
}

describe('the queue as a whole', () => {
  it('sums up the queue, and the page title says it for the taskbar', async () => {
    const jobs = [
      ...card(3, { state: 'uploading', bytesDone: 500, rateBps: 1000 }),
      makeJob({ state: 'ready', createdAt: 10 }),
    ];
    fakeBackend({ list_jobs: () => jobs });
    await renderApp();

    expect(screen.getByTestId('queue-progress').textContent).toBe('50% sent · 2.9 KB/s · 1 s left');
    expect(screen.getByTestId('queue-counts').textContent).toBe('3 uploading · 1 ready');
    expect(document.title).toBe('Streamdrop — 50% · 3 uploading');
  });

  it('groups a card under one header that folds away', async () => {
    fakeBackend({ list_jobs: () => [...card(3), makeJob({ fileName: 'loose.mov', createdAt: 10 })] });
    await renderApp();

    const headers = screen.getAllByTestId('batch-header');
    expect(headers).toHaveLength(1);
    expect(within(headers[0]).getByTestId('batch-title').textContent).toBe('A001');
    expect(within(headers[0]).getByTestId('batch-line').textContent).toBe('3 clips · 2.9 KB · 0%');
    expect(shownNames()).toEqual(['C0001.MP4', 'C0002.MP4', 'C0003.MP4', 'loose.mov']);
    // Each row says where its clip sat on the card; a loose file has no folder to show.
    const [first] = screen.getAllByTestId('job-row');
    expect(within(first).getByTestId('job-folder').textContent).toBe('A001/PRIVATE/M4ROOT/CLIP');
    expect(screen.getAllByTestId('job-folder')).toHaveLength(3);

    const toggle = within(headers[0]).getByTestId('batch-toggle');
    await fireEvent.click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(shownNames()).toEqual(['loose.mov']);
    await fireEvent.click(toggle);
    expect(shownNames()).toHaveLength(4);
  });

  it('filters by state and searches names and card paths', async () => {
    const failed = makeJob({ fileName: 'B002.mov', state: 'failed', createdAt: 20 });
    fakeBackend({ list_jobs: () => [...card(2, { state: 'ready' }), failed] });
    await renderApp();

    const filter = screen.getByTestId('queue-filter') as HTMLSelectElement;
    filter.value = 'failed';
    await fireEvent.change(filter);
    expect(shownNames()).toEqual(['B002.mov']);

    filter.value = 'all';
    await fireEvent.change(filter);
    const search = screen.getByTestId('queue-search') as HTMLInputElement;
    await fireEvent.input(search, { target: { value: 'm4root c0002' } });
    expect(shownNames()).toEqual(['C0002.MP4']);

    await fireEvent.input(search, { target: { value: 'nothing like it' } });
    expect(shownNames()).toEqual([]);
    expect(screen.getByTestId('jobs-filtered').textContent).toContain('No uploads match');
  });

  it('pauses every job that can pause, with one button', async () => {
    const jobs = [...card(2, { state: 'uploading' }), makeJob({ state: 'ready', createdAt: 10 })];
    const backend = fakeBackend({
      list_jobs: () => jobs,
      pause_job: (args) => ({ ...jobs.find((j) => j.id === (args as { id: string }).id)!, state: 'paused' }),
    });
    await renderApp();

    await fireEvent.click(screen.getByTestId('queue-pause'));
    await settle();
    const paused = backend.calls.filter((c) => c.cmd === 'pause_job').map((c) => (c.args as { id: string }).id);
    expect(paused).toEqual([jobs[0].id, jobs[1].id]);
    expect(screen.getByTestId('queue-counts').textContent).toBe('2 paused · 1 ready');
    expect(screen.queryByTestId('queue-pause')).toBeNull();
    expect(screen.getByTestId('queue-resume').textContent).toContain('Resume all (2)');
  });

  it('applies a flood of progress events together, ten times a second at most', async () => {
    const [clip] = card(1, { state: 'uploading' });
    fakeBackend({ list_jobs: () => [clip] });
    UPDATE_INTERVAL.ms = 100;
    await renderApp();

    const percent = () => screen.getByTestId('job-row').querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow');
    expect(percent()).toBe('0');
    await Promise.all(Array.from({ length: 200 }, (_, i) => emit('job-updated', { ...clip, bytesDone: (i + 1) * 5 })));
    await settle();
    // Not yet applied: the updates wait for the interval, and only the newest counts.
    expect(percent()).toBe('0');
    await new Promise((resolve) => setTimeout(resolve, 150));
    await settle();
    expect(percent()).toBe('100');
  });
});

describe('duplicates of a drop', () => {
  const duplicate = (name: string) => ({
    path: `/media/card/A001/${name}`,
    fileName: name,
    relativePath: `A001/${name}`,
    existingJob: '00000000-0000-4000-8000-00000000ffff',
    existingState: 'ready' as const,
  });
  const report = (names: string[]) => ({ ...EMPTY_REPORT, duplicates: names.map(duplicate) });

  it('asks once for the whole drop, and Upload again adds exactly those files', async () => {
    const again = makeJob({ fileName: 'C0001.MP4' });
    const backend = fakeBackend({
      pick_files: () => report(['C0001.MP4', 'C0002.MP4']),
      add_skipped: () => ({ ...EMPTY_REPORT, accepted: [again] }),
    });
    await renderApp();
    await fireEvent.click(screen.getByRole('button', { name: 'Choose files…' }));
    await settle();

    const prompt = screen.getByTestId('duplicate-prompt');
    expect(prompt.textContent).toContain('2 files are already uploaded');
    expect(prompt.textContent).toContain('A001/C0002.MP4');
    await fireEvent.click(within(prompt).getByTestId('duplicates-again'));
    await settle();

    const call = backend.calls.find((c) => c.cmd === 'add_skipped');
    expect(call?.args).toEqual({ paths: ['/media/card/A001/C0001.MP4', '/media/card/A001/C0002.MP4'] });
    expect(screen.queryByTestId('duplicate-prompt')).toBeNull();
    expect(shownNames()).toEqual(['C0001.MP4']);
  });

  it('Skip sends nothing', async () => {
    const backend = fakeBackend({ pick_files: () => report(['C0001.MP4']) });
    await renderApp();
    await fireEvent.click(screen.getByRole('button', { name: 'Choose files…' }));
    await settle();

    expect(screen.getByTestId('duplicate-prompt').textContent).toContain('1 file is already uploaded');
    await fireEvent.click(screen.getByTestId('duplicates-skip'));
    expect(screen.queryByTestId('duplicate-prompt')).toBeNull();
    expect(backend.commands()).not.toContain('add_skipped');
  });
});

describe('clear finished', () => {
  it('takes the ready and cancelled rows off the list, as the backend says', async () => {
    const ready = makeJob({ fileName: 'done.mov', state: 'ready', createdAt: 30 });
    const cancelled = makeJob({ fileName: 'dropped.mov', state: 'cancelled', createdAt: 20 });
    const running = makeJob({ fileName: 'going.mov', state: 'uploading', createdAt: 10 });
    const backend = fakeBackend({
      list_jobs: () => [ready, cancelled, running],
      clear_finished: () => [ready.id, cancelled.id],
    });
    await renderApp();

    const clear = screen.getByTestId('queue-clear');
    expect(clear.textContent?.trim()).toBe('Clear finished (2)');
    await fireEvent.click(clear);
    await settle();

    expect(backend.commands()).toContain('clear_finished');
    expect(shownNames()).toEqual(['going.mov']);
    expect(screen.queryByTestId('queue-clear')).toBeNull();
  });
});

describe('a long queue', () => {
  it('keeps only the lines near the viewport in the page, and draws the end when scrolled there', async () => {
    const jobs = Array.from({ length: 10_000 }, (_, i) =>
      makeJob({ batchId: `b${Math.floor(i / 100)}`, createdAt: 10_000 - Math.floor(i / 100), position: i % 100, state: 'ready' }),
    );
    fakeBackend({ list_jobs: () => jobs });
    await renderApp();

    const list = screen.getByTestId('job-lines');
    expect(list.dataset.lines).toBe('10100');
    expect(screen.getByTestId('queue-counts').textContent).toBe('10000 ready');
    const firstRows = screen.getAllByTestId('job-row');
    expect(firstRows.length).toBeGreaterThan(5);
    expect(firstRows.length).toBeLessThan(60);
    expect(screen.getAllByTestId('batch-header').length).toBeLessThan(5);
    expect(screen.queryByTestId('lines-before')).toBeNull();
    const after = Number.parseFloat(screen.getByTestId('lines-after').style.height);
    expect(after).toBeGreaterThan(9_000 * 36);

    // Scrolled to the end (jsdom has no layout: the list says where it is):
    // the list's top is `after` above the viewport's, whose height covers the rest.
    list.getBoundingClientRect = () => ({ top: -after }) as DOMRect;
    const viewport = window.innerHeight;
    window.innerHeight = 2000;
    onTestFinished(() => {
      window.innerHeight = viewport;
    });
    await fireEvent.scroll(window);
    await new Promise((r) => requestAnimationFrame(() => r(null)));
    await settle();
    const lastRows = screen.getAllByTestId('job-row');
    expect(lastRows.length).toBeLessThan(120);
    expect(lastRows[lastRows.length - 1].dataset.jobId).toBe(jobs[jobs.length - 1].id);
    expect(screen.queryByTestId('lines-after')).toBeNull();
  });
});

/** Past the time a row waits before asking for its poster. */
async function afterPosterDelay(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, POSTER_DELAY_MS + 50));
  await settle();
}

describe('posters', () => {
  it('show a ready row its poster through a signed URL, asked once however often the row is drawn', async () => {
    const ready = makeJob({ state: 'ready', fileName: 'A001.MP4', batchId: 'card', position: 0 });
    const uploading = makeJob({ state: 'uploading', fileName: 'A002.MP4', batchId: 'card', position: 1 });
    const url = 'http://127.0.0.1:4000/media/jobs/x/stream/poster.jpg?Expires=1&Signature=s&Key-Pair-Id=k';
    const backend = fakeBackend({ list_jobs: () => [ready, uploading], poster_url: () => url });
    await renderApp();
    // Drawn and gone again before POSTER_DELAY_MS (a fast scroll): nothing asked.
    await fireEvent.click(screen.getByTestId('batch-toggle'));
    await settle();
    await fireEvent.click(screen.getByTestId('batch-toggle'));
    await settle();
    expect(backend.commands()).not.toContain('poster_url');
    await afterPosterDelay();

    const posters = screen.getAllByTestId('job-poster');
    expect(posters).toHaveLength(1);
    expect(posters[0].getAttribute('src')).toBe(url);
    expect(posters[0].closest('[data-testid="job-row"]')?.getAttribute('data-job-id')).toBe(ready.id);
    expect(backend.calls.filter((c) => c.cmd === 'poster_url').map((c) => c.args)).toEqual([{ jobId: ready.id }]);

    // Folded and unfolded, the row is drawn anew: the URL is reused.
    await fireEvent.click(screen.getByTestId('batch-toggle'));
    await settle();
    expect(screen.queryByTestId('job-poster')).toBeNull();
    await fireEvent.click(screen.getByTestId('batch-toggle'));
    await afterPosterDelay();
    expect(screen.getByTestId('job-poster').getAttribute('src')).toBe(url);
    expect(backend.calls.filter((c) => c.cmd === 'poster_url')).toHaveLength(1);
  });

  it('leave the place empty for a job without a poster', async () => {
    const ready = makeJob({ state: 'ready' });
    fakeBackend({ list_jobs: () => [ready] });
    await renderApp();
    await afterPosterDelay();
    expect(screen.queryByTestId('job-poster')).toBeNull();
    expect(screen.getByTestId('job-row').textContent).not.toContain('No poster');
  });
});

describe('sidecars', () => {
  it("say how many of the camera's files travel with a clip", async () => {
    const withTwo = makeJob({ fileName: 'C0001.MP4', relativePath: 'A001/PRIVATE/M4ROOT/CLIP/C0001.MP4', sidecars: 2 });
    const alone = makeJob({ fileName: 'C0002.MP4', sidecars: 0 });
    fakeBackend({ list_jobs: () => [withTwo, alone] });
    await renderApp();
    const rows = screen.getAllByTestId('job-row');
    const of = (id: string) => rows.find((r) => r.dataset.jobId === id)!;
    expect(within(of(withTwo.id)).getByTestId('job-sidecars').textContent).toBe('+ 2 sidecars');
    expect(within(of(alone.id)).queryByTestId('job-sidecars')).toBeNull();
  });
});

describe('choosing a card', () => {
  it('opens the folder dialog, and what it added is listed', async () => {
    const clip = makeJob({ fileName: 'C0001.MP4', relativePath: 'A001/PRIVATE/M4ROOT/CLIP/C0001.MP4' });
    const backend = fakeBackend({ pick_folders: () => ({ ...EMPTY_REPORT, accepted: [clip] }) });
    await renderApp();
    await fireEvent.click(screen.getByRole('button', { name: 'Choose a card or folder…' }));
    await settle();
    expect(backend.commands()).toContain('pick_folders');
    expect(shownNames()).toEqual(['C0001.MP4']);
  });
});

describe('keyboard shortcuts', () => {
  it('Ctrl+O opens the file dialog, Ctrl+Shift+O the folder dialog, Ctrl+F goes to the search', async () => {
    const backend = fakeBackend({ list_jobs: () => [makeJob({ state: 'ready' })], pick_folders: () => EMPTY_REPORT });
    await renderApp();
    await fireEvent.keyDown(window, { key: 'o', ctrlKey: true });
    await settle();
    expect(backend.commands()).toContain('pick_files');
    await fireEvent.keyDown(window, { key: 'O', ctrlKey: true, shiftKey: true });
    await settle();
    expect(backend.commands()).toContain('pick_folders');
    await fireEvent.keyDown(window, { key: 'f', ctrlKey: true });
    expect(document.activeElement).toBe(screen.getByTestId('queue-search'));
    // A plain "o" typed into the search is just a letter.
    const before = backend.commands().length;
    await fireEvent.keyDown(screen.getByTestId('queue-search'), { key: 'o' });
    await settle();
    expect(backend.commands().length).toBe(before);
  });
});
