//! What the operations return and take: serde shapes shared by every face
//! (the window's IPC, the CLI's `--json`, the control channel).

use serde::{Deserialize, Serialize};

use crate::credentials::{AwsAuth, AwsKeys, Connection, Transcoder, TranscoderKind};
use crate::model::{Job, JobOutputs, Problem, ProblemView};
use crate::provisioning::{Mode, SetupReport, StepReport};

/// Where the session is in its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Opening the active connection (the keychain may be asking to be unlocked).
    Starting,
    /// The engine runs, or (no engine here) the session answers from the store.
    Ready,
    /// The active connection could not be opened: `error` says why.
    Failed,
}

/// What the hosted connection's jobs run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum StackMode {
    /// The embedded S3 server, ffmpeg and the local edge.
    Local,
    /// An AWS connection's services.
    Aws,
}

/// How the session is, for a status line.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct StatusView {
    pub phase: Phase,
    pub mode: StackMode,
    /// The active connection's name.
    pub connection: String,
    /// Empty when an AWS connection uses AWS's own endpoints.
    pub s3_endpoint: String,
    /// The engine's transcoder (`local-ffmpeg`, `mediaconvert`, `elastic-transcoder`); empty with no engine.
    pub transcoder: String,
    pub data_dir: String,
    /// The app's log file, which a failed job's Details offer to show.
    pub log_file: String,
    /// What people should know about how it runs (links that will not outlive the app…).
    pub notices: Vec<ProblemView>,
    /// Why it could not start (phase `failed`).
    pub error: Option<ProblemView>,
}

/// Every connection, and which one is active.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionsView {
    pub active: String,
    pub connections: Vec<ConnectionView>,
}

/// How a connection reaches its services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectionKind {
    /// The built-in Local connection.
    Local,
    /// An AWS access key kept in the keychain.
    Keys,
    /// An AWS profile from `~/.aws`.
    Profile,
}

impl StatusView {
    /// A session on `data_dir` that is starting: nothing else is known yet.
    pub fn starting(data_dir: &crate::DataDir) -> Self {
        StatusView {
            phase: Phase::Starting,
            mode: StackMode::Local,
            connection: String::new(),
            s3_endpoint: String::new(),
            transcoder: String::new(),
            data_dir: data_dir.path().display().to_string(),
            log_file: data_dir.log_file().display().to_string(),
            notices: Vec::new(),
            error: None,
        }
    }

    /// A session that could not start (or not even open `data_dir`'s job store).
    pub fn failed(data_dir: &crate::DataDir, problem: &crate::model::Problem) -> Self {
        StatusView { phase: Phase::Failed, error: Some(problem.view()), ..Self::starting(data_dir) }
    }
}

/// The window asked to close while jobs run: the person is asked first.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct QuitRequest {
    /// Jobs not yet finished (queued, uploading, copying, transcoding).
    pub running: usize,
}

/// A setup step that has run, on which connection.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct SetupProgress {
    pub connection: String,
    pub step: crate::provisioning::StepReport,
}

/// A connection as listed.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionView {
    pub name: String,
    pub kind: ConnectionKind,
    pub active: bool,
    pub profile: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    pub upload_bucket: Option<String>,
    pub media_bucket: Option<String>,
    pub transcoder: Option<String>,
    pub mediaconvert_role_arn: Option<String>,
    pub distribution: Option<DistributionView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct DistributionView {
    pub id: String,
    pub domain: String,
    pub key_pair_id: String,
}

