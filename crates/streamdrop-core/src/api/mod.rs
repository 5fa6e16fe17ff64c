//! The operations layer: everything a person can do with Streamdrop, once,
//! for every face. The window's IPC commands, the `streamdrop` CLI and the
//! control channel are thin transports over a [`Session`]; none of them opens
//! a stack, an engine or the settings file itself.
//!
//! A session answers from the job store and the settings file at once
//! ([`Session::open`]). One that *hosts* ([`Session::open_hosting`], holding
//! the data dir's engine claim) also runs a stack and its engine for one
//! connection, and swaps them when the active connection changes, without a
//! restart. Operations return serde views ([`views`]) and one error type,
//! [`Problem`]: a stable code, its parameters, the English sentence and the
//! raw detail ([`errors`] tells each lower layer's error that way).
//!
//! The operations live in a file per subject: [`jobs`](self#jobs) (intake and
//! job actions), links, connections, setup.

mod announce;
mod connections;
pub mod csp;
mod errors;
pub mod ipc;
mod jobs;
mod links;
mod preferences;
mod remote;
mod setup;
mod views;

use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

pub use announce::Announcement;
pub use jobs::LISTED_REFUSALS;
pub use views::*;

use crate::credentials::{DistributionInfo, OsKeychain, SecretStore, Settings};
use crate::data_dir::{DataDir, EngineLock};
use crate::engine::{Engine, EngineOptions};
use crate::links::Linker;
use crate::local::LocalCredentials;
use crate::model::{ConnectionName, JobView, Problem, ProblemCode};
use crate::stack::{AwsStackOptions, LocalStackOptions, Stack};
use crate::store::Store;

/// How a session reaches what it needs.
#[derive(Clone)]
pub struct SessionOptions {
    /// AWS connections' keys, signing keys (the local edge's too).
    pub secrets: Arc<dyn SecretStore>,
    pub local: LocalStackOptions,
    pub aws: AwsStackOptions,
    pub engine: EngineOptions,
    /// The connection whose jobs a hosting session runs. `None`: the active
    /// one, swapped when [`Session::use_connection`] changes it.
    pub hosted: Option<ConnectionName>,
}

impl SessionOptions {
    /// Every secret in `secrets`; the rest at its defaults.
    pub fn with_secrets(secrets: Arc<dyn SecretStore>) -> Self {
        Self {
            local: LocalStackOptions { secrets: secrets.clone(), ..LocalStackOptions::default() },
            aws: AwsStackOptions { secrets: secrets.clone(), transcoder_endpoint_url: None },
            secrets,
            engine: EngineOptions::default(),
            hosted: None,
        }
    }

    /// Secrets in the OS keychain: what the app and the CLI use.
    pub fn with_os_keychain() -> Self {
        Self::with_secrets(OsKeychain::open_shared())
    }
}

/// What a session announces as it happens.
#[derive(Debug, Clone)]
pub enum Event {
    /// A job changed (state or live progress).
    Job(JobView),
    /// The hosted stack started, failed, or was swapped for another connection's.
    Status(StatusView),
    /// A setup step has run.
    SetupStep(SetupProgress),
    /// Work ended that a person should hear of outside the window.
    Announce(Announcement),
}

/// One data dir's Streamdrop: its settings, its job store and, when hosting,
/// the running stack. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    data_dir: DataDir,
    options: SessionOptions,
    store: Store,
    hosting: watch::Sender<Hosting>,
    events: broadcast::Sender<Event>,
    /// The data dir's engine claim, when this session hosts; locked while the
    /// hosted stack starts, is swapped or stops, so those never interleave.
    claim: tokio::sync::Mutex<Option<EngineLock>>,
    /// Files [`Session::add`] left out as duplicates, which
    /// [`Session::add_skipped`] may still add: the window offers that once per drop.
    skipped: std::sync::Mutex<std::collections::HashSet<std::path::PathBuf>>,
}

