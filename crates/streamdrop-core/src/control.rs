//! The control channel: how another Streamdrop process reaches the one that
//! runs the engine on a data dir (the app, or `streamdrop serve`). A second
//! launch of the app hands it the files it was given and leaves, touching
//! nothing; the CLI's `submit`, `jobs`, `link` and job actions are answered
//! by that process's engine (so a job added starts at once, and a link is
//! signed with the key its edge checks, keychain or not).
//!
//! It is a Unix socket, `control.sock` in the data dir, created mode 0600 by
//! the process that holds the data dir's engine lock; a connecting peer must
//! also be the same user (checked with `SO_PEERCRED`). One JSON request line,
//! one JSON reply line per connection. A socket left by a killed engine is
//! stale: the next engine (holding the lock, so no other can be live)
//! replaces it; a client meeting one is told nothing runs.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::data_dir::{DataDirError, EngineLock};
use crate::model::{
    IfExists, IntakeReport, JobAction, JobId, JobQuery, JobView, JobsPage, LinkKind, LinkView, Preferences, Problem,
};
use crate::DataDir;

/// The socket's file name in the data dir.
pub const SOCKET_NAME: &str = "control.sock";

/// How long the engine waits for a request line, and a client for most answers.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client waits for a submit's answer: a card of thousands of
/// clips is read (each probed) before the answer comes.
pub const SUBMIT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The biggest request line accepted.
const MAX_LINE: usize = 1 << 20;

/// The biggest reply line accepted: a page of thousands of jobs, a card's report.
const MAX_REPLY: usize = 64 << 20;

/// What one process asks of the running engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Request {
    /// Bring the window forward (if there is one) and add these files as jobs.
    Activate { paths: Vec<PathBuf> },
    /// Add these files and folders as one batch (`streamdrop submit`).
    Submit { paths: Vec<PathBuf>, if_exists: IfExists },
    /// A page of jobs, with live progress (`streamdrop jobs`).
    Jobs { query: JobQuery },
    /// One job now, with live progress (`streamdrop submit --wait` follows its jobs so).
    Job { id: JobId },
    /// Pause, resume, cancel, retry or add again a job.
    Act { id: JobId, action: JobAction },
    /// A signed link to a ready job.
    Link { id: JobId, kind: LinkKind, lifetime_secs: u64 },
    /// Revoke a link.
    Revoke { link: String },
    /// Change the preferences; the running uploads follow them at once.
    SetPreferences { preferences: Preferences },
}

