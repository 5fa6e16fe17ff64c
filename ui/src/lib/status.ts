import type { AppStatus } from './ipc';

/** The status line while the backend starts (it may wait for the keychain). */
export const STARTING_LINE = 'Starting…';

/**
 * e.g. "Local mode · storage at http://127.0.0.1:9000", or
 * "AWS · Production" (AWS's own endpoints) / "AWS · Staging · storage at https://…".
 * While starting only the phase is known; a failed start says so here and
 * explains itself in a notice (its message is too long for this line).
 */
export function statusLine(status: AppStatus): string {
  if (status.phase === 'starting') return STARTING_LINE;
  if (status.phase === 'failed') return 'Streamdrop could not start';
  if (status.mode === 'local') {
    return `Local mode · storage at ${status.s3Endpoint}`;
  }
  const where = status.s3Endpoint ? ` · storage at ${status.s3Endpoint}` : '';
  return `AWS · ${status.connection}${where}`;
}

/** How long startup may take before the window says what it is waiting for. */
export const STARTING_BANNER_DELAY_MS = 1500;

/**
 * How often to ask again while starting. `app-ready` announces success, but
 * nothing announces a start that failed after the first answer said
 * "starting", so the window would wait forever without asking.
 */
export const STARTING_POLL_MS = 2000;

export const KEYCHAIN_WAIT =
  'Waiting for the keychain — if your system asks you to unlock it, answer to continue.';