#[derive(Clone)]
enum Hosting {
    /// Not hosting: operations that need an engine are refused.
    No,
    Starting,
    Running(Arc<Hosted>),
    Failed(Problem),
    Stopped,
}

/// The running stack of the hosted connection, its engine and linker.
struct Hosted {
    connection: ConnectionName,
    engine: Engine,
    /// Why links cannot be made, when they cannot (an AWS connection whose
    /// signing key is not in this machine's keychain): jobs still run.
    linker: Result<Linker, Problem>,
    notices: Vec<Problem>,
    mode: StackMode,
    s3_endpoint: String,
    transcoder: &'static str,
    local_server: Option<LocalServerView>,
    stack: Mutex<Option<Stack>>,
    /// Relays the engine's job events as the session's.
    relay: JoinHandle<()>,
}

impl Session {
    /// A session that answers from the store and settings of `data_dir`, and
    /// runs no engine.
    pub fn open(data_dir: DataDir, options: SessionOptions) -> Result<Self, Problem> {
        Self::new(data_dir, options, None)
    }

    /// A session that will run the engine of the hosted connection on
    /// `data_dir` (claimed by `claim`). It is `starting` until [`start`](Self::start)
    /// has run; operations that need the engine wait for it.
    pub fn open_hosting(data_dir: DataDir, options: SessionOptions, claim: EngineLock) -> Result<Self, Problem> {
        Self::new(data_dir, options, Some(claim))
    }

    fn new(data_dir: DataDir, options: SessionOptions, claim: Option<EngineLock>) -> Result<Self, Problem> {
        let store = Store::open(&data_dir.store_file())?;
        let initial = if claim.is_some() { Hosting::Starting } else { Hosting::No };
        let (events, _) = broadcast::channel(1024);
        Ok(Self {
            inner: Arc::new(Inner {
                data_dir,
                options,
                store,
                hosting: watch::Sender::new(initial),
                events,
                claim: tokio::sync::Mutex::new(claim),
                skipped: Default::default(),
            }),
        })
    }

    pub fn data_dir(&self) -> &DataDir {
        &self.inner.data_dir
    }

    /// Everything the session announces. Slow receivers may miss
    /// intermediate progress, never the latest state of a job they read afterwards.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// Opens the hosted connection's stack and starts its engine, which
    /// resumes that connection's unfinished jobs. Its outcome is also the
    /// session's status (and a [`Event::Status`]).
    pub async fn start(&self) -> Result<(), Problem> {
        let claim = self.inner.claim.lock().await;
        let Some(claim) = claim.clone() else { return Err(Problem::new(ProblemCode::NoEngine)) };
        self.open_hosted(claim).await
    }

    /// Stops the engine where it is (the next start resumes every job) and
    /// the stack, waiting briefly for requests in flight.
    pub async fn stop(&self) {
        let _claim = self.inner.claim.lock().await;
        let previous = self.inner.hosting.send_replace(Hosting::Stopped);
        if let Hosting::Running(hosted) = previous {
            hosted.stop().await;
        }
    }

    /// How the session is, for a status line.
    pub fn status(&self) -> StatusView {
        let mut status = StatusView::starting(&self.inner.data_dir);
        match &*self.inner.hosting.borrow() {
            Hosting::Starting => {}
            Hosting::Failed(problem) => return StatusView::failed(&self.inner.data_dir, problem),
            Hosting::Running(hosted) => {
                status.phase = Phase::Ready;
                status.mode = hosted.mode;
                status.connection = hosted.connection.to_string();
                status.s3_endpoint = hosted.s3_endpoint.clone();
                status.transcoder = hosted.transcoder.to_owned();
                status.notices = hosted.notices.iter().map(Problem::view).collect();
            }
            Hosting::No | Hosting::Stopped => {
                status.phase = Phase::Ready;
                match Settings::load(&self.inner.data_dir) {
                    Ok(settings) => {
                        let active = settings.active();
                        status.connection = active.name().to_string();
                        status.mode = if active.as_aws().is_some() { StackMode::Aws } else { StackMode::Local };
                    }
                    Err(err) => status.error = Some(Problem::from(err).view()),
                }
            }
        }
        status
    }

