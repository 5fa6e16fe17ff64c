//! The one accept loop both local servers (the embedded S3 server and the
//! edge) run on: connections served with hyper, accept errors (out of file
//! descriptors, say) met with a pause instead of a spin, and a shutdown that
//! lets open requests finish for a moment before it cuts them.

use std::net::SocketAddr;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

/// How long a shutdown waits for open requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// The pause after a failed accept.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// A running server. Dropping it stops it at once, open connections included;
/// [`HttpServer::shutdown`] lets open requests finish first.
pub(crate) struct HttpServer {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Serves every connection `listener` accepts with the service
    /// `service_for(peer)` makes. `name` says which server, in logs.
    pub(crate) fn spawn<S, B, F>(name: &'static str, listener: TcpListener, service_for: F) -> Self
    where
        F: Fn(SocketAddr) -> S + Send + 'static,
        S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(accept_loop(name, listener, service_for, stopped));
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
    service_for: F,
    mut stop: oneshot::Receiver<()>,
) where
    F: Fn(SocketAddr) -> S,
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let http = ConnBuilder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let conn = http.serve_connection(TokioIo::new(socket), service_for(peer)).into_owned();
                    let conn = graceful.watch(conn);
                    connections.spawn(async move {
                        let _ = conn.await;
                    });
                }
                Err(err) => {
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
