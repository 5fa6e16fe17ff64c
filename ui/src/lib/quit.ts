/**
 * The question asked when the window is closed while work runs:
 * "3 jobs are still running. They will pick up where they left off the next
 * time you open Streamdrop." Every unfinished job resumes on the next start,
 * so quitting loses nothing; the sentence says so, in the right number.
 */
export function quitMessage(running: number): string {
  const n = Number.isFinite(running) && running > 0 ? Math.floor(running) : 0;
  const tail = 'the next time you open Streamdrop.';
  if (n === 0) return 'Nothing is running any more, so nothing will be lost.';
  if (n === 1) return `1 job is still running. It will pick up where it left off ${tail}`;
  return `${n} jobs are still running. They will pick up where they left off ${tail}`;
}
