//! Jobs: intake (a plan, then its application), the list, the actions on
//! one job, and where its results are.

use std::path::PathBuf;

use super::{OutputsView, Session};
use crate::credentials::Settings;
use crate::engine::record_batch;
use crate::intake::{self, IntakePlan};
use crate::model::{
    IfExists, IntakeReport, Job, JobAction, JobId, JobQuery, JobView, JobsPage, LiveProgress, Problem, ProblemCode,
};

/// Refusals of one drop that [`Session::add`] lists by name.
pub const LISTED_REFUSALS: usize = 200;

impl Session {
    /// Reads each path as media (a folder: the clips in it) and says what
    /// would become a job and what would be refused, and why. Nothing is recorded.
    pub async fn plan_intake(&self, paths: Vec<PathBuf>) -> IntakePlan {
        intake::plan(paths).await
    }

    /// Records the plan's files as one batch of jobs; a file whose content is
    /// already on the connection (queued, running, paused or ready) is dealt
    /// with as `if_exists` says. A hosting session runs them at once;
    /// otherwise they wait, queued on the active connection, for the next
    /// engine on it.
    pub async fn apply_intake(&self, plan: IntakePlan, if_exists: IfExists) -> Result<IntakeReport, Problem> {
        if self.hosts() {
            return self.engine().await?.engine.add_plan(plan, if_exists);
        }
        let settings = Settings::load(&self.inner.data_dir)?;
        let buckets = super::connections::buckets_of(settings.active())?;
        let (jobs, mut report) = record_batch(&self.inner.store, settings.active_name(), &buckets, plan, if_exists)?;
        report.accepted = jobs.iter().map(|job| JobView::of(job, &LiveProgress::default())).collect();
        Ok(report)
    }

    /// [`plan_intake`](Self::plan_intake), then [`apply_intake`](Self::apply_intake).
    pub async fn submit(&self, paths: Vec<PathBuf>, if_exists: IfExists) -> Result<IntakeReport, Problem> {
        let plan = self.plan_intake(paths).await;
        self.apply_intake(plan, if_exists).await
    }

    /// What the window does with a drop: [`submit`](Self::submit), leaving
    /// out files already on the connection (the report lists them), which the
    /// person may then still add with [`add_skipped`](Self::add_skipped).
    /// At most [`LISTED_REFUSALS`] refusals are listed (a folder of 50,000
    /// stray files is not 50,000 notices); `rejected_counts` keeps the totals.
    pub async fn add(&self, paths: Vec<PathBuf>) -> Result<IntakeReport, Problem> {
        let mut report = self.submit(paths, IfExists::Skip).await?;
        report.rejected.truncate(LISTED_REFUSALS);
        let mut skipped = self.inner.skipped.lock().unwrap_or_else(|p| p.into_inner());
        skipped.extend(report.duplicates.iter().map(|d| PathBuf::from(&d.path)));
        Ok(report)
    }

    /// Adds again files that [`add`](Self::add) left out as duplicates, as
    /// new jobs. Only those: any other path refuses the whole call, so the
    /// window cannot name a file the person did not drop.
    pub async fn add_skipped(&self, paths: Vec<PathBuf>) -> Result<IntakeReport, Problem> {
        {
            let mut skipped = self.inner.skipped.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(other) = paths.iter().find(|p| !skipped.contains(*p)) {
                return Err(Problem::new(ProblemCode::NotSkipped).with("file", other.display()));
            }
            for path in &paths {
                skipped.remove(path);
            }
        }
        self.submit(paths, IfExists::Again).await
    }

    /// Every job, newest first; with live progress where the engine runs it.
    pub fn jobs(&self) -> Result<Vec<JobView>, Problem> {
        if let Some(hosted) = self.running() {
            return Ok(hosted.engine.jobs()?);
        }
        Ok(self.inner.store.list()?.iter().map(|job| JobView::of(job, &LiveProgress::default())).collect())
    }

