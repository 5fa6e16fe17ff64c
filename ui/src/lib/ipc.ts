// Typed surface of the Rust backend. Components import from here rather than
// calling invoke/listen with string names, so the contract lives in one place.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import { getCurrentWebview } from '@tauri-apps/api/webview';

export type JobState =
  | 'queued'
  | 'uploading'
  | 'paused'
  | 'copying'
  | 'transcoding'
  | 'ready'
  | 'failed'
  | 'cancelled';

/**
 * The pipeline a job goes through: upload to the ingest bucket, copy to the
 * private distribution bucket (the original is kept), transcode to HLS.
 */
export type Stage = 'upload' | 'copy' | 'transcode';

/** What a person can do about a problem. */
export type Remedy = 'retry' | 'add-again' | 'none';

/**
 * Something that went wrong, as the backend tells it: a stable code, one
 * plain sentence that says what happened and what to do, and the raw detail
 * (credentials and signatures removed) for "Details".
 */
export interface ProblemView {
  code: string;
  message: string;
  remedy: Remedy;
  detail: string | null;
}

export interface JobView {
  id: string;
  fileName: string;
  sourcePath: string;
  /** Bytes. */
  size: number;
  state: JobState;
  /**
   * The stage the job is at, is waiting for (queued) or failed in; null when
   * ready or cancelled.
   */
  stage: Stage | null;
  /** Live progress while uploading; equals `size` once past the upload stage. */
  bytesDone: number;
  /** Of `bytesDone`, what was already sent before a restart or a pause (0 if none). */
  bytesResumed: number;
  /** Smoothed bytes per second of what this run sends, while uploading, else null. */
  rateBps: number | null;
  /** Seconds left while uploading, else null. */
  etaSeconds: number | null;
  /** 0–100 while transcoding, when the transcoder reports it; else null. */
  transcodePercent: number | null;
  /** True while transcoding but still in the transcoder's queue (nothing converted yet). */
  waiting: boolean;
  /** Set when state === 'failed'. */
  error: ProblemView | null;
  /** When the job's batch (one drop or pick) came in; Unix milliseconds. */
  createdAt: number;
  /** The drop or pick the job came in with. */
  batchId: string;
  /** Its place in its batch, from 0, in the order the files were given. */
  position: number;
  /** Where the file is stored now, "s3://bucket/key" (technical; not shown in rows). */
  location: string;
  /** The connection the job runs on. */
  connection: string;
}

/** What a share link points at: the HLS stream, the poster image, or the original upload. */
export type LinkKind = 'stream' | 'poster' | 'original';

export interface LinkView {
  id: string;
  jobId: string;
  kind: LinkKind;
  /** Signed URL, usable by anyone who has it until `expiresAt`. */
  url: string;
  /** Unix milliseconds. */
  expiresAt: number;
  /** Unix milliseconds. */
  createdAt: number;
}

/** A dropped or picked file that did not become a job, and why. */
export interface Rejection {
  path: string;
  fileName: string;
  problem: ProblemView;
}

export interface IntakeReport {
  accepted: JobView[];
  rejected: Rejection[];
}

/**
 * How the backend is. While `starting` (the keychain may be waiting for the
 * person to unlock it) only `phase` and `dataDir` are meaningful; `failed`
 * carries the reason in `error`.
 */
export interface AppStatus {
  phase: 'starting' | 'ready' | 'failed';
  mode: 'local' | 'aws';
  /** The active connection's name ("Local" in local mode). */
  connection: string;
  /** Empty when an AWS connection uses AWS's own endpoints. */
  s3Endpoint: string;
  dataDir: string;
  /** How the backend runs that people should know, e.g. links that will not outlive the app. */
  notices: ProblemView[];
  /** Why the backend could not start (phase === 'failed'). */
  error: ProblemView | null;
}

/** The window was asked to close while work runs: ask before quitting. */
export interface QuitRequest {
  /** Jobs not yet finished (queued, uploading, copying, transcoding). */
  running: number;
}

export const EVENT_JOB_UPDATED = 'job-updated';
export const EVENT_INTAKE = 'intake';
/** The backend has started; its payload is the ready AppStatus. */
export const EVENT_APP_READY = 'app-ready';
export const EVENT_QUIT_REQUESTED = 'quit-requested';

