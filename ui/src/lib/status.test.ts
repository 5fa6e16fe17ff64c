import { describe, expect, it } from 'vitest';
import type { AppStatus } from './ipc';
import { statusLine } from './status';

const status = (extra: Partial<AppStatus>): AppStatus => ({
  phase: 'ready',
  mode: 'local',
  connection: 'Local',
  s3Endpoint: '',
  transcoder: 'local-ffmpeg',
  dataDir: '/d',
  logFile: '/d/logs/streamdrop.log',
  notices: [],
  error: null,
  ...extra,
});

describe('statusLine', () => {
  it('describes local mode with its storage endpoint', () => {
    expect(statusLine(status({ s3Endpoint: 'http://127.0.0.1:41234' }))).toBe('Local mode · storage at http://127.0.0.1:41234');
  });

  it('names the AWS connection, and its endpoint only when it has its own', () => {
    expect(statusLine(status({ mode: 'aws', connection: 'Production' }))).toBe('AWS · Production');
    expect(statusLine(status({ mode: 'aws', connection: 'Staging', s3Endpoint: 'https://minio.example.com' }))).toBe(
      'AWS · Staging · storage at https://minio.example.com',
    );
  });

  it('reads only the phase while starting or failed', () => {
    // While starting the other fields are placeholders, not to be shown.
    expect(statusLine(status({ phase: 'starting', mode: 'aws', connection: '' }))).toBe('Starting…');
    expect(
      statusLine(status({ phase: 'failed', error: { code: 'internal', message: 'x', params: {}, remedy: 'retry', detail: null } })),
    ).toBe('Streamdrop could not start');
  });
});
