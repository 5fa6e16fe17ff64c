//! From an AWS connection to SDK clients: the credentials (keychain keys or a
//! profile through aws-config), the region and the endpoint every service uses.

use std::sync::Arc;

use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_s3::config::Region;

use super::connection::{AwsAuth, AwsConnection};
use super::secrets::{get_secret, AwsKeys, SecretItem, SecretRef, SecretStore, SecretStoreError};
use crate::storage::needs_path_style;

#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error(transparent)]
    Keychain(#[from] SecretStoreError),
    #[error(
        "connection {connection:?} has no access key in the OS keychain: add it again with \
         `streamdrop connection remove` and `streamdrop connection add --keys`"
    )]
    MissingKeys { connection: String },
    #[error("connection {connection:?} cannot reach AWS: {message}")]
    Call { connection: String, message: String },
    #[error("connection {connection:?} has no CloudFront distribution yet: run `streamdrop setup --apply`")]
    NotSetUp { connection: String },
    #[error(
        "connection {connection:?}: the CloudFront signing key is not in this machine's keychain; \
         `streamdrop setup --apply --rotate-signing-key` adds a new one to the key group"
    )]
    MissingSigningKey { connection: String },
    #[error("connection {connection:?}: the CloudFront signing key in the keychain is unusable: {message}")]
    BadSigningKey { connection: String, message: String },
    #[error(
        "connection {connection:?}: the new CloudFront signing key is still deploying, so links made now would be \
         refused; they work once CloudFront has spread it (usually within 15 minutes). \
         `streamdrop setup --apply --wait-for-deployment` waits for it"
    )]
    SigningKeyDeploying { connection: String },
    #[error(transparent)]
    Settings(#[from] super::settings::SettingsError),
}

/// What an AWS call's failure says about the connection's credentials. The
/// SDKs give these no kinds of their own, so they are told from its words
/// (aws-config's providers, and the services' error codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialsTrouble {
    /// The profile's IAM Identity Center (SSO) sign-in has expired.
    SsoExpired,
    /// The profile is not in `~/.aws/config` (or credentials).
    NoSuchProfile,
    /// AWS does not know the access key, or its secret is wrong.
    KeysRefused,
}

impl CredentialsTrouble {
    /// The trouble `text` (an SDK error, displayed with its sources) names, if any.
    pub fn of(text: &str) -> Option<Self> {
        let text = text.to_ascii_lowercase();
        let any = |words: &[&str]| words.iter().any(|w| text.contains(w));
        if any(&["sso token has expired", "sso session has expired", "token has expired and refresh failed"]) {
            Some(Self::SsoExpired)
        } else if text.contains("profile `") && any(&["was not defined", "does not exist"]) {
            Some(Self::NoSuchProfile)
        } else if any(&[
            "invalidclienttokenid",
            "signaturedoesnotmatch",
            "invalidaccesskeyid",
            "unrecognizedclientexception",
            "security token included in the request is invalid",
        ]) {
            Some(Self::KeysRefused)
        } else {
            None
        }
    }
}

/// How to reach an AWS connection's services.
#[derive(Debug, Clone)]
pub struct AwsTarget {
    pub config: SdkConfig,
    pub endpoint_url: Option<String>,
}

impl AwsTarget {
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let mut builder = aws_sdk_s3::config::Builder::from(&self.config);
        if let Some(url) = &self.endpoint_url {
            builder = builder.force_path_style(needs_path_style(url));
        }
        aws_sdk_s3::Client::from_conf(builder.build())
    }

    pub fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.config)
    }

    pub fn cloudfront(&self) -> aws_sdk_cloudfront::Client {
        aws_sdk_cloudfront::Client::new(&self.config)
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::new(&self.config)
    }
}

/// Loads the connection's access key from the keychain.
pub async fn load_keys(connection: &AwsConnection, secrets: &Arc<dyn SecretStore>) -> Result<AwsKeys, ConnectionError> {
    let secret = SecretRef::new(&connection.name, SecretItem::AwsKeys);
    let value = get_secret(secrets, &secret)
        .await?
        .ok_or_else(|| ConnectionError::MissingKeys { connection: connection.name.to_string() })?;
    Ok(AwsKeys::from_keychain_value(&value, &secret)?)
}

/// The SDK configuration of `connection`: credentials, region, and
/// `endpoint_override` (else the connection's endpoint) for every service.
pub async fn target(
    connection: &AwsConnection,
    secrets: &Arc<dyn SecretStore>,
    endpoint_override: Option<&str>,
) -> Result<AwsTarget, ConnectionError> {
    let endpoint_url = endpoint_override.map(str::to_owned).or_else(|| connection.endpoint_url.clone());
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).region(Region::new(connection.region.clone()));
    match &connection.auth {
        AwsAuth::Keys => {
            let keys = load_keys(connection, secrets).await?;
            loader = loader.credentials_provider(keys.to_sdk());
        }
        AwsAuth::Profile(profile) => {
            // An explicit profile provider, so keys in the environment cannot
            // take the profile's place (the default chain reads them first).
            // It handles static keys, SSO (IAM Identity Center), assume-role
            // chains and credential_process.
            let provider = ProfileFileCredentialsProvider::builder().profile_name(profile).build();
            loader = loader.profile_name(profile).credentials_provider(provider);
        }
    }
    if let Some(url) = &endpoint_url {
        loader = loader.endpoint_url(url);
    }
    Ok(AwsTarget { config: loader.load().await, endpoint_url })
}

/// The region a profile names in `~/.aws/config`, if any.
pub async fn profile_region(profile: &str) -> Option<String> {
    use aws_config::meta::region::ProvideRegion;
    let provider = aws_config::profile::ProfileFileRegionProvider::builder().profile_name(profile).build();
    provider.region().await.map(|r| r.to_string())
}

/// Who the connection's credentials are (STS GetCallerIdentity).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CallerIdentity {
    pub account: String,
    pub arn: String,
}

pub async fn caller_identity(
    connection: &AwsConnection,
    target: &AwsTarget,
) -> Result<CallerIdentity, ConnectionError> {
    let out = target.sts().get_caller_identity().send().await.map_err(|e| ConnectionError::Call {
        connection: connection.name.to_string(),
        message: aws_sdk_sts::error::DisplayErrorContext(&e).to_string(),
    })?;
    Ok(CallerIdentity {
        account: out.account().unwrap_or_default().to_owned(),
        arn: out.arn().unwrap_or_default().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_trouble_is_told_from_the_sdks_words() {
        let sso =
            "dispatch failure: other: an error occurred while loading credentials: an error occurred while loading \
                   an access token: the SSO token has expired and cannot be refreshed";
        assert_eq!(CredentialsTrouble::of(sso), Some(CredentialsTrouble::SsoExpired));
        let profile = "the credential provider was not enabled: profile `nope` was not defined: could not find source \
                       profile nope referenced from the root profile";
        assert_eq!(CredentialsTrouble::of(profile), Some(CredentialsTrouble::NoSuchProfile));
        let keys = "service error: InvalidClientTokenId: The security token included in the request is invalid.";
        assert_eq!(CredentialsTrouble::of(keys), Some(CredentialsTrouble::KeysRefused));
        assert_eq!(CredentialsTrouble::of("dispatch failure: io error: Connection refused (os error 111)"), None);
    }
}
