// Problems as people see them: a plain sentence that says what to do, the
// raw detail only behind "Details", "Copy details" through Rust's clipboard,
// and a failed job's actions following its problem's remedy.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { emit } from '@tauri-apps/api/event';
import App from './App.svelte';
import type { IntakeReport, JobView, ProblemView } from './lib/ipc';
import { EMPTY_REPORT, LOCAL_STATUS, fakeBackend, makeJob, makeProblem, makeRejection, resetBackend, settle } from './test/fake-backend';

afterEach(() => resetBackend(cleanup));

function row(id: string): HTMLElement {
  const found = screen.queryAllByTestId('job-row').find((r) => r.dataset.jobId === id);
  if (!found) throw new Error(`no row for job ${id}`);
  return found;
}

async function click(el: HTMLElement): Promise<void> {
  await fireEvent.click(el);
  await settle();
}

async function intake(report: IntakeReport): Promise<void> {
  await emit('intake', report);
  await settle();
}

const copied = (backend: ReturnType<typeof fakeBackend>) =>
  backend.calls.filter((c) => c.cmd === 'copy_text').map((c) => (c.args as { text: string }).text);

const ACTION_IDS = ['job-action-pause', 'job-action-resume', 'job-action-cancel', 'job-action-retry', 'job-action-add-again'];

function actionsOf(id: string): string[] {
  return within(row(id))
    .queryAllByRole('button')
    .map((b) => b.dataset.testid ?? '')
    .filter((t) => ACTION_IDS.includes(t));
}

const NOT_MEDIA = makeRejection('/media/card/DCIM/notes.txt', {
  detail: 'ffprobe: /media/card/DCIM/notes.txt: Invalid data found when processing input',
});

describe('rejection notices', () => {
  it("show the problem's sentence, with the path and the raw detail behind Details", async () => {
    fakeBackend();
    render(App);
    await settle();
    await intake({ ...EMPTY_REPORT, accepted: [], rejected: [NOT_MEDIA] });

    const notice = screen.getByTestId('notice');
    expect(within(notice).getByTestId('notice-message').textContent?.trim()).toBe(
      'notes.txt is not a video or audio file Streamdrop can read.',
    );
    // Nothing raw until asked for.
    expect(notice.textContent).not.toContain('/media/card');
    expect(notice.textContent).not.toContain('ffprobe');
    expect(within(notice).queryByTestId('notice-details')).toBeNull();

    const toggle = within(notice).getByTestId('notice-details-toggle');
    expect(toggle.tagName).toBe('BUTTON');
    expect(toggle.textContent?.trim()).toBe('Details');
    expect(toggle.getAttribute('aria-expanded')).toBe('false');

    await click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    const panel = within(notice).getByTestId('notice-details');
    expect(toggle.getAttribute('aria-controls')).toBe(panel.id);
    expect(panel.textContent).toContain('/media/card/DCIM/notes.txt');
    expect(panel.textContent).toContain('Invalid data found when processing input');

    await click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(within(notice).queryByTestId('notice-details')).toBeNull();
  });

  it('copy the message, path and detail through copy_text', async () => {
    const backend = fakeBackend();
    render(App);
    await settle();
    await intake({ ...EMPTY_REPORT, accepted: [], rejected: [NOT_MEDIA] });

    await click(screen.getByTestId('notice-details-toggle'));
    await click(screen.getByTestId('notice-copy-details'));

    const [text] = copied(backend);
    expect(copied(backend)).toHaveLength(1);
    expect(text).toContain('notes.txt is not a video or audio file Streamdrop can read.');
    expect(text).toContain('/media/card/DCIM/notes.txt');
    expect(text).toContain('Invalid data found when processing input');
    expect(screen.getByTestId('notice-copy-details-done').textContent).toBe('Copied');
  });

  it('say plainly when the copy failed', async () => {
    fakeBackend({ copy_text: () => Promise.reject('clipboard unavailable') });
    render(App);
    await settle();
    await intake({ ...EMPTY_REPORT, accepted: [], rejected: [NOT_MEDIA] });

    await click(screen.getByTestId('notice-details-toggle'));
    await click(screen.getByTestId('notice-copy-details'));

    expect(screen.queryByTestId('notice-copy-details-done')).toBeNull();
    expect(screen.getByTestId('notice-copy-details-failed').textContent).toBe(
      'The details could not be put on the clipboard. Select the text above and copy it by hand.',
    );
  });

  it('are not stacked for the same path and reason, but are for another reason', async () => {
    fakeBackend();
    render(App);
    await settle();

    await intake({ ...EMPTY_REPORT, accepted: [], rejected: [NOT_MEDIA] });
    await intake({ ...EMPTY_REPORT, accepted: [], rejected: [NOT_MEDIA] });
    expect(screen.getAllByTestId('notice')).toHaveLength(1);

    const unreadable = makeRejection(NOT_MEDIA.path, {
      code: 'file-unreadable',
      remedy: 'retry',
      message: 'Streamdrop cannot read notes.txt. Check that you may open it, then retry.',
    });
    await intake({ ...EMPTY_REPORT, accepted: [], rejected: [unreadable] });
    expect(screen.getAllByTestId('notice')).toHaveLength(2);
  });
});

