//! Streamdrop's engine. Everything the desktop app and the `streamdrop` CLI do
//! lives here, behind plain async Rust APIs with no Tauri dependency, so the
//! same code runs in the window, in a terminal and in tests.
//!
//! Map (see ARCHITECTURE.md):
//! - [`api`]: every operation, once, for every face (the window, the CLI, the control channel).
//! - [`data_dir`]: where data, settings and the job store live.
//! - [`control`]: the socket through which other processes reach the one running the engine.
//! - [`model`]: the types everything shares (ids, jobs and their states, media, objects, links,
//!   problems, the views that cross IPC); the bottom layer, naming no other module.
//! - [`clock`]: the one clock.
//! - [`logging`]: where diagnostics go (stderr, and the app's log file in the data dir).
//! - [`store`]: the SQLite job store that survives restarts.
//! - [`intake`]: turns dropped paths into sources or per-item rejections.
//! - [`storage`]: S3 clients and object addresses, for AWS and S3-compatible endpoints.
//! - [`local`]: the servers on this machine: the embedded S3 server and the edge (CloudFront's stand-in).
//! - [`transfer`]: moving bytes into S3.
//! - [`engine`]: queues jobs, runs them, and reports progress as events.
//! - [`stack`]: what a connection's jobs run on (the local stack, or an AWS connection's services).
//! - [`transcode`], [`signing`], [`credentials`], [`provisioning`]: later stages of the flow.

pub mod api;
pub mod clock;
pub mod control;
pub mod credentials;
pub mod data_dir;
pub mod engine;
pub mod intake;
pub mod links;
pub mod local;
pub mod logging;
pub mod model;
pub mod provisioning;
pub mod signing;
pub mod stack;
pub mod storage;
pub mod store;
pub mod transcode;
pub mod transfer;

#[cfg(test)]
mod testing;

pub use data_dir::DataDir;
pub use engine::{Engine, EngineError};
pub use model::{
    BatchId, Duplicate, IfExists, IntakeReport, JobId, JobQuery, JobState, JobView, JobsPage, ObjectRef, Problem,
    ProblemCode, ReasonCount, Rejection, Remedy, Stage, StateName,
};
pub use stack::LocalStack;
pub use stack::Stack;