/// The running engine's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "kebab-case")]
pub enum Reply {
    Done {
        /// Who answered: `app` or `serve`.
        by: String,
        /// One sentence for the person who asked.
        message: String,
    },
    Refused {
        message: String,
    },
    Intake {
        report: IntakeReport,
    },
    Page {
        page: JobsPage,
    },
    Job {
        job: Box<JobView>,
    },
    Link {
        link: Box<LinkView>,
    },
    Preferences {
        preferences: Preferences,
    },
    /// The request was understood and could not be done: why, as a person reads it.
    Failed {
        problem: Box<Problem>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("no Streamdrop is running on this data dir")]
    NotRunning,
    #[error("the running Streamdrop did not answer in time")]
    NoAnswer,
    #[error("cannot talk to the running Streamdrop: {0}")]
    Io(#[from] std::io::Error),
    #[error("the running Streamdrop answered something this version does not understand: {0}")]
    BadReply(String),
}

/// Whether this process may run the engine on a data dir, or another does and took the request.
pub enum Claim {
    /// This process holds the data dir's claim: it runs the engine.
    Mine(EngineLock),
    /// Another process runs on the data dir; this is its answer.
    Theirs(Reply),
}

/// How long a process waits for another that holds the claim but does not
/// answer yet (it is still starting, or stopping).
const CLAIM_WAIT: Duration = Duration::from_secs(10);

/// Claims `data_dir` for this process, or else sends `request` to the process
/// that holds it. The claim comes first, so of two launches racing, exactly
/// one runs and the other hands over.
pub async fn claim_or_send(data_dir: &DataDir, request: &Request) -> Result<Claim, String> {
    let deadline = tokio::time::Instant::now() + CLAIM_WAIT;
    loop {
        match data_dir.lock_for_engine() {
            Ok(lock) => return Ok(Claim::Mine(lock)),
            Err(DataDirError::Busy { .. }) => {}
            Err(other) => return Err(other.to_string()),
        }
        match send(data_dir, request).await {
            Ok(reply) => return Ok(Claim::Theirs(reply)),
            Err(ControlError::NotRunning | ControlError::NoAnswer) if tokio::time::Instant::now() < deadline => {}
            Err(ControlError::NotRunning | ControlError::NoAnswer) => {
                return Err(format!(
                    "another Streamdrop is running on {} but does not answer; close it and try again",
                    data_dir.path().display()
                ))
            }
            Err(err) => return Err(err.to_string()),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What the engine's process does with a request.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, request: Request) -> BoxFuture<'static, Reply>;
}

fn socket_path(data_dir: &DataDir) -> PathBuf {
    data_dir.path().join(SOCKET_NAME)
}

/// The listening end, in the process that holds the engine lock. Dropping it
/// stops listening and removes the socket.
pub struct ControlServer {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(unix)]
impl ControlServer {
    /// Listens on the data dir's socket, replacing a stale one. Taking the
    /// engine lock proves no other live process owns it.
    pub fn start(data_dir: &DataDir, _proof: &EngineLock, handler: Arc<dyn Handler>) -> std::io::Result<Self> {
        use std::os::unix::fs::PermissionsExt;

        let path = socket_path(data_dir);
        match std::fs::remove_file(&path) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
            _ => {}
        }
        // Created 0600 from the start: the umask applies at bind, before any chmod could.
        let listener = {
            let _umask = UmaskGuard::set(0o177);
            tokio::net::UnixListener::bind(&path)?
        };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        let task = tokio::spawn(async move {
            loop {
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    Err(err) => {
                        tracing::warn!("control channel: accept failed: {err}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let handler = handler.clone();
                tokio::spawn(async move {
                    if let Err(err) = serve_one(stream, handler).await {
                        tracing::debug!("control channel: {err}");
                    }
                });
            }
        });
        Ok(Self { path, task })
    }
}

#[cfg(not(unix))]
impl ControlServer {
    /// Not yet on this platform (a named pipe on Windows): a second launch then
    /// finds the data dir busy and says so.
    pub fn start(data_dir: &DataDir, _proof: &EngineLock, _handler: Arc<dyn Handler>) -> std::io::Result<Self> {
        Ok(Self { path: socket_path(data_dir), task: tokio::spawn(async {}) })
    }
}

#[cfg(unix)]
async fn serve_one(stream: tokio::net::UnixStream, handler: Arc<dyn Handler>) -> Result<(), ControlError> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

    // The socket's mode already keeps other users out; this holds even if the
    // data dir was made readable to them.
    let peer = stream.peer_cred()?;
    if peer.uid() != current_uid() {
        return Err(ControlError::Io(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "a peer of another user",
        )));
    }
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let reply = match tokio::time::timeout(
        REPLY_TIMEOUT,
        BufReader::new(read).take(MAX_LINE as u64).read_line(&mut line),
    )
    .await
    {
        Ok(Ok(_)) => match serde_json::from_str::<Request>(line.trim()) {
            Ok(request) => handler.handle(request).await,
            Err(err) => Reply::Refused { message: format!("this Streamdrop does not understand the request ({err})") },
        },
        Ok(Err(err)) => return Err(err.into()),
        Err(_) => return Err(ControlError::NoAnswer),
    };
    let mut out = serde_json::to_vec(&reply).map_err(|e| ControlError::BadReply(e.to_string()))?;
    out.push(b'\n');
    write.write_all(&out).await?;
    write.shutdown().await?;
    Ok(())
}

/// Sends `request` to the process running the engine on `data_dir`.
pub async fn send(data_dir: &DataDir, request: &Request) -> Result<Reply, ControlError> {
    send_waiting(data_dir, request, REPLY_TIMEOUT).await
}

/// [`send`], waiting up to `timeout` for the answer.
#[cfg(unix)]
pub async fn send_waiting(data_dir: &DataDir, request: &Request, timeout: Duration) -> Result<Reply, ControlError> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

    let path = socket_path(data_dir);
    let stream = match tokio::net::UnixStream::connect(&path).await {
        Ok(stream) => stream,
        // No socket, or one nobody listens on (left by a killed engine).
        Err(err) if matches!(err.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused) => {
            return Err(ControlError::NotRunning)
        }
        Err(err) => return Err(err.into()),
    };
    check_owner(&path)?;
    let exchange = async {
        let (read, mut write) = stream.into_split();
        let mut out = serde_json::to_vec(request).map_err(|e| ControlError::BadReply(e.to_string()))?;
        out.push(b'\n');
        write.write_all(&out).await?;
        let mut line = String::new();
        BufReader::new(read).take(MAX_REPLY as u64).read_line(&mut line).await?;
        serde_json::from_str::<Reply>(line.trim()).map_err(|e| ControlError::BadReply(format!("{e}: {line:?}")))
    };
    tokio::time::timeout(timeout, exchange).await.map_err(|_| ControlError::NoAnswer)?
}

#[cfg(not(unix))]
pub async fn send_waiting(_data_dir: &DataDir, _request: &Request, _timeout: Duration) -> Result<Reply, ControlError> {
    Err(ControlError::NotRunning)
}

/// A socket someone else made is not ours to talk to.
#[cfg(unix)]
fn check_owner(path: &Path) -> Result<(), ControlError> {
    use std::os::unix::fs::MetadataExt;
    let owner = std::fs::symlink_metadata(path)?.uid();
    if owner != current_uid() {
        return Err(ControlError::Io(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("{} belongs to another user", path.display()),
        )));
    }
    Ok(())
}

