//! Secrets, kept only in the OS keychain: an AWS connection's access key and
//! the CloudFront signing key that setup generates.
//!
//! [`OsKeychain`] goes through the keyring project's crates: `keyring` 4 (its
//! default `v1` feature) picks the platform store once per process (Secret
//! Service over D-Bus on Linux, Keychain Services on macOS, Credential Manager
//! on Windows), and `keyring-core` builds entries with a readable label.
//! Every entry has service [`KEYCHAIN_SERVICE`] and an account
//! `<connection>/<item>`, e.g. `Production AWS/aws-keys`; on Linux,
//! `secret-tool search service streamdrop` lists them.
//!
//! [`MemorySecretStore`] keeps secrets in this process's memory only: for tests
//! where no Secret Service runs, and as a stop-gap for secrets that may die
//! with the process (the local edge's key when there is no keychain). AWS keys
//! and the CloudFront signing key of a connection never go there in the apps.
//!
//! The calls block (D-Bus round trips); async code runs them through
//! [`get_secret`], [`set_secret`] and [`delete_secret`], which use
//! `spawn_blocking`.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use zeroize::Zeroizing;

use crate::model::ConnectionName;

/// The service of every Streamdrop keychain entry.
pub const KEYCHAIN_SERVICE: &str = "streamdrop";

/// What a keychain entry of a connection holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretItem {
    /// The access key id, secret access key and optional session token, as JSON.
    AwsKeys,
    /// The PKCS#8 PEM of the private key whose public half is in the CloudFront key group.
    CloudFrontSigningKey,
    /// A rotation's new private key, until CloudFront has deployed its public half.
    CloudFrontNextSigningKey,
}

impl SecretItem {
    pub const ALL: [SecretItem; 3] =
        [SecretItem::AwsKeys, SecretItem::CloudFrontSigningKey, SecretItem::CloudFrontNextSigningKey];

    fn suffix(self) -> &'static str {
        match self {
            SecretItem::AwsKeys => "aws-keys",
            SecretItem::CloudFrontSigningKey => "cloudfront-signing-key",
            SecretItem::CloudFrontNextSigningKey => "cloudfront-next-signing-key",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            SecretItem::AwsKeys => "AWS access key",
            SecretItem::CloudFrontSigningKey => "CloudFront signing key",
            SecretItem::CloudFrontNextSigningKey => "new CloudFront signing key (deploying)",
        }
    }
}

/// A keychain entry: `<connection>/<item>` under service `streamdrop`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretRef {
    pub connection: ConnectionName,
    pub item: SecretItem,
}

impl SecretRef {
    pub fn new(connection: &ConnectionName, item: SecretItem) -> Self {
        Self { connection: connection.clone(), item }
    }

    /// The keychain account: `Production AWS/aws-keys`.
    pub fn account(&self) -> String {
        format!("{}/{}", self.connection, self.item.suffix())
    }

    /// What people see in their keychain app.
    pub fn label(&self) -> String {
        format!("Streamdrop: {} of connection \"{}\"", self.item.describe(), self.connection)
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the {} of connection {:?}", self.item.describe(), self.connection.as_str())
    }
}

/// Why the keychain could not be used. Never carries secret bytes: keyring's
/// own errors can (bad encodings hold the raw value), so they are reduced to
/// their kind and platform message here.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SecretStoreError {
    #[error(
        "the OS keychain is not available ({0}). On Linux Streamdrop keeps secrets in the Secret \
         Service (GNOME Keyring, KWallet): start one and unlock it, or use an AWS profile instead of keys"
    )]
    Unavailable(String),
    #[error("the OS keychain refused access to {what} ({detail}); unlock it and try again")]
    Locked { what: String, detail: String },
    #[error("the OS keychain failed on {what}: {detail}")]
    Failed { what: String, detail: String },
    #[error("{what} in the OS keychain is not in the format Streamdrop wrote")]
    Malformed { what: String },
}

