//! What a connection's jobs run on: the embedded [`LocalStack`], or an AWS
//! connection's services ([`AwsStack`]). Both give the engine its storage and
//! transcoder and make links, so the app and the CLI run any connection the
//! same way.

mod aws;
mod local;

pub use aws::{AwsStack, AwsStackOptions};
pub use local::{
    local_buckets, reserve_edge_url, LocalStack, LocalStackError, LocalStackOptions, LOCAL_KEY_PAIR_ID,
    LOCAL_MEDIA_BUCKET, LOCAL_REGION, LOCAL_UPLOADS_BUCKET,
};

use crate::credentials::{Connection, ConnectionError, Settings, SettingsError};

use crate::data_dir::EngineLock;
use crate::engine::{Engine, EngineError, EngineOptions};
use crate::links::{LinkError, Linker};
use crate::model::ConnectionName;
use crate::storage::Storage;
use crate::DataDir;

#[derive(Debug, thiserror::Error)]
pub enum StackError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Local(#[from] LocalStackError),
    #[error(transparent)]
    Aws(#[from] ConnectionError),
}

/// One connection's running services.
pub enum Stack {
    Local(LocalStack),
    Aws(AwsStack),
}

impl Stack {
    /// The stack of `connection`: `local` configures the embedded stack, `aws` an AWS connection's.
    pub async fn open(
        data_dir: &DataDir,
        connection: &Connection,
        local: LocalStackOptions,
        aws: AwsStackOptions,
    ) -> Result<Self, StackError> {
        Ok(match connection {
            Connection::Local => Stack::Local(LocalStack::start(data_dir, local).await?),
            Connection::Aws(connection) => Stack::Aws(AwsStack::connect(data_dir, connection, aws).await?),
        })
    }

    /// The stack of the active connection (`streamdrop connection use`).
    pub async fn open_active(
        data_dir: &DataDir,
        local: LocalStackOptions,
        aws: AwsStackOptions,
    ) -> Result<Self, StackError> {
        let settings = Settings::load(data_dir)?;
        Self::open(data_dir, settings.active(), local, aws).await
    }

    /// The stack of connection `name` (a job's, to make its links).
    pub async fn open_named(
        data_dir: &DataDir,
        name: &ConnectionName,
        local: LocalStackOptions,
        aws: AwsStackOptions,
    ) -> Result<Self, StackError> {
        let settings = Settings::load(data_dir)?;
        let connection =
            settings.get(name.as_str()).ok_or_else(|| SettingsError::NoSuchConnection(name.to_string()))?;
        Self::open(data_dir, connection, local, aws).await
    }

    pub fn connection(&self) -> ConnectionName {
        match self {
            Stack::Local(_) => ConnectionName::local(),
            Stack::Aws(aws) => aws.connection().clone(),
        }
    }

    /// What people should know about how the stack runs.
    pub fn notices(&self) -> Vec<crate::model::Problem> {
        match self {
            Stack::Local(local) => local.notices().to_vec(),
            Stack::Aws(_) => Vec::new(),
        }
    }

    pub fn storage(&self) -> &Storage {
        match self {
            Stack::Local(local) => local.storage(),
            Stack::Aws(aws) => aws.storage(),
        }
    }

    /// The engine for this connection's jobs. The data dir stays claimed for
    /// it until the stack stops.
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
        match self {
            Stack::Local(local) => local.start_engine_locked(lock, data_dir, options),
            Stack::Aws(aws) => aws.start_engine_locked(lock, data_dir, options),
        }
    }

    /// Makes links to this connection's ready jobs: through the local edge, or CloudFront.
    pub async fn linker(&self, data_dir: &DataDir) -> Result<Linker, LinkError> {
        match self {
            Stack::Local(local) => Ok(local.linker(data_dir)?),
            Stack::Aws(aws) => aws.linker(data_dir).await,
        }
    }

    pub async fn shutdown(self) {
        match self {
            Stack::Local(local) => local.shutdown().await,
            Stack::Aws(_) => {}
        }
    }
}
