//! The types everything shares, and nothing else: identities, a job and its
//! states, media facts, object addresses, progress, links, problems, and the
//! views that cross IPC and `--json`. This is the bottom layer: it names no
//! other module of the crate (only serde, uuid, thiserror), so every other
//! module can depend on it and none on each other through it.
//!
//! Serialization lives here: every type that leaves the process derives its
//! serde shape here, once.

mod connection;
mod ids;
mod job;
mod layout;
mod link;
mod media;
mod object;
mod preferences;
mod problem;
mod progress;
mod strings;
mod view;

pub use connection::{BadConnectionName, ConnectionName, LOCAL_CONNECTION};
pub use ids::{BatchId, JobId};
pub use job::{Job, JobState, LiveProgress, Sidecar, SourceFile, Stage, StateName, TranscodeRecord};
pub use layout::{JobOutputs, OutputLayout, OutputManifest, Thumbnail, Variant};
pub use link::{LinkKind, LinkView};
pub use media::{MediaInfo, Rung, VideoInfo, GOP_SECONDS, SEGMENT_SECONDS};
pub use object::{key_of_path, BadObjectRef, Buckets, KeyProblem, ObjectRef};
pub use preferences::{
    local_minute_now, parse_time_of_day, BadPreference, Preferences, WorkingHours, LINK_LIFETIME_SECS, MIN_BANDWIDTH,
    UPLOAD_CONCURRENCY,
};
pub use problem::{redact, Problem, ProblemCode, ProblemView, Remedy};
pub use progress::Progress;
pub use strings::UnknownName;
pub use view::{Duplicate, IfExists, IntakeReport, JobAction, JobQuery, JobView, JobsPage, ReasonCount, Rejection};

pub(crate) use strings::string_enum;