/// Where secrets are kept. Blocking; see the module docs.
pub trait SecretStore: Send + Sync {
    fn get(&self, secret: &SecretRef) -> Result<Option<Zeroizing<String>>, SecretStoreError>;
    fn set(&self, secret: &SecretRef, value: &str) -> Result<(), SecretStoreError>;
    /// Deletes the entry; `Ok(false)` if there was none.
    fn delete(&self, secret: &SecretRef) -> Result<bool, SecretStoreError>;
    /// For messages: "Secret Service", "in-memory (tests)".
    fn describe(&self) -> String;
}

/// The platform keychain through keyring 4.
#[derive(Debug, Clone)]
pub struct OsKeychain {
    _private: (),
}

impl OsKeychain {
    /// Connects to the platform store (once per process). Fails with
    /// [`SecretStoreError::Unavailable`] when there is none, e.g. no Secret
    /// Service on the session bus.
    pub fn open() -> Result<Self, SecretStoreError> {
        match keyring::Entry::store_status() {
            Ok(()) => Ok(Self { _private: () }),
            Err(err) => Err(SecretStoreError::Unavailable(describe_keyring_error(err))),
        }
    }

    /// The platform store, opened on first use; if it does not open, every
    /// call fails with the reason. For what needs a secret only on some paths
    /// (a profile connection reads none; listing jobs reads nothing).
    pub fn open_shared() -> std::sync::Arc<dyn SecretStore> {
        std::sync::Arc::new(LazyKeychain(std::sync::OnceLock::new()))
    }

    fn entry(&self, secret: &SecretRef) -> Result<keyring_core::Entry, SecretStoreError> {
        let label = secret.label();
        let modifiers = HashMap::from([("label", label.as_str())]);
        let account = secret.account();
        keyring_core::Entry::new_with_modifiers(KEYCHAIN_SERVICE, &account, &modifiers)
            .or_else(|_| keyring_core::Entry::new(KEYCHAIN_SERVICE, &account))
            .map_err(|err| classify(secret, &err))
    }
}

impl SecretStore for OsKeychain {
    fn get(&self, secret: &SecretRef) -> Result<Option<Zeroizing<String>>, SecretStoreError> {
        match self.entry(secret)?.get_password() {
            Ok(value) => Ok(Some(Zeroizing::new(value))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(keyring_core::Error::BadEncoding(mut bytes)) => {
                zeroize::Zeroize::zeroize(&mut bytes);
                Err(SecretStoreError::Malformed { what: secret.to_string() })
            }
            Err(err) => Err(classify(secret, &err)),
        }
    }

    fn set(&self, secret: &SecretRef, value: &str) -> Result<(), SecretStoreError> {
        self.entry(secret)?.set_password(value).map_err(|err| classify(secret, &err))
    }

    fn delete(&self, secret: &SecretRef) -> Result<bool, SecretStoreError> {
        match self.entry(secret)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(err) => Err(classify(secret, &err)),
        }
    }

    fn describe(&self) -> String {
        if cfg!(target_os = "macos") {
            "macOS Keychain".into()
        } else if cfg!(windows) {
            "Windows Credential Manager".into()
        } else {
            "Secret Service".into()
        }
    }
}

/// The OS keychain, opened on first use (connecting to it costs a D-Bus
/// round trip, and a missing one is only an error for what needs it).
struct LazyKeychain(std::sync::OnceLock<Result<OsKeychain, SecretStoreError>>);

impl LazyKeychain {
    fn keychain(&self) -> Result<&OsKeychain, SecretStoreError> {
        self.0.get_or_init(OsKeychain::open).as_ref().map_err(Clone::clone)
    }
}

impl SecretStore for LazyKeychain {
    fn get(&self, secret: &SecretRef) -> Result<Option<Zeroizing<String>>, SecretStoreError> {
        self.keychain()?.get(secret)
    }

