// Pause / resume / cancel / retry from the job list, and the ordering rules
// that come with states that can move backwards.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { emit } from '@tauri-apps/api/event';
import App from './App.svelte';
import type { IntakeReport, JobState, JobView } from './lib/ipc';
import { EMPTY_REPORT, deferred, fakeBackend, makeJob, makeProblem, resetBackend, settle } from './test/fake-backend';

afterEach(() => resetBackend(cleanup));

const ACTION_IDS = ['job-action-pause', 'job-action-resume', 'job-action-cancel', 'job-action-retry', 'job-action-add-again'];
const MB = 1024 ** 2;

function rows(): HTMLElement[] {
  return screen.queryAllByTestId('job-row');
}

function row(id: string): HTMLElement {
  const found = rows().find((r) => r.dataset.jobId === id);
  if (!found) throw new Error(`no row for job ${id}`);
  return found;
}

function badge(id: string): string | null {
  return within(row(id)).getByTestId('job-state').textContent;
}

/** The action buttons a row offers, by test id, in order. */
function actionsOf(id: string): string[] {
  return within(row(id))
    .queryAllByRole('button')
    .map((b) => b.dataset.testid ?? '')
    .filter((t) => ACTION_IDS.includes(t));
}

function button(id: string, testId: string): HTMLButtonElement {
  return within(row(id)).getByTestId(testId) as HTMLButtonElement;
}

async function click(el: HTMLElement): Promise<void> {
  await fireEvent.click(el);
  await settle();
}

async function event(job: JobView): Promise<void> {
  await emit('job-updated', job);
  await settle();
}

async function renderApp(): Promise<void> {
  render(App);
  await settle();
}

function argsOf(backend: ReturnType<typeof fakeBackend>, cmd: string): unknown[] {
  return backend.calls.filter((c) => c.cmd === cmd).map((c) => c.args);
}

