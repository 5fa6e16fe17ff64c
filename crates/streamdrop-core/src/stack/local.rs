//! The local connection's stack: the embedded S3 server and the edge
//! ([`crate::local`]), the edge's signing key (OS keychain), and the engine
//! and linker on top of them. It makes local mode work with no AWS account.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::credentials::{MemorySecretStore, OsKeychain, SecretItem, SecretRef, SecretStore};
use crate::data_dir::EngineLock;
use crate::engine::{Engine, EngineError, EngineOptions};
use crate::links::Linker;
use crate::local::edge::{Edge, EdgeError, EdgeOptions};
use crate::local::s3_server::S3ServerError;
use crate::local::{LocalCredentials, S3Server};
use crate::model::{Buckets, ConnectionName, Problem, ProblemCode};
use crate::signing::{HashAlgorithm, PrivateKey, PublicKeySet, SigningKey};
use crate::storage::{ensure_bucket, static_client, Storage};
use crate::store::{Store, StoreError};
use crate::transcode::local_ffmpeg::work_root;
use crate::transcode::{LocalFfmpeg, LocalFfmpegOptions};
use crate::DataDir;

/// Bucket names in local mode. AWS names come from the connection's settings.
pub const LOCAL_UPLOADS_BUCKET: &str = "streamdrop-uploads";
pub const LOCAL_MEDIA_BUCKET: &str = "streamdrop-media";
/// s3s ignores the region, but SigV4 needs one to sign with.
pub const LOCAL_REGION: &str = "us-east-1";

/// The two buckets of the flow, as named in local mode.
pub fn local_buckets() -> Buckets {
    Buckets { uploads: LOCAL_UPLOADS_BUCKET.into(), media: LOCAL_MEDIA_BUCKET.into() }
}

/// The key pair id of the local edge's signing key.
pub const LOCAL_KEY_PAIR_ID: &str = "STREAMDROPLOCAL";
/// Remembers the local edge's port, so links made in one run still point at the edge in the next.
const EDGE_PORT_FILE: &str = "local-edge.port";

#[derive(Clone)]
pub struct LocalStackOptions {
    /// Where the S3 server listens; port 0 picks a free one.
    pub bind: SocketAddr,
    /// `None` mints fresh credentials.
    pub credentials: Option<LocalCredentials>,
    /// Where the local edge's private signing key lives. The default keeps it
    /// in memory (tests, throwaway stacks); the app and CLI use the OS keychain,
    /// so links stay valid across restarts.
    pub secrets: Arc<dyn SecretStore>,
    /// Whether to run the edge. A short-lived command that only makes links
    /// (while `streamdrop serve` or the app runs the edge) leaves it off and
    /// links to the edge's remembered address.
    pub serve_edge: bool,
}

impl Default for LocalStackOptions {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            credentials: None,
            secrets: Arc::new(MemorySecretStore::new()),
            serve_edge: true,
        }
    }
}

impl LocalStackOptions {
    /// Defaults, with the signing key in the OS keychain. Without one, the
    /// stack still starts, with the key in memory and a notice saying so.
    pub fn with_os_keychain() -> Self {
        Self { secrets: OsKeychain::open_shared(), ..Self::default() }
    }
}

impl fmt::Debug for LocalStackOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalStackOptions")
            .field("bind", &self.bind)
            .field("credentials", &self.credentials)
            .field("secrets", &self.secrets.describe())
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LocalStackError {
    #[error(transparent)]
    Server(#[from] S3ServerError),
    #[error("the local S3 server refused to create bucket {bucket}: {source}")]
    Bucket { bucket: String, source: Box<aws_sdk_s3::Error> },
    #[error("cannot get the local edge's signing key: {0}")]
    SigningKey(String),
    #[error("cannot start the local edge: {0}")]
    Edge(#[from] EdgeError),
    #[error(
        "the local edge has never run on this data dir: start `streamdrop serve` or the app once, then make links"
    )]
    NoEdgeYet,
}

