// Typed surface of the Rust backend. Components import from here rather than
// calling invoke/listen with string names, so the contract lives in one place.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import { getCurrentWebview } from '@tauri-apps/api/webview';

export type JobState = 'queued' | 'uploading' | 'paused' | 'uploaded' | 'failed' | 'cancelled';

export interface JobView {
  id: string;
  fileName: string;
  sourcePath: string;
  /** Bytes. */
  size: number;
  state: JobState;
  /** Live progress while uploading; 0 otherwise (except uploaded, where it is `size`). */
  bytesDone: number;
  /** Smoothed bytes per second while uploading, else null. */
  rateBps: number | null;
  /** Seconds left while uploading, else null. */
  etaSeconds: number | null;
  /** Set when state === 'failed'. */
  error: string | null;
  /** Unix milliseconds. */
  createdAt: number;
  /** "s3://bucket/key" */
  destination: string;
}

export interface Rejection {
  path: string;
  reason: string;
}

export interface IntakeReport {
  accepted: JobView[];
  rejected: Rejection[];
}

export interface AppStatus {
  mode: 'local' | 'aws';
  s3Endpoint: string;
  dataDir: string;
}

export const EVENT_JOB_UPDATED = 'job-updated';
export const EVENT_INTAKE = 'intake';

export const listJobs = (): Promise<JobView[]> => invoke<JobView[]>('list_jobs');

/** Opens the native picker in Rust; resolves to empty lists on cancel. */
export const pickFiles = (): Promise<IntakeReport> => invoke<IntakeReport>('pick_files');

export const appStatus = (): Promise<AppStatus> => invoke<AppStatus>('app_status');

/**
 * What a person can do to a job. Each command resolves to the job's updated
 * view, or rejects with a message such as "job … is uploaded: it cannot be
 * paused". The change is also announced as a `job-updated` event.
 */
export type JobAction = 'pause' | 'resume' | 'cancel' | 'retry';

/** Allowed for queued/uploading; keeps what was sent so resume sends only the rest. */
export const pauseJob = (id: string): Promise<JobView> => invoke<JobView>('pause_job', { id });
/** Allowed for paused; the job is queued again. */
export const resumeJob = (id: string): Promise<JobView> => invoke<JobView>('resume_job', { id });
/** Allowed for queued/uploading/paused/failed; the partial upload is removed. */
export const cancelJob = (id: string): Promise<JobView> => invoke<JobView>('cancel_job', { id });
/** Allowed for failed/cancelled; the job is queued and runs again. */
export const retryJob = (id: string): Promise<JobView> => invoke<JobView>('retry_job', { id });

export const JOB_ACTIONS: Record<JobAction, (id: string) => Promise<JobView>> = {
  pause: pauseJob,
  resume: resumeJob,
  cancel: cancelJob,
  retry: retryJob,
};

export function onJobUpdated(handler: (job: JobView) => void): Promise<UnlistenFn> {
  return listen<JobView>(EVENT_JOB_UPDATED, (event) => handler(event.payload));
}

export function onIntake(handler: (report: IntakeReport) => void): Promise<UnlistenFn> {
  return listen<IntakeReport>(EVENT_INTAKE, (event) => handler(event.payload));
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
