//! Request bodies that stream a byte range of a file from disk, so memory
//! stays at one small buffer per part in flight whatever the part size. They
//! count bytes as they go, honour the bandwidth limit, and record activity
//! for the stall watchdog.

use std::ops::Range;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::{ByteStream, SdkBody};
use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::limiter::BandwidthLimiter;
use super::progress::ByteCounter;

const CHUNK: usize = 256 * 1024;

/// When bytes last moved, for the stall watchdog.
#[derive(Debug, Clone)]
pub struct Activity {
    origin: Instant,
    last_ms: Arc<AtomicU64>,
}

impl Activity {
    pub fn new() -> Self {
        Self { origin: Instant::now(), last_ms: Arc::new(AtomicU64::new(0)) }
    }

    pub fn touch(&self) {
        self.last_ms.store(self.origin.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    pub fn idle(&self) -> Duration {
        self.origin.elapsed().saturating_sub(Duration::from_millis(self.last_ms.load(Ordering::Relaxed)))
    }

    /// Completes once nothing has moved for `limit`.
    pub async fn stalled(&self, limit: Duration) {
        loop {
            let idle = self.idle();
            if idle >= limit {
                return;
            }
            tokio::time::sleep((limit - idle).max(Duration::from_millis(50))).await;
        }
    }
}

/// Everything one attempt's body needs.
#[derive(Clone)]
pub struct RangeBody {
    pub path: PathBuf,
    pub range: Range<u64>,
    /// The transfer's running total.
    pub counter: ByteCounter,
    /// This attempt's bytes, taken back from `counter` if the attempt fails.
    pub attempt: ByteCounter,
    pub limiter: Option<Arc<BandwidthLimiter>>,
    pub activity: Activity,
}

impl RangeBody {
    /// Takes this attempt's bytes back from the transfer's total: they did not count.
    pub fn take_back(&self) {
        self.counter.sub(self.attempt.get());
    }

    pub fn into_byte_stream(self) -> ByteStream {
        ByteStream::new(SdkBody::retryable(move || SdkBody::from_body_1_x(self.clone().stream())))
    }

    fn chunk_size(&self) -> usize {
        // A slow limit gets small chunks, so bytes keep moving and the watchdog stays quiet.
        match &self.limiter {
            Some(l) => l.bytes_per_sec().map_or(CHUNK, |rate| CHUNK.min((rate / 8).max(4096) as usize)),
            None => CHUNK,
        }
    }

    fn stream(self) -> SizedBody {
        let len = self.range.end - self.range.start;
        let chunk = self.chunk_size();
        let state = Reader { body: self, file: None, chunk };
        let frames = futures_util::stream::try_unfold(state, Reader::next);
        SizedBody { inner: Box::pin(http_body_util::StreamBody::new(frames)), remaining: len }
    }
}

struct Reader {
    body: RangeBody,
    file: Option<tokio::fs::File>,
    chunk: usize,
}

impl Reader {
    async fn next(mut self) -> std::io::Result<Option<(Frame<Bytes>, Self)>> {
        let b = &self.body;
        if b.range.start >= b.range.end {
            return Ok(None);
        }
        if self.file.is_none() {
            let mut file = tokio::fs::File::open(&b.path).await?;
            file.seek(std::io::SeekFrom::Start(b.range.start)).await?;
            self.file = Some(file);
        }
        let want = self.chunk.min((b.range.end - b.range.start) as usize);
        if let Some(limiter) = &b.limiter {
            limiter.acquire(want).await;
        }
        let mut buf = BytesMut::zeroed(want);
        let file = self.file.as_mut().expect("opened above");
        file.read_exact(&mut buf).await?;
        let b = &mut self.body;
        b.range.start += want as u64;
        b.counter.add(want as u64);
        b.attempt.add(want as u64);
        b.activity.touch();
        Ok(Some((Frame::data(buf.freeze()), self)))
    }
}

type Frames = Pin<Box<dyn Body<Data = Bytes, Error = std::io::Error> + Send + Sync>>;

/// A body with an exact length, so it goes out with Content-Length rather than chunked.
struct SizedBody {
    inner: Frames,
    remaining: u64,
}

impl Body for SizedBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let polled = self.inner.as_mut().poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                self.remaining = self.remaining.saturating_sub(data.len() as u64);
            }
        }
        polled
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }
}
