//! The engine: takes paths, records jobs, runs them with bounded concurrency,
//! lets people pause, resume, cancel and retry them, and reports every change
//! as a [`JobView`] event. The desktop shell forwards those events to the
//! window; the CLI prints them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::runtime::Handle;
use tokio::sync::{broadcast, Semaphore};
use tokio::task::JoinHandle;

use crate::intake;
use crate::jobs::{now_ms, IntakeReport, Job, JobId, JobState, JobView, Rejection};
use crate::storage::{Buckets, ObjectRef, Storage};
use crate::store::{Store, StoreError, UploadKey};
use crate::transfer::{Progress, Transfer, TransferControl, TransferError, TransferOptions};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no job with id {0}")]
    UnknownJob(JobId),
    #[error("the job is {state}, so it cannot be {action}")]
    NotNow { id: JobId, state: &'static str, action: &'static str },
}

#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Uploads running at once; the rest wait their turn as `queued`.
    pub upload_concurrency: usize,
    pub transfer: TransferOptions,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self { upload_concurrency: 2, transfer: TransferOptions::default() }
    }
}

#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    storage: Storage,
    options: EngineOptions,
    runtime: Handle,
    events: broadcast::Sender<JobView>,
    upload_slots: Semaphore,
    /// Jobs with a live task, each with the control that identifies it. A task
    /// writes its final state only while its entry is still current (not paused,
    /// cancelled or replaced by a retry), under this lock.
    running: Mutex<HashMap<JobId, Running>>,
}

struct Running {
    task: Option<JoinHandle<()>>,
    control: TransferControl,
    progress: Option<Progress>,
}

impl Engine {
    /// Starts the engine on the current Tokio runtime and resumes unfinished
    /// jobs. Paused jobs stay paused until resumed.
    pub fn start(store: Store, storage: Storage, options: EngineOptions) -> Result<Self, EngineError> {
        let (events, _) = broadcast::channel(1024);
        let engine = Self {
            inner: Arc::new(Inner {
                store,
                storage,
                upload_slots: Semaphore::new(options.upload_concurrency.max(1)),
                options,
                runtime: Handle::current(),
                events,
                running: Mutex::new(HashMap::new()),
            }),
        };
        for job in engine.inner.store.list()? {
            if job.state.is_unfinished() {
                engine.spawn(job);
            }
        }
        Ok(engine)
    }

    /// Where uploads go and how the engine reaches it.
    pub fn storage(&self) -> &Storage {
        &self.inner.storage
    }

    /// Every change to a job, as it happens. Slow receivers may miss
    /// intermediate progress, never the latest state of a job they read afterwards.
    pub fn subscribe(&self) -> broadcast::Receiver<JobView> {
        self.inner.events.subscribe()
    }

    /// Turns each path into a queued job, or a rejection with its reason. One
    /// bad item never affects the others. Callable from any thread.
    pub fn add_paths(&self, paths: impl IntoIterator<Item = PathBuf>) -> IntakeReport {
        let mut report = IntakeReport::default();
        for path in paths {
            match record_job(&self.inner.store, &self.inner.storage.buckets, path) {
                Ok(job) => {
                    report.accepted.push(JobView::of(&job, None));
                    self.spawn(job);
                }
                Err(rejection) => report.rejected.push(rejection),
            }
        }
        report
    }

    /// All jobs, newest first, with live progress.
    pub fn jobs(&self) -> Result<Vec<JobView>, EngineError> {
        Ok(self.inner.store.list()?.iter().map(|job| self.inner.view(job)).collect())
    }

    pub fn job(&self, id: JobId) -> Result<JobView, EngineError> {
        Ok(self.inner.view(&self.inner.load(id)?))
    }

    /// Waits until the job is uploaded, failed, cancelled or paused, and returns it.
    pub async fn settled(&self, id: JobId) -> Result<JobView, EngineError> {
        let mut events = self.subscribe();
        loop {
            let job = self.inner.load(id)?;
            if job.state.is_settled() || job.state == JobState::Paused {
                return Ok(self.inner.view(&job));
            }
            // Any event (or a lag) is a cue to re-read the store.
            let _ = events.recv().await;
        }
    }

    /// Stops a queued or uploading job, keeping what was sent: resuming sends only the rest.
    pub fn pause(&self, id: JobId) -> Result<JobView, EngineError> {
        let mut running = self.inner.lock_running();
        let mut job = self.inner.load(id)?;
        if !job.state.is_unfinished() {
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
        self.requeue(id, |s| *s == JobState::Paused, "resumed")
    }

    /// Runs a failed or cancelled job again.
    pub fn retry(&self, id: JobId) -> Result<JobView, EngineError> {
        self.requeue(id, |s| matches!(s, JobState::Failed { .. } | JobState::Cancelled), "retried")
    }

    fn requeue(&self, id: JobId, allowed: impl Fn(&JobState) -> bool, action: &'static str) -> Result<JobView, EngineError> {
        let mut running = self.inner.lock_running();
        let mut job = self.inner.load(id)?;
        if !allowed(&job.state) {
            return Err(EngineError::NotNow { id, state: job.state.name(), action });
        }
        let view = self.inner.set_state(&mut job, JobState::Queued);
        // A cancelled task may still be aborting its upload: the new one waits for it.
        let previous = running.remove(&id).and_then(|r| r.task);
        self.spawn_locked(&mut running, job, previous);
        Ok(view)
    }

    /// Stops a job for good and removes its partial upload from the server.
    pub fn cancel(&self, id: JobId) -> Result<JobView, EngineError> {
        let mut running = self.inner.lock_running();
        let mut job = self.inner.load(id)?;
        if matches!(job.state, JobState::Uploaded | JobState::Cancelled) {
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
                running.insert(id, Running { task: Some(task), control, progress: None });
            }
        }
        Ok(self.inner.set_state(&mut job, JobState::Cancelled))
    }

