//! The one accept loop both local servers (the embedded S3 server and the
//! edge) run on: connections served with hyper, accept errors (out of file
//! descriptors, say) met with a pause instead of a spin, and a shutdown that
//! lets open requests finish for a moment before it cuts them.
//!
//! Any local process can connect, so no client may hold the servers hostage:
//! connections are capped, a client must send its request head in time (the
//! same limit ends an idle kept-alive connection), must keep a request body
//! coming, and must keep reading a response. Only HTTP/1.1 is spoken: every
//! client Streamdrop serves uses it, and it is where those limits apply.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Sleep;

/// How long a shutdown waits for open requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// The pause after a failed accept.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// Open connections one server keeps at most; more wait in the listen backlog.
/// Far above what the engine, the app's player and a few external players use.
const MAX_CONNECTIONS: usize = 256;
/// Limits on a client that stops sending or reading. Generous: they end only
/// clients that have stalled, never a slow but moving transfer, and never a
/// request the server itself is busy with (assembling a large upload, say).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClientLimits {
    /// From the connection's start or the previous response until the
    /// request head has arrived: slow heads and idle kept-alive connections.
    pub head: Duration,
    /// Between two pieces of a request body the server is waiting for.
    pub body_stall: Duration,
    /// While a response waits for the client to make room to write.
    pub write_stall: Duration,
    /// Open connections at most.
    pub connections: usize,
}

impl Default for ClientLimits {
    fn default() -> Self {
        Self {
            head: Duration::from_secs(30),
            body_stall: Duration::from_secs(60),
            write_stall: Duration::from_secs(60),
            // A quarter of what the process may open, so that even both
            // servers flooded leave the engine its files, store and sockets.
            connections: MAX_CONNECTIONS.min(open_file_limit() / 4).max(8),
        }
    }
}

/// How many file descriptors this process may have open.
fn open_file_limit() -> usize {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes only into the struct it is given.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
            return usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX);
        }
    }
    1024
}

/// A running server. Dropping it stops it at once, open connections included;
/// [`HttpServer::shutdown`] lets open requests finish first.
pub(crate) struct HttpServer {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Serves every connection `listener` accepts with the service
    /// `service_for(peer)` makes, holding clients to `limits`. `name` says
    /// which server, in logs.
    pub(crate) fn spawn<S, B, F>(
        name: &'static str,
        listener: TcpListener,
        limits: ClientLimits,
        service_for: F,
    ) -> Self
    where
        F: Fn(SocketAddr) -> S + Send + 'static,
        S: hyper::service::Service<Request<ClientBody>, Response = Response<B>> + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(name, listener, limits, service_for, stopped));
        Self { stop: Some(stop), task: Some(task) }
    }

    /// Stops accepting, and waits (up to 5 s) for open requests to finish.
    pub(crate) async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        // Aborting the loop drops its JoinSet, which aborts every connection.
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn accept_loop<S, B, F>(
    name: &'static str,
    listener: TcpListener,
    limits: ClientLimits,
    service_for: F,
    mut stop: oneshot::Receiver<()>,
) where
    F: Fn(SocketAddr) -> S,
    S: hyper::service::Service<Request<ClientBody>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut http = ConnBuilder::new(TokioExecutor::new()).http1_only();
    http.http1().timer(TokioTimer::new()).header_read_timeout(limits.head);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.connections));
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            // At the cap, accept nothing until a connection closes: the
            // backlog holds newcomers, and the head limit frees idle slots.
            slot_and_socket = async {
                let slot = Arc::clone(&slots).acquire_owned().await.expect("never closed");
                (slot, listener.accept().await)
            } => match slot_and_socket {
                (slot, Ok((socket, peer))) => {
                    let service = LimitedBodies { inner: service_for(peer), body_stall: limits.body_stall };
                    let io = TokioIo::new(WriteStallLimit::new(socket, limits.write_stall));
                    let conn = graceful.watch(http.serve_connection(io, service).into_owned());
                    connections.spawn(async move {
                        let _ = conn.await;
                        drop(slot);
                    });
                }
                (_, Err(err)) => {
                    tracing::warn!("{name}: accept failed: {err}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = &mut stop => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
    // Whatever is still open when `connections` drops here is aborted.
}

/// Hands each request to the inner service with its body under the stall limit.
struct LimitedBodies<S> {
    inner: S,
    body_stall: Duration,
}

impl<S> hyper::service::Service<Request<Incoming>> for LimitedBodies<S>
where
    S: hyper::service::Service<Request<ClientBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let stall = self.body_stall;
        self.inner.call(request.map(|body| ClientBody { body, stall, waiting: None }))
    }
}

/// A request body that fails when the client stops sending it: only time
/// spent waiting for the client counts, never time the server spends before
/// asking for the next piece.
pub(crate) struct ClientBody {
    body: Incoming,
    stall: Duration,
    waiting: Option<Pin<Box<Sleep>>>,
}

impl Body for ClientBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            this.waiting = None;
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let stall = this.stall;
        let waiting = this.waiting.get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
        ready!(waiting.as_mut().poll(cx));
        Poll::Ready(Some(Err(format!("the client sent nothing of the request body for {stall:?}").into())))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A socket whose writes fail once the client has made no room for them for