impl ConnectionView {
    pub fn of(connection: &Connection, active: bool) -> Self {
        match connection {
            Connection::Local => ConnectionView {
                name: connection.name().to_string(),
                kind: ConnectionKind::Local,
                active,
                profile: None,
                region: None,
                endpoint_url: None,
                upload_bucket: None,
                media_bucket: None,
                transcoder: Some("local-ffmpeg".into()),
                mediaconvert_role_arn: None,
                distribution: None,
            },
            Connection::Aws(aws) => {
                let (kind, profile) = match &aws.auth {
                    AwsAuth::Keys => (ConnectionKind::Keys, None),
                    AwsAuth::Profile(p) => (ConnectionKind::Profile, Some(p.clone())),
                };
                let resources = aws.resources.as_ref();
                ConnectionView {
                    name: aws.name.to_string(),
                    kind,
                    active,
                    profile,
                    region: Some(aws.region.clone()),
                    endpoint_url: aws.endpoint_url.clone(),
                    upload_bucket: resources.map(|r| r.upload_bucket.clone()),
                    media_bucket: resources.map(|r| r.media_bucket.clone()),
                    transcoder: resources.map(|r| r.transcoder.kind().to_string()),
                    mediaconvert_role_arn: resources.and_then(|r| match &r.transcoder {
                        Transcoder::MediaConvert { role_arn } => role_arn.clone(),
                        _ => None,
                    }),
                    distribution: resources.and_then(|r| r.distribution.as_ref()).map(|d| DistributionView {
                        id: d.id.clone(),
                        domain: d.domain.clone(),
                        key_pair_id: d.key_pair_id.clone(),
                    }),
                }
            }
        }
    }
}

/// How a new AWS connection authenticates.
#[derive(Debug)]
pub enum NewAuth {
    /// An access key, kept only in the keychain.
    Keys(AwsKeys),
    /// A profile from `~/.aws` (static keys, SSO, assume-role).
    Profile(String),
}

/// A connection to add.
#[derive(Debug)]
pub struct NewConnection {
    pub name: String,
    pub auth: NewAuth,
    /// Default: the profile's region, else `$AWS_REGION`, else us-east-1.
    pub region: Option<String>,
    /// One endpoint for every service (an AWS-compatible server such as moto).
    pub endpoint_url: Option<String>,
    pub make_active: bool,
}

/// A connection to add, as the window's form sends it. The secret crosses
/// IPC this once, on its way to the keychain; it has no `Debug`, so it is never logged.
#[derive(Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionForm {
    pub name: String,
    pub auth: AuthForm,
    /// Empty: the profile's region, else `$AWS_REGION`, else us-east-1.
    #[serde(default)]
    pub region: String,
    /// Empty: AWS's own endpoints.
    #[serde(default)]
    pub endpoint_url: String,
    pub make_active: bool,
}

/// How the form's connection authenticates.
#[derive(Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AuthForm {
    Keys {
        #[serde(rename = "accessKeyId")]
        #[ts(rename = "accessKeyId")]
        access_key_id: String,
        #[serde(rename = "secretAccessKey")]
        #[ts(rename = "secretAccessKey")]
        secret_access_key: String,
    },
    Profile {
        profile: String,
    },
}

impl From<ConnectionForm> for NewConnection {
    fn from(form: ConnectionForm) -> Self {
        let given = |text: String| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        NewConnection {
            name: form.name.trim().to_owned(),
            // The secret moves into `AwsKeys`, which zeroes it when dropped.
            auth: match form.auth {
                AuthForm::Keys { access_key_id, secret_access_key } => {
                    NewAuth::Keys(AwsKeys::new(access_key_id.trim(), secret_access_key, None))
                }
                AuthForm::Profile { profile } => NewAuth::Profile(profile.trim().to_owned()),
            },
            region: given(form.region),
            endpoint_url: given(form.endpoint_url),
            make_active: form.make_active,
        }
    }
}

/// What the window's setup wizard asks for: which connection, the names'
/// prefix and the transcoder (both remembered after the first setup).
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct SetupRequest {
    pub connection: String,
    pub name_prefix: Option<String>,
    pub transcoder: Option<TranscoderKind>,
}

impl SetupRequest {
    pub fn options(&self) -> crate::provisioning::SetupOptions {
        crate::provisioning::SetupOptions {
            name_prefix: self.name_prefix.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_owned),
            transcoder: self.transcoder,
            ..Default::default()
        }
    }
}