function failedJob(error: ProblemView, extra: Partial<JobView> = {}): JobView {
  return makeJob({ fileName: 'F001.mov', state: 'failed', stage: 'upload', error, ...extra });
}

const CHANGED = makeProblem({
  code: 'file-changed',
  remedy: 'add-again',
  message:
    'F001.mov changed after it was added — it may still be copying from the card. Add it again once the copy has finished.',
  detail: 'size 1048576 → 2097152, mtime 1700000000 → 1700000042',
});

describe('failed rows', () => {
  it('offer Retry and Cancel when retrying can help', async () => {
    const job = failedJob(makeProblem());
    fakeBackend({ list_jobs: () => [job] });
    render(App);
    await settle();
    expect(actionsOf(job.id)).toEqual(['job-action-retry', 'job-action-cancel']);
  });

  it('offer "Add again" and Cancel, not Retry, when the file must be read anew', async () => {
    const job = failedJob(CHANGED);
    const backend = fakeBackend({
      list_jobs: () => [job],
      add_again_job: () => ({ ...job, state: 'queued', error: null }),
    });
    render(App);
    await settle();

    expect(actionsOf(job.id)).toEqual(['job-action-add-again', 'job-action-cancel']);
    const addAgain = screen.getByRole('button', { name: 'Add F001.mov again' });
    expect(addAgain.textContent?.trim()).toBe('Add again');
    expect(within(row(job.id)).getByTestId('job-error').textContent).toBe(CHANGED.message);

    await click(addAgain);

    expect(backend.calls.filter((c) => c.cmd === 'add_again_job').map((c) => c.args)).toEqual([{ id: job.id }]);
    expect(backend.commands()).not.toContain('retry_job');
    expect(row(job.id).dataset.state).toBe('queued');
    expect(within(row(job.id)).queryByTestId('job-error')).toBeNull();
  });

  it('turn a refused "Add again" into a notice', async () => {
    const job = failedJob(CHANGED);
    fakeBackend({ list_jobs: () => [job], add_again_job: () => Promise.reject('the file is gone') });
    render(App);
    await settle();

    await click(screen.getByTestId('job-action-add-again'));

    expect(screen.getByTestId('notice').textContent).toContain('Could not add F001.mov again');
    expect(screen.getByTestId('notice').textContent).toContain('the file is gone');
    expect(row(job.id).dataset.state).toBe('failed');
  });

  it('offer only Cancel when nothing can help, and Retry again once cancelled', async () => {
    const job = failedJob(
      makeProblem({ code: 'not-media', remedy: 'none', message: 'F001.mov is not a video or audio file Streamdrop can read.' }),
    );
    fakeBackend({ list_jobs: () => [job], cancel_job: () => ({ ...job, state: 'cancelled', stage: null, error: null }) });
    render(App);
    await settle();

    expect(actionsOf(job.id)).toEqual(['job-action-cancel']);
    await click(screen.getByTestId('job-action-cancel'));
    expect(actionsOf(job.id)).toEqual(['job-action-retry']);
  });

  it('keep the raw detail behind Details, and copy a report through copy_text', async () => {
    const error = makeProblem();
    const job = failedJob(error, { stage: 'copy' });
    const backend = fakeBackend({ list_jobs: () => [job] });
    render(App);
    await settle();

    const failed = row(job.id);
    expect(failed.textContent).not.toContain('Request ID');
    const toggle = within(failed).getByTestId('job-error-details-toggle');
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(toggle.getAttribute('aria-label')).toBe('Details about F001.mov');
    expect(within(failed).queryByTestId('job-copy-details')).toBeNull();

    await click(toggle);
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    const panel = within(failed).getByTestId('job-error-details');
    expect(panel.textContent).toContain(error.detail);
    expect(panel.textContent).toContain('storage-denied');

    await click(within(failed).getByTestId('job-copy-details'));
    expect(copied(backend)).toEqual([
      [
        'File: F001.mov',
        'Stage: copy',
        `Problem: ${error.message}`,
        'Code: storage-denied',
        `Details: ${error.detail}`,
        `Log file: ${LOCAL_STATUS.logFile}`,
      ].join('\n'),
    ]);
    expect(within(failed).getByTestId('job-copy-details-done').textContent).toBe('Copied');
  });

  it("name the app's log file and show it in the file manager with one click", async () => {
    const job = failedJob(makeProblem());
    const backend = fakeBackend({ list_jobs: () => [job] });
    render(App);
    await settle();

    await click(within(row(job.id)).getByTestId('job-error-details-toggle'));
    const panel = within(row(job.id)).getByTestId('job-error-details');
    expect(panel.textContent).toContain(`Log file ${LOCAL_STATUS.logFile}`);
    await click(within(row(job.id)).getByTestId('job-copy-details-show-log'));
    expect(backend.calls.filter((c) => c.cmd === 'show_log_file')).toHaveLength(1);
    expect(within(row(job.id)).queryByTestId('job-copy-details-show-log-failed')).toBeNull();
  });

  it('say where the log is when no file manager opens', async () => {
    const job = failedJob(makeProblem());
    const refusal = makeProblem({
      code: 'cannot-show-file',
      message: `Streamdrop could not open a file manager. The file is ${LOCAL_STATUS.logFile}: open it from a file manager or a terminal.`,
    });
    fakeBackend({ list_jobs: () => [job], show_log_file: () => Promise.reject(refusal) });
    render(App);
    await settle();

    await click(within(row(job.id)).getByTestId('job-error-details-toggle'));
    await click(within(row(job.id)).getByTestId('job-copy-details-show-log'));
    expect(within(row(job.id)).getByTestId('job-copy-details-show-log-failed').textContent).toBe(refusal.message);
  });

  it('say so in the row when the copy fails', async () => {
    const job = failedJob(makeProblem());
    fakeBackend({ list_jobs: () => [job], copy_text: () => Promise.reject('no clipboard') });
    render(App);
    await settle();

    await click(within(row(job.id)).getByTestId('job-error-details-toggle'));
    await click(within(row(job.id)).getByTestId('job-copy-details'));

    expect(within(row(job.id)).getByTestId('job-copy-details-failed').textContent).toBe(
      'The details could not be put on the clipboard. Select the text above and copy it by hand.',
    );
    expect(within(row(job.id)).queryByTestId('job-copy-details-done')).toBeNull();
    // The row's own sentence stays as it was.
    expect(within(row(job.id)).getByTestId('job-error').textContent).toBe(makeProblem().message);
  });

  it('follow a remedy that changes with the next failure', async () => {
    const job = failedJob(makeProblem());
    fakeBackend({ list_jobs: () => [job] });
    render(App);
    await settle();
    expect(actionsOf(job.id)).toEqual(['job-action-retry', 'job-action-cancel']);

    await emit('job-updated', { ...job, error: CHANGED } satisfies JobView);
    await settle();
    expect(actionsOf(job.id)).toEqual(['job-action-add-again', 'job-action-cancel']);
    expect(within(row(job.id)).getByTestId('job-error').textContent).toBe(CHANGED.message);
  });
});
