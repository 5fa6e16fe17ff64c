//! Cancelling a running transfer, from any thread.

use tokio::sync::watch;

/// A handle shared by whoever drives a transfer (the engine, Ctrl-C) and the
/// transfer itself. Cancelling is final: the transfer aborts its multipart
/// upload and forgets it, leaving nothing behind. (Pausing is stopping without
/// cancelling: the journal keeps the upload, and the next run resumes it.)
#[derive(Debug, Clone)]
pub struct TransferControl {
    cancelled: watch::Sender<bool>,
}

/// Returned when a transfer stops because it was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

impl Default for TransferControl {
    fn default() -> Self {
        Self { cancelled: watch::Sender::new(false) }
    }
}

impl TransferControl {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.cancelled.send_replace(true);
    }

    /// Whether `other` is a handle on the same transfer.
    pub fn same_as(&self, other: &TransferControl) -> bool {
        self.cancelled.same_channel(&other.cancelled)
    }

    pub fn is_cancelled(&self) -> bool {
        *self.cancelled.borrow()
    }

    /// Errs once cancelled; checked before each new part starts.
    pub fn proceed(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }

    /// Completes when the transfer is cancelled.
    pub async fn cancelled(&self) {
        let mut rx = self.cancelled.subscribe();
        let _ = rx.wait_for(|c| *c).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn cancel_wakes_waiters_and_is_final() {
        let control = TransferControl::new();
        assert_eq!(control.proceed(), Ok(()));
        let waiter = tokio::spawn({
            let control = control.clone();
            async move { control.cancelled().await }
        });
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(!waiter.is_finished());
        control.cancel();
        tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap();
        assert_eq!(control.proceed(), Err(Cancelled));
    }
}
