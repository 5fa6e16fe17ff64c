//! The engine: takes paths, records jobs, runs each through the pipeline
//! (upload → copy → transcode → ready, in `pipeline.rs`), lets people pause,
//! resume, cancel and retry them, and reports every change as a [`JobView`]
//! event. The desktop shell forwards those events to the window; the CLI
//! prints them.

mod lanes;
mod pipeline;
mod returning_files;
mod sidecars;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use lanes::Lane;

use crate::clock::now_ms;
use crate::data_dir::EngineLock;
use crate::intake::{self, IntakePlan};
use crate::model::{
    BatchId, Buckets, ConnectionName, Duplicate, IfExists, IntakeReport, Job, JobId, JobOutputs, JobQuery, JobState,
    JobView, JobsPage, LiveProgress, ObjectRef, OutputManifest, Preferences, Problem, ProblemCode, ReasonCount,
    Rejection, Remedy, Stage, StateName, TranscodeRecord,
};
use crate::storage::Storage;
use crate::store::{Store, StoreError, UploadKey};
use crate::transcode::{local_ffmpeg, Transcoder};
use crate::transfer::{BandwidthLimiter, TransferControl, TransferOptions};
use crate::DataDir;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    DataDir(#[from] crate::data_dir::DataDirError),
    #[error("no job with id {0}")]
    UnknownJob(JobId),
    #[error("the job is {state}, so it cannot be {action}")]
    NotNow { id: JobId, state: StateName, action: &'static str },
    #[error("retrying cannot help this job: {}", .problem.message())]
    RetryWontHelp { id: JobId, problem: Box<Problem> },
    #[error("{0}")]
    Source(Box<Problem>),
    #[error("job {id} runs on connection {connection:?}: switch to it (`streamdrop connection use`) to act on it")]
    OtherConnection { id: JobId, connection: String },
}

#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Uploads running at once (I/O-bound), in drop order; the rest wait their
    /// turn as `queued`. As many again of files small enough for one request
    /// run beside them, so a card's short clips are never stuck behind its
    /// long ones. With the transfer's parts in flight per upload, this is the
    /// engine's whole cap: at most `upload_concurrency` × (`transfer.concurrency`
    /// plus one) requests and as many part buffers at once, however many jobs
    /// are queued (copies take the same places). Transcodes have their own
    /// limit, set on the transcoder.
    pub upload_concurrency: usize,
    pub transfer: TransferOptions,
    /// How often the engine looks at what it waits for outside itself: a
    /// submitted transcode, a file that left mid-upload (a card pulled out).
    pub poll_interval: Duration,
    /// Where job changes are announced; `None`: a channel of the engine's own.
    /// Given by a caller that must hear the very first changes of the jobs
    /// [`Engine::start`] resumes, which begin before it could subscribe.
    pub events: Option<broadcast::Sender<JobView>>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            upload_concurrency: 2,
            transfer: TransferOptions::default(),
            poll_interval: Duration::from_secs(2),
            events: None,
        }
    }
}

impl EngineOptions {
    /// These options with `preferences`' uploads at once and bandwidth limit.
    pub fn following(mut self, preferences: &Preferences) -> Self {
        self.upload_concurrency = preferences.upload_concurrency as usize;
        let limiter = BandwidthLimiter::unlimited();
        limiter.follow(preferences);
        self.transfer.bandwidth = Some(Arc::new(limiter));
        self
    }
}

#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    /// Only this connection's jobs are run here.
    connection: ConnectionName,
    storage: Storage,
    transcoder: Arc<dyn Transcoder>,
    options: EngineOptions,
    runtime: Handle,
    events: broadcast::Sender<JobView>,
    upload_slots: Lane,
    /// The same for files sent in one request (see [`EngineOptions::upload_concurrency`]).
    small_upload_slots: Lane,
    /// Jobs with a live task, each with the control that identifies it. A task
    /// writes states only while its entry is still current (not paused,
    /// cancelled or replaced by a retry), under this lock.
    running: Mutex<HashMap<JobId, Running>>,
    /// Set by [`Engine::stop`]: no task starts after it.
    stopped: AtomicBool,
}

struct Running {
    task: Option<JoinHandle<()>>,
    control: TransferControl,
    live: LiveProgress,
}