/// a while (it stopped reading), so a response cannot hold a connection and
/// its upstream read forever.
struct WriteStallLimit {
    socket: TcpStream,
    stall: Duration,
    waiting: Option<Pin<Box<Sleep>>>,
}

impl WriteStallLimit {
    fn new(socket: TcpStream, stall: Duration) -> Self {
        Self { socket, stall, waiting: None }
    }

    fn limit<T>(&mut self, cx: &mut Context<'_>, polled: Poll<std::io::Result<T>>) -> Poll<std::io::Result<T>> {
        if polled.is_ready() {
            self.waiting = None;
            return polled;
        }
        let stall = self.stall;
        let waiting = self.waiting.get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
        ready!(waiting.as_mut().poll(cx));
        Poll::Ready(Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the client stopped reading the response")))
    }
}

impl AsyncRead for WriteStallLimit {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.socket).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteStallLimit {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.socket).poll_write(cx, data);
        self.limit(cx, polled)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.socket).poll_flush(cx);
        self.limit(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.socket).poll_shutdown(cx);
        self.limit(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.socket).poll_write_vectored(cx, bufs);
        self.limit(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.socket.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicBool, Ordering};

    use http_body_util::{BodyExt, Full};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    const SHORT: ClientLimits = ClientLimits {
        head: Duration::from_millis(300),
        body_stall: Duration::from_millis(300),
        write_stall: Duration::from_millis(300),
        connections: 4,
    };

    /// Reads until the server closes the connection (or 10 s pass); returns what came.
    async fn until_closed(socket: &mut TcpStream) -> Option<String> {
        let mut got = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), async {
            let mut buf = [0; 4096];
            loop {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
        })
        .await;
        read.ok().map(|()| String::from_utf8_lossy(&got).into_owned())
    }

    /// A server answering with the request body's length, or 408 when the body stalls.
    async fn echo_length_server() -> (HttpServer, SocketAddr) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = HttpServer::spawn("test", listener, SHORT, |_| {
            hyper::service::service_fn(|request: Request<ClientBody>| async move {
                let response = match request.into_body().collect().await {
                    Ok(body) => Response::new(Full::new(Bytes::from(body.to_bytes().len().to_string()))),
                    Err(_) => Response::builder().status(408).body(Full::new(Bytes::new())).unwrap(),
                };
                Ok::<_, Infallible>(response)
            })
        });
        (server, addr)
    }

    #[tokio::test]
    async fn a_slow_or_missing_request_head_and_an_idle_kept_alive_connection_are_cut() {
        let (_server, addr) = echo_length_server().await;
        let mut silent = TcpStream::connect(addr).await.unwrap();
        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        let mut idle = TcpStream::connect(addr).await.unwrap();
        idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        assert!(until_closed(&mut silent).await.is_some(), "a connection that sends nothing stays open");
        assert!(until_closed(&mut slow).await.is_some(), "a request head that never ends stays open");
        let answered = until_closed(&mut idle).await.expect("an idle kept-alive connection stays open");
        assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    }

    #[tokio::test]
    async fn a_request_body_that_stops_coming_fails_the_request() {
        let (_server, addr) = echo_length_server().await;
        let mut socket = TcpStream::connect(addr).await.unwrap();
        socket.write_all(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789").await.unwrap();
        let answered = until_closed(&mut socket).await.expect("a stalled body holds the connection");
        assert!(answered.starts_with("HTTP/1.1 408"), "{answered}");
        // A body that keeps coming, however slowly, is read whole.
        let mut socket = TcpStream::connect(addr).await.unwrap();
        socket.write_all(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\n").await.unwrap();
        for byte in b"abcd" {
            tokio::time::sleep(Duration::from_millis(150)).await;
            socket.write_all(&[*byte]).await.unwrap();
        }
        let answered = until_closed(&mut socket).await.unwrap();
        assert!(answered.starts_with("HTTP/1.1 200") && answered.ends_with("\r\n\r\n4"), "{answered}");
    }

    /// An endless response body that notes when the server gives it up.
    struct Endless(Arc<AtomicBool>);

    impl Body for Endless {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![7u8; 1 << 20])))))
        }
    }

    impl Drop for Endless {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_the_response_is_let_go() {
        let given_up = Arc::new(AtomicBool::new(false));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let flag = Arc::clone(&given_up);
        let _server = HttpServer::spawn("test", listener, SHORT, move |_| {
            let flag = Arc::clone(&flag);
            hyper::service::service_fn(move |_: Request<ClientBody>| {
                let flag = Arc::clone(&flag);
                async move { Ok::<_, Infallible>(Response::new(Endless(flag))) }
            })
        });
        let mut socket = TcpStream::connect(addr).await.unwrap();
        socket.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
        // Never read: the socket buffers fill and the server's writes wait.
        for _ in 0..100 {
            if given_up.load(Ordering::SeqCst) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server kept writing to a client that reads nothing");
    }

    #[tokio::test]
    async fn connections_beyond_the_cap_wait_for_a_free_slot_and_are_then_served() {
        let (_server, addr) = echo_length_server().await;
        let mut held = Vec::new();
        for _ in 0..SHORT.connections {
            held.push(TcpStream::connect(addr).await.unwrap());
        }
        let mut late = TcpStream::connect(addr).await.unwrap();
        late.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
        // The held ones send nothing, so the head limit frees their slots.
        let answered = until_closed(&mut late).await.expect("served once a slot is free");
        assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    }
}
