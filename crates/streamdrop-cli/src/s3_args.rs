//! Flags shared by the commands that talk to any S3 endpoint.

use streamdrop_core::storage::chain_client;

#[derive(Debug, clap::Args)]
pub struct S3Args {
    /// An S3-compatible endpoint (MinIO, R2, B2, Wasabi, `streamdrop serve`)
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    #[arg(long)]
    pub region: Option<String>,
    /// Use path-style addressing (automatic for IP and localhost endpoints)
    #[arg(long)]
    pub path_style: bool,
}

impl S3Args {
    /// A client from the standard AWS chain (environment, profiles, SSO).
    pub async fn client(&self) -> aws_sdk_s3::Client {
        chain_client(self.endpoint_url.as_deref(), self.region.as_deref(), self.path_style).await
    }

    /// Names the storage in the upload journal, so resumes never cross servers.
    pub fn target(&self) -> String {
        match &self.endpoint_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("aws:{}", self.region.as_deref().unwrap_or("default")),
        }
    }
}
