//! The embedded S3 server: s3s with its file-system backend plus AWS's rules
//! ([`super::s3_backend`]), bound to 127.0.0.1 and always behind SigV4 auth.
//! It makes local mode work with no AWS account, and gives every test a real
//! S3 server to talk to over HTTP.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

use aws_sdk_s3::config::Credentials;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;

use super::http::{ClientBody, ClientLimits, HttpServer};
use super::s3_backend::ChecksummedFs;

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

    pub fn to_sdk(&self) -> Credentials {
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

#[derive(Debug, thiserror::Error)]
pub enum S3ServerError {
    #[error("cannot prepare local storage at {path}: {source}")]
    Storage { path: std::path::PathBuf, source: std::io::Error },
    #[error("cannot listen on {addr}: {source} (is another Streamdrop using that port?)")]
    Bind { addr: SocketAddr, source: std::io::Error },
}

/// A running embedded S3 server. Dropping it stops it; [`S3Server::shutdown`]
/// also waits for open connections to finish.
pub struct S3Server {
    endpoint: String,
    credentials: LocalCredentials,
    server: HttpServer,
}

impl S3Server {
    /// Serves the buckets under `root` (one folder per bucket; the part ledger
    /// in `ledger_root`, outside it) on `bind` to requests signed with `credentials`.
    pub async fn start(
        root: &Path,
        ledger_root: &Path,
        credentials: LocalCredentials,
        bind: SocketAddr,
    ) -> Result<Self, S3ServerError> {
        let storage_err = |source| S3ServerError::Storage { path: root.to_owned(), source };
        std::fs::create_dir_all(root).map_err(storage_err)?;
        let fs = ChecksummedFs::new(root, ledger_root).map_err(storage_err)?;
        let service = {
            let mut builder = S3ServiceBuilder::new(fs);
            // Without auth s3s accepts anonymous requests; never run it that way.
            builder.set_auth(SimpleAuth::from_single(
                credentials.access_key_id.clone(),
                credentials.secret_access_key.clone(),
            ));
            builder.build()
        };
        let listener = TcpListener::bind(bind).await.map_err(|source| S3ServerError::Bind { addr: bind, source })?;
        let addr = listener.local_addr().map_err(|source| S3ServerError::Bind { addr: bind, source })?;
        let endpoint = format!("http://{addr}");
        let server = HttpServer::spawn("local S3 server", listener, ClientLimits::default(), move |_peer| {
            let service = service.clone();
            hyper::service::service_fn(move |request: hyper::Request<ClientBody>| {
                let service = service.clone();
                async move { service.call(request.map(s3s::Body::http_body)).await }
            })
        });
        tracing::info!(%endpoint, "local S3 server is running");
        Ok(Self { endpoint, credentials, server })
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn credentials(&self) -> &LocalCredentials {
        &self.credentials
    }

    /// Stops accepting connections and waits (up to 5 s) for open ones to finish.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}
