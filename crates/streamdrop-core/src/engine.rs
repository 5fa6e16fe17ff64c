//! The engine: takes paths, records jobs, runs them with bounded concurrency and
//! reports every change as a [`JobView`] event. The desktop shell forwards
//! those events to the window; the CLI prints them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::{broadcast, Semaphore};

use crate::intake;
use crate::jobs::{now_ms, IntakeReport, Job, JobId, JobState, JobView, Rejection};
use crate::storage::{Buckets, ObjectRef, Storage};
use crate::store::{Store, StoreError};
use crate::transfer::{self, DEFAULT_PART_SIZE};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no job with id {0}")]
    UnknownJob(JobId),
}

#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Uploads running at once; the rest wait their turn as `queued`.
    pub upload_concurrency: usize,
    pub part_size: u64,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self { upload_concurrency: 2, part_size: DEFAULT_PART_SIZE }
    }
}

/// Progress events are throttled to this interval per job; state changes are never dropped.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

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
    /// Bytes sent by running uploads; in memory only, since a restarted upload starts over.
    progress: Mutex<HashMap<JobId, u64>>,
}

impl Engine {
    /// Starts the engine on the current Tokio runtime and resumes unfinished jobs.
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
                progress: Mutex::new(HashMap::new()),
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
            match self.add_path(path) {
                Ok(view) => report.accepted.push(view),
                Err(rejection) => report.rejected.push(rejection),
            }
        }
        report
    }

    fn add_path(&self, path: PathBuf) -> Result<JobView, Rejection> {
        let job = record_job(&self.inner.store, &self.inner.storage.buckets, path)?;
        let view = JobView::of(&job, 0);
        self.spawn(job);
        Ok(view)
    }

    /// All jobs, newest first, with live progress.
    pub fn jobs(&self) -> Result<Vec<JobView>, EngineError> {
        Ok(self.inner.store.list()?.iter().map(|job| self.inner.view(job)).collect())
    }

    pub fn job(&self, id: JobId) -> Result<JobView, EngineError> {
        let job = self.inner.store.get(id)?.ok_or(EngineError::UnknownJob(id))?;
        Ok(self.inner.view(&job))
    }

    /// Waits until the job is no longer queued or running, and returns it.
    pub async fn settled(&self, id: JobId) -> Result<JobView, EngineError> {
        let mut events = self.subscribe();
        loop {
            let view = self.job(id)?;
            if view.state == "uploaded" || view.state == "failed" {
                return Ok(view);
            }
            // Any event (or a lag) is a cue to re-read the store.
            let _ = events.recv().await;
        }
    }

    fn spawn(&self, job: Job) {
        let inner = Arc::clone(&self.inner);
        self.inner.runtime.spawn(async move { inner.run(job).await });
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
    fn view(&self, job: &Job) -> JobView {
        let done = self.progress.lock().unwrap_or_else(|p| p.into_inner()).get(&job.id).copied().unwrap_or(0);
        JobView::of(job, done)
    }

    fn set_state(&self, job: &mut Job, state: JobState) {
        job.state = state;
        if let Err(err) = self.store.set_state(job.id, &job.state) {
            // The in-memory state still moves on; a restart will redo the work.
            tracing::error!(job = %job.id, "cannot record state {}: {err}", job.state.name());
        }
        let _ = self.events.send(self.view(job));
    }

    async fn run(&self, mut job: Job) {
        let _slot = self.upload_slots.acquire().await.expect("the semaphore is never closed");
        self.progress.lock().unwrap_or_else(|p| p.into_inner()).insert(job.id, 0);
        self.set_state(&mut job, JobState::Uploading);

        let last_emit = Mutex::new(Instant::now());
        let report_progress = |done: u64| {
            self.progress.lock().unwrap_or_else(|p| p.into_inner()).insert(job.id, done);
            let mut last = last_emit.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() >= PROGRESS_INTERVAL {
                *last = Instant::now();
                let _ = self.events.send(JobView::of(&job, done));
            }
        };
        let result = transfer::upload_file(
            &self.storage.client,
            &job.source,
            &job.destination,
            self.options.part_size,
            &report_progress,
        )
        .await;

        let state = match result {
            Ok(receipt) => {
                tracing::info!(job = %job.id, parts = receipt.parts, "uploaded to {}", job.destination);
                JobState::Uploaded
            }
            Err(err) => {
                tracing::warn!(job = %job.id, "upload failed: {err}");
                JobState::Failed { reason: err.to_string() }
            }
        };
        self.progress.lock().unwrap_or_else(|p| p.into_inner()).remove(&job.id);
        self.set_state(&mut job, state);
    }
}
