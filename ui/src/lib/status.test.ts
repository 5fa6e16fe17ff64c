import { describe, expect, it } from 'vitest';
import { statusLine } from './status';

describe('statusLine', () => {
  it('describes local mode with its storage endpoint', () => {
    expect(
      statusLine({ mode: 'local', connection: 'Local', s3Endpoint: 'http://127.0.0.1:41234', dataDir: '/d', notices: [] }),
    ).toBe('Local mode · storage at http://127.0.0.1:41234');
  });

  it('names the AWS connection, and its endpoint only when it has its own', () => {
    expect(statusLine({ mode: 'aws', connection: 'Production', s3Endpoint: '', dataDir: '/d', notices: [] })).toBe(
      'AWS · Production',
    );
    expect(
      statusLine({ mode: 'aws', connection: 'Staging', s3Endpoint: 'https://minio.example.com', dataDir: '/d', notices: [] }),
    ).toBe('AWS · Staging · storage at https://minio.example.com');
  });
});
