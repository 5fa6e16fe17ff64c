import { describe, expect, it } from 'vitest';
import { addError, addRejections, dismiss, displayName, errorText } from './notices';

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

describe('notices', () => {
  it('creates one dismissable notice per rejection', () => {
    const notices = addRejections([], [
      { path: '/a/holiday/', reason: 'is a folder, not a file' },
      { path: '/a/readme.txt', reason: 'is not a video file' },
    ]);
    expect(notices.map((n) => `${n.subject} — ${n.message}`)).toEqual([
      'holiday/ — is a folder, not a file',
      'readme.txt — is not a video file',
    ]);
    expect(new Set(notices.map((n) => n.key)).size).toBe(2);

    const remaining = dismiss(notices, notices[0].key);
    expect(remaining.map((n) => n.subject)).toEqual(['readme.txt']);
  });

  it('does not stack a rejection identical to one still shown', () => {
    const once = addRejections([], [{ path: '/a/x/', reason: 'is a folder, not a file' }]);
    const twice = addRejections(once, [{ path: '/a/x/', reason: 'is a folder, not a file' }]);
    expect(twice).toHaveLength(1);
  });

  it('reads error messages from what Tauri commands reject with', () => {
    expect(errorText('plain string')).toBe('plain string');
    expect(errorText(new Error('boom'))).toBe('boom');
    expect(errorText({ message: 'structured' })).toBe('structured');
    expect(errorText(42)).toBe('Unexpected error');
    expect(addError([], 'Could not add files', 'nope')[0]).toMatchObject({
      kind: 'error',
      subject: 'Could not add files',
      message: 'nope',
    });
  });
});
