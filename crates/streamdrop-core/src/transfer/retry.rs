//! Which failures are worth another try, and how long to wait before it:
//! exponential backoff with full jitter.

use std::future::Future;
use std::time::Duration;

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use super::control::{Cancelled, TransferControl};

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Tries per request, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A request that moves no bytes for this long is abandoned and retried.
    pub stall_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(20),
            stall_timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1 for the first retry): a random
    /// point in `[0, min(max, base * 2^attempt))`, so many clients do not retry in step.
    pub fn delay(&self, attempt: u32) -> Duration {
        let cap = self.base_delay.saturating_mul(1u32 << attempt.min(16)).min(self.max_delay);
        cap.mul_f64(fastrand::f64())
    }
}

/// Whether an SDK error is transient: throttling, 5xx, timeouts, broken connections.
pub fn is_transient<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool
where
    R: HttpStatus,
{
    match err {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(failure) => failure.is_io() || failure.is_timeout() || failure.is_other(),
        SdkError::ServiceError(service) => {
            let status = service.raw().status();
            let code = service.err().code().unwrap_or_default();
            status >= 500
                || status == 429
                || matches!(
                    code,
                    "SlowDown"
                        | "BadDigest"
                        | "Throttling"
                        | "ThrottlingException"
                        | "RequestTimeout"
                        | "RequestTimeTooSkewed"
                        | "InternalError"
                )
        }
        _ => false,
    }
}

/// What kind of failure a try met: it decides what a person is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The server answered with an error (its code, when it sent one, is in `code`).
    Service { status: u16 },
    /// No answer: refused, reset, timed out, stalled.
    Network,
    /// An answer that could not be read (malformed XML, a non-S3 server).
    BadReply,
    /// The bytes arrived damaged (a checksum did not match).
    Damaged,
    /// Anything else (a request that could not be built, …).
    Other,
}

/// One failed try, reduced to what the retry loop and the final message need.
#[derive(Debug, Clone)]
pub struct AttemptError {
    pub transient: bool,
    pub kind: FailureKind,
    /// S3's error code, when the server sent one (`NoSuchUpload`, `SlowDown`, …).
    pub code: Option<String>,
    /// The whole story, for "Details" (redacted before anyone sees it).
    pub message: String,
}

impl AttemptError {
    pub fn from_sdk<E, R>(err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: HttpStatus + std::fmt::Debug,
    {
        let kind = match &err {
            SdkError::ServiceError(service) => FailureKind::Service { status: service.raw().status() },
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => FailureKind::Network,
            SdkError::ResponseError(_) => FailureKind::BadReply,
            _ => FailureKind::Other,
        };
        Self {
            transient: is_transient(&err),
            kind,
            code: err.as_service_error().and_then(|e| e.code()).map(str::to_owned),
            message: DisplayErrorContext(&err).to_string(),
        }
    }

    /// A failure on the way (a stall, damaged bytes) worth another try.
    pub fn transient(message: impl Into<String>) -> Self {
        Self { transient: true, kind: FailureKind::Network, code: None, message: message.into() }
    }

    /// Bytes damaged on the way: worth sending again.
    pub fn damaged(message: impl Into<String>) -> Self {
        Self { transient: true, kind: FailureKind::Damaged, code: None, message: message.into() }
    }

    pub fn has_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

/// How a retried request ended when it did not succeed.
#[derive(Debug)]
pub enum GaveUp {
    Cancelled,
    Failed { last: AttemptError, attempts: u32 },
}

impl From<Cancelled> for GaveUp {
    fn from(_: Cancelled) -> Self {
        GaveUp::Cancelled
    }
}

/// Runs `attempt` until it succeeds, fails for good, runs out of tries, or the
/// transfer is cancelled (which also interrupts the wait between tries).
pub async fn retrying<T, Fut>(
    policy: &RetryPolicy,
    control: &TransferControl,
    mut attempt: impl FnMut() -> Fut,
) -> Result<T, GaveUp>
where
    Fut: Future<Output = Result<T, AttemptError>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        let outcome = tokio::select! {
            outcome = attempt() => outcome,
            _ = control.cancelled() => return Err(GaveUp::Cancelled),
        };
        match outcome {
            Ok(value) => return Ok(value),
            Err(last) if !last.transient || tries >= policy.max_attempts => {
                return Err(GaveUp::Failed { last, attempts: tries })
            }
            Err(last) => {
                tracing::debug!(tries, "transient failure, retrying: {}", last.message);
                tokio::select! {
                    _ = tokio::time::sleep(policy.delay(tries)) => {}
                    _ = control.cancelled() => return Err(GaveUp::Cancelled),
                }
            }
        }
    }
}

/// The HTTP status of a raw response, whatever its type.
pub trait HttpStatus {
    fn status(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status(&self) -> u16 {
        self.status().as_u16()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn quick() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            ..RetryPolicy::default()
        }
    }

    #[tokio::test]
    async fn transient_failures_are_retried_and_fatal_ones_are_not() {
        let tries = AtomicU32::new(0);
        let result = retrying(&quick(), &TransferControl::new(), || async {
            if tries.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(AttemptError::transient("503"))
            } else {
                Ok(7)
            }
        })
        .await;
        assert_eq!(result.unwrap(), 7);
        assert_eq!(tries.load(Ordering::SeqCst), 3);

        let tries = AtomicU32::new(0);
        let result: Result<(), _> = retrying(&quick(), &TransferControl::new(), || async {
            tries.fetch_add(1, Ordering::SeqCst);
            Err(AttemptError {
                transient: false,
                kind: FailureKind::Service { status: 403 },
                code: Some("AccessDenied".into()),
                message: "403".into(),
            })
        })
        .await;
        assert!(matches!(result, Err(GaveUp::Failed { attempts: 1, .. })));

        let result: Result<(), _> =
            retrying(&quick(), &TransferControl::new(), || async { Err(AttemptError::transient("reset")) }).await;
        assert!(matches!(result, Err(GaveUp::Failed { attempts: 4, .. })), "gives up after max_attempts");
    }

    #[tokio::test]
    async fn cancel_interrupts_the_wait_between_tries() {
        let control = TransferControl::new();
        let slow = RetryPolicy { base_delay: Duration::from_secs(30), max_delay: Duration::from_secs(30), ..quick() };
        let canceller = control.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            canceller.cancel();
        });
        let started = std::time::Instant::now();
        let result: Result<(), _> = retrying(&slow, &control, || async { Err(AttemptError::transient("503")) }).await;
        assert!(matches!(result, Err(GaveUp::Cancelled)));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn delays_grow_and_stay_under_the_cap() {
        let policy = RetryPolicy::default();
        for attempt in 1..20 {
            let d = policy.delay(attempt);
            assert!(d <= policy.max_delay, "{attempt}: {d:?}");
            assert!(d < policy.base_delay * 2u32.pow(attempt.min(10)), "{attempt}: {d:?}");
        }
        // Jitter: not every delay is the same.
        let samples: std::collections::HashSet<_> = (0..20).map(|_| policy.delay(3)).collect();
        assert!(samples.len() > 1);
    }
}
