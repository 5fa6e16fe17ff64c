// Test double for the Rust side: routes `invoke` to per-command handlers,
// records every call, and turns on Tauri's event mocking so `emit` reaches
// the UI's `listen` handlers.
import { tick } from 'svelte';
import { clearMocks, mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import type { AppStatus, IntakeReport, JobState, JobView, LinkView, ProblemView, Rejection, Stage } from '../lib/ipc';
import { forgetPosters } from '../lib/posters';
import { DEFAULT_PREFERENCES } from '../lib/preferences';
import { UPDATE_INTERVAL } from '../lib/queue';

type Handler = (args: unknown) => unknown;

export interface FakeBackend {
  calls: { cmd: string; args: unknown }[];
  commands(): string[];
}

export const LOCAL_STATUS: AppStatus = {
  phase: 'ready',
  mode: 'local',
  connection: 'Local',
  s3Endpoint: 'http://127.0.0.1:9000',
  transcoder: 'local-ffmpeg',
  dataDir: '/home/editor/.local/share/streamdrop',
  logFile: '/home/editor/.local/share/streamdrop/logs/streamdrop.log',
  notices: [],
  error: null,
};

/** What app_status answers while the keychain is still being unlocked: only phase and dataDir mean anything. */
export const STARTING_STATUS: AppStatus = {
  phase: 'starting',
  mode: 'local',
  connection: '',
  s3Endpoint: '',
  transcoder: '',
  dataDir: LOCAL_STATUS.dataDir,
  logFile: LOCAL_STATUS.logFile,
  notices: [],
  error: null,
};

export const EMPTY_REPORT: IntakeReport = { accepted: [], rejected: [], rejectedCounts: [], duplicates: [] };

export function fakeBackend(overrides: Record<string, Handler> = {}): FakeBackend {
  // Job updates apply at once unless a test of coalescing asks for its interval.
  UPDATE_INTERVAL.ms = 0;
  const handlers: Record<string, Handler> = {
    list_jobs: () => [],
    app_status: () => LOCAL_STATUS,
    pick_files: () => EMPTY_REPORT,
    copy_text: () => null,
    show_log_file: () => null,
    get_preferences: () => DEFAULT_PREFERENCES,
    revoke_link: () => Promise.reject({ code: 'internal', message: 'unexpected', params: {}, remedy: 'none', detail: null }),
    poster_url: () => Promise.reject({ code: 'no-poster', message: 'No poster.', params: {}, remedy: 'none', detail: null }),
    ...overrides,
  };
  const calls: FakeBackend['calls'] = [];

  // getCurrentWebview() reads the window label from these internals.
  mockWindows('main');
  mockIPC(
    (cmd, args) => {
      calls.push({ cmd, args });
      const handler = handlers[cmd];
      if (!handler) throw new Error(`unexpected command: ${cmd}`);
      return handler(args);
    },
    { shouldMockEvents: true },
  );

  return { calls, commands: () => calls.map((c) => c.cmd) };
}

/**
 * Lets pending promise chains (listen registration, invoke replies) run and
 * Svelte flush the resulting DOM updates. A macrotask drains all microtasks.
 */
export async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  await tick();
}

/** Unmount first so unlisten calls still find the mocks, then reset them. */
export async function resetBackend(cleanup: () => void): Promise<void> {
  cleanup();
  await settle();
  clearMocks();
  forgetPosters();
}

let seq = 0;

/** The stage a job in `state` usually reports; tests override it where it matters. */
const DEFAULT_STAGE: Record<JobState, Stage | null> = {
  queued: 'upload',
  uploading: 'upload',
  paused: 'upload',
  copying: 'copy',
  transcoding: 'transcode',
  ready: null,
  failed: 'upload',
  cancelled: null,
};

export function makeJob(overrides: Partial<JobView> = {}): JobView {
  seq += 1;
  const fileName = overrides.fileName ?? `CLIP${String(seq).padStart(4, '0')}.MP4`;
  const state = overrides.state ?? 'queued';
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    fileName,
    relativePath: fileName,
    sourcePath: `/media/card/DCIM/${fileName}`,
    size: 12_897_484,
    state,
    stage: DEFAULT_STAGE[state],
    bytesDone: 0,
    bytesResumed: 0,
    rateBps: null,
    etaSeconds: null,
    transcodePercent: null,
    waiting: false,
    error: null,
    createdAt: 1_700_000_000_000 + seq * 1000,
    // Each job its own drop unless a test groups them.
    batchId: `batch-${String(seq).padStart(4, '0')}`,
    position: 0,
    location: `s3://streamdrop-local/ingest/${fileName}`,
    uploadKey: `ingest/${fileName}`,
    sidecars: 0,
    connection: 'Local',
    ...overrides,
  };
}

/** A problem as the backend reports it; a retryable storage refusal unless told otherwise. */
export function makeProblem(overrides: Partial<ProblemView> = {}): ProblemView {
  return {
    code: 'storage-denied',
    message: "The storage refused Streamdrop's request (access denied). Check the connection's keys and permissions (streamdrop setup --permissions lists them), then retry.",
    params: {},
    remedy: 'retry',
    detail: 'AccessDenied: Access Denied (Service: S3, Status Code: 403, Request ID: 4442587FB7D0A2F9)',
    ...overrides,
  };
}

/** A dropped path that did not become a job; its message names the file, as the backend's do. */
export function makeRejection(path: string, overrides: Partial<ProblemView> = {}): Rejection {
  const fileName = path.replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? path;
  return {
    path,
    fileName,
    problem: {
      code: 'not-media',
      message: `${fileName} is not a video or audio file Streamdrop can read.`,
      params: { file: fileName },
      remedy: 'none',
      detail: null,
      ...overrides,
    },
  };
}

/** A promise a test settles by hand, e.g. a command reply held back mid-flight. */
export function deferred<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

let linkSeq = 0;

export function makeLink(overrides: Partial<LinkView> & Pick<LinkView, 'jobId'>): LinkView {
  linkSeq += 1;
  const kind = overrides.kind ?? 'stream';
  return {
    id: `link-${linkSeq}`,
    kind,
    url: `https://d111111abcdef8.cloudfront.net/jobs/${overrides.jobId}/${kind}?Policy=P${linkSeq}&Signature=S&Key-Pair-Id=K`,
    expiresAt: 1_700_000_000_000 + 86_400_000,
    createdAt: 1_700_000_000_000,
    revokedAt: null,
    deploying: false,
    ...overrides,
  };
}
