//! Connections and their secrets (issue #4). An admin connects an AWS account
//! once; editors never see a key.
//!
//! - [`connection`]: what a connection is, as types.
//! - [`settings`]: the connections (names, regions, endpoints, bucket names,
//!   what setup made) in `<data dir>/settings.json`, never a secret. "Local"
//!   (the embedded stack, [`crate::local`]) always exists and holds no keys.
//! - [`secrets`]: the OS keychain (keyring's crates), where an access key and
//!   the CloudFront signing key live, and nowhere else.
//! - [`aws`]: from a connection to SDK clients. A connection uses either keys
//!   from the keychain or an AWS profile (aws-config: static keys, IAM Identity
//!   Center/SSO, assume-role, credential_process), plus a region and an
//!   optional endpoint shared by every service (moto's server in tests).
//! - [`cloudfront_key`]: the key that signs CloudFront URLs, and its rotation.

pub mod aws;
pub mod cloudfront_key;
pub mod connection;
pub mod secrets;
pub mod settings;

pub use aws::{caller_identity, target, AwsTarget, CallerIdentity, ConnectionError, CredentialsTrouble};
pub use cloudfront_key::signing_key;
pub use connection::{
    AwsAuth, AwsConnection, AwsResources, Connection, DistributionInfo, RetiredKey, Transcoder, TranscoderKind,
};
pub use secrets::{
    AwsKeys, MemorySecretStore, OsKeychain, SecretItem, SecretRef, SecretStore, SecretStoreError, KEYCHAIN_SERVICE,
};
pub use settings::{settings_file, Settings, SettingsError};