impl Engine {
    /// Starts the engine for `connection`'s jobs on the current Tokio runtime
    /// and resumes each unfinished one at its stage. Paused jobs stay paused
    /// until resumed; other connections' jobs are listed, never run.
    pub fn start(
        store: Store,
        connection: ConnectionName,
        storage: Storage,
        transcoder: Arc<dyn Transcoder>,
        options: EngineOptions,
    ) -> Result<Self, EngineError> {
        let events = options.events.clone().unwrap_or_else(|| broadcast::channel(1024).0);
        // One limiter for all jobs, there even without a limit so one can be set while they run.
        let mut options = options;
        options.transfer.bandwidth.get_or_insert_with(|| Arc::new(BandwidthLimiter::unlimited()));
        let engine = Self {
            inner: Arc::new(Inner {
                store,
                connection,
                storage,
                transcoder,
                upload_slots: Lane::new(options.upload_concurrency),
                small_upload_slots: Lane::new(options.upload_concurrency),
                options,
                runtime: Handle::current(),
                events,
                running: Mutex::new(HashMap::new()),
                stopped: AtomicBool::new(false),
            }),
        };
        // Oldest drop first: the slots are handed out in the order jobs ask.
        let mut unfinished: Vec<Job> = engine
            .inner
            .store
            .list()?
            .into_iter()
            .filter(|job| job.state.is_unfinished() && job.connection == engine.inner.connection)
            .collect();
        // Stable: each batch keeps the store's order, the order its files were given.
        unfinished.sort_by_key(|job| job.created_ms);
        for job in unfinished {
            engine.spawn(job);
        }
        returning_files::watch(&engine);
        Ok(engine)
    }

    /// Where uploads go and how the engine reaches it.
    pub fn storage(&self) -> &Storage {
        &self.inner.storage
    }