    fn spawn(&self, job: Job) {
        let mut running = self.inner.lock_running();
        self.spawn_locked(&mut running, job, None);
    }

    fn spawn_locked(&self, running: &mut HashMap<JobId, Running>, job: Job, after: Option<JoinHandle<()>>) {
        let control = TransferControl::new();
        let id = job.id;
        let inner = Arc::clone(&self.inner);
        let mine = control.clone();
        let task = self.inner.runtime.spawn(async move {
            if let Some(previous) = after {
                let _ = previous.await;
            }
            inner.run(job, mine).await
        });
        running.insert(id, Running { task: Some(task), control, progress: None });
    }
}

/// Checks `path` and records it as a queued job uploading to `buckets`. The one
/// place jobs are made: the engine runs them at once, `streamdrop submit`
/// without `--wait` leaves them for the next engine to run.
pub fn record_job(store: &Store, buckets: &Buckets, path: PathBuf) -> Result<Job, Rejection> {
    let source = intake::inspect(&path)?;
    let id = JobId::new();
    let key = format!("uploads/{id}/{}", source.display_name());
    let job = Job {
        id,
        destination: ObjectRef::new(&buckets.uploads, key),
        source,
        created_ms: now_ms(),
        state: JobState::Queued,
    };
    store.insert(&job).map_err(|e| Rejection {
        path: path.display().to_string(),
        reason: format!("could not record the job: {e}"),
    })?;
    Ok(job)
}

impl Inner {
    fn lock_running(&self) -> MutexGuard<'_, HashMap<JobId, Running>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn load(&self, id: JobId) -> Result<Job, EngineError> {
        self.store.get(id)?.ok_or(EngineError::UnknownJob(id))
    }

    fn view(&self, job: &Job) -> JobView {
        let progress = self.lock_running().get(&job.id).and_then(|r| r.progress);
        self.view_with(job, progress.as_ref())
    }

    /// Like [`view`](Self::view), for callers that already hold the `running` lock.
    fn view_with(&self, job: &Job, progress: Option<&Progress>) -> JobView {
        let mut view = JobView::of(job, progress);
        if job.state == JobState::Paused {
            // What a resume will not send again: the parts the journal holds.
            view.bytes_done = self.journalled_bytes(job);
        }
        view
    }

    fn journalled_bytes(&self, job: &Job) -> u64 {
        let key = UploadKey { target: self.storage.target.clone(), dest: job.destination.clone(), source_path: job.source.path.clone() };
        match self.store.find_upload(&key) {
            Ok(Some(record)) => record.parts.iter().map(|p| p.size).sum(),
            _ => 0,
        }
    }

    /// Records and announces a new state. Callers hold the `running` lock or own the job's task.
    fn set_state(&self, job: &mut Job, state: JobState) -> JobView {
        job.state = state;
        if let Err(err) = self.store.set_state(job.id, &job.state) {
            // The in-memory state still moves on; a restart will redo the work.
            tracing::error!(job = %job.id, "cannot record state {}: {err}", job.state.name());
        }
        let view = self.view_with(job, None);
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

    async fn run(&self, mut job: Job, control: TransferControl) {
        let _slot = tokio::select! {
            slot = self.upload_slots.acquire() => slot.expect("the semaphore is never closed"),
            _ = control.cancelled() => return self.leave(job.id, &control),
        };
        {
            let running = self.lock_running();
            if !Self::is_current(&running, job.id, &control) || control.is_cancelled() {
                drop(running);
                return self.leave(job.id, &control);
            }
            self.set_state(&mut job, JobState::Uploading);
        }
        let result = {
            let report = |progress: Progress| {
                let mut running = self.lock_running();
                if let Some(entry) = running.get_mut(&job.id).filter(|r| r.control.same_as(&control)) {
                    entry.progress = Some(progress);
                    let _ = self.events.send(JobView::of(&job, Some(&progress)));
                }
            };
            Transfer::new(&self.storage.client, &self.storage.target, &job.destination, &self.options.transfer, &self.store)
                .with_control(control.clone())
                .on_progress(&report)
                .upload(&job.source)
                .await
        };

        let state = match result {
            Ok(receipt) => {
                tracing::info!(job = %job.id, parts = receipt.parts, resumed = receipt.resumed_parts, "uploaded to {}", job.destination);
                JobState::Uploaded
            }
            Err(TransferError::Cancelled) => JobState::Cancelled,
            Err(err) => {
                tracing::warn!(job = %job.id, "upload failed: {err}");
                JobState::Failed { reason: err.to_string() }
            }
        };
        let mut running = self.lock_running();
        if Self::is_current(&running, job.id, &control) {
            running.remove(&job.id);
            // A cancel already wrote its state; anything else is ours to record.
            if !control.is_cancelled() {
                self.set_state(&mut job, state);
            }
        }
    }

    /// Aborts and forgets a journalled multipart upload of `job`, if there is one.
    async fn discard_partial_upload(&self, job: &Job) {
        let key = UploadKey { target: self.storage.target.clone(), dest: job.destination.clone(), source_path: job.source.path.clone() };
        let Ok(Some(record)) = self.store.find_upload(&key) else { return };
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
