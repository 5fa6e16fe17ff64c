// Closing the window while work runs: the backend asks (quit-requested), the
// window asks the person, and only "Quit" confirms (confirm_quit).
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { emit } from '@tauri-apps/api/event';
import App from './App.svelte';
import type { QuitRequest } from './lib/ipc';
import { deferred, fakeBackend, makeJob, resetBackend, settle } from './test/fake-backend';

afterEach(() => resetBackend(cleanup));

async function requestQuit(running: number): Promise<void> {
  await emit('quit-requested', { running } satisfies QuitRequest);
  await settle();
}

/** Everything behind the dialog (Svelte sets `inert` as a property, which jsdom does not reflect). */
const page = () => document.querySelector('.app') as HTMLElement;

const quitCalls = (backend: ReturnType<typeof fakeBackend>) => backend.commands().filter((c) => c === 'confirm_quit');

/** The app with one queued job, focus on its Pause button (where a person might be). */
async function renderWithFocus(overrides: Record<string, (args: unknown) => unknown> = {}) {
  const job = makeJob({ fileName: 'Q001.mov', state: 'queued' });
  const backend = fakeBackend({ list_jobs: () => [job], confirm_quit: () => null, ...overrides });
  render(App);
  await settle();
  const pause = screen.getByRole('button', { name: 'Pause Q001.mov' });
  pause.focus();
  return { backend, pause };
}

describe('quit confirmation', () => {
  it('asks in a modal dialog, naming how many jobs still run', async () => {
    const { backend } = await renderWithFocus();
    expect(screen.queryByTestId('quit-dialog')).toBeNull();

    await requestQuit(3);

    const dialog = screen.getByRole('dialog', { name: 'Quit Streamdrop?' });
    expect(dialog.dataset.testid).toBe('quit-dialog');
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(within(dialog).getByTestId('quit-message').textContent).toBe(
      '3 jobs are still running. They will pick up where they left off the next time you open Streamdrop.',
    );
    expect(dialog.getAttribute('aria-describedby')).toBe(within(dialog).getByTestId('quit-message').id);
    // The safe answer has focus, and the page behind cannot be used.
    expect(document.activeElement).toBe(within(dialog).getByTestId('quit-keep'));
    expect(within(dialog).getByTestId('quit-keep').textContent?.trim()).toBe('Keep working');
    expect(page().inert).toBe(true);
    expect(quitCalls(backend)).toEqual([]);
  });

  it('says "1 job is still running" for one', async () => {
    await renderWithFocus();
    await requestQuit(1);
    expect(screen.getByTestId('quit-message').textContent).toBe(
      '1 job is still running. It will pick up where it left off the next time you open Streamdrop.',
    );
  });

  it('"Keep working" closes it without quitting and hands focus back', async () => {
    const { backend, pause } = await renderWithFocus();
    await requestQuit(2);

    await fireEvent.click(screen.getByTestId('quit-keep'));
    await settle();

    expect(screen.queryByTestId('quit-dialog')).toBeNull();
    expect(quitCalls(backend)).toEqual([]);
    expect(document.activeElement).toBe(pause);
    expect(page().inert).toBe(false);
  });

  it('Escape keeps working too', async () => {
    const { backend, pause } = await renderWithFocus();
    await requestQuit(2);

    await fireEvent.keyDown(screen.getByTestId('quit-keep'), { key: 'Escape' });
    await settle();

    expect(screen.queryByTestId('quit-dialog')).toBeNull();
    expect(quitCalls(backend)).toEqual([]);
    expect(document.activeElement).toBe(pause);
  });

  it('"Quit" confirms with confirm_quit', async () => {
    const reply = deferred<null>();
    const { backend } = await renderWithFocus({ confirm_quit: () => reply.promise });
    await requestQuit(2);

    await fireEvent.click(screen.getByTestId('quit-confirm'));
    await settle();

    expect(quitCalls(backend)).toEqual(['confirm_quit']);
    expect(backend.calls.find((c) => c.cmd === 'confirm_quit')?.args).toEqual({});
    // No second confirm while the first is on its way.
    expect((screen.getByTestId('quit-confirm') as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(screen.getByTestId('quit-confirm'));
    await settle();
    expect(quitCalls(backend)).toEqual(['confirm_quit']);
    reply.resolve(null);
    await settle();
  });

  it('says so, and stays open, when quitting fails', async () => {
    await renderWithFocus({ confirm_quit: () => Promise.reject('window already closed') });
    await requestQuit(1);

    await fireEvent.click(screen.getByTestId('quit-confirm'));
    await settle();

    expect(screen.getByTestId('quit-error').textContent).toBe(
      'Streamdrop could not quit (window already closed). Try again, or keep working.',
    );
    expect((screen.getByTestId('quit-confirm') as HTMLButtonElement).disabled).toBe(false);
  });

  it('keeps Tab inside the dialog', async () => {
    await renderWithFocus();
    await requestQuit(2);
    const keep = screen.getByTestId('quit-keep');
    const quit = screen.getByTestId('quit-confirm');

    // jsdom does not move focus on Tab; the dialog wraps it at the edges.
    quit.focus();
    await fireEvent.keyDown(quit, { key: 'Tab' });
    expect(document.activeElement).toBe(keep);
    await fireEvent.keyDown(keep, { key: 'Tab', shiftKey: true });
    expect(document.activeElement).toBe(quit);
  });

  it('a second request while open only updates the count', async () => {
    const { pause } = await renderWithFocus();
    await requestQuit(2);
    await requestQuit(1);

    expect(screen.getAllByTestId('quit-dialog')).toHaveLength(1);
    expect(screen.getByTestId('quit-message').textContent).toMatch(/^1 job is still running/);
    await fireEvent.click(screen.getByTestId('quit-keep'));
    await settle();
    expect(document.activeElement).toBe(pause);
  });
});