    fn set(&self, secret: &SecretRef, value: &str) -> Result<(), SecretStoreError> {
        self.keychain()?.set(secret, value)
    }

    fn delete(&self, secret: &SecretRef) -> Result<bool, SecretStoreError> {
        self.keychain()?.delete(secret)
    }

    fn describe(&self) -> String {
        match self.keychain() {
            Ok(keychain) => keychain.describe(),
            Err(_) => "OS keychain (unavailable)".into(),
        }
    }
}

/// A keyring error as text, without any secret bytes it may carry.
fn describe_keyring_error(err: &keyring_core::Error) -> String {
    use keyring_core::Error as E;
    match err {
        E::PlatformFailure(inner) | E::NoStorageAccess(inner) => inner.to_string(),
        E::BadDataFormat(_, inner) => format!("unreadable data: {inner}"),
        E::BadEncoding(_) => "the stored value is not UTF-8".into(),
        E::NoEntry => "no such entry".into(),
        E::NoDefaultStore => "no credential store for this platform could be opened".into(),
        E::Ambiguous(entries) => format!("{} entries match", entries.len()),
        other => {
            // Remaining kinds (Invalid, TooLong, NotSupportedByStore, BadStoreFormat…) hold
            // parameter names and limits only.
            other.to_string()
        }
    }
}

fn classify(secret: &SecretRef, err: &keyring_core::Error) -> SecretStoreError {
    let detail = describe_keyring_error(err);
    match err {
        keyring_core::Error::NoStorageAccess(_) => SecretStoreError::Locked { what: secret.to_string(), detail },
        keyring_core::Error::NoDefaultStore => SecretStoreError::Unavailable(detail),
        _ => SecretStoreError::Failed { what: secret.to_string(), detail },
    }
}

/// Secrets in this process's memory only, for tests of the engine.
#[derive(Default)]
pub struct MemorySecretStore {
    entries: Mutex<HashMap<String, Zeroizing<String>>>,
}

impl MemorySecretStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// The accounts held, sorted (never the values).
    pub fn accounts(&self) -> Vec<String> {
        let mut accounts: Vec<_> = self.entries.lock().expect("secret store lock").keys().cloned().collect();
        accounts.sort();
        accounts
    }
}

impl fmt::Debug for MemorySecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemorySecretStore").field("accounts", &self.accounts()).finish()
    }
}

impl SecretStore for MemorySecretStore {
    fn get(&self, secret: &SecretRef) -> Result<Option<Zeroizing<String>>, SecretStoreError> {
        Ok(self.entries.lock().expect("secret store lock").get(&secret.account()).cloned())
    }

    fn set(&self, secret: &SecretRef, value: &str) -> Result<(), SecretStoreError> {
        self.entries.lock().expect("secret store lock").insert(secret.account(), Zeroizing::new(value.to_owned()));
        Ok(())
    }

    fn delete(&self, secret: &SecretRef) -> Result<bool, SecretStoreError> {
        Ok(self.entries.lock().expect("secret store lock").remove(&secret.account()).is_some())
    }

    fn describe(&self) -> String {
        "in-memory secret store (tests)".into()
    }
}

/// [`SecretStore::get`] off the async runtime's worker threads.
pub async fn get_secret(
    store: &Arc<dyn SecretStore>,
    secret: &SecretRef,
) -> Result<Option<Zeroizing<String>>, SecretStoreError> {
    let (store, secret) = (store.clone(), secret.clone());
    blocking(move || store.get(&secret)).await
}

/// [`SecretStore::set`] off the async runtime's worker threads.
pub async fn set_secret(
    store: &Arc<dyn SecretStore>,
    secret: &SecretRef,
    value: Zeroizing<String>,
) -> Result<(), SecretStoreError> {
    let (store, secret) = (store.clone(), secret.clone());
    blocking(move || store.set(&secret, &value)).await
}