/// A running local stack. Dropping it stops the servers; [`LocalStack::shutdown`]
/// also waits for open connections to finish.
pub struct LocalStack {
    server: Option<S3Server>,
    storage: Storage,
    /// `None` once shut down, or when not served by this process.
    edge: Option<Edge>,
    edge_url: String,
    signing_key: Arc<SigningKey>,
    /// What people should know about how this stack runs (e.g. links that will not outlive it).
    notices: Vec<Problem>,
    engine_lock: std::sync::Mutex<Option<EngineLock>>,
}

impl LocalStack {
    pub async fn start(data_dir: &DataDir, options: LocalStackOptions) -> Result<Self, LocalStackError> {
        let credentials = options.credentials.unwrap_or_else(LocalCredentials::generate);
        let server =
            S3Server::start(&data_dir.local_storage_root(), &data_dir.local_part_ledger(), credentials, options.bind)
                .await?;
        let endpoint = server.endpoint().to_owned();
        let credentials = server.credentials().clone();
        let client = static_client(&endpoint, LOCAL_REGION, credentials.to_sdk());
        let buckets = local_buckets();
        for bucket in [&buckets.uploads, &buckets.media] {
            ensure_bucket(&client, bucket)
                .await
                .map_err(|source| LocalStackError::Bucket { bucket: bucket.clone(), source: Box::new(source) })?;
        }
        let storage = Storage { client, target: "local".into(), buckets, endpoint_url: Some(endpoint.clone()) };

        // A missing, locked or refusing keychain must not keep local mode from starting:
        // the key then lives in memory, and links last until Streamdrop stops.
        let mut notices = Vec::new();
        // The keychain may ask the person to unlock it and wait for the answer:
        // off the async workers, so nothing else (a window's first paint) waits with it.
        let secrets = options.secrets.clone();
        let from_keychain = tokio::task::spawn_blocking(move || local_signing_key(secrets.as_ref()))
            .await
            .unwrap_or_else(|panicked| Err(format!("the keychain access failed: {panicked}")));
        let signing_key = match from_keychain {
            Ok(key) => key,
            Err(err) => {
                tracing::warn!("{err}; links made now stop working when Streamdrop quits");
                notices.push(Problem::new(ProblemCode::KeychainUnavailable).detail(err));
                local_signing_key(&MemorySecretStore::new()).map_err(LocalStackError::SigningKey)?
            }
        };
        let mut trusted = PublicKeySet::new();
        trusted
            .insert(LOCAL_KEY_PAIR_ID, signing_key.public_key())
            .map_err(|e| LocalStackError::SigningKey(e.to_string()))?;
        let (edge, edge_url) = if options.serve_edge {
            let edge = start_edge(data_dir, &storage, trusted).await?;
            let url = edge.base_url().to_owned();
            (Some(edge), url)
        } else {
            let port = remembered_edge_port(data_dir).ok_or(LocalStackError::NoEdgeYet)?;
            (None, format!("http://127.0.0.1:{port}"))
        };
        Ok(Self {
            server: Some(server),
            storage,
            edge,
            edge_url,
            signing_key: Arc::new(signing_key),
            notices,
            engine_lock: Default::default(),
        })
    }