    pub fn transcoder_name(&self) -> &'static str {
        self.inner.transcoder.name()
    }

    /// Every change to a job, as it happens. Slow receivers may miss
    /// intermediate progress, never the latest state of a job they read afterwards.
    pub fn subscribe(&self) -> broadcast::Receiver<JobView> {
        self.inner.events.subscribe()
    }

    /// Turns each path (a file, or a folder of clips) into a queued job, or a
    /// rejection with its reason, as one batch in the order given; each file
    /// becomes a job even when its content is already here. Each file is read
    /// as media first (see [`intake::examine`]), so what cannot be played is
    /// refused before any byte is sent. One bad item never affects the others.
    pub async fn add_paths(&self, paths: impl IntoIterator<Item = PathBuf>) -> IntakeReport {
        let plan = intake::plan(paths).await;
        let unrecorded = Unrecorded::of(&plan);
        self.add_plan(plan, IfExists::Again).unwrap_or_else(|problem| {
            let rejected = unrecorded.refused(&problem);
            IntakeReport { rejected_counts: ReasonCount::of(&rejected), rejected, ..IntakeReport::default() }
        })
    }

    /// Records and starts the files of an intake plan (see [`intake::plan`]);
    /// files already here are dealt with as `if_exists` says ([`record_batch`]).
    pub fn add_plan(&self, plan: IntakePlan, if_exists: IfExists) -> Result<IntakeReport, Problem> {
        let (jobs, mut report) =
            record_batch(&self.inner.store, &self.inner.connection, &self.inner.storage.buckets, plan, if_exists)?;
        for job in jobs {
            report.accepted.push(JobView::of(&job, &LiveProgress::default()));
            self.spawn(job);
        }
        Ok(report)
    }

    /// All jobs, newest first, with live progress.
    pub fn jobs(&self) -> Result<Vec<JobView>, EngineError> {
        Ok(self.inner.store.list()?.iter().map(|job| self.inner.view(job)).collect())
    }

    /// The page of jobs `query` asks for, with live progress.
    pub fn page(&self, query: &JobQuery) -> Result<JobsPage, EngineError> {
        let (jobs, total) = self.inner.store.query(query)?;
        Ok(JobsPage { jobs: jobs.iter().map(|job| self.inner.view(job)).collect(), total })
    }

    /// Applies `preferences` to the jobs running and to come: uploads at once
    /// and the bandwidth limit. (A link's default lifetime is the linker's.)
    pub fn follow(&self, preferences: &Preferences) {
        let inner = &self.inner;
        let places = preferences.upload_concurrency as usize;
        inner.upload_slots.resize(places, &inner.runtime);
        inner.small_upload_slots.resize(places, &inner.runtime);
        if let Some(limiter) = &inner.options.transfer.bandwidth {
            limiter.follow(preferences);
        }
    }

    pub fn job(&self, id: JobId) -> Result<JobView, EngineError> {
        Ok(self.inner.view(&self.inner.load(id)?))
    }

    /// What a finished job's transcoder wrote; `None` until it has finished.
    pub fn manifest(&self, id: JobId) -> Result<Option<OutputManifest>, EngineError> {
        Ok(self.inner.load_own(id)?.transcode.manifest)
    }

    /// Where a job's original and transcoded outputs live (whether or not they exist yet).
    pub fn outputs(&self, id: JobId) -> Result<JobOutputs, EngineError> {
        Ok(JobOutputs::of(&self.inner.load_own(id)?, &self.inner.storage.buckets.media))
    }

    /// Waits until the job is ready, failed, cancelled or paused, and returns it.
    pub async fn settled(&self, id: JobId) -> Result<JobView, EngineError> {
        let mut events = self.subscribe();
        loop {
            let job = self.inner.load(id)?;
            if job.state.name().is_at_rest() {
                return Ok(self.inner.view(&job));
            }
            // Any event (or a lag) is a cue to re-read the store.
            let _ = events.recv().await;
        }
    }

    /// Stops a job that is waiting for or in its upload, keeping what was sent:
    /// resuming sends only the rest.
    pub fn pause(&self, id: JobId) -> Result<JobView, EngineError> {
        let mut running = self.inner.lock_running();
        let mut job = self.inner.load_own(id)?;
        if !matches!(job.state, JobState::Queued { stage: Stage::Upload } | JobState::Uploading) {
            return Err(EngineError::NotNow { id, state: job.state.name(), action: "paused" });
        }
        // Dropping the task mid-part is safe: the journal only holds confirmed parts.
        if let Some(task) = running.remove(&id).and_then(|r| r.task) {
            task.abort();
        }
        Ok(self.inner.set_state(&mut job, JobState::Paused))
    }

    /// Puts a paused job back in the queue.
    pub fn resume(&self, id: JobId) -> Result<JobView, EngineError> {
        self.requeue(id, "resumed", |state| (*state == JobState::Paused).then_some(Stage::Upload))
    }

    /// Runs a failed job again from the stage that failed, or a cancelled one
    /// from the start. Refused where a retry cannot help (the file changed, or
    /// is not a video): those need [`add_again`](Self::add_again) or nothing.
    pub fn retry(&self, id: JobId) -> Result<JobView, EngineError> {
        if let JobState::Failed { problem, .. } = &self.inner.load_own(id)?.state {
            if problem.remedy() != Remedy::Retry {
                return Err(EngineError::RetryWontHelp { id, problem: Box::new(problem.clone()) });
            }
        }
        self.requeue(id, "retried", |state| match state {
            JobState::Failed { stage, .. } => Some(*stage),
            JobState::Cancelled => Some(Stage::Upload),
            _ => None,
        })
    }

    /// Reads a failed or cancelled job's file anew (it changed, or was still
    /// being copied when it was added) and uploads it from the start: what was
    /// sent of the old version is discarded.
    pub async fn add_again(&self, id: JobId) -> Result<JobView, EngineError> {
        let job = self.inner.load_own(id)?;
        if !matches!(job.state, JobState::Failed { .. } | JobState::Cancelled) {
            return Err(EngineError::NotNow { id, state: job.state.name(), action: "added again" });
        }
        let accepted = intake::examine(&job.source.path).await.map_err(|p| EngineError::Source(Box::new(p)))?;
        // The old version's partial upload and the transcoder's memory of it are of no use now.
        self.inner.discard_partial_upload(&job).await;
        self.inner.store.set_source(id, &accepted.source, &accepted.media, &accepted.fingerprint)?;
        self.requeue(id, "added again", |state| {
            matches!(state, JobState::Failed { .. } | JobState::Cancelled).then_some(Stage::Upload)
        })
    }

    fn requeue(
        &self,
        id: JobId,
        action: &'static str,
        restart_at: impl Fn(&JobState) -> Option<Stage>,
    ) -> Result<JobView, EngineError> {
        let mut running = self.inner.lock_running();
        let mut job = self.inner.load_own(id)?;
        let Some(stage) = restart_at(&job.state) else {
            return Err(EngineError::NotNow { id, state: job.state.name(), action });
        };
        let view = self.inner.set_state(&mut job, JobState::Queued { stage });
        // A cancelled task may still be aborting its upload: the new one waits for it.
        let previous = running.remove(&id).and_then(|r| r.task);
        self.spawn_locked(&mut running, job, previous);
        Ok(view)
    }

    /// Stops a job for good and removes its partial upload from the server.
    pub fn cancel(&self, id: JobId) -> Result<JobView, EngineError> {
        let mut running = self.inner.lock_running();
        let mut job = self.inner.load_own(id)?;
        if matches!(job.state, JobState::Ready | JobState::Cancelled) {
            return Err(EngineError::NotNow { id, state: job.state.name(), action: "cancelled" });
        }
        match running.get(&id) {
            // The task aborts its multipart upload itself, then leaves.
            Some(live) => live.control.cancel(),
            // Paused or failed: a journalled partial upload may still be on the server.
            None => {
                let control = TransferControl::new();
                control.cancel();
                let inner = Arc::clone(&self.inner);
                let (stale, mine) = (job.clone(), control.clone());
                let task = self.inner.runtime.spawn(async move {
                    inner.discard_partial_upload(&stale).await;
                    inner.leave(stale.id, &mine);
                });
                running.insert(id, Running { task: Some(task), control, live: LiveProgress::default() });
            }
        }
        Ok(self.inner.set_state(&mut job, JobState::Cancelled))
    }

    /// Stops running jobs where they are, as a quit would: nothing is lost,
    /// and the next engine on this connection resumes each at its stage
    /// (uploads from their journal, cloud transcodes by polling them again).
    /// Used when the app switches to another connection.
    pub fn stop(&self) {
        let mut running = self.inner.lock_running();
        self.inner.stopped.store(true, Ordering::SeqCst);
        for (_, entry) in running.drain() {
            if let Some(task) = entry.task {
                task.abort();
            }
        }
        self.inner.transcoder.stop_all();
    }

    fn spawn(&self, job: Job) {
        let mut running = self.inner.lock_running();
        self.spawn_locked(&mut running, job, None);
    }

    fn spawn_locked(&self, running: &mut HashMap<JobId, Running>, job: Job, after: Option<JoinHandle<()>>) {
        if self.inner.is_stopped() {
            return;
        }
        let control = TransferControl::new();
        let id = job.id;
        let inner = Arc::clone(&self.inner);
        let mine = control.clone();
        // In line now, in the order jobs are spawned, whenever the task gets to run.
        let in_line = inner.join_line(&job);
        let task = self.inner.runtime.spawn(async move {
            if let Some(previous) = after {
                let _ = previous.await;
            }
            inner.run(job, mine, in_line).await
        });
        running.insert(id, Running { task: Some(task), control, live: LiveProgress::default() });
    }
}

