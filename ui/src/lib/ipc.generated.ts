// Generated from the Rust types by `streamdrop_core::api::ipc::typescript()`.
// Do not edit: change the Rust types, then run
//   UPDATE_IPC_TYPES=1 cargo test -p streamdrop-e2e --test e2e ipc_contract

/**
 * What a step found, or (after apply) did.
 */
export type Action = "create" | "update" | "exists" | "skip" | "later" | "delete" | "gone";

/**
 * A connection just added.
 */
export type AddedConnection = { connection: ConnectionView, 
/**
 * The access key id whose secret went to the keychain (never the secret).
 */
accessKeyId: string | null, 
/**
 * Where the secret went ("Secret Service", …).
 */
keptIn: string | null, };

/**
 * How the form's connection authenticates.
 */
export type AuthForm = { "kind": "keys", accessKeyId: string, secretAccessKey: string, } | { "kind": "profile", profile: string, };

/**
 * The drop (or dialog pick, or `submit`) a job came in with: its jobs are
 * listed together, in the order they were given.
 */
export type BatchId = string;

/**
 * Who a connection's credentials are.
 */
export type CheckView = { connection: string, account: string, arn: string, 
/**
 * Whether that identity may do what Streamdrop needs of it.
 */
permissions: PermissionsView, };

/**
 * A connection to add, as the window's form sends it. The secret crosses
 * IPC this once, on its way to the keychain; it has no `Debug`, so it is never logged.
 */
export type ConnectionForm = { name: string, auth: AuthForm, 
/**
 * Empty: the profile's region, else `$AWS_REGION`, else us-east-1.
 */
region: string, 
/**
 * Empty: AWS's own endpoints.
 */
endpointUrl: string, makeActive: boolean, };

/**
 * How a connection reaches its services.
 */
export type ConnectionKind = "local" | "keys" | "profile";

/**
 * A connection's name, as people type it ("Production AWS"). At most 64
 * characters, no `/` (it separates the name from the item in keychain
 * entries), no control characters, no surrounding spaces.
 */
export type ConnectionName = string;

/**
 * A connection as listed.
 */
export type ConnectionView = { name: string, kind: ConnectionKind, active: boolean, profile: string | null, region: string | null, endpointUrl: string | null, uploadBucket: string | null, mediaBucket: string | null, transcoder: string | null, mediaconvertRoleArn: string | null, distribution: DistributionView | null, };

/**
 * Every connection, and which one is active.
 */
export type ConnectionsView = { active: string, connections: Array<ConnectionView>, };

export type DistributionView = { id: string, domain: string, keyPairId: string, };

/**
 * A file whose content is already on the connection as another job.
 */
export type Duplicate = { path: string, fileName: string, relativePath: string, 
/**
 * The job that already has it, and how that job is.
 */
existingJob: JobId, existingState: StateName, };

/**
 * The outcome of handing a batch of paths to the engine: each item either
 * became a job, was rejected with its own reason, or was already there.
 */
export type IntakeReport = { accepted: Array<JobView>, rejected: Array<Rejection>, 
/**
 * `rejected` summed up by reason, most first: one line per reason, not per file.
 */
rejectedCounts: Array<ReasonCount>, 
/**
 * Files left out because the same content is already on the connection
 * (with [`IfExists::Skip`]).
 */
duplicates: Array<Duplicate>, };

/**
 * A job's identity.
 */
export type JobId = string;

/**
 * A job as the UI and `--json` consumers see it.
 */
export type JobView = { id: JobId, fileName: string, 
/**
 * Where the file sat in what was given: `<folder or card>/<path under it>`,
 * or the file's name when it was given by itself.
 */
relativePath: string, sourcePath: string, size: number, state: StateName, 
/**
 * The stage the job is at, waits for, or failed in: `upload`, `copy`, `transcode`; `null` when ready or cancelled.
 */
stage: Stage | null, bytesDone: number, 
/**
 * Of `bytes_done`, what was already sent before a restart or a pause (0 if none).
 */
bytesResumed: number, 
/**
 * Smoothed rate of what this run sends, while uploading.
 */
rateBps: number | null, etaSeconds: number | null, 
/**
 * Transcode progress, 0–100, while transcoding (when the backend reports it).
 */
transcodePercent: number | null, 
/**
 * True while transcoding but still in the transcoder's queue (nothing converted yet).
 */
waiting: boolean, 
/**
 * Why the job failed, when it did: a sentence, what can be done, and the detail.
 */
error: ProblemView | null, 
/**
 * When its batch came in (Unix ms).
 */
createdAt: number, batchId: BatchId, 
/**
 * Its place in its batch, from 0.
 */
position: number, 
/**
 * Where the file is stored now: the upload, then (once copied) the kept original.
 */
location: string, 
/**
 * The key its upload has in the uploads bucket: `uploads/<batch>/<folder>/<path
 * in it>` for a file from a folder, `uploads/<job id>/<name>` for one given by itself.
 */
uploadKey: string, 
/**
 * How many of the camera's files (metadata, thumbnails, proxies) travel with it.
 */
sidecars: number, 
/**
 * The connection the job runs on (`Local`, or an AWS connection's name).
 */
connection: ConnectionName, };

