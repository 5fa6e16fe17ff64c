import { describe, expect, it } from 'vitest';
import {
  checkSummary,
  connectionSummary,
  EMPTY_FIELDS,
  formProblem,
  kindLabel,
  needsSetup,
  prefixProblem,
  stepWord,
  suggestedPrefix,
  TRANSCODERS,
  type ConnectionFields,
} from './connections';
import type { ConnectionView, StepReport } from './ipc';

const LOCAL: ConnectionView = {
  name: 'Local',
  kind: 'local',
  active: true,
  profile: null,
  region: null,
  endpointUrl: null,
  uploadBucket: null,
  mediaBucket: null,
  transcoder: null,
  mediaconvertRoleArn: null,
  distribution: null,
};

const aws = (overrides: Partial<ConnectionView> = {}): ConnectionView => ({
  ...LOCAL,
  name: 'Production',
  kind: 'keys',
  active: false,
  region: 'eu-west-1',
  ...overrides,
});

const keys = (overrides: Partial<ConnectionFields> = {}): ConnectionFields => ({
  ...EMPTY_FIELDS,
  name: 'Production',
  accessKeyId: 'AKIAEXAMPLE',
  secretAccessKey: 'secret',
  ...overrides,
});

describe('connections', () => {
  it('says how each kind signs in', () => {
    expect(kindLabel(LOCAL)).toBe('On this computer');
    expect(kindLabel(aws())).toBe('AWS access key');
    expect(kindLabel(aws({ kind: 'profile', profile: 'studio-sso' }))).toBe('AWS profile studio-sso');
  });

  it('needs setup until an AWS connection knows its buckets; Local never does', () => {
    expect(needsSetup(LOCAL)).toBe(false);
    expect(needsSetup(aws())).toBe(true);
    expect(needsSetup(aws({ mediaBucket: 'acme-media' }))).toBe(false);
  });

  it('summarises where a connection is and what transcodes', () => {
    expect(connectionSummary(LOCAL)).toBe('Storage, transcoding and links on this computer');
    expect(connectionSummary(aws())).toBe('AWS access key · eu-west-1 · not set up yet');
    expect(
      connectionSummary(aws({ mediaBucket: 'acme-media', transcoder: 'mediaconvert', endpointUrl: 'http://127.0.0.1:5000' })),
    ).toBe('AWS access key · eu-west-1 · http://127.0.0.1:5000 · AWS Elemental MediaConvert');
  });

  it('offers MediaConvert first and marks Elastic Transcoder discontinued', () => {
    expect(TRANSCODERS.map((t) => t.kind)).toEqual(['mediaconvert', 'local-ffmpeg', 'elastic-transcoder']);
    expect(TRANSCODERS[2].label).toContain('discontinued');
    expect(TRANSCODERS[2].note).toContain('13 November 2025');
  });

  it('suggests a prefix that names buckets, and checks one as Rust does', () => {
    expect(suggestedPrefix('Acme Studio')).toBe('streamdrop-acme-studio');
    expect(suggestedPrefix('Café ☕ 2')).toBe('streamdrop-cafe-2');
    expect(suggestedPrefix('東京')).toBe('streamdrop-media');
    expect(suggestedPrefix('x'.repeat(60)).length).toBeLessThanOrEqual(40);
    for (const name of ['Acme Studio', '東京', 'x'.repeat(60), '--a--']) expect(prefixProblem(suggestedPrefix(name))).toBeNull();
    expect(prefixProblem('ab')).toBe('Use 3 to 40 characters.');
    expect(prefixProblem('Acme')).toBe('Use only lowercase letters, digits and dashes.');
    expect(prefixProblem('acme_media')).toBe('Use only lowercase letters, digits and dashes.');
    expect(prefixProblem('-acme')).toBe('Start and end with a letter or digit.');
  });

  it('words a step for the plan and for what applying did', () => {
    const step: StepReport = { step: 'media-bucket', action: 'create', resource: 's3 bucket', name: 'acme-media', details: [], applied: false };
    expect(stepWord(step)).toBe('Create');
    expect(stepWord({ ...step, applied: true })).toBe('Created');
    expect(stepWord({ ...step, action: 'exists' })).toBe('Use existing');
    expect(stepWord({ ...step, action: 'later', applied: true })).toBe('Later');
  });

  it('sums up a check, listing what is missing', () => {
    const base = { connection: 'Production', account: '123456789012', arn: 'arn:aws:iam::123456789012:user/editor' };
    expect(checkSummary({ ...base, permissions: { state: 'allowed', actions: 41 } })).toEqual({
      text: 'Connected as arn:aws:iam::123456789012:user/editor (account 123456789012). All 41 permissions Streamdrop needs are allowed.',
      missing: [],
    });
    const missing = checkSummary({ ...base, permissions: { state: 'missing', missing: ['iam:PassRole on arn:aws:iam::1:role/x'] } });
    expect(missing.text).toContain('Some permissions Streamdrop needs are missing');
    expect(missing.missing).toEqual(['iam:PassRole on arn:aws:iam::1:role/x']);
    expect(checkSummary({ ...base, permissions: { state: 'not-checked', why: 'the simulator was refused' } }).text).toContain(
      'Permissions were not checked: the simulator was refused.',
    );
  });

  it('points at the first field to fix, and sends a complete form', () => {
    expect(formProblem(keys())).toBeNull();
    expect(formProblem(keys({ name: '  ' }))?.field).toBe('name');
    expect(formProblem(keys({ name: 'local' }))?.text).toBe('“Local” is the built-in connection. Choose another name.');
    expect(formProblem(keys({ accessKeyId: '' }))?.field).toBe('accessKeyId');
    expect(formProblem(keys({ secretAccessKey: '' }))?.field).toBe('secretAccessKey');
    expect(formProblem(keys({ auth: 'profile' }))?.field).toBe('profile');
    expect(formProblem(keys({ auth: 'profile', profile: 'studio', accessKeyId: '' }))).toBeNull();
    expect(formProblem(keys({ region: 'us-east-1' }))).toBeNull();
    expect(formProblem(keys({ region: 'us-east1' }))?.field).toBe('region');
    expect(formProblem(keys({ region: 'US-EAST-1' }))?.field).toBe('region');
    expect(formProblem(keys({ endpointUrl: 'http://127.0.0.1:5000' }))).toBeNull();
    expect(formProblem(keys({ endpointUrl: '127.0.0.1:5000' }))?.field).toBe('endpointUrl');
  });
});