/// What starting an engine on `data_dir` takes, once this process holds its
/// claim (`lock`, held until it drops): the job store, and no ffmpeg left
/// running by a predecessor that was killed.
pub(crate) fn prepare(data_dir: &DataDir, _lock: &EngineLock) -> Result<Store, EngineError> {
    let stopped = local_ffmpeg::stop_orphans(&local_ffmpeg::work_root(data_dir));
    if stopped > 0 {
        tracing::warn!("stopped {stopped} ffmpeg run(s) left by a Streamdrop that did not stop cleanly");
    }
    Ok(Store::open(&data_dir.store_file())?)
}

/// Records each file of `plan` as a queued job of `connection`, uploading to
/// `buckets` under `uploads/<batch>/<folder>/<path in it>` (a file given by
/// itself: `uploads/<job id>/<name>`), all in one batch in the
/// plan's order; the plan's rejections are passed on. A file whose content a
/// job of the connection already has is left out (and listed), recorded
/// anyway, or makes the whole batch fail, as `if_exists` says. The one place
/// jobs are made: the engine runs them at once, `streamdrop submit` without
/// `--wait` leaves them for the next engine on that connection to run. The
/// report's `accepted` is left to the caller, which has the jobs.
pub fn record_batch(
    store: &Store,
    connection: &ConnectionName,
    buckets: &Buckets,
    plan: IntakePlan,
    if_exists: IfExists,
) -> Result<(Vec<Job>, IntakeReport), Problem> {
    let batch = BatchId::new();
    let created_ms = now_ms();
    let rejected_counts = plan.rejected_counts();
    let mut jobs = Vec::with_capacity(plan.accepted.len());
    for accepted in plan.accepted {
        let id = JobId::new();
        let name = accepted.source.display_name();
        // A folder's files share their batch's prefix, so the card's tree is whole
        // under one folder; a file given by itself has its job's own.
        let key = match accepted.from_folder {
            true => format!("uploads/{batch}/{}", accepted.relative_path),
            false => format!("uploads/{id}/{name}"),
        };
        jobs.push(Job {
            id,
            connection: connection.clone(),
            destination: ObjectRef::new(&buckets.uploads, key),
            original: Some(JobOutputs::original_of(id, &name, &buckets.media)),
            source: accepted.source,
            relative_path: accepted.relative_path,
            fingerprint: Some(accepted.fingerprint),
            created_ms,
            batch,
            position: jobs.len() as u32, // renumbered by the store without the duplicates it leaves out
            state: JobState::QUEUED,
            resumed_bytes: 0,
            transcode: TranscodeRecord { media: Some(accepted.media), ..TranscodeRecord::default() },
            sidecars: accepted.sidecars,
        });
    }
    let inserted = store.insert_batch(jobs, if_exists).map_err(|err| Problem::new(ProblemCode::DataDir).detail(err))?;
    let duplicates: Vec<Duplicate> = inserted
        .duplicates
        .iter()
        .map(|(job, existing, state)| Duplicate {
            path: job.source.path.display().to_string(),
            file_name: job.source.display_name(),
            relative_path: job.relative_path.clone(),
            existing_job: *existing,
            existing_state: *state,
        })
        .collect();
    if if_exists == IfExists::Fail && !duplicates.is_empty() {
        return Err(Problem::new(ProblemCode::AlreadyAdded)
            .with("count", duplicates.len())
            .with("file", &duplicates[0].relative_path));
    }
    let report = IntakeReport { accepted: Vec::new(), rejected: plan.rejected, rejected_counts, duplicates };
    Ok((inserted.jobs, report))
}