    /// The origin the window's player loads media from: the hosted
    /// connection's edge (the local edge, or the connection's CloudFront
    /// distribution). Known before the stack starts, so a page can be limited
    /// to it from its first load: the local edge's port is reserved now, and
    /// the stack binds it. `None` when there is none (a connection not set up).
    pub fn media_origin(&self) -> Option<String> {
        if let Some(hosted) = self.running() {
            return match (&hosted.local_server, &hosted.linker) {
                (Some(local), _) => Some(local.edge_url.clone()),
                (None, Ok(linker)) => Some(linker.base_url().to_owned()),
                (None, Err(_)) => None,
            };
        }
        let settings = Settings::load(&self.inner.data_dir).ok()?;
        let connection = match &self.inner.options.hosted {
            Some(name) => settings.get(name.as_str())?,
            None => settings.active(),
        };
        match connection.as_aws() {
            Some(aws) => aws.resources.as_ref()?.distribution.as_ref().map(DistributionInfo::base_url),
            None => crate::stack::reserve_edge_url(&self.inner.data_dir)
                .map_err(|err| tracing::warn!("cannot reserve a port for the local edge: {err}"))
                .ok(),
        }
    }

    /// The embedded S3 server a hosting session runs, when it hosts Local.
    pub fn local_server(&self) -> Option<LocalServerView> {
        match &*self.inner.hosting.borrow() {
            Hosting::Running(hosted) => hosted.local_server.clone(),
            _ => None,
        }
    }

    /// The running engine, once started (waits while it starts).
    async fn engine(&self) -> Result<Arc<Hosted>, Problem> {
        let mut hosting = self.inner.hosting.subscribe();
        let started = hosting
            .wait_for(|h| !matches!(h, Hosting::Starting))
            .await
            .map_err(|_| Problem::new(ProblemCode::NoEngine))?;
        match &*started {
            Hosting::Running(hosted) => Ok(hosted.clone()),
            Hosting::Failed(problem) => Err(problem.clone()),
            Hosting::No | Hosting::Stopped | Hosting::Starting => Err(Problem::new(ProblemCode::NoEngine)),
        }
    }

    /// The running engine if there is one now, without waiting.
    fn running(&self) -> Option<Arc<Hosted>> {
        match &*self.inner.hosting.borrow() {
            Hosting::Running(hosted) => Some(hosted.clone()),
            _ => None,
        }
    }

    fn hosts(&self) -> bool {
        !matches!(*self.inner.hosting.borrow(), Hosting::No)
    }

    fn set_hosting(&self, hosting: Hosting) {
        self.inner.hosting.send_replace(hosting);
        let _ = self.inner.events.send(Event::Status(self.status()));
    }

    /// Starts the hosted connection's stack and engine under `claim`.
    async fn open_hosted(&self, claim: EngineLock) -> Result<(), Problem> {
        self.set_hosting(Hosting::Starting);
        match self.launch(claim).await {
            Ok(hosted) => {
                self.set_hosting(Hosting::Running(Arc::new(hosted)));
                Ok(())
            }
            Err(problem) => {
                tracing::error!("cannot start: {}", problem.message_with_detail());
                self.set_hosting(Hosting::Failed(problem.clone()));
                Err(problem)
            }
        }
    }