#[cfg(unix)]
fn current_uid() -> u32 {
    // SAFETY: geteuid(2) cannot fail and touches no memory of ours.
    unsafe { libc::geteuid() }
}

/// Sets the process umask for the lifetime of the guard. Only used around a
/// bind, which is quick; the data dir's own files are made private anyway.
#[cfg(unix)]
struct UmaskGuard(libc::mode_t);

#[cfg(unix)]
impl UmaskGuard {
    fn set(mask: libc::mode_t) -> Self {
        // SAFETY: umask(2) cannot fail and touches no memory of ours.
        Self(unsafe { libc::umask(mask) })
    }
}

#[cfg(unix)]
impl Drop for UmaskGuard {
    fn drop(&mut self) {
        // SAFETY: as above.
        unsafe { libc::umask(self.0) };
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Mutex;

    struct Recorder(Mutex<Vec<Request>>);

    impl Handler for Recorder {
        fn handle(&self, request: Request) -> BoxFuture<'static, Reply> {
            self.0.lock().unwrap().push(request);
            Box::pin(async { Reply::Done { by: "test".into(), message: "added 1 file".into() } })
        }
    }

    #[tokio::test]
    async fn a_request_reaches_the_engine_and_its_reply_comes_back() {
        let tmp = tempfile::tempdir().unwrap();
        let data = DataDir::at(tmp.path()).unwrap();
        assert!(matches!(send(&data, &Request::Activate { paths: vec![] }).await, Err(ControlError::NotRunning)));

        // A socket file left behind by a killed engine: stale, for client and server alike.
        let stale = std::os::unix::net::UnixListener::bind(data.path().join(SOCKET_NAME)).unwrap();
        drop(stale);
        assert!(matches!(send(&data, &Request::Activate { paths: vec![] }).await, Err(ControlError::NotRunning)));

        let lock = data.lock_for_engine().unwrap();
        let recorder = Arc::new(Recorder(Mutex::new(Vec::new())));
        let server = ControlServer::start(&data, &lock, recorder.clone()).unwrap();
        let mode = std::fs::metadata(data.path().join(SOCKET_NAME)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "only this user may connect");

        let request = Request::Activate { paths: vec![PathBuf::from("/card/A001 é.mov")] };
        let reply = send(&data, &request).await.unwrap();
        assert_eq!(reply, Reply::Done { by: "test".into(), message: "added 1 file".into() });
        assert_eq!(*recorder.0.lock().unwrap(), [request]);

        // A second process on this data dir hands its request over instead of starting.
        let second = Request::Activate { paths: vec![PathBuf::from("/card/A002.mov")] };
        assert!(matches!(claim_or_send(&data, &second).await, Ok(Claim::Theirs(Reply::Done { .. }))));
        assert_eq!(recorder.0.lock().unwrap().len(), 2);

        drop(server);
        assert!(!data.path().join(SOCKET_NAME).exists(), "the socket goes with the server");
        drop(lock);
        assert!(matches!(claim_or_send(&data, &second).await, Ok(Claim::Mine(_))), "free once the first has gone");
    }
}
