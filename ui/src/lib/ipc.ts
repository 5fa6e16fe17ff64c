// Typed surface of the Rust backend. Components import from here rather than
// calling invoke/listen with string names, so the contract lives in one place.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import { getCurrentWebview } from '@tauri-apps/api/webview';

// The shapes come from the Rust types (ipc.generated.ts, checked by a test);
// this file adds names the components use and typed wrappers.
import type {
  AddedConnection,
  CheckView,
  Commands,
  ConnectionForm,
  ConnectionsView,
  ConnectionView,
  Duplicate,
  Events,
  IntakeReport,
  JobView,
  LinkView,
  Preferences,
  ProblemView,
  QuitRequest,
  Rejection,
  Remedy,
  RemovedConnection,
  SetupProgress,
  SetupRequest,
  SetupView,
  Stage,
  StateName,
  StatusView,
  StepReport,
  TranscoderKind,
} from './ipc.generated';

export type {
  AddedConnection,
  CheckView,
  ConnectionForm,
  ConnectionsView,
  ConnectionView,
  Duplicate,
  IntakeReport,
  JobView,
  LinkView,
  Preferences,
  ProblemView,
  QuitRequest,
  Rejection,
  Remedy,
  RemovedConnection,
  SetupProgress,
  SetupRequest,
  SetupView,
  Stage,
  StepReport,
  TranscoderKind,
};

/** Where a job is in the pipeline: upload, copy (the original is kept), transcode. */
export type JobState = StateName;

/** What a share link points at; preview links are the player's own. */
export type LinkKind = Exclude<Commands['create_link']['args']['kind'], 'preview'>;

/**
 * How the backend is. While `starting` (the keychain may be waiting for the
 * person to unlock it) only `phase` and `dataDir` are meaningful; `failed`
 * carries the reason in `error`.
 */
export type AppStatus = StatusView;

/** Calls a command of the contract with its arguments; resolves to its answer. */
function call<K extends keyof Commands>(name: K, args?: Commands[K]['args']): Promise<Commands[K]['answer']> {
  return invoke<Commands[K]['answer']>(name, args);
}

function on<K extends keyof Events>(name: K, handler: (payload: Events[K]) => void): Promise<UnlistenFn> {
  return listen<Events[K]>(name, (event) => handler(event.payload));
}

export const EVENT_JOB_UPDATED = 'job-updated' satisfies keyof Events;
export const EVENT_INTAKE = 'intake' satisfies keyof Events;
/** The backend has started; its payload is the ready AppStatus. */
export const EVENT_APP_READY = 'app-ready' satisfies keyof Events;
export const EVENT_QUIT_REQUESTED = 'quit-requested' satisfies keyof Events;
/** A setup step has run (plan or apply): the wizard shows it as it happens. */
export const EVENT_SETUP_STEP = 'setup-step' satisfies keyof Events;

export const listJobs = (): Promise<JobView[]> => call('list_jobs');

/** Takes ready and cancelled jobs off the list (nothing stored is deleted); answers their ids. */
export const clearFinished = (): Promise<string[]> => call('clear_finished');

/** Opens the native picker in Rust; resolves to empty lists on cancel. */
export const pickFiles = (): Promise<IntakeReport> => call('pick_files');

/** Opens the native folder dialog; the clips in the chosen cards or folders become jobs. */
export const pickFolders = (): Promise<IntakeReport> => call('pick_folders');

/** Adds, as new jobs, files a drop left out as already uploaded (only those: the backend checks). */
export const addSkipped = (paths: string[]): Promise<IntakeReport> => call('add_skipped', { paths });

export const appStatus = (): Promise<AppStatus> => call('app_status');

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
export const pauseJob = (id: string): Promise<JobView> => call('pause_job', { id });
/** Allowed for paused; the job is queued again. */
export const resumeJob = (id: string): Promise<JobView> => call('resume_job', { id });
/** Allowed in every state except ready and cancelled. */
export const cancelJob = (id: string): Promise<JobView> => call('cancel_job', { id });
/**
 * Allowed for cancelled jobs, and failed ones whose problem's remedy is
 * 'retry'; the job is queued again at the stage it stopped in.
 */
