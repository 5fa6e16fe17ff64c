//! Places among the transfers that run at once, handed out in drop order.
//!
//! The runtime runs new tasks in no promised order, so a job joins the line
//! when it is spawned (in drop order, synchronously), not when its task gets
//! to ask; a place then goes to the first in line: the oldest drop, then the
//! file's place in it. Only the first in line waits for a free place; the
//! others wait to be woken, each alone, when they become first (a card of
//! thousands queued costs one wake-up per turn, not one per waiting job). A
//! job that stops (paused, cancelled) leaves the line when its task drops
//! its [`InLine`].

use std::collections::BTreeMap;
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
    /// How many places there are meant to be; the semaphore gets there as they free up.
    size: Mutex<usize>,
    /// Each waiting job, and how to wake it when it becomes first.
    waiting: Mutex<BTreeMap<Turn, Arc<Notify>>>,
}

impl Shared {
    fn line(&self) -> std::sync::MutexGuard<'_, BTreeMap<Turn, Arc<Notify>>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Lane {
    pub(super) fn new(places: usize) -> Self {
        let places = places.max(1);
        Lane(Arc::new(Shared {
            places: Arc::new(Semaphore::new(places)),
            size: Mutex::new(places),
            waiting: Mutex::new(BTreeMap::new()),
        }))
    }

    /// From now on `places` at once. More start at once; with fewer, running
    /// transfers finish and the places they free are taken away until the lane
    /// is that small.
    pub(super) fn resize(&self, places: usize, runtime: &tokio::runtime::Handle) {
        let places = places.max(1);
        let mut size = self.0.size.lock().unwrap_or_else(|p| p.into_inner());
        if places > *size {
            self.0.places.add_permits(places - *size);
        } else if places < *size {
            let (semaphore, fewer) = (self.0.places.clone(), (*size - places) as u32);
            runtime.spawn(async move {
                if let Ok(taken) = semaphore.acquire_many_owned(fewer).await {
                    taken.forget();
                }
            });
        }
        *size = places;
    }

    /// Puts `job` in line now.
    pub(super) fn join(&self, job: &Job) -> InLine {
        let turn = (job.created_ms, job.position, job.batch.to_string(), job.id.to_string());
        let woken = Arc::new(Notify::new());
        self.0.line().insert(turn.clone(), woken.clone());
        InLine { lane: self.0.clone(), turn, woken }
    }
}

/// A job's place in line; dropping it leaves the line.
pub(super) struct InLine {
    lane: Arc<Shared>,
    turn: Turn,
    woken: Arc<Notify>,
}

impl InLine {
    /// A place, once every job ahead in line has had one.
    pub(super) async fn place(self) -> OwnedSemaphorePermit {
        loop {
            let first = self.lane.line().first_key_value().is_some_and(|(turn, _)| *turn == self.turn);
            if first {
                let places = self.lane.places.clone();
                // Leaves the line once it has its place (self drops), waking the next.
                return places.acquire_owned().await.expect("the semaphore is never closed");
            }
            // A wake-up sent before this wait is kept (notify_one), so none is lost.
            self.woken.notified().await;
        }
    }
}

impl Drop for InLine {
    fn drop(&mut self) {
        let mut line = self.lane.line();
        line.remove(&self.turn);
        if let Some((_, next)) = line.first_key_value() {
            next.notify_one();
        }
    }
}
