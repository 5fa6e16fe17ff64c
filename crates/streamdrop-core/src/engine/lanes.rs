//! Places among the transfers that run at once, handed out in drop order.
//!
//! The runtime runs new tasks in no promised order, so a job joins the line
//! when it is spawned (in drop order, synchronously), not when its task gets
//! to ask; a place then goes to the first in line: the oldest drop, then the
//! file's place in it. Only the first in line waits for a free place; the
//! others wait for their turn to be first. A job that stops (paused,
//! cancelled) leaves the line when its task drops its [`InLine`].

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use crate::model::Job;

/// Where a job stands in line: its drop's time, its place in the drop, then
/// ids so no two jobs tie.
type Turn = (i64, u32, String, String);

#[derive(Clone)]
pub(super) struct Lane(Arc<Shared>);

struct Shared {
    places: Arc<Semaphore>,
    waiting: Mutex<BTreeSet<Turn>>,
    moved: Notify,
}

impl Shared {
    fn line(&self) -> std::sync::MutexGuard<'_, BTreeSet<Turn>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Lane {
    pub(super) fn new(places: usize) -> Self {
        Lane(Arc::new(Shared {
            places: Arc::new(Semaphore::new(places.max(1))),
            waiting: Mutex::new(BTreeSet::new()),
            moved: Notify::new(),
        }))
    }

    /// Puts `job` in line now.
    pub(super) fn join(&self, job: &Job) -> InLine {
        let turn = (job.created_ms, job.position, job.batch.to_string(), job.id.to_string());
        self.0.line().insert(turn.clone());
        InLine { lane: self.0.clone(), turn }
    }
}

/// A job's place in line; dropping it leaves the line.
pub(super) struct InLine {
    lane: Arc<Shared>,
    turn: Turn,
}

impl InLine {
    /// A place, once every job ahead in line has had one.
    pub(super) async fn place(self) -> OwnedSemaphorePermit {
        loop {
            let moved = self.lane.moved.notified();
            tokio::pin!(moved);
            moved.as_mut().enable();
            if self.lane.line().first() == Some(&self.turn) {
                let places = self.lane.places.clone();
                // Leaves the line once it has its place (self drops), letting the next move up.
                return places.acquire_owned().await.expect("the semaphore is never closed");
            }
            moved.await;
        }
    }
}

impl Drop for InLine {
    fn drop(&mut self) {
        self.lane.line().remove(&self.turn);
        self.lane.moved.notify_waiters();
    }
}
