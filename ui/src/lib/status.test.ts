import { describe, expect, it } from 'vitest';
import { statusLine } from './status';

describe('statusLine', () => {
  it('describes local mode with its storage endpoint', () => {
    expect(statusLine({ mode: 'local', s3Endpoint: 'http://127.0.0.1:41234', dataDir: '/d' })).toBe(
      'Local mode · storage at http://127.0.0.1:41234',
    );
  });

  it('describes AWS mode', () => {
    expect(
      statusLine({ mode: 'aws', s3Endpoint: 'https://s3.eu-west-1.amazonaws.com', dataDir: '/d' }),
    ).toBe('AWS mode · storage at https://s3.eu-west-1.amazonaws.com');
  });
});
