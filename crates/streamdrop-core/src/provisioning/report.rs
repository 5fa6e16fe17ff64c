//! What a plan or an apply says: a line per step, the error that stopped it,
//! and what the app needs afterwards.

use std::fmt;

use serde::Serialize;

use super::error::StepError;
use super::Names;
use crate::credentials::DistributionInfo;

/// What a step found, or (after apply) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    Exists,
    /// Not done here: the endpoint does not implement it (moto), or it is not needed.
    Skip,
    /// Made later by something else (the Elastic Transcoder pipeline, on its
    /// first job), or waiting for CloudFront.
    Later,
    /// Teardown: deleted (or, listing, to delete).
    Delete,
    /// Teardown: not there.
    Gone,
}

impl Action {
    /// The word of a plan line.
    pub fn planned(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Exists => "exists",
            Action::Skip => "skip",
            Action::Later => "later",
            Action::Delete => "delete",
            Action::Gone => "gone",
        }
    }

    /// The word of an apply line.
    pub fn applied(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Update => "updated",
            Action::Exists => "exists",
            Action::Skip => "skipped",
            Action::Later => "later",
            Action::Delete => "deleted",
            Action::Gone => "gone",
        }
    }

    pub fn changes_something(self) -> bool {
        matches!(self, Action::Create | Action::Update | Action::Delete)
    }
}

/// One line of a plan or of an apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct StepReport {
    /// `upload-bucket`, `media-bucket`, `mediaconvert-role`, …
    pub step: &'static str,
    pub action: Action,
    /// `s3 bucket`, `iam role`, `cloudfront key group`, …
    pub resource: &'static str,
    pub name: String,
    /// What is (or was) created or changed, and notes.
    pub details: Vec<String>,
    /// Set once applied (`--apply` only).
    pub applied: bool,
}

impl StepReport {
    /// `create  s3 bucket streamdrop-acme-uploads (expire objects after 1 day; …)`
    pub fn line(&self) -> String {
        let word = if self.applied { self.action.applied() } else { self.action.planned() };
        let mut line = format!("{word:<8}{} {}", self.resource, self.name);
        if !self.details.is_empty() {
            line.push_str(&format!(" ({})", self.details.join("; ")));
        }
        line
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Plan,
    Apply,
    /// What a teardown would delete; deletes nothing.
    TeardownPlan,
    /// Deletes what setup made.
    Teardown,
}

impl Mode {
    pub fn is_teardown(self) -> bool {
        matches!(self, Mode::TeardownPlan | Mode::Teardown)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Plan => "plan",
            Mode::Apply => "apply",
            Mode::TeardownPlan => "teardown plan",
            Mode::Teardown => "teardown",
        })
    }
}

/// The result of a plan or an apply: a line per step that ran, and the error
/// that stopped it, if any.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetupReport {
    pub mode: Mode,
    pub connection: String,
    pub names: Names,
    pub steps: Vec<StepReport>,
    #[serde(serialize_with = "serialize_error")]
    pub error: Option<StepError>,
    /// When `error` is a refusal: the IAM policy statement that grants what was refused.
    pub grant: Option<serde_json::Value>,
    /// After a successful apply: what the app needs to serve signed links.
    #[serde(serialize_with = "serialize_distribution")]
    pub distribution: Option<DistributionInfo>,
}

impl SetupReport {
    pub fn succeeded(&self) -> bool {
        self.error.is_none()
    }

    /// Whether anything would change (plan) or changed (apply).
    pub fn changes(&self) -> bool {
        self.steps.iter().any(|s| s.action.changes_something())
    }
}

/// `{id, domain, keyPairId}`, like the rest of the CLI's JSON (the settings
/// file keeps its own snake_case form).
fn serialize_distribution<S: serde::Serializer>(d: &Option<DistributionInfo>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Wire<'a> {
        id: &'a str,
        domain: &'a str,
        key_pair_id: &'a str,
    }
    match d {
        None => s.serialize_none(),
        Some(d) => Wire { id: &d.id, domain: &d.domain, key_pair_id: &d.key_pair_id }.serialize(s),
    }
}

fn serialize_error<S: serde::Serializer>(error: &Option<StepError>, s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Wire<'a> {
        step: &'a str,
        doing: &'a str,
        action: Option<&'a str>,
        denied: bool,
        message: String,
    }
    match error {
        None => s.serialize_none(),
        Some(err) => Wire {
            step: err.step,
            doing: &err.doing,
            action: err.action(),
            denied: err.denied_action().is_some(),
            message: err.to_string(),
        }
        .serialize(s),
    }
}