    /// Takes the finished jobs (ready or cancelled, on every connection) off
    /// the list and says which. Nothing stored is deleted: their files and
    /// links stay, and their content is still recognised as uploaded.
    pub fn clear_finished(&self) -> Result<Vec<JobId>, Problem> {
        Ok(self.inner.store.clear_finished()?)
    }

    /// The page of jobs `query` asks for (filtered by state and name), with
    /// how many match; live progress where the engine runs them.
    pub fn jobs_page(&self, query: &JobQuery) -> Result<JobsPage, Problem> {
        if let Some(hosted) = self.running() {
            return Ok(hosted.engine.page(query)?);
        }
        let (jobs, total) = self.inner.store.query(query)?;
        Ok(JobsPage { jobs: jobs.iter().map(|job| JobView::of(job, &LiveProgress::default())).collect(), total })
    }

    pub fn job(&self, id: JobId) -> Result<JobView, Problem> {
        if let Some(hosted) = self.running() {
            return Ok(hosted.engine.job(id)?);
        }
        Ok(JobView::of(&self.stored(id)?, &LiveProgress::default()))
    }

    /// Stops a job in its upload, keeping what was sent.
    pub async fn pause(&self, id: JobId) -> Result<JobView, Problem> {
        Ok(self.engine().await?.engine.pause(id)?)
    }

    pub async fn resume(&self, id: JobId) -> Result<JobView, Problem> {
        Ok(self.engine().await?.engine.resume(id)?)
    }

    /// Stops a job for good and removes its partial upload.
    pub async fn cancel(&self, id: JobId) -> Result<JobView, Problem> {
        Ok(self.engine().await?.engine.cancel(id)?)
    }

    /// Runs a failed job again from the stage that failed (a cancelled one from the start).
    pub async fn retry(&self, id: JobId) -> Result<JobView, Problem> {
        Ok(self.engine().await?.engine.retry(id)?)
    }

    /// Reads a failed or cancelled job's file anew and uploads it from the start.
    pub async fn add_again(&self, id: JobId) -> Result<JobView, Problem> {
        Ok(self.engine().await?.engine.add_again(id).await?)
    }

    /// Does `action` to job `id` (the one door for the window's buttons, the CLI and the control channel).
    pub async fn act(&self, id: JobId, action: JobAction) -> Result<JobView, Problem> {
        match action {
            JobAction::Pause => self.pause(id).await,
            JobAction::Resume => self.resume(id).await,
            JobAction::Cancel => self.cancel(id).await,
            JobAction::Retry => self.retry(id).await,
            JobAction::AddAgain => self.add_again(id).await,
        }
    }

    /// Waits until the job is ready, failed, cancelled or paused.
    pub async fn settled(&self, id: JobId) -> Result<JobView, Problem> {
        Ok(self.engine().await?.engine.settled(id).await?)
    }

    /// Jobs of the hosted connection that still have work to do (paused ones wait for a person).
    pub fn unfinished_jobs(&self) -> usize {
        let Some(hosted) = self.running() else { return 0 };
        let jobs = self.inner.store.list().unwrap_or_default();
        jobs.iter().filter(|j| j.connection == hosted.connection && j.state.is_unfinished()).count()
    }

    /// Where a job's file and results are, by name; what does not exist yet is absent.
    pub fn outputs(&self, id: JobId) -> Result<OutputsView, Problem> {
        let job = self.stored(id)?;
        let media_bucket = match &job.original {
            Some(original) => original.bucket.clone(),
            // Recorded before jobs remembered their original: the connection's bucket.
            None => {
                let settings = Settings::load(&self.inner.data_dir)?;
                let connection = settings.get(job.connection.as_str()).ok_or_else(|| {
                    Problem::new(ProblemCode::ConnectionNotFound).with("connection", job.connection.as_str())
                })?;
                super::connections::buckets_of(connection)?.media
            }
        };
        Ok(OutputsView::of(&job, &media_bucket))
    }

    pub(super) fn stored(&self, id: JobId) -> Result<Job, Problem> {
        self.inner.store.get(id)?.ok_or_else(|| Problem::new(ProblemCode::JobNotFound).with("job", id))
    }
}
