//! The settings file, `<data dir>/settings.json`: the connections, which one
//! is active, and what `streamdrop setup` made for each. Names, regions,
//! endpoints, bucket names and resource ids only: never a secret (secrets live
//! in the OS keychain, see [`super::secrets`]).
//!
//! On disk (JSON, written atomically: a temporary file in the same folder, then
//! a rename):
//!
//! ```json
//! {
//!   "version": 1,
//!   "active": "Production AWS",
//!   "connections": [
//!     { "name": "Local", "kind": "local" },
//!     { "name": "Production AWS", "kind": "keys", "region": "eu-west-1",
//!       "name_prefix": "streamdrop-acme",
//!       "upload_bucket": "streamdrop-acme-uploads", "media_bucket": "streamdrop-acme-media",
//!       "transcoder": "mediaconvert", "mediaconvert_role_arn": "arn:aws:iam::…:role/streamdrop-acme-mediaconvert",
//!       "distribution": { "id": "E2…", "domain": "d1….cloudfront.net", "key_pair_id": "K3…" } },
//!     { "name": "Staging", "kind": "profile", "profile": "staging-sso", "region": "us-east-1" }
//!   ]
//! }
//! ```
//!
//! In memory the kinds are types ([`Connection`], [`AwsAuth`], [`Transcoder`]):
//! a local connection has no region or keys, a profile always has a profile
//! name, a MediaConvert role ARN only exists with the MediaConvert transcoder.
//! The flat JSON shape is only the wire format ([`WireConnection`]), checked
//! on load.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::connection::{
    AwsAuth, AwsConnection, AwsResources, Connection, DistributionInfo, Transcoder, TranscoderKind,
};
use crate::model::{BadConnectionName, BadPreference, ConnectionName, Preferences, LOCAL_CONNECTION};
use crate::DataDir;

/// File name of the settings in the data dir.
pub const SETTINGS_FILE: &str = "settings.json";
const SETTINGS_VERSION: u32 = 1;

/// `<data dir>/settings.json`
pub fn settings_file(data_dir: &DataDir) -> PathBuf {
    data_dir.path().join(SETTINGS_FILE)
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read the settings file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the settings file {path} is not valid: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write the settings file {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("no connection named {0:?} (see `streamdrop connection list`)")]
    NoSuchConnection(String),
    #[error("a connection named {0:?} already exists")]
    Exists(String),
    #[error("the {LOCAL_CONNECTION} connection always exists and cannot be removed or changed")]
    LocalIsFixed,
    #[error(transparent)]
    BadName(#[from] BadConnectionName),
}

/// All connections and the active one. The Local connection is always there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    active: ConnectionName,
    /// Local first, then the AWS connections in the order they were added.
    connections: Vec<Connection>,
    /// `None` until the person changes one: the engine's own defaults stand.
    preferences: Option<Preferences>,
}

impl Default for Settings {
    fn default() -> Self {
        Self { active: ConnectionName::local(), connections: vec![Connection::Local], preferences: None }
    }
}

impl Settings {
    /// The preferences as set, or the defaults.
    pub fn preferences(&self) -> Preferences {
        self.preferences.clone().unwrap_or_default()
    }

    /// The preferences the person set, if any (`None`: the engine's own defaults stand).
    pub fn preferences_set(&self) -> Option<&Preferences> {
        self.preferences.as_ref()
    }

    /// Sets the preferences, once each is in range.
    pub fn set_preferences(&mut self, preferences: Preferences) -> Result<&Preferences, BadPreference> {
        Ok(self.preferences.insert(preferences.checked()?))
    }

    /// Reads `<data dir>/settings.json`; a missing file is the default (only Local, active).
    pub fn load(data_dir: &DataDir) -> Result<Self, SettingsError> {
        Self::load_from(&settings_file(data_dir))
    }

