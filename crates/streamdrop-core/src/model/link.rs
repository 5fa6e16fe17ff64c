//! Links handed out.

use serde::{Deserialize, Serialize};

use super::{string_enum, JobId};

string_enum! {
    /// What a link opens.
    pub enum LinkKind "a link kind" {
        /// The HLS stream (master playlist).
        Stream = "stream",
        Poster = "poster",
        /// The uploaded original file.
        Original = "original",
        /// A short-lived stream link for the app's own player; not listed.
        Preview = "preview",
    }
}

/// A link as it was made: a signed URL anyone who has it may use until it expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct LinkView {
    pub id: String,
    pub job_id: JobId,
    pub kind: LinkKind,
    pub url: String,
    /// Unix milliseconds.
    pub expires_at: i64,
    pub created_at: i64,
    /// When it was revoked (Unix ms): it opens nothing since.
    pub revoked_at: Option<i64>,
    /// Made while the connection's CloudFront distribution was still
    /// deploying: it starts to work once CloudFront has deployed it (usually
    /// within 15 minutes). Said when the link is made, not kept.
    #[serde(default)]
    pub deploying: bool,
}