    async fn launch(&self, claim: EngineLock) -> Result<Hosted, Problem> {
        let inner = &self.inner;
        let data_dir = &inner.data_dir;
        let settings = Settings::load(data_dir)?;
        let connection = match &inner.options.hosted {
            Some(name) => settings
                .get(name.as_str())
                .ok_or_else(|| Problem::new(ProblemCode::ConnectionNotFound).with("connection", name.as_str()))?,
            None => settings.active(),
        };
        let stack = Stack::open(data_dir, connection, inner.options.local.clone(), inner.options.aws.clone()).await?;
        // Relayed from before the engine starts: the jobs it resumes change state at once.
        let (job_events, relayed) = broadcast::channel(1024);
        let relay = relay_job_events(relayed, inner.events.clone(), inner.store.clone());
        let mut options = EngineOptions { events: Some(job_events), ..inner.options.engine.clone() };
        // The person's preferences, once set, rule over the built-in defaults.
        if let Some(preferences) = settings.preferences_set() {
            options = options.following(preferences);
        }
        let engine = match stack.start_engine_locked(claim, data_dir, options) {
            Ok(engine) => engine,
            Err(err) => {
                relay.abort();
                stack.shutdown().await;
                return Err(err.into());
            }
        };
        let linker = stack.linker(data_dir).await.map_err(Problem::from);
        let mut notices = stack.notices();
        if let Err(problem) = &linker {
            tracing::warn!("links cannot be made: {}", problem.message_with_detail());
            notices.push(Problem::new(ProblemCode::LinksUnavailable).detail(problem.message_with_detail()));
        }
        let local_server = match &stack {
            Stack::Local(local) => Some(LocalServerView {
                s3_endpoint: local.endpoint().to_owned(),
                edge_url: local.edge_url().to_owned(),
                credentials: local.credentials().clone(),
            }),
            Stack::Aws(_) => None,
        };
        Ok(Hosted {
            connection: stack.connection(),
            relay,
            linker,
            notices,
            mode: if matches!(stack, Stack::Local(_)) { StackMode::Local } else { StackMode::Aws },
            s3_endpoint: stack.storage().endpoint_url.clone().unwrap_or_default(),
            transcoder: engine.transcoder_name(),
            local_server,
            engine,
            stack: Mutex::new(Some(stack)),
        })
    }

    /// Brings a hosting session in line with the settings: when the
    /// connection it should run (the active one, unless fixed) is not the one
    /// it runs, or `changed` names the one it runs (setup made new
    /// resources), or its last start failed, the stack is (re)started.
    async fn rehost(&self, changed: Option<&ConnectionName>) {
        let claim = self.inner.claim.lock().await;
        let Some(claim) = claim.clone() else { return };
        let wanted = match &self.inner.options.hosted {
            Some(name) => name.clone(),
            None => match Settings::load(&self.inner.data_dir) {
                Ok(settings) => settings.active_name().clone(),
                Err(err) => return tracing::warn!("cannot read the settings: {err}"),
            },
        };
        let current = self.inner.hosting.borrow().clone();
        match current {
            Hosting::Running(hosted) if hosted.connection == wanted && changed != Some(&wanted) => return,
            Hosting::Running(hosted) => hosted.stop().await,
            Hosting::Stopped => return,
            Hosting::No | Hosting::Starting | Hosting::Failed(_) => {}
        }
        let _ = self.open_hosted(claim).await;
    }
}

impl Hosted {
    async fn stop(&self) {
        self.engine.stop();
        self.relay.abort();
        let stack = self.stack.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(stack) = stack {
            stack.shutdown().await;
        }
    }
}

/// The embedded S3 server of a hosted Local connection, for `streamdrop serve`
/// to print. `Debug` never shows the secret.
#[derive(Debug, Clone)]
pub struct LocalServerView {
    pub s3_endpoint: String,
    /// Serves the distribution bucket to signed requests, as CloudFront would.
    pub edge_url: String,
    pub credentials: LocalCredentials,
}

fn relay_job_events(
    mut jobs: broadcast::Receiver<JobView>,
    events: broadcast::Sender<Event>,
    store: Store,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut announcer = announce::Announcer::default();
        loop {
            match jobs.recv().await {
                Ok(view) => {
                    let announcement = announcer.hear(&store, &view);
                    let _ = events.send(Event::Job(view));
                    if let Some(announcement) = announcement {
                        let _ = events.send(Event::Announce(announcement));
                    }
                }
                // Missed progress is harmless: the next event carries the full state.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    })
}
