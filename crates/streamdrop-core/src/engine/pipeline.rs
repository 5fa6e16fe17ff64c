//! Running one job through its stages: upload to the temporary bucket, copy to
//! the distribution bucket (the original is kept), transcode to HLS. Each
//! stage boundary is written to the store, so a restart resumes at the stage
//! where the job was, and a failure names the stage a retry starts from.

use super::lanes::{InLine, Lane};
use super::Inner;

use crate::intake;
use crate::model::{Job, JobOutputs, JobState, MediaInfo, Problem, ProblemCode, Progress, Stage, TranscodeRecord};
use crate::transcode::manifest::scan;
use crate::transcode::{
    backend_display_name, failure_problem, ladder_for, TranscodeError, TranscodeRequest, TranscodeStatus,
};
use crate::transfer::{Transfer, TransferControl, TransferError};

/// Why a stage stopped short.
pub(super) enum Stopped {
    /// The user cancelled; the cancel already wrote the state.
    Cancelled,
    Failed(Problem),
}

impl Stopped {
    fn transfer(err: TransferError, job: &Job) -> Self {
        Self::transfer_of(err, &job.source.display_name())
    }

    /// A transfer of the file people know as `name` stopped.
    pub(super) fn transfer_of(err: TransferError, name: &str) -> Self {
        match err {
            TransferError::Cancelled => Stopped::Cancelled,
            other => Stopped::Failed(other.problem(name)),
        }
    }
}

impl Inner {
    /// Runs `job` from its stage to the end; `in_line` is its place in line
    /// for a transfer, taken when it was spawned (see [`super::lanes`]).
    pub(super) async fn run(&self, mut job: Job, control: TransferControl, mut in_line: Option<InLine>) {
        loop {
            let Some(stage) = job.state.stage().filter(|_| job.state.is_unfinished()) else {
                return self.leave(job.id, &control);
            };
            let outcome = match stage {
                Stage::Upload => self.upload(&mut job, &control, in_line.take()).await,
                Stage::Copy => self.copy(&mut job, &control, in_line.take()).await,
                Stage::Transcode => self.transcode(&mut job, &control).await,
            };
            let next = match outcome {
                Ok(()) => match stage.next() {
                    Some(next) => JobState::Queued { stage: next },
                    None => JobState::Ready,
                },
                Err(Stopped::Cancelled) => return self.leave(job.id, &control),
                Err(Stopped::Failed(problem)) => {
                    tracing::warn!(job = %job.id, stage = stage.as_str(), code = %problem.code, "failed: {}", problem.message_with_detail());
                    JobState::Failed { stage, problem }
                }
            };
            if !self.advance(&mut job, &control, next) {
                return; // paused, cancelled or replaced meanwhile
            }
            if job.state.is_settled() {
                return self.leave(job.id, &control);
            }
        }
    }

    async fn upload(&self, job: &mut Job, control: &TransferControl, in_line: Option<InLine>) -> Result<(), Stopped> {
        let _slot = self.transfer_slot(job, control, in_line).await?;
        if !self.advance(job, control, JobState::Uploading) {
            return Err(Stopped::Cancelled);
        }
        // First: small, and a retry of this stage sends them again anyway.
        self.upload_sidecars(job, control).await?;
        let receipt = {
            let job = &*job;
            let report = |progress: Progress| self.report(job, control, |live| live.upload = Some(progress));
            Transfer::new(
                &self.storage.client,
                &self.storage.target,
                &job.destination,
                &self.options.transfer,
                &self.store,
            )
            .with_control(control.clone())
            .on_progress(&report)
            .upload(&job.source)
            .await
            .map_err(|e| Stopped::transfer(e, job))?
        };
        tracing::info!(job = %job.id, parts = receipt.parts, resumed = receipt.resumed_parts, "uploaded to {}", job.destination);
        if receipt.bytes_resumed > 0 {
            job.resumed_bytes = receipt.bytes_resumed;
            if let Err(err) = self.store.set_resumed_bytes(job.id, receipt.bytes_resumed) {
                tracing::warn!(job = %job.id, "cannot record what the resumed upload found: {err}");
            }
        }
        Ok(())
    }