export const listJobs = (): Promise<JobView[]> => invoke<JobView[]>('list_jobs');

/** Opens the native picker in Rust; resolves to empty lists on cancel. */
export const pickFiles = (): Promise<IntakeReport> => invoke<IntakeReport>('pick_files');

export const appStatus = (): Promise<AppStatus> => invoke<AppStatus>('app_status');

/**
 * What a person can do to a job. Each command resolves to the job's updated
 * view, or rejects with a message such as "the job is ready, so it cannot be
 * paused". The change is also announced as a `job-updated` event.
 */
export type JobAction = 'pause' | 'resume' | 'cancel' | 'retry' | 'add-again';

/**
 * Allowed for uploading, and for queued while the upload stage is next; keeps
 * what was sent so resume sends only the rest.
 */
export const pauseJob = (id: string): Promise<JobView> => invoke<JobView>('pause_job', { id });
/** Allowed for paused; the job is queued again. */
export const resumeJob = (id: string): Promise<JobView> => invoke<JobView>('resume_job', { id });
/** Allowed in every state except ready and cancelled. */
export const cancelJob = (id: string): Promise<JobView> => invoke<JobView>('cancel_job', { id });
/**
 * Allowed for cancelled jobs, and failed ones whose problem's remedy is
 * 'retry'; the job is queued again at the stage it stopped in.
 */
export const retryJob = (id: string): Promise<JobView> => invoke<JobView>('retry_job', { id });
/**
 * Allowed for failed and cancelled jobs: reads the file anew (it changed, or
 * was still copying) and uploads it from the start.
 */
export const addAgainJob = (id: string): Promise<JobView> => invoke<JobView>('add_again_job', { id });

export const JOB_ACTIONS: Record<JobAction, (id: string) => Promise<JobView>> = {
  pause: pauseJob,
  resume: resumeJob,
  cancel: cancelJob,
  retry: retryJob,
  'add-again': addAgainJob,
};

/**
 * Puts `text` on the system clipboard. Written by Rust (Tauri's clipboard
 * plugin): WebKitGTK refuses navigator.clipboard outside a click's own task.
 */
export const copyText = (text: string): Promise<void> => invoke<void>('copy_text', { text });

/** The person confirmed quitting while work runs; the app closes. */
export const confirmQuit = (): Promise<void> => invoke<void>('confirm_quit');

/**
 * A short-lived signed URL of the job's HLS master playlist (ready jobs
 * only). Every URI inside the playlists is absolute and signed as well.
 */
export const previewUrl = (jobId: string): Promise<string> => invoke<string>('preview_url', { jobId });

/** Creates a signed share link; it is also kept for `listLinks`. */
export const createLink = (jobId: string, kind: LinkKind, expiresInSeconds: number): Promise<LinkView> =>
  invoke<LinkView>('create_link', { jobId, kind, expiresInSeconds });

/** The job's share links, newest first (expired ones included). */
export const listLinks = (jobId: string): Promise<LinkView[]> => invoke<LinkView[]>('list_links', { jobId });

export function onJobUpdated(handler: (job: JobView) => void): Promise<UnlistenFn> {
  return listen<JobView>(EVENT_JOB_UPDATED, (event) => handler(event.payload));
}

export function onIntake(handler: (report: IntakeReport) => void): Promise<UnlistenFn> {
  return listen<IntakeReport>(EVENT_INTAKE, (event) => handler(event.payload));
}

export function onAppReady(handler: (status: AppStatus) => void): Promise<UnlistenFn> {
  return listen<AppStatus>(EVENT_APP_READY, (event) => handler(event.payload));
}

export function onQuitRequested(handler: (request: QuitRequest) => void): Promise<UnlistenFn> {
  return listen<QuitRequest>(EVENT_QUIT_REQUESTED, (event) => handler(event.payload));
}

/**
 * Reports whether files are being dragged over the window. Only the hover
 * state is surfaced: dropped paths are ingested natively by Rust, which then
 * emits `intake`, so the UI deliberately never sees or forwards them.
 */
export async function onDragHover(handler: (hovering: boolean) => void): Promise<UnlistenFn> {
  // async so that running outside Tauri (plain browser) rejects instead of throwing.
  return getCurrentWebview().onDragDropEvent((event) => {
    const type = event.payload.type;
    handler(type === 'enter' || type === 'over');
  });
}