describe('job actions', () => {
  it('offers each action only in the states the backend allows', async () => {
    const states: JobState[] = ['queued', 'uploading', 'paused', 'copying', 'transcoding', 'ready', 'failed', 'cancelled'];
    const byState = Object.fromEntries(
      states.map((state) => [
        state,
        makeJob({ fileName: `${state}.mov`, state, error: state === 'failed' ? makeProblem() : null }),
      ]),
    ) as Record<JobState, JobView>;
    const waitingForCopy = makeJob({ state: 'queued', stage: 'copy' });
    const waitingForTranscode = makeJob({ state: 'queued', stage: 'transcode' });
    const failedTranscode = makeJob({
      state: 'failed',
      stage: 'transcode',
      error: makeProblem({ code: 'transcode-failed', message: 'ffmpeg could not convert it.', detail: 'exit status 1' }),
    });
    fakeBackend({ list_jobs: () => [...Object.values(byState), waitingForCopy, waitingForTranscode, failedTranscode] });
    await renderApp();

    expect(actionsOf(byState.queued.id)).toEqual(['job-action-pause', 'job-action-cancel']);
    expect(actionsOf(byState.uploading.id)).toEqual(['job-action-pause', 'job-action-cancel']);
    expect(actionsOf(byState.paused.id)).toEqual(['job-action-resume', 'job-action-cancel']);
    expect(actionsOf(byState.copying.id)).toEqual(['job-action-cancel']);
    expect(actionsOf(byState.transcoding.id)).toEqual(['job-action-cancel']);
    expect(actionsOf(byState.ready.id)).toEqual([]);
    expect(actionsOf(byState.failed.id)).toEqual(['job-action-retry', 'job-action-cancel']);
    expect(actionsOf(byState.cancelled.id)).toEqual(['job-action-retry']);
    // Pausing only exists for the upload stage.
    expect(actionsOf(waitingForCopy.id)).toEqual(['job-action-cancel']);
    expect(actionsOf(waitingForTranscode.id)).toEqual(['job-action-cancel']);
    expect(actionsOf(failedTranscode.id)).toEqual(['job-action-retry', 'job-action-cancel']);

    // Named after the file, so screen reader users know which row they act on.
    expect(screen.getByRole('button', { name: 'Pause uploading.mov' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Resume paused.mov' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Retry cancelled.mov' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Cancel failed.mov' })).toBeTruthy();

    expect(badge(byState.paused.id)).toBe('Paused');
    expect(badge(byState.cancelled.id)).toBe('Cancelled');
    expect(badge(byState.ready.id)).toBe('Ready');
  });

  it('pauses a job and shows the returned view', async () => {
    const job = makeJob({ fileName: 'A001.mov', state: 'uploading', size: 200, bytesDone: 50, rateBps: 1000, etaSeconds: 1 });
    const backend = fakeBackend({
      list_jobs: () => [job],
      pause_job: () => ({ ...job, state: 'paused', bytesDone: 0, rateBps: null, etaSeconds: null }),
    });
    await renderApp();
    expect(within(row(job.id)).getByRole('progressbar')).toBeTruthy();

    await click(screen.getByRole('button', { name: 'Pause A001.mov' }));

    expect(argsOf(backend, 'pause_job')).toEqual([{ id: job.id }]);
    const paused = row(job.id);
    expect(paused.dataset.state).toBe('paused');
    expect(badge(job.id)).toBe('Paused');
    // Live progress was dropped with the pause: no bar rather than a false 0%.
    expect(within(paused).queryByRole('progressbar')).toBeNull();
    expect(within(paused).queryByTestId('job-rate')).toBeNull();
    expect(actionsOf(job.id)).toEqual(['job-action-resume', 'job-action-cancel']);
  });

  it('shows a paused job with known progress as a frozen bar', async () => {
    const job = makeJob({ state: 'paused', size: 400, bytesDone: 100 });
    fakeBackend({ list_jobs: () => [job] });
    await renderApp();

    const paused = row(job.id);
    expect(within(paused).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('25');
    expect(within(paused).getByTestId('job-percent').textContent).toBe('25%');
    expect(within(paused).queryByTestId('job-rate')).toBeNull();
  });

  it('resumes a paused job', async () => {
    const job = makeJob({ fileName: 'A002.mov', state: 'paused' });
    const backend = fakeBackend({
      list_jobs: () => [job],
      resume_job: () => ({ ...job, state: 'queued' }),
    });
    await renderApp();

    await click(screen.getByRole('button', { name: 'Resume A002.mov' }));

    expect(argsOf(backend, 'resume_job')).toEqual([{ id: job.id }]);
    expect(badge(job.id)).toBe('Queued');
    expect(actionsOf(job.id)).toEqual(['job-action-pause', 'job-action-cancel']);
  });

  it('turns a rejected command into a notice and leaves the row as it was', async () => {
    const job = makeJob({ fileName: 'A003.mov', state: 'uploading', size: 200, bytesDone: 100 });
    const message = `job ${job.id} is copying: it cannot be paused`;
    fakeBackend({
      list_jobs: () => [job],
      pause_job: () => Promise.reject(message),
    });
    await renderApp();

    await click(button(job.id, 'job-action-pause'));

    const notices = screen.getAllByTestId('notice');
    expect(notices).toHaveLength(1);
    expect(notices[0].textContent).toContain('Could not pause A003.mov');
    expect(notices[0].textContent).toContain(message);
    const same = row(job.id);
    expect(same.dataset.state).toBe('uploading');
    expect(within(same).getByTestId('job-percent').textContent).toBe('50%');
    expect(button(job.id, 'job-action-pause').disabled).toBe(false);
  });

  it("disables only that row's buttons while its command is in flight", async () => {
    const job = makeJob({ fileName: 'A004.mov', state: 'queued' });
    const other = makeJob({ fileName: 'A005.mov', state: 'queued' });
    const reply = deferred<JobView>();
    const backend = fakeBackend({
      list_jobs: () => [job, other],
      pause_job: () => reply.promise,
    });
    await renderApp();

    await click(button(job.id, 'job-action-pause'));
    expect(button(job.id, 'job-action-pause').disabled).toBe(true);
    expect(button(job.id, 'job-action-cancel').disabled).toBe(true);
    expect(row(job.id).getAttribute('aria-busy')).toBe('true');
    expect(button(other.id, 'job-action-pause').disabled).toBe(false);

    await click(button(job.id, 'job-action-pause'));
    expect(argsOf(backend, 'pause_job')).toHaveLength(1);

    reply.resolve({ ...job, state: 'paused' });
    await settle();
    expect(badge(job.id)).toBe('Paused');
    expect(button(job.id, 'job-action-resume').disabled).toBe(false);
    expect(row(job.id).getAttribute('aria-busy')).toBe('false');
  });

  it('cancels a queued or failed job without asking', async () => {
    const queued = makeJob({ fileName: 'Q.mov', state: 'queued' });
    const failed = makeJob({ fileName: 'F.mov', state: 'failed', error: makeProblem() });
    const backend = fakeBackend({
      list_jobs: () => [queued, failed],
      cancel_job: (args) => {
        const { id } = args as { id: string };
        const job = id === queued.id ? queued : failed;
        return { ...job, state: 'cancelled', error: null };
      },
    });
    await renderApp();

    await click(screen.getByRole('button', { name: 'Cancel Q.mov' }));
    await click(screen.getByRole('button', { name: 'Cancel F.mov' }));

    expect(argsOf(backend, 'cancel_job')).toEqual([{ id: queued.id }, { id: failed.id }]);
    expect(badge(queued.id)).toBe('Cancelled');
    expect(badge(failed.id)).toBe('Cancelled');
    expect(within(row(failed.id)).queryByTestId('job-error')).toBeNull();
    expect(screen.queryByText('Cancel upload?')).toBeNull();
  });

  it('asks before cancelling an upload in progress: Keep backs out, Yes cancels', async () => {
    const job = makeJob({ fileName: 'A006.mov', state: 'uploading', size: 200, bytesDone: 20 });
    const backend = fakeBackend({
      list_jobs: () => [job],
      cancel_job: () => ({ ...job, state: 'cancelled', bytesDone: 0 }),
    });
    await renderApp();

    await click(button(job.id, 'job-action-cancel'));
    expect(argsOf(backend, 'cancel_job')).toEqual([]);
    const question = within(row(job.id)).getByRole('group', { name: 'Cancel upload of A006.mov?' });
    expect(question.textContent).toContain('Cancel upload?');
    expect(actionsOf(job.id)).toEqual([]);
    // The safe answer has focus.
    expect(document.activeElement).toBe(within(question).getByRole('button', { name: 'Keep A006.mov' }));

    await click(within(question).getByRole('button', { name: 'Keep A006.mov' }));
    expect(screen.queryByText('Cancel upload?')).toBeNull();
    expect(argsOf(backend, 'cancel_job')).toEqual([]);
    expect(row(job.id).dataset.state).toBe('uploading');
    expect(document.activeElement).toBe(button(job.id, 'job-action-cancel'));

    await click(button(job.id, 'job-action-cancel'));
    await click(screen.getByRole('button', { name: 'Yes, cancel A006.mov' }));

    expect(argsOf(backend, 'cancel_job')).toEqual([{ id: job.id }]);
    expect(badge(job.id)).toBe('Cancelled');
    expect(screen.queryByText('Cancel upload?')).toBeNull();
    expect(actionsOf(job.id)).toEqual(['job-action-retry']);
  });

  it('asks before cancelling a paused job too', async () => {
    const job = makeJob({ fileName: 'A007.mov', state: 'paused' });
    const backend = fakeBackend({
      list_jobs: () => [job],
      cancel_job: () => ({ ...job, state: 'cancelled' }),
    });
    await renderApp();

    await click(button(job.id, 'job-action-cancel'));
    expect(argsOf(backend, 'cancel_job')).toEqual([]);
    await click(within(row(job.id)).getByTestId('job-cancel-confirm'));
    expect(argsOf(backend, 'cancel_job')).toEqual([{ id: job.id }]);
    expect(badge(job.id)).toBe('Cancelled');
  });

  it('keeps the cancel question through progress, and withdraws it when the state changes', async () => {
    const job = makeJob({ state: 'uploading', size: 200, bytesDone: 20 });
    fakeBackend({ list_jobs: () => [job] });
    await renderApp();

    await click(button(job.id, 'job-action-cancel'));
    await event({ ...job, bytesDone: 120 });
    expect(within(row(job.id)).getByTestId('job-percent').textContent).toBe('60%');
    expect(screen.getByText('Cancel upload?')).toBeTruthy();

    await event({ ...job, state: 'copying', stage: 'copy', bytesDone: 200 });
    expect(screen.queryByText('Cancel upload?')).toBeNull();
    expect(actionsOf(job.id)).toEqual(['job-action-cancel']);
  });

  it('retries a failed job', async () => {
    const error = makeProblem({
      code: 'storage-unreachable',
      message: 'Streamdrop could not reach the storage. Check the network connection, then retry.',
      detail: 'dispatch failure: connection reset by peer',
    });
    const job = makeJob({ fileName: 'A008.mov', state: 'failed', error });
    const backend = fakeBackend({
      list_jobs: () => [job],
      retry_job: () => ({ ...job, state: 'queued', error: null }),
    });
    await renderApp();
    expect(within(row(job.id)).getByTestId('job-error').textContent).toBe(error.message);

    await click(screen.getByRole('button', { name: 'Retry A008.mov' }));

    expect(argsOf(backend, 'retry_job')).toEqual([{ id: job.id }]);
    expect(row(job.id).dataset.state).toBe('queued');
    expect(within(row(job.id)).queryByTestId('job-error')).toBeNull();
    expect(actionsOf(job.id)).toEqual(['job-action-pause', 'job-action-cancel']);

    await event({ ...job, state: 'uploading', error: null, size: 100, bytesDone: 10 });
    expect(within(row(job.id)).getByTestId('job-percent').textContent).toBe('10%');
  });

  it('does not let a command result undo events that overtook it', async () => {
    // A tiny file retried: uploading and copying are emitted before the
    // "queued" reply reaches the UI.
    const job = makeJob({ state: 'failed', error: makeProblem(), size: 10 });
    const reply = deferred<JobView>();
    fakeBackend({ list_jobs: () => [job], retry_job: () => reply.promise });
    await renderApp();

    await click(button(job.id, 'job-action-retry'));
    await event({ ...job, state: 'uploading', error: null });
    await event({ ...job, state: 'copying', stage: 'copy', error: null, bytesDone: 10 });
    reply.resolve({ ...job, state: 'queued', error: null });
    await settle();

    expect(row(job.id).dataset.state).toBe('copying');
    expect(badge(job.id)).toBe('Copying');
  });
});

describe('job updates when states can move backwards', () => {
  it('applies paused → queued after an earlier uploading event', async () => {
    const job = makeJob({ state: 'queued', size: 100 });
    fakeBackend({ list_jobs: () => [job] });
    await renderApp();

    await event({ ...job, state: 'uploading', bytesDone: 80 });
    expect(row(job.id).dataset.state).toBe('uploading');
    await event({ ...job, state: 'paused', bytesDone: 0 });
    expect(row(job.id).dataset.state).toBe('paused');
    await event({ ...job, state: 'queued', bytesDone: 0 });

    expect(row(job.id).dataset.state).toBe('queued');
    expect(badge(job.id)).toBe('Queued');
    expect(within(row(job.id)).queryByRole('progressbar')).toBeNull();
  });

  it('keeps an event that arrived before a stale list_jobs snapshot', async () => {
    const job = makeJob({ state: 'uploading', size: 100 });
    const snapshot = deferred<JobView[]>();
    fakeBackend({ list_jobs: () => snapshot.promise });
    await renderApp();

    // Paused and resumed while list_jobs was being answered.
    await event({ ...job, state: 'queued', bytesDone: 0 });
    snapshot.resolve([{ ...job, state: 'uploading', bytesDone: 80 }]);
    await settle();

    expect(rows()).toHaveLength(1);
    expect(row(job.id).dataset.state).toBe('queued');
  });

  it("does not let an intake report's copy undo the job's own newer events", async () => {
    fakeBackend();
    await renderApp();
    const job = makeJob({ fileName: 'C0100.MP4', state: 'queued', size: 100 });

    await event({ ...job, state: 'uploading', bytesDone: 30 });
    const report: IntakeReport = { ...EMPTY_REPORT, accepted: [job], rejected: [] };
    await emit('intake', report);
    await settle();

    expect(rows()).toHaveLength(1);
    expect(row(job.id).dataset.state).toBe('uploading');
    expect(within(row(job.id)).getByTestId('job-percent').textContent).toBe('30%');
  });

  it('shows rate and time left while uploading, and drops them once the upload is done', async () => {
    const job = makeJob({ state: 'uploading', size: 1000 * MB, bytesDone: 0 });
    fakeBackend({ list_jobs: () => [job] });
    await renderApp();
    // Rate still unknown: nothing to show yet.
    expect(within(row(job.id)).queryByTestId('job-rate')).toBeNull();

    await event({ ...job, bytesDone: 10 * MB, rateBps: Math.round(12.4 * MB), etaSeconds: 80 });
    expect(within(row(job.id)).getByTestId('job-rate').textContent).toBe('12.4 MB/s · 1 min 20 s left');

    await event({ ...job, bytesDone: 500 * MB, rateBps: 20 * MB, etaSeconds: 3720 });
    expect(within(row(job.id)).getByTestId('job-rate').textContent).toBe('20.0 MB/s · 1 h 2 min left');

    await event({ ...job, state: 'copying', stage: 'copy', bytesDone: 1000 * MB, rateBps: null, etaSeconds: null });
    expect(within(row(job.id)).queryByTestId('job-rate')).toBeNull();
    expect(row(job.id).textContent).not.toMatch(/ left|B\/s/);
  });
});
