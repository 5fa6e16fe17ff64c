// Rows for the stages after the upload: copy to the distribution bucket,
// transcode to HLS, ready.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { emit } from '@tauri-apps/api/event';
import App from './App.svelte';
import type { JobView } from './lib/ipc';
import jobRowSource from './lib/JobRow.svelte?raw';
import { fakeBackend, makeJob, resetBackend, settle } from './test/fake-backend';

afterEach(() => resetBackend(cleanup));

function row(id: string): HTMLElement {
  const found = screen.queryAllByTestId('job-row').find((r) => r.dataset.jobId === id);
  if (!found) throw new Error(`no row for job ${id}`);
  return found;
}

const badge = (id: string) => within(row(id)).getByTestId('job-state');

async function renderWith(jobs: JobView[]) {
  const backend = fakeBackend({ list_jobs: () => jobs });
  render(App);
  await settle();
  return backend;
}

async function event(job: JobView): Promise<void> {
  await emit('job-updated', job);
  await settle();
}

describe('pipeline stages in the job list', () => {
  it('says which stage a queued job waits for', async () => {
    const upload = makeJob({ state: 'queued', stage: 'upload' });
    const copy = makeJob({ state: 'queued', stage: 'copy', bytesDone: 100, size: 100 });
    const transcode = makeJob({ state: 'queued', stage: 'transcode', bytesDone: 100, size: 100 });
    await renderWith([upload, copy, transcode]);

    expect(badge(upload.id).textContent).toBe('Queued');
    expect(badge(copy.id).textContent).toBe('Queued · copy');
    expect(badge(transcode.id).textContent).toBe('Queued · transcode');
    for (const job of [upload, copy, transcode]) {
      expect(row(job.id).dataset.state).toBe('queued');
      expect(within(row(job.id)).queryByRole('progressbar')).toBeNull();
    }
  });

  it('shows an indeterminate bar while copying, without percent or rate', async () => {
    const job = makeJob({ state: 'copying', size: 500, bytesDone: 500 });
    await renderWith([job]);

    expect(badge(job.id).textContent).toBe('Copying');
    expect(badge(job.id).classList.contains('copying')).toBe(true);
    const bar = within(row(job.id)).getByRole('progressbar', { name: 'Copy progress' });
    expect(bar.dataset.indeterminate).toBe('true');
    expect(bar.hasAttribute('aria-valuenow')).toBe(false);
    expect(within(row(job.id)).queryByTestId('job-percent')).toBeNull();
    expect(within(row(job.id)).queryByTestId('job-rate')).toBeNull();
  });

  it('shows the transcode percentage, indeterminate until the transcoder reports one', async () => {
    const job = makeJob({ state: 'transcoding', size: 500, bytesDone: 500, transcodePercent: null });
    await renderWith([job]);

    expect(badge(job.id).textContent).toBe('Transcoding');
    let bar = within(row(job.id)).getByRole('progressbar', { name: 'Transcode progress' });
    expect(bar.dataset.indeterminate).toBe('true');
    expect(within(row(job.id)).queryByTestId('job-percent')).toBeNull();

    await event({ ...job, transcodePercent: 63.8 });
    bar = within(row(job.id)).getByRole('progressbar', { name: 'Transcode progress' });
    expect(bar.dataset.indeterminate).toBeUndefined();
    expect(bar.getAttribute('aria-valuenow')).toBe('63');
    expect(within(row(job.id)).getByTestId('job-percent').textContent).toBe('63%');
    expect((bar.firstElementChild as HTMLElement).style.width).toBe('63%');
    expect(within(row(job.id)).queryByTestId('job-rate')).toBeNull();
  });

  it('keeps the upload bar labelled as such', async () => {
    const job = makeJob({ state: 'uploading', size: 400, bytesDone: 100, rateBps: 2048, etaSeconds: 2 });
    await renderWith([job]);
    const bar = within(row(job.id)).getByRole('progressbar', { name: 'Upload progress' });
    expect(bar.getAttribute('aria-valuenow')).toBe('25');
    expect(within(row(job.id)).getByTestId('job-rate').textContent).toBe('2.0 KB/s · 2 s left');
  });

  it('shows Ready in the success colour, with no bar and no job commands', async () => {
    const job = makeJob({ state: 'ready', stage: null, size: 500, bytesDone: 500 });
    await renderWith([job]);

    expect(badge(job.id).textContent).toBe('Ready');
    expect(badge(job.id).classList.contains('ready')).toBe(true);
    expect(within(row(job.id)).queryByRole('progressbar')).toBeNull();
    for (const action of ['pause', 'resume', 'cancel', 'retry']) {
      expect(within(row(job.id)).queryByTestId(`job-action-${action}`)).toBeNull();
    }
    // jsdom applies no component CSS, so check the rule itself: an end-to-end
    // test finds Ready rows by the --ok green (#17803d in light mode).
    expect(jobRowSource).toMatch(/\.badge\.ready\s*\{\s*color:\s*var\(--ok\);/);
  });

  it('names the stage that failed and retries from it', async () => {
    const job = makeJob({ fileName: 'B001.mov', state: 'failed', stage: 'transcode', error: 'no video stream' });
    const backend = await renderWith([job]);
    backend.calls.length = 0;

    expect(badge(job.id).textContent).toBe('Failed');
    expect(within(row(job.id)).getByTestId('job-error').textContent).toBe('Transcode failed: no video stream');

    await fireEvent.click(screen.getByRole('button', { name: 'Retry B001.mov' }));
    await settle();
    expect(backend.calls).toEqual([{ cmd: 'retry_job', args: { id: job.id } }]);
  });

  it('shows a copy failure with its stage', async () => {
    const job = makeJob({ state: 'failed', stage: 'copy', error: 'AccessDenied' });
    await renderWith([job]);
    expect(within(row(job.id)).getByTestId('job-error').textContent).toBe('Copy failed: AccessDenied');
  });

  it('asks before cancelling a transcode in progress', async () => {
    const job = makeJob({ fileName: 'B002.mov', state: 'transcoding', transcodePercent: 10 });
    const backend = fakeBackend({
      list_jobs: () => [job],
      cancel_job: () => ({ ...job, state: 'cancelled', stage: null }),
    });
    render(App);
    await settle();

    await fireEvent.click(screen.getByRole('button', { name: 'Cancel B002.mov' }));
    await settle();
    expect(backend.commands()).not.toContain('cancel_job');
    const question = within(row(job.id)).getByRole('group', { name: 'Cancel transcode of B002.mov?' });
    expect(question.textContent).toContain('Cancel transcode?');

    await fireEvent.click(within(question).getByRole('button', { name: 'Yes, cancel B002.mov' }));
    await settle();
    expect(backend.calls.filter((c) => c.cmd === 'cancel_job').map((c) => c.args)).toEqual([{ id: job.id }]);
    expect(badge(job.id).textContent).toBe('Cancelled');
  });

  it('cancels a job queued for a later stage without asking, and offers no pause', async () => {
    const job = makeJob({ fileName: 'B003.mov', state: 'queued', stage: 'transcode' });
    const backend = fakeBackend({
      list_jobs: () => [job],
      cancel_job: () => ({ ...job, state: 'cancelled', stage: null }),
    });
    render(App);
    await settle();

    expect(screen.queryByRole('button', { name: 'Pause B003.mov' })).toBeNull();
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel B003.mov' }));
    await settle();
    expect(backend.commands()).toContain('cancel_job');
    expect(badge(job.id).textContent).toBe('Cancelled');
  });
});
