import { describe, expect, it } from 'vitest';
import type { ProblemView, Rejection } from './ipc';
import { addError, addNote, addProblem, addRejections, asProblem, dismiss, displayName, errorText } from './notices';

describe('displayName', () => {
  it.each([
    ['/Users/ed/Desktop/holiday/', 'holiday/'],
    ['/Users/ed/Desktop/holiday', 'holiday'],
    ['C:\\footage\\day1\\', 'day1/'],
    ['C:\\footage\\C0001.MP4', 'C0001.MP4'],
    ['clip.mov', 'clip.mov'],
    ['/', '/'],
  ])('%s → %s', (path, expected) => {
    expect(displayName(path)).toBe(expected);
  });
});

function rejection(path: string, code: ProblemView['code'], message: string, detail: string | null = null): Rejection {
  const problem: ProblemView = { code, message, params: {}, remedy: 'none', detail };
  return { path, fileName: displayName(path).replace(/\/$/, ''), problem };
}

const FOLDER = rejection('/a/holiday/', 'folder', 'holiday is a folder. Drop the video files inside it instead.');
const TEXT = rejection(
  '/a/readme.txt',
  'not-media',
  'readme.txt is not a video or audio file Streamdrop can read.',
  'ffprobe: Invalid data found when processing input',
);

describe('notices', () => {
  it("creates one dismissable notice per rejection, showing the problem's sentence", () => {
    const notices = addRejections([], [FOLDER, TEXT]);
    expect(notices.map((n) => n.message)).toEqual([
      'holiday is a folder. Drop the video files inside it instead.',
      'readme.txt is not a video or audio file Streamdrop can read.',
    ]);
    // The sentence names the file already: no lead-in repeating it.
    expect(notices.every((n) => n.title === undefined)).toBe(true);
    expect(notices.map((n) => n.subject)).toEqual(['holiday', 'readme.txt']);
    expect(new Set(notices.map((n) => n.key)).size).toBe(2);

    const remaining = dismiss(notices, notices[0].key);
    expect(remaining.map((n) => n.subject)).toEqual(['readme.txt']);
  });

  it('keeps the path and the raw detail behind Details, and all of it in the report', () => {
    const [notice] = addRejections([], [TEXT]);
    expect(notice.details).toEqual([
      { label: 'Path', value: '/a/readme.txt' },
      { label: 'Details', value: 'ffprobe: Invalid data found when processing input' },
      { label: 'Code', value: 'not-media' },
    ]);
    expect(notice.report).toContain('readme.txt is not a video or audio file Streamdrop can read.');
    expect(notice.report).toContain('Path: /a/readme.txt');
    expect(notice.report).toContain('Details: ffprobe: Invalid data found when processing input');
    expect(notice.report).toContain('Code: not-media');

    const [bare] = addRejections([], [FOLDER]);
    expect(bare.details?.find((l) => l.label === 'Details')?.value).toBe('No further details were recorded.');
  });

  it('does not stack a rejection of the same path for the same reason', () => {
    const once = addRejections([], [FOLDER]);
    // The same problem, reworded (say, by a newer backend), is still the same.
    const twice = addRejections(once, [{ ...FOLDER, problem: { ...FOLDER.problem, message: 'reworded' } }]);
    expect(twice).toHaveLength(1);
  });

  it('keeps rejections of the same path for different reasons, and of other paths for the same one', () => {
    const once = addRejections([], [TEXT]);
    const changed = addRejections(once, [{ ...TEXT, problem: { ...TEXT.problem, code: 'file-unreadable' } }]);
    expect(changed).toHaveLength(2);
    const other = addRejections(once, [{ ...TEXT, path: '/b/readme.txt' }]);
    expect(other).toHaveLength(2);
  });

  it('reads error messages from what Tauri commands reject with', () => {
    expect(errorText('plain string')).toBe('plain string');
    expect(errorText(new Error('boom'))).toBe('boom');
    expect(errorText({ message: 'structured' })).toBe('structured');
    expect(errorText(42)).toBe('Unexpected error');
    expect(addError([], 'Could not add files', 'nope')[0]).toMatchObject({
      kind: 'error',
      subject: 'Could not add files',
      title: 'Could not add files',
      message: 'nope',
    });
    expect(addError([], 'Could not add files', 'nope')[0].details).toBeUndefined();
  });

  it('puts the detail of a command that rejects with a problem behind Details', () => {
    const problem = { code: 'data-dir', message: 'Streamdrop could not write to its data folder.', remedy: 'retry', detail: 'ENOSPC' };
    const [notice] = addError([], 'Could not retry A.mov', problem);
    expect(notice.message).toBe('Streamdrop could not write to its data folder.');
    expect(notice.details).toContainEqual({ label: 'Details', value: 'ENOSPC' });
    expect(notice.report).toContain('Could not retry A.mov');
  });

  it('shows a problem with no file behind it as its own sentence', () => {
    const [notice] = addProblem([], 'Streamdrop could not start', {
      code: 'internal',
      message: 'Something went wrong inside Streamdrop.',
      params: {},
      remedy: 'retry',
      detail: 'keyring: no secret service',
    });
    expect(notice).toMatchObject({ kind: 'error', subject: 'Streamdrop could not start', message: 'Something went wrong inside Streamdrop.' });
    expect(notice.title).toBeUndefined();
    expect(notice.report).toContain('keyring: no secret service');
  });

  it('adds a note once', () => {
    const note: ProblemView = {
      code: 'keychain-unavailable',
      message: 'The keychain could not be opened, so links made now stop working when Streamdrop quits.',
      params: {},
      remedy: 'none',
      detail: 'SS error: prompt dismissed',
    };
    const notes = addNote(addNote([], note), note);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ kind: 'note', message: note.message, code: 'keychain-unavailable' });
    expect(notes[0].report).toContain('SS error: prompt dismissed');
  });
});

describe('asProblem', () => {
  it('recognises a ProblemView and nothing else', () => {
    expect(asProblem({ code: 'x', message: 'y', remedy: 'add-again', detail: null })).toEqual({
      code: 'x',
      message: 'y',
      params: {},
      remedy: 'add-again',
      detail: null,
    });
    expect(asProblem({ code: 'job-not-found', message: 'm', params: { job: 'j1' }, remedy: 'none' })?.params).toEqual({
      job: 'j1',
    });
    expect(asProblem('a string')).toBeNull();
    expect(asProblem(new Error('boom'))).toBeNull();
    expect(asProblem({ message: 'no code' })).toBeNull();
  });
});