/// [`record_batch`] with every file recorded, duplicate or not; each file
/// that could not be recorded is a rejection.
pub fn record_jobs(
    store: &Store,
    connection: &ConnectionName,
    buckets: &Buckets,
    plan: IntakePlan,
) -> (Vec<Job>, Vec<Rejection>) {
    let unrecorded = Unrecorded::of(&plan);
    match record_batch(store, connection, buckets, plan, IfExists::Again) {
        Ok((jobs, report)) => (jobs, report.rejected),
        Err(problem) => (Vec::new(), unrecorded.refused(&problem)),
    }
}

/// A plan's items, for when it cannot be recorded at all (the store failed).
struct Unrecorded {
    accepted: Vec<PathBuf>,
    rejected: Vec<Rejection>,
}

impl Unrecorded {
    fn of(plan: &IntakePlan) -> Self {
        Self {
            accepted: plan.accepted.iter().map(|a| a.source.path.clone()).collect(),
            rejected: plan.rejected.clone(),
        }
    }

    /// The plan's rejections, and each file it accepted refused for `problem`.
    fn refused(mut self, problem: &Problem) -> Vec<Rejection> {
        self.rejected.extend(self.accepted.iter().map(|path| Rejection::new(path, problem.clone())));
        self.rejected
    }
}

