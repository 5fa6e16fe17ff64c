import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { emit } from '@tauri-apps/api/event';
import App from './App.svelte';
import type { IntakeReport, JobView } from './lib/ipc';
import { EMPTY_REPORT, LOCAL_STATUS, fakeBackend, makeJob, makeProblem, makeRejection, resetBackend, settle } from './test/fake-backend';

afterEach(() => resetBackend(cleanup));

function rows(): HTMLElement[] {
  return screen.queryAllByTestId('job-row');
}

function row(id: string): HTMLElement {
  const found = rows().find((r) => r.dataset.jobId === id);
  if (!found) throw new Error(`no row for job ${id}`);
  return found;
}

async function renderApp(): Promise<void> {
  render(App);
  await settle();
}

describe('App', () => {
  it('shows the backend status line', async () => {
    fakeBackend();
    await renderApp();
    expect(screen.getByTestId('app-status').textContent).toBe(
      'Local mode · storage at http://127.0.0.1:9000',
    );
  });

  it('shows what the backend says people should know as notices', async () => {
    fakeBackend({
      app_status: () => ({
        ...LOCAL_STATUS,
        notices: [makeProblem({ code: 'keychain-unavailable', message: 'The keychain could not be opened, so links made now stop working when Streamdrop quits.', remedy: 'none', detail: 'SS error: prompt dismissed' })],
      }),
    });
    await renderApp();
    expect(screen.getByTestId('notice').textContent).toContain('links made now stop working when Streamdrop quits');
    // The cause sits behind Details, not in the sentence.
    expect(screen.getByTestId('notice').textContent).not.toContain('prompt dismissed');
    expect(screen.getByTestId('notice-details-toggle')).toBeTruthy();
  });

  it('renders the initial list from list_jobs, newest first', async () => {
    const older = makeJob({ fileName: 'A001.MOV', createdAt: 1000, size: 1536, state: 'ready', bytesDone: 1536 });
    const newer = makeJob({ fileName: 'A002.MOV', createdAt: 2000, state: 'queued' });
    const backend = fakeBackend({ list_jobs: () => [older, newer] });
    await renderApp();

    expect(backend.commands()).toContain('list_jobs');
    expect(rows().map((r) => r.dataset.jobId)).toEqual([newer.id, older.id]);

    const first = row(older.id);
    expect(first.dataset.state).toBe('ready');
    expect(within(first).getByText('A001.MOV')).toBeTruthy();
    expect(within(first).getByText('1.5 KB')).toBeTruthy();
    expect(within(first).getByTestId('job-state').textContent).toBe('Ready');
    // Where the file is stored is technical: rows do not show it.
    expect(first.textContent).not.toContain('s3://');
    expect(within(row(newer.id)).getByTestId('job-state').textContent).toBe('Queued');
    expect(screen.queryByTestId('jobs-empty')).toBeNull();
  });

  it('shows an empty state when there are no jobs', async () => {
    fakeBackend({ list_jobs: () => [] });
    await renderApp();
    expect(rows()).toHaveLength(0);
    expect(screen.getByTestId('jobs-empty').textContent).toMatch(/No uploads yet/);
  });

  it('moves a row from uploading through copying and transcoding to ready on job-updated', async () => {
    const job = makeJob({ state: 'uploading', size: 200, bytesDone: 100 });
    fakeBackend({ list_jobs: () => [job] });
    await renderApp();

    const uploading = row(job.id);
    expect(uploading.dataset.state).toBe('uploading');
    expect(within(uploading).getByTestId('job-state').textContent).toBe('Uploading');
    expect(within(uploading).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('50');
    expect(within(uploading).getByTestId('job-percent').textContent).toBe('50%');

    await emit('job-updated', { ...job, bytesDone: 150 } satisfies JobView);
    await settle();
    expect(within(row(job.id)).getByTestId('job-percent').textContent).toBe('75%');

    await emit('job-updated', { ...job, state: 'copying', stage: 'copy', bytesDone: 200 } satisfies JobView);
    await settle();
    expect(within(row(job.id)).getByTestId('job-state').textContent).toBe('Copying');
    expect(within(row(job.id)).getByRole('progressbar', { name: 'Copy progress' })).toBeTruthy();

    await emit('job-updated', { ...job, state: 'transcoding', stage: 'transcode', bytesDone: 200, transcodePercent: 40 } satisfies JobView);
    await settle();
    expect(within(row(job.id)).getByTestId('job-state').textContent).toBe('Transcoding');
    expect(within(row(job.id)).getByTestId('job-percent').textContent).toBe('40%');

    await emit('job-updated', { ...job, state: 'ready', stage: null, bytesDone: 200 } satisfies JobView);
    await settle();

    expect(rows()).toHaveLength(1);
    const done = row(job.id);
    expect(done.dataset.state).toBe('ready');
    expect(within(done).getByTestId('job-state').textContent).toBe('Ready');
    expect(within(done).queryByRole('progressbar')).toBeNull();
  });

  it('inserts an unknown job from job-updated at the top', async () => {
    const existing = makeJob({ createdAt: 1000 });
    fakeBackend({ list_jobs: () => [existing] });
    await renderApp();

    const fresh = makeJob({ createdAt: 5000, state: 'uploading', size: 0, bytesDone: 0 });
    await emit('job-updated', fresh);
    await settle();

    expect(rows().map((r) => r.dataset.jobId)).toEqual([fresh.id, existing.id]);
    expect(within(row(fresh.id)).getByTestId('job-percent').textContent).toBe('0%');
  });

  it("shows a failed job's problem as its plain sentence, the raw detail only behind Details", async () => {
    const error = makeProblem();
    const job = makeJob({ state: 'failed', error });
    fakeBackend({ list_jobs: () => [job] });
    await renderApp();

    const failed = row(job.id);
    expect(failed.dataset.state).toBe('failed');
    expect(within(failed).getByTestId('job-state').textContent).toBe('Failed');
    expect(within(failed).getByTestId('job-error').textContent).toBe(error.message);
    expect(failed.textContent).not.toContain('AccessDenied');
    expect(failed.textContent).not.toContain('storage-denied');
  });

  it('adds accepted jobs and one notice for a rejected file from an intake event; dismiss removes it', async () => {
    fakeBackend();
    await renderApp();

    const accepted = makeJob({ fileName: 'C0042.MP4' });
    await emit('intake', { ...EMPTY_REPORT, accepted: [accepted], rejected: [makeRejection('/Users/ed/Desktop/notes.txt')] });
    await settle();

    expect(rows().map((r) => r.dataset.jobId)).toEqual([accepted.id]);
    const messages = screen.getAllByTestId('notice-message');
    expect(messages.map((n) => n.textContent?.trim())).toEqual([
      'notes.txt is not a video or audio file Streamdrop can read.',
    ]);
    await fireEvent.click(screen.getByRole('button', { name: 'Dismiss notice about notes.txt' }));
    await settle();
    expect(screen.queryAllByTestId('notice')).toHaveLength(0);
  });

  it('sums up a drop of many refusals in one notice, each file and why behind Details', async () => {
    fakeBackend();
    await renderApp();

    const report: IntakeReport = {
      ...EMPTY_REPORT,
      rejected: [
        makeRejection('/Users/ed/Desktop/notes.txt'),
        makeRejection('/Users/ed/Desktop/shot list.pdf'),
        makeRejection('/Users/ed/Desktop/locked.mov', { code: 'file-unreadable', message: 'locked.mov cannot be read.' }),
      ],
      rejectedCounts: [
        { code: 'not-media', count: 2, label: 'not video' },
        { code: 'file-unreadable', count: 1, label: 'unreadable' },
      ],
    };
    await emit('intake', report);
    await settle();

    const notices = screen.getAllByTestId('notice');
    expect(notices).toHaveLength(1);
    expect(within(notices[0]).getByTestId('notice-message').textContent?.trim()).toBe(
      '3 items were skipped: 2 not video, 1 unreadable. Nothing else of this drop was affected.',
    );
    await fireEvent.click(within(notices[0]).getByTestId('notice-details-toggle'));
    expect(notices[0].textContent).toContain('locked.mov cannot be read.');
    expect(notices[0].textContent).toContain('shot list.pdf');
  });

  it('invokes pick_files from the button and renders the returned report', async () => {
    const picked = makeJob({ fileName: 'GX010203.MP4', size: 1.5 * 1024 ** 3 });
    let answer: (report: IntakeReport) => void = () => {};
    const backend = fakeBackend({
      pick_files: () => new Promise<IntakeReport>((resolve) => (answer = resolve)),
    });
    await renderApp();

    const button = screen.getByRole('button', { name: 'Choose files…' }) as HTMLButtonElement;
    await fireEvent.click(button);
    await settle();

    expect(backend.commands().filter((c) => c === 'pick_files')).toHaveLength(1);
    // The native dialog is still open: a second click must not open another.
    expect(button.disabled).toBe(true);

    answer({ ...EMPTY_REPORT, accepted: [picked], rejected: [makeRejection('C:\\footage\\thumbs.db')] });
    await settle();

    expect(button.disabled).toBe(false);
    const pickedRow = row(picked.id);
    expect(within(pickedRow).getByText('GX010203.MP4')).toBeTruthy();
    expect(within(pickedRow).getByText('1.5 GB')).toBeTruthy();
    expect(screen.getByTestId('notice').textContent).toContain('thumbs.db is not a video or audio file Streamdrop can read.');
  });

  it('shows a notice when pick_files fails', async () => {
    fakeBackend({
      pick_files: () => Promise.reject('dialog unavailable'),
    });
    await renderApp();

    await fireEvent.click(screen.getByRole('button', { name: 'Choose files…' }));
    await settle();

    expect(screen.getByTestId('notice').textContent).toContain('dialog unavailable');
    expect(rows()).toHaveLength(0);
  });

  it('highlights the drop zone while files are dragged over the window', async () => {
    fakeBackend();
    await renderApp();
    const zone = screen.getByTestId('drop-zone');
    expect(zone.classList.contains('hovering')).toBe(false);

    await emit('tauri://drag-enter', { paths: ['/media/card/C0001.MP4'], position: { x: 10, y: 20 } });
    await settle();
    expect(zone.classList.contains('hovering')).toBe(true);
    expect(zone.textContent).toContain('Release to upload');

    await emit('tauri://drag-over', { position: { x: 30, y: 40 } });
    await settle();
    expect(zone.classList.contains('hovering')).toBe(true);

    await emit('tauri://drag-leave', null);
    await settle();
    expect(zone.classList.contains('hovering')).toBe(false);
    expect(zone.textContent).toContain('Drop camera files or whole cards here');
  });

  it('clears the highlight on drop without sending the paths anywhere', async () => {
    const backend = fakeBackend();
    await renderApp();
    const before = backend.commands().length;

    await emit('tauri://drag-enter', { paths: ['/media/card/C0001.MP4'], position: { x: 1, y: 1 } });
    await emit('tauri://drag-drop', { paths: ['/media/card/C0001.MP4'], position: { x: 1, y: 1 } });
    await settle();

    expect(screen.getByTestId('drop-zone').classList.contains('hovering')).toBe(false);
    // Rust ingests drops natively; the UI must not invoke anything for them.
    expect(backend.commands().slice(before)).toEqual([]);
  });
});