/// A setup plan, or what applying it did, as the window shows it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct SetupView {
    pub connection: String,
    /// Applied; else this is the plan.
    pub applied: bool,
    pub name_prefix: String,
    /// Each step that ran, in order.
    pub steps: Vec<StepReport>,
    /// What stopped it; what ran before stays, and applying again continues there.
    pub stopped: Option<SetupStop>,
    /// Where links are served from, once a distribution is set up.
    pub domain: Option<String>,
}

/// The step a setup stopped at, and what to do.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct SetupStop {
    pub step: String,
    pub problem: ProblemView,
    /// For a refusal: the IAM policy statement (JSON) that grants what was refused.
    pub grant: Option<String>,
}

impl SetupView {
    pub fn of(report: &SetupReport) -> Self {
        SetupView {
            connection: report.connection.clone(),
            applied: matches!(report.mode, Mode::Apply | Mode::Teardown),
            name_prefix: report.names.prefix.clone(),
            steps: report.steps.clone(),
            stopped: report.error.as_ref().map(|err| SetupStop {
                step: err.step.to_owned(),
                problem: Problem::from(err).with("connection", &report.connection).view(),
                grant: report.grant.as_ref().and_then(|g| serde_json::to_string_pretty(g).ok()),
            }),
            domain: report.distribution.as_ref().map(|d| d.domain.clone()),
        }
    }
}

/// A connection just added.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct AddedConnection {
    pub connection: ConnectionView,
    /// The access key id whose secret went to the keychain (never the secret).
    pub access_key_id: Option<String>,
    /// Where the secret went ("Secret Service", …).
    pub kept_in: Option<String>,
}

/// A connection just removed.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct RemovedConnection {
    pub name: String,
    /// The keychain entries deleted with it.
    pub deleted_secrets: Vec<String>,
    /// The keychain they were in.
    pub kept_in: String,
    /// Whether it had AWS resources (they are left as they are).
    pub had_resources: bool,
    /// The active connection now.
    pub active: String,
}

/// Who a connection's credentials are.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct CheckView {
    pub connection: String,
    pub account: String,
    pub arn: String,
    /// Whether that identity may do what Streamdrop needs of it.
    pub permissions: PermissionsView,
}

/// What IAM's policy simulator says of the permissions `streamdrop setup
/// --permissions` lists, for the connection's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum PermissionsView {
    /// All of them, this many actions.
    Allowed { actions: u32 },
    /// `action on resource`, each one not allowed.
    Missing { missing: Vec<String> },
    /// Not asked, and why.
    NotChecked { why: String },
}

/// Where a job's file and results are, by name (`s3://…`); what does not
/// exist (yet) is `None`.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct OutputsView {
    pub upload: String,
    pub original: String,
    pub playlist: Option<String>,
    pub variants: Vec<String>,
    pub thumbnails: Vec<String>,
    pub poster: Option<String>,
}

impl OutputsView {
    /// `job`'s, its results in `media_bucket`.
    pub fn of(job: &Job, media_bucket: &str) -> Self {
        let outputs = JobOutputs::of(job, media_bucket);
        let s3 = |key: &str| format!("s3://{media_bucket}/{key}");
        let manifest = job.transcode.manifest.as_ref();
        OutputsView {
            upload: outputs.upload.to_string(),
            original: outputs.original.to_string(),
            playlist: manifest.map(|m| s3(&m.master)),
            variants: manifest.map(|m| m.variants.iter().map(|v| s3(&v.playlist)).collect()).unwrap_or_default(),
            thumbnails: manifest.map(|m| m.thumbnails.iter().map(|t| s3(&t.key)).collect()).unwrap_or_default(),
            poster: manifest.and_then(|m| m.poster.as_deref()).map(s3),
        }
    }
}
