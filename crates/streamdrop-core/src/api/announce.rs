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
    use super::drop_name;

    #[test]
    fn a_drop_is_named_by_its_card() {
        assert_eq!(drop_name("A001/PRIVATE/M4ROOT/CLIP/C0001.MP4"), "A001");
        assert_eq!(drop_name("C0001.MP4"), "Your drop");
    }
}