export const retryJob = (id: string): Promise<JobView> => call('retry_job', { id });
/**
 * Allowed for failed and cancelled jobs: reads the file anew (it changed, or
 * was still copying) and uploads it from the start.
 */
export const addAgainJob = (id: string): Promise<JobView> => call('add_again_job', { id });

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
export const copyText = async (text: string): Promise<void> => {
  await call('copy_text', { text });
};

/** Opens the file manager at the app's log file (`AppStatus.logFile`). */
export const showLogFile = async (): Promise<void> => {
  await call('show_log_file');
};

/** The person confirmed quitting while work runs; the app closes. */
export const confirmQuit = async (): Promise<void> => {
  await call('confirm_quit');
};

/**
 * A short-lived signed URL of the job's HLS master playlist (ready jobs
 * only). Every URI inside the playlists is absolute and signed as well.
 */
export const previewUrl = (jobId: string): Promise<string> => call('preview_url', { jobId });

/** A signed URL of a ready job's poster (valid an hour), for its row; rejects with no-poster when there is none. */
export const posterUrl = (jobId: string): Promise<string> => call('poster_url', { jobId });

/** Creates a signed share link; it is also kept for `listLinks`. */
export const createLink = (jobId: string, kind: LinkKind, expiresInSeconds: number): Promise<LinkView> =>
  call('create_link', { jobId, kind, expiresInSeconds });

/** Revokes a share link: it opens nothing from now on. Resolves to the link, marked revoked. */
export const revokeLink = (linkId: string): Promise<LinkView> => call('revoke_link', { linkId });

/** The job's share links, newest first (expired ones included). */
export const listLinks = (jobId: string): Promise<LinkView[]> => call('list_links', { jobId });

/** Every connection (Local first) and which one is active. */
export const listConnections = (): Promise<ConnectionsView> => call('list_connections');

/**
 * Adds an AWS connection. An access key's secret goes to the keychain only:
 * nothing answers it back, and the form should forget it once sent.
 */
export const addConnection = (connection: ConnectionForm): Promise<AddedConnection> =>
  call('add_connection', { connection });

/** Asks AWS who the connection's credentials are, and which permissions they lack. */
export const checkConnection = (name: string): Promise<CheckView> => call('check_connection', { name });

/** Makes `name` the active connection: new jobs run on it from now on. */
export const useConnection = (name: string): Promise<ConnectionView> => call('use_connection', { name });

/** Removes an AWS connection and its keys; its jobs and links stay listed, its AWS resources stay. */
export const removeConnection = (name: string): Promise<RemovedConnection> => call('remove_connection', { name });

/** What setup would create, update or adopt; changes nothing. */
export const planSetup = (request: SetupRequest): Promise<SetupView> => call('plan_setup', { request });

/** Creates or adopts the resources; each step is announced (`onSetupStep`) as it finishes. */
export const applySetup = (request: SetupRequest): Promise<SetupView> => call('apply_setup', { request });

/** Uploads at once, the bandwidth limit and its hours, links' default lifetime. */
export const getPreferences = (): Promise<Preferences> => call('get_preferences');

/** Checks and saves the preferences (rejects with bad-preference); running uploads follow them at once. */
export const setPreferences = (preferences: Preferences): Promise<Preferences> =>
  call('set_preferences', { preferences });

export const onSetupStep = (handler: (progress: SetupProgress) => void): Promise<UnlistenFn> =>
  on(EVENT_SETUP_STEP, handler);

export const onJobUpdated = (handler: (job: JobView) => void): Promise<UnlistenFn> => on(EVENT_JOB_UPDATED, handler);

export const onIntake = (handler: (report: IntakeReport) => void): Promise<UnlistenFn> => on(EVENT_INTAKE, handler);

export const onAppReady = (handler: (status: AppStatus) => void): Promise<UnlistenFn> => on(EVENT_APP_READY, handler);

export const onQuitRequested = (handler: (request: QuitRequest) => void): Promise<UnlistenFn> =>
  on(EVENT_QUIT_REQUESTED, handler);

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
