// The settings view's logic: how connections and setup steps read, and what
// the add form checks before sending (Rust checks again; these only spare a
// round trip and say it next to the field).
import type { CheckView, ConnectionView, StepReport, TranscoderKind } from './ipc';

/** How a connection authenticates, in words. */
export function kindLabel(connection: ConnectionView): string {
  switch (connection.kind) {
    case 'local':
      return 'On this computer';
    case 'keys':
      return 'AWS access key';
    case 'profile':
      return `AWS profile ${connection.profile ?? ''}`.trim();
  }
}

/** An AWS connection needs setup until it knows its buckets. */
export function needsSetup(connection: ConnectionView): boolean {
  return connection.kind !== 'local' && !connection.mediaBucket;
}

/** One line under a connection's name: where it is and what it transcodes with. */
export function connectionSummary(connection: ConnectionView): string {
  if (connection.kind === 'local') return 'Storage, transcoding and links on this computer';
  const parts = [kindLabel(connection)];
  if (connection.region) parts.push(connection.region);
  if (connection.endpointUrl) parts.push(connection.endpointUrl);
  if (needsSetup(connection)) parts.push('not set up yet');
  else if (connection.transcoder) parts.push(transcoderName(connection.transcoder as TranscoderKind));
  return parts.join(' · ');
}

export interface TranscoderChoice {
  kind: TranscoderKind;
  label: string;
  note: string;
}

/** The transcoders setup offers, the recommended first. */
export const TRANSCODERS: TranscoderChoice[] = [
  { kind: 'mediaconvert', label: 'AWS Elemental MediaConvert', note: 'Recommended: AWS’s transcoder.' },
  {
    kind: 'local-ffmpeg',
    label: 'ffmpeg on this computer',
    note: 'Transcodes here and stores the result in your buckets; costs no transcoding fees.',
  },
  {
    kind: 'elastic-transcoder',
    label: 'Elastic Transcoder (discontinued)',
    note: 'AWS discontinued it on 13 November 2025. Only for accounts that still have it.',
  },
];

export function transcoderName(kind: TranscoderKind): string {
  return TRANSCODERS.find((t) => t.kind === kind)?.label ?? kind;
}

/**
 * A name prefix for a connection's resources, from its name: lowercase
 * letters, digits and dashes, as bucket names allow ("Acme Studio" →
 * "streamdrop-acme-studio").
 */
export function suggestedPrefix(connectionName: string): string {
  const slug = connectionName
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `streamdrop-${slug || 'media'}`.slice(0, 40).replace(/-+$/, '');
}

/** Why a prefix cannot name buckets, or null. Same rule as Rust's `Names::from_prefix`. */
export function prefixProblem(prefix: string): string | null {
  if (prefix.length < 3 || prefix.length > 40) return 'Use 3 to 40 characters.';
  if (!/^[a-z0-9-]+$/.test(prefix)) return 'Use only lowercase letters, digits and dashes.';
  if (!/^[a-z0-9]/.test(prefix) || !/[a-z0-9]$/.test(prefix)) return 'Start and end with a letter or digit.';
  return null;
}

const PLANNED: Record<StepReport['action'], string> = {
  create: 'Create',
  update: 'Update',
  exists: 'Use existing',
  skip: 'Skip',
  later: 'Later',
  delete: 'Delete',
  gone: 'Already gone',
};

const APPLIED: Record<StepReport['action'], string> = {
  create: 'Created',
  update: 'Updated',
  exists: 'Existing',
  skip: 'Skipped',
  later: 'Later',
  delete: 'Deleted',
  gone: 'Already gone',
};

/** "Create", "Use existing", "Created"… for a plan's or an apply's step. */
export function stepWord(step: StepReport): string {
  return (step.applied ? APPLIED : PLANNED)[step.action];
}

/** What a check found, in one sentence, and the missing permissions if any. */
export function checkSummary(check: CheckView): { text: string; missing: string[] } {
  const who = `Connected as ${check.arn} (account ${check.account}).`;
  switch (check.permissions.state) {
    case 'allowed':
      return { text: `${who} All ${check.permissions.actions} permissions Streamdrop needs are allowed.`, missing: [] };
    case 'missing':
      return {
        text: `${who} Some permissions Streamdrop needs are missing: grant them in IAM, then check again.`,
        missing: check.permissions.missing,
      };
    case 'not-checked':
      return { text: `${who} Permissions were not checked: ${check.permissions.why}.`, missing: [] };
  }
}

/** The add form's fields, as typed. */
export interface ConnectionFields {
  name: string;
  auth: 'keys' | 'profile';
  accessKeyId: string;
  secretAccessKey: string;
  profile: string;
  region: string;
  endpointUrl: string;
}

export const EMPTY_FIELDS: ConnectionFields = {
  name: '',
  auth: 'keys',
  accessKeyId: '',
  secretAccessKey: '',
  profile: '',
  region: '',
  endpointUrl: '',
};

/** The first thing to fix in the form, by field, or null when it can be sent. */
export function formProblem(fields: ConnectionFields): { field: keyof ConnectionFields; text: string } | null {
  if (!fields.name.trim()) return { field: 'name', text: 'Give the connection a name, such as “Production”.' };
  if (fields.name.trim().toLowerCase() === 'local') {
    return { field: 'name', text: '“Local” is the built-in connection. Choose another name.' };
  }
  if (fields.auth === 'keys') {
    if (!fields.accessKeyId.trim()) return { field: 'accessKeyId', text: 'Enter the access key ID (it starts with AKIA or ASIA).' };
    if (!fields.secretAccessKey) return { field: 'secretAccessKey', text: 'Enter the secret access key.' };
  } else if (!fields.profile.trim()) {
    return { field: 'profile', text: 'Enter the name of a profile in ~/.aws/config.' };
  }
  const region = fields.region.trim();
  if (region && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    return { field: 'region', text: 'Use a region name such as us-east-1 or ap-northeast-1.' };
  }
  const endpoint = fields.endpointUrl.trim();
  if (endpoint && !/^https?:\/\/[^\s/]+/.test(endpoint)) {
    return { field: 'endpointUrl', text: 'Give a URL such as https://s3.example.com, or leave it empty for AWS.' };
  }
  return null;
}