export type LinkKind = "stream" | "poster" | "original" | "preview";

/**
 * A link as it was made: a signed URL anyone who has it may use until it expires.
 */
export type LinkView = { id: string, jobId: JobId, kind: LinkKind, url: string, 
/**
 * Unix milliseconds.
 */
expiresAt: number, createdAt: number, 
/**
 * When it was revoked (Unix ms): it opens nothing since.
 */
revokedAt: number | null, 
/**
 * Made while the connection's CloudFront distribution was still
 * deploying: it starts to work once CloudFront has deployed it (usually
 * within 15 minutes). Said when the link is made, not kept.
 */
deploying: boolean, };

/**
 * What IAM's policy simulator says of the permissions `streamdrop setup
 * --permissions` lists, for the connection's identity.
 */
export type PermissionsView = { "state": "allowed", actions: number, } | { "state": "missing", missing: Array<string>, } | { "state": "not-checked", why: string, };

/**
 * Where the session is in its start.
 */
export type Phase = "starting" | "ready" | "failed";

export type Preferences = { 
/**
 * Uploads running at once (each sends several parts).
 */
uploadConcurrency: number, 
/**
 * Bytes per second over all uploads together; `None`: as fast as the network goes.
 */
bandwidthLimit: number | null, 
/**
 * With a limit: the hours it applies (local time); outside them, full speed.
 */
limitDuring: WorkingHours | null, 
/**
 * How long a new link works when no lifetime is given.
 */
linkLifetimeSecs: number, };

/**
 * Every kind of problem a person can be told about. The kebab-case
 * code is stable: it is stored, sent to the UI and printed by the CLI.
 */
export type ProblemCode = "file-not-found" | "file-missing" | "file-unreadable" | "file-changed" | "file-changed-while-uploading" | "file-changed-since-upload-began" | "file-truncated" | "file-empty" | "file-too-large" | "not-a-file" | "folder" | "folder-without-video" | "folder-loop" | "already-added" | "not-media" | "still-image" | "camera-raw" | "playlist" | "probe-timeout" | "ffmpeg-missing" | "storage-denied" | "storage-unreachable" | "storage-bad-reply" | "storage-error" | "not-intact" | "transcode-failed" | "transcode-stalled" | "transcoder-unreachable" | "transcoder-rejected" | "transcoder-denied" | "transcoder-unavailable" | "link-not-revocable" | "link-revoke-unconfirmed" | "link-not-found" | "job-not-found" | "not-now" | "other-connection" | "no-engine" | "busy" | "connection-not-found" | "connection-exists" | "local-is-fixed" | "bad-connection-name" | "not-set-up" | "setup-cannot-start" | "setup-denied" | "setup-step-failed" | "bad-preference" | "bad-region" | "bad-endpoint" | "settings-unreadable" | "no-keychain" | "keychain-refused" | "bad-keys" | "missing-keys" | "missing-signing-key" | "signing-key-deploying" | "not-skipped" | "sso-expired" | "no-such-profile" | "aws-keys-refused" | "aws-unreachable" | "link-not-ready" | "bad-lifetime" | "no-poster" | "preview-is-the-apps" | "link-failed" | "clipboard-failed" | "cannot-show-file" | "keychain-unavailable" | "links-unavailable" | "data-dir" | "internal" | "legacy";

/**
 * A problem as the UI and `--json` see it.
 */
export type ProblemView = { code: ProblemCode, 
/**
 * One plain sentence: what happened and what to do.
 */
message: string, 
/**
 * The values in the sentence, by name: for translating it from `code`.
 */
params: { [key in string]: string }, remedy: Remedy, 
/**
 * The raw detail, with credentials and signatures removed.
 */
detail: string | null, };

/**
 * The window asked to close while jobs run: the person is asked first.
 */
export type QuitRequest = { 
/**
 * Jobs not yet finished (queued, uploading, copying, transcoding).
 */
running: number, };

/**
 * How many of a drop's items were refused for one reason.
 */
export type ReasonCount = { code: ProblemCode, count: number, 
/**
 * The reason in a few words, to follow the count ("2 not video").
 */
label: string, };

/**
 * Why one given item was not turned into a job.
 */
export type Rejection = { path: string, fileName: string, problem: ProblemView, };

/**
 * What a person can do about a problem.
 */
export type Remedy = "retry" | "add-again" | "none";

/**
 * A connection just removed.
 */
export type RemovedConnection = { name: string, 
/**
 * The keychain entries deleted with it.
 */
deletedSecrets: Array<string>, 
/**
 * The keychain they were in.
 */
keptIn: string, 
/**
 * Whether it had AWS resources (they are left as they are).
 */
hadResources: boolean, 
/**
 * The active connection now.
 */
active: string, };

/**
 * A setup step that has run, on which connection.
 */
export type SetupProgress = { connection: string, step: StepReport, };

/**
 * What the window's setup wizard asks for: which connection, the names'
 * prefix and the transcoder (both remembered after the first setup).
 */
