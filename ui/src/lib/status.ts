import type { AppStatus } from './ipc';

/**
 * e.g. "Local mode · storage at http://127.0.0.1:9000", or
 * "AWS · Production" (AWS's own endpoints) / "AWS · Staging · storage at https://…".
 */
export function statusLine(status: AppStatus): string {
  if (status.mode === 'local') {
    return `Local mode · storage at ${status.s3Endpoint}`;
  }
  const where = status.s3Endpoint ? ` · storage at ${status.s3Endpoint}` : '';
  return `AWS · ${status.connection}${where}`;
}
