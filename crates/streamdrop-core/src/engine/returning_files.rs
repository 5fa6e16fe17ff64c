//! Files that left mid-upload (a card pulled out, a drive unmounted) and came
//! back: their jobs run again by themselves, from what was already sent.

use std::sync::{Arc, Weak};

use super::{Engine, Inner};
use crate::intake;
use crate::model::{Job, JobQuery, JobState, ProblemCode, Stage, StateName};

/// Looks every `poll_interval` for this connection's uploads that failed
/// because their file was gone, and retries each whose file is back unchanged
/// (same size and modification time: a different file under the old name is
/// left failed, since mixing two versions would corrupt the object). Ends
/// when the engine is stopped or dropped.
pub(super) fn watch(engine: &Engine) {
    let inner: Weak<Inner> = Arc::downgrade(&engine.inner);
    let interval = engine.inner.options.poll_interval;
    engine.inner.runtime.spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let Some(inner) = inner.upgrade() else { return };
            if inner.is_stopped() {
                return;
            }
            let waiting = waiting_for_their_file(&inner);
            if waiting.is_empty() {
                continue;
            }
            // A stat on a slow or half-mounted drive may block: not on a runtime thread.
            let back = tokio::task::spawn_blocking(move || {
                waiting
                    .into_iter()
                    .filter(|job| intake::inspect(&job.source.path).is_ok_and(|now| now == job.source))
                    .collect::<Vec<_>>()
            })
            .await
            .unwrap_or_default();
            let engine = Engine { inner };
            for job in back {
                match engine.retry(job.id) {
                    Ok(_) => tracing::info!(job = %job.id, "{} is back: its upload resumes", job.source.display_name()),
                    // Retried, cancelled or added again by a person meanwhile.
                    Err(err) => tracing::debug!(job = %job.id, "not resumed: {err}"),
                }
            }
        }
    });
}

fn waiting_for_their_file(inner: &Inner) -> Vec<Job> {
    let failed = JobQuery { states: vec![StateName::Failed], ..JobQuery::default() };
    match inner.store.query(&failed) {
        Ok((jobs, _)) => jobs
            .into_iter()
            .filter(|job| job.connection == inner.connection)
            .filter(|job| {
                matches!(&job.state, JobState::Failed { stage: Stage::Upload, problem } if problem.code == ProblemCode::FileMissing)
            })
            .collect(),
        Err(err) => {
            tracing::warn!("cannot look for uploads whose file came back: {err}");
            Vec::new()
        }
    }
}
