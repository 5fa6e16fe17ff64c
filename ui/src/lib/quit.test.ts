import { describe, expect, it } from 'vitest';
import { quitMessage } from './quit';

describe('quitMessage', () => {
  it('says how many jobs run, in the right number, and that they will resume', () => {
    expect(quitMessage(1)).toBe(
      '1 job is still running. It will pick up where it left off the next time you open Streamdrop.',
    );
    expect(quitMessage(3)).toBe(
      '3 jobs are still running. They will pick up where they left off the next time you open Streamdrop.',
    );
  });

  it('does not claim work that is not there', () => {
    expect(quitMessage(0)).toBe('Nothing is running any more, so nothing will be lost.');
    expect(quitMessage(-2)).toBe(quitMessage(0));
    expect(quitMessage(Number.NaN)).toBe(quitMessage(0));
  });
});
