//! What a person hears outside the window when work ends: a job failed, or
//! the last job of a drop finished. Decided here, once, for every face; the
//! app shows it as a system notification.

use std::collections::HashSet;

use serde::Serialize;

use crate::model::{JobId, JobView, StateName};
use crate::store::Store;

/// One notification: a title and a sentence, about a job (the one to show).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Announcement {
    pub title: String,
    pub body: String,
    pub job: JobId,
}

/// Announces each job's end once, and a drop's when its last job ends.
#[derive(Default)]
pub(super) struct Announcer {
    told: HashSet<JobId>,
}

impl Announcer {
    /// The announcement `view` calls for, if any.
    pub(super) fn hear(&mut self, store: &Store, view: &JobView) -> Option<Announcement> {
        if !matches!(view.state, StateName::Ready | StateName::Failed) {
            // Retried or added again: its next end is news again.
            self.told.remove(&view.id);
            return None;
        }
        if !self.told.insert(view.id) {
            return None;
        }
        if view.state == StateName::Failed {
            let why = view.error.as_ref().map_or("See Streamdrop for what to do.", |e| e.message.as_str());
            return Some(Announcement {
                title: format!("{} failed", view.relative_path),
                body: why.into(),
                job: view.id,
            });
        }
        let batch = match store.batch_states(&view.batch_id) {
            Ok(states) => states,
            Err(err) => {
                tracing::warn!("cannot tell whether the drop is done: {err}");
                return None;
            }
        };
        if batch.iter().any(|s| !matches!(s, StateName::Ready | StateName::Failed | StateName::Cancelled)) {
            return None;
        }
        let ready = batch.iter().filter(|s| **s == StateName::Ready).count();
        let failed = batch.iter().filter(|s| **s == StateName::Failed).count();
        Some(if batch.len() <= 1 {
            Announcement {
                title: format!("{} is ready", view.relative_path),
                body: "Preview it and copy a link in Streamdrop.".into(),
                job: view.id,
            }
        } else {
            let drop = drop_name(&view.relative_path);
            let failed = match failed {
                0 => String::new(),
                1 => " 1 failed: see Streamdrop for what to do.".into(),
                n => format!(" {n} failed: see Streamdrop for what to do."),
            };
            Announcement {
                title: format!("{drop}: {ready} of {} clips ready", batch.len()),
                body: format!("The whole drop has been sent.{failed}"),
                job: view.id,
            }
        })
    }
}

/// A drop's name: its card or folder (the first part of a relative path), else "Your drop".
fn drop_name(relative_path: &str) -> &str {
    match relative_path.split_once('/') {
        Some((card, _)) if !card.is_empty() => card,
        _ => "Your drop",
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::model::{
        BatchId, ConnectionName, Job, JobState, LiveProgress, ObjectRef, Problem, ProblemCode, SourceFile, Stage,
        TranscodeRecord,
    };

    fn job(relative_path: &str, batch: BatchId, position: u32) -> Job {
        Job {
            id: JobId::new(),
            connection: ConnectionName::local(),
            source: SourceFile { path: PathBuf::from(format!("/media/{relative_path}")), size: 42, modified_ms: 7 },
            relative_path: relative_path.to_owned(),
            fingerprint: None,
            destination: ObjectRef::new("uploads", format!("k/{relative_path}")),
            original: None,
            created_ms: 1,
            batch,
            position,
            state: JobState::QUEUED,
            resumed_bytes: 0,
            transcode: TranscodeRecord::default(),
            sidecars: Vec::new(),
        }
    }

    /// `job` now in `state`, as the store and the engine's event have it.
    fn ends(store: &Store, job: &mut Job, state: JobState) -> JobView {
        job.state = state;
        store.set_state(job.id, &job.state).unwrap();
        JobView::of(job, &LiveProgress::default())
    }

    #[test]
    fn a_failure_is_told_at_once_and_a_drop_when_its_last_job_ends_each_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("jobs.sqlite3")).unwrap();
        let batch = BatchId::new();
        let mut jobs: Vec<Job> = (0..3).map(|i| job(&format!("A001/C000{i}.MP4"), batch, i)).collect();
        for j in &jobs {
            store.insert(j).unwrap();
        }
        let mut told = Announcer::default();

        let first = ends(&store, &mut jobs[0], JobState::Ready);
        assert_eq!(told.hear(&store, &first), None, "two jobs of the drop still run");
        let problem = Problem::new(ProblemCode::FileMissing).with("file", "C0001.MP4");
        let failed = ends(&store, &mut jobs[1], JobState::Failed { stage: Stage::Upload, problem: problem.clone() });
        let failure = told.hear(&store, &failed).expect("a failure is told at once");
        assert_eq!(
            (failure.title.as_str(), failure.body.as_str()),
            ("A001/C0001.MP4 failed", problem.message().as_str())
        );
        assert_eq!(told.hear(&store, &failed), None, "once");

        let last = ends(&store, &mut jobs[2], JobState::Ready);
        let done = told.hear(&store, &last).expect("the drop is done");
        assert_eq!(done.title, "A001: 2 of 3 clips ready");
        assert_eq!(done.body, "The whole drop has been sent. 1 failed: see Streamdrop for what to do.");
        assert_eq!(told.hear(&store, &last), None, "once");

        // Retried, the failed job's next end is news again.
        let retried = ends(&store, &mut jobs[1], JobState::Uploading);
        assert_eq!(told.hear(&store, &retried), None);
        let ready = ends(&store, &mut jobs[1], JobState::Ready);
        assert_eq!(told.hear(&store, &ready).map(|a| a.title), Some("A001: 3 of 3 clips ready".to_owned()));
    }

    #[test]
    fn a_drop_is_named_by_its_card() {
        assert_eq!(drop_name("A001/PRIVATE/M4ROOT/CLIP/C0001.MP4"), "A001");
        assert_eq!(drop_name("C0001.MP4"), "Your drop");
    }
}