/// [`SecretStore::delete`] off the async runtime's worker threads.
pub async fn delete_secret(store: &Arc<dyn SecretStore>, secret: &SecretRef) -> Result<bool, SecretStoreError> {
    let (store, secret) = (store.clone(), secret.clone());
    blocking(move || store.delete(&secret)).await
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SecretStoreError> + Send + 'static,
) -> Result<T, SecretStoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(SecretStoreError::Failed { what: "a keychain call".into(), detail: e.to_string() }))
}

/// An AWS access key. The secret parts are zeroed when dropped and never shown
/// by `Debug`. The access key id is not a secret.
#[derive(Clone)]
pub struct AwsKeys {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    session_token: Option<Zeroizing<String>>,
}

#[derive(serde::Serialize)]
struct AwsKeysOut<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_token: Option<&'a str>,
}

#[derive(serde::Deserialize)]
struct AwsKeysIn {
    access_key_id: String,
    secret_access_key: String,
    #[serde(default)]
    session_token: Option<String>,
}

impl AwsKeys {
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<&str>,
    ) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: Zeroizing::new(secret_access_key.into()),
            session_token: session_token.filter(|t| !t.is_empty()).map(|t| Zeroizing::new(t.to_owned())),
        }
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref().map(String::as_str)
    }

    /// The keychain value (JSON).
    pub fn to_keychain_value(&self) -> Zeroizing<String> {
        let out = AwsKeysOut {
            access_key_id: &self.access_key_id,
            secret_access_key: &self.secret_access_key,
            session_token: self.session_token(),
        };
        Zeroizing::new(serde_json::to_string(&out).expect("keys serialize"))
    }

    pub fn from_keychain_value(value: &str, what: &SecretRef) -> Result<Self, SecretStoreError> {
        let parsed: AwsKeysIn =
            serde_json::from_str(value).map_err(|_| SecretStoreError::Malformed { what: what.to_string() })?;
        let keys = Self {
            access_key_id: parsed.access_key_id,
            secret_access_key: Zeroizing::new(parsed.secret_access_key),
            session_token: parsed.session_token.filter(|t| !t.is_empty()).map(Zeroizing::new),
        };
        Ok(keys)
    }

    /// Credentials for the AWS SDK.
    pub fn to_sdk(&self) -> aws_sdk_s3::config::Credentials {
        aws_sdk_s3::config::Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.as_str().to_owned(),
            self.session_token().map(str::to_owned),
            None,
            "streamdrop-keychain",
        )
    }
}

impl fmt::Debug for AwsKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsKeys")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_the_keychain_value() {
        let name = ConnectionName::new("Prod").unwrap();
        let secret = SecretRef::new(&name, SecretItem::AwsKeys);
        assert_eq!(secret.account(), "Prod/aws-keys");
        let keys = AwsKeys::new("AKID", "s3cr3t", Some("tok"));
        let back = AwsKeys::from_keychain_value(&keys.to_keychain_value(), &secret).unwrap();
        assert_eq!(back.access_key_id(), "AKID");
        assert_eq!(back.secret_access_key(), "s3cr3t");
        assert_eq!(back.session_token(), Some("tok"));
        let debug = format!("{back:?}");
        assert!(!debug.contains("s3cr3t") && !debug.contains("tok\""), "{debug}");
        let err = AwsKeys::from_keychain_value("not json s3cr3t", &secret).unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
    }

    #[test]
    fn memory_store_sets_gets_and_deletes() {
        let store = MemorySecretStore::new();
        let name = ConnectionName::new("Prod").unwrap();
        let secret = SecretRef::new(&name, SecretItem::CloudFrontSigningKey);
        assert!(store.get(&secret).unwrap().is_none());
        store.set(&secret, "pem").unwrap();
        assert_eq!(store.get(&secret).unwrap().as_deref().map(String::as_str), Some("pem"));
        assert_eq!(store.accounts(), ["Prod/cloudfront-signing-key"]);
        assert!(store.delete(&secret).unwrap());
        assert!(!store.delete(&secret).unwrap());
    }
}