    /// A place among the transfers that run at once (see
    /// [`super::EngineOptions::upload_concurrency`]): uploads and copies share
    /// them, so the cap holds for every request the engine sends.
    async fn transfer_slot(
        &self,
        job: &Job,
        control: &TransferControl,
        in_line: Option<InLine>,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, Stopped> {
        let in_line = in_line.unwrap_or_else(|| self.lane_of(job).join(job));
        tokio::select! {
            slot = in_line.place() => Ok(slot),
            _ = control.cancelled() => Err(Stopped::Cancelled),
        }
    }

    /// Files sent in one request have their own places, so short clips pass long ones.
    fn lane_of(&self, job: &Job) -> &Lane {
        if job.source.size <= self.options.transfer.multipart_threshold {
            &self.small_upload_slots
        } else {
            &self.upload_slots
        }
    }

    /// A place in line for a job about to transfer (upload or copy), else none.
    pub(super) fn join_line(&self, job: &Job) -> Option<InLine> {
        let transfers = job.state.is_unfinished() && matches!(job.state.stage(), Some(Stage::Upload | Stage::Copy));
        transfers.then(|| self.lane_of(job).join(job))
    }

    async fn copy(&self, job: &mut Job, control: &TransferControl, in_line: Option<InLine>) -> Result<(), Stopped> {
        let _slot = self.transfer_slot(job, control, in_line).await?;
        if !self.advance(job, control, JobState::Copying) {
            return Err(Stopped::Cancelled);
        }
        let original = self.outputs(job).original;
        Transfer::new(&self.storage.client, &self.storage.target, &original, &self.options.transfer, &self.store)
            .with_control(control.clone())
            .copy_from(&job.destination)
            .await
            .map_err(|e| Stopped::transfer(e, job))?;
        self.copy_sidecars(job, control).await
    }

    async fn transcode(&self, job: &mut Job, control: &TransferControl) -> Result<(), Stopped> {
        if !self.advance(job, control, JobState::Transcoding) {
            return Err(Stopped::Cancelled);
        }
        let file = job.source.display_name();
        if job.source.size == 0 {
            return Err(Stopped::Failed(Problem::new(ProblemCode::FileEmpty).with("file", &file)));
        }
        let JobOutputs { original, layout, .. } = self.outputs(job);
        let media = match job.transcode.media.clone() {
            Some(media) => media,
            None => {
                let media = probe_legacy_job(job).await.map_err(Stopped::Failed)?;
                job.transcode.media = Some(media.clone());
                self.remember(job);
                media
            }
        };
        let request = TranscodeRequest { job: job.id, source: original, ladder: ladder_for(&media), media, layout };
        let backend = self.transcoder.name();
        loop {
            let backend_job_id = match job.transcode.backend_job_id.clone() {
                Some(id) => id,
                None => {
                    let id = self
                        .transcoder
                        .submit(&request)
                        .await
                        .map_err(|e| Stopped::Failed(e.problem(backend, &file)))?;
                    job.transcode.backend_job_id = Some(id.clone());
                    self.remember(job);
                    id
                }
            };
            match self.follow(job, control, &backend_job_id, &request).await {
                // The backend lost the job (a local transcode cut off by a restart): submit again.
                Err(Followed::Unknown) => {
                    job.transcode.backend_job_id = None;
                    self.remember(job);
                }
                Err(Followed::Stopped(stopped)) => return Err(stopped),
                Ok(()) => break,
            }
        }
        // What the backend wrote, read back: links and the player use it, never assumed names.
        let naming = self.transcoder.naming();
        let duration = request.media.duration_secs;
        let manifest = scan(&self.storage.client, &request.layout, &naming, duration).await.map_err(|err| {
            let detail = format!("{} finished, but: {err}", backend_display_name(backend));
            Stopped::Failed(
                Problem::new(ProblemCode::TranscodeFailed)
                    .with("backend", backend_display_name(backend))
                    .with("file", &file)
                    .detail(detail),
            )
        })?;
        job.transcode.manifest = Some(manifest);
        self.remember(job);
        Ok(())
    }

    /// Polls a submitted transcode until it completes or fails.
    async fn follow(
        &self,
        job: &Job,
        control: &TransferControl,
        backend_job_id: &str,
        request: &TranscodeRequest,
    ) -> Result<(), Followed> {
        let interval =
            self.transcoder.poll_interval().map_or(self.options.poll_interval, |i| i.min(self.options.poll_interval));
        let backend = self.transcoder.name();
        let file = job.source.display_name();
        loop {
            match self.transcoder.status(backend_job_id, request).await {
                Ok(TranscodeStatus::Complete) => return Ok(()),
                Ok(TranscodeStatus::Error { code, message }) => {
                    return Err(Followed::Stopped(Stopped::Failed(failure_problem(
                        backend,
                        code.as_deref(),
                        &message,
                        &file,
                    ))));
                }
                Ok(TranscodeStatus::Progressing { percent }) => self.report(job, control, |live| {
                    live.transcode_started = true;
                    live.transcode_percent = percent;
                }),
                // Still in the transcoder's queue: "waiting", not "transcoding".
                Ok(TranscodeStatus::Submitted) => self.report(job, control, |live| live.transcode_started = false),
                Err(TranscodeError::UnknownJob { .. }) => return Err(Followed::Unknown),
                // The next poll may get through; the job is not failed by a network blip.
                Err(TranscodeError::Transient { backend, message }) => {
                    tracing::warn!(job = %job.id, "{backend} poll failed: {message}")
                }
                Err(other) => return Err(Followed::Stopped(Stopped::Failed(other.problem(backend, &file)))),
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = control.cancelled() => {
                    // Best effort: a job left running only costs time (and, in the cloud, money).
                    if let Err(err) = self.transcoder.cancel(backend_job_id).await {
                        tracing::warn!(job = %job.id, "could not stop {} job {backend_job_id}: {err}", self.transcoder.name());
                    }
                    return Err(Followed::Stopped(Stopped::Cancelled));
                }
            }
        }
    }

    /// Persists what the transcode stage learned, so a restart does not redo it.
    fn remember(&self, job: &Job) {
        let record: &TranscodeRecord = &job.transcode;
        if let Err(err) = self.store.set_transcode(job.id, record) {
            tracing::error!(job = %job.id, "cannot record transcode progress: {err}");
        }
    }
}

/// What a job recorded before intake probed files holds: read from the
/// user's file, if it is still the one that was uploaded.
async fn probe_legacy_job(job: &Job) -> Result<MediaInfo, Problem> {
    let file = job.source.display_name();
    let now = intake::inspect(&job.source.path).map_err(|p| match p.code {
        ProblemCode::FileNotFound => Problem::new(ProblemCode::FileMissing).with("file", &file),
        _ => p,
    })?;
    if now != job.source {
        return Err(Problem::new(ProblemCode::FileChanged).with("file", &file));
    }
    Ok(intake::examine(&job.source.path).await?.media)
}

enum Followed {
    Unknown,
    Stopped(Stopped),
}
