import type { AppStatus } from './ipc';

/** e.g. "Local mode · storage at http://127.0.0.1:9000" */
export function statusLine(status: AppStatus): string {
  const mode = status.mode === 'local' ? 'Local mode' : 'AWS mode';
  return `${mode} · storage at ${status.s3Endpoint}`;
}