impl Inner {
    fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    fn lock_running(&self) -> MutexGuard<'_, HashMap<JobId, Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn load(&self, id: JobId) -> Result<Job, EngineError> {
        self.store.get(id)?.ok_or(EngineError::UnknownJob(id))
    }

    /// A job this engine may act on: one of its connection's.
    fn load_own(&self, id: JobId) -> Result<Job, EngineError> {
        let job = self.load(id)?;
        if job.connection != self.connection {
            return Err(EngineError::OtherConnection { id, connection: job.connection.to_string() });
        }
        Ok(job)
    }

    fn outputs(&self, job: &Job) -> JobOutputs {
        JobOutputs::of(job, &self.storage.buckets.media)
    }

    fn view(&self, job: &Job) -> JobView {
        let live = self.lock_running().get(&job.id).map(|r| r.live).unwrap_or_default();
        self.view_with(job, &live)
    }

    /// Like [`view`](Self::view), for callers that already hold the `running` lock.
    fn view_with(&self, job: &Job, live: &LiveProgress) -> JobView {
        let mut view = JobView::of(job, live);
        if job.state == JobState::Paused {
            // What a resume will not send again: the parts the journal holds.
            view.bytes_done = self.journalled_bytes(job);
        }
        view
    }

    fn journalled_bytes(&self, job: &Job) -> u64 {
        match self.store.find_upload(&self.upload_key(job)) {
            Ok(Some(record)) => record.parts.iter().map(|p| p.size).sum(),
            _ => 0,
        }
    }

    fn upload_key(&self, job: &Job) -> UploadKey {
        UploadKey {
            target: self.storage.target.clone(),
            dest: job.destination.clone(),
            source_path: job.source.path.clone(),
        }
    }

    /// Records and announces a new state. Callers hold the `running` lock or own the job's task.
    fn set_state(&self, job: &mut Job, state: JobState) -> JobView {
        job.state = state;
        if let Err(err) = self.store.set_state(job.id, &job.state) {
            // The in-memory state still moves on; a restart will redo the work.
            tracing::error!(job = %job.id, "cannot record state {}: {err}", job.state.name());
        }
        let view = self.view_with(job, &LiveProgress::default());
        let _ = self.events.send(view.clone());
        view
    }

    /// Whether `control` is still the live task of job `id` (not paused, replaced or left).
    fn is_current(running: &HashMap<JobId, Running>, id: JobId, control: &TransferControl) -> bool {
        running.get(&id).is_some_and(|r| r.control.same_as(control))
    }

    /// Removes the job's entry if it is still `control`'s.
    fn leave(&self, id: JobId, control: &TransferControl) {
        let mut running = self.lock_running();
        if Self::is_current(&running, id, control) {
            running.remove(&id);
        }
    }

    /// Moves a running job to `state` if its task is still current; false if it was
    /// paused, cancelled or replaced meanwhile (then the state is not ours to write).
    fn advance(&self, job: &mut Job, control: &TransferControl, state: JobState) -> bool {
        let running = self.lock_running();
        if !Self::is_current(&running, job.id, control) || control.is_cancelled() {
            return false;
        }
        self.set_state(job, state);
        true
    }

    /// Updates a running job's live progress and announces it.
    fn report(&self, job: &Job, control: &TransferControl, update: impl FnOnce(&mut LiveProgress)) {
        let mut running = self.lock_running();
        if let Some(entry) = running.get_mut(&job.id).filter(|r| r.control.same_as(control)) {
            update(&mut entry.live);
            let _ = self.events.send(JobView::of(job, &entry.live));
        }
    }

    /// Aborts and forgets a journalled multipart upload of `job`, if there is one.
    async fn discard_partial_upload(&self, job: &Job) {
        let Ok(Some(record)) = self.store.find_upload(&self.upload_key(job)) else { return };
        let aborted = self
            .storage
            .client
            .abort_multipart_upload()
            .bucket(&job.destination.bucket)
            .key(&job.destination.key)
            .upload_id(&record.upload_id)
            .send()
            .await;
        if let Err(err) = aborted {
            tracing::warn!(job = %job.id, "could not abort the partial upload: {}", aws_sdk_s3::error::DisplayErrorContext(&err));
        }
        if let Err(err) = self.store.forget_upload(record.row) {
            tracing::warn!(job = %job.id, "could not forget the partial upload: {err}");
        }
    }
}