export type SetupRequest = { connection: string, namePrefix: string | null, transcoder: TranscoderKind | null, };

/**
 * The step a setup stopped at, and what to do.
 */
export type SetupStop = { step: string, problem: ProblemView, 
/**
 * For a refusal: the IAM policy statement (JSON) that grants what was refused.
 */
grant: string | null, };

/**
 * A setup plan, or what applying it did, as the window shows it.
 */
export type SetupView = { connection: string, 
/**
 * Applied; else this is the plan.
 */
applied: boolean, namePrefix: string, 
/**
 * Each step that ran, in order.
 */
steps: Array<StepReport>, 
/**
 * What stopped it; what ran before stays, and applying again continues there.
 */
stopped: SetupStop | null, 
/**
 * Where links are served from, once a distribution is set up.
 */
domain: string | null, };

/**
 * What the hosted connection's jobs run on.
 */
export type StackMode = "local" | "aws";

export type Stage = "upload" | "copy" | "transcode";

export type StateName = "queued" | "uploading" | "paused" | "copying" | "transcoding" | "ready" | "failed" | "cancelled";

/**
 * How the session is, for a status line.
 */
export type StatusView = { phase: Phase, mode: StackMode, 
/**
 * The active connection's name.
 */
connection: string, 
/**
 * Empty when an AWS connection uses AWS's own endpoints.
 */
s3Endpoint: string, 
/**
 * The engine's transcoder (`local-ffmpeg`, `mediaconvert`, `elastic-transcoder`); empty with no engine.
 */
transcoder: string, dataDir: string, 
/**
 * The app's log file, which a failed job's Details offer to show.
 */
logFile: string, 
/**
 * What people should know about how it runs (links that will not outlive the app…).
 */
notices: Array<ProblemView>, 
/**
 * Why it could not start (phase `failed`).
 */
error: ProblemView | null, };

/**
 * One line of a plan or of an apply.
 */
export type StepReport = { 
/**
 * `upload-bucket`, `media-bucket`, `mediaconvert-role`, …
 */
step: string, action: Action, 
/**
 * `s3 bucket`, `iam role`, `cloudfront key group`, …
 */
resource: string, name: string, 
/**
 * What is (or was) created or changed, and notes.
 */
details: Array<string>, 
/**
 * Set once applied (`--apply` only).
 */
applied: boolean, };

export type TranscoderKind = "local-ffmpeg" | "mediaconvert" | "elastic-transcoder";

/**
 * Working hours, local time, every day: `start` up to (not including) `end`,
 * past midnight when `end` is earlier (a night shift's 22:00–06:00).
 */
export type WorkingHours = { 
/**
 * `HH:MM`
 */
start: string, 
/**
 * `HH:MM`
 */
end: string, };

/** Each IPC command: its arguments and what it answers. */
export type Commands = {
  list_jobs: { args: Record<string, never>; answer: Array<JobView> };
  clear_finished: { args: Record<string, never>; answer: Array<JobId> };
  pick_files: { args: Record<string, never>; answer: IntakeReport };
  pick_folders: { args: Record<string, never>; answer: IntakeReport };
  add_skipped: { args: { paths: Array<string> }; answer: IntakeReport };
  app_status: { args: Record<string, never>; answer: StatusView };
  pause_job: { args: { id: JobId }; answer: JobView };
  resume_job: { args: { id: JobId }; answer: JobView };
  cancel_job: { args: { id: JobId }; answer: JobView };
  retry_job: { args: { id: JobId }; answer: JobView };
  add_again_job: { args: { id: JobId }; answer: JobView };
  preview_url: { args: { jobId: JobId }; answer: string };
  poster_url: { args: { jobId: JobId }; answer: string };
  create_link: { args: { jobId: JobId; kind: LinkKind; expiresInSeconds: number }; answer: LinkView };
  list_links: { args: { jobId: JobId }; answer: Array<LinkView> };
  revoke_link: { args: { linkId: string }; answer: LinkView };
  copy_text: { args: { text: string }; answer: null };
  show_log_file: { args: Record<string, never>; answer: null };
  list_connections: { args: Record<string, never>; answer: ConnectionsView };
  add_connection: { args: { connection: ConnectionForm }; answer: AddedConnection };
  check_connection: { args: { name: string }; answer: CheckView };
  use_connection: { args: { name: string }; answer: ConnectionView };
  remove_connection: { args: { name: string }; answer: RemovedConnection };
  plan_setup: { args: { request: SetupRequest }; answer: SetupView };
  apply_setup: { args: { request: SetupRequest }; answer: SetupView };
  get_preferences: { args: Record<string, never>; answer: Preferences };
  set_preferences: { args: { preferences: Preferences }; answer: Preferences };
  confirm_quit: { args: Record<string, never>; answer: null };
};

/** Each event the shell emits, and its payload. */
export type Events = {
  'job-updated': JobView;
  'intake': IntakeReport;
  'app-ready': StatusView;
  'quit-requested': QuitRequest;
  'setup-step': SetupProgress;
};