    pub fn load_from(path: &Path) -> Result<Self, SettingsError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(SettingsError::Read { path: path.to_owned(), source }),
        };
        let invalid = |message: String| SettingsError::Invalid { path: path.to_owned(), message };
        let wire: WireSettings = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        Self::from_wire(wire).map_err(invalid)
    }

    /// Writes `<data dir>/settings.json` atomically.
    pub fn save(&self, data_dir: &DataDir) -> Result<(), SettingsError> {
        self.save_to(&settings_file(data_dir))
    }

    pub fn save_to(&self, path: &Path) -> Result<(), SettingsError> {
        let write_err = |source| SettingsError::Write { path: path.to_owned(), source };
        let mut text = self.to_json();
        text.push('\n');
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or(SETTINGS_FILE);
        let tmp = dir.join(format!(".{file_name}.{}.{}.tmp", std::process::id(), uuid::Uuid::new_v4().simple()));
        let result = (|| {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(&tmp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            drop(file);
            std::fs::rename(&tmp, path)?;
            // The rename is durable once the directory entry is.
            #[cfg(unix)]
            if let Ok(dir) = std::fs::File::open(dir) {
                let _ = dir.sync_all();
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map_err(write_err)
    }

    /// The file's JSON text (pretty-printed).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.to_wire()).expect("settings always serialize")
    }

    pub fn connections(&self) -> &[Connection] {
        &self.connections
    }

    pub fn active_name(&self) -> &ConnectionName {
        &self.active
    }

    pub fn active(&self) -> &Connection {
        self.get(self.active.as_str()).unwrap_or(&Connection::Local)
    }

    /// The connection called `name` (ignoring ASCII case).
    pub fn get(&self, name: &str) -> Option<&Connection> {
        self.connections.iter().find(|c| c.name().same_as(name))
    }

    pub fn get_aws(&self, name: &str) -> Result<&AwsConnection, SettingsError> {
        match self.get(name) {
            Some(Connection::Aws(aws)) => Ok(aws),
            Some(Connection::Local) => Err(SettingsError::LocalIsFixed),
            None => Err(SettingsError::NoSuchConnection(name.to_owned())),
        }
    }

    pub fn get_aws_mut(&mut self, name: &str) -> Result<&mut AwsConnection, SettingsError> {
        let found = self.connections.iter_mut().find(|c| c.name().same_as(name));
        match found {
            Some(Connection::Aws(aws)) => Ok(aws),
            Some(Connection::Local) => Err(SettingsError::LocalIsFixed),
            None => Err(SettingsError::NoSuchConnection(name.to_owned())),
        }
    }

    /// Adds an AWS connection; names are unique ignoring case, and "Local" is taken.
    pub fn add(&mut self, connection: AwsConnection) -> Result<(), SettingsError> {
        if connection.name.is_local() {
            return Err(SettingsError::LocalIsFixed);
        }
        if self.get(connection.name.as_str()).is_some() {
            return Err(SettingsError::Exists(connection.name.to_string()));
        }
        self.connections.push(Connection::Aws(connection));
        Ok(())
    }

    /// Removes an AWS connection; if it was active, Local becomes active.
    pub fn remove(&mut self, name: &str) -> Result<AwsConnection, SettingsError> {
        let index = self
            .connections
            .iter()
            .position(|c| c.name().same_as(name))
            .ok_or_else(|| SettingsError::NoSuchConnection(name.to_owned()))?;
        match self.connections.remove(index) {
            Connection::Aws(aws) => {
                if self.active.same_as(aws.name.as_str()) {
                    self.active = ConnectionName::local();
                }
                Ok(aws)
            }
            Connection::Local => {
                self.connections.insert(index, Connection::Local);
                Err(SettingsError::LocalIsFixed)
            }
        }
    }

    /// Makes `name` the active connection.
    pub fn set_active(&mut self, name: &str) -> Result<&Connection, SettingsError> {
        let canonical = self.get(name).ok_or_else(|| SettingsError::NoSuchConnection(name.to_owned()))?.name();
        self.active = canonical;
        Ok(self.active())
    }

    fn to_wire(&self) -> WireSettings {
        WireSettings {
            version: SETTINGS_VERSION,
            active: self.active.clone(),
            connections: self.connections.iter().map(WireConnection::from).collect(),
            preferences: self.preferences.clone(),
        }
    }

    fn from_wire(wire: WireSettings) -> Result<Self, String> {
        if wire.version > SETTINGS_VERSION {
            return Err(format!(
                "it has version {}, newer than this Streamdrop understands ({SETTINGS_VERSION})",
                wire.version
            ));
        }
        let preferences = wire.preferences.map(Preferences::checked).transpose().map_err(|e| e.to_string())?;
        let mut settings = Settings { active: wire.active, connections: vec![Connection::Local], preferences };
        for wire_connection in wire.connections {
            let connection = Connection::try_from(wire_connection)?;
            match connection {
                Connection::Local => {}
                Connection::Aws(aws) => {
                    let name = aws.name.to_string();
                    settings.add(aws).map_err(|e| format!("{e} ({name:?})"))?;
                }
            }
        }
        if settings.get(settings.active.as_str()).is_none() {
            return Err(format!("the active connection {:?} is not among the connections", settings.active.as_str()));
        }
        Ok(settings)
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireSettings {
    version: u32,
    active: ConnectionName,
    connections: Vec<WireConnection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    preferences: Option<Preferences>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum WireKind {
    Local,
    Keys,
    Profile,
}

/// The flat shape of a connection in the settings file. Only ever converted
/// to and from [`Connection`], which checks that the fields fit the kind.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireConnection {
    name: ConnectionName,
    kind: WireKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    endpoint_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    upload_bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    transcoder: Option<TranscoderKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mediaconvert_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    elastic_transcoder_role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    elastic_transcoder_pipeline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    distribution: Option<DistributionInfo>,
}

impl WireConnection {
    fn bare(name: ConnectionName, kind: WireKind) -> Self {
        Self {
            name,
            kind,
            profile: None,
            region: None,
            endpoint_url: None,
            name_prefix: None,
            upload_bucket: None,
            media_bucket: None,
            transcoder: None,
            mediaconvert_role_arn: None,
            elastic_transcoder_role_arn: None,
            elastic_transcoder_pipeline: None,
            distribution: None,
        }
    }
}

impl From<&Connection> for WireConnection {
    fn from(connection: &Connection) -> Self {
        let aws = match connection {
            Connection::Local => return Self::bare(ConnectionName::local(), WireKind::Local),
            Connection::Aws(aws) => aws,
        };
        let kind = match aws.auth {
            AwsAuth::Keys => WireKind::Keys,
            AwsAuth::Profile(_) => WireKind::Profile,
        };
        let mut wire = Self::bare(aws.name.clone(), kind);
        if let AwsAuth::Profile(profile) = &aws.auth {
            wire.profile = Some(profile.clone());
        }
        wire.region = Some(aws.region.clone());
        wire.endpoint_url = aws.endpoint_url.clone();
        if let Some(resources) = &aws.resources {
            wire.name_prefix = Some(resources.name_prefix.clone());
            wire.upload_bucket = Some(resources.upload_bucket.clone());
            wire.media_bucket = Some(resources.media_bucket.clone());
            wire.transcoder = Some(resources.transcoder.kind());
            match &resources.transcoder {
                Transcoder::LocalFfmpeg => {}
                Transcoder::MediaConvert { role_arn } => wire.mediaconvert_role_arn = role_arn.clone(),
                Transcoder::ElasticTranscoder { role_arn, pipeline } => {
                    wire.elastic_transcoder_role_arn = role_arn.clone();
                    wire.elastic_transcoder_pipeline = Some(pipeline.clone());
                }
            }
            wire.distribution = resources.distribution.clone();
        }
        wire
    }
}

impl TryFrom<WireConnection> for Connection {
    type Error = String;
    fn try_from(wire: WireConnection) -> Result<Self, String> {
        let name = wire.name.clone();
        let fail = |why: String| Err(format!("connection {:?}: {why}", name.as_str()));
        if wire.kind == WireKind::Local || name.is_local() {
            if wire.kind != WireKind::Local || !name.is_local() {
                return fail(format!("only the {LOCAL_CONNECTION} connection has kind \"local\""));
            }
            let extra = wire.profile.is_some()
                || wire.region.is_some()
                || wire.endpoint_url.is_some()
                || wire.upload_bucket.is_some()
                || wire.media_bucket.is_some()
                || wire.transcoder.is_some()
                || wire.distribution.is_some();
            if extra {
                return fail("the local connection has no region, endpoint, buckets or profile".into());
            }
            return Ok(Connection::Local);
        }
        let auth = match (wire.kind, wire.profile) {
            (WireKind::Keys, None) => AwsAuth::Keys,
            (WireKind::Profile, Some(profile)) if !profile.trim().is_empty() => AwsAuth::Profile(profile),
            (WireKind::Keys, Some(_)) => return fail("a keys connection has no profile".into()),
            _ => return fail("a profile connection needs \"profile\"".into()),
        };
        let Some(region) = wire.region.filter(|r| !r.trim().is_empty()) else {
            return fail("\"region\" is missing".into());
        };
        let resources = match (wire.upload_bucket, wire.media_bucket) {
            (None, None) => {
                if wire.transcoder.is_some() || wire.distribution.is_some() || wire.mediaconvert_role_arn.is_some() {
                    return fail("resources are listed without their buckets".into());
                }
                None
            }
            (Some(upload_bucket), Some(media_bucket)) => {
                let transcoder = match wire.transcoder.unwrap_or(TranscoderKind::MediaConvert) {
                    TranscoderKind::LocalFfmpeg => Transcoder::LocalFfmpeg,
                    TranscoderKind::MediaConvert => {
                        Transcoder::MediaConvert { role_arn: wire.mediaconvert_role_arn.clone() }
                    }
                    TranscoderKind::ElasticTranscoder => Transcoder::ElasticTranscoder {
                        role_arn: wire.elastic_transcoder_role_arn.clone(),
                        pipeline: match wire.elastic_transcoder_pipeline.clone() {
                            Some(p) => p,
                            None => return fail("\"elastic_transcoder_pipeline\" is missing".into()),
                        },
                    },
                };
                let kind = transcoder.kind();
                if wire.mediaconvert_role_arn.is_some() && kind != TranscoderKind::MediaConvert {
                    return fail("\"mediaconvert_role_arn\" only goes with the mediaconvert transcoder".into());
                }
                if (wire.elastic_transcoder_role_arn.is_some() || wire.elastic_transcoder_pipeline.is_some())
                    && kind != TranscoderKind::ElasticTranscoder
                {
                    return fail(
                        "the elastic_transcoder_* fields only go with the elastic-transcoder transcoder".into(),
                    );
                }
                Some(AwsResources {
                    name_prefix: wire.name_prefix.unwrap_or_default(),
                    upload_bucket,
                    media_bucket,
                    transcoder,
                    distribution: wire.distribution,
                })
            }
            _ => return fail("\"upload_bucket\" and \"media_bucket\" go together".into()),
        };
        Ok(Connection::Aws(AwsConnection { name, auth, region, endpoint_url: wire.endpoint_url, resources }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production() -> AwsConnection {
        AwsConnection {
            name: ConnectionName::new("Production AWS").unwrap(),
            auth: AwsAuth::Keys,
            region: "eu-west-1".into(),
            endpoint_url: None,
            resources: Some(AwsResources {
                name_prefix: "streamdrop-acme".into(),
                upload_bucket: "streamdrop-acme-uploads".into(),
                media_bucket: "streamdrop-acme-media".into(),
                transcoder: Transcoder::MediaConvert { role_arn: Some("arn:aws:iam::1:role/r".into()) },
                distribution: Some(DistributionInfo {
                    id: "E1".into(),
                    domain: "d1.cloudfront.net".into(),
                    key_pair_id: "K1".into(),
                    next_key_pair_id: Some("K2".into()),
                    retired_keys: vec![crate::credentials::connection::RetiredKey {
                        id: "K0".into(),
                        retired_secs: 1_700_000_000,
                    }],
                }),
            }),
        }
    }

    #[test]
    fn round_trips_through_the_file_and_keeps_local() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("settings.json");
        let fresh = Settings::load_from(&path).unwrap();
        assert_eq!(fresh.active(), &Connection::Local);

        let mut settings = Settings::default();
        settings.add(production()).unwrap();
        settings
            .add(AwsConnection {
                name: ConnectionName::new("Staging").unwrap(),
                auth: AwsAuth::Profile("staging-sso".into()),
                region: "us-east-1".into(),
                endpoint_url: Some("http://127.0.0.1:5000".into()),
                resources: None,
            })
            .unwrap();
        settings.set_active("production aws").unwrap();
        settings.save_to(&path).unwrap();
        let loaded = Settings::load_from(&path).unwrap();
        assert_eq!(loaded, settings);
        assert_eq!(loaded.active_name().as_str(), "Production AWS");
        // No temporary files are left behind.
        let names: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["settings.json"]);
    }

    #[test]
    fn a_keys_connection_never_serializes_a_secret() {
        // The settings type has nowhere to put a secret; prove the file carries
        // none even when the same process holds one.
        let secret = "sd-settings-canary-wJalrXUtnFEMI/K7MDENG/bPxRfiCY";
        let keys = crate::credentials::AwsKeys::new("AKIDSETTINGSTEST", secret, Some("sd-token-canary-FwoGZXIvYXdz"));
        let mut settings = Settings::default();
        settings.add(production()).unwrap();
        let json = settings.to_json();
        assert!(!json.contains(secret) && !json.contains("sd-token-canary"), "{json}");
        assert!(!json.contains(keys.access_key_id()), "not even the key id is stored: {json}");
        assert!(!format!("{keys:?}").contains(secret), "Debug redacts the secret");
        assert!(json.contains("\"kind\": \"keys\""), "{json}");
    }

    #[test]
    fn local_is_fixed_and_names_are_unique() {
        let mut settings = Settings::default();
        assert!(matches!(settings.remove("Local"), Err(SettingsError::LocalIsFixed)));
        let mut local_named = production();
        local_named.name = ConnectionName::new("local").unwrap();
        assert!(matches!(settings.add(local_named), Err(SettingsError::LocalIsFixed)));
        settings.add(production()).unwrap();
        assert!(matches!(settings.add(production()), Err(SettingsError::Exists(_))));
        settings.set_active("Production AWS").unwrap();
        settings.remove("PRODUCTION aws").unwrap();
        assert_eq!(settings.active(), &Connection::Local);
        assert!(ConnectionName::new("a/b").is_err());
        assert!(ConnectionName::new(" padded").is_err());
        assert!(ConnectionName::new("").is_err());
    }

    #[test]
    fn wrong_shapes_are_refused_on_load() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("settings.json");
        let cases = [
            // A local connection with a region.
            r#"{"version":1,"active":"Local","connections":[{"name":"Local","kind":"local","region":"x"}]}"#,
            // A profile connection without a profile.
            r#"{"version":1,"active":"Local","connections":[{"name":"P","kind":"profile","region":"x"}]}"#,
            // A MediaConvert role with another transcoder.
            r#"{"version":1,"active":"Local","connections":[{"name":"K","kind":"keys","region":"x","upload_bucket":"a","media_bucket":"b","transcoder":"local-ffmpeg","mediaconvert_role_arn":"r"}]}"#,
            // A secret field is not a field at all.
            r#"{"version":1,"active":"Local","connections":[{"name":"K","kind":"keys","region":"x","secret_access_key":"s"}]}"#,
            // The active connection does not exist.
            r#"{"version":1,"active":"Gone","connections":[]}"#,
        ];
        for case in cases {
            std::fs::write(&path, case).unwrap();
            let err = Settings::load_from(&path).unwrap_err();
            assert!(matches!(err, SettingsError::Invalid { .. }), "{case}: {err}");
        }
    }
}
