//! An AWS connection's services: S3 buckets made by `streamdrop setup`, the
//! transcoder it chose (MediaConvert, the legacy Elastic Transcoder, or ffmpeg
//! here), and CloudFront for links, signed with the key in the keychain.

use std::sync::{Arc, Mutex};

use crate::credentials::{
    self, AwsConnection, ConnectionError, OsKeychain, SecretStore, Transcoder as TranscoderSetting, TranscoderKind,
};

use crate::data_dir::EngineLock;
use crate::engine::{Engine, EngineError, EngineOptions};
use crate::links::{LinkError, Linker};
use crate::model::ConnectionName;
use crate::storage::Storage;
use crate::store::Store;
use crate::transcode::local_ffmpeg::work_root;
use crate::transcode::{ElasticTranscoder, LocalFfmpeg, LocalFfmpegOptions, MediaConvert, Transcoder};
use crate::DataDir;

/// Where an AWS connection's secrets are, and where its transcoder is reached.
#[derive(Clone)]
pub struct AwsStackOptions {
    /// Holds the connection's access key (keys connections) and CloudFront signing key.
    pub secrets: Arc<dyn SecretStore>,
    /// The MediaConvert or Elastic Transcoder endpoint (a VPC endpoint, a test
    /// stand-in). `None`: the AWS SDKs' service-specific variable for the
    /// connection's transcoder (`AWS_ENDPOINT_URL_MEDIACONVERT`,
    /// `AWS_ENDPOINT_URL_ELASTIC_TRANSCODER`), else the connection's endpoint
    /// if it has one, else AWS's regional endpoint.
    pub transcoder_endpoint_url: Option<String>,
}

impl std::fmt::Debug for AwsStackOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsStackOptions")
            .field("secrets", &self.secrets.describe())
            .field("transcoder_endpoint_url", &self.transcoder_endpoint_url)
            .finish()
    }
}

impl AwsStackOptions {
    /// Secrets from the OS keychain; transcoders at their default endpoints.
    pub fn with_os_keychain() -> Self {
        Self { secrets: OsKeychain::open_shared(), transcoder_endpoint_url: None }
    }

    /// Where the cloud transcoder `kind` is reached: the override, else the
    /// AWS SDKs' own variable, else (`None`) AWS's regional endpoint.
    pub fn endpoint_for(&self, kind: TranscoderKind) -> Option<String> {
        let variable = match kind {
            TranscoderKind::MediaConvert => "AWS_ENDPOINT_URL_MEDIACONVERT",
            TranscoderKind::ElasticTranscoder => "AWS_ENDPOINT_URL_ELASTIC_TRANSCODER",
            TranscoderKind::LocalFfmpeg => return None,
        };
        self.transcoder_endpoint_url.clone().or_else(|| std::env::var(variable).ok().filter(|v| !v.is_empty()))
    }
}

/// A connected AWS connection, ready to run jobs and make links.
pub struct AwsStack {
    connection: AwsConnection,
    storage: Storage,
    transcoder: Arc<dyn Transcoder>,
    secrets: Arc<dyn SecretStore>,
    /// Asked whether a rotated signing key has deployed yet.
    cloudfront: aws_sdk_cloudfront::Client,
    engine_lock: Mutex<Option<EngineLock>>,
}

impl AwsStack {
    /// Builds the clients of `connection` (keys from `secrets`, or its profile).
    /// Needs what `streamdrop setup --apply` made: the buckets and the transcoder's role.
    pub async fn connect(
        data_dir: &DataDir,
        connection: &AwsConnection,
        options: AwsStackOptions,
    ) -> Result<Self, ConnectionError> {
        let secrets = options.secrets.clone();
        let name = connection.name.to_string();
        let not_set_up = || ConnectionError::NotSetUp { connection: name.clone() };
        let resources = connection.resources.as_ref().ok_or_else(not_set_up)?;
        let target = credentials::target(connection, &secrets, None).await?;
        let storage = Storage {
            client: target.s3(),
            target: format!("connection:{name}"),
            buckets: resources.buckets(),
            endpoint_url: target.endpoint_url.clone(),
        };
        let endpoint = options.endpoint_for(resources.transcoder.kind());
        let transcoder: Arc<dyn Transcoder> = match &resources.transcoder {
            TranscoderSetting::MediaConvert { role_arn: Some(role) } => {
                Arc::new(MediaConvert::new(&target.config, endpoint.as_deref(), role.clone(), None))
            }
            TranscoderSetting::ElasticTranscoder { role_arn: Some(role), pipeline } => Arc::new(
                ElasticTranscoder::new(&target.config, endpoint.as_deref(), role.clone(), pipeline.clone(), Vec::new()),
            ),
            TranscoderSetting::MediaConvert { role_arn: None }
            | TranscoderSetting::ElasticTranscoder { role_arn: None, .. } => {
                return Err(not_set_up());
            }
            TranscoderSetting::LocalFfmpeg => {
                Arc::new(LocalFfmpeg::new(storage.clone(), work_root(data_dir), LocalFfmpegOptions::default()))
            }
        };
        Ok(Self {
            connection: connection.clone(),
            storage,
            transcoder,
            secrets,
            cloudfront: target.cloudfront(),
            engine_lock: Mutex::new(None),
        })
    }

    pub fn connection(&self) -> &ConnectionName {
        &self.connection.name
    }

    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// The engine for this connection's jobs; the data dir stays claimed while the stack lives.
    pub fn start_engine_locked(
        &self,
        lock: EngineLock,
        data_dir: &DataDir,
        options: EngineOptions,
    ) -> Result<Engine, EngineError> {
        let store = crate::engine::prepare(data_dir, &lock)?;
        *self.engine_lock.lock().unwrap_or_else(|p| p.into_inner()) = Some(lock);
        Engine::start(store, self.connection.name.clone(), self.storage.clone(), Arc::clone(&self.transcoder), options)
    }

    /// Links through the connection's CloudFront distribution, signed with its
    /// key from the keychain (read now, so a machine without it is told how to
    /// add one; a rotated key is taken once CloudFront has deployed it).
    pub async fn linker(&self, data_dir: &DataDir) -> Result<Linker, LinkError> {
        let key =
            credentials::signing_key(data_dir, &self.connection.name, &self.secrets, Some(&self.cloudfront)).await?;
        let distribution = self
            .connection
            .resources
            .as_ref()
            .and_then(|r| r.distribution.as_ref())
            .ok_or_else(|| ConnectionError::NotSetUp { connection: self.connection.name.to_string() })?;
        let store = Store::open(&data_dir.store_file())?;
        Ok(Linker::new(
            self.storage.client.clone(),
            self.connection.name.clone(),
            &distribution.base_url(),
            &self.storage.buckets.media,
            Arc::new(key),
            store,
        )
        .on_cloudfront(self.cloudfront.clone(), distribution.id.clone()))
    }
}
