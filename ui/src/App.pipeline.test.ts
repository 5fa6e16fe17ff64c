// Rows for the stages after the upload: copy to the distribution bucket,
// transcode to HLS, ready.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { emit } from '@tauri-apps/api/event';
import App from './App.svelte';
import type { JobView } from './lib/ipc';
import jobRowSource from './lib/JobRow.svelte?raw';
import { fakeBackend, makeJob, makeProblem, resetBackend, settle } from './test/fake-backend';

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

  it("shows a transcode failure's sentence and retries from that stage", async () => {
    const error = makeProblem({
      code: 'transcode-failed',
      message: 'ffmpeg could not convert B001.mov. See Details; retry if the cause has passed.',
      detail: 'Stream #0:0: Invalid data found when processing input',
    });
    const job = makeJob({ fileName: 'B001.mov', state: 'failed', stage: 'transcode', error });
    const backend = await renderWith([job]);
    backend.calls.length = 0;

    expect(badge(job.id).textContent).toBe('Failed');
    expect(within(row(job.id)).getByTestId('job-error').textContent).toBe(error.message);

    await fireEvent.click(screen.getByRole('button', { name: 'Retry B001.mov' }));
    await settle();
    expect(backend.calls).toEqual([{ cmd: 'retry_job', args: { id: job.id } }]);
  });

  it('says what stopped, and what to do, for a failure that carries no problem', async () => {
    const job = makeJob({ state: 'failed', stage: 'copy', error: null });
    await renderWith([job]);
    expect(within(row(job.id)).getByTestId('job-error').textContent).toBe(
      'The copy stopped without saying why. Retry it; if it fails again, copy the details into a bug report.',
    );
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

describe('what a row says while work is under way', () => {
  it('says "Waiting" while the transcoder has not started, and "Transcoding" once it has', async () => {
    const job = makeJob({ fileName: 'W001.mov', state: 'transcoding', waiting: true, transcodePercent: 0 });
    await renderWith([job]);

    expect(badge(job.id).textContent).toBe('Waiting');
    const bar = within(row(job.id)).getByRole('progressbar', { name: 'Transcode progress' });
    expect(bar.dataset.indeterminate).toBe('true');
    expect(bar.getAttribute('aria-valuetext')).toBe('Waiting to transcode');
    expect(within(row(job.id)).getByTestId('job-progress-label').textContent).toBe('Waiting to transcode');
    // A reported 0% means nothing while queued: no percent.
    expect(within(row(job.id)).queryByTestId('job-percent')).toBeNull();
    expect(row(job.id).textContent).not.toContain('Transcoding');

    await event({ ...job, waiting: false, transcodePercent: 5 });
    expect(badge(job.id).textContent).toBe('Transcoding');
    expect(within(row(job.id)).queryByTestId('job-progress-label')).toBeNull();
    expect(within(row(job.id)).getByTestId('job-percent').textContent).toBe('5%');
  });

  it('says "Finishing upload…" once every byte is sent, not "100% · 0 s left"', async () => {
    const job = makeJob({ state: 'uploading', size: 1000, bytesDone: 900, rateBps: 500, etaSeconds: 0.2 });
    await renderWith([job]);
    expect(within(row(job.id)).queryByTestId('job-finishing')).toBeNull();
    expect(within(row(job.id)).getByTestId('job-rate').textContent).toBe('500 B/s · 0 s left');

    await event({ ...job, bytesDone: 1000, rateBps: 400, etaSeconds: 0 });

    expect(within(row(job.id)).getByTestId('job-finishing').textContent).toBe('Finishing upload…');
    expect(within(row(job.id)).queryByTestId('job-rate')).toBeNull();
    expect(within(row(job.id)).queryByTestId('job-percent')).toBeNull();
    expect(row(job.id).textContent).not.toMatch(/ left|B\/s|100%/);
    const bar = within(row(job.id)).getByRole('progressbar', { name: 'Upload progress' });
    expect(bar.getAttribute('aria-valuenow')).toBe('100');
    expect(bar.getAttribute('aria-valuetext')).toBe('Finishing upload');
    expect(badge(job.id).textContent).toBe('Uploading');

    await event({ ...job, state: 'copying', stage: 'copy', bytesDone: 1000, rateBps: null, etaSeconds: null });
    expect(within(row(job.id)).queryByTestId('job-finishing')).toBeNull();
  });

  it('notes how much a resumed upload had already sent', async () => {
    const job = makeJob({ state: 'uploading', size: 1000, bytesDone: 700, bytesResumed: 610, rateBps: 100, etaSeconds: 3 });
    const fresh = makeJob({ state: 'uploading', size: 1000, bytesDone: 700 });
    await renderWith([job, fresh]);

    expect(within(row(job.id)).getByTestId('job-resumed').textContent).toBe('Resumed — 61% was already sent');
    expect(within(row(fresh.id)).queryByTestId('job-resumed')).toBeNull();

    await event({ ...job, state: 'paused', rateBps: null, etaSeconds: null });
    expect(within(row(job.id)).getByTestId('job-resumed').textContent).toBe('Resumed — 61% was already sent');

    await event({ ...job, state: 'copying', stage: 'copy', bytesDone: 1000 });
    expect(within(row(job.id)).queryByTestId('job-resumed')).toBeNull();
  });

  it('lists one drop in the order its files were dropped, newest drop first', async () => {
    // Ids sort against the drop order, as random UUIDs may.
    const drop = (batchId: string, createdAt: number, names: string[]) =>
      names.map((fileName, position) =>
        makeJob({ id: `id-${names.length - position}-${batchId}`, fileName, batchId, position, createdAt }),
      );
    const earlier = drop('b-1', 1000, ['C0001.MP4', 'C0002.MP4']);
    const later = drop('b-2', 2000, ['C0010.MP4', 'C0011.MP4', 'C0012.MP4']);
    await renderWith([...earlier, ...later].reverse());

    const names = () => screen.getAllByTestId('job-row').map((r) => r.querySelector('.name')?.textContent);
    expect(names()).toEqual(['C0010.MP4', 'C0011.MP4', 'C0012.MP4', 'C0001.MP4', 'C0002.MP4']);

    // Progress of a later file does not move it.
    await event({ ...later[2], state: 'uploading', bytesDone: 5 });
    expect(names()).toEqual(['C0010.MP4', 'C0011.MP4', 'C0012.MP4', 'C0001.MP4', 'C0002.MP4']);
  });

  it('shows nothing technical: no storage location in any state', async () => {
    const states = ['queued', 'uploading', 'paused', 'copying', 'transcoding', 'ready', 'failed', 'cancelled'] as const;
    const jobs = states.map((state) =>
      makeJob({ state, location: `s3://streamdrop-dist/jobs/${state}/original/clip.mov`, error: state === 'failed' ? makeProblem() : null }),
    );
    await renderWith(jobs);
    for (const job of jobs) {
      expect(row(job.id).textContent).not.toContain('s3://');
      expect(row(job.id).innerHTML).not.toContain('s3://');
    }
  });
});
