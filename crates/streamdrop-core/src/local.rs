//! The local stack: an S3-compatible server (s3s with its file-system backend)
//! embedded in the process, bound to 127.0.0.1 and always behind SigV4 auth.
//! It makes local mode work with no AWS account, and gives every test a real
//! S3 server to talk to over HTTP.

use std::fmt;
use std::net::SocketAddr;

use aws_sdk_s3::config::Credentials;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::storage::{ensure_bucket, static_client, Buckets, Storage};
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

/// Credentials of the embedded server. Minted per run and held only in memory;
/// `Debug` never shows the secret.
#[derive(Clone)]
pub struct LocalCredentials {
    access_key_id: String,
    secret_access_key: String,
}

impl LocalCredentials {
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self { access_key_id: access_key_id.into(), secret_access_key: secret_access_key.into() }
    }

    /// Fresh random credentials (from the OS RNG, through UUID v4).
    pub fn generate() -> Self {
        let access = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
        let secret = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
        Self::new(format!("SDLOCAL{}", &access[..13]), &secret[..40])
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    fn to_sdk(&self) -> Credentials {
        Credentials::new(&self.access_key_id, &self.secret_access_key, None, None, "streamdrop-local")
    }
}

impl fmt::Debug for LocalCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct LocalStackOptions {
    /// Where the S3 server listens; port 0 picks a free one.
    pub bind: SocketAddr,
    /// `None` mints fresh credentials.
    pub credentials: Option<LocalCredentials>,
}

impl Default for LocalStackOptions {
    fn default() -> Self {
        Self { bind: SocketAddr::from(([127, 0, 0, 1], 0)), credentials: None }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LocalStackError {
    #[error("cannot prepare local storage at {path}: {source}")]
    Storage { path: std::path::PathBuf, source: std::io::Error },
    #[error("cannot listen on {addr}: {source} (is another Streamdrop using that port?)")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("the local S3 server refused to create bucket {bucket}: {source}")]
    Bucket { bucket: String, source: Box<aws_sdk_s3::Error> },
}

/// A running local stack. Dropping it stops the server; [`LocalStack::shutdown`]
/// also waits for open connections to finish.
pub struct LocalStack {
    endpoint: String,
    credentials: LocalCredentials,
    storage: Storage,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl LocalStack {
    pub async fn start(data_dir: &DataDir, options: LocalStackOptions) -> Result<Self, LocalStackError> {
        let root = data_dir.local_storage_root();
        let storage_err = |source| LocalStackError::Storage { path: root.clone(), source };
        std::fs::create_dir_all(&root).map_err(storage_err)?;
        let fs = s3s_fs::FileSystem::new(&root)
            .map_err(|e| storage_err(std::io::Error::other(format!("{e:?}"))))?;

        let credentials = options.credentials.unwrap_or_else(LocalCredentials::generate);
        let service = {
            let mut builder = S3ServiceBuilder::new(fs);
            // Without auth s3s accepts anonymous requests; never run it that way.
            builder.set_auth(SimpleAuth::from_single(
                credentials.access_key_id.clone(),
                credentials.secret_access_key.clone(),
            ));
            builder.build()
        };

        let listener = TcpListener::bind(options.bind)
            .await
            .map_err(|source| LocalStackError::Bind { addr: options.bind, source })?;
        let addr = listener.local_addr().map_err(|source| LocalStackError::Bind { addr: options.bind, source })?;
        let endpoint = format!("http://{addr}");

        let (stop_tx, mut stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let http = ConnBuilder::new(TokioExecutor::new());
            let graceful = GracefulShutdown::new();
            loop {
                let socket = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((socket, _)) => socket,
                        Err(err) => {
                            tracing::warn!("local S3 server: accept failed: {err}");
                            continue;
                        }
                    },
                    _ = &mut stop_rx => break,
                };
                let conn = http.serve_connection(TokioIo::new(socket), service.clone()).into_owned();
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), graceful.shutdown()).await;
        });

        let client = static_client(&endpoint, LOCAL_REGION, credentials.to_sdk());
        let buckets = local_buckets();
        for bucket in [&buckets.uploads, &buckets.media] {
            ensure_bucket(&client, bucket)
                .await
                .map_err(|source| LocalStackError::Bucket { bucket: bucket.clone(), source: Box::new(source) })?;
        }
        tracing::info!(%endpoint, "local S3 server is running");
        let storage = Storage { client, target: "local".into(), buckets, endpoint_url: Some(endpoint.clone()) };
        Ok(Self { endpoint, credentials, storage, stop: Some(stop_tx), task: Some(task) })
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn credentials(&self) -> &LocalCredentials {
        &self.credentials
    }

    /// The storage the engine uses in local mode.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// Stops accepting connections and waits (up to 5 s) for open ones to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