    /// What people should know about how this stack runs.
    pub fn notices(&self) -> &[Problem] {
        &self.notices
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> &str {
        self.server.as_ref().map_or("", |s| s.endpoint())
    }

    pub fn credentials(&self) -> &LocalCredentials {
        self.server.as_ref().expect("the server runs until shutdown").credentials()
    }

    /// The storage the engine uses in local mode.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// `http://127.0.0.1:PORT` of the local edge, which serves the distribution
    /// bucket to requests signed as CloudFront would require.
    pub fn edge_url(&self) -> &str {
        &self.edge_url
    }

    /// Makes links that play through this stack's edge.
    pub fn linker(&self, data_dir: &DataDir) -> Result<Linker, StoreError> {
        let store = Store::open(&data_dir.store_file())?;
        Ok(Linker::new(
            self.storage.client.clone(),
            ConnectionName::local(),
            self.edge_url(),
            &self.storage.buckets.media,
            self.signing_key.clone(),
            store,
        ))
    }

    /// The engine for local mode: this stack's storage, the data dir's job
    /// store, and ffmpeg on this machine for transcoding.
    /// The data dir stays claimed for this engine until the stack stops.
    pub fn start_engine(&self, data_dir: &DataDir, options: EngineOptions) -> Result<Engine, EngineError> {
        self.start_engine_locked(data_dir.claim_for_engine()?, data_dir, options)
    }

    /// [`start_engine`](Self::start_engine) for a process that already holds the data dir's claim.
    pub fn start_engine_locked(
        &self,
        lock: EngineLock,
        data_dir: &DataDir,
        options: EngineOptions,
    ) -> Result<Engine, EngineError> {
        let store = crate::engine::prepare(data_dir, &lock)?;
        *self.engine_lock.lock().unwrap_or_else(|p| p.into_inner()) = Some(lock);
        let transcoder = LocalFfmpeg::new(self.storage.clone(), work_root(data_dir), LocalFfmpegOptions::default());
        Engine::start(store, ConnectionName::local(), self.storage.clone(), Arc::new(transcoder), options)
    }

    /// Stops accepting connections and waits (up to 5 s) for open ones to finish.
    pub async fn shutdown(mut self) {
        if let Some(edge) = self.edge.take() {
            edge.shutdown().await;
        }
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }
}

/// The local edge's signing key from `secrets`, made on first use. The private
/// key never touches the disk.
fn local_signing_key(secrets: &dyn SecretStore) -> Result<SigningKey, String> {
    let secret = SecretRef::new(&ConnectionName::local(), SecretItem::CloudFrontSigningKey);
    let pem = match secrets.get(&secret).map_err(|e| e.to_string())? {
        Some(pem) => pem,
        None => {
            let key = PrivateKey::generate_rsa_2048().map_err(|e| e.to_string())?;
            let pem = key.to_pkcs8_pem();
            secrets.set(&secret, &pem).map_err(|e| e.to_string())?;
            pem
        }
    };
    SigningKey::from_pem(LOCAL_KEY_PAIR_ID, &pem, HashAlgorithm::Sha256).map_err(|e| e.to_string())
}

/// Starts the edge on the port it had last time when that port is free, so
/// links made before a restart still reach it.
async fn start_edge(data_dir: &DataDir, storage: &Storage, keys: PublicKeySet) -> Result<Edge, EdgeError> {
    let port_file = data_dir.path().join(EDGE_PORT_FILE);
    let remembered = remembered_edge_port(data_dir);
    // The job store knows which links were revoked, by whichever process.
    let revocations = Store::open(&data_dir.store_file())?;
    let start = |port: u16| {
        let options = EdgeOptions {
            bind: SocketAddr::from(([127, 0, 0, 1], port)),
            revocations: Some(revocations.clone()),
            ..EdgeOptions::default()
        };
        Edge::start(storage.client.clone(), storage.buckets.media.clone(), keys.clone(), options)
    };
    let edge = match remembered {
        Some(port) => match start(port).await {
            Ok(edge) => edge,
            Err(err) => {
                tracing::warn!("the local edge's port {port} is taken ({err}); links made before now will not play");
                start(0).await?
            }
        },
        None => start(0).await?,
    };
    if remembered != Some(edge.addr().port()) {
        if let Err(err) = std::fs::write(&port_file, edge.addr().port().to_string()) {
            tracing::warn!("cannot remember the local edge's port in {}: {err}", port_file.display());
        }
    }
    Ok(edge)
}

/// `http://127.0.0.1:PORT` where the local edge of `data_dir` runs or will
/// run: its remembered port, or a free one picked and remembered now (the
/// edge's next start binds it, unless another program took it meanwhile).
pub fn reserve_edge_url(data_dir: &DataDir) -> std::io::Result<String> {
    let port = match remembered_edge_port(data_dir) {
        Some(port) => port,
        None => {
            let port = std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port();
            std::fs::write(data_dir.path().join(EDGE_PORT_FILE), port.to_string())?;
            port
        }
    };
    Ok(format!("http://127.0.0.1:{port}"))
}

fn remembered_edge_port(data_dir: &DataDir) -> Option<u16> {
    std::fs::read_to_string(data_dir.path().join(EDGE_PORT_FILE)).ok().and_then(|p| p.trim().parse().ok())
}
